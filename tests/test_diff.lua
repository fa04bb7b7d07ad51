-- diff.lua: the change between two captures of a growing process, with the numbers computed from the captures.
local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

local format = string.format

local capture_script = T.source .. "/scripts/capture.lua"
local diff_script = T.source .. "/scripts/diff.lua"

-- memhelper grow: a new 64 KiB anonymous region, every page written, each 100 ms (80 at most).
local STEP = 64 * 1024
local GROW_ARGS = "grow 64 100 80 -- diff test"

local integers = T.integers

-- diff.lua's JSON rows, failing the test on a non-zero exit.
local function diff_json(args)
  local out, err, status = T.run(format("%s -f json %s %s", T.memscript_command(), T.q(diff_script), args))
  if status ~= 0 then error(format("diff.lua %s: exit %s: %s", args, tostring(status), err), 2) end
  return integers(cjson.decode(out)), err
end

-- Waits until cond() holds; an error after a minute, against a hang only (the helper grows a step
-- every 100 ms).
local function wait_for(what, cond)
  local deadline = os.time() + 60
  while not cond() do
    if os.time() > deadline then error("timed out waiting for " .. what, 2) end
    os.execute("sleep 0.02")
  end
end

-- The growth steps memhelper has reported so far.
local function steps_done(h)
  local n = 0
  for _ in T.read(h.out_path):gmatch("\ngrow %d+") do n = n + 1 end
  return n
end

local function stop(h)
  T.sh("kill -STOP " .. h.pid)
  wait_for("the helper to stop", function() return live.state(h.pid) == "T" end)
end

local work = os.tmpname()
os.remove(work)
T.sh("mkdir -m 755 " .. T.q(work))

-- Start the grower, take A after its second step and B at least five steps later, stopped both times.
local h = {out_path = os.tmpname()}
h.pid = tonumber(T.sh(format("%s %s >%s & echo $!", T.q(T.helper), GROW_ARGS, T.q(h.out_path))):match("%d+"))
wait_for("two growth steps", function() return steps_done(h) >= 2 end)
h.dir = T.read(h.out_path):match("dir=([^\n]+)")
h.zombie = tonumber(T.read(h.out_path):match("\nzombie (%d+)"))
stop(h)
local steps_a = steps_done(h)
local cap_a = work .. "/a"
T.sh(format("%s %s %s %d %d", T.memscript_command(), T.q(capture_script), T.q(cap_a), h.pid, h.zombie))
T.sh("kill -CONT " .. h.pid)
wait_for("five more steps", function() return steps_done(h) >= steps_a + 5 end)
stop(h)
local steps_b = steps_done(h)
local cap_b, tar_b = work .. "/b", work .. "/b.tar"
T.sh(format("%s %s --tar %s %s %d %d", T.memscript_command(), T.q(capture_script), T.q(tar_b), T.q(cap_b), h.pid, h.zombie))

-- ---- the expected numbers, from the captured smaps files ----

local function name_of(m)
  if m.path ~= "" then return m.path end
  if m.perms:sub(1, 3) == "---" then return "[guard]" end
  return m.perms:sub(4, 4) == "s" and "[shm]" or "[anon]"
end

local function sums(root, pid)
  local by_name, total = {}, {Rss = 0, Pss = 0, Anonymous = 0, Swap = 0, maps = 0}
  for _, m in ipairs(assert(proc.at(root)).smaps(pid)) do
    local name = name_of(m)
    local s = by_name[name] or {Rss = 0, Pss = 0, Anonymous = 0, Swap = 0, maps = 0}
    by_name[name] = s
    for _, t in ipairs({s, total}) do
      t.Rss, t.Pss = t.Rss + m.Rss, t.Pss + m.Pss
      t.Anonymous, t.Swap, t.maps = t.Anonymous + m.Anonymous, t.Swap + m.Swap, t.maps + 1
    end
  end
  return by_name, total
end

local names_a, total_a = sums(cap_a .. "/proc", h.pid)
local names_b, total_b = sums(cap_b .. "/proc", h.pid)

-- The rows diff.lua must print for the helper's mappings, keyed by name.
local function expected_mapping_rows(a_names, b_names)
  local rows = {}
  local function row(name, a, b)
    local zero = {Rss = 0, Pss = 0, Anonymous = 0, Swap = 0}
    local r = {change = (a and b) and "" or (a and "gone" or "new"), mapping = name,
               maps_a = a and a.maps or cjson.null, maps_b = b and b.maps or cjson.null,
               rss_a = a and a.Rss or cjson.null, rss_b = b and b.Rss or cjson.null,
               rss_change = (b or zero).Rss - (a or zero).Rss, pss_change = (b or zero).Pss - (a or zero).Pss,
               anonymous_change = (b or zero).Anonymous - (a or zero).Anonymous,
               swap_change = (b or zero).Swap - (a or zero).Swap}
    if r.change ~= "" or r.maps_a ~= r.maps_b or r.rss_change ~= 0 or r.pss_change ~= 0
        or r.anonymous_change ~= 0 or r.swap_change ~= 0 then
      rows[name] = r
    end
  end
  for name, a in pairs(a_names) do row(name, a, b_names[name]) end
  for name, b in pairs(b_names) do if not a_names[name] then row(name, nil, b) end end
  return rows
end

local function keyed(rows)
  local by = {}
  for _, r in ipairs(rows) do by[r.mapping] = r end
  return by
end

T.test("the captures were taken while the helper was stopped, steps apart", function()
  T.ok(steps_b >= steps_a + 5, format("steps %d then %d", steps_a, steps_b))
end)

T.test("per mapping of the process: every changed mapping name with the exact changes", function()
  local rows = diff_json(format("%s %s %d", T.q(cap_a), T.q(cap_b), h.pid))
  T.eq(keyed(rows), expected_mapping_rows(names_a, names_b), "rows")
  for i = 2, #rows do
    T.ok(rows[i - 1].rss_change >= rows[i].rss_change, "sorted by growth of Rss, largest first")
  end
end)

T.test("the growth is in [anon]: whole written steps, all of it anonymous and private", function()
  local top = diff_json(format("%s %s %d", T.q(cap_a), T.q(cap_b), h.pid))[1]
  T.eq(top.mapping, "[anon]", "the mapping that grew most")
  T.eq(top.rss_change, names_b["[anon]"].Rss - names_a["[anon]"].Rss, "rss_change")
  T.eq(top.rss_change % STEP, 0, "whole steps")
  local steps = top.rss_change // STEP
  -- a stop can land between a step's writes and its line, so the lines may lag by one
  T.ok(math.abs(steps - (steps_b - steps_a)) <= 1,
    format("%d steps grown, %d reported between the captures", steps, steps_b - steps_a))
  T.eq(top.anonymous_change, top.rss_change, "anonymous_change")
  T.eq(top.pss_change, top.rss_change, "pss_change: private pages count whole")
  T.eq(top.swap_change, 0, "swap_change")
  -- the regions the helper reported between the captures lie in [anon] mappings of B
  local b_maps = assert(proc.at(cap_b .. "/proc")).smaps(h.pid)
  for n, start in T.read(h.out_path):gmatch("\ngrow (%d+) (%x+)") do
    if tonumber(n) > steps_a and tonumber(n) <= steps_b then
      local m = b_maps:find_address(tonumber(start, 16))
      T.ok(m and name_of(m) == "[anon]", "step " .. n .. " is in an [anon] mapping of B")
    end
  end
end)

T.test("per process: one row for the helper (the zombie has no mappings), the sums of its smaps", function()
  local rows = diff_json(format("%s %s", T.q(cap_a), T.q(tar_b)))
  T.eq(rows, {{change = "", pid = h.pid, rss_a = total_a.Rss, rss_b = total_b.Rss,
               rss_change = total_b.Rss - total_a.Rss, pss_change = total_b.Pss - total_a.Pss,
               anonymous_change = total_b.Anonymous - total_a.Anonymous, swap_change = total_b.Swap - total_a.Swap,
               command = T.helper .. " " .. GROW_ARGS}}, "rows")
end)

T.test("A and B as DIR, DIR/proc or an archive give the same rows", function()
  local want = diff_json(format("%s %s %d", T.q(cap_a), T.q(cap_b), h.pid))
  T.eq(diff_json(format("%s/proc %s %d", T.q(cap_a), T.q(tar_b), h.pid)), want, "DIR/proc and archive")
  T.eq(diff_json(format("%s %s/proc/ %d", T.q(cap_a), T.q(cap_b), h.pid)), want, "DIR/proc/")
end)

T.test("-m: per mapping name over all processes (here the helper's alone)", function()
  T.eq(diff_json(format("-m %s %s", T.q(cap_a), T.q(cap_b))), diff_json(format("%s %s %d", T.q(cap_a), T.q(cap_b), h.pid)),
    "rows")
end)

T.test("-a shows unchanged names too; -n cuts; -s sorts by another change", function()
  local all = diff_json(format("-a %s %s %d", T.q(cap_a), T.q(cap_b), h.pid))
  local names = 0
  for _ in pairs(names_b) do names = names + 1 end
  T.eq(#all, names, "one row per mapping name (none went away)")
  T.eq(#diff_json(format("-n 1 %s %s %d", T.q(cap_a), T.q(cap_b), h.pid)), 1, "-n 1")
  local by_swap = diff_json(format("-a -s swap %s %s %d", T.q(cap_a), T.q(cap_b), h.pid))
  for i = 2, #by_swap do T.ok(by_swap[i - 1].swap_change >= by_swap[i].swap_change, "sorted by swap_change") end
end)

T.test("B against the live system, the helper still stopped: no change in Rss, Anonymous or Swap", function()
  local rows = diff_json(format("%s live %d", T.q(tar_b), h.pid))
  for _, r in ipairs(rows) do
    -- Pss alone may move: other processes map the same libraries
    T.eq({r.change, r.rss_change, r.anonymous_change, r.swap_change}, {"", 0, 0, 0}, r.mapping)
  end
end)

T.test("table and CSV output", function()
  local out, err, status = T.run(format("%s %s %s %s %d", T.memscript_command(), T.q(diff_script), T.q(cap_a), T.q(cap_b), h.pid))
  T.eq(status, 0, "table status (" .. err .. ")")
  local header, first = out:match("^([^\n]*)\n([^\n]*)\n")
  T.eq(header, "Change  MapsA  MapsB" .. header:sub(21), "table header")
  T.ok(header:find("dRss  +dPss  +dAnon  +dSwap  Mapping$") ~= nil, "table header: " .. header)
  T.ok(first:find("%[anon%]$") ~= nil, "first row is [anon]: " .. first)
  out, err, status = T.run(format("%s -f csv %s %s %s", T.memscript_command(), T.q(diff_script), T.q(cap_a), T.q(cap_b)))
  T.eq(status, 0, "csv status (" .. err .. ")")
  T.eq(out, format("change,pid,rss_a,rss_b,rss_change,pss_change,anonymous_change,swap_change,command\r\n" ..
                   ",%d,%d,%d,%d,%d,%d,%d,%s\r\n", h.pid, total_a.Rss, total_b.Rss, total_b.Rss - total_a.Rss,
                   total_b.Pss - total_a.Pss, total_b.Anonymous - total_a.Anonymous, total_b.Swap - total_a.Swap,
                   T.helper .. " " .. GROW_ARGS), "csv")
end)

-- ---- the same pid, another process ----

local function copy(name, edit)
  local d = work .. "/" .. name
  T.sh(format("cp -r %s %s", T.q(cap_b), T.q(d)))
  edit(d .. "/proc")
  return d
end

local reused = copy("reused", function(root)
  local path = root .. "/" .. h.pid .. "/stat"
  local stat = T.read(path)
  local head, rest = stat:match("^(.*%) )(.*)$")
  local fields = {}
  for word in rest:gmatch("%S+") do fields[#fields + 1] = word end
  fields[20] = tostring(tonumber(fields[20]) + 1)   -- starttime, proc(5) field 22
  T.write(path, head .. table.concat(fields, " ") .. "\n")
end)

T.test("a pid with another start time is another process: gone and new", function()
  local rows = diff_json(format("-s pss %s %s", T.q(cap_a), T.q(reused)))
  T.eq(rows, {
    {change = "new", pid = h.pid, rss_a = cjson.null, rss_b = total_b.Rss, rss_change = total_b.Rss,
     pss_change = total_b.Pss, anonymous_change = total_b.Anonymous, swap_change = total_b.Swap,
     command = T.helper .. " " .. GROW_ARGS},
    {change = "gone", pid = h.pid, rss_a = total_a.Rss, rss_b = cjson.null, rss_change = -total_a.Rss,
     pss_change = -total_a.Pss, anonymous_change = -total_a.Anonymous, swap_change = -total_a.Swap,
     command = T.helper .. " " .. GROW_ARGS}}, "rows")
end)

T.test("with its PID: every mapping name of the old process gone, of the new one new, and a note", function()
  local rows, err = diff_json(format("%s %s %d", T.q(cap_a), T.q(reused), h.pid))
  T.eq(err, format("memscript: pid %d in %s is another process than in %s (started at a different time): " ..
                   "its mappings show as gone and new\n", h.pid, reused, cap_a), "stderr")
  local gone, new = {}, {}
  for _, r in ipairs(rows) do
    if r.change == "gone" then gone[r.mapping] = r.rss_change elseif r.change == "new" then new[r.mapping] = r.rss_change end
  end
  -- JSON is UTF-8: the byte 0xff of the helper's odd-é-\xff.bin is U+FFFD there
  local valid_utf8 = require("memscript.output").valid_utf8
  local want_gone, want_new = {}, {}
  for name, s in pairs(names_a) do want_gone[valid_utf8(name)] = -s.Rss end
  for name, s in pairs(names_b) do want_new[valid_utf8(name)] = s.Rss end
  T.eq(gone, want_gone, "gone")
  T.eq(new, want_new, "new")
end)

T.test("captures from different boots share no process", function()
  local other = copy("otherboot", function(root)
    local path = root .. "/memscript-capture"
    T.write(path, (T.read(path):gsub("\nboot_id: [^\n]*", "\nboot_id: 00000000-0000-0000-0000-000000000000")))
  end)
  local rows, err = diff_json(format("%s %s", T.q(cap_a), T.q(other)))
  T.eq(err, format("memscript: %s and %s were taken in different boots: no process is in both\n", cap_a, other),
    "stderr")
  T.eq({#rows, rows[1].change, rows[2].change}, {2, "new", "gone"}, "rows")
end)

-- ---- captures that cannot be trusted: an error naming the file, exit status 3 ----

local function fails_with(args, message, what)
  local out, err, status = T.run(format("%s %s %s", T.memscript_command(), T.q(diff_script), args))
  T.eq({out, err, status}, {"", message, 3}, what)
end

T.test("a capture without a smaps file: the error names it, from the directory and from a tar", function()
  local d = copy("nosmaps", function(root) os.remove(root .. "/" .. h.pid .. "/smaps") end)
  local missing = format("memscript: %s/proc/%d/smaps: No such file or directory\n", d, h.pid)
  fails_with(format("%s %s", T.q(cap_a), T.q(d)), missing, "per process")
  fails_with(format("%s %s %d", T.q(d), T.q(cap_a), h.pid), missing, "per mapping")
  local t = work .. "/nosmaps.tar"
  T.sh(format("tar -C %s -cf %s proc", T.q(d), T.q(t)))
  fails_with(format("%s %s", T.q(t), T.q(cap_a)), format("memscript: %s:%d/smaps: No such file or directory\n", t, h.pid),
    "archive")
end)

T.test("a process the metadata lists but the tree lacks is an error, not a process gone", function()
  local d = copy("nodir", function(root) T.sh("rm -r " .. T.q(root .. "/" .. h.pid)) end)
  fails_with(format("%s %s", T.q(cap_a), T.q(d)),
    format("memscript: %s/proc/%d/stat: No such file or directory\n", d, h.pid), "per process")
end)

T.test("garbage in a stat file names the file and line", function()
  local d = copy("badstat", function(root) T.write(root .. "/" .. h.pid .. "/stat", "garbage\n") end)
  fails_with(format("%s %s", T.q(cap_a), T.q(d)),
    format("memscript: %s/proc/%d/stat:1: comm in parentheses expected after the pid\n", d, h.pid), "stat")
end)

T.test("a truncated archive is an error naming it", function()
  local t = work .. "/truncated.tar"
  local whole = T.read(tar_b)
  -- cut inside a 512-byte tar record: a cut between two entries would read as a shorter archive
  T.write(t, whole:sub(1, (#whole // 2 // 512) * 512 + 100))
  local out, err, status = T.run(format("%s %s %s %s", T.memscript_command(), T.q(diff_script), T.q(cap_a), T.q(t)))
  T.eq({out, status}, {"", 3}, "stdout and status")
  T.ok(err:find("^memscript: " .. t:gsub("%p", "%%%0") .. ": .*Truncated tar archive\n$") ~= nil, "stderr: " .. err)
end)

T.test("a process a capture could not read is left out and counted, never shown as gone", function()
  if T.run("id -u") ~= "0\n" then T.skip("needs root to run the capture as another user") end
  if T.run("command -v setpriv") == "" then T.skip("setpriv is not installed") end
  local d = work .. "/denied"
  T.sh(format("mkdir -m 777 %s", T.q(d)))
  T.run(format("setpriv --reuid=65534 --regid=65534 --clear-groups %s %s %s/c %d",
    T.memscript_command(), T.q(capture_script), T.q(d), h.pid))
  local rows, err = diff_json(format("%s/c %s", T.q(d), T.q(cap_b)))
  T.eq(rows, {}, "rows")
  T.eq(err, format("memscript: 1 process left out: not readable in %s/c or %s\n", d, cap_b), "stderr")
  fails_with(format("%s/c %s %d", T.q(d), T.q(cap_b), h.pid),
    format("memscript: %s/c: process %d was not captured (permission denied)\n", d, h.pid), "per mapping")
end)

T.test("usage errors, a missing capture and an unknown pid", function()
  local out, err, status = T.run(format("%s %s --help", T.memscript_command(), T.q(diff_script)))
  T.eq(status, 0, "--help status")
  T.contains(out, "usage: memscript diff.lua [-m] [-c] [-a] [-n N] [-s FIELD] A B [PID]", "--help")
  out, err, status = T.run(format("%s %s %s", T.memscript_command(), T.q(diff_script), T.q(cap_a)))
  T.eq(status, 3, "one operand: status")
  T.contains(err, "memscript: diff.lua: B is needed\nusage:", "one operand: stderr")
  out, err, status = T.run(format("%s %s -s size %s %s", T.memscript_command(), T.q(diff_script), T.q(cap_a), T.q(cap_b)))
  T.eq(status, 3, "bad -s: status")
  T.contains(err, "memscript: diff.lua: -s needs one of rss, pss, anon, swap, current, file, kernel, got 'size'\n", "bad -s: stderr")
  for _, rows in ipairs({ "-n 0", "--rows 0", "-n 00", "-n x" }) do
    out, err, status = T.run(format("%s %s %s %s %s", T.memscript_command(), T.q(diff_script), rows, T.q(cap_a), T.q(cap_b)))
    T.eq({ out, status }, { "", 3 }, rows .. ": stdout and status")
    T.contains(err, "needs a positive number of rows", rows .. ": stderr")
    T.contains(err, "\nusage: memscript diff.lua", rows .. ": usage")
  end
  fails_with(format("%s %s", T.q(work .. "/none"), T.q(cap_b)),
    format("memscript: %s/none: No such file or directory\n", work), "missing capture")
  local none = 0x7ffffffe
  fails_with(format("%s %s %d", T.q(cap_a), T.q(cap_b), none),
    format("memscript: process %d is in neither %s nor %s\n", none, cap_a, cap_b), "unknown pid")
end)

live.stop(h)
T.sh("rm -rf " .. T.q(work))
T.done()
