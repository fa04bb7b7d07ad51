-- "key value" files: proc.vmstat() and proc.ksm_stat(pid), every key as printed, in the kernel's order.

local T = require "testing"

local format = string.format

-- The keys and values of a "key value" text, in order (values as numbers where they are digits).
local function pairs_of(text)
  local keys, values = {}, {}
  for key, value in text:gmatch("([^ \n:]+):? ([^\n]*)") do
    keys[#keys + 1] = key
    values[key] = math.tointeger(tonumber(value)) or value
  end
  return keys, values
end

T.test("proc.vmstat of a captured file: every key in order, every value the integer printed", function()
  local path = T.fixtures .. "/shapes/proc/vmstat"
  local keys, values = pairs_of(T.read(path))
  local out = T.memscript(T.fixtures .. "/shapes/proc", "-e " .. T.q([[
local v = proc.vmstat()
local cjson = require "cjson"
local list = {}
for _, k in ipairs(proc.keys(v)) do list[#list + 1] = k .. "=" .. tostring(v[k]) .. "=" .. math.type(v[k]) end
print(table.concat(list, "\n"))]]))
  local expected = {}
  for _, k in ipairs(keys) do expected[#expected + 1] = format("%s=%d=integer", k, values[k]) end
  T.eq(out, table.concat(expected, "\n") .. "\n", "keys, values, types")
  T.ok(#keys > 150, "a whole vmstat: " .. #keys .. " keys")
end)

T.test("proc.vmstat live: the keys the kernel prints, a counter that only grows", function()
  local v = assert(proc.vmstat())
  local keys = pairs_of(proc.read("vmstat"))
  T.eq(proc.keys(v), keys, "the keys of /proc/vmstat in order")
  local again = assert(proc.vmstat())
  T.ok(again.pgfault >= v.pgfault, "pgfault grows")
  T.eq(math.type(v.nr_free_pages), "integer", "nr_free_pages an integer (pages)")
end)

T.test("proc.ksm_stat: the counters and the two yes/no lines printed with a colon", function()
  local out = T.memscript(T.fixtures .. "/shapes/proc", "-e " .. T.q([[
local k = assert(proc.ksm_stat("self"))
print(table.concat(proc.keys(k), ","))
print(k.ksm_rmap_items, k.ksm_process_profit, k.ksm_merge_any, k.ksm_mergeable)]]))
  T.eq(out, "ksm_rmap_items,ksm_zero_pages,ksm_merging_pages,ksm_process_profit,ksm_merge_any,ksm_mergeable\n" ..
            "0\t0\tno\tno\n", "keys and values")
  local live = proc.ksm_stat("self")
  if not live then T.skip("this kernel has no /proc/PID/ksm_stat (Linux 6.1+)") end
  T.eq(live.ksm_merge_any, "no", "memscript itself does not ask KSM to merge")
  local p <close> = assert(proc.open("self"))
  T.eq(p:ksm_stat().ksm_mergeable, live.ksm_mergeable, "through a process handle")
end)

T.test("negative values, values past 64 bits and text come through; a malformed line names file and line", function()
  local tmp, cleanup <close> = T.tempdir()
  T.write(tmp .. "/vmstat", "a 1\nb -307200\nc 99999999999999999999\nd -9223372036854775808\ne max\n")
  local out = T.memscript(tmp, "-e " .. T.q([[
local v = proc.vmstat()
print(v.a, v.b, math.type(v.c), v.c == 99999999999999999999, v.d == math.mininteger, v.e)]]))
  T.eq(out, "1\t-307200\tfloat\ttrue\ttrue\tmax\n", "values")
  T.write(tmp .. "/vmstat", "a 1\nb  2\n")
  T.eq(T.memscript(tmp, "-e 'print(proc.vmstat())'"),
       format("nil\t%s/vmstat:2: a second space in the line: one key and one value expected\t22\n", tmp),
       "a second space")
  T.write(tmp .. "/vmstat", "a 1\na 2\n")
  T.eq(T.memscript(tmp, "-e 'print(proc.vmstat())'"),
       format("nil\t%s/vmstat:2: duplicate key 'a'\t22\n", tmp), "a key twice")
end)

T.done()
