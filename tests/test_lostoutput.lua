-- Output that does not reach standard output (a full disk, a closed descriptor) is a failure:
-- every bundled script, and every way a run ends, exits 3 with a message naming standard output.

local T = require "testing"

local tmp, cleanup <close> = T.tempdir()
local capture = tmp .. "/capture"
T.sh(T.memscript_command() .. " capture.lua " .. T.q(capture) .. " self 2>/dev/null")

-- Each bundled script, with arguments that make it print (or, for capture.lua, write files only).
local scripts = {
  { "top.lua", "top.lua -n 3" },
  { "report.lua", "report.lua self" },
  { "report.lua", "-f json report.lua self" },
  { "meminfo.lua", "meminfo.lua" },
  { "status.lua", "status.lua self" },
  { "flags.lua", "flags.lua self" },
  { "query.lua", "query.lua self 'Rss > 0'" },
  { "rules.lua", "rules.lua self" },
  { "wx.lua", "wx.lua self" },
  { "exporter.lua", "-f prom exporter.lua self" },
  { "leak.lua", "leak.lua --interval 0.01 --count 2 self" },
  { "numa.lua", "numa.lua self" },
  { "wss.lua", "wss.lua --reset-refs --interval 0.01 --count 1 self" },
  { "flame.lua", "flame.lua" },
  { "flame.lua", "-f folded flame.lua" },
  { "map.lua", "map.lua self" },
  { "diff.lua", "diff.lua " .. T.q(capture) .. " live" },
  { "capture.lua", "capture.lua " .. T.q(tmp .. "/capture2") .. " self" },
  { "system.lua", "system.lua" },
  { "system.lua", "-f folded system.lua" },
  { "why.lua", "why.lua --no-sample self" },
  -- a capture made here holds memscript's own memory cgroup, where the machine has cgroups
  { "cgroup.lua", "--root " .. T.q(capture) .. " cgroup.lua" },
}

-- The ways a run ends besides a script's own.
local endings = {
  { "-e at its normal end", "-e 'print(1)'" },
  { "os.exit from a chunk", "-e 'print(1) os.exit(0)'" },
  { "a script error", "-e 'print(1) error(\"boom\")'" },
  { "the end of watch mode", "--interval 0.01 --count 3 -e 'print(1)'" },
  { "--help", "--help" },
  { "-v", "-v" },
  { "--list", "--list" },
}

local FULL = "memscript: standard output: No space left on device: output was lost\n"
local CLOSED = "memscript: standard output: it was closed when memscript started: output was lost\n"

local function run(args, redirect)
  return T.run(T.memscript_command(nil, args, { dir = tmp }) .. " " .. redirect)
end

-- The run whose output is lost fails with the message once, whatever it would have exited with;
-- a run that prints nothing loses nothing and ends as it would.
local function check(what, args)
  local out, err, status = run(args, "")
  local printed = out ~= ""
  for _, case in ipairs({ { "> /dev/full", FULL }, { ">&-", CLOSED } }) do
    T.run("rm -rf " .. T.q(tmp .. "/capture2"))
    local _, lost_err, lost_status = run(args, case[1])
    if printed then
      T.eq(lost_status, 3, what .. " " .. case[1] .. ": status (normally " .. tostring(status) .. ")")
      local _, count = lost_err:gsub(case[2]:gsub("%p", "%%%0"), "")
      T.eq(count, 1, what .. " " .. case[1] .. ": the message once in " .. T.show(lost_err))
    else
      T.eq({ lost_status, lost_err:find("standard output", 1, true) }, { status, nil },
        what .. " " .. case[1] .. " (prints nothing): status and no message; stderr " .. T.show(err))
    end
  end
  return printed
end

T.test("every bundled script is checked here", function()
  local listed = {}
  for _, case in ipairs(scripts) do listed[case[1]] = true end
  for name in T.sh("ls " .. T.q(T.source .. "/scripts")):gmatch("[^\n]+") do
    if name:match("%.lua$") then T.ok(listed[name], name .. " has no case in test_lostoutput.lua") end
  end
end)

for _, case in ipairs(scripts) do
  T.test(case[2] .. " > /dev/full and >&-: 3 and the message when output is lost", function()
    local printed = check(case[1], case[2])
    T.eq(printed, case[1] ~= "capture.lua", "prints on standard output (capture.lua writes files only)")
  end)
end

for _, case in ipairs(endings) do
  T.test("lost output at " .. case[1] .. " exits 3 naming standard output", function()
    T.ok(check(case[1], case[2]), "prints on standard output")
  end)
end

T.test("a finalizer's output lost at the close of the state is a failure too", function()
  local code = "keep = setmetatable({}, { __gc = function() print(\"from __gc\") end })"
  local out, _, status = run("-e " .. T.q(code), "")
  T.eq({ out, status }, { "from __gc\n", 0 }, "normally")
  local _, err, lost_status = run("-e " .. T.q(code), "> /dev/full")
  T.eq({ err, lost_status }, { FULL, 3 }, "to /dev/full")
end)

T.test("with standard output closed, files memscript opens never become standard output", function()
  -- /proc files opened while the script prints would otherwise take descriptor 1
  local code = "for i = 1, 3 do print(#proc.smaps('self')) end io.stderr:write(io.open('/proc/self/fd/1') " ..
    "and 'fd 1 open' or 'fd 1 free', '\\n')"
  local _, err, status = run("-e " .. T.q(code), ">&-")
  T.eq({ err, status }, { "fd 1 open\n" .. CLOSED, 3 }, "stderr and status")
  local probe = "local pid = proc.stat('self').pid local p = io.popen('readlink /proc/' .. pid .. '/fd/1') " ..
    "io.stderr:write(p:read('a')) p:close()"
  local target = T.sh(T.memscript_command(nil, "-e " .. T.q(probe), { dir = tmp }) .. " 2>&1 >&-")
  T.eq(target, "/dev/null\n", "descriptor 1 is the reserved /dev/null, not a file of the run")
end)

T.done()
