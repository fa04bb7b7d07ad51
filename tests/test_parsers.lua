-- The /proc parsers on fixture trees: this project's captures, the seed note's lines, crafted edge
-- cases, and other projects' real captures read in place from ../shared/fixtures.
--
-- The proc root is fixed when memscript starts, so each check runs the binary with --proc-root
-- and a chunk that returns a value; the value comes back as Lua source written with %q, which keeps
-- integers and floats apart, and is compared here with T.eq.

local T = require "testing"

local format = string.format

-- prometheus/procfs's captures, read in place; a test on them skips when ../shared/fixtures is absent.
local function procfs() return T.shared("procfs/proc") end
-- The helper program captured by capture.lua (tests/fixtures/helper-capture): 1848, its zombie 1850.
local capture = T.fixtures .. "/helper-capture/proc"
-- The seed note's lines, written into a tree when a seed test first runs (tests/lib/seed.lua).
local seed_tmp, seed_cleanup <close> = T.tempdir()
local seed_root
local function seed_tree()
  seed_root = seed_root or require("seed").tree(seed_tmp)
  return seed_root
end
local edge = T.fixtures .. "/edge/proc"
local live = T.fixtures .. "/live-capture/proc"

local KB = 1024

-- Runs in the child: turns a returned value into Lua source. Tables go through pairs, so a
-- __pairs metamethod is honoured; numbers and strings through %q, exact for both number subtypes.
local PRELUDE = [[
local function dump(v)
  local t = type(v)
  if t == "string" or t == "number" then return string.format("%q", v) end
  if t == "table" then
    local parts = {}
    for k, x in pairs(v) do parts[#parts + 1] = "[" .. dump(k) .. "]=" .. dump(x) end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return tostring(v)
end
-- A mapping with VmFlags written as the text tostring gives, so it can be compared whole.
local function plain(m)
  local copy = {}
  for k, v in pairs(m) do copy[k] = v end
  if m.VmFlags ~= nil then copy.VmFlags = tostring(m.VmFlags) end
  return copy
end
-- The codes of a VmFlags set, sorted.
local function codes(flags)
  local list = {}
  for code, present in pairs(flags) do
    if present then list[#list + 1] = code end
  end
  table.sort(list)
  return list
end
]]

-- The value returned by `body` (a chunk ending in return) run by memscript with root as proc root.
local function query(root, body)
  local code = PRELUDE .. "local function body()\n" .. body .. "\nend\nio.write(dump(body()))"
  local out, err, status = T.run(T.memscript_command() .. " --proc-root " .. T.q(root) .. " -e " .. T.q(code))
  if status ~= 0 then
    error(format("memscript exited %s: %s", tostring(status), err), 2)
  end
  local chunk = load("return " .. out, "=result", "t", {})
  if not chunk then error("unreadable result: " .. out, 2) end
  return chunk()
end

-- What table.pack returns for a failure: nil, message, errno.
local function failure(msg, errno)
  return { n = 3, [2] = msg, [3] = errno }
end

local page_size = query(capture, "return proc.page_size()")

T.test("page_size is the system's page size", function()
  local out = T.run("getconf PAGESIZE")
  T.eq(page_size, math.tointeger(tonumber(out)), "page_size")
end)

T.test("procfs: pids lists the numeric directories of the proc root in ascending numeric order", function()
  T.eq(query(procfs(), "return proc.pids()"), { 584, 26231, 26232, 26233, 26234, 26235, 27079 }, "pids")
end)

-- helper-capture: the stopped helper program, captured by capture.lua -------------------------
--
-- The expected values are the capture's text (tests/fixtures/helper-capture/proc/1848), read by eye
-- and by awk, not by memscript.

T.test("captured helper: smaps lists the 35 mappings in address order", function()
  local starts = query(capture, [[
    local list = {}
    for i, m in ipairs(proc.smaps(1848)) do list[i] = string.format("%x", m.vm_start) end
    return list
  ]])
  T.eq(starts, { "400000", "401000", "47d000", "4a5000", "4a9000", "4ac000", "28278000",
    "7f9c739bd000", "7f9c739be000", "7f9c739fe000", "7f9c739ff000", "7f9c73a0f000", "7f9c73a10000",
    "7f9c73a20000", "7f9c73a21000", "7f9c73a29000", "7f9c73a2a000", "7f9c73a2e000", "7f9c73a32000",
    "7f9c73a3a000", "7f9c73a3b000", "7f9c73a3f000", "7f9c73a40000", "7f9c73a44000", "7f9c73a45000",
    "7f9c73a4d000", "7f9c73a4e000", "7f9c73a52000", "7f9c73a53000", "7f9c73a54000", "7f9c73a5d000",
    "7f9c73a61000", "7f9c73a63000", "7ffdff023000", "ffffffffff600000" }, "vm_start of each mapping")
end)

T.test("captured helper: the mlocked mapping, every field in bytes", function()
  T.eq(query(capture, "return plain(proc.smaps(1848)[15])"), {
    vm_start = 0x7f9c73a21000, vm_end = 0x7f9c73a29000, size = 32 * KB,
    perms = "rw-p", offset = 0, dev = "00:00", inode = 0, path = "",
    Size = 32 * KB, KernelPageSize = 4 * KB, MMUPageSize = 4 * KB,
    Rss = 32 * KB, Pss = 32 * KB, Pss_Dirty = 32 * KB,
    Shared_Clean = 0, Shared_Dirty = 0, Private_Clean = 0, Private_Dirty = 32 * KB,
    Referenced = 32 * KB, Anonymous = 32 * KB, KSM = 0, LazyFree = 0, AnonHugePages = 0,
    ShmemPmdMapped = 0, FilePmdMapped = 0, Shared_Hugetlb = 0, Private_Hugetlb = 0,
    Swap = 0, SwapPss = 0, Locked = 32 * KB, THPeligible = 0,
    VmFlags = "rd wr mr mw me lo ac",
  }, "mapping 7f9c73a21000")
end)

T.test("captured helper: the file-backed text segment keeps its path, device, inode and offset", function()
  local text = query(capture, [[
    local m = proc.smaps(1848)[2]
    return { m.vm_start, m.vm_end, m.size, m.perms, m.offset, m.dev, m.inode, m.path, m.Rss }
  ]])
  T.eq(text, { 0x401000, 0x47d000, 496 * KB, "r-xp", 0x1000, "fe:00", 10953012, "/tmp/memhelper",
    496 * KB }, "mapping 401000")
  T.eq(query(capture, "return proc.smaps(1848)[11].offset"), 0x1000, "offset of the data file mapping")
end)

T.test("captured helper: VmFlags is a set of the printed codes, trailing space dropped", function()
  local f = query(capture, [[
    local m = proc.smaps(1848)
    return { text = tostring(m[2].VmFlags), rd = m[2].VmFlags.rd, ex = m[2].VmFlags.ex,
             wr = m[2].VmFlags.wr, codes = codes(m[2].VmFlags),
             madvised = tostring(m[19].VmFlags), stack = tostring(m[34].VmFlags),
             vvar = codes(m[31].VmFlags), vsyscall = tostring(m[35].VmFlags) }
  ]])
  T.eq(f, { text = "rd ex mr mw me", rd = true, ex = true,
    codes = { "ex", "me", "mr", "mw", "rd" },
    madvised = "rd wr mr mw me rr ac dd", stack = "rd wr mr mw me gd ac",
    vvar = { "dd", "de", "io", "mr", "pf", "rd" }, vsyscall = "ex" }, "VmFlags")
end)

T.test("captured helper: identical VmFlags strings share one read-only set", function()
  local r = query(capture, [[
    local m = proc.smaps(1848)
    -- 8, 10 and 12 are ---p separators ("mr mw me"); 9 is anon_half ("rd wr mr mw me ac")
    local shared = rawequal(m[8].VmFlags, m[10].VmFlags) and rawequal(m[10].VmFlags, m[12].VmFlags)
    local distinct = not rawequal(m[8].VmFlags, m[9].VmFlags)
    local ok = pcall(function() m[10].VmFlags.zz = true end)
    return { shared = shared, distinct = distinct, assigned = ok, zz = m[12].VmFlags.zz }
  ]])
  T.eq(r, { shared = true, distinct = true, assigned = false }, "shared sets")
end)

T.test("smaps: 200 distinct VmFlags texts in turn, each read back as its own set, equal texts one set", function()
  -- More distinct texts than the parser's cache of sets has places, each taken twice: texts share
  -- places, and each is found in the cache, in the table of every set, or made anew.
  local codes = { "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "lo", "io", "sr", "rr",
    "dc", "de", "ac", "nr", "ht", "sf", "ar", "wf", "dd", "bt", "mm", "hg", "nh", "mg", "um", "uw" }
  local function text(i) -- a distinct set of codes for each i in 0..199
    local t = {}
    for b = 0, 7 do
      if (i >> b) & 1 == 1 then t[#t + 1] = codes[b + 1] end
    end
    t[#t + 1] = codes[9 + i % 22]
    return table.concat(t, " ")
  end
  local dir, cleanup <close> = T.tempdir()
  local lines = {}
  for n = 0, 399 do
    local start = 0x10000 + n * 0x1000
    lines[#lines + 1] = string.format("%x-%x rw-p 00000000 00:00 0 \nSize: 4 kB\nVmFlags: %s \n",
      start, start + 0x1000, text(n % 200))
  end
  T.sh("mkdir -p " .. T.q(dir .. "/proc/4242"))
  T.write(dir .. "/proc/4242/smaps", table.concat(lines))
  local r = query(dir .. "/proc", [[
    local m = proc.smaps(4242)
    local texts, same, apart = {}, 0, 0
    for i = 1, #m do texts[i] = tostring(m[i].VmFlags) end
    for i = 1, 200 do
      if rawequal(m[i].VmFlags, m[i + 200].VmFlags) then same = same + 1 end
      if not rawequal(m[i].VmFlags, m[i % 200 + 1].VmFlags) then apart = apart + 1 end
    end
    return { n = #m, texts = texts, same = same, apart = apart }
  ]])
  local want = {}
  for n = 0, 399 do want[n + 1] = text(n % 200) end
  T.eq(r, { n = 400, texts = want, same = 200, apart = 200 }, "sets")
end)

T.test("the iterator of pairs(VmFlags) checks its argument like next does", function()
  local r = query(capture, [[
    local iter, set = pairs(proc.smaps(1848)[2].VmFlags)
    local n = 0
    for _ in iter, set do n = n + 1 end
    local ok, err = pcall(iter, 42, nil)
    return { n = n, ok = ok, err = err }
  ]])
  T.eq(r, { n = 5, ok = false, err = "bad argument #1 to '?' (table expected, got number)" }, "result")
end)

T.test("captured helper: smaps_rollup, every key in bytes", function()
  T.eq(query(capture, "return proc.smaps_rollup(1848)"), {
    Rss = 1036 * KB, Pss = 1032 * KB, Pss_Dirty = 1032 * KB, Pss_Anon = 248 * KB, Pss_File = 732 * KB,
    Pss_Shmem = 52 * KB, Shared_Clean = 4 * KB, Shared_Dirty = 0, Private_Clean = 0,
    Private_Dirty = 1032 * KB, Referenced = 1036 * KB, Anonymous = 248 * KB, KSM = 0, LazyFree = 0,
    AnonHugePages = 0, ShmemPmdMapped = 0, FilePmdMapped = 0, Shared_Hugetlb = 0, Private_Hugetlb = 0,
    Swap = 0, SwapPss = 0, Locked = 32 * KB,
  }, "smaps_rollup 1848")
end)

T.test("captured helper: statm pages times the page size; status kB fields in bytes, an unprinted field nil", function()
  T.eq(query(capture, "return proc.statm(1848)"), { size = 414 * page_size, resident = 259 * page_size,
    shared = 197 * page_size, text = 124 * page_size, lib = 0, data = 165 * page_size, dt = 0 }, "statm")
  local s = query(capture, [[
    local s = assert(proc.status(1848))
    return { s.Name, s.VmPMD == nil, s.VmLck, s.VmSwap, s.Threads, s.Uid, s.Groups,
             s.voluntary_ctxt_switches, s.Mems_allowed_list, s.THP_enabled, s.untag_mask, s.NSpid }
  ]])
  T.eq(s, { "memhelper", true, 32 * KB, 0, 1, "0\t0\t0\t0", "", 2, "0", 1, "0xffffffffffffffff", "1848" },
    "status 1848 (NSpid a list, text even with one value)")
end)

T.test("captured helper: meminfo keys as spelled, kB in bytes, HugePages counts as integers", function()
  local mi = query(capture, [[
    local mi = proc.meminfo()
    local n = 0
    for _ in pairs(mi) do n = n + 1 end
    return { count = n, active_anon = mi["Active(anon)"], inactive_file = mi["Inactive(file)"],
             total = mi.MemTotal, huge_total = mi.HugePages_Total, huge_free = mi.HugePages_Free,
             hugepagesize = mi.Hugepagesize, vmalloc = mi.VmallocTotal,
             direct2m = mi.DirectMap2M, huge_type = math.type(mi.HugePages_Total) }
  ]])
  T.eq(mi, { count = 53, active_anon = 80 * KB, inactive_file = 55016 * KB,
    total = 24683748 * KB, huge_total = 0, huge_free = 0, hugepagesize = 2048 * KB,
    vmalloc = 34359738367 * KB, direct2m = 25135104 * KB, huge_type = "integer" }, "meminfo")
end)

T.test("captured helper: cmdline and comm; a zombie's empty maps, smaps and cmdline", function()
  T.eq(query(capture, "return { proc.cmdline(1848), proc.comm(1848), proc.pids() }"),
    { { "./memhelper" }, "memhelper", { 1848, 1850 } }, "cmdline, comm, pids")
  T.eq(query(capture, "return { proc.maps(1850), proc.smaps(1850), proc.cmdline(1850), proc.status(1850).State }"),
    { {}, {}, {}, "Z (zombie)" }, "zombie 1850")
end)

T.test("captured helper: a pid given as a numeric string reads the same files", function()
  T.eq(query(capture, "return { #proc.smaps('1848'), proc.status('1848').VmRSS }"), { 35, 1036 * KB },
    "numeric string pid")
end)

T.test("captured helper: a pid with no directory, or a file not captured, fails with ENOENT naming it", function()
  T.eq(query(capture, "return table.pack(proc.status(4242))"),
    failure(capture .. "/4242/status: No such file or directory", 2), "status 4242")
  T.eq(query(capture, "return table.pack(proc.smaps_rollup(1850))"),
    failure(capture .. "/1850/smaps_rollup: No such file or directory", 2), "smaps_rollup of the zombie")
end)

-- procfs: real captures from prometheus/procfs, read in place from ../shared/fixtures -------------

T.test("smaps 26231: twelve mappings in address order", function()
  local starts = query(procfs(), [[
    local list = {}
    for i, m in ipairs(proc.smaps(26231)) do list[i] = string.format("%x", m.vm_start) end
    return list
  ]])
  T.eq(starts, { "400000", "cb1000", "16b0000", "171a000", "c000000000", "c000400000",
    "c001600000", "7f0ab95ca000", "7ffc07ecf000", "7ffc07f9e000", "7ffc07fa1000",
    "ffffffffff600000" }, "vm_start of each mapping")
end)

T.test("smaps 26231: the Go heap arena at c000000000, every field in bytes", function()
  local heap = query(procfs(), "return plain(proc.smaps(26231)[5])")
  T.eq(heap, {
    vm_start = 0xc000000000, vm_end = 0xc000400000, size = 4096 * KB,
    perms = "rw-p", offset = 0, dev = "00:00", inode = 0, path = "",
    Size = 4096 * KB, KernelPageSize = 4 * KB, MMUPageSize = 4 * KB,
    Rss = 2564 * KB, Pss = 2564 * KB,
    Shared_Clean = 0, Shared_Dirty = 0, Private_Clean = 20 * KB, Private_Dirty = 2544 * KB,
    Referenced = 2544 * KB, Anonymous = 2564 * KB, LazyFree = 0, AnonHugePages = 0,
    ShmemPmdMapped = 0, Shared_Hugetlb = 0, Private_Hugetlb = 0,
    Swap = 1100 * KB, SwapPss = 1100 * KB, Locked = 0,
    VmFlags = "rd wr mr mw me ac sd",
  }, "mapping c000000000")
end)

T.test("smaps 26231: the file-backed text segment keeps its path, device and inode", function()
  local text = query(procfs(), [[
    local m = proc.smaps(26231)[1]
    return { m.vm_start, m.vm_end, m.size, m.perms, m.offset, m.dev, m.inode, m.path, m.Rss }
  ]])
  T.eq(text, { 0x400000, 0xcb1000, 8900 * KB, "r-xp", 0, "fd:01", 952273, "/bin/alertmanager",
    2952 * KB }, "mapping 400000")
  T.eq(query(procfs(), "return proc.smaps(26231)[2].offset"), 0x8b1000, "offset of the r--p segment")
end)

T.test("smaps 26231: [vsyscall] keeps its full 64-bit address", function()
  local v = query(procfs(), [[
    local m = proc.smaps(26231)[12]
    return { start = string.format("%x", m.vm_start), stop = string.format("%x", m.vm_end),
             literal = m.vm_start == 0xffffffffff600000, size = m.size, path = m.path,
             perms = m.perms, flags = tostring(m.VmFlags), Size = m.Size }
  ]])
  T.eq(v, { start = "ffffffffff600000", stop = "ffffffffff601000", literal = true, size = 4096,
    path = "[vsyscall]", perms = "r-xp", flags = "rd ex", Size = 4 * KB }, "[vsyscall]")
end)

T.test("smaps 26231: VmFlags is a set of the printed codes, trailing space dropped", function()
  local f = query(procfs(), [[
    local m = proc.smaps(26231)
    return { text = tostring(m[1].VmFlags), rd = m[1].VmFlags.rd, ex = m[1].VmFlags.ex,
             wr = m[1].VmFlags.wr, codes = codes(m[1].VmFlags),
             nh = tostring(m[6].VmFlags), stack = tostring(m[9].VmFlags),
             vvar = codes(m[10].VmFlags) }
  ]])
  T.eq(f, { text = "rd ex mr mw me dw sd", rd = true, ex = true,
    codes = { "dw", "ex", "me", "mr", "mw", "rd", "sd" },
    nh = "rd wr mr mw me ac sd nh", stack = "rd wr mr mw me gd ac",
    vvar = { "dd", "de", "io", "mr", "pf", "rd", "sd" } }, "VmFlags")
end)

T.test("smaps 26231: identical VmFlags strings share one read-only set", function()
  local r = query(procfs(), [[
    local m = proc.smaps(26231)
    local shared = rawequal(m[4].VmFlags, m[5].VmFlags) and rawequal(m[5].VmFlags, m[8].VmFlags)
    local distinct = not rawequal(m[5].VmFlags, m[6].VmFlags)
    local ok = pcall(function() m[5].VmFlags.zz = true end)
    return { shared = shared, distinct = distinct, assigned = ok, zz = m[8].VmFlags.zz }
  ]])
  T.eq(r, { shared = true, distinct = true, assigned = false }, "shared sets")
end)

T.test("procfs 26231: the iterator of pairs(VmFlags) checks its argument like next does", function()
  local r = query(procfs(), [[
    local iter, set = pairs(proc.smaps(26231)[1].VmFlags)
    local n = 0
    for _ in iter, set do n = n + 1 end
    local ok, err = pcall(iter, 42, nil)
    return { n = n, ok = ok, err = err }
  ]])
  T.eq(r, { n = 7, ok = false, err = "bad argument #1 to '?' (table expected, got number)" }, "result")
end)

T.test("smaps_rollup 26231: every key in bytes", function()
  T.eq(query(procfs(), "return proc.smaps_rollup(26231)"), {
    Rss = 29948 * KB, Pss = 29944 * KB, Shared_Clean = 4 * KB, Shared_Dirty = 0,
    Private_Clean = 15548 * KB, Private_Dirty = 14396 * KB, Referenced = 24752 * KB,
    Anonymous = 20756 * KB, LazyFree = 5848 * KB, AnonHugePages = 0, ShmemPmdMapped = 0,
    Shared_Hugetlb = 0, Private_Hugetlb = 0, Swap = 1940 * KB, SwapPss = 1940 * KB, Locked = 0,
  }, "smaps_rollup 26231")
end)

T.test("statm 26231: pages times page size; the unsigned maximum comes back as a float", function()
  local s = query(procfs(), "return proc.statm(26231)")
  T.eq(math.type(s.shared), "float", "math.type(shared)")
  T.eq(s.shared, 18446744073709551615.0 * page_size, "shared")
  s.shared = nil
  T.eq(s, { size = 149919 * page_size, resident = 12547 * page_size, text = 19864 * page_size,
    lib = 0, data = 14531 * page_size, dt = 0 }, "other statm fields")
end)

T.test("status 26231 (its first line is blank): kB fields in bytes, an unprinted field is nil", function()
  local s = query(procfs(), [[
    local s = assert(proc.status(26231))
    return { s.Name, s.VmPMD, s.VmSwap, s.Threads, s.Uid, s.Groups,
             s.voluntary_ctxt_switches, s.Mems_allowed, s.THP_enabled == nil, s.CoreDumping == nil }
  ]])
  T.eq(s, { "prometheus", 12 * KB, 660 * KB, 1, "1000\t1000\t1000\t0", "", 4742839,
    "00000000,00000001", true, true }, "status 26231")
end)

T.test("status 26235: NSpid string, VmRSS bytes, Threads integer, Umask string", function()
  local s = query(procfs(), [[
    local s = proc.status(26235)
    return { NSpid = s.NSpid, VmRSS = s.VmRSS, Threads = s.Threads, Umask = s.Umask,
             Name = s.Name, State = s.State, Uid = s.Uid, SigPnd = s.SigPnd, SigQ = s.SigQ,
             Ngid = s.Ngid, TracerPid = s.TracerPid, RssAnon = s.RssAnon,
             Cpus_allowed = s.Cpus_allowed, Cpus_allowed_list = s.Cpus_allowed_list }
  ]])
  T.eq(s, { NSpid = "26235\t1", VmRSS = 42652 * KB, Threads = 51, Umask = "0022",
    Name = "kube-proxy", State = "S (sleeping)", Uid = "0\t0\t0\t0",
    SigPnd = "0000000000000000", SigQ = "9/511324", Ngid = 12345, TracerPid = 0,
    RssAnon = 24852 * KB, Cpus_allowed = "ff", Cpus_allowed_list = "0-7" }, "status 26235")
end)

T.test("procfs meminfo: keys as spelled, kB in bytes, HugePages counts as integers", function()
  local mi = query(procfs(), [[
    local mi = proc.meminfo()
    local n = 0
    for _ in pairs(mi) do n = n + 1 end
    return { count = n, active_anon = mi["Active(anon)"], inactive_file = mi["Inactive(file)"],
             total = mi.MemTotal, huge_total = mi.HugePages_Total, huge_free = mi.HugePages_Free,
             hugepagesize = mi.Hugepagesize, vmalloc = mi.VmallocTotal,
             direct2m = mi.DirectMap2M }
  ]])
  T.eq(mi, { count = 45, active_anon = 267256 * KB, inactive_file = 6532440 * KB,
    total = 15666184 * KB, huge_total = 0, huge_free = 0, hugepagesize = 2048 * KB,
    vmalloc = 34359738367 * KB, direct2m = 16039936 * KB }, "meminfo")
end)

T.test("maps 26232: nine mappings, the rwxs mapping, [heap] and [vsyscall] --xp", function()
  local m = query(procfs(), [[
    local m = proc.maps(26232)
    return { n = #m, rwxs = m[2], heap = m[3], vsyscall = { m[9].perms, m[9].path, m[9].size },
             locale = m[4].path, rss = m[3].Rss }
  ]])
  T.eq(m, {
    n = 9,
    rwxs = { vm_start = 0x55680ae29000, vm_end = 0x55680ae2a000, size = 4096, perms = "rwxs",
      offset = 0xa000, dev = "fd:01", inode = 47316994, path = "/bin/cat" },
    heap = { vm_start = 0x55680bed6000, vm_end = 0x55680bef7000, size = 0x21000, perms = "rw-p",
      offset = 0, dev = "00:00", inode = 0, path = "[heap]" },
    vsyscall = { "--xp", "[vsyscall]", 4096 },
    locale = "/usr/lib/locale/locale-archive",
  }, "maps 26232")
end)

T.test("maps 26234: 32-bit addresses with single spaces", function()
  T.eq(query(procfs(), "return proc.maps(26234)"), {
    { vm_start = 0x08048000, vm_end = 0x08089000, size = 0x41000, perms = "r-xp", offset = 0,
      dev = "03:01", inode = 104219, path = "/bin/tcsh" },
    { vm_start = 0x08089000, vm_end = 0x0808c000, size = 0x3000, perms = "rw-p", offset = 0x41000,
      dev = "03:01", inode = 104219, path = "/bin/tcsh" },
    { vm_start = 0x0808c000, vm_end = 0x08146000, size = 0xba000, perms = "rwxp", offset = 0,
      dev = "00:00", inode = 0, path = "" },
    { vm_start = 0x40000000, vm_end = 0x40015000, size = 0x15000, perms = "r-xp", offset = 0,
      dev = "03:01", inode = 61874, path = "/lib/ld-2.3.2.so" },
  }, "maps 26234")
end)

T.test("cmdline and comm 26231", function()
  T.eq(query(procfs(), "return proc.cmdline(26231)"), { "vim", "test.go", "+10" }, "cmdline")
  T.eq(query(procfs(), "return proc.comm(26231)"), "vim", "comm 26231")
  T.eq(query(procfs(), "return proc.comm(26232)"), "ata_sff", "comm 26232")
end)

T.test("cmdline 26233: every NUL ends an argument, so trailing NULs give empty strings", function()
  -- 99 bytes: "com.github.uiautomator" and 77 NULs, the first ending that name.
  local r = query(procfs(), [[
    local c = proc.cmdline(26233)
    local empty = 0
    for i = 2, #c do if c[i] == "" then empty = empty + 1 end end
    return { #c, c[1], empty }
  ]])
  T.eq(r, { 77, "com.github.uiautomator", 76 }, "cmdline 26233")
end)

T.test("procfs: a pid given as a numeric string reads the same files", function()
  T.eq(query(procfs(), "return { #proc.smaps('26231'), proc.status('26235').Threads }"), { 12, 51 },
    "numeric string pid")
end)

T.test("procfs: a pid with no directory under the proc root fails with ENOENT naming the file", function()
  T.eq(query(procfs(), "return table.pack(proc.status(4242))"),
    failure(procfs() .. "/4242/status: No such file or directory", 2), "status 4242")
  T.eq(query(procfs(), "return table.pack(proc.smaps(26235))"),
    failure(procfs() .. "/26235/smaps: No such file or directory", 2), "smaps 26235")
end)

-- seed: the lines of /proc/1 shown in the seed note ----------------------------------------------

T.test("seed maps 1: the five lines shown, sizes as pmap printed them", function()
  local m = query(seed_tree(), "return proc.maps(1)")
  T.eq(#m, 5, "mappings")
  T.eq(m[1], { vm_start = 0x5578ffecb000, vm_end = 0x55790002b000, size = 1408 * KB,
    perms = "r-xp", offset = 0, dev = "fd:00", inode = 17643364,
    path = "/usr/lib/systemd/systemd" }, "text segment")
  local sizes, paths = {}, {}
  for i, e in ipairs(m) do sizes[i], paths[i] = e.size // KB, e.path end
  -- pmap -dp 1 in the note: 1408, 140, 4, 1144 and 164 Kbytes.
  T.eq(sizes, { 1408, 140, 4, 1144, 164 }, "sizes in kB")
  T.eq(paths, { "/usr/lib/systemd/systemd", "/usr/lib/systemd/systemd",
    "/usr/lib/systemd/systemd", "[heap]", "" }, "paths")
  T.eq(m[2].offset, 0x15f000, "offset of the r--p segment")
  T.eq(m[3].offset, 0x182000, "offset of the rw-p segment")
end)

T.test("seed smaps 1: the systemd text segment", function()
  local m = query(seed_tree(), "return { #proc.smaps(1), plain(proc.smaps(1)[1]) }")
  T.eq(m, { 1, {
    vm_start = 0x5578ffecb000, vm_end = 0x55790002b000, size = 1408 * KB, perms = "r-xp",
    offset = 0, dev = "fd:00", inode = 17643364, path = "/usr/lib/systemd/systemd",
    Size = 1408 * KB, Rss = 1156 * KB, Pss = 1156 * KB, Shared_Clean = 0, Shared_Dirty = 0,
    Private_Clean = 1156 * KB, Private_Dirty = 0, Referenced = 1156 * KB, Anonymous = 0,
    AnonHugePages = 0, Swap = 0, KernelPageSize = 4 * KB, MMUPageSize = 4 * KB, Locked = 0,
    VmFlags = "rd ex mr mw me dw sd" } }, "smaps 1")
end)

T.test("seed status 1: Umask 0000 stays a string, Groups with only a tab is empty", function()
  local s = query(seed_tree(), [[
    local s = proc.status(1)
    return { s.Name, s.Umask, s.Pid, s.PPid, s.Groups, s.VmPeak, s.VmSize, s.VmRSS, s.VmSwap,
             s.Threads == nil }
  ]])
  T.eq(s, { "systemd", "0000", 1, 0, "", 256700 * KB, 191164 * KB, 4204 * KB, 0, true },
    "status 1")
end)

T.test("seed statm 1: 47791 1051 646 352 0 37223 0 in bytes", function()
  T.eq(query(seed_tree(), "return proc.statm(1)"), { size = 47791 * page_size,
    resident = 1051 * page_size, shared = 646 * page_size, text = 352 * page_size, lib = 0,
    data = 37223 * page_size, dt = 0 }, "statm 1")
end)

T.test("seed: statm agrees with status at 4 KiB pages", function()
  if page_size ~= 4096 then T.skip("page size is not 4096", "anywhere") end
  local r = query(seed_tree(), [[
    local m, s = proc.statm(1), proc.status(1)
    return { m.size == s.VmSize, m.resident == s.VmRSS, m.shared == s.RssFile + s.RssShmem,
             m.text == s.VmExe }
  ]])
  T.eq(r, { true, true, true, true }, "size, resident, shared, text")
end)

T.test("seed meminfo: the six lines shown, Active = Active(anon) + Active(file)", function()
  local mi = query(seed_tree(), "return proc.meminfo()")
  T.eq(mi, { Active = 3357056 * KB, Inactive = 732448 * KB, ["Active(anon)"] = 2815280 * KB,
    ["Inactive(anon)"] = 11608 * KB, ["Active(file)"] = 541776 * KB,
    ["Inactive(file)"] = 720840 * KB }, "meminfo")
  T.eq(mi.Active, mi["Active(anon)"] + mi["Active(file)"], "Active")
  T.eq(mi.Inactive, mi["Inactive(anon)"] + mi["Inactive(file)"], "Inactive")
end)

-- edge: one crafted case per pid (tests/fixtures/edge/README) ----------------------------------

T.test("edge 101: a path with spaces is kept whole", function()
  local r = query(edge, "return { proc.maps(101)[1], proc.smaps(101)[1].path, proc.smaps(101)[1].Rss }")
  T.eq(r, { { vm_start = 0x7f90daf3a000, vm_end = 0x7f90daf3c000, size = 8 * KB, perms = "r--s",
    offset = 0, dev = "fe:00", inode = 10952834,
    path = "/tmp/edgecap/my data/table of values.bin" },
    "/tmp/edgecap/my data/table of values.bin", 8 * KB }, "maps and smaps 101")
end)

T.test("edge 102: \" (deleted)\" stays part of the path", function()
  local r = query(edge, [[
    local m = proc.smaps(102)[1]
    return { proc.maps(102)[1].path, m.path, m.perms, m.size, m.Private_Dirty, m.inode }
  ]])
  T.eq(r, { "/tmp/edgecap/scratch.dat (deleted)", "/tmp/edgecap/scratch.dat (deleted)", "rw-s",
    16 * KB, 16 * KB, 10952786 }, "deleted file mapping")
end)

T.test("edge 103: a memfd mapping", function()
  local r = query(edge, [[
    local m = proc.smaps(103)[1]
    return { m.path, m.dev, m.inode, m.size, m.Rss, tostring(m.VmFlags), m.VmFlags.sh }
  ]])
  T.eq(r, { "/memfd:ring-buffer (deleted)", "00:01", 1026, 64 * KB, 12 * KB,
    "rd wr sh mr mw me ms", true }, "memfd mapping")
end)

T.test("edge 104: [vsyscall] --xp with the single flag ex", function()
  local r = query(edge, [[
    local m = proc.smaps(104)[1]
    return { string.format("%x", m.vm_start), m.size, m.perms, tostring(m.VmFlags), codes(m.VmFlags),
             m.THPeligible, math.type(m.THPeligible), proc.maps(104)[1].vm_end == 0xffffffffff601000 }
  ]])
  T.eq(r, { "ffffffffff600000", 4096, "--xp", "ex", { "ex" }, 0, "integer", true }, "[vsyscall]")
end)

T.test("edge 105: unknown VmFlags codes are kept", function()
  local r = query(edge, [[
    local f = proc.smaps(105)[1].VmFlags
    return { tostring(f), f.zz, f.q1, f.ac, f.sh, codes(f) }
  ]])
  T.eq(r, { "rd wr mr mw me ac zz q1", true, true, true, nil,
    { "ac", "me", "mr", "mw", "q1", "rd", "wr", "zz" } }, "VmFlags 105")
end)

T.test("edge 106: an unknown kB key in bytes, an unknown text key as a trimmed string", function()
  local r = query(edge, [[
    local m = proc.smaps(106)[1]
    return { m.FutureField, m.FutureMode, m.THPeligible, m.Anonymous, tostring(m.VmFlags) }
  ]])
  T.eq(r, { 12 * KB, "split lru", 0, 8 * KB, "rd wr mr mw me ac" }, "smaps 106")
end)

T.test("edge 107: maps and status with no trailing newline keep their last line", function()
  local r = query(edge, [[
    local m, s = proc.maps(107), proc.status(107)
    return { #m, m[2].vm_end, m[2].path, s.nonvoluntary_ctxt_switches, s.voluntary_ctxt_switches,
             s.Name, s.THP_enabled, s.untag_mask, s.SpeculationIndirectBranch, s.Groups }
  ]])
  T.eq(r, { 2, 0x56055a7f8000, "/tmp/edgecap/edgecap", 0, 6, "edgecap", 1, "0xffffffffffffffff",
    "always enabled", "" }, "edge 107")
end)

T.test("edge 108: statm bytes beyond a signed 64-bit integer are floats, never wrapped", function()
  if page_size ~= 4096 then T.skip("the fixture's boundaries assume 4096-byte pages", "anywhere") end
  local s = query(edge, "return proc.statm(108)")
  T.eq(s, {
    size = 9223372036854771712,                     -- (2^51 - 1) * 4096 = 2^63 - 4096 fits
    resident = 2.0 ^ 63,                            -- 2^51 * 4096 = 2^63 does not
    shared = 18446744073709551615.0 * 4096,         -- unsigned 64-bit maximum pages
    text = 4096, lib = 0,
    data = 99999999999999999999.0 * 4096,           -- 20 digits, past 64 bits
    dt = 0,
  }, "statm 108")
end)

T.test("edge 109: a kernel thread has empty maps, smaps and cmdline", function()
  local r = query(edge, [[
    local s = proc.status(109)
    return { proc.maps(109), proc.smaps(109), proc.cmdline(109), proc.comm(109), proc.statm(109),
             s.Name, s.Kthread, s.VmRSS == nil, s.VmSize == nil, s.Threads }
  ]])
  T.eq(r, { {}, {}, {}, "kthreadd",
    { size = 0, resident = 0, shared = 0, text = 0, lib = 0, data = 0, dt = 0 },
    "kthreadd", 1, true, true, 1 }, "kernel thread")
end)

T.test("edge 114: status with VmPMD (kernels before 4.15), statm's shared the unsigned maximum", function()
  local r = query(edge, [[
    local s, m = proc.status(114), proc.statm(114)
    return { s.VmPMD, s.VmPTE, s.VmSwap, math.type(m.shared), m.shared, m.size, m.resident }
  ]])
  T.eq(r, { 12 * KB, 40 * KB, 0, "float", 18446744073709551615.0 * page_size, 414 * page_size,
    259 * page_size }, "status and statm 114")
end)

T.test("edge 115: 32-bit addresses with single spaces, an anonymous line ending at its inode", function()
  T.eq(query(edge, "return proc.maps(115)"), {
    { vm_start = 0x08048000, vm_end = 0x08052000, size = 0xa000, perms = "r-xp", offset = 0,
      dev = "08:01", inode = 131077, path = "/usr/bin/edgecap32" },
    { vm_start = 0x08052000, vm_end = 0x08053000, size = 0x1000, perms = "rw-p", offset = 0xa000,
      dev = "08:01", inode = 131077, path = "/usr/bin/edgecap32" },
    { vm_start = 0x09a5e000, vm_end = 0x09a7f000, size = 0x21000, perms = "rw-p", offset = 0,
      dev = "00:00", inode = 0, path = "[heap]" },
    { vm_start = 0xb7e00000, vm_end = 0xb7e01000, size = 0x1000, perms = "rw-p", offset = 0,
      dev = "00:00", inode = 0, path = "" },
    { vm_start = 0xbfb4d000, vm_end = 0xbfb6e000, size = 0x21000, perms = "rw-p", offset = 0,
      dev = "00:00", inode = 0, path = "[stack]" },
  }, "maps 115")
end)

T.test("edge 116: NSpid with several values stays a string; trailing NULs in cmdline give empty strings", function()
  local r = query(edge, [[
    local s = proc.status(116)
    return { s.NSpid, s.NStgid, s.NSpgid, s.NSsid, s.Pid, proc.cmdline(116) }
  ]])
  T.eq(r, { "1848\t12\t1", "1848\t12\t1", "1848\t12\t1", "1848\t12\t1", 1848,
    { "edgecap", "--flag", "", "" } }, "status and cmdline 116")
end)

-- Malformed content: nil, "PATH:LINE: reason", EINVAL (22).
local function malformed(result, path_line)
  T.eq(result.n, 3, "number of results")
  T.eq(result[1], nil, "first result")
  T.eq(result[3], 22, "errno")
  T.ok(type(result[2]) == "string" and result[2]:sub(1, #path_line + 2) == path_line .. ": "
    and #result[2] > #path_line + 2,
    format("message %s starts with %q and a reason", T.show(result[2]), path_line .. ": "))
end

T.test("edge 110: a smaps field before any header is malformed at line 1", function()
  malformed(query(edge, "return table.pack(proc.smaps(110))"), edge .. "/110/smaps:1")
end)

T.test("edge 111: a maps header with a non-hex address is malformed at its line", function()
  malformed(query(edge, "return table.pack(proc.maps(111))"), edge .. "/111/maps:2")
end)

T.test("edge 112: a key repeated in status is malformed at its second line", function()
  malformed(query(edge, "return table.pack(proc.status(112))"), edge .. "/112/status:38")
end)

T.test("edge 113: maps without smaps: smaps fails with ENOENT naming the file", function()
  local r = query(edge, "return { #proc.maps(113), table.pack(proc.smaps(113)) }")
  T.eq(r, { 6, failure(edge .. "/113/smaps: No such file or directory", 2) }, "edge 113")
  T.eq(query(edge, "return table.pack(proc.smaps_rollup(113))"),
    failure(edge .. "/113/smaps_rollup: No such file or directory", 2), "smaps_rollup 113")
end)

-- live-capture: one stopped process, files that agree with each other ---------------------------

T.test("live capture: the stopped sleep process", function()
  local r = query(live, [[
    local s = proc.status(4804)
    return { proc.pids(), proc.cmdline(4804), proc.comm(4804), s.State, s.Pid, s.Name }
  ]])
  T.eq(r, { { 4804 }, { "sleep", "100000" }, "sleep", "T (stopped)", 4804, "sleep" }, "process")
end)

T.test("live capture: smaps sums equal smaps_rollup for page-counted fields", function()
  local r = query(live, [[
    local keys = { "Rss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty",
                   "Referenced", "Anonymous", "Swap", "Locked" }
    local sums, rollup = {}, proc.smaps_rollup(4804)
    for _, k in ipairs(keys) do sums[k] = 0 end
    for _, m in ipairs(proc.smaps(4804)) do
      for _, k in ipairs(keys) do sums[k] = sums[k] + m[k] end
    end
    local wanted = {}
    for _, k in ipairs(keys) do wanted[k] = rollup[k] end
    return { sums, wanted }
  ]])
  T.eq(r[1], r[2], "sum of smaps versus smaps_rollup")
  T.eq(r[1].Rss, 1840 * KB, "Rss")
end)

T.test("live capture: smaps, maps, status and statm agree", function()
  local r = query(live, [[
    local smaps, maps = proc.smaps(4804), proc.maps(4804)
    local s, m = proc.status(4804), proc.statm(4804)
    local same, size, rss = #smaps == #maps, 0, 0
    for i, e in ipairs(smaps) do
      local p = maps[i]
      same = same and e.vm_start == p.vm_start and e.vm_end == p.vm_end and e.perms == p.perms
        and e.offset == p.offset and e.dev == p.dev and e.inode == p.inode and e.path == p.path
        and e.size == e.Size
      if e.path ~= "[vsyscall]" then size = size + e.Size end
      rss = rss + e.Rss
    end
    return { n = #smaps, same = same, size = size, VmSize = s.VmSize, statm_size = m.size,
             rss = rss, VmRSS = s.VmRSS, resident = m.resident,
             rss_parts = s.RssAnon + s.RssFile + s.RssShmem }
  ]])
  T.eq(r, { n = 37, same = true, size = 2920 * KB, VmSize = 2920 * KB, statm_size = 2920 * KB,
    rss = 1840 * KB, VmRSS = 1840 * KB, resident = 1840 * KB, rss_parts = 1840 * KB },
    "maps, smaps, status, statm")
end)

T.test("live capture: meminfo Active and Inactive are the sums of their anon and file parts", function()
  local r = query(live, [[
    local mi = proc.meminfo()
    local n = 0
    for _ in pairs(mi) do n = n + 1 end
    return { n, mi.Active, mi["Active(anon)"] + mi["Active(file)"],
             mi.Inactive, mi["Inactive(anon)"] + mi["Inactive(file)"], math.type(mi.HugePages_Total) }
  ]])
  T.eq(r, { 54, 44388 * KB, 44388 * KB, 35196 * KB, 35196 * KB, "integer" }, "meminfo")
end)

T.done()
