-- capture.lua: copy processes' /proc memory files into a directory tree (or an archive) to analyse later
--
-- A process is captured whole or not at all: it is opened once (proc.open: every file comes through
-- one /proc/PID directory descriptor, so from that process even if its pid is reused meanwhile), its
-- files are read into memory, and they are written only when every read succeeded and the process
-- still runs the program it ran when opened (no exec in between: a capture never mixes two program
-- images). The writing itself, its modes and what it refuses are memscript.capture's (src/source/
-- capture.c). See docs/capture.md.
--
-- Then the memory cgroups of the processes captured: for each, the files proc.cgroup reads of its
-- memory cgroup and of every cgroup above it up to the root, under DIR/sys/fs/cgroup, so that
-- `memscript --root DIR cgroup.lua` shows them offline. A cgroup is read after its processes, so
-- its figures are a moment later than theirs.

local proc = proc or require "memscript"
local cli = require "memscript.cli"

local SPEC = {
  name = "capture.lua",
  summary = "copy processes' /proc memory files into a directory tree (or an archive) to analyse later",
  intro = [[
Copies the memory files of the given processes (default: every process) into DIR/proc, laid out as
/proc is, for `memscript --proc-root DIR SCRIPT` and diff.lua. DIR is made (mode 700) or must be a
directory of yours that no one else may write to; DIR/proc must not exist yet.
]],
  options = {
    { "--tar", value = "FILE", type = "file",
      help = "also pack the tree into the archive FILE (compressed when FILE ends in .gz, .xz, .bz2, "
        .. ".zst; .zip and .7z too); memscript reads it with --proc-root FILE" },
  },
  operands = {
    { "DIR", type = "directory" },
    { "PID", type = "pids", optional = true },
  },
  epilog = [[
Per process: stat status statm comm cmdline maps smaps smaps_rollup cgroup; system: meminfo vmstat;
per memory cgroup of a process captured, and each cgroup above it: the memory files proc.cgroup
reads, under DIR/sys/fs/cgroup (none when the machine has no memory cgroup hierarchy);
metadata: DIR/proc/memscript-capture. A process is captured whole or left out; left-out processes
(gone, permission denied, changed while read: it ran another program, failed) are listed in the
metadata and counted on stderr. The tree and the archive are private to their owner (0700, 0600).
Exit status: 0; 3 when a given PID could not be captured, when no process could be captured, or on
an error writing DIR or FILE.
]],
}

local opts = cli.parse(SPEC, arg)

local capture = require "memscript.capture"
local sys = require "memscript.sys"
local unreadable_reason_for = require("memscript.unreadable").reason_for
local unreadable_changed = require("memscript.unreadable").changed

local format, concat, match = string.format, table.concat, string.match
local io, os, ipairs, tostring = io, os, ipairs, tostring

-- errno values (Linux, every architecture).
local ESRCH = 3

local function fail(msg)
  io.stderr:write("memscript: ", msg, "\n")
  os.exit(3)
end

-- Why a read of process pid failed, as the metadata and the summary count it: gone, denied or
-- failed. A file missing from a process that is still there is a failure, not a process gone;
-- "none" (ESRCH from a process still there, which lost its memory: it exited while it was read)
-- counts as gone.
local function reason_of(pid, errno)
  local reason = unreadable_reason_for(pid, errno, proc)
  if reason == "none" then return "gone" end
  return reason == "other" and "failed" or reason
end

-- Reads every file of one process through one handle. Returns {bytes = {name = bytes}, absent =
-- {names}}, or nil, the reason ("gone", "denied", "changed", "failed") and a message.
local function read_files(pid)
  local handle <close>, err, errno = proc.open(pid, capture.PROCESS_FILES[1])
  if not handle then return nil, reason_of(pid, errno), err end
  local bytes, absent = {}, {}
  for _, name in ipairs(capture.PROCESS_FILES) do
    local data
    data, err, errno = handle:read(name)
    if data then
      bytes[name] = data
    elseif name == "smaps_rollup" and errno == ESRCH and bytes.smaps == "" then
      -- No memory of its own: the kernel has no rollup to give.
      absent[#absent + 1] = name
    else
      local why, changed_msg = unreadable_changed(handle, proc)
      if why == "changed" then return nil, why, changed_msg end
      return nil, reason_of(pid, errno), err
    end
  end
  local why, changed_msg = unreadable_changed(handle, proc)
  if why then return nil, why, changed_msg end
  return {bytes = bytes, absent = absent}
end

local function trimmed(text)
  return text and match(text, "^%s*(.-)%s*$") or nil
end

-- ---- the processes ----

local dir = opts.dir:gsub("(.)/+$", "%1")
local root = dir .. "/proc"

local pids = {}
if opts.pids and #opts.pids > 0 then
  local seen = {}
  for _, pid in ipairs(opts.pids) do
    if pid == "self" then pid = proc.stat("self").pid end
    if not seen[pid] then pids[#pids + 1] = pid end
    seen[pid] = true
  end
else
  local err
  pids, err = proc.pids()
  if not pids then fail(err) end
end
local explicit = opts.pids and #opts.pids > 0

local writer <close>, werr = capture.create(dir)
if not writer then fail(werr) end

local REASONS = {"gone", "denied", "changed", "failed"}
local captured, left_out = {}, {gone = {}, denied = {}, changed = {}, failed = {}}
local files_absent = {}
local explicit_failures = 0
for _, pid in ipairs(pids) do
  local p, reason, err = read_files(pid)
  if p then
    local ok, wrote = writer:process(pid, capture.PROCESS_FILES, p.bytes)
    if not ok then fail(wrote) end
    captured[#captured + 1] = pid
    for _, name in ipairs(p.absent) do files_absent[#files_absent + 1] = pid .. "/" .. name end
  else
    local list = left_out[reason]
    list[#list + 1] = pid
    if explicit then
      io.stderr:write("memscript: ", err, "\n")
      explicit_failures = explicit_failures + 1
    end
  end
end

do
  local ok, err = writer:finish()
  if not ok then fail(err) end
end

for _, name in ipairs(capture.SYSTEM_FILES) do
  local data, err = proc.read(name)
  if data then
    local ok, werr2 = writer:file(name, data)
    if not ok then fail(werr2) end
  else
    io.stderr:write("memscript: ", err, "\n")
    files_absent[#files_absent + 1] = name
  end
end

-- ---- the memory cgroups of the processes captured ----

-- The paths of the cgroups to capture: each captured process's memory cgroup (as the capture holds
-- its /proc/PID/cgroup) and every one above it, in tree order. A path from another cgroup namespace
-- ("/../x") is outside the hierarchy this machine shows and is not captured.
local function cgroups_of_captured()
  local view = require "memscript.cgroupview"
  local captured_tree = proc.at(dir, "machine")
  local set = {}
  if not captured_tree then return {} end
  for _, pid in ipairs(captured) do
    local of = captured_tree.cgroup.of(pid)
    if of and not of.path:find("/%.%./") and not of.path:find("/%.%.$") then
      for _, path in ipairs(view.chain(of.path)) do set[path] = true end
    end
  end
  return view.sorted_paths(set)
end

local cgroups_captured, cgroups_removed = 0, 0
do
  local hierarchy = proc.cgroup.hierarchy()
  local paths = hierarchy and cgroups_of_captured() or {}
  for _, path in ipairs(paths) do
    local rel = hierarchy.relpath .. (path == "/" and "" or path)
    local wrote = 0
    for _, name in ipairs(hierarchy.files) do
      -- the files of this kernel and of this cgroup (the v2 root has no memory.current)
      local bytes = proc.read(rel .. "/" .. name, "sys")
      if bytes then
        local ok, err = writer:sys_file(rel .. "/" .. name, bytes)
        if not ok then fail(err) end
        wrote = wrote + 1
      end
    end
    if wrote > 0 then cgroups_captured = cgroups_captured + 1 else cgroups_removed = cgroups_removed + 1 end
  end
end

-- ---- the metadata, last ----

local meta = proc.meta()
local unreadable = {}
for _, reason in ipairs(REASONS) do
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
lines[#lines + 1] = "memscript_version: " .. sys.version
lines[#lines + 1] = "pids_captured: " .. concat(captured, " ")
lines[#lines + 1] = "pids_unreadable: " .. concat(unreadable, " ")
for _, reason in ipairs(REASONS) do
  lines[#lines + 1] = format("pids_%s: %s", reason, concat(left_out[reason], " "))
end
lines[#lines + 1] = "files_absent: " .. concat(files_absent, " ")
lines[#lines + 1] = "cgroups_captured: " .. cgroups_captured
do
  local ok, err = writer:file(capture.META, concat(lines, "\n") .. "\n")
  if not ok then fail(err) end
end

-- ---- the summary ----

local summary = format("memscript: captured %d process%s into %s", #captured, #captured == 1 and "" or "es", root)
if #unreadable > 0 then
  local parts = {}
  local words = {gone = "gone", denied = "permission denied", changed = "changed while read", failed = "failed"}
  for _, reason in ipairs(REASONS) do
    if #left_out[reason] > 0 then parts[#parts + 1] = #left_out[reason] .. " " .. words[reason] end
  end
  summary = summary .. format("; %d left out: %s", #unreadable, concat(parts, ", "))
end
if cgroups_captured > 0 then
  summary = summary .. format(", and %d memory cgroup%s", cgroups_captured, cgroups_captured == 1 and "" or "s")
end
io.stderr:write(summary, "\n")

if opts.tar then
  local ok, err = writer:pack(opts.tar)
  if not ok then fail(format("%s; the tree in %s is complete", err, root)) end
  -- Read the archive back: what --proc-root will see must be what was written.
  local packed, err = proc.at(opts.tar)
  if not packed then fail(err) end
  local packed_pids = packed.pids() or {}
  if #packed_pids ~= #captured or not packed.read(capture.META) then
    fail(format("%s: the archive does not hold the %d processes written to %s", opts.tar, #captured, root))
  end
  io.stderr:write("memscript: packed ", root, " into ", opts.tar, "\n")
end

if explicit_failures > 0 or #captured == 0 then os.exit(3) end
os.exit(0)
