-- flags.lua: VmFlags decoded per mapping and summarized, on fixture trees and on the stopped helper.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

-- The helper program captured by capture.lua (tests/fixtures/helper-capture): process 1848.
local capture = T.fixtures .. "/helper-capture/proc"
local edge = T.fixtures .. "/edge/proc"
local KB = 1024

local run = T.memscript

local integers = T.integers

local decode = T.json

T.test("the header lines are what memscript --list prints", function()
  local out, _, status = run(nil, "--list")
  T.eq(status, 0, "exit status")
  T.contains(out, "flags.lua      each mapping's VmFlags decoded, and a summary of the flags a process has\n"
    .. "               usage: memscript flags.lua [-s | -m] PID\n", "--list")
end)

T.test("--help prints the usage on stdout and exits 0", function()
  local out, err, status = run(nil, "flags.lua --help")
  T.eq(status, 0, "exit status")
  T.eq(err, "", "stderr")
  T.ok(out:find("^usage: memscript flags%.lua %[%-s | %-m%] PID\n"), "usage first: " .. out)
end)

T.test("usage errors print the usage on stderr and exit 3", function()
  for _, args in ipairs({"", "12 13", "-x 12", "-s -m 12", "twelve"}) do
    local out, err, status = run(capture, "flags.lua " .. args)
    T.eq(status, 3, "exit status for '" .. args .. "'")
    T.eq(out, "", "stdout for '" .. args .. "'")
    T.contains(err, "usage: memscript flags.lua", "stderr for '" .. args .. "'")
  end
  local _, err = run(capture, "flags.lua 12 13")
  T.ok(err:find("^memscript: flags%.lua: more than one process id given %('13'%)\n"), err)
end)

T.test("a process that cannot be read: the reader's message on stderr, exit 3", function()
  local out, err, status = run(edge, "flags.lua 113")   -- maps but no smaps
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err, "memscript: " .. edge .. "/113/smaps: No such file or directory\n", "stderr")
end)

T.test("edge 105: unknown codes shown as unknown, the whole table", function()
  local out, err, status = run(edge, "flags.lua 105")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.same_text(out, concat({
    "7f90dad4c000-7f90dad4f000 rw-p",
    "  rd  readable",
    "  wr  writable",
    "  mr  may read",
    "  mw  may write",
    "  me  may execute",
    "  ac  area is accountable (counts against overcommit)",
    "  zz  unknown flag 'zz'",
    "  q1  unknown flag 'q1'",
    "",
    "Flag  Meaning                                          Mappings   Size   Rss",
    "rd    readable                                                1  12288  8192",
    "wr    writable                                                1  12288  8192",
    "mr    may read                                                1  12288  8192",
    "mw    may write                                               1  12288  8192",
    "me    may execute                                             1  12288  8192",
    "ac    area is accountable (counts against overcommit)         1  12288  8192",
    "zz    unknown flag 'zz'                                       1  12288  8192",
    "q1    unknown flag 'q1'                                       1  12288  8192",
    ""}, "\n"), "flags.lua 105")
end)

T.test("the captured helper: each mapping's block in the table, address as the kernel prints it", function()
  local out = run(capture, "flags.lua -m 1848")
  T.contains(out, concat({
    "7f9c73a5d000-7f9c73a61000 r--p [vvar]",
    "  rd  readable", "  mr  may read",
    "  pf  pure PFN range (no struct page behind it)",
    "  io  memory-mapped I/O area",
    "  de  not expanded on remapping",
    "  dd  not included in core dumps (MADV_DONTDUMP)",
    "7f9c73a61000-7f9c73a63000 r--p [vvar_vclock]", ""}, "\n"), "[vvar] block")
  T.contains(out, concat({
    "7ffdff023000-7ffdff044000 rw-p [stack]",
    "  rd  readable", "  wr  writable", "  mr  may read", "  mw  may write", "  me  may execute",
    "  gd  stack segment grows down",
    "  ac  area is accountable (counts against overcommit)", ""}, "\n"), "[stack] block")
  T.ok(out:find("\nffffffffff600000%-ffffffffff601000 %-%-xp %[vsyscall%]\n  ex  executable\n$"),
    "last block: " .. out:sub(-120))
  T.ok(not out:find("Flag  Meaning"), "-m leaves the summary out")
  T.eq(select(2, out:gsub("\n%x+%-%x+ ", "")) + 1, 35, "35 mapping headers")
end)

-- The summary of the captured helper, counted over the capture's Size, Rss and VmFlags lines
-- (outside memscript): flag, meaning, mappings, Size kB, Rss kB.
local SUMMARY_1848 = {
  {"mr", "may read", 34, 1656, 1036},
  {"mw", "may write", 32, 1632, 1036},
  {"me", "may execute", 32, 1632, 1036},
  {"rd", "readable", 22, 1564, 1036},
  {"wr", "writable", 12, 772, 292},
  {"ac", "area is accountable (counts against overcommit)", 10, 676, 256},
  {"ex", "executable", 4, 524, 504},
  {"sh", "shared", 4, 128, 68},
  {"ms", "may share", 4, 128, 68},
  {"dd", "not included in core dumps (MADV_DONTDUMP)", 3, 56, 8},
  {"de", "not expanded on remapping", 3, 32, 4},
  {"pf", "pure PFN range (no struct page behind it)", 2, 24, 0},
  {"io", "memory-mapped I/O area", 2, 24, 0},
  {"lo", "pages are locked in memory", 1, 32, 32},
  {"rr", "random read advice given (MADV_RANDOM)", 1, 32, 8},
  {"gd", "stack segment grows down", 1, 132, 20},
}

T.test("the captured helper in JSON: mappings with flag arrays and the summary, most common flag first", function()
  local out, err, status = run(capture, "-f json flags.lua 1848")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.ok(out:find('^{"mappings":%[{"start":"0000000000400000","end":"0000000000401000","perms":"r%-%-p",'
    .. '"size":4096,"Rss":4096,"path":"/tmp/memhelper","flags":%["rd","mr","mw","me"%]}'),
    "JSON text starts with the first mapping: " .. out:sub(1, 200))
  local doc = decode(out)
  T.eq(#doc.mappings, 35, "mappings")
  T.eq(doc.mappings[34], {start = "00007ffdff023000", ["end"] = "00007ffdff044000", perms = "rw-p",
    size = 132 * KB, Rss = 20 * KB, path = "[stack]", flags = {"rd", "wr", "mr", "mw", "me", "gd", "ac"}},
    "the [stack] mapping")
  T.eq(doc.mappings[35].start, "ffffffffff600000", "[vsyscall] start")
  T.eq(doc.mappings[35].flags, {"ex"}, "[vsyscall] flags")
  local expected = {}
  for i, r in ipairs(SUMMARY_1848) do
    expected[i] = {flag = r[1], meaning = r[2], mappings = r[3], size = r[4] * KB, Rss = r[5] * KB}
  end
  T.eq(doc.summary, expected, "summary")
end)

T.test("-s: the summary alone, in each format", function()
  local json = decode(run(capture, "-f json flags.lua -s 1848"))
  T.eq(#json, 16, "summary rows")
  T.eq(json[1], {flag = "mr", meaning = "may read", mappings = 34, size = 1656 * KB, Rss = 1036 * KB}, "first")
  local csv = run(capture, "-f csv flags.lua -s 1848")
  T.ok(csv:find("^flag,meaning,mappings,size,Rss\r\nmr,may read,34,1695744,1060864\r\n"), csv:sub(1, 100))
  T.contains(csv, "ac,area is accountable (counts against overcommit),10,692224,262144\r\n", "csv")
  local text = run(capture, "flags.lua -s 1848")
  T.ok(text:find("^Flag  Meaning "), "table header first")
  T.ok(text:find("\nlo    pages are locked in memory +1 +32768 +32768\n"), "lo row: " .. text)
end)

T.test("CSV: a path with a comma and quotes is quoted, quotes doubled, records end in CRLF", function()
  local out, err, status = run(edge, "-f csv flags.lua 121")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.ok(out:find("^start,end,perms,size,Rss,path,flags\r\n"), "header")
  T.contains(out, '\r\n00007f031e4be000,00007f031e4c0000,r--p,8192,8192,"/tmp/edgecap/a,b ""c"".bin",'
    .. "rd mr mw me\r\n", "quoted path")
  T.eq(select(2, out:gsub("\r\n", "")), 26, "header and 25 records")
  T.ok(not out:gsub("\r\n", ""):find("\n"), "no bare newline")
  -- In JSON the same path comes back whole.
  local doc = decode(run(edge, "-f json flags.lua -m 121"))
  T.eq(doc[14].path, '/tmp/edgecap/a,b "c".bin', "JSON path")
end)

-- ---- the live helper ----

local h = live.start()
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})

local function mapping_at(doc, region)
  local start = format("%016x", region.start)
  for _, m in ipairs(doc) do
    if m.start == start then return m end
  end
  error("no mapping starts at " .. start, 2)
end

local function has(list, code)
  for _, c in ipairs(list) do if c == code then return true end end
  return false
end

T.test("live: lo on the mlocked region, rr and dd on the madvised one, none of them elsewhere", function()
  local out, err, status = run(nil, "-f json flags.lua -m " .. h.pid)
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local doc = decode(out)
  local madvised = mapping_at(doc, h.regions.madvised)
  T.eq(madvised.size, h.regions.madvised.size, "madvised size")
  T.ok(has(madvised.flags, "rr") and has(madvised.flags, "dd"), "rr and dd: " .. concat(madvised.flags, " "))
  local mlocked = mapping_at(doc, h.regions.mlocked)
  if h.regions.mlocked.what:find("mlock=ok", 1, true) then
    T.ok(has(mlocked.flags, "lo"), "lo: " .. concat(mlocked.flags, " "))
  end
  local anon = mapping_at(doc, h.regions.anon_half)
  for _, code in ipairs({"lo", "rr", "dd", "ex"}) do
    T.ok(not has(anon.flags, code), code .. " on anon_half: " .. concat(anon.flags, " "))
  end
  T.ok(not has(madvised.flags, "lo"), "no lo on the madvised region")
  T.ok(has(mapping_at(doc, h.regions.wx).flags, "ex"), "ex on the wx region")
end)

T.test("live: the table explains lo, rr and dd under their mapping", function()
  local out = run(nil, "flags.lua " .. h.pid)
  local r = h.regions.madvised
  local header = format("%08x-%08x rw-p\n", r.start, r.start + r.size)
  local at = out:find(header, 1, true)
  T.ok(at, "madvised header " .. header)
  local block = out:sub(at, (out:find("\n%x+%-", at + 1) or #out))
  T.contains(block, "\n  rr  random read advice given (MADV_RANDOM)\n", "rr")
  T.contains(block, "\n  dd  not included in core dumps (MADV_DONTDUMP)\n", "dd")
  if h.regions.mlocked.what:find("mlock=ok", 1, true) then
    T.contains(out, "\n  lo  pages are locked in memory\n", "lo")
    T.ok(out:find("\nlo    pages are locked in memory +1 +32768 +32768\n"), "lo in the summary")
  end
end)

T.done()
