-- meminfo.lua: the system's memory from /proc/meminfo, each line explained
--
-- Every line of /proc/meminfo. First a fixed set of rows, in groups: totals and the page cache, the
-- anonymous/file split of the LRU lists, swap, huge pages. A key of that set this kernel did not print
-- is shown as absent ("-" in a table, null in JSON, an empty field in CSV), never as 0: 0 would claim
-- the kernel counted nothing. Rows whose name is a formula (SwapTotal-SwapFree) are computed here; they
-- are absent when a key they need is. Then every other key the kernel printed, in the kernel's order,
-- with its meaning; a key not described here (a newer kernel's) is still shown, and says so.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local units = require "memscript.units"
local sys = require "memscript.sys"
local cli = require "memscript.cli"
local meminfo_module = require "memscript.meminfo"
local MEANINGS = meminfo_module.meanings

local format, find, sort, mtype = string.format, string.find, table.sort, math.type
local io, os, ipairs, pairs, type = io, os, ipairs, pairs, type
local arg = arg

local SPEC = {
  name = "meminfo.lua",
  summary = "the system's memory from /proc/meminfo, each line explained",
  intro = [[
The system's memory from /proc/meminfo, one line per key with what it means: first MemTotal, MemFree,
MemAvailable, buffers and cache, the Active/Inactive split of anonymous and file-backed pages, swap,
and huge pages, then every other key the kernel printed (Shmem, Slab, AnonPages, Committed_AS, ...),
in the kernel's order. Sizes are bytes (human units in a table on a terminal); HugePages_* are counts
of pages, shown as "N pages". A key of the first group the kernel did not print is shown as "-",
never as 0.
]],
  epilog = [[
Output format: memscript's -f option. JSON and CSV rows are {key, value, unit, meaning}, unit "bytes"
or "pages" ("count" or "text" for a key without a kB unit that is not described here), value null
(JSON) or empty (CSV) for an absent key.
Exit status: 0; 3 (UNKNOWN) on a usage error or when /proc/meminfo cannot be read.
]],
}

cli.parse(SPEC, arg)

-- The sum of the named keys, or nil when any of them is absent; a key in `optional` counts as 0 when
-- absent, as free(1) counts it.
local function sum(mi, keys, optional)
  local total = 0
  for _, key in ipairs(keys) do
    local v = mi[key]
    if v == nil then
      if not (optional and optional[key]) then return nil end
      v = 0
    end
    total = total + v
  end
  return total
end

-- {name, meaning, unit, value = function(mi) (default: mi[name])}; a key's meaning, when not given, is
-- memscript.meminfo's (proc(5) and the kernel's Documentation/filesystems/proc.rst).
local ROWS = {
  {"MemTotal"},
  {"MemFree"},
  {"MemAvailable"},
  {"Buffers"},
  {"Cached"},
  {"Buffers+Cached+SReclaimable", "buff/cache as free(1) counts it (no SReclaimable: 0)",
   value = function(mi) return sum(mi, {"Buffers", "Cached", "SReclaimable"}, {SReclaimable = true}) end},
  {"Active"},
  {"Inactive"},
  {"Active(anon)"},
  {"Inactive(anon)"},
  {"Active(file)"},
  {"Inactive(file)"},
  {"Active+Inactive(anon)", "anonymous pages on the LRU lists",
   value = function(mi) return sum(mi, {"Active(anon)", "Inactive(anon)"}) end},
  {"Active+Inactive(file)", "file-backed pages on the LRU lists",
   value = function(mi) return sum(mi, {"Active(file)", "Inactive(file)"}) end},
  {"SwapTotal"},
  {"SwapFree"},
  {"SwapTotal-SwapFree", "swap space in use",
   value = function(mi)
     if mi.SwapTotal == nil or mi.SwapFree == nil then return nil end
     return mi.SwapTotal - mi.SwapFree
   end},
  {"HugePages_Total", unit = "pages"},
  {"HugePages_Free", unit = "pages"},
  {"HugePages_Rsvd", unit = "pages"},
  {"HugePages_Surp", unit = "pages"},
  {"Hugepagesize"},
  {"Hugetlb"},
}

local NOT_DESCRIBED = meminfo_module.NOT_DESCRIBED

-- The rows of the keys ROWS does not show, in the order the kernel printed them (proc.keys), each
-- value's unit as it printed it (proc.unit: kB is bytes here).
local function other_rows(mi)
  local shown = {}
  for _, spec in ipairs(ROWS) do shown[spec[1]] = true end
  local rows = {}
  for _, key in ipairs(proc.keys(mi)) do
    local value = mi[key]
    if not shown[key] then
      shown[key] = true
      local unit
      if type(value) ~= "number" then unit = "text"
      elseif proc.unit(mi, key) == "kB" then unit = "bytes"
      elseif find(key, "^HugePages_") then unit = "pages"
      else unit = "count" end
      rows[#rows + 1] = {key = key, value = value, unit = unit, meaning = MEANINGS[key] or NOT_DESCRIBED}
    end
  end
  return rows
end

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  local mi, msg = proc.meminfo()
  if not mi then
    io.stderr:write("memscript: ", escape(msg), "\n")
    return 3
  end
  local rows = {}
  for i, spec in ipairs(ROWS) do
    local value
    if spec.value then value = spec.value(mi) else value = mi[spec[1]] end
    rows[i] = {key = spec[1], value = value, unit = spec.unit or "bytes", meaning = spec[2] or MEANINGS[spec[1]]}
  end
  for _, row in ipairs(other_rows(mi)) do rows[#rows + 1] = row end
  if output.format() == "table" then
    -- Counts and sizes share the Value column, so sizes are formatted here: human units on a terminal.
    local human = sys.isatty(1)
    local function text(row)
      if row.value == nil then return nil end
      if type(row.value) ~= "number" then return row.value end
      if row.unit == "bytes" and human then return units.format(row.value) end
      local exact = mtype(row.value) == "integer" and format("%d", row.value) or format("%.17g", row.value)
      return row.unit == "pages" and (exact .. " pages") or exact
    end
    output.print(rows, {
      {"Key", "key", align = "left"},
      {"Value", text, align = "right"},
      {"Meaning", "meaning", align = "left"},
    })
    io.stdout:write(output.origin(), "\n")
  else
    output.print(rows, {
      {"Key", "key"},
      {"Value", "value", kind = "number"},
      {"Unit", "unit"},
      {"Meaning", "meaning"},
    })
  end
  io.stdout:flush()
  return 0
end

os.exit(main())
