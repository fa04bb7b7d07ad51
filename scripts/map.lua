-- map.lua: one process's address space as a picture: mappings by address, size, resident share and kind, one SVG
--
-- The mappings of /proc/PID/smaps in address order (memscript.addressmap): each a box as wide as its
-- size (on a log scale when sizes differ by orders of magnitude), coloured by kind, filled by its
-- resident share; the unmapped addresses between mappings a narrow hatched band; writable and
-- executable mappings and mappings of deleted files marked; every box's details (range, perms,
-- size, resident, PSS, swap, VmFlags) in its title, shown on hover. One self-contained SVG file, on
-- standard output or in FILE with -o (written as memscript's -o writes: whole or not at all, never
-- through another user's link).

local proc = proc or require "memscript"
local output = require "memscript.output"
local addressmap = require "memscript.addressmap"
local svg = require "memscript.svg"
local escape = require("memscript.text").escape
local unreadable = require "memscript.unreadable"
local cli = require "memscript.cli"

local format, concat = string.format, table.concat
local io, os, tostring = io, os, tostring
local arg = arg

local SPEC = {
  name = "map.lua",
  summary = "one process's address space as a picture: mappings by address, size, resident share and kind, one SVG",
  intro = [[
The mappings of process PID (a number or "self") in address order, as one self-contained SVG file:
each a box as wide as its size, coloured by kind, filled by its resident share; gaps between
mappings compressed to a hatched band; W+X and deleted mappings marked; details on hover.
]],
  options = {
    { "-o", "--output", value = "FILE.svg", help = "write the picture to FILE instead of standard output" },
  },
  operands = { { "PID", type = "pid" } },
  epilog = [[
Exit status: 0; 3 on a usage error, when the process cannot be read, or when FILE cannot be written.
]],
}

local opts = cli.parse(SPEC, arg)

local function main()
  local fmt = output.format()
  if fmt ~= "table" then
    io.stderr:write(format("memscript: map.lua draws SVG, not '%s'\n", fmt), cli.usage(SPEC))
    return 3
  end
  local process, _, msg = unreadable.read_process(opts.pid, { "status", "smaps", "cmdline" })
  if not process then
    io.stderr:write("memscript: map.lua: ", escape(tostring(msg)), "\n")
    return 3
  end
  local status = process.status
  local pid = status.Pid or opts.pid
  local command = concat(process.cmdline, " ")
  local title = format("pid %s (%s)", tostring(pid), tostring(status.Name or "?"))
  local note = (command ~= "" and (command .. "; ") or "") .. output.origin()
  local picture = addressmap.svg(process.smaps, { title = title, note = note })
  return svg.save(picture, opts.output, "map.lua")
end

os.exit(main())
