-- capture.lua run as root where other users can write: it never writes through a name someone else
-- planted, never into a directory someone else controls, keeps its tree private from the first
-- byte, never blocks on a FIFO, and never mixes two program images of one process.

local T = require "testing"

local format = string.format

local capture_script = T.source .. "/scripts/capture.lua"

if T.run("id -u") ~= "0\n" then
  T.test("capture.lua as root in directories other users write", function()
    T.skip("needs root, to plant files as another user (nobody)")
  end)
  T.done()
end

local function capture(args)
  return T.memscript(nil, "--timeout 60 " .. T.q(capture_script) .. " " .. args)
end

-- A shell command run as nobody.
local function as_nobody(cmd)
  return T.sh(format("setpriv --reuid=65534 --regid=65534 --clear-groups sh -c %s", T.q(cmd)))
end

local function mode_owner(path)
  return T.sh("stat -c '%a %U' " .. T.q(path)):match("[^\n]*")
end

local tmp, cleanup <close> = T.tempdir()
T.sh("chmod 755 " .. T.q(tmp))
-- Like /tmp: anyone may write, the sticky bit set.
local shared = tmp .. "/shared"
T.sh(format("mkdir -m 1777 %s", T.q(shared)))
-- A root-owned file an attacker would like overwritten.
local precious = tmp .. "/precious"
T.write(precious, "root's own\n")
T.sh("chmod 600 " .. T.q(precious))

T.test("--tar FILE, a link planted by nobody to a root-owned file: the link is replaced, the file untouched", function()
  local tar = shared .. "/planted.tar"
  as_nobody(format("ln -s %s %s", T.q(precious), T.q(tar)))
  local _, err, status = capture(format("--tar %s %s self", T.q(tar), T.q(tmp .. "/c1")))
  T.eq(status, 0, "exit status (" .. err .. ")")
  T.eq(T.read(precious), "root's own\n", "the file the link named")
  T.eq(mode_owner(precious), "600 root", "its mode and owner")
  T.eq(T.sh("stat -c %F " .. T.q(tar)), "regular file\n", "the name is now the archive, no longer a link")
  T.eq(mode_owner(tar), "600 root", "the archive is private")
  T.ok(assert(proc.at(tar)).read("memscript-capture") ~= nil, "and holds the capture")
end)

T.test("--tar FILE pre-created 0666 by nobody: a new private file takes its name; nobody's file gets nothing", function()
  local tar = shared .. "/open.tar"
  as_nobody(format("umask 0; : > %s; sleep 60 <%s >/dev/null 2>&1 & echo $! > %s/reader", T.q(tar), T.q(tar),
                   T.q(shared)))
  local inode_before = T.sh("stat -c %i " .. T.q(tar))
  local _, err, status = capture(format("--tar %s %s self", T.q(tar), T.q(tmp .. "/c2")))
  T.eq(status, 0, "exit status (" .. err .. ")")
  T.ok(T.sh("stat -c %i " .. T.q(tar)) ~= inode_before, "another file now has the name")
  T.eq(mode_owner(tar), "600 root", "private to root")
  -- The file nobody made, still open in nobody's process, stayed empty.
  local reader = T.read(shared .. "/reader"):match("%d+")
  local held = T.sh(format("ls -l /proc/%s/fd/0", reader))
  T.contains(held, "(deleted)", "nobody's file is no longer in the directory")
  T.eq(T.sh(format("stat -L -c %%s /proc/%s/fd/0", reader)), "0\n", "and received nothing")
  os.execute("kill " .. reader)
end)

T.test("capture DIR that nobody owns, or that others may write to, is refused before anything is written", function()
  local theirs = shared .. "/theirs"
  as_nobody(format("mkdir -m 700 %s", T.q(theirs)))
  local out, err, status = capture(T.q(theirs) .. " self")
  T.eq({ out, err, status }, { "", format("memscript: %s: owned by uid 65534, not by the user capturing (uid 0): " ..
    "capture into a directory of your own\n", theirs), 3 }, "nobody's directory")
  T.eq(T.sh("ls -A " .. T.q(theirs)), "", "nothing written into it")
  local open = tmp .. "/open-dir"
  T.sh(format("mkdir -m 777 %s", T.q(open)))
  out, err, status = capture(T.q(open) .. " self")
  T.eq({ out, err, status }, { "", format("memscript: %s: others may write to it (mode 777): capture into a " ..
    "directory only you can write to\n", open), 3 }, "a directory of root's that others may write to")
  local link = shared .. "/link-dir"
  as_nobody(format("ln -s %s %s", T.q(tmp), T.q(link)))
  out, err, status = capture(T.q(link) .. " self")
  T.eq({ out, err, status }, { "", format("memscript: %s: not a directory (a symbolic link is not followed)\n", link), 3 },
    "a link planted in its place")
end)

T.test("capture DIR made now: 0700, its tree 0700 and every file 0600, whatever the umask", function()
  local d = tmp .. "/fresh"
  local _, err, status = T.run(format("umask 0 && %s --timeout 60 %s %s self", T.memscript_command(),
    T.q(capture_script), T.q(d)))
  T.eq(status, 0, "exit status (" .. err .. ")")
  T.eq(mode_owner(d), "700 root", "DIR")
  local modes = T.sh(format("find %s -mindepth 1 -printf '%%y %%m\\n' | sort | uniq -c", T.q(d)))
  local kinds = {}
  for count, kind, mode in modes:gmatch("(%d+) (%a) (%d+)") do kinds[#kinds + 1] = kind .. " " .. mode end
  T.eq(kinds, { "d 700", "f 600" }, "every directory 0700, every file 0600: " .. modes)
end)

T.test("a FIFO where DIR/proc would go: refused at once, never opened", function()
  local d = tmp .. "/fifo-dir"
  T.sh(format("mkdir -m 700 %s && mkfifo %s/proc", T.q(d), T.q(d)))
  local out, err, status = capture(T.q(d) .. " self")
  T.eq({ out, err, status }, { "", format("memscript: %s/proc: already exists; capture into a new directory\n", d), 3 },
    "output")
end)

-- A process that runs one program, then another, forever under one pid: dash and bash in turn.
local function exec_loop()
  local script = tmp .. "/flip.sh"
  T.write(script, "if [ -n \"$BASH_VERSION\" ]; then exec /bin/dash \"$0\"; else exec /bin/bash \"$0\"; fi\n")
  local pid = tonumber(T.sh(format("(exec /bin/dash %s) >/dev/null 2>&1 </dev/null & echo $!", T.q(script))))
  return pid, function() os.execute("kill -9 " .. pid .. " 2>/dev/null") end
end

-- The programs (dash, bash) whose executable a maps or smaps text maps, as a sorted list.
local function programs(text)
  local found, list = {}, {}
  for name in text:gmatch("/bin/(%a+)\n") do found[name] = true end
  for name in pairs(found) do list[#list + 1] = name end
  table.sort(list)
  return list
end

T.test("a process that keeps running new programs is captured whole from one image, or left out as changed", function()
  local pid, stop = exec_loop()
  local whole, changed, n = 0, 0, 0
  while n < 200 and (whole == 0 or changed == 0) do
    n = n + 1
    local d = format("%s/flip%d", tmp, n)
    local _, err, status = capture(T.q(d) .. " " .. pid)
    local root = d .. "/proc/" .. pid
    if status == 0 then
      whole = whole + 1
      -- (a process just started by exec may still be mapping its libraries: maps and smaps may
      -- differ by those, but never by the program)
      local program = T.read(root .. "/comm"):match("[^\n]*")
      T.eq(programs(T.read(root .. "/maps")), { program }, "capture " .. n .. ": maps shows the program comm names")
      T.eq(programs(T.read(root .. "/smaps")), { program }, "capture " .. n .. ": and so does smaps")
    else
      T.eq(status, 3, "capture " .. n .. ": exit status (" .. err .. ")")
      T.ok(err:find("the process ran another program while it was read", 1, true) or
           err:find("No such file or directory", 1, true), "capture " .. n .. ": why: " .. err)
      if err:find("another program", 1, true) then changed = changed + 1 end
      T.eq(T.read_if(root .. "/maps"), nil, "capture " .. n .. ": nothing of the process written")
    end
  end
  stop()
  T.ok(whole > 0, "some captures were whole (" .. n .. " tries)")
  T.ok(changed > 0, "some captures saw the exec and left the process out (" .. n .. " tries)")
end)

T.done()
