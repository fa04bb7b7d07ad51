-- rules.lua: a monitoring check: alert rules over the memory of processes, in the Monitoring Plugins format
--
-- The rules are a rules file (memscript.rules: an array of {when, severity, message, scope, name}),
-- by default rules/default.lua beside this script: writable+executable memory, executable stacks,
-- executable mappings of deleted files and of memfds. --rss and --swap add process rules on the
-- smaps_rollup keys Rss and Swap to whatever rules file is used. Swap has no threshold by default:
-- the kernel swaps out pages nobody touches on any healthy system, so swap used is no fault in
-- itself; give --swap for the processes where it is.
--
-- Each match is one alert, "MESSAGE in pid PID", printed by memscript.alert: the status line counts
-- the alerts of the highest severity by message; perfdata gives each rule's match count, the
-- processes checked and those unreadable, and with one process also its rss and swap in bytes.
--
-- "all": processes gone before they were read are left out (gone: its status cannot be read either,
-- memscript.unreadable.reason_for); kernel threads and zombies have no mappings and match no rule;
-- processes that cannot be read for lack of permission (not root) are counted in the output and in
-- perfdata ('unreadable'), and make the result UNKNOWN only when no process could be read at all. Any
-- other read failure (such as a file missing from a capture) is counted in 'unreadable' too and is an
-- UNKNOWN alert, as is a process given by number that cannot be read.

local proc = proc or require "memscript"
local rules = require "memscript.rules"
local alert = require "memscript.alert"
local output = require "memscript.output"
local cli = require "memscript.cli"

local format, match = string.format, string.match
local io, os, ipairs, tostring = io, os, ipairs, tostring
local arg = arg

local SPEC = {
  name = "rules.lua",
  summary = "a monitoring check: alert rules over the memory of processes, in the Monitoring Plugins format",
  intro = [[
Checks processes (numbers or "self"), or every process with "all", against alert rules and prints
the result in the Monitoring Plugins format: a status line with perfdata, then one line per match.
]],
  options = {
    { "-r", "--rules", value = "FILE", type = "file",
      help = "the rules file (default: rules/default.lua beside this script: writable+executable "
        .. "memory, executable stacks, executable deleted files and memfds)" },
    { "--rss", value = "WARN[,CRIT]", type = "thresholds",
      help = "warning when a process's Rss is above WARN, critical above CRIT (sizes such as 512M, "
        .. "2g or 1.5 GiB; \",CRIT\" alone for critical only)" },
    { "--swap", value = "WARN[,CRIT]", type = "thresholds",
      help = "the same for Swap (no default: swapped-out pages are normal)" },
    { "-l", "--list", help = "print the rules and exit" },
  },
  operands = { { "PID", type = "pids", all = true, unless = "list" } },
  epilog = [[
With "all", processes gone before they were read are left out and those that cannot be read
(permission denied) are counted; any other read failure (a file missing from a capture) is
counted and UNKNOWN. A process given twice is checked once. -f json prints the result as one
JSON object, -f csv as rows status,message,fields (one per match, or the OK line).
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a usage error, an invalid rules file, a
process given by number that cannot be read, or no process of "all" readable).
]],
}

local opts = cli.parse(SPEC, arg)

-- How an unreadable process is counted: gone (only when the process itself is) or none (no memory of
-- its own) left out, denied counted, other (a file missing from a capture...) counted and UNKNOWN.
local unreadable_reason_for = require("memscript.unreadable").reason_for

-- rules/default.lua in the directory this script was found in (the source tree, the installed
-- scripts directory, or a MEMSCRIPT_PATH directory), which memscript records as sys.script_path.
local function default_rules_path()
  local path = require("memscript.sys").script_path
  local dir = path and (match(path, "^(.*)/[^/]*$") or ".")
  if not dir then return nil end
  return dir .. "/rules/default.lua"
end

-- The --rss and --swap rules, on the smaps_rollup key `key`.
local function threshold_rules(list, limits, key, what, name)
  if not limits then return end
  if limits.warn then
    local when = format("%s > %d", key, limits.warn)
    if limits.crit then when = when .. format(" and %s <= %d", key, limits.crit) end
    list[#list + 1] = { name = name .. "_warning", scope = "process", severity = "warning",
                        when = when, message = what .. " above " .. limits.warn_text }
  end
  if limits.crit then
    list[#list + 1] = { name = name .. "_critical", scope = "process", severity = "critical",
                        when = format("%s > %d", key, limits.crit),
                        message = what .. " above " .. limits.crit_text }
  end
end

local function load_rules(opts)
  local path = opts.rules or default_rules_path()
  if not path then
    return nil, "cannot find the default rules beside the script (give -r FILE)"
  end
  local list, msg = rules.read(path)
  if not list then return nil, msg end
  threshold_rules(list, opts.rss, "Rss", "RSS", "rss")
  threshold_rules(list, opts.swap, "Swap", "swap", "swap")
  return rules.compile(list, path)
end

local function list_rules(set)
  output.print(set.rules, {
    { "Name", "name", align = "left" },
    { "Scope", "scope", align = "left" },
    { "Severity", "severity", align = "left" },
    { "When", "when", align = "left" },
    { "Message", "message", align = "left" },
  })
end

-- One alert per match.
local function report(matches, counts)
  for _, found in ipairs(matches) do
    local rule = found.rule
    counts[rule.name] = counts[rule.name] + 1
    local fields = { rule = rule.name, pid = found.pid, comm = found.comm }
    local m = found.mapping
    if m then
      fields.address = format("%x", m.vm_start)
      fields.perms = m.perms
      if m.path ~= "" then fields.path = m.path end
    else
      fields.rss = found.process.Rss
      fields.swap = found.process.Swap
    end
    alert[rule.severity](format("%s in pid %d", rule.message, found.pid), fields)
  end
end

local function plural(n, one, many)
  return format("%d %s", n, n == 1 and one or many)
end

local function main()
  -- the check's output goes to stderr with -f prom; the list is rows
  if opts.list then output.check_format("rules.lua --list", cli.usage(SPEC)) end
  local set, msg = load_rules(opts)
  if not set then
    io.stderr:write("memscript: ", tostring(msg), "\n")
    return 3
  end
  if opts.list then
    list_rules(set)
    return 0
  end

  local counts = {}
  for _, rule in ipairs(set.rules) do counts[rule.name] = 0 end
  local checked, denied, failed, single = 0, 0, 0, nil
  if opts.all then
    for _, pid in ipairs(proc.pids()) do
      local matches, err, errno = set:evaluate(pid)
      local reason = not matches and unreadable_reason_for(pid, errno, proc)
      if matches then
        checked = checked + 1
        report(matches, counts)
      elseif reason == "denied" then
        denied = denied + 1
      elseif reason == "other" then
        failed = failed + 1
        alert.unknown(format("cannot read pid %d", pid), { error = tostring(err) })
      end
    end
  else
    for _, pid in ipairs(opts.pids) do
      local matches, err = set:evaluate(pid)
      if matches then
        checked = checked + 1
        report(matches, counts)
      else
        alert.unknown(format("cannot read pid %s", pid), { error = tostring(err) })
      end
    end
    if #opts.pids == 1 and checked == 1 then single = rules.process_fields(opts.pids[1]) end
  end

  for _, rule in ipairs(set.rules) do alert.perfdata(rule.name, counts[rule.name], "", { min = 0 }) end
  alert.perfdata("processes", checked, "", { min = 0 })
  alert.perfdata("unreadable", denied + failed, "", { min = 0 })
  if single then
    for _, figure in ipairs({ { "rss", "Rss", opts.rss }, { "swap", "Swap", opts.swap } }) do
      local value, limits = single[figure[2]], figure[3] or {}
      if value then
        alert.perfdata(figure[1], value, "B", { warn = limits.warn, crit = limits.crit, min = 0 })
      end
    end
  end

  local text = format("%s, %s checked", plural(#set.rules, "rule", "rules"),
                      plural(checked, "process", "processes"))
  if denied > 0 then text = text .. format(", %d unreadable (permission denied)", denied) end
  if opts.all and checked == 0 then
    alert.unknown("no process could be read", { unreadable = denied + failed })
  end
  alert.ok(text)
  return nil
end

-- A normal end returns rather than calling os.exit, so that under --interval the next run follows.
local status = main()
if status then os.exit(status) end
