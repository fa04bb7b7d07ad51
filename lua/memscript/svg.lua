-- svg.lua: what every picture shares: text made safe for XML, numbers, the colours of kinds, the document.
--
--   local svg = require "memscript.svg"
--   svg.text(path)                     --> escaped for a terminal (memscript.text), then for XML
--   svg.escaped_text(cut)              --> the XML step alone, for text memscript.text escaped already
--   svg.colour("file", "/usr/lib/libc.so.6")   --> "#5b9bd5"-like: the kind's hue, shaded by the name
--   svg.document{ width = 1200, height = 400, title = "...", style = "...", script = "...", body = {...} }
--   svg.save(picture, path, "map.lua")  --> 0, or 3 with the reason on stderr; no path: standard output
--
-- A picture is one self-contained SVG file: no external script, stylesheet, font or image, so that
-- any browser shows it from a file, offline. Names come from processes and can hold any byte:
-- svg.text writes them as memscript.text's escapes (no control character, no invalid UTF-8, no
-- bidirectional control), and U+FFFE and U+FFFF, which XML 1.0 does not allow, as \u{FFFE} and \u{FFFF};
-- then & < > " ' as entities. The result is well-formed XML as element text and as an attribute value.

local text = require "memscript.text"

local type, tostring, error, ipairs, floor, require, io = type, tostring, error, ipairs, math.floor, require, io
local format, gsub, find, byte = string.format, string.gsub, string.find, string.byte
local concat = table.concat

local M = {}

local ENTITIES = { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }

-- Text memscript.text.escape has already escaped (or a part cut from such text), safe as XML:
-- U+FFFE and U+FFFF escaped, then the entities. Escaping it again would show each backslash of its
-- escapes doubled, as if the name held a backslash there.
function M.escaped_text(s)
  s = gsub(s, "\xef\xbf([\xbe\xbf])", function(last) return last == "\xbe" and "\\u{FFFE}" or "\\u{FFFF}" end)
  return (gsub(s, "[&<>\"']", ENTITIES))
end

-- Text from anywhere, safe as XML element text or attribute value.
function M.text(s)
  return M.escaped_text(text.escape(tostring(s)))
end

-- A coordinate or length: at most two decimals, no trailing zeros ("12", "0.5", "1180.25").
function M.num(x)
  if x ~= x or x == math.huge or x == -math.huge then error("svg.num: not a finite number", 2) end
  local s = format("%.2f", x)
  s = gsub(s, "%.?0+$", "")
  if s == "-0" or s == "" then s = "0" end
  return s
end

-- ---- colours ----

-- The colour groups, in the order legends show them, with the kinds of memscript.classify in each.
M.groups = {
  { name = "anonymous", hue = 28, saturation = 0.85, lightness = 0.62, kinds = { "anon", "named_anon" } },
  { name = "heap", hue = 2, saturation = 0.72, lightness = 0.64, kinds = { "heap" } },
  { name = "stack", hue = 285, saturation = 0.50, lightness = 0.68, kinds = { "stack" } },
  { name = "file", hue = 210, saturation = 0.62, lightness = 0.64, kinds = { "file", "deleted" } },
  { name = "shmem", hue = 130, saturation = 0.45, lightness = 0.58, kinds = { "shm", "memfd" } },
  { name = "kernel", hue = 48, saturation = 0.30, lightness = 0.62, kinds = { "vdso", "vvar", "vsyscall", "special" } },
  { name = "guard", hue = 0, saturation = 0.00, lightness = 0.82, kinds = { "guard" } },
}

-- Frames that are not memory of a kind: the whole, a group of processes, a process, the rest.
M.frame_colours = {
  root = { hue = 0, saturation = 0.00, lightness = 0.86 },
  group = { hue = 190, saturation = 0.28, lightness = 0.80 },
  process = { hue = 40, saturation = 0.35, lightness = 0.82 },
  rest = { hue = 0, saturation = 0.00, lightness = 0.92 },
}

local group_of_kind = {}
for _, g in ipairs(M.groups) do
  for _, kind in ipairs(g.kinds) do group_of_kind[kind] = g end
end

-- The colour group of a memscript.classify kind ("anonymous", "file", ...), or nil for another name.
function M.group(kind)
  local g = group_of_kind[kind]
  return g and g.name
end

-- FNV-1a over the bytes of s: the same number for the same name on every run and machine.
local function name_hash(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ byte(s, i)) * 16777619) & 0xffffffff
  end
  return h
end

local function hex_of_hsl(h, s, l)
  -- CSS Color 4's hsl-to-rgb
  local function channel(n)
    local k = (n + h / 30) % 12
    local a = s * (l < 1 - l and l or 1 - l)
    local v = l - a * math.max(-1, math.min(k - 3, 9 - k, 1))
    return floor(v * 255 + 0.5)
  end
  return format("#%02x%02x%02x", channel(0), channel(8), channel(4))
end

-- The fill of a frame or region: its kind's colour (or one of M.frame_colours' by name), the hue and
-- lightness moved a little by a hash of name (when given), so neighbours differ and the same name
-- has the same colour in every picture.
function M.colour(kind, name)
  local base = group_of_kind[kind] or M.frame_colours[kind] or M.frame_colours.rest
  local h, s, l = base.hue, base.saturation, base.lightness
  if name ~= nil and s > 0 then
    local hash = name_hash(tostring(name))
    h = (h + (hash % 13) - 6) % 360
    l = l + ((hash >> 8) % 9 - 4) / 100
  elseif name ~= nil then
    l = l + ((name_hash(tostring(name)) >> 8) % 5 - 2) / 100
  end
  return hex_of_hsl(h, s, l)
end

-- ---- the document ----

-- The text of an SVG document. doc: width, height (pixels), title (plain text: escaped here),
-- style (CSS), script (JavaScript; never holding "]]>"), body (an array of strings, already SVG),
-- attributes (more attributes of the svg element, already escaped: 'data-x="1"').
function M.document(doc)
  if type(doc.script) == "string" and find(doc.script, "]]>", 1, true) then
    error("svg.document: the script holds ']]>', which would end its CDATA section", 2)
  end
  local out = {
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    format('<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="%s" height="%s" viewBox="0 0 %s %s"%s>\n',
      M.num(doc.width), M.num(doc.height), M.num(doc.width), M.num(doc.height),
      doc.attributes and (" " .. doc.attributes) or ""),
    "<title>", M.text(doc.title or ""), "</title>\n",
  }
  if doc.style then out[#out + 1] = "<style>\n" .. doc.style .. "</style>\n" end
  for _, piece in ipairs(doc.body or {}) do out[#out + 1] = piece end
  if doc.script then out[#out + 1] = "<script><![CDATA[\n" .. doc.script .. "]]></script>\n" end
  out[#out + 1] = "</svg>\n"
  return concat(out)
end

-- Writes a picture: to standard output, or with path to that file as -o writes standard output
-- (sys.replace_file: whole or not at all, never through another user's link). Returns 0, or 3 after
-- saying on standard error why the file could not be written, script (e.g. "map.lua") first.
function M.save(picture, path, script)
  if not path then
    io.stdout:write(picture)
    return 0
  end
  -- looked up at each call: --sandbox replaces sys.replace_file with a refusal
  local ok, why = require("memscript.sys").replace_file(path, picture)
  if ok then return 0 end
  io.stderr:write("memscript: ", script, ": ", text.escape(tostring(why)), "\n")
  return 3
end

-- The colour groups, in legend order, that hold one of the kinds drawn (kinds: a set of kind names).
function M.groups_of(kinds)
  local groups = {}
  for _, g in ipairs(M.groups) do
    for _, kind in ipairs(g.kinds) do
      if kinds[kind] then groups[#groups + 1] = g; break end
    end
  end
  return groups
end

-- The legend of the colour groups: an array of SVG strings, swatches from (x, y) rightwards.
function M.legend(x, y, groups)
  local out = {}
  for _, g in ipairs(groups or M.groups) do
    out[#out + 1] = format('<rect x="%s" y="%s" width="12" height="12" fill="%s"/>'
      .. '<text class="legend" x="%s" y="%s">%s</text>\n', M.num(x), M.num(y), M.colour(g.kinds[1]),
      M.num(x + 16), M.num(y + 10), M.text(g.name))
    x = x + 24 + 7 * #g.name + 8
  end
  return out
end

return M
