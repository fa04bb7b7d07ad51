-- Page-level views: proc.pagemap (pagemap read and scanned, kpageflags, kpagecount, kpagecgroup), proc.numa_maps,
-- proc.clear_refs and proc.mark_idle, against tests/helper/pagehelper's regions of known page states.

local T = require "testing"

local format = string.format

local helper_bin = T.build .. "/tests/pagehelper"
local is_root = T.run("id -u") == "0\n"

-- ---- the helper ----

local Helper = {}
Helper.__index = Helper

local function helper_text(h)
  return T.read_if(h.out) or ""
end

-- Starts pagehelper (under prefix, a command such as setpriv, when given) and waits for its regions.
local function start_helper(prefix)
  local h = setmetatable({ out = os.tmpname(), regions = {}, notes = {}, answered = 0 }, Helper)
  h.pipe = assert(io.popen(format("%s exec %s >%s 2>&1", prefix or "", T.q(helper_bin), T.q(h.out)), "w"))
  local deadline = os.time() + 15
  while not helper_text(h):find("\nready\n", 1, true) do
    if os.time() > deadline then
      h:stop()
      error("pagehelper did not start: " .. helper_text(h))
    end
    os.execute("sleep 0.02")
  end
  local text = helper_text(h)
  h.pid = tonumber(text:match("pagehelper pid=(%d+)"))
  h.page = tonumber(text:match("page_size=(%d+)"))
  for name, start, size in text:gmatch("region (%S+) (%x+) (%d+)") do
    h.regions[name] = { start = math.tointeger(tonumber(start, 16)), size = math.tointeger(tonumber(size)) }
  end
  for name, outcome in text:gmatch("note (%S+) ([^\n]+)") do h.notes[name] = outcome end
  return h
end

-- Sends one command and waits for its answer ("ok", or an error raised).
function Helper:send(command)
  self.pipe:write(command, "\n")
  self.pipe:flush()
  self.answered = self.answered + 1
  local deadline = os.time() + 15
  while true do
    local answers = {}
    for line in helper_text(self):gmatch("[^\n]+") do
      if line == "ok" or line:match("^error") then answers[#answers + 1] = line end
    end
    if #answers >= self.answered then
      local answer = answers[self.answered]
      if answer ~= "ok" then error("pagehelper: " .. command .. ": " .. answer, 2) end
      self.text = helper_text(self)
      for name, start, size in self.text:gmatch("region (%S+) (%x+) (%d+)") do
        self.regions[name] = { start = math.tointeger(tonumber(start, 16)), size = math.tointeger(tonumber(size)) }
      end
      return
    end
    if os.time() > deadline then error("pagehelper did not answer " .. command, 2) end
    os.execute("sleep 0.01")
  end
end

function Helper:stop()
  if self.pipe then
    self.pipe:close()
    self.pipe = nil
  end
  os.remove(self.out)
end

-- The table of region name in an array of mapping tables (by its start address).
local function find(list, h, name)
  local start = h.regions[name].start
  for _, m in ipairs(list) do
    if m.vm_start == start then return m end
  end
  error("no mapping at the start of region " .. name)
end

local h = start_helper()
local cleanup <close> = setmetatable({}, { __close = function() h:stop() end })
local PAGE = h.page
local PAGEMAP_FIELDS = { "present", "swapped", "soft_dirty", "exclusive", "file_or_shared", "uffd_wp", "guard" }
local SCAN_FIELDS = { "present", "swapped", "soft_dirty", "file_or_shared", "uffd_wp", "guard" }

-- ---- pagemap ----

T.test("half of a region written: present and exclusive exactly half, by both methods", function()
  local read, how = proc.pagemap(h.pid)
  T.eq(how, "read", "every field asked: pagemap is read (PAGEMAP_SCAN cannot tell exclusive pages)")
  local m = find(read, h, "half")
  T.eq({ m.size, m.present, m.exclusive, m.swapped, m.file_or_shared, m.guard },
       { 64 * PAGE, 32 * PAGE, 32 * PAGE, 0, 0, 0 }, "size, present, exclusive, swapped, file_or_shared, guard")
  local one, how_one = proc.pagemap(h.pid, m)
  T.eq({ one.vm_start, one.vm_end, one.present, how_one }, { m.vm_start, m.vm_end, 32 * PAGE, "read" }, "the mapping alone")
  local scanned, scan_how = proc.pagemap(h.pid, nil, { method = "scan" })
  T.eq(scan_how, "scan", "method")
  local s = find(scanned, h, "half")
  T.eq({ s.present, s.exclusive }, { 32 * PAGE, nil }, "scanned: present, and exclusive not known (nil, never 0)")
end)

T.test("a region never touched has nothing present, swapped or guarded", function()
  local m = find(proc.pagemap(h.pid), h, "untouched")
  for _, f in ipairs(PAGEMAP_FIELDS) do T.eq(m[f], 0, f) end
  T.eq(proc.pagemap(h.pid, m, { fields = { "present" } }).present, 0, "scanned")
end)

T.test("pages shared with a forked child are not exclusive; written again after the fork they are", function()
  local list = proc.pagemap(h.pid)
  local forked, cow = find(list, h, "forked"), find(list, h, "cow")
  T.eq({ forked.present, forked.exclusive }, { 16 * PAGE, 0 }, "forked: present, none exclusive")
  T.eq({ cow.present, cow.exclusive }, { 16 * PAGE, 16 * PAGE }, "copied on write: exclusive again")
end)

T.test("shared anonymous memory and a file's pages are file_or_shared", function()
  local list = proc.pagemap(h.pid)
  local shared, file = find(list, h, "shared"), find(list, h, "file")
  T.eq({ shared.present, shared.file_or_shared }, { 8 * PAGE, 8 * PAGE }, "shared anonymous")
  T.eq({ file.present, file.file_or_shared }, { 8 * PAGE, 8 * PAGE }, "file read")
  T.eq(find(list, h, "half").file_or_shared, 0, "private anonymous is neither")
end)

T.test("a guard region is counted as guard, not as swapped", function()
  if not h.notes.guard:match("^set") then
    T.skip("this kernel has no guard regions (MADV_GUARD_INSTALL, Linux 6.13+): " .. h.notes.guard, "anywhere")
  end
  local m = find(proc.pagemap(h.pid), h, "guard")
  if m.guard == 0 then T.skip("this kernel's pagemap does not show guard regions (Linux 6.15+)", "anywhere") end
  T.eq({ m.guard, m.present, m.swapped }, { 4 * PAGE, 12 * PAGE, 0 }, "guard, present, swapped")
  local s = proc.pagemap(h.pid, m, { fields = { "guard", "present", "swapped" } })
  T.eq({ s.guard, s.present, s.swapped }, { 4 * PAGE, 12 * PAGE, 0 }, "scanned")
end)

T.test("pages write-protected through userfaultfd are uffd_wp, by both methods", function()
  if not h.notes.uffd:match("^set") then
    T.skip("userfaultfd write-protection refused here: " .. h.notes.uffd, "anywhere")
  end
  local m = find(proc.pagemap(h.pid), h, "uffd")
  T.eq({ m.present, m.uffd_wp }, { 8 * PAGE, 8 * PAGE }, "read")
  T.eq(proc.pagemap(h.pid, m, { method = "scan" }).uffd_wp, 8 * PAGE, "scanned")
  T.eq(find(proc.pagemap(h.pid), h, "half").uffd_wp, 0, "a region not protected")
end)

T.test("soft-dirty: after clear_refs 4, only the pages written since", function()
  local m = find(proc.pagemap(h.pid), h, "softdirty")
  if m.soft_dirty == 0 then
    T.skip("pages just written are not soft-dirty: this kernel tracks none (CONFIG_MEM_SOFT_DIRTY)", "anywhere")
  end
  T.eq(m.soft_dirty, 16 * PAGE, "all written pages soft-dirty at first")
  T.eq(proc.clear_refs(h.pid, 4), true, "clear_refs 4")
  T.eq(proc.pagemap(h.pid, m).soft_dirty, 0, "none after clear_refs 4")
  h:send("write softdirty 0 5")
  T.eq(proc.pagemap(h.pid, m).soft_dirty, 5 * PAGE, "the five pages written since")
  T.eq(proc.pagemap(h.pid, m, { method = "scan" }).soft_dirty, 5 * PAGE, "scanned")
end)

T.test("read and scan agree on every field and mapping they both count", function()
  local read = proc.pagemap(h.pid)
  local scanned = proc.pagemap(h.pid, nil, { method = "scan" })
  T.eq(#scanned, #read, "mappings")
  for i, m in ipairs(read) do
    T.eq(scanned[i].vm_start, m.vm_start, "mapping " .. i)
    for _, f in ipairs(SCAN_FIELDS) do
      T.eq(scanned[i][f], m[f], format("%s of the mapping at %x (%s)", f, m.vm_start, m.path))
    end
  end
end)

T.test("a scan asked for one field alone counts it as the read does (the kernel is asked only what that needs)", function()
  local read = proc.pagemap(h.pid)
  for _, f in ipairs(SCAN_FIELDS) do
    local scanned, how = proc.pagemap(h.pid, nil, { fields = { f }, method = "scan" })
    T.eq({ how, #scanned }, { "scan", #read }, f .. ": method and mappings")
    for i, m in ipairs(read) do
      T.eq(scanned[i][f], m[f], format("%s alone, of the mapping at %x (%s)", f, m.vm_start, m.path))
    end
  end
end)

T.test("fields: the tables hold only those; auto scans when exclusive is not among them", function()
  local list, how = proc.pagemap(h.pid, nil, { fields = { "present" } })
  T.eq(how, "scan", "a kernel with PAGEMAP_SCAN (6.7+) scans")
  local m = find(list, h, "half")
  T.eq({ m.present, m.swapped, m.exclusive, m.vm_start, m.size }, { 32 * PAGE, nil, nil, h.regions.half.start, 64 * PAGE },
       "present and the mapping's place only")
  local _, how_excl = proc.pagemap(h.pid, nil, { fields = { "present", "exclusive" } })
  T.eq(how_excl, "read", "exclusive needs the read")
  local _, how_read = proc.pagemap(h.pid, nil, { fields = { "present" }, method = "read" })
  T.eq(how_read, "read", "method read")
end)

T.test("batched reads across mapping boundaries: three mappings, a read of 8192 entries ending inside one", function()
  local a, b, c = h.regions.stripes_a, h.regions.stripes_b, h.regions.stripes_c
  T.eq({ a.start + a.size, b.start + b.size }, { b.start, c.start }, "the three are adjacent")
  for _, method in ipairs { "read", "scan" } do
    local list = proc.pagemap(h.pid, nil, { method = method })
    -- every 3rd of 5000, every 5th of 6000, every 7th of 4000 pages
    T.eq({ find(list, h, "stripes_a").present, find(list, h, "stripes_b").present, find(list, h, "stripes_c").present },
         { 1667 * PAGE, 1200 * PAGE, 572 * PAGE }, method)
    -- the last 100 pages of a (4900-4999: 4902, 4905, ... 4998: 33 pages) and the first 100 of b (0, 5, ... 95: 20)
    local r = proc.pagemap(h.pid, { b.start - 100 * PAGE, b.start + 100 * PAGE }, { method = method })
    T.eq({ r.vm_start, r.vm_end, r.size, r.present }, { b.start - 100 * PAGE, b.start + 100 * PAGE, 200 * PAGE, 53 * PAGE },
         method .. ": a range over the boundary")
  end
  -- a range given by addresses inside pages takes the pages that hold them
  local r = proc.pagemap(h.pid, { b.start - PAGE + 1, b.start + 1 })
  T.eq({ r.vm_start, r.vm_end }, { b.start - PAGE, b.start + PAGE }, "rounded to whole pages")
end)

T.test("a process handle reads pagemap and numa_maps; the writers are the proc table's only", function()
  local p <close> = assert(proc.open(h.pid))
  T.eq(find(p:pagemap(), h, "half").present, 32 * PAGE, "p:pagemap()")
  local half = h.regions.half
  T.eq(p:pagemap({ half.start, half.start + half.size }).present, 32 * PAGE, "p:pagemap({start, stop})")
  T.ok(#p:numa_maps() > 10, "p:numa_maps()")
  T.eq({ p.clear_refs, p.mark_idle }, { nil, nil }, "no writers on handles")
end)

T.test("[vsyscall], above the process's addresses, has no counts: nil, never 0", function()
  local list = proc.pagemap(h.pid)
  local last = list[#list]
  if last.path ~= "[vsyscall]" then T.skip("no [vsyscall] mapping on this machine", "anywhere") end
  T.eq({ last.present, last.exclusive, last.size }, { nil, nil, PAGE }, "present, exclusive, size")
  T.eq(proc.pagemap(h.pid, nil, { method = "scan" })[#list].present, nil, "scanned")
end)

-- ---- kpageflags and kpagecount ----

local function need_root()
  if not is_root then T.skip("kpageflags and kpagecount are root's to read") end
end

T.test("kpageflags: anonymous, huge, locked and shared pages by flag; procrank's USS and PSS", function()
  need_root()
  local list = proc.pagemap(h.pid, nil, { kpageflags = true })
  local smaps = proc.smaps(h.pid)
  local half, forked, cow = find(list, h, "half"), find(list, h, "forked"), find(list, h, "cow")
  T.eq({ half.anon, half.swapbacked, half.rss, half.uss, half.pss, half.ksm, half.thp, half.mlocked },
       { 32 * PAGE, 32 * PAGE, 32 * PAGE, 32 * PAGE, 32 * PAGE, 0, 0, 0 }, "half: anon, swapbacked, rss, uss, pss, ksm, thp, mlocked")
  T.eq({ forked.rss, forked.uss, forked.pss }, { 16 * PAGE, 0, 8 * PAGE }, "forked: mapped twice, PSS half")
  T.eq(forked.pss, find(smaps, h, "forked").Pss, "forked: PSS as smaps says")
  T.eq({ cow.uss, cow.pss }, { 16 * PAGE, 16 * PAGE }, "copied on write: unique")
  local locked = find(list, h, "mlocked")
  T.eq({ locked.mlocked, locked.unevictable }, { 8 * PAGE, 8 * PAGE }, "mlocked and unevictable")
  T.eq(locked.mlocked, find(smaps, h, "mlocked").Locked, "mlocked as smaps Locked")
  local shared = find(list, h, "shared")
  T.eq({ shared.swapbacked, shared.anon, shared.dirty }, { 8 * PAGE, 0, 8 * PAGE }, "shmem: swap-backed, not anon, dirty")
  local file = find(list, h, "file")
  T.eq({ file.swapbacked, file.anon }, { 0, 0 }, "page cache: neither")
end)

T.test("kpageflags: a MADV_HUGEPAGE region's thp bytes equal smaps AnonHugePages", function()
  need_root()
  local m = find(proc.pagemap(h.pid, nil, { kpageflags = true }), h, "thp")
  local huge = find(proc.smaps(h.pid), h, "thp").AnonHugePages
  if huge == 0 then T.skip("the kernel backed the region with no huge page (THP never, or memory too fragmented)") end
  T.eq({ m.thp, m.present, m.exclusive }, { huge, 2 * 1024 * 1024, 2 * 1024 * 1024 }, "thp, present, exclusive")
end)

T.test("a region read and never written: the zero page, present but not in Rss", function()
  need_root()
  local m = find(proc.pagemap(h.pid, nil, { kpageflags = true }), h, "zeroread")
  T.eq(m.present, 16 * PAGE, "every page read is present")
  if m.zero_page == 0 and m.anon == 16 * PAGE then
    local cmdline = T.read_if("/proc/cmdline") or ""
    T.skip("this kernel gave each page read a page of its own, not the zero page" ..
           (cmdline:find("pvm_no_zero_page=1", 1, true) and " (pvm_no_zero_page=1 on this machine's command line)" or ""),
           "anywhere")
  end
  T.eq({ m.zero_page, m.exclusive, m.uss }, { 16 * PAGE, 0, 0 }, "zero_page, exclusive, uss")
  T.eq(find(proc.smaps(h.pid), h, "zeroread").Rss, 0, "smaps Rss counts no zero page")
end)

T.test("only = ksm, swapbacked or cache counts those pages alone, as procrank -k, -s, -c", function()
  need_root()
  local function rss(only, name) return find(proc.pagemap(h.pid, nil, { only = only }), h, name).rss end
  T.eq({ rss("swapbacked", "half"), rss("cache", "half"), rss("ksm", "half") }, { 32 * PAGE, 0, 0 }, "half")
  T.eq({ rss("swapbacked", "file"), rss("cache", "file") }, { 0, 8 * PAGE }, "file")
  T.eq(find(proc.pagemap(h.pid, nil, { only = "cache" }), h, "file").present, 8 * PAGE,
       "pagemap's own fields are not filtered")
end)

T.test("kpagecgroup: the pages' memory cgroup, by inode and by the path cgroup.of gives", function()
  need_root()
  local m = find(proc.pagemap(h.pid, nil, { kpagecgroup = true }), h, "half")
  T.eq(#m.cgroups, 1, "one cgroup")
  local g = m.cgroups[1]
  T.eq(g.bytes, 32 * PAGE, "its bytes")
  local of = assert(proc.cgroup.of(h.pid))
  T.eq(g.path, of.path, "the path of the helper's memory cgroup, as cgroup.of names it")
  local cgroup = proc.read(h.pid .. "/cgroup")
  local path = cgroup:match("\n%d+:[^:\n]*memory[^:\n]*:([^\n]+)") or cgroup:match("^%d+:[^:\n]*memory[^:\n]*:([^\n]+)")
    or cgroup:match("0::([^\n]+)")
  T.eq(g.path, path, "and as /proc/PID/cgroup writes it")
  T.ok(proc.cgroup.memory(g.path), "cgroup.memory takes it")
  -- the inode is the cgroup directory's, in the hierarchy cgroup.hierarchy() names
  local hierarchy = assert(proc.cgroup.hierarchy())
  local dir = hierarchy.path .. (g.path == "/" and "" or g.path)
  T.eq(g.inode, math.tointeger(T.sh("stat -c %i " .. T.q(dir)):match("%d+")), "inode of " .. dir)
end)

T.test("KSM: identical pages merged by ksmd are ksm pages", function()
  need_root()
  local ksm_dir = "/sys/kernel/mm/ksm/"
  local saved = {}
  for _, knob in ipairs { "run", "pages_to_scan", "sleep_millisecs" } do
    saved[knob] = T.read_if(ksm_dir .. knob)
    if not saved[knob] then T.skip("this kernel has no KSM (/sys/kernel/mm/ksm)", "anywhere") end
  end
  local function set(knob, value)
    local f = assert(io.open(ksm_dir .. knob, "w"))
    f:write(value)
    f:close()
  end
  local restore <close> = setmetatable({}, { __close = function()
    for _, knob in ipairs { "sleep_millisecs", "pages_to_scan", "run" } do set(knob, saved[knob]) end
  end })
  set("pages_to_scan", "5000")
  set("sleep_millisecs", "20")
  set("run", "1")
  local deadline, merged = os.time() + 30, 0
  while os.time() < deadline do
    local k = proc.ksm_stat(h.pid)
    merged = k and k.ksm_merging_pages or 0
    if merged >= 64 then break end
    os.execute("sleep 0.1")
  end
  T.eq(merged, 64, "ksmd merged the 64 identical pages (ksm_stat)")
  local m = find(proc.pagemap(h.pid, nil, { kpageflags = true }), h, "ksm")
  T.eq({ m.present, m.ksm, m.exclusive }, { 64 * PAGE, 64 * PAGE, 0 }, "present, ksm, exclusive")
  T.eq(find(proc.pagemap(h.pid, nil, { only = "ksm" }), h, "ksm").rss, 64 * PAGE, "only = ksm")
end)

-- ---- numa_maps ----

T.test("numa_maps on this machine: per node in bytes, N0 the resident pages of each mapping", function()
  local numa = assert(proc.numa_maps(h.pid))
  local smaps = proc.smaps(h.pid)
  local one_node = T.read_if("/sys/devices/system/node/node1/meminfo") == nil
  local half = find(numa, h, "half")
  T.eq({ half.policy, half.anon, half.dirty, half.kernelpagesize_kB }, { "default", 32 * PAGE, 32 * PAGE, PAGE // 1024 },
       "policy, anon, dirty, kernelpagesize_kB")
  local by_start, regions = {}, {}
  for _, m in ipairs(smaps) do by_start[m.vm_start] = m end
  for _, r in pairs(h.regions) do regions[r.start] = true end
  for _, m in ipairs(numa) do
    local s = by_start[m.vm_start]
    -- the helper's regions: numa_maps leaves out special mappings ([vdso]) that smaps counts
    if s and regions[m.vm_start] then
      local nodes = 0
      for k, v in pairs(m) do
        if k:match("^N%d+$") then nodes = nodes + v end
      end
      -- numa_maps counts no page the kernel does not count in Rss either (the zero page)
      T.eq(nodes, s.Rss, format("pages on the nodes of the mapping at %x (%s)", m.vm_start, s.path))
      if one_node then T.eq(m.N0 or 0, s.Rss, "N0 alone on a one-node machine") end
    end
  end
  T.eq(find(numa, h, "untouched").N0, nil, "no page: no N0 (nil, never 0)")
  local file = find(numa, h, "file").file
  T.ok(file:match("/pagehelper%.%w+\\040%(deleted%)$"), "the file as printed, its space escaped: " .. file)
end)

T.test("numa_maps: the shapes the kernel prints, every policy, a file name escaped", function()
  local out = T.memscript(T.fixtures .. "/shapes/proc", "-e " .. T.q([[
local list = assert(proc.numa_maps("self"))
for _, m in ipairs(list) do
  local keys = {}
  for k in pairs(m) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(m[k]) end
  print(table.concat(parts, " "))
end]]))
  local first = out:match("^[^\n]+")
  T.eq(first, format("N0=8192 file=/usr/bin/cat kernelpagesize_kB=4 mapped=8192 policy=default vm_start=%d",
                      0x563616703000), "the first mapping of cat")
  T.contains(out, "anon=16384 dirty=16384 heap=true kernelpagesize_kB=4 policy=default", "the heap")
  local tmp, cleanup_dir <close> = T.tempdir()
  T.sh("mkdir -p " .. T.q(tmp .. "/self"))
  T.sh("cp " .. T.q(T.fixtures .. "/shapes/proc/self/numa_maps-policies") .. " " .. T.q(tmp .. "/self/numa_maps"))
  local policies = T.memscript(tmp, "-e " .. T.q([[
for _, m in ipairs(proc.numa_maps("self")) do print(m.policy, m.N0, m.file) end]]))
  T.contains(policies, "weighted interleave:0\t4096\tnil\n", "a policy name with a space")
  T.contains(policies, "prefer (many):0\t4096\tnil\n", "prefer (many)")
  T.contains(policies, "local\t4096\tnil\n", "local")
  T.write(tmp .. "/self/numa_maps", "7f00 default anon=1 N0=1 N0=2 kernelpagesize_kB=4\n")
  T.eq(T.memscript(tmp, "-e 'print(proc.numa_maps(\"self\"))'"),
       format("nil\t%s/self/numa_maps:1: duplicate key 'N0'\t22\n", tmp), "a node twice")
  T.write(tmp .. "/self/numa_maps", "7f00 default anon=1 N0=1\n")
  T.eq(T.memscript(tmp, "-e 'print(proc.numa_maps(\"self\"))'"),
       format("nil\t%s/self/numa_maps:1: page counts without kernelpagesize_kB\t22\n", tmp), "no page size")
  T.write(tmp .. "/self/numa_maps", "7f00 default huge anon=3 N0=3 kernelpagesize_kB=2048\n")
  T.eq(T.memscript(tmp, "-e 'local m = proc.numa_maps(\"self\")[1] print(m.huge, m.N0, m.anon)'"),
       "true\t6291456\t6291456\n", "hugetlb counts in huge pages")
end)

-- ---- the scripts ----

T.test("numa.lua PID: each kind of mapping's bytes on each node, as numastat -p sorts them", function()
  local out, err, status = T.memscript(nil, "-f json numa.lua " .. h.pid)
  T.eq({ status, err }, { 0, "" }, "exit status, stderr")
  local rows = T.json(out)
  -- the same sums, made here from proc.numa_maps
  local want, nodes = { Huge = {}, Heap = {}, Stack = {}, Private = {}, Total = {} }, {}
  for _, m in ipairs(assert(proc.numa_maps(h.pid))) do
    local kind = m.huge and "Huge" or m.heap and "Heap" or m.stack and "Stack" or "Private"
    for k, v in pairs(m) do
      local n = k:match("^N(%d+)$")
      if n then
        nodes[n] = true
        want[kind]["node" .. n] = (want[kind]["node" .. n] or 0) + v
        want.Total["node" .. n] = (want.Total["node" .. n] or 0) + v
      end
    end
  end
  T.eq(#rows, 5, "Huge, Heap, Stack, Private, Total")
  for _, row in ipairs(rows) do
    for n in pairs(nodes) do
      T.eq(row["node" .. n], want[row.name]["node" .. n] or 0, row.name .. " on node " .. n)
    end
  end
  T.ok(rows[4].node0 >= 32 * PAGE, "the helper's private pages are there")
  local table_out = T.memscript(nil, "numa.lua " .. h.pid .. " self")
  T.contains(table_out, format("\n%d (pagehelper) ", h.pid), "a row per process")
end)

T.test("wss.lua: a method must be chosen; --idle says clearly when the kernel has no page_idle", function()
  local _, err, status = T.memscript(nil, "wss.lua " .. h.pid)
  T.eq(status, 3, "no method: a usage error")
  T.contains(err, "choose how to measure: --reset-refs", "the message")
  _, err, status = T.memscript(nil, "wss.lua --reset-refs --idle " .. h.pid)
  T.eq(status, 3, "both")
  if io.open("/sys/kernel/mm/page_idle/bitmap", "rb") == nil then
    _, err, status = T.memscript(nil, "wss.lua --idle -n 1 -i 0.1 " .. h.pid)
    T.eq(status, 3, "exit status without page_idle")
    T.contains(err, "/sys/kernel/mm/page_idle/bitmap: No such file or directory (this kernel has no page idle "
      .. "tracking, CONFIG_IDLE_PAGE_TRACKING; --reset-refs measures with referenced bits instead)", "stderr")
  end
end)

T.test("wss.lua --reset-refs: Referenced after clear_refs 1 is what the process touched since", function()
  -- the mechanism, step by step: cleared, then 8 pages of half written
  T.eq(proc.clear_refs(h.pid, 1), true, "clear_refs 1")
  T.eq(find(proc.smaps(h.pid), h, "half").Referenced, 0, "nothing referenced just after")
  h:send("write half 0 8")
  T.eq(find(proc.smaps(h.pid), h, "half").Referenced, 8 * PAGE, "the 8 pages written since")
  -- the script, on the helper waiting for a command: it touches none of its mappings' pages
  local out, err, status = T.memscript(nil, "-f json wss.lua --reset-refs -i 0.1 -n 2 " .. h.pid)
  T.eq(status, 0, "exit status (stderr " .. err .. ")")
  T.contains(err, "clearing the referenced bits of pid " .. h.pid, "it says what it does")
  local r = T.json(out)
  T.eq({ r.pid, r.command, r.method, #r.samples }, { h.pid, "pagehelper", "clear_refs", 2 }, "pid, command, method, samples")
  for i, s in ipairs(r.samples) do
    local sum = 0
    for _, m in ipairs(s.mappings) do sum = sum + m.bytes end
    T.eq(s.total, sum, "sample " .. i .. ": the total is the sum of the mappings")
  end
  local csv = T.csv(T.memscript(nil, "-f csv wss.lua --reset-refs -i 0.1 -n 1 " .. h.pid))
  T.eq(csv[1], { "sample", "seconds", "scope", "path", "bytes" }, "CSV header")
  T.eq({ csv[2][1], csv[2][3] }, { "1", "total" }, "the total first")
  local text = T.memscript(nil, "wss.lua --reset-refs -i 0.1 -n 1 " .. h.pid)
  T.eq(text:match("^[^\n]*"), format("pid %d (pagehelper): working set by clear_refs, 1 sample of 0.1 s", h.pid),
       "the table's heading")
end)

T.test("top.lua --swapbacked, --cache, --ksm: procrank's page filters, from kpageflags", function()
  need_root()
  for _, only in ipairs { "swapbacked", "cache", "ksm" } do
    local out, err, status = T.memscript(nil, format("-f json top.lua --%s -p %d", only, h.pid))
    T.eq({ status, err }, { 0, "" }, only .. ": exit status, stderr")
    local row = T.json(out)[1]
    local list = proc.pagemap(h.pid, nil, { only = only })
    T.eq({ row.pid, row.rss, row.swap, row.shmem_swap, row.footprint },
         { h.pid, list:sum("rss"), nil, nil, nil },
         only .. ": RSS as pagemap sums it; no swap, shmem swap or footprint")
    -- the PSS and USS of library pages move as other processes (the memscript just run) map them
    if only ~= "cache" then
      T.eq({ row.uss, row.pss }, { list:sum("uss"), list:sum("pss") }, only .. ": USS and PSS")
    else
      T.ok(row.uss > 0 and row.uss <= row.rss, format("cache: USS %d within RSS %d", row.uss, row.rss))
    end
  end
  -- per user: the same sums, the helper's user's row holding the helper alone
  local out, err, status = T.memscript(nil, format("-f json top.lua -u --swapbacked -p %d", h.pid))
  T.eq({ status, err }, { 0, "" }, "-u --swapbacked: exit status, stderr")
  local row = T.json(out)[1]
  local list = proc.pagemap(h.pid, nil, { only = "swapbacked" })
  T.eq({ row.procs, row.rss, row.uss, row.swap }, { 1, list:sum("rss"), list:sum("uss"), nil },
       "-u --swapbacked: RSS and USS as pagemap sums them; no swap")
  for _, view in ipairs { "-m", "-c" } do
    local _, why, code = T.memscript(nil, "top.lua --ksm " .. view)
    T.eq({ code, why:match("^[^\n]*") }, { 3, "memscript: top.lua: the page filters count processes' pages: not with -m or -c" },
         view .. ": refused")
  end
end)

T.test("top.lua --wss: a WSS column, the pages referenced after clear_refs", function()
  local out, err, status = T.memscript(nil, format("-f json top.lua --wss 0.1 -p %d", h.pid))
  T.eq({ status, err }, { 0, "" }, "exit status, stderr")
  local row = T.json(out)[1]
  T.eq(math.type(row.wss), "integer", "wss")
  T.ok(row.wss <= row.rss, "no more than resident")
  local text = T.memscript(nil, format("top.lua --wss 0.1 -p %d", h.pid))
  T.ok(text:match("^ *PID +User +Command +USS +PSS +RSS +Swap%a* +ShmemSwap +Footprint +WSS\n"), "the column last: " .. text)
  local _, why, code = T.memscript(nil, format("-f folded top.lua --wss 0.1 -p %d", h.pid))
  T.eq({ code, why:match("^[^\n]*") }, { 3, "memscript: top.lua: -f folded writes a size per stack: --wss does not apply" },
       "-f folded: refused, nothing cleared")
end)

-- ---- errors ----

T.test("a captured tree has no pagemap: an error naming the file, never zeros", function()
  local root = T.fixtures .. "/helper-capture"
  local out = T.memscript(root, "-e " .. T.q([[
print(proc.pagemap(1848))
print(proc.pagemap(1848, {4096, 8192}, {method = "scan"}))
print(proc.mark_idle(1848))
print(proc.clear_refs(1848, 1))]]))
  local proc_dir = root .. "/proc/1848"
  T.eq(out, format("nil\t%s/pagemap: not in a captured tree (pagemap is a view of the running system's memory)\t95\n", proc_dir):rep(3) ..
            format("nil\t%s/clear_refs: Read-only file system\t30\n", proc_dir), "pagemap, mark_idle, clear_refs")
end)

T.test("without privilege: nil, message, EACCES or EPERM, never zeros", function()
  if not is_root or T.run("command -v setpriv") == "" then T.skip("needs root and setpriv to read as another user") end
  local nobody = { prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups" }
  local out = T.memscript(nil, "-e " .. T.q(format([[
print(proc.pagemap(%d))
print(proc.pagemap("self", nil, {kpageflags = true}))
local own = proc.pagemap("self")
print(#own > 5, own:sum("present") > 0)]], h.pid)), nobody)
  T.eq(out, format("nil\t/proc/%d/pagemap: Permission denied\t13\n", h.pid) ..
            "nil\t/proc/kpageflags: Permission denied\t13\ntrue\ttrue\n",
       "another user's process; kpageflags; its own pages, counted without privilege")
  -- root without CAP_SYS_ADMIN may open kpageflags (its owner) but pagemap hides the frame numbers
  local no_admin = { prefix = "setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin" }
  local hidden = T.memscript(nil, "-e " .. T.q(format("print(proc.pagemap(%d, nil, {kpageflags = true}))", h.pid)), no_admin)
  T.eq(hidden, format("nil\t/proc/%d/pagemap: page frame numbers are hidden (reading them needs CAP_SYS_ADMIN)\t1\n", h.pid),
       "frame numbers hidden: EPERM")
end)

T.test("a process that ends while its pagemap is read: ESRCH, never the zeros after it", function()
  local big = start_helper()
  local closing <close> = setmetatable({}, { __close = function() big:stop() end })
  big:send("sparse 1024")
  local r = big.regions.sparse
  local range = format("{%d, %d}", r.start, r.start + r.size)
  -- how long one read of the terabyte's entries takes here, to end the process a quarter of the way in
  local t0 = require("memscript.sys").monotonic()
  assert(proc.pagemap(big.pid, { r.start, r.start + r.size }, { method = "read" }))
  local took = require("memscript.sys").monotonic() - t0
  local out_path = os.tmpname()
  T.sh(format("%s >%s 2>&1 &", T.memscript_command(nil, "-e " .. T.q(format(
    "print(proc.pagemap(%d, %s, {method = 'read'}))", big.pid, range))), T.q(out_path)))
  os.execute(format("sleep %.3f; kill -KILL %d", took / 4, big.pid))
  local deadline = os.time() + 20
  local out = ""
  while os.time() < deadline do
    out = T.read_if(out_path) or ""
    if out:find("\n") then break end
    os.execute("sleep 0.05")
  end
  os.remove(out_path)
  T.eq(out, format("nil\t/proc/%d/pagemap: No such process\t3\n", big.pid),
       format("ended about %.0f ms into a read of %.0f ms", took / 4 * 1000, took * 1000))
end)

T.test("wrong arguments raise", function()
  T.raises(function() proc.pagemap(h.pid, { 8192, 4096 }) end, "start must be below stop")
  T.raises(function() proc.pagemap(h.pid, "all") end, "a mapping or {start, stop} expected")
  T.raises(function() proc.pagemap(h.pid, nil, { fields = { "Rss" } }) end, "no field 'Rss'")
  T.raises(function() proc.pagemap(h.pid, nil, { method = "scan", kpageflags = true }) end, "need \"read\"")
  T.raises(function() proc.pagemap(h.pid, nil, { method = "fast" }) end, "method: \"auto\", \"read\" or \"scan\" expected, got 'fast'")
  T.raises(function() proc.pagemap(h.pid, nil, { only = "anon" }) end, "only: \"ksm\", \"swapbacked\" or \"cache\" expected, got 'anon'")
  T.raises(function() proc.clear_refs(h.pid, 6) end, "1, 2, 3, 4 or 5 expected")
end)

-- ---- idle pages ----

T.test("page_idle: marking and counting idle pages, or a clear error where the kernel has none", function()
  local bitmap = io.open("/sys/kernel/mm/page_idle/bitmap", "rb")
  if not bitmap then
    T.eq({ proc.mark_idle(h.pid) }, { nil, "/sys/kernel/mm/page_idle/bitmap: No such file or directory", 2 }, "mark_idle")
    T.eq({ proc.pagemap(h.pid, nil, { idle = true }) },
         { nil, "/sys/kernel/mm/page_idle/bitmap: No such file or directory", 2 }, "idle counts")
    return
  end
  bitmap:close()
  need_root()
  local half = h.regions.half
  T.eq(proc.mark_idle(h.pid, half), 32 * PAGE, "the 32 present pages marked")
  h:send("write half 0 8")
  local m = proc.pagemap(h.pid, half, { idle = true })
  T.eq(m.idle, 24 * PAGE, "the 24 pages not written since stayed idle")
end)

T.done()
