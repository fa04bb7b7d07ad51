-- top.lua: exact per-process, per-user and per-mapping figures on a built /proc tree, and on the live system.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

local KB = 1024
local top_script = T.source .. "/scripts/top.lua"

-- ---- the fixture tree ----
-- Processes (all sizes from the captured files; see tests/fixtures/*/README):
--   2      a kernel thread: status with Kthread 1, empty cmdline, nothing else          -> left out
--   4804   the live capture (`sleep 100000`, uid 0)                                     -> a row
--   4805   4804 with uid 3999999 (in no passwd file), a long command line with a tab, in its
--          smaps_rollup Private_Hugetlb 2048 kB, Swap 100 kB, SwapPss 60 kB, and in its status
--          VmSwap 80 kB: 80 kB of swap entries in its page tables (shared with others: its share is
--          60 kB), 20 kB of shmem swapped out                                            -> a row
--   4806   4804 with an empty command line, and a smaps_rollup without SwapPss, Swap 8 kB -> a row, [sleep]
--   4807   a zombie: 4804's status with State Z, empty cmdline, nothing else            -> left out
--   4808   4804 without smaps_rollup and smaps                                          -> unreadable
--   1848   the captured helper (tests/fixtures/helper-capture), with uid 1000            -> a row
--   4810   the helper's maps alone: no status, no smaps_rollup: gone                     -> unreadable
--   4811   the helper's status alone, so smaps_rollup is missing                         -> unreadable
-- 4805's smaps has the same swap in its [stack] mapping as its smaps_rollup: Swap 100 kB, SwapPss 60 kB.

local LONG_ARG = "print('tab\there') and a command line longer than forty characters"

local function build_tree()
  local dir = os.tmpname()
  os.remove(dir)
  local root = dir .. "/proc"
  local capture = T.fixtures .. "/live-capture/proc/4804"
  local helper_capture = T.fixtures .. "/helper-capture/proc/1848"
  T.sh(format("mkdir -p %s && chmod 755 %s", T.q(root), T.q(dir)))
  for _, pid in ipairs({"4804", "4805", "4806", "4808"}) do
    T.sh(format("cp -r %s %s/%s", T.q(capture), T.q(root), pid))
  end
  T.sh(format("cp -r %s %s/1848 && mkdir %s/4810 %s/4811 && cp %s/maps %s/4810/ && cp %s/status %s/4811/",
    T.q(helper_capture), T.q(root), T.q(root), T.q(root), T.q(helper_capture), T.q(root), T.q(helper_capture),
    T.q(root)))
  T.sh(format("chmod -R u+w,go+rX %s", T.q(dir)))
  T.write(root .. "/1848/status",
             (T.read(helper_capture .. "/status"):gsub("\nUid:[^\n]*", "\nUid:\t1000\t1000\t1000\t1000")))
  local status = T.read(capture .. "/status")
  T.write(root .. "/4805/status",
             (status:gsub("\nUid:[^\n]*", "\nUid:\t3999999\t3999999\t3999999\t3999999")
                    :gsub("\nVmSwap:[^\n]*", "\nVmSwap:\t      80 kB")))
  T.write(root .. "/4805/cmdline", "python3\0-c\0" .. LONG_ARG .. "\0")
  T.write(root .. "/4806/cmdline", "")
  local rollup = T.read(capture .. "/smaps_rollup")
  T.write(root .. "/4805/smaps_rollup", (rollup
    :gsub("\nPrivate_Hugetlb: +0 kB", "\nPrivate_Hugetlb:    2048 kB")
    :gsub("\nSwap: +0 kB", "\nSwap:                100 kB")
    :gsub("\nSwapPss: +0 kB", "\nSwapPss:              60 kB")))
  T.write(root .. "/4806/smaps_rollup", (rollup:gsub("\nSwap: +0 kB", "\nSwap:                  8 kB")
    :gsub("\nSwapPss:[^\n]*", "")))
  local before_stack, stack, after_stack = T.read(capture .. "/smaps"):match("^(.-%[stack%]\n)(.-)(VmFlags:.*)$")
  stack = stack:gsub("\nSwap: +0 kB", "\nSwap:                100 kB"):gsub("\nSwapPss: +0 kB", "\nSwapPss:              60 kB")
  T.write(root .. "/4805/smaps", before_stack .. stack .. after_stack)
  os.remove(root .. "/4808/smaps_rollup")
  os.remove(root .. "/4808/smaps")
  T.sh(format("mkdir %s/2 %s/4807", T.q(root), T.q(root)))
  T.write(root .. "/2/status",
             (status:gsub("\nKthread:\t0", "\nKthread:\t1"):gsub("^Name:\tsleep", "Name:\tkthreadd")))
  T.write(root .. "/2/cmdline", "")
  T.write(root .. "/4807/status", (status:gsub("\nState:[^\n]*", "\nState:\tZ (zombie)")))
  T.write(root .. "/4807/cmdline", "")
  return dir, root
end

local tree_dir, root = build_tree()
local helper

-- Called before T.done(), which leaves through os.exit: to-be-closed variables would not be closed.
-- An error outside a test still ends the file without it; the tree is in the temporary directory.
local function cleanup()
  if helper then live.stop(helper) end
  os.execute("rm -rf " .. T.q(tree_dir))
end

local integers = T.integers

-- top.lua's stdout, stderr and exit status for a format ("table", "json", "csv") and arguments.
local function top(fmt, args, proc_root)
  local root_opt = proc_root and ("--proc-root " .. T.q(proc_root) .. " ") or ""
  return T.run(format("%s %s-f %s %s %s", T.memscript_command(), root_opt, fmt, T.q(top_script), args or ""))
end

-- JSON rows, a null (a figure not known) as nil.
local function decoded(text)
  local rows = integers(cjson.decode(text))
  for _, row in ipairs(rows) do
    for k, v in pairs(row) do if v == cjson.null then row[k] = nil end end
  end
  return rows
end

local function top_json(args, proc_root)
  local out, err, status = top("json", args, proc_root)
  T.eq(status, 0, "exit status of top.lua " .. (args or "") .. " (stderr: " .. err .. ")")
  return decoded(out), err
end

local function by_key(rows, key)
  local out = {}
  for _, row in ipairs(rows) do out[row[key]] = row end
  return out
end

-- The name /etc/passwd gives uid 1000 on this machine, or the number when it has none.
local function passwd_name(uid)
  for line in io.lines("/etc/passwd") do
    local name, id = line:match("^([^:]*):[^:]*:(%d+):")
    if id == uid then return name end
  end
  return uid
end

-- Footprint = PSS + swap; ShmemSwap = smaps_rollup Swap - status VmSwap, absent where Swap stands in
-- for SwapPss (4806).
local SLEEP = {uss = (36 + 112) * KB, pss = 410 * KB, rss = 1840 * KB, swap = 0, shmem_swap = 0, footprint = 410 * KB}
-- The helper's smaps_rollup: Private_Clean 0, Private_Dirty 1032 kB, Pss 1032 kB, Rss 1036 kB, SwapPss 0.
local HELPER = {uss = 1032 * KB, pss = 1032 * KB, rss = 1036 * KB, swap = 0, shmem_swap = 0, footprint = 1032 * KB}
local SLEEP_4805 = {uss = SLEEP.uss + 2048 * KB, pss = SLEEP.pss, rss = SLEEP.rss, swap = 60 * KB,
                    shmem_swap = 20 * KB, footprint = (410 + 60) * KB}
local SLEEP_4806 = {uss = SLEEP.uss, pss = SLEEP.pss, rss = SLEEP.rss, swap = 8 * KB, footprint = (410 + 8) * KB}

local function process_row(pid, user, command, sizes)
  return {pid = pid, user = user, command = command, uss = sizes.uss, pss = sizes.pss, rss = sizes.rss,
          swap = sizes.swap, shmem_swap = sizes.shmem_swap, footprint = sizes.footprint}
end

local EXPECTED_ROWS = {
  process_row(1848, passwd_name("1000"), "./memhelper", HELPER),
  process_row(4804, "root", "sleep 100000", SLEEP),
  process_row(4805, "3999999", "python3 -c " .. LONG_ARG, SLEEP_4805),
  process_row(4806, "root", "[sleep]", SLEEP_4806),
}

local STOOD_IN = "1 process without SwapPss: Swap stands in (a swapped-out page shared with other processes " ..
                 "counted whole in each)\n"
local FOOTER = "3 processes unreadable: 1 gone, 2 other (" .. root ..
               "/4808/smaps_rollup: No such file or directory)\n" .. STOOD_IN

T.test("users.names: uid to name from a passwd file, the first line for a uid, nothing from a file not there", function()
  local dir, cleanup <close> = T.tempdir()
  T.write(dir .. "/passwd", "root:x:0:0:root:/root:/bin/bash\nnot a passwd line\nalias:x:0:0::/:/bin/sh\n"
    .. "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
  local out = T.sh(T.memscript_command(nil, "-e " .. T.q(format([[
    local users = require "memscript.users"
    local names, none = users.names(%q), users.names(%q)
    print(names["0"], names["65534"], names["1"], next(none))]], dir .. "/passwd", dir .. "/missing"))))
  T.eq(out, "root\tnobody\tnil\tnil\n", "root (not alias), nobody, no uid 1, nothing from a missing file")
end)

T.test("each process read is a row: USS, PSS, RSS, SwapPss (else Swap), ShmemSwap, Footprint, by PSS", function()
  local rows, err = top_json("", root)
  T.eq(rows, EXPECTED_ROWS, "rows")
  T.eq(rows[1].pid, 1848, "first row")
  T.eq(rows[4].pid, 4806, "equal PSS keeps pid order")
  T.eq(err, FOOTER, "stderr")
end)

T.test("kernel threads and zombies are left out silently: no row, not counted unreadable", function()
  local rows, err = top_json("", root)
  local pids = by_key(rows, "pid")
  T.eq(pids[2], nil, "kernel thread 2")
  T.eq(pids[4807], nil, "zombie 4807")
  local out, err2, status = top("json", "-p 2,4807", root)
  T.eq({out, err2, status}, {"[]\n", "", 0}, "only a kernel thread and a zombie asked for")
  T.contains(err, "3 processes unreadable", "footer")
end)

T.test("a file missing from a process still there is other, never gone; without mappings it has no memory", function()
  -- 4804: the live capture; 4809: the same less its smaps_rollup and maps; 109: kthreadd as an older
  -- kernel shows it, a status without the Kthread line, empty maps and no smaps_rollup
  local tmp, cleanup <close> = T.tempdir()
  local capture = T.fixtures .. "/live-capture/proc/4804"
  T.sh(format("cp -r %s %s/4804 && cp -r %s %s/4809 && cp -r %s %s/109 && chmod -R u+w %s", T.q(capture), T.q(tmp),
    T.q(capture), T.q(tmp), T.q(T.fixtures .. "/edge/proc/109"), T.q(tmp), T.q(tmp)))
  os.remove(tmp .. "/4809/smaps_rollup")
  os.remove(tmp .. "/4809/maps")
  local status_109 = T.read(tmp .. "/109/status")
  T.write(tmp .. "/109/status", (status_109:gsub("\nKthread:\t1", "")))
  T.ok(not T.read(tmp .. "/109/status"):find("Kthread", 1, true), "109's status has no Kthread line")
  local rows, err = top_json("", tmp)
  T.eq(rows, {EXPECTED_ROWS[2]}, "rows: 4804 alone")
  T.eq(err, "1 process unreadable: 1 other (" .. tmp .. "/4809/smaps_rollup: No such file or directory)\n", "stderr")
  -- its status gone too: nothing says the process was there
  os.remove(tmp .. "/4809/status")
  local out, err2, status = top("json", "-p 4809,109", tmp)
  T.eq({out, err2, status}, {"[]\n", "1 process unreadable: 1 gone\n", 3}, "-p 4809,109")
end)

T.test("unreadable processes are neither rows nor part of the totals", function()
  local rows = top_json("", root)
  local pids = by_key(rows, "pid")
  for _, pid in ipairs({4808, 4810, 4811}) do T.eq(pids[pid], nil, "row of unreadable " .. pid) end
  local out, err, status = top("table", "", root)
  T.eq(status, 0, "exit status")
  T.eq(err, FOOTER, "footer on stderr")
  T.ok(not out:find("unreadable", 1, true), "the footer is not on stdout")
end)

-- The size fields of a view, in its columns' order.
local SIZES = {"uss", "pss", "rss", "swap", "shmem_swap", "footprint"}
local MAP_SIZES = {"uss", "pss", "rss", "swap", "footprint"}

-- The sizes of one line of a table ("-" for a figure not known is nil), by the fields' names.
local function line_sizes(line, fields)
  local words = {}
  for word in line:gmatch("%S+") do words[#words + 1] = word end
  local t = {}
  for i, field in ipairs(fields) do
    local word = words[#words - #fields + i]
    t[field] = word ~= "-" and math.tointeger(tonumber(word)) or nil
  end
  return t
end

-- The numbers of the table's last line.
local function totals_line(table_text, fields)
  local last = table_text:match("([^\n]*)\n$")
  return last, line_sizes(last, fields or SIZES)
end

-- The sums of the rows' sizes; a field no row knows stays nil.
local function sums(rows, fields)
  local s = {}
  for _, row in ipairs(rows) do
    for _, k in ipairs(fields or SIZES) do
      if row[k] ~= nil then s[k] = (s[k] or 0) + row[k] end
    end
  end
  return s
end

T.test("the table ends with a rule and the totals over the processes read", function()
  local rows = top_json("", root)
  local out = top("table", "", root)
  local last, totals = totals_line(out)
  T.eq(totals, sums(rows), "totals line against the JSON rows")
  T.eq(totals, {uss = HELPER.uss + 3 * SLEEP.uss + 2048 * KB, pss = HELPER.pss + 3 * SLEEP.pss,
                rss = HELPER.rss + 3 * SLEEP.rss, swap = HELPER.swap + 68 * KB, shmem_swap = 20 * KB,
                footprint = HELPER.pss + 3 * SLEEP.pss + 68 * KB}, "totals")
  T.contains(last, "total: 4 processes", "totals line")
  local lines = {}
  for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  T.eq(#lines, 1 + 4 + 2, "header, four rows, rule, totals")
  T.ok(lines[6]:match("^%-+$") ~= nil, "rule line: " .. lines[6])
  T.eq(#lines[6], #lines[1], "the rule is as wide as the header")
  T.eq(lines[1]:gsub("^%s+", ""):gsub("%s+", " "), "PID User Command USS PSS RSS Swap ShmemSwap Footprint",
    "header: Swap, not SwapPss, as 4806 has no SwapPss")
end)

T.test("the table cuts commands to 40 characters, then escapes control characters (a tab as \\t); JSON keeps them", function()
  local out = top("table", "-p 4805", root)
  local expected = ("python3 -c " .. LONG_ARG):sub(1, 37):gsub("\t", "\\t") .. "..."
  T.eq(#expected, 41, "cut length: 40 characters, the tab written as two")
  T.contains(out, "4805  3999999  " .. expected .. "  ", "row of 4805")
  local rows = top_json("-p 4805", root)
  T.eq(rows[1].command, "python3 -c " .. LONG_ARG, "JSON command")
end)

T.test("json and csv carry no totals", function()
  local out, _, status = top("csv", "", root)
  T.eq(status, 0, "exit status")
  local lines = {}
  for line in out:gmatch("([^\r]*)\r\n") do lines[#lines + 1] = line end
  T.eq(lines[1], "pid,user,command,uss,pss,rss,swap,shmem_swap,footprint", "CSV header")
  T.eq(#lines, 5, "header and four rows")
  T.eq(lines[2], format("1848,%s,./memhelper,%d,%d,%d,%d,%d,%d", passwd_name("1000"),
                        HELPER.uss, HELPER.pss, HELPER.rss, HELPER.swap, HELPER.shmem_swap, HELPER.footprint),
       "first CSV row")
  T.eq(lines[5], format("4806,root,[sleep],%d,%d,%d,%d,,%d", SLEEP.uss, SLEEP.pss, SLEEP.rss, 8 * KB,
                        SLEEP_4806.footprint), "no ShmemSwap where Swap stands in for SwapPss")
  T.eq(#top_json("", root), 4, "JSON rows")
end)

T.test("-u sums each user's processes", function()
  local rows = top_json("-u", root)
  T.eq(rows, {
    {user = passwd_name("1000"), procs = 1, uss = HELPER.uss, pss = HELPER.pss, rss = HELPER.rss, swap = HELPER.swap,
     shmem_swap = 0, footprint = HELPER.footprint},
    {user = "root", procs = 2, uss = 2 * SLEEP.uss, pss = 2 * SLEEP.pss, rss = 2 * SLEEP.rss, swap = 8 * KB,
     shmem_swap = 0, footprint = 2 * SLEEP.pss + 8 * KB},
    {user = "3999999", procs = 1, uss = SLEEP_4805.uss, pss = SLEEP.pss, rss = SLEEP.rss, swap = 60 * KB,
     shmem_swap = 20 * KB, footprint = SLEEP_4805.footprint},
  }, "-u rows: each user's sums (4806's unknown ShmemSwap left out of root's)")
  local out, err = top("table", "-u", root)
  local last, totals = totals_line(out)
  T.eq(totals, sums(rows), "-u totals against its rows")
  T.ok(last:match("^total: 3 users%s+4%s") ~= nil, "-u totals line: " .. last)
  T.eq(err, FOOTER, "-u footer")
end)

-- -m sums smaps records; values from the fixtures' smaps, summed outside memscript (kB).
local function map_row(name, procs, maps, uss, pss, rss, swap)
  return {map = name, procs = procs, maps = maps,
          uss = uss * KB, pss = pss * KB, rss = rss * KB, swap = swap * KB, footprint = (pss + swap) * KB}
end

T.test("-m sums every mapping of a name over the processes that map it", function()
  local rows = top_json("-m", root)
  local names = by_key(rows, "map")
  -- [anon]: three mappings without a path in each sleep (32 kB), seventeen in the helper (188 kB)
  T.eq(names["[anon]"], map_row("[anon]", 4, 3 * 3 + 17, 3 * 32 + 188, 3 * 32 + 188, 3 * 32 + 188, 0), "[anon]")
  T.eq(names["/usr/lib/x86_64-linux-gnu/libc.so.6"],
       map_row("/usr/lib/x86_64-linux-gnu/libc.so.6", 3, 15, 3 * 24, 3 * 221, 3 * 1320, 0), "libc")
  T.eq(names["[stack]"], map_row("[stack]", 4, 4, 3 * 16 + 20, 3 * 16 + 20, 3 * 16 + 20, 60), "[stack]")
  T.eq(names["/tmp/memhelper"], map_row("/tmp/memhelper", 1, 5, 668, 668, 668, 0), "the helper's executable")
  T.eq(rows[1].map, "/tmp/memhelper", "largest PSS first")
  T.eq(rows[2].map, "/usr/lib/x86_64-linux-gnu/libc.so.6", "second")
  local out, err = top("table", "-m", root)
  local last, totals = totals_line(out, MAP_SIZES)
  T.eq(totals, sums(rows, MAP_SIZES), "-m totals against its rows")
  -- smaps' Pss lines of 4804 add up to 400 kB; smaps_rollup says 410 kB (the kernel rounds once there).
  T.eq(totals, {uss = (3 * 148 + 1032) * KB, pss = (3 * 400 + 1032) * KB, rss = (3 * 1840 + 1036) * KB,
                swap = 60 * KB, footprint = (3 * 400 + 1032 + 60) * KB}, "-m totals")
  T.ok(out:match("^Map%s+Procs%s+Maps%s+USS%s+PSS%s+RSS%s+SwapPss%s+Footprint\n") ~= nil,
       "-m header: every smaps mapping has SwapPss, no ShmemSwap column")
  T.ok(last:match("^total: 31 names%s+4%s+146%s") ~= nil,
       "-m totals line (31 names, 4 processes, 146 mappings): " .. last)
  T.eq(err, "3 processes unreadable: 1 gone, 2 other (" .. root ..
            "/4808/smaps: No such file or directory)\n", "-m footer: smaps has SwapPss in 4806 too")
end)

T.test("-n shows the first rows, the totals still sum every process read", function()
  local rows = top_json("-n 2", root)
  T.eq(rows, {EXPECTED_ROWS[1], EXPECTED_ROWS[2]}, "-n 2")
  T.eq(top_json("-n1", root), {EXPECTED_ROWS[1]}, "-n1")
  local _, totals = totals_line((top("table", "-n 1", root)))
  T.eq(totals.rss, HELPER.rss + 3 * SLEEP.rss, "totals with -n 1")
end)

-- -c on the fixture tree read as a machine (--root), with a cgroup v2 hierarchy made here: the helper
-- in /a, the three sleeps in /b.
T.test("-c: Footprint and ShmemSwap per cgroup beside its charge, and -s footprint", function()
  local cg = tree_dir .. "/sys/fs/cgroup"
  T.sh(format("mkdir -p %s/a %s/b", T.q(cg), T.q(cg)))
  T.write(cg .. "/cgroup.controllers", "memory\n")
  T.write(cg .. "/a/memory.current", "5000000\n")
  T.write(cg .. "/b/memory.current", "3000000\n")
  T.write(root .. "/1848/cgroup", "0::/a\n")
  for _, pid in ipairs({"4804", "4805", "4806"}) do T.write(root .. "/" .. pid .. "/cgroup", "0::/b\n") end
  local function run(fmt, args)
    return T.run(format("%s --root %s -f %s %s -c %s", T.memscript_command(), T.q(tree_dir), fmt, T.q(top_script), args))
  end
  local out, err, status = run("json", "")
  T.eq(status, 0, "status (stderr: " .. err .. ")")
  local b_swap = SLEEP.swap + SLEEP_4805.swap + SLEEP_4806.swap
  -- 4806's ShmemSwap is unknown (Swap stands in, and holds it): /b's is 4804's and 4805's
  local expected = {
    {cgroup = "/a", procs = 1, uss = HELPER.uss, pss = HELPER.pss, rss = HELPER.rss, swap = 0, shmem_swap = 0,
     footprint = HELPER.footprint, current = 5000000, unmapped = 5000000 - HELPER.pss},
    {cgroup = "/b", procs = 3, uss = 2 * SLEEP.uss + SLEEP_4805.uss, pss = 3 * SLEEP.pss, rss = 3 * SLEEP.rss,
     swap = b_swap, shmem_swap = SLEEP_4805.shmem_swap, footprint = 3 * SLEEP.pss + b_swap, current = 3000000,
     unmapped = 3000000 - 3 * SLEEP.pss},
  }
  T.eq(decoded(out), expected, "rows, largest charge first")
  out = run("json", "-s footprint")
  T.eq(decoded(out), {expected[2], expected[1]}, "-s footprint: /b's PSS + swap first")
  out, err = run("table", "")
  local header = out:match("^[^\n]*")
  T.eq(header:gsub("%s+", " "), "Cgroup Procs USS PSS RSS Swap ShmemSwap Footprint Current Unmapped",
    "the table's columns: Swap, as 4806 has no SwapPss")
  T.contains(err, "1 process without SwapPss: Swap stands in", "stderr says so")
end)

T.test("-s sorts by another column: numbers largest first, text in byte order", function()
  local function pids(rows)
    local out = {}
    for i, row in ipairs(rows) do out[i] = row.pid end
    return out
  end
  T.eq(pids(top_json("-s rss", root)), {4804, 4805, 4806, 1848}, "-s rss, ties in pid order")
  T.eq(pids(top_json("-s pid", root)), {4806, 4805, 4804, 1848}, "-s pid")
  T.eq(pids(top_json("--sort command", root)), {1848, 4806, 4805, 4804}, "--sort command")
  T.eq(pids(top_json("-s swap", root)), {4805, 4806, 1848, 4804}, "-s swap")
  T.eq(pids(top_json("-s uss", root)), {4805, 1848, 4804, 4806}, "-s uss, ties in pid order")
  T.eq(pids(top_json("-s footprint", root)), {1848, 4805, 4806, 4804}, "-s footprint")
  T.eq(pids(top_json("-s shmem_swap", root)), {4805, 1848, 4804, 4806}, "-s shmem_swap: unknown last")
  local previous = math.huge
  for _, row in ipairs(top_json("-m -s footprint", root)) do
    T.eq(row.footprint, row.pss + row.swap, "-m footprint of " .. row.map)
    T.ok(row.footprint <= previous, "-m -s footprint: largest first")
    previous = row.footprint
  end
  local users = {}
  for i, row in ipairs(top_json("-u -s procs", root)) do users[i] = row.user end
  T.eq(users[1], "root", "-u -s procs")
end)

T.test("-p restricts the scan; a pid that does not exist is counted gone", function()
  T.eq(top_json("-p 4806,1848", root), {EXPECTED_ROWS[1], EXPECTED_ROWS[4]}, "-p 4806,1848")
  T.eq(top_json("-p 4804 -p 4804", root), {EXPECTED_ROWS[2]}, "repeated pid")
  local out, err, status = top("json", "-p 999999", root)
  T.eq({out, err, status}, {"[]\n", "1 process unreadable: 1 gone\n", 3}, "only a missing pid")
end)

T.test("usage errors exit 3 with the usage on stderr; --help exits 0", function()
  for _, args in ipairs({"-s bogus", "-n 0", "-n x", "-p 12,abc", "-u -m", "-x", "-n"}) do
    local out, err, status = top("table", args, root)
    T.eq({out, status}, {"", 3}, "top.lua " .. args)
    T.contains(err, "usage: memscript top.lua", "usage for " .. args)
  end
  local _, err = top("table", "-m -s user", root)
  T.contains(err, "cannot sort by 'user' here (fields: map procs maps uss pss rss swap footprint)", "-m -s user")
  local help, help_err, status = top("table", "--help", root)
  T.eq({help_err, status}, {"", 0}, "--help")
  T.contains(help, "Kernel threads and zombies", "--help on kernel threads")
  T.contains(help, "Costlier", "--help on the cost of -m")
end)

T.test("memscript --list shows top.lua's description", function()
  local out = T.sh(T.memscript_command() .. " --list")
  T.contains(out, "top.lua", "--list")
  T.contains(out, "memory of every process (USS, PSS, RSS, swap, footprint)", "--list description")
end)

-- ---- a progress line on a terminal ----

T.test("on a terminal, a scan longer than a second shows its progress on stderr and clears it", function()
  if select(3, T.run("command -v script")) ~= 0 then T.skip("script (util-linux) is not installed") end
  -- Opening 1848 takes 1.5 s (a wrapper set by -e before the script runs): the scan of 1848, the
  -- first of the two processes, lasts at least that long however busy the machine is. (A FIFO in
  -- the tree, which would have done it too, is refused: only regular files are read there.)
  local slow = [[local open = proc.open
proc.open = function(pid, ...) if pid == 1848 then require("memscript.sys").sleep(1.5) end return open(pid, ...) end]]
  local tree, cleanup <close> = T.tempdir()
  T.sh(format("mkdir %s/proc && cp -r %s/1848 %s/4804 %s/proc/", T.q(tree), T.q(root), T.q(root), T.q(tree)))
  local inner = format("%s --proc-root %s/proc -e %s %s >/dev/null", T.memscript_command(), T.q(tree), T.q(slow),
                       T.q(top_script))
  local out, _, status = T.run(format("script -qec %s /dev/null", T.q(inner)))
  T.eq(status, 0, "exit status")
  local text = "scanning 1/2 processes..."
  T.contains(out, "\r" .. text, "progress line")
  T.ok(out:sub(-(#text + 2)) == "\r" .. string.rep(" ", #text) .. "\r", "cleared at the end: " .. T.show(out))
end)

-- ---- the live system ----

local started, start_error = pcall(live.start, {"--", "top test"})
helper = started and start_error or nil

local function need_helper()
  if not helper then error("could not start the helper: " .. tostring(start_error), 2) end
end
local me = T.sh("id -un"):match("[^\n]+")
local helper_command = T.helper .. " -- top test"

local function helper_row(rollup, vm_swap)
  return {pid = helper.pid, user = me, command = helper_command,
          uss = rollup.Private_Clean + rollup.Private_Dirty + rollup.Private_Hugetlb,
          pss = rollup.Pss, rss = rollup.Rss, swap = rollup.SwapPss, shmem_swap = rollup.Swap - vm_swap,
          footprint = rollup.Pss + rollup.SwapPss}
end

-- Runs top.lua with args and checks the helper's row against the helper's smaps_rollup, read in the same
-- memscript process just before the script runs and at its os.exit. Returns top.lua's rows.
-- The helper's Pss changes whenever any process maps or unmaps pages it shares (libc, for one: top.lua's
-- own process is counted, hence the reading from inside it). Every other figure of a stopped process
-- holds still and must match at once; Pss is compared when the two readings agree, up to five runs, so a
-- process starting or ending elsewhere during a run does not fail the test, and a wrong Pss still does.
local function check_helper_row(args)
  local check_path = os.tmpname()
  local prelude = format([[
local cjson, pid, exit = require "cjson", %d, os.exit
local before, vm_swap = proc.smaps_rollup(pid), proc.status(pid).VmSwap
os.exit = function(code)
  local f = io.open(%q, "w")
  f:write(cjson.encode({before = before, after = proc.smaps_rollup(pid), vm_swap = vm_swap}))
  f:close()
  exit(code)
end]], helper.pid, check_path)
  local last
  for _ = 1, 5 do
    local out, err, status = T.run(format("%s -f json -e %s %s %s",
                                          T.memscript_command(), T.q(prelude), T.q(top_script), args))
    T.eq(status, 0, "exit status of top.lua " .. args .. " (stderr: " .. err .. ")")
    local check = integers(cjson.decode(T.read(check_path)))
    local rows = decoded(out)
    local row = by_key(rows, "pid")[helper.pid]
    local expected = helper_row(check.before, check.vm_swap)
    T.ok(row ~= nil, "a row for the helper")
    T.eq(row.uss, expected.uss, "uss")
    expected.pss, expected.footprint = row.pss, row.pss + expected.swap
    T.eq(row, expected, "the helper's row but its pss")
    if T.show(check.before) == T.show(check.after) then
      if row.pss == check.before.Pss then
        os.remove(check_path)
        return rows
      end
      last = format("pss %d, smaps_rollup's Pss %d", row.pss, check.before.Pss)
    end
  end
  os.remove(check_path)
  error("the helper's pss never matched its steady smaps_rollup: " .. tostring(last or "it kept changing"), 2)
end

T.test("live: the stopped helper's row equals its smaps_rollup", function()
  need_helper()
  local rows = check_helper_row("-p " .. helper.pid)
  T.eq(#rows, 1, "rows")
  T.ok(rows[1].uss >= 32 * helper.page_size, "the helper's written pages are in its USS")
end)

T.test("live: a whole-system scan has the helper's exact row, and not its zombie child", function()
  need_helper()
  local rows = check_helper_row("")
  T.ok(helper.zombie ~= nil, "the helper has a zombie child")
  T.eq(by_key(rows, "pid")[helper.zombie], nil, "zombie row")
  T.ok(#rows >= 2, "more than one process read")
end)

T.test("live: the table's totals are the sum of its own rows; the kernel's SwapPss titles the column", function()
  local out, _, status = top("table", "")
  T.eq(status, 0, "exit status")
  local lines = {}
  for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  T.ok(lines[1]:match("RSS%s+SwapPss%s+ShmemSwap%s+Footprint$") ~= nil, "header: " .. lines[1])
  local rows = {}
  for i = 2, #lines - 2 do rows[#rows + 1] = line_sizes(lines[i], SIZES) end
  local last, totals = totals_line(out)
  T.eq(totals, sums(rows), "totals line")
  T.contains(last, format("total: %d processes", #lines - 3), "process count")
end)

T.test("live: every row's footprint is its PSS + SwapPss, per process, user, mapping and (with cgroups) cgroup", function()
  local views = {"", "-u", "-m"}
  if proc.cgroup.hierarchy() then views[#views + 1] = "-c" end
  for _, args in ipairs(views) do
    local rows = top_json(args)
    T.ok(#rows > 0, "rows of top.lua " .. args)
    for _, row in ipairs(rows) do T.eq(row.footprint, row.pss + row.swap, "footprint, top.lua " .. args) end
  end
end)

T.test("live: -m counts the helper's mapped file once, with its smaps Rss", function()
  need_helper()
  local path = helper.dir .. "/data"
  for _ = 1, 5 do
    local rows = top_json("-m -p " .. helper.pid)
    local data
    for _, m in ipairs(proc.smaps(helper.pid)) do
      if m.path == path then data = m end
    end
    local row = by_key(rows, "map")[path]
    T.ok(row ~= nil and data ~= nil, "a row and a mapping for " .. path)
    if row.pss == data.Pss then
      T.eq({row.procs, row.maps, row.rss, row.uss},
           {1, 1, data.Rss, data.Private_Clean + data.Private_Dirty + data.Private_Hugetlb}, "data row")
      T.ok(row.rss >= 4 * helper.page_size, "the four pages read are resident")
      return
    end
  end
  error("the helper's Pss kept changing")
end)

-- ---- without root ----

local function need_setpriv()
  if T.sh("id -u"):match("%d+") ~= "0" then T.skip("needs root to switch to uid 65534") end
  if select(3, T.run("command -v setpriv")) ~= 0 then T.skip("setpriv (util-linux) is not installed") end
end

local function as_nobody(args, proc_root, fmt)
  local root_opt = proc_root and ("--proc-root " .. T.q(proc_root) .. " ") or ""
  return T.run(format("setpriv --reuid=65534 --regid=65534 --clear-groups %s %s-f %s %s %s",
                      T.memscript_command(), root_opt, fmt or "json", T.q(top_script), args or ""))
end

T.test("live, as uid 65534: root's processes are counted as permission denied, never shown", function()
  need_setpriv()
  need_helper()
  local out, err, status = as_nobody("")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  local rows = decoded(out)
  local nobody = passwd_name("65534")
  T.ok(#rows >= 1, "top.lua reads at least itself")
  for _, row in ipairs(rows) do
    T.eq(row.user, nobody, "owner of row " .. row.pid)
    T.ok(row.rss > 0, "row " .. row.pid .. " has memory")
  end
  local pids = by_key(rows, "pid")
  T.eq(pids[helper.pid], nil, "root's helper")
  local count, denied = err:match("^(%d+) process[es]* unreadable: .-(%d+) permission denied")
  T.ok(count and tonumber(denied) > 0, "footer with permission denied: " .. err)
  T.ok(tonumber(count) >= tonumber(denied), "footer counts")
  -- The helper is one of the denied: asked for alone, it is the one unreadable process.
  local out2, err2, status2 = as_nobody("-p " .. helper.pid)
  T.eq({out2, err2, status2}, {"[]\n", "1 process unreadable: 1 permission denied\n", 3}, "-p helper")
end)

T.test("as uid 65534 on the fixture tree: an unreadable smaps_rollup counts as permission denied", function()
  need_setpriv()
  T.sh(format("chmod 000 %s/4806/smaps_rollup", T.q(root)))
  local out, err, status = as_nobody("", root)
  T.sh(format("chmod 444 %s/4806/smaps_rollup", T.q(root)))
  T.eq(status, 0, "exit status")
  local rows = decoded(out)
  T.eq(rows, {EXPECTED_ROWS[1], EXPECTED_ROWS[2], EXPECTED_ROWS[3]}, "rows without 4806")
  T.eq(err, "4 processes unreadable: 1 gone, 1 permission denied, 2 other (" .. root ..
       "/4808/smaps_rollup: No such file or directory)\n", "footer: 4806, without SwapPss, was not read")
end)

cleanup()
T.done()
