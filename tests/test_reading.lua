-- Reading fast without reading differently: mapping tables of named fields only, files read ahead
-- through process handles (p:read_ahead) and by unreadable.scan, and tables far past the Lua heap's
-- first chunk.

local T = require "testing"

local format = string.format

local capture = T.fixtures .. "/helper-capture/proc"
local tmp, cleanup <close> = T.tempdir()

-- Runs chunk with --proc-root root (nil: the running system); returns its stdout, failing on an error.
local function run(root, chunk)
  local out, err, status = T.memscript(root, "-e " .. T.q(chunk))
  if status ~= 0 then error(format("memscript exited %s: %s", tostring(status), err), 2) end
  return out
end

-- Lua functions the chunks share: a table's keys sorted and joined, and a deep comparison.
local PRELUDE = [[
local function keys(t) local list = {} for k in pairs(t) do list[#list + 1] = k end table.sort(list)
  return table.concat(list, ",") end
local function same(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
]]

T.test("proc.smaps(pid, fields): tables of exactly the named fields, with the values of whole ones", function()
  local out = run(capture, PRELUDE .. [[
local whole = proc.smaps(1848)
local part = proc.smaps(1848, {"path", "vm_start", "Rss", "Pss", "VmFlags"})
assert(#part == #whole and #whole == 35)
for i, m in ipairs(part) do
  assert(keys(m) == "Pss,Rss,VmFlags,path,vm_start", keys(m))
  for k, v in pairs(m) do
    if k == "VmFlags" then v = tostring(v) assert(v == tostring(whole[i].VmFlags)) else assert(v == whole[i][k], k) end
  end
  assert(table.concat(proc.keys(m), ",") == "Rss,Pss,VmFlags", table.concat(proc.keys(m), ","))
  assert(proc.unit(m, "Rss") == "kB" and proc.unit(m, "Size") == nil)
end
local maps = proc.maps(1848, {"perms", "path"})
assert(#maps == 35 and keys(maps[1]) == "path,perms" and maps[1].path == whole[1].path)
assert(keys(proc.smaps(1848, {"NoSuchField"})[1]) == "")
print("ok")]])
  T.eq(out, "ok\n", "fields")
end)

T.test("proc.smaps(pid, fields) refuses a malformed line in a field not named, as the whole table does", function()
  T.sh(format("mkdir -p %s/bad/7", T.q(tmp)))
  T.write(tmp .. "/bad/7/smaps", "00400000-00401000 r-xp 00000000 fd:00 12 /bin/x\nSize:  4 kB\nRss 4 kB\n")
  local out = run(tmp .. "/bad", [[
print((select(2, proc.smaps(7))))
print((select(2, proc.smaps(7, {"Size"}))))
print(pcall(proc.smaps, 7, {1}))
print(pcall(proc.smaps, 7, "Size"))]])
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(lines[1], tmp .. "/bad/7/smaps:3: no ':' after the key", "whole tables")
  T.eq(lines[2], lines[1], "named fields")
  T.contains(lines[3], "false\tbad argument #2", "a field name that is not a string")
  T.contains(lines[4], "false\tbad argument #2", "fields not in a table")
end)

T.test("p:read_ahead: what p:status(), p:smaps() and p:stat() give is what a read gives; a second read reads afresh", function()
  local out = run(capture, PRELUDE .. [[
local p <close> = assert(proc.open(1848))
assert(p:read_ahead({"status", "smaps", "stat"}) == p)
assert(same(p:status(), proc.status(1848)), "status")
assert(same(p:smaps(), proc.smaps(1848)), "smaps")
assert(same(p:stat(), proc.stat(1848)), "stat")
assert(same(p:smaps({"Rss"}), proc.smaps(1848, {"Rss"})), "smaps again, with fields")
assert(p:changed() == false)
print("ok")]])
  T.eq(out, "ok\n", "read ahead")
end)

T.test("p:read_ahead of a process that ended: its reads fail as a read of an ended process does", function()
  local pid = tonumber(T.sh("sleep 60 >/dev/null 2>&1 & echo $!"))
  local out = run(nil, format([[
local sys = require "memscript.sys"
local ahead, plain = assert(proc.open(%d)), assert(proc.open(%d))
os.execute("kill -9 %d")
for _ = 1, 200 do if not proc.open(%d) then break end sys.sleep(0.01) end
ahead:read_ahead({"smaps", "status"})
local a1, a2, a3 = ahead:smaps()
local b1, b2, b3 = plain:smaps()
local s1, s2, s3 = ahead:status()
local t1, t2, t3 = plain:status()
print(a1, a2, a3) print(b1, b2, b3) print(s1, s2, s3) print(t1, t2, t3)]], pid, pid, pid, pid))
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(lines[1], lines[2], "smaps read ahead and smaps read now")
  T.eq(lines[3], lines[4], "status read ahead and status read now")
  T.contains(lines[1], "nil\t/proc/" .. pid .. "/smaps: ", "smaps fails")
end)

T.test("p:read_ahead with smaps_sums: the sums a pool thread made are those proc.smaps_sums makes", function()
  local out = run(capture, PRELUDE .. [[
local fields = {"Rss", "Pss", "Private_Dirty", "Swap"}
local p <close> = assert(proc.open(1848))
assert(p:read_ahead({"status", "smaps_sums"}, {smaps_sums = fields}) == p)
local ahead = p:smaps_sums(fields)
assert(same(ahead, proc.smaps_sums(1848, fields)), "the same sums")
assert(same(p:smaps_sums(fields), ahead), "a second call reads afresh")
-- other fields than those read ahead: added up afresh, not taken
p:read_ahead({"smaps_sums"}, {smaps_sums = fields})
assert(same(p:smaps_sums({"Rss"}), proc.smaps_sums(1848, {"Rss"})), "other fields")
print(#ahead, ahead[1].path)]])
  T.eq(out, "15\t/tmp/memhelper\n", "sums read ahead")
end)

T.test("p:read_ahead with smaps_sums: a file refused is refused with the same message, line and errno", function()
  local dir = tmp .. "/sums-ahead"
  T.sh("mkdir -p " .. T.q(dir .. "/7"))
  T.write(dir .. "/7/smaps", "00400000-00401000 r-xp 00000000 fd:00 12  /bin/x\nRss:  4 kB\nRss:  8 kB\n")
  local out = run(dir, [[
local p <close> = assert(proc.open(7))
p:read_ahead({"smaps_sums"}, {smaps_sums = {"Rss"}})
print(p:smaps_sums({"Rss"}))
print(proc.smaps_sums(7, {"Rss"}))
local gone <close> = assert(proc.open(7))
os.remove(proc.root() .. "/7/smaps")
gone:read_ahead({"smaps_sums"}, {smaps_sums = {"Rss"}})
print(gone:smaps_sums({"Rss"}))
print(proc.smaps_sums(7, {"Rss"}))
print(pcall(p.read_ahead, p, {"smaps_sums"}, {smaps_sums = {}}))
print(pcall(p.read_ahead, p, {"smaps_sums"}, {smaps_sums = {string.rep("x", 32)}}))]])
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.eq(lines[1], format("nil\t%s/7/smaps:3: duplicate key 'Rss'\t22", dir), "a key twice, found on the pool thread")
  T.eq(lines[2], lines[1], "as proc.smaps_sums says it")
  T.eq(lines[3], format("nil\t%s/7/smaps: No such file or directory\t2", dir), "a file that is not there")
  T.eq(lines[4], lines[3], "as proc.smaps_sums says it")
  T.contains(lines[5], "false\tbad argument #3 to '?' (1 to 16 field names expected)", "no field")
  T.contains(lines[6], "(field names of 1 to 31 bytes expected)", "a name longer than any key")
  -- a line past what --max-memory allows, met on the pool thread: the error a read gives, as a result
  T.write(dir .. "/7/smaps", "00400000-00401000 r-xp 00000000 fd:00 12  /" .. string.rep("x", 1200000) .. "\nRss: 4 kB\n")
  local out2, err2, status2 = T.memscript(dir, "--max-memory 1M -e " .. T.q([[
local p <close> = assert(proc.open(7))
p:read_ahead({"smaps_sums"}, {smaps_sums = {"Rss"}})
print(p:smaps_sums({"Rss"}))
print(proc.smaps_sums(7, {"Rss"}))]]))
  T.eq({ status2, err2 }, { 0, "" }, "exit status and stderr")
  T.eq(out2, format("nil\t%s/7/smaps: File too large\t27\n", dir):rep(2), "a line too long, read ahead and read now")
  -- names that are not strings are refused, before any is used
  T.contains(run(dir, [[
local p <close> = assert(proc.open(7))
print(pcall(p.read_ahead, p, {1000001}, {smaps_sums = {"Rss"}}))]]), "names of the process's files expected",
    "a number as a file name")
end)

T.test("p:read_ahead refuses what is not a list of the process's files", function()
  local out = run(capture, [[
local p <close> = assert(proc.open(1848))
print(pcall(p.read_ahead, p, "smaps"))
print(pcall(p.read_ahead, p, {"/etc/passwd"}))
print(pcall(p.read_ahead, p, {"a", "b", "c", "d", "e", "f", "g", "h", "i"}))]])
  local lines = {}
  for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
  T.contains(lines[1], "false\tbad argument #2", "not a table")
  T.contains(lines[2], "names of the process's files expected", "an absolute path")
  T.contains(lines[3], "too many files", "nine files")
end)

T.test("unreadable.read_process: a read that fails because the process changed says changed, not gone", function()
  local dir = tmp .. "/changed"
  T.sh("mkdir -p " .. T.q(dir) .. " && cp -r " .. T.q(capture .. "/1848") .. " " .. T.q(dir .. "/1848"))
  -- another process under the pid once the handle is open (its start time differs), and a file of
  -- the first one gone: the read fails, and the change is why
  local out = run(dir, [[
local u = require "memscript.unreadable"
local handle = assert(proc.open(1848))
local stat = io.open(proc.root() .. "/1848/stat"):read("a")
local fields = {}
for f in stat:gmatch("%S+") do fields[#fields + 1] = f end
fields[22] = tostring(tonumber(fields[22]) + 1)
io.open(proc.root() .. "/1848/stat", "w"):write(table.concat(fields, " "), "\n"):close()
os.remove(proc.root() .. "/1848/smaps_rollup")
print(u.read_process(handle, {"status", "smaps_rollup"}))
print(u.changed(handle))]])
  T.eq(out, format("nil\tchanged\t%s/1848: the process ran another program while it was read\n", dir) ..
    format("changed\t%s/1848: the process ran another program while it was read\n", dir), "changed, with its message")
end)

T.test("unreadable.pids: the pids asked, each once in increasing order, or every pid of the tree", function()
  local out = run(capture, [[
local u = require "memscript.unreadable"
print(table.concat(u.pids(proc, {1850, 1848, 1850, 1849}), " "))
print(table.concat(u.pids(proc), " ") == table.concat(proc.pids(), " "))]])
  T.eq(out, "1848 1849 1850\ntrue\n", "asked, and every pid")
end)

T.test("unreadable.scan with read-ahead reads every process as it does without", function()
  local out = run(capture, PRELUDE .. [[
local u = require "memscript.unreadable"
local function scan(ahead)
  local got = {}
  local count, tally = u.scan(proc.pids(), function(target)
    return u.read_process(target, {"status", "smaps"}, proc, {smaps = {"path", "Rss"}})
  end, function(pid, t) got[pid] = t end, ahead)
  return got, count, tally:count()
end
local a, ac, at = scan({p = proc, files = {"status", "smaps"}})
local b, bc, bt = scan(nil)
assert(ac == bc and at == bt, ac .. " " .. bc .. " " .. at .. " " .. bt)
assert(same(a, b))
print(ac, at)]])
  T.eq(out, "2\t0\n", "the two processes with memory, none unreadable")
end)

T.test("p:read_ahead_state(): nil with nothing read ahead, then queued, running or done; done once taken", function()
  local out = run(nil, [[
local p = assert(proc.open("self"))
local before = p:read_ahead_state()
p:read_ahead({"status", "smaps"})
local s = p:read_ahead_state()
local status = p:status()
print(before, s == "queued" or s == "running" or s == "done", p:read_ahead_state(), status.Name)
p:close()
local ok, err = pcall(p.read_ahead_state, p)
print(ok, err:match("%(process handle is closed%)$"))]])
  T.eq(out, "nil\ttrue\tdone\tmemscript\nfalse\t(process handle is closed)\n",
    "states, and a closed handle refused")
end)

T.test("proc.read_ahead_wait: the first handle whose files are read; one with nothing read ahead counts as read", function()
  local out = run(nil, [[
local a, b = assert(proc.open("self")), assert(proc.open("self"))
a:read_ahead({"status", "smaps"})
b:read_ahead({"smaps_rollup"})
local i = proc.read_ahead_wait({a, b})
local waited = ({a, b})[i]:read_ahead_state()
-- each waited for alone, then both done: the first of them
print(i == 1 or i == 2, waited, proc.read_ahead_wait({b}), proc.read_ahead_wait({a}), a:read_ahead_state(),
  proc.read_ahead_wait({a, b}))
local c = assert(proc.open("self"))
c:read_ahead({"smaps"})
print(proc.read_ahead_wait({false, c}), proc.read_ahead_wait({proc.open("self"), c}))
print(c:smaps() ~= nil, a:status().Name)
-- waiting for more than there are (all, when none is read yet): the index of one read
local d, e, f = assert(proc.open("self")), assert(proc.open("self")), assert(proc.open("self"))
d:read_ahead({"smaps"}); e:read_ahead({"status"}); f:read_ahead({"smaps_rollup"})
local k = proc.read_ahead_wait({d, e, f}, 5)
print(k >= 1 and k <= 3, ({d, e, f})[k]:read_ahead_state(), f:smaps_rollup().Rss ~= nil)
-- one handle given twice is awaited once: two of {g, g} is g
local g = assert(proc.open("self"))
g:read_ahead({"smaps"})
print(proc.read_ahead_wait({g, g}, 2), g:read_ahead_state())
for _, bad in ipairs({{{}}, {"x"}, {{a}, 0}}) do
  local ok, err = pcall(proc.read_ahead_wait, table.unpack(bad))
  print(ok, (err:gsub("^.-: ", "")))
end]])
  T.eq(out, "true\tdone\t1\t1\tdone\t1\n1\t1\ntrue\tmemscript\ntrue\tdone\ttrue\n1\tdone\n"
    .. "false\tbad argument #1 to 'memscript.read_ahead_wait' (1 to 64 process handles expected)\n"
    .. "false\tbad argument #1 to 'memscript.read_ahead_wait' (table expected, got string)\n"
    .. "false\tbad argument #2 to 'memscript.read_ahead_wait' (at least 1 expected)\n",
    "index of a read one; false and a handle with nothing ahead count as read; files still taken; "
      .. "more awaited than there are; bad arguments")
end)

T.test("unreadable.scan reads whichever process's files are read first; use sees pid order", function()
  -- A scripted proc table: pid 3's files stay "running" until every other process has been read
  -- (as a process of 60,000 mappings would), pid 5's are read ("done") at once, the rest "queued";
  -- waiting, as the pool does, finishes the first queued when none is done.
  local out = run(nil, [[
local u = require "memscript.unreadable"
local reads, uses = {}, {}
local fake = {}
function fake.open(pid)
  local h = {pid = pid}
  function h:read_ahead() self.asked = true end
  function h:read_ahead_state()
    if pid == 3 then return #reads < 5 and "running" or "done" end
    return (pid == 5 or self.finished) and "done" or "queued"
  end
  function h:close() self.closed = true end
  return h
end
function fake.read_ahead_wait(handles)
  for i, h in ipairs(handles) do if not h or h:read_ahead_state() == "done" then return i end end
  for i, h in ipairs(handles) do
    if h:read_ahead_state() == "queued" then h.finished = true; return i end
  end
  error("every process running, none ever done")
end
local handles = {}
local count, tally = u.scan({1, 2, 3, 4, 5, 6}, function(target)
  local pid = type(target) == "table" and target.pid or target
  if type(target) == "table" then handles[#handles + 1] = target end
  reads[#reads + 1] = pid
  if pid == 4 then return nil, "gone", "4 ended" end
  return pid * 10
end, function(pid, value) uses[#uses + 1] = pid .. "=" .. value end, {p = fake, files = {"status"}})
local closed = 0
for _, h in ipairs(handles) do if h.closed and h.asked then closed = closed + 1 end end
print(table.concat(reads, " "), table.concat(uses, " "), count, tally.gone, closed)]])
  -- 1 first, as without read-ahead; then of 2 to 6 (all opened ahead) 5 is done; then 2, 4 and 6 as
  -- the pool finishes them, before 3, which is done last
  T.eq(out, "1 5 2 4 6 3\t1=10 2=20 3=30 5=50 6=60\t5\t1\t5\n", "reads, uses, count, gone, handles closed")
end)

T.test("tables far past the Lua heap's first chunk keep their values, freed blocks are reused", function()
  local out = run(nil, [[
local function build(n) local t = {} for i = 1, n do t[i] = {i, tostring(i), {x = i}} end return t end
local function check(t) for i, v in ipairs(t) do assert(v[1] == i and v[2] == tostring(i) and v[3].x == i) end end
local a = build(200000)
check(a)
a = nil
collectgarbage()
local before = collectgarbage("count")
local b = build(200000)
check(b)
print(#b, collectgarbage("count") > before)]])
  T.eq(out, "200000\ttrue\n", "values")
end)

T.test("a read through the bindings starts no garbage collection: the pause after a full one is kept", function()
  -- After a full collection Lua waits until the heap has doubled before it starts the next one. A
  -- binding that restarted the collector at every call would start one at once, and a script keeping
  -- a table per process would have its whole heap traversed again at every read.
  local out = run(nil, [[
local ballast = {}
for i = 1, 50000 do ballast[i] = { i, tostring(i) } end
collectgarbage()
local collected = false
setmetatable({}, { __gc = function() collected = true end })
local before = collectgarbage("count")
for _ = 1, 500 do assert(proc.cgroup.of("self") or proc.status("self")) end
local grown = collectgarbage("count") - before
print(collected, grown < before)]])
  T.eq(out, "false\ttrue\n", "no collection started by 500 reads that grew the heap by far less than its size")
end)

T.test("a ProtectionKey line does not make smaps tables larger: size is read through the layout", function()
  -- the first record of this machine's own smaps, as 2,000 mappings, with and without ProtectionKey
  local first = {}
  for line in io.lines("/proc/self/smaps") do
    if #first > 0 and line:find("^%x+%-%x+ ") then break end
    if not line:find("^ProtectionKey:") then first[#first + 1] = line end
  end
  local body = table.concat(first, "\n", 2)
  local function tree(name, extra)
    local dir = tmp .. "/" .. name
    T.sh("mkdir -p " .. T.q(dir .. "/9"))
    local records = {}
    for i = 1, 2000 do
      records[i] = format("%08x-%08x rw-p 00000000 00:00 0 \n%s\n%s", i * 0x10000, i * 0x10000 + 4096, body, extra)
    end
    T.write(dir .. "/9/smaps", table.concat(records))
    return dir
  end
  local chunk = [[collectgarbage("stop")
local before = collectgarbage("count")
local list = proc.smaps(9)
local kb = collectgarbage("count") - before
local m, n = list[2000], 0
for k in pairs(m) do n = n + 1 end
print(#list, m.ProtectionKey, m.size, rawget(m, "size"), n, math.floor(kb)) ]]
  local plain = {run(tree("plain", ""), chunk):match("^(%d+)\t(%S+)\t(%d+)\t(%S+)\t(%d+)\t(%d+)\n$")}
  local pkey = {run(tree("pkey", "ProtectionKey:         0\n"), chunk):match("^(%d+)\t(%S+)\t(%d+)\t(%S+)\t(%d+)\t(%d+)\n$")}
  T.eq({plain[1], plain[2], plain[3], plain[4], pkey[1], pkey[2], pkey[3], pkey[4], pkey[5] - plain[5]},
       {"2000", "nil", "4096", "nil", "2000", "0", "4096", "nil", 1}, "tables, ProtectionKey, size, fields listed")
  local grown = tonumber(pkey[6]) / tonumber(plain[6])
  T.ok(grown < 1.1, format("the tables with ProtectionKey take %d KiB, without %d KiB", pkey[6], plain[6]))
end)

T.test("proc.smaps_sums(pid, fields): per path, the sums over the mappings proc.smaps gives, in bytes", function()
  local out = run(capture, [[
local fields = {"Rss", "Pss", "Private_Dirty", "Swap", "SwapPss", "ProtectionKey"}
local sums, by, order = proc.smaps_sums(1848, fields), {}, {}
for _, m in ipairs(proc.smaps(1848)) do
  local g = by[m.path]
  if not g then g = {maps = 0} by[m.path] = g order[#order + 1] = m.path end
  g.maps = g.maps + 1
  for _, f in ipairs(fields) do if m[f] then g[f] = (g[f] or 0) + m[f] end end
end
local ok = #sums == #order
for i, s in ipairs(sums) do
  local g = by[s.path]
  ok = ok and s.path == order[i] and s.maps == g.maps
  for _, f in ipairs(fields) do ok = ok and s[f] == g[f] and math.type(s[f]) == math.type(g[f]) end
end
print(ok, #sums > 1, sums[1].ProtectionKey, math.type(sums[1].Rss))]])
  T.eq(out, "true\ttrue\tnil\tinteger\n",
    "the same sums, groups in the order first met, a field the kernel did not print nil")
end)

T.test("proc.smaps_sums refuses what proc.smaps refuses, a text field, and bad field lists", function()
  local dir = tmp .. "/sums"
  T.sh("mkdir -p " .. T.q(dir .. "/7"))
  local header = "00400000-00401000 r-xp 00000000 fd:00 12  /bin/x\n"
  T.write(dir .. "/7/smaps", header .. "Rss:  4 kB\nno colon here\n")
  local out = run(dir, [[print(proc.smaps_sums(7, {"Rss"}))
print(proc.smaps(7))]])
  T.eq(out, format("nil\t%s/7/smaps:3: no ':' after the key\t22\n", dir):rep(2), "a malformed line, as proc.smaps")
  T.write(dir .. "/7/smaps", header .. "Rss:  4 kB\nVmFlags: rd ex\n")
  T.eq(run(dir, [[print(proc.smaps_sums(7, {"VmFlags"}))]]),
       format("nil\t%s/7/smaps:3: VmFlags: a number expected, to be summed\t22\n", dir), "text")
  T.write(dir .. "/7/smaps", header .. "Rss:  4 kB\nRss:  4 kB\n")
  T.eq(run(dir, [[print(proc.smaps_sums(7, {"Rss"}))]]),
       format("nil\t%s/7/smaps:3: duplicate key 'Rss'\t22\n", dir), "a key twice in a mapping")
  T.eq(run(dir, [[print(pcall(proc.smaps_sums, 7, {})) print(pcall(proc.smaps_sums, 7, {"Rss", "Rss"}))]]),
       "false\tbad argument #2 to 'memscript.smaps_sums' (1 to 16 field names expected)\n" ..
       "false\tbad argument #2 to 'memscript.smaps_sums' (a field named twice)\n", "argument errors")
end)

T.test("proc.smaps_sums: a mapping whose keys are not in the order of the one before is read as proc.smaps reads it", function()
  local dir = tmp .. "/sums-order"
  T.sh("mkdir -p " .. T.q(dir .. "/7"))
  local function header(at, path) return format("%08x-%08x rw-p 00000000 00:00 0  %s\n", at, at + 4096, path) end
  -- the second mapping has the first one's keys in another order, one left out and one more
  T.write(dir .. "/7/smaps", header(0x400000, "/a") .. "Rss:  4 kB\nPss:  2 kB\nSwap:  0 kB\n"
    .. header(0x500000, "/a") .. "Pss:  4 kB\nRss:  8 kB\nLocked:  4 kB\n"
    .. header(0x600000, "/b") .. "Rss:  12 kB\nPss:  12 kB\nSwap:  4 kB\n")
  T.eq(run(dir, [[for _, s in ipairs(proc.smaps_sums(7, {"Rss", "Pss", "Swap", "Locked"})) do
  print(s.path, s.maps, s.Rss, s.Pss, s.Swap, s.Locked) end]]),
    "/a\t2\t12288\t6144\t0\t4096\n/b\t1\t12288\t12288\t4096\tnil\n", "sums by path")
  -- where earlier mappings had a number, a word; and a key twice where the order was learned
  T.write(dir .. "/7/smaps", header(0x400000, "/a") .. "Rss:  4 kB\nPss:  2 kB\n"
    .. header(0x500000, "/a") .. "Rss:  many kB\nPss:  2 kB\n")
  T.eq(run(dir, [[print(proc.smaps_sums(7, {"Rss"}))]]),
       format("nil\t%s/7/smaps:5: Rss: a number expected, to be summed\t22\n", dir), "a word where a number was")
  T.write(dir .. "/7/smaps", header(0x400000, "/a") .. "Rss:  4 kB\nPss:  2 kB\n"
    .. header(0x500000, "/a") .. "Rss:  4 kB\nRss:  4 kB\n")
  T.eq(run(dir, [[print(proc.smaps_sums(7, {"Rss"}))]]),
       format("nil\t%s/7/smaps:6: duplicate key 'Rss'\t22\n", dir), "a key twice, at the place of another")
end)

T.done()
