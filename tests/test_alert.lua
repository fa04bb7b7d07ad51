-- memscript.alert: exit statuses, the Monitoring Plugins status line, perfdata, detail lines and JSON.

local T = require "testing"
local cjson = require "cjson"

local function memscript(args, stdin)
  return T.memscript(nil, args, { stdin = stdin })
end

-- Runs Lua code (after `local alert = require "memscript.alert"`) with memscript options before it.
local function with_alert(code, options)
  return memscript((options or "") .. " -e " .. T.q('local alert = require "memscript.alert" ' .. code))
end

local tmp, tmp_cleanup <close> = T.tempdir()

T.test("each severity sets its exit status: none 0, warning 1, critical 2, unknown 3", function()
  local cases = {
    { "", 0 }, { 'alert.warning("w")', 1 }, { 'alert.critical("c")', 2 }, { 'alert.unknown("u")', 3 },
    { 'alert.ok("fine")', 0 },
  }
  for _, case in ipairs(cases) do
    local _, err, status = with_alert(case[1])
    T.eq(status, case[2], "status of " .. (case[1] ~= "" and case[1] or "no alert") .. " (stderr " .. err .. ")")
  end
end)

T.test("the highest severity wins, whatever the order the alerts were raised in", function()
  local out, _, status = with_alert('alert.critical("c") alert.warning("w") alert.unknown("u") alert.warning("w")')
  T.eq(status, 3, "status")
  T.eq(out, "MEMSCRIPT UNKNOWN - 1 u (also 1 CRITICAL, 2 WARNING)\n" ..
            "UNKNOWN: u\nCRITICAL: c\nWARNING: w\nWARNING: w\n", "stdout")
end)

T.test("a script error exits 3 and prints no alert output", function()
  local out, err, status = with_alert('alert.critical("c") error("broken")')
  T.eq(status, 3, "status")
  T.eq(out, "", "stdout")
  T.contains(err, "broken", "stderr")
end)

T.test("a run that raises nothing prints nothing extra", function()
  local out, err, status = with_alert('alert.perfdata("n", 3) print("plain")')
  T.eq({ out, err, status }, { "plain\n", "", 0 }, "stdout, stderr, status")
end)

T.test("alert.ok prints the OK status line when no alert was raised", function()
  local out, _, status = with_alert('alert.ok("240 processes checked", { n = alert.perf(240, "", { min = 0 }) })')
  T.eq({ out, status }, { "MEMSCRIPT OK - 240 processes checked | 'n'=240;;;0\n", 0 }, "stdout and status")
  out = with_alert('alert.ok("fine") alert.warning("bad")')
  T.eq(out, "MEMSCRIPT WARNING - 1 bad\nWARNING: bad\n", "an alert replaces the OK line")
end)

T.test("the status line counts the alerts of the highest severity by message", function()
  local out, _, status = with_alert(
    'alert.critical("writable+executable mapping in pid 1234", { pid = 1234, perms = "rwxp", address = "7f00" }) ' ..
    'alert.critical("writable+executable mapping in pid 1234", { pid = 1234, perms = "rwxp", address = "7f40" }) ' ..
    'alert.critical("executable stack in pid 99", { pid = 99 }) alert.warning("deleted file in pid 5")')
  T.eq(status, 2, "status")
  T.same_text(out, table.concat({
    "MEMSCRIPT CRITICAL - 2 writable+executable mapping in pid 1234, 1 executable stack in pid 99 (also 1 WARNING)",
    "CRITICAL: writable+executable mapping in pid 1234 (address=7f00 perms=rwxp pid=1234)",
    "CRITICAL: writable+executable mapping in pid 1234 (address=7f40 perms=rwxp pid=1234)",
    "CRITICAL: executable stack in pid 99 (pid=99)",
    "WARNING: deleted file in pid 5",
    "" }, "\n"), "stdout")
end)

T.test("the status line names three messages and counts the rest", function()
  local out = with_alert('for i = 1, 5 do alert.warning("m" .. i) end alert.warning("m5")')
  T.eq(out:match("^[^\n]*"), "MEMSCRIPT WARNING - 1 m1, 1 m2, 1 m3, and 3 more", "status line")
end)

T.test("detail lines stop at alert.max_details and count the rest", function()
  local out = with_alert('alert.max_details = 2 for i = 1, 5 do alert.warning("same") end')
  T.eq(out, "MEMSCRIPT WARNING - 5 same\nWARNING: same\nWARNING: same\n... and 3 more\n", "stdout")
end)

T.test("field values with blanks, quotes or parentheses are quoted; | never appears, line breaks are escaped", function()
  local out = with_alert([[alert.warning("a|b\nc", { path = "/x y/(z)", q = 'say "hi"', empty = "", flag = true, n = 1.5 })]])
  T.same_text(out, "MEMSCRIPT WARNING - 1 a\194\166b\\nc\n" ..
    [[WARNING: a¦b\nc (empty="" flag=true n=1.5 path="/x y/(z)" q="say \"hi\"")]] .. "\n", "stdout")
end)

T.test("perfdata: 'label'=value[UOM];warn;crit;min;max with trailing empty fields dropped", function()
  local out = with_alert(
    'alert.perfdata("rss", 1957888, "B", { warn = 1048576, crit = 2097152, min = 0, max = 4194304 }) ' ..
    'alert.perfdata("count", 3) alert.perfdata("warn only", 7, "", { warn = 5 }) ' ..
    'alert.perfdata("range", 4, "%", { crit = "@10:20" }) alert.perfdata("ratio", 0.25, "", { min = 0, max = 1 }) ' ..
    'alert.ok("fine")')
  T.eq(out, "MEMSCRIPT OK - fine | 'rss'=1957888B;1048576;2097152;0;4194304 'count'=3 'warn only'=7;5 " ..
            "'range'=4%;;@10:20 'ratio'=0.25;;;0;1\n", "stdout")
end)

T.test("perfdata numbers are plain decimals in [-0-9.]: no exponent (the shortest that reads back); U when not finite", function()
  local out = with_alert('alert.perfdata("big", 2^70) alert.perfdata("small", 1.5e-7) alert.perfdata("neg", -2.5e-3) ' ..
    'alert.perfdata("int", math.maxinteger) alert.perfdata("nan", 0/0) alert.perfdata("inf", 1/0) alert.ok("x")')
  T.eq(out, "MEMSCRIPT OK - x | 'big'=1180591620717411300000 'small'=0.00000015 'neg'=-0.0025 " ..
            "'int'=9223372036854775807 'nan'=U 'inf'=U\n", "stdout")
end)

T.test("a label set again takes the new value in its first place; alert.perf fields are perfdata by name", function()
  local out = with_alert('alert.perfdata("a", 1) alert.perfdata("b", 2) alert.perfdata("a", 3) ' ..
    'alert.warning("big", { rss = alert.perf(5, "B", { warn = 4 }), pid = 7 })')
  T.eq(out, "MEMSCRIPT WARNING - 1 big | 'a'=3 'b'=2 'rss'=5B;4\nWARNING: big (pid=7 rss=5B)\n", "stdout")
end)

T.test("bad perfdata and fields are errors in the calling script, naming what is wrong", function()
  local cases = {
    { 'alert.perfdata("a=b", 1)', "perfdata label 'a=b' holds one of = ' | or a line break" },
    { "alert.perfdata(\"it's\", 1)", "perfdata label 'it's' holds one of = '" },
    { 'alert.perfdata("x", 1, "kB")', "unknown unit 'kB'" },
    { 'alert.perfdata("x", "1")', "perfdata value must be a number (got string)" },
    { 'alert.perfdata("x", 1, "", { warn = "ten" })', "warn must be a number or a range" },
    { 'alert.perfdata("x", 1, "", { min = 0/0 })', "min must be a finite number" },
    { 'alert.warning("x", { f = {} })', "field 'f' must be a string, number, boolean or alert.perf value (got table)" },
    { 'alert.warning(42)', "bad argument #1 to 'warning' (message string expected, got number)" },
  }
  for _, case in ipairs(cases) do
    local out, err, status = with_alert(case[1])
    T.eq({ out, status }, { "", 3 }, case[1])
    T.contains(err, "(command line):1: " .. case[2], "stderr of " .. case[1])
  end
end)

T.test("-f json prints one JSON object: status, code, summary, alerts, perfdata", function()
  local out, _, status = with_alert(
    'alert.critical("wx in pid 1", { pid = 1, perms = "rwxp", big = 1 << 62, rss = alert.perf(4096, "B", { crit = 1024 }) }) ' ..
    'alert.warning("w|x") alert.perfdata("nan", 0/0)', "-f json")
  T.eq(status, 2, "status")
  T.eq(select(2, out:gsub("\n", "")), 1, "one line")
  T.eq(out:sub(1, 40), '{"status":"CRITICAL","code":2,"summary":', "members in order")
  local doc = cjson.decode(out)
  T.eq(doc.summary, "1 wx in pid 1 (also 1 WARNING)", "summary")
  T.eq(doc.status, "CRITICAL", "status")
  T.ok(doc.code == 2, "code")
  T.eq(#doc.alerts, 2, "alerts")
  T.eq(doc.alerts[1].status, "CRITICAL", "first alert's status")
  T.eq(doc.alerts[1].message, "wx in pid 1", "first alert's message")
  T.eq(doc.alerts[1].fields.perms, "rwxp", "a string field")
  T.ok(doc.alerts[1].fields.rss == 4096, "a perf field is its number")
  T.contains(out, '"big":4611686018427387904', "integers above 2^53 exact")
  T.eq(doc.alerts[2].message, "w|x", "text unchanged in JSON")
  T.eq(#doc.perfdata, 2, "perfdata entries")
  T.eq(doc.perfdata[1].label, "rss", "perfdata label")
  T.eq(doc.perfdata[1].uom, "B", "perfdata unit")
  T.ok(doc.perfdata[1].crit == 1024, "perfdata threshold")
  T.eq(doc.perfdata[2].value, cjson.null, "NaN is null")
end)

T.test("-f json with only alert.ok gives an empty alerts array", function()
  local out, _, status = with_alert('alert.ok("fine")', "-f json")
  T.eq({ out, status }, { '{"status":"OK","code":0,"summary":"fine","alerts":[],"perfdata":[]}\n', 0 }, "stdout")
end)

T.test("-f csv prints status,message,fields: one row per alert in the order raised, the exit status kept", function()
  local out, err, status = with_alert(
    'alert.warning("RSS above 64K, 1M or 2M in pid 7", { pid = 7, comm = "say \\"hi\\", then", rss = alert.perf(4096, "B") }) ' ..
    'alert.critical("wx\\nin pid 8", { pid = 8 }) alert.warning("bare") alert.perfdata("processes", 2)', "-f csv")
  T.eq({ err, status }, { "", 2 }, "stderr and status")
  T.eq(out:match("^[^\r\n]*\r\n"), "status,message,fields\r\n", "header line")
  T.eq(T.csv(out), {
    { "status", "message", "fields" },
    { "WARNING", "RSS above 64K, 1M or 2M in pid 7", 'comm="say \\"hi\\", then" pid=7 rss=4096B' },
    { "CRITICAL", "wx\nin pid 8", "pid=8" },
    { "WARNING", "bare", "" },
  }, "rows")
end)

T.test("-f csv with only alert.ok prints the OK line as one row; nothing raised prints nothing", function()
  local out, err, status = with_alert('alert.ok("2 processes, all fine") alert.perfdata("processes", 2)', "-f csv")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  T.eq(T.csv(out), { { "status", "message", "fields" }, { "OK", "2 processes, all fine", "" } }, "rows")
  out, err, status = with_alert("", "-f csv")
  T.eq({ out, err, status }, { "", "", 0 }, "no alert and no alert.ok")
  out = with_alert('alert.unknown("u", { why = "gone" }) io.write(alert.render("csv")) alert.clear()')
  T.eq(out, "status,message,fields\r\nUNKNOWN,u,why=gone\r\n", "alert.render(\"csv\") in another format")
end)

T.test("-f prom writes the alert output on stderr, keeping stdout for metrics", function()
  local out, err, status = with_alert('alert.warning("w") print("metric_line 1")', "-f prom")
  T.eq({ out, err, status }, { "metric_line 1\n", "MEMSCRIPT WARNING - 1 w\nWARNING: w\n", 1 }, "stdout, stderr, status")
end)

T.test("os.exit() prints the alerts and exits with the status raised; os.exit(n) keeps n", function()
  local out, _, status = with_alert('alert.warning("w") os.exit()')
  T.eq({ out, status }, { "MEMSCRIPT WARNING - 1 w\nWARNING: w\n", 1 }, "os.exit()")
  out, _, status = with_alert('alert.critical("c") os.exit(0)')
  T.eq({ out, status }, { "MEMSCRIPT CRITICAL - 1 c\nCRITICAL: c\n", 0 }, "os.exit(0)")
end)

T.test("in watch mode each run prints its own alerts; the exit status is the highest of all runs", function()
  local code = 'local sys = require "memscript.sys" ' ..
    'if sys.iteration == 1 then alert.critical("first") elseif sys.iteration == 2 then alert.ok("second") end'
  local out, _, status = with_alert(code, "--interval 0.01 --count 3")
  T.eq({ out, status }, { "MEMSCRIPT CRITICAL - 1 first\nCRITICAL: first\nMEMSCRIPT OK - second\n", 2 }, "stdout and status")
end)

T.test("-o puts the alert output in the file, and in watch mode each run's file has its own", function()
  local path = tmp .. "/check.txt"
  local out, _, status = with_alert('alert.warning("w")', "-o " .. T.q(path))
  T.eq({ out, status }, { "", 1 }, "stdout and status")
  T.eq(T.read(path), "MEMSCRIPT WARNING - 1 w\nWARNING: w\n", "file")
  with_alert('alert.ok("run " .. require("memscript.sys").iteration)', "--interval 0.01 --count 2 -o " .. T.q(path))
  T.eq(T.read(path), "MEMSCRIPT OK - run 2\n", "file after watching")
end)

T.test("alert.thresholds reads WARN[,CRIT] sizes and refuses what is not that", function()
  local alert = require "memscript.alert"
  T.eq(alert.thresholds("64M,1G"), { warn = 64 << 20, crit = 1 << 30, warn_text = "64M", crit_text = "1G" }, "both")
  T.eq(alert.thresholds("1.5k"), { warn = 1536, warn_text = "1.5k" }, "warning only")
  T.eq(alert.thresholds(",512 kB"), { crit = 512 << 10, crit_text = "512 kB" }, "critical only")
  T.eq(alert.thresholds("1M,1M"), { warn = 1 << 20, crit = 1 << 20, warn_text = "1M", crit_text = "1M" }, "equal")
  local cases = {
    { "", "WARN[,CRIT] sizes expected, got ''" },
    { ",", "WARN[,CRIT] sizes expected, got ','" },
    { "1M,2M,3M", "WARN[,CRIT] sizes expected, got '1M,2M,3M'" },
    { "lots", "invalid size 'lots' (expected a number with an optional unit: 4k, 10M, 1.5G, 512 kB)" },
    { "99999999P", "size '99999999P' is too large (2^63 bytes, 8E, or more)" },
    { "2M,1M", "the critical size 1M is below the warning size 2M" },
  }
  for _, case in ipairs(cases) do
    T.eq({ alert.thresholds(case[1]) }, { nil, case[2] }, "'" .. case[1] .. "'")
  end
  T.eq({ alert.thresholds(nil) }, { nil, "WARN[,CRIT] sizes expected, got 'nil'" }, "nil")
end)

T.test("alert.render and alert.status show what is pending without printing it", function()
  local out = with_alert('alert.warning("w", { n = 1 }) local text = alert.render("table") ' ..
    'io.write(alert.status(), "|", text) alert.clear() alert.ok("cleared")')
  T.eq(out, "1|MEMSCRIPT WARNING - 1 w\nWARNING: w (n=1)\nMEMSCRIPT OK - cleared\n", "stdout")
end)

T.done()
