-- users.lua: user names by uid, from the passwd file, for the views that group processes by user.
--
--   local users = require "memscript.users"
--   local names = users.names()       --> { ["0"] = "root", ["65534"] = "nobody", ... }
--   names[string.match(status.Uid, "^%d+")] or uid   -- status's Uid: "real effective saved fs"
--
-- Keys are the uid as the passwd file prints it, a string. The
-- first line naming a uid wins, as getpwuid(3) does for files. An unreadable file gives an empty
-- table: uids are then shown as numbers, never an error.

local io, match = io, string.match

local M = {}

-- uid -> name from path (default /etc/passwd).
function M.names(path)
  local names = {}
  local f = io.open(path or "/etc/passwd", "r")
  if not f then return names end
  for line in f:lines() do
    local name, uid = match(line, "^([^:]*):[^:]*:(%d+):")
    if name and names[uid] == nil then names[uid] = name end
  end
  f:close()
  return names
end

return M
