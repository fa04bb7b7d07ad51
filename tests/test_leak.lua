-- leak.lua and memscript.watch: growth of anonymous memory caught in a growing helper, quiet on a still one.
--
-- No test here depends on how fast anything runs: the growing helper is waited for by the steps it
-- reports, and leak.lua's figures are checked exactly on a captured tree whose heap a prelude grows
-- by 1 MiB at each sample, under a clock the prelude advances by the sampling interval.

local T = require "testing"
local live = require "livehelper"
local watch = require "memscript.watch"
local cjson = require "cjson"

local format, concat = string.format, table.concat

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
  -- against a hang only: memhelper is ready within milliseconds
  local deadline = os.time() + 60
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

-- The number of growth steps the helper has reported (each one mapped and written before it is).
local function steps_done(g)
  local _, n = (T.read_if(g.out_path) or ""):gsub("\ngrow %d+ ", "")
  return n
end

-- Waits until the helper has reported `n` steps; an error after a minute (against a hang only).
local function wait_for_steps(g, n)
  local deadline = os.time() + 60
  while steps_done(g) < n do
    if os.time() > deadline then error("memhelper grow reported " .. steps_done(g) .. " steps, not " .. n, 2) end
    T.run("sleep 0.02")
  end
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
    -- Steps up to seen + 1 may have begun before that sample; seen + 2 and seen + 3 began after it.
    local seen = steps_done(g)
    wait_for_steps(g, seen + 3)
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

-- A copy of the captured helper (tests/fixtures/helper-capture) in a new directory, and the prelude
-- that makes time pass and the heap grow there: sys.monotonic starts at 1000 s, and each sys.sleep
-- advances it by the time asked and grows [heap] (28278000-2829a000, 136 kB mapped, 16 kB
-- resident) by 1 MiB mapped, resident and anonymous before leak.lua's next sample. Runs memscript
-- with the options, the prelude and leak.lua's arguments, on a new copy each time.
local function leak_on_growing_capture(options, leak_args)
  local tmp, cleanup <close> = T.tempdir()
  T.sh(format("cp -r %s %s/", T.q(T.fixtures .. "/helper-capture/proc"), T.q(tmp)))
  local smaps = tmp .. "/proc/1848/smaps"
  -- the prelude the gallery's growth chart is drawn with (tests/gallery/growing-heap.lua)
  local prelude = T.read(T.source .. "/tests/gallery/growing-heap.lua")
  return T.memscript(tmp .. "/proc", options .. " -e " .. T.q(prelude) .. " leak.lua " .. leak_args,
    { env = "MEMSCRIPT_GROWING_SMAPS=" .. T.q(smaps) })
end

-- The anonymous pages of the captured helper, from its smaps: the heap 16 kB, mappings without a
-- path 188 kB, [stack] 20 kB, private copies of file pages 24 kB (data segment 8 + 12, the written
-- deleted.bin 4); 248 kB in all, as its smaps_rollup says.
local HEAP, ANON, STACK, FILE_COPIES = 16 * 1024, 188 * 1024, 20 * 1024, 24 * 1024
local TOTAL = HEAP + ANON + STACK + FILE_COPIES
local MIB = 1024 * 1024

T.test("leak.lua --threshold catches a process whose anonymous memory grows steadily", function()
  -- six samples 10 s apart, 1 MiB more each: 5 MiB over 50 s, 6 MiB a minute
  local out, err, status = leak_on_growing_capture("", "--interval 10 --count 6 --threshold 5M,1G 1848")
  T.eq(status, 1, "status (stderr " .. err .. ")")
  T.same_text(out, "MEMSCRIPT WARNING - 1 anonymous memory of pid 1848 (memhelper) growing 6.0M per minute | " ..
    format("'anonymous'=%dB;;;0 'growth_per_minute'=6291456;5242880;1073741824\n", TOTAL + 5 * MIB) ..
    "WARNING: anonymous memory of pid 1848 (memhelper) growing 6.0M per minute (comm=memhelper " ..
    "per_minute=6291456 pid=1848 r2=1 samples=6 seconds=50)\n", "check output")
  -- the same growth is OK under a higher threshold, CRITICAL above a lower critical one
  out, err, status = leak_on_growing_capture("", "--interval 10 --count 6 --threshold 7M 1848")
  T.eq(status, 0, "status below the threshold (stderr " .. err .. ")")
  T.ok(out:find("^MEMSCRIPT OK %- anonymous memory of pid 1848 %(memhelper%): %+6%.0M per minute over 6 samples, " ..
    "r2 1%.00 | "), "OK line: " .. out)
  out, err, status = leak_on_growing_capture("", "--interval 10 --count 6 --threshold 1M,6M 1848")
  T.eq(status, 2, "status at the critical threshold (stderr " .. err .. ")")
  T.ok(out:find("^MEMSCRIPT CRITICAL %- 1 anonymous memory of pid 1848 %(memhelper%) growing 6%.0M per minute | "),
    "CRITICAL line: " .. out)
end)

T.test("leak.lua's summary names the growing class and mapping, with exact figures", function()
  local out, err, status = leak_on_growing_capture("", "--interval 10 --count 6 1848")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local grown = 5 * MIB
  T.same_text(out, concat({
    "pid 1848 (memhelper): 6 samples over 50.0 s, every 10 s",
    "Class         First     Last   Change  Per minute    r2  Steady",
    format("total        %d  %d  %d     6291456  1.00  yes", TOTAL, TOTAL + grown, grown),
    format("[heap]        %d  %d  %d     6291456  1.00  yes", HEAP, HEAP + grown, grown),
    format("anonymous    %d   %d        0           0  0.00  no", ANON, ANON),
    format("stacks        %d    %d        0           0  0.00  no", STACK, STACK),
    format("file copies   %d    %d        0           0  0.00  no", FILE_COPIES, FILE_COPIES),
    "",
    "Growing fastest:",
    "Address           Perms  First     Last   Change  Per minute    r2  Steady  Path",
    format("0000000028278000  rw-p   %d  %d  %d     6291456  1.00  yes     [heap]", HEAP, HEAP + grown, grown),
    "",
    "steady growth: 6.0M per minute (r2 1.00 over 6 samples)",
    ""}, "\n"), "summary")
  -- the JSON object carries the same figures
  local doc = T.json((leak_on_growing_capture("-f json", "--interval 10 --count 6 1848")))
  T.eq({ doc.samples, doc.seconds, doc.steady, doc.per_minute }, { 6, 50, true, 6291456 }, "JSON figures")
end)

T.test("leak.lua on a live growing helper: every sample read, the total never shrinks", function()
  local g = start_growing(64, 20, 2000)
  local ok, problem = pcall(function()
    local doc = T.json((memscript("-f json leak.lua --interval 0.1 --count 5 " .. g.pid)))
    T.eq({ doc.pid, doc.command, doc.samples }, { g.pid, "memhelper", 5 }, "pid, command, samples")
    local total = doc.classes[1]
    T.eq(total.class, "total", "first class")
    T.ok(total.last >= total.first, format("total anonymous memory went from %d to %d", total.first, total.last))
    T.eq(total.change, total.last - total.first, "change")
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

-- Runs `command` (a shell command line) in the background, waits until the file `mark` exists or the
-- command has ended, then sends it SIGINT; returns "status N\n" with its exit status.
local function interrupt_once_marked(command, mark)
  return T.run(format("(%s & p=$!; while [ ! -e %s ] && kill -0 $p 2>/dev/null; do sleep 0.02; done; " ..
    "kill -INT $p; wait $p; echo status $?)", command, T.q(mark)))
end

T.test("Ctrl-C ends the sampling and leak.lua prints its summary, status 0", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local tmp, cleanup <close> = T.tempdir()
    local mark, out_path = tmp .. "/three-samples", tmp .. "/out"
    -- the mark is made as leak.lua goes to sleep after its third sample
    local prelude = format([[
local sys = require "memscript.sys"
local sleep, calls = sys.sleep, 0
sys.sleep = function(seconds)
  calls = calls + 1
  if calls == 3 then assert(io.open(%q, "w")):close() end
  return sleep(seconds)
end]], mark)
    local result = interrupt_once_marked(T.memscript_command(nil, "-e " .. T.q(prelude) ..
      " leak.lua --interval 0.1 " .. h.pid) .. " >" .. T.q(out_path) .. " 2>&1", mark)
    local out = T.read(out_path)
    T.eq(result, "status 0\n", "exit status (output: " .. out .. ")")
    local samples = tonumber(out:match("^pid " .. h.pid .. " %(memhelper%): (%d+) samples over [%d.]+ s, every 0%.1 s; " ..
      "interrupted\n"))
    T.ok(samples and samples >= 3, "summary after at least the three samples taken before Ctrl-C: " .. out)
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
