-- collection.lua: chainable methods on the arrays proc.maps and proc.smaps return.
--   proc.smaps(pid):filter("anon and Rss > 1M"):sort("Rss", "desc"):head(10)

local type, error, setmetatable, getmetatable, pairs, ipairs, tostring =
      type, error, setmetatable, getmetatable, pairs, ipairs, tostring
local sort, format, ult = table.sort, string.format, math.ult

local M = {}

local methods = {}
M.methods = methods
M.meta = { __index = methods, __name = "mappings" }

-- Wraps a plain array (of mappings or of any rows) as a collection.
function M.new(items)
  return setmetatable(items or {}, M.meta)
end
local new = M.new

local function predicate(test, level)
  if type(test) == "function" then return test end
  if type(test) == "string" then return require("memscript.where").compile(test) end
  if type(test) == "table" and getmetatable(test) and getmetatable(test).__call then return test end
  error(format("filter expects a function or a where-expression string, got %s", type(test)), level + 1)
end

-- The items for which test(item) is true; test is a function or a where-expression string.
function methods:filter(test)
  local keep = predicate(test, 2)
  local out, n = {}, 0
  for i = 1, #self do
    local item = self[i]
    if keep(item) then n = n + 1; out[n] = item end
  end
  return new(out)
end

-- fn(item) for every item, collected.
function methods:map(fn)
  local out = {}
  for i = 1, #self do out[i] = fn(self[i]) end
  return new(out)
end

function methods:each(fn)
  for i = 1, #self do fn(self[i], i) end
  return self
end

local function key_function(key, level)
  if type(key) == "function" then return key end
  if type(key) == "string" then return function(item) return item[key] end end
  error(format("expected a field name or a function, got %s", type(key)), level + 1)
end

-- Orders two keys: numbers numerically, other values as strings; nil after everything.
local function less(a, b)
  if a == nil then return false end
  if b == nil then return true end
  local ta, tb = type(a), type(b)
  if ta == "number" and tb == "number" then return a < b end
  return tostring(a) < tostring(b)
end

-- A sorted copy, by a field name or a function of the item; order is "asc" (default) or "desc".
-- Ties keep their original (address) order, so the result is the same on every run.
function methods:sort(key, order)
  local get = key_function(key, 2)
  if order ~= nil and order ~= "asc" and order ~= "desc" then
    error(format("sort order must be \"asc\" or \"desc\", got %s", tostring(order)), 2)
  end
  local desc = order == "desc"
  local order_of, keys = {}, {}
  for i = 1, #self do order_of[i] = i; keys[i] = get(self[i]) end
  sort(order_of, function(i, j)
    local ki, kj = keys[i], keys[j]
    if ki == nil or kj == nil then
      if ki ~= nil then return true end   -- items without the key go last, either order
      if kj ~= nil then return false end
    elseif less(ki, kj) then
      return not desc
    elseif less(kj, ki) then
      return desc
    end
    return i < j
  end)
  local out = {}
  for k = 1, #order_of do out[k] = self[order_of[k]] end
  return new(out)
end

-- The first n items.
function methods:head(n)
  n = n or 10
  local out = {}
  for i = 1, math.min(n, #self) do out[i] = self[i] end
  return new(out)
end

-- The n items with the largest field (default 10): sort(field, "desc"):head(n).
function methods:top(n, field)
  return self:sort(field or "Rss", "desc"):head(n)
end

function methods:count()
  return #self
end

-- The sum of a field over the items that have it; nil when none has it (not 0: nothing was read).
function methods:sum(field)
  local get = key_function(field, 2)
  local total
  for i = 1, #self do
    local v = get(self[i])
    if type(v) == "number" then total = (total or 0) + v end
  end
  return total
end

-- Groups by a field name or a function: a table from each key to the collection of its items.
function methods:group(key)
  local get = key_function(key, 2)
  local groups = {}
  for i = 1, #self do
    local k = get(self[i])
    if k == nil then k = "" end
    local g = groups[k]
    if not g then g = new({}); groups[k] = g end
    g[#g + 1] = self[i]
  end
  return groups
end

-- One row per group: { key = k, count = n, [field] = sum, ... , items = collection }, a collection
-- itself, ready to sort and print: smaps:summarize("path", {"Rss", "Pss"}):sort("Pss", "desc").
function methods:summarize(key, fields)
  local rows = {}
  for k, items in pairs(self:group(key)) do
    local row = { key = k, count = #items, items = items }
    for _, f in ipairs(fields or {}) do row[f] = items:sum(f) end
    rows[#rows + 1] = row
  end
  sort(rows, function(a, b) return less(a.key, b.key) end)
  return new(rows)
end

-- The mapping that contains address addr, or nil.
function methods:find_address(addr)
  for i = 1, #self do
    local m = self[i]
    if m.vm_start and not ult(addr, m.vm_start) and ult(addr, m.vm_end) then return m end
  end
  return nil
end

return M
