-- The Debian package as a user gets it: installed with apt-get, used from /usr/bin with no checkout
-- on the path, its units and definitions run as installed, then removed and purged, leaving no
-- file behind. Run by ./build.sh test (as root, on a machine it may change) after the package is
-- built: build/memscript tests/package/installed.lua build-deb/memscript_VERSION_ARCH.deb

local T = require "testing"
local live = require "livehelper"

local deb = assert(arg[1], "usage: installed.lua PACKAGE.deb")
deb = deb:sub(1, 1) == "/" and deb or (T.source .. "/" .. deb)
local unit_dir = "/lib/systemd/system"
local service = unit_dir .. "/memscript-exporter.service"
local textfile_dir = "/var/lib/prometheus/node-exporter"
local tmp, tmp_cleanup <close> = T.tempdir()

local function has(program)
  local _, _, status = T.run("command -v " .. program)
  return status == 0
end

local function lines(text)
  local list = {}
  for line in text:gmatch("[^\n]+") do list[#list + 1] = line end
  return list
end

local apt = "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q "

-- Every file and directory on the root file system but those that change on their own (logs,
-- caches, apt's lists, /tmp, /run), the checkout with its builds and what lies beside it (shared/,
-- other checkouts).
local function snapshot()
  local pruned = { "/proc", "/sys", "/dev", "/run", "/tmp", "/var/tmp", "/var/cache", "/var/log", "/var/lib/apt",
    T.source:match("^(.+)/[^/]+$") or T.source }
  local parts = {}
  for _, path in ipairs(pruned) do parts[#parts + 1] = "-path " .. T.q(path) end
  return T.sh("find / -xdev \\( " .. table.concat(parts, " -o ") .. " \\) -prune -o -print | LC_ALL=C sort")
end

local before
local function installed()
  local _, _, status = T.run("dpkg-query -W -f='${Status}' memscript 2>/dev/null | grep -q 'install ok installed'")
  return status == 0
end

T.test("apt-get install ./" .. deb:match("[^/]+$") .. " installs memscript", function()
  if installed() or T.run("dpkg-query -W -f='${Status}' memscript 2>/dev/null") ~= "" then
    T.sh(apt .. "purge memscript")   -- a copy from an earlier run: the file list is taken without it
  end
  before = snapshot()
  local out, err, status = T.run("cd " .. T.q(deb:match("^(.*)/")) .. " && " .. apt .. "install ./" .. T.q(deb:match("[^/]+$")))
  T.eq(status, 0, "apt-get install: " .. out .. err)
  T.ok(installed(), "dpkg says memscript is installed")
end)

if not installed() then T.done() end

T.test("the package is memscript_VERSION_ARCH.deb, VERSION the project's and memscript -v's", function()
  local version = T.read(T.source .. "/CMakeLists.txt"):match("project%(memscript VERSION ([%d.]+)")
  local arch = T.sh("dpkg --print-architecture"):gsub("\n", "")
  T.eq(deb:match("[^/]+$"), "memscript_" .. version .. "_" .. arch .. ".deb", "the file name")
  T.eq(T.sh("dpkg-query -W -f='${Version}' memscript"), version, "the installed version")
  local out = T.memscript(nil, "-v")
  T.contains(out, "memscript " .. version, "memscript -v")
end)

T.test("it depends on the packages of the libraries /usr/bin/memscript is linked with, and no more", function()
  local depends = {}
  for name in T.sh("dpkg-query -W -f='${Depends}' memscript"):gmatch("([%w.+-]+)[^,]*") do depends[#depends + 1] = name end
  table.sort(depends)
  -- each library the binary names (NEEDED), where the dynamic linker finds it (ldd), and the
  -- package that ships that file (under /lib or /usr/lib: one directory on a merged-/usr system)
  local found = {}
  for soname, path in T.sh("ldd /usr/bin/memscript"):gmatch("(%S+) => (%S+)") do found[soname] = path end
  local needed, seen = {}, {}
  for soname in T.sh("objdump -p /usr/bin/memscript"):gmatch("NEEDED%s+(%S+)") do
    local path = found[soname]
    T.ok(path, "ldd finds " .. soname)
    local other = path:match("^/usr(/lib/.*)$") or ("/usr" .. path)
    local out, _, status = T.run("dpkg -S " .. T.q(path))
    if status ~= 0 then out, _, status = T.run("dpkg -S " .. T.q(other)) end
    T.eq(status, 0, "the package of " .. soname .. " (" .. path .. ")")
    local package = out:match("^([^:,]+)")
    if not seen[package] then needed[#needed + 1] = package; seen[package] = true end
  end
  table.sort(needed)
  -- Lua, LPeg and lua-cjson are linked in from their static archives; libedit and libarchive are
  -- loaded with dlopen when wanted, so the C library is all the binary needs to start.
  T.ok(seen.libc6, "libc6 is among the packages found: " .. table.concat(needed, " "))
  T.ok(not T.sh("objdump -p /usr/bin/memscript"):find("liblua", 1, true), "no shared liblua: Lua is linked in")
  T.eq(depends, needed, "Depends")
  T.eq(T.sh("dpkg-query -W -f='${Recommends}' memscript"), "libarchive13, libedit2",
    "Recommends: libarchive, loaded for archives only, and libedit, loaded for the REPL's line editing")
end)

T.test("from /usr/bin, with no checkout on the path: memscript report.lua $$ and memscript --list", function()
  local out, err, status = T.run("cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c " ..
    T.q("command -v memscript && echo $$ && memscript report.lua $$"))
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local list = lines(out)
  T.eq(list[1], "/usr/bin/memscript", "the memscript found")
  T.ok(list[3]:match("^" .. list[2] .. ":%s+sh"), "the report's first line names the shell: " .. list[3])
  T.eq(list[4], "Address           Kbytes     RSS   Dirty Mode  Mapping", "pmap -x's header")
  T.ok(list[#list]:match("^total kB%s+%d+%s+%d+%s+%d+$"), "the total: " .. list[#list])
  local listed = T.sh("cd / && env -i PATH=/usr/bin:/bin memscript --list")
  local names = {}
  for _, line in ipairs(lines(listed)) do names[#names + 1] = line:match("^([%w_-]+%.lua) ") end
  local installed_scripts = lines(T.sh("cd /usr/share/memscript/scripts && ls *.lua"))
  T.eq(names, installed_scripts, "--list names the installed scripts")
  T.eq(installed_scripts, lines(T.sh("cd " .. T.q(T.source .. "/scripts") .. " && ls *.lua")), "every bundled script")
  local _, missing = T.run("cd / && env -i PATH=/usr/bin:/bin memscript no-such-script.lua")
  T.contains(missing, "and /usr/bin/../share/memscript/scripts)", "the bundled scripts are looked for beside /usr/bin")
end)

T.test("the man page, the completion and the definitions are where the docs say", function()
  T.eq(T.sh("man -w memscript"), "/usr/share/man/man1/memscript.1.gz\n", "man -w memscript")
  T.contains(T.sh("MANWIDTH=100 man memscript 2>/dev/null"), "memscript - inspect Linux process memory", "the man page")
  local out = T.sh("cd / && bash --norc --noprofile -c " .. T.q(
    "source /usr/share/bash-completion/completions/memscript && complete -p memscript && " ..
    "COMP_WORDS=(memscript rep) COMP_CWORD=1 && _memscript memscript rep memscript && printf '%s\\n' \"${COMPREPLY[@]}\""))
  T.eq(out, "complete -F _memscript memscript\nreport.lua\n", "the installed completion completes 'memscript rep'")
  for _, path in ipairs({ "icinga2/memscript.conf", "nagios/memscript.cfg", "prometheus/memscript.rules.yml" }) do
    T.eq(T.read("/usr/share/memscript/monitoring/" .. path), T.read(T.source .. "/dist/monitoring/" .. path), path)
  end
  T.ok(T.read_if("/usr/share/doc/memscript/monitoring.md.gz"), "docs/monitoring.md in /usr/share/doc/memscript")
end)

T.test("the exporter's user memscript exists, with no login", function()
  local entry = T.sh("getent passwd memscript")
  T.ok(entry:match("^memscript:x:%d+:%d+:[^:]*:/nonexistent:/usr/sbin/nologin\n$"), "getent passwd memscript: " .. entry)
  local uid = tonumber(entry:match("^memscript:x:(%d+):"))
  T.ok(uid > 0 and uid < 1000, "a system uid: " .. uid)
end)

T.test("systemd-analyze verify has nothing to say about the installed units", function()
  local out, err, status = T.run("systemd-analyze verify " .. service .. " " .. unit_dir .. "/memscript-exporter.timer")
  T.eq({ out, err, status }, { "", "", 0 }, "systemd-analyze verify")
  local score = T.sh("systemd-analyze security --offline=true " .. service):match("Overall exposure level for memscript%-exporter%.service: (%d+%.%d+ %u+)")
  T.contains(T.read(T.source .. "/docs/monitoring.md"), "memscript-exporter.service: " .. tostring(score),
    "the installed unit's score, as docs/monitoring.md records it")
end)

-- The settings of the installed service: key -> list of values.
local function unit_settings()
  local t = {}
  for line in T.read(service):gmatch("[^\n]+") do
    local key, value = line:match("^(%w+)=(.*)$")
    if key then t[key] = t[key] or {} table.insert(t[key], value) end
  end
  return t
end

T.test("systemctl start memscript-exporter.service writes the file and links it for node_exporter", function()
  local init = T.sh("ps -p 1 -o comm="):gsub("\n", "")
  if init ~= "systemd" then
    T.skip("systemd is not PID 1 here (PID 1 is " .. init .. "), so systemctl cannot start the service; " ..
      "the next test runs its command lines as systemd would, with its user and capabilities", "anywhere")
  end
  if T.run("test -d " .. textfile_dir .. " && echo yes") ~= "yes\n" then
    T.skip("prometheus-node-exporter is not installed: the service's condition")
  end
  T.sh("systemctl start memscript-exporter.service")
  T.eq(T.sh("stat -c '%U %a' /var/lib/memscript/memscript.prom"), "memscript 644\n", "the file's owner and mode")
  T.eq(T.sh("readlink " .. textfile_dir .. "/memscript.prom"), "/var/lib/memscript/memscript.prom\n", "the link")
  T.contains(T.read(textfile_dir .. "/memscript.prom"), "\nmemscript_processes_read ", "the gauges")
end)

T.test("the installed service's command lines, as its user with its capabilities: the file, the link", function()
  if T.run("test -d " .. textfile_dir .. " && echo yes") ~= "yes\n" then
    T.skip("prometheus-node-exporter is not installed: the service's condition")
  end
  local unit = unit_settings()
  local caps = unit.AmbientCapabilities[1]:gsub("CAP_(%u+)", function(name) return "+" .. name:lower() end):gsub(" ", ",")
  T.eq(unit.CapabilityBoundingSet[1], unit.AmbientCapabilities[1], "the bounding set is the ambient set")
  local user, group = unit.User[1], unit.Group[1]
  -- what systemd does for StateDirectory= and StateDirectoryMode=
  T.sh("install -d -o " .. user .. " -g " .. group .. " -m " .. unit.StateDirectoryMode[1] .. " /var/lib/" .. unit.StateDirectory[1])
  local set = "-all," .. caps
  local _, err, status = T.run("cd / && umask " .. unit.UMask[1] .. " && env -i PATH=/usr/bin:/bin setpriv --reuid=" .. user ..
    " --regid=" .. group .. " --clear-groups --inh-caps=" .. set .. " --ambient-caps=" .. set .. " --bounding-set=" .. set ..
    " --no-new-privs " .. unit.ExecStart[1])
  T.eq({ err, status }, { "", 0 }, "ExecStart's stderr and status")
  T.sh((unit.ExecStartPost[1]:gsub("^%+", "")))
  T.eq(T.sh("stat -c '%U %a' /var/lib/memscript/memscript.prom"), "memscript 644\n", "the file's owner and mode")
  T.eq(T.sh("readlink " .. textfile_dir .. "/memscript.prom"), "/var/lib/memscript/memscript.prom\n", "the link")
  local text = T.read(textfile_dir .. "/memscript.prom")
  T.contains(text, "# TYPE memscript_process_rss_bytes gauge\n", "the process gauges")
  local read = tonumber(text:match("\nmemscript_processes_read (%d+)\n"))
  T.ok(read and read > 1, "processes read: " .. tostring(read))
end)

T.test("the installed Nagios and Icinga 2 commands run unchanged: CRITICAL for a process with writable+executable memory", function()
  if not has("sudo") then T.skip("sudo is not installed") end
  local h = live.start()
  local ok, problem = pcall(function()
    local commands = {}
    for line in T.read("/usr/share/memscript/monitoring/nagios/memscript.cfg"):gmatch("command_line%s+([^\n]+)") do
      commands[#commands + 1] = (line:gsub("%$ARG1%$", "--rss 2G,4G"))
    end
    for command in T.read("/usr/share/memscript/monitoring/icinga2/memscript.conf"):gmatch("command = %[(.-)%]") do
      local words = {}
      for word in command:gmatch('"([^"]*)"') do words[#words + 1] = T.q(word) end
      commands[#commands + 1] = table.concat(words, " ") .. " all"
    end
    T.eq(#commands, 4, "four commands")
    for _, command in ipairs(commands) do
      local out, _, status = T.run("cd / && " .. command)
      T.eq(status, 2, command .. ": status (output: " .. out .. ")")
      T.contains(out, "writable+executable mapping in pid " .. h.pid, command .. ": output")
    end
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("apt-get remove takes the link away; purge the state, the user, and every file", function()
  T.sh(apt .. "remove memscript")
  local _, _, link = T.run("test -L " .. textfile_dir .. "/memscript.prom")
  T.ok(link ~= 0, "the link in node_exporter's directory is gone")
  T.sh(apt .. "purge memscript")
  T.ok(not installed(), "memscript is no longer installed")
  T.eq(T.run("dpkg-query -W -f='${Status}' memscript 2>/dev/null"), "", "dpkg knows nothing of memscript")
  local _, _, user = T.run("getent passwd memscript")
  T.ok(user ~= 0, "the user memscript is gone")
  local after = snapshot()
  if after ~= before then
    local a, b = {}, {}
    for line in before:gmatch("[^\n]+") do b[line] = true end
    for line in after:gmatch("[^\n]+") do a[line] = true end
    local added, lost = {}, {}
    for line in pairs(a) do if not b[line] then added[#added + 1] = line end end
    for line in pairs(b) do if not a[line] then lost[#lost + 1] = line end end
    table.sort(added)
    table.sort(lost)
    T.eq({ added = added, lost = lost }, { added = {}, lost = {} }, "files after the purge against before the install")
  end
end)

T.done()
