-- proc.cgroup and the cgroup scripts on the live kernel's cgroup v1 memory controller: a cgroup made here, with a limit, holding the helper.

local T = require "testing"
local live = require "livehelper"
local cg = require "livecgroup"

local format, concat = string.format, table.concat

local V1 = cg.V1
local LIMIT = 16 * 1024 * 1024
local OOM_LIMIT = 8 * 1024 * 1024
local view = require "memscript.cgroupview"

local skip_reason = cg.unavailable()

-- The cgroups made here, under this test's own memory cgroup, and what runs in them.
local own = skip_reason == nil and assert(proc.cgroup.of("self")).path or "/"
local path, oom_path, race_path
if skip_reason == nil then path, oom_path, race_path = cg.child("live"), cg.child("oom"), cg.child("race") end
local helper

-- Whatever happens, the helpers are killed and the cgroups removed when the file ends.
local cleanup <close> = setmetatable({}, { __close = function()
  if helper then live.stop(helper) end
  if skip_reason == nil then
    for _, cgroup in ipairs({ path, oom_path, race_path }) do cg.remove(cgroup) end
  end
end })

local into = cg.into

local function number_in(text)
  return math.tointeger(tonumber(text:match("^(%d+)")))
end

local function file(cgroup, name)
  return T.read(V1 .. cgroup .. "/" .. name)
end

if skip_reason == nil then
  T.sh("mkdir " .. T.q(V1 .. path))
  T.write(V1 .. path .. "/memory.limit_in_bytes", tostring(LIMIT))
  helper = live.start({ "--", "cgroup test" }, 60, into(path))
end

local function setup()
  if skip_reason then T.skip(skip_reason[1], skip_reason[2]) end
end

-- memory(path) read while the usage file says the same before and after: the helper is stopped,
-- but the kernel may still free or add a little kernel memory charged to the cgroup.
local function steady_memory(cgroup)
  for _ = 1, 20 do
    local before = number_in(file(cgroup, "memory.usage_in_bytes"))
    local m = assert(proc.cgroup.memory(cgroup))
    local after = number_in(file(cgroup, "memory.usage_in_bytes"))
    if before == after and m.current == before then return m end
    os.execute("sleep 0.05")
  end
  error("the usage of " .. cgroup .. " did not hold still")
end

T.test("of(pid): the helper's cgroup is the one made here, in the v1 hierarchy", function()
  setup()
  local of = assert(proc.cgroup.of(helper.pid))
  local expected = require("memscript.cgroupname").describe(path)
  expected.path, expected.version = path, 1
  T.eq(of, expected, "of(helper)")
  local handle <close> = assert(proc.open(helper.pid))
  T.eq(handle:cgroup().path, path, "through a handle")
end)

T.test("memory(path): every figure as the cgroup's files say it, the limit set here, the helper's memory exactly", function()
  setup()
  local m = steady_memory(path)
  T.eq(m.version, 1, "version")
  T.eq(m.path, path, "path")
  T.eq(m.max, LIMIT, "max = the memory.limit_in_bytes written here")
  T.ok(m.current > 0 and m.current <= LIMIT, "current within the limit: " .. m.current)
  T.ok(m.peak >= m.current, "peak >= current")
  T.eq(m.procs, { helper.pid }, "procs: the helper alone (its zombie child is no member)")
  for key, name in pairs({ failcnt = "memory.failcnt", use_hierarchy = "memory.use_hierarchy",
                           swappiness = "memory.swappiness", soft_limit_in_bytes = "memory.soft_limit_in_bytes" }) do
    local n = number_in(file(path, name))
    if key == "soft_limit_in_bytes" and n >= 9223372036854771712 then n = math.huge end
    T.eq(m[key], n, key)
  end
  T.eq(m.oom_control, { oom_kill_disable = 0, under_oom = 0, oom_kill = 0 }, "oom_control")
  -- memory.stat: the same keys as the file, in its order; the helper's counters do not move while it is stopped
  local keys, stat = {}, {}
  for key, value in file(path, "memory.stat"):gmatch("([%w_]+) (%d+)\n") do
    keys[#keys + 1] = key
    stat[key] = math.tointeger(tonumber(value)) or math.huge
  end
  T.eq(proc.keys(m.stat), keys, "memory.stat's keys in order")
  for _, key in ipairs({ "total_rss", "total_shmem", "total_mapped_file", "total_pgfault", "total_pgmajfault", "rss" }) do
    T.eq(m.stat[key], stat[key], "stat " .. key)
  end
  T.eq(m.stat.hierarchical_memory_limit, LIMIT, "hierarchical_memory_limit: the limit set here")
  -- the helper is the cgroup's only process, and faulted every page of its own in it
  local rollup = assert(proc.smaps_rollup(helper.pid))
  T.eq(m.stat.total_rss, rollup.Anonymous, "anonymous memory charged = the helper's Anonymous")
  T.eq(m.stat.total_shmem, rollup.Pss_Shmem, "shared memory charged = the helper's Pss_Shmem (it alone maps it)")
  T.eq(view.split(m).anon, rollup.Anonymous, "cgroupview's anon")
  -- numa_stat: v1's pages as bytes
  local total_pages = number_in(file(path, "memory.numa_stat"):match("^total=(%d+)"))
  local page = proc.page_size()
  T.eq(m.numa_stat.total.total, total_pages * page, "numa_stat total in bytes")
  local nodes = 0
  for key, bytes in pairs(m.numa_stat.total) do
    if key:match("^N%d+$") then nodes = nodes + bytes end
  end
  T.eq(nodes, m.numa_stat.total.total, "the nodes add up to the total")
end)

T.test("list and children: the cgroup made here, under its parent, in tree order", function()
  setup()
  local list = assert(proc.cgroup.list())
  T.eq(list[1], "/", "the root first")
  local index = {}
  for i, p in ipairs(list) do index[p] = i end
  T.ok(index[path] ~= nil, "listed")
  T.ok(index[own] < index[path], "after its parent")
  local children = assert(proc.cgroup.children(own))
  local found = false
  for _, p in ipairs(children) do found = found or p == path end
  T.ok(found, "a child of " .. own)
  T.eq(proc.cgroup.children(path), {}, "no child of its own")
end)

T.test("cgroup.lua -p PID: the chain from the root to the helper's cgroup, as JSON and as a table", function()
  setup()
  local out, err, status = T.memscript(nil, format("-f json %s/scripts/cgroup.lua -p %d", T.q(T.source), helper.pid))
  T.eq({ status, err }, { 0, "" }, "exit status and stderr")
  local rows = T.json(out)
  local chain = view.chain(path)
  T.eq(#rows, #chain, "one row per cgroup of the chain")
  for i, row in ipairs(rows) do T.eq(row.path, chain[i], "row " .. i) end
  local last = rows[#rows]
  T.eq(last.max, LIMIT, "max")
  T.eq(last.limit, LIMIT, "limit")
  T.eq(last.pids, { helper.pid }, "pids")
  T.eq(last.oom_kill, 0, "oom_kill")
  T.ok(last.current > 0 and last.current <= LIMIT, "current")
  T.eq(last.headroom, LIMIT - last.current, "headroom")
  T.eq(last.stat.hierarchical_memory_limit, LIMIT, "the whole memory.stat")
  T.eq(rows[1].max, require("cjson").null, "the root's no limit is null")
  out, err, status = T.memscript(nil, format("-f table %s/scripts/cgroup.lua -p %d", T.q(T.source), helper.pid))
  T.eq(status, 0, "table: exit status")
  T.contains(out, format("pid %d: %s (cgroup v1", helper.pid, path), "the title names the process and its cgroup")
  T.contains(out, view.name(path), "the cgroup's name")
end)

T.test("top.lua -c: the helper's USS, PSS and RSS beside its cgroup's charge", function()
  setup()
  local out, err, status = T.memscript(nil, format("-f json %s/scripts/top.lua -c -p %d", T.q(T.source), helper.pid))
  T.eq({ status, err }, { 0, "" }, "exit status and stderr")
  local rows = T.json(out)
  T.eq(#rows, 1, "one cgroup")
  local row, rollup = rows[1], assert(proc.smaps_rollup(helper.pid))
  T.eq(row.cgroup, path, "cgroup")
  T.eq(row.procs, 1, "procs")
  T.eq(row.rss, rollup.Rss, "rss")
  T.eq(row.uss, rollup.Private_Clean + rollup.Private_Dirty + rollup.Private_Hugetlb, "uss")
  T.ok(row.current > 0 and row.current <= LIMIT, "current")
  T.eq(row.unmapped, row.current - row.pss, "unmapped = current - pss")
end)

T.test("why.lua PID: the helper's cgroup, its usage and the limit set here as the cgroup's files give them", function()
  setup()
  local units = require "memscript.units"
  for _ = 1, 20 do
    local before = number_in(file(path, "memory.usage_in_bytes"))
    local out, err, status = T.memscript(nil, format("-f json %s/scripts/why.lua --no-sample %d", T.q(T.source),
      helper.pid))
    local after = number_in(file(path, "memory.usage_in_bytes"))
    T.eq({ status, err }, { 0, "" }, "exit status and stderr")
    local answer = T.json(out)[1]
    if before == after then
      T.contains(answer.text, format("Its memory cgroup is %s (cgroup v1): it uses %d bytes (%s, memory.usage_in_bytes) "
        .. "of its limit of %d bytes (16M, memory.limit_in_bytes): %s, %s below it.", path, before, units.format(before),
        LIMIT, format(before * 10 < LIMIT and "%.1f%%" or "%.0f%%", 100 * before / LIMIT), units.format(LIMIT - before)),
        "the usage and the limit, exactly")
      local failcnt = number_in(file(path, "memory.failcnt"))
      T.contains(answer.text, format("Cgroup v1 keeps no memory pressure figure (memory.pressure is cgroup v2's); what "
        .. "it keeps: its usage hit its limit %d times (memory.failcnt), it is not out of memory now "
        .. "(memory.oom_control under_oom 0) and the OOM killer killed 0 processes in it (oom_kill).", failcnt),
        "what v1 keeps of pressure")
      T.eq(answer.figures.cgroup, { path = path, version = 1, current = before, limit = LIMIT,
        limit_file = "memory.limit_in_bytes", headroom = LIMIT - before, failcnt = failcnt, under_oom = 0, oom_kill = 0 },
        "the figures, exact")
      T.contains(answer.text, format("memscript cgroup.lua -p %d for its cgroups", helper.pid), "the next command")
      return
    end
  end
  error("the usage of " .. path .. " did not hold still")
end)

T.test("rules.lua --cgroup-usage: warning, critical and OK by the helper's share of its limit", function()
  setup()
  local tmp, done <close> = T.tempdir()
  local empty = tmp .. "/empty.lua"
  T.write(empty, "return {}\n")
  local usage = 100 * steady_memory(path).current / LIMIT
  local function check(levels)
    return T.memscript(nil, format("%s/scripts/rules.lua -r %s --cgroup-usage %s %d", T.q(T.source), T.q(empty), levels,
      helper.pid))
  end
  local out, _, status = check(format("%d%%,99%%", math.max(1, math.floor(usage / 2))))
  T.eq(status, 1, "above WARN: warning (usage " .. usage .. "%)")
  T.contains(out, "WARNING: memory usage above", "the alert")
  T.contains(out, "of the limit in cgroup " .. path, "names the cgroup")
  T.contains(out, "'cgroups'=1;;;0", "perfdata: one cgroup checked")
  _, _, status = check(format("1,%d", math.max(1, math.floor(usage / 2))))
  T.eq(status, 2, "above CRIT: critical")
  out, _, status = check("99%")
  T.eq(status, 0, "below WARN: OK")
  T.contains(out, "MEMSCRIPT OK - 1 rule, 1 process checked, 1 cgroup", "status line")
end)

T.test("exporter.lua --cgroup-depth: the gauges of the helper's cgroup", function()
  setup()
  local out, err, status = T.memscript(nil, format("%s/scripts/exporter.lua --cgroup-depth %d %d", T.q(T.source),
    view.depth(path), helper.pid))
  T.eq({ status, err }, { 0, "" }, "exit status and stderr")
  local label = format('{cgroup="%s"}', path)
  T.contains(out, "\nmemscript_cgroup_limit_bytes" .. label .. " " .. LIMIT .. "\n", "limit")
  T.contains(out, "\nmemscript_cgroup_procs" .. label .. " 1\n", "procs")
  T.contains(out, "\nmemscript_cgroup_oom_kills" .. label .. " 0\n", "oom kills")
  local current = number_in(out:match("\nmemscript_cgroup_current_bytes" .. label:gsub("%p", "%%%0") .. " (%d+)\n"))
  local inactive = number_in(out:match("\nmemscript_cgroup_inactive_file_bytes" .. label:gsub("%p", "%%%0") .. " (%d+)\n"))
  local ws = number_in(out:match("\nmemscript_cgroup_working_set_bytes" .. label:gsub("%p", "%%%0") .. " (%d+)\n"))
  T.eq(ws, math.max(0, current - inactive), "working set = current - inactive_file")
  T.ok(out:find('\nmemscript_cgroup_current_bytes{cgroup="/"}', 1, true) ~= nil, "the root too")
  local _, _, has = T.run("command -v promtool")
  if has == 0 then
    local path_prom = os.tmpname()
    T.write(path_prom, out)
    local said, problems, pstatus = T.run("promtool check metrics < " .. T.q(path_prom))
    os.remove(path_prom)
    T.eq(pstatus, 0, "promtool accepts it: " .. said .. problems)
  end
end)

T.test("capture.lua, then cgroup.lua --root and diff.lua -c: the helper's cgroup offline, as captured", function()
  setup()
  local tmp, done <close> = T.tempdir()
  local cap = tmp .. "/cap"
  local _, err, status = T.memscript(nil, format("%s/scripts/capture.lua %s %d", T.q(T.source), T.q(cap), helper.pid))
  T.eq(status, 0, "capture: " .. err)
  T.contains(err, format(", and %d memory cgroup%s\n", #view.chain(path), #view.chain(path) == 1 and "" or "s"),
    "the chain of cgroups captured")
  local captured_usage = number_in(T.read(cap .. "/sys/fs/cgroup/memory" .. path .. "/memory.usage_in_bytes"))
  local out
  out, err, status = T.run(format("%s --root %s -f json %s/scripts/cgroup.lua", T.memscript_command(), T.q(cap),
    T.q(T.source)))
  T.eq({ status, err }, { 0, "" }, "cgroup.lua --root")
  local rows = T.json(out)
  T.eq(#rows, #view.chain(path), "the chain, nothing else")
  local last = rows[#rows]
  T.eq({ last.path, last.max, last.current, last.pids }, { path, LIMIT, captured_usage, { helper.pid } },
    "the cgroup as captured")
  out, err, status = T.memscript(nil, format("-f json %s/scripts/diff.lua -c -a %s live", T.q(T.source), T.q(cap)))
  T.eq({ status, err }, { 0, "" }, "diff.lua -c")
  local row
  for _, r in ipairs(T.json(out)) do if r.cgroup == path then row = r end end
  T.ok(row ~= nil, "a row for the cgroup")
  T.eq(row.change, "", "in both")
  T.eq(row.current_a, captured_usage, "current in the capture")
  T.eq(row.current_change, row.current_b - row.current_a, "the change")
  T.eq(row.oom_kill_change, 0, "no OOM kill in between")
end)

T.test("OOM kills: the kernel kills a process over its cgroup's limit; oom_control, cgroup.lua and the rules see it", function()
  setup()
  T.sh("mkdir " .. T.q(V1 .. oom_path))
  T.write(V1 .. oom_path .. "/memory.limit_in_bytes", tostring(OOM_LIMIT))
  -- with swap accounting, memory+swap too: else the kernel would swap the helper out rather than kill it
  if T.read_if(V1 .. oom_path .. "/memory.memsw.limit_in_bytes") then
    T.write(V1 .. oom_path .. "/memory.memsw.limit_in_bytes", tostring(OOM_LIMIT))
  end
  local rules = require "memscript.rules"
  local first = assert(rules.cgroup_fields(oom_path))
  T.eq({ first.oom_kill, first.oom_kill_new }, { 0, nil }, "no kill yet, no previous sample")
  -- memhelper grow: 1 MiB more every millisecond, up to 200 MiB, far past the 8 MiB limit
  T.sh(format("%s %s grow 1024 1 200 >/dev/null 2>&1 &", into(oom_path), T.q(T.helper)))
  local m
  for _ = 1, 200 do
    m = assert(proc.cgroup.memory(oom_path))
    if m.oom_control.oom_kill > 0 and #m.procs == 0 then break end
    os.execute("sleep 0.05")
  end
  T.eq(m.oom_control.oom_kill, 1, "oom_control oom_kill")
  T.eq(m.procs, {}, "the process is gone")
  T.eq(m.peak, OOM_LIMIT, "peak (max_usage_in_bytes): the usage reached the limit, and no further")
  local again = assert(rules.cgroup_fields(oom_path))
  T.eq({ again.oom_kill, again.oom_kill_new }, { 1, 1 }, "oom_kill_new: the kill since the previous sample")
  local out = T.memscript(nil, format("-f csv %s/scripts/cgroup.lua --depth %d", T.q(T.source), view.depth(oom_path)))
  local found
  for _, record in ipairs(T.csv(out)) do if record[1] == oom_path then found = record end end
  T.ok(found ~= nil, "cgroup.lua lists the cgroup")
  T.eq(found[13], "1", "its OOM column")
end)

T.test("a cgroup removed while it is read: nil and ENOENT, never a table of figures not read", function()
  setup()
  local dir = V1 .. race_path
  T.eq({ proc.cgroup.memory(race_path) }, { nil, dir .. ": No such file or directory", 2 }, "not there")
  -- a shell makes and removes the cgroup as fast as it can while it is read
  local stop = os.tmpname()
  T.sh(format("(while [ -e %s ]; do mkdir %s 2>/dev/null; rmdir %s 2>/dev/null; done) >/dev/null 2>&1 &",
    T.q(stop), T.q(dir), T.q(dir)))
  local whole, gone = 0, 0
  local ok, err = pcall(function()
    for _ = 1, 3000 do
      local m, msg, errno = proc.cgroup.memory(race_path)
      if m then
        -- every file of a v1 cgroup is there from its creation: a table is a whole read
        T.ok(m.current ~= nil and m.max ~= nil and m.stat ~= nil and m.procs ~= nil, "a whole table")
        whole = whole + 1
      else
        T.eq(errno, 2, "ENOENT: " .. tostring(msg))
        gone = gone + 1
      end
    end
  end)
  os.remove(stop)
  os.execute("sleep 0.2")
  cg.remove(race_path)
  if not ok then error(err, 0) end
  T.ok(gone > 0, "some reads found it removed (" .. gone .. ")")
  T.ok(whole + gone == 3000, "every read was one or the other")
end)

T.test("v2 on this host: the memory controller's place", function()
  local unified = T.read_if("/sys/fs/cgroup/unified/cgroup.controllers")
  local h = proc.cgroup.hierarchy()
  if h and h.version == 2 then
    T.eq(T.read(h.path .. "/cgroup.controllers"):find("memory") ~= nil, true, "the v2 root lists memory")
    return
  end
  if unified and not unified:find("memory") then
    T.skip("the memory controller is bound to the v1 hierarchy here, so no cgroup2 hierarchy can have it; " ..
      "v2 is tested on other projects' captures (test_cgroup)", "anywhere")
  end
  T.skip("no cgroup2 hierarchy with the memory controller on this host", "anywhere")
end)

T.done()
