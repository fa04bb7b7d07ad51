-- capture.lua: copy processes' /proc memory files into a directory tree (or a tar archive) to analyse later
-- usage: memscript capture.lua [--tar FILE] DIR [PID...]
--
-- Writes DIR/proc/PID/{stat,status,statm,comm,cmdline,maps,smaps,smaps_rollup} for each process,
-- DIR/proc/meminfo and DIR/proc/vmstat, each read whole in one go and written exactly as the kernel
-- printed it, then DIR/proc/memscript-capture (what the capture was taken on; written last, so a
-- tree without it is an interrupted capture). `memscript --proc-root DIR/proc SCRIPT` then runs any
-- script on the capture as if it were the running system. See docs/capture.md.
--
-- A process is captured whole or not at all: its files are read into memory first, and written only
-- when every read succeeded and /proc/PID/stat, read again afterwards, shows the same process (same
-- start time). They are written into DIR/proc/.partial/PID and renamed to DIR/proc/PID once all are
-- written, so even an interrupted capture never shows a half-written process under a pid. A process
-- that could not be read is left out, listed in the metadata by reason and counted on stderr. The one
-- file that may be missing from a whole process is smaps_rollup, which the kernel refuses (ESRCH) for
-- a process without memory of its own (a kernel thread or a zombie); those are listed in the
-- metadata's files_absent line.

local proc = proc or require "memscript"

local format, concat = string.format, table.concat
local sub, match = string.sub, string.match
local io, os, ipairs, tonumber, tostring = io, os, ipairs, tonumber, tostring
local arg = arg

local USAGE = [==[
usage: memscript capture.lua [--tar FILE] DIR [PID...]
Copies the memory files of the given processes (default: every process) into DIR/proc, laid out as
/proc is, for `memscript --proc-root DIR/proc SCRIPT` and diff.lua. DIR/proc must not exist yet.
  --tar FILE   also pack the tree into the archive FILE with tar (compressed when FILE ends in
               .gz, .xz, .bz2 or .zst, as tar -a chooses); memscript reads it with --proc-root FILE
  -h, --help   show this help
Per process: stat status statm comm cmdline maps smaps smaps_rollup; system: meminfo vmstat;
metadata: DIR/proc/memscript-capture. A process is captured whole or left out; left-out processes
are listed in the metadata and counted on stderr.
Exit status: 0; 3 when a given PID could not be captured, when no process could be captured, or on
an error writing DIR or FILE.
]==]

-- The files of one process, in the order they are read (stat first: it names the process).
local PROCESS_FILES = {"stat", "status", "statm", "comm", "cmdline", "maps", "smaps", "smaps_rollup"}
local SYSTEM_FILES = {"meminfo", "vmstat"}
local META = "memscript-capture"

-- errno values (Linux, every architecture).
local ESRCH = 3
local unreadable_reason_for = require("memscript.unreadable").reason_for

-- How many directories one mkdir command creates, well under any argument length limit.
local MKDIR_BATCH = 256

local function fail(msg)
  io.stderr:write("memscript: ", msg, "\n")
  os.exit(3)
end

local function usage_error(msg)
  io.stderr:write("memscript: ", msg, "\n", USAGE)
  os.exit(3)
end

local function q(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- True when path names something that exists (a file or a directory).
local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

local function run(cmd)
  local ok = os.execute(cmd)
  return ok == true
end

-- Creates the directories (none may exist yet), a batch per mkdir command.
local function make_dirs(paths, mode)
  for first = 1, #paths, MKDIR_BATCH do
    local words = {}
    for i = first, math.min(first + MKDIR_BATCH - 1, #paths) do words[#words + 1] = q(paths[i]) end
    if not run(format("mkdir %s-- %s", mode and ("-m " .. mode .. " ") or "", concat(words, " "))) then
      fail(format("could not create the directories under %s", paths[first]:match("^(.*)/") or "."))
    end
  end
end

local function write_file(path, data)
  local f, err = io.open(path, "wb")
  if not f then fail(err) end
  local ok, werr = f:write(data)
  if ok then ok, werr = f:close() else f:close() end
  if not ok then fail(path .. ": " .. tostring(werr)) end
end

-- The start time (proc(5) field 22, clock ticks after boot) from the raw text of /proc/PID/stat.
local function starttime(stat_text)
  local rest = match(stat_text, "^.*%) (.*)$")
  if not rest then return nil end
  local n = 2
  for word in rest:gmatch("%S+") do
    n = n + 1
    if n == 22 then return word end
  end
  return nil
end

-- Why a read of process pid failed, as the metadata and the summary count it: gone, denied or failed.
-- A file missing from a process that is still there is a failure, not a process gone; "none" (ESRCH
-- from a process still there, which lost its memory: it exited while it was read) counts as gone.
local function reason_of(pid, errno)
  local reason = unreadable_reason_for(pid, errno, proc)
  if reason == "none" then return "gone" end
  return reason == "other" and "failed" or reason
end

-- Reads every file of one process. Returns {files = {name = bytes}, absent = {names}}, or nil, the
-- reason ("gone", "denied", "failed") and the message of the read that failed.
local function read_process(pid)
  local files, absent = {}, {}
  for _, name in ipairs(PROCESS_FILES) do
    local data, err, errno = proc.read(pid .. "/" .. name)
    if data then
      files[name] = data
    elseif name == "smaps_rollup" and errno == ESRCH and files.smaps == "" then
      -- No memory of its own: the kernel has no rollup to give.
      absent[#absent + 1] = name
    else
      return nil, reason_of(pid, errno), err
    end
  end
  local again, err, errno = proc.read(pid .. "/stat")
  if not again then return nil, reason_of(pid, errno), err end
  local before = starttime(files.stat)
  if not before then return nil, "failed", proc.root() .. "/" .. pid .. "/stat: no start time in it" end
  if starttime(again) ~= before then
    return nil, "gone", format("%s/%d: the process ended and its pid was reused while it was read", proc.root(), pid)
  end
  return {files = files, absent = absent}
end

-- The version `memscript -v` prints, or nil: the interpreter is the lowest entry of arg.
local function memscript_version()
  local i = 0
  while arg and arg[i - 1] ~= nil do i = i - 1 end
  local bin = arg and arg[i]
  if not bin or i == 0 then return nil end
  local p = io.popen(q(bin) .. " -v 2>/dev/null", "r")
  if not p then return nil end
  local text = p:read("a") or ""
  p:close()
  return match(text, "^memscript (%S+)")
end

local function trimmed(text)
  return text and match(text, "^%s*(.-)%s*$") or nil
end

-- ---- arguments ----

local words = arg or {}
local tar_path, dir, wanted = nil, nil, nil
do
  local i, only_operands, seen = 1, false, {}
  while i <= #words do
    local w = words[i]
    if not only_operands and (w == "-h" or w == "--help") then
      io.stdout:write(USAGE)
      os.exit(0)
    elseif not only_operands and w == "--tar" then
      tar_path = words[i + 1]
      if not tar_path or tar_path == "" then usage_error("--tar needs a FILE") end
      i = i + 1
    elseif not only_operands and w == "--" then
      only_operands = true
    elseif not only_operands and sub(w, 1, 1) == "-" and w ~= "-" then
      usage_error(format("unknown option '%s'", w))
    elseif not dir then
      dir = w
    else
      local pid = tonumber(match(w, "^[1-9]%d*$"))
      if w == "self" then pid = (proc.stat("self") or {}).pid end
      if not pid then usage_error(format("bad process id '%s'", w)) end
      wanted = wanted or {}
      if not seen[pid] then wanted[#wanted + 1] = pid end
      seen[pid] = true
    end
    i = i + 1
  end
end
if not dir or dir == "" then usage_error("no directory given") end
dir = dir:gsub("(.)/+$", "%1")

local root = dir .. "/proc"
if exists(root) then fail(root .. ": already exists; capture into a new directory") end
if tar_path and not run("command -v tar >/dev/null 2>&1") then
  fail("--tar: the tar command is not installed")
end

local pids = wanted
if not pids then
  local err
  pids, err = proc.pids()
  if not pids then fail(err) end
end

-- The tree is private to its owner: it shows other users' memory layouts, which /proc shows only to
-- those allowed to trace them.
if not run(format("mkdir -p -- %s && mkdir -m 700 -- %s %s", q(dir), q(root), q(root .. "/.partial"))) then
  fail("could not create " .. root)
end
do
  local staging = {}
  for i, pid in ipairs(pids) do staging[i] = root .. "/.partial/" .. pid end
  make_dirs(staging)
end

-- ---- the processes ----

local captured, left_out = {}, {gone = {}, denied = {}, failed = {}}
local files_absent = {}
local explicit_failures = 0
for _, pid in ipairs(pids) do
  local staged = root .. "/.partial/" .. pid
  local p, reason, err = read_process(pid)
  if p then
    for _, name in ipairs(PROCESS_FILES) do
      if p.files[name] then write_file(staged .. "/" .. name, p.files[name]) end
    end
    local ok, rerr = os.rename(staged, root .. "/" .. pid)
    if not ok then fail(rerr) end
    captured[#captured + 1] = pid
    for _, name in ipairs(p.absent) do files_absent[#files_absent + 1] = pid .. "/" .. name end
  else
    os.remove(staged)
    local list = left_out[reason]
    list[#list + 1] = pid
    if wanted then
      io.stderr:write("memscript: ", err, "\n")
      explicit_failures = explicit_failures + 1
    end
  end
end
os.remove(root .. "/.partial")

for _, name in ipairs(SYSTEM_FILES) do
  local data, err = proc.read(name)
  if data then
    write_file(root .. "/" .. name, data)
  else
    io.stderr:write("memscript: ", err, "\n")
    files_absent[#files_absent + 1] = name
  end
end

-- ---- the metadata, last ----

local meta = proc.meta()
local unreadable = {}
for _, reason in ipairs({"gone", "denied", "failed"}) do
  for _, pid in ipairs(left_out[reason]) do unreadable[#unreadable + 1] = pid end
end
table.sort(unreadable)
local now = os.time()
local lines = {
  "kernel_release: " .. tostring(meta.kernel_release or ""),
  "page_size: " .. proc.page_size(),
  "time: " .. os.date("!%Y-%m-%dT%H:%M:%SZ", now),
  "time_epoch: " .. now,
  "hostname: " .. tostring(meta.hostname or ""),
}
local boot_id = meta.captured and meta.boot_id or trimmed(proc.read("sys/kernel/random/boot_id"))
if boot_id then lines[#lines + 1] = "boot_id: " .. boot_id end
local version = memscript_version()
if version then lines[#lines + 1] = "memscript_version: " .. version end
lines[#lines + 1] = "pids_captured: " .. concat(captured, " ")
lines[#lines + 1] = "pids_unreadable: " .. concat(unreadable, " ")
lines[#lines + 1] = "pids_gone: " .. concat(left_out.gone, " ")
lines[#lines + 1] = "pids_denied: " .. concat(left_out.denied, " ")
lines[#lines + 1] = "pids_failed: " .. concat(left_out.failed, " ")
lines[#lines + 1] = "files_absent: " .. concat(files_absent, " ")
write_file(root .. "/" .. META, concat(lines, "\n") .. "\n")

-- ---- the summary ----

local summary = format("memscript: captured %d process%s into %s", #captured, #captured == 1 and "" or "es", root)
if #unreadable > 0 then
  local parts = {}
  if #left_out.gone > 0 then parts[#parts + 1] = #left_out.gone .. " gone" end
  if #left_out.denied > 0 then parts[#parts + 1] = #left_out.denied .. " permission denied" end
  if #left_out.failed > 0 then parts[#parts + 1] = #left_out.failed .. " failed" end
  summary = summary .. format("; %d left out: %s", #unreadable, concat(parts, ", "))
end
io.stderr:write(summary, "\n")

if tar_path then
  local parent = dir
  -- A new archive is private to its owner, like the tree it holds (umask 077: mode 600).
  if not run(format("umask 077 && tar -C %s -caf %s proc", q(parent), q(tar_path))) then
    fail(format("%s: tar failed; the tree in %s is complete", tar_path, root))
  end
  -- Read the archive back: what --proc-root will see must be what was written.
  local packed, err = proc.at(tar_path)
  if not packed then fail(err) end
  local packed_pids = packed.pids() or {}
  if #packed_pids ~= #captured or not packed.read(META) then
    fail(format("%s: the archive does not hold the %d processes written to %s", tar_path, #captured, root))
  end
  io.stderr:write("memscript: packed ", root, " into ", tar_path, "\n")
end

if explicit_failures > 0 or #captured == 0 then os.exit(3) end
os.exit(0)
