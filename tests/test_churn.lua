-- Races: whole-system scans while short-lived processes start and exit all the time. A process
-- that vanishes mid-scan is counted as gone, never shown with made-up values, and no scan fails.
--
-- The race must really happen for these tests to mean anything: each scan is repeated (a bounded
-- number of times) until at least one process vanished in the middle of one, and the test fails
-- when none did.

local T = require "testing"
local cjson = require "cjson"

local format = string.format

-- Scans repeated at most this many times while waiting for a process to vanish mid-scan; the
-- churn makes that happen in most scans, so the bound is only reached when it is not running.
local MAX_TOP_SCANS = 60
local MIN_TOP_SCANS = 3
local MAX_CAPTURES = 15

-- A churn of short-lived processes until `dir`/stop exists: rounds of 16 sleeps of 1 to 16 ms.
-- When it stops it writes the number of processes it started to `dir`/count.
local function start_churn(dir)
  local script = [[
n=0
while [ ! -e "$1/stop" ]; do
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 0.0$i & done
  wait
  n=$((n + 16))
done
echo "$n" > "$1/count"
]]
  local pid = T.run(format("sh -c %s churn %s >/dev/null 2>&1 & echo $!", T.q(script), T.q(dir)))
  return tonumber(pid)
end

-- Stops the churn and returns how many processes it started (nil if it wrote no count).
local function stop_churn(dir)
  T.write(dir .. "/stop", "")
  -- a round lasts 16 ms plus the time to start 16 processes; wait for the count it writes last
  for _ = 1, 600 do
    local count = T.read_if(dir .. "/count")
    if count and count:find("\n") then return tonumber(count:match("%d+")) end
    T.run("sleep 0.05")
  end
  return nil
end

local work, work_cleanup <close> = T.tempdir()
local churn_dir = work .. "/churn"
T.sh("mkdir " .. T.q(churn_dir))
local churn_pid = start_churn(churn_dir)
local started
-- Stops the churn if a test ended early; closing the state (T.done's os.exit) runs this too.
local churn_cleanup <close> = setmetatable({}, {__close = function()
  if not started then started = stop_churn(churn_dir) end
  if churn_pid then T.run("kill " .. churn_pid .. " 2>/dev/null") end
end})

local function memscript(args)
  return T.memscript(nil, args)
end

-- The number a summary line on stderr gives for processes gone ("3 processes unreadable: 2 gone, ..."
-- or "captured 80 processes into DIR; 2 left out: 2 gone"), 0 when it names none.
local function gone_in(err)
  return tonumber(err:match("(%d+) gone")) or 0
end

local scans, rows_seen, gone_seen = 0, 0, 0
T.test("top.lua during churn: every scan succeeds, every row is whole, and processes vanish mid-scan", function()
  while scans < MAX_TOP_SCANS and (scans < MIN_TOP_SCANS or gone_seen == 0) do
    local out, err, status = memscript("-f json top.lua")
    T.ok(status == 0, format("top.lua exit status %s: %s", tostring(status), err))
    T.ok(not err:find("traceback", 1, true), "no script error: " .. err)
    local rows = cjson.decode(out)
    for _, r in ipairs(rows) do
      -- a row has every figure read from one smaps_rollup: none missing, none negative
      for _, key in ipairs({ "pss", "rss", "uss" }) do
        T.ok(type(r[key]) == "number" and r[key] >= 0, format("pid %s has %s %s", tostring(r.pid), key, tostring(r[key])))
      end
    end
    rows_seen = rows_seen + #rows
    gone_seen = gone_seen + gone_in(err)
    scans = scans + 1
  end
  T.ok(gone_seen > 0, format("no process vanished during %d scans: the race was not provoked", scans))
end)

T.test("wx.lua all and rules.lua all during churn: checks, never script errors", function()
  for _ = 1, 3 do
    for _, script in ipairs({ "wx.lua all", "rules.lua all" }) do
      local _, err, status = memscript(script)
      T.ok(status ~= nil and status <= 2, format("%s exit status %s: %s", script, tostring(status), err))
      T.ok(not err:find("traceback", 1, true), script .. ": no script error: " .. err)
    end
  end
end)

-- "key: value" lines of a capture's metadata file.
local function metadata(path)
  local values = {}
  for line in T.read(path):gmatch("[^\n]+") do
    local key, value = line:match("^([%w_]+): ?(.*)$")
    if key then values[key] = value end
  end
  return values
end

local captures, captured_gone = 0, 0
T.test("capture.lua during churn: every captured process is whole; the gone are listed and counted", function()
  local files = { "maps", "smaps", "status", "statm", "cmdline", "comm", "stat" }
  while captures < MAX_CAPTURES and captured_gone == 0 do
    captures = captures + 1
    local dir = format("%s/cap%d", work, captures)
    local _, err, status = memscript("capture.lua " .. T.q(dir))
    T.eq(status, 0, "capture status (" .. err .. ")")
    local cap = assert(proc.at(dir .. "/proc"))
    local checked = 0
    for _, pid in ipairs(cap.pids()) do
      for _, name in ipairs(files) do
        local bytes, msg = cap.read(pid .. "/" .. name)
        T.ok(bytes ~= nil, "captured process " .. pid .. " lacks " .. name .. ": " .. tostring(msg))
      end
      checked = checked + 1
    end
    T.ok(checked > 0, "processes captured")
    local gone = {}
    for pid in metadata(dir .. "/proc/memscript-capture").pids_gone:gmatch("%d+") do
      gone[#gone + 1] = pid
      T.eq(cap.read(pid .. "/status"), nil, "a process listed gone has no directory in the capture: " .. pid)
    end
    T.eq(#gone, gone_in(err), "processes gone in the metadata and on stderr (" .. err .. ")")
    captured_gone = captured_gone + #gone
    T.run("rm -rf " .. T.q(dir))
  end
  T.ok(captured_gone > 0, format("no process vanished during %d captures: the race was not provoked", captures))
end)

T.test("the churn ran, and stopped when told", function()
  started = stop_churn(churn_dir)
  T.ok(started and started >= 16, "short-lived processes started: " .. tostring(started))
  io.write(format("churn: %d short-lived processes, %d top.lua scans, %d rows, %d processes gone mid-scan; " ..
    "%d captures, %d processes gone mid-capture\n", started, scans, rows_seen, gone_seen, captures, captured_gone))
end)

T.done()
