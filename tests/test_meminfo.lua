-- meminfo.lua: the system view from /proc/meminfo on the fixture trees, a crafted file and this machine.
local T = require "testing"
local cjson = require "cjson"

local concat = table.concat

local KB = 1024

local run = T.memscript

-- lua-cjson decodes every number as a float; integral ones are made integers again for T.eq.
-- JSON null (cjson.null) is turned into false so that an absent value is visible in a table.
local function normalize(v)
  if v == cjson.null then return false end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = normalize(x) end
    return v
  end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then return math.tointeger(v) end
  return v
end

-- key -> value (false: absent) from the JSON rows; also checks each row's unit.
local function values_of(json)
  local rows = normalize(cjson.decode(json))
  local values, order = {}, {}
  for i, r in ipairs(rows) do
    values[r.key] = r.value
    order[i] = r.key
    T.eq(r.unit, r.key:find("^HugePages_") and "pages" or "bytes", "unit of " .. r.key)
    T.ok(type(r.meaning) == "string" and #r.meaning > 0, "meaning of " .. r.key)
  end
  return values, order
end

local ORDER = {"MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "Buffers+Cached+SReclaimable",
  "Active", "Inactive", "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)",
  "Active+Inactive(anon)", "Active+Inactive(file)", "SwapTotal", "SwapFree", "SwapTotal-SwapFree",
  "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb"}

-- Expected values in kB (HugePages_* in pages); false: absent.
local function expected(kb)
  local out = {}
  for key, v in pairs(kb) do
    out[key] = v and (key:find("^HugePages_") and v or v * KB) or false
  end
  return out
end

-- The fixed rows followed by more keys, in that order.
local function after_fixed(keys)
  local out = {}
  for i, key in ipairs(ORDER) do out[i] = key end
  for _, key in ipairs(keys) do out[#out + 1] = key end
  return out
end

local NOT_DESCRIBED = "(printed by this kernel, not described here)"

-- A meminfo file read here: its keys in order and their values (a kB figure times 1024, bytes).
local function parse_meminfo(text)
  local keys, values = {}, {}
  for line in text:gmatch("[^\n]+") do
    local key, n, unit = line:match("^([^:]+):%s*(%d+)%s*(%S*)%s*$")
    T.ok(key ~= nil, "a line of the file: " .. line)
    keys[#keys + 1] = key
    values[key] = math.tointeger(tonumber(n)) * (unit == "kB" and KB or 1)
  end
  return keys, values
end

-- Every key of the meminfo text appears exactly once in meminfo.lua's JSON rows, with its exact value
-- (only the keys in `still`, when given); the rows are the fixed ones, then the file's other keys in
-- the file's order, each with a meaning; no other row.
local function every_key_once(root, text, still)
  local out, err, status = run(root, "-f json meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local rows = normalize(cjson.decode(out))
  local count, values = {}, {}
  for _, r in ipairs(rows) do
    count[r.key] = (count[r.key] or 0) + 1
    values[r.key] = r.value
    T.ok(type(r.meaning) == "string" and #r.meaning > 0, "meaning of " .. r.key)
  end
  local keys, direct = parse_meminfo(text)
  T.ok(#keys > 0, "the file has keys")
  local fixed, rest = {}, {}
  for _, key in ipairs(ORDER) do fixed[key] = true end
  for _, key in ipairs(keys) do
    T.eq(count[key], 1, "rows of " .. key)
    if still == nil or still[key] then T.eq(values[key], direct[key], "value of " .. key) end
    if not fixed[key] then rest[#rest + 1] = key end
  end
  local order = {}
  for i, r in ipairs(rows) do order[i] = r.key end
  T.eq(order, after_fixed(rest), "rows: the fixed ones, then the file's other keys in its order")
  return rows
end

T.test("memscript --list prints the summary and usage line of the script's spec", function()
  local out = run(nil, "--list")
  T.contains(out, "meminfo.lua    the system's memory from /proc/meminfo, each line explained\n"
    .. "               usage: memscript meminfo.lua\n", "--list")
end)

T.test("--help exits 0; an argument is a usage error (3)", function()
  local out, _, status = run(nil, "meminfo.lua --help")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript meminfo%.lua\n"), out)
  local o, err, s = run(nil, "meminfo.lua 1")
  T.eq({o, s}, {"", 3}, "stdout and status")
  T.ok(err:find("^memscript: meminfo%.lua: unknown argument '1'\nusage: "), err)
end)

T.test("procfs capture: every value; MemAvailable and Hugetlb, not in that file, absent", function()
  local out, err, status = run(T.shared("procfs/proc"), "-f json meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local values, order = values_of(out)
  T.eq(order, after_fixed({"SwapCached", "Unevictable", "Mlocked", "Zswap", "Zswapped", "Dirty",
    "Writeback", "AnonPages", "Mapped", "Shmem", "Slab", "SReclaimable", "SUnreclaim", "KernelStack",
    "PageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal",
    "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "DirectMap4k",
    "DirectMap2M"}), "rows")
  T.eq(values, expected({
    MemTotal = 15666184, MemFree = 440324, MemAvailable = false, Buffers = 1020128, Cached = 12007640,
    ["Buffers+Cached+SReclaimable"] = 1020128 + 12007640 + 1738124,
    Active = 6761276, Inactive = 6532708, ["Active(anon)"] = 267256, ["Inactive(anon)"] = 268,
    ["Active(file)"] = 6494020, ["Inactive(file)"] = 6532440,
    ["Active+Inactive(anon)"] = 267256 + 268, ["Active+Inactive(file)"] = 6494020 + 6532440,
    SwapTotal = 0, SwapFree = 0, ["SwapTotal-SwapFree"] = 0,
    HugePages_Total = 0, HugePages_Free = 0, HugePages_Rsvd = 0, HugePages_Surp = 0,
    Hugepagesize = 2048, Hugetlb = false,
    SwapCached = 0, Unevictable = 0, Mlocked = 0, Zswap = 22414, Zswapped = 10502, Dirty = 768,
    Writeback = 0, AnonPages = 266216, Mapped = 44204, Shmem = 1308, Slab = 1807264, SReclaimable = 1738124,
    SUnreclaim = 69140, KernelStack = 1616, PageTables = 5288, NFS_Unstable = 0, Bounce = 0,
    WritebackTmp = 0, CommitLimit = 7833092, Committed_AS = 530844, VmallocTotal = 34359738367,
    VmallocUsed = 36596, VmallocChunk = 34359637840, Percpu = 26176, HardwareCorrupted = 0,
    AnonHugePages = 12288, DirectMap4k = 91136, DirectMap2M = 16039936,
  }), "values")
  T.contains(out, '{"key":"Committed_AS","value":543584256,"unit":"bytes","meaning":"memory allocated by '
    .. 'processes, touched or not; strict overcommit keeps it under CommitLimit"}', "a kernel key explained")
  T.contains(out, '{"key":"MemAvailable","value":null,"unit":"bytes",', "null in the JSON text")
  T.contains(out, '{"key":"MemTotal","value":16042172416,"unit":"bytes",', "exact integer in the JSON text")
end)

T.test("live capture: every value, Hugetlb present", function()
  local values = values_of(run(T.fixtures .. "/live-capture/proc", "-f json meminfo.lua"))
  T.eq(values, expected({
    MemTotal = 24684084, MemFree = 24470968, MemAvailable = 24412552, Buffers = 1248, Cached = 80328,
    ["Buffers+Cached+SReclaimable"] = 1248 + 80328 + 51352,
    Active = 44388, Inactive = 35196, ["Active(anon)"] = 1532, ["Inactive(anon)"] = 5348,
    ["Active(file)"] = 42856, ["Inactive(file)"] = 29848,
    ["Active+Inactive(anon)"] = 1532 + 5348, ["Active+Inactive(file)"] = 42856 + 29848,
    SwapTotal = 0, SwapFree = 0, ["SwapTotal-SwapFree"] = 0,
    HugePages_Total = 0, HugePages_Free = 0, HugePages_Rsvd = 0, HugePages_Surp = 0,
    Hugepagesize = 2048, Hugetlb = 0,
    SwapCached = 0, Unevictable = 13388, Mlocked = 12480, Zswap = 0, Zswapped = 0, Dirty = 160,
    Writeback = 0, AnonPages = 11296, Mapped = 10828, Shmem = 8872, KReclaimable = 51352, Slab = 73116,
    SReclaimable = 51352, SUnreclaim = 21764, KernelStack = 1396, PageTables = 2196, SecPageTables = 0,
    NFS_Unstable = 0, Bounce = 0, WritebackTmp = 0, CommitLimit = 12342040, Committed_AS = 56180,
    VmallocTotal = 34359738367, VmallocUsed = 14156, VmallocChunk = 0, Percpu = 688, AnonHugePages = 0,
    ShmemHugePages = 0, ShmemPmdMapped = 0, FileHugePages = 0, FilePmdMapped = 0, Balloon = 0,
    DirectMap4k = 28672, DirectMap2M = 2068480, DirectMap1G = 25165824,
  }), "values")
end)

-- Every key of a captured meminfo once, exact, in order, and explained.
local function every_key_explained(root, what)
  local rows = every_key_once(root, T.read(root .. "/meminfo"))
  for _, r in ipairs(rows) do
    T.ok(r.meaning ~= NOT_DESCRIBED, what .. ": " .. r.key .. " is explained")
  end
end

T.test("every key of the fixtures' meminfo exactly once, with its exact value, in the kernel's order", function()
  for _, tree in ipairs({"live-capture", "helper-capture"}) do
    every_key_explained(T.fixtures .. "/" .. tree .. "/proc", tree)
  end
end)

T.test("procfs capture: every key of its meminfo exactly once, with its exact value, in order", function()
  every_key_explained(T.shared("procfs/proc"), "procfs")
end)

T.test("this machine: every key of /proc/meminfo exactly once; the values that hold still equal", function()
  every_key_once(nil, T.read("/proc/meminfo"),
    {MemTotal = true, SwapTotal = true, Hugepagesize = true, HugePages_Total = true, VmallocTotal = true})
end)

T.test("crafted: a key not described here is shown with its value and says so; absent keys are not rows", function()
  local tmp, cleanup <close> = T.tempdir()
  local text = concat({"MemTotal:        1000 kB", "Shmem:              8 kB", "FutureKey:  12 kB",
    "FutureCount:        7", "HugePages_Total:      2", ""}, "\n")
  T.write(tmp .. "/meminfo", text)
  local out, err, status = run(tmp, "-f json meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local rows = normalize(cjson.decode(out))
  local by_key = {}
  for _, r in ipairs(rows) do by_key[r.key] = r end
  T.eq(by_key.FutureKey, {key = "FutureKey", value = 12 * KB, unit = "bytes", meaning = NOT_DESCRIBED},
    "FutureKey")
  T.eq(by_key.FutureCount, {key = "FutureCount", value = 7, unit = "count", meaning = NOT_DESCRIBED},
    "a key without a unit")
  T.eq(by_key.Shmem.value, 8 * KB, "Shmem")
  T.eq({by_key.Slab, by_key.Committed_AS, by_key.DirectMap4k}, {}, "keys the file lacks are not rows")
  T.eq(by_key.MemAvailable, {key = "MemAvailable", value = false, unit = "bytes", meaning = by_key.MemAvailable.meaning},
    "MemAvailable, always shown, is null when the file lacks it (kernels before 3.14)")
  T.eq(rows[#rows - 2].key, "Shmem", "the other keys after the fixed rows, in the file's order")
  T.eq({rows[#rows - 1].key, rows[#rows].key}, {"FutureKey", "FutureCount"}, "order")
  every_key_once(tmp, text)
  local table_text = run(tmp, "meminfo.lua")
  T.ok(table_text:find("\nFutureKey  +12288  %(printed by this kernel, not described here%)\n"), table_text)
  T.ok(table_text:find("\nFutureCount  +7  %(printed by this kernel, not described here%)\n"), table_text)
  T.contains(run(tmp, "-f csv meminfo.lua"),
    '\r\nFutureKey,12288,bytes,"(printed by this kernel, not described here)"\r\n', "CSV")
end)

T.test("seed lines: only the Active/Inactive split present, every other line '-', never 0", function()
  local seed_dir, seed_cleanup <close> = T.tempdir()
  local seed = require("seed").tree(seed_dir)
  local out, err, status = run(seed, "meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local lines = {}
  local body, footer = out:match("^(.*\n)(Linux [^\n]*)\n$")
  T.ok(footer and footer == "Linux of unknown release, " .. proc.page_size() .. "-byte pages (read from " .. seed .. ")",
    "the last line names the kernel and page size: " .. tostring(footer))
  for line in body:gmatch("[^\n]*\n") do
    local key, value = line:match("^(%S+)%s+(%d+ pages)  ")
    if not key then key, value = line:match("^(%S+)%s+(%S+)  ") end
    lines[#lines + 1] = key .. "=" .. value
  end
  T.eq(lines, {"Key=Value", "MemTotal=-", "MemFree=-", "MemAvailable=-", "Buffers=-", "Cached=-",
    "Buffers+Cached+SReclaimable=-", "Active=3437625344", "Inactive=750026752",
    "Active(anon)=2882846720", "Inactive(anon)=11886592", "Active(file)=554778624",
    "Inactive(file)=738140160", "Active+Inactive(anon)=2894733312", "Active+Inactive(file)=1292918784",
    "SwapTotal=-", "SwapFree=-", "SwapTotal-SwapFree=-", "HugePages_Total=-", "HugePages_Free=-",
    "HugePages_Rsvd=-", "HugePages_Surp=-", "Hugepagesize=-", "Hugetlb=-"}, "table")
  T.contains(out, "\nActive(anon)                 2882846720  anonymous pages (heap, stack) used recently; "
    .. "can only be swapped out\n", "a whole line")
  local csv = run(seed, "-f csv meminfo.lua")
  T.ok(csv:find("^key,value,unit,meaning\r\nMemTotal,,bytes,"), csv:sub(1, 80))
  T.contains(csv, "\r\nActive(anon),2882846720,bytes,", "CSV value")
  T.contains(csv, '\r\nBuffers+Cached+SReclaimable,,bytes,buff/cache as free(1) counts it (no SReclaimable: 0)\r\n',
    "CSV absent")
  T.contains(csv, '\r\nBuffers,,bytes,cache of block-device blocks (file system metadata)\r\n', "CSV")
  T.contains(csv, '\r\nCached,,bytes,"page cache: file contents, tmpfs and shared memory"\r\n', "CSV quoting")
end)

T.test("crafted: swap in use, huge pages in use, SReclaimable missing counts as 0 in buff/cache", function()
  local tmp, cleanup <close> = T.tempdir()
  T.write(tmp .. "/meminfo", concat({"MemTotal:        1000 kB", "Buffers:           10 kB", "Cached:           20 kB",
    "SwapTotal:        400 kB", "SwapFree:         150 kB", "HugePages_Total:      8",
    "HugePages_Free:       3", "HugePages_Rsvd:       1", "HugePages_Surp:       0",
    "Hugepagesize:    2048 kB", "Hugetlb:        16384 kB", ""}, "\n"))
  local values = values_of(run(tmp, "-f json meminfo.lua"))
  T.eq(values["SwapTotal-SwapFree"], 250 * KB, "swap used")
  T.eq(values["Buffers+Cached+SReclaimable"], 30 * KB, "buff/cache")
  T.eq(values["Active+Inactive(anon)"], false, "absent when its keys are")
  T.eq({values.HugePages_Total, values.HugePages_Free, values.HugePages_Rsvd, values.Hugetlb},
    {8, 3, 1, 16384 * KB}, "huge pages")
  local text = run(tmp, "meminfo.lua")
  T.ok(text:find("\nHugePages_Total  +8 pages  pages in the hugetlb pool, each Hugepagesize\n"), text)
  T.ok(text:find("\nSwapTotal%-SwapFree  +256000  swap space in use\n"), text)
end)

T.test("-f prom is refused before anything is read: exit 3, nothing on stdout", function()
  local out, err, status = run(T.fixtures .. "/edge/proc", "-f prom meminfo.lua")
  T.eq({out, status}, {"", 3}, "stdout and status")
  T.ok(err:find("^memscript: meminfo%.lua prints a table, JSON or CSV, not 'prom'\nusage: memscript meminfo%.lua"),
    err)
end)

T.test("a proc root without meminfo: the reader's message, exit 3", function()
  local root = T.fixtures .. "/edge/proc"
  local out, err, status = run(root, "meminfo.lua")
  T.eq({out, err, status}, {"", "memscript: " .. root .. "/meminfo: No such file or directory\n", 3}, "result")
end)

T.test("this machine: the values that hold still equal /proc/meminfo read directly", function()
  local direct = {}
  for key, n, unit in T.read("/proc/meminfo"):gmatch("([^\n:]+):%s*(%d+)%s*(k?B?)") do
    direct[key] = math.tointeger(tonumber(n) * (unit == "kB" and KB or 1))
  end
  local values = values_of(run(nil, "-f json meminfo.lua"))
  for _, key in ipairs({"MemTotal", "SwapTotal", "Hugepagesize", "HugePages_Total"}) do
    T.eq(values[key], direct[key] == nil and false or direct[key], key)
  end
end)

T.done()
