-- wss.lua: a process's working set over time (clear_refs or page_idle)
--
-- The memory a process touches in each interval, per mapping and in total.
--
-- Two ways to see which pages a process uses, both chosen explicitly since both change what the kernel
-- knows of its pages:
--   --reset-refs  clears the referenced bits of all the process's pages (/proc/PID/clear_refs 1), waits
--                 an interval, and sums smaps' Referenced (wss.pl and procrank -W measure so). The
--                 process's owner or root. Page reclaim then sees the pages as not used lately, and
--                 clearing costs time in proportion to the process's resident pages.
--   --idle        marks the process's present pages idle in /sys/kernel/mm/page_idle/bitmap (root, a
--                 kernel with CONFIG_IDLE_PAGE_TRACKING), waits, and counts the pages that stayed idle:
--                 the working set is the rest. Pages the kernel cannot mark (not on its LRU lists,
--                 new since the marking) count as used.
-- Each interval is one sample, per mapping path (as smaps_sums groups them) and in total. On a
-- terminal a line per sample shows the total with a sparkline of the samples so far, and a table per
-- mapping follows at the end; -f json gives the samples, -f csv a row per sample and mapping.

local proc = proc or require "memscript"
local sys = require "memscript.sys"
local units = require "memscript.units"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local cli = require "memscript.cli"

local format, find = string.format, string.find
local concat, sort = table.concat, table.sort
local io, os, ipairs, pairs, pcall, error, tostring, tonumber = io, os, ipairs, pairs, pcall, error, tostring, tonumber
local floor = math.floor
local arg = arg

local SPEC = {
  name = "wss.lua",
  summary = "a process's working set over time (clear_refs or page_idle)",
  intro = [[
The memory process PID touches in each interval, per mapping and in total. How is chosen explicitly,
since both change what the kernel knows of the process's pages:
]],
  options = {
    { "--reset-refs", help = "clear the referenced bits of its pages (/proc/PID/clear_refs), wait, and sum "
        .. "smaps Referenced; page reclaim then sees its pages as not used lately, and clearing costs time "
        .. "in proportion to its resident pages (the process's owner or root)" },
    { "--idle", help = "mark its present pages idle in /sys/kernel/mm/page_idle/bitmap, wait, and count "
        .. "those no longer idle (root; a kernel with CONFIG_IDLE_PAGE_TRACKING)" },
    { "-i", "--interval", value = "SECONDS", type = "seconds", default = 1,
      help = "the time of each sample (default 1)" },
    { "-n", "--count", value = "N", type = "integer", min = 1, noun = "samples", default = 5,
      help = "samples to take (default 5)" },
    { "--top", value = "N", type = "integer", min = 1, noun = "mappings", default = 10,
      help = "mappings in the table at the end (default 10)" },
  },
  exclusive = { { "--reset-refs", "--idle" } },
  operands = { { "PID", type = "pid" } },
  epilog = [[
Output format: memscript's -f option. table: a line per sample and a table of the mappings at the end;
json: {pid, command, method, interval, samples = [{seconds, total, mappings = [{path, bytes}]}]};
csv: sample, seconds, scope ("total" or "mapping"), path, bytes.
Exit status: 0; 3 (UNKNOWN) on a usage error, or when the process cannot be read or its pages not
marked.
]],
}

local opts = cli.parse(SPEC, arg)

local SPARKS = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" }
local SPARK_WIDTH = 30

local function sparkline(values)
  local from = #values > SPARK_WIDTH and #values - SPARK_WIDTH + 1 or 1
  local high = 0
  for i = from, #values do
    if values[i] > high then high = values[i] end
  end
  local out = {}
  for i = from, #values do
    out[#out + 1] = SPARKS[high > 0 and floor(values[i] / high * 7 + 0.5) + 1 or 1]
  end
  return concat(out)
end

-- ---- the two methods: start(), then after the interval measure() -> {path = bytes}, or nil, message ----

local function add(by_path, path, bytes)
  by_path[path] = (by_path[path] or 0) + bytes
end

local reset_refs = {}

function reset_refs.start(pid)
  return proc.clear_refs(pid, 1)
end

function reset_refs.measure(pid)
  local sums, msg = proc.smaps_sums(pid, { "Referenced" })
  if not sums then return nil, msg end
  local by_path = {}
  for _, g in ipairs(sums) do add(by_path, g.path, g.Referenced or 0) end
  return by_path
end

local idle = {}

function idle.start(pid)
  return proc.mark_idle(pid)
end

function idle.measure(pid)
  local list, msg = proc.pagemap(pid, nil, { idle = true, fields = { "present" } })
  if not list then return nil, msg end
  local by_path = {}
  for _, m in ipairs(list) do
    if m.present then add(by_path, m.path, m.present - m.idle) end
  end
  return by_path
end

-- ---- sampling ----

local function sample_loop(state)
  local method = state.method
  local start = sys.monotonic()
  while #state.samples < opts.count do
    local t0 = sys.monotonic()
    local ok, msg = method.start(state.pid)
    if not ok then return msg end
    local cost = sys.monotonic() - t0
    sys.sleep(opts.interval)
    local by_path
    by_path, msg = method.measure(state.pid)
    if not by_path then return msg end
    local total = 0
    for _, bytes in pairs(by_path) do total = total + bytes end
    state.samples[#state.samples + 1] = { seconds = sys.monotonic() - start, total = total, by_path = by_path,
                                          cost = cost }
    state.totals[#state.totals + 1] = total
    if state.tty then
      io.stdout:write(format("%4d  %7.1f s  %10s  %s\n", #state.samples, sys.monotonic() - start,
        units.format(total), sparkline(state.totals)))
      io.stdout:flush()
    end
  end
  return nil
end

-- The mappings' rows: each path's bytes in every sample (0 where it had none), largest peak first.
local function mapping_rows(state)
  local rows, by = {}, {}
  for i, s in ipairs(state.samples) do
    for path, bytes in pairs(s.by_path) do
      local row = by[path]
      if not row then
        row = { path = path, values = {}, peak = 0 }
        by[path] = row
        rows[#rows + 1] = row
      end
      row.values[i] = bytes
      if bytes > row.peak then row.peak = bytes end
    end
  end
  for _, row in ipairs(rows) do
    for i = 1, #state.samples do row.values[i] = row.values[i] or 0 end
    row.last = row.values[#state.samples]
  end
  sort(rows, function(a, b)
    if a.peak ~= b.peak then return a.peak > b.peak end
    return a.path < b.path
  end)
  return rows
end

local function print_report(state, stopped)
  local fmt = output.format()
  if fmt == "json" then
    local samples = {}
    for i, s in ipairs(state.samples) do
      local mappings = {}
      for path, bytes in pairs(s.by_path) do mappings[#mappings + 1] = { path = path, bytes = bytes } end
      sort(mappings, function(a, b) return a.path < b.path end)
      samples[i] = { seconds = tonumber(format("%.3f", s.seconds)), total = s.total, mappings = mappings,
                     start_seconds = tonumber(format("%.6f", s.cost)) }
    end
    io.stdout:write(output.json_encode({ pid = state.number, command = state.comm, method = state.name,
      interval = opts.interval, stopped = stopped, samples = samples }), "\n")
    return
  end
  if fmt == "csv" then
    local rows = {}
    for i, s in ipairs(state.samples) do
      local seconds = format("%.3f", s.seconds)
      rows[#rows + 1] = { sample = i, seconds = seconds, scope = "total", path = "", bytes = s.total }
      local paths = {}
      for path in pairs(s.by_path) do paths[#paths + 1] = path end
      sort(paths)
      for _, path in ipairs(paths) do
        rows[#rows + 1] = { sample = i, seconds = seconds, scope = "mapping", path = path, bytes = s.by_path[path] }
      end
    end
    output.print(rows, { { "sample", "sample", kind = "number" }, { "seconds", "seconds" }, { "scope", "scope" },
      { "path", "path" }, { "bytes", "bytes", kind = "number" } })
    return
  end
  local last = state.samples[#state.samples]
  io.stdout:write(format("pid %d (%s): working set by %s, %d sample%s of %g s%s\n", state.number,
    escape(state.comm), state.name, #state.samples, #state.samples == 1 and "" or "s", opts.interval,
    stopped and ("; " .. escape(stopped)) or ""))
  if not state.tty then
    for i, s in ipairs(state.samples) do
      io.stdout:write(format("%4d  %7.1f s  %s\n", i, s.seconds, units.format(s.total)))
    end
  end
  local rows = mapping_rows(state)
  for i = #rows, opts.top + 1, -1 do rows[i] = nil end
  local columns = {
    { "Last", "last", kind = "bytes" },
    { "Peak", "peak", kind = "bytes" },
    { "Path", function(r) return r.path ~= "" and r.path or "[anon]" end, align = "left" },
  }
  -- The sparkline column comes last: the table pads by bytes, and each of its characters is three.
  if state.tty then columns[#columns + 1] = { "Samples", function(r) return sparkline(r.values) end, align = "left" } end
  output.print(rows, columns)
  io.stdout:write(format("total %s in the last sample\n", units.format(last.total)))
end

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  if not opts.reset_refs and not opts.idle then
    cli.usage_error(SPEC, "choose how to measure: --reset-refs (clear_refs and smaps Referenced) or --idle "
      .. "(page_idle); both change what the kernel knows of the process's pages")
  end
  local stat, msg = proc.stat(opts.pid)
  if not stat then
    io.stderr:write("memscript: ", escape(tostring(msg)), "\n")
    return 3
  end
  local state = { pid = opts.pid, number = stat.pid, comm = proc.comm(opts.pid) or stat.comm, samples = {},
                  totals = {}, tty = sys.isatty(1) and output.format() == "table",
                  method = opts.idle and idle or reset_refs, name = opts.idle and "page_idle" or "clear_refs" }
  if opts.reset_refs then
    io.stderr:write(format("wss.lua: clearing the referenced bits of pid %d's pages every %g s; page reclaim "
      .. "sees them as not used lately\n", stat.pid, opts.interval))
  end
  local ok, stopped = pcall(sample_loop, state)
  if not ok then
    if not find(tostring(stopped), "interrupted!", 1, true) then error(stopped, 0) end
    stopped = "interrupted"
  end
  if #state.samples == 0 then
    if opts.idle and find(tostring(stopped), "page_idle/bitmap: No such file", 1, true) then
      stopped = stopped .. " (this kernel has no page idle tracking, CONFIG_IDLE_PAGE_TRACKING; " ..
        "--reset-refs measures with referenced bits instead)"
    end
    io.stderr:write("memscript: ", escape(tostring(stopped)), "\n")
    return 3
  end
  print_report(state, stopped)
  io.stdout:flush()
  return 0
end

os.exit(main())
