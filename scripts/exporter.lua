-- exporter.lua: process and system memory as Prometheus gauges, for node_exporter's textfile collector
--
-- One series per process and figure (labels pid and command), never one per mapping or address, so
-- the number of series is bounded by the processes exported (--top N bounds it further), plus one per
-- /proc/meminfo key. Names start with memscript_ so they never clash with node_exporter's node_*.
--
-- Sources: rss, pss, uss (Private_Clean + Private_Dirty + Private_Hugetlb), swap and anonymous from
-- /proc/PID/smaps_rollup (one record per process); file and shmem (resident pages of files and of
-- shared memory) from /proc/PID/status (RssFile, RssShmem), which smaps_rollup does not split.
-- Kernel threads and zombies have no memory and are left out; processes that cannot be read are
-- counted in memscript_processes_unreadable. A process is gone only when its status cannot be read
-- either (memscript.unreadable.reason_for): one whose file is missing from a capture is counted, and
-- named on stderr.
--
-- --cgroup-depth N adds one series per memory cgroup at most N levels below the root and figure
-- (label cgroup, the path): its charge, limit, working set, split, swap, pressure and OOM kills
-- (memscript.cgroupview). N bounds the number of series: slices and units, not every container's
-- every scope. The working set is current - inactive_file, cAdvisor's container_memory_working_set_bytes,
-- so that it can be compared with what the kubelet evicts on and `kubectl top` shows; that figure is
-- disputed because it counts active page cache, which the kernel can still reclaim: anon, file,
-- active_file and inactive_file are exported beside it, so a rule can use another measure.

local proc = proc or require "memscript"
local metric = require "memscript.metric"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local unreadable_module = require "memscript.unreadable"
local cli = require "memscript.cli"

local find, sort = string.find, table.sort
local io, os, ipairs, pairs, tostring = io, os, ipairs, pairs, tostring
local arg = arg

local SPEC = {
  name = "exporter.lua",
  summary = "process and system memory as Prometheus gauges, for node_exporter's textfile collector",
  host = "-f prom [-o FILE.prom] [--interval SECS]",
  intro = [[
Memory of processes (numbers or "self"), or of every process with "all", and of the system, as
Prometheus gauges in the text exposition format:
  memscript_process_{rss,pss,uss,swap,anonymous,file,shmem}_bytes{pid,command}
  memscript_meminfo_bytes{key}       each /proc/meminfo line in kB, in bytes
  memscript_meminfo_hugepages{key}   the HugePages_* counts
  memscript_processes_read, memscript_processes_unreadable
With --cgroup-depth N, per memory cgroup (label cgroup):
  memscript_cgroup_{current,limit,working_set,anon,file,active_file,inactive_file,kernel,shmem,sock,swap}_bytes
  memscript_cgroup_oom_kills, memscript_cgroup_pressure_{some,full}_avg10, memscript_cgroup_procs
  memscript_cgroups_read, memscript_cgroups_unreadable
]],
  options = {
    { "--top", value = "N", type = "integer", min = 1, noun = "processes",
      help = "only the N processes with the largest RSS (the others still count as read)" },
    { "--cgroup-depth", value = "N", type = "integer", min = 0, noun = "levels",
      help = "also the memory cgroups at most N levels below the root (the root is level 0; 2 gives "
        .. "/system.slice/nginx.service), one series per cgroup and figure" },
  },
  operands = { { "PID", type = "pids", all = true } },
  epilog = [[
For node_exporter: memscript -f prom --interval 15 -o DIR/memscript.prom exporter.lua all, with
node_exporter's --collector.textfile.directory=DIR. Without -f prom the exposition format is
printed as well; -f json prints the samples as a JSON array of {name, labels, value}.
With "all", processes that cannot be read (permission denied, or another error such as a file
missing from a capture) are counted in memscript_processes_unreadable; another error than
permission denied is also named on stderr. A process given twice is exported once.
Cgroup figures (docs/api.md): current = memory.current (v1 memory.usage_in_bytes); limit = the lower
of memory.max and memory.high (v1 memory.limit_in_bytes), +Inf without one; working_set = current -
inactive_file, as cAdvisor defines it (it counts active page cache, which can be reclaimed: compare
with anon and file); anon, file, kernel, shmem, sock from memory.stat; swap; oom_kills from
memory.events (v1 memory.oom_control); pressure = memory.pressure's avg10 (v2); procs. A figure a
cgroup does not have (the v2 root has no memory.current) has no series. A cgroup that cannot be read
is counted in memscript_cgroups_unreadable and named on stderr.
Exit status: 0; 3 (UNKNOWN) on a usage error, when a process given by number cannot be read, or
when /proc/meminfo or, with --cgroup-depth, the memory cgroups cannot be read.
]],
}

local opts = cli.parse(SPEC, arg)

-- {name suffix, help, function(rollup, status) -> bytes or nil}
local FIGURES = {
  { "rss", "Resident set size: pages of the process in RAM (smaps_rollup Rss)",
    function(r) return r.Rss end },
  { "pss", "Proportional set size: resident pages, each shared page divided among its sharers (smaps_rollup Pss)",
    function(r) return r.Pss end },
  { "uss", "Unique set size: resident pages of this process alone (smaps_rollup Private_Clean + Private_Dirty + Private_Hugetlb)",
    function(r)
      if r.Private_Clean == nil or r.Private_Dirty == nil then return nil end
      return r.Private_Clean + r.Private_Dirty + (r.Private_Hugetlb or 0)
    end },
  { "swap", "Pages of the process in swap (smaps_rollup Swap)",
    function(r) return r.Swap end },
  { "anonymous", "Resident anonymous pages: heap, stacks, private copies (smaps_rollup Anonymous)",
    function(r) return r.Anonymous end },
  { "file", "Resident pages of mapped files (status RssFile)",
    function(_, s) return s.RssFile end },
  { "shmem", "Resident pages of shared memory: tmpfs, System V, shared anonymous (status RssShmem)",
    function(_, s) return s.RssShmem end },
}

-- The memory of one process: {pid, command, rollup, status}; nil, "none" when it has none (a kernel
-- thread or a zombie); nil, reason ("gone", "denied" or "other"), message when it cannot be read.
local function read_memory(pid)
  local process, reason, msg = unreadable_module.read_process(pid, { "status", "smaps_rollup" })
  if not process then return nil, reason, msg end
  local status = process.status
  local command = proc.comm(pid) or status.Name
  return { pid = status.Pid, command = command, rollup = process.smaps_rollup, status = status }
end

local function export_processes(processes)
  for _, figure in ipairs(FIGURES) do
    local name = "memscript_process_" .. figure[1] .. "_bytes"
    for _, p in ipairs(processes) do
      local value = figure[3](p.rollup, p.status)
      if value then metric.gauge(name, value, { pid = p.pid, command = p.command }, figure[2]) end
    end
  end
end

local function export_meminfo()
  local mi, msg = proc.meminfo()
  if not mi then return nil, msg end
  -- Lines printed without a unit do not become bytes (proc.unit says which were in kB).
  local unitless = {}
  for key in pairs(mi) do unitless[key] = proc.unit(mi, key) ~= "kB" end
  local keys = {}
  for key in pairs(mi) do keys[#keys + 1] = key end
  sort(keys)
  for _, key in ipairs(keys) do
    local value = mi[key]
    if unitless[key] and find(key, "^HugePages_") then
      metric.gauge("memscript_meminfo_hugepages", value, { key = key },
        "/proc/meminfo HugePages_* lines: numbers of huge pages (HugePages_Total, _Free, _Rsvd, _Surp)")
    elseif unitless[key] then
      metric.gauge("memscript_meminfo_value", value, { key = key },
        "/proc/meminfo lines printed without a unit, as printed")
    else
      metric.gauge("memscript_meminfo_bytes", value, { key = key },
        "/proc/meminfo lines printed in kB, in bytes, by the kernel's key")
    end
  end
  return true
end

-- {name suffix, help, function(fields, memory) -> value or nil}: the per-cgroup figures.
local CGROUP_FIGURES = {
  { "current_bytes", "Memory charged to the cgroup: memory.current (v1 memory.usage_in_bytes)",
    function(f) return f.current end },
  { "limit_bytes", "The cgroup's limit: the lower of memory.max and memory.high (v1 memory.limit_in_bytes); +Inf without one",
    function(f) return f.limit end },
  { "working_set_bytes", "current - inactive_file, as cAdvisor's container_memory_working_set_bytes (counts active page " ..
    "cache, which the kernel can reclaim)", function(f) return f.working_set end },
  { "anon_bytes", "Anonymous memory: memory.stat anon (v1 total_rss)", function(f) return f.anon end },
  { "file_bytes", "Page cache, tmpfs and shared memory included: memory.stat file (v1 total_cache)",
    function(f) return f.file end },
  { "active_file_bytes", "memory.stat active_file (v1 total_active_file)", function(_, m)
    return m.stat and (m.version == 1 and (m.stat.total_active_file or m.stat.active_file) or m.stat.active_file) end },
  { "inactive_file_bytes", "memory.stat inactive_file (v1 total_inactive_file)", function(_, m)
    return m.stat and (m.version == 1 and (m.stat.total_inactive_file or m.stat.inactive_file) or m.stat.inactive_file) end },
  { "kernel_bytes", "Kernel memory: memory.stat kernel, or its parts on kernels before 5.18 (v1 memory.kmem.usage_in_bytes)",
    function(f) return f.kernel end },
  { "shmem_bytes", "tmpfs and shared memory: memory.stat shmem (v1 total_shmem)", function(f) return f.shmem end },
  { "sock_bytes", "Socket buffers: memory.stat sock (v1 memory.kmem.tcp.usage_in_bytes)", function(f) return f.sock end },
  { "swap_bytes", "Swap used: memory.swap.current (v1 memory.stat total_swap)", function(f) return f.swap end },
}

local CGROUP_COUNTS = {
  { "memscript_cgroup_oom_kills", "Processes the OOM killer killed: memory.events oom_kill (v1 memory.oom_control oom_kill)",
    function(f) return f.oom_kill end },
  { "memscript_cgroup_pressure_some_avg10", "Percentage of the last 10 s in which some task of the cgroup waited for memory " ..
    "(memory.pressure some avg10; cgroup v2)", function(f) return f.pressure_some end },
  { "memscript_cgroup_pressure_full_avg10", "Percentage of the last 10 s in which all tasks of the cgroup waited for memory " ..
    "(memory.pressure full avg10; cgroup v2)", function(f) return f.pressure_full end },
  { "memscript_cgroup_procs", "Processes in the cgroup (cgroup.procs)", function(f) return f.procs end },
}

-- The cgroups to --cgroup-depth as gauges; returns true, or nil and a message when the hierarchy
-- cannot be read.
local function export_cgroups(depth)
  local view = require "memscript.cgroupview"
  local tree, failed = view.read_tree(proc.cgroup, { depth = depth })
  if not tree then return nil, failed end
  local rows = {}
  for _, node in ipairs(tree) do rows[#rows + 1] = { node = node, fields = view.fields(node.path, node.memory) } end
  for _, figure in ipairs(CGROUP_FIGURES) do
    for _, row in ipairs(rows) do
      local value = figure[3](row.fields, row.node.memory)
      if value then metric.gauge("memscript_cgroup_" .. figure[1], value, { cgroup = row.node.path }, figure[2]) end
    end
  end
  for _, figure in ipairs(CGROUP_COUNTS) do
    for _, row in ipairs(rows) do
      local value = figure[3](row.fields, row.node.memory)
      if value then metric.gauge(figure[1], value, { cgroup = row.node.path }, figure[2]) end
    end
  end
  metric.gauge("memscript_cgroups_read", #tree, nil, "Memory cgroups whose figures were read")
  metric.gauge("memscript_cgroups_unreadable", #failed, nil,
    "Memory cgroups that could not be read (not those removed while they were read)")
  local summary = view.failures_summary(failed, escape)
  if summary then io.stderr:write("memscript: ", summary, "\n") end
  return true
end

local function main()
  local processes, unreadable = {}, 0
  if opts.all then
    local _, tally = unreadable_module.scan(proc.pids(), read_memory,
      function(_, p) processes[#processes + 1] = p end)
    unreadable = tally.denied + tally.other
    -- A read failing for a process still there (a file missing from a capture) is named on stderr.
    if tally.other > 0 then io.stderr:write(tally:summary(), "\n") end
  else
    for _, pid in ipairs(opts.pids) do
      local p, reason, msg = read_memory(pid)
      if p then
        processes[#processes + 1] = p
      elseif reason ~= "none" then
        io.stderr:write("memscript: ", escape(msg), "\n")
        return 3
      end
    end
  end
  local read = #processes
  if opts.top and #processes > opts.top then
    sort(processes, function(a, b)
      local ra, rb = a.rollup.Rss or 0, b.rollup.Rss or 0
      if ra ~= rb then return ra > rb end
      return a.pid < b.pid
    end)
    for i = #processes, opts.top + 1, -1 do processes[i] = nil end
    sort(processes, function(a, b) return a.pid < b.pid end)
  end
  export_processes(processes)
  metric.gauge("memscript_processes_read", read, nil,
    "Processes whose memory was read (kernel threads and zombies have none and are not counted)")
  metric.gauge("memscript_processes_unreadable", unreadable, nil,
    "Processes whose memory could not be read (permission denied or another error; not those gone)")
  local ok, msg = export_meminfo()
  if not ok then
    io.stderr:write("memscript: ", escape(msg), "\n")
    return 3
  end
  if opts.cgroup_depth then
    ok, msg = export_cgroups(opts.cgroup_depth)
    if not ok then
      io.stderr:write("memscript: ", escape(tostring(msg)), "\n")
      return 3
    end
  end
  local fmt = output.format()
  if fmt == "json" then
    io.stdout:write(output.json_encode(metric.samples()), "\n")
    metric.clear()
  elseif fmt ~= "prom" then
    io.stdout:write(metric.render())
    metric.clear()
  end
  return nil
end

local status = main()
if status then os.exit(status) end
