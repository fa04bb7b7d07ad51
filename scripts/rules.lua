-- rules.lua: a monitoring check: alert rules over the memory of processes, in the Monitoring Plugins format
--
-- The rules are a rules file (memscript.rules: an array of {when, severity, message, scope, name}),
-- by default rules/default.lua beside this script: writable+executable memory, executable stacks,
-- executable mappings of deleted files and of memfds. --rss and --swap add process rules on the
-- smaps_rollup keys Rss and Swap to whatever rules file is used. Swap has no threshold by default:
-- the kernel swaps out pages nobody touches on any healthy system, so swap used is no fault in
-- itself; give --swap for the processes where it is.
--
-- --cgroup-usage, --cgroup-pressure and --cgroup-oom add cgroup rules (memscript.rules' cgroup scope),
-- tested on every memory cgroup with "all", else on the cgroups of the processes given: usage as a
-- share of the cgroup's limit (the lower of memory.max and memory.high; v1 memory.limit_in_bytes),
-- PSI some avg10, and OOM kills since the previous run of a watch (--interval).
--
-- Each match is one alert, "MESSAGE in pid PID" or "MESSAGE in cgroup PATH", printed by memscript.alert: the status line counts
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
local io, os, ipairs, tostring, tonumber = io, os, ipairs, tostring, tonumber
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
    { "--cgroup-usage", value = "WARN%[,CRIT%]",
      help = "warning when a memory cgroup uses more than WARN percent of its limit (the lower of "
        .. "memory.max and memory.high; v1 memory.limit_in_bytes), critical above CRIT; cgroups "
        .. "without a limit never match" },
    { "--cgroup-pressure", value = "WARN[,CRIT]",
      help = "warning when a memory cgroup's memory pressure (memory.pressure some avg10: the percentage "
        .. "of the last 10 seconds some task waited for memory; cgroup v2) is above WARN, critical above CRIT" },
    { "--cgroup-oom",
      help = "critical when the OOM killer killed a process of a memory cgroup (or one below it, in v2) "
        .. "since the previous run: with --interval, from the second run on" },
    { "-l", "--list", help = "print the rules and exit" },
  },
  operands = { { "PID", type = "pids", all = true, unless = "list" } },
  epilog = [[
With "all", processes gone before they were read are left out and those that cannot be read
(permission denied) are counted; any other read failure (a file missing from a capture) is
counted and UNKNOWN. A process given twice is checked once. -f json prints the result as one
JSON object, -f csv as rows status,message,fields (one per match, or the OK line).
Cgroup rules (--cgroup-*, or rules of scope "cgroup" in the rules file) are tested on every
memory cgroup with "all", else on the memory cgroups of the processes given; perfdata counts the
cgroups checked. A cgroup removed while the check runs is left out; one that cannot be read is
UNKNOWN, as is a memory hierarchy that cannot be read.
Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (a usage error, an invalid rules file, a
process given by number that cannot be read, or no process of "all" readable).
]],
}

local opts = cli.parse(SPEC, arg)

-- "80%,95%", "80,95", ",95%": percentages (numbers, the '%' optional), CRIT not below WARN.
local function percents(option, text)
  local warn_text, crit_text = match(text, "^([^,]*),?([^,]*)$")
  local t = {}
  for _, level in ipairs({ { "warn", warn_text }, { "crit", crit_text } }) do
    local word = level[2]
    if word and word ~= "" then
      local number = match(word, "^(%d+%.?%d*)%%?$") or match(word, "^(%.%d+)%%?$")
      if not number then
        cli.usage_error(SPEC, format("%s needs WARN[,CRIT] percentages such as 80%%,95%%, got '%s'", option, text))
      end
      t[level[1]], t[level[1] .. "_text"] = tonumber(number), number .. "%"
    end
  end
  if not t.warn and not t.crit then
    cli.usage_error(SPEC, format("%s needs WARN[,CRIT] percentages such as 80%%,95%%, got '%s'", option, text))
  end
  if t.warn and t.crit and t.crit < t.warn then
    cli.usage_error(SPEC, format("%s: the critical level %s is below the warning level %s", option, t.crit_text, t.warn_text))
  end
  return t
end
if opts.cgroup_usage then opts.cgroup_usage = percents("--cgroup-usage", opts.cgroup_usage) end
if opts.cgroup_pressure then opts.cgroup_pressure = percents("--cgroup-pressure", opts.cgroup_pressure) end

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

-- The --cgroup-usage and --cgroup-pressure rules, scope "cgroup", on the field `key` (a percentage).
local function percent_rules(list, limits, key, message, name)
  if not limits then return end
  if limits.warn then
    local when = format("%s > %s", key, limits.warn)
    if limits.crit then when = when .. format(" and %s <= %s", key, limits.crit) end
    list[#list + 1] = { name = name .. "_warning", scope = "cgroup", severity = "warning",
                        when = when, message = format(message, limits.warn_text) }
  end
  if limits.crit then
    list[#list + 1] = { name = name .. "_critical", scope = "cgroup", severity = "critical",
                        when = format("%s > %s", key, limits.crit), message = format(message, limits.crit_text) }
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
  percent_rules(list, opts.cgroup_usage, "usage", "memory usage above %s of the limit", "cgroup_usage")
  percent_rules(list, opts.cgroup_pressure, "pressure_some", "memory pressure (some avg10) above %s", "cgroup_pressure")
  if opts.cgroup_oom then
    list[#list + 1] = { name = "cgroup_oom", scope = "cgroup", severity = "critical", when = "oom_kill_new > 0",
                        message = "OOM kills since the previous check" }
  end
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

-- The memory cgroups to check: every one with "all", else those of the processes given (each once).
-- Returns the paths, or nil and a message when the hierarchy or a process's cgroup cannot be read.
local function cgroups_to_check()
  if opts.all then return proc.cgroup.list() end
  local paths, seen = {}, {}
  for _, pid in ipairs(opts.pids) do
    local of, err = proc.cgroup.of(pid)
    if not of then return nil, err end
    if not seen[of.path] then
      seen[of.path] = true
      paths[#paths + 1] = of.path
    end
  end
  return paths
end

-- One alert per cgroup match.
local function report_cgroups(matches, counts)
  for _, found in ipairs(matches) do
    local rule, f = found.rule, found.fields
    counts[rule.name] = counts[rule.name] + 1
    local fields = { rule = rule.name, cgroup = found.cgroup, current = f.current, limit = f.limit }
    if f.usage then fields.usage = format("%.1f%%", f.usage) end
    if f.pressure_some then fields.pressure_some = f.pressure_some end
    if f.oom_kill_new then fields.oom_kills = f.oom_kill_new end
    alert[rule.severity](format("%s in cgroup %s", rule.message, found.cgroup), fields)
  end
end

-- ENOENT: a cgroup removed between the listing and the reading.
local ENOENT = 2

-- Checks the cgroup rules; returns the number of cgroups checked, or nil after an UNKNOWN alert.
local function check_cgroups(set, counts)
  local paths, err = cgroups_to_check()
  if not paths then
    alert.unknown("cannot read the memory cgroups", { error = tostring(err) })
    return nil
  end
  local checked = 0
  for _, path in ipairs(paths) do
    local matches, msg, errno = set:evaluate_cgroup(path)
    if matches then
      checked = checked + 1
      report_cgroups(matches, counts)
    elseif not (errno == ENOENT and opts.all) then
      alert.unknown(format("cannot read cgroup %s", path), { error = tostring(msg) })
    end
  end
  return checked
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

  local cgroups_checked
  if #set.cgroup_rules > 0 then cgroups_checked = check_cgroups(set, counts) end

  for _, rule in ipairs(set.rules) do alert.perfdata(rule.name, counts[rule.name], "", { min = 0 }) end
  alert.perfdata("processes", checked, "", { min = 0 })
  alert.perfdata("unreadable", denied + failed, "", { min = 0 })
  if cgroups_checked then alert.perfdata("cgroups", cgroups_checked, "", { min = 0 }) end
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
  if cgroups_checked then text = text .. format(", %s", plural(cgroups_checked, "cgroup", "cgroups")) end
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
