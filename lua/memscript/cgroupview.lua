-- cgroupview.lua: the figures the bundled scripts show of a cgroup, the same for cgroup v1 and v2, from proc.cgroup.memory's table.
--
--   local view = require "memscript.cgroupview"
--   local m = assert(proc.cgroup.memory("/system.slice/nginx.service"))
--   local split = view.split(m)          -- {anon, file, kernel, shmem, sock}, bytes (nil: not printed)
--   view.limit(m), view.headroom(m), view.usage_percent(m), view.working_set(m), view.oom_kills(m)
--
-- Every figure is nil when the files it comes from are not there (the v2 root has no memory.current,
-- a capture may hold a cgroup's directory alone): never 0 for a figure not read. No limit is
-- math.huge (proc.cgroup.unlimited), as proc.cgroup.memory gives it. docs/api.md says where each
-- figure comes from in v1 and in v2.

local cgroupname = require "memscript.cgroupname"

local type, ipairs, pairs, tostring, huge = type, ipairs, pairs, tostring, math.huge
local format, find, match, sub, gsub = string.format, string.find, string.match, string.sub, string.gsub
local sort = table.sort

local M = {}

M.unlimited = huge

-- ENOENT: a cgroup removed between its listing and its reading.
local ENOENT = 2

-- How deep path lies: "/" 0, "/a" 1, "/a/b" 2.
function M.depth(path)
  if path == "/" then return 0 end
  local _, n = gsub(path, "/", "")
  return n
end

-- The ancestor of path at depth (path itself when it is not deeper).
function M.ancestor(path, depth)
  if depth <= 0 then return "/" end
  local parts, out = 0, {}
  for name in path:gmatch("[^/]+") do
    parts = parts + 1
    if parts > depth then break end
    out[#out + 1] = name
  end
  return "/" .. table.concat(out, "/")
end

-- The chain from the root to path: "/", "/a", "/a/b".
function M.chain(path)
  local list, at = { "/" }, ""
  for name in path:gmatch("[^/]+") do
    at = at .. "/" .. name
    list[#list + 1] = at
  end
  return list
end

-- The last component of path ("/" for the root).
function M.name(path)
  return match(path, "([^/]+)$") or "/"
end

-- What the last component of path is: the container runtime ("docker"), "pod", the unit's type
-- ("service", "scope", ...), "slice", or nil.
function M.kind(path)
  local last = M.name(path)
  local names = cgroupname.describe(path)
  if names.container and find(last, names.container.id, 1, true) then
    return names.container.runtime or "container"
  end
  if names.pod and (find(last, gsub(names.pod.uid, "-", "_"), 1, true) or find(last, names.pod.uid, 1, true)) then
    return "pod"
  end
  if names.unit == last then return match(last, "%.(%a+)$") end
  if sub(last, -6) == ".slice" then return "slice" end
  return nil
end

local function sum_present(t, keys)
  local total, seen = 0, false
  for _, key in ipairs(keys) do
    local v = t[key]
    if type(v) == "number" then total, seen = total + v, true end
  end
  return seen and total or nil
end

-- v1 memory.stat prints each counter twice: this cgroup's own, and total_* for its whole subtree,
-- which is what usage_in_bytes counts (with use_hierarchy 1, the only mode of recent kernels).
local function v1_stat(stat, key)
  local v = stat["total_" .. key]
  if v == nil then v = stat[key] end
  return v
end

-- The kernel memory of a v2 memory.stat: its "kernel" line (Linux 5.18 and later), else the sum
-- of the kernel counters it prints (kernel_stack, pagetables, sec_pagetables, percpu, vmalloc, and
-- slab or slab_reclaimable + slab_unreclaimable), which leaves out other kernel memory.
local function v2_kernel(stat)
  if stat.kernel ~= nil then return stat.kernel end
  local parts = sum_present(stat, { "kernel_stack", "pagetables", "sec_pagetables", "percpu", "vmalloc" })
  local slab = stat.slab
  if slab == nil then slab = sum_present(stat, { "slab_reclaimable", "slab_unreclaimable" }) end
  if parts == nil and slab == nil then return nil end
  return (parts or 0) + (slab or 0)
end

-- What the cgroup's memory is made of: {anon, file, kernel, shmem, sock}, bytes; file includes shmem
-- (the kernel counts tmpfs and shared memory as page cache in both versions).
--   v2: memory.stat anon, file, kernel (see v2_kernel), shmem, sock
--   v1: memory.stat total_rss, total_cache, total_shmem; kernel from memory.kmem.usage_in_bytes and
--       sock from memory.kmem.tcp.usage_in_bytes (v1 charges only TCP buffers to a cgroup)
function M.split(m)
  local stat = m.stat
  if m.version == 1 then
    return {
      anon = stat and v1_stat(stat, "rss"), file = stat and v1_stat(stat, "cache"),
      shmem = stat and v1_stat(stat, "shmem"), kernel = m.kmem_usage_in_bytes, sock = m.kmem_tcp_usage_in_bytes,
    }
  end
  if not stat then return {} end
  return { anon = stat.anon, file = stat.file, kernel = v2_kernel(stat), shmem = stat.shmem, sock = stat.sock }
end

-- The limit the cgroup is held to: the lower of memory.max and memory.high (v2: above high the kernel
-- throttles and reclaims, above max it fails allocations and kills); v1: memory.limit_in_bytes.
-- math.huge for no limit; nil when neither is there (the v2 root).
function M.limit(m)
  local max, high = m.max, m.high
  if max == nil then return high end
  if high == nil or max <= high then return max end
  return high
end

-- limit - current: what the cgroup may still take; math.huge without a limit, nil when unknown.
function M.headroom(m)
  local limit, current = M.limit(m), m.current
  if limit == nil or current == nil then return nil end
  if limit == huge then return huge end
  return limit - current
end

-- current as a percentage of the limit (a float); nil without a limit or a current.
function M.usage_percent(m)
  local limit, current = M.limit(m), m.current
  if limit == nil or current == nil or limit == huge then return nil end
  if limit == 0 then return current > 0 and huge or 0.0 end
  return 100.0 * current / limit
end

-- Swap used: v2 memory.swap.current; v1 memory.stat total_swap (printed with swap accounting on).
function M.swap(m)
  if m.version == 1 then return m.stat and v1_stat(m.stat, "swap") end
  return m.swap_current
end

-- Processes killed by the OOM killer: v2 memory.events oom_kill (the cgroup and those below it);
-- v1 memory.oom_control oom_kill (Linux 4.13 and later; the cgroup itself).
function M.oom_kills(m)
  if m.version == 1 then return m.oom_control and m.oom_control.oom_kill end
  return m.events and m.events.oom_kill
end

-- Memory pressure: the share of time (percent, over the last 10 s) some task of the cgroup waited
-- for memory: memory.pressure "some avg10" (v2 only).
function M.pressure_some(m)
  return m.pressure and m.pressure.some and m.pressure.some.avg10
end

function M.pressure_full(m)
  return m.pressure and m.pressure.full and m.pressure.full.avg10
end

-- The working set: current minus inactive_file (v1: usage_in_bytes minus total_inactive_file),
-- never below 0. This is cAdvisor's container_memory_working_set_bytes, the figure the kubelet
-- evicts on and `kubectl top` shows, so the numbers can be compared; it counts active page cache,
-- which the kernel can still reclaim, so it overstates what the workload needs: split() gives the
-- parts to judge by.
function M.working_set(m)
  local current, stat = m.current, m.stat
  if current == nil or stat == nil then return nil end
  local inactive = m.version == 1 and v1_stat(stat, "inactive_file") or stat.inactive_file
  if inactive == nil then return nil end
  local ws = current - inactive
  if ws < 0 then ws = 0 end
  return ws
end

-- Reads the cgroups of the memory hierarchy through cg (proc.cgroup, or another source's):
--   opts.depth   only those at most this deep ("/" is 0)
--   opts.paths   these paths instead of every cgroup
-- Returns the cgroups read, each {path, depth, memory}, in tree order, and the ones that could not
-- be read, each {path, message, errno} (a cgroup removed meanwhile is left out of both); or nil,
-- message, errno when the hierarchy cannot be read.
function M.read_tree(cg, opts)
  opts = opts or {}
  local paths, err, errno = opts.paths, nil, nil
  if not paths then
    paths, err, errno = cg.list()
    if not paths then return nil, err, errno end
  end
  local rows, failed = {}, {}
  for _, path in ipairs(paths) do
    local depth = M.depth(path)
    if not opts.depth or depth <= opts.depth then
      local m, msg, code = cg.memory(path)
      if m then
        rows[#rows + 1] = { path = path, depth = depth, memory = m }
      elseif not (code == ENOENT and not opts.paths) then
        failed[#failed + 1] = { path = path, message = msg, errno = code }
      end
    end
  end
  return rows, failed
end

-- The fields rules in cgroup scope are tested on (memscript.rules), and cgroup.lua's JSON has:
-- path, depth, current, max, high, limit, usage (percent of the limit), headroom, working_set,
-- anon, file, kernel, shmem, sock, swap, oom_kill, pressure_some, pressure_full, procs (how many).
function M.fields(path, m)
  local split = M.split(m)
  return {
    path = path, depth = M.depth(path), current = m.current, max = m.max, high = m.high,
    limit = M.limit(m), usage = M.usage_percent(m), headroom = M.headroom(m), working_set = M.working_set(m),
    anon = split.anon, file = split.file, kernel = split.kernel, shmem = split.shmem, sock = split.sock,
    swap = M.swap(m), oom_kill = M.oom_kills(m), pressure_some = M.pressure_some(m),
    pressure_full = M.pressure_full(m), procs = m.procs and #m.procs or nil,
  }
end

-- "1 cgroup unreadable: /a (message)" / "N cgroups unreadable: ..." for the failures of read_tree, or nil.
function M.failures_summary(failed, escape)
  if #failed == 0 then return nil end
  local first = failed[1]
  local text = escape and escape(tostring(first.message)) or tostring(first.message)
  return format("%d cgroup%s unreadable: %s%s", #failed, #failed == 1 and "" or "s", text,
    #failed > 1 and format(" (and %d more)", #failed - 1) or "")
end

-- Sorting helper: the paths of t's keys in tree order ('/' before any other byte).
function M.tree_order(a, b)
  local x, y = gsub(a, "/", "\1"), gsub(b, "/", "\1")
  return x < y
end

-- The keys of a table sorted in tree order.
function M.sorted_paths(t)
  local list = {}
  for path in pairs(t) do list[#list + 1] = path end
  sort(list, M.tree_order)
  return list
end

return M
