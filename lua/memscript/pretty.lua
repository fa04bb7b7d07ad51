-- pretty.lua: readable text for any value: nested tables indented with sorted keys, mappings as an aligned table.
--
--   local pretty = require "memscript.pretty"
--   pretty.print(proc.smaps_rollup("self"))
--   pretty.print(proc.smaps("self"), { lines = 20 })   -- at most 20 lines, then how many were left
--   local text = pretty.format({ a = { b = 1 } }, { depth = 1 })
--
-- Options: depth (nesting shown before "{...}", default 6), width (a table that fits in it goes on one
-- line, default 80), lines (at most this many lines, the last one saying how many were left; default
-- all), hint (text added to that last line), human (sizes of mapping tables in human units, default
-- true). A table on the path being printed prints as <cycle>; a table with __tostring (a VmFlags
-- set) prints as its text; vm_start and vm_end print in hex.
--
-- Strings can hold what a process chose (a path, a comm), so every text shown is escaped by
-- memscript.text: a string inside a table prints as a Lua literal of its bytes ("\x1b[2K\r"); a
-- string at the top prints as its lines, as print would, tabs kept and everything else escaped.

local output = require "memscript.output"
local escape = require("memscript.text").escape

local type, tostring, pairs, ipairs, next, select, getmetatable, rawget, rawlen, pcall, error =
      type, tostring, pairs, ipairs, next, select, getmetatable, rawget, rawlen, pcall, error
local format, concat, sort, gsub, mtype = string.format, table.concat, table.sort, string.gsub, math.type
local write = io.write

local M = {}

local defaults = { depth = 6, width = 80 }

local keywords = {}
for word in ([[and break do else elseif end false for function goto if in local nil not or repeat
  return then true until while]]):gmatch("%a+") do
  keywords[word] = true
end

-- Fields that hold addresses: shown in hex, the way /proc prints them (and still valid Lua).
local address_fields = { vm_start = true, vm_end = true }

-- A Lua string literal of s that a terminal shows as it is (memscript.text's escapes are Lua's).
local function quote(s)
  return '"' .. gsub(escape(s), '"', '\\"') .. '"'
end

local function key_text(k)
  if type(k) == "string" then
    if k:match("^[%a_][%w_]*$") and not keywords[k] then return k end
    return "[" .. quote(k) .. "]"
  end
  if mtype(k) == "integer" then return format("[%d]", k) end
  return "[" .. escape(tostring(k)) .. "]"
end

-- The text of a value that is not shown as a table, or nil when it is a table to open.
local function scalar_text(v, key)
  local t = type(v)
  if t == "string" then return quote(v) end
  if mtype(v) == "integer" then
    if address_fields[key] then return format("0x%x", v) end
    return format("%d", v)
  end
  if t ~= "table" then return escape(tostring(v)) end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__tostring") then
    local ok, text = pcall(tostring, v)
    if ok and type(text) == "string" then return escape(text) end
  end
  return nil
end

-- Keys in order: integers, other numbers, strings, then everything else; each group sorted.
local rank = { number = 1, string = 2, boolean = 3 }
local function key_less(a, b)
  local ra, rb = rank[type(a)] or 4, rank[type(b)] or 4
  if ra ~= rb then return ra < rb end
  if ra <= 2 then return a < b end
  return tostring(a) < tostring(b)
end

local function is_mapping(v)
  return type(v) == "table" and mtype(rawget(v, "vm_start")) == "integer"
    and type(rawget(v, "perms")) == "string" and rawget(v, "path") ~= nil
end

-- The value of t[k] as shown: the raw one (no metamethod of a script's runs), but for the size of an
-- smaps mapping, which its layout gives (memscript's own __index: the table holds Size instead).
local function size_of(t) return t.size end
local function shown(t, k)
  local v = rawget(t, k)
  if v == nil and k == "size" and is_mapping(t) then
    local ok, size = pcall(size_of, t)
    if ok and mtype(size) == "integer" then v = size end
  end
  return v
end

-- The keys of t beyond its array part 1..n, sorted; an smaps mapping's size among them.
local function hash_keys(t, n)
  local keys, has_size = {}, false
  for k in next, t do
    if not (mtype(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
    has_size = has_size or k == "size"
  end
  if not has_size and shown(t, "size") ~= nil then keys[#keys + 1] = "size" end
  sort(keys, key_less)
  return keys
end

-- An array whose items are all mappings, and nothing else.
local function is_mapping_array(t)
  local n = rawlen(t)
  if n == 0 then return false end
  for i = 1, n do
    if not is_mapping(rawget(t, i)) then return false end
  end
  local count = 0
  for _ in next, t do count = count + 1 end
  return count == n
end

-- The aligned table of a mapping array, as lines: sizes present in the first mapping get a column.
local function mapping_lines(t, opts)
  local columns = { { "Address", "vm_start", kind = "addr" }, { "Size", "size", kind = "bytes" } }
  local first = rawget(t, 1)
  for _, field in ipairs({ "Rss", "Pss", "Swap" }) do
    if rawget(first, field) ~= nil then columns[#columns + 1] = { field, field, kind = "bytes" } end
  end
  columns[#columns + 1] = { "Perms", "perms", align = "left" }
  columns[#columns + 1] = { "Path", "path", align = "left" }
  local human = opts.human
  if human == nil then human = true end
  local text = output.render(t, columns, { format = "table", human = human })
  local lines = { format("%d mapping%s", rawlen(t), rawlen(t) == 1 and "" or "s") }
  for line in text:gmatch("([^\n]*)\n") do lines[#lines + 1] = (line:gsub("%s+$", "")) end
  return lines
end

local emit

-- The one-line form of a table, or nil when it does not fit in budget or is nested deeper than allowed.
local function inline(t, budget, opts, depth, visiting)
  if depth >= opts.depth then return nil end
  local n = rawlen(t)
  local parts, used = {}, 2 -- "{ " and " }", less the ", " the first part does not have
  local function add(text)
    if text == nil then return false end
    used = used + #text + 2
    if used > budget then return false end
    parts[#parts + 1] = text
    return true
  end
  local function piece(v, k)
    local text = scalar_text(v, k)
    if text then return text end
    if visiting[v] then return "<cycle>" end
    if next(v) == nil then return "{}" end
    if depth + 1 >= opts.depth then return "{...}" end
    visiting[v] = true
    text = inline(v, budget - used - 2, opts, depth + 1, visiting)
    visiting[v] = nil
    return text
  end
  for i = 1, n do
    if not add(piece(rawget(t, i))) then return nil end
  end
  for _, k in ipairs(hash_keys(t, n)) do
    local text = piece(shown(t, k), k)
    if not add(text and (key_text(k) .. " = " .. text)) then return nil end
  end
  if #parts == 0 then return "{}" end
  return "{ " .. concat(parts, ", ") .. " }"
end

-- Appends the lines of value v to out, the first one starting with prefix ("key = "), all indented.
function emit(out, v, prefix, indent, trailing, opts, depth, visiting, key)
  local text = scalar_text(v, key)
  if text then
    out[#out + 1] = indent .. prefix .. text .. trailing
    return
  end
  if visiting[v] then
    out[#out + 1] = indent .. prefix .. "<cycle>" .. trailing
    return
  end
  if next(v) == nil then
    out[#out + 1] = indent .. prefix .. "{}" .. trailing
    return
  end
  if is_mapping_array(v) then
    local lines = mapping_lines(v, opts)
    if prefix == "" and indent == "" then
      for _, line in ipairs(lines) do out[#out + 1] = line end
    else
      out[#out + 1] = indent .. prefix .. "{ -- " .. lines[1]
      for i = 2, #lines do out[#out + 1] = indent .. "  " .. lines[i] end
      out[#out + 1] = indent .. "}" .. trailing
    end
    return
  end
  if depth >= opts.depth then
    out[#out + 1] = indent .. prefix .. "{...}" .. trailing
    return
  end
  visiting[v] = true
  local one = inline(v, opts.width - #indent - #prefix - #trailing, opts, depth, visiting)
  if one then
    out[#out + 1] = indent .. prefix .. one .. trailing
    visiting[v] = nil
    return
  end
  out[#out + 1] = indent .. prefix .. "{"
  local inner = indent .. "  "
  local n = rawlen(v)
  for i = 1, n do
    emit(out, rawget(v, i), "", inner, ",", opts, depth + 1, visiting)
  end
  for _, k in ipairs(hash_keys(v, n)) do
    emit(out, shown(v, k), key_text(k) .. " = ", inner, ",", opts, depth + 1, visiting, k)
  end
  out[#out + 1] = indent .. "}" .. trailing
  visiting[v] = nil
end

local function options(opts)
  local o = {}
  for k, v in pairs(defaults) do o[k] = v end
  if opts ~= nil then
    if type(opts) ~= "table" then
      error(format("options must be a table, got %s", type(opts)), 3)
    end
    for k, v in pairs(opts) do o[k] = v end
  end
  return o
end

-- The lines of one value. A string at the top prints as its lines, as print would, escaped but for tabs.
local function value_lines(v, opts)
  local out = {}
  if type(v) == "string" then
    for line in (v .. "\n"):gmatch("([^\n]*)\n") do out[#out + 1] = escape(line, "\t") end
    return out
  end
  emit(out, v, "", "", "", opts, 0, {})
  return out
end

-- Cuts lines to opts.lines, the last line saying how many were left.
local function cut(lines, opts)
  local limit = opts.lines
  if not limit or #lines <= limit then return lines end
  local keep = limit > 1 and limit - 1 or 1
  local left = #lines - keep
  local kept = {}
  for i = 1, keep do kept[i] = lines[i] end
  kept[keep + 1] = format("... %d more line%s%s", left, left == 1 and "" or "s",
    opts.hint and (" (" .. opts.hint .. ")") or "")
  return kept
end

-- The text of value (no trailing newline), as described at the top of this file.
function M.format(value, opts)
  local o = options(opts)
  return concat(cut(value_lines(value, o), o), "\n")
end

-- Prints value and a newline.
function M.print(value, opts)
  write(M.format(value, options(opts)), "\n")
end

-- Prints the results of an interactive line: values that each fit on one line are separated by
-- tabs, as print does; otherwise each starts on its own line. opts as for format.
function M.show(opts, ...)
  local o = options(opts)
  local n = select("#", ...)
  local all, single = {}, true
  local parts = {}
  for i = 1, n do
    local lines = value_lines((select(i, ...)), o)
    parts[i] = lines
    if #lines > 1 then single = false end
  end
  if single then
    local texts = {}
    for i = 1, n do texts[i] = parts[i][1] end
    all[1] = concat(texts, "\t")
  else
    for i = 1, n do
      for _, line in ipairs(parts[i]) do all[#all + 1] = line end
    end
  end
  write(concat(cut(all, o), "\n"), "\n")
end

return M
