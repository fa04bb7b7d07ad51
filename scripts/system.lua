-- system.lua: where the machine's memory went: MemTotal split into parts that add up to it exactly
--
-- The parts come from memscript.system: the processes' PSS (every process's smaps_rollup, split into
-- anonymous, file and shmem), the page cache and shmem no process maps, the kernel's own allocations
-- as meminfo counts them, the hugetlb pool, zswap and zram, free memory, and what no counter explains
-- ("unaccounted", shown whatever its sign). Beside them, in no sum: swap, the processes that could not
-- be read and the most they can hold, the tmpfs mounts, and in watch mode the rates of page faults,
-- swapping and refaults per second. With -f folded, the parts as collapsed stacks (system.stacks).

local proc = proc or require "memscript"
local output = require "memscript.output"
local cli = require "memscript.cli"
local escape = require("memscript.text").escape
local system = require "memscript.system"
local folded = require "memscript.folded"

local format, rep, concat = string.format, string.rep, table.concat
local io, os, ipairs, type = io, os, ipairs, type
local arg = arg

local SPEC = {
  name = "system.lua",
  summary = "where the machine's memory went: MemTotal split into parts that add up to it exactly",
  intro = [[
MemTotal split into parts that add up to it exactly, each with what it is and how it was found: the
processes' PSS (anonymous, file, shmem), the page cache and shmem no process maps, the kernel's own
allocations, the hugetlb pool, zswap, zram, free memory, and "unaccounted", what no counter explains.
A part marked "estimate" is made from figures read at different moments (each process's smaps_rollup,
then /proc/meminfo) and says how. Beside the parts, in no sum: swap, processes that could not be read
and the most their memory can be, tmpfs mounts by use, and with --interval, from the second run on,
page faults, swapping and refaults per second from /proc/vmstat.
]],
  epilog = [[

Output format: memscript's -f option. JSON and CSV rows are {part, kind, bytes, per_second, unit,
estimate, meaning}: kind "part" for the parts, which add up to the row of kind "total" (MemTotal);
"share" for the shares of a part ("kernel.slab_unreclaimable" of "kernel"), which add up to it; "note"
for figures beside the account; "rate" for rates per second (per_second, unit "faults/s" or "pages/s").
A figure that could not be read is null, never 0. docs/system.md explains every part, and how they
compare with smem -w.
With -f folded, the collapsed stacks of flame graphs (flamegraph.pl, inferno, speedscope): a line per
part without shares and per share, its dotted name split at the dots into frames, with the bytes of
its JSON row ("free BYTES", "kernel;slab_unreclaimable BYTES"), so that the lines add up to
MemTotal. A part with shares has no line of its own: its shares add up to it, what a split leaves
over being a share named for what it is (processes;rounding). A line of 0 bytes is left out. The
notes (swap, the processes not read, tmpfs mounts, unplaced meminfo keys) and the rates are in no sum
and are not written. A part or share below zero (unaccounted can be, where memory is counted twice)
can be no frame: it is left out and named on stderr with the sum the lines then make, more than
MemTotal by its size.
Exit status: 0 (also when -f folded leaves out a part below zero); 3 (UNKNOWN) on a usage error or
when /proc/meminfo or the process list cannot be read.
]],
}

cli.parse(SPEC, arg)

-- The rows' order in the table: parts with their shares under them, a rule, MemTotal.
local function percent_of(total)
  return function(row)
    if row.bytes == nil or total == 0 then return nil end
    return format("%.1f%%", row.bytes * 100 / total)
  end
end

local function name_of(row)
  if row.kind == "share" then return "  " .. row.part end
  return row.part
end

local function render_parts(rows, total)
  local columns = {
    {"Part", name_of, align = "left"},
    {"Bytes", "bytes", kind = "bytes"},
    {"MemTotal", percent_of(total), align = "right"},
    {"Meaning", "meaning", align = "left"},
  }
  local text = output.render(rows, columns, {format = "table"})
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  -- the rule above MemTotal, as wide as the widest line without its meaning
  local width = #lines[1] - #"Meaning"
  table.insert(lines, #lines, rep("-", width - 2))
  return concat(lines, "\n") .. "\n"
end

local function render_rates(rows)
  return output.render(rows, {
    {"Rate", "part", align = "left"},
    {"Per second", function(row) return format("%.1f", row.per_second) end, align = "right"},
    {"Unit", "unit", align = "left"},
    {"Meaning", "meaning", align = "left"},
  }, {format = "table"})
end

-- -f folded: the parts' leaves as stacks; a leaf below zero left out and named on stderr.
local function main_folded(account)
  local stacks, left_out, sum = system.stacks(account)
  folded.print(stacks)
  io.stdout:flush()
  if #left_out > 0 then
    local names = {}
    for _, leaf in ipairs(left_out) do names[#names + 1] = format("%s (%d bytes)", leaf.part, leaf.bytes) end
    io.stderr:write(format("memscript: system.lua: left out of the folded stacks, being below zero: %s; the "
      .. "stacks add up to %d bytes, MemTotal is %d\n", escape(concat(names, ", ")), sum, account.memtotal))
  end
  return 0
end

local function main()
  local fmt = output.check_format(SPEC.name, cli.usage(SPEC), true)
  local account, msg = system.account(proc)
  if not account then
    io.stderr:write("memscript: system.lua: ", escape(tostring(msg)), "\n")
    return 3
  end
  if fmt == "folded" then return main_folded(account) end
  local rates = system.rates(proc)
  if fmt ~= "table" then
    local all = {}
    for _, row in ipairs(account.rows) do all[#all + 1] = row end
    for _, row in ipairs(rates) do all[#all + 1] = row end
    output.print(all, {
      {"Part", "part"},
      {"Kind", "kind"},
      {"Bytes", "bytes", kind = "bytes"},
      {"Per second", "per_second", kind = "number", json = "per_second"},
      {"Unit", function(row) return row.unit or "bytes" end, json = "unit"},
      {"Estimate", "estimate", json = "estimate"},
      {"Meaning", "meaning"},
    })
    io.stdout:flush()
    return 0
  end
  local parts, notes = {}, {}
  for _, row in ipairs(account.rows) do
    if row.kind == "note" then notes[#notes + 1] = row else parts[#parts + 1] = row end
  end
  io.stdout:write(render_parts(parts, account.memtotal))
  if #notes > 0 then
    io.stdout:write("\nBeside MemTotal, in no sum:\n")
    output.print(notes, {
      {"Figure", "part", align = "left"},
      {"Bytes", "bytes", kind = "bytes"},
      {"Meaning", "meaning", align = "left"},
    }, {format = "table"})
  end
  if #rates > 0 then
    io.stdout:write("\nSince the previous run, from /proc/vmstat:\n", render_rates(rates))
  end
  io.stdout:write(output.origin(), "\n")
  io.stdout:flush()
  return 0
end

-- A normal end returns rather than calling os.exit, so that under --interval the next run follows.
local status = main()
if status ~= 0 then os.exit(status) end
