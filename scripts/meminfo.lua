-- meminfo.lua: the system's memory from /proc/meminfo, each line explained
-- usage: memscript meminfo.lua [options]
--
-- A chosen set of /proc/meminfo keys, in groups: totals and the page cache, the anonymous/file split of
-- the LRU lists, swap, huge pages. A key this kernel did not print is shown as absent ("-" in a table,
-- null in JSON, an empty field in CSV), never as 0: 0 would claim the kernel counted nothing. Rows whose
-- name is a formula (SwapTotal-SwapFree) are computed here; they are absent when a key they need is.

local proc = proc or require "memscript"
local output = require "memscript.output"
local units = require "memscript.units"
local sys = require "memscript.sys"

local format, mtype = string.format, math.type
local io, os, ipairs = io, os, ipairs
local arg = arg

local USAGE = [[
usage: memscript meminfo.lua [options]
The system's memory from /proc/meminfo, one line per key with what it means: MemTotal, MemFree,
MemAvailable, buffers and cache, the Active/Inactive split of anonymous and file-backed pages, swap,
and huge pages. Sizes are bytes (human units in a table on a terminal); HugePages_* are counts of
pages, shown as "N pages". A key the kernel did not print is shown as "-", never as 0.
  -h, --help   show this help
Output format: memscript's -f option. JSON and CSV rows are {key, value, unit, meaning}, unit "bytes"
or "pages", value null (JSON) or empty (CSV) for an absent key.
Exit status: 0; 3 (UNKNOWN) on a usage error or when /proc/meminfo cannot be read.
]]

local function usage_error(msg)
  io.stderr:write("memscript: meminfo.lua: ", msg, "\n", USAGE)
  os.exit(3)
end

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

-- {name, meaning, unit, value = function(mi) (default: mi[name])}. Meanings follow proc(5) and the
-- kernel's Documentation/filesystems/proc.rst.
local ROWS = {
  {"MemTotal", "usable RAM: physical memory less firmware reservations and the kernel's code"},
  {"MemFree", "RAM not used for anything"},
  {"MemAvailable", "estimate of what new programs can get without swapping (Linux 3.14+)"},
  {"Buffers", "cache of block-device blocks (file system metadata)"},
  {"Cached", "page cache: file contents, tmpfs and shared memory"},
  {"Buffers+Cached+SReclaimable", "buff/cache as free(1) counts it (no SReclaimable: 0)",
   value = function(mi) return sum(mi, {"Buffers", "Cached", "SReclaimable"}, {SReclaimable = true}) end},
  {"Active", "pages used recently, reclaimed last"},
  {"Inactive", "pages not used recently, reclaimed first"},
  {"Active(anon)", "anonymous pages (heap, stack) used recently; can only be swapped out"},
  {"Inactive(anon)", "anonymous pages not used recently: next to be swapped out"},
  {"Active(file)", "file-backed pages (code, mapped files) used recently; dropped or written back"},
  {"Inactive(file)", "file-backed pages not used recently: next to be dropped"},
  {"Active+Inactive(anon)", "anonymous pages on the LRU lists",
   value = function(mi) return sum(mi, {"Active(anon)", "Inactive(anon)"}) end},
  {"Active+Inactive(file)", "file-backed pages on the LRU lists",
   value = function(mi) return sum(mi, {"Active(file)", "Inactive(file)"}) end},
  {"SwapTotal", "swap space, all areas"},
  {"SwapFree", "swap space not in use"},
  {"SwapTotal-SwapFree", "swap space in use",
   value = function(mi)
     if mi.SwapTotal == nil or mi.SwapFree == nil then return nil end
     return mi.SwapTotal - mi.SwapFree
   end},
  {"HugePages_Total", "pages in the hugetlb pool, each Hugepagesize", unit = "pages"},
  {"HugePages_Free", "pool pages not allocated", unit = "pages"},
  {"HugePages_Rsvd", "pool pages reserved by mappings but not yet touched", unit = "pages"},
  {"HugePages_Surp", "pages above the pool size (overcommitted)", unit = "pages"},
  {"Hugepagesize", "size of a default huge page"},
  {"Hugetlb", "memory in huge pages of every size (Linux 4.16+)"},
}

local function main(words)
  for _, word in ipairs(words) do
    if word == "-h" or word == "--help" then
      io.stdout:write(USAGE)
      return 0
    end
    usage_error(format("unknown argument '%s'", word))
  end
  local mi, msg = proc.meminfo()
  if not mi then
    io.stderr:write("memscript: ", msg, "\n")
    return 3
  end
  local rows = {}
  for i, spec in ipairs(ROWS) do
    local value
    if spec.value then value = spec.value(mi) else value = mi[spec[1]] end
    rows[i] = {key = spec[1], value = value, unit = spec.unit or "bytes", meaning = spec[2]}
  end
  if output.format() == "table" then
    -- Counts and sizes share the Value column, so sizes are formatted here: human units on a terminal.
    local human = sys.isatty(1)
    local function text(row)
      if row.value == nil then return nil end
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

os.exit(main(arg or {}))
