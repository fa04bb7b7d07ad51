-- flame.lua: the machine's memory as a flame graph (user or cgroup, process, kind, file), one SVG file
--
-- The tree: the machine (its host name) on top; with -u each user, with -c each cgroup (a frame per
-- directory of its path); each process ("comm [pid]", its command line in its title); the kinds of
-- its memory (memscript.classify: anon, heap, stack, file, shm, memfd, deleted, vdso, ...); and,
-- under the kinds that have them, the files and names (the path as the kernel prints it). Every
-- frame is as wide as its bytes of the chosen metric, exact, and holds the sum of those under it.
-- The figures are the process's /proc/PID/smaps added up by path (proc.smaps_sums), as top.lua -m
-- adds them; a shared page's PSS is rounded down in each mapping's lines, so a process's PSS here can
-- be a few kB below its smaps_rollup's (top.lua's process and user views).
--
-- The picture (memscript.flamegraph) is one self-contained SVG: hover shows a frame's name, bytes and
-- shares, a click zooms into it, colours are by kind and the same on every run. It goes to standard
-- output, or to FILE with -o (written as memscript's -o writes: whole or not at all, never through
-- another user's link). With memscript's -f folded the same stacks are written as collapsed-stack
-- text (without the machine's frame) for flamegraph.pl, inferno or speedscope, on standard output,
-- while -o FILE still gets the picture.

local proc = proc or require "memscript"
local output = require "memscript.output"
local folded = require "memscript.folded"
local flamegraph = require "memscript.flamegraph"
local classify = require "memscript.classify"
local units = require "memscript.units"
local svg = require "memscript.svg"
local unreadable = require "memscript.unreadable"
local users = require "memscript.users"
local cli = require "memscript.cli"

local format, concat, match, sub = string.format, table.concat, string.match, string.sub
local io, os, ipairs, tostring, type = io, os, ipairs, tostring, type
local arg = arg

local METRICS = { "pss", "rss", "uss", "swap", "footprint" }

local SPEC = {
  name = "flame.lua",
  summary = "the machine's memory as a flame graph (user or cgroup, process, kind, file), one SVG file",
  intro = [[
Every process's memory as an icicle graph in one self-contained SVG file: the machine on top, then
(with -u) users or (with -c) cgroups, processes, kinds of memory and files, each frame as wide as
its bytes. Point at a frame for its bytes and shares; click to zoom.
]],
  options = {
    { "-u", "--users", help = "a level of users (the real uid of each process, named from /etc/passwd)" },
    { "-c", "--cgroups", help = "levels of cgroups: the memory cgroup the process is in, from /proc/PID/cgroup "
      .. "as proc.cgroup.of, top.lua -c and cgroup.lua find it (the v1 memory controller's path where a v1 "
      .. "hierarchy has it, else the v2 path), a frame per directory, \"/\" for the root cgroup; a process "
      .. "whose cgroup cannot be read is left out and counted as unreadable, as in top.lua -c" },
    { "--metric", value = "METRIC", type = "choice", choices = METRICS, default = "pss",
      help = "what the widths are: pss (the default), rss, uss (Private_Clean + Private_Dirty + "
        .. "Private_Hugetlb), swap (SwapPss, or Swap where the kernel has no SwapPss) or footprint "
        .. "(pss + swap)" },
    { "-o", "--output", value = "FILE.svg", help = "write the picture to FILE instead of standard output" },
    { "-p", "--pid", value = "PID[,PID...]", type = "pids", repeatable = true, key = "pids",
      help = "only these processes (pids separated by commas; the option may be repeated)" },
  },
  exclusive = { { "-u", "-c" } },
  epilog = [[
With memscript's -f folded, the stacks go to standard output as collapsed-stack text (flamegraph.pl,
inferno, speedscope), "[USER;|CGROUP;...;]COMM [PID];KIND[;PATH] BYTES", and the picture to -o's
FILE if given.
Kernel threads and zombies have no memory of their own and are left out; a process that cannot be
read is left out and counted on stderr, as in top.lua.
Exit status: 0; 3 on a usage error, when FILE cannot be written, or when processes were unreadable and
none was read.
]],
}

local opts = cli.parse(SPEC, arg)

-- What is summed of each path of each process.
local FIELDS = { smaps_sums = { "Rss", "Pss", "Private_Clean", "Private_Dirty", "Private_Hugetlb", "Swap",
  "SwapPss" } }

-- The bytes of one group of proc.smaps_sums by metric.
local function swap_of(g)
  local swap = g.SwapPss
  if swap == nil then swap = g.Swap end
  return swap or 0
end

local MEASURE = {
  pss = function(g) return g.Pss or 0 end,
  rss = function(g) return g.Rss or 0 end,
  uss = function(g) return (g.Private_Clean or 0) + (g.Private_Dirty or 0) + (g.Private_Hugetlb or 0) end,
  swap = swap_of,
  footprint = function(g) return (g.Pss or 0) + swap_of(g) end,
}

local TITLES = { pss = "PSS", rss = "RSS", uss = "USS", swap = "Swap", footprint = "Footprint (PSS + swap)" }

-- The kinds whose memory is one region under the kind's own name: no frame of files under them.
local NAMELESS = { anon = "", heap = "[heap]", stack = "[stack]", vdso = "[vdso]", vsyscall = "[vsyscall]" }

-- ---- reading ----

-- What is read of each process; with -c also its memory cgroup, as proc.cgroup.of finds it (the
-- one way top.lua -c and cgroup.lua find it too), through the same handle.
local FILES = opts.cgroups and { "status", "smaps_sums", "cmdline", "cgroup" } or { "status", "smaps_sums", "cmdline" }

-- One process: {status, smaps_sums, cmdline[, cgroup]}, or nil and the reason and message
-- (unreadable.read_process); "none" for a kernel thread or a zombie. With -c, a process whose
-- cgroup cannot be read is unreadable, as in top.lua -c.
local function read_memory(target)
  local handle <close>, reason, msg = unreadable.open(target, proc, "status")
  if not handle then return nil, reason, msg end
  local process
  process, reason, msg = unreadable.read_process(handle, FILES, proc, FIELDS)
  if not process then return nil, reason, msg end
  local status, state = process.status, process.status.State
  state = type(state) == "string" and sub(state, 1, 1) or ""
  if status.Kthread == 1 or state == "Z" or state == "X" or #process.smaps_sums == 0 then return nil, "none" end
  return process
end

local function pids_to_scan()
  return unreadable.pids(proc, opts.pids)
end

-- ---- the stacks ----

-- The frames above a process's own: its user, or its cgroup's directories; {} without -u or -c.
local function group_frames(process, names)
  if opts.users then
    local uid = match(tostring(process.status.Uid or ""), "^%s*(%d+)")
    return { { uid and (names[uid] or uid) or "?", "group" } }
  end
  if opts.cgroups then
    local frames = {}
    for _, dir in ipairs(folded.path_frames(process.cgroup.path)) do frames[#frames + 1] = { dir, "group" } end
    return frames
  end
  return {}
end

-- Every stack of every process read: {frames = {{name, kind, detail}, ...}, bytes}, and the count of
-- processes read and the unreadable tally.
local function stacks_of_machine(measure)
  local names = opts.users and users.names() or {}
  local stacks = {}
  local ahead = { p = proc, files = { "status", "smaps", "cmdline" } }
  local read, tally = unreadable.scan(pids_to_scan(), read_memory, function(pid, process)
    local status = process.status
    local command = concat(process.cmdline, " ")
    local above = group_frames(process, names)
    above[#above + 1] = { format("%s [%s]", tostring(status.Name or "?"), tostring(pid)), "process",
      command ~= "" and command or nil }
    for _, g in ipairs(process.smaps_sums) do
      local bytes = measure(g)
      if bytes ~= 0 then
        local kind = classify.path_kind(g.path)
        local frames = {}
        for i, f in ipairs(above) do frames[i] = f end
        frames[#frames + 1] = { kind, kind }
        if NAMELESS[kind] ~= g.path then
          local name = g.path ~= "" and g.path or "[anon]"
          frames[#frames + 1] = { name, kind, nil, match(name, "^/.*/([^/]+)$") }
        end
        stacks[#stacks + 1] = { frames = frames, bytes = bytes }
      end
    end
  end, ahead)
  return stacks, read, tally
end

-- ---- main ----

local function main()
  local fmt = output.format()
  if fmt ~= "table" and fmt ~= "folded" then
    io.stderr:write(format("memscript: flame.lua draws SVG, or writes folded stacks with -f folded, not '%s'\n",
      fmt), cli.usage(SPEC))
    return 3
  end
  local stacks, read, tally = stacks_of_machine(MEASURE[opts.metric])
  local unreadable_line = tally:summary()
  if unreadable_line then io.stderr:write(unreadable_line, "\n") end
  if read == 0 and unreadable_line then return 3 end

  if fmt == "folded" then
    local lines = {}
    for i, s in ipairs(stacks) do
      local names = {}
      for j, f in ipairs(s.frames) do names[j] = f[1] end
      lines[i] = { names, s.bytes }
    end
    folded.print(lines)
    io.stdout:flush()
    if not opts.output then return 0 end
  end

  local meta = proc.meta()
  local host = meta.hostname or "all"
  local tree = flamegraph.tree(host)
  for _, s in ipairs(stacks) do flamegraph.add(tree, s.frames, s.bytes) end
  local levels = opts.users and "user, process, kind and file" or opts.cgroups and "cgroup, process, kind and file"
    or "process, kind and file"
  local title = format("%s of %s by %s: %s", TITLES[opts.metric], host, levels, units.format(tree.bytes))
  local note = format("%d process%s read%s; %s", read, read == 1 and "" or "es",
    unreadable_line and (" (" .. unreadable_line .. ")") or "", output.origin())
  local picture = flamegraph.svg(tree, { title = title, note = note })
  return svg.save(picture, opts.output, "flame.lua")
end

os.exit(main())
