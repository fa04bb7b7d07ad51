-- Cgroups the live tests make for a helper process: under the tests' own memory cgroup, in the cgroup
-- v1 memory hierarchy this machine kind mounts at /sys/fs/cgroup/memory.
--
--   local cg = require "livecgroup"
--   local why = cg.unavailable()                    -- {reason, where} for T.skip, or nil
--   local path = cg.child("live")                   -- "/OWN/memscript-test-live-PID"
--   T.sh("mkdir " .. T.q(cg.V1 .. path))
--   local h = live.start(args, 60, cg.into(path))   -- the helper starts inside it
--   ...; live.stop(h); cg.remove(path)
local T = require "testing"

local M = {}

M.V1 = "/sys/fs/cgroup/memory"

-- Why a cgroup cannot be made here, as T.skip's arguments; nil when it can.
function M.unavailable()
  local h = proc.cgroup.hierarchy()
  if not h or h.version ~= 1 or h.path ~= M.V1 then
    return { "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory on this host", "anywhere" }
  end
  if T.run("id -u") ~= "0\n" then return { "needs root to make a cgroup" } end
  return nil
end

-- The path (as proc.cgroup names it) of a cgroup named for name and this test's pid, below the
-- memory cgroup the test runs in.
function M.child(name)
  local own = assert(proc.cgroup.of("self")).path
  return (own == "/" and "" or own) .. "/memscript-test-" .. name .. "-" .. proc.stat("self").pid
end

-- The shell prefix that moves the shell into the cgroup at path and execs the command after it.
function M.into(path)
  return string.format("sh -c %s sh", T.q("echo $$ >" .. T.q(M.V1 .. path .. "/cgroup.procs") .. ' && exec "$@"'))
end

-- Removes the cgroup at path once its processes are gone (they leave it when they are reaped);
-- nothing when it is not there.
function M.remove(path)
  local dir = M.V1 .. path
  for _ = 1, 100 do
    if not T.read_if(dir .. "/cgroup.procs") then return end
    if os.remove(dir) or not T.read_if(dir .. "/cgroup.procs") then return end
    os.execute("sleep 0.05")
  end
end

return M
