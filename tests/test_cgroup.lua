-- proc.cgroup on trees: v2 and v1 written here, other projects' captures read in place, damaged input.

local T = require "testing"

local format, concat = string.format, table.concat
local huge = math.huge

-- Writes files under dir: { ["sys/fs/cgroup/memory.stat"] = "anon 1\n", ... }, making directories.
local function write_tree(dir, files)
  for rel, text in pairs(files) do
    local parent = (dir .. "/" .. rel):match("^(.*)/[^/]*$")
    T.sh("mkdir -p " .. T.q(parent))
    T.write(dir .. "/" .. rel, text)
  end
end

-- A proc table over the machine captured in dir (dir/proc, dir/sys).
local function machine(dir)
  return assert(proc.at(dir, "machine"))
end

local V2_SERVICE = "sys/fs/cgroup/system.slice/a.service/"

-- A v2 machine: the root's files, a slice, a service with every memory file, and process 42 in it.
local function v2_tree(dir)
  write_tree(dir, {
    ["proc/42/cgroup"] = "0::/system.slice/a.service\n",
    ["sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory hugetlb pids rdma misc\n",
    ["sys/fs/cgroup/memory.stat"] = "anon 8192\nfile 4096\n",
    ["sys/fs/cgroup/memory.pressure"] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=12\n" ..
                                         "full avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
    ["sys/fs/cgroup/system.slice/memory.current"] = "1048576\n",
    ["sys/fs/cgroup/system.slice/memory.max"] = "max\n",
    ["sys/fs/cgroup/system.slice-x/memory.current"] = "4096\n",
    [V2_SERVICE .. "memory.current"] = "1044480\n",
    [V2_SERVICE .. "memory.peak"] = "2097152\n",
    [V2_SERVICE .. "memory.min"] = "0\n",
    [V2_SERVICE .. "memory.low"] = "max\n",
    [V2_SERVICE .. "memory.high"] = "3145728\n",
    [V2_SERVICE .. "memory.max"] = "4194304\n",
    [V2_SERVICE .. "memory.oom.group"] = "0\n",
    [V2_SERVICE .. "memory.swap.current"] = "65536\n",
    [V2_SERVICE .. "memory.swap.max"] = "max\n",
    [V2_SERVICE .. "memory.zswap.current"] = "0\n",
    [V2_SERVICE .. "memory.stat"] = "anon 524288\nfile 409600\nkernel 102400\nkernel_stack 16384\n" ..
                                    "shmem 4096\nsock 0\ninactive_file 307200\npgfault 1234\n",
    [V2_SERVICE .. "memory.events"] = "low 0\nhigh 7\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n",
    [V2_SERVICE .. "memory.events.local"] = "low 0\nhigh 7\nmax 2\noom 1\noom_kill 1\noom_group_kill 0\n",
    [V2_SERVICE .. "memory.pressure"] = "some avg10=1.25 avg60=0.50 avg300=0.10 total=123456\n",
    [V2_SERVICE .. "memory.numa_stat"] = "anon N0=262144 N1=262144\nfile N0=409600 N1=0\n",
    [V2_SERVICE .. "cgroup.procs"] = "42\n7\n",
  })
end

T.test("cgroup v2: the hierarchy, a process's cgroup and its names, every memory file under its name", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local cg = machine(dir).cgroup
  local h = assert(cg.hierarchy())
  T.eq({ h.version, h.path, h.relpath }, { 2, dir .. "/sys/fs/cgroup", "fs/cgroup" }, "hierarchy")
  T.eq({ h.files[1], h.files[#h.files] }, { "memory.current", "cgroup.controllers" },
       "the files memory() reads, and the root's cgroup.controllers")
  local of = assert(cg.of(42))
  T.eq(of, { path = "/system.slice/a.service", version = 2, unit = "a.service", slice = "system.slice" }, "of(42)")
  local m = assert(cg.memory(of.path))
  T.eq(m.path, "/system.slice/a.service", "path")
  T.eq(m.version, 2, "version")
  T.eq(m.current, 1044480, "current")
  T.eq(m.peak, 2097152, "peak")
  T.eq(m.min, 0, "min")
  T.eq(m.low, huge, "low 'max' is no limit")
  T.eq(m.high, 3145728, "high")
  T.eq(m.max, 4194304, "max")
  T.eq(m.oom_group, 0, "oom.group")
  T.eq(m.swap_current, 65536, "swap.current")
  T.eq(m.swap_max, cg.unlimited, "swap.max 'max' is cgroup.unlimited")
  T.eq(m.zswap_current, 0, "zswap.current: a 0 printed is 0")
  T.eq(m.swap_high, nil, "swap.high not printed: nil, never 0")
  T.eq(m.zswap_max, nil, "zswap.max not printed")
  T.eq(proc.keys(m.stat), { "anon", "file", "kernel", "kernel_stack", "shmem", "sock", "inactive_file", "pgfault" },
       "memory.stat's keys in the kernel's order")
  T.eq(m.stat.anon, 524288, "stat anon")
  T.eq(m.events, { low = 0, high = 7, max = 2, oom = 1, oom_kill = 1, oom_group_kill = 0 }, "events")
  T.eq(m.events_local.oom_kill, 1, "events.local")
  T.eq(m.pressure, { some = { avg10 = 1.25, avg60 = 0.5, avg300 = 0.1, total = 123456 } },
       "pressure: floats and the total, no full line: full is nil")
  T.eq(m.numa_stat, { anon = { N0 = 262144, N1 = 262144 }, file = { N0 = 409600, N1 = 0 } }, "numa_stat in bytes")
  T.eq(m.procs, { 7, 42 }, "procs ascending")
end)

T.test("cgroup v2: list in tree order, children, the root's files, a slice without a limit", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local cg = machine(dir).cgroup
  T.eq(cg.list(), { "/", "/system.slice", "/system.slice/a.service", "/system.slice-x" },
       "'/' sorts before '-': a cgroup's children follow it")
  T.eq(cg.children("/"), { "/system.slice", "/system.slice-x" }, "children of the root")
  T.eq(cg.children("/system.slice/"), { "/system.slice/a.service" }, "a trailing slash names the same cgroup")
  T.eq(cg.children("/system.slice/a.service"), {}, "a leaf")
  local root = assert(cg.memory("/"))
  T.eq(root.current, nil, "the v2 root has no memory.current")
  T.eq(root.max, nil, "nor memory.max")
  T.eq(root.pressure.full, { avg10 = 0.0, avg60 = 0.0, avg300 = 0.0, total = 5 }, "the root's full line")
  T.eq(root.procs, nil, "no cgroup.procs written: nil")
  local slice = assert(cg.memory("/system.slice"))
  T.eq(slice.max, huge, "max")
  T.eq(slice.current, 1048576, "current")
end)

T.test("cgroup v2 figures: split, limit as the lower of max and high, headroom, usage, working set, OOM kills", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local view = require "memscript.cgroupview"
  local m = assert(machine(dir).cgroup.memory("/system.slice/a.service"))
  T.eq(view.split(m), { anon = 524288, file = 409600, kernel = 102400, shmem = 4096, sock = 0 }, "split")
  T.eq(view.limit(m), 3145728, "high is lower than max")
  T.eq(view.headroom(m), 3145728 - 1044480, "headroom")
  T.eq(view.usage_percent(m), 100.0 * 1044480 / 3145728, "usage")
  T.eq(view.working_set(m), 1044480 - 307200, "working set: current - inactive_file")
  T.eq(view.oom_kills(m), 1, "oom_kill")
  T.eq(view.swap(m), 65536, "swap")
  T.eq(view.pressure_some(m), 1.25, "some avg10")
  T.eq(view.pressure_full(m), nil, "no full line")
  local slice = assert(machine(dir).cgroup.memory("/system.slice"))
  T.eq(view.limit(slice), huge, "no limit")
  T.eq(view.headroom(slice), huge, "headroom without a limit")
  T.eq(view.usage_percent(slice), nil, "usage without a limit")
  T.eq(view.working_set(slice), nil, "no memory.stat: no working set")
  T.eq(view.split(slice), {}, "no memory.stat: nothing split")
  T.eq(view.chain("/a/b/c"), { "/", "/a", "/a/b", "/a/b/c" }, "chain")
  T.eq(view.ancestor("/a/b/c", 2), "/a/b", "ancestor")
  T.eq(view.depth("/"), 0, "depth of the root")
end)

-- A v1 machine: the memory hierarchy, a named hierarchy beside it, and process 42 in a docker container.
local V1_DOCKER = "/docker/5f3a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789abcd"

local function v1_tree(dir)
  local cgdir = "sys/fs/cgroup/memory" .. V1_DOCKER .. "/"
  write_tree(dir, {
    ["proc/42/cgroup"] = "12:pids:/x\n11:cpu,cpuacct:" .. V1_DOCKER .. "\n4:net_cls,memory,hugetlb:" .. V1_DOCKER ..
                         "\n1:name=systemd:/system.slice/docker.service\n0::/system.slice/docker.service\n",
    ["sys/fs/cgroup/systemd/cgroup.procs"] = "1\n",
    ["sys/fs/cgroup/memory/memory.usage_in_bytes"] = "734003200\n",
    ["sys/fs/cgroup/memory/memory.limit_in_bytes"] = "9223372036854771712\n",
    [cgdir .. "memory.usage_in_bytes"] = "2330624\n",
    [cgdir .. "memory.max_usage_in_bytes"] = "4194304\n",
    [cgdir .. "memory.limit_in_bytes"] = "10485760\n",
    [cgdir .. "memory.soft_limit_in_bytes"] = "9223372036854771712\n",
    [cgdir .. "memory.memsw.limit_in_bytes"] = "18446744073709551615\n",
    [cgdir .. "memory.kmem.usage_in_bytes"] = "40960\n",
    [cgdir .. "memory.kmem.tcp.usage_in_bytes"] = "0\n",
    [cgdir .. "memory.failcnt"] = "3\n",
    [cgdir .. "memory.use_hierarchy"] = "1\n",
    [cgdir .. "memory.oom_control"] = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
    [cgdir .. "memory.stat"] = "cache 4096\nrss 8192\nshmem 0\nswap 0\ninactive_file 4096\n" ..
                               "hierarchical_memory_limit 10485760\nhierarchical_memsw_limit 9223372036854771712\n" ..
                               "total_cache 1265664\ntotal_rss 1024000\ntotal_shmem 0\ntotal_swap 0\n" ..
                               "total_inactive_file 1000000\n",
    [cgdir .. "memory.numa_stat"] = "total=570 N0=560 N1=10\nanon=250 N0=250 N1=0\nhierarchical_total=570 N0=560 N1=10\n",
    [cgdir .. "cgroup.procs"] = "42\n42\n9\n",
  })
end

T.test("cgroup v1: the memory controller's line among joined ones, v1 files under v2's names, pages as bytes", function()
  local dir, cleanup <close> = T.tempdir()
  v1_tree(dir)
  local p = machine(dir)
  local cg = p.cgroup
  local h = assert(cg.hierarchy())
  T.eq({ h.version, h.path, h.relpath, h.files[1] }, { 1, dir .. "/sys/fs/cgroup/memory", "fs/cgroup/memory",
       "memory.usage_in_bytes" }, "hierarchy")
  T.eq(cg.of(42), { path = V1_DOCKER, version = 1, container = { runtime = "docker", id = V1_DOCKER:sub(9) } },
       "the memory line wins over the v2 one; a docker container by its cgroupfs path")
  local m = assert(cg.memory(V1_DOCKER))
  T.eq(m.current, 2330624, "current = memory.usage_in_bytes")
  T.eq(m.peak, 4194304, "peak = memory.max_usage_in_bytes")
  T.eq(m.max, 10485760, "max = memory.limit_in_bytes")
  T.eq(m.soft_limit_in_bytes, huge, "v1's no limit, 9223372036854771712, is math.huge")
  T.eq(m.memsw_limit_in_bytes, huge, "and so is anything above it")
  T.eq(m.kmem_usage_in_bytes, 40960, "kmem")
  T.eq(m.failcnt, 3, "failcnt")
  T.eq(m.oom_control, { oom_kill_disable = 0, under_oom = 0, oom_kill = 2 }, "oom_control")
  T.eq(m.stat.hierarchical_memory_limit, 10485760, "a limit in memory.stat")
  T.eq(m.stat.hierarchical_memsw_limit, huge, "no limit in memory.stat")
  T.eq(m.stat.total_rss, 1024000, "total_* kept")
  local page = p.page_size()
  T.eq(m.numa_stat.total, { total = 570 * page, N0 = 560 * page, N1 = 10 * page }, "v1 numa_stat: pages as bytes")
  T.eq(m.numa_stat.hierarchical_total.N1, 10 * page, "hierarchical_total")
  T.eq(m.procs, { 9, 42 }, "procs ascending, each once")
  T.eq(m.high, nil, "no v2 name without its file")
  T.eq(m.pressure, nil, "no PSI in v1")
  local view = require "memscript.cgroupview"
  T.eq(view.split(m), { anon = 1024000, file = 1265664, shmem = 0, kernel = 40960, sock = 0 }, "the v1 split")
  T.eq(view.working_set(m), 2330624 - 1000000, "usage - total_inactive_file")
  T.eq(view.oom_kills(m), 2, "oom_control's oom_kill")
  T.eq(view.swap(m), 0, "total_swap")
  local root = assert(cg.memory("/"))
  T.eq(root.max, huge, "the root without a limit")
  T.eq(root.current, 734003200, "the root's usage")
  T.eq(cg.list(), { "/", "/docker", V1_DOCKER }, "list: only the memory hierarchy's directories")
end)

T.test("errors: no cgroup file system, no memory controller, a path outside, a cgroup that is not there", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh("mkdir -p " .. T.q(dir .. "/proc/1"))
  local cg = machine(dir).cgroup
  T.eq({ cg.list() }, { nil, dir .. "/sys/fs/cgroup: No such file or directory", 2 }, "no sys tree")
  T.eq({ cg.of(1) }, { nil, dir .. "/proc/1/cgroup: No such file or directory", 2 }, "no cgroup file")
  write_tree(dir, { ["sys/fs/cgroup/cgroup.controllers"] = "cpu io pids\n" })
  cg = machine(dir).cgroup -- the sys tree is there now
  T.eq({ cg.memory("/") }, { nil, dir .. "/sys/fs/cgroup/cgroup.controllers: no memory controller (the cgroup2 " ..
        "root does not list it, and no v1 hierarchy has it)", 2 }, "a v2 root without the memory controller")
  write_tree(dir, { ["sys/fs/cgroup/cgroup.controllers"] = "cpu memory\n" })
  T.eq({ cg.memory("/gone") }, { nil, dir .. "/sys/fs/cgroup/gone: No such file or directory", 2 }, "no such cgroup")
  T.eq({ cg.memory("/../../etc") }, { nil, dir .. "/sys/fs/cgroup/../../etc: names a file outside the tree", 22 },
       "a path from another cgroup namespace")
  T.eq({ cg.children("/gone") }, { nil, dir .. "/sys/fs/cgroup/gone: No such file or directory", 2 }, "children")
  T.raises(function() cg.memory("system.slice") end, "a cgroup path starting with '/' expected", "a relative path")
  T.raises(function() cg.memory(42) end, "a cgroup path starting with '/' expected", "a number")
end)

T.test("a tree nested past PATH_MAX: every cgroup listed down to the first too long to open, which memory() names", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  -- a user given a subtree can nest it without bound: 25 levels of 200-byte names under /z
  local name = ("d"):rep(200)
  T.sh(format("bash -c %s", T.q(format("cd %s && mkdir z && cd z && for i in $(seq 25); do mkdir %s && cd %s; done",
    T.q(dir .. "/sys/fs/cgroup"), name, name))))
  local cg = machine(dir).cgroup
  -- "fs/cgroup" + "/z" + 20 components fits in PATH_MAX (4096 with its NUL), 21 do not
  local expected, path = { "/", "/system.slice", "/system.slice/a.service", "/system.slice-x", "/z" }, "/z"
  for _ = 1, 21 do
    path = path .. "/" .. name
    expected[#expected + 1] = path
  end
  local list, err = cg.list()
  T.eq(err, nil, "list() succeeds")
  T.eq(list, expected, "listed down to the first cgroup whose path does not fit, not below it")
  T.eq({ cg.memory(path) }, { nil, dir .. "/sys/fs/cgroup" .. path .. ": File name too long", 36 },
       "memory() of that cgroup names it")
  T.write(dir .. "/proc/meminfo", "MemTotal:       16384 kB\nMemFree:         8192 kB\n")
  local out, stderr, status = T.memscript(dir, "cgroup.lua")
  T.eq(status, 0, "cgroup.lua: status")
  T.contains(out, "a.service", "cgroup.lua: the other cgroups' rows")
  T.contains(stderr, "memscript: 1 cgroup unreadable: " .. dir .. "/sys/fs/cgroup" .. path .. ": File name too long",
             "cgroup.lua names the cgroup it could not read")
  out, stderr, status = T.memscript(dir, "-f prom exporter.lua --cgroup-depth 2 all")
  T.eq({ stderr, status }, { "", 0 }, "the exporter down to depth 2 is not concerned")
  T.contains(out, "memscript_cgroups_unreadable 0\n", "exporter")
end)

-- Writes one file of the v2 service and returns memory()'s three results.
local function with_file(dir, name, text)
  T.write(dir .. "/" .. V2_SERVICE .. name, text)
  return { machine(dir).cgroup.memory("/system.slice/a.service") }
end

T.test("damaged files: a clear error naming file and line, or nil; never a 0 for what was not read", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local file = dir .. "/" .. V2_SERVICE
  T.eq(with_file(dir, "memory.current", "max\n"),
       { nil, file .. "memory.current:1: 'max' where a decimal is expected", 22 }, "'max' where a number is expected")
  T.eq(with_file(dir, "memory.current", "4096"), { (with_file(dir, "memory.current", "4096"))[1] }, "no newline")
  T.eq(with_file(dir, "memory.current", "4096")[1].current, 4096, "no trailing newline: the value")
  T.eq(with_file(dir, "memory.current", ""), { nil, file .. "memory.current:1: empty file: one value and a newline expected", 22 },
       "an empty file")
  T.eq(with_file(dir, "memory.current", "-5\n"), { nil, file .. "memory.current:1: '-5' where a decimal is expected", 22 },
       "negative")
  T.eq(with_file(dir, "memory.current", "1 2\n"),
       { nil, file .. "memory.current:1: blank in the value: one value expected, not several", 22 }, "two values")
  with_file(dir, "memory.current", "1044480\n")
  T.eq(with_file(dir, "memory.max", "maximum\n"),
       { nil, file .. "memory.max:1: 'maximum' where a decimal or 'max' is expected", 22 }, "a word that is not max")
  local past = with_file(dir, "memory.max", "18446744073709551615\n")[1].max
  T.eq({ math.type(past), past }, { "float", 18446744073709551615.0 }, "past 2^63: a float, not wrapped")
  past = with_file(dir, "memory.max", "99999999999999999999999\n")[1].max
  T.eq(past, 99999999999999999999999.0, "past 2^64: a float from the digits")
  with_file(dir, "memory.max", "4194304\n")
  T.eq(with_file(dir, "memory.stat", ""), { nil, file .. "memory.stat:1: empty file", 22 }, "an empty memory.stat")
  T.eq(with_file(dir, "memory.stat", "anon 1\nanon 2\n"), { nil, file .. "memory.stat:2: duplicate key 'anon'", 22 },
       "a key twice")
  T.eq(with_file(dir, "memory.stat", "slab 14914318128160131214\n")[1].stat.slab, 14914318128160131214.0,
       "a counter past 2^63 (below's overflow case)")
  with_file(dir, "memory.stat", "anon 1\n")
  T.eq(with_file(dir, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\nsome avg10=1.00 total=2\n"),
       { nil, file .. "memory.pressure:2: a second 'some' line", 22 }, "PSI: a line twice")
  T.eq(with_file(dir, "memory.pressure", "some avg10=0.00 avg10=1.00\n"),
       { nil, file .. "memory.pressure:1: duplicate key 'avg10'", 22 }, "PSI: a key twice")
  T.eq(with_file(dir, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=3")[1].pressure,
       { some = { avg10 = 0.0, avg60 = 0.0, avg300 = 0.0, total = 3 } }, "PSI without full, without a newline")
  T.eq(with_file(dir, "memory.pressure", "some\n"),
       { nil, file .. "memory.pressure:1: no key=value pair after the record name", 22 }, "PSI: a name alone")
  T.eq(with_file(dir, "memory.pressure", "some avg10=high total=1\n"),
       { nil, file .. "memory.pressure:1: 'avg10': a number expected after '='", 22 }, "PSI: a word for a number")
  with_file(dir, "memory.pressure", "some avg10=0.00 total=1\n")
  T.eq(with_file(dir, "cgroup.procs", "42\nabc\n"), { nil, file .. "cgroup.procs:2: a process id expected", 22 },
       "cgroup.procs: not a pid")
  T.eq(with_file(dir, "cgroup.procs", "")[1].procs, {}, "cgroup.procs empty: no process")
  -- no kernel has more than 2^22 process ids (PID_MAX_LIMIT): a longer list is no cgroup.procs
  T.eq(with_file(dir, "cgroup.procs", ("7\n"):rep(4194304))[1].procs, { 7 }, "2^22 lines (v1 repeats a pid)")
  T.eq(with_file(dir, "cgroup.procs", ("7\n"):rep(4194305)),
       { nil, file .. "cgroup.procs:4194305: more processes than a kernel has process ids (4194304)", 22 },
       "cgroup.procs: one line more")
  with_file(dir, "cgroup.procs", "")
  T.eq(with_file(dir, "memory.numa_stat", "anon N0=1 N0=2\n"), { nil, file .. "memory.numa_stat:1: node 0 twice", 22 },
       "NUMA: a node twice")
  T.eq(with_file(dir, "memory.numa_stat", "anon N0=x\n"), { nil, file .. "memory.numa_stat:1: 'N0=x': a count expected after '='", 22 },
       "NUMA: not a count")
  T.eq(with_file(dir, "memory.numa_stat", "anon total N0=1\n"),
       { nil, file .. "memory.numa_stat:1: 'total': a node's count N<node>=<count> expected", 22 }, "NUMA: a word")
  with_file(dir, "memory.numa_stat", "anon N0=1\n")
  os.remove(file .. "memory.current")
  local m = with_file(dir, "memory.peak", "1\n")[1]
  T.eq(m.current, nil, "a file missing: nil")
  T.eq(m.peak, 1, "the others read")
end)

T.test("memory.stat, memory.events, oom_control: a word where the kernel prints a number is an error naming the line", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local file = dir .. "/" .. V2_SERVICE
  T.eq(with_file(dir, "memory.stat", "anon 524288\ninactive_file max\n"),
       { nil, file .. "memory.stat:2: 'max' where a number is expected", 22 }, "memory.stat")
  with_file(dir, "memory.stat", "anon 524288\ninactive_file 307200\n")
  T.eq(with_file(dir, "memory.events", "low 0\noom_kill many\n"),
       { nil, file .. "memory.events:2: 'many' where a number is expected", 22 }, "memory.events")
  with_file(dir, "memory.events", "oom_kill 1\n")
  T.eq(with_file(dir, "memory.stat", "anon -4096\nfile 0\n")[1].stat.anon, -4096, "a negative count is still a number")
  T.write(file .. "memory.stat", "anon 524288\ninactive_file max\n")
  -- the scripts count the cgroup unreadable, naming the file, instead of computing with a word
  local out, err, status = T.memscript(dir, "cgroup.lua")
  T.eq(status, 0, "cgroup.lua: status")
  T.contains(err, "1 cgroup unreadable: " .. file .. "memory.stat:2: 'max' where a number is expected", "cgroup.lua")
  T.ok(not out:find("a.service", 1, true), "cgroup.lua: no row for the cgroup not read")
  T.write(dir .. "/proc/meminfo", "MemTotal:       16384 kB\nMemFree:         8192 kB\n")
  out, err, status = T.memscript(dir, "-f prom exporter.lua --cgroup-depth 2 all")
  T.eq(status, 0, "exporter: status " .. err)
  T.contains(out, "memscript_cgroups_unreadable 1\n", "exporter: counted unreadable")
  out, err, status = T.memscript(dir, "rules.lua --cgroup-usage 50 all")
  T.eq(status, 3, "rules: UNKNOWN")
  T.contains(out, "UNKNOWN: cannot read cgroup /system.slice/a.service (error=\"" .. file ..
             "memory.stat:2: 'max' where a number is expected\")", "rules")
  T.eq(err, "", "rules: no traceback")
end)

T.test("/proc/PID/cgroup: a damaged file is an error naming the line; no memory line nor v2 line is ENOENT", function()
  local dir, cleanup <close> = T.tempdir()
  v2_tree(dir)
  local path = dir .. "/proc/42/cgroup"
  local function of(text)
    T.write(path, text)
    return { machine(dir).cgroup.of(42) }
  end
  T.eq(of("0::/a\n0::/b\n"), { nil, path .. ":2: a second line for hierarchy 0 (the first is line 1)", 22 }, "two v2 lines")
  T.eq(of("4:memory:/a\n5:cpu,memory:/b\n"), { nil, path .. ":2: a second line for the memory controller (the first is line 1)", 22 },
       "two memory lines")
  T.eq(of("3:cpu:/\n\tinvalid\n"),
       { nil, path .. ":2: the line does not start with a hierarchy ID (ID:controllers:path expected)", 22 }, "a bad line")
  T.eq(of(""), { nil, path .. ": no line for the memory controller nor for the v2 hierarchy", 2 }, "empty")
  T.eq(of("1:cpu:/a\n"), { nil, path .. ": no line for the memory controller nor for the v2 hierarchy", 2 },
       "a v1 host without the memory controller")
  T.eq(of("0::/a:b:c\n")[1].path, "/a:b:c", "colons in the path")
  T.eq(of("0::/../../user-1000.slice/session-520.scope")[1],
       { path = "/../../user-1000.slice/session-520.scope", version = 2, unit = "session-520.scope", slice = "user-1000.slice" },
       "another cgroup namespace's path, as printed, without a newline")
  T.eq(of("0::/a\n")[1].path, "/a", "through a handle too")
  local handle <close> = assert(machine(dir).open(42))
  T.eq(handle:cgroup().path, "/a", "p:cgroup()")
end)

T.test("names in a path: systemd units and slices, containers of every runtime, Kubernetes pods", function()
  local describe = require("memscript.cgroupname").describe
  local id = ("0123456789abcdef"):rep(4)
  local cases = {
    { "/", {} },
    { "/init.scope", { unit = "init.scope" } },
    { "/user.slice/user-1000.slice/user@1000.service/app.slice/app-firefox-1234.scope",
      { unit = "app-firefox-1234.scope", slice = "app.slice" } },
    { "/system.slice/docker-" .. id .. ".scope",
      { unit = "docker-" .. id .. ".scope", slice = "system.slice", container = { runtime = "docker", id = id } } },
    { "/docker/" .. id, { container = { runtime = "docker", id = id } } },
    { "/docker/123", {} },
    { "/system.slice/crio-" .. id .. ".scope", { unit = "crio-" .. id .. ".scope", slice = "system.slice",
      container = { runtime = "crio", id = id } } },
    { "/system.slice/crio-conmon-" .. id .. ".scope", { unit = "crio-conmon-" .. id .. ".scope", slice = "system.slice" } },
    { "/machine.slice/libpod-" .. id .. ".scope", { unit = "libpod-" .. id .. ".scope", slice = "machine.slice",
      container = { runtime = "podman", id = id } } },
    { "/lxc.payload.web", { container = { runtime = "lxc", id = "web" } } },
    { "/lxc/web", { container = { runtime = "lxc", id = "web" } } },
    { "/kubepods/burstable/podb83789a8-5f9d-11ea-bae1-0a0084deb344/" .. id,
      { container = { id = id }, pod = { uid = "b83789a8-5f9d-11ea-bae1-0a0084deb344", qos = "burstable" } } },
    { "/kubepods/podb83789a8-5f9d-11ea-bae1-0a0084deb344",
      { pod = { uid = "b83789a8-5f9d-11ea-bae1-0a0084deb344", qos = "guaranteed" } } },
    { "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice/" ..
      "cri-containerd-" .. id .. ".scope",
      { unit = "cri-containerd-" .. id .. ".scope", slice = "kubepods-besteffort-pod7a96c459_d529_44ae_9f99_90d3798d6426.slice",
        container = { runtime = "containerd", id = id },
        pod = { uid = "7a96c459-d529-44ae-9f99-90d3798d6426", qos = "besteffort" } } },
    { "/system.slice/containerd.service/kubepods-burstable-podf65e797d_d5f9_4604_9773_94f4bb9946a0.slice:cri-containerd:" .. id,
      { unit = "containerd.service", slice = "system.slice", container = { runtime = "containerd", id = id },
        pod = { uid = "f65e797d-d5f9-4604-9773-94f4bb9946a0", qos = "burstable" } } },
    { "/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice",
      { slice = "kubepods-pod11111111_2222_3333_4444_555555555555.slice",
        pod = { uid = "11111111-2222-3333-4444-555555555555", qos = "guaranteed" } } },
    { "/podman/" .. id, {} },
  }
  for _, case in ipairs(cases) do T.eq(describe(case[1]), case[2], case[1]) end
end)

---------------------------------------------------------------------------------------------------
-- Other projects' captures, read in place from ../shared/fixtures/peers/cgroup.

local PEERS = "peers/cgroup/"

-- The text of a file of a peer's tree, through proc.read on that tree (archives included).
local function sys_text(p, rel)
  return assert(p.read(rel, "sys"))
end

local function number_in(text)
  return math.tointeger(tonumber(text:match("^(%d+)")))
end

T.test("cmonitor's captures (CentOS 7, Ubuntu 20.04 hybrid, Fedora 35 v2): every figure as the files say", function()
  local cases = {
    { "centos7-Linux-3.10.0-x86_64-docker", 1, "/docker/d20c1d74e74b4ee40954136e18d33ea85d7333dda4dca0161806395c2d26913c", "docker" },
    { "ubuntu20.04-Linux-5.4.0-x86_64-docker", 1, "/docker/d19cdffb6d5cac225c19a074e1cf0442df9bfcecf39f8b1581ce6784e73971f3", "docker" },
    { "ubuntu20.04-Linux-5.4.0-x86_64-systemd", 1, "/user.slice/user-1000.slice/session-1.scope", nil },
    { "fedora35-Linux-5.14.17-x86_64-docker", 2,
      "/system.slice/docker-3cfe7ca058f43dbb15a6cc68c472978a14c93fd7e263384dd0a1fa1517f6d7f0.scope", "docker" },
    { "fedora35-Linux-5.14.17-x86_64-systemd", 2, "/user.slice/user-0.slice/session-1.scope", nil },
  }
  for _, case in ipairs(cases) do
    local archive = T.shared(PEERS .. "cmonitor/tests/" .. case[1] .. "/sample1/sample1.tar.gz")
    local p = assert(proc.at(archive, "machine"))
    local cg = p.cgroup
    local h = assert(cg.hierarchy())
    T.eq(h.version, case[2], case[1] .. ": version")
    -- every process captured is in the one cgroup captured
    local pids = assert(p.pids())
    local seen = 0
    for _, pid in ipairs(pids) do
      local of = cg.of(pid)
      if of then
        seen = seen + 1
        T.eq(of.path, case[3], case[1] .. ": pid " .. pid)
        T.eq(of.version, case[2], case[1] .. ": pid " .. pid .. " version")
        T.eq(of.container and of.container.runtime, case[4], case[1] .. ": container")
      end
    end
    T.ok(seen > 0, case[1] .. ": some process read")
    local m = assert(cg.memory(case[3]))
    local dir = (case[2] == 1 and "fs/cgroup/memory" or "fs/cgroup") .. case[3] .. "/"
    local current_file = case[2] == 1 and "memory.usage_in_bytes" or "memory.current"
    local limit_file = case[2] == 1 and "memory.limit_in_bytes" or "memory.max"
    T.eq(m.current, number_in(sys_text(p, dir .. current_file)), case[1] .. ": current")
    local limit_text = sys_text(p, dir .. limit_file)
    local expected_max = limit_text:match("^max") and huge or number_in(limit_text)
    if case[2] == 1 and expected_max >= 9223372036854771712 then expected_max = huge end
    T.eq(m.max, expected_max, case[1] .. ": max")
    local stat_text = sys_text(p, dir .. "memory.stat")
    local n = 0
    for key, value in stat_text:gmatch("([%w_]+) (%d+)\n") do
      n = n + 1
      local expected = math.tointeger(tonumber(value)) or tonumber(value)
      if key:match("^hierarchical_mem.*limit$") and expected >= 9223372036854771712 then expected = huge end
      T.eq(m.stat[key], expected, case[1] .. ": stat " .. key)
    end
    T.eq(#proc.keys(m.stat), n, case[1] .. ": every memory.stat key")
    T.ok(n > 20, case[1] .. ": a whole memory.stat")
    local procs = {}
    for pid in sys_text(p, dir .. "cgroup.procs"):gmatch("%d+") do procs[#procs + 1] = math.tointeger(tonumber(pid)) end
    table.sort(procs)
    T.eq(m.procs, procs, case[1] .. ": procs")
    -- the directories above the captured cgroup hold no file: a table with nothing read
    local root = assert(cg.memory("/"))
    T.eq(root.current, nil, case[1] .. ": the root's files were not captured")
  end
end)

T.test("elastic's trees: zswap files, a path from another cgroup namespace, a Kubernetes pod, a hybrid host", function()
  local base = PEERS .. "elastic-agent-system-metrics/cgroup/testdata/"
  local p = machine(T.shared(base .. "docker2"))
  local of = assert(p.cgroup.of(2233801))
  T.eq(of.path, "/../../user-1000.slice/session-520.scope", "the path as printed")
  local m, err, errno = p.cgroup.memory(of.path)
  T.eq({ m, errno }, { nil, 22 }, "a path climbing out of the namespace is not read: " .. tostring(err))
  local scope = "/user.slice/user-1000.slice/session-520.scope"
  m = assert(p.cgroup.memory(scope))
  local dir = "fs/cgroup" .. scope .. "/"
  T.eq(m.zswap_current, number_in(sys_text(p, dir .. "memory.zswap.current")), "zswap.current")
  T.eq(m.zswap_max, huge, "zswap.max 'max'")
  T.eq(m.peak, number_in(sys_text(p, dir .. "memory.peak")), "peak")
  T.eq(m.swap_peak, number_in(sys_text(p, dir .. "memory.swap.peak")), "swap.peak")
  T.eq(m.stat.zswapped, 0, "zswapped in memory.stat")
  T.ok(m.pressure.full ~= nil and m.pressure.some.total >= m.pressure.full.total, "some and full")
  T.eq(m.version, 2, "v2")

  p = machine(T.shared(base .. "amzn2"))
  of = assert(p.cgroup.of(493239))
  T.eq(of.pod, { uid = "7a96c459-d529-44ae-9f99-90d3798d6426", qos = "burstable" }, "the pod")
  T.eq(of.container, { runtime = "containerd", id = "1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496" },
       "the container")
  m = assert(p.cgroup.memory(of.path))
  T.eq(m.max, 2147483648, "the pod's container limit")
  T.eq(m.current, number_in(sys_text(p, "fs/cgroup/memory" .. of.path .. "/memory.usage_in_bytes")), "usage")

  p = machine(T.shared(base .. "ubuntu1804"))
  of = assert(p.cgroup.of(3757))
  T.eq(of, { path = "/system.slice/networkd-dispatcher.service", version = 1, unit = "networkd-dispatcher.service",
             slice = "system.slice" }, "hybrid: the v1 memory line, not the unified one")
  T.eq(p.cgroup.hierarchy().version, 1, "the unified hierarchy beside v1 has no memory controller")
end)

-- Copies a peer's single files into a v2 cgroup directory of a tree made here (under dir).
local function peer_files(dir, files)
  write_tree(dir, { ["sys/fs/cgroup/cgroup.controllers"] = "memory\n" })
  T.sh("mkdir -p " .. T.q(dir .. "/sys/fs/cgroup/c"))
  for name, rel in pairs(files) do
    T.sh(format("cp %s %s", T.q(T.shared(PEERS .. rel)), T.q(dir .. "/sys/fs/cgroup/c/" .. name)))
  end
  return assert(machine(dir).cgroup.memory("/c"))
end

T.test("other projects' single files (no trailing newline, PSI with and without full, four NUMA nodes)", function()
  local dir, cleanup <close> = T.tempdir()
  local m = peer_files(dir, {
    ["memory.current"] = "atlas-system-agent/lib/collectors/cgroup/test/resources/sample1/memory.current",
    ["memory.max"] = "atlas-system-agent/lib/collectors/cgroup/test/resources/sample1/memory.max",
    ["memory.swap.max"] = "atlas-system-agent/lib/collectors/cgroup/test/resources/sample1/memory.swap.max",
    ["memory.events"] = "datadog-agent/inline/v2/memory.events_sampleCgroupV2MemoryEvents",
    ["memory.pressure"] = "opencontainers-cgroups/inline/fs2/memory.pressure_examplePSIData",
    ["memory.numa_stat"] = "below/inline/cgroupfs/memory.numa_stat_test_memory_numa_stat_success",
  })
  T.eq(m.current, 7841374208, "memory.current without a newline")
  T.eq(m.max, 8589934592, "memory.max")
  T.eq(m.swap_max, 536870912, "memory.swap.max")
  T.eq(m.events, { low = 0, high = 1, max = 2, oom = 3, oom_kill = 0 }, "events, the last line without a newline")
  T.eq(m.pressure, { some = { avg10 = 1.0, avg60 = 2.0, avg300 = 3.0, total = 100000 },
                     full = { avg10 = 0.5, avg60 = 1.0, avg300 = 1.5, total = 50000 } }, "PSI")
  T.eq(m.numa_stat.anon, { N0 = 133948178432, N1 = 85731622912, N2 = 56469581824, N3 = 67508137984 }, "four nodes, bytes")
  local dir2, cleanup2 <close> = T.tempdir()
  m = peer_files(dir2, { ["memory.pressure"] = "below/inline/cgroupfs/cpu.pressure_test_cpu_pressure_success" })
  T.eq(m.pressure, { some = { avg10 = 0.0, avg60 = 0.0, avg300 = 0.0, total = 619176290 } }, "no full line: full is nil")
end)

T.test("/proc/PID/cgroup of other projects' tests: the memory cgroup and its names", function()
  local dir, cleanup <close> = T.tempdir()
  local cases = {
    { "go-sysinfo/inline/proc_pid_cgroup/kubernetesCgroup", {
      path = "/kubepods/burstable/podb83789a8-5f9d-11ea-bae1-0a0084deb344/9f99515d52142271cfeebef269bf4b7609b9b69b62008d6a5d316f561ccf061d",
      version = 1, container = { id = "9f99515d52142271cfeebef269bf4b7609b9b69b62008d6a5d316f561ccf061d" },
      pod = { uid = "b83789a8-5f9d-11ea-bae1-0a0084deb344", qos = "burstable" } } },
    { "go-sysinfo/inline/proc_pid_cgroup/lxcCgroup", {
      path = "/lxc/81438f4655cd771c425607dcf7654f4dc03c073c0123edc45fcfad28132e8c60", version = 1,
      container = { runtime = "lxc", id = "81438f4655cd771c425607dcf7654f4dc03c073c0123edc45fcfad28132e8c60" } } },
    { "openjdk/inline/proc_self_cgroup/selfCgroupNonZeroJoinControllers", {
      path = "/user.slice/user-1000.slice/session-3.scope", version = 1, unit = "session-3.scope", slice = "user-1000.slice" } },
    { "openjdk/inline/proc_self_cgroup/cgroupv1SelfOnlyFreezerContent", {
      path = "/user.slice/user-1000.slice/session-2.scope", version = 2, unit = "session-2.scope", slice = "user-1000.slice" } },
    { "below/inline/procfs/pid_cgroup_test_pid_cgroupv2", {
      path = "/user.slice/user:with:colon.slice/session-3.scope", version = 2, unit = "session-3.scope",
      slice = "user:with:colon.slice" } },
    { "opencontainers-cgroups/inline/proc_pid_cgroup/coreos_systemd225_TestParseCgroupString", {
      path = "/system.slice/system-sshd.slice/sshd@126-10.240.0.15:22-xxx.yyy.zzz.aaa:33678.service", version = 1,
      unit = "sshd@126-10.240.0.15:22-xxx.yyy.zzz.aaa:33678.service", slice = "system-sshd.slice" } },
  }
  T.sh("mkdir -p " .. T.q(dir .. "/proc/1"))
  local p = machine(dir)
  for _, case in ipairs(cases) do
    T.sh(format("cp %s %s", T.q(T.shared(PEERS .. case[1])), T.q(dir .. "/proc/1/cgroup")))
    T.eq(p.cgroup.of(1), case[2], case[1])
  end
  T.sh(format("cp %s %s", T.q(T.shared(PEERS .. "containerd-cgroups/inline/proc_pid_cgroup/TestSystemd240")),
    T.q(dir .. "/proc/1/cgroup")))
  local _, err, errno = p.cgroup.of(1)
  T.eq({ err, errno }, { dir .. "/proc/1/cgroup:2: the line does not start with a hierarchy ID (ID:controllers:path expected)", 22 },
       "a Go test's indented literal is not a /proc file")
end)

T.test("oomd's v2 tree: limits, protections and pressure of a slice and its services", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh(format("mkdir -p %s && cp -r %s %s", T.q(dir .. "/sys/fs"), T.q(T.shared(PEERS .. "oomd/tree/cgroup")),
    T.q(dir .. "/sys/fs/cgroup")))
  local p = machine(dir)
  local list = assert(p.cgroup.list())
  T.ok(#list > 5, "oomd's cgroups: " .. #list)
  local base = "fs/cgroup/workload.slice/service1.service/"
  local m = assert(p.cgroup.memory("/workload.slice/service1.service"))
  for key, file in pairs({ current = "memory.current", low = "memory.low", min = "memory.min", swap_current = "memory.swap.current" }) do
    local text = sys_text(p, base .. file)
    T.eq(m[key], text:match("^max") and huge or number_in(text), key)
  end
  local pressure = sys_text(p, base .. "memory.pressure")
  T.eq(m.pressure.some.total, number_in(pressure:match("some .-total=(%d+)")), "some total")
end)

T.test("the global cgroup is proc.cgroup, and help() knows its functions", function()
  local out, err, status = T.memscript(nil, "-e " .. T.q([[
local help = require "memscript.help"
print(cgroup == proc.cgroup, cgroup.unlimited == math.huge)
print((help.text(cgroup.memory)):match("^[^\n]*"), (help.text(cgroup.of)):match("^[^\n]*"))]]))
  T.eq({ out, err, status }, { "true\ttrue\ncgroup.memory(path)\tcgroup.of(pid)\n", "", 0 }, "cgroup and its help")
end)

-- A script's JSON rows on a tree (an archive or a directory), run as memscript --root TREE.
local function script_json(tree, script_args)
  local out, err, status = T.run(format("%s --root %s -f json %s/scripts/%s", T.memscript_command(), T.q(tree),
    T.q(T.source), script_args))
  T.eq({ status, err }, { 0, "" }, script_args .. ": status and stderr")
  return T.json(out)
end

T.test("cgroup.lua on cmonitor's Fedora 35 docker capture: the container's row as the files say", function()
  local archive = T.shared(PEERS .. "cmonitor/tests/fedora35-Linux-5.14.17-x86_64-docker/sample1/sample1.tar.gz")
  local scope = "/system.slice/docker-3cfe7ca058f43dbb15a6cc68c472978a14c93fd7e263384dd0a1fa1517f6d7f0.scope"
  local rows = script_json(archive, "cgroup.lua")
  T.eq(#rows, 3, "the root, the slice, the scope")
  local row = rows[3]
  local p = assert(proc.at(archive, "machine"))
  local dir = "fs/cgroup" .. scope .. "/"
  T.eq(row.path, scope, "path")
  T.eq(row.kind, "docker", "kind")
  T.eq(row.current, number_in(sys_text(p, dir .. "memory.current")), "current")
  T.eq(row.max, number_in(sys_text(p, dir .. "memory.max")), "max")
  T.eq(row.oom_kill, number_in(sys_text(p, dir .. "memory.events"):match("oom_kill (%d+)")), "oom_kill")
  T.eq(row.stat.anon, number_in(sys_text(p, dir .. "memory.stat"):match("anon (%d+)")), "the whole memory.stat")
  T.eq(row.pressure.some.total, number_in(sys_text(p, dir .. "memory.pressure"):match("some .-total=(%d+)")), "pressure")
  T.eq(row.kernel, row.stat.kernel_stack + row.stat.pagetables + row.stat.percpu + row.stat.slab,
       "kernel on 5.14 (no kernel line): the parts it prints")
  T.eq(rows[1].current, require("cjson").null, "the root's files were not captured: null, not 0")
end)

T.test("diff.lua -c between two of cmonitor's samples: the change of each figure", function()
  local base = PEERS .. "cmonitor/tests/fedora35-Linux-5.14.17-x86_64-docker/"
  local a, b = T.shared(base .. "sample1/sample1.tar.gz"), T.shared(base .. "sample2/sample2.tar.gz")
  local out, err, status = T.run(format("%s -f json %s/scripts/diff.lua -c -a %s %s", T.memscript_command(),
    T.q(T.source), T.q(a), T.q(b)))
  T.eq({ status, err }, { 0, "" }, "status and stderr")
  local scope = "/system.slice/docker-3cfe7ca058f43dbb15a6cc68c472978a14c93fd7e263384dd0a1fa1517f6d7f0.scope"
  local row
  for _, r in ipairs(T.json(out)) do if r.cgroup == scope then row = r end end
  T.ok(row ~= nil, "a row for the container")
  local pa, pb = assert(proc.at(a, "machine")), assert(proc.at(b, "machine"))
  local dir = "fs/cgroup" .. scope .. "/"
  local ca, cb = number_in(sys_text(pa, dir .. "memory.current")), number_in(sys_text(pb, dir .. "memory.current"))
  T.eq({ row.change, row.current_a, row.current_b, row.current_change }, { "", ca, cb, cb - ca }, "current")
  local anon_a = number_in(sys_text(pa, dir .. "memory.stat"):match("anon (%d+)"))
  local anon_b = number_in(sys_text(pb, dir .. "memory.stat"):match("anon (%d+)"))
  T.eq(row.anon_change, anon_b - anon_a, "anon")
end)

T.done()
