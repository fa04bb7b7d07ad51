-- Starts tests/helper/memhelper for the live tests, waits until it has stopped, and reads its description.
--
--   local live = require "livehelper"
--   local h = live.start{"--", "arg one"}   -- arguments for memhelper
--   h.pid, h.page_size, h.dir, h.zombie, h.regions.anon_half.start / .size / .what / .file, h.failed.sysv
--   live.stop(h)                            -- SIGKILL, then remove the files it made; safe to call twice

local T = require "testing"

local format, concat = string.format, table.concat
local io, os, tonumber, tostring, ipairs, pairs, error = io, os, tonumber, tostring, ipairs, pairs, error

local M = {}

-- The files memhelper leaves in its directory ("deleted.bin" it removes itself).
local FILES = {"data", "with space.bin", "odd-\xc3\xa9-\xff.bin"}

-- The one-letter state from /proc/PID/stat (the field after the command's closing parenthesis).
function M.state(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return nil end
  local stat = f:read("a")
  f:close()
  return stat:match("^.*%) (%a)")
end

local function sleep(seconds)
  os.execute(format("sleep %.2f", seconds))
end

-- memhelper's description lines as a table (see the comment at the top of memhelper.c).
local function parse(text)
  local h = {regions = {}, order = {}, failed = {}, grown = {}}
  for line in text:gmatch("[^\n]+") do
    local pid, page, dir = line:match("^memhelper pid=(%d+) page_size=(%d+) dir=(.+)$")
    if pid then
      h.pid, h.page_size, h.dir = tonumber(pid), tonumber(page), dir
    end
    local name, start, size, what = line:match("^region (%S+) (%x+) (%d+) ?(.*)$")
    if name then
      local region = {name = name, start = tonumber("0x" .. start), size = tonumber(size), what = what,
                      file = what:match("file=(.*)$")}
      h.regions[name] = region
      h.order[#h.order + 1] = region
    end
    local failed_name, reason = line:match("^failed (%S+) (.*)$")
    if failed_name then h.failed[failed_name] = reason end
    local zombie = line:match("^zombie (%d+)$")
    if zombie then h.zombie = tonumber(zombie) end
    local n, gstart, gsize = line:match("^grow (%d+) (%x+) (%d+)$")
    if n then h.grown[tonumber(n)] = {start = tonumber("0x" .. gstart), size = tonumber(gsize)} end
    if line == "ready" then h.ready = true end
  end
  return h
end

function M.stop(h)
  if not h or h.stopped then return end
  h.stopped = true
  if h.pid then os.execute("kill -KILL " .. h.pid .. " 2>/dev/null") end
  if h.dir and h.dir:match("/memhelper%.[%w]+$") then
    for _, name in ipairs(FILES) do os.remove(h.dir .. "/" .. name) end
    os.remove(h.dir)
  end
  if h.out_path then os.remove(h.out_path) end
end

-- Runs memhelper in the background with `args` and waits until it has stopped itself; raises an error
-- (after cleaning up) if it has not after `timeout` seconds (default 60: against a hang only, it
-- stops within milliseconds). prefix, when given, is a shell command (already quoted) that execs
-- memhelper, its path and arguments following it ("sh -c 'echo $$ >CGROUP/cgroup.procs && exec \"$@\"' sh").
function M.start(args, timeout, prefix)
  if not T.helper then error("MEMSCRIPT_HELPER is not set", 2) end
  local words = {}
  for i, a in ipairs(args or {}) do words[i] = T.q(a) end
  local out_path = os.tmpname()
  local pid_text = T.run(format("%s%s %s >%s & echo $!", prefix and (prefix .. " ") or "", T.q(T.helper),
    concat(words, " "), T.q(out_path)))
  local h = {pid = tonumber(pid_text:match("%d+")), out_path = out_path}
  if not h.pid then
    os.remove(out_path)
    error("could not start " .. T.helper, 2)
  end
  local deadline = os.time() + (timeout or 60)
  while M.state(h.pid) ~= "T" do
    if os.time() > deadline or not M.state(h.pid) then
      M.stop(h)
      error("memhelper did not stop itself (state " .. tostring(M.state(h.pid)) .. ")", 2)
    end
    sleep(0.02)
  end
  local f = assert(io.open(out_path, "r"))
  local described = parse(f:read("a"))
  f:close()
  for k, v in pairs(described) do
    if k ~= "pid" then h[k] = v end
  end
  if described.pid ~= h.pid or not h.ready then
    M.stop(h)
    error("memhelper's description is incomplete", 2)
  end
  return h
end

return M
