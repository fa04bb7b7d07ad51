-- leak.lua and memscript.watch: growth of anonymous memory caught in a growing helper, quiet on a still one.

local T = require "testing"
local live = require "livehelper"
local watch = require "memscript.watch"
local cjson = require "cjson"

local function memscript(args)
  return T.run(T.memscript_command() .. " " .. args)
end

local function first_line(text)
  return text:match("^[^\n]*")
end

-- memhelper in grow mode (a new written anonymous region of step_kb every interval_ms) runs instead
-- of stopping, so livehelper.start, which waits for the stop, cannot start it: wait for "ready".
local function start_growing(step_kb, interval_ms, steps)
  local out_path = os.tmpname()
  local pid = tonumber((T.run(string.format("%s grow %d %d %d >%s & echo $!", T.q(T.helper), step_kb, interval_ms,
    steps, T.q(out_path))):match("%d+")))
  local g = { pid = pid, out_path = out_path }
  local deadline = os.time() + 10
  while true do
    local text = T.read_if(out_path) or ""
    g.dir = text:match("dir=(%S+)")
    if text:find("\nready\n") then break end
    if os.time() > deadline then
      T.run("kill -KILL " .. pid)
      error("memhelper grow did not get ready")
    end
    T.run("sleep 0.02")
  end
  return g
end

local function stop_growing(g)
  T.run("kill -KILL " .. g.pid .. " 2>/dev/null")
  if g.dir and g.dir:match("/memhelper%.[%w]+$") then
    for _, name in ipairs({ "data", "with space.bin", "odd-\xc3\xa9-\xff.bin" }) do os.remove(g.dir .. "/" .. name) end
    os.remove(g.dir)
  end
  os.remove(g.out_path)
end

-- ---- memscript.watch ----

T.test("watch.delta: nil the first time, then the change since the previous sample of the key", function()
  T.eq(watch.delta("t1", 100), nil, "first")
  T.eq(watch.delta("t1", 130), 30, "second")
  T.eq(watch.delta("t1", 120), -10, "third")
  T.eq(watch.previous("t1"), 120, "previous")
  T.eq(watch.delta("t2", 5), nil, "another key")
end)

T.test("watch.process_key is pid:starttime from /proc/PID/stat", function()
  local stat = assert(proc.stat("self"))
  T.eq(watch.process_key("self"), stat.pid .. ":" .. stat.starttime, "key")
  local key, msg, errno = watch.process_key(999999999)
  T.eq({ key, errno }, { nil, 2 }, "a gone process")
  T.contains(msg, "999999999", "message")
end)

T.test("watch.slope: the least-squares line through a series, per second, with r2", function()
  local exact = { times = { 0, 1, 2, 3 }, values = { 1, 3, 5, 7 } }
  local slope, r2 = watch.slope(exact)
  T.eq({ slope, r2 }, { 2.0, 1.0 }, "a straight line")
  slope, r2 = watch.slope({ times = { 0, 1, 2, 3 }, values = { 5, 5, 5, 5 } })
  T.eq({ slope, r2 }, { 0.0, 0 }, "flat")
  slope, r2 = watch.slope({ times = { 0, 1, 2, 3 }, values = { 0, 10, 0, 10 } })
  T.eq(slope, 2.0, "slope of a zigzag")
  T.ok(math.abs(r2 - 0.2) < 1e-12, "r2 of a zigzag: " .. r2)
  T.eq(watch.slope({ times = { 0 }, values = { 1 } }), nil, "one sample")
  T.eq(watch.slope({ times = { 1, 1 }, values = { 1, 2 } }), nil, "no time between samples")
end)

T.test("watch.series keeps at most limit samples, oldest dropped", function()
  local s
  for i = 1, 5 do s = watch.series("s", i * 10, i, 3) end
  T.eq(s, { times = { 3, 4, 5 }, values = { 30, 40, 50 }, iteration = 1 }, "series")
end)

T.test("watch.process and watch.mappings on a still process: zero deltas, the same ids", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local first = assert(watch.process(h.pid))
    T.eq(first.delta, nil, "no delta the first time")
    T.eq(first.rss, proc.smaps_rollup(h.pid).Rss, "rss")
    local second = assert(watch.process(h.pid))
    T.eq(second.delta, { rss = 0, anonymous = 0, swap = 0 }, "deltas")
    local a = assert(watch.mappings(h.pid))
    local b = assert(watch.mappings(h.pid))
    T.eq(#a, #b, "mappings")
    for i = 1, #a do
      T.eq(a[i].delta, nil, "first sample of mapping " .. i)
      T.eq(b[i].id, a[i].id, "id of mapping " .. i)
      T.eq(b[i].delta, { rss = 0, anonymous = 0, swap = 0 }, "delta of mapping " .. i)
    end
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("watch.mappings follows a mapping that grows, however the kernel merges the new regions", function()
  local g = start_growing(64, 100, 300)
  local ok, problem = pcall(function()
    local before = assert(watch.mappings(g.pid))
    T.run("sleep 0.35")
    local after = assert(watch.mappings(g.pid))
    local by_id = {}
    for _, e in ipairs(before) do by_id[e.id] = e end
    local grown = 0
    for _, e in ipairs(after) do
      local old = by_id[e.id]
      if old and e.delta and e.delta.anonymous > 0 then
        grown = grown + e.delta.anonymous
        T.eq(e.delta.anonymous, e.anonymous - old.anonymous, "delta is the difference")
      end
    end
    local new = 0
    for _, e in ipairs(after) do
      if not e.delta then new = new + (e.anonymous or 0) end
    end
    T.ok(grown + new >= 2 * 64 * 1024, string.format("growth seen: %d in known mappings, %d in new ones", grown, new))
  end)
  stop_growing(g)
  if not ok then error(problem, 0) end
end)

-- ---- leak.lua ----

T.test("leak.lua --threshold catches a process whose anonymous memory grows steadily", function()
  -- 256 KiB every 50 ms: about 300 MiB per minute
  local g = start_growing(256, 50, 400)
  local ok, problem = pcall(function()
    local out, err, status = memscript("leak.lua --interval 0.2 --count 6 --threshold 10M,10G " .. g.pid)
    T.eq(status, 1, "status (stderr " .. err .. ")")
    local rate = first_line(out):match("^MEMSCRIPT WARNING %- 1 anonymous memory of pid " .. g.pid ..
      " %(memhelper%) growing (%S+) per minute | ")
    T.ok(rate, "status line: " .. first_line(out))
    local per_minute = tonumber(out:match("per_minute=(%d+)"))
    -- at most 300 MiB a minute; less when the machine is busy, but well above the threshold
    T.ok(per_minute and per_minute > 20 * 2^20 and per_minute <= 310 * 2^20,
      "per minute up to 300M: " .. tostring(per_minute))
    T.contains(first_line(out), "'growth_per_minute'=" .. per_minute .. ";10485760;10737418240", "perfdata")
    T.contains(out, "samples=6", "samples")
  end)
  stop_growing(g)
  if not ok then error(problem, 0) end
end)

T.test("leak.lua's summary names the growing class and mapping", function()
  local g = start_growing(256, 50, 400)
  local ok, problem = pcall(function()
    local out, err, status = memscript("leak.lua --interval 0.2 --count 5 " .. g.pid)
    T.eq(status, 0, "status (stderr " .. err .. ")")
    T.ok(out:find("^pid " .. g.pid .. " %(memhelper%): 5 samples over [%d.]+ s, every 0%.2 s\n"), "header: " .. out)
    T.ok(out:find("\ntotal +%d+ +%d+ +%d+ +%d+ +[01]%.%d%d +yes\n"), "total grows steadily: " .. out)
    T.ok(out:find("\nanonymous +%d+ +%d+ +%d+ +%d+ +[01]%.%d%d +yes\n"), "the anonymous class grows: " .. out)
    T.ok(out:find("\n%[heap%] +%d+ +%d+ +0 +0 +0%.00 +no\n"), "the heap does not: " .. out)
    T.ok(out:find("\nGrowing fastest:\nAddress +Perms", 1), "mapping table: " .. out)
    T.ok(out:find("\nsteady growth: %d+%.?%dM per minute %(r2 [01]%.%d%d over 5 samples%)\n$"), "verdict: " .. out)
  end)
  stop_growing(g)
  if not ok then error(problem, 0) end
end)

T.test("leak.lua stays quiet on a process that does not grow", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local out, err, status = memscript("leak.lua --interval 0.1 --count 4 --threshold 1k " .. h.pid)
    T.eq(status, 0, "status (stderr " .. err .. ")")
    T.eq(out:match("^(.-) |"), "MEMSCRIPT OK - anonymous memory of pid " .. h.pid ..
      " (memhelper): 0B per minute over 4 samples, r2 0.00 (no steady growth)", "status line")
    out = memscript("leak.lua --interval 0.1 --count 3 " .. h.pid)
    T.ok(out:find("\nno steady growth\n$"), "summary: " .. out)
    T.ok(not out:find("Growing fastest", 1, true), "no growing mapping")
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("Ctrl-C ends the sampling and leak.lua prints its summary, status 0", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local out_path = os.tmpname()
    local result = T.run("(" .. T.memscript_command() .. " leak.lua --interval 0.1 " .. h.pid .. " >" .. T.q(out_path) ..
      " 2>&1 & p=$!; sleep 0.55; kill -INT $p; wait $p; echo status $?)")
    local out = T.read(out_path)
    os.remove(out_path)
    T.eq(result, "status 0\n", "exit status")
    T.ok(out:find("^pid " .. h.pid .. " %(memhelper%): %d+ samples over [%d.]+ s, every 0%.1 s; interrupted\n"),
      "summary: " .. out)
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("leak.lua -f json prints one object with classes and mappings", function()
  local h = live.start()
  local out, _, status = memscript("-f json leak.lua --interval 0.05 --count 3 " .. h.pid)
  live.stop(h)
  T.eq(status, 0, "status")
  local doc = cjson.decode(out)
  T.ok(doc.pid == h.pid, "pid")
  T.eq(doc.command, "memhelper", "command")
  T.ok(doc.samples == 3, "samples")
  T.eq(doc.steady, false, "steady")
  T.eq(doc.classes[1].class, "total", "first class")
  T.eq(#doc.mappings, 0, "no growing mapping")
end)

T.test("leak.lua: a gone process and usage errors are status 3", function()
  local out, err, status = memscript("leak.lua --count 2 999999999")
  T.eq({ out, status }, { "", 3 }, "gone process")
  T.contains(err, "999999999", "stderr")
  for _, args in ipairs({ "", "1 2", "--interval 0 1", "--count x 1", "--threshold 2M,1M 1", "--bogus 1" }) do
    out, err, status = memscript("leak.lua " .. args)
    T.eq({ out, status }, { "", 3 }, "leak.lua " .. args)
    T.contains(err, "usage: memscript leak.lua", "usage for " .. args)
  end
end)

T.test("leak.lua --threshold with fewer than 3 samples is UNKNOWN", function()
  local h = live.start()
  local out, _, status = memscript("leak.lua --interval 0.05 --count 2 --threshold 1M " .. h.pid)
  live.stop(h)
  T.eq(status, 3, "status")
  T.eq(out:match("^(.-) |"), "MEMSCRIPT UNKNOWN - 1 too few samples of pid " .. h.pid ..
    " (memhelper) to tell growth (2; 3 needed)", "status line")
end)

T.done()
