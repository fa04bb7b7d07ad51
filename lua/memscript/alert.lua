-- alert.lua: alerts of an unattended check: they raise the run's exit status and are printed at the
-- end of each run in the Monitoring Plugins format (a status line with perfdata, then one line each).
--
--   local alert = require "memscript.alert"
--   alert.critical("writable+executable mapping in pid 1234", { pid = 1234, perms = "rwxp" })
--   alert.perfdata("processes", 240)
--   alert.ok("240 processes checked")   -- the line printed when no alert was raised
--
-- Output (stdout; stderr with -f prom, whose stdout is a metrics file):
--   MEMSCRIPT CRITICAL - 1 writable+executable mapping in pid 1234 | 'processes'=240
--   CRITICAL: writable+executable mapping in pid 1234 (perms=rwxp pid=1234)
-- With -f json, one line holding one JSON object: status, code, summary, alerts, perfdata.
-- With -f csv, RFC 4180 rows status,message,fields: one per alert, or the OK line (no perfdata).
-- Printed after each run of the script (each watch iteration) and, for a run ended by os.exit, by the
-- finish hook; then forgotten. The exit status is memscript.run's, which every alert raises.

local run = require "memscript.run"
local output = require "memscript.output"
local units = require "memscript.units"
local sys = require "memscript.sys"
local escape = require("memscript.text").escape

local type, tostring, tonumber, ipairs, pairs, error, setmetatable, getmetatable =
  type, tostring, tonumber, ipairs, pairs, error, setmetatable, getmetatable
local format, concat, sort, find, gsub, rep, match = string.format, table.concat, table.sort, string.find,
  string.gsub, string.rep, string.match
local mtype, huge = math.type, math.huge
local io = io

local M = {}

-- Detail lines printed in the text format; the rest are counted in one closing line.
M.max_details = 100

-- Groups of alerts named in the status line before "and N more".
local SUMMARY_GROUPS = 3

local WORDS = { [0] = "OK", "WARNING", "CRITICAL", "UNKNOWN" }

-- Units of measurement the Monitoring Plugins guidelines define for perfdata.
local UOMS = { [""] = true, s = true, ms = true, us = true, ["%"] = true, B = true, KB = true,
  MB = true, TB = true, c = true }

local alerts = {}          -- this run's alerts in the order raised: {status, message, fields}
local perf_labels = {}     -- perfdata labels in first-set order
local perf_values = {}     -- label -> perf value
local ok_message

---------------------------------------------------------------------------------------------------
-- Numbers as the guidelines want them: class [-0-9.], no exponent.

-- x as a plain decimal numeral: an exponent from %g is written out as digits.
local function plain_number(x)
  if mtype(x) == "integer" then return format("%d", x) end
  if x ~= x or x == huge or x == -huge then return nil end
  local text = output.float_text(x)
  local sign, int, frac, exp = text:match("^(-?)(%d+)%.?(%d*)e([-+]%d+)$")
  if not sign then return text end
  local digits, point = int .. frac, #int + tonumber(exp)
  if point <= 0 then
    text = "0." .. rep("0", -point) .. digits
  elseif point >= #digits then
    text = digits .. rep("0", point - #digits)
  else
    text = digits:sub(1, point) .. "." .. digits:sub(point + 1)
  end
  return sign .. text
end

---------------------------------------------------------------------------------------------------
-- Perfdata values.

local perf_meta = { __name = "memscript.alert.perf" }

local function is_perf(v)
  return getmetatable(v) == perf_meta
end

-- A threshold: a number (alert above it), or a range string in the guidelines' format ("10:", "@5:9").
local function check_threshold(t, what, level)
  if t == nil then return nil end
  if type(t) == "number" then
    if not plain_number(t) then error(format("%s must be finite", what), level + 1) end
    return t
  end
  if type(t) == "string" and find(t, "^@?~?[-0-9.]*:?[-0-9.]*$") and t ~= "" then return t end
  error(format("%s must be a number or a range such as \"10:20\" (got %s)", what, tostring(t)), level + 1)
end

local function make_perf(value, uom, limits, level)
  if type(value) ~= "number" then
    error(format("perfdata value must be a number (got %s)", type(value)), level + 1)
  end
  uom = uom or ""
  if not UOMS[uom] then
    error(format("unknown unit '%s' (one of: s ms us %% B KB MB TB c, or none)", tostring(uom)), level + 1)
  end
  limits = limits or {}
  if type(limits) ~= "table" then error("perfdata limits must be a table", level + 1) end
  local p = { value = value, uom = uom }
  p.warn = check_threshold(limits.warn, "warn", level + 1)
  p.crit = check_threshold(limits.crit, "crit", level + 1)
  for _, key in ipairs({ "min", "max" }) do
    local v = limits[key]
    if v ~= nil and (type(v) ~= "number" or not plain_number(v)) then
      error(format("%s must be a finite number", key), level + 1)
    end
    p[key] = v
  end
  return setmetatable(p, perf_meta)
end

local function check_label(label, level)
  if type(label) ~= "string" or label == "" then
    error(format("perfdata label must be a non-empty string (got %s)", type(label)), level + 1)
  end
  if find(label, "[='\n\r|]") then
    error(format("perfdata label '%s' holds one of = ' | or a line break", label), level + 1)
  end
end

local function set_perf(label, p)
  if perf_values[label] == nil then perf_labels[#perf_labels + 1] = label end
  perf_values[label] = p
end

-- 'label'=value[UOM];[warn];[crit];[min];[max], trailing empty fields dropped; "U" for NaN or infinity.
local function perf_text(label, p)
  local value = plain_number(p.value)
  local parts = { value and (value .. p.uom) or "U" }
  for i, key in ipairs({ "warn", "crit", "min", "max" }) do
    local v = p[key]
    parts[i + 1] = type(v) == "number" and plain_number(v) or v or ""
  end
  local last = #parts
  while last > 1 and parts[last] == "" do last = last - 1 end
  return "'" .. escape(label) .. "'=" .. concat(parts, ";", 1, last)
end

---------------------------------------------------------------------------------------------------
-- Raising.

local function check_fields(fields, level)
  if fields == nil then return {} end
  if type(fields) ~= "table" then
    error(format("fields must be a table (got %s)", type(fields)), level + 1)
  end
  for key, v in pairs(fields) do
    if type(key) ~= "string" then error("field names must be strings", level + 1) end
    local t = type(v)
    if t ~= "string" and t ~= "number" and t ~= "boolean" and not is_perf(v) then
      error(format("field '%s' must be a string, number, boolean or alert.perf value (got %s)", key, t),
        level + 1)
    end
    if is_perf(v) then check_label(key, level + 1) end
  end
  return fields
end

local function raise(status, name, message, fields)
  if type(message) ~= "string" then
    error(format("bad argument #1 to '%s' (message string expected, got %s)", name, type(message)), 3)
  end
  fields = check_fields(fields, 3)
  alerts[#alerts + 1] = { status = status, message = message, fields = fields }
  for key, v in pairs(fields) do
    if is_perf(v) then set_perf(key, v) end
  end
  run.raise(status)
end

function M.warning(message, fields) raise(run.WARNING, "warning", message, fields) end
function M.critical(message, fields) raise(run.CRITICAL, "critical", message, fields) end
function M.unknown(message, fields) raise(run.UNKNOWN, "unknown", message, fields) end

-- The status line of a run that raises no alert; its fields marked with alert.perf go into perfdata.
function M.ok(message, fields)
  if type(message) ~= "string" then
    error(format("bad argument #1 to 'ok' (message string expected, got %s)", type(message)), 2)
  end
  ok_message = message
  for key, v in pairs(check_fields(fields, 2)) do
    if is_perf(v) then set_perf(key, v) end
  end
end

-- A field value that is also perfdata, labelled with the field's name.
function M.perf(value, uom, limits)
  return make_perf(value, uom, limits, 2)
end

-- A figure of the whole run; a label set again takes the new value.
function M.perfdata(label, value, uom, limits)
  check_label(label, 2)
  set_perf(label, make_perf(value, uom, limits, 2))
end

-- A check's "WARN", "WARN,CRIT" or ",CRIT" argument, sizes as units.parse reads them:
-- { warn = bytes, crit = bytes, warn_text = "64M", crit_text = "1G" }, each pair absent when not
-- given; nil and a message when the text is not that, or CRIT is below WARN.
function M.thresholds(text)
  local warn_text, crit_text = match(type(text) == "string" and text or "", "^([^,]*),?([^,]*)$")
  if not warn_text or (warn_text == "" and crit_text == "") then
    return nil, format("WARN[,CRIT] sizes expected, got '%s'", tostring(text))
  end
  local t = {}
  for _, level in ipairs({ "warn", "crit" }) do
    local size = level == "warn" and warn_text or crit_text
    if size ~= "" then
      local bytes, err = units.parse(size)
      if not bytes then return nil, err end
      t[level], t[level .. "_text"] = bytes, size
    end
  end
  if t.warn and t.crit and t.crit < t.warn then
    return nil, format("the critical size %s is below the warning size %s", crit_text, warn_text)
  end
  return t
end

-- The highest status of this run's alerts so far (run.OK when none).
function M.status()
  local status = run.OK
  for _, a in ipairs(alerts) do
    if a.status > status then status = a.status end
  end
  return status
end

---------------------------------------------------------------------------------------------------
-- Rendering.

-- "|" starts perfdata in the plugin format, so it may not appear in text; it is printed as a broken
-- bar. Messages and values can quote what a process chose (a path, a comm): they are escaped
-- (memscript.text), so no control character reaches the terminal or the monitoring system's line.
local function no_bar(text)
  return (gsub(text, "|", "\194\166"))
end

local function clean(text)
  return no_bar(escape(text))
end

-- A field's value: as it is when plain, else quoted with its escapes (a backslash doubled, \" for a quote).
local function value_text(v)
  if is_perf(v) then return (plain_number(v.value) or "U") .. v.uom end
  if type(v) == "number" then return plain_number(v) or tostring(v) end
  if type(v) == "boolean" then return tostring(v) end
  local escaped = escape(v)
  if v ~= "" and escaped == v and not find(v, "[%s\"'()=]") then return v end
  return '"' .. gsub(escaped, '"', '\\"') .. '"'
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys)
  return keys
end

local function detail_line(a)
  local line = WORDS[a.status] .. ": " .. escape(a.message)
  local keys = sorted_keys(a.fields)
  if #keys > 0 then
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = escape(k) .. "=" .. value_text(a.fields[k]) end
    line = line .. " (" .. concat(parts, " ") .. ")"
  end
  return no_bar(line)
end

-- "2 writable+executable mapping in pid 1234, 1 executable stack in pid 99 (also 3 WARNING)"
local function summary(status)
  local groups, by_message, lower = {}, {}, {}
  for _, a in ipairs(alerts) do
    if a.status == status then
      local g = by_message[a.message]
      if not g then
        g = { message = a.message, count = 0 }
        by_message[a.message] = g
        groups[#groups + 1] = g
      end
      g.count = g.count + 1
    else
      lower[a.status] = (lower[a.status] or 0) + 1
    end
  end
  local parts = {}
  for i = 1, math.min(#groups, SUMMARY_GROUPS) do
    parts[i] = groups[i].count .. " " .. groups[i].message
  end
  local text = concat(parts, ", ")
  if #groups > SUMMARY_GROUPS then
    local rest = 0
    for i = SUMMARY_GROUPS + 1, #groups do rest = rest + groups[i].count end
    text = text .. format(", and %d more", rest)
  end
  local also = {}
  for s = status - 1, 1, -1 do
    if lower[s] then also[#also + 1] = lower[s] .. " " .. WORDS[s] end
  end
  if #also > 0 then text = text .. " (also " .. concat(also, ", ") .. ")" end
  return text
end

local function perfdata_text()
  local parts = {}
  for i, label in ipairs(perf_labels) do parts[i] = perf_text(label, perf_values[label]) end
  return concat(parts, " ")
end

-- JSON of an ordered list of {key, json-text} pairs; lua-cjson would order keys by its hash.
local function object(members)
  local parts = {}
  for i, m in ipairs(members) do parts[i] = output.json_encode(m[1]) .. ":" .. m[2] end
  return "{" .. concat(parts, ",") .. "}"
end

-- NaN and infinities are null (output.json_encode).
local function json_value(v)
  if is_perf(v) then v = v.value end
  return output.json_encode(v)
end

local function json_fields(fields)
  local members = {}
  for i, k in ipairs(sorted_keys(fields)) do members[i] = { k, json_value(fields[k]) } end
  return object(members)
end

local function json_array(items)
  return "[" .. concat(items, ",") .. "]"
end

local function render_json(status, text)
  local list = {}
  for i, a in ipairs(alerts) do
    list[i] = object({ { "status", output.json_encode(WORDS[a.status]) },
      { "message", output.json_encode(a.message) }, { "fields", json_fields(a.fields) } })
  end
  local perf = {}
  for i, label in ipairs(perf_labels) do
    local p = perf_values[label]
    local members = { { "label", output.json_encode(label) }, { "value", json_value(p.value) },
      { "uom", output.json_encode(p.uom) } }
    for _, key in ipairs({ "warn", "crit", "min", "max" }) do
      if p[key] ~= nil then members[#members + 1] = { key, json_value(p[key]) } end
    end
    perf[i] = object(members)
  end
  return object({ { "status", output.json_encode(WORDS[status]) }, { "code", format("%d", status) },
    { "summary", output.json_encode(text) }, { "alerts", json_array(list) },
    { "perfdata", json_array(perf) } }) .. "\n"
end

-- CSV (RFC 4180, output.lua's): a header, then one row per alert in the order raised, or the OK
-- line as one row when none was raised. fields: "key=value ..." sorted by key, as in the text lines
-- (escaped as there). The message is exact, as output.lua writes CSV, but escaped on a terminal.
local CSV_COLUMNS = { { "Status", "status" }, { "Message", "message" }, { "Fields", "fields" } }

local function fields_text(fields)
  local parts = {}
  for i, k in ipairs(sorted_keys(fields)) do parts[i] = escape(k) .. "=" .. value_text(fields[k]) end
  return concat(parts, " ")
end

local function render_csv(status, text)
  local terminal = sys.isatty(1)
  local function message(m) return terminal and escape(m) or m end
  local rows = {}
  for i, a in ipairs(alerts) do
    rows[i] = { status = WORDS[a.status], message = message(a.message), fields = fields_text(a.fields) }
  end
  if #rows == 0 then rows[1] = { status = WORDS[status], message = message(text), fields = "" } end
  return output.render(rows, CSV_COLUMNS, { format = "csv", terminal = false })
end

-- The output for what was raised since the last flush, or nil when there is nothing to print.
function M.render(fmt)
  fmt = fmt or output.format()
  local status, text
  if #alerts > 0 then
    status = M.status()
    text = summary(status)
  elseif ok_message then
    status, text = run.OK, ok_message
  else
    return nil
  end
  if fmt == "json" then return render_json(status, text) end
  if fmt == "csv" then return render_csv(status, text) end
  local first = "MEMSCRIPT " .. WORDS[status] .. " - " .. clean(text)
  if #perf_labels > 0 then first = first .. " | " .. perfdata_text() end
  local lines = { first }
  local ordered = {}
  for i, a in ipairs(alerts) do ordered[i] = { a = a, i = i } end
  sort(ordered, function(x, y)
    if x.a.status ~= y.a.status then return x.a.status > y.a.status end
    return x.i < y.i
  end)
  for i, entry in ipairs(ordered) do
    local a = entry.a
    if i > M.max_details then
      lines[#lines + 1] = format("... and %d more", #alerts - M.max_details)
      break
    end
    lines[#lines + 1] = detail_line(a)
  end
  return concat(lines, "\n") .. "\n"
end

-- Forgets the alerts, perfdata and OK message raised so far (the exit status stays raised).
function M.clear()
  alerts, perf_labels, perf_values, ok_message = {}, {}, {}, nil
end

-- Prints what was raised and forgets it.
local function flush()
  local text = M.render()
  M.clear()
  if not text then return end
  local out = output.format() == "prom" and io.stderr or io.stdout
  out:write(text)
  out:flush()
end

run.on_iteration_end(flush)
run.on_finish(flush)

return M
