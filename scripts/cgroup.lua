-- cgroup.lua: the tree of memory cgroups (slices, units, containers) with usage, limit, headroom, split, swap, pressure and OOM kills
--
-- One row per cgroup of the memory hierarchy (cgroup v1 or v2; proc.cgroup finds which), in tree
-- order: its charge (memory.current, v1 memory.usage_in_bytes), its limit and what is left of it,
-- what the charge is made of (anonymous, file and shared memory, kernel memory, socket buffers, from
-- memory.stat), swap, memory pressure (PSI some avg10, v2) and OOM kills. -p PID shows the chain from
-- the root to the cgroup of one process. docs/api.md says where each figure comes from.
--
-- A figure a cgroup does not have (the v2 root has no memory.current; v1 has no PSI) is "-" in a
-- table, empty in CSV and null in JSON, never 0. A cgroup removed while it was read is left out;
-- one that cannot be read is counted on stderr with the first message.

local proc = proc or require "memscript"
local output = require "memscript.output"
local cli = require "memscript.cli"
local view = require "memscript.cgroupview"
local escape = require("memscript.text").escape

local format, concat, rep = string.format, table.concat, string.rep
local io, os, ipairs, tostring, type = io, os, ipairs, tostring, type
local huge = math.huge
local arg = arg

-- The fields -s sorts by, named as in the JSON output.
local SORT_FIELDS = { "path", "current", "limit", "headroom", "usage", "anon", "file", "kernel", "shmem", "sock",
  "swap", "pressure", "oom_kill", "procs" }

local SPEC = {
  name = "cgroup.lua",
  summary = "the tree of memory cgroups (slices, units, containers) with usage, limit, headroom, split, swap, "
    .. "pressure and OOM kills",
  intro = [[
Every cgroup of the memory hierarchy, in tree order: its usage, its limit and the headroom left,
what the usage is made of, swap, memory pressure and OOM kills.
]],
  options = {
    { "-p", "--pid", value = "PID", key = "pid",
      help = "only the chain of cgroups from the root to the one process PID (a number or self) is in" },
    { "--depth", value = "N", type = "integer", min = 0, noun = "levels",
      help = "only cgroups at most N levels below the root (the root is level 0)" },
    { "-n", "--rows", value = "N", type = "integer", min = 1, noun = "rows", help = "show the first N rows only" },
    { "-s", "--sort", value = "FIELD", type = "choice", choices = SORT_FIELDS,
      help = "sort by a field, named as in the JSON output: " .. concat(SORT_FIELDS, " ") .. ". Numbers "
        .. "largest first, but headroom smallest first; path in tree order (the default)" },
  },
  exclusive = { { "-p", "--depth" } },
  epilog = [[

Columns: Current = memory.current (v1 memory.usage_in_bytes); Limit = the lower of memory.max and
memory.high (v1 memory.limit_in_bytes), "max" when there is none; Headroom = Limit - Current; Anon,
File (page cache, tmpfs and shared memory included), Shmem, Kernel, Sock = memory.stat's anon,
file, shmem, kernel, sock (v1: total_rss, total_cache, total_shmem, memory.kmem.usage_in_bytes,
memory.kmem.tcp.usage_in_bytes); Swap = memory.swap.current (v1: total_swap); PSI = memory.pressure
"some avg10", the percentage of the last 10 seconds in which a task waited for memory (v2 only);
OOM = memory.events oom_kill (v1: memory.oom_control oom_kill); Procs = processes in cgroup.procs.
A figure a cgroup does not have is "-" (table), empty (CSV) or null (JSON), never 0; no limit is
"max" in a table and CSV, null in JSON. JSON rows also carry the whole memory.stat, memory.pressure
and the pids. Output format: memscript's -f option (table, json, csv). Reads the captured machine
with memscript --root DIR (a capture made by capture.lua holds its processes' cgroups).
Exit status: 0; 3 on a usage error, when the memory hierarchy cannot be read, or with -p when the
process or its cgroups cannot be read.
]],
}

local opts = cli.parse(SPEC, arg)
if opts.pid then
  opts.pid = cli.pid(opts.pid) or cli.usage_error(SPEC, format("bad process id '%s'", opts.pid))
end

local cg = proc.cgroup

-- A table cuts cgroup names to this many characters (container ids are 64 hex digits).
local NAME_WIDTH = 72

local function fail(msg)
  io.stderr:write("memscript: ", escape(tostring(msg)), "\n")
  os.exit(3)
end

local cut = require("memscript.text").cut

-- The rows: view.fields of each cgroup, with its kind, whole memory.stat and pressure, and pids.
local function rows_of(tree)
  local rows = {}
  for _, node in ipairs(tree) do
    local m = node.memory
    local row = view.fields(node.path, m)
    row.kind = view.kind(node.path)
    row.version = m.version
    row.stat = m.stat
    row.pressure = m.pressure
    row.pids = m.procs
    rows[#rows + 1] = row
  end
  return rows
end

-- Numbers largest first (headroom smallest first), nil last; ties in tree order.
local function sort_rows(rows, field)
  if field == "path" then return end
  local key = field == "pressure" and "pressure_some" or field
  local ascending = field == "headroom"
  table.sort(rows, function(a, b)
    local x, y = a[key], b[key]
    if x ~= y then
      if x == nil then return false end
      if y == nil then return true end
      if ascending then return x < y end
      return x > y
    end
    return view.tree_order(a.path, b.path)
  end)
end

local function limit_text(value)
  if value == huge then return "max" end
  return value
end

local function columns_for(fmt, tree_view)
  local function bytes(title, key)
    return { title, fmt ~= "json" and function(row) return limit_text(row[key]) end or key, kind = "bytes", json = key }
  end
  if fmt == "json" then
    return {
      { "path", "path" }, { "kind", "kind" }, { "version", "version" },
      { "current", "current" }, { "max", "max" }, { "high", "high" }, { "limit", "limit" },
      { "headroom", "headroom" }, { "usage", "usage" }, { "working_set", "working_set" },
      { "anon", "anon" }, { "file", "file" }, { "kernel", "kernel" }, { "shmem", "shmem" }, { "sock", "sock" },
      { "swap", "swap" }, { "oom_kill", "oom_kill" }, { "pressure", "pressure" }, { "stat", "stat" },
      { "procs", "pids" },
    }
  end
  local name
  if fmt == "table" then
    name = function(row)
      local text = tree_view and (rep("  ", row.depth) .. view.name(row.path)) or row.path
      return cut(text, NAME_WIDTH)
    end
  else
    name = "path"
  end
  return {
    { "Cgroup", name, align = "left", json = "path" },
    { "Kind", "kind", align = "left" },
    bytes("Current", "current"), bytes("Limit", "limit"), bytes("Headroom", "headroom"),
    bytes("Anon", "anon"), bytes("File", "file"), bytes("Shmem", "shmem"), bytes("Kernel", "kernel"),
    bytes("Sock", "sock"), bytes("Swap", "swap"),
    { "PSI", function(row) return row.pressure_some end, kind = "number", json = "pressure_some" },
    { "OOM", "oom_kill", kind = "number", json = "oom_kill" },
    { "Procs", "procs", kind = "number", json = "procs" },
  }
end

local function main()
  local fmt = output.check_format(SPEC.name, cli.usage(SPEC))
  local paths, title
  if opts.pid then
    local pid = opts.pid
    local of, err = cg.of(pid)
    if not of then fail(err) end
    paths = view.chain(of.path)
    local names = {}
    for _, key in ipairs({ "unit", "slice" }) do
      if of[key] then names[#names + 1] = key .. " " .. of[key] end
    end
    if of.container then
      names[#names + 1] = "container " .. (of.container.runtime and (of.container.runtime .. " ") or "") .. of.container.id
    end
    if of.pod then names[#names + 1] = "pod " .. of.pod.uid .. " (" .. tostring(of.pod.qos) .. ")" end
    title = format("pid %s: %s (cgroup v%d%s)", tostring(pid), of.path, of.version,
      #names > 0 and (", " .. concat(names, ", ")) or "")
  end
  local tree, failed_or_err, errno = view.read_tree(cg, { paths = paths, depth = opts.depth })
  if not tree then fail(failed_or_err) end
  local failed = failed_or_err
  if opts.pid and #failed > 0 then fail(failed[1].message) end
  local rows = rows_of(tree)
  local sorted = opts.sort and opts.sort ~= "path"
  if sorted then sort_rows(rows, opts.sort) end
  if opts.rows then
    for i = #rows, opts.rows + 1, -1 do rows[i] = nil end
  end
  if title and fmt == "table" then io.stdout:write(escape(title), "\n") end
  output.print(rows, columns_for(fmt, not sorted))
  io.stdout:flush()
  local summary = view.failures_summary(failed, escape)
  if summary then io.stderr:write("memscript: ", summary, "\n") end
  return 0
end

os.exit(main())
