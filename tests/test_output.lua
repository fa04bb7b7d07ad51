-- memscript.output and memscript.units: JSON that is always valid (UTF-8, no infinity or NaN), human
-- sizes of any finite number, and the scripts that print rows refusing -f prom before any work.

local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"
local output = require "memscript.output"
local units = require "memscript.units"

local format = string.format

local FFFD = "\u{FFFD}"

-- True when text is valid UTF-8 (surrogates and overlong forms refused).
local function is_utf8(text)
  return utf8.len(text) ~= nil
end

-- Runs Lua code under memscript with options before it; returns stdout, stderr, status.
local function run_code(options, code)
  return T.memscript(nil, options .. " -e " .. T.q(code))
end

T.test("output.valid_utf8: each byte outside valid UTF-8 becomes U+FFFD, valid UTF-8 is unchanged", function()
  local valid = "plain, caf\u{E9}, \u{2139}, \u{1D11E}"
  T.eq(output.valid_utf8(valid), valid, "valid UTF-8")
  T.eq(output.valid_utf8("bad\xff\xfename"), "bad" .. FFFD .. FFFD .. "name", "\\xff\\xfe")
  T.eq(output.valid_utf8("cut \xe2\x84"), "cut " .. FFFD .. FFFD, "a character cut short")
  T.eq(output.valid_utf8("\xc0\xaf"), FFFD .. FFFD, "an overlong '/'")
  T.eq(output.valid_utf8("\xed\xa0\x80!"), FFFD .. FFFD .. FFFD .. "!", "a UTF-16 surrogate")
  -- the Prometheus text format uses the same function
  local metric = require "memscript.metric"
  metric.clear()
  metric.gauge("memscript_test_bytes", 1, { command = "x\xff\xfey" }, "help \xff")
  T.eq(metric.render(), "# HELP memscript_test_bytes help " .. FFFD .. "\n# TYPE memscript_test_bytes gauge\n" ..
       'memscript_test_bytes{command="x' .. FFFD .. FFFD .. 'y"} 1\n', "metric text")
  metric.clear()
end)

T.test("output.json_encode: invalid UTF-8 in values and keys becomes U+FFFD; valid text is kept", function()
  local text = output.json_encode({ path = "/tmp/x/bad\xff\xfename", ["key\xff\xfe"] = "caf\u{E9} \u{1D11E}",
    list = { "ok", "\xfe" } })
  T.ok(is_utf8(text), "valid UTF-8: " .. text)
  T.eq(cjson.decode(text), { path = "/tmp/x/bad" .. FFFD .. FFFD .. "name",
    ["key" .. FFFD .. FFFD] = "caf\u{E9} \u{1D11E}", list = { "ok", FFFD } }, "decoded")
  T.eq(output.json_encode("\u{2139} info"), '"\u{2139} info"', "valid multi-byte text unchanged")
end)

T.test("output.print -f json: invalid UTF-8 in cells and column names becomes U+FFFD", function()
  local out, err, status = run_code("-f json", [[
    local output = require "memscript.output"
    output.print({ { path = "/tmp/x/bad\xff\xfename", command = "caf\u{E9} \xff\xfe" } },
      { { "Path", "path" }, { "Command", "command", json = "cmd\xff" } })]])
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  T.ok(is_utf8(out), "valid UTF-8: " .. out)
  T.eq(cjson.decode(out), { { path = "/tmp/x/bad" .. FFFD .. FFFD .. "name",
    ["cmd" .. FFFD] = "caf\u{E9} " .. FFFD .. FFFD } }, "decoded")
end)

T.test("JSON has no infinity or NaN: json_encode and print -f json write null", function()
  T.eq(output.json_encode(math.huge), "null", "math.huge")
  T.eq(output.json_encode(-math.huge), "null", "-math.huge")
  T.eq(output.json_encode(0 / 0), "null", "NaN")
  T.eq(output.json_encode({ 1.5, math.huge, 1 << 60, -(2 ^ 60), 0 / 0 }),
       "[1.5,null,1152921504606846976,-1.152921504606847e+18,null]", "in an array, big numbers still exact")
  local out, err, status = run_code("-f json", [[
    local output = require "memscript.output"
    output.print({ { a = math.huge, b = 0 / 0, c = -math.huge, d = 2.5 } },
      { { "A", "a", kind = "bytes" }, { "B", "b", kind = "number" }, { "C", "c" }, { "D", "d" } })]])
  T.eq({ out, err, status }, { '[{"a":null,"b":null,"c":null,"d":2.5}]\n', "", 0 }, "print")
end)

T.test("units.digits writes integers and floats past 2^63 in full; units.plural adds the word for the count", function()
  T.eq(units.digits(0), "0", "0")
  T.eq(units.digits(math.maxinteger), "9223372036854775807", "the largest integer")
  T.eq(units.digits(2.0^64), "18446744073709551616", "2^64, a float, in full")
  T.eq({units.plural(1, "process", "processes"), units.plural(2, "process", "processes"), units.plural(0, "page")},
       {"1 process", "2 processes", "0 pages"}, "plurals")
end)

T.test("units.format takes any finite number; integers print as before", function()
  local cases = {
    { 0, "0B" }, { 100, "100B" }, { 1023, "1023B" }, { -1023, "-1023B" }, { 1024, "1.0K" },
    { 1536, "1.5K" }, { 1048575, "1.0M" }, { 10481664, "10M" }, { 3 << 30, "3.0G" },
    { 100.0, "100B" }, { 1023.4, "1023B" }, { 1023.5, "1.0K" }, { -1023.5, "-1.0K" }, { 0.4, "0B" },
    { 0.5, "1B" }, { 2.5 * 1024, "2.5K" }, { 1536.75, "1.5K" }, { 1e12 + 0.5, "931G" },
  }
  for _, case in ipairs(cases) do
    T.eq(units.format(case[1]), case[2], format("units.format(%s)", tostring(case[1])))
  end
  T.eq(units.format(nil), "-", "nil")
end)

T.test("scripts that print rows refuse -f prom before any work: exit 3, the usage, nothing on stdout", function()
  local fixtures = T.fixtures .. "/helper-capture/proc"
  local cases = {
    { "top.lua", "--proc-root " .. T.q(fixtures) .. " -f prom top.lua" },
    { "status.lua", "-f prom status.lua self" },
    { "query.lua", "-f prom query.lua self 'Size > 0'" },
    { "flags.lua", "-f prom flags.lua self" },
    { "diff.lua", "-f prom diff.lua live live" },
    -- would sample for 100 minutes if it started
    { "leak.lua", "-f prom leak.lua --interval 60 --count 100 self" },
    { "report.lua", "-f prom report.lua self" },
    { "rules.lua --list", "-f prom rules.lua --list" },
  }
  for _, case in ipairs(cases) do
    local out, err, status = T.memscript(nil, case[2], { prefix = "timeout 120" })   -- against a hang only
    T.eq({ out, status }, { "", 3 }, case[1] .. ": stdout and status (stderr " .. err .. ")")
    local name = case[1]:match("^%S+")
    -- the hierarchical views write folded stacks as well
    local formats = (name == "top.lua" or name == "report.lua") and "a table, JSON, CSV or folded stacks" or
      "a table, JSON or CSV"
    local expected = format("memscript: %s prints %s, not 'prom'\nusage: memscript %s", case[1], formats, name)
    T.eq(err:sub(1, #expected), expected, case[1] .. ": stderr")
  end
end)

T.test("with -f prom a check still runs (its output on stderr) and exporter.lua writes metrics", function()
  local out, err, status = T.memscript(nil, "-f prom rules.lua self")
  T.eq({ out, status }, { "", 0 }, "rules.lua: stdout and status")
  T.ok(err:find("^MEMSCRIPT OK %- ") ~= nil, "rules.lua stderr: " .. err)
  out, err, status = T.memscript(nil, "-f prom exporter.lua self")
  T.eq({ err, status }, { "", 0 }, "exporter.lua: stderr and status")
  T.ok(out:find("\n# TYPE memscript_process_rss_bytes gauge\n", 1, true) ~= nil, "exporter.lua stdout: " .. out)
end)

T.test("a mapped file and a command line that are not UTF-8 give valid JSON", function()
  local h <close> = setmetatable(live.start({ "--", "x\xff\xfey", "caf\u{E9}" }),
    { __close = function(h) live.stop(h) end })
  local out, err, status = T.memscript(nil, format("-f json query.lua %d 'Size > 0'", h.pid))
  T.eq({ err, status }, { "", 0 }, "query.lua: stderr and status")
  T.ok(is_utf8(out), "query.lua: valid UTF-8")
  local paths = {}
  for _, m in ipairs(cjson.decode(out)) do paths[m.path] = true end
  local odd = h.dir .. "/odd-\u{E9}-" .. FFFD .. ".bin"
  T.ok(paths[odd], "query.lua: the file named odd-\\xc3\\xa9-\\xff.bin as " .. odd)

  out, err, status = T.memscript(nil, format("-f json top.lua -p %d", h.pid))
  T.eq({ err, status }, { "", 0 }, "top.lua: stderr and status")
  T.ok(is_utf8(out), "top.lua: valid UTF-8")
  local rows = cjson.decode(out)
  T.eq(#rows, 1, "top.lua: one row")
  T.eq(rows[1].command, T.helper .. " -- x" .. FFFD .. FFFD .. "y caf\u{E9}", "top.lua: command")
end)

T.done()
