-- Rules as data: memscript.rules (loading, checking, evaluating) and the rules.lua check.

local T = require "testing"
local live = require "livehelper"
local rules = require "memscript.rules"
local cjson = require "cjson"

local tmp, tmp_cleanup <close> = T.tempdir()

local function memscript(args)
  return T.run(T.memscript_command() .. " " .. args)
end

local function write(name, text)
  local path = tmp .. "/" .. name
  T.write(path, text)
  return path
end

local function first_line(text)
  return text:match("^[^\n]*")
end

local h = live.start()

T.test("the default rules find the helper's one writable+executable region, and nothing else", function()
  local out, err, status = memscript("rules.lua " .. h.pid)
  T.eq(status, 2, "status (stderr " .. err .. ")")
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(#lines, 2, "status line and one detail line: " .. out)
  T.eq(lines[1]:match("^(.-) |"), "MEMSCRIPT CRITICAL - 1 writable+executable mapping in pid " .. h.pid, "summary")
  T.contains(lines[1], "| 'wx'=1;;;0 'exec_stack'=0;;;0 'deleted_exec'=0;;;0 'memfd_exec'=0;;;0 " ..
    "'processes'=1;;;0 'unreadable'=0;;;0 'rss'=", "perfdata")
  T.eq(lines[2], string.format("CRITICAL: writable+executable mapping in pid %d (address=%x comm=memhelper " ..
    "perms=rwxp pid=%d rule=wx)", h.pid, h.regions.wx.start, h.pid), "detail line")
end)

T.test("perfdata of one process gives its rss and swap in bytes, with the --rss and --swap thresholds", function()
  local rollup = assert(proc.smaps_rollup(h.pid))
  local out = memscript("rules.lua --rss 1G,2G --swap 512M " .. h.pid)
  T.contains(first_line(out), string.format("'rss'=%dB;1073741824;2147483648;0 'swap'=%dB;536870912;;0",
    rollup.Rss, rollup.Swap), "perfdata")
end)

T.test("--rss WARN,CRIT: a warning between the two sizes, critical above CRIT", function()
  local rss = assert(proc.smaps_rollup(h.pid)).Rss
  local out, _, status = memscript(string.format("rules.lua -r %s --rss %d,%d %d",
    T.q(write("none.lua", "return {}")), rss - 1, rss, h.pid))
  T.eq(status, 1, "status between the sizes")
  T.eq(first_line(out):match("^(.-) |"), string.format("MEMSCRIPT WARNING - 1 RSS above %d in pid %d", rss - 1, h.pid),
    "summary")
  T.contains(out, string.format("WARNING: RSS above %d in pid %d (comm=memhelper pid=%d rss=%d rule=rss_warning swap=0)",
    rss - 1, h.pid, h.pid, rss), "detail")
  out, _, status = memscript(string.format("rules.lua -r %s --rss ,%d %d", T.q(tmp .. "/none.lua"), rss - 1, h.pid))
  T.eq(status, 2, "status above CRIT")
  T.contains(out, "CRITICAL: RSS above " .. (rss - 1) .. " in pid", "detail")
  out, _, status = memscript(string.format("rules.lua -r %s --rss %d %d", T.q(tmp .. "/none.lua"), rss, h.pid))
  T.eq(status, 0, "status at the size exactly: above is strict")
  T.eq(first_line(out):match("^(.-) |"), "MEMSCRIPT OK - 1 rule, 1 process checked", "OK line")
end)

T.test("a rules file's process rules see pid, comm, status and smaps_rollup keys", function()
  local path = write("process.lua", [[
return {
  { name = "by_comm", scope = "process", when = "comm == 'memhelper' and pid > 0", severity = "warning",
    message = "the helper" },
  { name = "by_status", scope = "process", when = "VmRSS > 0 and Threads == 1", severity = "warning",
    message = "one thread" },
  { name = "by_rollup", scope = "process", when = "Anonymous > 0 and Pss > 0", severity = "critical",
    message = "has anonymous memory" },
  { name = "mapping_names", scope = "process", when = "kind == 'heap' or executable", severity = "critical",
    message = "never: a process has no kind" },
}
]])
  local out, err, status = memscript("rules.lua -r " .. T.q(path) .. " " .. h.pid)
  T.eq(status, 2, "status (stderr " .. err .. ")")
  T.eq(first_line(out):match("^(.-) |"), string.format("MEMSCRIPT CRITICAL - 1 has anonymous memory in pid %d " ..
    "(also 2 WARNING)", h.pid), "summary")
  T.contains(first_line(out), "'by_comm'=1;;;0 'by_status'=1;;;0 'by_rollup'=1;;;0 'mapping_names'=0;;;0", "perfdata")
end)

T.test("rules.compile and evaluate, in a script: matches name the rule, the pid and the mapping", function()
  local set = assert(rules.compile({
    { when = "perms == 'rwxp'", severity = "critical", message = "wx" },
    { when = "Rss > 0", severity = "warning", message = "resident", scope = "process" },
  }))
  T.eq(set.rules[1].name, "rule_1", "default name")
  local matches = assert(set:evaluate(h.pid))
  T.eq(#matches, 2, "matches")
  T.eq(matches[1].rule.name, "rule_1", "first match's rule")
  T.eq(matches[1].pid, h.pid, "pid")
  T.eq(matches[1].comm, "memhelper", "comm")
  T.eq(matches[1].mapping.vm_start, h.regions.wx.start, "the wx mapping")
  T.eq(matches[2].rule.scope, "process", "second match's scope")
  T.eq(matches[2].process.comm, "memhelper", "process fields")
  T.eq(matches[2].process.Rss, proc.smaps_rollup(h.pid).Rss, "Rss from smaps_rollup")
  local again = assert(set:evaluate(tostring(h.pid)))
  T.eq(again[1].pid, h.pid, "a numeric string pid is reported as a number")
end)

T.test("evaluate returns nil, message, errno for a process that is gone", function()
  local set = assert(rules.compile({ { when = "Rss > 0", severity = "warning", message = "m" } }))
  local matches, msg, errno = set:evaluate(999999999)
  T.eq({ matches, errno }, { nil, 2 }, "result and errno")
  T.contains(msg, "999999999", "message")
end)

T.test("rules.lua all checks every process, the helper's wx region among them, without going UNKNOWN", function()
  local out, err, status = memscript("rules.lua all")
  T.ok(status == 2, "status " .. tostring(status) .. " (stderr " .. err .. ")")
  T.contains(out, string.format("CRITICAL: writable+executable mapping in pid %d (address=%x", h.pid,
    h.regions.wx.start), "the helper's finding")
  local processes = tonumber(first_line(out):match("'processes'=(%d+)"))
  T.ok(processes and processes > 1, "processes checked: " .. tostring(processes))
end)

T.test("rules.lua all as a user without permission counts the unreadable processes", function()
  local _, _, has = T.run("command -v setpriv")
  if has ~= 0 then T.skip("setpriv is not installed") end
  local _, _, root_user = T.run("test \"$(id -u)\" = 0")
  if root_user ~= 0 then T.skip("needs root to switch to another user") end
  local _, _, reachable = T.run("setpriv --reuid=65534 --regid=65534 --clear-groups test -x " .. T.q(T.bin))
  if reachable ~= 0 then T.skip("the binary is not executable by nobody") end
  -- a rule that reads smaps_rollup and never matches
  local path = write("never.lua", 'return { { scope = "process", when = "Rss < 0", severity = "warning", message = "m" } }')
  T.run("chmod 755 " .. T.q(tmp) .. " && chmod 644 " .. T.q(path))
  local out, err, status = T.run("setpriv --reuid=65534 --regid=65534 --clear-groups " .. T.memscript_command() ..
    " rules.lua -r " .. T.q(path) .. " all")
  T.eq(status, 0, "status (stderr " .. err .. ")")
  local checked, denied = out:match("^MEMSCRIPT OK %- 1 rule, (%d+) process[es]* checked, (%d+) unreadable %(permission denied%)")
  T.ok(checked and tonumber(checked) >= 1, "its own processes are read: " .. out)
  T.ok(denied and tonumber(denied) >= 1, "the others counted: " .. out)
  T.contains(out, "'unreadable'=" .. denied .. ";;;0", "perfdata")
end)

T.test("a process given by number that cannot be read is UNKNOWN", function()
  local out, _, status = memscript("rules.lua 999999999")
  T.eq(status, 3, "status")
  T.eq(first_line(out):match("^(.-) |"), "MEMSCRIPT UNKNOWN - 1 cannot read pid 999999999", "summary")
  T.contains(out, 'UNKNOWN: cannot read pid 999999999 (error="', "detail")
end)

T.test("a captured tree: the RSS of the live capture's process 4804 against --rss", function()
  local root = T.fixtures .. "/live-capture/proc"
  local out, _, status = memscript("--proc-root " .. T.q(root) .. " rules.lua --rss 1M,2M 4804")
  T.eq(status, 1, "status: 1840 kB is above 1M and not above 2M")
  T.eq(first_line(out), "MEMSCRIPT WARNING - 1 RSS above 1M in pid 4804 | 'wx'=0;;;0 'exec_stack'=0;;;0 " ..
    "'deleted_exec'=0;;;0 'memfd_exec'=0;;;0 'rss_warning'=1;;;0 'rss_critical'=0;;;0 'processes'=1;;;0 " ..
    "'unreadable'=0;;;0 'rss'=1884160B;1048576;2097152;0 'swap'=0B;;;0", "status line")
  T.eq(out:match("\n(.*)"), "WARNING: RSS above 1M in pid 4804 (comm=sleep pid=4804 rss=1884160 " ..
    "rule=rss_warning swap=0)\n", "detail")
end)

-- A capture tree in a new directory: 120 (tests/fixtures/edge 120's maps and smaps, with executable
-- stacks, deleted and memfd code and writable+executable memory, and the live capture's status so that
-- the process is there), 4804 (the live capture: no match) and 109 (a kernel thread: empty maps and
-- smaps, no smaps_rollup); less the files of 120 named in remove.
local function capture_tree(remove)
  local dir = T.sh("mktemp -d -p " .. T.q(tmp)):gsub("\n$", "")
  local edge, capture = T.fixtures .. "/edge/proc", T.fixtures .. "/live-capture/proc/4804"
  T.sh(string.format("cp -r %s %s/120 && cp -r %s %s/109 && cp -r %s %s/4804 && cp %s %s/120/status && chmod -R u+w %s",
    T.q(edge .. "/120"), T.q(dir), T.q(edge .. "/109"), T.q(dir), T.q(capture), T.q(dir),
    T.q(capture .. "/status"), T.q(dir), T.q(dir)))
  for _, name in ipairs(remove) do assert(os.remove(dir .. "/120/" .. name)) end
  return dir
end

local DEFAULT_PERFDATA = "'wx'=0;;;0 'exec_stack'=0;;;0 'deleted_exec'=0;;;0 'memfd_exec'=0;;;0 "

T.test("all on a capture missing a process's smaps: UNKNOWN naming the file, counted unreadable", function()
  local dir = capture_tree({"smaps"})
  local out, err, status = memscript("--proc-root " .. T.q(dir) .. " rules.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT UNKNOWN - 1 cannot read pid 120 | " .. DEFAULT_PERFDATA ..
    "'processes'=2;;;0 'unreadable'=1;;;0\nUNKNOWN: cannot read pid 120 (error=\"" .. dir ..
    "/120/smaps: No such file or directory\")\n", "", 3}, "smaps missing, status there")
  -- without its status as well, nothing says the process was there: gone, left out
  assert(os.remove(dir .. "/120/status"))
  out, err, status = memscript("--proc-root " .. T.q(dir) .. " rules.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT OK - 4 rules, 2 processes checked | " .. DEFAULT_PERFDATA ..
    "'processes'=2;;;0 'unreadable'=0;;;0\n", "", 0}, "smaps and status missing")
end)

T.test("all on a capture missing a process's maps: rules read smaps, the matches stand", function()
  local dir = capture_tree({"maps"})
  local out, err, status = memscript("--proc-root " .. T.q(dir) .. " rules.lua all")
  T.eq({err, status}, {"", 2}, "stderr and status")
  T.eq(first_line(out):match("| (.*)$"), "'wx'=1;;;0 'exec_stack'=2;;;0 'deleted_exec'=1;;;0 'memfd_exec'=1;;;0 " ..
    "'processes'=3;;;0 'unreadable'=0;;;0", "perfdata")
end)

T.test("a captured kernel thread without smaps_rollup is checked on its status, as on a live system", function()
  local dir = capture_tree({})
  local out, err, status = memscript("--proc-root " .. T.q(dir) .. " rules.lua --rss 1G 109")
  T.eq({out, err, status}, {"MEMSCRIPT OK - 5 rules, 1 process checked | " .. DEFAULT_PERFDATA ..
    "'rss_warning'=0;;;0 'processes'=1;;;0 'unreadable'=0;;;0\n", "", 0}, "kthreadd")
  out, err, status = memscript("--proc-root " .. T.q(dir) .. " rules.lua --rss 1G all")
  T.eq({err, status}, {"", 3}, "stderr and status: 120 has no smaps_rollup, and a status")
  T.eq(first_line(out), "MEMSCRIPT UNKNOWN - 1 cannot read pid 120 | " .. DEFAULT_PERFDATA ..
    "'rss_warning'=0;;;0 'processes'=2;;;0 'unreadable'=1;;;0", "status line")
end)

T.test("-f json: the check's result as one JSON object", function()
  local out, _, status = memscript("-f json rules.lua " .. h.pid)
  T.eq(status, 2, "status")
  local doc = cjson.decode(out)
  T.eq(doc.status, "CRITICAL", "status")
  T.eq(#doc.alerts, 1, "alerts")
  T.eq(doc.alerts[1].fields.rule, "wx", "rule")
  T.eq(doc.alerts[1].fields.address, string.format("%x", h.regions.wx.start), "address")
end)

T.test("-f csv: a header and one RFC 4180 row per match, or the OK line; the exit status kept", function()
  local out, err, status = memscript("-f csv rules.lua " .. h.pid)
  T.eq({ err, status }, { "", 2 }, "stderr and status")
  T.eq(T.csv(out), {
    { "status", "message", "fields" },
    { "CRITICAL", "writable+executable mapping in pid " .. h.pid, string.format(
      "address=%x comm=memhelper perms=rwxp pid=%d rule=wx", h.regions.wx.start, h.pid) },
  }, "rows")
  out, err, status = memscript(string.format("-f csv rules.lua -r %s %d", T.q(write("none.lua", "return {}")), h.pid))
  T.eq({ err, status }, { "", 0 }, "no rule: stderr and status")
  T.eq(T.csv(out), { { "status", "message", "fields" }, { "OK", "0 rules, 1 process checked", "" } }, "OK row")
end)

T.test("--list prints the rules with --rss added", function()
  local out, _, status = memscript("rules.lua --list --rss 1G")
  T.eq(status, 0, "status")
  T.same_text(out, table.concat({
    "Name          Scope    Severity  When                                                             Message",
    "wx            mapping  critical  writable and executable                                          writable+executable mapping",
    "exec_stack    mapping  critical  (kind == 'stack' and executable) or (VmFlags.gd and VmFlags.ex)  executable stack",
    "deleted_exec  mapping  warning   executable and kind == 'deleted'                                 executable mapping of a deleted file",
    "memfd_exec    mapping  warning   executable and kind == 'memfd'                                   executable memfd mapping",
    "rss_warning   process  warning   Rss > 1073741824                                                 RSS above 1G",
    "" }, "\n"), "rules")
end)

T.test("rules.lua with --interval checks again every run", function()
  local out, _, status = memscript("--interval 0.05 --count 2 rules.lua " .. h.pid)
  T.eq(status, 2, "status")
  local _, lines = out:gsub("MEMSCRIPT CRITICAL", "")
  T.eq(lines, 2, "status lines")
end)

-- ---- rules files that are wrong ----

local function load_error(text)
  local path = write("bad.lua", text)
  local set, msg = rules.load(path)
  T.eq(set, nil, "no rule set")
  return (msg:gsub(path:gsub("%p", "%%%0"), "FILE"))
end

T.test("an invalid rule is named by its index and field", function()
  local cases = {
    { 'return { { when = "Rss > 0", severity = "warning", message = "m" }, { when = "Rss > 0", message = "m" } }',
      "FILE: rule 2: field 'severity' must be \"warning\" or \"critical\", got nil" },
    { 'return { { when = "Rss > 0", severity = "fatal", message = "m" } }',
      "FILE: rule 1: field 'severity' must be \"warning\" or \"critical\", got \"fatal\"" },
    { 'return { { when = 42, severity = "warning", message = "m" } }',
      "FILE: rule 1: field 'when' must be a where-expression string, got 42" },
    { 'return { { when = "Rss => 1M", severity = "warning", message = "m" } }',
      "FILE: rule 1: field 'when': where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '=>'" },
    { 'return { { when = "Rss > 0", severity = "warning" } }',
      "FILE: rule 1: field 'message' must be a non-empty string, got nil" },
    { 'return { { when = "Rss > 0", severity = "warning", message = "m", scope = "thread" } }',
      "FILE: rule 1: field 'scope' must be \"mapping\", \"process\" or \"cgroup\", got \"thread\"" },
    { 'return { { when = "Rss > 0", severity = "warning", message = "m", sevrity = "x" } }',
      "FILE: rule 1: unknown field 'sevrity' (fields: when, severity, message, scope, name)" },
    { 'return { { when = "Rss > 0", severity = "warning", message = "m", name = "a b" } }',
      "FILE: rule 1: field 'name' must be letters, digits and _ . : - only, got \"a b\"" },
    { 'return { { when = "Rss > 0", severity = "warning", message = "m", name = "x" }, ' ..
      '{ when = "Rss > 0", severity = "warning", message = "m", name = "x" } }',
      "FILE: rule 2: field 'name': \"x\" is also the name of rule 1" },
    { 'return { "Rss > 0" }', "FILE: rule 1: a rule must be a table, got string" },
    { 'return { rss = { when = "Rss > 0", severity = "warning", message = "m" } }',
      "FILE: expected an array of rules, found the key \"rss\"" },
    { 'return 42', "FILE: expected an array of rules, got number" },
    { 'return', "FILE: returned nothing (expected an array of rules)" },
  }
  for _, case in ipairs(cases) do T.eq(load_error(case[1]), case[2], case[1]) end
end)

T.test("rules.lua -r reads only a regular file: a device, a pipe or a directory is refused at once", function()
  local fifo = tmp .. "/rules-fifo"
  T.sh("mkfifo " .. T.q(fifo))
  for _, case in ipairs({ { "/dev/zero", "a character device" }, { fifo, "a pipe" }, { tmp, "a directory" } }) do
    -- timeout: before, /dev/zero was read for ever and a pipe waited for a writer
    local out, err, status = T.run("timeout 20 " .. T.q(T.bin) .. " rules.lua -r " .. T.q(case[1]) .. " self")
    T.eq({ out, err, status }, { "", "memscript: " .. case[1] .. ": " .. case[2] ..
      ", not a regular file (only regular files are read)\n", 3 }, case[1])
  end
  local set, msg = rules.load("/dev/null")
  T.eq({ set, msg }, { nil, "/dev/null: a character device, not a regular file (only regular files are read)" },
    "rules.load")
end)

T.test("a rules file with a syntax or run-time error is reported with its file and line", function()
  T.eq(load_error("return {\n  { when = 'Rss > 0' severity = 'warning' }\n}"),
    "FILE:2: '}' expected near 'severity'", "syntax error")
  T.eq(load_error("local x = nil\nreturn x.y"), "FILE:2: attempt to index a nil value (local 'x')", "run-time error")
end)

T.test("a rules file runs without io, os, require, load or print, and cannot change the string library", function()
  T.eq(load_error("io.open('/tmp/x', 'w')"), "FILE:1: attempt to index a nil value (global 'io')", "io")
  T.eq(load_error("os.execute('true')"), "FILE:1: attempt to index a nil value (global 'os')", "os")
  T.eq(load_error("require 'memscript'"), "FILE:1: attempt to call a nil value (global 'require')", "require")
  T.eq(load_error("print('x')"), "FILE:1: attempt to call a nil value (global 'print')", "print")
  local path = write("helpers.lua", [[
string.format = nil
local list = {}
for _, size in ipairs({ "1M", "2M" }) do
  list[#list + 1] = { name = "rss_" .. size, scope = "process", when = "Rss > " .. size,
                      severity = "warning", message = ("RSS above %s"):format(size) }
end
return list
]])
  local set = assert(rules.load(path))
  T.eq(#set.rules, 2, "rules built in a loop")
  T.eq(set.rules[2].message, "RSS above 2M", "string methods still work")
  T.eq(type(string.format), "function", "the real string.format is untouched")
end)

T.test("rules.lua reports an invalid rules file on stderr with status 3", function()
  local path = write("bad.lua", 'return { { when = "Rss > 0", severity = "fatal", message = "m" } }')
  local out, err, status = memscript("rules.lua -r " .. T.q(path) .. " " .. h.pid)
  T.eq({ out, status }, { "", 3 }, "stdout and status")
  T.eq(err, "memscript: " .. path .. ": rule 1: field 'severity' must be \"warning\" or \"critical\", got \"fatal\"\n",
    "stderr")
  out, err, status = memscript("rules.lua -r " .. T.q(tmp .. "/missing.lua") .. " " .. h.pid)
  T.eq({ out, status }, { "", 3 }, "stdout and status of a missing file")
  T.contains(err, "missing.lua: No such file or directory", "stderr")
end)

T.test("under --sandbox the default rules and a rules file given with -r both run", function()
  local path = write("sandboxed.lua", 'return { { when = "perms == \'rwxp\'", severity = "critical", message = "wx" } }')
  local out, _, status = memscript("--sandbox rules.lua -r " .. T.q(path) .. " " .. h.pid)
  T.eq(status, 2, "status with -r")
  T.eq(first_line(out):match("^(.-) |"), "MEMSCRIPT CRITICAL - 1 wx in pid " .. h.pid, "summary")
  local plain_out, _, plain_status = memscript("rules.lua " .. h.pid)
  out, _, status = memscript("--sandbox rules.lua " .. h.pid)
  T.eq({ out, status }, { plain_out, plain_status }, "the default rules under --sandbox, as without it")
end)

T.test("usage errors print the usage on stderr with status 3", function()
  for _, args in ipairs({ "", "--rss", "--rss 2G,1G 1", "--rss lots 1", "1 all", "--bogus 1" }) do
    local out, err, status = memscript("rules.lua " .. args)
    T.eq({ out, status }, { "", 3 }, "rules.lua " .. args)
    T.contains(err, "usage: memscript rules.lua", "usage for " .. args)
  end
end)

live.stop(h)
T.done()
