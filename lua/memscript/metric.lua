-- metric.lua: gauges rendered in the Prometheus text exposition format (-f prom) at the end of each run.
--
--   local metric = require "memscript.metric"
--   metric.gauge("memscript_process_rss_bytes", 1048576, { pid = 1234, command = "nginx" },
--                "Resident set size of the process")
--
-- With -f prom, everything set during a run of the script is written to stdout when the run ends
-- (each watch iteration, so `--interval 15 -o DIR/memscript.prom` replaces a whole file every run),
-- then forgotten; with another format it is forgotten unrendered unless the script renders it.

local run = require "memscript.run"
local output = require "memscript.output"
local sys = require "memscript.sys"
local escape = require("memscript.text").escape

local type, pairs, ipairs, error = type, pairs, ipairs, error
local format, concat, sort, find, gsub = string.format, table.concat, table.sort, string.find, string.gsub
local mtype, huge = math.type, math.huge
local io = io

local M = {}

local families = {}   -- name -> {name, help, samples = array, by_labels = labels text -> sample}
local order = {}      -- family names in the order first set

---------------------------------------------------------------------------------------------------
-- Text of values, names and labels.

-- Invalid UTF-8 bytes become U+FFFD: Prometheus rejects a scrape holding them, and a comm cut at
-- 15 bytes can end inside a character.
local valid_utf8 = output.valid_utf8

local function escape_help(s)
  return (gsub(valid_utf8(s), "[\\\n]", { ["\\"] = "\\\\", ["\n"] = "\\n" }))
end

-- The exposition format's escapes in a label value: backslash, double quote, line feed. Other bytes
-- pass as they are, so a scraper reads the comm or path exactly; on a terminal the value is first
-- escaped by memscript.text (a reader then gets those escapes as text, but the terminal stays safe).
local function escape_label(s, terminal)
  if terminal then s = escape(s) else s = valid_utf8(s) end
  return (gsub(s, '[\\\n"]', { ["\\"] = "\\\\", ["\n"] = "\\n", ['"'] = '\\"' }))
end

-- {name="value",...} of a sample's labels (names sorted), or "" without labels.
local function labels_text(names, values, terminal)
  if #names == 0 then return "" end
  local pairs_text = {}
  for i, key in ipairs(names) do
    pairs_text[i] = key .. '="' .. escape_label(values[key], terminal) .. '"'
  end
  return "{" .. concat(pairs_text, ",") .. "}"
end

-- The shortest %g that reads back as x (Prometheus parses values as Go float64).
local function float_text(x)
  if x ~= x then return "NaN" end
  if x == huge then return "+Inf" end
  if x == -huge then return "-Inf" end
  return output.float_text(x)
end

local function value_text(v)
  if mtype(v) == "integer" then return format("%d", v) end
  return float_text(v)
end

local function label_value_text(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return value_text(v) end
  return nil
end

---------------------------------------------------------------------------------------------------

-- Sets the gauge `name` with these labels to value. labels: {name = string or number} or nil; help:
-- the family's HELP text (the first one given is kept).
function M.gauge(name, value, labels, help)
  if type(name) ~= "string" or not find(name, "^[a-zA-Z_:][a-zA-Z0-9_:]*$") then
    error(format("bad metric name %s (letters, digits, '_' and ':', not starting with a digit)",
      type(name) == "string" and "'" .. name .. "'" or type(name)), 2)
  end
  if type(value) ~= "number" then
    error(format("bad value for '%s' (number expected, got %s)", name, type(value)), 2)
  end
  if labels ~= nil and type(labels) ~= "table" then
    error(format("bad labels for '%s' (table expected, got %s)", name, type(labels)), 2)
  end
  if help ~= nil and type(help) ~= "string" then
    error(format("bad help for '%s' (string expected, got %s)", name, type(help)), 2)
  end
  local names = {}
  for key, v in pairs(labels or {}) do
    if type(key) ~= "string" or not find(key, "^[a-zA-Z_][a-zA-Z0-9_]*$") or find(key, "^__") then
      error(format("bad label name %s for '%s' (letters, digits and '_', not starting with a digit or '__')",
        type(key) == "string" and "'" .. key .. "'" or type(key), name), 2)
    end
    if not label_value_text(v) then
      error(format("bad value for label '%s' of '%s' (string or number expected, got %s)", key, name,
        type(v)), 2)
    end
    names[#names + 1] = key
  end
  sort(names)
  local values = {}
  for _, key in ipairs(names) do values[key] = label_value_text(labels[key]) end
  local identity = labels_text(names, values, false)

  local family = families[name]
  if not family then
    family = { name = name, samples = {}, by_labels = {} }
    families[name] = family
    order[#order + 1] = name
  end
  if family.help == nil then family.help = help end
  local sample = family.by_labels[identity]
  if not sample then
    sample = { names = names, labels = values }
    family.by_labels[identity] = sample
    family.samples[#family.samples + 1] = sample
  end
  sample.value = value
end

-- The gauges set so far in the text exposition format (version 0.0.4): families in the order first
-- set, each with its HELP and TYPE lines once, samples in the order first set. Label values are
-- escaped for a terminal (see escape_label) when standard output is one, or when terminal is true.
function M.render(terminal)
  if terminal == nil then terminal = sys.isatty(1) end
  local lines = {}
  for _, name in ipairs(order) do
    local family = families[name]
    if family.help then lines[#lines + 1] = "# HELP " .. name .. " " .. escape_help(family.help) end
    lines[#lines + 1] = "# TYPE " .. name .. " gauge"
    for _, sample in ipairs(family.samples) do
      lines[#lines + 1] = name .. labels_text(sample.names, sample.labels, terminal) .. " " ..
        value_text(sample.value)
    end
  end
  if #lines == 0 then return "" end
  return concat(lines, "\n") .. "\n"
end

-- The gauges set so far as an array of {name, labels, value, help}, for other output formats.
function M.samples()
  local list = {}
  for _, name in ipairs(order) do
    local family = families[name]
    for _, sample in ipairs(family.samples) do
      local labels = {}
      for k, v in pairs(sample.labels) do labels[k] = v end
      list[#list + 1] = { name = name, labels = labels, value = sample.value, help = family.help }
    end
  end
  return list
end

-- Forgets every gauge.
function M.clear()
  families, order = {}, {}
end

-- The end of a run: with -f prom the gauges are written out; either way they are forgotten, so a
-- process gone since the last run leaves no series behind.
local function flush()
  if output.format() == "prom" and #order > 0 then
    io.stdout:write(M.render())
    io.stdout:flush()
  end
  M.clear()
end

run.on_iteration_end(flush)
run.on_finish(flush)

return M
