-- report.lua: pmap-style memory map of a process
-- usage: memscript report.lua [-x | -d] [-p] [-q] PID...
--
-- Prints what procps-ng pmap 4.0.2 prints for `pmap -x PID` (the default here) or `pmap -d PID`,
-- byte for byte, from the proc API alone. -p shows whole paths, -q leaves out the column header and
-- the footer, as in pmap. A PID is a number (pmap's rules: 0x.. hexadecimal, 0.. octal), /proc/PID,
-- or "self". Exit status 3 (UNKNOWN) when a process cannot be read or the arguments are wrong.
--
-- Where pmap's output depends on more than the proc files, this script follows pmap as follows:
-- * Header: pmap shows libproc2's escaped command line: arguments joined by spaces, control
--   characters replaced, and "[comm]" (plus " <defunct>" for a zombie) when the command line is
--   empty. How bytes are replaced depends on whether LC_CTYPE's codeset is UTF-8.
-- * Mapping names: bytes that are not printable ASCII become '?' (pmap tests isprint(); the same
--   in the C, POSIX and UTF-8 locales; 8-bit locales such as Latin-1 would keep more bytes).
-- * "[ stack ]": pmap marks the anonymous mapping holding the start of the stack (from
--   /proc/PID/stat); the kernel names that same mapping "[stack]" by the same test, so that
--   name is used.
-- * "[ shmid=0x.. ]": pmap names a System V segment by comparing the device with its own test
--   segment's; here a mapping on a device with major 0 whose path holds "/SYSV" is taken as one.

local proc = proc or require "memscript"
local format, concat = string.format, table.concat
local byte, sub = string.byte, string.sub
local io, os, ipairs, tonumber, tostring, type = io, os, ipairs, tonumber, tostring, type
local arg = arg

local USAGE = [[
usage: memscript report.lua [-x | -d] [-p] [-q] PID...
  -x, --extended   Address Kbytes RSS Dirty Mode Mapping, as pmap -x (the default)
  -d, --device     Address Kbytes Mode Offset Device Mapping, as pmap -d
  -p, --show-path  show the whole path of each mapping
  -q, --quiet      leave out the column header and the footer
  -h, --help       show this help
]]

-- libproc2 reads at most this much of /proc/PID/cmdline (MAX_BUFSZ), keeping one byte for the NUL.
local CMDLINE_LIMIT = 128 * 1024 - 1

local function fail(msg)
  io.stderr:write("memscript: ", msg, "\n")
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

-- pmap's mapping_name: a System V segment by id, else the path's last component (or the path from
-- its first '/' with -p), else "[ stack ]" or "[ anon ]".
local function mapping_name(m, showpath)
  local path = printable(m.path)
  local major = device_numbers(m.dev)
  if major == 0 and path:find("/SYSV", 1, true) then
    return format("  [ shmid=0x%x ]", m.inode)
  end
  local last_slash = path:match(".*()/")
  if last_slash then
    if showpath then return sub(path, (path:find("/", 1, true))) end
    return last_slash < #path and sub(path, last_slash + 1) or "/"
  end
  if m.path == "[stack]" then return "  [ stack ]" end
  return "  [ anon ]"
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

-- Everything one report needs, or nil and the message of the first read that failed.
local function gather(pid, device_mode)
  local status, err = proc.status(pid)
  if not status then return nil, err end
  local tgid = status.Tgid
  local args, comm, maps
  args, err = proc.cmdline(tgid)
  if not args then return nil, err end
  comm, err = proc.comm(tgid)
  if not comm then return nil, err end
  if device_mode then
    maps, err = proc.maps(tgid)
  else
    maps, err = proc.smaps(tgid)
  end
  if not maps then return nil, err end
  return {tgid = tgid, args = args, comm = comm, maps = maps,
          zombie = type(status.State) == "string" and sub(status.State, 1, 1) == "Z"}
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
    local dirty_kb = ((m.Private_Dirty or 0) + (m.Shared_Dirty or 0)) // 1024
    total_rss = total_rss + rss_kb
    total_dirty = total_dirty + dirty_kb
    -- pmap prints a mapping when it reaches the mapping's Swap line.
    if m.Swap then
      out[#out + 1] = format("%016x %7d %7d %7d %5s %s\n", m.vm_start, m.size >> 10, rss_kb, dirty_kb,
                             mode, mapping_name(m, opts.showpath))
    end
  end
  if not opts.quiet then
    out[#out + 1] = "---------------- ------- ------- ------- \n"
    out[#out + 1] = format("%-16s %7d %7d %7d\n", "total kB",
                           (totals.shared + totals.writeable + totals.readonly) >> 10, total_rss, total_dirty)
  end
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
                           major, minor, mapping_name(m, opts.showpath))
  end
  if not opts.quiet then
    out[#out + 1] = format("mapped: %dK    writeable/private: %dK    shared: %dK\n",
                           (totals.shared + totals.writeable + totals.readonly) >> 10,
                           totals.writeable >> 10, totals.shared >> 10)
  end
end

local LONG_OPTIONS = {["--extended"] = "x", ["--device"] = "d", ["--show-path"] = "p",
                      ["--quiet"] = "q", ["--help"] = "h"}

-- Options and pids from the script's arguments, or nil and a message.
local function parse_arguments(words)
  local opts, pids, only_pids = {}, {}, false
  for _, word in ipairs(words) do
    if only_pids or sub(word, 1, 1) ~= "-" or word == "-" then
      local pid = parse_pid(word)
      if not pid then return nil, format("bad process id '%s'", word) end
      pids[#pids + 1] = pid
    elseif word == "--" then
      only_pids = true
    else
      local letters = LONG_OPTIONS[word] or (sub(word, 2, 2) ~= "-" and sub(word, 2)) or nil
      if not letters then return nil, format("unknown option '%s'", word) end
      for letter in letters:gmatch(".") do
        if letter == "x" then opts.extended = true
        elseif letter == "d" then opts.device = true
        elseif letter == "p" then opts.showpath = true
        elseif letter == "q" then opts.quiet = true
        elseif letter == "h" then opts.help = true
        else return nil, format("unknown option '-%s'", letter) end
      end
    end
  end
  if opts.extended and opts.device then return nil, "options -x and -d are mutually exclusive" end
  if not opts.help and #pids == 0 then return nil, "no process id given" end
  return opts, pids
end

local opts, pids = parse_arguments(arg or {})
if not opts then
  fail(pids)
  io.stderr:write(USAGE)
  os.exit(3)
end
if opts.help then
  io.stdout:write(USAGE)
  os.exit(0)
end

local utf8 = ctype_is_utf8()
local failed = false
for _, pid in ipairs(pids) do
  local p, err = gather(pid, opts.device)
  if p then
    local out = {format("%d:   %s\n", p.tgid, command_text(p.args, p.comm, p.zombie, utf8))}
    if opts.device then report_device(p, opts, out) else report_extended(p, opts, out) end
    io.stdout:write(concat(out))
  else
    fail(tostring(err))
    failed = true
  end
end
io.stdout:flush()
os.exit(failed and 3 or 0)
