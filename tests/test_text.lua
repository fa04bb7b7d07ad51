-- memscript.text: the escaping of text a process chose, on a table of inputs and at every boundary of UTF-8.
local T = require "testing"
local text = require "memscript.text"

local escape, valid_utf8, json_safe = text.escape, text.valid_utf8, text.json_safe
local format, char, concat = string.format, string.char, table.concat

-- A string in a failure message, escaped so that the message itself shows every byte.
local function shown(s)
  return '"' .. escape(s) .. '"'
end

-- { input, expected escape(input) }: every class of byte and character, and the edges of each.
local CASES = {
  -- kept as they are
  { "", "" },
  { "plain ASCII: ~!@#$%^&*()_+{}[]|;:'\",.<>/?`", "plain ASCII: ~!@#$%^&*()_+{}[]|;:'\",.<>/?`" },
  { "café", "café" },
  { "東京 😀", "東京 😀" },
  { "\xc2\xa0", "\xc2\xa0" },              -- U+00A0, the first character after the C1 controls
  { "\xdf\xbf", "\xdf\xbf" },              -- U+07FF, the last two-byte character
  { "\xe0\xa0\x80", "\xe0\xa0\x80" },      -- U+0800, the first three-byte character
  { "\xed\x9f\xbf", "\xed\x9f\xbf" },      -- U+D7FF, just below the surrogates
  { "\xee\x80\x80", "\xee\x80\x80" },      -- U+E000, just above them
  { "\xef\xbf\xbf", "\xef\xbf\xbf" },      -- U+FFFF
  { "\xf0\x90\x80\x80", "\xf0\x90\x80\x80" }, -- U+10000, the first four-byte character
  { "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" }, -- U+10FFFF, the last code point
  { "\xd8\x9b\xd8\x9d", "\xd8\x9b\xd8\x9d" }, -- U+061B and U+061D, around the Arabic letter mark
  { "\xe2\x80\x8d\xe2\x80\xa7\xe2\x80\xaf", "\xe2\x80\x8d\xe2\x80\xa7\xe2\x80\xaf" }, -- U+200D, U+2027, U+202F
  { "\xe2\x81\xa5\xe2\x81\xaa", "\xe2\x81\xa5\xe2\x81\xaa" }, -- U+2065 and U+206A, around the isolates
  -- the backslash, so that no escape can be spelt by the original
  { "a\\b", "a\\\\b" },
  { "\\x1b[2K", "\\\\x1b[2K" },
  -- C0 controls and DEL
  { "\27[2K\rOK: nothing to see\a", "\\x1b[2K\\rOK: nothing to see\\x07" },
  { "\27]0;title\a", "\\x1b]0;title\\x07" },
  { "tab\there", "tab\\there" },
  { "new\nline", "new\\nline" },
  { "\0nul", "\\x00nul" },
  { "\31\127", "\\x1f\\x7f" },
  -- C1 controls: a byte alone is not UTF-8; written as UTF-8 they are characters to escape
  { "\x9b2J", "\\x9b2J" },
  { "\x80\x9f", "\\x80\\x9f" },
  { "\xc2\x80", "\\u{0080}" },
  { "\xc2\x9b2J", "\\u{009B}2J" },
  { "\xc2\x9f", "\\u{009F}" },
  -- bidirectional controls and the line and paragraph separators
  { "\xd8\x9c", "\\u{061C}" },
  { "\xe2\x80\x8e\xe2\x80\x8f", "\\u{200E}\\u{200F}" },
  { "\xe2\x80\xa8\xe2\x80\xa9", "\\u{2028}\\u{2029}" },
  { "\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad\xe2\x80\xae", "\\u{202A}\\u{202B}\\u{202C}\\u{202D}\\u{202E}" },
  { "\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9", "\\u{2066}\\u{2067}\\u{2068}\\u{2069}" },
  { "evil\xe2\x80\xaetxt.exe", "evil\\u{202E}txt.exe" },
  -- bytes that are not UTF-8, each escaped on its own
  { "\xff\xfe", "\\xff\\xfe" },
  { "\x80", "\\x80" },                                      -- a continuation byte alone
  { "\xc0\xaf", "\\xc0\\xaf" },                             -- overlong '/'
  { "\xc1\xbf", "\\xc1\\xbf" },                             -- overlong U+007F
  { "\xe0\x80\xaf", "\\xe0\\x80\\xaf" },                    -- overlong '/' in three bytes
  { "\xe0\x9f\xbf", "\\xe0\\x9f\\xbf" },                    -- overlong U+07FF
  { "\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf" },           -- overlong '/' in four bytes
  { "\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf" },           -- overlong U+FFFF
  { "\xed\xa0\x80", "\\xed\\xa0\\x80" },                    -- U+D800, the first surrogate
  { "\xed\xbf\xbf", "\\xed\\xbf\\xbf" },                    -- U+DFFF, the last
  { "\xed\xa0\xbd\xed\xb8\x80", "\\xed\\xa0\\xbd\\xed\\xb8\\x80" }, -- a surrogate pair (CESU-8)
  { "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80" },           -- U+110000, above the last code point
  { "\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80" },           -- a lead byte for above U+13FFFF
  { "\xf8\x88\x80\x80\x80", "\\xf8\\x88\\x80\\x80\\x80" },  -- a five-byte form
  { "a\xc3", "a\\xc3" },                                    -- cut short at the end of the string
  { "a\xe2\x82", "a\\xe2\\x82" },
  { "a\xf0\x9f\x98", "a\\xf0\\x9f\\x98" },
  { "\xe2\x82x", "\\xe2\\x82x" },                           -- cut short by an ASCII byte
  { "\xc3\xa9\xff\xc3\xa9", "é\\xffé" },                    -- valid around an invalid byte
}

T.test("escape: each input of the table gives its expected text", function()
  for i, case in ipairs(CASES) do
    T.eq(escape(case[1]), case[2], format("case %d (%s)", i, shown(case[1])))
  end
end)

T.test("escape: every C0 control is \\t, \\n, \\r or \\xhh, and DEL is \\x7f", function()
  local named = { [9] = "\\t", [10] = "\\n", [13] = "\\r" }
  for b = 0, 31 do
    T.eq(escape(char(b)), named[b] or format("\\x%02x", b), format("byte %d", b))
  end
  T.eq(escape("\127"), "\\x7f", "DEL")
  for b = 32, 126 do
    T.eq(escape(char(b)), b == 92 and "\\\\" or char(b), format("printable byte %d", b))
  end
end)

T.test("escape: every byte from 0x80 up alone is \\xhh; every C1 control as UTF-8 is \\u{00HH}", function()
  for b = 0x80, 0xff do
    T.eq(escape(char(b)), format("\\x%02x", b), format("byte %02x", b))
  end
  for cp = 0x80, 0x9f do
    T.eq(escape(utf8.char(cp)), format("\\u{%04X}", cp), format("U+%04X", cp))
  end
end)

-- A Lua string literal of the escaped text: what it reads back as.
local function read_back(escaped)
  local literal = '"' .. escaped:gsub('"', '\\"') .. '"'
  return assert(load("return " .. literal))()
end

-- Strings of bytes drawn from a small alphabet rich in edges: lead bytes, continuation bytes,
-- controls, the backslash and ASCII (a fixed seed: the same strings every run).
local ALPHABET = { "\0", "\t", "\n", "\r", "\27", "\\", '"', "a", "\x7f", "\x80", "\x8f", "\x9b", "\xa0", "\xbf",
  "\xc0", "\xc2", "\xd8", "\xdf", "\xe0", "\xe2", "\xed", "\xef", "\xf0", "\xf4", "\xf5", "\xff" }
local function random_strings(count)
  local state, list = 12345, {}
  local function next_int(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return state % n
  end
  for i = 1, count do
    local parts = {}
    for j = 1, next_int(12) do parts[j] = ALPHABET[next_int(#ALPHABET) + 1] end
    list[i] = concat(parts)
  end
  return list
end

local SAMPLES = random_strings(5000)
for _, case in ipairs(CASES) do SAMPLES[#SAMPLES + 1] = case[1] end

T.test("escape is unambiguous: the escaped text is a Lua literal of the original bytes", function()
  for i, s in ipairs(SAMPLES) do
    T.eq(read_back(escape(s)), s, format("sample %d (%s)", i, shown(s)))
  end
end)

-- The code points escape writes as \u{HHHH}.
local function unsafe(cp)
  return (cp >= 0x80 and cp <= 0x9f) or cp == 0x61c or cp == 0x200e or cp == 0x200f
    or (cp >= 0x2028 and cp <= 0x202e) or (cp >= 0x2066 and cp <= 0x2069)
end

T.test("escape's text holds no control, no invalid UTF-8 and no bidirectional control", function()
  for i, s in ipairs(SAMPLES) do
    local e = escape(s)
    T.ok(not e:find("[%z\1-\31\127]"), format("sample %d: a control in %s", i, shown(e)))
    T.ok(utf8.len(e) ~= nil, format("sample %d: invalid UTF-8 in %s", i, shown(e)))
    for _, cp in utf8.codes(e) do
      T.ok(not unsafe(cp), format("sample %d: U+%04X in %s", i, cp, shown(e)))
    end
  end
end)

T.test("escape writes as \\xhh exactly the bytes valid_utf8 replaces by U+FFFD", function()
  for i, s in ipairs(SAMPLES) do
    if not s:find("[%z\1-\31\127\\]") then
      -- without controls or backslashes in s, every backslash of its escaped text starts an escape
      local e = escape(s):gsub("\\x%x%x", "\239\191\189"):gsub("\\u{(%x+)}", function(hex)
        return utf8.char(tonumber(hex, 16))
      end)
      T.eq(e, valid_utf8(s), format("sample %d (%s)", i, shown(s)))
    end
  end
end)

T.test("escape keeps tab, newline or backslash raw when asked, and escapes the rest", function()
  T.eq(escape("a\tb\nc\\d\27", "\t"), "a\tb\\nc\\\\d\\x1b", "keep tab")
  T.eq(escape("a\tb\nc\\d\27", "\t\n"), "a\tb\nc\\\\d\\x1b", "keep tab and newline")
  T.eq(escape("C:\\temp\r\xe2\x80\xae", "\\"), "C:\\temp\\r\\u{202E}", "keep backslash")
  T.eq(escape("plain", "\\"), "plain", "nothing to escape")
  T.raises(function() escape("x", "a") end, "only tab, newline and backslash can be kept", "keeping a letter")
  T.raises(function() escape("x", 1) end, "string or nil expected", "keep not a string")
  T.raises(function() escape(nil) end, "string expected, got nil", "no string")
end)

T.test("valid_utf8 replaces each byte outside valid UTF-8 by U+FFFD and keeps the rest", function()
  T.eq(valid_utf8("caf\xc3\xa9"), "café", "valid")
  T.eq(valid_utf8("a\xffb\xc3"), "a\239\191\189b\239\191\189", "invalid bytes")
  T.eq(valid_utf8("\xed\xa0\x80"), ("\239\191\189"):rep(3), "a surrogate: three bytes")
  T.eq(valid_utf8("\27\xc2\x9b"), "\27\xc2\x9b", "controls are not its business")
end)

T.test("json_safe writes C1, bidirectional and separator characters as \\uHHHH, the same JSON value", function()
  local cjson = require "cjson"
  local value = "a\xc2\x9bb\xe2\x80\xaec\xe2\x81\xa6d\xd8\x9ce\xe2\x80\xa8\27é"
  local json = json_safe(cjson.encode(value))
  T.eq(json, '"a\\u009bb\\u202ec\\u2066d\\u061ce\\u2028\\u001bé"', "JSON text")
  T.eq(cjson.decode(json), value, "decoded")
  T.eq(json_safe('{"plain":1}'), '{"plain":1}', "nothing to change")
end)

T.test("wrap breaks at blanks within the width, indents the lines after the first, keeps a long word whole", function()
  T.eq(text.wrap("one two three four", 9), "one two\nthree\nfour", "width 9")
  T.eq(text.wrap("one two three four", 9, 4), "one two\n    three\n    four", "indent 4")
  T.eq(text.wrap("a\nb c", 80), "a\nb c", "a newline starts a new line")
  T.eq(text.wrap("tiny /a/path/longer/than/the/width tail", 10), "tiny\n/a/path/longer/than/the/width\ntail",
    "a word wider than the width stands alone")
  T.eq(text.wrap("  spaced   out  ", 80), "spaced out", "runs of blanks are one")
  T.eq(text.wrap("", 10), "", "nothing")
end)

T.test("cut keeps a text within width characters, ending a cut one with ...; bytes when it is not UTF-8", function()
  T.eq(text.cut("short", 10), "short", "shorter than the width")
  T.eq(text.cut("exactly10!", 10), "exactly10!", "as wide as the width")
  T.eq(text.cut("/usr/lib/x86_64-linux-gnu/libc.so.6", 12), "/usr/lib/...", "cut to 12")
  T.eq(text.cut("東京タワーの上", 5), "東京...", "characters, not bytes")
  T.eq(text.cut("abc\xffdefgh", 6), "abc...", "invalid UTF-8: bytes")
end)

T.done()
