-- report.lua against procps-ng pmap: the same bytes for -x, -d, -X and -XX on a stopped helper process.
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
  local report_cmd = env .. T.memscript_command() .. " report.lua " .. options .. " " .. targets
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
  local report = T.run("env LC_ALL=C " .. T.memscript_command() .. " report.lua " .. h.pid)
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

-- ---- -X and -XX, and the rows of -f json and -f csv ----
--
-- Pss (and Pss_Dirty, SwapPss) of a page the helper shares with other processes, such as one of
-- libc's, changes whenever any process maps or unmaps that page: every program started on the
-- machine, pmap and memscript themselves. So these tests read a frozen copy of the helper's proc
-- files: report.lua through --proc-root, pmap the same smaps bind-mounted over /proc/PID/smaps in
-- a private mount namespace (which needs root; pmap reads the helper's stat and cmdline live,
-- and those hold still while it is stopped).

local frozen = os.tmpname()
os.remove(frozen)
local frozen_cleanup <close> = setmetatable({}, {__close = function()
  os.execute("rm -rf " .. T.q(frozen))
end})
for _, pid in ipairs({h.pid, h.zombie}) do
  assert(os.execute("mkdir -p " .. T.q(frozen .. "/" .. pid)))
  for _, name in ipairs({"status", "cmdline", "comm", "maps", "smaps"}) do
    T.write(format("%s/%d/%s", frozen, pid, name), T.read(format("/proc/%d/%s", pid, name)))
  end
end
local frozen_proc = assert(proc.at(frozen))
local frozen_maps = assert(frozen_proc.smaps(h.pid))
local frozen_smaps_path = format("%s/%d/smaps", frozen, h.pid)

-- The smaps keys of the helper's first mapping in the kernel's order (those before VmFlags), and
-- the ones pmap -X leaves out.
local all_keys = {}
do
  local first_block = T.read(frozen_smaps_path):match("^[^\n]*\n(.-)VmFlags:")
  for key in first_block:gmatch("([^:\n]+):[^\n]*\n") do all_keys[#all_keys + 1] = key end
end
local HIDDEN = {"KernelPageSize", "MMUPageSize", "Shared_Clean", "Shared_Dirty", "Private_Clean",
                "Private_Dirty", "AnonHugePages"}
local shown_keys = {}
for _, key in ipairs(all_keys) do
  local hidden = false
  for _, h_key in ipairs(HIDDEN) do hidden = hidden or h_key == key end
  if not hidden then shown_keys[#shown_keys + 1] = key end
end

local can_bind = have_pmap and select(3, T.run(format("unshare -m --propagation private sh -c %s",
  T.q(format("mount --bind %s /proc/%d/smaps", T.q(frozen_smaps_path), h.pid))))) == 0

local function need_frozen_pmap()
  need_pmap()
  if not can_bind then T.skip("cannot bind-mount over /proc/PID/smaps in a new mount namespace") end
end

-- report.lua on the frozen tree, and pmap on the frozen smaps.
local function frozen_both(options, targets, locale)
  local pmap_cmd = format("unshare -m --propagation private sh -c %s",
    T.q(format("mount --bind %s /proc/%d/smaps && exec env LC_ALL=%s pmap %s %s",
               T.q(frozen_smaps_path), h.pid, locale, options, targets)))
  local expected, pmap_err, pmap_status = T.run(pmap_cmd)
  T.eq(pmap_status, 0, "pmap's exit status (stderr: " .. pmap_err .. ")")
  local report, err, status = T.run(format("env LC_ALL=%s %s --proc-root %s report.lua %s %s", locale,
                                           T.memscript_command(), T.q(frozen), options, targets))
  T.eq(status, 0, "report.lua's exit status (stderr: " .. err .. ")")
  return report, expected
end

local function frozen_report(memscript_options, options, targets)
  local out, err, status = T.run(format("%s --proc-root %s %s report.lua %s %s", T.memscript_command(), T.q(frozen),
                                        memscript_options, options, targets or h.pid))
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.eq(err, "", "stderr")
  return out
end

local X_OPTIONS = {"-X", "-XX", "-X -p", "-XX -p", "-X -q", "-XX -q", "-XXpq", "-qX"}

-- pmap -X prints a mapping's name as its bytes; report.lua escapes those that are no valid printable
-- text (memscript.text, a backslash kept as pmap prints it): the byte 0xff of the helper's
-- odd-\xc3\xa9-\xff.bin is the four characters \xff there. Every other byte is pmap's.
local escape = require("memscript.text").escape
local function escaped_lines(text)
  return (text:gsub("[^\n]+", function(line) return escape(line, "\\") end))
end

for _, locale in ipairs({"C", "C.UTF-8"}) do
  for _, options in ipairs(X_OPTIONS) do
    T.test(format("report.lua %s equals pmap %s on the helper's frozen smaps, names escaped (LC_ALL=%s)",
                  options, options, locale), function()
      need_frozen_pmap()
      local report, expected = frozen_both(options, tostring(h.pid), locale)
      T.ok(expected:find("odd-\xc3\xa9-\xff.bin", 1, true), "pmap prints the odd name's bytes")
      T.contains(report, "odd-\xc3\xa9-\\xff.bin", "report.lua escapes the byte that is not UTF-8")
      T.same_text(report, escaped_lines(expected), "report.lua " .. options)
    end)
  end
end

T.test("-X and -XX over several pids: pmap 4.0.2 keeps its columns, widths and totals between them",
  function()
    need_frozen_pmap()
    if not h.zombie then T.skip("the helper made no zombie") end
    local targets = format("%d %d %d", h.pid, h.zombie, h.pid)
    for _, options in ipairs({"-X", "-XX -q", "-XX -p"}) do
      local report, expected = frozen_both(options, targets, "C")
      T.same_text(report, escaped_lines(expected), "report.lua " .. options .. " " .. targets)
    end
  end)

T.test("-X's totals run on over the pids: a process without mappings repeats them, a second one doubles them",
  function()
    if not h.zombie then T.skip("the helper made no zombie") end
    local report = frozen_report("", "-X", format("%d %d %d", h.pid, h.zombie, h.pid))
    local totals = {}
    for line in report:gmatch("([^\n]*) KB \n") do
      local numbers = {}
      for n in line:gmatch("%d+") do numbers[#numbers + 1] = tonumber(n) end
      totals[#totals + 1] = numbers
    end
    T.eq(#totals, 3, "footers")
    T.eq(#totals[1], #shown_keys, "totals in a footer")
    local rss_column
    for i, key in ipairs(shown_keys) do
      if key == "Rss" then rss_column = i end
    end
    T.eq(totals[1][rss_column], frozen_maps:sum("Rss") // 1024, "Rss total of the first footer")
    T.eq(totals[2], totals[1], "the zombie's footer")
    for i, n in ipairs(totals[1]) do T.eq(totals[3][i], 2 * n, "third footer, column " .. i) end
  end)

T.test("-X's columns: smaps's fields in the kernel's order less the seven pmap -X hides; -XX: all and VmFlags",
  function()
    local function titles(options)
      local words = {}
      for word in frozen_report("", options):match("^[^\n]*\n([^\n]*)\n"):gmatch("%S+") do
        words[#words + 1] = word
      end
      return words
    end
    local function expected(keys, extra)
      local words = {"Address", "Perm", "Offset", "Device", "Inode"}
      for _, key in ipairs(keys) do words[#words + 1] = key end
      if extra then words[#words + 1] = extra end
      words[#words + 1] = "Mapping"
      return words
    end
    T.ok(#all_keys > #HIDDEN and all_keys[1] == "Size", "smaps keys: " .. concat(all_keys, " "))
    T.eq(titles("-X"), expected(shown_keys), "-X titles")
    T.eq(titles("-XX"), expected(all_keys, "VmFlags"), "-XX titles")
  end)

local cjson = require "cjson"
-- JSON is UTF-8: the byte 0xff of the helper's odd-é-\xff.bin is U+FFFD there
local valid_utf8 = require("memscript.output").valid_utf8
local tointeger = math.tointeger

local function frozen_mapping_at(start)
  for _, m in ipairs(frozen_maps) do
    if m.vm_start == start then return m end
  end
  error(format("no mapping at %x", start), 2)
end

local function row_at(rows, start)
  for _, row in ipairs(rows) do
    if row.address == format("%016x", start) then return row end
  end
  error(format("no row at %x", start), 2)
end

T.test("-f json -X: a row per mapping with -X's fields in bytes, as proc.smaps has them", function()
  local rows = cjson.decode(frozen_report("-f json", "-X"))
  T.eq(#rows, #frozen_maps, "rows")
  for i, m in ipairs(frozen_maps) do
    local row, where = rows[i], format("row %d", i)
    T.eq(tointeger(row.pid), h.pid, where .. " pid")
    T.eq(row.address, format("%016x", m.vm_start), where .. " address")
    T.eq({row.perm, tointeger(row.offset), row.device, tointeger(row.inode)}, {m.perms, m.offset, m.dev, m.inode},
         where .. " perm, offset, device, inode")
    for _, key in ipairs(shown_keys) do T.eq(tointeger(row[key]), m[key], where .. " " .. key) end
    for _, key in ipairs(HIDDEN) do T.eq(row[key], nil, where .. " " .. key) end
    T.eq(row.VmFlags, nil, where .. " VmFlags")
    T.eq(row.mapping, valid_utf8(m.path:match("[^/]*$")), where .. " mapping")
  end
  local anon = row_at(rows, h.regions.anon_half.start)
  T.eq(tointeger(anon.Rss), 32 * h.page_size, "Rss of the half-written anonymous region")
  T.eq(tointeger(anon.Size), h.regions.anon_half.size, "its Size")
  T.eq(row_at(rows, h.regions.spaced.start).mapping, "with space.bin", "a name with a space")
end)

T.test("-f json -XX: every smaps field, VmFlags as a list of codes; -p gives whole paths", function()
  local rows = cjson.decode(frozen_report("-f json", "-XX -p"))
  T.eq(#rows, #frozen_maps, "rows")
  for i, m in ipairs(frozen_maps) do
    local row, where = rows[i], format("row %d", i)
    for _, key in ipairs(all_keys) do T.eq(tointeger(row[key]), m[key], where .. " " .. key) end
    local codes = {}
    for code in tostring(m.VmFlags):gmatch("%S+") do codes[#codes + 1] = code end
    T.eq(row.VmFlags, codes, where .. " VmFlags")
    T.eq(row.mapping, valid_utf8(m.path), where .. " mapping")
  end
  T.eq(tointeger(row_at(rows, h.regions.wx.start).KernelPageSize), h.page_size, "KernelPageSize")
  T.eq(row_at(rows, h.regions.spaced.start).mapping, h.dir .. "/with space.bin", "a whole path")
end)

T.test("-f json -x and -d: pmap's columns as rows, sizes and offsets in bytes", function()
  local rows = cjson.decode(frozen_report("-f json", "-x"))
  T.eq(#rows, #frozen_maps, "-x rows")
  for i, m in ipairs(frozen_maps) do
    local row = rows[i]
    T.eq({row.address, tointeger(row.size), tointeger(row.rss), tointeger(row.dirty)},
         {format("%016x", m.vm_start), m.size, m.Rss, m.Private_Dirty + m.Shared_Dirty}, format("-x row %d", i))
  end
  local anon = row_at(rows, h.regions.anon_half.start)
  T.eq({anon.mode, anon.mapping, tointeger(anon.rss), tointeger(anon.dirty)},
       {"rw---", "[ anon ]", 32 * h.page_size, 32 * h.page_size}, "the half-written anonymous region")
  T.eq(row_at(rows, h.regions.file_private.start).mapping, "data", "a file's name")
  local stack
  for _, row in ipairs(rows) do
    if row.mapping == "[ stack ]" then stack = row end
  end
  T.ok(stack ~= nil, "a row named [ stack ]")
  rows = cjson.decode(frozen_report("-f json", "-d"))
  T.eq(#rows, #frozen_maps, "-d rows")
  local file = row_at(rows, h.regions.file_private.start)
  local m = frozen_mapping_at(h.regions.file_private.start)
  T.eq({tointeger(file.pid), tointeger(file.size), file.mode, tointeger(file.offset), file.device, file.mapping},
       {h.pid, h.regions.file_private.size, "r----", h.page_size, m.dev, "data"}, "-d row of the file mapping")
end)

T.test("-f csv: a line of field names, then one CRLF line per mapping", function()
  local out = frozen_report("-f csv", "")
  local m = frozen_mapping_at(h.regions.file_private.start)
  T.eq(out:match("^[^\n]*\n"), "pid,address,size,rss,dirty,mode,mapping\r\n", "-x header")
  T.eq(select(2, out:gsub("\r\n", "")), #frozen_maps + 1, "-x lines")
  T.contains(out, format("\r\n%d,%016x,%d,%d,%d,r----,data\r\n", h.pid, m.vm_start, m.size, m.Rss,
                         m.Private_Dirty + m.Shared_Dirty), "-x row of the file mapping")
  out = frozen_report("-f csv", "-XX")
  T.eq(out:match("^[^\n]*\n"), "pid,address,perm,offset,device,inode," .. concat(all_keys, ",") ..
       ",VmFlags,mapping\r\n", "-XX header")
  local spaced = frozen_mapping_at(h.regions.spaced.start)
  local values = {}
  for i, key in ipairs(all_keys) do values[i] = format("%d", spaced[key]) end
  T.contains(out, format("\r\n%d,%016x,%s,%d,%s,%d,%s,%s,with space.bin\r\n", h.pid, spaced.vm_start,
                         spaced.perms, spaced.offset, spaced.dev, spaced.inode, concat(values, ","),
                         tostring(spaced.VmFlags)), "-XX row of the mapping with a space in its name")
end)

T.test("-f prom: report.lua says which formats it prints, exit status 3", function()
  local out, err, status = T.run(T.memscript_command() .. " -f prom report.lua " .. h.pid)
  T.eq({out, status}, {"", 3}, "stdout and exit status")
  T.ok(err:find("^memscript: report.lua prints a table, JSON, CSV or folded stacks, not 'prom'\n") ~= nil,
    "stderr: " .. err)
end)

T.test("report.lua's first line says what it is; --help prints the usage its spec gives", function()
  local f = assert(io.open(T.source .. "/scripts/report.lua", "r"))
  T.eq(f:read("l"), "-- report.lua: pmap-style memory map of a process", "first line")
  f:close()
  local out, err, status = T.run(T.memscript_command() .. " report.lua --help")
  T.eq(status, 0, "exit status")
  T.eq(err, "", "stderr")
  T.eq(out:match("^[^\n]*"), "usage: memscript report.lua [-x | -d | -X | -XX] [-p] [-q] PID...", "usage line")
end)

T.test("bad arguments: a message and the usage on stderr, exit status 3", function()
  for _, args in ipairs({"", "-z 1", "-x -d 1", "-X -x 1", "-Xd 1", "abc", "0", "--extended"}) do
    local out, err, status = T.run(T.memscript_command() .. " report.lua " .. args)
    T.eq(status, 3, "exit status for '" .. args .. "'")
    T.eq(out, "", "stdout for '" .. args .. "'")
    T.ok(err:find("^memscript: ") and err:find("usage: memscript report.lua", 1, true),
      "stderr for '" .. args .. "': " .. err)
  end
end)

T.test("a process that is gone: 'memscript: ' and the reason on stderr, exit status 3", function()
  local none = 0x7ffffffe   -- above any pid_max the kernel allows
  local out, err, status = T.run(T.memscript_command() .. " report.lua " .. none)
  T.eq({out, err, status}, {"", format("memscript: /proc/%d/status: No such file or directory\n", none), 3},
    "output")
end)

T.test("unreadable smaps: 'memscript: ' and proc.smaps's message, exit status 3", function()
  -- A proc root holding the helper's status, cmdline and comm but no smaps.
  local root = os.tmpname()
  os.remove(root)
  assert(os.execute("mkdir -p " .. T.q(root .. "/" .. h.pid)))
  for _, name in ipairs({"status", "cmdline", "comm"}) do
    T.write(format("%s/%d/%s", root, h.pid, name), T.read(format("/proc/%d/%s", h.pid, name)))
  end
  local out, err, status = T.run(format("%s --proc-root %s report.lua %d", T.memscript_command(), T.q(root), h.pid))
  for _, name in ipairs({"status", "cmdline", "comm"}) do os.remove(format("%s/%d/%s", root, h.pid, name)) end
  os.remove(root .. "/" .. h.pid)
  os.remove(root)
  local message = format("memscript: %s/%d/smaps: No such file or directory\n", root, h.pid)
  T.eq({out, err, status}, {"", message, 3}, "output")
end)

live.stop(h)
T.done()
