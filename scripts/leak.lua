-- leak.lua: watches a process's anonymous memory and reports steady growth as a slope per minute
--
-- Samples /proc/PID/smaps every interval: the Anonymous pages of each mapping, summed in total and by
-- class (the heap, unnamed anonymous mappings, named ones, stacks, and private copies of file pages),
-- each mapping followed across samples by memscript.watch even as it grows at either end. The growth
-- is the least-squares slope over the samples (the last 1000), in bytes per minute, with r², the share
-- of the variation the straight line explains: growth is "steady" when there are at least 3 samples,
-- the slope is above 0 and r² is at least 0.8, so a process whose memory goes up and down is not
-- called leaking on one peak.
--
-- Runs until --count samples or Ctrl-C (the error "interrupted!" is caught around the loop), then
-- prints a summary. With --threshold it is a check instead: its output is a Monitoring Plugins status
-- line (memscript.alert), WARNING or CRITICAL when the total grows steadily at least that fast, OK
-- otherwise, UNKNOWN with fewer than 3 samples. On a terminal a line shows the total as it goes, with
-- a sparkline (▁▂▃▄▅▆▇█) of the last samples.
--
-- With --svg FILE, the samples are also drawn as a chart (memscript.chart) when sampling ends, written
-- as memscript's -o writes a file: the process's resident memory split in three from the same smaps
-- reads (anonymous: the Anonymous pages, the total above; shmem: the other resident pages of shared
-- memory mappings, System V segments, /dev/shm files, memfds and shared anonymous memory; file: the
-- other resident pages of every other mapping, files and the kernel's [vdso]) and its swap, stacked,
-- with the fitted line of the anonymous total.

local proc = proc or require "memscript"
local sys = require "memscript.sys"
local svg = require "memscript.svg"
local watch = require "memscript.watch"
local alert = require "memscript.alert"
local units = require "memscript.units"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local classify = require "memscript.classify"
local chart = require "memscript.chart"
local cli = require "memscript.cli"

local format, find, gsub = string.format, string.find, string.gsub
local concat, sort, insert = table.concat, table.sort, table.insert
local io, os, ipairs, pairs, pcall, error, tonumber, tostring = io, os, ipairs, pairs, pcall, error, tonumber,
  tostring
local floor, tointeger, huge, ult = math.floor, math.tointeger, math.huge, math.ult
local arg = arg

local SPEC = {
  name = "leak.lua",
  summary = "watches a process's anonymous memory and reports steady growth as a slope per minute",
  intro = [[
Samples the anonymous memory of process PID (a number or "self") every interval and reports its
growth per minute (least squares over the samples), in total, by class and for the mappings that
grow fastest. Growth is steady with at least 3 samples, a slope above 0 and r² >= 0.8.
]],
  options = {
    { "-i", "--interval", value = "SECONDS", type = "seconds", default = 10,
      help = "time between samples (default 10)" },
    { "-n", "--count", value = "N", type = "integer", min = 1, noun = "samples", default = 0,
      help = "stop after N samples (default: until Ctrl-C)" },
    { "-t", "--threshold", value = "WARN[,CRIT]", type = "thresholds",
      help = "be a check: WARNING when the total grows steadily by WARN or more per minute (a size: 1M, "
        .. "512k, 1.5G), CRITICAL by CRIT or more; output in the Monitoring Plugins format instead of "
        .. "the summary" },
    { "--top", value = "N", type = "integer", noun = "mappings", default = 5,
      help = "mappings listed in the summary (default 5)" },
    { "--svg", value = "FILE", help = "also draw the samples as a chart in FILE (SVG): anonymous, file, shmem "
      .. "and swap stacked over time, with the fitted line of the anonymous total" },
  },
  operands = { { "PID", type = "pid" } },
  epilog = [[
Ctrl-C ends the sampling and prints the summary. The summary's format is memscript's -f option
(table; json: one object; csv: the classes).
Exit status: 0; with --threshold 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (fewer than 3 samples);
3 on a usage error, when the process cannot be read at the first sample, or when --svg's FILE cannot
be written.
]],
}

local opts = cli.parse(SPEC, arg)

-- Growth is steady from this many samples (and r² of watch.STEADY_R2 up: watch.steady).
local MIN_SAMPLES = watch.STEADY_SAMPLES

-- Samples kept per series, and shown in the terminal's sparkline.
local KEEP, SPARK_WIDTH = 1000, 30

local SPARKS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }

-- The layers of the chart (--svg), bottom to top.
local LAYERS = { "anonymous", "file", "shmem", "swap" }

-- Kinds of shared memory: their resident pages that are not anonymous are the chart's shmem.
local SHMEM_KINDS = { shm = true, memfd = true }

-- Classes of anonymous pages, in the order shown, by classify.kind of an anonymous mapping.
local CLASSES = { "heap", "anon", "named_anon", "stack", "file" }
local CLASS_TITLES = { heap = "[heap]", anon = "anonymous", named_anon = "[anon:NAME]", stack = "stacks",
  file = "file copies" }

-- ---- sampling ----

local function class_of(m)
  if not classify.anonymous(m) then return "file" end
  local kind = classify.kind(m)
  if kind == "heap" or kind == "stack" or kind == "named_anon" then return kind end
  return "anon"
end

-- One sample into the series of state; false, message when the process cannot be read any more.
local function take_sample(state)
  local key, msg = watch.process_key(state.pid)
  if not key then return false, msg end
  if state.key and key ~= state.key then return false, "the process ended (its pid now names another)" end
  local entries
  entries, msg = watch.mappings(state.pid)
  if not entries then return false, msg end
  state.key = key
  local now = sys.monotonic()
  local total, by_class = 0, {}
  for _, class in ipairs(CLASSES) do by_class[class] = 0 end
  local layers = { anonymous = 0, file = 0, shmem = 0, swap = 0 }
  local alive = {}
  for _, e in ipairs(entries) do
    local anonymous = e.anonymous or 0
    total = total + anonymous
    local class = class_of(e.mapping)
    by_class[class] = by_class[class] + anonymous
    local other = (e.rss or 0) - anonymous
    if SHMEM_KINDS[classify.kind(e.mapping)] then
      layers.shmem = layers.shmem + other
    else
      layers.file = layers.file + other
    end
    layers.swap = layers.swap + (e.swap or 0)
    if classify.anonymous(e.mapping) or anonymous > 0 then
      local series = watch.series("mapping " .. e.id, anonymous, now, KEEP)
      alive[e.id] = true
      state.mappings[e.id] = { mapping = e.mapping, series = series }
    end
  end
  for id in pairs(state.mappings) do
    if not alive[id] then state.mappings[id] = nil end
  end
  state.total = watch.series("total", total, now, KEEP)
  layers.anonymous = total
  for _, layer in ipairs(LAYERS) do
    state.layers[layer] = watch.series("layer " .. layer, layers[layer], now, KEEP)
  end
  for _, class in ipairs(CLASSES) do
    state.classes[class] = watch.series("class " .. class, by_class[class], now, KEEP)
  end
  state.samples = state.samples + 1
  return true
end

-- {first, last, change, per_minute (integer bytes), r2, steady} of a series.
local function trend(series)
  local values = series.values
  local n = #values
  local steady, slope, r2 = watch.steady(series)
  local t = { first = values[1], last = values[n], change = values[n] - values[1], r2 = r2, samples = n,
              seconds = series.times[n] - series.times[1] }
  if slope then t.per_minute = tointeger(floor(slope * 60 + 0.5)) or floor(slope * 60 + 0.5) end
  t.steady = steady
  return t
end

local function sparkline(values)
  local from = #values > SPARK_WIDTH and #values - SPARK_WIDTH + 1 or 1
  local low, high = huge, -huge
  for i = from, #values do
    if values[i] < low then low = values[i] end
    if values[i] > high then high = values[i] end
  end
  local out = {}
  for i = from, #values do
    local level = high > low and floor((values[i] - low) / (high - low) * 7 + 0.5) + 1 or 1
    out[#out + 1] = SPARKS[level]
  end
  return concat(out)
end

local function per_minute_text(bytes)
  if bytes == nil then return "-" end
  return (bytes > 0 and "+" or "") .. units.format(bytes) .. "/min"
end

-- The line a terminal shows while sampling.
local function show_progress(state)
  local t = trend(state.total)
  io.stdout:write("\r\27[K", format("pid %s anonymous %s %s %s (%d samples)", tostring(state.number),
    units.format(t.last), sparkline(state.total.values), per_minute_text(t.per_minute), t.samples))
  io.stdout:flush()
end

-- Samples until count or Ctrl-C; returns why it stopped (nil for count reached).
local function sample_loop(state, opts)
  local start = sys.monotonic()
  while true do
    local ok, msg = take_sample(state)
    if not ok then return msg end
    if state.tty then show_progress(state) end
    if opts.count > 0 and state.samples >= opts.count then return nil end
    local next_time = start + state.samples * opts.interval
    local wait = next_time - sys.monotonic()
    if wait > 0 then sys.sleep(wait) end
  end
end

-- ---- reports ----

local function r2_text(t)
  if t.r2 == nil then return "-" end
  return format("%.2f", t.r2)
end

local function summary_rows(state)
  local classes = { { class = "total", trend = trend(state.total), values = state.total.values } }
  for _, class in ipairs(CLASSES) do
    local series = state.classes[class]
    local t = trend(series)
    if t.first ~= 0 or t.last ~= 0 then
      classes[#classes + 1] = { class = CLASS_TITLES[class], trend = t, values = series.values }
    end
  end
  local mappings = {}
  for _, entry in pairs(state.mappings) do
    local t = trend(entry.series)
    if t.per_minute and t.per_minute > 0 then
      local m = entry.mapping
      mappings[#mappings + 1] = { vm_start = m.vm_start, perms = m.perms, path = m.path, trend = t,
                                  values = entry.series.values }
    end
  end
  sort(mappings, function(a, b)
    if a.trend.per_minute ~= b.trend.per_minute then return a.trend.per_minute > b.trend.per_minute end
    return ult(a.vm_start, b.vm_start)
  end)
  for i = #mappings, state.top + 1, -1 do mappings[i] = nil end
  return classes, mappings
end

-- The sparkline column comes last: the table pads by bytes, and each of its characters is three.
local function trend_columns(first_column, tty, last_column)
  local columns = {
    first_column,
    { "First", function(r) return r.trend.first end, kind = "bytes", json = "first" },
    { "Last", function(r) return r.trend.last end, kind = "bytes", json = "last" },
    { "Change", function(r) return r.trend.change end, kind = "bytes", json = "change" },
    { "Per minute", function(r) return r.trend.per_minute end, kind = "bytes", json = "per_minute" },
    { "r2", function(r) return r2_text(r.trend) end, align = "right", json = "r2" },
    { "Steady", function(r) return r.trend.steady and "yes" or "no" end, align = "left", json = "steady" },
  }
  if last_column then columns[#columns + 1] = last_column end
  if tty then
    columns[#columns + 1] = { "Trend", function(r) return sparkline(r.values) end, align = "left" }
  end
  return columns
end

local function print_summary(state, stopped)
  local classes, mappings = summary_rows(state)
  local total = classes[1].trend
  local fmt = output.format()
  if fmt == "json" then
    local function plain(rows, name_of)
      local list = {}
      for i, r in ipairs(rows) do
        local t = r.trend
        list[i] = { first = t.first, last = t.last, change = t.change, per_minute = t.per_minute,
                    r2 = t.r2, steady = t.steady, samples = t.samples }
        name_of(r, list[i])
      end
      return list
    end
    io.stdout:write(output.json_encode({
      pid = state.number, command = state.comm, samples = state.samples, seconds = total.seconds,
      interval = state.interval, stopped = stopped, steady = total.steady, per_minute = total.per_minute,
      classes = plain(classes, function(r, o) o.class = r.class end),
      mappings = plain(mappings, function(r, o)
        o.address = format("%x", r.vm_start)
        o.perms, o.path = r.perms, r.path
      end),
    }), "\n")
    return
  end
  local class_columns = trend_columns({ "Class", "class", align = "left" }, state.tty)
  if fmt == "csv" then
    output.print(classes, class_columns)
    return
  end
  io.stdout:write(format("pid %s (%s): %d samples over %.1f s, every %g s%s\n", tostring(state.number),
    escape(state.comm), state.samples, total.seconds, state.interval,
    stopped and ("; " .. escape(stopped)) or ""))
  output.print(classes, class_columns)
  if #mappings > 0 then
    io.stdout:write("\nGrowing fastest:\n")
    local columns = trend_columns({ "Address", "vm_start", kind = "addr" }, state.tty,
      { "Path", "path", align = "left" })
    insert(columns, 2, { "Perms", "perms", align = "left" })
    output.print(mappings, columns)
  end
  if total.steady then
    io.stdout:write(format("\nsteady growth: %s per minute (r2 %.2f over %d samples)\n",
      units.format(total.per_minute), total.r2, total.samples))
  elseif total.samples < MIN_SAMPLES then
    io.stdout:write(format("\ntoo few samples to tell growth (%d; %d needed)\n", total.samples, MIN_SAMPLES))
  else
    io.stdout:write("\nno steady growth\n")
  end
end

-- --threshold: the result as a Monitoring Plugins check.
local function check(state, limits)
  local t = trend(state.total)
  local who = format("pid %s (%s)", tostring(state.number), state.comm)
  alert.perfdata("anonymous", t.last, "B", { min = 0 })
  if t.samples < MIN_SAMPLES or t.per_minute == nil then
    alert.unknown(format("too few samples of %s to tell growth (%d; %d needed)", who, t.samples, MIN_SAMPLES))
    return
  end
  alert.perfdata("growth_per_minute", t.per_minute, "", { warn = limits.warn, crit = limits.crit })
  local fields = { pid = state.number, comm = state.comm, per_minute = t.per_minute, samples = t.samples,
                   r2 = tonumber(format("%.3f", t.r2)), seconds = tonumber(format("%.1f", t.seconds)) }
  local text = format("anonymous memory of %s growing %s per minute", who, units.format(t.per_minute))
  if t.steady and limits.crit and t.per_minute >= limits.crit then
    alert.critical(text, fields)
  elseif t.steady and limits.warn and t.per_minute >= limits.warn then
    alert.warning(text, fields)
  else
    local rate = gsub(per_minute_text(t.per_minute), "/min$", "")
    alert.ok(format("anonymous memory of %s: %s per minute over %d samples, r2 %.2f%s", who, rate,
      t.samples, t.r2, t.steady and "" or " (no steady growth)"))
  end
end

-- --svg: the samples as a chart, written whole or not at all; nil, or 3 when FILE cannot be written.
local function write_chart(state, path)
  local times, layers = state.total.times, {}
  local first = times[1]
  local relative = {}
  for i, t in ipairs(times) do relative[i] = t - first end
  for i, layer in ipairs(LAYERS) do layers[i] = { name = layer, values = state.layers[layer].values } end
  local picture = chart.svg({ {
    title = format("pid %s (%s): anonymous memory over %.1f s, every %g s", tostring(state.number),
      state.comm, relative[#relative], state.interval),
    times = relative, layers = layers, fit = "anonymous",
  } })
  local status = svg.save(picture, path, "leak.lua")
  return status ~= 0 and status or nil
end

local function main()
  -- the summary is rows; --threshold prints a check's alerts, which go to stderr with -f prom
  if not opts.threshold then output.check_format(SPEC.name, cli.usage(SPEC)) end
  local stat, msg = proc.stat(opts.pid)
  if not stat then
    io.stderr:write("memscript: ", escape(tostring(msg)), "\n")
    return 3
  end
  local state = { pid = opts.pid, number = stat.pid, comm = proc.comm(opts.pid) or stat.comm, samples = 0,
                  mappings = {}, classes = {}, layers = {}, interval = opts.interval, top = opts.top,
                  tty = sys.isatty(1) and output.format() == "table" }
  local ok, stopped = pcall(sample_loop, state, opts)
  if not ok then
    if not find(tostring(stopped), "interrupted!", 1, true) then error(stopped, 0) end
    stopped = "interrupted"
  end
  if state.tty then io.stdout:write("\r\27[K") end
  if state.samples == 0 then
    io.stderr:write("memscript: ", escape(tostring(stopped)), "\n")
    return 3
  end
  if opts.threshold then
    check(state, opts.threshold)
  else
    print_summary(state, stopped)
  end
  if opts.svg then return write_chart(state, opts.svg) end
  return nil
end

local status = main()
if status then os.exit(status) end
