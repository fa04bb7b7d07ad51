-- diff.lua: what changed in memory between two captures, or a capture and the running system
--
-- A and B are captures made by capture.lua (the directory, its proc subdirectory, or an archive of
-- it) or the word `live` for the running system. The changes in Rss, Pss, Anonymous and Swap (summed
-- from each process's smaps) are shown per process, or with -m per mapping name over all processes,
-- or for one PID per mapping name of that process; largest growth first; or with -c the change of
-- each memory cgroup's charge and its parts (the cgroups capture.lua captured). See docs/capture.md.
--
-- A process is the same in A and B when both its pid and its start time (from /proc/PID/stat) agree:
-- a pid reused by another process is one process gone and another new. In a capture every listed
-- process must be whole: a file missing or unreadable there is an error naming the file (exit 3),
-- never a process silently shown as gone. On the live system a process that ends while it is read is
-- simply not there, and one that cannot be read (permission denied) is left out and counted on stderr.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local classify = require "memscript.classify"
local cli = require "memscript.cli"

local format, concat = string.format, table.concat
local sub, match = string.sub, string.match
local io, os, ipairs, pairs, tonumber, tostring = io, os, ipairs, pairs, tonumber, tostring
local utf8 = utf8
local sort = table.sort
local arg = arg

local SPEC = {
  name = "diff.lua",
  summary = "what changed in memory between two captures, or a capture and the running system",
  intro = [[
What changed in memory from A to B. A and B: a capture directory made by capture.lua (DIR or
DIR/proc), an archive of one (--tar), or the word live for the running system.
]],
  options = {
    { label = "(default)", help = "one row per process: Change PID RssA RssB dRss dPss dAnon dSwap Command" },
    { label = "PID", help = "one row per mapping name of that process:\n"
        .. "Change Mapping MapsA MapsB RssA RssB dRss dPss dAnon dSwap" },
    { "-m", "--mappings", help = "one row per mapping name, summed over all processes (same columns as PID)" },
    { "-c", "--cgroups", help = "one row per memory cgroup in A or B: Change Cgroup CurrentA CurrentB dCurrent "
        .. "dAnon dFile dKernel dSwap dOOM, from each cgroup's memory.current and memory.stat (v1: "
        .. "memory.usage_in_bytes, total_rss, total_cache) and OOM kills" },
    { "-a", "--all", help = "also show rows where nothing changed (by default they are left out)" },
    { "-n", "--rows", value = "N", type = "integer", min = 1, noun = "rows", help = "show the first N rows only" },
    { "-s", "--sort", value = "FIELD", type = "choice", choices = { "rss", "pss", "anon", "swap", "current", "file",
        "kernel" },
      help = "order by the growth of rss (the default), pss, anon or swap, largest first; with -c of current "
        .. "(the default), anon, file, kernel or swap" },
  },
  operands = {
    { "A", type = "path", words = { "live" } },
    { "B", type = "path", words = { "live" } },
    -- a pid of the captures: "self" would be memscript itself, which no capture holds
    { "PID", type = "pid", optional = true, words = {},
      parse = function(word) local pid = cli.pid(word) return pid ~= "self" and pid or nil end },
  },
  epilog = [[

Sizes are bytes, from each mapping's Rss, Pss, Anonymous and Swap in /proc/PID/smaps; dX is the
value in B minus the value in A. Change is "new" (only in B), "gone" (only in A) or empty. A process
is matched by pid and start time, so a reused pid shows as one process gone and one new. A mapping
name is the mapping's path as printed, or for one without a path its kind in brackets: [anon],
[shm], [guard] (see memscript.classify). Kernel threads and zombies, which have no mappings, are
left out. Output format: memscript's -f option (table, json, csv).
Exit status: 0; 3 on a usage error, or when a capture cannot be read (the message names the file).
]],
}

local opts = cli.parse(SPEC, arg)
if opts.pid and opts.mappings then cli.usage_error(SPEC, "-m and a PID cannot be combined") end
if opts.cgroups and (opts.pid or opts.mappings) then cli.usage_error(SPEC, "-c goes with neither -m nor a PID") end
do
  local cgroup_fields = { current = true, anon = true, file = true, kernel = true, swap = true }
  local process_fields = { rss = true, pss = true, anon = true, swap = true }
  opts.sort = opts.sort or (opts.cgroups and "current" or "rss")
  if opts.cgroups and not cgroup_fields[opts.sort] then
    cli.usage_error(SPEC, format("-c sorts by current, anon, file, kernel or swap, not '%s'", opts.sort))
  elseif not opts.cgroups and not process_fields[opts.sort] then
    cli.usage_error(SPEC, format("-s %s goes with -c", opts.sort))
  end
end

-- Reads a process's files, saying why a read failed: "gone" only when the process itself is.
local read_process, unreadable_open = require("memscript.unreadable").read_process,
  require("memscript.unreadable").open

local SUMMED = {"Rss", "Pss", "Anonymous", "Swap"}

-- A table cuts commands to this many characters (as top.lua does); JSON and CSV keep them whole.
local COMMAND_WIDTH = 40

local function fail(msg)
  io.stderr:write("memscript: ", escape(msg), "\n")
  os.exit(3)
end

-- The first `width` characters of text (UTF-8 characters when it is valid UTF-8, else bytes).
local function cut(text, width)
  local n = utf8.len(text)
  if n then
    if n <= width then return text end
    return sub(text, 1, utf8.offset(text, width + 1) - 1)
  end
  return sub(text, 1, width)
end

-- ---- sources ----

local function trimmed(text)
  return text and match(text, "^%s*(.-)%s*$") or nil
end

-- The pids of a metadata line ("pids_captured: 1 2 3"; one pid reads back as an integer).
local function pid_set(value)
  local set = {}
  for word in tostring(value or ""):gmatch("%d+") do set[tonumber(word)] = true end
  return set
end

-- A or B opened: {label, p (a proc table), live, boot (boot id or nil), captured (pid set or nil),
-- unknown (pids the capture could not read: their state is not known)}.
local function open_source(spec)
  if spec == "live" then
    local p = assert(proc.at("/proc"))
    return {label = "live", p = p, live = true, unknown = {},
            boot = trimmed(p.read("sys/kernel/random/boot_id"))}
  end
  local f, err = io.open(spec, "rb")
  if not f then fail(err) end
  local _, read_err, errno = f:read(1)
  f:close()
  local root = spec
  if errno == 21 then   -- EISDIR: a directory, the capture's top or its proc tree
    local inner = spec:gsub("/+$", "") .. "/proc"
    local g = io.open(inner, "rb")
    if g then
      g:close()
      root = inner
    end
  elseif read_err then
    fail(spec .. ": " .. read_err)
  end
  local p, perr = proc.at(root)
  if not p then fail(perr) end
  local meta = p.meta()
  if not meta then fail(root .. ": cannot read its memscript-capture file") end
  local src = {label = spec, p = p, live = false, unknown = {}}
  if meta.captured then
    src.boot = meta.boot_id and tostring(meta.boot_id) or nil
    src.captured = pid_set(meta.pids_captured)
    for pid in pairs(pid_set(meta.pids_denied)) do src.unknown[pid] = "permission denied" end
    for pid in pairs(pid_set(meta.pids_failed)) do src.unknown[pid] = "could not be read" end
  end
  return src
end

-- A mapping's name: its path as printed, else its kind in brackets.
local function mapping_name(m)
  if m.path ~= "" then return m.path end
  return "[" .. classify.kind(m) .. "]"
end

local function new_sums()
  return {Rss = 0, Pss = 0, Anonymous = 0, Swap = 0, maps = 0}
end

local function add_mapping(sums, m)
  for _, field in ipairs(SUMMED) do sums[field] = sums[field] + (m[field] or 0) end
  sums.maps = sums.maps + 1
end

-- One process of a source: {pid, starttime, command, sums, names = {name = sums}}; {pid, starttime,
-- unreadable = message} when its smaps or cmdline cannot be read (permission denied); nil, "absent"
-- when it is not there (gone, or no memory of its own any more: it exited while it was read); nil,
-- "unreadable", message when not even its stat can be read. Live only: a capture that lacks a file of
-- a process it holds is an error naming the file.
local function read_one(src, pid)
  local function failed(reason, msg)
    if not src.live then fail(msg) end
    if reason == "gone" or reason == "none" then return nil, "absent" end
    return nil, "unreadable", msg
  end
  local handle <close>, reason, msg = unreadable_open(pid, src.p, "stat")
  if not handle then return failed(reason, msg) end
  local process
  process, reason, msg = read_process(handle, {"stat"}, src.p)
  if not process then return failed(reason, msg) end
  local st = process.stat
  process, reason, msg = read_process(handle, {"smaps", "cmdline"}, src.p)
  if not process then
    local _, why, err = failed(reason, msg)
    if why == "absent" then return nil, why end
    return {pid = pid, starttime = st.starttime, unreadable = err}
  end
  local maps, args = process.smaps, process.cmdline
  local sums, names = new_sums(), {}
  for _, m in ipairs(maps) do
    add_mapping(sums, m)
    local name = mapping_name(m)
    local group = names[name]
    if not group then group = new_sums(); names[name] = group end
    add_mapping(group, m)
  end
  local command = #args > 0 and concat(args, " ") or ("[" .. tostring(st.comm) .. "]")
  return {pid = pid, starttime = st.starttime, command = command, sums = sums, names = names}
end

-- Every process of a source, keyed by "pid:starttime" (prefixed by tag when the boots differ).
local function read_all(src, tag)
  local pids, err = src.p.pids()
  if not pids then fail(err) end
  local set = {}
  for _, pid in ipairs(pids) do set[pid] = true end
  -- Every pid the metadata lists as captured must be there: a lost directory is an error too.
  for pid in pairs(src.captured or {}) do set[pid] = true end
  local list = {}
  for pid in pairs(set) do list[#list + 1] = pid end
  sort(list)
  local processes = {}
  for _, pid in ipairs(list) do
    local p = read_one(src, pid)
    if p then processes[tag .. pid .. ":" .. tostring(p.starttime)] = p end
  end
  return processes
end

-- ---- rows ----

local function change_row(row, a, b)
  local empty = new_sums()
  a, b = a or empty, b or empty
  row.rss_a = a ~= empty and a.Rss or nil
  row.rss_b = b ~= empty and b.Rss or nil
  row.rss = b.Rss - a.Rss
  row.pss = b.Pss - a.Pss
  row.anon = b.Anonymous - a.Anonymous
  row.swap = b.Swap - a.Swap
  row.changed = row.change ~= "" or row.rss ~= 0 or row.pss ~= 0 or row.anon ~= 0 or row.swap ~= 0
  return row
end

local function mapping_row(name, a, b)
  local row = {mapping = name, change = (a and b) and "" or (a and "gone" or "new"),
               maps_a = a and a.maps or nil, maps_b = b and b.maps or nil}
  change_row(row, a, b)
  row.changed = row.changed or row.maps_a ~= row.maps_b
  return row
end

-- Rows for mapping names: `a` and `b` map names to sums.
local function mapping_rows(a, b, rows)
  for name, sums in pairs(a) do rows[#rows + 1] = mapping_row(name, sums, b[name]) end
  for name, sums in pairs(b) do
    if not a[name] then rows[#rows + 1] = mapping_row(name, nil, sums) end
  end
  return rows
end

local function add_names(total, names)
  for name, sums in pairs(names) do
    local t = total[name]
    if not t then t = new_sums(); total[name] = t end
    for _, field in ipairs(SUMMED) do t[field] = t[field] + sums[field] end
    t.maps = t.maps + sums.maps
  end
end

-- Per process (or with by_name, per mapping name over those processes) from two whole reads.
local function all_rows(src_a, src_b, by_name)
  local tag_a, tag_b = "", ""
  if src_a.boot and src_b.boot and src_a.boot ~= src_b.boot then
    io.stderr:write(format("memscript: %s and %s were taken in different boots: no process is in both\n",
                           src_a.label, src_b.label))
    tag_a, tag_b = "A", "B"
  end
  local procs_a, procs_b = read_all(src_a, tag_a), read_all(src_b, tag_b)
  local rows, left_out = {}, 0
  local names_a, names_b = {}, {}
  local function consider(key, a, b)
    local one = a or b
    if (a and a.unreadable) or (b and b.unreadable) then left_out = left_out + 1 return end
    if not a and src_a.unknown[one.pid] then left_out = left_out + 1 return end
    if not b and src_b.unknown[one.pid] then left_out = left_out + 1 return end
    -- no mappings on any side: a kernel thread or a zombie
    if (not a or a.sums.maps == 0) and (not b or b.sums.maps == 0) then return end
    if by_name then
      if a then add_names(names_a, a.names) end
      if b then add_names(names_b, b.names) end
      return
    end
    local row = {pid = one.pid, command = (b or a).command, change = (a and b) and "" or (a and "gone" or "new")}
    rows[#rows + 1] = change_row(row, a and a.sums, b and b.sums)
    row.key = key
  end
  for key, a in pairs(procs_a) do consider(key, a, procs_b[key]) end
  for key, b in pairs(procs_b) do
    if not procs_a[key] then consider(key, nil, b) end
  end
  if left_out > 0 then
    io.stderr:write(format("memscript: %d process%s left out: not readable in %s or %s\n", left_out,
                           left_out == 1 and "" or "es", src_a.label, src_b.label))
  end
  if by_name then return mapping_rows(names_a, names_b, {}) end
  return rows
end

-- Per mapping name of one process.
local function pid_rows(src_a, src_b, pid)
  local function one(src)
    if src.unknown[pid] then
      fail(format("%s: process %d was not captured (%s)", src.label, pid, src.unknown[pid]))
    end
    local present = src.captured and src.captured[pid]
    if not present and not src.live then
      for _, q in ipairs(src.p.pids() or {}) do
        if q == pid then present = true break end
      end
      if not present then return nil end
    end
    local p, why, err = read_one(src, pid)
    if p and p.unreadable then fail(p.unreadable) end
    if not p and why == "unreadable" then fail(err) end
    return p
  end
  local a, b = one(src_a), one(src_b)
  if not a and not b then
    fail(format("process %d is in neither %s nor %s", pid, src_a.label, src_b.label))
  end
  local same_boot = not (src_a.boot and src_b.boot and src_a.boot ~= src_b.boot)
  if a and b and (a.starttime ~= b.starttime or not same_boot) then
    io.stderr:write(format("memscript: pid %d in %s is another process than in %s (started at a different " ..
                           "time): its mappings show as gone and new\n", pid, src_b.label, src_a.label))
    local rows = mapping_rows(a.names, {}, {})
    return mapping_rows({}, b.names, rows)
  end
  return mapping_rows(a and a.names or {}, b and b.names or {}, {})
end

-- ---- per cgroup (-c) ----

-- The proc table of the whole machine a source names (its sys tree too): a capture's top, the one
-- above a capture's proc directory, an archive, or the running system.
local function machine_of(spec)
  if spec == "live" then return assert(proc.at("/proc")) end
  local top = spec:gsub("/+$", "")
  local probe = io.open(top .. "/proc/.", "rb")
  if probe then
    probe:close()
  elseif top:match("/proc$") and io.open(top .. "/.", "rb") then
    top = top:gsub("/proc$", "")
    if top == "" then top = "/" end
  end
  local p, err = proc.at(top, "machine")
  if not p then fail(err) end
  return p
end

-- The cgroups of a source: path -> {current, anon, file, kernel, swap, oom_kill}.
local function cgroups_of(spec)
  local view = require "memscript.cgroupview"
  local p = machine_of(spec)
  local tree, failed = view.read_tree(p.cgroup)
  if not tree then fail(failed) end
  if #failed > 0 then fail(failed[1].message) end
  local by_path = {}
  for _, node in ipairs(tree) do
    local f = view.fields(node.path, node.memory)
    by_path[node.path] = { current = f.current, anon = f.anon, file = f.file, kernel = f.kernel, swap = f.swap,
                           oom_kill = f.oom_kill }
  end
  return by_path
end

local CGROUP_FIGURES = {"current", "anon", "file", "kernel", "swap", "oom_kill"}

-- b - a for each figure both have (nil when either lacks it: never a change from a figure not read).
local function cgroup_row(path, a, b)
  local row = {cgroup = path, change = (a and b) and "" or (a and "gone" or "new"),
               current_a = a and a.current, current_b = b and b.current}
  row.changed = row.change ~= ""
  for _, key in ipairs(CGROUP_FIGURES) do
    local x, y = a and a[key], b and b[key]
    if a == nil then x = 0 end
    if b == nil then y = 0 end
    if x and y then
      row[key] = y - x
      if row[key] ~= 0 then row.changed = true end
    end
  end
  return row
end

local function cgroup_rows()
  local a, b = cgroups_of(opts.a), cgroups_of(opts.b)
  local rows = {}
  for path, figures in pairs(a) do rows[#rows + 1] = cgroup_row(path, figures, b[path]) end
  for path, figures in pairs(b) do
    if not a[path] then rows[#rows + 1] = cgroup_row(path, nil, figures) end
  end
  return rows
end

-- ---- main ----

output.check_format(SPEC.name, cli.usage(SPEC))

local rows
local src_a, src_b
if opts.cgroups then
  rows = cgroup_rows()
else
  src_a, src_b = open_source(opts.a), open_source(opts.b)
end
if opts.cgroups then
  -- rows are made
elseif opts.pid then
  rows = pid_rows(src_a, src_b, opts.pid)
else
  rows = all_rows(src_a, src_b, opts.mappings)
end

local shown = {}
for _, row in ipairs(rows) do
  if opts.all or row.changed then shown[#shown + 1] = row end
end
local by = opts.sort
sort(shown, function(x, y)
  if x[by] ~= y[by] then
    if x[by] == nil then return false end
    if y[by] == nil then return true end
    return x[by] > y[by]
  end
  if x.cgroup and y.cgroup and x.cgroup ~= y.cgroup then return x.cgroup < y.cgroup end
  if x.pid and y.pid and x.pid ~= y.pid then return x.pid < y.pid end
  if x.mapping and y.mapping and x.mapping ~= y.mapping then return x.mapping < y.mapping end
  return x.change < y.change
end)
if opts.rows then
  for i = #shown, opts.rows + 1, -1 do shown[i] = nil end
end

local delta_columns = {
  {"RssA", "rss_a", kind = "bytes"},
  {"RssB", "rss_b", kind = "bytes"},
  {"dRss", "rss", kind = "bytes", json = "rss_change"},
  {"dPss", "pss", kind = "bytes", json = "pss_change"},
  {"dAnon", "anon", kind = "bytes", json = "anonymous_change"},
  {"dSwap", "swap", kind = "bytes", json = "swap_change"},
}
local columns
if opts.cgroups then
  columns = {{"Change", "change", align = "left"}, {"Cgroup", "cgroup", align = "left"},
             {"CurrentA", "current_a", kind = "bytes"}, {"CurrentB", "current_b", kind = "bytes"},
             {"dCurrent", "current", kind = "bytes", json = "current_change"},
             {"dAnon", "anon", kind = "bytes", json = "anon_change"},
             {"dFile", "file", kind = "bytes", json = "file_change"},
             {"dKernel", "kernel", kind = "bytes", json = "kernel_change"},
             {"dSwap", "swap", kind = "bytes", json = "swap_change"},
             {"dOOM", "oom_kill", kind = "number", json = "oom_kill_change"}}
  if output.format() == "table" then
    local name_column = table.remove(columns, 2)
    columns[#columns + 1] = name_column
  end
elseif opts.pid or opts.mappings then
  columns = {{"Change", "change", align = "left"}, {"Mapping", "mapping", align = "left"},
             {"MapsA", "maps_a", kind = "number"}, {"MapsB", "maps_b", kind = "number"}}
  for _, c in ipairs(delta_columns) do columns[#columns + 1] = c end
  -- the mapping name last in a table, where it can be long
  if output.format() == "table" then
    local name_column = table.remove(columns, 2)
    columns[#columns + 1] = name_column
  end
else
  columns = {{"Change", "change", align = "left"}, {"PID", "pid", kind = "number"}}
  for _, c in ipairs(delta_columns) do columns[#columns + 1] = c end
  columns[#columns + 1] = {"Command", "command", align = "left"}
  if output.format() == "table" then
    for _, row in ipairs(shown) do row.command = cut(row.command, COMMAND_WIDTH) end
  end
end
output.print(shown, columns)
os.exit(0)
