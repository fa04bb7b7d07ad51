-- system.lua and memscript.system: MemTotal split into parts that add up to it exactly, on captured
-- and built trees (every figure checked against the files) and on the live machine.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

local KB = 1024

-- "Key:   N kB" lines of a meminfo text as bytes, and the keys in order.
local function meminfo_of(text)
  local values, keys = {}, {}
  for key, n, unit in text:gmatch("([^\n:]+):%s+(%d+)%s*(k?B?)") do
    values[key] = math.tointeger(tonumber(n)) * (unit == "kB" and KB or 1)
    keys[#keys + 1] = key
  end
  return values, keys
end

-- JSON rows with null figures as nil.
local function rows_of(text)
  local rows = T.json(text)
  for _, row in ipairs(rows) do
    for k, v in pairs(row) do if v == cjson.null then row[k] = nil end end
  end
  return rows
end

local function system_json(root, args, opts)
  local out, err, status = T.memscript(root, "-f json system.lua " .. (args or ""), opts)
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  return rows_of(out), err
end

local function by_part(rows)
  local t = {}
  for _, row in ipairs(rows) do t[row.part] = row end
  return t
end

-- The parts add up to MemTotal and each part's shares to the part; returns the MemTotal row.
local function check_sums(rows)
  local total, sum, parts, shares = nil, 0, {}, {}
  for _, row in ipairs(rows) do
    if row.kind == "total" then total = row end
    if row.kind == "part" then
      sum = sum + row.bytes
      parts[row.part] = row.bytes
    end
    if row.kind == "share" then
      local parent = row.part:match("^([^.]+)%.")
      shares[parent] = (shares[parent] or 0) + row.bytes
    end
  end
  T.ok(total ~= nil, "a MemTotal row")
  T.eq(sum, total.bytes, "the parts add up to MemTotal")
  for parent, bytes in pairs(shares) do
    T.ok(parts[parent] ~= nil, "share of a part that exists: " .. parent)
    T.eq(bytes, parts[parent], "the shares of " .. parent .. " add up to it")
  end
  return total
end

-- ---- a capture ----

local helper_capture = T.fixtures .. "/helper-capture/proc"

T.test("a capture: every part from the captured files, adding up to MemTotal exactly", function()
  local mi = meminfo_of(T.read(helper_capture .. "/meminfo"))
  local rows = system_json(helper_capture)
  local p = by_part(rows)
  check_sums(rows)
  -- the helper's smaps_rollup: Pss 1032 kB = Pss_Anon 248 + Pss_File 732 + Pss_Shmem 52
  local expected = {
    processes = 1032 * KB, ["processes.anon"] = 248 * KB, ["processes.file"] = 732 * KB,
    ["processes.shmem"] = 52 * KB, ["processes.rounding"] = 0,
    anon_unread = mi.AnonPages - 248 * KB,
    page_cache = mi.Cached - mi.Shmem + mi.Buffers - 732 * KB,
    ["page_cache.files"] = mi.Cached - mi.Shmem - 732 * KB, ["page_cache.buffers"] = mi.Buffers,
    shmem = mi.Shmem - 52 * KB,
    swap_cache = mi.SwapCached,
    ["kernel.slab_reclaimable"] = mi.SReclaimable, ["kernel.slab_unreclaimable"] = mi.SUnreclaim,
    ["kernel.other_reclaimable"] = mi.KReclaimable - mi.SReclaimable, ["kernel.stacks"] = mi.KernelStack,
    ["kernel.page_tables"] = mi.PageTables, ["kernel.secondary_page_tables"] = mi.SecPageTables,
    ["kernel.percpu"] = mi.Percpu, ["kernel.bounce"] = mi.Bounce, ["kernel.writeback_tmp"] = mi.WritebackTmp,
    ["kernel.vmalloc"] = mi.VmallocUsed,
    hugetlb = mi.Hugetlb, zswap = mi.Zswap, free = mi.MemFree, MemTotal = mi.MemTotal,
  }
  for name, bytes in pairs(expected) do T.eq(p[name] and p[name].bytes, bytes, name) end
  local kernel = mi.SReclaimable + mi.SUnreclaim + mi.KReclaimable - mi.SReclaimable + mi.KernelStack + mi.PageTables
    + mi.SecPageTables + mi.Percpu + mi.Bounce + mi.WritebackTmp + mi.VmallocUsed
  T.eq(p.kernel.bytes, kernel, "kernel")
  T.eq(p.unaccounted.bytes, mi.MemTotal - mi.MemFree - mi.AnonPages - mi.Cached - mi.Buffers - mi.SwapCached
    - kernel - mi.Hugetlb - mi.Zswap, "unaccounted: MemTotal less what meminfo counts")
  -- what a captured machine cannot tell
  T.contains(p["kernel.vmalloc"].meaning, "unknown whether it holds the task stacks too (a tree read from "
    .. helper_capture .. " does not tell)", "vmalloc")
  T.eq(p.tmpfs.bytes, nil, "tmpfs not measured")
  T.contains(p.tmpfs.meaning, "only the running system's mounts can be asked", "tmpfs")
  T.eq(p.zram, nil, "no zram part without a /sys")
  T.eq(p.free_percpu, nil, "no zoneinfo in a capture")
  T.contains(p.unaccounted.meaning, "free pages held on per-CPU lists (MemFree leaves them out; /proc/zoneinfo not "
    .. "read)", "unaccounted says what it holds")
  T.eq(p["scan.memfree_change"], nil, "no drift on a capture")
  T.eq({p.anon_unread.estimate, p.processes.estimate, p.free.estimate}, {true, false, false}, "estimates marked")
  T.ok(p.anon_unread.meaning:find("^estimate: AnonPages less processes.anon") ~= nil, "how: " .. p.anon_unread.meaning)
  T.eq({p["swap.used"].bytes, p["swap.zswapped"].bytes}, {0, 0}, "swap notes")
end)

T.test("the table: parts, their shares indented, a rule, MemTotal, then the notes and where the figures come from", function()
  local out, err, status = T.memscript(helper_capture, "system.lua")
  T.eq({err, status}, {"", 0}, "stderr and status")
  local lines = {}
  for line in out:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  T.ok(lines[1]:match("^Part%s+Bytes%s+MemTotal%s+Meaning$") ~= nil, "header: " .. lines[1])
  T.ok(lines[2]:match("^processes%s+1056768%s+0%.0%%%s+PSS of the 1 process read") ~= nil, lines[2])
  T.ok(lines[3]:match("^  processes%.anon%s+253952 ") ~= nil, lines[3])
  local rule
  for i, line in ipairs(lines) do if line:match("^%-+$") then rule = i end end
  T.ok(rule ~= nil, "a rule")
  T.ok(lines[rule - 1]:match("^unaccounted ") ~= nil, "unaccounted last: " .. lines[rule - 1])
  T.ok(lines[rule + 1]:match("^MemTotal%s+25276157952%s+100%.0%%") ~= nil, lines[rule + 1])
  T.eq(lines[rule + 3], "Beside MemTotal, in no sum:", "notes")
  T.eq(lines[#lines], "Linux 6.18.44-fc-v1272, 4096-byte pages (captured on vm)", "origin")
end)

T.test("-f csv: the rows of -f json, in RFC 4180", function()
  local out, _, status = T.memscript(helper_capture, "-f csv system.lua")
  T.eq(status, 0, "status")
  local records = T.csv(out)
  T.eq(records[1], {"part", "kind", "bytes", "per_second", "unit", "estimate", "meaning"}, "header")
  local rows = system_json(helper_capture)
  T.eq(#records, #rows + 1, "one record per row")
  T.eq({records[2][1], records[2][2], records[2][3], records[2][6]}, {"processes", "part", "1056768", "false"},
    "first record")
end)

-- ---- built trees ----

local function built_tree(edit)
  local dir, cleanup = T.tempdir()
  local root = dir .. "/proc"
  local sleep = T.fixtures .. "/live-capture/proc/4804"
  T.sh(format("mkdir %s && cp -r %s %s/4804 && cp -r %s/1848 %s/1848 && cp -r %s %s/4808 && cp %s/meminfo %s/",
    T.q(root), T.q(sleep), T.q(root), T.q(helper_capture), T.q(root), T.q(sleep), T.q(root), T.q(helper_capture),
    T.q(root)))
  T.sh(format("chmod -R u+w %s", T.q(root)))
  -- 4808: its smaps_rollup missing, the process still there: unreadable, bounded by its status
  os.remove(root .. "/4808/smaps_rollup")
  -- 2: a kernel thread; 4807: a zombie. Neither is read nor counted.
  local status = T.read(sleep .. "/status")
  T.sh(format("mkdir %s/2 %s/4807", T.q(root), T.q(root)))
  T.write(root .. "/2/status", (status:gsub("\nKthread:\t0", "\nKthread:\t1")))
  T.write(root .. "/4807/status", (status:gsub("\nState:[^\n]*", "\nState:\tZ (zombie)")))
  if edit then edit(root) end
  return root, cleanup
end

T.test("a built tree: kernel threads and zombies left out, an unreadable process bounded by its status", function()
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/meminfo", T.read(r .. "/meminfo") .. "FutureKey:           7 kB\nFutureCount:        3\n")
  end)
  local rows, err = system_json(root)
  T.eq(err, "", "stderr")
  local p = by_part(rows)
  check_sums(rows)
  T.eq({p.processes.bytes, p["processes.anon"].bytes, p["processes.file"].bytes, p["processes.shmem"].bytes},
       {(410 + 1032) * KB, (112 + 248) * KB, (298 + 732) * KB, 52 * KB}, "processes: 4804 and 1848")
  T.contains(p.processes.meaning, "PSS of the 2 processes read", "count read")
  -- 4808's status: VmRSS 1840 kB, RssAnon 112, RssFile 1728, RssShmem 0
  T.eq({p.unreadable.bytes, p["unreadable.anon"].bytes, p["unreadable.file"].bytes, p["unreadable.shmem"].bytes},
       {1840 * KB, 112 * KB, 1728 * KB, 0}, "the unreadable process's bound")
  T.contains(p.unreadable.meaning, "1 process unreadable: 1 other (" .. root .. "/4808/smaps_rollup: No such file",
    "why")
  T.contains(p.unreadable.meaning, "the 1 process still there holds at most this", "bound")
  T.eq(p["meminfo.FutureKey"].bytes, 7 * KB, "a key this memscript does not know, in kB")
  T.contains(p["meminfo.FutureKey"].meaning, "not placed among the parts", "unknown key")
  T.eq(p["meminfo.FutureCount"].bytes, nil, "a key without kB is no size")
end)

T.test("a built tree without Pss_Anon in one smaps_rollup: the processes' PSS is not split, one part holds the rest", function()
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/4804/smaps_rollup", (T.read(r .. "/4804/smaps_rollup"):gsub("Pss_Anon:[^\n]*\n", "")))
  end)
  local mi = meminfo_of(T.read(root .. "/meminfo"))
  local rows = system_json(root)
  local p = by_part(rows)
  check_sums(rows)
  T.eq(p["processes.unsplit"].bytes, 410 * KB, "4804's Pss, not split")
  T.eq(p["processes.anon"].bytes, 248 * KB, "1848's Pss_Anon")
  T.eq(p.not_in_processes.bytes, mi.AnonPages + mi.Cached + mi.Buffers - (410 + 1032) * KB, "not_in_processes")
  T.eq({p.anon_unread, p.page_cache, p.shmem}, {nil, nil, nil}, "no per-kind rests")
end)

T.test("a built tree whose meminfo lacks Shmem: the parts made from it are left out, and unaccounted says so", function()
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/meminfo", (T.read(r .. "/meminfo"):gsub("\nShmem:[^\n]*", "")))
  end)
  local rows = system_json(root)
  local p = by_part(rows)
  check_sums(rows)
  T.eq({p.page_cache, p.shmem}, {nil, nil}, "page_cache and shmem need Shmem")
  T.ok(p.anon_unread ~= nil, "anon_unread needs only AnonPages")
  T.contains(p.unaccounted.meaning, "the parts not made for want of Shmem in meminfo", "unaccounted")
end)

T.test("a built tree with swap: the processes' SwapPss, Swap where it is absent, and the rest of the swap used", function()
  local root, cleanup <close> = built_tree(function(r)
    local mi = T.read(r .. "/meminfo"):gsub("\nSwapTotal:[^\n]*", "\nSwapTotal:          1000 kB")
      :gsub("\nSwapFree:[^\n]*", "\nSwapFree:            900 kB")
    T.write(r .. "/meminfo", mi)
    T.write(r .. "/4804/smaps_rollup", (T.read(r .. "/4804/smaps_rollup"):gsub("\nSwap: +0 kB", "\nSwap:   100 kB")
      :gsub("\nSwapPss: +0 kB", "\nSwapPss:    60 kB")))
    T.write(r .. "/1848/smaps_rollup", (T.read(r .. "/1848/smaps_rollup"):gsub("\nSwap: +0 kB", "\nSwap:   8 kB")
      :gsub("\nSwapPss:[^\n]*", "")))
  end)
  local p = by_part(system_json(root))
  T.eq({p["swap.total"].bytes, p["swap.used"].bytes, p["swap.processes"].bytes, p["swap.other"].bytes},
       {1000 * KB, 100 * KB, 68 * KB, 32 * KB}, "swap notes")
  T.contains(p["swap.processes"].meaning, "Swap for the 1 process whose smaps_rollup has no SwapPss",
    "said where Swap stands in")
end)

T.test("a built tree where one smaps_rollup prints neither SwapPss nor Swap: its swap is said unread, not Swap's", function()
  local root, cleanup <close> = built_tree(function(r)
    local mi = T.read(r .. "/meminfo"):gsub("\nSwapTotal:[^\n]*", "\nSwapTotal:          1000 kB")
      :gsub("\nSwapFree:[^\n]*", "\nSwapFree:            900 kB")
    T.write(r .. "/meminfo", mi)
    T.write(r .. "/4804/smaps_rollup", (T.read(r .. "/4804/smaps_rollup"):gsub("\nSwap: +0 kB", "\nSwap:   100 kB")
      :gsub("\nSwapPss: +0 kB", "\nSwapPss:    60 kB")))
    T.write(r .. "/1848/smaps_rollup", (T.read(r .. "/1848/smaps_rollup"):gsub("\nSwap:[^\n]*", "")
      :gsub("\nSwapPss:[^\n]*", "")))
  end)
  local p = by_part(system_json(root))
  T.eq({p["swap.used"].bytes, p["swap.processes"].bytes, p["swap.other"].bytes}, {100 * KB, 60 * KB, 40 * KB},
    "swap notes: 4804's SwapPss only")
  T.eq(p["swap.processes"].meaning, "the swap of the processes read: SwapPss: each process's share of its "
    .. "swapped-out pages; not the 1 process whose smaps_rollup prints neither SwapPss nor Swap",
    "no process stood in for by Swap, one not counted")
end)

T.test("a built tree with two unreadable processes, one status without RssAnon: bounded by VmRSS, not by kind", function()
  local root, cleanup <close> = built_tree(function(r)
    T.sh(format("cp -r %s/4808 %s/4809", T.q(r), T.q(r)))
    T.write(r .. "/4809/status", (T.read(r .. "/4809/status"):gsub("\nRssAnon:[^\n]*", "")
      :gsub("\nVmRSS:[^\n]*", "\nVmRSS:\t    1000 kB")))
  end)
  local rows = system_json(root)
  check_sums(rows)
  local p = by_part(rows)
  -- 4808's status: VmRSS 1840 kB; 4809's: VmRSS 1000 kB and no RssAnon
  T.eq(p.unreadable.bytes, (1840 + 1000) * KB, "the sum of their VmRSS")
  T.contains(p.unreadable.meaning, "the 2 processes still there hold at most this", "bound")
  T.eq({p["unreadable.anon"], p["unreadable.file"], p["unreadable.shmem"]}, {nil, nil, nil},
    "no per-kind bound: 4808's alone would be no bound on both")
end)

T.test("a built tree with zoneinfo: the free pages on the per-CPU lists, a part of their own", function()
  -- the pagesets of two zones on two CPUs, as Linux 6.18 prints them (other lines of zoneinfo cut)
  local zone = [[
Node 0, zone   %s
  pages free     4587564
        managed  5144576
  pagesets
    cpu: 0
              count:    %d
              high:     22544
              batch:    63
  vm stats threshold: 36
    cpu: 1
              count:    %d
              high:     20873
              batch:    63
  vm stats threshold: 36
  node_unreclaimable:  0
]]
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/zoneinfo", format(zone, "DMA32", 0, 63) .. format(zone, "Normal", 13678, 7761))
  end)
  local rows = system_json(root)
  check_sums(rows)
  local p = by_part(rows)
  T.eq(p.free_percpu.bytes, (63 + 13678 + 7761) * 4096, "the counts of the four lists, in 4 KiB pages")
  T.contains(p.free_percpu.meaning, "its 4 per-CPU lists", "meaning")
  T.ok(not p.unaccounted.meaning:find("per-CPU", 1, true), "unaccounted no longer holds them")
end)

T.test("a built tree with counts past 2^63 (floats): said in full, and a zoneinfo count so is no traceback", function()
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/meminfo", (T.read(r .. "/meminfo"):gsub("\nHugePages_Free:%s+%d+", "\nHugePages_Free:    99999999999999999999")
      :gsub("\nZswapped:%s+%d+ kB", "\nZswapped:       99999999999999999999 kB")))
    T.write(r .. "/zoneinfo", "Node 0, zone   Normal\n  pagesets\n    cpu: 0\n              count:    99999999999999999999\n")
  end)
  local rows = system_json(root)
  local p = by_part(rows)
  T.contains(p.hugetlb.meaning, "(free of the default size: 100000000000000000000 pages)", "HugePages_Free")
  T.contains(p.zswap.meaning, "holding 102400000000000000000000 bytes of swapped-out memory (Zswapped)", "Zswapped")
  T.eq(p.free_percpu, nil, "no per-CPU part from a count that is no page count")
  T.contains(p.unaccounted.meaning, "free pages held on per-CPU lists (MemFree leaves them out; /proc/zoneinfo not "
    .. "read)", "unaccounted holds them")
  local out = T.sh(T.memscript_command(root) .. " -e " .. T.q("print(require('memscript.system').percpu_free())"))
  T.eq(out, "nil\t" .. root .. "/zoneinfo:4: 'count: 99999999999999999999': not a count of pages\n", "why")
end)

-- zram devices are read from the machine's /sys: a tree read as a machine (proc.at(dir, "machine")).
T.test("zram: mem_used_total of every device's mm_stat, a part of its own", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh(format("mkdir -p %s/proc %s/sys/block/zram0 %s/sys/block/zram1 %s/sys/block/vda && cp %s/meminfo %s/proc/",
    T.q(dir), T.q(dir), T.q(dir), T.q(dir), T.q(helper_capture), T.q(dir)))
  T.write(dir .. "/sys/block/zram0/mm_stat", "  8388608  2097152  2359296        0  2359296        5        0        0        0\n")
  T.write(dir .. "/sys/block/zram1/mm_stat", "        0        0     8192        0     8192        0        0        0        0\n")
  local out = T.sh(T.memscript_command() .. " -e " .. T.q(format([[
local system = require "memscript.system"
local p = assert(proc.at(%q, "machine"))
local bytes, devices = system.zram(p)
local account = assert(system.account(p))
print(bytes, table.concat(devices, " "), account.by_part.zram.bytes, account.by_part.zram.meaning)]], dir)))
  T.eq(out, "2367488\tzram0 zram1\t2367488\tthe memory of 2 zram devices (zram0 zram1): mem_used_total of its "
    .. "mm_stat, compressed data and the allocator's overhead; no meminfo key counts it\n", "zram")
end)

-- ---- -f folded ----

-- The lines of folded text as {{stack = "a;b", bytes = n}...}; an error for a line that is not "STACK N".
local function folded_lines(text)
  local lines = {}
  for line in text:gmatch("([^\n]*)\n") do
    local stack, bytes = line:match("^(.+) (%d+)$")
    if not stack then error("not a folded line: " .. T.show(line), 2) end
    lines[#lines + 1] = {stack = stack, bytes = math.tointeger(tonumber(bytes))}
  end
  if text ~= "" then T.eq(text:sub(-1), "\n", "the text ends with a line end") end
  return lines
end

local function system_folded(root)
  local out, err, status = T.memscript(root, "-f folded system.lua")
  T.eq({err, status}, {"", 0}, "-f folded: stderr and status")
  return folded_lines(out)
end

-- The rows of kind part or share that no other row is a share of, in order: the leaves of the account.
local function leaf_rows(rows)
  local parents = {}
  for _, row in ipairs(rows) do
    local parent = row.kind == "share" and row.part:match("^(.+)%.[^.]+$")
    if parent then parents[parent] = true end
  end
  local leaves = {}
  for _, row in ipairs(rows) do
    if (row.kind == "part" or row.kind == "share") and not parents[row.part] then leaves[#leaves + 1] = row end
  end
  return leaves
end

-- Every line is the JSON leaf of the same name ("kernel;stacks" is kernel.stacks) with its bytes, in
-- the rows' order, and every leaf but those of 0 bytes has its line; the lines add up to MemTotal.
local function check_folded(lines, rows)
  local expected = {}
  for _, row in ipairs(leaf_rows(rows)) do
    if row.bytes ~= 0 then expected[#expected + 1] = {stack = row.part:gsub("%.", ";"), bytes = row.bytes} end
  end
  T.eq(lines, expected, "a line per leaf of the JSON rows, with its bytes")
  local sum = 0
  for _, line in ipairs(lines) do sum = sum + line.bytes end
  T.eq(sum, by_part(rows).MemTotal.bytes, "the lines add up to MemTotal")
  return sum
end

T.test("-f folded on a capture: a line per part without shares and per share, the bytes of its JSON row", function()
  local mi = meminfo_of(T.read(helper_capture .. "/meminfo"))
  local lines = system_folded(helper_capture)
  local rows = system_json(helper_capture)
  T.eq(check_folded(lines, rows), mi.MemTotal, "the captured MemTotal")
  -- the parts with shares give no line of their own, nor do the leaves of 0 bytes (processes;rounding,
  -- swap_cache, kernel;bounce, hugetlb...), the notes (swap, tmpfs) or the MemTotal row
  local stacks = {}
  for i, line in ipairs(lines) do stacks[i] = line.stack end
  T.eq(stacks, {"processes;anon", "processes;file", "processes;shmem", "anon_unread", "page_cache;files",
    "page_cache;buffers", "shmem", "kernel;slab_reclaimable", "kernel;slab_unreclaimable", "kernel;stacks",
    "kernel;page_tables", "kernel;percpu", "kernel;vmalloc", "free", "unaccounted"}, "the stacks")
  T.eq({lines[1].bytes, lines[5].bytes, lines[14].bytes}, {248 * KB, mi.Cached - mi.Shmem - 732 * KB, mi.MemFree},
    "the helper's Pss_Anon, the page cache it does not map, MemFree")
  -- docs/system.md shows this output
  local page = T.read(T.source .. "/docs/system.md")
  local shown = page:match("\n## As a flame graph: `%-f folded`\n.-\n```text\n(.-)```\n")
  local text = {}
  for i, line in ipairs(lines) do text[i] = line.stack .. " " .. line.bytes .. "\n" end
  T.eq(shown, concat(text), "the lines docs/system.md shows")
  -- a format system.lua does not write names folded stacks among those it does
  local out, err, status = T.memscript(helper_capture, "-f prom system.lua")
  T.eq({out, status}, {"", 3}, "-f prom: stdout and status")
  T.contains(err, "memscript: system.lua prints a table, JSON, CSV or folded stacks, not 'prom'\n", "-f prom: stderr")
end)

T.test("-f folded on built trees: per-CPU free pages, swap and an unreadable process; PSS not split", function()
  local root, cleanup <close> = built_tree(function(r)
    T.write(r .. "/zoneinfo", "Node 0, zone   Normal\n  pagesets\n    cpu: 0\n              count:    77\n")
    T.write(r .. "/meminfo", (T.read(r .. "/meminfo"):gsub("\nSwapTotal:[^\n]*", "\nSwapTotal:          1000 kB")
      :gsub("\nSwapFree:[^\n]*", "\nSwapFree:            900 kB")))
  end)
  local lines, rows = system_folded(root), system_json(root)
  check_folded(lines, rows)
  local p = by_part(rows)
  T.eq({p.free_percpu.bytes, p["swap.used"].bytes, p.unreadable.bytes}, {77 * 4096, 100 * KB, 1840 * KB},
    "the tree holds a part free_percpu and the notes swap and unreadable")
  local seen = {}
  for _, line in ipairs(lines) do seen[line.stack:match("^[^;]+")] = true end
  T.eq({seen.free_percpu, seen.swap, seen.unreadable, seen.MemTotal}, {true, nil, nil, nil},
    "free_percpu is a stack; the notes beside MemTotal are not")
  -- 4804's smaps_rollup without Pss_Anon: its Pss is processes;unsplit, the rest not_in_processes
  local unsplit, cleanup_unsplit <close> = built_tree(function(r)
    T.write(r .. "/4804/smaps_rollup", (T.read(r .. "/4804/smaps_rollup"):gsub("Pss_Anon:[^\n]*\n", "")))
  end)
  lines, rows = system_folded(unsplit), system_json(unsplit)
  check_folded(lines, rows)
  local by_stack = {}
  for _, line in ipairs(lines) do by_stack[line.stack] = line.bytes end
  T.eq({by_stack["processes;unsplit"], by_stack["processes;anon"], by_stack.not_in_processes},
    {410 * KB, 248 * KB, by_part(rows).not_in_processes.bytes}, "the unsplit Pss and the rest, stacks of their own")
end)

T.test("-f folded with parts below zero: each left out and named on stderr, the lines then more than MemTotal", function()
  -- Cached 8 kB short of Shmem + processes.file: page_cache.files is -8 kB; then MemTotal lowered
  -- until unaccounted is -12 kB
  local root, cleanup <close> = built_tree(function(r)
    local mi = meminfo_of(T.read(r .. "/meminfo"))
    T.write(r .. "/meminfo", (T.read(r .. "/meminfo"):gsub("\nCached:[^\n]*",
      format("\nCached:         %d kB", (mi.Shmem + (298 + 732) * KB) // KB - 8))))
  end)
  local unaccounted = by_part(system_json(root)).unaccounted.bytes
  local text = T.read(root .. "/meminfo")
  local memtotal = meminfo_of(text).MemTotal - unaccounted - 12 * KB
  T.write(root .. "/meminfo", (text:gsub("^MemTotal:[^\n]*", format("MemTotal:       %d kB", memtotal // KB))))
  local rows = system_json(root)
  local p = by_part(rows)
  T.eq({p["page_cache.files"].bytes, p.unaccounted.bytes, p.MemTotal.bytes}, {-8 * KB, -12 * KB, memtotal},
    "the JSON rows below zero")
  check_sums(rows)
  local out, err, status = T.memscript(root, "-f folded system.lua")
  T.eq(status, 0, "status: the stacks were written")
  local lines = folded_lines(out)
  local sum, by_stack = 0, {}
  for _, line in ipairs(lines) do
    sum = sum + line.bytes
    by_stack[line.stack] = line.bytes
  end
  T.eq(sum, memtotal + 20 * KB, "the lines add up to MemTotal and the 20 kB below zero")
  T.eq({by_stack["page_cache;files"], by_stack.unaccounted, by_stack["page_cache;buffers"]},
    {nil, nil, p["page_cache.buffers"].bytes}, "the parts below zero have no line; their siblings keep theirs")
  T.eq(err, format("memscript: system.lua: left out of the folded stacks, being below zero: page_cache.files "
    .. "(-8192 bytes), unaccounted (-12288 bytes); the stacks add up to %d bytes, MemTotal is %d\n", sum, memtotal),
    "stderr")
end)

T.test("system.stacks: frames split at the dots only, escaped when written; an account that does not add up raises", function()
  local system = require "memscript.system"
  local folded = require "memscript.folded"
  local account = {memtotal = 100, rows = {
    {part = "a;b", kind = "part", bytes = 60},
    {part = "a;b.new\nline\27[2K", kind = "share", bytes = 50},
    {part = "a;b.rest", kind = "share", bytes = 10},
    {part = "tab\tpart", kind = "part", bytes = 45},
    {part = "below", kind = "part", bytes = -5},
    {part = "total", kind = "total", bytes = 100},
    {part = "a note", kind = "note", bytes = 7},
  }}
  local stacks, left_out, sum = system.stacks(account)
  T.eq(stacks, {{{"a;b", "new\nline\27[2K"}, 50}, {{"a;b", "rest"}, 10}, {{"tab\tpart"}, 45}}, "the stacks, unescaped")
  T.eq({left_out, sum}, {{{part = "below", bytes = -5}}, 105}, "the part below zero and the stacks' sum")
  T.eq(folded.render(stacks), "a\\x3bb;new\\nline\\x1b[2K 50\na\\x3bb;rest 10\ntab\\tpart 45\n",
    "written: ';' in a name stays in its frame, control bytes escaped")
  account.rows[3].bytes = 11
  T.raises(function() system.stacks(account) end, "system.stacks: the shares of a;b add up to 61, not to its 60 bytes",
    "shares that do not add up to their part")
  account.rows[3].bytes, account.rows[4].bytes = 10, 46
  T.raises(function() system.stacks(account) end, "system.stacks: the parts add up to 101, not to MemTotal's 100",
    "parts that do not add up to MemTotal")
  account.rows[4].bytes = nil
  T.raises(function() system.stacks(account) end, "system.stacks: tab\tpart has no bytes (nil)", "a leaf without bytes")
  T.raises(function() system.stacks({rows = {}}) end, "bad argument #1 to 'stacks'", "not an account")
end)

-- The account and its stacks made in one memscript process: each stack the bytes of its row.
local STACKS_SCRIPT = [[
local system, cjson = require "memscript.system", require "cjson"
local account = assert(system.account())
local stacks, left_out, sum = system.stacks(account)
local rows = {}
for i, stack in ipairs(stacks) do
  local row = account.by_part[table.concat(stack[1], ".")]
  rows[i] = {stack = table.concat(stack[1], ";"), bytes = stack[2], row_kind = row.kind, row_bytes = row.bytes}
end
print(cjson.encode({memtotal = account.memtotal, stacks = rows, left_out = left_out, sum = sum}))]]

local function check_same_run(root)
  local out = T.sh(T.memscript_command(root, "-e " .. T.q(STACKS_SCRIPT)))
  local r = T.json(out)
  T.ok(#r.stacks > 0, "stacks")
  local sum = 0
  for _, stack in ipairs(r.stacks) do
    T.ok(stack.row_kind == "part" or stack.row_kind == "share", stack.stack .. ": a part or a share")
    T.eq(stack.bytes, stack.row_bytes, stack.stack .. ": the bytes of its row")
    sum = sum + stack.bytes
  end
  local below = 0
  for _, leaf in ipairs(r.left_out) do below = below + leaf.bytes end
  T.eq({sum, r.sum}, {r.memtotal - below, r.memtotal - below}, "the stacks add up to MemTotal, less any part below zero")
  return r
end

T.test("system.stacks on a capture, in the same run as the account: each stack the bytes of its row", function()
  local r = check_same_run(helper_capture)
  T.eq({r.memtotal, #r.left_out}, {meminfo_of(T.read(helper_capture .. "/meminfo")).MemTotal, 0}, "MemTotal")
end)

T.test("live: system.stacks in the same run as the account, and -f folded adding up to /proc/meminfo's MemTotal", function()
  local memtotal = meminfo_of(T.read("/proc/meminfo")).MemTotal
  local r = check_same_run(nil)
  T.eq(r.memtotal, memtotal, "the account's MemTotal is the machine's")
  local out, err, status = T.memscript(nil, "-f folded system.lua")
  T.eq(status, 0, "status (stderr: " .. err .. ")")
  local sum = 0
  for _, line in ipairs(folded_lines(out)) do sum = sum + line.bytes end
  -- a part below zero (unaccounted, where memory is counted twice) is left out, and stderr says so
  local below = 0
  for bytes in err:gmatch("%((%-%d+) bytes%)") do below = below + math.tointeger(tonumber(bytes)) end
  if err ~= "" then T.contains(err, format("MemTotal is %d\n", memtotal), "stderr") end
  T.eq(sum, memtotal - below, "the lines add up to /proc/meminfo's MemTotal" .. (below < 0 and
    format(" and the %d bytes below zero", -below) or ""))
end)

-- ---- rates ----

T.test("watch.rate: the change per second since the previous sample; system.rates from vmstat", function()
  local watch = require "memscript.watch"
  T.eq(watch.rate("test counter", 100, 10), nil, "first sample")
  T.eq(watch.rate("test counter", 130, 12), 15.0, "30 in 2 s")
  T.eq(watch.rate("test counter", 130, 12), nil, "no time passed")
  T.raises(function() watch.rate("x", "1") end, "bad argument #2 to 'rate'", "a string")
  local dir, cleanup <close> = T.tempdir()
  T.sh("mkdir " .. T.q(dir .. "/proc"))
  local function vmstat(pgfault, pswpout)
    T.write(dir .. "/proc/vmstat", format("nr_free_pages 100\npgfault %d\npgmajfault 7\npswpout %d\n", pgfault, pswpout))
  end
  vmstat(1000, 50)
  local out = T.sh(T.memscript_command() .. " -e " .. T.q(format([[
local system = require "memscript.system"
local p = assert(proc.at(%q))
print(#system.rates(p, 100))
io.open(%q, "w"):write("nr_free_pages 90\npgfault 1600\npgmajfault 7\npswpout 80\n"):close()
for _, r in ipairs(system.rates(p, 104)) do print(r.part, r.per_second, r.unit) end]], dir .. "/proc",
    dir .. "/proc/vmstat")))
  T.eq(out, "0\nrate.pgfault\t150.0\tfaults/s\nrate.pgmajfault\t0.0\tfaults/s\nrate.pswpout\t7.5\tpages/s\n",
    "rates: only the counters the kernel printed")
end)

T.test("live, watch mode: rates from the second run on", function()
  local out, err, status = T.memscript(nil, "--interval 0.3 --count 2 -f json system.lua")
  T.eq(status, 0, "status (stderr: " .. err .. ")")
  local runs = {}
  for line in out:gmatch("[^\n]+") do runs[#runs + 1] = rows_of(line) end
  T.eq(#runs, 2, "two runs")
  local function rates(rows)
    local list = {}
    for _, row in ipairs(rows) do if row.kind == "rate" then list[row.part] = row end end
    return list
  end
  T.eq(next(rates(runs[1])), nil, "no rates in the first run")
  local second = rates(runs[2])
  T.ok(second["rate.pgfault"] ~= nil and second["rate.pgfault"].per_second > 0,
    "page faults happened between the runs (memscript's own, at least)")
  T.eq(second["rate.pgfault"].unit, "faults/s", "unit")
  check_sums(runs[2])
end)

-- ---- the live machine ----

local started, start_error = pcall(live.start, {"--", "system test"})
local helper = started and start_error or nil

local function need_helper()
  if not helper then error("could not start the helper: " .. tostring(start_error), 2) end
end

T.test("live: the parts add up to MemTotal exactly, and each part's shares to the part", function()
  local rows = system_json(nil)
  local total = check_sums(rows)
  local mi = meminfo_of(T.read("/proc/meminfo"))
  T.eq(total.bytes, mi.MemTotal, "MemTotal is the machine's")
  local p = by_part(rows)
  T.ok(p.processes.bytes > 0 and p.free.bytes > 0 and p.kernel.bytes > 0, "processes, free and kernel hold memory")
  T.ok(p["scan.memfree_change"] ~= nil, "the drift of MemFree during the scan is shown")
  T.ok(p.free_percpu ~= nil and p.free_percpu.bytes >= 0, "/proc/zoneinfo read: the per-CPU lists' free pages")
end)

-- The account made in one memscript process, with the helper's smaps_rollup read before and after it.
local ACCOUNT_SCRIPT = [[
local system, cjson = require "memscript.system", require "cjson"
local pid = %d
local before = proc.smaps_rollup(pid)
local account = assert(system.account())
local after = proc.smaps_rollup(pid)
local sum, helper = 0, nil
for _, r in ipairs(account.scan.processes) do
  sum = sum + r.pss
  if r.pid == pid then helper = r end
end
local mi, parts = account.meminfo, {}
for name, row in pairs(account.by_part) do parts[name] = row.bytes end
print(cjson.encode({sum = sum, read = account.scan.read, helper = helper, before = before, after = after, parts = parts,
  mi = mi, stacks = account.stacks_in_vmalloc}))]]

T.test("live: the processes' part is the sum of smaps_rollup Pss over the processes read in the same scan", function()
  need_helper()
  for _ = 1, 5 do
    local out = T.sh(T.memscript_command() .. " -e " .. T.q(format(ACCOUNT_SCRIPT, helper.pid)))
    local r = T.json(out)
    T.eq(r.parts.processes, r.sum, "processes: the sum of the scan's Pss")
    T.eq(r.parts["processes.anon"] + r.parts["processes.file"] + r.parts["processes.shmem"]
      + r.parts["processes.rounding"], r.sum, "its shares")
    T.ok(r.helper ~= nil, "the helper was read")
    -- the helper is stopped; its Pss moves only when the [vdso] page it shares gains or loses a mapper
    if T.show(r.before) == T.show(r.after) then
      T.eq({r.helper.pss, r.helper.anon, r.helper.file, r.helper.shmem, r.helper.swap},
           {r.before.Pss, r.before.Pss_Anon, r.before.Pss_File, r.before.Pss_Shmem, r.before.SwapPss},
           "the helper's record is its smaps_rollup")
      -- the kernel's shares are the meminfo the account was made of
      local mi = r.mi
      T.eq({r.parts["kernel.slab_unreclaimable"], r.parts["kernel.page_tables"], r.parts["kernel.vmalloc"]},
           {mi.SUnreclaim, mi.PageTables, mi.VmallocUsed - (r.stacks and mi.KernelStack or 0)}, "kernel shares")
      T.eq(r.parts.anon_unread, mi.AnonPages - r.parts["processes.anon"], "anon_unread")
      return
    end
  end
  error("the helper's smaps_rollup kept changing during every account")
end)

T.test("live, as root: whether stacks are in VmallocUsed is known from the kernel's own evidence", function()
  if T.sh("id -u"):match("%d+") ~= "0" then T.skip("needs root to read /proc/vmallocinfo") end
  local out = T.sh(T.memscript_command() .. " -e " .. T.q([[
local known, how = require("memscript.system").stacks_in_vmalloc(proc, true)
print(tostring(known), how)]]))
  local known, how = out:match("^(%S+)\t(.*)\n$")
  T.ok(known == "true" or known == "false", "known on the running kernel: " .. out)
  local release = T.sh("uname -r"):match("[^\n]+")
  local config = T.read_if("/boot/config-" .. release)
  if config and config:find("\nCONFIG_VMAP_STACK=y", 1, true) then
    T.eq(known, "true", "/boot says CONFIG_VMAP_STACK=y")
  elseif not config then
    T.contains(how, "/proc/vmallocinfo shows stacks allocated with vmalloc by ", "evidence")
  end
end)

T.test("live, as uid 65534: root's processes are unreadable, counted and bounded; the parts still add up", function()
  if T.sh("id -u"):match("%d+") ~= "0" then T.skip("needs root to switch to uid 65534") end
  if select(3, T.run("command -v setpriv")) ~= 0 then T.skip("setpriv (util-linux) is not installed") end
  need_helper()
  local rows = system_json(nil, "", {prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups"})
  check_sums(rows)
  local p = by_part(rows)
  T.ok(p.unreadable ~= nil and p.unreadable.bytes >= helper.page_size, "a bound on the unreadable (the helper, at least)")
  T.ok(p.unreadable.meaning:find("permission denied", 1, true) ~= nil, p.unreadable.meaning)
  T.eq(p.unreadable.bytes, p["unreadable.anon"].bytes + p["unreadable.file"].bytes + p["unreadable.shmem"].bytes,
    "VmRSS is RssAnon + RssFile + RssShmem")
  T.contains(p["kernel.vmalloc"].meaning, "unknown whether it holds the task stacks too (neither ",
    "no vmallocinfo as nobody")
end)

T.test("live, in a private mount namespace: a tmpfs measured by statfs, one mounted over reported unmeasured", function()
  if T.sh("id -u"):match("%d+") ~= "0" then T.skip("needs root to mount a tmpfs") end
  if select(3, T.run("command -v unshare")) ~= 0 then T.skip("unshare (util-linux) is not installed") end
  local dir, cleanup <close> = T.tempdir()
  local mnt = dir .. "/a mount"
  T.sh("mkdir " .. T.q(mnt))
  local inner = format("mount -t tmpfs -o size=1m memscript-test %s && head -c 12288 /dev/zero > %s/f && "
    .. "mount -t tmpfs -o size=2m memscript-over %s && head -c 4096 /dev/zero > %s/g && %s -f json system.lua",
    T.q(mnt), T.q(mnt), T.q(mnt), T.q(mnt), T.memscript_command())
  local rows = rows_of(T.sh("unshare -m sh -c " .. T.q(inner)))
  local measured, over = {}, {}
  for _, row in ipairs(rows) do
    if row.part == "tmpfs:" .. mnt then measured[#measured + 1] = row end
    if row.part:find("^tmpfs:" .. mnt:gsub("%p", "%%%0") .. " %(0:%d+%)$") then over[#over + 1] = row end
  end
  T.eq(#measured, 1, "the mount on top, once")
  T.eq(measured[1].bytes, 4096, "its one page in use")
  T.contains(measured[1].meaning, "(size 2.0M)", "its size")
  T.eq(#over, 1, "the mount under it")
  T.eq(over[1].bytes, nil, "not measured")
  T.contains(over[1].meaning, "mounted over", "why")
end)

-- ---- smem -w ----

-- smem -w's rows (kB): {area = {used, cache, noncache}}, from `smem -S DIR -w -H` or the live machine.
local function smem_rows(dir)
  local out = T.sh("smem -w -H" .. (dir and (" -S " .. T.q(dir)) or ""))
  local rows = {}
  for line in out:gmatch("[^\n]+") do
    local area, used, cache, noncache = line:match("^(.-)%s+(%d+)%s+(%d+)%s+(%d+)%s*$")
    if area then rows[area] = {tonumber(used) * KB, tonumber(cache) * KB, tonumber(noncache) * KB} end
  end
  return rows
end

local function need_smem()
  if select(3, T.run("command -v smem")) ~= 0 then
    T.skip("smem is not installed (Debian package smem; build.sh test installs it)")
  end
end

T.test("smem -w on a capture of this machine: the same MemTotal and free, the rest mapped category by category", function()
  need_smem()
  local dir, cleanup <close> = T.tempdir()
  T.sh(T.memscript_command() .. " capture.lua " .. T.q(dir .. "/machine") .. " 2>/dev/null")
  local machine = dir .. "/machine"
  local smem = smem_rows(machine)
  local mi = meminfo_of(T.read(machine .. "/proc/meminfo"))
  local rows = system_json(machine .. "/proc")
  local p = by_part(rows)
  local total = check_sums(rows)
  local function parts_sum(except)
    local sum = 0
    for _, row in ipairs(rows) do
      if row.kind == "part" and not except[row.part] then sum = sum + row.bytes end
    end
    return sum
  end
  -- smem accounts RAM beyond MemTotal only when told its size (-R) and the kernel's (-K)
  T.eq({smem["firmware/hardware"][1], smem["kernel image"][1]}, {0, 0}, "nothing outside MemTotal")
  local smem_total = 0
  for _, r in pairs(smem) do smem_total = smem_total + r[1] end
  T.eq(smem_total, total.bytes, "the same MemTotal")
  T.eq(smem["free memory"][1], p.free.bytes, "the same free memory: MemFree")
  -- userspace memory: AnonPages + Mapped, the pages mapped into processes (Mapped its cache column);
  -- here the processes' PSS, split by kind, and what processes not read map
  T.eq(smem["userspace memory"][1], p["processes.anon"].bytes + p.anon_unread.bytes + mi.Mapped,
    "userspace: processes.anon + anon_unread (AnonPages) + Mapped")
  T.eq(smem["userspace memory"][2], mi.Mapped, "userspace's cache: Mapped")
  -- kernel dynamic memory: the rest. Its cache column (Buffers + SReclaimable + Cached - Mapped) is here
  -- the page cache and shmem no process maps, the file and shmem pages mapped, and the reclaimable slab,
  -- less Mapped; its non-cache column every other part but free
  T.eq(smem["kernel dynamic memory"][2], p.page_cache.bytes + p.shmem.bytes + p["processes.file"].bytes
    + p["processes.shmem"].bytes + p["kernel.slab_reclaimable"].bytes - mi.Mapped, "kernel dynamic: cache")
  -- (processes.rounding is in processes and, as the parts made by subtraction use the split figures,
  -- again in them: unaccounted is low by as much, and smem's figure is higher by as much)
  T.eq(smem["kernel dynamic memory"][3], parts_sum({free = true, processes = true, anon_unread = true,
    page_cache = true, shmem = true}) - p["kernel.slab_reclaimable"].bytes + p["processes.rounding"].bytes,
    "kernel dynamic: non-cache")
end)

T.test("live: smem -w and system.lua read the same MemTotal", function()
  need_smem()
  local smem = smem_rows(nil)
  local smem_total = 0
  for _, r in pairs(smem) do smem_total = smem_total + r[1] end
  local rows = system_json(nil)
  T.eq(smem_total, check_sums(rows).bytes, "MemTotal")
end)

if helper then live.stop(helper) end
T.done()
