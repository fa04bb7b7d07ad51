-- Sources: --root and --proc-root, files opened beneath a tree's directory only, process handles
-- (proc.open) that never read another process, key order and units (proc.keys, proc.unit).

local T = require "testing"

local format = string.format

local tmp, cleanup <close> = T.tempdir()

local STATUS = "Name:\t1234\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nGroups:\t0\n" ..
  "NStgid:\t42\nNSpid:\t42\nNSpgid:\t42\nNSsid:\t42\nVmRSS:\t    132 kB\nThreads:\t1\n"

-- A captured machine written by hand: proc/42 and proc/meminfo, and sys/fs/cgroup files.
local function machine(dir)
  T.sh(format("mkdir -p %s/proc/42 %s/sys/fs/cgroup/system.slice/a.service %s/sys/fs/cgroup/b.slice",
              T.q(dir), T.q(dir), T.q(dir)))
  T.write(dir .. "/proc/42/status", STATUS)
  T.write(dir .. "/proc/42/comm", "x\n")
  T.write(dir .. "/proc/meminfo", "MemTotal:  1 kB\nHugePages_Total:   0\n")
  T.write(dir .. "/sys/fs/cgroup/system.slice/a.service/memory.current", "4096\n")
  T.write(dir .. "/sys/fs/cgroup/memory.stat", "anon 4096\nfile 0\n")
  return dir
end

local m = machine(tmp .. "/m")

local sanitized = T.sh(T.memscript_command() .. " -e " .. T.q('print(io.open("/proc/self/maps"):read("a"):find("libasan", 1, true) ~= nil)'))
  == "true\n"

T.test("--root DIR reads DIR/proc and DIR/sys; proc.read and proc.list take the tree as \"sys\"", function()
  local code = [[print(proc.root(), proc.comm(42), proc.meminfo().MemTotal,
    proc.read("fs/cgroup/system.slice/a.service/memory.current", "sys"),
    table.concat(proc.list("fs/cgroup", "sys"), ","), table.concat(proc.pids(), ","))]]
  local out, err, status = T.memscript(nil, format("--root %s -e %s", T.q(m), T.q(code)))
  T.eq({ out, err, status },
       { format("%s/proc\tx\t1024\t4096\n\tb.slice,memory.stat,system.slice\t42\n", m), "", 0 }, "output")
end)

T.test("--proc-root keeps reading a proc tree, or a capture's top as before; its sys tree is the capture's", function()
  local out = T.memscript(m .. "/proc", "-e 'print(proc.comm(42), select(3, proc.read(\"fs\", \"sys\")))'")
  T.eq(out, "x\t2\n", "a proc tree alone has no sys tree: ENOENT")
  out = T.memscript(m, "-e 'print(proc.comm(42), proc.read(\"fs/cgroup/memory.stat\", \"sys\"))'")
  T.eq(out, "x\tanon 4096\nfile 0\n\n", "the top of a capture: both trees")
end)

T.test("an archive of a captured machine: proc and sys, whatever directory it was packed from", function()
  local tar = tmp .. "/m.tar.gz"
  T.sh(format("tar -C %s -czf %s m", T.q(tmp), T.q(tar)))
  for _, option in ipairs({ "--root", "--proc-root" }) do
    local out, err, status = T.memscript(nil, format("%s %s -e %s", option, T.q(tar),
      T.q([[print(proc.comm(42), proc.read("fs/cgroup/memory.stat", "sys"), select(2, proc.read("nothing")))]])))
    T.eq({ out, err, status }, { format("x\tanon 4096\nfile 0\n\t%s:nothing: No such file or directory\t2\n", tar), "", 0 },
         option)
  end
end)

T.test("a FIFO, a device or a directory where a file is expected is refused at once, naming it", function()
  local dir = machine(tmp .. "/fifo")
  T.sh(format("mkfifo %s/proc/42/smaps && ln -s /dev/zero %s/proc/42/maps && mknod %s/proc/42/statm c 1 5 " ..
              "&& mkdir %s/proc/42/cmdline", T.q(dir), T.q(dir), T.q(dir), T.q(dir)))
  local code = [[for _, f in ipairs({"smaps", "maps", "statm", "cmdline"}) do print(proc[f](42)) end]]
  local out, err, status = T.memscript(nil, format("--timeout 10 --root %s -e %s", T.q(dir), T.q(code)))
  local p = dir .. "/proc/42/"
  T.eq({ out, err, status }, { table.concat({
    format("nil\t%ssmaps: not a regular file (a FIFO, a device or a socket is never read)\t22\n", p),
    format("nil\t%smaps: a symbolic link in a captured tree (captures hold none; it is not followed)\t40\n", p),
    format("nil\t%sstatm: not a regular file (a FIFO, a device or a socket is never read)\t22\n", p),
    format("nil\t%scmdline: Is a directory\t21\n", p) }), "", 0 }, "each refused")
end)

T.test("a huge file in a captured tree is refused at once, naming it; a line of smaps past 16 MiB too", function()
  local dir = machine(tmp .. "/huge")
  -- sparse: 8 GiB that take no disk, as a file planted to make memscript read for ever
  T.sh(format("truncate -s 8G %s/sys/fs/cgroup/system.slice/a.service/memory.current %s/proc/42/status",
              T.q(dir), T.q(dir)))
  -- a first line that never ends: 17 MiB without a newline
  T.sh(format("head -c %d /dev/zero | tr '\\0' x > %s/proc/42/smaps", 17 * 1024 * 1024, T.q(dir)))
  local code = [[
print(proc.cgroup.memory("/system.slice/a.service"))
print(proc.status(42))
print(proc.smaps(42))
print(proc.smaps_sums(42, {"Rss"}))]]
  local out, err, status = T.memscript(nil, format("--timeout 20 --root %s -e %s", T.q(dir), T.q(code)),
                                       { prefix = "/usr/bin/time -f %M" })
  local p = dir .. "/proc/42/"
  T.eq({ out, status }, { table.concat({
    format("nil\t%s/sys/fs/cgroup/system.slice/a.service/memory.current: File too large\t27\n", dir),
    format("nil\t%sstatus: File too large\t27\n", p),
    format("nil\t%ssmaps: File too large\t27\n", p),
    format("nil\t%ssmaps: File too large\t27\n", p) }), 0 }, "each refused, named")
  -- nothing near the file's size was held: the largest resident size, in kB, under 200 MiB (under
  -- AddressSanitizer the resident size says nothing of memscript's own use)
  if not sanitized then T.ok(tonumber(err:match("(%d+)%s*$")) < 200 * 1024, "resident at most: " .. err) end
end)

T.test("a symbolic link planted in a captured tree is never followed, not even for the tree's directories", function()
  local dir = machine(tmp .. "/links")
  T.sh(format("mkdir %s/elsewhere && printf 'secret\\n' > %s/elsewhere/comm && ln -s ../../elsewhere %s/proc/43",
              T.q(tmp), T.q(tmp), T.q(dir)))
  local out = T.memscript(nil, format("--root %s -e %s", T.q(dir), T.q([[print(proc.comm(43))]])))
  T.eq(out, format("nil\t%s/proc/43/comm: a symbolic link in a captured tree (captures hold none; it is not followed)\t40\n",
                   dir), "the link to a directory outside")
end)

T.test("a name that leaves the tree is refused: \"..\" and absolute paths", function()
  local out = T.memscript(nil, format("--root %s -e %s", T.q(m), T.q([[
print(proc.read("../proc/meminfo"))
print(proc.read("42/../../m/proc/meminfo"))
print(pcall(proc.read, "/etc/passwd"))]])))
  T.eq(out, format("nil\t%s/proc/../proc/meminfo: names a file outside the tree\t22\n", m) ..
            format("nil\t%s/proc/42/../../m/proc/meminfo: names a file outside the tree\t22\n", m) ..
            "false\tbad argument #1 to 'memscript.read' (a path relative to the tree's top expected)\n", "refusals")
end)

T.test("status keys printed as lists or names stay strings whatever digits they hold", function()
  local out = T.memscript(m, "-e " .. T.q([[
local s = proc.status(42)
for _, k in ipairs({"Name", "Umask", "Groups", "NStgid", "NSpid", "NSpgid", "NSsid", "Tgid", "VmRSS", "Threads"}) do
  io.write(k, "=", math.type(s[k]) or type(s[k]), " ")
end]]))
  T.eq(out, "Name=string Umask=string Groups=string NStgid=string NSpid=string NSpgid=string NSsid=string " ..
            "Tgid=integer VmRSS=integer Threads=integer ", "types")
end)

T.test("proc.keys gives the kernel's order, proc.unit which values it printed in kB", function()
  local out = T.memscript(m, "-e " .. T.q([[
local s = proc.status(42)
print(table.concat(proc.keys(s), ","))
print(proc.unit(s, "VmRSS"), proc.unit(s, "Threads"), proc.unit(s, "Name"), proc.keys({}))
local mi = proc.meminfo()
print(table.concat(proc.keys(mi), ","), proc.unit(mi, "MemTotal"), proc.unit(mi, "HugePages_Total"))]]))
  T.eq(out, "Name,Umask,State,Tgid,Pid,Groups,NStgid,NSpid,NSpgid,NSsid,VmRSS,Threads\n" ..
            "kB\tnil\tnil\tnil\nMemTotal,HugePages_Total\tkB\tnil\n", "keys and units")
end)

T.test("smaps mappings carry their key order; mappings with the same keys share it", function()
  local live = proc.smaps("self")
  local first = proc.keys(live[1])
  T.eq(first[1], "Size", "the first key after the header")
  T.eq(first[#first], "VmFlags", "the last")
  T.eq(proc.unit(live[1], "Rss"), "kB", "Rss in kB")
  T.eq(proc.unit(live[1], "THPeligible"), nil, "THPeligible has no unit")
  local text = proc.read("self/smaps")
  local keys = {}
  for key in text:match("^[^\n]*\n(.-)\n%x+%-"):gmatch("([%w_]+):") do keys[#keys + 1] = key end
  T.eq(first, keys, "the order of the text")
  T.ok(getmetatable(live[1]) == getmetatable(live[2]), "one shared layout")
  T.eq(proc.keys(proc.maps("self")[1]), nil, "maps mappings have no Key: value lines")
end)

-- A process started by the shell: its pid, and a function that ends it.
local function start(command)
  local pid = tonumber(T.sh(format("(%s) >/dev/null 2>&1 </dev/null & echo $!", command)))
  return pid, function() os.execute("kill -9 " .. pid .. " 2>/dev/null; wait " .. pid .. " 2>/dev/null") end
end

local function wait_for(what, fn)
  for _ = 1, 200 do
    if fn() then return end
    os.execute("sleep 0.02")
  end
  error("timed out waiting for " .. what, 2)
end

T.test("a process handle reads one process; once it has ended, reads fail with ESRCH and changed() says gone", function()
  local pid, stop = start("exec sleep 1000")
  wait_for("the exec", function() return proc.comm(pid) == "sleep" end)
  local p = assert(proc.open(pid))
  T.eq({ p.pid, p:changed(), p:comm() }, { pid, false, "sleep" }, "open")
  T.eq(p:status().Pid, pid, "status through the handle")
  T.eq(#p:maps() > 0, true, "maps through the handle")
  stop()
  wait_for("the process to end", function() return proc.stat(pid) == nil end)
  T.eq(p:changed(), "gone", "changed")
  T.eq({ p:smaps() }, { nil, format("/proc/%d/smaps: No such process", pid), 3 }, "smaps after the end")
  p:close()
  T.raises(function() p:comm() end, "process handle is closed", "after close")
end)

T.test("a process handle sees an exec: changed() says exec, and the pid's reads come from the new image", function()
  local ready = tmp .. "/trap-set"
  local pid, stop = start(format("trap 'exec sleep 1000' USR1; : > %s; while :; do sleep 0.05; done", T.q(ready)))
  wait_for("the trap to be set", function() return T.read_if(ready) ~= nil end)
  local p <close> = assert(proc.open(pid))
  local before = p:comm()
  T.eq(p:changed(), false, "before")
  os.execute("kill -USR1 " .. pid)
  wait_for("the exec", function() return proc.comm(pid) == "sleep" end)
  T.eq({ before ~= "sleep", p:changed(), p:comm() }, { true, "exec", "sleep" }, "after")
  stop()
end)

T.test("\"self\" names memscript's own process, by its pid", function()
  local p <close> = assert(proc.open("self"))
  T.eq(p.pid, proc.stat("self").pid, "pid")
  T.eq(tostring(p), "process " .. p.pid, "tostring")
end)

T.done()
