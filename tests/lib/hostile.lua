-- Starts tests/helper/hostile (a process that names itself and its memory with escape sequences) and stops it.
--
--   local hostile = require "hostile"
--   local h = hostile.start()   -- h.pid, h.dir, h.memfd_path, h.file_path, h.comm, h.regions.memfd.start, ...
--   hostile.stop(h)             -- SIGKILL, and the directory it made removed; safe to call twice
--
-- The names are test_escape.lua's kind: escape sequences, line breaks, bytes that are not UTF-8, a
-- C1 control, a bidirectional control, quotes and markup (< & > " '), so a picture that writes
-- them raw is not well-formed XML, shows markup, or runs a script.

local T = require "testing"

local format, concat, gsub = string.format, table.concat, string.gsub

local M = {}

M.ARGV0 = "<script>alert(1)</script>\27]0;pwned\a"
M.COMM = "<b>&amp;\"'\27[2K\xe2\x80\xae"                                   -- 15 bytes: the kernel keeps 15
M.MEMFD = "</title><script>alert(\"x\")</script>\27[2K\r\n\xff\xef\xbf\xbf]]>"
M.FILE = "evil\"'<&>;\27]0;title\a\xc2\x9b\xe2\x80\x8f.bin"
M.ANON = "<g onload=alert(1)>"

local function state_of(pid)
  local stat = T.read_if("/proc/" .. pid .. "/stat")
  return stat and stat:match("^.*%) (%a)")
end

function M.stop(h)
  if h.stopped then return end
  h.stopped = true
  if h.pid then os.execute("kill -KILL " .. h.pid .. " 2>/dev/null") end
  if h.dir and h.dir:match("/hostile%.%w+$") then os.execute("rm -rf " .. T.q(h.dir)) end
  os.remove(h.out_path)
end

-- Starts the helper with argv[0] ARGV0 (bash's exec -a) and waits until it has stopped itself.
function M.start()
  local bin = T.build .. "/tests/hostile"
  local args = { M.COMM, M.MEMFD, M.FILE, M.ANON, "x;y" }
  local words = {}
  for i, a in ipairs(args) do words[i] = T.q(a) end
  local h = { out_path = os.tmpname(), regions = {}, anon = {} }
  local pid_text = T.run(format("bash -c 'exec -a \"$0\" \"$@\"' %s %s %s >%s & echo $!", T.q(M.ARGV0), T.q(bin),
    concat(words, " "), T.q(h.out_path)))
  h.pid = tonumber(pid_text:match("%d+"))
  local deadline = os.time() + 10
  while h.pid and state_of(h.pid) ~= "T" do
    if os.time() > deadline or not state_of(h.pid) then break end
    os.execute("sleep 0.02")
  end
  local described = T.read_if(h.out_path) or ""
  for line in described:gmatch("[^\n]+") do
    h.dir = h.dir or line:match("^hostile pid=%d+ page_size=%d+ dir=(.+)$")
    local name, start_hex, size = line:match("^region (%S+) (%x+) (%d+)$")
    if name then h.regions[name] = { start = tonumber(start_hex, 16), size = tonumber(size) } end
    h.ready = h.ready or line == "ready"
  end
  if not (h.pid and h.ready and state_of(h.pid) == "T") then
    M.stop(h)
    error("the hostile helper did not start and stop itself: " .. described:gsub("[^%g ]", "?"))
  end
  -- what the kernel shows: a newline of a memfd name as "\012", a memfd as deleted
  h.memfd_path = "/memfd:" .. gsub(M.MEMFD, "\n", "\\012") .. " (deleted)"
  h.file_path = h.dir .. "/" .. M.FILE
  h.comm = M.COMM:sub(1, 15)
  return h
end

return M
