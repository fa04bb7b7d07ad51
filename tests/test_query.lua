-- query.lua: mappings matching a where-expression, on fixture trees and on the stopped helper.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

local KB = 1024
-- The helper program captured by capture.lua (tests/fixtures/helper-capture): process 1848.
local capture = T.fixtures .. "/helper-capture/proc"
local edge = T.fixtures .. "/edge/proc"

local run = T.memscript

local integers = T.integers

local decode = T.json

T.test("the header lines are what memscript --list prints", function()
  local out = run(nil, "--list")
  T.contains(out, "query.lua      the mappings of a process that match a where-expression, pmap-style\n"
    .. "               usage: memscript query.lua PID EXPR\n", "--list")
end)

T.test("--help exits 0; usage errors exit 3 with the usage on stderr", function()
  local out, _, status = run(nil, "query.lua --help")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript query%.lua PID EXPR\n"), out)
  for _, args in ipairs({"", "1848", "1848 'Rss > 0' extra", "-z 1848 'Rss > 0'", "abc 'Rss > 0'"}) do
    local o, err, s = run(capture, "query.lua " .. args)
    T.eq({o, s}, {"", 3}, "stdout and status for " .. args)
    T.contains(err, "usage: memscript query.lua PID EXPR", "stderr for " .. args)
  end
end)

T.test("a syntax error in EXPR: the where message after 'memscript: ', exit 3", function()
  local cases = {
    {"Rss > 1M foo", "memscript: where: column 10: expected 'and', 'or' or end of expression near 'foo'\n"},
    {"Rss >> 1", "memscript: where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '>>'\n"},
    {"Rss >", "memscript: where: column 6: expected a value at end of expression\n"},
  }
  for _, case in ipairs(cases) do
    local out, err, status = run(capture, "query.lua 1848 " .. T.q(case[1]))
    T.eq({out, err, status}, {"", case[2], 3}, case[1])
  end
  -- The expression is compiled first: its error is reported even for a process that does not exist.
  local _, err, status = run(capture, "query.lua 999999 " .. T.q("Rss >"))
  T.eq({err, status}, {cases[3][2], 3}, "before reading the process")
end)

T.test("a process that cannot be read: the reader's message, exit 3", function()
  local out, err, status = run(capture, "query.lua 999999 'Rss > 0'")
  T.eq({out, err, status}, {"", "memscript: " .. capture .. "/999999/smaps: No such file or directory\n", 3},
    "result")
end)

T.test("the captured helper, 'Rss > 100K': pmap-like columns, exact bytes off a terminal", function()
  local out, err, status = run(capture, "query.lua 1848 'Rss > 100K'")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.same_text(out, concat({
    "Address             Size     Rss     Pss   Dirty  Mode  Mapping",
    "0000000000401000  507904  507904  507904  507904  r-xp  /tmp/memhelper",
    "000000000047d000  163840  143360  143360  143360  r--p  /tmp/memhelper",
    "00007f9c739be000  262144  131072  131072  131072  rw-p  ",
    ""}, "\n"), "table")
end)

T.test("the captured helper in JSON: VmFlags codes, derived names and addresses above 2^63 in expressions", function()
  local doc = decode(run(capture, "-f json query.lua 1848 'VmFlags.gd'"))
  T.eq(doc, {{address = "00007ffdff023000", size = 132 * KB, Rss = 20 * KB, Pss = 20 * KB, dirty = 20 * KB,
    mode = "rw-p", path = "[stack]"}}, "VmFlags.gd")
  doc = decode(run(capture, "-f json query.lua 1848 'executable and not anon'"))
  local paths = {}
  for i, m in ipairs(doc) do paths[i] = m.path end
  T.eq(paths, {"/tmp/memhelper", "[vdso]", "[vsyscall]"}, "executable and not anon")
  doc = decode(run(capture, "-f json query.lua 1848 'vm_start >= 0xffffffffff600000'"))
  T.eq(#doc, 1, "one mapping at or above [vsyscall]")
  T.eq({doc[1].address, doc[1].path}, {"ffffffffff600000", "[vsyscall]"}, "[vsyscall]")
  T.eq(run(capture, "-f json query.lua 1848 'Rss > 1G'"), "[]\n", "no match: an empty array")
end)

T.test("CSV: a path with a comma and quotes is quoted, quotes doubled", function()
  local out, err, status = run(edge, "-f csv query.lua 121 " .. T.q('path ~ ","'))
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.eq(out, "address,size,Rss,Pss,dirty,mode,path\r\n"
    .. '00007f031e4be000,8192,8192,8192,8192,r--p,"/tmp/edgecap/a,b ""c"".bin"\r\n', "CSV")
  local doc = decode(run(edge, "-f json query.lua 121 " .. T.q("path ~ '\"c\"'")))
  T.eq(#doc, 1, "one match")
  T.eq(doc[1].path, '/tmp/edgecap/a,b "c".bin', "JSON path")
end)

-- ---- the live helper ----

local h = live.start()
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})

local function only(expr, region)
  local out, err, status = run(nil, "-f json query.lua " .. h.pid .. " " .. T.q(expr))
  T.eq(status, 0, "exit status for " .. expr .. " (stderr: " .. err .. ")")
  local doc = decode(out)
  T.eq(#doc, 1, "matches of " .. expr)
  T.eq({doc[1].address, doc[1].size}, {format("%016x", region.start), region.size}, expr)
  return doc[1]
end

T.test("live: flags, perms and paths select the helper's regions", function()
  local page = h.page_size
  local m = only("VmFlags.rr and VmFlags.dd", h.regions.madvised)
  T.eq({m.Rss, m.dirty, m.mode, m.path}, {2 * page, 2 * page, "rw-p", ""}, "madvised: 2 pages written")
  if not h.failed.wx then
    m = only("writable and executable", h.regions.wx)
    T.eq({m.Rss, m.mode}, {page, "rwxp"}, "wx: 1 page written")
  end
  if h.regions.mlocked.what:find("mlock=ok", 1, true) then
    m = only("VmFlags.lo", h.regions.mlocked)
    T.eq({m.Rss, m.dirty}, {8 * page, 8 * page}, "mlocked: 8 pages written")
  end
  m = only('path ~ "with space.bin"', h.regions.spaced)
  T.eq({m.mode, m.path}, {"r--s", h.dir .. "/with space.bin"}, "spaced")
  m = only('kind == "deleted" and writable and not shared', h.regions.deleted)
  T.eq(m.path, h.dir .. "/deleted.bin (deleted)", "deleted")
end)

T.done()
