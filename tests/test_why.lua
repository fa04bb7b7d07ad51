-- why.lua: the answer in a paragraph, every sentence with its number: on a capture (the whole text),
-- and live on a stopped helper (not growing) and a growing one (growing, with the slope's number).
local T = require "testing"
local live = require "livehelper"
local units = require "memscript.units"

local format = string.format

local KB = 1024
local capture = T.fixtures .. "/helper-capture/proc"

local function why_json(root, args)
  local out, err, status = T.memscript(root, "-f json why.lua " .. args)
  return T.json(out), err, status
end

T.test("a capture: the captured helper's paragraph, its figures those of its files", function()
  local answers, err, status = why_json(capture, "1848")
  T.eq({err, status}, {"", 0}, "stderr and status")
  local a = answers[1]
  T.eq(a.target, 1848, "target")
  -- smaps_rollup: Pss 1032 kB, SwapPss 0, Swap 0; status VmSwap 0
  T.eq({a.figures.pss, a.figures.swap, a.figures.footprint, a.figures.shmem_swap, a.figures.swap_source},
       {1032 * KB, 0, 1032 * KB, 0, "SwapPss"}, "footprint")
  local kinds_sum = 0
  for _, k in ipairs(a.figures.kinds) do kinds_sum = kinds_sum + k.bytes end
  T.eq(kinds_sum, 1032 * KB, "the kinds of mapping add up to the footprint (its smaps Pss lines do here)")
  T.eq(a.figures.kinds[1], {kind = "file", bytes = 752 * KB}, "mapped files first")
  T.eq(a.sentences, {
    "Process 1848 (memhelper) has a footprint of 1.0M: PSS 1.0M plus 0B of swap (its share, SwapPss).",
    "By its 35 mappings, the footprint is in mapped files 752K (73%; of 4, the biggest: /tmp/memhelper 668K, "
      .. "/tmp/memhelper.3qopYa/data 64K), unnamed anonymous mappings 188K (18%; of 5, the biggest: the anonymous "
      .. "mapping at 7f9c739be000 128K, the anonymous mapping at 7f9c73a21000 32K) and shared memory 36K (3.5%; of "
      .. "2, the biggest: /dev/zero (deleted) 32K, /SYSV00000000 (deleted) 4.0K).",
    "Its growth cannot be sampled: a captured tree does not change.",
    "Its memory cgroup cannot be seen: " .. capture .. "/1848/cgroup: No such file or directory.",
    "On the machine, of MemTotal 24G: free 23G (98%), 23G available by the kernel's estimate (MemAvailable), the "
      .. "other processes' PSS 0B, the page cache no process maps 192M, the kernel 89M and unaccounted 71M.",
    "The machine has no swap (SwapTotal 0).",
    "Next: memscript report.lua 1848 for every mapping, or memscript top.lua -m -s footprint for what all "
      .. "processes map.",
  }, "sentences")
  T.eq(a.text, table.concat(a.sentences, " "), "text")
end)

-- ---- the process's memory cgroup, on trees made here ----

-- The captured helper as a machine (--root DIR) whose /proc/1848/cgroup is cgroup_line, with these
-- files under DIR/sys/fs/cgroup; why.lua's JSON answer for 1848.
local function why_in_cgroup(cgroup_line, files)
  local dir, cleanup = T.tempdir()
  T.sh(format("cp -r %s %s/proc && chmod -R u+w %s", T.q(capture), T.q(dir), T.q(dir)))
  T.write(dir .. "/proc/1848/cgroup", cgroup_line)
  for name, text in pairs(files) do
    local file = dir .. "/sys/fs/cgroup/" .. name
    T.sh("mkdir -p " .. T.q(file:match("^(.*)/")))
    T.write(file, text)
  end
  local answers, err, status = why_json(dir, "1848")
  T.eq({err, status}, {"", 0}, "stderr and status")
  return answers[1], dir, cleanup
end

local function sentence_with(answer, start)
  for _, sentence in ipairs(answer.sentences) do
    if sentence:sub(1, #start) == start then return sentence end
  end
  error("no sentence starting " .. start .. " in: " .. answer.text, 2)
end

T.test("cgroup v2: no limit of its own, the cgroup above with the least room, pressure and events as the files say", function()
  local a, _, cleanup <close> = why_in_cgroup("0::/a/b\n", {
    ["cgroup.controllers"] = "cpu memory pids\n",
    ["a/memory.current"] = "20000000\n", ["a/memory.max"] = "33554432\n", ["a/memory.high"] = "max\n",
    ["a/b/memory.current"] = "1500000\n", ["a/b/memory.max"] = "max\n", ["a/b/memory.high"] = "max\n",
    ["a/b/memory.pressure"] = "some avg10=1.50 avg60=0.80 avg300=0.20 total=123456\n"
      .. "full avg10=0.25 avg60=0.10 avg300=0.00 total=2345\n",
    ["a/b/memory.events"] = "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
  })
  T.eq(sentence_with(a, "Its memory cgroup"), "Its memory cgroup is /a/b (cgroup v2): it uses 1500000 bytes (1.4M, "
    .. "memory.current) and has no limit of its own; of the cgroups above it, /a has the least room below its limit, "
    .. "using 20000000 bytes (19M, memory.current) of its limit of 33554432 bytes (32M, memory.max): 60%, 13M below it.",
    "usage and limits")
  T.eq(sentence_with(a, "It is"), "It is under memory pressure: at least one of its tasks waited for memory 1.50% of "
    .. "the last 10 s (memory.pressure some avg10), all of them at once 0.25% (full avg10); memory.events counts 0 "
    .. "times over memory.high (throttled and made to reclaim), 4 times about to go over memory.max and 1 OOM kill, in "
    .. "it and below it.", "pressure and events")
  T.eq(a.figures.cgroup, {path = "/a/b", version = 2, current = 1500000, limit = require("cjson").null,
    limit_file = "memory.max", oom_kill = 1, pressure_some_avg10 = 1.5,
    pressure_full_avg10 = 0.25, events_high = 0, events_max = 4,
    bound_by = {path = "/a", current = 20000000, limit = 33554432, file = "memory.max"}}, "figures (no limit: null)")
  T.contains(a.text, "memscript cgroup.lua -p 1848 for its cgroups", "next command")
end)

T.test("cgroup v2: memory.high below memory.max is the limit; no pressure, no events file", function()
  local a, _, cleanup <close> = why_in_cgroup("0::/c\n", {
    ["cgroup.controllers"] = "memory\n",
    ["c/memory.current"] = "45000000\n", ["c/memory.max"] = "100000000\n", ["c/memory.high"] = "50000000\n",
    ["c/memory.pressure"] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
  })
  T.eq(sentence_with(a, "Its memory cgroup"), "Its memory cgroup is /c (cgroup v2): it uses 45000000 bytes (43M, "
    .. "memory.current) of its limit of 50000000 bytes (48M, memory.high): 90%, 4.8M below it.", "memory.high")
  T.eq(sentence_with(a, "It is"), "It is under no memory pressure: at least one of its tasks waited for memory 0.00% "
    .. "of the last 10 s (memory.pressure some avg10), all of them at once 0.00% (full avg10).", "no pressure")
  T.eq({a.figures.cgroup.limit, a.figures.cgroup.limit_file, a.figures.cgroup.headroom},
       {50000000, "memory.high", 5000000}, "figures")
end)

T.test("cgroup v1: its own limit, one above it closer to its limit, and what v1 keeps instead of pressure", function()
  local a, _, cleanup <close> = why_in_cgroup("4:memory:/x/y\n0::/\n", {
    ["memory/memory.usage_in_bytes"] = "900000000\n", ["memory/memory.limit_in_bytes"] = "9223372036854771712\n",
    ["memory/x/memory.usage_in_bytes"] = "9000000\n", ["memory/x/memory.limit_in_bytes"] = "10000000\n",
    ["memory/x/y/memory.usage_in_bytes"] = "8000000\n", ["memory/x/y/memory.limit_in_bytes"] = "50000000\n",
    ["memory/x/y/memory.failcnt"] = "3\n",
    ["memory/x/y/memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
  })
  T.eq(sentence_with(a, "Its memory cgroup"), "Its memory cgroup is /x/y (cgroup v1): it uses 8000000 bytes (7.6M, "
    .. "memory.usage_in_bytes) of its limit of 50000000 bytes (48M, memory.limit_in_bytes): 16%, 40M below it; closer "
    .. "to its limit is /x above it, using 9000000 bytes (8.6M, memory.usage_in_bytes) of its limit of 10000000 bytes "
    .. "(9.5M, memory.limit_in_bytes): 90%, 977K below it.", "usage and limits")
  T.eq(sentence_with(a, "Cgroup v1"), "Cgroup v1 keeps no memory pressure figure (memory.pressure is cgroup v2's); "
    .. "what it keeps: its usage hit its limit 3 times (memory.failcnt), it is not out of memory now "
    .. "(memory.oom_control under_oom 0) and the OOM killer killed 2 processes in it (oom_kill).", "failcnt, oom_control")
end)

T.test("cgroup figures past 2^63 (floats, as the bindings give them) are said in full, not a traceback", function()
  local a, _, cleanup <close> = why_in_cgroup("0::/big\n", {
    ["cgroup.controllers"] = "memory\n",
    ["big/memory.current"] = "18446744073709551615\n", ["big/memory.max"] = "99999999999999999999999\n",
    ["big/memory.pressure"] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    ["big/memory.events"] = "low 0\nhigh 99999999999999999999\nmax 1\noom 0\noom_kill 18446744073709551616\n",
  })
  T.eq(sentence_with(a, "Its memory cgroup"), "Its memory cgroup is /big (cgroup v2): it uses 18446744073709551616 "
    .. "bytes (16E, memory.current) of its limit of 99999999999999991611392 bytes (86736E, memory.max): 0.0%, 86720E "
    .. "below it.", "usage and limit: the floats' values in full")
  T.eq(sentence_with(a, "It is"), "It is under no memory pressure: at least one of its tasks waited for memory 0.00% "
    .. "of the last 10 s (memory.pressure some avg10); memory.events counts 100000000000000000000 times over "
    .. "memory.high (throttled and made to reclaim), 1 times about to go over memory.max and 18446744073709551616 OOM "
    .. "kills, in it and below it.", "events")
end)

T.test("a cgroup whose directory is not there: said, with the reason", function()
  local a, dir, cleanup <close> = why_in_cgroup("0::/gone\n", {["cgroup.controllers"] = "memory\n"})
  T.eq(sentence_with(a, "Its memory cgroup"), "Its memory cgroup is /gone (/proc/1848/cgroup), but its memory cannot "
    .. "be seen: " .. dir .. "/sys/fs/cgroup/gone: No such file or directory.", "unseen, and why")
  T.eq(a.figures.cgroup_unseen, dir .. "/sys/fs/cgroup/gone: No such file or directory", "the reason in the figures")
  T.eq(a.figures.cgroup, nil, "no cgroup figures")
end)

T.test("a capture: the zombie has no memory of its own, a pid not captured could not be read (exit 3)", function()
  local answers, err, status = why_json(capture, "1850 4242")
  T.eq({err, status}, {"", 3}, "stderr and status")
  T.eq({answers[1].text, answers[2].text}, {
    "Process 1850 (memhelper) is a kernel thread or a zombie: it has no memory of its own.",
    "Process 4242 could not be read (gone): " .. capture .. "/4242/status: No such file or directory.",
  }, "answers, in the order asked")
  local _, _, zombie_status = T.memscript(capture, "why.lua 1850")
  T.eq(zombie_status, 0, "a zombie is an answer, not a failure")
end)

T.test("all, on a capture: the machine's parts largest first, the biggest footprints, swap, the next command", function()
  local answers = why_json(capture, "all")
  local a = answers[1]
  T.eq(a.target, "all", "target")
  T.eq(a.figures.memtotal, 24683748 * KB, "MemTotal")
  T.eq(a.figures.parts.free, 24273348 * KB, "free: MemFree")
  T.eq(a.figures.parts.processes, 1032 * KB, "the helper's PSS")
  T.ok(a.sentences[1]:find("^The machine's MemTotal of 24G is free 23G %(98%%%), the page cache no process maps") ~= nil,
    a.sentences[1])
  T.eq(a.sentences[2], "Of the 1 process read, the biggest footprint (PSS + swap) is memhelper (pid 1848) 1.0M.",
    "footprints")
  T.eq(a.sentences[#a.sentences], "Next: memscript system.lua for what each part is, memscript top.lua -s "
    .. "footprint for every process.", "next")
end)

T.test("all, where a smaps_rollup prints neither SwapPss nor Swap: that footprint is said to be PSS only, not PSS + 0", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh(format("cp -r %s %s/proc && chmod -R u+w %s", T.q(capture), T.q(dir), T.q(dir)))
  local rollup = dir .. "/proc/1848/smaps_rollup"
  T.write(rollup, (T.read(rollup):gsub("\nSwap:[^\n]*", ""):gsub("\nSwapPss:[^\n]*", "")))
  local answers, err, status = why_json(dir .. "/proc", "all")
  T.eq({err, status}, {"", 0}, "stderr and status")
  T.eq(answers[1].sentences[2], "Of the 1 process read, the biggest footprint (PSS + swap) is memhelper (pid 1848) "
    .. "1.0M (PSS only: its swap was not printed).", "footprints")
  local out = T.sh(T.memscript_command(dir .. "/proc") .. " -e " .. T.q([[
    local scan = require("memscript.system").scan()
    print(scan.processes[1].pid, scan.processes[1].swap, scan.sums.swap_unread)]]))
  T.eq(out, "1848\tnil\t1\n", "the process's swap is nil, not 0, and counted as unread")
end)

T.test("a paragraph wrapped at 100 columns in text; -f csv refused", function()
  local out, _, status = T.memscript(capture, "why.lua 1848")
  T.eq(status, 0, "status")
  for line in out:gmatch("[^\n]+") do T.ok(#line <= 100, "line of " .. #line .. " bytes") end
  local answers = why_json(capture, "1848")
  T.eq(out:gsub("\n", " "):gsub(" $", ""), answers[1].text, "the same text")
  local csv_out, err, csv_status = T.memscript(capture, "-f csv why.lua 1848")
  T.eq({csv_out, csv_status}, {"", 3}, "-f csv")
  T.contains(err, "memscript: why.lua prints text or JSON, not 'csv'", "message")
end)

-- ---- live ----

T.test("live: the stopped helper is not growing, with the slope's number; its footprint is Pss + SwapPss", function()
  local helper <close> = setmetatable(live.start({"--", "why test"}), {__close = function(h) live.stop(h) end})
  for _ = 1, 5 do
    local before = proc.smaps_rollup(helper.pid)
    local answers, err, status = why_json(nil, "-t 1 -i 0.25 " .. helper.pid)
    local after = proc.smaps_rollup(helper.pid)
    T.eq({err, status}, {"", 0}, "stderr and status")
    local f = answers[1].figures
    T.eq({f.growing, f.growth_per_minute, f.growth_samples}, {false, 0, 5}, "not growing: 5 samples, slope 0")
    T.contains(answers[1].text, "Its anonymous memory is not growing: 0B per minute over 1.0 s (5 samples, r² 0.00)",
      "said, with its number")
    T.contains(answers[1].text, format("Next: memscript report.lua %d", helper.pid), "next command")
    -- the helper's Pss moves only when the [vdso] page it shares gains or loses a mapper
    if T.show(before) == T.show(after) then
      T.eq({f.pss, f.swap, f.footprint}, {before.Pss, before.SwapPss, before.Pss + before.SwapPss}, "footprint")
      return
    end
  end
  error("the helper's smaps_rollup kept changing")
end)

-- memhelper grow maps and writes a new anonymous region of STEP_KB every INTERVAL_MS; it is ready when it
-- has printed "ready".
local function start_growing(step_kb, interval_ms, steps)
  local out_path = os.tmpname()
  local pid = tonumber((T.run(format("%s grow %d %d %d >%s & echo $!", T.q(T.helper), step_kb, interval_ms,
    steps, T.q(out_path))):match("%d+")))
  local deadline = os.time() + 60
  while not (T.read_if(out_path) or ""):find("\nready\n", 1, true) do
    if os.time() > deadline then
      T.run("kill -KILL " .. pid)
      error("memhelper grow did not get ready")
    end
    T.run("sleep 0.02")
  end
  return setmetatable({pid = pid, out_path = out_path}, {__close = function(g)
    T.run("kill -KILL " .. g.pid .. " 2>/dev/null")
    os.remove(g.out_path)
  end})
end

T.test("live: the growing helper is growing, with the slope's number, and the next command is leak.lua", function()
  -- 256 KiB every 50 ms for 30 s at most: about 5 MiB a second while why.lua samples for 2 s
  local g <close> = start_growing(256, 50, 600)
  local answers, err, status = why_json(nil, "-t 2 -i 0.2 " .. g.pid)
  T.eq({err, status}, {"", 0}, "stderr and status")
  local a = answers[1]
  local f = a.figures
  T.eq(f.growing, true, "growing: " .. a.text)
  T.ok(f.growth_per_minute > 0 and f.growth_r2 >= 0.8 and f.growth_samples == 11, "a steady slope over 11 samples")
  T.ok(f.growth_per_minute <= 256 * KB * 20 * 60 * 1.2, "no faster than the helper can grow: " .. f.growth_per_minute)
  T.contains(a.text, format("Its anonymous memory is growing: +%s per minute over ", units.format(f.growth_per_minute)),
    "said, with its number")
  T.contains(a.text, format("Next: memscript leak.lua %d, to see which mappings grow.", g.pid), "next command")
end)

T.test("live, all: MemTotal is the machine's, and the parts named add up to it", function()
  local answers, err, status = why_json(nil, "--no-sample all")
  T.eq({err, status}, {"", 0}, "stderr and status")
  local f = answers[1].figures
  local memtotal = tonumber(T.read("/proc/meminfo"):match("MemTotal:%s+(%d+) kB")) * KB
  T.eq(f.memtotal, memtotal, "MemTotal")
  local sum = 0
  for _, bytes in pairs(f.parts) do sum = sum + bytes end
  T.eq(sum, memtotal, "the parts (those not zero) add up to MemTotal")
end)

T.done()
