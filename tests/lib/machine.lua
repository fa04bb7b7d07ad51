-- A small captured machine for the tests of the views and pictures: three processes from the suite's captures.
--
--   local machine = require "machine"
--   local root, cleanup <close> = machine.build()    -- root: a proc tree for --proc-root
--   machine.build({ cgroups = true })                 -- with each process's /proc/PID/cgroup (M.CGROUPS)
--
-- 1848: the captured helper (tests/fixtures/helper-capture), uid 0, command "./memhelper".
-- 4804: the captured `sleep 100000` (tests/fixtures/live-capture), uid 0.
-- 4805: 4804 again as uid 3999999 (in no passwd file), with the command line "sleep;a b" (a frame
--       separator in it), and 100 kB of swap in its [stack] (SwapPss 60 kB), in its smaps and in
--       its smaps_rollup alike.
-- meminfo is the live capture's. With cgroups, each process's /proc/PID/cgroup file is M.CGROUP_FILES's:
-- the memory cgroups of M.CGROUPS, one as a v2 line, one as a v1 memory line beside other lines.

local T = require "testing"

local format = string.format

local M = {}

-- The swap given to 4805's [stack], in bytes.
M.SWAP, M.SWAP_PSS = 100 * 1024, 60 * 1024

-- The memory cgroup of each process: 4805's name holds a frame separator.
M.CGROUPS = { [1848] = "/system.slice/memhelper.service", [4804] = "/", [4805] = "/user.slice/sleep;a.scope" }
M.CGROUP_FILES = {
  [1848] = "0::/system.slice/memhelper.service\n",
  [4804] = "0::/\n",
  [4805] = "5:cpu,cpuacct:/\n4:memory:/user.slice/sleep;a.scope\n1:name=systemd:/user.slice\n0::/user.slice\n",
}

function M.build(options)
  local dir, cleanup = T.tempdir()
  local root = dir .. "/proc"
  local helper, sleep = T.fixtures .. "/helper-capture/proc/1848", T.fixtures .. "/live-capture/proc/4804"
  T.sh(format("mkdir -p %s && cp -r %s %s/1848 && cp -r %s %s/4804 && cp -r %s %s/4805 && cp %s %s/",
    T.q(root), T.q(helper), T.q(root), T.q(sleep), T.q(root), T.q(sleep), T.q(root),
    T.q(T.fixtures .. "/live-capture/proc/meminfo"), T.q(root)))
  T.sh(format("chmod -R u+w %s", T.q(dir)))
  T.write(root .. "/4805/status",
    (T.read(root .. "/4804/status"):gsub("\nUid:[^\n]*", "\nUid:\t3999999\t3999999\t3999999\t3999999")))
  T.write(root .. "/4805/cmdline", "sleep;a b\0")
  local function with_swap(text)
    return (text:gsub("\nSwap: +0 kB", "\nSwap:                100 kB"):gsub("\nSwapPss: +0 kB", "\nSwapPss:              60 kB"))
  end
  T.write(root .. "/4805/smaps_rollup", with_swap(T.read(root .. "/4805/smaps_rollup")))
  local before, stack, after = T.read(root .. "/4805/smaps"):match("^(.-%[stack%]\n)(.-)(VmFlags:.*)$")
  T.write(root .. "/4805/smaps", before .. with_swap(stack) .. after)
  for pid, text in pairs(M.CGROUP_FILES) do
    os.remove(format("%s/%d/cgroup", root, pid)) -- without cgroups, no process has the file
    if options and options.cgroups then T.write(format("%s/%d/cgroup", root, pid), text) end
  end
  return root, cleanup
end

return M
