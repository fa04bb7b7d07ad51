-- exporter.lua: process and system memory as Prometheus gauges, for node_exporter's textfile collector
-- usage: memscript -f prom [-o FILE.prom] [--interval SECS] exporter.lua [--top N] PID...|all
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

local proc = proc or require "memscript"
local metric = require "memscript.metric"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local unreadable_module = require "memscript.unreadable"

local format, find, sort = string.format, string.find, table.sort
local io, os, ipairs, pairs, tonumber = io, os, ipairs, pairs, tonumber
local arg = arg

local USAGE = [==[
usage: memscript -f prom [-o FILE.prom] [--interval SECS] exporter.lua [--top N] PID...|all
Memory of processes (numbers or "self"), or of every process with "all", and of the system, as
Prometheus gauges in the text exposition format:
  memscript_process_{rss,pss,uss,swap,anonymous,file,shmem}_bytes{pid,command}
  memscript_meminfo_bytes{key}       each /proc/meminfo line in kB, in bytes
  memscript_meminfo_hugepages{key}   the HugePages_* counts
  memscript_processes_read, memscript_processes_unreadable
  --top N      only the N processes with the largest RSS (the others still count as read)
  -h, --help   show this help
For node_exporter: memscript -f prom --interval 15 -o DIR/memscript.prom exporter.lua all, with
node_exporter's --collector.textfile.directory=DIR. Without -f prom the exposition format is
printed as well; -f json prints the samples as a JSON array of {name, labels, value}.
With "all", processes that cannot be read (permission denied, or another error such as a file
missing from a capture) are counted in memscript_processes_unreadable; another error than
permission denied is also named on stderr.
Exit status: 0; 3 (UNKNOWN) on a usage error, when a process given by number cannot be read, or
when /proc/meminfo cannot be read.
]==]

local function usage_error(msg)
  io.stderr:write("memscript: exporter.lua: ", msg, "\n", USAGE)
  os.exit(3)
end

local function parse_arguments(words)
  local opts = { pids = {} }
  local i = 1
  while i <= #words do
    local word = words[i]
    if word == "-h" or word == "--help" then
      opts.help = true
    elseif word == "--top" then
      i = i + 1
      local n = words[i] and find(words[i], "^%d+$") and tonumber(words[i])
      if not n or n < 1 then usage_error("--top needs a number of processes above 0") end
      opts.top = n
    elseif word == "all" then
      opts.all = true
    elseif find(word, "^%d+$") or word == "self" then
      opts.pids[#opts.pids + 1] = word
    else
      usage_error(format("unknown argument '%s'", word))
    end
    i = i + 1
  end
  if opts.all and #opts.pids > 0 then usage_error("give process ids or \"all\", not both") end
  if not opts.help and not opts.all and #opts.pids == 0 then usage_error("no process id given") end
  return opts
end

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

-- The memory of one process: {pid, command, rollup, status}; nil when it has none (a kernel thread or
-- a zombie); nil, message, reason ("gone", "denied" or "other": memscript.unreadable.reason_for) when
-- it cannot be read.
local function read_process(pid)
  local status, msg, errno = proc.status(pid)
  local rollup
  if status then rollup, msg, errno = proc.smaps_rollup(pid) end
  if not rollup then
    -- "none": ESRCH while the process is still there, or no smaps_rollup and no mappings (a capture
    -- holds none for a kernel thread): it has no memory of its own
    local reason = unreadable_module.reason_for(pid, errno, proc)
    if reason == "none" then return false end
    return nil, msg, reason
  end
  local command = proc.comm(pid) or status.Name
  return { pid = status.Pid, command = command, rollup = rollup, status = status }
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

-- Which /proc/meminfo lines carry no unit: those do not become bytes.
local function unitless_keys()
  local text = proc.read("meminfo")
  local keys = {}
  if text then
    for key, rest in text:gmatch("([^:\n]+):([^\n]*)") do
      if not find(rest, "kB%s*$") then keys[key] = true end
    end
  end
  return keys
end

local function export_meminfo()
  local mi, msg = proc.meminfo()
  if not mi then return nil, msg end
  local unitless = unitless_keys()
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

local function main(words)
  local opts = parse_arguments(words)
  if opts.help then
    io.stdout:write(USAGE)
    return 0
  end
  local processes, unreadable = {}, 0
  if opts.all then
    local tally = unreadable_module.tally()
    for _, pid in ipairs(proc.pids()) do
      local p, msg, reason = read_process(pid)
      if p then
        processes[#processes + 1] = p
      elseif p == nil then
        tally:add(reason, msg)
      end
    end
    unreadable = tally.denied + tally.other
    -- A read failing for a process still there (a file missing from a capture) is named on stderr.
    if tally.other > 0 then io.stderr:write(tally:summary(), "\n") end
  else
    for _, word in ipairs(opts.pids) do
      local p, msg = read_process(word)
      if p == nil then
        io.stderr:write("memscript: ", escape(msg), "\n")
        return 3
      end
      if p then processes[#processes + 1] = p end
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

local status = main(arg or {})
if status then os.exit(status) end
