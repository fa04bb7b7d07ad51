-- The monitoring definitions (dist/monitoring): the Prometheus rules through promtool, fed with
-- memscript's own output; the Icinga 2 and Nagios definitions through the real icinga2 and nagios4,
-- which validate them and then run their commands.
--
-- Before the package is installed the definitions name /usr/bin/memscript and
-- /usr/share/memscript/scripts: here those two paths become the binary under test and the source
-- tree's scripts, and nothing else changes. tests/package/installed.lua runs them unchanged.

local T = require "testing"
local live = require "livehelper"

local dist = T.source .. "/dist/monitoring"
local rules_file = dist .. "/prometheus/memscript.rules.yml"
local tmp, tmp_cleanup <close> = T.tempdir()
T.sh("chmod 0755 " .. T.q(tmp))   -- nagios4 -v reads the object files as the user nagios

local function has(program)
  local _, _, status = T.run("command -v " .. program)
  return status == 0
end

local function need_root()
  local _, _, status = T.run('test "$(id -u)" = 0')
  if status ~= 0 then T.skip("needs root") end
end

-- A definition file with the installed paths of memscript replaced by the build's.
local function localized(path)
  local text = T.read(path)
  text = text:gsub("/usr/bin/memscript", (T.bin:gsub("%%", "%%%%")))
  text = text:gsub("/usr/share/memscript/scripts/", ((T.source .. "/scripts/"):gsub("%%", "%%%%")))
  local out = tmp .. "/" .. path:match("([^/]+)$")
  T.write(out, text)
  return out
end

-- The gauges of an exposition text, in order: { series = 'name{labels}', value = text }.
local function samples(text)
  local list = {}
  for line in text:gmatch("[^\n]+") do
    if line:sub(1, 1) ~= "#" then
      local series, value = line:match("^(%S+) (%S+)$")
      if series then list[#list + 1] = { series = series, value = value } end
    end
  end
  return list
end

-- The same series with an instance label, as a scrape adds one.
local function with_instance(series, instance)
  if series:find("{", 1, true) then
    return (series:gsub("{", '{instance="' .. instance .. '",', 1))
  end
  return series .. '{instance="' .. instance .. '"}'
end

-- A series' labels: 'name{a="1",b="x"}' -> { a = "1", b = "x" } (label values here hold no quote).
local function labels_of(series)
  local t = {}
  for k, v in (series:match("%b{}") or ""):gmatch('([%w_]+)="([^"]*)"') do t[k] = v end
  return t
end

local function yaml_string(s)
  return "'" .. s:gsub("'", "''") .. "'"
end

-- An annotation of the rules file, expanded as Prometheus would for these labels and value.
local rules_text = T.read(rules_file)
local function annotation(alert, key, labels, value)
  local block = rules_text:match("%- alert: " .. alert .. "\n(.-)\n      %- ") or rules_text:match("%- alert: " .. alert .. "\n(.*)$")
  local template = block:match("\n          " .. key .. ': "(.-)"\n')
  T.ok(template, "the " .. key .. " of " .. alert)
  return (template:gsub("{{ %$labels%.([%w_]+) }}", labels):gsub("{{ %$value }}", value or ""))
end

T.test("promtool check rules accepts the alerting rules", function()
  if not has("promtool") then T.skip("promtool is not installed (Debian package prometheus)") end
  local out, err, status = T.run("promtool check rules " .. T.q(rules_file))
  T.eq({ err, status }, { "", 0 }, "promtool's stderr and status")
  T.contains(out, "SUCCESS: 6 rules found", "promtool's verdict")
end)

-- Starts `memhelper grow STEP_KB INTERVAL_MS STEPS` and waits for its "ready" line (the growth
-- starts right after it). Returns the helper as livehelper describes one, for live.stop.
local function start_growing(step_kb, interval_ms, steps)
  local out_path = os.tmpname()
  local pid = tonumber(T.run(string.format("%s grow %d %d %d >%s & echo $!", T.q(T.helper), step_kb, interval_ms,
    steps, T.q(out_path))):match("%d+"))
  local h = { pid = pid, out_path = out_path }
  local deadline = os.time() + 30   -- against a hang only: it is ready within milliseconds
  while true do
    local text = T.read_if(out_path) or ""
    h.dir = text:match("dir=(%S+)")
    if text:find("\nready\n") then return h end
    if os.time() > deadline then live.stop(h) error("memhelper grow did not get ready: " .. text) end
    T.run("sleep 0.01")
  end
end

T.test("promtool test rules, on memscript's own gauges, fires each alert where its condition holds", function()
  need_root()
  if not has("promtool") then T.skip("promtool is not installed (Debian package prometheus)") end
  local stable = live.start()
  local growing = start_growing(131072, 1000, 4)   -- 4 x 128 MiB, a second apart
  local before, after, nocap, ptrace
  local ok, problem = pcall(function()
    local function exporter(args, prefix)
      local out, err, status = T.memscript(nil, "-f prom " .. T.q(T.source .. "/scripts/exporter.lua") .. " " .. args,
        { prefix = prefix, dir = "/" })
      T.eq(status, 0, "exporter.lua " .. args .. " (stderr: " .. err .. ")")
      return out
    end
    before = exporter(stable.pid .. " " .. growing.pid)
    local deadline = os.time() + 60   -- against a hang only: it is done growing in about 4 s
    while live.state(growing.pid) ~= "T" do
      T.ok(os.time() <= deadline and live.state(growing.pid), "the growing helper stops once done")
      T.run("sleep 0.05")
    end
    after = exporter(stable.pid .. " " .. growing.pid)
    local user = "setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs "
    nocap = exporter("all", user .. "--inh-caps=-all --ambient-caps=-all")
    ptrace = exporter("all", user .. "--inh-caps=-all,+sys_ptrace --ambient-caps=-all,+sys_ptrace")
  end)
  live.stop(growing)
  live.stop(stable)
  if not ok then error(problem, 0) end

  -- One reading a minute: the first held for an hour (0m to 59m), the second from 60m to 150m.
  local series, values, order = {}, {}, {}
  local function add(name, value_text)
    if not values[name] then order[#order + 1] = name end
    values[name] = value_text
  end
  local b = {}
  for _, s in ipairs(samples(before)) do b[s.series] = s.value end
  for _, s in ipairs(samples(after)) do
    if b[s.series] then
      local name = with_instance(s.series, "helpers")
      add(name, b[s.series] .. "x59 " .. s.value .. "x90")
      series[name] = { before = tonumber(b[s.series]), after = tonumber(s.value) }
    end
  end
  -- memscript_processes_unreadable of `exporter.lua all` as nobody, without and with CAP_SYS_PTRACE
  local unreadable = {}
  for instance, text in pairs({ nocap = nocap, ptrace = ptrace }) do
    for _, s in ipairs(samples(text)) do
      if s.series == "memscript_processes_unreadable" then
        unreadable[instance] = tonumber(s.value)
        add(with_instance(s.series, instance), s.value .. "x150")
      end
    end
  end
  T.ok(unreadable.nocap and unreadable.nocap > 0, "without CAP_SYS_PTRACE, nobody cannot read root's processes")
  T.ok(unreadable.ptrace and unreadable.ptrace < unreadable.nocap, "with CAP_SYS_PTRACE, fewer are unreadable")
  -- node_exporter's mtime of the file (not memscript's gauge): rewritten every minute, then no longer
  local textfile = "/var/lib/prometheus/node-exporter/memscript.prom"
  add('node_textfile_mtime_seconds{file="' .. textfile .. '",instance="helpers"}', "0+60x59 3540x90")

  local function reading(name, pid) return series[with_instance(name .. '{command="memhelper",pid="' .. pid .. '"}', "helpers")] end
  local rss_grown = reading("memscript_process_rss_bytes", growing.pid)
  T.ok(rss_grown, "the growing helper's rss was read twice")
  T.ok(rss_grown.after - rss_grown.before >= 384 * 1024 * 1024,
    string.format("the helper grew by %d bytes between the readings (at least 3 of its 4 steps)", rss_grown.after - rss_grown.before))

  -- What fires at 100m: every condition evaluated on the readings, as the rules state it.
  local MiB256 = 256 * 1024 * 1024
  local expected = {}
  local function expect(alert, labels, value)
    labels.severity = alert == "MemscriptProcessesUnreadable" and "info" or "warning"
    expected[alert] = expected[alert] or {}
    table.insert(expected[alert], { labels = labels, summary = annotation(alert, "summary", labels, value),
      description = annotation(alert, "description", labels, value) })
  end
  for _, pid in ipairs({ stable.pid, growing.pid }) do
    local rss = reading("memscript_process_rss_bytes", pid)
    local uss, swap = reading("memscript_process_uss_bytes", pid), reading("memscript_process_swap_bytes", pid)
    local labels = { command = "memhelper", pid = tostring(pid), instance = "helpers" }
    if rss.after - rss.before > MiB256 then expect("MemscriptProcessRssGrowth", labels) end
    if (uss.after + swap.after) - (uss.before + swap.before) > MiB256 then
      expect("MemscriptProcessFootprintGrowth", { command = "memhelper", pid = tostring(pid), instance = "helpers" })
    end
  end
  T.eq(#expected.MemscriptProcessRssGrowth, 1, "the growing helper alone grew by more than 256 MiB")
  -- MemAvailable: the first reading decides at 50m, the second (held since 60m) later on
  local available = series[with_instance('memscript_meminfo_bytes{key="MemAvailable"}', "helpers")]
  local total = series[with_instance('memscript_meminfo_bytes{key="MemTotal"}', "helpers")]
  local low_before = available.before / total.before < 0.10
  if available.after / total.after < 0.10 then expect("MemscriptMemAvailableLow", { instance = "helpers" }) end
  for _, instance in ipairs({ "nocap", "ptrace" }) do
    if unreadable[instance] > 0 then
      expect("MemscriptProcessesUnreadable", { instance = instance }, tostring(unreadable[instance]))
    end
  end
  expect("MemscriptExporterStale", { file = textfile, instance = "helpers" })

  local y = { "rule_files:", "  - " .. yaml_string(rules_file), "evaluation_interval: 1m", "tests:",
    "  - interval: 1m", "    input_series:" }
  for _, name in ipairs(order) do
    y[#y + 1] = "      - series: " .. yaml_string(name)
    y[#y + 1] = "        values: " .. yaml_string(values[name])
  end
  y[#y + 1] = "    alert_rule_test:"
  local alerts = { "MemscriptProcessRssGrowth", "MemscriptProcessFootprintGrowth", "MemscriptMemAvailableLow",
    "MemscriptProcessesUnreadable", "MemscriptExporterStale" }
  for _, alert in ipairs(alerts) do
    -- nothing at 50m (no growth yet, the file fresh), nothing firing at 75m (growth seen for 15 of
    -- the 30 minutes asked; the file stale for 11 of 5+5) but what held from the start, what was
    -- expected at 100m, and at 150m no growth within the hour
    local at = { ["50m"] = {}, ["75m"] = {}, ["100m"] = expected[alert] or {}, ["150m"] = {} }
    if alert == "MemscriptProcessesUnreadable" then
      at["50m"], at["75m"], at["150m"] = at["100m"], at["100m"], at["100m"]
    elseif alert == "MemscriptMemAvailableLow" then
      at["75m"], at["150m"] = at["100m"], at["100m"]
      if low_before then
        local labels = { instance = "helpers", severity = "warning" }
        at["50m"] = { { labels = labels, summary = annotation(alert, "summary", labels),
                        description = annotation(alert, "description", labels) } }
      end
    elseif alert == "MemscriptExporterStale" then
      at["75m"], at["150m"] = at["100m"], at["100m"]
    end
    for _, time in ipairs({ "50m", "75m", "100m", "150m" }) do
      y[#y + 1] = "      - eval_time: " .. time
      y[#y + 1] = "        alertname: " .. alert
      y[#y + 1] = "        exp_alerts:" .. (#at[time] == 0 and " []" or "")
      for _, e in ipairs(at[time]) do
        y[#y + 1] = "          - exp_labels:"
        local keys = {}
        for k in pairs(e.labels) do keys[#keys + 1] = k end
        table.sort(keys)
        for _, k in ipairs(keys) do y[#y + 1] = "              " .. k .. ": " .. yaml_string(e.labels[k]) end
        y[#y + 1] = "            exp_annotations:"
        y[#y + 1] = "              summary: " .. yaml_string(e.summary)
        y[#y + 1] = "              description: " .. yaml_string(e.description)
      end
    end
  end
  local test_file = tmp .. "/memscript.rules.test.yml"
  T.write(test_file, table.concat(y, "\n") .. "\n")
  local out, err, status = T.run("promtool test rules " .. T.q(test_file))
  T.eq(status, 0, "promtool test rules (" .. test_file .. "): " .. out .. err)
  T.contains(out, "SUCCESS", "promtool's verdict")
end)

-- ---- Nagios and Icinga 2 ----

local function nagios_objects(command_file, rules_command)
  return [[
cfg_file=]] .. tmp .. [[/objects.cfg
cfg_file=]] .. command_file .. "\n", [[
define timeperiod {
    timeperiod_name 24x7
    alias           always
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define contact {
    contact_name                    nobody
    host_notifications_enabled      0
    service_notifications_enabled   0
    host_notification_period        24x7
    service_notification_period     24x7
    host_notification_options       n
    service_notification_options    n
    host_notification_commands      check_memscript_wx
    service_notification_commands   check_memscript_wx
}
define host {
    host_name               localhost
    address                 127.0.0.1
    max_check_attempts      1
    check_period            24x7
    contacts                nobody
    notification_interval   0
    notification_period     24x7
}
define service {
    host_name               localhost
    service_description     memscript rules
    check_command           ]] .. rules_command .. [[

    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            24x7
    contacts                nobody
    notification_interval   0
    notification_period     24x7
}
define service {
    host_name               localhost
    service_description     memscript wx
    check_command           check_memscript_wx
    max_check_attempts      1
    check_interval          1
    retry_interval          1
    check_period            24x7
    contacts                nobody
    notification_interval   0
    notification_period     24x7
}
]]
end

-- nagios4 -v on a main configuration holding the commands file and two services using it.
local function nagios_verify(command_file, rules_command)
  local main, objects = nagios_objects(command_file, rules_command)
  T.write(tmp .. "/objects.cfg", objects)
  T.write(tmp .. "/nagios.cfg", main .. "illegal_macro_output_chars=`~$&|'\"<>\n")
  local out, _, status = T.run("nagios4 -v " .. T.q(tmp .. "/nagios.cfg"))
  return out, status
end

T.test("nagios4 -v accepts the Nagios commands used by two services", function()
  if not has("nagios4") then T.skip("nagios4 is not installed (Debian package nagios4-core)") end
  local file = dist .. "/nagios/memscript.cfg"
  local out, status = nagios_verify(file, "check_memscript_rules!--rss 2G,4G")
  T.eq(status, 0, "nagios4 -v: " .. out)
  T.contains(out, "Total Warnings: 0\nTotal Errors:   0\n", "nagios4's totals")
  T.contains(out, "Checked 2 services.", "both services")
  T.contains(out, "Checked 2 commands.", "both commands")
  -- the same check refuses a service whose command is not defined
  out, status = nagios_verify(file, "check_memscript_rulez!--rss 2G,4G")
  T.ok(status ~= 0, "a misspelt command is an error")
  T.contains(out, "check_memscript_rulez", "nagios4 names it")
end)

local function icinga_config(command_file, extra)
  return 'include <itl>\ninclude "' .. command_file .. '"\n' .. [[
object Host "memscript-test" {
  check_command = "dummy"
  enable_active_checks = false
}
object Service "rules" {
  host_name = "memscript-test"
  check_command = "memscript-rules"
  vars.memscript_rss = "1G,2G"
  check_interval = 1s
}
object Service "wx" {
  host_name = "memscript-test"
  check_command = "memscript-wx"
  check_interval = 1s
}
]] .. (extra or "")
end

-- icinga2 daemon with every path under dir: -C to validate, or running as root until stopped.
local function icinga_command(config, dir, validate)
  T.sh("mkdir -p " .. T.q(dir .. "/cache") .. " " .. T.q(dir .. "/lib") .. " " .. T.q(dir .. "/log") .. " " ..
    T.q(dir .. "/run") .. " " .. T.q(dir .. "/spool"))
  local constants = { RunAsUser = "root", RunAsGroup = "root", CacheDir = dir .. "/cache", DataDir = dir .. "/lib",
    LogDir = dir .. "/log", InitRunDir = dir .. "/run", SpoolDir = dir .. "/spool", StatePath = dir .. "/lib/icinga2.state",
    ObjectsPath = dir .. "/cache/icinga2.debug", VarsPath = dir .. "/cache/icinga2.vars", PidPath = dir .. "/run/icinga2.pid" }
  local words = { "icinga2 daemon", validate and "-C" or "", "-c", T.q(config) }
  for _, k in ipairs({ "RunAsUser", "RunAsGroup", "CacheDir", "DataDir", "LogDir", "InitRunDir", "SpoolDir",
                       "StatePath", "ObjectsPath", "VarsPath", "PidPath" }) do
    words[#words + 1] = "-D" .. k .. "=" .. T.q(constants[k])
  end
  return table.concat(words, " ")
end

T.test("icinga2 daemon -C accepts the CheckCommands used by two services", function()
  if not has("icinga2") then T.skip("icinga2 is not installed (Debian package icinga2-bin)") end
  local config = tmp .. "/icinga2-check.conf"
  T.write(config, icinga_config(dist .. "/icinga2/memscript.conf"))
  local out, err, status = T.run(icinga_command(config, tmp .. "/icinga-check", true))
  T.eq(status, 0, "icinga2 daemon -C: " .. out .. err)
  T.contains(out, "Instantiated 2 Services.", "both services")
  T.contains(out, "Finished validating the configuration file(s).", "icinga2's verdict")
  -- the same check refuses an argument the CheckCommand does not have a place for
  T.write(config, icinga_config(dist .. "/icinga2/memscript.conf",
    'object Service "bad" {\n  host_name = "memscript-test"\n  check_command = "memscript-rulez"\n}\n'))
  out, err, status = T.run(icinga_command(config, tmp .. "/icinga-check", true))
  T.ok(status ~= 0, "an unknown CheckCommand is an error")
  T.contains(out .. err, "memscript-rulez", "icinga2 names it")
end)

-- Waits until check(text of path) is true, for at most seconds (against a hang only).
local function wait_for(path, check, seconds)
  local deadline = os.time() + seconds
  while os.time() <= deadline do
    local text = T.read_if(path) or ""
    if check(text) then return text end
    T.run("sleep 0.2")
  end
  return T.read_if(path) or ""
end

T.test("Nagios runs both commands: CRITICAL, naming the process with writable+executable memory", function()
  need_root()
  if not has("nagios4") then T.skip("nagios4 is not installed (Debian package nagios4-core)") end
  if not has("sudo") then T.skip("sudo is not installed") end
  local h = live.start()
  local dir = tmp .. "/nagios-run"
  T.sh("mkdir -p " .. T.q(dir .. "/spool"))
  local main, objects = nagios_objects(localized(dist .. "/nagios/memscript.cfg"), "check_memscript_rules!--rss 2G,4G")
  T.write(tmp .. "/objects.cfg", objects)
  T.write(dir .. "/nagios.cfg", main .. table.concat({
    "illegal_macro_output_chars=`~$&|'\"<>", "nagios_user=root", "nagios_group=root",
    "log_file=" .. dir .. "/nagios.log", "status_file=" .. dir .. "/status.dat", "status_update_interval=1",
    "state_retention_file=" .. dir .. "/retention.dat", "retain_state_information=0",
    "object_cache_file=" .. dir .. "/objects.cache", "precached_object_file=" .. dir .. "/objects.precache",
    "temp_file=" .. dir .. "/nagios.tmp", "temp_path=" .. dir, "lock_file=" .. dir .. "/nagios.lock",
    "check_result_path=" .. dir .. "/spool", "check_external_commands=0", "interval_length=1",
    "enable_notifications=0", "execute_host_checks=0", "max_service_check_spread=1", "use_syslog=0" }, "\n") .. "\n")
  local pid = tonumber(T.run("nagios4 " .. T.q(dir .. "/nagios.cfg") .. " >" .. T.q(dir .. "/out.txt") ..
    " 2>&1 & echo $!"):match("%d+"))
  local log = wait_for(dir .. "/nagios.log", function(text)
    return text:find(";memscript rules;") and text:find(";memscript wx;")
  end, 60)
  T.run("kill " .. pid .. "; sleep 0.5; kill -9 " .. pid .. " 2>/dev/null")
  live.stop(h)
  for _, service in ipairs({ "memscript rules", "memscript wx" }) do
    local state, output = log:match("SERVICE ALERT: localhost;" .. service .. ";(%u+);HARD;1;([^\n]*)")
    T.eq(state, "CRITICAL", service .. "'s state (log: " .. log .. (T.read_if(dir .. "/out.txt") or "") .. ")")
    T.contains(output, "writable+executable mapping in pid " .. h.pid, service .. "'s output")
  end
end)

T.test("Icinga 2 runs both CheckCommands: CRITICAL, naming the process with writable+executable memory", function()
  need_root()
  if not has("icinga2") then T.skip("icinga2 is not installed (Debian package icinga2-bin)") end
  if not has("sudo") then T.skip("sudo is not installed") end
  local h = live.start()
  local dir = tmp .. "/icinga-run"
  local config = tmp .. "/icinga2-run.conf"
  T.write(config, icinga_config(localized(dist .. "/icinga2/memscript.conf"), 'object CheckerComponent "checker" { }\n'))
  local pid = tonumber(T.run(icinga_command(config, dir, false) .. " -x notice >" .. T.q(tmp .. "/icinga.out") ..
    " 2>&1 & echo $!"):match("%d+"))
  local out = wait_for(tmp .. "/icinga.out", function(text)
    local _, finished = text:gsub("%) terminated with exit code %d+", "")
    return finished >= 2
  end, 60)
  -- the daemon writes the results into its state file when it stops
  T.run("kill " .. pid)
  wait_for(tmp .. "/icinga.out", function(text) return text:find("Icinga has shut down", 1, true) end, 30)
  T.run("kill -9 " .. pid .. " 2>/dev/null")
  live.stop(h)
  T.contains(out, "'" .. T.bin .. "' '--sandbox' '--timeout' '30' '" .. T.source .. "/scripts/rules.lua' '--rss' '1G,2G' 'all'",
    "the rules command line Icinga ran (its log: " .. out .. ")")
  local state = T.read(dir .. "/lib/icinga2.state")
  for _, service in ipairs({ "rules", "wx" }) do
    local object = state:match('"name":"memscript%-test!' .. service .. '".-\n') or
      state:match('[^\n]*memscript%-test!' .. service .. '[^\n]*')
    T.ok(object, service .. " in the state file")
    T.eq(object:match('"exit_status":(%d+)'), "2", service .. "'s exit status")
    T.contains(object, "writable+executable mapping in pid " .. h.pid, service .. "'s output")
  end
end)

T.test("the sudo rule in docs/monitoring.md parses and allows the commands of both definitions", function()
  if not has("visudo") then T.skip("sudo is not installed") end
  local doc = T.read(T.source .. "/docs/monitoring.md")
  local rule = doc:match("\n(nagios ALL=%(root%) NOPASSWD: [^\n]*)\n")
  T.ok(rule, "the rule in docs/monitoring.md")
  T.write(tmp .. "/sudoers", rule .. "\n")
  local out, err, status = T.run("visudo -c -f " .. T.q(tmp .. "/sudoers"))
  T.eq(status, 0, "visudo -c: " .. out .. err)
  local allowed = {}
  for command in rule:match("NOPASSWD: (.*)$"):gmatch("[^,]+") do
    allowed[#allowed + 1] = command:match("^%s*(.-) %*%s*$")
  end
  T.eq(#allowed, 2, "two commands, each with its script's arguments")
  local commands = {}
  for line in T.read(dist .. "/nagios/memscript.cfg"):gmatch("command_line%s+([^\n]+)") do commands[#commands + 1] = line end
  local icinga = T.read(dist .. "/icinga2/memscript.conf")
  for command in icinga:gmatch("command = %[(.-)%]") do
    local words = {}
    for word in command:gmatch('"([^"]*)"') do words[#words + 1] = word end
    commands[#commands + 1] = table.concat(words, " ")
  end
  T.eq(#commands, 4, "two Nagios commands and two CheckCommands")
  for _, command in ipairs(commands) do
    local through = command:match("^/usr/bin/sudo %-n (.*)$")
    T.ok(through, "runs through sudo -n: " .. command)
    local covered = false
    for _, prefix in ipairs(allowed) do
      if through == prefix or through:sub(1, #prefix + 1) == prefix .. " " then covered = true end
    end
    T.ok(covered, "the rule allows " .. through)
  end
end)

T.test("without the sudo rule a check fails at once with sudo's message, status 1", function()
  need_root()
  if not has("sudo") then T.skip("sudo is not installed") end
  local line = T.read(dist .. "/nagios/memscript.cfg"):match("command_name%s+check_memscript_wx%s+command_line%s+([^\n]+)")
  local out, err, status = T.run("cd / && setpriv --reuid=nobody --regid=nogroup --clear-groups timeout 30 " .. line)
  T.eq({ out, status }, { "", 1 }, "stdout and status")
  T.contains(err, "sudo: a password is required", "sudo's message")
end)

T.done()
