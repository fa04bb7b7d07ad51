-- watch.lua: now against before, across the runs of a watch (--interval) or the samples of a loop:
-- deltas by key, processes told apart from a later one with the same pid, per-mapping changes, trends.
--
--   local watch = require "memscript.watch"
--   local p = watch.process(pid)          -- p.rss, p.delta.rss (nil the first time)
--
-- State lives in this module, which stays loaded between watch runs. A key that a run does not
-- sample is forgotten at the end of that run, so processes that exit leave nothing behind.

local proc = require "memscript"
local run = require "memscript.run"
local sys = require "memscript.sys"

local type, pairs, ipairs, error, tonumber, tostring = type, pairs, ipairs, error, tonumber, tostring
local format, remove, sort = string.format, table.remove, table.sort
local ult, sqrt = math.ult, math.sqrt

local M = {}

local samples = {}      -- key -> {value, iteration}
local rates = {}        -- key -> {value, time, iteration}
local series_of = {}    -- key -> series
local mappings_of = {}  -- process key -> {iteration, list = previous mappings, next_id}
local memory_of = {}    -- process key -> {iteration, pid, comm}: processes sampled with M.memory

local function iteration()
  return sys.iteration or 1
end

---------------------------------------------------------------------------------------------------

-- The change of value since the previous sample of key, or nil the first time (or when either
-- value is nil). Either way value becomes the sample the next call compares with.
function M.delta(key, value)
  if key == nil then error("bad argument #1 to 'delta' (key expected, got nil)", 2) end
  if value ~= nil and type(value) ~= "number" then
    error(format("bad argument #2 to 'delta' (number expected, got %s)", type(value)), 2)
  end
  local before = samples[key]
  samples[key] = { value = value, iteration = iteration() }
  if before == nil or before.value == nil or value == nil then return nil end
  return value - before.value
end

-- The change of value per second since the previous sample of key taken with rate, or nil the first
-- time (or when no time has passed). time defaults to sys.monotonic(); value and time become the
-- sample the next call compares with. A counter that went down (reset) gives a negative rate.
function M.rate(key, value, time)
  if key == nil then error("bad argument #1 to 'rate' (key expected, got nil)", 2) end
  if type(value) ~= "number" then
    error(format("bad argument #2 to 'rate' (number expected, got %s)", type(value)), 2)
  end
  time = time or sys.monotonic()
  local before = rates[key]
  rates[key] = { value = value, time = time, iteration = iteration() }
  if before == nil or time <= before.time then return nil end
  return (value - before.value) / (time - before.time)
end

-- The value of the previous sample of key, or nil.
function M.previous(key)
  local before = samples[key]
  return before and before.value
end

-- "PID:STARTTIME": the same only for the same process, even after its pid is reused.
function M.process_key(pid)
  local stat, msg, errno = proc.stat(pid)
  if not stat then return nil, msg, errno end
  return format("%d:%d", stat.pid, stat.starttime)
end

-- Forgets every sample, series and mapping list (keys taken by a later sample start anew).
function M.reset()
  samples, rates, series_of, mappings_of, memory_of = {}, {}, {}, {}, {}
end

---------------------------------------------------------------------------------------------------
-- Processes.

-- One sample of a process from smaps_rollup: {pid, key, rss, anonymous, swap, delta}. delta holds
-- the changes since the previous sample of the same process ({rss, anonymous, swap}), or is nil
-- the first time. nil, message, errno when the process cannot be read.
function M.process(pid)
  local key, msg, errno = M.process_key(pid)
  if not key then return nil, msg, errno end
  local rollup
  rollup, msg, errno = proc.smaps_rollup(pid)
  if not rollup then return nil, msg, errno end
  local sample = { pid = tonumber(key:match("^%d+")), key = key, rss = rollup.Rss,
                   anonymous = rollup.Anonymous, swap = rollup.Swap }
  local delta = {}
  for _, field in ipairs({ "rss", "anonymous", "swap" }) do
    delta[field] = M.delta("process " .. key .. " " .. field, sample[field])
  end
  if delta.rss ~= nil or delta.anonymous ~= nil or delta.swap ~= nil then sample.delta = delta end
  return sample
end

---------------------------------------------------------------------------------------------------
-- Memory over time, for a chart.

-- The layers of a process's memory M.memory samples, bottom to top, and their status keys.
local MEMORY_LAYERS = { { "anonymous", "RssAnon" }, { "file", "RssFile" }, { "shmem", "RssShmem" },
  { "swap", "VmSwap" } }

-- One sample of a process's memory from /proc/PID/status, read through one handle with its stat:
-- {pid, key, comm, time, anonymous = RssAnon, file = RssFile, shmem = RssShmem, swap = VmSwap}
-- (bytes), each also appended to the process's series ("memory KEY anonymous", ...; M.series), so
-- that watch mode's --svg FILE draws them after each run (M.growth_svg). nil, message, errno when the
-- process cannot be read, or has none of those lines (a kernel thread: errno 22, EINVAL).
function M.memory(pid)
  local p <close>, msg, errno = proc.open(pid, "stat")
  if not p then return nil, msg, errno end
  local stat, status
  stat, msg, errno = p:stat()
  if not stat then return nil, msg, errno end
  status, msg, errno = p:status()
  if not status then return nil, msg, errno end
  local key = format("%d:%d", stat.pid, stat.starttime)
  local sample = { pid = stat.pid, key = key, comm = status.Name, time = sys.monotonic() }
  for _, layer in ipairs(MEMORY_LAYERS) do
    local value = status[layer[2]]
    if type(value) ~= "number" then
      return nil, format("%s/%d/status: no %s line (a process without memory of its own?)", proc.root(), stat.pid,
        layer[2]), 22
    end
    sample[layer[1]] = value
  end
  for _, layer in ipairs(MEMORY_LAYERS) do
    M.series("memory " .. key .. " " .. layer[1], sample[layer[1]], sample.time)
  end
  memory_of[key] = { iteration = iteration(), pid = stat.pid, comm = status.Name }
  return sample
end

-- The SVG chart (memscript.chart) of every process sampled with M.memory and not forgotten (sampled
-- in the latest run), a panel each in pid order: its layers stacked over time and the fitted line of
-- their total; nil when there is none.
function M.growth_svg()
  local keys = {}
  for key in pairs(memory_of) do keys[#keys + 1] = key end
  if #keys == 0 then return nil end
  sort(keys, function(a, b)
    local pa, pb = memory_of[a].pid, memory_of[b].pid
    if pa ~= pb then return pa < pb end
    return a < b
  end)
  local panels = {}
  for _, key in ipairs(keys) do
    local process = memory_of[key]
    local layers, times = {}, nil
    for i, layer in ipairs(MEMORY_LAYERS) do
      local s = series_of["memory " .. key .. " " .. layer[1]]
      layers[i] = { name = layer[1], values = s.values }
      times = s.times
    end
    local relative = {}
    for i, t in ipairs(times) do relative[i] = t - times[1] end
    panels[#panels + 1] = {
      title = format("pid %d (%s): resident memory and swap (RssAnon, RssFile, RssShmem, VmSwap)", process.pid,
        tostring(process.comm)),
      times = relative, layers = layers, fit = "total",
    }
  end
  return require("memscript.chart").svg(panels, { title = "memory over time" })
end

---------------------------------------------------------------------------------------------------
-- Mappings, matched with the previous sample by address range and path: a mapping that grew or
-- shrank at either end (the heap upwards, merged mmap regions downwards) is still the same one.

-- Bytes two ranges share; addresses compare unsigned ([vsyscall] is a negative integer).
local function overlap(a, b)
  local start = ult(a.vm_start, b.vm_start) and b.vm_start or a.vm_start
  local stop = ult(a.vm_end, b.vm_end) and a.vm_end or b.vm_end
  if ult(start, stop) then return stop - start end
  return 0
end

-- For each current mapping, the previous one of the same path it overlaps most, each previous
-- mapping given to one current mapping at most. Both arrays are in address order.
local function match(previous, current)
  local found, taken, first = {}, {}, 1
  for i, m in ipairs(current) do
    while first <= #previous and not ult(m.vm_start, previous[first].vm_end) do first = first + 1 end
    local best, best_size = nil, 0
    local j = first
    while j <= #previous and ult(previous[j].vm_start, m.vm_end) do
      local p = previous[j]
      if not taken[j] and p.path == m.path then
        local size = overlap(p, m)
        if size > best_size then best, best_size = j, size end
      end
      j = j + 1
    end
    if best then
      taken[best] = true
      found[i] = previous[best]
    end
  end
  return found
end

local FIELDS = { rss = "Rss", anonymous = "Anonymous", swap = "Swap" }

-- The mappings of a process from smaps, each {mapping = m, id, rss, anonymous, swap, delta}. id is
-- the same for a mapping across samples of the same process; delta ({rss, anonymous, swap}) is the
-- change since the previous sample, nil for a mapping new since then (or the first time).
-- nil, message, errno when the process cannot be read.
function M.mappings(pid)
  local key, msg, errno = M.process_key(pid)
  if not key then return nil, msg, errno end
  local smaps
  smaps, msg, errno = proc.smaps(pid)
  if not smaps then return nil, msg, errno end
  local state = mappings_of[key] or { list = {}, next_id = 1 }
  local before = match(state.list, smaps)
  local list, entries = {}, {}
  for i, m in ipairs(smaps) do
    local entry = { mapping = m }
    for field, smaps_key in pairs(FIELDS) do entry[field] = m[smaps_key] end
    local p = before[i]
    if p then
      entry.id = p.id
      entry.delta = {}
      for field in pairs(FIELDS) do
        if entry[field] ~= nil and p[field] ~= nil then entry.delta[field] = entry[field] - p[field] end
      end
    else
      entry.id = state.next_id
      state.next_id = state.next_id + 1
    end
    entries[i] = entry
    list[i] = { vm_start = m.vm_start, vm_end = m.vm_end, path = m.path, id = entry.id,
                rss = entry.rss, anonymous = entry.anonymous, swap = entry.swap }
  end
  state.list, state.iteration = list, iteration()
  mappings_of[key] = state
  return entries
end

---------------------------------------------------------------------------------------------------
-- Trends.

-- Appends (time, value) to the series of key and returns it: {times = {...}, values = {...}}.
-- time defaults to sys.monotonic(); limit (default 1000) bounds how many samples are kept.
function M.series(key, value, time, limit)
  if type(value) ~= "number" then
    error(format("bad argument #2 to 'series' (number expected, got %s)", type(value)), 2)
  end
  local s = series_of[key]
  if not s then
    s = { times = {}, values = {} }
    series_of[key] = s
  end
  s.iteration = iteration()
  s.times[#s.times + 1] = time or sys.monotonic()
  s.values[#s.values + 1] = value
  limit = limit or 1000
  while #s.values > limit do
    remove(s.times, 1)
    remove(s.values, 1)
  end
  return s
end

-- The least-squares line through a series: slope in units per second, and r2, the share of the
-- variance the line explains (0 to 1; 0 when the values do not vary). nil with fewer than two
-- samples or when all were taken at the same time.
function M.slope(s)
  local n = #s.values
  if n < 2 then return nil end
  local mean_t, mean_v = 0, 0
  for i = 1, n do
    mean_t = mean_t + s.times[i]
    mean_v = mean_v + s.values[i]
  end
  mean_t, mean_v = mean_t / n, mean_v / n
  local stt, svv, stv = 0, 0, 0
  for i = 1, n do
    local dt, dv = s.times[i] - mean_t, s.values[i] - mean_v
    stt, svv, stv = stt + dt * dt, svv + dv * dv, stv + dt * dv
  end
  if stt == 0 then return nil end
  local slope = stv / stt
  local r2 = 0
  if svv > 0 then
    local r = stv / sqrt(stt * svv)
    r2 = r * r
  end
  return slope, r2
end

-- Growth is steady from this many samples and this r² up, with a slope above 0 (leak.lua, why.lua).
M.STEADY_SAMPLES, M.STEADY_R2 = 3, 0.8

-- Whether a series grows steadily: at least STEADY_SAMPLES samples, a slope above 0 and r² of at
-- least STEADY_R2, so that memory that goes up and down is not called growing on one peak. Returns
-- steady, then the slope (units per second) and r² (nil with fewer than two samples).
function M.steady(s)
  local slope, r2 = M.slope(s)
  return #s.values >= M.STEADY_SAMPLES and slope ~= nil and slope > 0 and r2 >= M.STEADY_R2, slope, r2
end

-- Samples not taken during a run are forgotten at its end.
run.on_iteration_end(function()
  local now = iteration()
  for key, s in pairs(samples) do
    if s.iteration ~= now then samples[key] = nil end
  end
  for key, s in pairs(rates) do
    if s.iteration ~= now then rates[key] = nil end
  end
  for key, s in pairs(series_of) do
    if s.iteration ~= now then series_of[key] = nil end
  end
  for key, s in pairs(mappings_of) do
    if s.iteration ~= now then mappings_of[key] = nil end
  end
  for key, s in pairs(memory_of) do
    if s.iteration ~= now then memory_of[key] = nil end
  end
end)

return M
