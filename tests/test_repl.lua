-- The interactive session on a pseudo-terminal (tests/helper/ptydrive), help() and the pretty-printer.
--
-- A session is a ptydrive script: "expect TEXT" waits for output, "raw" waits until libedit reads
-- keys (it prints the prompt before it switches the terminal, so keys sent earlier would be echoed
-- twice), "send TEXT" types. Expected texts are chosen so that they never appear in the echo of what
-- was typed: `="ok" .. "ay"` is checked by "okay".

local T = require "testing"

local format, concat = string.format, table.concat

local ptydrive = T.build .. "/tests/ptydrive"
-- The helper program captured by capture.lua (tests/fixtures/helper-capture): process 1848.
local capture = T.fixtures .. "/helper-capture/proc"

local tmp, tmp_cleanup <close> = T.tempdir()

-- Steps of a session. line(text): wait for the prompt's key reading, type text and Enter.
local function line(text) return "raw\nsend " .. text .. "\\r" end
local function keys(text) return "raw\nsend " .. text end
local function expect(text) return "expect " .. text end

-- Runs memscript on a terminal through the steps; HOME and XDG_STATE_HOME point into state_dir so
-- no ~/.editrc or real history is read. Returns the transcript, ptydrive's stderr and exit status.
local function session(steps, state_dir, args)
  state_dir = state_dir or (tmp .. "/state-default")
  local cmd = format("%s -t 10 -s 80x24 -- env TERM=xterm HOME=%s XDG_STATE_HOME=%s %s %s",
    T.q(ptydrive), T.q(tmp), T.q(state_dir), T.memscript_command(), args or "")
  return T.run(cmd, concat(steps, "\n") .. "\n")
end

-- Fails with the transcript when the session did not end as expected.
local function check(out, err, status, want_status)
  if status ~= (want_status or 0) then
    error(format("session ended with status %s: %s\ntranscript:\n%s", tostring(status), err, out), 2)
  end
end

T.test("ptydrive is built", function()
  T.ok(T.read_if(ptydrive) ~= nil, ptydrive .. " exists (tests/CMakeLists.txt builds it)")
end)

T.test("an expression prints its value, =expr too, and Ctrl-D ends the session with status 0", function()
  local out, err, status = session({
    expect("> "), line("40 + 1 + 1"), expect("42"),
    expect("> "), line("=1 << 10"), expect("1024"),
    expect("> "), line('"ok" .. "ay", 6 * 7 + 0.5'), expect("okay\t42.5"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
end)

T.test("a multi-line function continues on the >> prompt", function()
  local out, err, status = session({
    expect("> "), line("function twice(x)"), expect(">> "),
    line("local doubled = x * 2"), expect(">> "),
    line("return doubled end"), expect("> "),
    line("=twice(617)"), expect("1234"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
  T.ok(not out:find("error", 1, true), "no error in:\n" .. out)
end)

T.test("an error is reported and the next line runs", function()
  local out, err, status = session({
    expect("> "), line('error("bo" .. "om")'), expect("stdin:1: boom"),
    expect("> "), line("=nil + 1"), expect("attempt to perform arithmetic on a nil value"),
    expect("> "), line("=1 << 11"), expect("2048"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
end)

T.test("Tab completes globals, fields and methods", function()
  local out, err, status = session({
    expect("> "), keys("proc.sm\\t"), expect("aps"),   -- the shared prefix: proc.smaps
    keys("\\t"), expect("proc.smaps_rollup"),          -- a second Tab lists both
    keys("\\x15"),                                      -- Ctrl-U clears the line
    line("=type(proc.smaps_ro\\t)"), expect("function"),
    expect("> "), line("=type(pro\\t)"), expect("table"),
    expect("> "), line('cm = proc.maps("self")'),
    expect("> "), keys("cm:s\\t"), expect("cm:summarize"),
    keys("\\x15"),
    line('=cm:fil\\t(function() return 1 end):count() == #cm and "all" .. "kept"'), expect("allkept"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
  local listed
  for l in out:gmatch("[^\n]+") do
    if l:match("^proc%.smaps +proc%.smaps_rollup +proc%.smaps_sums$") then listed = l end
  end
  T.ok(listed, "proc.smaps, proc.smaps_rollup and proc.smaps_sums listed on one line in:\n" .. out)
  T.contains(out, "cm:sort", "collection methods listed")
  T.contains(out, "cm:sum ", "collection methods listed")
end)

T.test("Ctrl-C interrupts a running chunk, every time, and Ctrl-C at a prompt clears the line", function()
  local out, err, status = session({
    expect("> "), line('print("spin" .. "ning") while true do end'), expect("spinning"),
    "send \\x03", expect("interrupted!"),
    expect("> "), line('print("again" .. "spinning") while true do end'), expect("againspinning"),
    "send \\x03", expect("interrupted!"),
    expect("> "), keys("junk"), expect("junk"), "send \\x03",
    expect("> "), line("=1 << 12"), expect("4096"),
    expect("> "), line("function never("), expect(">> "), "raw", "send \\x03",
    expect("> "), line("=1 << 13"), expect("8192"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
  T.ok(not out:find("junk=", 1, true) and not out:find("syntax", 1, true),
    "the interrupted input was dropped:\n" .. out)
end)

T.test("history is kept across sessions in $XDG_STATE_HOME/memscript/history", function()
  local state = tmp .. "/state-history"
  local out, err, status = session({
    expect("> "), line("=7 * 191"), expect("1337"),
    expect("> "), line("function h()"), expect(">> "), line("return 99 end"),
    expect("> "), keys("\\x04"), "wait",
  }, state)
  check(out, err, status, 0)
  local file = T.read_if(state .. "/memscript/history")
  T.ok(file, "the history file was created")
  T.eq(file, "_HiStOrY_V2_\n=7\\040*\\040191\nfunction\\040h()\\012return\\04099\\040end\n", "history file")

  -- Ctrl-P recalls the last entry (the two-line function), then the one before it.
  out, err, status = session({
    expect("> "), keys("\\x10\\r"), expect("> "),
    line("=h() + 1"), expect("100"),
    expect("> "), keys("\\x10\\x10\\x10\\r"), expect("1337"),
    expect("> "), keys("\\x04"), "wait",
  }, state)
  check(out, err, status, 0)
end)

T.test("the history file is capped at 1000 entries, the newest kept", function()
  local state = tmp .. "/state-cap"
  T.run("mkdir -p " .. T.q(state .. "/memscript"))
  local lines = { "_HiStOrY_V2_" }
  for i = 1, 1500 do lines[#lines + 1] = "=" .. i end
  T.write(state .. "/memscript/history", concat(lines, "\n") .. "\n")
  local out, err, status = session({
    expect("> "), keys("\\x10\\r"), expect("1500"),
    expect("> "), keys("\\x04"), "wait",
  }, state)
  check(out, err, status, 0)
  local file = T.read_if(state .. "/memscript/history")
  local entries = {}
  for l in file:gmatch("[^\n]+") do entries[#entries + 1] = l end
  T.eq(#entries, 1001, "header and 1000 entries")
  T.eq(entries[2], "=501", "oldest kept")
  T.eq(entries[1001], "=1500", "newest")
end)

-- The first paragraph of a section of docs/api.md, read from the source tree.
local function api_section_start(heading)
  local api = assert(T.read_if(T.source .. "/docs/api.md"))
  local body = api:match("\n### `" .. heading:gsub("%p", "%%%0") .. "`\n\n([^\n]+)")
  assert(body, "docs/api.md has a section " .. heading)
  return body
end

T.test("help(proc.smaps) shows the proc.smaps section of docs/api.md", function()
  local first = api_section_start("proc.smaps(pid)")
  local out, err, status = session({
    expect("> "), line("help(proc.smaps)"), expect(first),
    expect("> "), line('help("proc.smaps_rollup")'), expect(api_section_start("proc.smaps_rollup(pid)")),
    expect("> "), line("help()"), expect("mappings:filter(test)"),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
end)

-- Runs a chunk with -e and returns its stdout; stderr must be empty and the status 0.
local function run(code, args)
  local out, err, status = T.run(format("%s %s -e %s", T.memscript_command(), args or "", T.q(code)))
  if err ~= "" or status ~= 0 then error(format("status %s: %s", tostring(status), err), 2) end
  return out
end

T.test("help finds sections by value and by name, and says when there are none", function()
  local help = 'local help = require("memscript.help") '
  T.eq(run(help .. 'print(help.name_of(proc.smaps), help.name_of(proc.smaps("self").filter))'),
    "proc.smaps\tmappings:filter\n", "names of values")
  T.eq(run(help .. 'print(help.name_of(require("memscript.units").format), help.name_of(where))'),
    "units.format\twhere\n", "module functions and the where global")
  local out = run(help .. "help.help(require('memscript.units').format)")
  T.contains(out, "units.format(bytes)\n\n" .. api_section_start("units.format(bytes)"), "units.format")
  -- the section ends at the next heading: proc.smaps's text does not run into proc.smaps_rollup's
  out = run(help .. "help.help(proc.smaps)")
  T.ok(not out:find(api_section_start("proc.smaps_rollup(pid)"), 1, true), "stops at the next heading")
  T.eq(run(help .. "help.help('no.such.thing')"), "no documentation for no.such.thing\n", "unknown name")
  T.contains(run(help .. "help.help(string.format)"), "no documentation for string.format here: it is part of Lua 5.4",
    "Lua's own functions")
  T.eq(run('print(require("memscript.doc.api") == io.open(os.getenv("MEMSCRIPT_SOURCE") .. "/docs/api.md"):read("a"))'),
    "true\n", "memscript.doc.api is docs/api.md")
end)

T.test("pretty-printer: nested tables indented with sorted keys, a depth limit and cycles", function()
  local pretty = 'local pretty = require("memscript.pretty") '
  T.same_text(run(pretty .. [[
pretty.print({ 3, 4, zeta = true, alpha = { "x", { deep = { deeper = { deepest = 1 } } } },
               [10] = "ten", ["two words"] = 2.5, long = string.rep("y", 70) }, { depth = 3 })]]), [[
{
  3,
  4,
  [10] = "ten",
  alpha = { "x", { deep = {...} } },
  long = "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
  ["two words"] = 2.5,
  zeta = true,
}
]], "nested table")
  T.same_text(run(pretty .. [[
local t = { name = "loop" }
t.self = t
t.child = { parent = t, list = { 1, 2 } }
pretty.print(t)]]), [[
{ child = { list = { 1, 2 }, parent = <cycle> }, name = "loop", self = <cycle> }
]], "cycles")
  T.same_text(run(pretty .. [[
local shared = { 1 }
print(pretty.format({ a = shared, b = shared, s = "line\nbreak" }))
print(pretty.format("as print shows it"))
print(pretty.format({}), pretty.format(math.maxinteger), pretty.format(0.5))]]), [[
{ a = { 1 }, b = { 1 }, s = "line\nbreak" }
as print shows it
{}	9223372036854775807	0.5
]], "shared tables, strings, scalars")
end)

T.test("pretty-printer: an smaps mapping shows size, which its layout gives, as proc.maps's holds it", function()
  local out = run([[
local pretty = require("memscript.pretty")
local s, m = proc.smaps(1848)[2], proc.maps(1848)[2]
local shown = pretty.format(s)
print(rawget(s, "size"), shown:match("\n  size = (%d+),"), pretty.format(m):match(" size = (%d+),"))
-- a table that looks like a mapping, whose own __index fails: printed raw, no error
local fake = setmetatable({ vm_start = 1, perms = "r--p", path = "" }, { __index = function() error("no") end })
print(pretty.format(fake))]], "--proc-root " .. T.q(capture))
  T.eq(out, "nil\t507904\t507904\n{ path = \"\", perms = \"r--p\", vm_start = 0x1 }\n",
       "size shown; a failing __index left alone")
end)

T.test("pretty-printer: a mapping's VmFlags print as text and addresses in hex", function()
  local out = run([[
local m = proc.smaps(1848)[2]
print(require("memscript.pretty").format({ VmFlags = m.VmFlags, vm_start = m.vm_start, vm_end = m.vm_end }))]],
    "--proc-root " .. T.q(capture))
  T.eq(out, "{ VmFlags = rd ex mr mw me, vm_end = 0x47d000, vm_start = 0x401000 }\n", "mapping fields")
end)

T.test("pretty-printer: an array of mappings is an aligned table with human sizes, cut with a note", function()
  local out = run('require("memscript.pretty").print(proc.smaps(1848), { lines = 6 })',
    "--proc-root " .. T.q(capture))
  T.same_text(out, [[
35 mappings
Address           Size   Rss   Pss  Swap  Perms  Path
0000000000400000  4.0K  4.0K  4.0K    0B  r--p   /tmp/memhelper
0000000000401000  496K  496K  496K    0B  r-xp   /tmp/memhelper
000000000047d000  160K  140K  140K    0B  r--p   /tmp/memhelper
... 32 more lines
]], "smaps of the captured helper, 6 lines")
  -- the whole table: a line per mapping after the count and the header, the last one [vsyscall]
  out = run([[
local bare = proc.smaps(1848):map(function(m)
  return { vm_start = m.vm_start, vm_end = m.vm_end, size = m.size, perms = m.perms, path = m.path }
end)
require("memscript.pretty").print(bare)]], "--proc-root " .. T.q(capture))
  local rows = {}
  for l in out:gmatch("[^\n]+") do rows[#rows + 1] = l end
  T.eq(#rows, 37, "count, header and 35 mappings")
  T.eq(rows[2], "Address           Size  Perms  Path", "no Rss column without Rss fields")
  T.eq(rows[37], "ffffffffff600000  4.0K  --xp   [vsyscall]", "last row")
end)

T.test("the session pretty-prints proc.smaps(\"self\") as a table cut to the terminal", function()
  local out, err, status = session({
    expect("> "), line('proc.smaps("self")'), expect("Address"), expect("more lines (pp(x) prints all)"),
    expect("> "), line('pp({ "a" .. "b", n = 1 })'), expect('{ "ab", n = 1 }'),
    expect("> "), keys("\\x04"), "wait",
  })
  check(out, err, status, 0)
  -- 24 rows: at most 22 lines of a result, the last one the note
  local block = out:match("mappings\n(.-%.%.%. %d+ more lines)")
  T.ok(block, "a cut table in:\n" .. out)
  local count = select(2, block:gsub("\n", "\n")) + 2
  T.eq(count, 22, "lines printed for the result")
  T.ok(block:match("\n%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x%x +[%d.]+[BKMG] "), "rows with addresses and human sizes")
end)

T.test("with stdin not a terminal, -i reads lines with prompts and no editing", function()
  local out, err, status = T.run(T.memscript_command() .. " -i", "=1 + 1\nfunction f()\nreturn 5 end\n=f()\n")
  T.eq(status, 0, "exit status")
  T.eq(err, "", "stderr")
  T.contains(out, "> 2\n> >> > 5\n> \n", "prompts and results")
end)

T.done()
