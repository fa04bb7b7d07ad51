-- report.lua against procps-ng pmap: the same bytes for -x and -d on a stopped helper process.
local T = require "testing"
local live = require "livehelper"

local format, concat = string.format, table.concat

local have_pmap = select(3, T.run("command -v pmap")) == 0

-- Arguments with a tab, a newline, UTF-8, a byte that is not UTF-8, and empty ones, which pmap's
-- first line shows escaped.
local h = live.start({"--", "tab\there", "", "new\nline", "caf\xc3\xa9\xff", "x y", ""})
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})

-- Runs pmap and report.lua with the same options and locale. pmap runs before and after report.lua
-- so a page the kernel changed meanwhile shows as a pmap/pmap difference, and the pair is retried.
local function both(options, targets, locale)
  local env = "env LC_ALL=" .. locale .. " "
  local pmap_cmd = env .. "pmap " .. options .. " " .. targets
  local report_cmd = env .. T.q(T.bin) .. " report.lua " .. options .. " " .. targets
  for _ = 1, 5 do
    local before, _, pmap_status = T.run(pmap_cmd)
    local report, report_err, report_status = T.run(report_cmd)
    local after = T.run(pmap_cmd)
    if before == after then return report, before, report_status, pmap_status, report_err end
  end
  error("pmap's output kept changing", 2)
end

local function need_pmap()
  if not have_pmap then T.skip("pmap is not installed") end
end

local OPTIONS = {"-x", "-d", "-x -p", "-d -p", "-x -q", "-d -q", "-xp", "-dq"}

for _, locale in ipairs({"C", "C.UTF-8"}) do
  for _, options in ipairs(OPTIONS) do
    T.test(format("report.lua %s equals pmap %s on the stopped helper (LC_ALL=%s)", options, options, locale),
      function()
        need_pmap()
        local report, expected, status, _, err = both(options, tostring(h.pid), locale)
        T.eq(status, 0, "report.lua exit status (stderr: " .. err .. ")")
        T.same_text(report, expected, "report.lua " .. options)
      end)
  end
end

T.test("without options report.lua prints what pmap -x prints", function()
  need_pmap()
  local report = T.run("env LC_ALL=C " .. T.q(T.bin) .. " report.lua " .. h.pid)
  local _, expected = both("-x", tostring(h.pid), "C")
  T.same_text(report, expected, "report.lua without options")
end)

T.test("the helper's report names each kind of mapping as pmap does", function()
  need_pmap()
  local report = both("-x", tostring(h.pid), "C")
  for _, needle in ipairs({"  [ anon ]", "  [ stack ]", " data\n", " with space.bin\n",
                           " deleted.bin (deleted)\n", " memfd:memhelper (deleted)\n", " odd-??-?.bin\n",
                           "rwx--", "rw-s-", "r--s-", "-----", "total kB"}) do
    T.contains(report, needle, "report")
  end
  if h.regions.sysv then
    local shmid = tonumber(h.regions.sysv.what:match("shmid=(%d+)"))
    T.contains(report, format("  [ shmid=0x%x ]", shmid), "report")
  end
  -- In the C locale libproc2 turns control characters into '.' and other bytes above 0x7f into '?'.
  T.contains(report, format("%d:   %s -- tab.here  new line caf??? x y\n", h.pid, T.helper), "first line")
end)

T.test("a zombie: bracketed comm and <defunct>, no mappings, as pmap shows it", function()
  need_pmap()
  if not h.zombie then T.skip("the helper made no zombie") end
  for _, options in ipairs({"-x", "-d"}) do
    local report, expected = both(options, tostring(h.zombie), "C")
    T.same_text(report, expected, "report.lua " .. options .. " on a zombie")
    T.contains(report, format("%d:   [memhelper] <defunct>\n", h.zombie), "first line")
  end
end)

T.test("a kernel thread: bracketed comm, no mappings, zero totals, as pmap shows it", function()
  need_pmap()
  local comm = proc.comm(2)
  if comm ~= "kthreadd" then T.skip("pid 2 is not kthreadd here") end
  local report, expected = both("-x", "2", "C")
  T.same_text(report, expected, "report.lua -x 2")
  T.contains(report, "2:   [kthreadd]\n", "first line")
end)

T.test("several pids, /proc/PID and hexadecimal pids are read as pmap reads them", function()
  need_pmap()
  local targets = concat({h.pid, "/proc/" .. h.pid, format("0x%x", h.pid), h.zombie or h.pid}, " ")
  local report, expected = both("-d", targets, "C")
  T.same_text(report, expected, "report.lua -d " .. targets)
end)

T.test("report.lua's first line says what it is; --help prints the usage", function()
  local f = assert(io.open(T.source .. "/scripts/report.lua", "r"))
  T.eq(f:read("l"), "-- report.lua: pmap-style memory map of a process", "first line")
  T.eq(f:read("l"), "-- usage: memscript report.lua [-x | -d] [-p] [-q] PID...", "second line")
  f:close()
  local out, err, status = T.run(T.q(T.bin) .. " report.lua --help")
  T.eq(status, 0, "exit status")
  T.eq(err, "", "stderr")
  T.eq(out:match("^[^\n]*"), "usage: memscript report.lua [-x | -d] [-p] [-q] PID...", "usage line")
end)

T.test("bad arguments: a message and the usage on stderr, exit status 3", function()
  for _, args in ipairs({"", "-z 1", "-x -d 1", "abc", "0", "--extended"}) do
    local out, err, status = T.run(T.q(T.bin) .. " report.lua " .. args)
    T.eq(status, 3, "exit status for '" .. args .. "'")
    T.eq(out, "", "stdout for '" .. args .. "'")
    T.ok(err:find("^memscript: ") and err:find("usage: memscript report.lua", 1, true),
      "stderr for '" .. args .. "': " .. err)
  end
end)

T.test("a process that is gone: 'memscript: ' and the reason on stderr, exit status 3", function()
  local none = 0x7ffffffe   -- above any pid_max the kernel allows
  local out, err, status = T.run(T.q(T.bin) .. " report.lua " .. none)
  T.eq({out, err, status}, {"", format("memscript: /proc/%d/status: No such file or directory\n", none), 3},
    "output")
end)

T.test("unreadable smaps: 'memscript: ' and proc.smaps's message, exit status 3", function()
  -- A proc root holding the helper's status, cmdline and comm but no smaps.
  local root = os.tmpname()
  os.remove(root)
  assert(os.execute("mkdir -p " .. T.q(root .. "/" .. h.pid)))
  for _, name in ipairs({"status", "cmdline", "comm"}) do
    local src = assert(io.open(format("/proc/%d/%s", h.pid, name), "r"))
    local dst = assert(io.open(format("%s/%d/%s", root, h.pid, name), "w"))
    dst:write(src:read("a"))
    src:close()
    dst:close()
  end
  local out, err, status = T.run(format("%s --proc-root %s report.lua %d", T.q(T.bin), T.q(root), h.pid))
  for _, name in ipairs({"status", "cmdline", "comm"}) do os.remove(format("%s/%d/%s", root, h.pid, name)) end
  os.remove(root .. "/" .. h.pid)
  os.remove(root)
  local message = format("memscript: %s/%d/smaps: No such file or directory\n", root, h.pid)
  T.eq({out, err, status}, {"", message, 3}, "output")
end)

live.stop(h)
T.done()
