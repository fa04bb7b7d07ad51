-- numa.lua: a process's memory per NUMA node (numastat -p)
--
-- From /proc/PID/numa_maps, as numastat -p shows it. For one process, a row per kind of mapping as
-- numastat -p sorts them (Huge: hugetlb mappings; Heap; Stack; Private: every other mapping, files
-- included) and a column per node, with the totals. For several processes, a row per process with
-- its total on each node. The pages numa_maps counts on each node (N0=, N1=, ...) are converted to
-- bytes by each mapping's page size (a hugetlb mapping's count is of huge pages). A node on which a
-- process has no page shows 0: numa_maps prints a node only when the mapping has pages there, and
-- the columns are this machine's nodes (and any node another process read has pages on).

local proc = proc or require "memscript"
local output = require "memscript.output"
local unreadable = require "memscript.unreadable"
local escape = require("memscript.text").escape
local cli = require "memscript.cli"

local format, match, tonumber, sort = string.format, string.match, tonumber, table.sort
local io, os, ipairs, pairs = io, os, ipairs, pairs
local arg = arg

local SPEC = {
  name = "numa.lua",
  summary = "a process's memory per NUMA node (numastat -p)",
  intro = [[
A process's memory on each NUMA node, from /proc/PID/numa_maps, as numastat -p shows it: for one
process a row per kind of mapping (Huge: hugetlb; Heap; Stack; Private: all others, files included)
and the total, for several a row per process; a column per node and the total. Sizes in bytes
(human units in a table on a terminal).
]],
  operands = { { "PID", type = "pids", all = true } },
  epilog = [[
Output format: memscript's -f option; JSON and CSV rows are {name, node0, node1, ..., total} in bytes.
Exit status: 0; 3 (UNKNOWN) on a usage error, or when no process could be read.
]],
}

local opts = cli.parse(SPEC, arg)

local CATEGORIES = { "Huge", "Heap", "Stack", "Private" }

-- The kind numastat -p gives a numa_maps line: huge first, then heap, then stack.
local function category(m)
  if m.huge then return "Huge" end
  if m.heap then return "Heap" end
  if m.stack then return "Stack" end
  return "Private"
end

-- The nodes of this machine (from /sys/devices/system/node), when it says.
local function machine_nodes()
  local nodes = {}
  local names = proc.list("devices/system/node", "sys")
  for _, name in ipairs(names or {}) do
    local n = match(name, "^node(%d+)$")
    if n then nodes[#nodes + 1] = tonumber(n) end
  end
  return nodes
end

-- Bytes per category and node of one process's numa_maps, and the nodes met.
local function sums(numa_maps, seen)
  local per = {}
  for _, c in ipairs(CATEGORIES) do per[c] = {} end
  for _, m in ipairs(numa_maps) do
    local row = per[category(m)]
    for key, bytes in pairs(m) do
      local node = match(key, "^N(%d+)$")
      if node then
        node = tonumber(node)
        seen[node] = true
        row[node] = (row[node] or 0) + bytes
      end
    end
  end
  return per
end

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  local pids = opts.pids
  if opts.all then pids = assert(proc.pids()) end
  local processes, seen = {}, {}
  local tally
  local function read(pid)
    local t, reason, msg = unreadable.read_process(pid, { "stat", "numa_maps" })
    if not t then return nil, reason, msg end
    -- a process without memory of its own (a kernel thread) has no mapping: left out of "all"
    if opts.all and #t.numa_maps == 0 then return nil, "none" end
    return t
  end
  local _
  _, tally = unreadable.scan(pids, read, function(pid, t)
    processes[#processes + 1] = { pid = t.stat.pid, comm = t.stat.comm, per = sums(t.numa_maps, seen) }
  end)
  local summary = tally:summary()
  if summary then io.stderr:write("memscript: ", escape(summary), "\n") end
  if #processes == 0 then return 3 end

  for _, n in ipairs(machine_nodes()) do seen[n] = true end
  local nodes = {}
  for n in pairs(seen) do nodes[#nodes + 1] = n end
  sort(nodes)

  local rows = {}
  local function add_row(name, per_node)
    local row, total = { name = name }, 0
    for _, n in ipairs(nodes) do
      row["node" .. n] = per_node[n] or 0
      total = total + row["node" .. n]
    end
    row.total = total
    rows[#rows + 1] = row
    return row
  end
  local grand = {}
  if #processes == 1 and not opts.all then
    local p = processes[1]
    for _, c in ipairs(CATEGORIES) do
      add_row(c, p.per[c])
      for n, b in pairs(p.per[c]) do grand[n] = (grand[n] or 0) + b end
    end
  else
    for _, p in ipairs(processes) do
      local per_node = {}
      for _, c in ipairs(CATEGORIES) do
        for n, b in pairs(p.per[c]) do
          per_node[n] = (per_node[n] or 0) + b
          grand[n] = (grand[n] or 0) + b
        end
      end
      add_row(format("%d (%s)", p.pid, p.comm), per_node)
    end
  end
  add_row("Total", grand)

  local columns = { { #processes == 1 and not opts.all and "" or "PID", "name", align = "left" } }
  for _, n in ipairs(nodes) do columns[#columns + 1] = { "Node " .. n, "node" .. n, kind = "bytes" } end
  columns[#columns + 1] = { "Total", "total", kind = "bytes" }
  if output.format() == "table" then
    if #processes == 1 and not opts.all then
      io.stdout:write(format("Per-node process memory usage for PID %d (%s)\n", processes[1].pid,
        escape(processes[1].comm)))
    else
      io.stdout:write("Per-node process memory usage\n")
    end
  end
  output.print(rows, columns)
  if output.format() == "table" then io.stdout:write(output.origin(), "\n") end
  io.stdout:flush()
  return 0
end

os.exit(main())
