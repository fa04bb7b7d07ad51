-- Races: whole-system scans while short-lived processes start and exit all the time. A process
-- that vanishes mid-scan is counted as gone, never shown with made-up values, and no scan fails.

local T = require "testing"
local cjson = require "cjson"

local format = string.format

-- A churn of short-lived processes for `seconds`: rounds of 16 sleeps of 1 to 16 ms.
local function start_churn(seconds)
  local script = format([[
end=$(( $(date +%%s) + %d ))
n=0
while [ "$(date +%%s)" -lt "$end" ]; do
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 0.0$i & done
  wait
  n=$((n + 16))
done
echo "$n" > "$1"
]], seconds)
  local count_file = os.tmpname()
  local pid = T.run(format("sh -c %s churn %s >/dev/null 2>&1 & echo $!", T.q(script), T.q(count_file)))
  return tonumber(pid), count_file
end

local function memscript(args)
  return T.run(T.memscript_command() .. " " .. args)
end

local churn_pid, count_file = start_churn(6)
local deadline = os.time() + 5

local scans, rows_seen, gone_seen = 0, 0, 0
T.test("top.lua during churn: every scan succeeds and every row is whole", function()
  while os.time() < deadline do
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
    local gone = tonumber(err:match("(%d+) gone")) or 0
    gone_seen = gone_seen + gone
    scans = scans + 1
  end
  T.ok(scans >= 3, "scans done: " .. scans)
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

T.test("capture.lua during churn: every captured process is whole", function()
  local dir, cleanup <close> = T.tempdir()
  local _, err, status = memscript("capture.lua " .. T.q(dir .. "/cap"))
  T.eq(status, 0, "capture status (" .. err .. ")")
  local cap = assert(proc.at(dir .. "/cap/proc"))
  local files = { "maps", "smaps", "status", "statm", "cmdline", "comm", "stat" }
  local checked = 0
  for _, pid in ipairs(cap.pids()) do
    for _, name in ipairs(files) do
      local bytes, msg = cap.read(pid .. "/" .. name)
      T.ok(bytes ~= nil, "captured process " .. pid .. " lacks " .. name .. ": " .. tostring(msg))
    end
    checked = checked + 1
  end
  T.ok(checked > 0, "processes captured")
end)

T.test("the churn really ran", function()
  T.run("while kill -0 " .. churn_pid .. " 2>/dev/null; do sleep 0.1; done")
  local started = tonumber(T.read(count_file):match("^%s*(%d+)"))
  os.remove(count_file)
  T.ok(started and started > 100, "short-lived processes started: " .. tostring(started))
  io.write(format("churn: %d short-lived processes, %d top.lua scans, %d rows, %d processes gone mid-scan\n",
    started, scans, rows_seen, gone_seen))
end)

T.done()
