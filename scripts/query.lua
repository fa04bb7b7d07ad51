-- query.lua: the mappings of a process that match a where-expression, pmap-style
--
-- EXPR is the where language (docs/where.md): "Rss > 1M and not anon", "VmFlags.lo", 'path ~ "libc"'.
-- It is compiled before the process is read, so a syntax error is reported even for a process that
-- does not exist. The mappings come from /proc/PID/smaps, so every smaps key and VmFlags code can be
-- used in EXPR.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local where = require "memscript.where"
local cli = require "memscript.cli"

local gsub = string.gsub
local io, os, ipairs, pcall, tostring = io, os, ipairs, pcall, tostring
local arg = arg

local SPEC = {
  name = "query.lua",
  summary = "the mappings of a process that match a where-expression, pmap-style",
  intro = [[
The mappings of process PID (a number or "self") for which the where-expression EXPR is true, in
address order, with pmap -x's columns: Address, Size, Rss, Pss, Dirty (Private_Dirty + Shared_Dirty),
Mode (the permissions) and Mapping (the path). Sizes are bytes, human units in a table on a terminal.
EXPR examples:  'Rss > 1M'  'anon and writable'  'VmFlags.lo or VmFlags.dd'  'path ~ "libc"'
(the where language: docs/where.md; names are smaps keys, VmFlags.xx, and kind, anon, shared,
readable, writable, executable; sizes such as 2g, 1.5M or 512 kB).
]],
  operands = { { "PID", type = "pid" }, { "EXPR", type = "text" } },
  epilog = [[
Output format: memscript's -f option; JSON and CSV fields: address, size, Rss, Pss, dirty, mode, path.
Exit status: 0 (also when nothing matches); 3 (UNKNOWN) on a usage error, an error in EXPR, or when
the process cannot be read.
]],
}

local opts = cli.parse(SPEC, arg)

-- Absent (not 0) when the mapping has neither dirty count, as on a smaps without them.
local function dirty(m)
  if m.Private_Dirty == nil and m.Shared_Dirty == nil then return nil end
  return (m.Private_Dirty or 0) + (m.Shared_Dirty or 0)
end

local COLUMNS = {
  {"Address", "vm_start", kind = "addr", json = "address"},
  {"Size", "size", kind = "bytes"},
  {"Rss", "Rss", kind = "bytes"},
  {"Pss", "Pss", kind = "bytes"},
  {"Dirty", dirty, kind = "bytes", json = "dirty"},
  {"Mode", "perms", align = "left", json = "mode"},
  {"Mapping", "path", align = "left"},
}

local function main()
  output.check_format(SPEC.name, cli.usage(SPEC))
  local pid, expr = opts.pid, opts.expr
  local ok, matches = pcall(where.compile, expr)
  if not ok then
    io.stderr:write("memscript: ", tostring(matches), "\n")
    return 3
  end
  local smaps, msg = proc.smaps(pid)
  if not smaps then
    io.stderr:write("memscript: ", escape(msg), "\n")
    return 3
  end
  -- a table escapes what would break its lines or drive the terminal (memscript.text)
  output.print(smaps:filter(matches), COLUMNS)
  io.stdout:flush()
  return 0
end

os.exit(main())
