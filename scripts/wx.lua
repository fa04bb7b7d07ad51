-- wx.lua: security audit: writable+executable memory, executable stacks, anonymous and deleted executable code
--
-- Findings, each a row (a mapping with two findings has two rows):
--   writable+executable   perms w and x (the same bits as VmFlags wr and ex): code that can be rewritten
--   executable stack      an executable stack: [stack] (or an old kernel's [stack:TID]) with x, or any
--                         mapping whose VmFlags have gd (grows down) and ex
--   anonymous executable  executable memory with no file behind it (classify.anonymous: unnamed anonymous
--                         memory, [heap], [anon:NAME]), other than a stack, which is reported as one
--   deleted executable    executable code from a file that is gone from every directory: a deleted file,
--                         or a memfd (the kernel prints both with " (deleted)")
-- The kernel's own code pages, [vdso] and [vsyscall], are executable by design and never reported.
--
-- Cost: /proc/PID/maps is enough for everything except the grows-down flag, which only smaps has; smaps
-- costs the kernel a page-table walk per mapping to count Rss and the rest. Measured on Linux 6.18
-- (x86-64, 2 CPUs): maps of all 97 processes (2,403 mappings) took 2.3-3.0 ms to read, their smaps
-- 10-13 ms; one process with 305 mappings 0.30 ms against 1.8 ms: smaps costs four to six times as
-- much. So every process is read with proc.maps, and with proc.smaps as well only when maps shows
-- executable anonymous memory that is not [stack] (one or two processes there: the reads of the whole
-- scan took 2.8-4.7 ms, against 8.3-11 ms reading smaps everywhere). The kernel refuses MAP_GROWSDOWN
-- for file and shared mappings, and PROT_GROWSDOWN on a mapping that does not grow down (EINVAL, tried
-- on 6.18), so a grows-down mapping is always private anonymous memory, and only there can smaps
-- change a finding. If that smaps read fails, the maps findings stand (a gd mapping then shows as
-- anonymous executable, which it also is).
--
-- "all" scans every process. One that cannot be read (gone before it was read, permission denied, or
-- another error, such as its maps missing from a capture) is left out and counted on stderr and in
-- perfdata; it is gone only when its status cannot be read either (memscript.unreadable.reason_for).
-- Kernel threads and zombies have no mappings and so no findings.
--
-- Output: the findings are raised through memscript.alert, so the output is a Monitoring Plugins
-- check's (a status line with perfdata, then one line per finding; -f json: one JSON object) and
-- any Nagios-compatible system runs wx.lua unchanged. -f csv prints the findings as rows instead.
-- Exit status: 0 (OK) nothing found; 1 (WARNING) only anonymous or deleted executable code;
-- 2 (CRITICAL) writable+executable memory or an executable stack; 3 (UNKNOWN) a usage error, a
-- process given by number that cannot be read, or no process of "all" readable.

local proc = proc or require "memscript"
local output = require "memscript.output"
local escape = require("memscript.text").escape
local classify = require "memscript.classify"
local alert = require "memscript.alert"
local run = require "memscript.run"
local unreadable_module = require "memscript.unreadable"
local cli = require "memscript.cli"

local format = string.format
local io, ipairs, tostring = io, ipairs, tostring
local arg = arg

local SPEC = {
  name = "wx.lua",
  summary = "security audit: writable+executable memory, executable stacks, anonymous and deleted executable code",
  intro = [[
Audits the memory of processes (numbers or "self"), or of every process with "all", for:
  writable+executable   mappings both writable and executable (perms w and x)
  executable stack      [stack] with x, or VmFlags gd (grows down) with ex
  anonymous executable  executable anonymous memory (heap, unnamed or [anon:NAME] mappings),
                        stacks excepted: they are reported as executable stacks
  deleted executable    executable mappings of deleted files and memfds
[vdso] and [vsyscall] are the kernel's and are not reported. The output is a monitoring check's:
a status line with perfdata, then one line per finding (pid, command, address, perms, path);
with memscript -f json one JSON object, with -f csv one row per finding.
]],
  operands = { { "PID", type = "pids", all = true } },
  epilog = [[
With "all", processes that cannot be read are counted on stderr (gone, permission denied, or
other: a file missing from a capture) and in the perfdata 'unreadable'.
Exit status: 0 (OK) nothing found; 1 (WARNING) anonymous or deleted executable code only;
2 (CRITICAL) writable+executable memory or an executable stack; 3 (UNKNOWN) a usage error,
a process given by number that cannot be read, or no process of "all" readable.
]],
}

local opts = cli.parse(SPEC, arg)

local FINDINGS = {"writable+executable", "executable stack", "anonymous executable", "deleted executable"}

local KERNEL_CODE = {vdso = true, vsyscall = true}

local function executable(m)
  return classify.executable(m) or (m.VmFlags ~= nil and m.VmFlags.ex == true)
end

local function writable(m)
  return classify.writable(m) or (m.VmFlags ~= nil and m.VmFlags.wr == true)
end

-- The findings for one mapping, in the order of FINDINGS.
local function findings_of(m)
  if not executable(m) then return nil end
  local kind = classify.kind(m)
  if KERNEL_CODE[kind] then return nil end
  local found = {}
  if writable(m) then found[#found + 1] = FINDINGS[1] end
  local stack = kind == "stack" or (m.VmFlags ~= nil and m.VmFlags.gd == true)
  if stack then
    found[#found + 1] = FINDINGS[2]
  elseif classify.anonymous(m) then
    found[#found + 1] = FINDINGS[3]
  end
  if kind == "deleted" or kind == "memfd" then found[#found + 1] = FINDINGS[4] end
  return found
end

-- True when smaps could change a finding: executable anonymous memory that may be a grows-down stack.
local function needs_flags(maps)
  for _, m in ipairs(maps) do
    if executable(m) and classify.anonymous(m) and classify.kind(m) ~= "stack" then return true end
  end
  return false
end

-- The mappings of one process: maps, or smaps when needed and readable. nil, reason, message
-- (unreadable.read_process) on failure.
local function read_mappings(pid)
  local process, reason, msg = unreadable_module.read_process(pid, { "maps" })
  if not process then return nil, reason, msg end
  if needs_flags(process.maps) then
    local smaps = proc.smaps(pid)
    if smaps then return smaps end
  end
  return process.maps
end

-- Appends one row per finding of process pid to rows.
local function audit(pid, mappings, rows)
  local command
  for _, m in ipairs(mappings) do
    local found = findings_of(m)
    if found then
      for _, finding in ipairs(found) do
        if command == nil then
          command = proc.comm(pid) or "?"
        end
        rows[#rows + 1] = {pid = pid, command = command, finding = finding, vm_start = m.vm_start,
                           perms = m.perms, path = m.path}
      end
    end
  end
end


local COLUMNS = {
  {"PID", "pid", kind = "number"},
  {"Command", "command", align = "left"},
  {"Finding", "finding", align = "left"},
  {"Address", "vm_start", kind = "addr", json = "address"},
  {"Perms", "perms", align = "left"},
  {"Path", "path", align = "left"},
}

-- The pid as a number; "self" is the reading process, whose pid its status tells.
local function pid_value(pid)
  if pid == "self" then
    local status = proc.status("self")
    return status and status.Pid or pid
  end
  return pid
end

-- How bad each finding is: code that can be rewritten in place is critical; anonymous or deleted
-- code is a warning, since JIT compilers and sealed memfds make it legitimately.
local SEVERITY = {
  ["writable+executable"] = "critical",
  ["executable stack"] = "critical",
  ["anonymous executable"] = "warning",
  ["deleted executable"] = "warning",
}

-- Raises one alert per finding, with the perfdata a check graphs.
local function raise_alerts(rows, read, unreadable_count)
  for _, r in ipairs(rows) do
    alert[SEVERITY[r.finding]](format("%s mapping in pid %s", r.finding, tostring(r.pid)), {
      command = r.command, address = format("%x", r.vm_start), perms = r.perms, path = r.path })
  end
  alert.perfdata("findings", #rows, "", { min = 0 })
  alert.perfdata("processes", read, "", { min = 0 })
  alert.perfdata("unreadable", unreadable_count, "", { min = 0 })
  if #rows == 0 then
    alert.ok(format("no findings in %d process%s", read, read == 1 and "" or "es"))
  end
end

local function main()
  local rows, read = {}, 0
  local unreadable = unreadable_module.tally()
  local unknown = {}
  if opts.all then
    -- gone only when the process itself is; a file missing from a capture is "other"
    read, unreadable = unreadable_module.scan(proc.pids(), read_mappings,
      function(pid, mappings) audit(pid, mappings, rows) end)
  else
    for _, given in ipairs(opts.pids) do
      local pid = pid_value(given)
      local mappings, _, msg = read_mappings(pid)
      if mappings then
        read = read + 1
        audit(pid, mappings, rows)
      else
        unknown[#unknown + 1] = msg
      end
    end
  end
  local line = unreadable:summary()
  if line then io.stderr:write(line, "\n") end
  if read == 0 and line then
    unknown[#unknown + 1] = "no process could be read"
  end
  if output.format() == "csv" then
    -- CSV is data, not a check's output: the rows, and the exit status alone says what was found.
    output.print(rows, COLUMNS)
    for _, msg in ipairs(unknown) do io.stderr:write("memscript: ", escape(msg), "\n") end
    if #unknown > 0 then run.raise(run.UNKNOWN) end
    for _, r in ipairs(rows) do run.raise(SEVERITY[r.finding] == "critical" and run.CRITICAL or run.WARNING) end
    return
  end
  -- table and JSON: the Monitoring Plugins output of memscript.alert, printed at the end of the run
  for _, msg in ipairs(unknown) do alert.unknown(msg) end
  raise_alerts(rows, read, unreadable:count())
end

main()
