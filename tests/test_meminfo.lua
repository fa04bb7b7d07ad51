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

T.test("the header lines are what memscript --list prints", function()
  local out = run(nil, "--list")
  T.contains(out, "meminfo.lua    the system's memory from /proc/meminfo, each line explained\n"
    .. "               usage: memscript meminfo.lua [options]\n", "--list")
end)

T.test("--help exits 0; an argument is a usage error (3)", function()
  local out, _, status = run(nil, "meminfo.lua --help")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript meminfo%.lua %[options%]\n"), out)
  local o, err, s = run(nil, "meminfo.lua 1")
  T.eq({o, s}, {"", 3}, "stdout and status")
  T.ok(err:find("^memscript: meminfo%.lua: unknown argument '1'\nusage: "), err)
end)

T.test("procfs capture: every value; MemAvailable and Hugetlb, not in that file, absent", function()
  local out, err, status = run(T.fixtures .. "/procfs/proc", "-f json meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local values, order = values_of(out)
  T.eq(order, ORDER, "rows")
  T.eq(values, expected({
    MemTotal = 15666184, MemFree = 440324, MemAvailable = false, Buffers = 1020128, Cached = 12007640,
    ["Buffers+Cached+SReclaimable"] = 1020128 + 12007640 + 1738124,
    Active = 6761276, Inactive = 6532708, ["Active(anon)"] = 267256, ["Inactive(anon)"] = 268,
    ["Active(file)"] = 6494020, ["Inactive(file)"] = 6532440,
    ["Active+Inactive(anon)"] = 267256 + 268, ["Active+Inactive(file)"] = 6494020 + 6532440,
    SwapTotal = 0, SwapFree = 0, ["SwapTotal-SwapFree"] = 0,
    HugePages_Total = 0, HugePages_Free = 0, HugePages_Rsvd = 0, HugePages_Surp = 0,
    Hugepagesize = 2048, Hugetlb = false,
  }), "values")
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
  }), "values")
end)

T.test("seed lines: only the Active/Inactive split present, every other line '-', never 0", function()
  local out, err, status = run(T.fixtures .. "/seed/proc", "meminfo.lua")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local lines = {}
  local body, footer = out:match("^(.*\n)(Linux [^\n]*)\n$")
  T.ok(footer and footer:find("^Linux of unknown release, %d+%-byte pages %(read from .*/seed/proc%)$"),
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
  local csv = run(T.fixtures .. "/seed/proc", "-f csv meminfo.lua")
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
