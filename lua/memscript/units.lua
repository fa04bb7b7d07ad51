-- units.lua: sizes in binary units (1K = 1024): parsing "4k", "1.5G", "512 kB" and human formatting.

local tonumber, type, floor, format = tonumber, type, math.floor, string.format
local lower, match = string.lower, string.match

local M = {}

local multiplier = {
  [""] = 1, b = 1,
  k = 1024, kb = 1024, kib = 1024,
  m = 1024 ^ 2, mb = 1024 ^ 2, mib = 1024 ^ 2,
  g = 1024 ^ 3, gb = 1024 ^ 3, gib = 1024 ^ 3,
  t = 1024 ^ 4, tb = 1024 ^ 4, tib = 1024 ^ 4,
  p = 1024 ^ 5, pb = 1024 ^ 5, pib = 1024 ^ 5,
}

-- Bytes from a size literal: 4096, "4096", "4k", "10M", "1.5G", "512 kB". Returns nil, message for
-- anything else. A fraction of a byte is rounded down.
function M.parse(size)
  if type(size) == "number" then return floor(size) end
  if type(size) ~= "string" then return nil, "size expected, got " .. type(size) end
  local number, unit = match(size, "^%s*(%d+%.?%d*)%s*(%a*)%s*$")
  local mult = number and multiplier[lower(unit)]
  if not mult then
    return nil, format("invalid size '%s' (expected a number with an optional unit: 4k, 10M, 1.5G, 512 kB)", size)
  end
  local bytes = tonumber(number) * mult
  return math.tointeger(floor(bytes)) or bytes
end

local suffixes = { "K", "M", "G", "T", "P", "E" }

-- "1.5G", "512K", "4.0K", "100B": one decimal below ten units, none above. A fraction of a byte is
-- rounded to the nearest byte (half away from zero), so 1023.4 is "1023B" and 1023.5 "1.0K".
function M.format(bytes)
  if bytes == nil then return "-" end
  if bytes < 1024 and bytes > -1024 then
    local whole = bytes >= 0 and floor(bytes + 0.5) or -floor(0.5 - bytes)
    if whole < 1024 and whole > -1024 then return format("%dB", whole) end
  end
  -- the unit is chosen after rounding, so 1048575 bytes is "1.0M", not "1024K"
  local value, i = bytes / 1024, 1
  while (value >= 1023.5 or value <= -1023.5) and i < #suffixes do
    value, i = value / 1024, i + 1
  end
  -- one decimal while it still rounds below ten: 10481664 bytes is "10M", not "10.0M"
  if value < 9.95 and value > -9.95 then
    return format("%.1f%s", value, suffixes[i])
  end
  return format("%.0f%s", value, suffixes[i])
end

-- Whole kB as pmap and the kernel print them.
function M.kb(bytes)
  if bytes == nil then return nil end
  return bytes // 1024
end

return M
