-- Limits on user code: --timeout, --max-memory, --sandbox, Ctrl-C, and a closed stdout.

local T = require "testing"

local function memscript(args, stdin)
  return T.run(T.memscript_command() .. " " .. args, stdin)
end

-- A run that must end by itself within a fraction of a second is killed after two minutes, so that a
-- guard that failed to stop it fails its test (exit status 137) instead of hanging the whole file.
-- This guards against a hang; it is no measure of speed.
local HANG_GUARD = "timeout -s KILL 120"

-- Starts memscript with args in the background, its stdout and stderr in files under dir, waits
-- until its stdout holds `ready` (or it has ended), then sends it SIGINT. Returns its stdout,
-- stderr and exit status.
local function interrupt_when(dir, args, ready)
  local out_path, err_path = dir .. "/out", dir .. "/err"
  local status = T.sh(string.format("(%s >%s 2>%s & p=$!; " ..
    "while ! grep -q %s %s && kill -0 $p 2>/dev/null; do sleep 0.02; done; kill -INT $p; wait $p; echo $?)",
    T.memscript_command(nil, args), T.q(out_path), T.q(err_path), T.q(ready), T.q(out_path)))
  return T.read(out_path), T.read(err_path), tonumber(status)
end

T.test("--timeout stops an endless loop with status 3, keeping what was printed", function()
  local out, err, status = memscript("--timeout 0.3 -e " .. T.q('print("started") while true do end'))
  T.eq(status, 3, "exit status")
  T.eq(out, "started\n", "stdout printed before the timeout")
  T.contains(err, "memscript: timeout: the script ran longer than 0.3 seconds (--timeout)", "stderr")
end)

T.test("--timeout cannot be caught with pcall", function()
  local code = [[
    local caught = 0
    while true do
      local ok = pcall(function() while true do end end)
      if not ok then caught = caught + 1 end
      io.stdout:write("caught ", caught, "\n")
    end]]
  local out, err, status = memscript("--timeout 0.3 -e " .. T.q(code))
  T.eq(status, 3, "exit status")
  T.contains(err, "timeout", "stderr")
  -- the inner pcall may see the first error, but the loop never runs a second round
  T.ok(out == "" or out == "caught 1\n", "the script went on after the timeout: " .. T.show(out))
end)

T.test("--timeout stops an endless loop inside a coroutine, even one resumed under pcall", function()
  for _, code in ipairs({ 'coroutine.wrap(function() while true do end end)()',
      'coroutine.wrap(function() coroutine.wrap(function() while true do end end)() end)()',
      'local co = coroutine.create(function() while true do end end) ' ..
      'while true do print(coroutine.resume(co)) co = coroutine.create(function() while true do end end) end' }) do
    local out, err, status = memscript("--timeout 0.3 -e " .. T.q(code))
    T.eq(status, 3, "exit status of " .. code)
    T.contains(err, "timeout: the script ran longer than 0.3 seconds (--timeout)", "stderr")
    T.ok(out == "" or out:find("^false\t[^\n]*timeout[^\n]*\n$"), "at most one resume returned: " .. T.show(out))
  end
end)

T.test("coroutine.create and wrap behave as Lua's own, errors naming them", function()
  local code = 'local co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end) ' ..
    'print(co(1), co(5)) print(pcall(coroutine.create, 42)) print(pcall(coroutine.wrap)) ' ..
    'print(pcall(coroutine.wrap(function() error("x") end)))'
  local out, err, status = memscript("-e " .. T.q(code))
  T.eq({ out, err, status }, { "2\t10\n" ..
    "false\tbad argument #1 to 'coroutine.create' (function expected, got number)\n" ..
    "false\tbad argument #1 to 'coroutine.wrap' (function expected, got no value)\n" ..
    "false\t(command line):1: x\n", "", 0 }, "stdout, stderr, status")
end)

T.test("--timeout ends a script stuck inside one call into C a second after the deadline", function()
  -- a pattern that backtracks for far longer than the test: no hook runs inside string.find
  local code = 'print("before") io.stdout:write("unflushed") print(string.find(("a"):rep(40), ("a*"):rep(40) .. "b"))'
  local out, err, status = T.memscript(nil, "--timeout 0.5 -e " .. T.q(code), { prefix = HANG_GUARD })
  T.eq({ out, err, status }, { "before\n", "memscript: timeout: the script ran longer than 0.5 seconds (--timeout) " ..
    "and was still inside one call into C 1 s later: ended at once, output not yet written is lost\n", 3 },
    "stdout, stderr, status")
end)

T.test("--timeout that passes between two watch runs ends watching with status 3", function()
  local out, err, status = memscript("--interval 5 --count 3 --timeout 0.3 -e 'print(\"run\")'")
  T.eq({ out, err, status }, { "run\n",
    "memscript: timeout: the script ran longer than 0.3 seconds (--timeout), between two runs\n", 3 },
    "stdout, stderr, status")
end)

T.test("--timeout ends a sleep in C at the deadline", function()
  -- a sleep of more than a day: only the timeout can end it
  local out, err, status = T.memscript(nil, "--timeout 0.5 -e " ..
    T.q('require("memscript.sys").sleep(100000) print("woke")'), { prefix = HANG_GUARD })
  T.eq({ out, status }, { "", 3 }, "stdout and exit status (stderr: " .. err .. ")")
  T.contains(err, "timeout", "stderr")
end)

T.test("--timeout that is not a number is a usage error", function()
  local _, err, status = memscript("--timeout soon -e ''")
  T.eq(status, 3, "exit status")
  T.contains(err, "--timeout needs a number of seconds, got 'soon'", "stderr")
end)

T.test("--max-memory caps the Lua heap with a clear message and status 3", function()
  local code = 'local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end'
  local _, err, status = memscript("--max-memory 8M -e " .. T.q(code))
  T.eq(status, 3, "exit status")
  T.eq(err, "memscript: not enough memory: the run reached its --max-memory limit of 8388608 bytes\n", "stderr")
end)

T.test("--max-memory reached but caught by the script still ends the run UNKNOWN (3)", function()
  local code = 'print(pcall(function() local t = {} for i = 1, 1e8 do t[i] = ("x"):rep(100) .. i end end))'
  local out, err, status = memscript("--max-memory 8M -e " .. T.q(code))
  T.eq({ out, err, status }, { "false\tnot enough memory\n", "memscript: not enough memory: the run reached its " ..
    "--max-memory limit of 8388608 bytes (the script caught the error; its results may be incomplete)\n", 3 },
    "stdout, stderr, status")
  local ok_out, ok_err, ok_status = memscript("--max-memory 8M -e " .. T.q('print(pcall(error, "not memory"))'))
  T.eq({ ok_out, ok_err, ok_status }, { "false\tnot memory\n", "", 0 }, "another caught error changes nothing")
end)

T.test("--max-memory leaves a script that fits alone", function()
  local out, _, status = memscript("--max-memory 64M -e " .. T.q('print(#proc.smaps("self") > 0)'))
  T.eq({ out, status }, { "true\n", 0 }, "stdout and status")
end)

T.test("--max-memory takes K, M and G suffixes and rejects junk", function()
  local _, _, status = memscript("--max-memory 1G -e ''")
  T.eq(status, 0, "1G accepted")
  local _, err, st = memscript("--max-memory lots -e ''")
  T.eq(st, 3, "junk refused")
  T.contains(err, "--max-memory needs a size such as 64M, got 'lots'", "stderr")
end)

-- Each refused operation, with the error it must raise.
local refusals = {
  { 'os.execute("true")', "os.execute is not available in --sandbox" },
  { 'io.popen("true")', "io.popen is not available in --sandbox" },
  { 'io.open("/tmp/memscript-sandbox-test", "w")', "only reading" },
  { 'io.open("/tmp/memscript-sandbox-test", "a+")', "only reading" },
  { 'io.output("/tmp/memscript-sandbox-test")', "changing the output file is not available" },
  { 'os.remove("/tmp/memscript-sandbox-test")', "os.remove is not available" },
  { 'os.rename("/tmp/a", "/tmp/b")', "os.rename is not available" },
  { 'io.tmpfile()', "io.tmpfile is not available" },
  { 'string.dump(print)', "string.dump is not available" },
  { 'load("\\27Lua", "x", "b")', "binary chunks are not available" },
  { 'package.loadlib("libc.so.6", "puts")', "package.loadlib is not available" },
  { 'require("cjson.safe")', "module 'cjson.safe' not found" },
  { 'debug.getinfo(1)', "attempt to call a nil value (field 'getinfo')" },
  { 'proc.clear_refs("self", 1)', "proc.clear_refs is not available in --sandbox" },
  { 'proc.mark_idle("self")', "proc.mark_idle is not available in --sandbox" },
  { 'proc.at("/proc").clear_refs("self", 4)', "proc.clear_refs is not available in --sandbox" },
  { 'require("memscript").mark_idle("self")', "proc.mark_idle is not available in --sandbox" },
}

for _, case in ipairs(refusals) do
  T.test("--sandbox refuses " .. case[1], function()
    local code = "local ok, err = pcall(function() return " .. case[1] .. " end) print(ok, err)"
    local out, err, status = memscript("--sandbox -e " .. T.q(code))
    T.eq(status, 0, "exit status (stderr " .. err .. ")")
    T.ok(out:find("^false\t"), "the call failed: " .. T.show(out))
    T.contains(out, case[2], "the error")
  end)
end

T.test("--sandbox keeps reading /proc, printing, tracebacks and the memscript library", function()
  local code = [[
    local f = assert(io.open("/proc/self/status", "r"))
    local first = f:read("l") f:close()
    local n = #proc.smaps("self"):filter("Rss > 0")
    print(first:match("^Name:") ~= nil, n > 0, type(debug.traceback()), require("memscript.units").format(2048))]]
  local out, err, status = memscript("--sandbox -e " .. T.q(code))
  T.eq({ out, err, status }, { "true\ttrue\tstring\t2.0K\n", "", 0 }, "stdout, stderr, status")
end)

T.test("--sandbox refuses a binary chunk as the script itself", function()
  local tmp = os.tmpname()
  T.write(tmp, string.dump(function() print("ran") end))
  local out, err, status = memscript("--sandbox " .. T.q(tmp))
  local plain_out, _, plain_status = memscript(T.q(tmp))
  os.remove(tmp)
  T.eq(status, 3, "exit status")
  T.eq(out, "", "nothing ran")
  T.contains(err, "attempt to load a binary chunk", "stderr")
  T.eq({ plain_out, plain_status }, { "ran\n", 0 }, "the same file without --sandbox")
end)

T.test("-o refuses a path that is not a regular file, leaving it as it was", function()
  local tmp, cleanup <close> = T.tempdir()
  T.sh("mkfifo " .. T.q(tmp .. "/fifo") .. " && mkdir " .. T.q(tmp .. "/dir"))
  for _, target in ipairs({ "/dev/null", tmp .. "/fifo", tmp .. "/dir" }) do
    local out, err, status = memscript("-o " .. T.q(target) .. " -e 'print(1)'")
    T.eq({ out, err, status }, { "", "memscript: " .. target ..
      ": not a regular file (-o replaces a file with a new one, renamed over it)\n", 3 }, target)
  end
  T.eq(T.sh("stat -c %F /dev/null " .. T.q(tmp .. "/fifo") .. " " .. T.q(tmp .. "/dir")),
    "character special file\nfifo\ndirectory\n", "all still what they were")
end)

T.test("-o: a new file's mode follows the umask, a replaced file keeps its mode, a link its target", function()
  local tmp, cleanup <close> = T.tempdir()
  local f, link = tmp .. "/out.txt", tmp .. "/link.txt"
  T.sh("umask 027 && " .. T.memscript_command() .. " -o " .. T.q(f) .. " -e 'print(1)'")
  T.eq(T.sh("stat -c %a " .. T.q(f)), "640\n", "new file under umask 027")
  T.sh("chmod 604 " .. T.q(f) .. " && ln -s out.txt " .. T.q(link))
  T.sh(T.memscript_command() .. " -o " .. T.q(link) .. " -e 'print(2)'")
  T.eq({ T.sh("stat -c %a " .. T.q(f)), T.sh("stat -c %F " .. T.q(link)), T.read(f) },
       { "604\n", "symbolic link\n", "2\n" }, "mode kept, link kept, content replaced")
  T.eq(T.sh("ls " .. T.q(tmp)), "link.txt\nout.txt\n", "no temporary file left")
end)

T.test("-o leaves no temporary file when the run fails before the script starts", function()
  local tmp, cleanup <close> = T.tempdir()
  local out, _, status = memscript("-o " .. T.q(tmp .. "/out.txt") .. " -e 'require = nil' " ..
    T.q(T.source .. "/scripts/report.lua"))
  T.eq({ out, status, T.sh("ls -A " .. T.q(tmp)) }, { "", 3, "" }, "stdout, status, directory")
end)

T.test("a closed pipe on stdout ends memscript quietly", function()
  local out, err = T.run(T.memscript_command() .. " -e 'for i = 1, 1e7 do print(i) end' | head -1")
  T.eq({ out, err }, { "1\n", "" }, "stdout and stderr")
end)

T.test("Ctrl-C (SIGINT) stops a running script with status 3 and a message", function()
  local tmp, cleanup <close> = T.tempdir()
  local out, err, status = interrupt_when(tmp, "-e 'print(\"looping\") io.stdout:flush() while true do end'", "looping")
  T.eq({ out, status }, { "looping\n", 3 }, "stdout and status")
  T.contains(err, "interrupted!", "stderr")
end)

T.test("Ctrl-C stops a loop inside a coroutine, and reaches the main thread even through a protected resume", function()
  for _, code in ipairs({ 'coroutine.wrap(function() while true do end end)()',
      'local co = coroutine.create(function() while true do end end) print(coroutine.resume(co)) print("went on")' }) do
    local tmp, cleanup <close> = T.tempdir()
    local out, err, status = interrupt_when(tmp, "-e " .. T.q('print("looping") io.stdout:flush() ' .. code), "looping")
    T.eq({ out, status }, { "looping\n", 3 }, "stdout and status of " .. code)
    T.contains(err, "interrupted!", "stderr")
  end
end)

T.done()
