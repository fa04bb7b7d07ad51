-- status.lua: the memory fields of /proc/PID/status and /proc/PID/statm, each explained
--
-- The Vm*, Rss* and HugetlbPages lines of status in the kernel's order, then any other Vm*/Rss*/Hugetlb*
-- key this kernel prints (by name), then the seven fields of statm. Values are bytes (statm's pages times
-- the page size). A key the kernel did not print (a kernel thread has none of them) is shown as absent,
-- never as 0. A statm value too big for a 64-bit integer in bytes is a float, shown as such.

local output = require "memscript.output"
local cli = require "memscript.cli"
local unreadable = require "memscript.unreadable"
local escape = require("memscript.text").escape

local find, sort = string.find, table.sort
local io, os, ipairs, pairs = io, os, ipairs, pairs
local arg = arg

local SPEC = {
  name = "status.lua",
  summary = "the memory fields of /proc/PID/status and /proc/PID/statm, each explained",
  intro = [[
The memory part of /proc/PID/status (VmPeak VmSize VmLck VmPin VmHWM VmRSS RssAnon RssFile RssShmem
VmData VmStk VmExe VmLib VmPTE VmSwap HugetlbPages, and any other Vm*/Rss* key the kernel prints) and
of /proc/PID/statm (size resident shared text lib data dt), each with what it means. PID is a number
or "self". Sizes are bytes, in human units in a table on a terminal; a key the kernel did not print
is shown as "-".
]],
  operands = { { "PID", type = "pid" } },
  epilog = [[
Output format: memscript's -f option. JSON and CSV rows are {file, field, bytes, meaning}, bytes null
(JSON) or empty (CSV) for an absent key.
Exit status: 0; 3 (UNKNOWN) on a usage error or when either file cannot be read.
]],
}

local opts = cli.parse(SPEC, arg)

-- The kernel's order (fs/proc/task_mmu.c, task_mem); meanings from proc(5). An optional field (one that
-- only some kernel versions print) is left out when absent rather than shown as "-" on every other kernel.
local STATUS_FIELDS = {
  {"VmPeak", "peak virtual memory size"},
  {"VmSize", "virtual memory size: everything mapped (top's VIRT, ps's VSZ)"},
  {"VmLck", "locked memory (mlock): cannot be swapped out"},
  {"VmPin", "pinned memory: pages that cannot be moved, held by drivers (RDMA, io_uring)"},
  {"VmHWM", "peak resident set size (high water mark)"},
  {"VmRSS", "resident set size: RssAnon + RssFile + RssShmem (top's RES)"},
  {"RssAnon", "resident anonymous memory: heap, stacks, private writable pages"},
  {"RssFile", "resident file mappings: program code, libraries, mapped files"},
  {"RssShmem", "resident shared memory: System V, tmpfs and shared anonymous mappings"},
  {"VmData", "virtual size of private writable memory other than the stack (data, heap, mmap)"},
  {"VmStk", "virtual size of the stack (grows-down mappings)"},
  {"VmExe", "virtual size of the program's code (text segment)"},
  {"VmLib", "virtual size of shared library code"},
  {"VmPTE", "page tables"},
  {"VmPMD", "second-level page tables (Linux 4.0 to 4.14)", optional = true},
  {"VmSwap", "private anonymous memory swapped out (shared memory's swap is not counted)"},
  {"HugetlbPages", "hugetlb memory mapped (hugetlbfs, MAP_HUGETLB)"},
}

-- statm's fields in its order (pages in the file, bytes here).
local STATM_FIELDS = {
  {"size", "total program size, as VmSize"},
  {"resident", "resident set size, as VmRSS"},
  {"shared", "resident shared pages, i.e. backed by a file: RssFile + RssShmem"},
  {"text", "text (code) of the program, in whole pages"},
  {"lib", "library: unused since Linux 2.6, always 0"},
  {"data", "data + stack, as VmData + VmStk"},
  {"dt", "dirty pages: unused since Linux 2.6, always 0"},
}

-- Memory keys of status that STATUS_FIELDS does not list (a newer kernel's), sorted by name.
local function other_memory_keys(status)
  local known, extra = {}, {}
  for _, field in ipairs(STATUS_FIELDS) do known[field[1]] = true end
  for key in pairs(status) do
    if not known[key] and (find(key, "^Vm") or find(key, "^Rss") or find(key, "^Hugetlb")) then
      extra[#extra + 1] = key
    end
  end
  sort(extra)
  return extra
end

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  local process, _, msg = unreadable.read_process(opts.pid, { "status", "statm" })
  if not process then
    io.stderr:write("memscript: ", escape(msg), "\n")
    return 3
  end
  local status, statm = process.status, process.statm
  local rows = {}
  for _, field in ipairs(STATUS_FIELDS) do
    if status[field[1]] ~= nil or not field.optional then
      rows[#rows + 1] = {file = "status", field = field[1], bytes = status[field[1]], meaning = field[2]}
    end
  end
  for _, key in ipairs(other_memory_keys(status)) do
    rows[#rows + 1] = {file = "status", field = key, bytes = status[key],
                       meaning = "(printed by this kernel, not described here)"}
  end
  for _, field in ipairs(STATM_FIELDS) do
    rows[#rows + 1] = {file = "statm", field = field[1], bytes = statm[field[1]], meaning = field[2]}
  end
  output.print(rows, {
    {"File", "file", align = "left"},
    {"Field", "field", align = "left"},
    {"Bytes", "bytes", kind = "bytes"},
    {"Meaning", "meaning", align = "left"},
  })
  if output.format() == "table" then io.stdout:write(output.origin(), "\n") end
  io.stdout:flush()
  return 0
end

os.exit(main())
