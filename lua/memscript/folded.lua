-- folded.lua: the collapsed-stack text that flamegraph.pl, inferno and speedscope read, one
-- "frame;frame;frame BYTES" line per stack.
--
--   local folded = require "memscript.folded"
--   folded.print({ { {"root", "sshd [812]", "file", "/usr/lib/libc.so.6"}, 1286144 }, ... })
--
-- A frame is text a process chose (a command line, a path), so it is written escaped: memscript.text's
-- escapes (no control character, no line break, no invalid UTF-8), and ";" as "\x3b", since ";" is what
-- separates frames. The escapes begin with a backslash and a backslash is written "\\", so the text of
-- two different frames never reads the same. A stack of 0 bytes adds nothing and is left out.

local text = require "memscript.text"

local type, ipairs, tostring, error = type, ipairs, tostring, error
local format, gsub, gmatch, concat = string.format, string.gsub, string.gmatch, table.concat
local mtype = math.type
local escape = text.escape

local M = {}

-- A frame's text: escaped, ";" written "\x3b".
function M.frame(name)
  return (gsub(escape(tostring(name)), ";", "\\x3b"))
end

-- The frames of a slash-separated path (a cgroup's, "/system.slice/nginx.service"): one per
-- component, and "/" alone for the root, so that the root's own stack has a frame. Unescaped, as
-- every frame given to M.line.
function M.path_frames(path)
  local frames = {}
  for name in gmatch(tostring(path), "[^/]+") do frames[#frames + 1] = name end
  if #frames == 0 then frames[1] = "/" end
  return frames
end

-- The count at the end of a line: integers as they are, a float (past 2^63) without exponent.
local function count_text(bytes)
  if mtype(bytes) == "integer" then return format("%d", bytes) end
  return format("%.0f", bytes)
end

-- The line of one stack: frames (an array of names) and its bytes; nil for 0 bytes.
function M.line(frames, bytes)
  if type(bytes) ~= "number" then
    error(format("bad argument #2 to 'line' (number expected, got %s)", type(bytes)), 2)
  end
  if bytes == 0 then return nil end
  local parts = {}
  for i, name in ipairs(frames) do parts[i] = M.frame(name) end
  return concat(parts, ";") .. " " .. count_text(bytes)
end

-- The text of stacks, an array of {frames, bytes}, in the order given; each line ends with "\n".
function M.render(stacks)
  local lines = {}
  for _, stack in ipairs(stacks) do
    local line = M.line(stack[1], stack[2])
    if line then lines[#lines + 1] = line end
  end
  if #lines == 0 then return "" end
  return concat(lines, "\n") .. "\n"
end

-- Writes M.render(stacks) to standard output.
function M.print(stacks)
  io.stdout:write(M.render(stacks))
end

return M
