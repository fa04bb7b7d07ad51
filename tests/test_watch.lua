-- Running unattended: --interval/--count, -o FILE written atomically, and the run hooks.

local T = require "testing"

local function memscript(args, stdin)
  return T.run(T.memscript_command() .. " " .. args, stdin)
end

local tmp, tmp_cleanup <close> = T.tempdir()

T.test("--interval with --count runs a script that many times, numbering the runs", function()
  local script = tmp .. "/count.lua"
  T.write(script, 'print(require("memscript.sys").iteration, arg[1])\n')
  local out, err, status = memscript("--interval 0.05 --count 3 " .. T.q(script) .. " x")
  T.eq({ out, err, status }, { "1\tx\n2\tx\n3\tx\n", "", 0 }, "stdout, stderr, status")
end)

T.test("--count without --interval is a usage error, not a single run", function()
  local out, err, status = memscript("--count 2 -e 'print(1)'")
  T.eq({ out, status }, { "", 3 }, "stdout and status")
  T.ok(err:find("^memscript: %-%-count counts the runs of watch mode: give %-%-interval too\nusage: "), err)
end)

T.test("--interval: no run starts before its place in the schedule", function()
  -- Run n starts no earlier than (n - 1) intervals after the first run's start, which is after the
  -- moment this test takes before starting memscript (CLOCK_MONOTONIC in both processes). How much
  -- later a busy machine makes it is not a property of memscript: tests/bench/timing.lua measures it.
  local before = require("memscript.sys").monotonic()
  local out = memscript("--interval 0.2 --count 3 -e " ..
    T.q('print(string.format("%.9f", require("memscript.sys").monotonic()))'))
  local times = {}
  for t in out:gmatch("[%d.]+") do times[#times + 1] = tonumber(t) end
  T.eq(#times, 3, "runs")
  for i = 1, 3 do
    T.ok(times[i] - before >= (i - 1) * 0.2, string.format("run %d started %.6f s after the test's mark", i,
      times[i] - before))
    if i > 1 then T.ok(times[i] >= times[i - 1], "runs in order") end
  end
end)

T.test("globals persist between watch runs, so a script can compare with before", function()
  local out = memscript("--interval 0.01 --count 3 -e " .. T.q('n = (n or 0) + 1 print(n)'))
  T.eq(out, "1\n2\n3\n", "stdout")
end)

T.test("Ctrl-C ends watching between runs with status 0", function()
  -- Ctrl-C once three runs have printed (a loaded machine skips ticks: no fixed sleep is enough);
  -- --count bounds the run should the Ctrl-C be lost
  local out_path = tmp .. "/ctrlc.out"
  local file = T.q(out_path)
  local cmd = "(" .. T.memscript_command() .. " --interval 0.1 --count 200 -e 'print(\"run\") io.stdout:flush()' > " .. file ..
    " & pid=$!; i=0; while [ $i -lt 200 ] && [ \"$(grep -c run " .. file .. ")\" -lt 3 ]; do sleep 0.05; i=$((i+1)); done; " ..
    "kill -INT $pid; wait $pid; echo status $?)"
  local out = T.run(cmd)
  T.eq(out, "status 0\n", "exit status")
  local text = T.read(out_path)
  local runs = select(2, text:gsub("run\n", ""))
  T.ok(runs >= 3, "runs before Ctrl-C: " .. runs)
  T.eq(text, ("run\n"):rep(runs), "whole runs only")
end)

T.test("--interval and --count refuse what is not a number", function()
  local _, err, status = memscript("--interval 0 -e ''")
  T.eq(status, 3, "status for --interval 0")
  T.contains(err, "--interval needs a number of seconds above 0, got '0'", "stderr")
  _, err, status = memscript("--interval 1 --count 1.5 -e ''")
  T.eq(status, 3, "status for --count 1.5")
  T.contains(err, "--count needs a whole number of runs, got '1.5'", "stderr")
end)

T.test("-o writes standard output to the file", function()
  local path = tmp .. "/out.txt"
  local out, err, status = memscript("-o " .. T.q(path) .. " -e 'print(\"hello\")'")
  T.eq({ out, err, status }, { "", "", 0 }, "nothing on the terminal")
  T.eq(T.read_if(path), "hello\n", "file")
  T.eq(T.run("stat -c %a " .. T.q(path)), "644\n", "mode of the file")
end)

T.test("-o leaves the old file whole when the script fails", function()
  local path = tmp .. "/keep.txt"
  T.write(path, "old contents\n")
  local _, err, status = memscript("-o " .. T.q(path) .. " -e 'print(\"partial\") error(\"boom\")'")
  T.eq(status, 3, "status")
  T.contains(err, "boom", "stderr")
  T.eq(T.read_if(path), "old contents\n", "file")
  T.eq(T.run("ls " .. T.q(tmp) .. " | grep -c tmp || true"), "0\n", "no temporary file left")
end)

T.test("-o in watch mode replaces the file with each complete run", function()
  local path = tmp .. "/watch.txt"
  local _, _, status = memscript("--interval 0.01 --count 3 -o " .. T.q(path) ..
    " -e 'print(\"run\", require(\"memscript.sys\").iteration)'")
  T.eq(status, 0, "status")
  T.eq(T.read_if(path), "run\t3\n", "the file holds the last run alone")
end)

T.test("-o into a directory that does not exist fails with status 3 naming the file", function()
  local _, err, status = memscript("-o /nonexistent-dir/x.txt -e 'print(1)'")
  T.eq(status, 3, "status")
  T.eq(err, "memscript: /nonexistent-dir/x.txt: No such file or directory\n", "stderr")
end)

T.test("-o on a full disk reports it with status 3 and keeps the old file", function()
  local dir = tmp .. "/tiny"
  T.run("mkdir -p " .. T.q(dir))
  local _, _, mounted = T.run("mount -t tmpfs -o size=64k tmpfs " .. T.q(dir))
  if mounted ~= 0 then T.skip("cannot mount a small tmpfs here (needs root)") end
  local path = dir .. "/metrics.prom"
  T.write(path, "old\n")
  local _, err, status = memscript("-o " .. T.q(path) .. " -e 'for i = 1, 20000 do print(\"line\", i) end'")
  local files = T.run("ls " .. T.q(dir))
  local kept = T.read_if(path)
  T.run("umount " .. T.q(dir))
  T.eq(status, 3, "status")
  T.eq(err, "memscript: " .. path .. ": No space left on device\n", "stderr")
  T.eq(kept, "old\n", "old file kept")
  T.eq(files, "metrics.prom\n", "no temporary file left")
end)

T.test("memscript.run's finish hook sets the exit status", function()
  local code = 'local run = require "memscript.run" run.on_finish(function() print("finished") end) run.raise(run.WARNING)'
  local out, _, status = memscript("-e " .. T.q(code))
  T.eq({ out, status }, { "finished\n", 1 }, "stdout and status")
end)

T.test("memscript.run's iteration hook runs after each watch run", function()
  local code = 'local run = require "memscript.run" if not hooked then hooked = true ' ..
    'run.on_iteration_end(function() print("end of", require("memscript.sys").iteration) end) end'
  local out = memscript("--interval 0.01 --count 2 -e " .. T.q(code))
  T.eq(out, "end of\t1\nend of\t2\n", "stdout")
end)

T.test("os.exit ends the run as its end would: finish hooks, -o's file, the given status", function()
  local path = tmp .. "/exit.txt"
  local code = 'local run = require "memscript.run" run.on_finish(function() print("finished") end) ' ..
    'print("before") os.exit(1) print("after")'
  local out, _, status = memscript("-o " .. T.q(path) .. " -e " .. T.q(code))
  T.eq({ out, status, T.read_if(path) }, { "", 1, "before\nfinished\n" }, "stdout, status, file")
end)

T.test("os.exit() with no code exits with the status the run raised; os.exit(true) is 0", function()
  local _, _, status = memscript("-e " .. T.q('require("memscript.run").raise(2) os.exit()'))
  T.eq(status, 2, "raised status")
  _, _, status = memscript("-e 'os.exit(true)'")
  T.eq(status, 0, "os.exit(true)")
  _, _, status = memscript("-e 'os.exit(false)'")
  T.eq(status, 1, "os.exit(false)")
end)

T.test("os.exit(3) (UNKNOWN) leaves -o's old file in place", function()
  local path = tmp .. "/exit3.txt"
  T.write(path, "old\n")
  local _, _, status = memscript("-o " .. T.q(path) .. " -e 'print(\"new\") os.exit(3)'")
  T.eq({ status, T.read_if(path) }, { 3, "old\n" }, "status and file")
end)

T.test("--interval after a stall skips the missed ticks: later runs start on the grid, not back to back", function()
  -- run 2 sleeps 2.5 intervals: runs 3 and 4 start at ticks 4 and 5 (old: both at once, at 3.5)
  local code = 'local sys = require "memscript.sys" print(string.format("%.3f", sys.monotonic())) ' ..
    'io.stdout:flush() if sys.iteration == 2 then sys.sleep(2.5) end'
  local out, err, status = memscript("--interval 1 --count 4 -e " .. T.q(code))
  T.eq({ err, status }, { "", 0 }, "stderr, status")
  local starts = {}
  for t in out:gmatch("[%d.]+") do starts[#starts + 1] = tonumber(t) end
  T.eq(#starts, 4, "runs")
  -- A run starts at its tick or later (a busy machine may start it late), never earlier: so the tick
  -- interval each run starts in is what can be checked whatever the load. Catching up would start
  -- runs 3 and 4 back to back right after the stall, in the interval of tick 3.
  local ticks = {}
  for i = 1, 4 do ticks[i] = math.floor(starts[i] - starts[1] + 0.005) end
  for i = 2, 4 do
    T.ok(ticks[i] > ticks[i - 1], "run " .. i .. " starts in a later tick interval than run " .. (i - 1) ..
      ": " .. T.show(ticks))
  end
  T.ok(ticks[3] >= 4, "run 3 waits for the first tick after the stall (tick 4): " .. T.show(ticks))
end)

T.test("-o in watch mode on a full disk reports the run, keeps the old file, and writes again once there is room", function()
  local dir = tmp .. "/full"
  T.run("mkdir -p " .. T.q(dir))
  local _, _, mounted = T.run("mount -t tmpfs -o size=64k tmpfs " .. T.q(dir))
  if mounted ~= 0 then T.skip("cannot mount a small tmpfs here (needs root)") end
  local path, filler = dir .. "/metrics.prom", dir .. "/filler"
  -- run 2 fills the file system before printing; run 3 reports what the file held, frees the space
  local code = string.format([[
    local sys = require "memscript.sys"
    if sys.iteration == 2 then
      local f = assert(io.open(%q, "w"))
      f:setvbuf("no")
      while f:write(string.rep("x", 4096)) do end
      f:close()
    elseif sys.iteration == 3 then
      local f = assert(io.open(%q)) io.stderr:write("before run 3: ", f:read("a")) f:close()
      os.remove(%q)
    end
    print("run " .. sys.iteration)]], filler, path, filler)
  local out, err, status = memscript("--interval 0.1 --count 3 -o " .. T.q(path) .. " -e " .. T.q(code))
  local files = T.run("ls " .. T.q(dir))
  local final = T.read_if(path)
  T.run("umount " .. T.q(dir))
  T.eq({ out, status }, { "", 3 }, "stdout, and status 3: one run's output was lost")
  T.eq(err, "memscript: " .. path .. ": No space left on device\nbefore run 3: run 1\n" ..
    "memscript: " .. path .. ": the output of 1 of 3 runs could not be written (see above)\n", "stderr")
  T.eq({ final, files }, { "run 3\n", "metrics.prom\n" }, "the last run written, no temporary file left")
end)

T.test("watch mode without -o ends once standard output fails, with status 3", function()
  local code = 'print("run") io.stderr:write("run ", require("memscript.sys").iteration, "\\n")'
  local _, err, status = T.run(T.memscript_command(nil, "--interval 0.05 --count 100 -e " .. T.q(code)) .. " > /dev/full")
  T.eq({ err, status }, { "run 1\nmemscript: standard output: No space left on device: output was lost\n", 3 },
    "stderr (one run only), status")
end)

T.done()
