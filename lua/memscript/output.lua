-- output.lua: one rendering layer for rows and columns: aligned text, JSON (lua-cjson) or CSV.
--
--   output.print(rows, {
--     { "Address", "vm_start", kind = "addr" },
--     { "Rss", "Rss", kind = "bytes" },
--     { "Mapping", function(m) return m.path end, align = "left" },
--   })
--
-- A column is { title, field-name-or-function, kind = "bytes"|"addr"|"number"|"text"|"flags",
-- align = "left"|"right", json = "name in JSON/CSV" }. The format comes from memscript's
-- -f/--format option (table, json, csv) unless opts.format says otherwise. In a table on a
-- terminal, bytes print in human units (1.5M); otherwise numbers print exactly.
--
-- Text that came from a process (a path, a command line) can hold any byte. A table is text for
-- people, on a terminal or in a file: every cell goes through memscript.text.escape, wherever it is
-- written. JSON is exact and terminal-safe at once (lua-cjson's escapes, and text.json_safe). CSV is
-- data for another program: exact (invalid UTF-8 as U+FFFD) into a file or a pipe, escaped as a
-- table is when written to a terminal (opts.terminal overrides the test of standard output).

local proc = require "memscript"
local sys = require "memscript.sys"
local units = require "memscript.units"
local text_module = require "memscript.text"

local type, tostring, tonumber, ipairs, pairs, next, error = type, tostring, tonumber, ipairs, pairs, next, error
local format, rep, concat, gsub, find = string.format, string.rep, table.concat, string.gsub, string.find
local mtype, write, huge = math.type, io.write, math.huge
local escape, json_safe = text_module.escape, text_module.json_safe

local M = {}

M.formats = { table = true, json = true, csv = true }

-- The format chosen on the command line, or "table".
function M.format()
  return sys.options.format or "table"
end

-- For a script that prints rows (table, JSON or CSV only): with any other format chosen (-f prom)
-- it writes "memscript: NAME prints a table, JSON or CSV, not 'prom'" and then usage (when given)
-- on stderr and exits with status 3; otherwise it returns the format. Called before any work.
-- folded = true: the script also writes folded stacks (-f folded, memscript.folded).
function M.check_format(name, usage, folded)
  local fmt = M.format()
  if M.formats[fmt] or (folded and fmt == "folded") then return fmt end
  io.stderr:write(format("memscript: %s prints a table, JSON%s, not '%s'\n", tostring(name),
    folded and ", CSV or folded stacks" or " or CSV", fmt), usage or "")
  io.stderr:flush()
  os.exit(3)
end

local function cell_value(row, col)
  local get = col[2]
  if type(get) == "function" then return get(row) end
  return row[get]
end

local function flags_list(set)
  local codes = {}
  for code in tostring(set):gmatch("%S+") do codes[#codes + 1] = code end
  return codes
end

-- s with each byte that does not belong to a valid UTF-8 sequence replaced by U+FFFD (memscript.text).
M.valid_utf8 = text_module.valid_utf8
local valid_utf8 = M.valid_utf8

-- The shortest "%.Ng" text of a float that reads back as the same float (N = 15, 16 or 17).
function M.float_text(x)
  for digits = 15, 17 do
    local text = format("%." .. digits .. "g", x)
    if tonumber(text) == x then return text end
  end
  return format("%.17g", x)
end

-- Which kernel printed the figures, and the page size statm's pages were converted with: the
-- capture's own when reading one (--proc-root), not this machine's.
function M.origin()
  local meta = proc.meta()
  local where = meta.captured and ("captured on " .. tostring(meta.hostname or "an unnamed host")) or
    (proc.root() == "/proc" and "this machine" or ("read from " .. proc.root()))
  return format("Linux %s, %d-byte pages (%s)", tostring(meta.kernel_release or "of unknown release"),
    meta.page_size or proc.page_size(), where)
end

-- The text of one cell. human: sizes in binary units; otherwise exact.
local function cell_text(value, col, human)
  if value == nil then return "-" end
  local kind = col.kind
  if kind == "addr" and mtype(value) == "integer" then return format("%016x", value) end
  if kind == "bytes" and type(value) == "number" then
    if human then return units.format(value) end
    if mtype(value) == "integer" then return format("%d", value) end
    return format("%.17g", value)
  end
  if kind == "flags" then return concat(flags_list(value), " ") end
  if mtype(value) == "float" and value == math.floor(value) and value < 2^63 and value >= -2^63 then
    return format("%.17g", value)
  end
  return tostring(value)
end

local function right_aligned(col)
  if col.align then return col.align == "right" end
  return col.kind == "bytes" or col.kind == "number"
end

-- Aligned text: a header line, then one line per row, columns separated by two spaces; every cell
-- and title escaped (memscript.text), so no byte of it moves the cursor or breaks a line or a column.
local function render_table(rows, columns, opts)
  local human = opts.human
  if human == nil then human = sys.isatty(1) end
  local widths, cells, titles = {}, {}, {}
  for c, col in ipairs(columns) do
    titles[c] = escape(tostring(col[1]))
    widths[c] = #titles[c]
  end
  for r, row in ipairs(rows) do
    local line = {}
    for c, col in ipairs(columns) do
      local value = cell_value(row, col)
      local text = cell_text(value, col, human)
      -- a number's text is made here and needs no escaping
      if type(value) ~= "number" then text = escape(text) end
      line[c] = text
      if #text > widths[c] then widths[c] = #text end
    end
    cells[r] = line
  end
  local out = {}
  local function emit(texts)
    local parts = {}
    for c, col in ipairs(columns) do
      local text, pad = texts[c], widths[c] - #texts[c]
      if c == #columns and not right_aligned(col) then
        parts[c] = text
      elseif right_aligned(col) then
        parts[c] = rep(" ", pad) .. text
      else
        parts[c] = text .. rep(" ", pad)
      end
    end
    out[#out + 1] = concat(parts, "  ")
  end
  if not opts.no_header then emit(titles) end
  for _, line in ipairs(cells) do emit(line) end
  return concat(out, "\n") .. (#out > 0 and "\n" or "")
end

local function json_name(col)
  if col.json then return col.json end
  if type(col[2]) == "string" then return col[2] end
  return col[1]
end

-- lua-cjson 2.1 prints numbers with at most 14 significant digits; integers with more are put in
-- as marked strings and the marks removed after encoding, so every integer comes out exact.
local big = 10 ^ 14

local function new_marks()
  return { prefix = format("@memscript-number-%d:", math.random(1, 1 << 30)) }
end

-- Removes the marks, and the escaping of '/' that lua-cjson adds ("\/"): a '/' in its output is
-- always its own escape, so the plain slash decodes to the same string. The C1, bidirectional and
-- separator characters lua-cjson leaves raw are written as \uHHHH (text.json_safe).
local function unmark(text, marks)
  text = json_safe(gsub(text, "\\/", "/"))
  if not marks.used then return text end
  local pattern = '"' .. gsub(marks.prefix, "%p", "%%%0") .. '([-%d.e+]+)@"'
  return (gsub(text, pattern, "%1"))
end

-- v made ready for lua-cjson: strings (values and keys) valid UTF-8, infinities and NaN null (JSON
-- has neither), integers and floats from 10^14 up marked (see above), VmFlags sets arrays of codes.
local function json_ready(v, marks)
  local t = type(v)
  if t == "string" then return valid_utf8(v) end
  if t == "number" then
    if v ~= v or v == huge or v == -huge then return require("cjson").null end
    if v >= big or v <= -big then
      marks.used = true
      return marks.prefix .. (mtype(v) == "integer" and format("%d", v) or format("%.17g", v)) .. "@"
    end
    return v
  end
  if t == "table" then
    local mt = getmetatable(v)
    if mt and mt.__name == "VmFlags" then return flags_list(v) end
    local out = {}
    for k, x in pairs(v) do
      if type(k) == "string" then k = valid_utf8(k) end
      out[k] = json_ready(x, marks)
    end
    return out
  end
  return v
end

local function json_value(value, col, marks)
  if value == nil then return require("cjson").null end
  if col.kind == "addr" and mtype(value) == "integer" then return format("%016x", value) end
  if col.kind == "flags" then
    return flags_list(value)
  end
  return json_ready(value, marks)
end

-- Encodes any Lua value as JSON: integers exact, strings valid UTF-8 (see json_ready).
function M.json_encode(value)
  local cjson = require "cjson"
  local marks = new_marks()
  return unmark(cjson.encode(json_ready(value, marks)), marks)
end

-- An array of objects keyed by the columns' field names, keys in column order (lua-cjson would
-- order them by its hash, which changes from run to run); values are encoded by lua-cjson.
local function render_json(rows, columns)
  local cjson = require "cjson"
  local marks = new_marks()
  local names = {}
  for c, col in ipairs(columns) do names[c] = cjson.encode(valid_utf8(json_name(col))) end
  local objects = {}
  for r, row in ipairs(rows) do
    local members = {}
    for c, col in ipairs(columns) do
      local value = json_value(cell_value(row, col), col, marks)
      -- a flags list with no flag is an empty array, which lua-cjson would write as {}; a table
      -- with keys (a cgroup's memory.stat) is an object
      local text = type(value) == "table" and next(value) == nil and "[]" or cjson.encode(value)
      members[c] = names[c] .. ":" .. text
    end
    objects[r] = "{" .. concat(members, ",") .. "}"
  end
  return unmark("[" .. concat(objects, ",") .. "]", marks) .. "\n"
end

-- RFC 4180: a field with a comma, a double quote or a line break is quoted, quotes doubled;
-- records end with CRLF. Invalid UTF-8 becomes U+FFFD, as in JSON; on a terminal the text is
-- escaped as a table's is (memscript.text). made_here: the text of a number, which needs neither.
local function csv_field(text, terminal, made_here)
  if made_here then return text end
  if terminal then text = escape(text) else text = valid_utf8(text) end
  if find(text, '[,"\r\n]') then
    return '"' .. gsub(text, '"', '""') .. '"'
  end
  return text
end

local function render_csv(rows, columns, opts)
  local terminal = opts.terminal
  if terminal == nil then terminal = sys.isatty(1) end
  local out = {}
  local titles = {}
  for c, col in ipairs(columns) do titles[c] = csv_field(tostring(json_name(col)), terminal) end
  out[1] = concat(titles, ",")
  for _, row in ipairs(rows) do
    local fields = {}
    for c, col in ipairs(columns) do
      local value = cell_value(row, col)
      fields[c] = value == nil and "" or
        csv_field(cell_text(value, col, false), terminal, type(value) == "number")
    end
    out[#out + 1] = concat(fields, ",")
  end
  return concat(out, "\r\n") .. "\r\n"
end

-- The rows rendered as text in the chosen format.
function M.render(rows, columns, opts)
  opts = opts or {}
  local fmt = opts.format or M.format()
  if fmt == "table" then return render_table(rows, columns, opts) end
  if fmt == "json" then return render_json(rows, columns) end
  if fmt == "csv" then return render_csv(rows, columns, opts) end
  error(format("unknown output format '%s' (table, json or csv)", tostring(fmt)), 2)
end

function M.print(rows, columns, opts)
  write(M.render(rows, columns, opts))
end

return M
