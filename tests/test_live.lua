-- Live-kernel tests: the proc API read from a stopped helper process whose memory regions are known.
local T = require "testing"
local live = require "livehelper"

local format = string.format

-- Arguments after "--" only shape the helper's /proc/PID/cmdline.
local ARGS = {"--", "tab\there", "", "new\nline", "\xc3\xa9\xff", "x y", ""}

local h = live.start(ARGS)
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})
local pid, page = h.pid, h.page_size

-- /proc/PID/smaps (or smaps_rollup) parsed in plain Lua into what the proc API promises:
-- "N kB" -> N * 1024, a bare number -> integer, VmFlags -> the flags without the trailing space,
-- anything else -> the trimmed string.
local function parse_smaps_text(text)
  local maps, current = {}, nil
  for line in text:gmatch("[^\n]+") do
    local s, e, perms, offset, dev, inode, rest =
      line:match("^(%x+)-(%x+) (%S+) (%x+) (%x+:%x+) (%d+)(.*)$")
    if s then
      local vm_start, vm_end = tonumber("0x" .. s), tonumber("0x" .. e)
      current = {vm_start = vm_start, vm_end = vm_end, size = vm_end - vm_start, perms = perms,
                 offset = tonumber("0x" .. offset), dev = dev, inode = tonumber(inode),
                 path = rest:match("^%s*(.-)$")}
      maps[#maps + 1] = current
    else
      local key, value = line:match("^([^:]+):%s*(.-)%s*$")
      local kb = value:match("^(%d+) kB$")
      if key == "VmFlags" then
        current[key] = value
      elseif kb then
        current[key] = tonumber(kb) * 1024
      elseif value:match("^%d+$") then
        current[key] = tonumber(value)
      else
        current[key] = value
      end
    end
  end
  return maps
end

-- A mapping table with its VmFlags set replaced by the set's text, for comparison with parsed text.
local function plain(m)
  local copy = {}
  for k, v in pairs(m) do copy[k] = v end
  if m.VmFlags ~= nil then copy.VmFlags = tostring(m.VmFlags) end
  return copy
end

-- Runs fn(raw_text) while the helper's smaps text stays the same before and after (page state can
-- change under memory pressure even in a stopped process); returns fn's results.
local function with_steady_smaps(fn)
  local path = "/proc/" .. pid .. "/smaps"
  for _ = 1, 20 do
    local before = T.read(path)
    local results = table.pack(fn(before))
    if T.read(path) == before then return table.unpack(results, 1, results.n) end
  end
  error("smaps of the helper kept changing", 2)
end

-- A test body that runs check() until it passes, at most 5 times: a short-lived process mapping the
-- same library pages changes the helper's Pss and Shared/Private split between two reads, even while
-- the helper is stopped. A wrong value fails every time.
local function retried(check)
  return function()
    local last
    for _ = 1, 5 do
      local ok, err = pcall(check)
      if ok then return end
      last = err
    end
    error(last, 0)
  end
end

local function mapping_at(maps, start)
  for _, m in ipairs(maps) do
    if m.vm_start == start then return m end
  end
  return nil
end

local function region(name)
  local r = h.regions[name]
  if not r then T.skip(name .. ": " .. (h.failed[name] or "not made by the helper")) end
  return r
end

local dir = h.dir
local EXPECTED = {
  anon_half = {perms = "rw-p", path = ""},
  file_private = {perms = "r--p", path = dir .. "/data", offset = page},
  shared_anon = {perms = "rw-s", path = "/dev/zero (deleted)"},
  mlocked = {perms = "rw-p", path = ""},
  wx = {perms = "rwxp", path = ""},
  guard = {perms = "---p", path = ""},
  madvised = {perms = "rw-p", path = ""},
  spaced = {perms = "r--s", path = dir .. "/with space.bin"},
  deleted = {perms = "rw-p", path = dir .. "/deleted.bin (deleted)"},
  memfd = {perms = "rw-s", path = "/memfd:memhelper (deleted)"},
  sysv = {perms = "rw-s", path = "/SYSV00000000 (deleted)"},
  odd_name = {perms = "r--p", path = dir .. "/odd-\xc3\xa9-\xff.bin"},
}
local NAMES = {"anon_half", "file_private", "shared_anon", "mlocked", "wx", "guard", "madvised", "spaced",
               "deleted", "memfd", "sysv", "odd_name"}

T.test("the helper described every region it was asked to make", function()
  for _, name in ipairs(NAMES) do
    T.ok(h.regions[name] or h.failed[name], name .. " is neither described nor reported as failed")
  end
  T.eq(proc.page_size(), page, "proc.page_size() against the helper's sysconf(_SC_PAGESIZE)")
end)

for _, reader in ipairs({"maps", "smaps"}) do
  T.test(format("proc.%s finds each region at its address with its size, perms, offset and path", reader),
    function()
      local maps = assert(proc[reader](pid))
      for _, name in ipairs(NAMES) do
        local r, want = h.regions[name], EXPECTED[name]
        if r then
          local m = mapping_at(maps, r.start)
          T.ok(m, format("%s: no mapping starts at %x", name, r.start))
          T.eq(m.size, r.size, name .. " size")
          T.eq(m.vm_end, r.start + r.size, name .. " vm_end")
          T.eq(m.perms, want.perms, name .. " perms")
          T.eq(m.path, want.path, name .. " path")
          T.eq(m.offset, want.offset or 0, name .. " offset")
        end
      end
    end)
end

T.test("the System V segment's inode is its shm id", function()
  local r = region("sysv")
  local m = mapping_at(assert(proc.smaps(pid)), r.start)
  T.eq(m.inode, tonumber(r.what:match("shmid=(%d+)")), "inode")
  T.eq(m.dev:match("^(%x+):"), "00", "device major")
end)

T.test("VmFlags: wr+ex on the wx region, lo when mlocked, rr+dd when madvised, sh when shared", function()
  local maps = assert(proc.smaps(pid))
  local wx = mapping_at(maps, region("wx").start)
  T.eq(wx.VmFlags.wr, true, "wx wr")
  T.eq(wx.VmFlags.ex, true, "wx ex")
  T.eq(wx.VmFlags.lo, nil, "wx lo")
  local madvised = mapping_at(maps, region("madvised").start)
  T.eq(madvised.VmFlags.rr, true, "madvised rr")
  T.eq(madvised.VmFlags.dd, true, "madvised dd")
  T.eq(madvised.VmFlags.ex, nil, "madvised ex")
  local shared = mapping_at(maps, region("shared_anon").start)
  T.eq(shared.VmFlags.sh, true, "shared_anon sh")
  local guard = mapping_at(maps, region("guard").start)
  T.eq(guard.VmFlags.rd, nil, "guard rd")
  T.eq(guard.VmFlags.wr, nil, "guard wr")
  local anon = mapping_at(maps, region("anon_half").start)
  T.eq(anon.VmFlags.lo, nil, "anon_half lo")
  T.eq(anon.VmFlags.sh, nil, "anon_half sh")
  local mlocked = region("mlocked")
  if not mlocked.what:find("mlock=ok", 1, true) then T.skip("mlock failed: " .. mlocked.what) end
  T.eq(mapping_at(maps, mlocked.start).VmFlags.lo, true, "mlocked lo")
end)

T.test("the half-written region has exactly 32 pages resident, all private dirty and anonymous", function()
  local m = mapping_at(assert(proc.smaps(pid)), region("anon_half").start)
  T.eq(m.Size, 64 * page, "Size")
  T.eq(m.Rss, 32 * page, "Rss")
  T.eq(m.Private_Dirty, 32 * page, "Private_Dirty")
  T.eq(m.Anonymous, 32 * page, "Anonymous")
  T.eq(m.Pss, 32 * page, "Pss")
  T.eq(m.Shared_Clean + m.Shared_Dirty + m.Private_Clean, 0, "clean and shared")
end)

T.test("written shared, memfd, mlocked and copied-on-write pages are counted exactly", function()
  local maps = assert(proc.smaps(pid))
  local shared = mapping_at(maps, region("shared_anon").start)
  T.eq(shared.Rss, 8 * page, "shared_anon Rss")
  T.eq(shared.Anonymous, 0, "shared_anon Anonymous (shmem pages are not anonymous)")
  local memfd = mapping_at(maps, region("memfd").start)
  T.eq(memfd.Rss, 4 * page, "memfd Rss")
  local deleted = mapping_at(maps, region("deleted").start)
  T.eq(deleted.Anonymous, page, "deleted: the one written page is an anonymous copy")
  T.eq(deleted.Private_Dirty, page, "deleted Private_Dirty")
  local file = mapping_at(maps, region("file_private").start)
  T.eq(file.Anonymous, 0, "file_private Anonymous")
  T.ok(file.Rss >= 4 * page and file.Rss <= 16 * page, "file_private Rss between the 4 read pages and Size")
  local mlocked = region("mlocked")
  if not mlocked.what:find("mlock=ok", 1, true) then T.skip("mlock failed: " .. mlocked.what) end
  local locked = mapping_at(maps, mlocked.start)
  T.eq(locked.Rss, 8 * page, "mlocked Rss")
  T.eq(locked.Locked, 8 * page, "mlocked Locked")
  T.eq(assert(proc.status(pid)).VmLck, 8 * page, "status VmLck")
end)

T.test("every field of every mapping in proc.smaps equals the kernel's text", retried(function()
  local api, parsed = with_steady_smaps(function(raw)
    return assert(proc.smaps(pid)), parse_smaps_text(raw)
  end)
  T.eq(#api, #parsed, "number of mappings")
  for i, want in ipairs(parsed) do
    T.eq(plain(api[i]), want, format("mapping %d (%x %s)", i, want.vm_start, want.path))
  end
end))

T.test("proc.maps agrees with proc.smaps on every mapping's header fields", function()
  local maps, smaps = with_steady_smaps(function()
    return assert(proc.maps(pid)), assert(proc.smaps(pid))
  end)
  T.eq(#maps, #smaps, "number of mappings")
  for i, m in ipairs(maps) do
    for _, k in ipairs({"vm_start", "vm_end", "size", "perms", "offset", "dev", "inode", "path"}) do
      T.eq(m[k], smaps[i][k], format("mapping %d %s", i, k))
    end
  end
end)

-- The kernel sums Pss in smaps_rollup before rounding to kB; each mapping's Pss in smaps is rounded
-- down on its own, so the rollup may exceed the sum by less than 1 kB per mapping. The same holds
-- for Pss_Dirty and SwapPss. Pss_Anon + Pss_File + Pss_Shmem make up Pss, each rounded down.
local PSS_LIKE = {Pss = true, Pss_Dirty = true, SwapPss = true}
local PSS_PARTS = {Pss_Anon = true, Pss_File = true, Pss_Shmem = true}

T.test("proc.smaps_rollup equals the sums over proc.smaps (Pss within the kernel's rounding)",
  retried(function()
  local maps, rollup, raw_rollup = with_steady_smaps(function()
    return assert(proc.smaps(pid)), assert(proc.smaps_rollup(pid)),
           T.read("/proc/" .. pid .. "/smaps_rollup")
  end)
  local sums = {}
  for _, m in ipairs(maps) do
    for k, v in pairs(m) do
      if math.type(v) == "integer" then sums[k] = (sums[k] or 0) + v end
    end
  end
  local checked = 0
  for k, v in pairs(rollup) do
    if PSS_LIKE[k] then
      T.ok(v >= sums[k] and v - sums[k] < #maps * 1024,
        format("%s: rollup %d, sum %d, %d mappings", k, v, sums[k], #maps))
    elseif PSS_PARTS[k] then
      local parts = rollup.Pss_Anon + rollup.Pss_File + rollup.Pss_Shmem
      T.ok(rollup.Pss >= parts and rollup.Pss - parts <= 2 * 1024,
        format("Pss %d against Pss_Anon + Pss_File + Pss_Shmem %d", rollup.Pss, parts))
    else
      T.ok(sums[k] ~= nil, k .. " is in smaps_rollup but in no mapping")
      T.eq(v, sums[k], k)
    end
    checked = checked + 1
  end
  T.ok(rollup.Rss and rollup.Private_Dirty and rollup.Swap and rollup.Pss_Anon, "the usual rollup keys")
  T.ok(checked >= 20, "rollup keys checked: " .. checked)
  -- and the rollup's own values are the kernel's text
  local parsed = parse_smaps_text(raw_rollup)[1]
  for k, v in pairs(rollup) do T.eq(v, parsed[k], "rollup " .. k) end
  for k, v in pairs(parsed) do
    if rollup[k] == nil then
      T.ok(({vm_start = 1, vm_end = 1, size = 1, perms = 1, offset = 1, dev = 1, inode = 1, path = 1})[k],
        "rollup key " .. k .. " missing from proc.smaps_rollup")
    end
  end
end))

T.test("status: VmRSS is RssAnon + RssFile + RssShmem; VmSize is the mapped size; statm agrees", function()
  local status = assert(proc.status(pid))
  T.eq(status.VmRSS, status.RssAnon + status.RssFile + status.RssShmem, "VmRSS")
  local total = 0
  for _, m in ipairs(assert(proc.maps(pid))) do
    -- [vsyscall] is shown in maps but is no part of the process's address space (VmSize).
    if m.path ~= "[vsyscall]" then total = total + m.size end
  end
  T.eq(status.VmSize, total, "VmSize against the sum of mapping sizes")
  T.eq(assert(proc.statm(pid)).size, status.VmSize, "statm size")
  T.eq(status.State, "T (stopped)", "State")
  T.eq(status.Tgid, pid, "Tgid")
end)

T.test("cmdline keeps every argument (tabs, newlines, raw bytes, empty ones); comm is the name", function()
  T.eq(proc.cmdline(pid), {T.helper, table.unpack(ARGS)}, "cmdline")
  T.eq(proc.comm(pid), "memhelper", "comm")
end)

T.test("a zombie: no mappings, empty cmdline, state Z, comm kept", function()
  local z = h.zombie
  if not z then T.skip("the helper made no zombie: " .. tostring(h.failed.zombie)) end
  T.eq(proc.smaps(z), {}, "smaps")
  T.eq(proc.maps(z), {}, "maps")
  T.eq(proc.cmdline(z), {}, "cmdline")
  T.eq(proc.comm(z), "memhelper", "comm")
  T.eq(proc.status(z).State, "Z (zombie)", "State")
end)

T.test("a process that does not exist: nil, message, errno ENOENT", function()
  local none = 0x7ffffffe   -- above any pid_max the kernel allows
  T.eq({proc.smaps(none)}, {nil, format("/proc/%d/smaps: No such file or directory", none), 2}, "smaps")
  T.eq({proc.status(none)}, {nil, format("/proc/%d/status: No such file or directory", none), 2}, "status")
end)

T.test("grow mode maps and writes a new region at each step, then stops", function()
  local g = live.start({"grow", "256", "10", "8"})
  local ok, err = pcall(function()
    local maps = assert(proc.smaps(g.pid))
    local covering = {}
    for n = 1, 8 do
      local step = g.grown[n]
      T.ok(step, "step " .. n .. " described")
      T.eq(step.size, 256 * 1024, "step size")
      local found
      for _, m in ipairs(maps) do
        if m.vm_start <= step.start and step.start + step.size <= m.vm_end then found = m end
      end
      T.ok(found and found.perms == "rw-p" and found.path == "",
        format("step %d lies in an anonymous mapping", n))
      covering[found] = true
    end
    local anonymous = 0
    for m in pairs(covering) do anonymous = anonymous + m.Anonymous end
    T.ok(anonymous >= 8 * 256 * 1024, "written steps are resident: " .. anonymous)
  end)
  live.stop(g)
  if not ok then error(err, 0) end
end)

live.stop(h)
T.done()
