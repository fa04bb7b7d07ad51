-- pagemap.lua: times proc.pagemap counting present pages, in this process, by each method.
--
-- usage: memscript tests/bench/pagemap.lua ROUNDS PID [START END]
-- Prints, for "read" and "scan" (when the kernel has PAGEMAP_SCAN), the median over ROUNDS of one
-- proc.pagemap(PID, nil or {START, END}, {fields = {"present"}, method = M}) in milliseconds, the present
-- bytes it counted, and which method "auto" chooses for that call and for one asking every field.

local sys = require "memscript.sys"

local rounds, pid = tonumber(arg[1]), tonumber(arg[2])
local range = arg[3] and { tonumber(arg[3], 16), tonumber(arg[4], 16) } or nil

local function median(v)
  table.sort(v)
  local n = #v
  return n % 2 == 1 and v[(n + 1) // 2] or (v[n // 2] + v[n // 2 + 1]) / 2
end

local function present(result)
  if range then return result.present end
  local sum = 0
  for _, m in ipairs(result) do sum = sum + (m.present or 0) end
  return sum
end

for _, method in ipairs { "read", "scan" } do
  local times, bytes = {}, nil
  for i = 1, rounds do
    local t0 = sys.monotonic()
    local result, msg = proc.pagemap(pid, range, { fields = { "present" }, method = method })
    times[i] = sys.monotonic() - t0
    if not result then
      io.write(string.format("%s  unavailable: %s\n", method, msg))
      times = nil
      break
    end
    bytes = present(result)
  end
  if times then io.write(string.format("%s_ms %.3f  present %d\n", method, median(times) * 1000, bytes)) end
end
local _, auto_present = proc.pagemap(pid, range, { fields = { "present" } })
local _, auto_all = proc.pagemap(pid, range)
io.write(string.format("auto: %s for present alone, %s for every field\n", auto_present, auto_all))
