-- text.lua: process text made safe to print: controls, invalid UTF-8 and bidi controls as visible escapes.
--
--   local text = require "memscript.text"
--   text.escape("\27[2K\rOK")        --> "\x1b[2K\rOK" (as the backslash sequences, not the bytes)
--   text.escape("caf\xc3\xa9 \xff")  --> "café \xff"
--   text.valid_utf8("caf\xff")       --> "caf\u{FFFD}" (the character, for JSON and Prometheus)
--   text.wrap("a b c", 3)            --> "a b\nc" (help texts and paragraphs, not escaping)
--   text.cut("東京タワー", 4)          --> "東..." (a table cell's width, in characters)
--
-- A file name may hold any byte but '/' and NUL; a comm, a command line or a memfd name any byte at
-- all; the kernel escapes only '\n' in maps (as "\012"). Printed raw, ESC and OSC sequences move the
-- cursor, erase lines or retitle the window, CR overwrites a line already printed, a newline or a tab
-- breaks a table's rows and columns, a C1 byte (0x9b is CSI on an 8-bit terminal) or a C1 control
-- written as UTF-8 acts as ESC does, and the bidirectional controls reorder what is shown.
--
-- The escapes, a subset of Lua's (and C's) string escapes, so that the escaped text between double
-- quotes (with '"' written \") is a Lua string literal of the original bytes:
--   \\          a backslash
--   \t \n \r    tab, line feed, carriage return
--   \xhh        any other byte below 0x20, DEL (0x7f), and each byte that is not part of a valid
--               UTF-8 sequence (a C1 byte on its own, an overlong form, a surrogate, a code point
--               above U+10FFFF, a sequence cut short), two lowercase hex digits
--   \u{HHHH}    a valid UTF-8 character that controls the terminal or the order of display: the C1
--               controls U+0080-U+009F, the bidirectional controls U+061C, U+200E, U+200F,
--               U+202A-U+202E, U+2066-U+2069, and the line and paragraph separators U+2028, U+2029
-- Everything else (printable ASCII, and valid UTF-8 such as "é" or "東京") is kept as it is.

local type, error, ipairs = type, error, ipairs
local byte, sub, find, format, gsub = string.byte, string.sub, string.find, string.format, string.gsub
local concat = table.concat
local utf8len = utf8.len

local M = {}

-- Printable ASCII but the backslash (0x20-0x5b and 0x5d-0x7e; a ']' first in a set is literal): the
-- bytes escape_bytes copies without a look.
local PLAIN = "]-~ -["

local NAMED = { [0x09] = "\\t", [0x0a] = "\\n", [0x0d] = "\\r", [0x5c] = "\\\\" }

-- Characters that may be kept raw (escape's second argument): layout, and the backslash for text
-- that must stay as another program prints it.
local KEEPABLE = { ["\t"] = true, ["\n"] = true, ["\\"] = true }

-- keep string -> { pattern: a byte to look at; kept: set of kept bytes; outside: a byte outside
-- printable ASCII and the kept characters; backslash: whether a backslash is escaped }
local configs = {}

local function config(keep)
  local c = configs[keep]
  if c then return c end
  if type(keep) ~= "string" then
    error(format("bad argument #2 to 'escape' (string or nil expected, got %s)", type(keep)), 3)
  end
  local kept, layout = {}, {}
  for i = 1, #keep do
    local ch = sub(keep, i, i)
    if not KEEPABLE[ch] then
      error(format("bad argument #2 to 'escape' (only tab, newline and backslash can be kept, got %q)", ch), 3)
    end
    if not kept[byte(ch)] then
      kept[byte(ch)] = true
      if ch ~= "\\" then layout[#layout + 1] = ch end
    end
  end
  local backslash = not kept[0x5c]
  c = { pattern = "[^" .. PLAIN .. concat(layout) .. (backslash and "" or "\\") .. "]", kept = kept,
        outside = "[^ -~" .. concat(layout) .. "]", backslash = backslash }
  configs[keep] = c
  return c
end
configs[""] = config("")

-- Code points escaped although valid: C1 controls, bidirectional controls, line/paragraph separators.
local function unsafe_code_point(cp)
  return (cp >= 0x80 and cp <= 0x9f) or cp == 0x061c or cp == 0x200e or cp == 0x200f
    or (cp >= 0x2028 and cp <= 0x202e) or (cp >= 0x2066 and cp <= 0x2069)
end

-- Their UTF-8 forms, for the check of text that is valid UTF-8 (one find each).
local UNSAFE_FORMS = { "\194[\128-\159]", "\216\156", "\226\128[\142\143\168-\174]", "\226\129[\166-\169]" }

-- The length and code point of the valid UTF-8 sequence at byte i of s (a lead byte >= 0xc2), or
-- nil: the well-formed sequences of the Unicode Standard's table 3-7, so no overlong form, no
-- surrogate, nothing above U+10FFFF and nothing cut short.
local function decode(s, i)
  local b1, b2, b3, b4 = byte(s, i, i + 3)
  if b1 < 0xc2 or b1 > 0xf4 or not b2 or b2 < 0x80 or b2 > 0xbf then return nil end
  if b1 < 0xe0 then return 2, ((b1 & 0x1f) << 6) | (b2 & 0x3f) end
  if (b1 == 0xe0 and b2 < 0xa0) or (b1 == 0xed and b2 > 0x9f) then return nil end
  if not b3 or b3 < 0x80 or b3 > 0xbf then return nil end
  if b1 < 0xf0 then return 3, ((b1 & 0x0f) << 12) | ((b2 & 0x3f) << 6) | (b3 & 0x3f) end
  if (b1 == 0xf0 and b2 < 0x90) or (b1 == 0xf4 and b2 > 0x8f) then return nil end
  if not b4 or b4 < 0x80 or b4 > 0xbf then return nil end
  return 4, ((b1 & 0x07) << 18) | ((b2 & 0x3f) << 12) | ((b3 & 0x3f) << 6) | (b4 & 0x3f)
end

-- s escaped from byte i on, which is the first one to look at.
local function escape_bytes(s, c, i)
  local out, n = { sub(s, 1, i - 1) }, 1
  local len = #s
  local pattern, kept = c.pattern, c.kept
  while i <= len do
    local at = find(s, pattern, i)
    if not at then
      n = n + 1; out[n] = sub(s, i)
      break
    end
    if at > i then n = n + 1; out[n] = sub(s, i, at - 1) end
    local b = byte(s, at)
    n = n + 1
    if b < 0x80 then
      out[n] = kept[b] and sub(s, at, at) or NAMED[b] or format("\\x%02x", b)
      i = at + 1
    else
      local length, cp = decode(s, at)
      if not length then
        out[n] = format("\\x%02x", b)
        i = at + 1
      else
        out[n] = unsafe_code_point(cp) and format("\\u{%04X}", cp) or sub(s, at, at + length - 1)
        i = at + length
      end
    end
  end
  return concat(out)
end

-- s made safe for a terminal and for line-based output, with the escapes described at the top; s
-- itself when nothing needs escaping. keep: a string of the characters to leave raw, among tab,
-- newline and backslash ("\t\n" for text shown as lines; "\\" where another program's output is
-- matched byte for byte, such as pmap's, at the cost of a name that spells an escape looking like one).
function M.escape(s, keep)
  if type(s) ~= "string" then
    error(format("bad argument #1 to 'escape' (string expected, got %s)", type(s)), 2)
  end
  local c = configs[keep or ""] or config(keep)
  -- the common case, plain ASCII: one find of a one-range set, and memchr for the backslash
  local outside = find(s, c.outside)
  local backslash = c.backslash and find(s, "\\", 1, true)
  if not outside and not backslash then return s end
  if backslash and (not outside or backslash < outside) then return escape_bytes(s, c, backslash) end
  if byte(s, outside) >= 0x80 and not find(s, "[%z\1-\31\127]", outside) and not backslash
      and utf8len(s, outside) then
    -- valid UTF-8 from the first byte above ASCII on, no control after it: kept whole unless it holds
    -- an unsafe character (its lead byte is one of these three)
    if not find(s, "[\194\216\226]", outside) then return s end
    local unsafe = false
    for _, form in ipairs(UNSAFE_FORMS) do
      if find(s, form, outside) then unsafe = true; break end
    end
    if not unsafe then return s end
  end
  return escape_bytes(s, c, outside)
end

-- s with each byte that does not belong to a valid UTF-8 sequence replaced by U+FFFD; valid UTF-8
-- is returned unchanged. JSON (RFC 8259) and the Prometheus text format both require UTF-8, and a
-- path, a command line or a comm cut at 15 bytes can hold any bytes.
function M.valid_utf8(s)
  if not find(s, "[\128-\255]") then return s end
  local parts, from = {}, 1
  while true do
    local _, bad = utf8len(s, from)
    if not bad then break end
    parts[#parts + 1] = sub(s, from, bad - 1)
    parts[#parts + 1] = "\239\191\189"
    from = bad + 1
  end
  if from == 1 then return s end
  parts[#parts + 1] = sub(s, from)
  return concat(parts)
end

-- s cut to width characters (UTF-8 characters where s is valid UTF-8, else bytes), "..." ending a
-- cut one: for table cells, which the table writer then escapes (so an escaped cell can be wider).
function M.cut(s, width)
  local chars = utf8len(s)
  if chars then
    if chars > width then s = sub(s, 1, utf8.offset(s, width - 2) - 1) .. "..." end
  elseif #s > width then
    s = sub(s, 1, width - 3) .. "..."
  end
  return s
end

-- text wrapped to width columns at blanks, each line after the first indented by indent blanks
-- (none by default); a "\n" in text starts a new line. A word longer than width stands alone.
function M.wrap(s, width, indent)
  local lines = {}
  for paragraph in (s .. "\n"):gmatch("(.-)\n") do
    local line = ""
    for word in paragraph:gmatch("%S+") do
      if line ~= "" and #line + 1 + #word > width then
        lines[#lines + 1] = line
        line = word
      else
        line = line == "" and word or (line .. " " .. word)
      end
    end
    lines[#lines + 1] = line
  end
  return concat(lines, "\n" .. string.rep(" ", indent or 0))
end

-- JSON text (as lua-cjson writes it, which leaves these raw) with the characters escape writes as
-- \u{HHHH} written as JSON's \uHHHH instead: the same string to a reader, and nothing in it that a
-- terminal acts on (lua-cjson escapes the C0 controls and DEL itself).
function M.json_safe(json)
  if not find(json, "[\194\216\226]") then return json end
  local out = json
  for _, form in ipairs(UNSAFE_FORMS) do
    out = gsub(out, form, function(ch)
      local _, cp = decode(ch, 1)
      return format("\\u%04x", cp)
    end)
  end
  return out
end

return M
