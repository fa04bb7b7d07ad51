-- memscript-exporter.service and .timer (dist/systemd): systemd-analyze verify and security, and
-- what the service does, run here with the credentials the unit gives it.
--
-- systemd is not PID 1 on every machine that runs the suite (not in a container), so the service is
-- not started through systemd here: its ExecStart and ExecStartPost lines, read from the unit the
-- build made, run under setpriv with the unit's user (nobody here), ambient and bounding
-- capabilities and no_new_privs, and under strace to hold memscript's system calls against the
-- unit's SystemCallFilter. tests/package/installed.lua starts it through systemctl where systemd runs.

local T = require "testing"
local live = require "livehelper"

local units = T.build .. "/dist/systemd"
local service_path = units .. "/memscript-exporter.service"
local timer_path = units .. "/memscript-exporter.timer"
local tmp, tmp_cleanup <close> = T.tempdir()
T.sh("chmod 0755 " .. T.q(tmp))   -- the unit's user (nobody here) reaches its state directory inside

local function has(program)
  local _, _, status = T.run("command -v " .. program)
  return status == 0
end

local function need_root()
  local _, _, status = T.run('test "$(id -u)" = 0')
  if status ~= 0 then T.skip("needs root, to act as another user with setpriv") end
end

-- The settings of a unit file: key -> list of values, in order.
local function settings(path)
  local t = {}
  for line in T.read(path):gmatch("[^\n]+") do
    local key, value = line:match("^(%w+)=(.*)$")
    if key then
      t[key] = t[key] or {}
      table.insert(t[key], value)
    end
  end
  return t
end

local service = settings(service_path)

local function one(key)
  local values = service[key]
  T.ok(values and #values == 1, "one " .. key .. "= line in the service")
  return values[1]
end

-- A root directory for systemd-analyze --root: the units in etc/systemd/system, the targets they
-- depend on, the binary at the path ExecStart names, /bin/ln for ExecStartPost, and the man page
-- that Documentation= names (found through MANPATH).
local function analyze_root()
  local root = tmp .. "/root"
  if T.read_if(root .. "/.made") then return root end
  local binary = one("ExecStart"):match("^(%S+)")
  T.sh("mkdir -p " .. T.q(root .. "/etc/systemd/system") .. " " .. T.q(root .. "/lib/systemd/system") .. " " ..
    T.q(root .. "/bin") .. " " .. T.q(root .. "/man/man1") .. " " .. T.q(root .. binary:match("^(.*)/")))
  T.sh("cp " .. T.q(service_path) .. " " .. T.q(timer_path) .. " " .. T.q(root .. "/etc/systemd/system/"))
  T.sh("cp -L /lib/systemd/system/*.target /lib/systemd/system/*.slice " .. T.q(root .. "/lib/systemd/system/"))
  T.sh("cp " .. T.q(T.bin) .. " " .. T.q(root .. binary) .. " && cp /bin/ln " .. T.q(root .. "/bin/ln"))
  T.sh("cp " .. T.q(T.source .. "/docs/memscript.1") .. " " .. T.q(root .. "/man/man1/"))
  T.write(root .. "/.made", "")
  return root
end

local function analyze(args)
  local root = analyze_root()
  return T.run("MANPATH=" .. T.q(root .. "/man") .. " systemd-analyze " .. args:gsub("ROOT", T.q(root)))
end

T.test("systemd-analyze verify passes the service and the timer with nothing to say", function()
  if not has("systemd-analyze") then T.skip("systemd-analyze is not installed (Debian package systemd)") end
  local out, err, status = analyze("verify --root=ROOT memscript-exporter.service memscript-exporter.timer")
  T.eq({ out, err, status }, { "", "", 0 }, "systemd-analyze verify")
  -- the same check sees a misspelt setting and a missing man page
  local root = analyze_root()
  local text = T.read(service_path)
  T.write(root .. "/etc/systemd/system/memscript-exporter.service", (text:gsub("\nProtectClock=", "\nProtectClok=")))
  local _, said = analyze("verify --root=ROOT memscript-exporter.service")
  T.contains(said, "Unknown key 'ProtectClok'", "a misspelt key")
  T.write(root .. "/etc/systemd/system/memscript-exporter.service", text)
  local _, no_man = T.run("MANPATH=/nonexistent systemd-analyze verify --root=" .. T.q(root) .. " memscript-exporter.service")
  T.contains(no_man, "man memscript(1)", "a man page that is not there")
end)

T.test("the service runs as its own user with CAP_SYS_PTRACE alone, and writes only its state directory", function()
  T.eq(one("User"), "memscript", "User")
  T.eq(one("AmbientCapabilities"), "CAP_SYS_PTRACE", "AmbientCapabilities")
  T.eq(one("CapabilityBoundingSet"), "CAP_SYS_PTRACE", "CapabilityBoundingSet")
  T.eq(one("NoNewPrivileges"), "yes", "NoNewPrivileges")
  T.eq(one("ProtectSystem"), "strict", "ProtectSystem")
  T.eq(one("PrivateTmp"), "yes", "PrivateTmp")
  T.eq(one("StateDirectory"), "memscript", "StateDirectory")
  T.eq(service.ReadWritePaths, nil, "no ReadWritePaths: the state directory is the only writable one")
  T.ok(one("ExecStart"):find(" -o /var/lib/memscript/memscript.prom ", 1, true), "ExecStart writes in the state directory")
  local timer = settings(timer_path)
  T.eq({ timer.OnUnitActiveSec, timer.WantedBy }, { { "1min" }, { "timers.target" } }, "the timer: every minute")
end)

-- The score systemd-analyze security gives the service, with the lines of what it leaves exposed.
local function security()
  local out, err, status = analyze("security --offline=true --root=ROOT " .. T.q(tmp .. "/root/etc/systemd/system/memscript-exporter.service"))
  T.eq(status, 0, "systemd-analyze security's status (stderr: " .. err .. ")")
  local exposed = {}
  for line in out:gmatch("[^\n]+") do
    if line:match("^✗") then exposed[#exposed + 1] = (line:gsub("%s+$", ""):gsub("%s%s+", "  ")) end
  end
  return out:match("Overall exposure level for memscript%-exporter%.service: (%d+%.%d+ %u+)"), exposed
end

T.test("docs/monitoring.md records the service's systemd-analyze security score and every exposure", function()
  if not has("systemd-analyze") then T.skip("systemd-analyze is not installed (Debian package systemd)") end
  local score, exposed = security()
  T.ok(score, "an overall exposure level")
  local doc = T.read(T.source .. "/docs/monitoring.md")
  T.contains(doc, "Overall exposure level for memscript-exporter.service: " .. score, "the score in docs/monitoring.md")
  local block = doc:match("```text\n(✗.-)\n```")
  T.ok(block, "docs/monitoring.md has a text block of the exposed settings")
  local documented = {}
  for line in block:gmatch("[^\n]+") do documented[#documented + 1] = (line:gsub("%s%s+", "  ")) end
  T.eq(documented, exposed, "the exposed settings, as docs/monitoring.md lists them")
end)

-- The ExecStart line with the installed paths replaced by the build's: the binary under test, the
-- scripts of the source tree, and dir for /var/lib/memscript.
local function exec_start(dir)
  local line = one("ExecStart")
  local words = {}
  for word in line:gmatch("%S+") do words[#words + 1] = word end
  words[1] = T.bin
  for i, word in ipairs(words) do
    word = word:gsub("^/var/lib/memscript/", dir .. "/")
    word = word:gsub("^.*/memscript/scripts/", T.source .. "/scripts/")
    words[i] = T.q(word)
  end
  return table.concat(words, " ")
end

-- setpriv's options for user (nobody by default) with the given capabilities ("" for none), as
-- systemd starts the service: ambient, inheritable and bounding set, no_new_privs, no other groups.
local function credentials(caps, user, group)
  local set = caps == "" and "-all" or ("-all," .. caps)
  return string.format("setpriv --reuid=%s --regid=%s --clear-groups --inh-caps=%s --ambient-caps=%s " ..
    "--bounding-set=%s --no-new-privs", user or "nobody", group or "nogroup", set, set, set)
end

local function unit_caps()
  return (one("AmbientCapabilities"):gsub("CAP_(%u+)", function(name) return "+" .. name:lower() end):gsub(" ", ","))
end

-- The gauges of an exposition text: "name{labels}" -> value text.
local function samples(text)
  local t = {}
  for line in text:gmatch("[^\n]+") do
    local series, value = line:match("^([%w_:]+%b{}) (%S+)$")
    if not series then series, value = line:match("^([%w_:]+) (%S+)$") end
    if series then t[series] = value end
  end
  return t
end

T.test("ExecStart, as the unit's user with its capabilities, reads the processes root reads", function()
  need_root()
  local h = live.start()
  local ok, problem = pcall(function()
    local state = tmp .. "/state"
    T.sh("mkdir -p " .. T.q(state) .. " && chown nobody:nogroup " .. T.q(state) .. " && chmod 0755 " .. T.q(state))
    local umask = one("UMask")
    local _, err, status = T.run("cd / && umask " .. umask .. " && " .. credentials(unit_caps()) ..
      " env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. exec_start(state))
    T.eq({ err, status }, { "", 0 }, "stderr and status of the service's command")
    local file = state .. "/memscript.prom"
    T.eq(T.sh("stat -c '%U %a' " .. T.q(file)), "nobody 644\n", "the file's owner and mode")
    local gauges = samples(T.read(file))
    -- as many processes unreadable as to root (a machine's init may be unreadable to both)
    local root_state = tmp .. "/state-root"
    T.sh("mkdir -p " .. T.q(root_state) .. " && cd / && env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " ..
      exec_start(root_state))
    local as_root = samples(T.read(root_state .. "/memscript.prom"))
    T.eq(gauges.memscript_processes_unreadable, as_root.memscript_processes_unreadable,
      "processes unreadable to the unit's user and to root")
    -- the helper is root's: read through CAP_SYS_PTRACE alone. Named by its pid in place of "all":
    -- among a machine's processes it need not be one of the --top largest.
    local named = assert(exec_start(state):match("^(.*) 'all'$"), "ExecStart ends with all") .. " " .. h.pid
    _, err, status = T.run("cd / && umask " .. umask .. " && " .. credentials(unit_caps()) ..
      " env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. named)
    T.eq({ err, status }, { "", 0 }, "stderr and status of the service's command for the helper's pid")
    local rss = samples(T.read(file))['memscript_process_rss_bytes{command="memhelper",pid="' .. h.pid .. '"}']
    local rollup = T.memscript(nil, "-e " .. T.q("print(proc.smaps_rollup(" .. h.pid .. ").Rss)"))
    T.eq(rss, rollup:gsub("\n$", ""), "the root helper's rss, as root reads it")
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

-- The pids whose smaps_rollup the given setpriv credentials are refused (EACCES), and those root
-- is refused, read in one run each.
local function refused(prefix)
  local code = 'for _, pid in ipairs(proc.pids()) do local r, _, errno = proc.smaps_rollup(pid) ' ..
    'if not r and errno == 13 then print(pid) end end'
  local out = T.sh(T.memscript_command(nil, "-e " .. T.q(code), { prefix = prefix, dir = "/" }))
  local set = {}
  for pid in out:gmatch("%d+") do set[tonumber(pid)] = true end
  return set
end

T.test("every process the unit's user may not read, root may not read either", function()
  need_root()
  local capped = refused(credentials(unit_caps()))
  local by_root = refused(nil)
  for pid in pairs(capped) do
    local _, _, gone = T.run("test -d /proc/" .. pid)
    T.ok(by_root[pid] or gone ~= 0, "pid " .. pid .. " is refused to the service's user and not to root")
  end
  local uncapped = refused(credentials(""))
  T.ok(next(uncapped) ~= nil, "without capabilities the same user is refused some processes (so the test can tell)")
end)

T.test("what each capability buys: CAP_SYS_PTRACE another user's smaps, CAP_DAC_READ_SEARCH its 0400 files", function()
  need_root()
  local h = live.start()
  local ok, problem = pcall(function()
    local code = "local r, e1 = proc.smaps_rollup(" .. h.pid .. ") local k, e2 = proc.ksm_stat(" .. h.pid .. ") " ..
      "print(r and 'smaps_rollup read' or e1) print(k and 'ksm_stat read' or e2)"
    local function as(caps)
      return T.sh(T.memscript_command(nil, "-e " .. T.q(code), { prefix = credentials(caps), dir = "/" }))
    end
    local denied_rollup = "/proc/" .. h.pid .. "/smaps_rollup: Permission denied"
    local denied_ksm = "/proc/" .. h.pid .. "/ksm_stat: Permission denied"
    T.eq(as(""), denied_rollup .. "\n" .. denied_ksm .. "\n", "no capability")
    T.eq(as("+dac_read_search"), denied_rollup .. "\nksm_stat read\n", "CAP_DAC_READ_SEARCH alone")
    T.eq(as("+sys_ptrace"), "smaps_rollup read\n" .. denied_ksm .. "\n", "CAP_SYS_PTRACE alone")
    T.eq(as("+sys_ptrace,+dac_read_search"), "smaps_rollup read\nksm_stat read\n", "both")
    -- smaps_rollup is world-readable, and guarded by the kernel's ptrace check; ksm_stat is the
    -- owner's alone (0400), guarded by its mode only
    T.eq(T.sh("stat -c %a /proc/" .. h.pid .. "/smaps_rollup /proc/" .. h.pid .. "/ksm_stat"), "444\n400\n",
      "the two files' modes")
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

-- The system calls in a SystemCallFilter expression (groups expanded by systemd-analyze).
local function syscall_set(expression)
  local set = {}
  local function add(name)
    if name:sub(1, 1) ~= "@" then set[name] = true; return end
    local out = T.sh("systemd-analyze syscall-filter " .. T.q(name))
    local first = true
    for line in out:gmatch("[^\n]+") do
      local word = line:match("^%s+([%w@_-]+)$")
      if first then first = false elseif word then add(word) end
    end
  end
  for name in expression:gmatch("%S+") do add(name) end
  return set
end

-- A memscript built with AddressSanitizer (build-asan) carries its runtime, which cannot run under
-- ptrace and makes system calls of its own: the filter is checked on the normal build, as shipped.
local sanitized = T.sh(T.memscript_command() .. " -e " ..
  T.q('print(io.open("/proc/self/maps"):read("a"):find("libasan", 1, true) ~= nil)')) == "true\n"

T.test("every system call the service's memscript makes is in its SystemCallFilter", function()
  need_root()
  if sanitized then
    T.skip("memscript is built with AddressSanitizer, whose runtime cannot run under strace", "anywhere")
  end
  if not has("strace") then T.skip("strace is not installed") end
  if not has("systemd-analyze") then T.skip("systemd-analyze is not installed (Debian package systemd)") end
  local allowed = {}
  for _, filter in ipairs(service.SystemCallFilter) do
    local deny, expression = filter:match("^(~?)(.*)$")
    for name in pairs(syscall_set(expression)) do
      if deny == "~" then allowed[name] = nil else allowed[name] = true end
    end
  end
  T.ok(allowed.openat2 and allowed.read and not allowed.ptrace and not allowed.setuid,
    "the filter allows openat2 and read, not ptrace or setuid")
  local state = tmp .. "/traced"
  T.sh("mkdir -p " .. T.q(state) .. " && chown nobody:nogroup " .. T.q(state))
  local trace = tmp .. "/strace.out"
  local _, err, status = T.run("cd / && umask 0022 && strace -f -qq -o " .. T.q(trace) .. " " ..
    credentials(unit_caps()) .. " env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. exec_start(state))
  T.eq({ err, status }, { "", 0 }, "the traced run")
  local made, started = {}, false
  for line in T.read(trace):gmatch("[^\n]+") do
    if not started then
      started = line:find('execve("' .. T.bin .. '"', 1, true) and line:find("= 0$") ~= nil
    else
      local name = line:match("^%d+%s+([%w_]+)%(")
      if name then made[name] = true end
    end
  end
  T.ok(started and (made.openat2 or made.openat), "the trace holds memscript's calls")
  local outside = {}
  for name in pairs(made) do
    if not allowed[name] then outside[#outside + 1] = name end
  end
  table.sort(outside)
  T.eq(outside, {}, "system calls outside the filter")
end)

T.test("node_exporter serves the file through the link ExecStartPost makes, readable by another user", function()
  need_root()
  if not has("prometheus-node-exporter") then T.skip("prometheus-node-exporter is not installed") end
  if not has("curl") then T.skip("curl is not installed") end
  local state, textfile = tmp .. "/published-state", tmp .. "/textfile"
  T.sh("mkdir -p " .. T.q(state) .. " " .. T.q(textfile) .. " && chown nobody:nogroup " .. T.q(state) ..
    " && chmod " .. one("StateDirectoryMode") .. " " .. T.q(state))
  local _, err, status = T.run("cd / && umask " .. one("UMask") .. " && " .. credentials(unit_caps()) ..
    " env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. exec_start(state))
  T.eq({ err, status }, { "", 0 }, "the service's command")
  -- ExecStartPost, its paths moved into the test's directories
  local post = one("ExecStartPost"):gsub("^%+", ""):gsub("/var/lib/memscript/", state .. "/")
    :gsub("/var/lib/prometheus/node%-exporter/", textfile .. "/")
  T.sh(post)
  T.eq(T.sh("readlink " .. T.q(textfile .. "/memscript.prom")), state .. "/memscript.prom\n", "the link")
  local as_other, other_err = T.run(credentials("", "daemon", "daemon") .. " cat " .. T.q(textfile .. "/memscript.prom"))
  T.eq(other_err, "", "another user reads the file through the link")
  T.contains(as_other, "\nmemscript_processes_read ", "what another user reads")
  -- node_exporter on a free port of 127.0.0.1 with the textfile collector alone
  local exporter
  for _ = 1, 5 do
    local port = math.random(20000, 60000)
    if T.run("ss -Hltn " .. T.q("sport = :" .. port)) == "" then
      local pid = tonumber((T.run("prometheus-node-exporter --collector.disable-defaults --collector.textfile " ..
        "--collector.textfile.directory=" .. T.q(textfile) .. " --web.listen-address=127.0.0.1:" .. port ..
        " >" .. T.q(tmp .. "/node_exporter.log") .. " 2>&1 & echo $!"):match("%d+")))
      local deadline = os.time() + 30   -- against a hang only: it answers within a second
      while os.time() <= deadline do
        local _, _, up = T.run("curl -sf --max-time 1 -o /dev/null http://127.0.0.1:" .. port .. "/metrics")
        if up == 0 then exporter = { pid = pid, port = port } break end
        local _, _, alive = T.run("kill -0 " .. pid)
        if alive ~= 0 then break end
        T.run("sleep 0.1")
      end
      if exporter then break end
      T.run("kill " .. pid .. " 2>/dev/null")
    end
  end
  T.ok(exporter, "node_exporter answered: " .. (T.read_if(tmp .. "/node_exporter.log") or ""))
  local scraped = T.run("curl -sf --max-time 30 http://127.0.0.1:" .. exporter.port .. "/metrics")
  T.run("kill " .. exporter.pid .. "; sleep 0.2; kill -9 " .. exporter.pid .. " 2>/dev/null")
  T.contains(scraped, "node_textfile_scrape_error 0\n", "no textfile error")
  T.contains(scraped, 'node_textfile_mtime_seconds{file="' .. textfile .. '/memscript.prom"}', "the file's mtime")
  local written = samples(T.read(state .. "/memscript.prom"))
  T.ok(written.memscript_processes_read, "the file holds memscript_processes_read")
  T.eq(samples(scraped).memscript_processes_read, written.memscript_processes_read, "memscript's gauges served")
end)

T.done()
