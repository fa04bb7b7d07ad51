-- status.lua: the memory fields of status and statm, on fixture trees, a crafted file and the helper.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local concat = table.concat

local KB = 1024
local edge = T.fixtures .. "/edge/proc"

local run = T.memscript

-- statm is pages times the page size memscript uses.
local PAGE = math.tointeger(tonumber((run(nil, "-e 'print(proc.page_size())'"))))

-- lua-cjson decodes every number as a float; integral ones below 2^53 are made integers again for T.eq,
-- bigger ones stay floats. JSON null becomes false so that an absent value is visible in a table.
local function normalize(v)
  if v == cjson.null then return false end
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = normalize(x) end
    return v
  end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then return math.tointeger(v) end
  return v
end

-- {"status VmRSS" = bytes, ...} and the row names in order, from the JSON output.
local function values_of(json)
  local values, order = {}, {}
  for i, r in ipairs(normalize(cjson.decode(json))) do
    local name = r.file .. " " .. r.field
    values[name] = r.bytes
    order[i] = name
    T.ok(type(r.meaning) == "string" and #r.meaning > 0, "meaning of " .. name)
  end
  return values, order
end

local STATUS_ORDER = {"VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
  "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap", "HugetlbPages"}
local STATM_ORDER = {"size", "resident", "shared", "text", "lib", "data", "dt"}

-- The expected values: status fields in kB and statm fields in pages, as the files hold them.
local function expected(status_kb, statm_pages)
  local out = {}
  for key, kb in pairs(status_kb) do out["status " .. key] = kb and kb * KB or false end
  for i, key in ipairs(STATM_ORDER) do out["statm " .. key] = statm_pages[i] * PAGE end
  return out
end

local function names(status_keys)
  local out = {}
  for _, key in ipairs(status_keys) do out[#out + 1] = "status " .. key end
  for _, key in ipairs(STATM_ORDER) do out[#out + 1] = "statm " .. key end
  return out
end

T.test("the header lines are what memscript --list prints", function()
  local out = run(nil, "--list")
  T.contains(out, "status.lua     the memory fields of /proc/PID/status and /proc/PID/statm, each explained\n"
    .. "               usage: memscript status.lua PID\n", "--list")
end)

T.test("--help exits 0; usage errors exit 3 with the usage on stderr", function()
  local out, _, status = run(nil, "status.lua --help")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript status%.lua PID\n"), out)
  for _, args in ipairs({"", "1 2", "-q 1", "pid"}) do
    local o, err, s = run(edge, "status.lua " .. args)
    T.eq({o, s}, {"", 3}, "stdout and status for '" .. args .. "'")
    T.contains(err, "usage: memscript status.lua PID", "stderr for '" .. args .. "'")
  end
end)

T.test("live capture 4804: every field in bytes, in the kernel's order", function()
  local out, err, status = run(T.fixtures .. "/live-capture/proc", "-f json status.lua 4804")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local values, order = values_of(out)
  T.eq(order, names(STATUS_ORDER), "rows")
  T.eq(values, expected({VmPeak = 2920, VmSize = 2920, VmLck = 0, VmPin = 0, VmHWM = 1840, VmRSS = 1840,
    RssAnon = 112, RssFile = 1728, RssShmem = 0, VmData = 224, VmStk = 132, VmExe = 20, VmLib = 1528,
    VmPTE = 48, VmSwap = 0, HugetlbPages = 0}, {730, 460, 432, 5, 0, 89, 0}), "values")
end)

-- The rows of a status file with VmPMD (kernels 4.0 to 4.14 print it after VmPTE).
local function keys_with_vmpmd()
  local keys = {}
  for _, key in ipairs(STATUS_ORDER) do
    keys[#keys + 1] = key
    if key == "VmPTE" then keys[#keys + 1] = "VmPMD" end
  end
  return keys
end

T.test("edge 114: VmPMD shown where the kernel printed it; statm's too-big shared stays a float", function()
  local out, err, status = run(edge, "-f json status.lua 114")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local values, order = values_of(out)
  T.eq(order, names(keys_with_vmpmd()), "rows")
  local want = expected({VmPeak = 1656, VmSize = 1656, VmLck = 32, VmPin = 0, VmHWM = 1036, VmRSS = 1036,
    RssAnon = 248, RssFile = 736, RssShmem = 52, VmData = 528, VmStk = 132, VmExe = 496, VmLib = 8,
    VmPTE = 40, VmPMD = 12, VmSwap = 0, HugetlbPages = 0}, {414, 259, 0, 124, 0, 165, 0})
  -- 18446744073709551615 pages: the file's number is 2^64 - 1, which as a float is 2^64.
  want["statm shared"] = 2.0^64 * PAGE
  T.eq(values, want, "values")
  if PAGE == 4096 then
    T.contains(out, '"field":"shared","bytes":7.5557863725914323e+22,', "the float in the JSON text")
    local text = run(edge, "status.lua 114")
    T.contains(text, "\nstatm   shared        7.5557863725914323e+22  resident shared pages", "table")
    T.contains(text, "\nstatus  VmPMD                          12288  second-level page tables", "table")
  end
end)

T.test("procfs 26231, a real status with VmPMD and a statm with the unsigned maximum", function()
  local procfs = T.shared("procfs/proc")
  local out, err, status = run(procfs, "-f json status.lua 26231")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local values, order = values_of(out)
  T.eq(order, names(keys_with_vmpmd()), "rows")
  local want = expected({VmPeak = 58472, VmSize = 58440, VmLck = 0, VmPin = 0, VmHWM = 8028, VmRSS = 6716,
    RssAnon = 2092, RssFile = 4624, RssShmem = 0, VmData = 2580, VmStk = 136, VmExe = 948, VmLib = 6816,
    VmPTE = 128, VmPMD = 12, VmSwap = 660, HugetlbPages = 0}, {149919, 12547, 0, 19864, 0, 14531, 0})
  want["statm shared"] = 2.0^64 * PAGE
  T.eq(values, want, "values")
end)

T.test("edge 109, a kernel thread: every status field absent ('-'), statm all zeros", function()
  local out, err, status = run(edge, "status.lua 109")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line:match("^(%S+%s+%S+%s+%S+)"):gsub("%s+", " ") end
  local want = {"File Field Bytes"}
  for _, key in ipairs(STATUS_ORDER) do want[#want + 1] = "status " .. key .. " -" end
  for _, key in ipairs(STATM_ORDER) do want[#want + 1] = "statm " .. key .. " 0" end
  want[#want + 1] = "Linux of unknown"
  T.eq(lines, want, "table")
  -- the last line says whose kernel printed the values: a tree with no capture metadata says so
  T.ok(out:find("\nLinux of unknown release, %d+%-byte pages %(read from [^\n]*/edge/proc%)\n$"), out)
  local csv = run(edge, "-f csv status.lua 109")
  T.ok(csv:find("^file,field,bytes,meaning\r\nstatus,VmPeak,,peak virtual memory size\r\n"), csv:sub(1, 90))
  T.contains(csv, '\r\nstatm,data,0,"data + stack, as VmData + VmStk"\r\n', "CSV quoting")
end)

T.test("crafted: memory keys this script does not list are shown too, sorted, after the known ones", function()
  local tmp, cleanup <close> = T.tempdir()
  T.run("mkdir " .. T.q(tmp .. "/77"))
  T.write(tmp .. "/77/status", concat({"Name:\tx", "VmSize:\t     100 kB", "VmRSS:\t      40 kB", "VmZeta:\t       8 kB",
    "RssNew:\t       4 kB", "Threads:\t1", ""}, "\n"))
  local out, err, status = run(tmp, "status.lua 77")
  T.eq({out, err, status}, {"", "memscript: " .. tmp .. "/77/statm: No such file or directory\n", 3},
    "statm missing")
  T.write(tmp .. "/77/statm", "25 10 4 1 0 6 0\n")
  local values, order = values_of(run(tmp, "-f json status.lua 77"))
  local keys = {}
  for _, key in ipairs(STATUS_ORDER) do keys[#keys + 1] = key end
  keys[#keys + 1] = "RssNew"
  keys[#keys + 1] = "VmZeta"
  T.eq(order, names(keys), "rows")
  T.eq({values["status VmSize"], values["status VmRSS"], values["status VmLck"], values["status RssNew"],
    values["status VmZeta"], values["statm resident"]}, {100 * KB, 40 * KB, false, 4 * KB, 8 * KB, 10 * PAGE},
    "values")
end)

T.test("a process that cannot be read: the reader's message, exit 3", function()
  local out, err, status = run(edge, "status.lua 108")   -- statm only
  T.eq({out, err, status}, {"", "memscript: " .. edge .. "/108/status: No such file or directory\n", 3}, "result")
end)

T.test("live helper: statm agrees with status as the kernel computes both; VmLck is the mlocked region", function()
  local h = live.start()
  local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})
  local out, err, status = run(nil, "-f json status.lua " .. h.pid)
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local v = values_of(out)
  T.eq(v["statm size"], v["status VmSize"], "size")
  T.eq(v["statm resident"], v["status VmRSS"], "resident")
  T.eq(v["statm shared"], v["status RssFile"] + v["status RssShmem"], "shared")
  T.eq(v["statm data"], v["status VmData"] + v["status VmStk"], "data")
  T.eq(v["status VmRSS"], v["status RssAnon"] + v["status RssFile"] + v["status RssShmem"], "VmRSS")
  if h.regions.mlocked.what:find("mlock=ok", 1, true) then
    T.eq(v["status VmLck"], h.regions.mlocked.size, "VmLck")
  end
end)

T.test("a capture's own page size and kernel release are used, not this machine's", function()
  local tmp, cleanup <close> = T.tempdir()
  T.run("cp -r " .. T.q(T.fixtures .. "/live-capture/proc") .. " " .. T.q(tmp .. "/proc"))
  T.write(tmp .. "/proc/memscript-capture", "kernel_release: 5.10.0-test\npage_size: 16384\nhostname: elsewhere\n")
  local pages = tonumber(T.read(T.fixtures .. "/live-capture/proc/4804/statm"):match("^%d+"))
  local out, err, status = run(tmp, "-f csv status.lua 4804")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.contains(out, "\r\nstatm,size," .. pages * 16384 .. ",", "statm size in 16 KiB pages")
  out = run(tmp, "status.lua 4804")
  T.ok(out:find("\nLinux 5%.10%.0%-test, 16384%-byte pages %(captured on elsewhere%)\n$"), out)
end)

T.done()
