-- Timing benchmark: how close to their deadlines watch mode, --timeout and leak.lua come on this machine.
-- usage: BUILD/memscript tests/bench/timing.lua [BUILD_DIR]      (default BUILD_DIR: build)
--
-- The test suite checks what these do, never how fast (a busy machine must not fail it); this
-- measures the timing, each figure against the goal it should be near on an idle machine. Exit
-- status 0 when every figure is within its goal, 1 when one is not, 2 when something could not run.

local sys = require "memscript.sys"

local format = string.format

local build = arg[1] or "build"
local memscript = build .. "/memscript"
local helper = build .. "/tests/memhelper"

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Runs a shell command; returns its stdout, exit status and wall time in seconds.
local function timed(cmd)
  local start = sys.monotonic()
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local _, _, status = p:close()
  return out, status, sys.monotonic() - start
end

local function run_memscript(args)
  return timed("env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. q(memscript) .. " " .. args .. " 2>/dev/null")
end

local rows, missed = {}, 0
local function figure(name, measured, goal, within)
  local ok = within(measured)
  if not ok then missed = missed + 1 end
  rows[#rows + 1] = format("%-58s %10.3f   %-22s %s", name, measured, goal, ok and "ok" or "MISSED")
end

local function fail(msg)
  io.stderr:write("timing.lua: ", msg, "\n")
  os.exit(2)
end

if not io.open(memscript, "rb") then fail(memscript .. " is not built") end

-- watch mode: the gaps between run starts, with runs far shorter than the interval and with runs
-- longer than it (the next run then starts at once: runs are spaced from start to start).
local function gaps(interval, count, busy)
  local code = format('print(string.format("%%.6f", require("memscript.sys").monotonic())) ' ..
    'local t = require("memscript.sys").monotonic() while require("memscript.sys").monotonic() - t < %g do end', busy)
  local out, status = run_memscript(format("--interval %g --count %d -e %s", interval, count, q(code)))
  if status ~= 0 then fail("watch mode run failed") end
  local times, worst = {}, 0
  for t in out:gmatch("[%d.]+") do times[#times + 1] = tonumber(t) end
  local expected = math.max(interval, busy)
  for i = 2, #times do worst = math.max(worst, math.abs((times[i] - times[i - 1]) - expected)) end
  return worst
end
figure("watch --interval 0.2, short runs: worst gap error (s)", gaps(0.2, 11, 0), "< 0.02",
  function(v) return v < 0.02 end)
figure("watch --interval 0.2, 0.3 s runs: worst error from 0.3 s (s)", gaps(0.2, 6, 0.3), "< 0.02",
  function(v) return v < 0.02 end)

-- --timeout: an endless Lua loop, a sleep in C, and one call into C that never returns (ended by
-- the watchdog 1 s after the deadline).
local _, _, loop = run_memscript("--timeout 0.3 -e 'while true do end'")
figure("--timeout 0.3 on an endless loop: wall time (s)", loop, "0.3 .. 0.5", function(v) return v >= 0.3 and v < 0.5 end)
local _, _, slept = run_memscript("--timeout 0.5 -e 'require(\"memscript.sys\").sleep(100000)'")
figure("--timeout 0.5 on a sleep in C: wall time (s)", slept, "0.5 .. 0.7", function(v) return v >= 0.5 and v < 0.7 end)
local _, _, stuck = run_memscript("--timeout 0.5 -e " ..
  q('string.find(("a"):rep(40), ("a*"):rep(40) .. "b")'))
figure("--timeout 0.5 inside one call into C: wall time (s)", stuck, "1.5 .. 1.8", function(v) return v >= 1.5 and v < 1.8 end)

-- leak.lua on the growing helper: 256 KiB every 50 ms is at most 300 MiB a minute (less the time
-- each step takes); the rate leak.lua measures over 3 s.
if io.open(helper, "rb") then
  local out_path = os.tmpname()
  local pid = tonumber(io.popen(format("%s grow 256 50 400 >%s & echo $!", q(helper), q(out_path))):read("a"):match("%d+"))
  for _ = 1, 500 do
    local f = io.open(out_path, "r")
    local text = f and f:read("a") or ""
    if f then f:close() end
    if text:find("\nready\n") then break end
    sys.sleep(0.01)
  end
  local out = run_memscript(format("-f json leak.lua --interval 0.25 --count 13 %d", pid))
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
  local f = io.open(out_path, "r")
  local dir = f and f:read("a"):match("dir=([^\n]+)")
  if f then f:close() end
  if dir and dir:match("/memhelper%.[%w]+$") then os.execute("rm -rf " .. q(dir)) end
  os.remove(out_path)
  local per_minute = tonumber(out:match('"per_minute":(%d+)'))
  if not per_minute then fail("leak.lua gave no rate: " .. out) end
  figure("leak.lua on 300 MiB/min of growth: measured MiB/min", per_minute / 2^20, "250 .. 300",
    function(v) return v >= 250 and v <= 300 end)
else
  rows[#rows + 1] = "leak.lua: " .. helper .. " is not built (cmake --build " .. build .. ")"
end

print(format("memscript timing benchmark, %s, kernel %s", os.date("!%Y-%m-%d"),
  (io.open("/proc/sys/kernel/osrelease"):read("l"))))
print(format("%-58s %10s   %-22s %s", "figure", "measured", "goal", ""))
for _, row in ipairs(rows) do print(row) end
os.exit(missed == 0 and 0 or 1)
