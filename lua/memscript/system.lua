-- system.lua: where the machine's memory went: MemTotal split into parts that add up to it exactly,
-- each from the kernel's own figures and with what it means, and beside them the machine's swap, its
-- tmpfs mounts and the processes that could not be read.
--
--   local system = require "memscript.system"
--   local account = assert(system.account())
--   for _, row in ipairs(account.rows) do print(row.part, row.kind, row.bytes, row.meaning) end
--
-- The parts (kind "part") add up to MemTotal (kind "total"); the shares of a part (kind "share",
-- named "part.share") add up to the part. Figures beside the account, in no sum, are kind "note".
-- Every figure is the kernel's (meminfo, smaps_rollup, statfs, zram's mm_stat) or a sum or a
-- difference of them; a part made from figures read at different moments (a scan of the processes
-- and meminfo) is marked `estimate`, and its meaning says how it was made. What no counter explains
-- is "unaccounted", the remainder, shown whatever its sign, with why it can be negative.

local proc_default = require "memscript"
local sys = require "memscript.sys"
local unreadable = require "memscript.unreadable"
local meminfo_module = require "memscript.meminfo"
local units = require "memscript.units"

local format, find, match, gmatch, gsub, char, sub = string.format, string.find, string.match, string.gmatch,
  string.gsub, string.char, string.sub
local concat, sort = table.concat, table.sort
local ipairs, pairs, type, tonumber, tostring = ipairs, pairs, type, tonumber, tostring
local tointeger = math.tointeger

local MEANINGS = meminfo_module.meanings

local M = {}

-- errno values (Linux, every architecture).
local ENOENT = 2

---------------------------------------------------------------------------------------------------
-- The scan of the processes.

-- A kernel thread or a zombie has no memory of its own (top.lua leaves them out the same way).
local function without_memory(status)
  local state = type(status.State) == "string" and status.State:sub(1, 1) or ""
  return status.Kthread == 1 or state == "Z" or state == "X"
end

-- smaps_rollup's swap of a process: SwapPss where the kernel prints it (it does wherever there is a
-- smaps_rollup), else Swap; and which of the two it is.
function M.swap_of(rollup)
  if rollup.SwapPss ~= nil then return rollup.SwapPss, "SwapPss" end
  if rollup.Swap ~= nil then return rollup.Swap, "Swap" end
  return nil, nil
end

-- The shmem pages of a process's mappings that are swapped out: smaps_rollup's Swap counts them
-- (whole, not shared out: the kernel keeps no count of who shares them), SwapPss and status VmSwap
-- do not (those count the swap entries in the process's page tables, which a swapped-out shmem page
-- does not leave). Swap - VmSwap, from two files read one after the other; nil when either is absent.
function M.shmem_swap_of(rollup, status)
  if rollup.Swap == nil or status == nil or status.VmSwap == nil then return nil end
  return rollup.Swap - status.VmSwap
end

-- Reads every process's status and smaps_rollup through one handle each, the next ones read ahead
-- by other threads (unreadable.scan). Returns
--   {read = n, processes = {{pid, name, pss, anon, file, shmem, swap, swap_source, shmem_swap}...},
--    (swap nil where smaps_rollup printed neither SwapPss nor Swap),
--    sums = {pss, anon, file, shmem, unsplit, unsplit_processes, swap, swap_pss_missing, swap_unread},
--    tally (unreadable.tally), failed = {{pid, reason}...}, seconds}
function M.scan(p)
  p = p or proc_default
  local pids, msg, errno = p.pids()
  if not pids then return nil, msg, errno end
  local started = sys.monotonic()
  local processes, failed = {}, {}
  local sums = {pss = 0, anon = 0, file = 0, shmem = 0, unsplit = 0, unsplit_processes = 0, swap = 0,
                swap_pss_missing = 0, swap_unread = 0}
  -- status first: a kernel thread or a zombie is left out before its smaps_rollup is asked for
  local function read_memory(target)
    local handle <close>, reason, message = unreadable.open(target, p, "status")
    if not handle then return nil, reason, message end
    local t
    t, reason, message = unreadable.read_process(handle, {"status"}, p)
    if not t then return nil, reason, message end
    local status = t.status
    if without_memory(status) then return nil, "none" end
    t, reason, message = unreadable.read_process(handle, {"smaps_rollup"}, p)
    if not t then return nil, reason, message end
    if t.smaps_rollup.Rss == nil then return nil, "none" end
    return t.smaps_rollup, status
  end
  local function read(target)
    local rollup, status, message = read_memory(target)
    if not rollup and status ~= "none" then
      failed[#failed + 1] = {pid = type(target) == "userdata" and target.pid or target, reason = status}
    end
    return rollup, status, message
  end
  local function use(pid, rollup, status)
    local pss = rollup.Pss or 0
    local swap, source = M.swap_of(rollup)
    local record = {pid = pid, name = status.Name, pss = pss, anon = rollup.Pss_Anon, file = rollup.Pss_File,
                    shmem = rollup.Pss_Shmem, swap = swap, swap_source = source,
                    shmem_swap = M.shmem_swap_of(rollup, status)}
    processes[#processes + 1] = record
    sums.pss = sums.pss + pss
    if record.anon and record.file and record.shmem then
      sums.anon, sums.file, sums.shmem = sums.anon + record.anon, sums.file + record.file, sums.shmem + record.shmem
    else
      sums.unsplit = sums.unsplit + pss
      sums.unsplit_processes = sums.unsplit_processes + 1
    end
    sums.swap = sums.swap + (swap or 0)
    if source == "Swap" then sums.swap_pss_missing = sums.swap_pss_missing + 1 end
    if source == nil then sums.swap_unread = sums.swap_unread + 1 end
  end
  local count, tally = unreadable.scan(pids, read, use, {p = p, files = {"status", "smaps_rollup"}})
  -- read is called out of order where that saves waiting: failed in pid order all the same
  table.sort(failed, function(a, b) return a.pid < b.pid end)
  return {read = count, processes = processes, sums = sums, tally = tally, failed = failed,
          seconds = sys.monotonic() - started, pids = #pids}
end

-- The most the processes that could not be read can hold: the RSS their status shows now (PSS is
-- never above RSS), by kind. A process gone since holds nothing: meminfo, read after the scan, no
-- longer counts its memory. Returns {processes, bounded, rss, anon, file, shmem}; rss is nil when no
-- process could be bounded, anon, file and shmem when one of those bounded has no RssAnon, RssFile
-- and RssShmem in its status.
local function bound_unreadable(p, failed)
  local bound = {processes = #failed, bounded = 0, gone = 0}
  local by_kind = true
  for _, f in ipairs(failed) do
    local status = f.reason ~= "gone" and p.status(f.pid) or nil
    if status and not without_memory(status) and status.VmRSS ~= nil then
      bound.bounded = bound.bounded + 1
      bound.rss = (bound.rss or 0) + status.VmRSS
      if status.RssAnon and status.RssFile and status.RssShmem then
        bound.anon = (bound.anon or 0) + status.RssAnon
        bound.file = (bound.file or 0) + status.RssFile
        bound.shmem = (bound.shmem or 0) + status.RssShmem
      else
        by_kind = false
      end
    else
      bound.gone = bound.gone + 1
    end
  end
  if not by_kind then bound.anon, bound.file, bound.shmem = nil, nil, nil end
  return bound
end

---------------------------------------------------------------------------------------------------
-- What the running kernel tells beside meminfo.

-- Whether this kernel allocates task stacks with vmalloc (CONFIG_VMAP_STACK), so that KernelStack
-- is counted in VmallocUsed as well: true or false with the evidence, or nil with why it is not
-- known. The kernel's configuration in /boot says so (on the running system only); otherwise
-- /proc/vmallocinfo (readable by root) shows stacks as vmalloc areas allocated where a task is
-- created. No evidence either way leaves it unknown.
local STACK_CALLERS = {"kernel_clone", "copy_process", "dup_task_struct", "alloc_thread_stack_node",
                       "fork_idle", "create_io_thread", "kernel_thread", "user_mode_thread"}

function M.stacks_in_vmalloc(p, live)
  p = p or proc_default
  local release = p.meta().kernel_release
  local config_path = release and ("/boot/config-" .. release)
  if live and config_path then
    local config = sys.read_file(config_path)
    if config then
      if find(config, "\nCONFIG_VMAP_STACK=y", 1, true) then
        return true, config_path .. " sets CONFIG_VMAP_STACK=y"
      elseif find(config, "\n# CONFIG_VMAP_STACK is not set", 1, true) then
        return false, config_path .. " leaves CONFIG_VMAP_STACK unset"
      end
    end
  end
  local info, msg = p.read("vmallocinfo")
  if not info then
    if not live then return nil, "a tree read from " .. p.root() .. " does not tell" end
    return nil, format("neither %s nor %s could be read (%s)", config_path or "/boot/config-RELEASE",
      p.root() .. "/vmallocinfo", msg)
  end
  local callers = {}
  for _, name in ipairs(STACK_CALLERS) do callers[name] = true end
  for line in gmatch(info, "[^\n]+") do
    local caller = match(line, "^%S+%s+%d+%s+([%w_.]+)%+0x%x+/0x%x+ pages=%d+")
    if caller and callers[caller] then
      return true, format("%s/vmallocinfo shows stacks allocated with vmalloc by %s", p.root(), caller)
    end
  end
  return nil, format("%s/vmallocinfo names no stack allocation and %s could not be read", p.root(),
    config_path or "/boot/config-RELEASE")
end

-- The memory zram devices take (mm_stat's third field, mem_used_total: compressed data and the
-- allocator's overhead), from /sys/block/zram*/mm_stat: bytes and the devices' names, or nil and
-- why when no device could be read; 0 and no names when the machine has no zram device.
function M.zram(p)
  p = p or proc_default
  local names, msg = p.list("block", "sys")
  if not names then return nil, msg end
  local total, devices = 0, {}
  for _, name in ipairs(names) do
    if match(name, "^zram%d+$") then
      local text, err = p.read("block/" .. name .. "/mm_stat", "sys")
      if not text then return nil, err end
      local used = tointeger(tonumber(match(text, "^%s*%d+%s+%d+%s+(%d+)")))
      if not used then return nil, format("block/%s/mm_stat: no mem_used_total in %q", name, text) end
      total = total + used
      devices[#devices + 1] = name
    end
  end
  return total, devices
end

-- The free pages held on the per-CPU lists, which MemFree does not count (the page allocator keeps a
-- batch of free pages per CPU and zone, out of the free lists): the sum of the "count:" lines of
-- /proc/zoneinfo's pagesets, in pages of p.page_size(). Returns bytes and the number of lists, or nil
-- and a message when zoneinfo cannot be read or holds no pagesets.
function M.percpu_free(p)
  p = p or proc_default
  local text, msg = p.read("zoneinfo")
  if not text then return nil, msg end
  local pages, lists = 0, 0
  for at, count in gmatch(text, "\n()%s+count:%s+(%d+)") do
    local n = tointeger(tonumber(count))
    if not n then
      local _, lines_before = gsub(sub(text, 1, at - 1), "\n", "")
      return nil, format("%s/zoneinfo:%d: 'count: %s': not a count of pages", p.root(), lines_before + 1,
        #count > 40 and "a long number" or count)
    end
    pages = pages + n
    lists = lists + 1
  end
  if lists == 0 then return nil, p.root() .. "/zoneinfo: no pagesets" end
  return pages * p.page_size(), lists
end

-- The tmpfs (and devtmpfs) file systems of memscript's mount namespace, each once, by use: {{point,
-- dev, used, size, reason}...} from /proc/self/mountinfo and statfs. used and size are nil with a
-- reason when the mount cannot be measured: mounted over (statfs of its path reaches another file
-- system), or without a size limit (tmpfs then reports no blocks). nil and a message when mountinfo
-- cannot be read.
local TMPFS_MAGIC = 0x01021994

local function mountinfo_path(text)
  return (gsub(text, "\\(%d%d%d)", function(octal) return char(tonumber(octal, 8)) end))
end

function M.tmpfs_mounts(p)
  p = p or proc_default
  local text, msg = p.read("self/mountinfo")
  if not text then return nil, msg end
  local points_of, devs = {}, {}
  for line in gmatch(text, "[^\n]+") do
    local dev, point = match(line, "^%d+ %d+ (%d+:%d+) %S+ (%S+) ")
    local fstype = match(line, " %- (%S+) ")
    if dev and (fstype == "tmpfs" or fstype == "devtmpfs") then
      if not points_of[dev] then
        points_of[dev] = {}
        devs[#devs + 1] = dev
      end
      local list = points_of[dev]
      list[#list + 1] = mountinfo_path(point)
    end
  end
  local mounts = {}
  for _, dev in ipairs(devs) do
    local mount = {dev = dev, point = points_of[dev][1], reason = "mounted over: its path reaches another file system"}
    for _, point in ipairs(points_of[dev]) do
      local st = sys.statfs(point)
      if st and st.dev == dev and st.type == TMPFS_MAGIC then
        mount.point, mount.reason = point, nil
        if st.blocks > 0 then
          mount.used = (st.blocks - st.blocks_free) * st.block_size
          mount.size = st.blocks * st.block_size
        else
          mount.reason = "no size limit: statfs reports no blocks"
        end
        break
      end
    end
    mounts[#mounts + 1] = mount
  end
  sort(mounts, function(a, b)
    if (a.used or -1) ~= (b.used or -1) then return (a.used or -1) > (b.used or -1) end
    return a.point < b.point
  end)
  return mounts
end

---------------------------------------------------------------------------------------------------
-- The account.

-- meminfo keys that are shares or views of figures the parts already hold, or not amounts of
-- memory in MemTotal: never shown as unplaced.
local NOT_PARTS = {}
for _, key in ipairs({"MemTotal", "MemAvailable", "Active", "Inactive", "Active(anon)", "Inactive(anon)",
  "Active(file)", "Inactive(file)", "Unevictable", "Mlocked", "HighTotal", "HighFree", "LowTotal", "LowFree",
  "MmapCopy", "SwapTotal", "SwapFree", "Zswapped", "Dirty", "Writeback", "Mapped", "Slab", "NFS_Unstable",
  "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocChunk", "EarlyMemtestBad", "AnonHugePages",
  "ShmemHugePages", "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree", "HugePages_Total",
  "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "DirectMap4k", "DirectMap4M",
  "DirectMap2M", "DirectMap1G"}) do
  NOT_PARTS[key] = true
end

-- The keys the parts are made of.
local USED = {}
for _, key in ipairs({"MemFree", "Buffers", "Cached", "SwapCached", "AnonPages", "Shmem", "KReclaimable",
  "SReclaimable", "SUnreclaim", "KernelStack", "ShadowCallStack", "PageTables", "SecPageTables", "Bounce",
  "WritebackTmp", "VmallocUsed", "Percpu", "HardwareCorrupted", "Hugetlb", "Zswap"}) do
  USED[key] = true
end

-- The kernel's own allocations as meminfo counts them, each a share of part "kernel": {share name, key,
-- meaning (default: the key's), value = function(mi) (default: the key's value)}.
local KERNEL_SHARES = {
  {"slab_reclaimable", "SReclaimable"},
  {"slab_unreclaimable", "SUnreclaim"},
  {"other_reclaimable", "KReclaimable",
   "KReclaimable less SReclaimable: other kernel allocations a shrinker frees under memory pressure",
   value = function(mi) return mi.SReclaimable and mi.KReclaimable - mi.SReclaimable end},
  {"stacks", "KernelStack"},
  {"shadow_call_stacks", "ShadowCallStack",
   "the shadow call stacks of all tasks; may be allocated with vmalloc and then counted in VmallocUsed too"},
  {"page_tables", "PageTables"},
  {"secondary_page_tables", "SecPageTables"},
  {"percpu", "Percpu"},
  {"bounce", "Bounce"},
  {"writeback_tmp", "WritebackTmp"},
}

local digits, plural = units.digits, units.plural

-- The account of the machine p reads (default: memscript's proc). opts.scan: a scan already made
-- (M.scan) to use instead of scanning again. Returns
--   {memtotal, rows = {{part, kind, bytes, meaning, estimate}...}, by_part = {name = row}, scan,
--    meminfo, live, unreadable = bound, stacks_in_vmalloc, tmpfs = mounts or nil}
-- or nil, message, errno when /proc/meminfo cannot be read.
function M.account(p, opts)
  p = p or proc_default
  opts = opts or {}
  local meta = p.meta()
  local live = not meta.captured and p.root() == "/proc"
  local before, msg, errno = p.meminfo()
  if not before then return nil, msg, errno end
  local scan = opts.scan
  if not scan then
    scan, msg, errno = M.scan(p)
    if not scan then return nil, msg, errno end
  end
  -- meminfo after the scan: a process that ended while the scan ran no longer holds memory in it
  local mi
  mi, msg, errno = p.meminfo()
  if not mi then return nil, msg, errno end
  local memtotal = mi.MemTotal
  if memtotal == nil then return nil, p.root() .. "/meminfo: no MemTotal", ENOENT end

  local rows, by_part = {}, {}
  local placed = 0
  local missing = {}
  local function add(kind, name, bytes, meaning, estimate)
    local row = {part = name, kind = kind, bytes = bytes, meaning = meaning, estimate = estimate or false}
    rows[#rows + 1] = row
    by_part[name] = row
    if kind == "part" then placed = placed + bytes end
    return row
  end
  local function need(...)
    local absent = {}
    for _, key in ipairs({...}) do
      if mi[key] == nil then absent[#absent + 1] = key end
    end
    if #absent == 0 then return true end
    for _, key in ipairs(absent) do missing[key] = true end
    return false
  end
  local sums = scan.sums
  local split = sums.unsplit_processes == 0

  -- processes
  local processes = add("part", "processes", sums.pss,
    format("PSS of the %s read (smaps_rollup Pss): a page N processes map counts 1/N in each",
      plural(scan.read, "process", "processes")))
  if sums.unsplit_processes < scan.read then
    add("share", "processes.anon", sums.anon,
      "Pss_Anon: anonymous memory mapped (heaps, stacks, private copies of written file pages)")
    add("share", "processes.file", sums.file, "Pss_File: files mapped (programs, libraries, data files)")
    add("share", "processes.shmem", sums.shmem,
      "Pss_Shmem: shared memory mapped (tmpfs files, System V segments, memfds, shared anonymous mappings)")
    add("share", "processes.rounding", sums.pss - sums.unsplit - sums.anon - sums.file - sums.shmem,
      "the kernel rounds Pss and each of Pss_Anon, Pss_File and Pss_Shmem down to a kB on its own (under 3 kB "
        .. "per process); the parts made by subtraction use the three, so unaccounted is low by as much")
    if not split then
      add("share", "processes.unsplit", sums.unsplit, format("Pss of the %s whose smaps_rollup prints no "
        .. "Pss_Anon, Pss_File and Pss_Shmem", plural(sums.unsplit_processes, "process", "processes")))
    end
  elseif scan.read > 0 then
    processes.meaning = processes.meaning .. "; not split: smaps_rollup prints no Pss_Anon, Pss_File and Pss_Shmem"
  end

  -- user memory the processes read do not map
  local not_read = "processes not read (unreadable, or started during the scan)"
  if split then
    if need("AnonPages") then
      add("part", "anon_unread", mi.AnonPages - sums.anon,
        "estimate: AnonPages less processes.anon: the anonymous memory of " .. not_read .. ", and its change "
          .. "while the scan ran", true)
    end
    if need("Cached", "Shmem", "Buffers") then
      local files = mi.Cached - mi.Shmem - sums.file
      add("part", "page_cache", files + mi.Buffers,
        "estimate: Cached less Shmem, plus Buffers, less processes.file: the page cache no process read maps",
        true)
      add("share", "page_cache.files", files,
        "estimate: Cached less Shmem and processes.file: file contents no process read maps", true)
      add("share", "page_cache.buffers", mi.Buffers, "Buffers: " .. MEANINGS.Buffers)
    end
    if need("Shmem") then
      add("part", "shmem", mi.Shmem - sums.shmem,
        "estimate: Shmem less processes.shmem: shared memory and tmpfs no process read maps (tmpfs files, "
          .. "System V segments and memfds not mapped)", true)
    end
  elseif need("AnonPages", "Cached", "Buffers") then
    add("part", "not_in_processes", mi.AnonPages + mi.Cached + mi.Buffers - sums.pss,
      "estimate: AnonPages, Cached and Buffers less processes: the page cache and shmem no process read maps, "
        .. "and the anonymous memory of " .. not_read .. " (not split: some processes' smaps_rollup has no "
        .. "Pss_Anon, Pss_File and Pss_Shmem)", true)
  end
  if need("SwapCached") then
    local meaning = "SwapCached: " .. MEANINGS.SwapCached
    if mi.SwapCached > 0 then
      meaning = meaning .. "; the pages of it still mapped are in processes.anon too: unaccounted is low by as "
        .. "much as this"
    end
    add("part", "swap_cache", mi.SwapCached, meaning)
  end

  -- the kernel's own allocations
  local stacks_vmalloc, stacks_how = M.stacks_in_vmalloc(p, live)
  local kernel = add("part", "kernel", 0, "memory the kernel allocated for itself, as meminfo counts it")
  local kernel_bytes = 0
  local function kernel_share(name, bytes, meaning, estimate)
    kernel_bytes = kernel_bytes + bytes
    add("share", "kernel." .. name, bytes, meaning, estimate)
  end
  for _, share in ipairs(KERNEL_SHARES) do
    local key = share[2]
    local bytes = mi[key]
    if bytes ~= nil and share.value then bytes = share.value(mi) end
    if bytes ~= nil then
      kernel_share(share[1], bytes, share.value and share[3] or (key .. ": " .. (share[3] or MEANINGS[key])))
    end
  end
  if mi.VmallocUsed ~= nil then
    if stacks_vmalloc and mi.KernelStack ~= nil then
      kernel_share("vmalloc", mi.VmallocUsed - mi.KernelStack,
        "VmallocUsed less KernelStack: memory allocated with vmalloc (modules, BPF, large tables) but the task "
          .. "stacks, counted in kernel.stacks (" .. stacks_how .. ")")
    elseif stacks_vmalloc == false then
      kernel_share("vmalloc", mi.VmallocUsed, "VmallocUsed: memory allocated with vmalloc (modules, BPF, large "
        .. "tables; " .. stacks_how .. ")")
    else
      kernel_share("vmalloc", mi.VmallocUsed, "VmallocUsed: memory allocated with vmalloc (modules, BPF, large "
        .. "tables); unknown whether it holds the task stacks too (" .. stacks_how .. "): if it does "
        .. "(CONFIG_VMAP_STACK), KernelStack is counted twice and unaccounted is low by as much")
    end
  end
  kernel.bytes = kernel_bytes
  placed = placed + kernel_bytes

  -- pools and compressed memory
  if mi.Hugetlb ~= nil then
    add("part", "hugetlb", mi.Hugetlb, "Hugetlb: the hugetlb pool, huge pages of every size, in use or free"
      .. (mi.HugePages_Free and format(" (free of the default size: %s pages)", digits(mi.HugePages_Free)) or "")
      .. "; no process's PSS counts them")
  elseif mi.HugePages_Total ~= nil and mi.Hugepagesize ~= nil then
    add("part", "hugetlb", mi.HugePages_Total * mi.Hugepagesize, "estimate: HugePages_Total times Hugepagesize: "
      .. "the pool of the default huge page size only (this kernel prints no Hugetlb for every size)", true)
  end
  if mi.Zswap ~= nil then
    add("part", "zswap", mi.Zswap, "Zswap: " .. MEANINGS.Zswap .. (mi.Zswapped and
      format(", holding %s bytes of swapped-out memory (Zswapped)", digits(mi.Zswapped)) or ""))
  end
  local zram_bytes, zram_devices = M.zram(p)
  if zram_bytes and #zram_devices > 0 then
    add("part", "zram", zram_bytes, format("the memory of %s (%s): mem_used_total of its mm_stat, compressed "
      .. "data and the allocator's overhead; no meminfo key counts it", plural(#zram_devices, "zram device"),
      concat(zram_devices, " ")))
  end
  if mi.HardwareCorrupted ~= nil then
    add("part", "hardware_corrupted", mi.HardwareCorrupted, "HardwareCorrupted: " .. MEANINGS.HardwareCorrupted
      .. ", taken out of use")
  end
  if need("MemFree") then add("part", "free", mi.MemFree, "MemFree: " .. MEANINGS.MemFree) end
  local percpu, lists = M.percpu_free(p)
  if percpu then
    add("part", "free_percpu", percpu, format("free pages the page allocator holds on its %d per-CPU lists "
      .. "(/proc/zoneinfo pagesets, count), read just after meminfo; MemFree does not count them", lists))
  end

  -- the remainder
  local unaccounted = memtotal - placed
  local meaning = "MemTotal less every part above: memory the kernel allocated with no meminfo counter "
    .. "(such as pipe and some network buffers, drivers' own pages), "
    .. (percpu and "" or "free pages held on per-CPU lists (MemFree leaves them out; /proc/zoneinfo not read), ")
    .. "and the estimates' error"
  local absent = {}
  for key in pairs(missing) do absent[#absent + 1] = key end
  sort(absent)
  if #absent > 0 then
    meaning = meaning .. "; and the parts not made for want of " .. concat(absent, ", ") .. " in meminfo"
  end
  if unaccounted < 0 then
    meaning = meaning .. "; negative: some memory is counted twice (the overlaps named above) or moved while "
      .. "the processes were read"
  end
  add("part", "unaccounted", unaccounted, meaning, true)
  add("total", "MemTotal", memtotal, "MemTotal: " .. MEANINGS.MemTotal)

  -- beside the account: swap
  if mi.SwapTotal ~= nil and mi.SwapFree ~= nil then
    local used = mi.SwapTotal - mi.SwapFree
    add("note", "swap.total", mi.SwapTotal, "SwapTotal: " .. MEANINGS.SwapTotal)
    add("note", "swap.used", used, "SwapTotal less SwapFree: swap space in use")
    local source = sums.swap_pss_missing == 0 and "SwapPss: each process's share of its swapped-out pages"
      or format("SwapPss, and Swap for the %s whose smaps_rollup has no SwapPss (a page they share counted "
        .. "whole in each)", plural(sums.swap_pss_missing, "process", "processes"))
    if sums.swap_unread > 0 then
      source = source .. format("; not the %s whose smaps_rollup prints neither SwapPss nor Swap",
        plural(sums.swap_unread, "process", "processes"))
    end
    add("note", "swap.processes", sums.swap, "the swap of the processes read: " .. source)
    local other = used - sums.swap
    add("note", "swap.other", other, "swap used the processes' SwapPss leaves out: shmem and tmpfs "
      .. "pages swapped out (SwapPss never counts them), " .. not_read .. ", and slots kept for pages back in the "
      .. "swap cache" .. (other < 0 and "; negative: the processes' swap was read at other moments than "
      .. "SwapFree, or the files read disagree" or ""), true)
    if mi.Zswapped ~= nil then
      add("note", "swap.zswapped", mi.Zswapped, "Zswapped: " .. MEANINGS.Zswapped .. "; the RAM it takes is part zswap")
    end
  end

  -- beside the account: the processes not read
  local bound = bound_unreadable(p, scan.failed)
  if bound.processes > 0 then
    local summary = scan.tally:summary() or plural(bound.processes, "process", "processes") .. " unreadable"
    if bound.rss then
      add("note", "unreadable", bound.rss, format("%s; of these, the %s still there %s at most this (VmRSS "
        .. "from their status, which PSS never exceeds), counted in the estimated parts", summary,
        plural(bound.bounded, "process", "processes"), bound.bounded == 1 and "holds" or "hold"))
      if bound.anon and split then
        add("note", "unreadable.anon", bound.anon, "their RssAnon: at most this of anon_unread is theirs")
        add("note", "unreadable.file", bound.file, "their RssFile: at most this of page_cache.files is theirs")
        add("note", "unreadable.shmem", bound.shmem, "their RssShmem: at most this of shmem is theirs")
      end
    else
      add("note", "unreadable", nil, summary .. "; none is still there: meminfo, read after them, no longer "
        .. "holds their memory")
    end
  end
  if meta.captured then
    local left_out = 0
    for _ in gmatch(tostring(meta.pids_unreadable or ""), "%d+") do left_out = left_out + 1 end
    if left_out > 0 then
      add("note", "capture.left_out", nil, format("the capture left out %s (memscript-capture: pids_unreadable): "
        .. "their memory is in anon_unread, page_cache and shmem, unbounded", plural(left_out, "process",
        "processes")))
    end
  end

  -- beside the account: how far the machine moved while it was read
  if live and not opts.scan and before.MemFree and mi.MemFree then
    local now = p.pids()
    local started = 0
    if now and #now > scan.pids then started = #now - scan.pids end
    add("note", "scan.memfree_change", mi.MemFree - before.MemFree, format("MemFree's change while the %s were "
      .. "read (%.2f s): the estimates are uncertain by about this much%s", plural(scan.pids, "process",
      "processes"), scan.seconds, started > 0 and format("; %s more run now than when it began",
      plural(started, "process", "processes")) or ""))
  end

  -- beside the account: tmpfs mounts
  local mounts
  if live then
    mounts = M.tmpfs_mounts(p)
    for _, mount in ipairs(mounts or {}) do
      local what = mount.used and format("tmpfs mounted at %s (size %s): its files' pages, in RAM or swapped "
        .. "out (statfs)", mount.point, units.format(mount.size)) or format("tmpfs mounted at %s: not measured, %s",
        mount.point, mount.reason)
      add("note", "tmpfs:" .. mount.point .. (mount.used and "" or " (" .. mount.dev .. ")"), mount.used, what)
    end
  else
    add("note", "tmpfs", nil, "tmpfs mounts not listed: only the running system's mounts can be asked, and this "
      .. "account is of " .. p.root())
  end

  -- beside the account: what this kernel prints that no part holds
  for _, key in ipairs(p.keys(mi) or {}) do
    if not USED[key] and not NOT_PARTS[key] then
      local value = mi[key]
      local unit_bytes = p.unit(mi, key) == "kB"
      if key == "Balloon" or key == "Unaccepted" then
        if value ~= 0 then
          add("note", "meminfo." .. key, unit_bytes and value or nil, key .. ": " .. MEANINGS[key] .. "; not "
            .. "placed among the parts: whether MemTotal holds it depends on the driver or the platform")
        end
      else
        add("note", "meminfo." .. key, unit_bytes and value or nil, key .. ": " .. (MEANINGS[key] or
          meminfo_module.NOT_DESCRIBED) .. "; not placed among the parts (not known to be apart from them)")
      end
    end
  end

  return {memtotal = memtotal, rows = rows, by_part = by_part, scan = scan, meminfo = mi, live = live,
          unreadable = bound, stacks_in_vmalloc = stacks_vmalloc, stacks_how = stacks_how, tmpfs = mounts}
end

---------------------------------------------------------------------------------------------------
-- The account as collapsed stacks, for memscript.folded.

-- The stacks of an account's parts: a stack per leaf, a part without shares or a share, its frames
-- the dotted name split at the dots ("kernel.slab_unreclaimable" is {"kernel", "slab_unreclaimable"})
-- and its bytes the row's, in the rows' order. A part with shares has no stack of its own: its shares
-- add up to it, each rest already a share named for what it is (processes.rounding,
-- processes.unsplit). Notes, rates and the MemTotal row are in no sum and give no stack. A leaf of 0
-- bytes is a stack (memscript.folded writes no line for it). A leaf below zero can be no frame of a
-- flame graph: it is given in left_out instead, and the stacks then add up to more than MemTotal, by
-- its size. Returns stacks {{frames, bytes}...}, left_out {{part, bytes}...} and the stacks' sum.
-- Raises an error when the rows break the account's contract (a leaf without bytes, a part its shares
-- do not add up to, parts that do not add up to MemTotal): the bytes would then not be the rows'.
function M.stacks(account)
  if type(account) ~= "table" or type(account.rows) ~= "table" or type(account.memtotal) ~= "number" then
    error("bad argument #1 to 'stacks' (an account from system.account expected)", 2)
  end
  local accounted = {}
  for _, row in ipairs(account.rows) do
    if row.kind == "part" or row.kind == "share" then accounted[#accounted + 1] = row end
  end
  -- every name above a dot is a parent; each parent's leaves are summed to check it
  local parents, under = {}, {}
  for _, row in ipairs(accounted) do
    for at in gmatch(row.part, "()%.") do parents[sub(row.part, 1, at - 1)] = true end
  end
  local stacks, left_out = {}, {}
  local leaves_sum, stacks_sum = 0, 0
  for _, row in ipairs(accounted) do
    local name, bytes = row.part, row.bytes
    if not parents[name] then
      if type(bytes) ~= "number" then
        error(format("system.stacks: %s has no bytes (%s), so it can be no stack", name, tostring(bytes)), 2)
      end
      leaves_sum = leaves_sum + bytes
      for at in gmatch(name, "()%.") do
        local parent = sub(name, 1, at - 1)
        under[parent] = (under[parent] or 0) + bytes
      end
      if bytes < 0 then
        left_out[#left_out + 1] = {part = name, bytes = bytes}
      else
        local frames = {}
        for frame in gmatch(name, "[^.]+") do frames[#frames + 1] = frame end
        stacks[#stacks + 1] = {frames, bytes}
        stacks_sum = stacks_sum + bytes
      end
    end
  end
  for _, row in ipairs(accounted) do
    if parents[row.part] and under[row.part] ~= row.bytes then
      error(format("system.stacks: the shares of %s add up to %s, not to its %s bytes", row.part,
        tostring(under[row.part]), tostring(row.bytes)), 2)
    end
  end
  if leaves_sum ~= account.memtotal then
    error(format("system.stacks: the parts add up to %s, not to MemTotal's %s", tostring(leaves_sum),
      tostring(account.memtotal)), 2)
  end
  return stacks, left_out, stacks_sum
end

---------------------------------------------------------------------------------------------------
-- Rates per second from /proc/vmstat, for watch mode.

-- {vmstat key, what it counts, unit}: faults, swapping and refaults.
M.RATES = {
  {"pgfault", "page faults, minor and major", "faults"},
  {"pgmajfault", "major page faults: a page read from disk or swap", "faults"},
  {"pswpin", "pages read in from swap", "pages"},
  {"pswpout", "pages written out to swap", "pages"},
  {"workingset_refault_anon", "anonymous pages evicted recently and needed again", "pages"},
  {"workingset_refault_file", "file pages evicted recently and needed again", "pages"},
  {"workingset_refault", "pages evicted recently and needed again (kernels before 5.9)", "pages"},
}

-- One row per rate {part = "rate.KEY", kind = "rate", per_second, unit, meaning} since the previous
-- call in this watch (memscript.watch.rate): an empty list the first time, or when vmstat cannot be read.
function M.rates(p, time)
  p = p or proc_default
  local watch = require "memscript.watch"
  local vmstat = p.vmstat()
  local rows = {}
  if not vmstat then return rows end
  time = time or sys.monotonic()
  for _, rate in ipairs(M.RATES) do
    local key = rate[1]
    if vmstat[key] ~= nil then
      local per_second = watch.rate("vmstat " .. key, vmstat[key], time)
      if per_second then
        rows[#rows + 1] = {part = "rate." .. key, kind = "rate", per_second = per_second, unit = rate[3] .. "/s",
                           meaning = key .. ": " .. rate[2]}
      end
    end
  end
  return rows
end

return M
