-- A script for watch mode on a copy of the captured helper: each run, 1 MiB more anonymous memory, 10 s later.
--
-- Run as `memscript --proc-root COPY/proc --interval 0.01 --count N --svg FILE watch-memory.lua` with
-- MEMSCRIPT_GROWING_STATUS naming COPY/proc/1848/status: the first run samples the status as captured,
-- each later one after adding 1 MiB to its RssAnon and VmRSS, on a clock (sys.monotonic) that moves
-- 10 s a run, and samples it with memscript.watch's memory(1848) for the chart.
local sys = require "memscript.sys"
local watch = require "memscript.watch"

local path = assert(os.getenv("MEMSCRIPT_GROWING_STATUS"), "MEMSCRIPT_GROWING_STATUS names the status to grow")
if original_status == nil then   -- globals persist between the runs of watch mode
  local f = assert(io.open(path, "rb"))
  original_status = f:read("a")
  f:close()
  runs = 0
  sys.monotonic = function() return 1000.0 + 10 * runs end
end
runs = runs + 1
local grown = (runs - 1) * 1024
local status = original_status:gsub("\n(%a+):(%s+)(%d+) kB", function(key, blank, kb)
  if key ~= "RssAnon" and key ~= "VmRSS" then return nil end
  return "\n" .. key .. ":" .. blank .. tostring(tonumber(kb) + grown) .. " kB"
end)
local f = assert(io.open(path, "wb"))
f:write(status)
f:close()
assert(watch.memory(1848))
