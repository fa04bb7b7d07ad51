-- flags.lua: each mapping's VmFlags decoded, and a summary of the flags a process has
--
-- Reads /proc/PID/smaps (VmFlags exists since Linux 3.8). For each mapping: its address range, permissions
-- and path, then each two-letter code with its meaning (memscript.vmflags; a code it does not know is
-- shown as "unknown flag 'xx'", never dropped). Then one summary row per code that occurs: its meaning,
-- how many mappings have it, and their total size and Rss.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local vmflags = require "memscript.vmflags"
local collection = require "memscript.collection"
local cli = require "memscript.cli"

local format, concat, gsub = string.format, table.concat, string.gsub
local io, os, ipairs = io, os, ipairs
local arg = arg

local SPEC = {
  name = "flags.lua",
  summary = "each mapping's VmFlags decoded, and a summary of the flags a process has",
  intro = [[
The VmFlags of each mapping of process PID (a number or "self"), with what each code means, then a
summary: for each code that occurs, its meaning, the number of mappings that have it, and their total
Size and Rss (bytes; human units in a table on a terminal).
]],
  options = {
    { "-s", "--summary", key = "summary_only", help = "the summary only" },
    { "-m", "--mappings", key = "mappings_only", help = "the mappings only" },
  },
  exclusive = { { "-s", "-m" } },
  operands = { { "PID", type = "pid" } },
  epilog = [[
Output format: memscript's -f option. A table shows both parts. JSON is an object
{"mappings": [...], "summary": [...]}, or just the one array with -m or -s; each mapping is
{start, end, perms, size, Rss, path, flags} with flags an array of codes in the kernel's order, and
each summary row {flag, meaning, mappings, size, Rss}. CSV holds one table: the mappings (flags
separated by spaces), or the summary with -s.
Exit status: 0; 3 (UNKNOWN) on a usage error or when the process cannot be read.
]],
}

local opts = cli.parse(SPEC, arg)

-- One row per code that occurs: most common first, ties in the order the codes are first met (address
-- order, then the kernel's order within a line), so the result is the same on every run.
local function summarize(smaps)
  local by_code, rows = {}, {}
  for _, m in ipairs(smaps) do
    for _, code in ipairs(vmflags.codes(m.VmFlags)) do
      local row = by_code[code]
      if not row then
        row = {code = code, meaning = vmflags.meaning(code), mappings = 0}
        by_code[code] = row
        rows[#rows + 1] = row
      end
      row.mappings = row.mappings + 1
      row.size = (row.size or 0) + m.size
      -- Rss stays absent (not 0) when no mapping with this code has an Rss line.
      if m.Rss then row.Rss = (row.Rss or 0) + m.Rss end
    end
  end
  return collection.new(rows):sort("mappings", "desc")
end

local MAPPING_COLUMNS = {
  {"Start", "vm_start", kind = "addr", json = "start"},
  {"End", "vm_end", kind = "addr", json = "end"},
  {"Perms", "perms"},
  {"Size", "size", kind = "bytes"},
  {"Rss", "Rss", kind = "bytes"},
  {"Path", "path", align = "left"},
  {"Flags", "VmFlags", kind = "flags", json = "flags"},
}

local SUMMARY_COLUMNS = {
  {"Flag", "code", align = "left", json = "flag"},
  {"Meaning", "meaning", align = "left"},
  {"Mappings", "mappings", kind = "number"},
  {"Size", "size", kind = "bytes"},
  {"Rss", "Rss", kind = "bytes"},
}

-- The mapping's header line as the kernel prints the range ("%08lx-%08lx"), then one line per code.
local function mapping_block(m, out)
  local path = m.path ~= "" and (" " .. escape(m.path)) or ""
  out[#out + 1] = format("%08x-%08x %s%s\n", m.vm_start, m.vm_end, m.perms, path)
  if m.VmFlags == nil then
    out[#out + 1] = "  (no VmFlags line)\n"
    return
  end
  for _, code in ipairs(vmflags.codes(m.VmFlags)) do
    out[#out + 1] = format("  %s  %s\n", code, vmflags.meaning(code))
  end
end

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  local smaps, msg = proc.smaps(opts.pid)
  if not smaps then
    io.stderr:write("memscript: ", escape(msg), "\n")
    return 3
  end
  local summary = summarize(smaps)
  local fmt = output.format()
  if fmt == "table" then
    local out = {}
    if not opts.summary_only then
      for _, m in ipairs(smaps) do mapping_block(m, out) end
    end
    if not opts.mappings_only then
      if #out > 0 then out[#out + 1] = "\n" end
      out[#out + 1] = output.render(summary, SUMMARY_COLUMNS, {format = "table"})
    end
    io.stdout:write(concat(out))
  elseif fmt == "json" and not opts.summary_only and not opts.mappings_only then
    local mappings = gsub(output.render(smaps, MAPPING_COLUMNS, {format = "json"}), "\n$", "")
    local rows = gsub(output.render(summary, SUMMARY_COLUMNS, {format = "json"}), "\n$", "")
    io.stdout:write('{"mappings":', mappings, ',"summary":', rows, "}\n")
  elseif opts.summary_only then
    output.print(summary, SUMMARY_COLUMNS)
  else
    output.print(smaps, MAPPING_COLUMNS)
  end
  io.stdout:flush()
  return 0
end

os.exit(main())
