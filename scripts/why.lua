-- why.lua: why a process (or the machine) holds the memory it does, in one paragraph with its numbers
--
-- For a process: its footprint (PSS + SwapPss, and the shmem it has swapped out), the kinds of mapping
-- that hold it with the biggest mappings of each as evidence (smaps), whether its anonymous memory
-- grows over a short sample (memscript.watch's slope, judged by leak.lua's rule), how close its memory
-- cgroup (or one above it) is to a limit and whether it is under pressure (proc.cgroup), what competes
-- on the machine (memscript.system's parts), and the command to run next. For "all": the machine's
-- parts, the biggest footprints, the processes that could not be read, and swap. Every sentence
-- carries its number; what memscript cannot see (a cgroup it cannot read) is said to be unseen, with
-- why, never guessed.

local proc = proc or require "memscript"
local cli = require "memscript.cli"

local SPEC = {
  name = "why.lua",
  summary = "why a process (or the machine) holds the memory it does, in one paragraph with its numbers",
  intro = [[
What a senior engineer would say after looking, in one paragraph per process: its footprint (PSS +
SwapPss), the kinds of mapping that hold it and the biggest of each, whether its anonymous memory grows
(sampled for --time seconds), how close its memory cgroup is to its limit and whether it is under
pressure, what else on the machine holds memory, and the next command to run.
With "all": the machine's memory by part (system.lua), the biggest footprints, and swap.
]],
  options = {
    { "-t", "--time", value = "SECONDS", type = "seconds", default = 3,
      help = "sample the anonymous memory for this long to tell growth (default 3)" },
    { "-i", "--interval", value = "SECONDS", type = "seconds", default = 0.5,
      help = "time between samples (default 0.5)" },
    { "--no-sample", help = "do not sample: say nothing of growth, and answer at once" },
  },
  operands = { { "PID", type = "pids", all = true } },
  epilog = [[
Growth is steady, as leak.lua judges it, with at least 3 samples, a slope above 0 and r² >= 0.8.
The cgroup: v2 memory.current against the lower of memory.max and memory.high, memory.pressure (some
avg10 above 0: under pressure) and memory.events; v1 memory.usage_in_bytes against
memory.limit_in_bytes, memory.failcnt and memory.oom_control (v1 has no pressure figure per cgroup);
and the cgroup above it with the least room below its limit, when it has less than its own.
Output: a paragraph of text per process (sizes in binary units), or with -f json an array of
{target, text, sentences, figures} (figures exact, in bytes).
Exit status: 0; 3 (UNKNOWN) on a usage error or when a process could not be read.
]],
}

local opts = cli.parse(SPEC, arg)

local sys = require "memscript.sys"
local units = require "memscript.units"
local output = require "memscript.output"
local watch = require "memscript.watch"
local classify = require "memscript.classify"
local unreadable = require "memscript.unreadable"
local system = require "memscript.system"
local escape, wrap = require("memscript.text").escape, require("memscript.text").wrap
local view = require "memscript.cgroupview"

local format, concat, sort = string.format, table.concat, table.sort
local io, os, ipairs, pairs, tostring, type = io, os, ipairs, pairs, tostring, type
local floor, huge = math.floor, math.huge

local fmt = output.format()
if fmt ~= "table" and fmt ~= "json" then
  io.stderr:write(format("memscript: why.lua prints text or JSON, not '%s'\n", fmt), cli.usage(SPEC))
  os.exit(3)
end
local json = fmt == "json"

-- Growth is sampled on the running system only: a captured tree holds one moment.
local LIVE = not proc.meta().captured and proc.root() == "/proc"

-- Text from a process, safe to print in a paragraph (JSON keeps it exact).
local function shown(text)
  if json then return text end
  return escape(text)
end

local size = units.format

local function percent(part, whole)
  if whole == 0 then return "0%" end
  local share = part * 100 / whole
  return format(share < 9.95 and share > -9.95 and "%.1f%%" or "%.0f%%", share)
end

local digits, plural = units.digits, units.plural

-- A list as prose: "a", "a and b", "a, b and c".
local function listed(items)
  if #items <= 1 then return items[1] or "" end
  return concat(items, ", ", 1, #items - 1) .. " and " .. items[#items]
end

-- ---- one process ----

local SMAPS_FIELDS = {"vm_start", "perms", "path", "Pss", "Swap", "SwapPss"}

local KIND_TITLES = {
  heap = "the heap", stack = "the main stack", anon = "unnamed anonymous mappings",
  named_anon = "named anonymous mappings", shm = "shared memory", file = "mapped files",
  deleted = "deleted files still mapped", memfd = "memfds", vdso = "the vDSO", vvar = "the vDSO's data",
  vsyscall = "the vsyscall page", guard = "guard regions", special = "other kernel-named regions",
}

-- The name of a mapping as evidence: its path, or "the anonymous mapping at ADDRESS".
local function mapping_name(m)
  if m.path ~= "" then return shown(m.path) end
  return format("the %s mapping at %x", classify.shared(m) and "shared anonymous" or "anonymous", m.vm_start)
end

-- Footprint by kind of mapping: {{kind, bytes, mappings = {{name, bytes}...}}...}, largest first;
-- a file's mappings are taken together under its path.
local function by_kind(smaps)
  local kinds, order = {}, {}
  for _, m in ipairs(smaps) do
    local bytes = (m.Pss or 0) + (m.SwapPss or m.Swap or 0)
    if bytes > 0 then
      local kind = classify.kind(m)
      local k = kinds[kind]
      if not k then
        k = {kind = kind, bytes = 0, named = {}, mappings = {}}
        kinds[kind] = k
        order[#order + 1] = k
      end
      k.bytes = k.bytes + bytes
      local name = mapping_name(m)
      local entry = k.named[name]
      if not entry then
        entry = {name = name, bytes = 0, vm_start = m.vm_start}
        k.named[name] = entry
        k.mappings[#k.mappings + 1] = entry
      end
      entry.bytes = entry.bytes + bytes
    end
  end
  local function larger(a, b)
    if a.bytes ~= b.bytes then return a.bytes > b.bytes end
    return (a.name or a.kind) < (b.name or b.kind)
  end
  sort(order, larger)
  for _, k in ipairs(order) do sort(k.mappings, larger) end
  return order
end

-- Reads one process: {pid, name, status, rollup, smaps, handle} or nil, reason, message.
local function read_target(pid)
  local handle, reason, msg = unreadable.open(pid, proc, "status")
  if not handle then return nil, reason, msg end
  local t
  t, reason, msg = unreadable.read_process(handle, {"status"}, proc)
  if not t then handle:close(); return nil, reason, msg end
  local status = t.status
  local state = type(status.State) == "string" and status.State:sub(1, 1) or ""
  if status.Kthread == 1 or state == "Z" or state == "X" then
    handle:close()
    return nil, "none", format("Process %d (%s) is a kernel thread or a zombie: it has no memory of its own",
      handle.pid, shown(tostring(status.Name)))
  end
  t, reason, msg = unreadable.read_process(handle, {"smaps_rollup", "smaps"}, proc, {smaps = SMAPS_FIELDS})
  if not t then handle:close(); return nil, reason, msg end
  return {pid = handle.pid, name = status.Name, status = status, rollup = t.smaps_rollup, smaps = t.smaps,
          handle = handle}
end

-- Samples the anonymous memory (smaps_rollup Anonymous) of every target for opts.time seconds.
local function sample(targets)
  local start = sys.monotonic()
  local ticks = floor(opts.time / opts.interval + 1e-9)
  for tick = 0, ticks do
    local now = sys.monotonic()
    for _, t in ipairs(targets) do
      if not t.ended then
        local rollup, msg = t.handle:smaps_rollup()
        if rollup and rollup.Anonymous and not t.handle:changed() then
          t.series = watch.series("why " .. t.pid, rollup.Anonymous, now)
        else
          t.ended = msg or "it ended or ran another program"
        end
      end
    end
    if tick < ticks then
      local wait = start + (tick + 1) * opts.interval - sys.monotonic()
      if wait > 0 then sys.sleep(wait) end
    end
  end
end

local function growth_sentence(t, figures)
  if opts.no_sample then return nil end
  if not LIVE then return "Its growth cannot be sampled: a captured tree does not change." end
  local series = t.series
  if not series or #series.values < 2 then
    return format("Its growth could not be sampled (%s).", shown(tostring(t.ended)))
  end
  local steady, slope, r2 = watch.steady(series)
  local n = #series.values
  local seconds = series.times[n] - series.times[1]
  local per_minute = floor(slope * 60 + 0.5)
  figures.growth_per_minute, figures.growth_r2, figures.growth_samples = per_minute, r2, n
  figures.growing = steady
  local rate = (per_minute > 0 and "+" or "") .. size(per_minute) .. " per minute"
  local over = format("over %.1f s (%d samples, r² %.2f)", seconds, n, r2)
  if steady then
    return format("Its anonymous memory is growing: %s %s, from %s to %s.", rate, over, size(series.values[1]),
      size(series.values[n]))
  end
  return format("Its anonymous memory is not growing: %s %s, %s.", rate, over,
    n < watch.STEADY_SAMPLES and "too few samples to call it steady" or "not a steady rise")
end

-- ---- its memory cgroup ----

-- The limit a cgroup is held to, and the file it is in: v2 the lower of memory.max and memory.high,
-- v1 memory.limit_in_bytes; math.huge for none, nil when the cgroup has neither file (the v2 root).
local function limit_of(m)
  local limit = view.limit(m)
  if m.version == 1 then return limit, "memory.limit_in_bytes" end
  if limit ~= nil and limit == m.high and limit ~= m.max then return limit, "memory.high" end
  return limit, "memory.max"
end

local function usage_file(m)
  return m.version == 1 and "memory.usage_in_bytes" or "memory.current"
end

-- "U bytes (1.4M, memory.usage_in_bytes) of its limit of L bytes (16M, memory.limit_in_bytes): P%, H
-- below it": the cgroup files' numbers exactly, then the same in binary units.
local function against_limit(m, limit, file)
  local current, headroom = m.current, limit - m.current
  return format("%s bytes (%s, %s) of its limit of %s bytes (%s, %s): %s, %s", digits(current), size(current),
    usage_file(m), digits(limit), size(limit), file, percent(current, limit),
    headroom >= 0 and format("%s below it", size(headroom)) or format("%s above it", size(-headroom)))
end

-- Of the cgroups above path (the root left out: no limit can be set there), the one with the least
-- room below its limit: {path, memory, limit, file, headroom} or nil when none has a limit; and the
-- first that could not be read, {path, message}, or nil.
local function tightest_above(path)
  local best, failed
  local chain = view.chain(path)
  for i = 2, #chain - 1 do
    local m, msg = proc.cgroup.memory(chain[i])
    if m then
      local limit, file = limit_of(m)
      if limit ~= nil and limit ~= huge and m.current ~= nil then
        local headroom = limit - m.current
        if not best or headroom < best.headroom then
          best = {path = chain[i], memory = m, limit = limit, file = file, headroom = headroom}
        end
      end
    elseif not failed then
      failed = {path = chain[i], message = msg}
    end
  end
  return best, failed
end

-- How close the process's memory cgroup (and the cgroups above it) is to a limit, and whether it is
-- under pressure: sentences with the cgroup files' numbers, figures.cgroup with them exact. Where the
-- cgroup cannot be seen, one sentence that says why.
local function cgroup_sentences(t, figures)
  local of, msg = t.handle:cgroup()
  if not of then
    figures.cgroup_unseen = tostring(msg)
    return {format("Its memory cgroup cannot be seen: %s.", shown(tostring(msg)))}
  end
  local path = of.path
  local m
  m, msg = proc.cgroup.memory(path)
  if not m then
    figures.cgroup_unseen = tostring(msg)
    return {format("Its memory cgroup is %s (/proc/%d/cgroup), but its memory cannot be seen: %s.", shown(path),
      t.pid, shown(tostring(msg)))}
  end
  local f = {path = path, version = m.version, current = m.current}
  figures.cgroup = f
  local sentences = {}
  local title = format("Its memory cgroup is %s (cgroup v%d)", shown(path), m.version)
  local limit, file = limit_of(m)
  f.limit, f.limit_file = limit, limit and file
  local above, unread = tightest_above(path)
  local own_bound = limit ~= nil and limit ~= huge and m.current ~= nil
  if own_bound then f.headroom = limit - m.current end
  local text
  if m.current == nil then
    text = format("%s, which has no %s%s", title, usage_file(m), path == "/" and " (the root has none)" or "")
  elseif own_bound then
    text = format("%s: it uses %s", title, against_limit(m, limit, file))
  else
    text = format("%s: it uses %s bytes (%s, %s) and has no limit of its own", title, digits(m.current), size(m.current),
      usage_file(m))
  end
  if above and (not own_bound or above.headroom < f.headroom) then
    f.bound_by = {path = above.path, current = above.memory.current, limit = above.limit, file = above.file}
    text = text .. format(own_bound and "; closer to its limit is %s above it, using %s"
      or "; of the cgroups above it, %s has the least room below its limit, using %s", shown(above.path),
      against_limit(above.memory, above.limit, above.file))
  elseif not above and not own_bound and m.current ~= nil and not unread then
    text = text .. (path == "/" and "; it is the root: only the machine's memory bounds it" or format("; no cgroup "
      .. "above it has a limit either (%s): only the machine's memory bounds it", m.version == 1
      and "memory.limit_in_bytes" or "memory.max and memory.high"))
  end
  if unread then
    text = text .. format("; the limit of %s above it could not be read (%s)", shown(unread.path),
      shown(tostring(unread.message)))
  end
  sentences[#sentences + 1] = text .. "."

  -- pressure and OOM kills
  local kills = view.oom_kills(m)
  f.oom_kill = kills
  if m.version == 2 then
    local some, full = view.pressure_some(m), view.pressure_full(m)
    f.pressure_some_avg10, f.pressure_full_avg10 = some, full
    local said
    if some == nil then
      said = "Its memory pressure cannot be read: it has no memory.pressure"
    else
      said = format("It is %s memory pressure: at least one of its tasks waited for memory %.2f%% of the last 10 s "
        .. "(memory.pressure some avg10)%s", some > 0 and "under" or "under no", some,
        full and format(", all of them at once %.2f%% (full avg10)", full) or "")
    end
    local events = m.events
    if events then
      f.events_high, f.events_max = events.high, events.max
      local counts = {}
      if events.high then
        counts[#counts + 1] = format("%s times over memory.high (throttled and made to reclaim)", digits(events.high))
      end
      if events.max then counts[#counts + 1] = format("%s times about to go over memory.max", digits(events.max)) end
      if kills then counts[#counts + 1] = plural(kills, "OOM kill") end
      if #counts > 0 then said = said .. format("; memory.events counts %s, in it and below it", listed(counts)) end
    end
    sentences[#sentences + 1] = said .. "."
  else
    local oom = m.oom_control
    f.failcnt, f.under_oom = m.failcnt, oom and oom.under_oom
    local parts = {}
    if m.failcnt ~= nil then
      parts[#parts + 1] = format("its usage hit its limit %s times (memory.failcnt)", digits(m.failcnt))
    end
    if oom and oom.under_oom ~= nil then
      parts[#parts + 1] = oom.under_oom == 1 and "it is out of memory now (memory.oom_control under_oom 1)"
        or "it is not out of memory now (memory.oom_control under_oom 0)"
    end
    if kills ~= nil then
      parts[#parts + 1] = format("the OOM killer killed %s in it (oom_kill)", plural(kills, "process", "processes"))
    end
    sentences[#sentences + 1] = format("Cgroup v1 keeps no memory pressure figure (memory.pressure is cgroup v2's)%s.",
      #parts > 0 and "; what it keeps: " .. listed(parts) or "")
  end
  return sentences
end

local function process_paragraph(t, account)
  local rollup, status = t.rollup, t.status
  local sentences, figures = {}, {}
  local pss = rollup.Pss or 0
  local swap, source = system.swap_of(rollup)
  swap = swap or 0
  local footprint = pss + swap
  local shmem_swap = source == "SwapPss" and system.shmem_swap_of(rollup, status) or nil
  figures.pss, figures.swap, figures.footprint, figures.shmem_swap = pss, swap, footprint, shmem_swap
  figures.swap_source = source
  local who = format("Process %d (%s)", t.pid, shown(tostring(t.name)))
  local first = format("%s has a footprint of %s: PSS %s plus %s of swap (%s)", who, size(footprint), size(pss),
    size(swap), source == "SwapPss" and "its share, SwapPss" or "Swap: this kernel prints no SwapPss")
  if shmem_swap and shmem_swap > 0 then
    first = first .. format(", besides %s of shared memory it maps swapped out (Swap less VmSwap, counted whole)",
      size(shmem_swap))
  end
  sentences[#sentences + 1] = first .. "."

  -- the kinds of mapping, with the biggest mappings as evidence
  local kinds = by_kind(t.smaps)
  local parts = {}
  for i = 1, math.min(3, #kinds) do
    local k = kinds[i]
    local text = format("%s %s (%s", KIND_TITLES[k.kind] or k.kind, size(k.bytes), percent(k.bytes, footprint))
    if #k.mappings == 1 and k.mappings[1].name:sub(1, 1) == "[" then
      text = text .. ")"
    else
      local evidence = {}
      for j = 1, math.min(2, #k.mappings) do
        evidence[#evidence + 1] = format("%s %s", k.mappings[j].name, size(k.mappings[j].bytes))
      end
      text = text .. format("; %s: %s)", #k.mappings == 1 and "all of it" or format("of %d, the biggest",
        #k.mappings), concat(evidence, ", "))
    end
    parts[#parts + 1] = text
  end
  figures.kinds = {}
  for _, k in ipairs(kinds) do figures.kinds[#figures.kinds + 1] = {kind = k.kind, bytes = k.bytes} end
  if #parts > 0 then
    sentences[#sentences + 1] = format("By its %s, the footprint is in %s.", plural(#t.smaps, "mapping"),
      listed(parts))
  end

  local growth = growth_sentence(t, figures)
  if growth then sentences[#sentences + 1] = growth end

  local cgroup_text = cgroup_sentences(t, figures)
  for _, sentence in ipairs(cgroup_text) do sentences[#sentences + 1] = sentence end

  if account then
    local p, mi = account.by_part, account.meminfo
    local others = p.processes.bytes - pss
    local competes = {format("free %s (%s)", size(p.free.bytes), percent(p.free.bytes, account.memtotal))}
    if mi.MemAvailable then
      competes[#competes + 1] = format("%s available by the kernel's estimate (MemAvailable)", size(mi.MemAvailable))
    end
    competes[#competes + 1] = format("the other processes' PSS %s", size(others))
    if p.page_cache then
      competes[#competes + 1] = format("the page cache no process maps %s", size(p.page_cache.bytes))
    end
    competes[#competes + 1] = format("the kernel %s", size(p.kernel.bytes))
    competes[#competes + 1] = format("unaccounted %s", size(p.unaccounted.bytes))
    sentences[#sentences + 1] = format("On the machine, of MemTotal %s: %s.", size(account.memtotal), listed(competes))
    figures.memtotal, figures.free, figures.others_pss = account.memtotal, p.free.bytes, others
    if mi.SwapTotal and mi.SwapTotal > 0 then
      sentences[#sentences + 1] = format("Swap: %s of %s in use.", size(mi.SwapTotal - mi.SwapFree),
        size(mi.SwapTotal))
    elseif mi.SwapTotal then
      sentences[#sentences + 1] = "The machine has no swap (SwapTotal 0)."
    end
  end

  if figures.growing then
    sentences[#sentences + 1] = format("Next: memscript leak.lua %d, to see which mappings grow.", t.pid)
  elseif figures.cgroup then
    sentences[#sentences + 1] = format("Next: memscript report.lua %d for every mapping, memscript cgroup.lua -p %d "
      .. "for its cgroups, or memscript top.lua -m -s footprint for what all processes map.", t.pid, t.pid)
  else
    sentences[#sentences + 1] = format("Next: memscript report.lua %d for every mapping, or memscript top.lua -m "
      .. "-s footprint for what all processes map.", t.pid)
  end
  return {target = t.pid, sentences = sentences, figures = figures}
end

-- ---- the machine ----

-- memscript.system's parts as prose.
local PART_TITLES = {
  processes = "the processes' PSS", anon_unread = "anonymous memory of processes not read",
  page_cache = "the page cache no process maps", shmem = "shmem and tmpfs no process maps",
  not_in_processes = "the page cache, shmem and anonymous memory no process read maps",
  swap_cache = "the swap cache", kernel = "the kernel", hugetlb = "the hugetlb pool", zswap = "zswap",
  zram = "zram", hardware_corrupted = "corrupted RAM", free = "free", free_percpu = "free on per-CPU lists",
  unaccounted = "unaccounted (what no counter explains)",
}

local function machine_paragraph(account)
  local sentences, figures = {}, {}
  local parts = {}
  for _, row in ipairs(account.rows) do
    if row.kind == "part" and row.bytes ~= 0 then parts[#parts + 1] = row end
  end
  sort(parts, function(a, b) return a.bytes > b.bytes end)
  local items = {}
  for _, row in ipairs(parts) do
    items[#items + 1] = format("%s %s (%s)", PART_TITLES[row.part] or row.part, size(row.bytes),
      percent(row.bytes, account.memtotal))
  end
  sentences[#sentences + 1] = format("The machine's MemTotal of %s is %s.", size(account.memtotal), listed(items))
  figures.memtotal = account.memtotal
  figures.parts = {}
  for _, row in ipairs(parts) do figures.parts[row.part] = row.bytes end

  local processes = {}
  for _, r in ipairs(account.scan.processes) do processes[#processes + 1] = r end
  -- a process whose swap was not read ranks by its PSS, and says so
  local function footprint(r) return r.pss + (r.swap or 0) end
  sort(processes, function(a, b)
    if footprint(a) ~= footprint(b) then return footprint(a) > footprint(b) end
    return a.pid < b.pid
  end)
  local biggest = {}
  for i = 1, math.min(3, #processes) do
    local r = processes[i]
    biggest[#biggest + 1] = format("%s (pid %d) %s%s", shown(tostring(r.name)), r.pid, size(footprint(r)),
      r.swap == nil and " (PSS only: its swap was not printed)" or "")
  end
  if #biggest > 0 then
    sentences[#sentences + 1] = format("Of the %s read, the biggest %s (PSS + swap) %s %s.",
      plural(account.scan.read, "process", "processes"), #biggest == 1 and "footprint" or "footprints",
      #biggest == 1 and "is" or "are", listed(biggest))
  end
  local bound = account.unreadable
  if bound.processes > 0 then
    sentences[#sentences + 1] = format("%s could not be read%s.", plural(bound.processes, "process", "processes"),
      bound.rss and format("; the %s still there %s at most %s (VmRSS)", plural(bound.bounded, "process",
      "processes"), bound.bounded == 1 and "holds" or "hold", size(bound.rss)) or "; none is still there")
  end
  local mi = account.meminfo
  if mi.SwapTotal and mi.SwapTotal > 0 then
    local zswap = mi.Zswapped and mi.Zswapped > 0 and format(", %s of it held compressed in RAM by zswap in %s",
      size(mi.Zswapped), size(mi.Zswap or 0)) or ""
    sentences[#sentences + 1] = format("Swap: %s of %s in use, the processes' share %s%s.",
      size(mi.SwapTotal - mi.SwapFree), size(mi.SwapTotal), size(account.scan.sums.swap), zswap)
  elseif mi.SwapTotal then
    sentences[#sentences + 1] = "The machine has no swap (SwapTotal 0)."
  end
  sentences[#sentences + 1] = "Next: memscript system.lua for what each part is, memscript top.lua -s footprint "
    .. "for every process."
  return {target = "all", sentences = sentences, figures = figures}
end

-- ---- output ----

local function main()
  local account, msg = system.account(proc)
  if not account then
    io.stderr:write("memscript: why.lua: ", escape(tostring(msg)), "\n")
    return 3
  end
  local answers, failed = {}, 0
  if opts.all then
    answers[1] = machine_paragraph(account)
  else
    local targets = {}
    for i, pid in ipairs(opts.pids) do
      local t, reason, why = read_target(pid)
      if t then
        t.index = i
        targets[#targets + 1] = t
      else
        if reason ~= "none" then failed = failed + 1 end
        local text = reason == "none" and why .. "." or format("Process %s could not be read (%s): %s.",
          tostring(pid), reason, shown(tostring(why)))
        answers[i] = {target = pid, sentences = {text}, figures = {}}
      end
    end
    if not opts.no_sample and LIVE and #targets > 0 then sample(targets) end
    for _, t in ipairs(targets) do
      answers[t.index] = process_paragraph(t, account)
      t.handle:close()
    end
  end
  for _, a in ipairs(answers) do a.text = concat(a.sentences, " ") end
  if json then
    io.stdout:write(output.json_encode(answers), "\n")
  else
    for i, a in ipairs(answers) do
      io.stdout:write(i > 1 and "\n" or "", wrap(a.text, 100), "\n")
    end
  end
  io.stdout:flush()
  return failed > 0 and 3 or 0
end

local status = main()
if status ~= 0 then os.exit(status) end
