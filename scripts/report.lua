-- report.lua: pmap-style memory map of a process
--
-- Prints what procps-ng pmap 4.0.2 prints for `pmap -x PID` (the default here), `pmap -d PID`,
-- `pmap -X PID` or `pmap -XX PID`, byte for byte, from the proc API alone. -p shows whole paths, -q
-- leaves out the column header and the footer, as in pmap. A PID is a number (pmap's rules: 0x..
-- hexadecimal, 0.. octal), /proc/PID, or "self". Exit status 3 (UNKNOWN) when a process cannot be
-- read or the arguments are wrong. With memscript's -f json or -f csv the chosen report's mappings
-- come out as rows (sizes in bytes, addresses in hex); the first line, header and totals do not.
--
-- Where pmap's output depends on more than the proc files, this script follows pmap as follows:
-- * Header: pmap shows libproc2's escaped command line: arguments joined by spaces, control
--   characters replaced, and "[comm]" (plus " <defunct>" for a zombie) when the command line is
--   empty. How bytes are replaced depends on whether LC_CTYPE's codeset is UTF-8.
-- * Mapping names: bytes that are not printable ASCII become '?' (pmap tests isprint(); the same
--   in the C, POSIX and UTF-8 locales; 8-bit locales such as Latin-1 would keep more bytes).
--   -X and -XX print the name cut to 127 bytes, as pmap does; where pmap then prints the bytes
--   unchanged, control characters, invalid UTF-8, C1 and bidirectional controls are escaped here
--   (memscript.text, a backslash kept as pmap prints it), so a name cannot drive the terminal.
-- * The first line: libproc2's escaping (below) keeps valid UTF-8 whole in a UTF-8 locale, C1 controls
--   (U+009B is CSI) and bidirectional controls included; those are escaped here as \u{HHHH}.
-- * "[ stack ]": pmap marks the anonymous mapping holding the start of the stack (from
--   /proc/PID/stat); the kernel names that same mapping "[stack]" by the same test, so that
--   name is used.
-- * "[ shmid=0x.. ]": pmap names a System V segment by comparing the device with its own test
--   segment's; here a mapping on a device with major 0 whose path holds "/SYSV" is taken as one.
-- * -X and -XX: pmap reads no ~/.pmaprc for them (only -c and -C do). Their columns are the smaps
--   lines of the first mapping up to VmFlags, in the kernel's order (proc.read gives that order;
--   proc.smaps the values), less the ones pmap -X hides. As in pmap 4.0.2, the column list, the
--   column widths and the totals carry over from one PID to the next.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local folded = require "memscript.folded"
local classify = require "memscript.classify"
local cli = require "memscript.cli"

local format, concat, rep = string.format, table.concat, string.rep
local byte, sub, find, match, gmatch = string.byte, string.sub, string.find, string.match, string.gmatch
local io, os, ipairs, tonumber, tostring, type = io, os, ipairs, tonumber, tostring, type
local mtype = math.type
local arg = arg

-- pmap reads the pid with strtoul(s, &end, 0) after checking it starts with a digit.
local function parse_pid(word)
  if word == "self" then return "self" end
  local s = word:match("^/proc/(.*)$") or word
  local n
  if s:match("^0[xX]%x+$") then
    n = tonumber(sub(s, 3), 16)
  elseif s:match("^0[0-7]*$") then
    n = tonumber(s, 8)
  elseif s:match("^[1-9]%d*$") then
    n = tonumber(s)
  end
  if n and n >= 1 and n <= 0x7fffffff then return n end
  return nil
end

local SPEC = {
  name = "report.lua",
  summary = "pmap-style memory map of a process",
  options = {
    { "-x", "--extended", help = "Address Kbytes RSS Dirty Mode Mapping, as pmap -x (the default)" },
    { "-d", "--device", help = "Address Kbytes Mode Offset Device Mapping, as pmap -d" },
    { "-X", count = true, usage = "-X | -XX",
      help = "the smaps fields pmap -X shows (not VmFlags, AnonHugePages, KernelPageSize, MMUPageSize, "
        .. "Shared_/Private_Clean/Dirty), as pmap -X" },
    { label = "-XX", help = "every smaps field the kernel prints and VmFlags, as pmap -XX" },
    { "-p", "--show-path", key = "showpath", help = "show the whole path of each mapping" },
    { "-q", "--quiet", help = "leave out the column header and the footer" },
  },
  exclusive = { { "-x", "-d", "-X" } },
  -- pmap's pid syntax, and a pid given twice is reported twice, as pmap does
  operands = { { "PID", type = "pids", parse = parse_pid, unique = false } },
  epilog = [[
A PID is a number (0x.. hexadecimal, 0.. octal, as pmap reads it), /proc/PID, or "self".
Output format: memscript's -f option. A table is pmap's text. JSON and CSV have one row per mapping
the report shows (no header or totals), sizes in bytes, the address in hex, with the fields
  -x:       pid address size rss dirty mode mapping
  -d:       pid address size mode offset device mapping
  -X, -XX:  pid address perm offset device inode, the smaps fields under the kernel's names
            (VmFlags with -XX: a list of codes), mapping
With -f folded, the collapsed stacks of flame graphs (flamegraph.pl, inferno, speedscope): one line
per mapping with resident memory, in address order, "KIND;PATH RSS" (KIND as memscript.classify
names it: heap, stack, anon, file, shm, ...; PATH as the kernel prints it, "[anon]" when blank; RSS
in bytes), preceded by the frame "COMM [PID]" when more than one PID is given. The lines of a process
add up to its RSS total.
Exit status: 0; 3 (UNKNOWN) on a usage error or when a process cannot be read.
]],
}

-- opts.mode is "x", "d" or "X"; opts.all is set for -XX (pmap counts the X's; more than two act as two).
local opts = cli.parse(SPEC, arg)
opts.mode = opts.device and "d" or opts.X > 0 and "X" or "x"
opts.all = opts.X >= 2

-- libproc2 reads at most this much of /proc/PID/cmdline (MAX_BUFSZ), keeping one byte for the NUL.
local CMDLINE_LIMIT = 128 * 1024 - 1

-- The smaps fields pmap -X leaves out (its is_unimportant(); VmFlags is left out too).
local HIDDEN_BY_X = {AnonHugePages = true, KernelPageSize = true, MMUPageSize = true, Shared_Dirty = true,
                     Private_Dirty = true, Shared_Clean = true, Private_Clean = true}

-- pmap -X reads the mapping's name with sscanf("%127[^\n]").
local FIELDS_NAME_LIMIT = 127

local function fail(msg)
  io.stderr:write("memscript: ", escape(msg), "\n")
end
-- True when LC_CTYPE from the environment names a UTF-8 codeset, as pmap's setlocale(LC_ALL, "")
-- would find; a locale that is not installed leaves pmap in "C", and os.setlocale returns nil.
local function ctype_is_utf8()
  local saved = os.setlocale(nil, "ctype")
  local name = os.setlocale("", "ctype")
  os.setlocale(saved, "ctype")
  return name ~= nil and name:lower():find("utf%-?8") ~= nil
end

-- libproc2's esc_all: control characters become '.', bytes above 0x7f become '?'.
local function escape_all(s)
  return (s:gsub("[\1-\31\127]", "."):gsub("[\128-\255]", "?"))
end

-- Length of the UTF-8 sequence a lead byte announces, as libproc2 counts it (-1: not a lead byte).
local function lead_length(b)
  if b < 0x80 then return 1 end
  if b < 0xc2 then return -1 end
  if b < 0xe0 then return 2 end
  if b < 0xf0 then return 3 end
  if b < 0xf5 then return 4 end
  return -1
end

-- libproc2's escape_str. In a UTF-8 locale control characters become '?' and sequences are kept
-- whole; from the first byte that does not start a complete sequence on, escape_all applies.
-- Elsewhere escape_all applies to the whole string.
local function escape_str(s, utf8)
  if not utf8 then return escape_all(s) end
  local out, i, len = {}, 1, #s
  while i <= len do
    local b = byte(s, i)
    local n = lead_length(b)
    if n < 0 or i + n - 1 > len then
      out[#out + 1] = escape_all(sub(s, i))
      break
    end
    if b < 0x20 or b == 0x7f then
      out[#out + 1] = "?"
    else
      out[#out + 1] = sub(s, i, i + n - 1)
    end
    i = i + n
  end
  return concat(out)
end

-- The command shown in pmap's first line, built from the arguments as libproc2 builds it from
-- the raw file: trailing NULs dropped, other NULs and newlines turned into spaces, then escaped.
local function command_text(args, comm, zombie, utf8)
  local raw = #args > 0 and (concat(args, "\0") .. "\0") or ""
  if #raw > CMDLINE_LIMIT then raw = sub(raw, 1, CMDLINE_LIMIT) end
  local text
  if #raw > 0 then
    local stripped = raw:gsub("\0+$", "")
    text = stripped:gsub("[\0\n]", " ")
    -- libproc2 also drops a final space, which only a cut-off command line can end with.
    if #stripped == #raw and sub(text, -1) == " " then text = sub(text, 1, -2) end
    text = escape_str(text, utf8)
  else
    text = "[" .. escape_str(comm, utf8) .. "]" .. (zombie and " <defunct>" or "")
  end
  return text ~= "" and text or "?"
end

local function printable(s)
  return (s:gsub("[^\32-\126]", "?"))
end

local function device_numbers(dev)
  local major, minor = dev:match("^(%x+):(%x+)$")
  return tonumber(major or "0", 16), tonumber(minor or "0", 16)
end

-- pmap's mapping_name for -x and -d: a System V segment by id, else the path's last component (or
-- the path from its first '/' with -p), else "[ stack ]" or "[ anon ]". pmap puts pad (two spaces)
-- before the bracketed names; rows of data have none.
local function mapping_name(m, showpath, pad)
  local path = printable(m.path)
  local major = device_numbers(m.dev)
  if major == 0 and path:find("/SYSV", 1, true) then
    return format("%s[ shmid=0x%x ]", pad, m.inode)
  end
  local last_slash = path:match(".*()/")
  if last_slash then
    if showpath then return sub(path, (path:find("/", 1, true))) end
    return last_slash < #path and sub(path, last_slash + 1) or "/"
  end
  if m.path == "[stack]" then return pad .. "[ stack ]" end
  return pad .. "[ anon ]"
end

-- pmap -X's name: the path column as the kernel printed it, cut to limit bytes when limit is given,
-- then (without -p) the part after the last '/' of what is left.
local function fields_mapping_name(m, showpath, limit)
  local desc = limit and sub(m.path, 1, limit) or m.path
  if showpath then return desc end
  local last_slash = match(desc, ".*()/")
  return last_slash and sub(desc, last_slash + 1) or desc
end

-- pmap's Mode column: the 4th permission letter 'p' becomes '-', then a 5th '-' is added.
-- Returns the mode and which total the mapping counts in: "shared", "writeable" or "readonly".
local function mode_of(perms)
  local kind = sub(perms, 4, 4)
  if kind == "s" then return sub(perms, 1, 4) .. "-", "shared" end
  if kind == "p" then
    return sub(perms, 1, 3) .. "--", sub(perms, 2, 2) == "w" and "writeable" or "readonly"
  end
  return sub(perms, 1, 4) .. "-", nil
end

local function dirty_bytes(m)
  return (m.Private_Dirty or 0) + (m.Shared_Dirty or 0)
end

-- s right-justified in width columns; never cut, as printf's "%*s".
local function pad_left(s, width)
  return width > #s and rep(" ", width - #s) .. s or s
end

-- The smaps lines pmap -X makes columns of: after the first mapping's header line, each line its
-- sscanf("%31[^:]: %20[0-9] kB %c") reads as exactly two items, up to the first it does not (on
-- today's kernels VmFlags): the keys of the first mapping in the kernel's order (proc.keys), up to
-- the first whose value is not a number. kb: the value has the unit kB (proc.unit), so proc.smaps
-- gives it in bytes. vmflags: that first other line is a VmFlags line with flags.
local function smaps_layout(first)
  local layout = {fields = {}, vmflags = false}
  for _, key in ipairs(first and proc.keys(first) or {}) do
    local value = first[key]
    if #key > 31 or math.type(value) ~= "integer" then
      layout.vmflags = key == "VmFlags" and find(tostring(value), "^[a-z]") ~= nil
      break
    end
    layout.fields[#layout.fields + 1] = {key = key, kb = proc.unit(first, key) == "kB"}
  end
  return layout
end

-- Everything one report needs, or nil and the message of the first read that failed. The files
-- come through one handle on the process (proc.open), so from one process even if its pid is reused.
local function gather(pid, mode)
  local handle <close>, err = proc.open(pid, "status")
  if not handle then return nil, err end
  local status
  status, err = handle:status()
  if not status then return nil, err end
  -- pmap reports the thread group of a thread's pid; a status without Tgid (not one the kernel
  -- wrote) is reported under the pid given
  local tgid = status.Tgid or pid
  local opened
  if tgid ~= handle.pid then
    opened, err = proc.open(tgid, "cmdline")
    if not opened then return nil, err end
  end
  local group <close> = opened
  local h = group or handle
  local args, comm, maps
  args, err = h:cmdline()
  if not args then return nil, err end
  comm, err = h:comm()
  if not comm then return nil, err end
  if mode == "d" then
    maps, err = h:maps()
  else
    maps, err = h:smaps()
  end
  if not maps then return nil, err end
  local p = {tgid = tgid, args = args, comm = comm, maps = maps,
             zombie = type(status.State) == "string" and sub(status.State, 1, 1) == "Z"}
  if mode == "X" then p.layout = smaps_layout(maps[1]) end
  return p
end

local function report_extended(p, opts, out)
  if not opts.quiet then
    out[#out + 1] = "Address           Kbytes     RSS   Dirty Mode  Mapping\n"
  end
  local totals = {shared = 0, writeable = 0, readonly = 0}
  local total_rss, total_dirty = 0, 0
  for _, m in ipairs(p.maps) do
    local mode, kind = mode_of(m.perms)
    if kind then totals[kind] = totals[kind] + m.size end
    local rss_kb = (m.Rss or 0) // 1024
    local dirty_kb = dirty_bytes(m) // 1024
    total_rss = total_rss + rss_kb
    total_dirty = total_dirty + dirty_kb
    -- pmap prints a mapping when it reaches the mapping's Swap line.
    if m.Swap then
      out[#out + 1] = format("%016x %7d %7d %7d %5s %s\n", m.vm_start, m.size >> 10, rss_kb, dirty_kb,
                             mode, mapping_name(m, opts.showpath, "  "))
    end
  end
  if not opts.quiet then
    out[#out + 1] = "---------------- ------- ------- ------- \n"
    out[#out + 1] = format("%-16s %7d %7d %7d\n", "total kB",
                           (totals.shared + totals.writeable + totals.readonly) >> 10, total_rss, total_dirty)
  end
  return true
end

local function report_device(p, opts, out)
  if not opts.quiet then
    out[#out + 1] = "Address           Kbytes Mode  Offset           Device    Mapping\n"
  end
  local totals = {shared = 0, writeable = 0, readonly = 0}
  for _, m in ipairs(p.maps) do
    local mode, kind = mode_of(m.perms)
    if kind then totals[kind] = totals[kind] + m.size end
    local major, minor = device_numbers(m.dev)
    out[#out + 1] = format("%016x %7d %5s %016x %03x:%05x %s\n", m.vm_start, m.size >> 10, mode, m.offset,
                           major, minor, mapping_name(m, opts.showpath, "  "))
  end
  if not opts.quiet then
    out[#out + 1] = format("mapped: %dK    writeable/private: %dK    shared: %dK\n",
                           (totals.shared + totals.writeable + totals.readonly) >> 10,
                           totals.writeable >> 10, totals.shared >> 10)
  end
  return true
end

-- The -X/-XX columns: made from the first process with a mapping, then kept for the others, as
-- pmap keeps its list. width starts at the title's length (0 with -q, where there is no title).
local function field_columns(state, layout, opts)
  if not state.fields then
    local fields = {}
    for _, f in ipairs(layout.fields) do
      if opts.all or not HIDDEN_BY_X[f.key] then
        local width = opts.quiet and 0 or #escape(f.key, "\\")
        fields[#fields + 1] = {key = f.key, kb = f.kb, width = width, total = 0}
      end
    end
    state.fields = fields
  end
  return state.fields
end

-- The mapping's values for the columns, as pmap prints them (kB or unit-less), or nil and a message.
local function field_values(p, m, fields)
  local values = {}
  for j, f in ipairs(fields) do
    local v = m[f.key]
    if mtype(v) ~= "integer" then
      return nil, format("%d/smaps: the mapping at %x has no '%s: N' line", p.tgid, m.vm_start, f.key)
    end
    values[j] = f.kb and v // 1024 or v
  end
  return values
end

local FIXED_TITLES = {"Address", "Perm", "Offset", "Device", "Inode"}

-- pmap -X and -XX (print_extended_maps). Widths are measured over all the mappings first; without
-- -q a column is as wide as its title and its total, with -q as its widest value. The totals (and
-- so the widths) add up over all the PIDs of one run, as in pmap 4.0.2.
local function report_fields(p, opts, out, state)
  if #p.maps > 0 then field_columns(state, p.layout, opts) end
  local fields = state.fields
  if not fields then return true end
  local show_flags = opts.all and p.layout.vmflags
  local widths, flags_width = {0, 0, 0, 0, 0}, 0
  local lines = {}
  for i, m in ipairs(p.maps) do
    local values, err = field_values(p, m, fields)
    if not values then return nil, err end
    local cells = {format("%08x", m.vm_start), m.perms, format("%08x", m.offset), m.dev, format("%d", m.inode)}
    for c, cell in ipairs(cells) do
      if #cell > widths[c] then widths[c] = #cell end
    end
    local flags = show_flags and (m.VmFlags and tostring(m.VmFlags) or "") or nil
    if flags and #flags > flags_width then flags_width = #flags end
    lines[i] = {cells = cells, values = values, flags = flags,
                name = escape(fields_mapping_name(m, opts.showpath, FIELDS_NAME_LIMIT), "\\")}
  end
  for _, line in ipairs(lines) do
    for j, f in ipairs(fields) do
      local value = line.values[j]
      f.total = f.total + value
      if opts.quiet and #tostring(value) > f.width then f.width = #tostring(value) end
    end
  end
  if not opts.quiet and #lines > 0 then
    for _, f in ipairs(fields) do
      local total_width = #format("%d", f.total)
      if total_width > f.width then f.width = total_width end
    end
    local titles = {}
    for c, title in ipairs(FIXED_TITLES) do
      if #title > widths[c] then widths[c] = #title end
      titles[#titles + 1] = pad_left(title, widths[c]) .. " "
    end
    for _, f in ipairs(fields) do titles[#titles + 1] = pad_left(escape(f.key, "\\"), f.width) .. " " end
    if show_flags then
      if flags_width < 7 then flags_width = 7 end
      titles[#titles + 1] = pad_left("VmFlags", flags_width) .. " "
    end
    out[#out + 1] = concat(titles) .. "Mapping\n"
  end
  for _, line in ipairs(lines) do
    local parts = {pad_left(line.cells[1], widths[1])}
    for c = 2, 5 do parts[#parts + 1] = pad_left(line.cells[c], widths[c]) end
    for j, f in ipairs(fields) do parts[#parts + 1] = pad_left(tostring(line.values[j]), f.width) end
    if line.flags then parts[#parts + 1] = pad_left(line.flags, flags_width) end
    parts[#parts + 1] = line.name
    out[#out + 1] = concat(parts, " ") .. "\n"
  end
  if not opts.quiet then
    local gap = 0
    for _, width in ipairs(widths) do gap = gap + width + 1 end
    local rules, totals = {rep(" ", gap)}, {rep(" ", gap)}
    for _, f in ipairs(fields) do
      rules[#rules + 1] = rep("=", f.width) .. " "
      totals[#totals + 1] = pad_left(format("%d", f.total), f.width) .. " "
    end
    out[#out + 1] = concat(rules) .. "\n"
    out[#out + 1] = concat(totals) .. "KB \n"
  end
  return true
end

-- ---- rows for -f json and -f csv ----

local EXTENDED_COLUMNS = {
  {"PID", "pid", kind = "number"},
  {"Address", "address", kind = "addr"},
  {"Kbytes", "size", kind = "bytes"},
  {"RSS", "rss", kind = "bytes"},
  {"Dirty", "dirty", kind = "bytes"},
  {"Mode", "mode", kind = "text"},
  {"Mapping", "mapping", kind = "text"},
}

local DEVICE_COLUMNS = {
  {"PID", "pid", kind = "number"},
  {"Address", "address", kind = "addr"},
  {"Kbytes", "size", kind = "bytes"},
  {"Mode", "mode", kind = "text"},
  {"Offset", "offset", kind = "bytes"},
  {"Device", "device", kind = "text"},
  {"Mapping", "mapping", kind = "text"},
}

local function rows_extended(p, opts, rows)
  for _, m in ipairs(p.maps) do
    if m.Swap then
      rows[#rows + 1] = {pid = p.tgid, address = m.vm_start, size = m.size, rss = m.Rss or 0,
                         dirty = dirty_bytes(m), mode = (mode_of(m.perms)),
                         mapping = mapping_name(m, opts.showpath, "")}
    end
  end
  return true
end

local function rows_device(p, opts, rows)
  for _, m in ipairs(p.maps) do
    rows[#rows + 1] = {pid = p.tgid, address = m.vm_start, size = m.size, mode = (mode_of(m.perms)),
                       offset = m.offset, device = m.dev, mapping = mapping_name(m, opts.showpath, "")}
  end
  return true
end

-- -X/-XX rows: the smaps fields in bytes (unit-less ones as printed), the name uncut.
local function rows_fields(p, opts, rows, state)
  if #p.maps == 0 then return true end
  local fields = field_columns(state, p.layout, opts)
  if opts.all and p.layout.vmflags then state.vmflags = true end
  for _, m in ipairs(p.maps) do
    local _, err = field_values(p, m, fields)
    if err then return nil, err end
  end
  for _, m in ipairs(p.maps) do
    local row = {pid = p.tgid, address = m.vm_start, perm = m.perms, offset = m.offset, device = m.dev,
                 inode = m.inode, mapping = fields_mapping_name(m, opts.showpath)}
    for _, f in ipairs(fields) do row[f.key] = m[f.key] end
    if state.vmflags then row.VmFlags = m.VmFlags end
    rows[#rows + 1] = row
  end
  return true
end

local function fields_row_columns(state)
  local columns = {
    {"PID", "pid", kind = "number"},
    {"Address", "address", kind = "addr"},
    {"Perm", "perm", kind = "text"},
    {"Offset", "offset", kind = "bytes"},
    {"Device", "device", kind = "text"},
    {"Inode", "inode", kind = "number"},
  }
  for _, f in ipairs(state.fields or {}) do
    columns[#columns + 1] = {f.key, f.key, kind = f.kb and "bytes" or "number"}
  end
  if state.vmflags then columns[#columns + 1] = {"VmFlags", "VmFlags", kind = "flags"} end
  columns[#columns + 1] = {"Mapping", "mapping", kind = "text"}
  return columns
end

local fmt = output.check_format(SPEC.name, cli.usage(SPEC), true)

-- -f folded: each mapping's resident bytes under its kind and path.
local function stacks_folded(p, with_process, stacks)
  for _, m in ipairs(p.maps) do
    local frames = {classify.kind(m), m.path ~= "" and m.path or "[anon]"}
    if with_process then table.insert(frames, 1, format("%s [%d]", p.comm, p.tgid)) end
    if m.Rss then stacks[#stacks + 1] = {frames, m.Rss} end
  end
  return true
end

if fmt == "folded" then
  local stacks, failed = {}, false
  for _, pid in ipairs(opts.pids) do
    local p, err = gather(pid, "x")
    if p then stacks_folded(p, #opts.pids > 1, stacks) else fail(tostring(err)); failed = true end
  end
  folded.print(stacks)
  io.stdout:flush()
  os.exit(failed and 3 or 0)
end

local REPORTS = {x = report_extended, d = report_device, X = report_fields}
local ROWS = {x = rows_extended, d = rows_device, X = rows_fields}

local utf8 = fmt == "table" and ctype_is_utf8()
local state, rows = {}, {}
local failed = false
for _, pid in ipairs(opts.pids) do
  local p, err = gather(pid, opts.mode)
  local done
  if p and fmt == "table" then
    local out = {format("%d:   %s\n", p.tgid, escape(command_text(p.args, p.comm, p.zombie, utf8), "\\"))}
    done, err = REPORTS[opts.mode](p, opts, out, state)
    if done then io.stdout:write(concat(out)) end
  elseif p then
    done, err = ROWS[opts.mode](p, opts, rows, state)
  end
  if not done then
    fail(tostring(err))
    failed = true
  end
end
if fmt ~= "table" then
  local columns = opts.mode == "x" and EXTENDED_COLUMNS or opts.mode == "d" and DEVICE_COLUMNS
                  or fields_row_columns(state)
  output.print(rows, columns)
end
io.stdout:flush()
os.exit(failed and 3 or 0)
