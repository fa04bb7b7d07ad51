-- capture.lua: a capture read back (from its directory and from its tar) equals the live process it was taken from.
local T = require "testing"
local live = require "livehelper"

local format, concat = string.format, table.concat

local capture_script = T.source .. "/scripts/capture.lua"
local report_script = T.source .. "/scripts/report.lua"
local FILES = {"cgroup", "cmdline", "comm", "maps", "smaps", "smaps_rollup", "stat", "statm", "status"}

-- What the summary line adds for the memory cgroups a capture in dir holds, ", and N memory
-- cgroups" ("" without any): the cgroups of its processes and those above them, as many as the
-- captured tree lists (a cgroup removed before the capture read it is in neither).
local function cgroups_said(dir)
  local list = assert(proc.at(dir, "machine")).cgroup.list()
  local n = list and #list or 0
  if n == 0 then return "" end
  return format(", and %d memory cgroup%s", n, n == 1 and "" or "s")
end

-- The names in a directory, sorted.
local function listing(dir)
  local names = {}
  for name in T.sh("ls -A " .. T.q(dir)):gmatch("[^\n]+") do names[#names + 1] = name end
  table.sort(names)
  return names
end

local function memscript(args, stdin)
  return T.memscript(nil, args, { stdin = stdin })
end

local function capture(args)
  return memscript(T.q(capture_script) .. " " .. args)
end

local function report(args, root)
  local prefix = root and ("--proc-root " .. T.q(root) .. " ") or ""
  return memscript(prefix .. T.q(report_script) .. " " .. args)
end

-- "key: value" lines of a metadata file, in order.
local function metadata(path)
  local keys, values = {}, {}
  for line in T.read(path):gmatch("[^\n]*") do
    local key, value = line:match("^([%w_]+): ?(.*)$")
    if key then keys[#keys + 1] = key; values[key] = value end
  end
  return keys, values
end

local work = os.tmpname()
os.remove(work)
T.sh("mkdir -m 755 " .. T.q(work))

local h = live.start({"--", "capture test"})
local dir, tar = work .. "/cap", work .. "/cap.tar"
local before = os.time()
local cap_out, cap_err, cap_status = capture(format("--tar %s %s %d %d", T.q(tar), T.q(dir), h.pid, h.zombie))
local after = os.time()
local root = dir .. "/proc"

T.test("capturing two processes succeeds and says so on stderr", function()
  T.eq(cap_status, 0, "exit status (stderr: " .. cap_err .. ")")
  T.eq(cap_out, "", "stdout")
  T.eq(cap_err, format("memscript: captured 2 processes into %s%s\nmemscript: packed %s into %s\n", root,
    cgroups_said(dir), root, tar), "stderr")
end)

T.test("the tree holds each process's files, meminfo, vmstat and the metadata, nothing else", function()
  T.eq(listing(root), {tostring(h.pid), tostring(h.zombie), "meminfo", "memscript-capture", "vmstat"}, "proc/")
  T.eq(listing(root .. "/" .. h.pid), FILES, "the helper's files")
  -- a zombie has no memory: its maps and smaps are empty as the kernel gives them, no smaps_rollup
  T.eq(listing(root .. "/" .. h.zombie), {"cgroup", "cmdline", "comm", "maps", "smaps", "stat", "statm", "status"},
    "the zombie's files")
  T.eq(T.read(root .. "/" .. h.zombie .. "/maps"), "", "zombie maps")
  T.eq(T.read(root .. "/" .. h.zombie .. "/smaps"), "", "zombie smaps")
  T.eq(T.sh("stat -c %a " .. T.q(root)), "700\n", "the tree is private to its owner")
  T.eq(T.sh("stat -c %a " .. T.q(tar)), "600\n", "and so is the archive")
end)

-- A stopped process's files stay as they are, except what depends on how many processes map the
-- same file pages: its share of them (the Pss lines) and whether a clean page counts as shared or
-- private (mapped by it alone), which change as other processes start and end; and status's SigQ,
-- the signals queued for all the processes of its user, which any of them changes.
local function without_pss(text)
  text = text:gsub("\nSigQ:\t[^\n]*", "\n")
  text = text:gsub("\n[%w_]*Pss[%w_]*: *%d+ kB", "\n")
  text = text:gsub("\nShared_Clean: *%d+ kB", "\n")
  return (text:gsub("\nPrivate_Clean: *%d+ kB", "\n"))
end

T.test("every captured file holds the bytes the kernel gives for it (sharing-dependent lines aside)", function()
  for _, pid in ipairs({h.pid, h.zombie}) do
    for _, name in ipairs(FILES) do
      local path = root .. "/" .. pid .. "/" .. name
      if T.read_if(path) then
        T.eq(without_pss(T.read(path)), without_pss(proc.read(pid .. "/" .. name)), path)
      end
    end
  end
  T.ok(T.read(root .. "/" .. h.pid .. "/smaps"):find("\nPss: ") ~= nil, "the capture keeps the Pss lines")
end)

T.test("the metadata file: what the capture was taken on, which pids, which files the kernel refused", function()
  local keys, meta = metadata(root .. "/memscript-capture")
  T.eq(keys, {"kernel_release", "page_size", "time", "time_epoch", "hostname", "boot_id", "memscript_version",
              "pids_captured", "pids_unreadable", "pids_gone", "pids_denied", "pids_changed", "pids_failed",
              "files_absent", "cgroups_captured"}, "keys")
  T.eq(meta.kernel_release, T.read("/proc/sys/kernel/osrelease"):match("^(.-)\n"), "kernel_release")
  T.eq(meta.hostname, T.read("/proc/sys/kernel/hostname"):match("^(.-)\n"), "hostname")
  T.eq(meta.boot_id, T.read("/proc/sys/kernel/random/boot_id"):match("^(.-)\n"), "boot_id")
  T.eq(tonumber(meta.page_size), h.page_size, "page_size")
  local epoch = tonumber(meta.time_epoch)
  T.ok(epoch and epoch >= before and epoch <= after, "time_epoch " .. tostring(meta.time_epoch))
  T.eq(meta.time, os.date("!%Y-%m-%dT%H:%M:%SZ", epoch), "time is time_epoch in UTC, ISO 8601")
  T.eq(meta.memscript_version, (memscript("-v")):match("^memscript (%S+)"), "memscript_version")
  T.eq(meta.pids_captured, h.pid .. " " .. h.zombie, "pids_captured")
  for _, key in ipairs({"pids_unreadable", "pids_gone", "pids_denied", "pids_changed", "pids_failed"}) do
    T.eq(meta[key], "", key)
  end
  T.eq(meta.files_absent, h.zombie .. "/smaps_rollup", "files_absent")
end)

T.test("proc.meta() of the capture, from the directory and from the tar", function()
  for _, where in ipairs({root, tar}) do
    local m = assert(proc.at(where)).meta()
    T.eq(m.captured, true, where .. ": captured")
    T.eq(m.page_size, h.page_size, where .. ": page_size")
    T.eq(m.files_absent, h.zombie .. "/smaps_rollup", where .. ": files_absent")
  end
end)

T.test("report.lua on the capture prints what it prints live, byte for byte (directory and tar)", function()
  for _, opts in ipairs({"", "-d", "-x -p"}) do
    for _, pid in ipairs({h.pid, h.zombie}) do
      local args = opts .. " " .. pid
      local live_out, live_err, live_status = report(args)
      T.eq(live_status, 0, "live exit status (" .. live_err .. ")")
      T.contains(live_out, pid == h.pid and "capture test" or "[memhelper] <defunct>", "the live report")
      for _, where in ipairs({root, tar}) do
        local out, err, status = report(args, where)
        T.eq(status, 0, where .. ": exit status (" .. err .. ")")
        T.same_text(out, live_out, format("report.lua %s from %s", args, where))
      end
    end
  end
end)

T.test("status, statm, smaps and stat read from the capture equal the live values", function()
  for _, where in ipairs({root, tar}) do
    local cap = assert(proc.at(where))
    for _, pid in ipairs({h.pid, h.zombie}) do
      local cap_status, live_status = assert(cap.status(pid)), assert(proc.status(pid))
      cap_status.SigQ, live_status.SigQ = nil, nil   -- the user's queued signals: see without_pss
      T.eq(cap_status, live_status, where .. ": status of " .. pid)
      T.eq(cap.statm(pid), proc.statm(pid), where .. ": statm of " .. pid)
      T.eq(cap.cmdline(pid), proc.cmdline(pid), where .. ": cmdline of " .. pid)
      local live_stat, cap_stat = proc.stat(pid), cap.stat(pid)
      T.eq(cap_stat.starttime, live_stat.starttime, where .. ": starttime of " .. pid)
      T.eq(cap_stat.rss, live_stat.rss, where .. ": stat rss of " .. pid)
    end
    local cap_rollup, live_rollup = cap.smaps_rollup(h.pid), proc.smaps_rollup(h.pid)
    T.eq(cap_rollup.Rss, live_rollup.Rss, where .. ": smaps_rollup Rss")
    T.eq(cap_rollup.Anonymous, live_rollup.Anonymous, where .. ": smaps_rollup Anonymous")
    T.eq(#cap.smaps(h.pid), #proc.smaps(h.pid), where .. ": number of mappings")
    T.eq(cap.statm(h.pid).resident, proc.statm(h.pid).resident, where .. ": resident")
    T.eq({cap.smaps_rollup(h.zombie)},
      {nil, format("%s%s%d/smaps_rollup: No such file or directory", where, where == tar and ":" or "/", h.zombie), 2},
      where .. ": the zombie's smaps_rollup is absent")
  end
end)

T.test("a process that does not exist is left out, listed as gone, and fails the capture", function()
  local none = 0x7ffffffe   -- above any pid_max the kernel allows
  local d = work .. "/gone"
  local out, err, status = capture(format("%s %d %d", T.q(d), h.pid, none))
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err, format("memscript: /proc/%d/stat: No such file or directory\n" ..
                   "memscript: captured 1 process into %s/proc; 1 left out: 1 gone%s\n", none, d, cgroups_said(d)),
    "stderr")
  T.eq(listing(d .. "/proc"), {tostring(h.pid), "meminfo", "memscript-capture", "vmstat"},
    "no directory for it, no staging directory left")
  local _, meta = metadata(d .. "/proc/memscript-capture")
  T.eq(meta.pids_captured, tostring(h.pid), "pids_captured")
  T.eq(meta.pids_unreadable, tostring(none), "pids_unreadable")
  T.eq(meta.pids_gone, tostring(none), "pids_gone")
  T.eq(meta.files_absent, "", "files_absent")
end)

T.test("a process the user may not read is left out and listed as denied", function()
  local who = T.run("id -u")
  if who ~= "0\n" then T.skip("needs root to run the capture as another user") end
  if T.run("command -v setpriv") == "" then T.skip("setpriv is not installed") end
  local d = work .. "/denied"
  T.sh(format("mkdir -m 777 %s", T.q(d)))
  local out, err, status = T.memscript(nil, format("%s %s/c %d", T.q(capture_script), T.q(d), h.pid),
    { prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups" })
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err, format("memscript: /proc/%d/maps: Permission denied\n" ..
                   "memscript: captured 0 processes into %s/c/proc; 1 left out: 1 permission denied\n", h.pid, d),
    "stderr")
  T.eq(listing(d .. "/c/proc"), {"meminfo", "memscript-capture", "vmstat"}, "nothing of the process")
  local _, meta = metadata(d .. "/c/proc/memscript-capture")
  T.eq(meta.pids_captured, "", "pids_captured")
  T.eq(meta.pids_denied, tostring(h.pid), "pids_denied")
  T.eq(meta.pids_unreadable, tostring(h.pid), "pids_unreadable")
end)

T.test("capturing every process as root: the counts on stderr, in the metadata and in the tree agree", function()
  if T.run("id -u") ~= "0\n" then T.skip("needs root to read every process") end
  local d = work .. "/all"
  local _, err, status = capture(T.q(d))
  T.eq(status, 0, "exit status (" .. err .. ")")
  local _, meta = metadata(d .. "/proc/memscript-capture")
  local captured, unreadable = {}, {}
  for pid in meta.pids_captured:gmatch("%d+") do captured[#captured + 1] = pid end
  for pid in meta.pids_unreadable:gmatch("%d+") do unreadable[#unreadable + 1] = pid end
  local reasons, counted = {}, 0
  for _, key in ipairs({"gone", "denied", "changed", "failed"}) do
    local n = 0
    for _ in meta["pids_" .. key]:gmatch("%d+") do n = n + 1 end
    reasons[key] = n
    counted = counted + n
  end
  T.eq(counted, #unreadable, "pids_unreadable is gone + denied + changed + failed")
  local summary = format("memscript: captured %d processes into %s/proc", #captured, d)
  if #unreadable > 0 then
    local parts = {}
    if reasons.gone > 0 then parts[#parts + 1] = reasons.gone .. " gone" end
    if reasons.denied > 0 then parts[#parts + 1] = reasons.denied .. " permission denied" end
    if reasons.changed > 0 then parts[#parts + 1] = reasons.changed .. " changed while read" end
    if reasons.failed > 0 then parts[#parts + 1] = reasons.failed .. " failed" end
    summary = summary .. format("; %d left out: %s", #unreadable, concat(parts, ", "))
  end
  T.eq(err, summary .. cgroups_said(d) .. "\n", "stderr")
  local dirs = {}
  for _, name in ipairs(listing(d .. "/proc")) do
    if name:match("^%d+$") then dirs[#dirs + 1] = name end
  end
  local sorted = {}
  for i, pid in ipairs(captured) do sorted[i] = pid end
  table.sort(sorted)
  T.eq(dirs, sorted, "one directory per captured pid")
  local has = {}
  for _, pid in ipairs(captured) do has[pid] = true end
  T.ok(has[tostring(h.pid)] and has[tostring(h.zombie)], "the helper and its zombie are among them")
  -- smaps_rollup is absent exactly for the processes without mappings, and the metadata says so
  local absent, expected_absent = {}, {}
  for path in meta.files_absent:gmatch("%S+") do absent[#absent + 1] = path end
  for _, pid in ipairs(captured) do
    local files = listing(d .. "/proc/" .. pid)
    if T.read(d .. "/proc/" .. pid .. "/maps") == "" then
      expected_absent[#expected_absent + 1] = pid .. "/smaps_rollup"
      T.eq(files, {"cgroup", "cmdline", "comm", "maps", "smaps", "stat", "statm", "status"}, pid .. "'s files")
    else
      T.eq(files, FILES, pid .. "'s files")
    end
  end
  T.ok(#expected_absent > 0, "a zombie or kernel thread was captured")
  T.eq(absent, expected_absent, "files_absent")
  local _, _, pids_status = memscript(format("--proc-root %s -e %s", T.q(d .. "/proc"),
    T.q(format("os.exit(#proc.pids() == %d and 0 or 1)", #captured))))
  T.eq(pids_status, 0, "proc.pids() of the capture lists every captured process")
end)

T.test("capturing into a directory that already holds a capture is refused", function()
  local out, err, status = capture(T.q(dir) .. " " .. h.pid)
  T.eq({out, err, status}, {"", format("memscript: %s: already exists; capture into a new directory\n", root), 3},
    "output and status")
end)

T.test("usage: --help prints it, a missing directory or a bad pid is an error", function()
  local out, err, status = capture("--help")
  T.eq(status, 0, "--help status")
  T.contains(out, "usage: memscript capture.lua [--tar FILE] DIR [PID...]", "--help")
  T.eq(err, "", "--help stderr")
  out, err, status = capture("")
  T.eq(status, 3, "no DIR: status")
  T.contains(err, "memscript: capture.lua: DIR is needed\nusage:", "no DIR: stderr")
  out, err, status = capture(T.q(work .. "/bad") .. " 12x")
  T.eq(status, 3, "bad pid: status")
  T.contains(err, "memscript: capture.lua: bad process id '12x'\n", "bad pid: stderr")
  T.ok(not T.read_if(work .. "/bad"), "nothing written on a usage error")
end)

-- ---- damaged captures: the error names the file, exit status 3 ----

local function damaged(name, edit)
  local d = work .. "/" .. name
  T.sh(format("cp -r %s %s", T.q(dir), T.q(d)))
  edit(d .. "/proc")
  return d
end

T.test("report.lua on a capture without the smaps file names it", function()
  local d = damaged("nosmaps", function(r) os.remove(r .. "/" .. h.pid .. "/smaps") end)
  local out, err, status = report(tostring(h.pid), d .. "/proc")
  T.eq({out, err, status}, {"", format("memscript: %s/proc/%d/smaps: No such file or directory\n", d, h.pid), 3},
    "directory")
  local t = work .. "/nosmaps.tar"
  T.sh(format("tar -C %s -cf %s proc", T.q(d), T.q(t)))
  out, err, status = report(tostring(h.pid), t)
  T.eq({out, err, status}, {"", format("memscript: %s:%d/smaps: No such file or directory\n", t, h.pid), 3}, "tar")
end)

T.test("report.lua on a capture with garbage in a status file names the file and line", function()
  local d = damaged("badstatus", function(r)
    local path = r .. "/" .. h.pid .. "/status"
    T.write(path, T.read(path):gsub("\nState:[^\n]*", "\nnot a status line"))
  end)
  local out, err, status = report(tostring(h.pid), d .. "/proc")
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err, format("memscript: %s/proc/%d/status:3: no ':' after the key\n", d, h.pid), "stderr")
end)

T.test("a truncated tar is an error naming the archive", function()
  local t = work .. "/truncated.tar"
  local whole = T.read(tar)
  -- cut inside a 512-byte tar record: a cut between two entries would read as a shorter archive
  T.write(t, whole:sub(1, (#whole // 2 // 512) * 512 + 100))
  local out, err, status = report(tostring(h.pid), t)
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  -- libarchive says "Truncated tar archive" or "Truncated input file", by where the cut falls
  T.ok(err:find("^memscript: " .. t:gsub("%p", "%%%0") .. ": .*Truncated [^\n]*\n$") ~= nil,
    "stderr names the archive: " .. err)
end)

live.stop(h)
T.sh("rm -rf " .. T.q(work))
T.done()
