-- wx.lua: the security audit's findings and exit statuses, on fixture trees and on the stopped helper.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

-- The helper program captured by capture.lua (tests/fixtures/helper-capture): 1848, its zombie 1850.
local capture = T.fixtures .. "/helper-capture/proc"
local edge = T.fixtures .. "/edge/proc"

local run = T.memscript

local integers = T.integers

local decode = T.json

local function row(pid, command, finding, address, perms, path)
  return {pid = pid, command = command, finding = finding, address = address, perms = perms, path = path}
end

-- The rows of wx.lua's CSV output (RFC 4180: quoted fields, doubled quotes, CRLF), as row tables.
local function csv_rows(text)
  local records = {}
  local pos = 1
  while pos <= #text do
    local fields = {}
    repeat
      local field
      if text:sub(pos, pos) == '"' then
        local close = pos + 1
        while true do
          close = assert(text:find('"', close, true), "unterminated quoted field")
          if text:sub(close + 1, close + 1) ~= '"' then break end
          close = close + 2
        end
        field = text:sub(pos + 1, close - 1):gsub('""', '"')
        pos = close + 1
      else
        local stop = text:find("[,\r]", pos) or #text + 1
        field = text:sub(pos, stop - 1)
        pos = stop
      end
      fields[#fields + 1] = field
      local sep = text:sub(pos, pos)
      pos = pos + (sep == "," and 1 or 0)
    until sep ~= ","
    assert(text:sub(pos, pos + 1) == "\r\n", "record not ended by CRLF at " .. pos)
    pos = pos + 2
    records[#records + 1] = fields
  end
  local header, rows = table.remove(records, 1), {}
  T.eq(header, {"pid", "command", "finding", "address", "perms", "path"}, "CSV header")
  for i, f in ipairs(records) do
    rows[i] = row(math.tointeger(tonumber(f[1])), f[2], f[3], f[4], f[5], f[6])
  end
  return rows
end

T.test("memscript --list prints the summary and usage line of the script's spec", function()
  local out = run(nil, "--list")
  T.contains(out, "wx.lua         security audit: writable+executable memory, executable stacks, anonymous and "
    .. "deleted executable code\n               usage: memscript wx.lua PID...|all\n", "--list")
end)

T.test("--help exits 0; usage errors exit 3 with the usage on stderr", function()
  local out, _, status = run(nil, "wx.lua -h")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript wx%.lua PID%.%.%.|all\n"), out)
  for _, args in ipairs({"", "1 all", "--bogus", "one"}) do
    local o, err, s = run(edge, "wx.lua " .. args)
    T.eq(s, 3, "exit status for '" .. args .. "'")
    T.eq(o, "", "stdout for '" .. args .. "'")
    T.contains(err, "usage: memscript wx.lua", "stderr for '" .. args .. "'")
  end
end)

local EDGE_120 = {
  row(120, "wxcap", "anonymous executable", "00007fe89d603000", "r-xp", ""),
  -- MAP_GROWSDOWN: only smaps' VmFlags (gd) tell that this anonymous mapping is a stack
  row(120, "wxcap", "executable stack", "00007fe89d7f1000", "r-xp", ""),
  row(120, "wxcap", "deleted executable", "00007fe89d7f3000", "r-xs", "/memfd:payload (deleted)"),
  row(120, "wxcap", "deleted executable", "00007fe89d7f5000", "r-xp", "/tmp/edgecap/plugin.so (deleted)"),
  row(120, "wxcap", "writable+executable", "00007ffc389f9000", "rwxp", "[stack]"),
  row(120, "wxcap", "executable stack", "00007ffc389f9000", "rwxp", "[stack]"),
}

T.test("edge 120: every kind of finding, one CSV row each, exit 2 (CRITICAL)", function()
  local out, err, status = run(edge, "-f csv wx.lua 120")
  T.eq(status, 2, "exit status (stderr: " .. err .. ")")
  T.eq(err, "", "stderr")
  T.eq(csv_rows(out), EDGE_120, "findings ([vdso] r-xp and [vsyscall] --xp are not among them)")
end)

T.test("edge 120 as a monitoring check: status line with perfdata first, a line per finding", function()
  local out, _, status = run(edge, "wx.lua 120")
  T.eq(status, 2, "exit status")
  T.same_text(out, concat({
    "MEMSCRIPT CRITICAL - 2 executable stack mapping in pid 120, 1 writable+executable mapping in pid 120 "
      .. "(also 3 WARNING) | 'findings'=6;;;0 'processes'=1;;;0 'unreadable'=0;;;0",
    "CRITICAL: executable stack mapping in pid 120 (address=7fe89d7f1000 command=wxcap path=\"\" perms=r-xp)",
    "CRITICAL: writable+executable mapping in pid 120 (address=7ffc389f9000 command=wxcap path=[stack] perms=rwxp)",
    "CRITICAL: executable stack mapping in pid 120 (address=7ffc389f9000 command=wxcap path=[stack] perms=rwxp)",
    "WARNING: anonymous executable mapping in pid 120 (address=7fe89d603000 command=wxcap path=\"\" perms=r-xp)",
    "WARNING: deleted executable mapping in pid 120 (address=7fe89d7f3000 command=wxcap "
      .. "path=\"/memfd:payload (deleted)\" perms=r-xs)",
    "WARNING: deleted executable mapping in pid 120 (address=7fe89d7f5000 command=wxcap "
      .. "path=\"/tmp/edgecap/plugin.so (deleted)\" perms=r-xp)",
    ""}, "\n"), "check output")
end)

T.test("edge 120 as JSON: one object with the status, each alert and the perfdata", function()
  local out, _, status = run(edge, "-f json wx.lua 120")
  T.eq(status, 2, "exit status")
  local result = decode(out)
  T.eq({ result.status, result.code, #result.alerts }, { "CRITICAL", 2, 6 }, "status, code, alerts")
  T.eq(result.alerts[5], { status = "CRITICAL", message = "writable+executable mapping in pid 120",
    fields = { address = "7ffc389f9000", command = "wxcap", path = "[stack]", perms = "rwxp" } }, "the wx alert")
  T.eq(result.perfdata[1], { label = "findings", value = 6, uom = "", min = 0 }, "findings perfdata")
end)

T.test("only anonymous or deleted executable code is a WARNING (1)", function()
  -- a tree of one process with 120's two warning-level mappings and none of its critical ones
  local tmp, cleanup <close> = T.tempdir()
  local lines = {}
  for line in io.lines(edge .. "/120/maps") do
    if line:find("^7fe89d603000%-") or line:find("^7fe89d7f5000%-") then lines[#lines + 1] = line end
  end
  T.eq(#lines, 2, "the two mappings in 120's maps")
  T.run("mkdir -p " .. T.q(tmp .. "/130"))
  T.write(tmp .. "/130/maps", concat(lines, "\n") .. "\n")
  local out, _, status = run(tmp, "wx.lua 130")
  T.eq(status, 1, "exit status")
  T.ok(out:find("^MEMSCRIPT WARNING %- 1 anonymous executable mapping in pid 130, 1 deleted executable mapping "
    .. "in pid 130 |"), out)
end)

T.test("nothing found: exit 0 (OK) with an OK status line; an empty CSV", function()
  -- 121: a plain program; 101-104: a shared file, a deleted rw-s file, an rw-s memfd, [vsyscall] --xp
  local out, err, status = run(edge, "wx.lua 121 101 102 103 104")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.eq(out, "MEMSCRIPT OK - no findings in 5 processes | 'findings'=0;;;0 'processes'=5;;;0 'unreadable'=0;;;0\n",
    "check output")
  local csv = run(edge, "-f csv wx.lua 121")
  T.eq(csv, "pid,command,finding,address,perms,path\r\n", "CSV")
end)

T.test("all: every pid of the tree; the unreadable counted on stderr, never silently", function()
  -- 1848 and 1850: the captured helper (a wx region) and its zombie (no mappings); 1860: the helper's
  -- maps alone (no comm, no smaps: the maps findings stand); 1861: its status alone (maps missing from
  -- a process that was there: "other"); 1862 and 1863: its cmdline, its stat alone (no status: gone).
  local tmp, cleanup <close> = T.tempdir()
  T.sh(format("cp -r %s/1848 %s/1850 %s/ && cd %s && mkdir 1860 1861 1862 1863 && cp 1848/maps 1860/ && " ..
    "cp 1848/status 1861/ && cp 1848/cmdline 1862/ && cp 1848/stat 1863/",
    T.q(capture), T.q(capture), T.q(tmp), T.q(tmp)))
  local out, err, status = run(tmp, "-f csv wx.lua all")
  T.eq(status, 2, "exit status")
  T.eq(err, "3 processes unreadable: 2 gone, 1 other (" .. tmp .. "/1861/maps: No such file or directory)\n",
    "stderr")
  T.eq(csv_rows(out), {
    row(1848, "memhelper", "writable+executable", "00007f9c73a2a000", "rwxp", ""),
    row(1848, "memhelper", "anonymous executable", "00007f9c73a2a000", "rwxp", ""),
    row(1860, "?", "writable+executable", "00007f9c73a2a000", "rwxp", ""),
    row(1860, "?", "anonymous executable", "00007f9c73a2a000", "rwxp", ""),
  }, "findings")
  local text = run(tmp, "wx.lua all")
  T.ok(text:find("^MEMSCRIPT CRITICAL %- 1 writable%+executable mapping in pid 1848, "
    .. "1 writable%+executable mapping in pid 1860 %(also 2 WARNING%) | 'findings'=4;;;0 'processes'=3;;;0 "
    .. "'unreadable'=3;;;0\n"), text)
end)

T.test("procfs, a real tree of partial processes: the unreadable counted on stderr, never silently", function()
  local procfs = T.shared("procfs/proc")
  local out, err, status = run(procfs, "-f csv wx.lua all")
  T.eq(status, 2, "exit status")
  -- 26231 (smaps only), 26233 (cmdline only), 26235 (status only), 27079 and 584 (stat only) have no maps.
  -- Gone are those without a status file too (26233, 27079, 584); 26231 and 26235 have one: their maps
  -- are missing from the capture, a read that failed ("other"), not processes that went away.
  T.eq(err, "5 processes unreadable: 3 gone, 2 other (" .. procfs .. "/26231/maps: No such file or directory)\n",
    "stderr")
  T.eq(csv_rows(out), {
    row(26232, "ata_sff", "writable+executable", "000055680ae29000", "rwxs", "/bin/cat"),
    -- 26234 has no comm file and no smaps file: the maps findings stand
    row(26234, "?", "writable+executable", "000000000808c000", "rwxp", ""),
    row(26234, "?", "anonymous executable", "000000000808c000", "rwxp", ""),
  }, "findings")
  local text = run(procfs, "wx.lua all")
  T.ok(text:find("^MEMSCRIPT CRITICAL %- 1 writable%+executable mapping in pid 26232, "
    .. "1 writable%+executable mapping in pid 26234 %(also 1 WARNING%) | 'findings'=3;;;0 'processes'=2;;;0 "
    .. "'unreadable'=5;;;0\n"), text)
end)

T.test("all: no process readable is UNKNOWN (3); an empty tree is OK (0)", function()
  local tmp, cleanup <close> = T.tempdir()
  local out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT OK - no findings in 0 processes | 'findings'=0;;;0 'processes'=0;;;0 "
    .. "'unreadable'=0;;;0\n", "", 0}, "empty tree")
  T.run("mkdir " .. T.q(tmp .. "/555"))
  out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT UNKNOWN - 1 no process could be read | 'findings'=0;;;0 'processes'=0;;;0 "
    .. "'unreadable'=1;;;0\nUNKNOWN: no process could be read\n", "1 process unreadable: 1 gone\n", 3},
    "one pid, no maps")
end)

-- A capture tree in dir: 120 (edge 120's files, writable+executable memory among them, with the status
-- of the live capture so that the process is there) and 4804 (the live capture: no findings), less the
-- files of 120 named in remove.
local function damaged_capture(dir, remove)
  T.sh(format("cp -r %s %s/120 && cp -r %s %s/4804 && cp %s %s/120/status && chmod -R u+w %s",
    T.q(edge .. "/120"), T.q(dir), T.q(T.fixtures .. "/live-capture/proc/4804"), T.q(dir),
    T.q(T.fixtures .. "/live-capture/proc/4804/status"), T.q(dir), T.q(dir)))
  for _, name in ipairs(remove) do assert(os.remove(dir .. "/120/" .. name)) end
end

T.test("all on a capture missing a process's maps: counted unreadable (other), never taken for gone", function()
  local tmp, cleanup <close> = T.tempdir()
  damaged_capture(tmp, {"maps"})
  local out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT OK - no findings in 1 process | 'findings'=0;;;0 'processes'=1;;;0 "
    .. "'unreadable'=1;;;0\n", "1 process unreadable: 1 other (" .. tmp .. "/120/maps: No such file or directory)\n",
    0}, "maps missing, status there")
  -- without its status as well, nothing says the process was there: gone
  assert(os.remove(tmp .. "/120/status"))
  out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"MEMSCRIPT OK - no findings in 1 process | 'findings'=0;;;0 'processes'=1;;;0 "
    .. "'unreadable'=1;;;0\n", "1 process unreadable: 1 gone\n", 0}, "maps and status missing")
end)

T.test("all on a capture missing a process's smaps: maps is enough, its findings stand", function()
  local tmp, cleanup <close> = T.tempdir()
  damaged_capture(tmp, {"smaps"})
  local out, err, status = run(tmp, "-f csv wx.lua all")
  T.eq({err, status}, {"", 2}, "stderr and exit status")
  T.eq(csv_rows(out), {
    row(120, "wxcap", "anonymous executable", "00007fe89d603000", "r-xp", ""),
    -- without smaps no VmFlags: the grows-down mapping is anonymous executable, not a stack
    row(120, "wxcap", "anonymous executable", "00007fe89d7f1000", "r-xp", ""),
    row(120, "wxcap", "deleted executable", "00007fe89d7f3000", "r-xs", "/memfd:payload (deleted)"),
    row(120, "wxcap", "deleted executable", "00007fe89d7f5000", "r-xp", "/tmp/edgecap/plugin.so (deleted)"),
    row(120, "wxcap", "writable+executable", "00007ffc389f9000", "rwxp", "[stack]"),
    row(120, "wxcap", "executable stack", "00007ffc389f9000", "rwxp", "[stack]"),
  }, "the findings of maps")
end)

T.test("a PID that cannot be read: UNKNOWN (3) naming the file, the readable ones still checked", function()
  local out, _, status = run(capture, "wx.lua 1848 999999")
  T.eq(status, 3, "exit status")
  T.same_text(out, concat({
    "MEMSCRIPT UNKNOWN - 1 " .. capture .. "/999999/maps: No such file or directory (also 1 CRITICAL, 1 WARNING) "
      .. "| 'findings'=2;;;0 'processes'=1;;;0 'unreadable'=0;;;0",
    "UNKNOWN: " .. capture .. "/999999/maps: No such file or directory",
    'CRITICAL: writable+executable mapping in pid 1848 (address=7f9c73a2a000 command=memhelper path="" perms=rwxp)',
    'WARNING: anonymous executable mapping in pid 1848 (address=7f9c73a2a000 command=memhelper path="" perms=rwxp)',
    ""}, "\n"), "check output")
end)

-- ---- the live helper ----

local h = live.start()
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})

T.test("live: the helper's wx region is found, and nothing else in it", function()
  local out, err, status = run(nil, "-f csv wx.lua " .. h.pid)
  if h.failed.wx then
    T.eq({csv_rows(out), status}, {{}, 0}, "no wx region (" .. h.failed.wx .. "): nothing found")
    return
  end
  T.eq(status, 2, "exit status (stderr: " .. err .. ")")
  local address = format("%016x", h.regions.wx.start)
  T.eq(csv_rows(out), {
    row(h.pid, "memhelper", "writable+executable", address, "rwxp", ""),
    row(h.pid, "memhelper", "anonymous executable", address, "rwxp", ""),
  }, "findings (not the deleted rw-p file, the memfd, the guard, [vdso] or [vsyscall])")
end)

T.test("live: all finds the helper among every process", function()
  if h.failed.wx then T.skip("the helper has no wx region: " .. h.failed.wx) end
  local out, _, status = run(nil, "-f csv wx.lua all")
  T.eq(status, 2, "exit status")
  local address, found = format("%016x", h.regions.wx.start), 0
  for _, r in ipairs(csv_rows(out)) do
    if r.pid == h.pid then
      found = found + 1
      T.eq(r.address, address, "address")
    end
  end
  T.eq(found, 2, "rows for the helper")
end)

T.done()
