-- units.lua: sizes in binary units (1K = 1024): parsing "4k", "1.5G", "512 kB" and human formatting.

local size = require "memscript.size"

local type, floor, format, tostring = type, math.floor, string.format, tostring

local M = {}

-- Bytes from a size: the one size grammar of memscript (src/core/size_parse.h, docs/api.md), which
-- the where language and --max-memory read too: "4096", "4k", "10M", "1.5GiB", "512 kB", "2 g".
-- A fraction of a byte is rounded down; 2^63 bytes (8E) or more is refused. A number is taken as
-- bytes, rounded down, when it is not negative and below 2^63. Returns nil, message otherwise.
function M.parse(value)
  if type(value) == "number" then
    if value >= 0 and value < 2 ^ 63 then return floor(value) end
    return nil, format("invalid size %s (a number of bytes from 0 to 2^63 - 1)", tostring(value))
  end
  if type(value) ~= "string" then return nil, "size expected, got " .. type(value) end
  local bytes, why = size.parse(value)
  if bytes then return bytes end
  if why == "too large" then
    return nil, format("size '%s' is too large (2^63 bytes, 8E, or more)", value)
  end
  return nil, format("invalid size '%s' (expected a number with an optional unit: 4k, 10M, 1.5G, 512 kB)",
    value)
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

-- A count or a size as digits: an integer as it is, one past 2^63 (a float, as the bindings give it)
-- in full, never in exponent form.
function M.digits(n)
  if math.type(n) == "integer" then return format("%d", n) end
  return format("%.0f", n)
end

-- "1 process", "2 processes": n as digits and the word for it (words: the plural, default word .. "s").
function M.plural(n, word, words)
  return format("%s %s", M.digits(n), n == 1 and word or (words or word .. "s"))
end

-- Whole kB as pmap and the kernel print them.
function M.kb(bytes)
  if bytes == nil then return nil end
  return bytes // 1024
end

return M
