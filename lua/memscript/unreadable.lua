-- unreadable.lua: why a process could not be read, the one reader of a process's files that says so,
-- and the tally a whole-system scan reports of the processes it left out ("3 processes unreadable: 2
-- gone, 1 permission denied").

local escape = require("memscript.text").escape

local format, concat, setmetatable, ipairs, require, type, tostring = string.format, table.concat, setmetatable,
  ipairs, require, type, tostring
local pack, remove = table.pack, table.remove

-- How many processes a scan opens ahead of the one it reads, their files read by other threads.
local AHEAD = 8

local M = {}

-- errno values, the same on every Linux architecture.
local EPERM, ENOENT, ESRCH, EACCES = 1, 2, 3, 13

-- "gone" (the process ended: ENOENT, ESRCH), "denied" (EACCES, EPERM) or "other".
function M.reason(errno)
  if errno == ENOENT or errno == ESRCH then return "gone" end
  if errno == EACCES or errno == EPERM then return "denied" end
  return "other"
end

-- Why the read of process pid failed with errno, as a whole-system scan counts it; p is the proc
-- module that read it (default: memscript's). The same as reason(errno), except that ENOENT and ESRCH
-- mean the process ended only when the process itself is gone: p.status(pid) fails too, with ENOENT or
-- ESRCH. From a process that is still there they are
--   "none"   ESRCH, or ENOENT with no mappings: a kernel thread or a zombie, no memory of its own (the
--            kernel refuses smaps_rollup to those; a capture holds none for them)
--   "other"  ENOENT otherwise: a file missing from a process that exists, as in a damaged capture
function M.reason_for(pid, errno, p)
  local reason = M.reason(errno)
  if reason ~= "gone" then return reason end
  p = p or require "memscript"
  local status, _, status_errno = p.status(pid)
  if not status then
    return M.reason(status_errno) == "gone" and "gone" or "other"
  end
  if errno == ESRCH then return "none" end
  local maps = p.maps(pid)
  if maps and #maps == 0 then return "none" end
  return "other"
end

-- A handle on process pid (p.open: every file read through it comes from that one process), or nil,
-- the reason by reason_for and the message, which names the file `reading` when there is no such
-- process. p: the proc table (default: memscript's).
function M.open(pid, p, reading)
  if type(pid) == "userdata" then return pid end -- a handle already open (M.scan's read-ahead)
  p = p or require "memscript"
  local handle, msg, errno = p.open(pid, reading)
  if not handle then return nil, M.reason_for(pid, errno, p), msg end
  return handle
end

-- Whether the process of handle changed while it was read (handle:changed()): nil when it did not,
-- else the reason ("changed": it ran another program, or its pid went to another process in a
-- captured tree; "gone": it ended) and the message. A read that failed while the process ran
-- another program (the kernel gives ESRCH for the memory it released) is a change, not an end.
function M.changed(handle, p)
  local changed = handle:changed()
  p = p or require "memscript"
  if changed == "exec" or changed == "reused" then
    return "changed", format("%s/%d: the process ran another program while it was read", p.root(), handle.pid)
  elseif changed == "gone" then
    return "gone", format("%s/%d: the process ended while it was read", p.root(), handle.pid)
  end
  return nil
end

-- The one way the bundled scripts read a process: the files named in `files` ("status",
-- "smaps_rollup", "smaps", "maps", "stat", "cmdline", "comm", "statm"), in that order, all through one
-- handle on the process (pid, or a handle from M.open, which is left open), with p (default:
-- memscript's proc table); fields, when given, names for some files the fields to read
-- ({smaps = {"path", "Rss"}}: p:smaps(fields)). Returns the tables by name ({status = ..., smaps_rollup = ...}), or nil,
-- the reason and the message of the first failed read: the reason by reason_for ("gone", "denied",
-- "other", or "none" for a process without memory of its own), or "changed" when the process ran
-- another program (an exec) while it was read, so that its files are never mixed from two images.
function M.read_process(pid, files, p, fields)
  p = p or require "memscript"
  local handle, reason, msg = pid, nil, nil
  local opened = type(pid) ~= "userdata"
  if opened then
    handle, reason, msg = M.open(pid, p, files[1])
    if not handle then return nil, reason, msg end
  end
  local tables = {}
  for _, name in ipairs(files) do
    local value, errno
    value, msg, errno = handle[name](handle, fields and fields[name])
    if value == nil then
      local why, changed_msg = M.changed(handle, p)
      if why ~= "changed" then why = M.reason_for(handle.pid, errno, p) else msg = changed_msg end
      if opened then handle:close() end
      return nil, why, msg
    end
    tables[name] = value
  end
  local why, changed_msg = M.changed(handle, p)
  if opened then handle:close() end
  if why then return nil, why, changed_msg end
  return tables
end

-- The pids a scan reads: those asked (each once, in increasing order), or every pid p lists.
-- Returns the list, or nil, message, errno from p.pids().
function M.pids(p, asked)
  if not asked then return p.pids() end
  local list, seen = {}, {}
  for _, pid in ipairs(asked) do
    if not seen[pid] then seen[pid] = true; list[#list + 1] = pid end
  end
  table.sort(list)
  return list
end

-- A whole-system scan: calls read(pid) for each of pids. read returns value[, extra] for a process it
-- read, or nil, reason, message as read_process does. use(pid, value, extra) is called for each process
-- read, in the order of pids; one without memory of its own ("none") is left out uncounted, and the
-- others are counted in a tally by reason. Returns the number of processes read and the tally.
-- With ahead = {p = proc table, files = {"status", "smaps"}[, fields = {smaps_sums = {...}}]}, the
-- next few processes are opened and those files of theirs read by other threads (p:read_ahead, with
-- fields: "smaps_sums" added up there too) while read works on this one:
-- read is then given the process's handle, open with its files being read, instead of the pid
-- (still the pid when the open failed, so that read fails as it would have); the scan closes it.
-- read is then called out of order where that saves waiting: on whichever process's files are read
-- first (p.read_ahead_wait); the files of the others are left to the threads reading ahead, so
-- that while a process of 60,000 mappings is read (100 ms) this thread goes on opening the next
-- ones and no CPU idles. use still sees the processes in order: what read returned waits until then.
function M.scan(pids, read, use, ahead)
  local count, tally = 0, M.tally()
  local results, next_use = {}, 1 -- results[i]: what read returned for pids[i], until used
  local function finish(i, target)
    local pid = pids[i]
    results[i] = pack(read(target))
    if target ~= pid then target:close() end
    while results[next_use] do
      local r = results[next_use]
      results[next_use] = nil
      if r[1] then
        count = count + 1
        use(pids[next_use], r[1], r[2])
      elseif r[2] ~= "none" then
        tally:add(r[2], r[3])
      end
      next_use = next_use + 1
    end
  end
  if not ahead then
    for i, pid in ipairs(pids) do finish(i, pid) end
    return count, tally
  end
  local window, opened = {}, 1 -- the processes opened and not yet read: {i = index in pids, handle}
  local function open_next()
    local i = opened + 1
    if pids[i] == nil then return end
    opened = i
    local handle = ahead.p.open(pids[i])
    if handle then handle:read_ahead(ahead.files, ahead.fields) end
    window[#window + 1] = { i = i, handle = handle or false }
  end
  if pids[1] == nil then return count, tally end
  -- the first process is read as it would be without read-ahead: nothing was ahead of it
  for _ = 1, AHEAD do open_next() end
  finish(1, pids[1])
  local handles = {}
  while #window > 0 do
    for k, e in ipairs(window) do handles[k] = e.handle end
    for k = #window + 1, #handles do handles[k] = nil end
    -- when none is read, waiting for half the window: one wake-up for four processes
    local e = remove(window, ahead.p.read_ahead_wait(handles, AHEAD // 2))
    open_next()
    finish(e.i, e.handle or pids[e.i])
  end
  return count, tally
end

local Tally = {}
Tally.__index = Tally

-- A new tally: counts by reason, and the first message of an "other" failure to show.
function M.tally()
  return setmetatable({ gone = 0, denied = 0, changed = 0, other = 0 }, Tally)
end

-- Counts one process left out, by reason ("gone", "denied", "other"), keeping msg of the first other.
function Tally:add(reason, msg)
  self[reason] = self[reason] + 1
  if reason == "other" and not self.first_other then self.first_other = msg end
end

-- Counts one process left out by the errno its read failed with.
function Tally:add_errno(errno, msg)
  self:add(M.reason(errno), msg)
end

function Tally:count()
  return self.gone + self.denied + self.changed + self.other
end

-- "3 processes unreadable: 2 gone, 1 permission denied, ...", or nil when none was left out.
function Tally:summary()
  local count = self:count()
  if count == 0 then return nil end
  local parts = {}
  if self.gone > 0 then parts[#parts + 1] = format("%d gone", self.gone) end
  if self.denied > 0 then parts[#parts + 1] = format("%d permission denied", self.denied) end
  if self.changed > 0 then parts[#parts + 1] = format("%d changed while read", self.changed) end
  if self.other > 0 then
    parts[#parts + 1] = format("%d other (%s)", self.other, escape(tostring(self.first_other)))
  end
  return format("%d process%s unreadable: %s", count, count == 1 and "" or "es", concat(parts, ", "))
end

return M
