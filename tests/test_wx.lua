-- wx.lua: the security audit's findings and exit statuses, on fixture trees and on the stopped helper.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format, concat = string.format, table.concat

local procfs = T.fixtures .. "/procfs/proc"
local edge = T.fixtures .. "/edge/proc"

local function run(root, args)
  local root_option = root and ("--proc-root " .. T.q(root) .. " ") or ""
  return T.run("env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. T.q(T.bin) .. " " .. root_option .. args)
end

-- lua-cjson decodes every number as a float; integral ones are made integers again for T.eq.
local function integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = integers(x) end
    return v
  end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then return math.tointeger(v) end
  return v
end

local function decode(text)
  return integers(cjson.decode(text))
end

local function row(pid, command, finding, address, perms, path)
  return {pid = pid, command = command, finding = finding, address = address, perms = perms, path = path}
end

T.test("the header lines are what memscript --list prints", function()
  local out = run(nil, "--list")
  T.contains(out, "wx.lua         security audit: writable+executable memory, executable stacks, anonymous and "
    .. "deleted executable code\n               usage: memscript wx.lua PID... | all\n", "--list")
end)

T.test("--help exits 0; usage errors exit 3 with the usage on stderr", function()
  local out, _, status = run(nil, "wx.lua -h")
  T.eq(status, 0, "--help status")
  T.ok(out:find("^usage: memscript wx%.lua PID%.%.%. | all\n"), out)
  for _, args in ipairs({"", "1 all", "--bogus", "one"}) do
    local o, err, s = run(procfs, "wx.lua " .. args)
    T.eq(s, 3, "exit status for '" .. args .. "'")
    T.eq(o, "", "stdout for '" .. args .. "'")
    T.contains(err, "usage: memscript wx.lua", "stderr for '" .. args .. "'")
  end
end)

T.test("edge 120: every kind of finding, one row each, exit 2 (CRITICAL)", function()
  local out, err, status = run(edge, "-f json wx.lua 120")
  T.eq(status, 2, "exit status (stderr: " .. err .. ")")
  T.eq(err, "", "stderr")
  T.eq(decode(out), {
    row(120, "wxcap", "anonymous executable", "00007fe89d603000", "r-xp", ""),
    -- MAP_GROWSDOWN: only smaps' VmFlags (gd) tell that this anonymous mapping is a stack
    row(120, "wxcap", "executable stack", "00007fe89d7f1000", "r-xp", ""),
    row(120, "wxcap", "deleted executable", "00007fe89d7f3000", "r-xs", "/memfd:payload (deleted)"),
    row(120, "wxcap", "deleted executable", "00007fe89d7f5000", "r-xp", "/tmp/edgecap/plugin.so (deleted)"),
    row(120, "wxcap", "writable+executable", "00007ffc389f9000", "rwxp", "[stack]"),
    row(120, "wxcap", "executable stack", "00007ffc389f9000", "rwxp", "[stack]"),
  }, "findings ([vdso] r-xp and [vsyscall] --xp are not among them)")
end)

T.test("edge 120 as a table, and as CSV", function()
  local out, _, status = run(edge, "wx.lua 120")
  T.eq(status, 2, "exit status")
  T.same_text(out, concat({
    "PID  Command  Finding               Address           Perms  Path",
    "120  wxcap    anonymous executable  00007fe89d603000  r-xp   ",
    "120  wxcap    executable stack      00007fe89d7f1000  r-xp   ",
    "120  wxcap    deleted executable    00007fe89d7f3000  r-xs   /memfd:payload (deleted)",
    "120  wxcap    deleted executable    00007fe89d7f5000  r-xp   /tmp/edgecap/plugin.so (deleted)",
    "120  wxcap    writable+executable   00007ffc389f9000  rwxp   [stack]",
    "120  wxcap    executable stack      00007ffc389f9000  rwxp   [stack]",
    "6 findings in 1 process",
    ""}, "\n"), "table")
  local csv = run(edge, "-f csv wx.lua 120")
  T.ok(csv:find("^pid,command,finding,address,perms,path\r\n120,wxcap,anonymous executable,00007fe89d603000,r%-xp,\r\n"),
    csv)
end)

T.test("nothing found: exit 0 (OK), an empty JSON array", function()
  -- 121: a plain program; 101-104: a shared file, a deleted rw-s file, an rw-s memfd, [vsyscall] --xp
  local out, err, status = run(edge, "wx.lua 121 101 102 103 104")
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.eq(out, "0 findings in 5 processes\n", "table")
  local json = run(edge, "-f json wx.lua 121")
  T.eq(json, "[]\n", "JSON")
  local csv = run(edge, "-f csv wx.lua 121")
  T.eq(csv, "pid,command,finding,address,perms,path\r\n", "CSV")
end)

T.test("all: every pid of the tree; the unreadable counted on stderr, never silently", function()
  local out, err, status = run(procfs, "-f json wx.lua all")
  T.eq(status, 2, "exit status")
  -- 26231 (smaps only), 26233 (cmdline only), 26235 (status only), 27079 and 584 (stat only) have no maps.
  T.eq(err, "5 processes unreadable: 5 gone\n", "stderr")
  T.eq(decode(out), {
    row(26232, "ata_sff", "writable+executable", "000055680ae29000", "rwxs", "/bin/cat"),
    -- 26234 has no comm file and no smaps file: the maps findings stand
    row(26234, "?", "writable+executable", "000000000808c000", "rwxp", ""),
    row(26234, "?", "anonymous executable", "000000000808c000", "rwxp", ""),
  }, "findings")
  local text = run(procfs, "wx.lua all")
  T.ok(text:find("\n3 findings in 2 processes\n$"), text)
end)

T.test("all: no process readable is UNKNOWN (3); an empty tree is OK (0)", function()
  local tmp = T.run("mktemp -d"):gsub("\n$", "")
  assert(tmp:find("^/"), "mktemp -d failed")
  local cleanup <close> = setmetatable({}, {__close = function() T.run("rm -rf " .. T.q(tmp)) end})
  local out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"0 findings in 0 processes\n", "", 0}, "empty tree")
  T.run("mkdir " .. T.q(tmp .. "/555"))
  out, err, status = run(tmp, "wx.lua all")
  T.eq({out, err, status}, {"0 findings in 0 processes\n", "1 process unreadable: 1 gone\n", 3}, "one pid, no maps")
end)

T.test("a PID that cannot be read: the reader's message, exit 3", function()
  local out, err, status = run(procfs, "wx.lua 26232 999999")
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err, "memscript: " .. procfs .. "/999999/maps: No such file or directory\n", "stderr")
end)

-- ---- the live helper ----

local h = live.start()
local cleanup <close> = setmetatable({}, {__close = function() live.stop(h) end})

T.test("live: the helper's wx region is found, and nothing else in it", function()
  local out, err, status = run(nil, "-f json wx.lua " .. h.pid)
  if h.failed.wx then
    T.eq({out, status}, {"[]\n", 0}, "no wx region (" .. h.failed.wx .. "): nothing found")
    return
  end
  T.eq(status, 2, "exit status (stderr: " .. err .. ")")
  local address = format("%016x", h.regions.wx.start)
  T.eq(decode(out), {
    row(h.pid, "memhelper", "writable+executable", address, "rwxp", ""),
    row(h.pid, "memhelper", "anonymous executable", address, "rwxp", ""),
  }, "findings (not the deleted rw-p file, the memfd, the guard, [vdso] or [vsyscall])")
end)

T.test("live: all finds the helper among every process", function()
  if h.failed.wx then T.skip("the helper has no wx region: " .. h.failed.wx) end
  local out, _, status = run(nil, "-f json wx.lua all")
  T.eq(status, 2, "exit status")
  local address, found = format("%016x", h.regions.wx.start), 0
  for _, r in ipairs(decode(out)) do
    if r.pid == h.pid then
      found = found + 1
      T.eq(r.address, address, "address")
    end
  end
  T.eq(found, 2, "rows for the helper")
end)

T.done()
