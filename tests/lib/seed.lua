-- The lines of /proc the seed note shows (../shared/seed, read in place): written into a proc tree
-- for the tests, so that the note's own text is what they parse.
--
--   local seed = require "seed"
--   local root = seed.tree(dir)   -- dir/proc with 1/{maps,smaps,status,statm} and meminfo; or a skip
--
-- Each "cat /proc/PATH" block of the note gives the file PATH: the lines after the command up to the
-- block's end, less the note's annotations (lines starting with "#" or "//", and a "  # ..." after a
-- value). Only the lines the note shows are there: it cut the rest of each file.

local T = require "testing"

local M = {}

-- The note's text, or a skip (acceptable anywhere) when ../shared/seed is absent.
local function note()
  local dir = T.source .. "/../shared/seed"
  local p = assert(io.popen("ls " .. T.q(dir) .. "/*.txt 2>/dev/null"))
  local path = p:read("l")
  p:close()
  if not path then T.skip("no ../shared/seed", "anywhere") end
  return T.read(path)
end

-- The files the note shows: {["1/maps"] = text, ["meminfo"] = text, ...}.
function M.files()
  local files = {}
  local current
  for line in (note() .. "\n"):gmatch("(.-)\n") do
    local path = line:match("^%[[^%]]*%]# cat /proc/(%S+)$")
    if path then
      current = path
      files[current] = ""
    elseif current and line:match("^```") then
      current = nil
    elseif current and not line:match("^#") and not line:match("^//") then
      files[current] = files[current] .. line:gsub("%s+# .*$", "") .. "\n"
    end
  end
  return files
end

-- Writes the files into dir/proc and returns that path.
function M.tree(dir)
  local root = dir .. "/proc"
  for path, text in pairs(M.files()) do
    local parent = (root .. "/" .. path):match("^(.*)/")
    T.sh("mkdir -p " .. T.q(parent))
    T.write(root .. "/" .. path, text)
  end
  return root
end

return M
