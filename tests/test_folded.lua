-- -f folded: the collapsed stacks of top.lua (-u, -m, -c) and report.lua, exact bytes adding up to the view's totals.
local T = require "testing"
local folded = require "memscript.folded"
local machine = require "machine"

local format, concat = string.format, table.concat

-- ---- the tree: tests/lib/machine.lua (the helper, a sleep, the sleep as another user with swap) ----

-- with each process's /proc/PID/cgroup (machine.CGROUPS)
local root, cleanup <close> = machine.build({ cgroups = true })

-- The lines of folded text as {frames = {...}, bytes = n}; an error for a line that is not "STACK N".
local function parse_folded(text)
  local stacks = {}
  for line in text:gmatch("([^\n]*)\n") do
    local stack, bytes = line:match("^(.+) (%d+)$")
    if not stack then error("not a folded line: " .. T.show(line), 2) end
    local frames = {}
    for frame in (stack .. ";"):gmatch("([^;]*);") do frames[#frames + 1] = frame end
    stacks[#stacks + 1] = { frames = frames, bytes = math.tointeger(tonumber(bytes)) }
  end
  if text ~= "" then T.eq(text:sub(-1), "\n", "the text ends with a line end") end
  return stacks
end

local function run(args)
  local out, err, status = T.memscript(root, args)
  T.eq({ err, status }, { "", 0 }, args .. ": stderr and status")
  return out
end

-- ---- memscript.folded ----

T.test("folded.frame escapes what would break a line or a stack: control bytes, invalid UTF-8, ';'", function()
  T.eq(folded.frame("plain name"), "plain name", "plain text is kept, spaces too")
  T.eq(folded.frame("a;b"), "a\\x3bb", "the frame separator")
  T.eq(folded.frame("new\nline\t\27[2K"), "new\\nline\\t\\x1b[2K", "line breaks, tabs, escape sequences")
  T.eq(folded.frame("caf\xc3\xa9 \xff \\x3b"), "café \\xff \\\\x3b", "UTF-8 kept, a stray byte and a backslash escaped")
  T.eq(folded.frame(1848), "1848", "a number")
end)

T.test("folded.path_frames: a frame per component of a cgroup's path, '/' alone for the root", function()
  T.eq(folded.path_frames("/system.slice/nginx.service"), { "system.slice", "nginx.service" }, "a unit's cgroup")
  T.eq(folded.path_frames("/"), { "/" }, "the root")
  T.eq(folded.path_frames("/a/"), { "a" }, "a trailing slash names the same cgroup")
  T.eq(folded.path_frames("/a;b/c d"), { "a;b", "c d" }, "unescaped: folded.line escapes")
  T.eq(folded.line(folded.path_frames("/a;b/c d"), 1), "a\\x3bb;c d 1", "escaped in the line")
end)

T.test("folded.line: frames joined by ';', the bytes exact after one space; 0 bytes is no line", function()
  T.eq(folded.line({ "root", "sshd [812]" }, 1286144), "root;sshd [812] 1286144", "a line")
  T.eq(folded.line({ "x" }, (1 << 62) + 12345), "x 4611686018427400249", "a large integer, exact")
  T.eq(folded.line({ "x" }, 2.0^64), "x 18446744073709551616", "a float past 2^63, without exponent")
  T.eq(folded.line({ "x" }, 0), nil, "0 bytes")
  T.raises(function() folded.line({ "x" }, "12") end, "number expected", "bytes must be a number")
  T.eq(folded.render({ { { "a" }, 1 }, { { "b" }, 0 }, { { "c", "d" }, 2 } }), "a 1\nc;d 2\n", "render")
  T.eq(folded.render({}), "", "nothing")
end)

-- ---- top.lua ----

-- top.lua's JSON rows of a view.
local function top_rows(args)
  return T.json(run("-f json top.lua " .. args))
end

T.test("top.lua -f folded: a line per process, 'COMMAND [PID] PSS', as the JSON rows, in the same order", function()
  local stacks = parse_folded(run("-f folded top.lua"))
  local rows = top_rows("")
  T.eq(#stacks, #rows, "one line per process")
  for i, row in ipairs(rows) do
    T.eq(stacks[i].frames, { folded.frame(format("%s [%d]", row.command, row.pid)) }, "frames of line " .. i)
    T.eq(stacks[i].bytes, row.pss, "bytes of line " .. i)
  end
  -- the frame separator in 4805's command line is escaped, so the stack keeps one frame
  T.eq(stacks[#stacks].frames, { "sleep\\x3ba b [4805]" }, "escaped command")
end)

T.test("top.lua -u -f folded: 'USER;COMMAND [PID] BYTES'; each user's lines add up to the -u row", function()
  for _, size in ipairs({ "pss", "uss", "rss", "swap" }) do
    local stacks = parse_folded(run("-f folded top.lua -u -s " .. size))
    local by_user = {}
    for _, s in ipairs(stacks) do
      T.eq(#s.frames, 2, "two frames")
      by_user[s.frames[1]] = (by_user[s.frames[1]] or 0) + s.bytes
    end
    local expected = {}
    for _, row in ipairs(top_rows("-u")) do
      if row[size] > 0 then expected[row.user] = row[size] end
    end
    T.eq(by_user, expected, size .. " per user")
  end
  -- the helper (1032 kB of PSS) and the two sleeps (410 kB each), from their smaps_rollup files
  T.same_text(run("-f folded top.lua -u"), concat({
    "root;./memhelper [1848] 1056768",
    "root;sleep 100000 [4804] 419840",
    "3999999;sleep\\x3ba b [4805] 419840",
    "" }, "\n"), "the stacks")
end)

T.test("top.lua -m -f folded: 'MAP;COMMAND [PID] BYTES'; each name's lines add up to its -m row", function()
  local stacks = parse_folded(run("-f folded top.lua -m -s rss"))
  local by_map, total = {}, 0
  for _, s in ipairs(stacks) do
    T.eq(#s.frames, 2, "two frames")
    by_map[s.frames[1]] = (by_map[s.frames[1]] or 0) + s.bytes
    total = total + s.bytes
  end
  local expected, expected_total = {}, 0
  -- JSON holds the name that is not UTF-8 with U+FFFD for its stray byte, a frame with the byte's escape
  for _, row in ipairs(top_rows("-m")) do
    if row.rss > 0 then expected[folded.frame(row.map):gsub("\xef\xbf\xbd", "\\xff")] = row.rss end
    expected_total = expected_total + row.rss
  end
  T.eq(by_map, expected, "rss per mapping name")
  -- the totals line of the table
  local table_total = run("top.lua -m"):match("\ntotal: %d+ names +%d+ +%d+ +%d+ +%d+ +(%d+)")
  T.eq(total, math.tointeger(tonumber(table_total)), "the lines add up to the table's RSS total")
  T.eq(total, expected_total, "and to the rows' sum")
  -- the name that is not UTF-8 is escaped; [anon] for anonymous memory without a name
  T.eq(by_map["/tmp/memhelper.3qopYa/odd-\xc3\xa9-\\xff.bin"], 4096, "the odd name")
  T.eq(by_map["[anon]"] ~= nil, true, "[anon]")
  -- -s footprint: PSS + swap, each name's lines adding up to its row
  local footprints, rows_footprint = {}, {}
  for _, f in ipairs(parse_folded(run("-f folded top.lua -m -s footprint"))) do
    footprints[f.frames[1]] = (footprints[f.frames[1]] or 0) + f.bytes
  end
  for _, row in ipairs(top_rows("-m")) do
    if row.footprint > 0 then rows_footprint[folded.frame(row.map):gsub("\xef\xbf\xbd", "\\xff")] = row.footprint end
  end
  T.eq(footprints, rows_footprint, "footprint per mapping name")
end)

-- The stack of a cgroup's path as folded lines hold it: its frames escaped, joined by ';'.
local function cgroup_stack(path)
  local frames = {}
  for i, name in ipairs(folded.path_frames(path)) do frames[i] = folded.frame(name) end
  return concat(frames, ";")
end

T.test("top.lua -c -f folded: 'CGROUP;...;COMMAND [PID] BYTES'; each cgroup's lines add up to its -c row", function()
  local rows = top_rows("-c")
  T.eq(#rows, 3, "three cgroups, one per process")
  for _, size in ipairs({ "pss", "uss", "rss", "swap", "footprint" }) do
    local stacks = parse_folded(run("-f folded top.lua -c -s " .. size))
    local by_cgroup, total = {}, 0
    for _, s in ipairs(stacks) do
      T.ok(s.frames[#s.frames]:match(" %[%d+%]$") ~= nil, "the last frame is the process: " .. s.frames[#s.frames])
      local stack = concat(s.frames, ";", 1, #s.frames - 1)
      by_cgroup[stack] = (by_cgroup[stack] or 0) + s.bytes
      total = total + s.bytes
    end
    local expected, expected_total = {}, 0
    for _, row in ipairs(rows) do
      if row[size] > 0 then expected[cgroup_stack(row.cgroup)] = row[size] end
      expected_total = expected_total + row[size]
    end
    T.eq(by_cgroup, expected, size .. " per cgroup")
    T.eq(total, expected_total, size .. ": the lines add up to the rows' sum")
  end
  -- the totals line of the table: Procs USS PSS RSS Swap ShmemSwap Footprint, then the charges this
  -- tree has none of
  local uss, pss, rss, swap, footprint = run("top.lua -c"):match(
    "\ntotal: 3 cgroups +3 +(%d+) +(%d+) +(%d+) +(%d+) +%S+ +(%d+) +%- +%-\n")
  local sums = { uss = 0, pss = 0, rss = 0, swap = 0, footprint = 0 }
  for _, size in ipairs({ "uss", "pss", "rss", "swap", "footprint" }) do
    for _, s in ipairs(parse_folded(run("-f folded top.lua -c -s " .. size))) do sums[size] = sums[size] + s.bytes end
  end
  T.eq(sums, { uss = math.tointeger(tonumber(uss)), pss = math.tointeger(tonumber(pss)),
               rss = math.tointeger(tonumber(rss)), swap = math.tointeger(tonumber(swap)),
               footprint = math.tointeger(tonumber(footprint)) }, "the table's totals line")
  -- by PSS, largest cgroup first; the v1 memory line names 4805's cgroup, its ';' escaped in both frames
  T.same_text(run("-f folded top.lua -c"), concat({
    "system.slice;memhelper.service;./memhelper [1848] 1056768",
    "/;sleep 100000 [4804] 419840",
    "user.slice;sleep\\x3ba.scope;sleep\\x3ba b [4805] 419840",
    "" }, "\n"), "the stacks")
  T.same_text(run("-f folded top.lua -c -s swap"), "user.slice;sleep\\x3ba.scope;sleep\\x3ba b [4805] "
    .. machine.SWAP_PSS .. "\n", "swap: SwapPss, the one process with swap")
end)

T.test("top.lua -c --depth N -f folded: each process under its cgroup's ancestor N levels down, as the -c rows", function()
  T.same_text(run("-f folded top.lua -c --depth 1"), concat({
    "system.slice;./memhelper [1848] 1056768",
    "/;sleep 100000 [4804] 419840",
    "user.slice;sleep\\x3ba b [4805] 419840",
    "" }, "\n"), "depth 1")
  local by_cgroup = {}
  for _, row in ipairs(top_rows("-c --depth 0")) do by_cgroup[row.cgroup] = row.pss end
  T.eq(by_cgroup, { ["/"] = 1056768 + 2 * 419840 }, "depth 0: the root alone")
  T.same_text(run("-f folded top.lua -c --depth 0"), concat({
    "/;./memhelper [1848] 1056768",
    "/;sleep 100000 [4804] 419840",
    "/;sleep\\x3ba b [4805] 419840",
    "" }, "\n"), "depth 0: every process under the root, in pid order")
end)

T.test("top.lua -c -f folded: a process whose cgroup cannot be read is unreadable, as in the table", function()
  local bare, bare_cleanup <close> = machine.build()
  local out, err, status = T.memscript(bare, "-f folded top.lua -c")
  T.eq({ out, status }, { "", 3 }, "no stack, and UNKNOWN: none was read")
  T.contains(err, "3 processes unreadable: 3 other (", "counted on stderr")
  T.contains(err, "/1848/cgroup: No such file or directory", "the file named")
  local _, table_err, table_status = T.memscript(bare, "top.lua -c")
  T.eq({ table_err, table_status }, { err, status }, "the table's stderr and status")
end)

T.test("top.lua -f folded refuses -n and a -s that is not a size, before any work", function()
  local out, err, status = T.memscript(root, "-f folded top.lua -n 2")
  T.eq({ out, status }, { "", 3 }, "-n: stdout and status")
  T.contains(err, "memscript: top.lua: -f folded writes every stack: -n does not apply\nusage: ", "-n")
  out, err, status = T.memscript(root, "-f folded top.lua -s user -u")
  T.eq({ out, status }, { "", 3 }, "-s user: stdout and status")
  T.contains(err, "memscript: top.lua: -f folded writes a size: -s uss, pss, rss, swap or footprint, not 'user'", "-s")
  -- a cgroup's charge holds its descendants': no stacks add up to it
  out, err, status = T.memscript(root, "-f folded top.lua -c -s current")
  T.eq({ out, status }, { "", 3 }, "-c -s current: stdout and status")
  T.contains(err, "memscript: top.lua: -f folded writes a size: -s uss, pss, rss, swap or footprint, not 'current'",
    "-s current")
end)

T.test("top.lua -f folded on the live system: well-formed lines, the unreadable counted as in a table", function()
  local out, err, status = T.memscript(nil, "-f folded top.lua -u")
  T.eq(status, 0, "status (stderr " .. err .. ")")
  local stacks = parse_folded(out)
  T.ok(#stacks >= 1, "at least memscript itself")
  for _, s in ipairs(stacks) do
    T.eq(#s.frames, 2, "two frames in " .. T.show(s.frames))
    T.ok(s.frames[2]:match(" %[%d+%]$") ~= nil, "a process frame ends with its pid: " .. s.frames[2])
    T.ok(s.bytes > 0, "no line of 0 bytes")
  end
end)

-- ---- report.lua ----

T.test("report.lua -f folded: 'KIND;PATH RSS' per mapping in address order, adding up to pmap's RSS total", function()
  local stacks = parse_folded(run("-f folded report.lua 1848"))
  local total, kinds = 0, {}
  for _, s in ipairs(stacks) do
    T.eq(#s.frames, 2, "two frames")
    total = total + s.bytes
    kinds[s.frames[1]] = (kinds[s.frames[1]] or 0) + s.bytes
  end
  local rss_kb = run("report.lua 1848"):match("\ntotal kB +%d+ +(%d+)")
  T.eq(total, tonumber(rss_kb) * 1024, "the total kB line's RSS")
  T.eq(total, 1036 * 1024, "the helper's VmRSS")
  -- by kind, from the capture's smaps (tests/fixtures/helper-capture/README)
  T.eq(kinds, { file = 684032 + 65536 + 16384 + 4096, anon = 192512, heap = 16384, stack = 20480,
                shm = 32768 + 4096, memfd = 16384, deleted = 4096, vdso = 4096 }, "bytes by kind")
  T.eq(stacks[1].frames, { "file", "/tmp/memhelper" }, "the first mapping")
  T.eq(stacks[#stacks].frames, { "stack", "[stack]" }, "the last with memory")
end)

T.test("report.lua -f folded with several PIDs: each line starts with the process 'COMM [PID]'", function()
  local stacks = parse_folded(run("-f folded report.lua 1848 4804"))
  local per = {}
  for _, s in ipairs(stacks) do
    T.eq(#s.frames, 3, "three frames")
    per[s.frames[1]] = (per[s.frames[1]] or 0) + s.bytes
  end
  T.eq(per, { ["memhelper [1848]"] = 1036 * 1024, ["sleep [4804]"] = 1840 * 1024 }, "RSS per process")
end)

T.test("scripts without stacks refuse -f folded, naming the formats they print", function()
  local out, err, status = T.memscript(root, "-f folded status.lua 1848")
  T.eq({ out, status }, { "", 3 }, "stdout and status")
  T.contains(err, "memscript: status.lua prints a table, JSON or CSV, not 'folded'\n", "stderr")
  out, err, status = T.memscript(root, "-f flamegraph top.lua")
  T.eq({ out, status }, { "", 3 }, "an unknown format")
  T.contains(err, "unknown format 'flamegraph' (table, json, csv, prom or folded)", "stderr")
end)

T.done()
