-- top.lua: memory of every process (USS, PSS, RSS, swap, footprint), per process, user, mapping or cgroup
--
-- What smem shows, read from smaps_rollup (one short file per process) instead of smaps: per process
-- (the default), per user (-u, like smem -u) or per mapping name (-m, like smem -m and librank, which
-- needs each process's whole smaps); or per cgroup (-c), the processes' sums beside the cgroup's own
-- charge. Sizes are bytes; a table on a terminal shows human units. The footprint is PSS + swap, swap
-- being SwapPss (the process's share of its swapped-out pages) where the kernel prints it; the shmem
-- pages swapped out, which SwapPss and status VmSwap leave out, are shown beside it (ShmemSwap).
--
-- A process is one of three things here: read (a row, and part of the totals), left out silently
-- because it has no memory of its own (a kernel thread or a zombie, as smem leaves them out), or
-- unreadable (gone before it was read, access denied, or another error): never a row of zeros, and
-- never part of the totals; the unreadable are counted on stderr.

local proc = proc or require "memscript"
local output = require "memscript.output"
local folded = require "memscript.folded"
local sys = require "memscript.sys"
local collection = require "memscript.collection"
local unreadable_module = require "memscript.unreadable"
local cli = require "memscript.cli"
local users = require "memscript.users"
local read_process, unreadable_scan = unreadable_module.read_process, unreadable_module.scan
local system = require "memscript.system"

local format, concat, rep = string.format, table.concat, string.rep
local sub, match, gsub = string.sub, string.match, string.gsub
local io, os, ipairs, tostring, type = io, os, ipairs, tostring, type
local arg = arg

-- The fields of each view, named as in the JSON output: what -s can sort by.
local VIEWS = {
  process = {"pid", "user", "command", "uss", "pss", "rss", "swap", "shmem_swap", "footprint"},
  user = {"user", "procs", "uss", "pss", "rss", "swap", "shmem_swap", "footprint"},
  map = {"map", "procs", "maps", "uss", "pss", "rss", "swap", "footprint"},
  cgroup = {"cgroup", "procs", "uss", "pss", "rss", "swap", "shmem_swap", "footprint", "current", "unmapped"},
}

local SPEC = {
  name = "top.lua",
  summary = "memory of every process (USS, PSS, RSS, swap, footprint), per process, user, mapping or cgroup",
  intro = [[
Memory of the processes on the system, largest PSS first, as smem shows it.
]],
  options = {
    { label = "(default)", help = "one row per process: PID User Command USS PSS RSS Swap ShmemSwap Footprint" },
    { "-u", "--users", help = "one row per user: User Procs USS PSS RSS Swap ShmemSwap Footprint, summed over "
        .. "the user's processes" },
    { "-m", "--mappings",
      help = "one row per mapping name (a file, [heap], [stack], [anon] for unnamed anonymous memory...): "
        .. "Map Procs Maps USS PSS RSS Swap Footprint, summed over every process that maps it. Costlier: it reads "
        .. "and parses each process's whole smaps, a record per mapping, instead of one smaps_rollup "
        .. "record per process (for a process with 60,000 mappings, about ten times the time)" },
    { "-c", "--cgroups",
      help = "one row per memory cgroup the processes are in: Cgroup Procs USS PSS RSS Swap ShmemSwap Footprint "
        .. "Current Unmapped, "
        .. "the processes' sums beside the cgroup's charge (memory.current; v1 memory.usage_in_bytes) and "
        .. "Unmapped = Current - PSS: page cache and kernel memory charged to the cgroup that its "
        .. "processes do not map" },
    { "--depth", value = "N", type = "integer", min = 0, noun = "levels",
      help = "with -c: each process counted in its cgroup's ancestor N levels below the root (the root is "
        .. "level 0; a cgroup less deep stays as it is), instead of its own cgroup" },
    { "-n", "--rows", value = "N", type = "integer", min = 1, noun = "rows",
      help = "show the first N rows only (the totals line still sums every process read)" },
    { "-s", "--sort", value = "FIELD", suggest = { "pid", "user", "command", "procs", "map", "maps", "uss",
        "pss", "rss", "swap", "shmem_swap", "footprint", "cgroup", "current", "unmapped" },
      help = "sort by a column, named as in the JSON output: pid user command uss pss rss swap shmem_swap "
        .. "footprint; with -u: user procs uss pss rss swap shmem_swap footprint; with -m: map procs maps uss "
        .. "pss rss swap footprint; with -c: cgroup procs uss pss rss swap shmem_swap footprint current "
        .. "unmapped. Numbers largest first, text in byte order. Default: pss (with -c: current)" },
    { "-p", "--pid", value = "PID[,PID...]", type = "pids", repeatable = true, key = "pids",
      help = "only these processes (pids separated by commas; the option may be repeated)" },
    { "--ksm", help = "count KSM pages only, as procrank -k: USS, PSS and RSS from each present page's "
        .. "kpageflags and kpagecount (root), no Swap, ShmemSwap or Footprint column" },
    { "--swapbacked", help = "count swap-backed pages only (anonymous and shmem), as procrank -s (root)" },
    { "--cache", help = "count page cache pages only (not swap-backed), as procrank -c (root)" },
    { "--wss", value = "SECONDS", type = "seconds",
      help = "add a WSS column, the working set: clears the referenced bits of every process shown "
        .. "(/proc/PID/clear_refs; page reclaim then sees their pages as not used lately), waits SECONDS, "
        .. "and reads Referenced from smaps_rollup" },
  },
  exclusive = { { "-u", "-m", "-c" }, { "--ksm", "--swapbacked", "--cache" } },
  epilog = [[

USS = Private_Clean + Private_Dirty + Private_Hugetlb, PSS = Pss, RSS = Rss, Swap = SwapPss (the
process's share of its swapped-out pages) where the kernel prints it, else Swap (a page shared with
other processes then counted whole in each): the table titles the column SwapPss or Swap accordingly,
and stderr counts the processes without SwapPss. Footprint = PSS + Swap (htop's EPSS). ShmemSwap =
smaps_rollup Swap - status VmSwap: the shmem pages of its mappings that are swapped out (tmpfs and
/dev/shm files, System V segments, shared anonymous memory), which SwapPss, VmSwap and so Footprint
leave out; counted whole in each process that maps them (the kernel keeps no share of them), read from
two files one after the other; "-" where Swap stands in for SwapPss (it includes them). From
/proc/PID/smaps_rollup (Linux 4.14 and later), with -m from /proc/PID/smaps (no ShmemSwap there: its
sums by name cannot tell shmem swap from shared anonymous swap). User: the real uid from
/proc/PID/status, named from /etc/passwd. Command: the command line, or [name] when it is empty; cut
to 40 characters in a table.
The output format is memscript's -f option (table, json or csv); only a table ends with a totals line.
With -f folded, the collapsed stacks of flame graphs (flamegraph.pl, inferno, speedscope), one line
per process: "COMMAND [PID] BYTES", with -u "USER;COMMAND [PID] BYTES", with -m one line per mapping
name and process: "MAP;COMMAND [PID] BYTES", with -c one line per process under its cgroup's path,
a frame per component ("/" for the root cgroup): "system.slice;nginx.service;COMMAND [PID] BYTES".
BYTES is the size -s names (uss, pss, rss, swap or footprint; default pss, also with -c: a cgroup's
Current holds its descendants' and adds up to nothing), exact, and the lines add up to the totals
line's figure; a stack of 0 bytes is left out. Frames are escaped as in a table, ";" as \x3b.
With -c, a process is counted in the cgroup of the memory controller's hierarchy it is in
(/proc/PID/cgroup); Current is the cgroup's own charge, which includes its descendants' (a
cgroup's row and its child's both count the child's memory), so the totals line sums no Current.
A cgroup whose charge cannot be read (the v2 root has none) shows "-". Unmapped is an estimate:
a page is charged to the cgroup that first touched it, so it is below zero when the processes map
pages charged elsewhere (their program's file pages, read first by another cgroup).

Kernel threads and zombies have no memory of their own: they are left out silently, as smem does.
A process that cannot be read (gone before it was read, or permission denied: without root you can
read your own processes only) is left out of the rows and of the totals, and counted on stderr:
"3 processes unreadable: 2 gone, 1 permission denied". On a terminal, a scan that takes longer than
a second shows its progress on stderr.
Exit status: 0; 3 (UNKNOWN) on a usage error, or when processes were unreadable and none was read.
]],
}

local opts = cli.parse(SPEC, arg)
opts.view = opts.users and "user" or opts.mappings and "map" or opts.cgroups and "cgroup" or "process"
if opts.depth and not opts.cgroups then cli.usage_error(SPEC, "--depth goes with -c") end
-- procrank's page filters: the sizes come from kpageflags and kpagecount, which know nothing of swap
opts.only = opts.ksm and "ksm" or opts.swapbacked and "swapbacked" or opts.cache and "cache" or nil
if opts.only then
  -- -m sums smaps per name; -c sets PSS beside the cgroup's whole charge: filtered pages fit neither
  if opts.view == "map" or opts.view == "cgroup" then
    cli.usage_error(SPEC, "the page filters count processes' pages: not with -m or -c")
  end
  local kept = {}
  for _, field in ipairs(VIEWS[opts.view]) do
    if field ~= "swap" and field ~= "shmem_swap" and field ~= "footprint" then kept[#kept + 1] = field end
  end
  VIEWS[opts.view] = kept
end
if opts.wss then
  if opts.view ~= "process" then
    cli.usage_error(SPEC, "--wss shows one column per process: not with -u, -m or -c")
  end
  -- the working set is of every page the process references, the filtered sizes of some pages only
  if opts.only then cli.usage_error(SPEC, "--wss counts all the pages referenced: not with a page filter") end
  VIEWS.process[#VIEWS.process + 1] = "wss"
end
if opts.sort then
  local known = false
  for _, field in ipairs(VIEWS[opts.view]) do known = known or field == opts.sort end
  if not known then
    cli.usage_error(SPEC, format("cannot sort by '%s' here (fields: %s)", opts.sort, concat(VIEWS[opts.view], " ")))
  end
end

-- The table view cuts commands to this many characters.
local COMMAND_WIDTH = 40

-- Seconds a scan runs before the progress line appears, and between its updates.
local PROGRESS_AFTER, PROGRESS_EVERY = 1.0, 0.1

-- ---- progress on a terminal ----

local progress = {tty = sys.isatty(2), start = sys.monotonic(), last = 0, width = 0}

function progress.update(done, total)
  if not progress.tty then return end
  local now = sys.monotonic()
  if now - progress.start < PROGRESS_AFTER or now - progress.last < PROGRESS_EVERY then return end
  progress.last = now
  local text = format("scanning %d/%d processes...", done, total)
  if #text > progress.width then progress.width = #text end
  io.stderr:write("\r", text)
  io.stderr:flush()
end

function progress.clear()
  if progress.width > 0 then
    io.stderr:write("\r", rep(" ", progress.width), "\r")
    io.stderr:flush()
    progress.width = 0
  end
end

-- ---- reading one process ----

-- What -m adds up of each mapping, by path, in C (proc.smaps_sums): no table per mapping is built.
local MAP_FIELDS = {smaps_sums = {"Rss", "Pss", "Private_Clean", "Private_Dirty", "Private_Hugetlb", "Swap",
  "SwapPss"}}
-- What the page filters read of each process: its mappings' filtered pages, looked up by frame.
local PAGE_FILTER = {only = opts.only, fields = {"rss", "pss", "uss"}}

-- The files the -m view reads of each process, in this order: its status only where a command
-- name may be needed (the folded stacks name each process).
local function map_files(with_status)
  return with_status and {"status", "smaps_sums"} or {"smaps_sums"}
end

-- The memory of one process (pid, or a handle open on it): smaps_rollup's table, or its smaps summed
-- by path (proc.smaps_sums) when want_maps, its status read too unless want_maps == "sums only".
-- Returns
--   memory, status                    read (status nil for "sums only")
--   nil, "none"                       a kernel thread or a zombie: no memory of its own
--   nil, "gone" | "denied" | "other", message   (unreadable.read_process)
local function read_memory(pid, want_maps)
  local handle <close>, reason, msg = unreadable_module.open(pid, proc, "status")
  if not handle then return nil, reason, msg end
  local process
  if want_maps then
    -- status and smaps in one read (one check that the process did not change), or smaps alone: a
    -- kernel thread's or a zombie's smaps is empty. When that fails, the careful way below finds
    -- out why.
    local with_status = want_maps ~= "sums only"
    process, reason, msg = read_process(handle, map_files(with_status), proc, MAP_FIELDS)
    if process then
      if #process.smaps_sums == 0 then return nil, "none" end
      if not with_status then return process.smaps_sums end
      local status, state = process.status, process.status.State
      state = type(state) == "string" and sub(state, 1, 1) or ""
      if status.Kthread == 1 or state == "Z" or state == "X" then return nil, "none" end
      return process.smaps_sums, status
    end
    if reason == "changed" then return nil, reason, msg end
  end
  process, reason, msg = read_process(handle, {"status"})
  if not process then return nil, reason, msg end
  local status = process.status
  -- Kthread (in the status of recent kernels); State "Z (zombie)" or "X (dead)": its memory is released.
  local state = type(status.State) == "string" and sub(status.State, 1, 1) or ""
  if status.Kthread == 1 or state == "Z" or state == "X" then return nil, "none" end
  if opts.only then
    -- the filtered pages of every mapping, as smaps_rollup's fields (procrank's Uss is Private); no
    -- Swap or SwapPss: kpageflags knows nothing of swap
    local list, errno
    list, msg, errno = handle:pagemap(nil, PAGE_FILTER)
    if not list then return nil, unreadable_module.reason_for(handle.pid, errno, proc), msg end
    if #list == 0 then return nil, "none" end
    return { Rss = list:sum("rss"), Pss = list:sum("pss"), Private_Clean = list:sum("uss") }, status
  end
  local file = want_maps and "smaps_sums" or "smaps_rollup"
  -- "none" for ESRCH from a process still there; a file missing from a process that is still there
  -- (a damaged capture) is "other"
  process, reason, msg = read_process(handle, {file}, proc, MAP_FIELDS)
  if not process then return nil, reason, msg end
  local memory = process[file]
  -- An empty file: the kernel found no memory to report (a kernel thread, on some older kernels).
  if (want_maps and #memory == 0) or (not want_maps and memory.Rss == nil) then return nil, "none" end
  return memory, status
end

-- Private_Clean + Private_Dirty + Private_Hugetlb of a smaps_rollup table or a smaps mapping.
local function uss_of(t)
  return (t.Private_Clean or 0) + (t.Private_Dirty or 0) + (t.Private_Hugetlb or 0)
end

-- Processes whose swap is Swap because the kernel printed no SwapPss for them: the table's column
-- is then titled Swap rather than SwapPss, and stderr says how many.
local swap_stood_in = 0

-- The sizes of a smaps_rollup table or of a -m group of mappings: uss, pss, rss, swap (SwapPss
-- where the kernel printed it, else Swap: stood_in), as values: the -m view adds up a group of
-- mappings per name and process, tens of thousands on a big host, without a table for each.
local function values_of(t)
  local swap, source = system.swap_of(t)
  return uss_of(t), t.Pss or 0, t.Rss or 0, swap or 0, swap ~= nil and source ~= "SwapPss"
end

-- The same sizes in a table (values_of's names), and with a status shmem_swap, the shmem pages
-- swapped out that SwapPss leaves out (memscript.system.shmem_swap_of; nil where Swap stands in,
-- which includes them).
local function sizes_of(t, status)
  local uss, pss, rss, swap, stood_in = values_of(t)
  local sizes = {uss = uss, pss = pss, rss = rss, swap = swap, stood_in = stood_in}
  if status and t.SwapPss ~= nil then sizes.shmem_swap = system.shmem_swap_of(t, status) end
  return sizes
end

-- The command line joined with spaces, or "[Name]" when it is empty (or cannot be read any more).
local function command_of(pid, status)
  local args = proc.cmdline(pid)
  if args and #args > 0 then return concat(args, " ") end
  return "[" .. tostring(status.Name or "?") .. "]"
end

-- ---- the scan ----

local function pids_to_scan(opts)
  return unreadable_module.pids(proc, opts.pids)
end

-- Reads every process (want_maps as read_memory's): calls add(pid, memory, status) for each one read;
-- returns the count of processes read and the unreadable ones counted by reason ({gone = n, denied = n,
-- other = n, first_other = msg}).
local function scan(pids, want_maps, add)
  local done = 0
  -- the kernel produces the next processes' files on other CPUs while this one's tables are built
  local files = want_maps and map_files(want_maps ~= "sums only") or {"status", "smaps_rollup"}
  local ahead = {p = proc, files = files, fields = MAP_FIELDS}
  local read, unreadable = unreadable_scan(pids, function(pid)
    progress.update(done, #pids)
    done = done + 1
    return read_memory(pid, want_maps)
  end, add, ahead)
  progress.clear()
  return read, unreadable
end

-- The same scan with another reader (read(pid) -> value, extra | nil, reason, message).
local function scan_with(pids, read, add)
  local done = 0
  local count, unreadable = unreadable_scan(pids, function(pid)
    progress.update(done, #pids)
    done = done + 1
    return read(pid)
  end, add)
  progress.clear()
  return count, unreadable
end

-- Adds sizes (values_of's) into a row or the totals: the footprint is pss + swap.
local function add_values(into, uss, pss, rss, swap)
  into.uss = into.uss + uss
  into.pss = into.pss + pss
  into.rss = into.rss + rss
  into.swap = into.swap + swap
  into.footprint = into.footprint + pss + swap
end

-- The same for sizes_of's table; shmem_swap stays nil until a known one is added.
local function add_sizes(into, sizes)
  add_values(into, sizes.uss, sizes.pss, sizes.rss, sizes.swap)
  if sizes.shmem_swap then into.shmem_swap = (into.shmem_swap or 0) + sizes.shmem_swap end
end

local function new_sums(t)
  t.uss, t.pss, t.rss, t.swap, t.footprint = 0, 0, 0, 0, 0
  return t
end

-- Each view returns its rows (unsorted), the totals row, its columns and its default row order.

-- The size columns after first's: the swap column titled by what it holds; ShmemSwap unless the view
-- has none (-m); with a page filter, USS, PSS and RSS alone; with --wss, WSS last.
local function columns_with(first, with_shmem_swap)
  local columns = {}
  for _, col in ipairs(first) do columns[#columns + 1] = col end
  columns[#columns + 1] = {"USS", "uss", kind = "bytes"}
  columns[#columns + 1] = {"PSS", "pss", kind = "bytes"}
  columns[#columns + 1] = {"RSS", "rss", kind = "bytes"}
  if opts.only then return columns end
  columns[#columns + 1] = {swap_stood_in == 0 and "SwapPss" or "Swap", "swap", kind = "bytes"}
  if with_shmem_swap then columns[#columns + 1] = {"ShmemSwap", "shmem_swap", kind = "bytes"} end
  columns[#columns + 1] = {"Footprint", "footprint", kind = "bytes"}
  if opts.wss then columns[#columns + 1] = {"WSS", "wss", kind = "bytes"} end
  return columns
end

local table_text = require("memscript.text").cut

local function user_name(names, status)
  local uid = match(tostring(status.Uid or ""), "^%s*(%d+)")
  if not uid then return "?" end
  return names[uid] or uid
end

-- --wss: clears the referenced bits of each process, then waits; returns the pids cleared.
local function reset_refs(pids, seconds)
  local cleared = {}
  for _, pid in ipairs(pids) do cleared[pid] = proc.clear_refs(pid, 1) end
  sys.sleep(seconds)
  return cleared
end

local function process_view(pids, for_table)
  local names = users.names()
  local rows = {}
  local totals = new_sums({pid = "", user = ""})
  local cleared = opts.wss and reset_refs(pids, opts.wss)
  if cleared then totals.wss = 0 end
  local read, unreadable = scan(pids, false, function(pid, rollup, status)
    local row = new_sums({pid = pid, user = user_name(names, status), command = command_of(pid, status)})
    local sizes = sizes_of(rollup, status)
    if sizes.stood_in then swap_stood_in = swap_stood_in + 1 end
    add_sizes(row, sizes)
    add_sizes(totals, sizes)
    -- a process whose bits could not be cleared (or without the line) has no working set to show
    if cleared and cleared[pid] and rollup.Referenced then
      row.wss = rollup.Referenced
      totals.wss = totals.wss + row.wss
    end
    rows[#rows + 1] = row
  end)
  totals.command = format("total: %d process%s", read, read == 1 and "" or "es")
  local command = for_table and function(row)
    return row == totals and row.command or table_text(row.command, COMMAND_WIDTH)
  end or "command"
  local columns = columns_with({
    {"PID", "pid", kind = "number"},
    {"User", "user", align = "left"},
    {"Command", command, align = "left", json = "command"},
  }, true)
  return rows, totals, columns, read, unreadable
end

local function user_view(pids)
  local names = users.names()
  local by_user, rows = {}, {}
  local totals = new_sums({procs = 0})
  local read, unreadable = scan(pids, false, function(_, rollup, status)
    local name = user_name(names, status)
    local row = by_user[name]
    if not row then
      row = new_sums({user = name, procs = 0})
      by_user[name] = row
      rows[#rows + 1] = row
    end
    row.procs = row.procs + 1
    totals.procs = totals.procs + 1
    local sizes = sizes_of(rollup, status)
    if sizes.stood_in then swap_stood_in = swap_stood_in + 1 end
    add_sizes(row, sizes)
    add_sizes(totals, sizes)
  end)
  totals.user = format("total: %d user%s", #rows, #rows == 1 and "" or "s")
  local columns = columns_with({
    {"User", "user", align = "left"},
    {"Procs", "procs", kind = "number"},
  }, true)
  return rows, totals, columns, read, unreadable
end

-- Mapping names: the path as the kernel prints it; "[anon]" for anonymous memory without a name.
-- with per_process, also returns an array of {map, process = "COMMAND [PID]", uss, pss, rss, swap}:
-- each name's sizes in each process, names in the order first met, processes in pid order.
local function map_view(pids, for_table, per_process)
  local by_name, rows = {}, {}
  local totals = new_sums({procs = 0, maps = 0})
  local entries = per_process and {}
  -- the status of each process is wanted only for a command name in the folded stacks
  local read, unreadable = scan(pids, per_process and true or "sums only", function(pid, groups, status)
    totals.procs = totals.procs + 1
    local stood_in = false
    local process = per_process and format("%s [%s]", command_of(pid, status), tostring(pid))
    -- one group per distinct path of the process (proc.smaps_sums), so each counts the process once
    for i = 1, #groups do
      local g = groups[i]
      local name = g.path
      if name == "" then name = "[anon]" end
      local row = by_name[name]
      if not row then
        row = new_sums({map = name, procs = 0, maps = 0})
        by_name[name] = row
        rows[#rows + 1] = row
      end
      row.procs = row.procs + 1
      row.maps = row.maps + g.maps
      totals.maps = totals.maps + g.maps
      local uss, pss, rss, swap, stood = values_of(g)
      stood_in = stood_in or stood
      add_values(row, uss, pss, rss, swap)
      add_values(totals, uss, pss, rss, swap)
      if entries then
        entries[#entries + 1] = {map = name, process = process, uss = uss, pss = pss, rss = rss, swap = swap,
                                 footprint = pss + swap}
      end
    end
    if stood_in then swap_stood_in = swap_stood_in + 1 end
  end)
  totals.map = format("total: %d name%s", #rows, #rows == 1 and "" or "s")
  local map = for_table and function(row)
    return row == totals and row.map or table_text(row.map, 60)
  end or "map"
  local columns = columns_with({
    {"Map", map, align = "left", json = "map"},
    {"Procs", "procs", kind = "number"},
    {"Maps", "maps", kind = "number"},
  })
  return rows, totals, columns, read, unreadable, entries
end

-- ---- per cgroup (-c) ----

-- The memory of one process and its memory cgroup, through one handle: smaps_rollup, and
-- {status = ..., cgroup = proc.cgroup.of's table}; nil, "none" or nil, reason, message as read_memory.
local function read_memory_and_cgroup(pid)
  local handle <close>, reason, msg = unreadable_module.open(pid, proc, "status")
  if not handle then return nil, reason, msg end
  local process
  process, reason, msg = read_process(handle, {"status"})
  if not process then return nil, reason, msg end
  local status = process.status
  local state = type(status.State) == "string" and sub(status.State, 1, 1) or ""
  if status.Kthread == 1 or state == "Z" or state == "X" then return nil, "none" end
  process, reason, msg = read_process(handle, {"smaps_rollup", "cgroup"})
  if not process then return nil, reason, msg end
  if process.smaps_rollup.Rss == nil then return nil, "none" end
  return process.smaps_rollup, {status = status, cgroup = process.cgroup}
end

-- with per_process, also returns an array of {cgroup, process = "COMMAND [PID]", uss, pss, rss, swap}:
-- each process read, in pid order, under the cgroup it is counted in; the cgroups' charges are not read.
local function cgroup_view(pids, for_table, per_process)
  local view = require "memscript.cgroupview"
  local by_path, rows = {}, {}
  local totals = new_sums({procs = 0})
  local entries = per_process and {}
  local read, unreadable = scan_with(pids, read_memory_and_cgroup, function(pid, rollup, process)
    local of = process.cgroup
    local path = opts.depth and view.ancestor(of.path, opts.depth) or of.path
    local row = by_path[path]
    if not row then
      row = new_sums({cgroup = path, procs = 0})
      by_path[path] = row
      rows[#rows + 1] = row
    end
    row.procs = row.procs + 1
    totals.procs = totals.procs + 1
    local sizes = sizes_of(rollup, process.status)
    if sizes.stood_in then swap_stood_in = swap_stood_in + 1 end
    add_sizes(row, sizes)
    add_sizes(totals, sizes)
    if entries then
      entries[#entries + 1] = {cgroup = path, process = format("%s [%s]", command_of(pid, process.status),
        tostring(pid)), uss = sizes.uss, pss = sizes.pss, rss = sizes.rss, swap = sizes.swap,
        footprint = sizes.pss + sizes.swap}
    end
  end)
  if entries then return rows, totals, nil, read, unreadable, entries end
  -- each cgroup's charge, read once its processes are counted; one gone meanwhile shows "-"
  for _, row in ipairs(rows) do
    local m = proc.cgroup.memory(row.cgroup)
    row.current = m and m.current
    row.unmapped = row.current and row.current - row.pss
  end
  totals.cgroup = format("total: %d cgroup%s", #rows, #rows == 1 and "" or "s")
  local cgroup = for_table and function(row)
    return row == totals and row.cgroup or table_text(row.cgroup, 60)
  end or "cgroup"
  local columns = columns_with({
    {"Cgroup", cgroup, align = "left", json = "cgroup"},
    {"Procs", "procs", kind = "number"},
  }, true)
  columns[#columns + 1] = {"Current", "current", kind = "bytes"}
  columns[#columns + 1] = {"Unmapped", "unmapped", kind = "bytes"}
  return rows, totals, columns, read, unreadable
end

-- Rows in the order asked for: numbers largest first, text in byte order; ties in a fixed order.
local TIE_KEY = {process = "pid", user = "user", map = "map", cgroup = "cgroup"}

local function ordered(rows, view, field)
  local sorted = collection.new(rows):sort(TIE_KEY[view], "asc")
  local numeric = field ~= "user" and field ~= "command" and field ~= "map" and field ~= "cgroup"
  return sorted:sort(field, numeric and "desc" or "asc")
end

-- The table with a rule and the totals row under the rows.
local function render_table(rows, totals, columns)
  local all = {}
  for i, row in ipairs(rows) do all[i] = row end
  all[#all + 1] = totals
  local text = output.render(all, columns, {format = "table"})
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  local width = 0
  for _, line in ipairs(lines) do if #line > width then width = #line end end
  table.insert(lines, #lines, rep("-", width))
  return concat(lines, "\n") .. "\n"
end


-- -f folded: the stacks of the view, largest first (ties in pid or name order), the count read and
-- the unreadable tally. -u is the process view with each process under its user; -m has, for each
-- mapping name, the processes that map it.
local FOLDED_SIZES = {uss = true, pss = true, rss = true, swap = true, footprint = true}

-- -c has each process under its cgroup's path, a frame per component ("/" for the root cgroup).
local function folded_stacks(pids, size)
  local stacks = {}
  if opts.view == "map" or opts.view == "cgroup" then
    local key = opts.view
    local rows, _, _, read, unreadable, entries
    if key == "map" then
      rows, _, _, read, unreadable, entries = map_view(pids, false, true)
    else
      rows, _, _, read, unreadable, entries = cgroup_view(pids, false, true)
    end
    -- each name's (or cgroup's) processes together (in pid order), the names largest first
    local by_key = {}
    for _, entry in ipairs(entries) do
      local list = by_key[entry[key]]
      if not list then list = {}; by_key[entry[key]] = list end
      list[#list + 1] = entry
    end
    for _, row in ipairs(ordered(rows, key, size)) do
      local above = key == "map" and {row.map} or folded.path_frames(row.cgroup)
      for _, entry in ipairs(by_key[row[key]]) do
        local frames = {}
        for i, frame in ipairs(above) do frames[i] = frame end
        frames[#frames + 1] = entry.process
        stacks[#stacks + 1] = {frames, entry[size]}
      end
    end
    return stacks, read, unreadable
  end
  local rows, _, _, read, unreadable = process_view(pids, false)
  for _, row in ipairs(ordered(rows, "process", size)) do
    local process = format("%s [%s]", row.command, tostring(row.pid))
    stacks[#stacks + 1] = {opts.view == "user" and {row.user, process} or {process}, row[size]}
  end
  return stacks, read, unreadable
end

local function main_folded(pids)
  local size = opts.sort or "pss"
  if not FOLDED_SIZES[size] then
    cli.usage_error(SPEC, format("-f folded writes a size: -s uss, pss, rss, swap or footprint, not '%s'", size))
  end
  if opts.rows then cli.usage_error(SPEC, "-f folded writes every stack: -n does not apply") end
  if opts.wss then cli.usage_error(SPEC, "-f folded writes a size per stack: --wss does not apply") end
  local stacks, read, unreadable = folded_stacks(pids, size)
  folded.print(stacks)
  io.stdout:flush()
  local line = unreadable:summary()
  if line then io.stderr:write(line, "\n") end
  if read == 0 and line then return 3 end
  return 0
end

local function main()
  local fmt = output.check_format(SPEC.name, cli.usage(SPEC), true)
  local for_table = fmt == "table"
  local pids = pids_to_scan(opts)
  if fmt == "folded" then return main_folded(pids) end
  local rows, totals, columns, read, unreadable
  if opts.view == "user" then
    rows, totals, columns, read, unreadable = user_view(pids)
  elseif opts.view == "map" then
    rows, totals, columns, read, unreadable = map_view(pids, for_table)
  elseif opts.view == "cgroup" then
    rows, totals, columns, read, unreadable = cgroup_view(pids, for_table)
  else
    rows, totals, columns, read, unreadable = process_view(pids, for_table)
  end
  rows = ordered(rows, opts.view, opts.sort or (opts.view == "cgroup" and "current" or "pss"))
  if opts.rows then rows = rows:head(opts.rows) end
  if for_table then
    io.stdout:write(render_table(rows, totals, columns))
  else
    output.print(rows, columns)
  end
  io.stdout:flush()
  local line = unreadable:summary()
  if line then io.stderr:write(line, "\n") end
  if swap_stood_in > 0 then
    io.stderr:write(format("%d process%s without SwapPss: Swap stands in (a swapped-out page shared with other "
      .. "processes counted whole in each)\n", swap_stood_in, swap_stood_in == 1 and "" or "es"))
  end
  if read == 0 and line then return 3 end
  return 0
end

os.exit(main())
