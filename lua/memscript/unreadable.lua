-- unreadable.lua: why a process could not be read, and the tally a whole-system scan reports of
-- the processes it left out ("3 processes unreadable: 2 gone, 1 permission denied").

local escape = require("memscript.text").escape

local format, concat, setmetatable, tostring = string.format, table.concat, setmetatable, tostring

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

local Tally = {}
Tally.__index = Tally

-- A new tally: counts by reason, and the first message of an "other" failure to show.
function M.tally()
  return setmetatable({ gone = 0, denied = 0, other = 0 }, Tally)
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
  return self.gone + self.denied + self.other
end

-- "3 processes unreadable: 2 gone, 1 permission denied, ...", or nil when none was left out.
function Tally:summary()
  local count = self:count()
  if count == 0 then return nil end
  local parts = {}
  if self.gone > 0 then parts[#parts + 1] = format("%d gone", self.gone) end
  if self.denied > 0 then parts[#parts + 1] = format("%d permission denied", self.denied) end
  if self.other > 0 then
    parts[#parts + 1] = format("%d other (%s)", self.other, escape(tostring(self.first_other)))
  end
  return format("%d process%s unreadable: %s", count, count == 1 and "" or "es", concat(parts, ", "))
end

return M
