-- run.lua: the life of one memscript run as the library sees it: the exit status that alerts
-- raise, and what modules do at the end of each watch iteration and at the end of the run.
-- The host calls iteration_end() after each run of the script and finish() once at the end
-- (through memscript.runtime), only when this module was loaded; modules register with
-- on_iteration_end / on_finish.

local ipairs = ipairs

local M = {}

-- The Monitoring Plugins exit statuses.
M.OK, M.WARNING, M.CRITICAL, M.UNKNOWN = 0, 1, 2, 3

-- The highest status raised so far.
M.status = M.OK

local iteration_hooks, finish_hooks = {}, {}

-- Raises the run's exit status to at least status.
function M.raise(status)
  if status > M.status then M.status = status end
end

-- fn() runs after every run of the script (each watch iteration, or once).
function M.on_iteration_end(fn)
  iteration_hooks[#iteration_hooks + 1] = fn
end

-- fn() runs once, after the last iteration.
function M.on_finish(fn)
  finish_hooks[#finish_hooks + 1] = fn
end

function M.iteration_end()
  for _, fn in ipairs(iteration_hooks) do fn() end
end

-- Runs the finish hooks; returns the exit status.
function M.finish()
  for _, fn in ipairs(finish_hooks) do fn() end
  return M.status
end

return M
