-- The `where` filter language: operators, precedence, numbers, strings, VmFlags, absent fields,
-- derived names, syntax errors with their columns, and counts on real mappings.

local T = require "testing"
local where = require "memscript.where"

local format = string.format

local KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40

-- Whether expr holds for the mapping m.
local function holds(expr, m)
  return where.compile(expr)(m)
end

-- How many of the mappings expr selects.
local function count(expr, mappings)
  local pred, n = where.compile(expr), 0
  for _, m in ipairs(mappings) do
    if pred(m) then n = n + 1 end
  end
  return n
end

-- The message of the error compiling expr raises.
local function compile_error(expr)
  local ok, err = pcall(where.compile, expr)
  T.ok(not ok, format("%q compiled without an error", expr))
  return err
end

-- Runs fn with where.derived entries replaced by stubs, restoring the table afterwards.
local function with_derived(stubs, fn)
  local saved = {}
  for k, v in pairs(where.derived) do saved[k] = v end
  for k, v in pairs(stubs) do where.derived[k] = v end
  local ok, err = pcall(fn)
  for k in pairs(where.derived) do where.derived[k] = nil end
  for k, v in pairs(saved) do where.derived[k] = v end
  if not ok then error(err, 0) end
end

-- The helper program captured by capture.lua: 35 mappings of every kind (tests/fixtures/helper-capture).
local fixture = assert(proc.at(T.fixtures .. "/helper-capture/proc").smaps(1848))

---------------------------------------------------------------------------------------------------
-- The module

T.test("compile returns a predicate that answers true or false, never a truthy value", function()
  local pred = where.compile("Rss > 1M")
  T.eq(type(pred), "function", "type")
  T.eq(pred({ Rss = 2 * MiB }), true, "2 MiB")
  T.eq(pred({ Rss = MiB }), false, "1 MiB")
  T.eq(where.compile("path ~ 'lib'")({ path = "/usr/lib/x" }), true, "contains")
  T.eq(where.compile("Rss")({ Rss = 4096 }), true, "bare name")
  T.eq(where.compile("Rss")({}), false, "bare absent name")
end)

T.test("the module called as a function compiles", function()
  local pred = where("Rss > 1M")
  T.eq(pred({ Rss = 2 * MiB }), true, "2 MiB")
  T.eq(pred({ Rss = 4096 }), false, "4 KiB")
  T.raises(function() where("Rss >") end, "where: column 6: expected a value")
end)

T.test("compile checks that its argument is a string", function()
  T.raises(function() where.compile(nil) end, "bad argument #1 to 'compile' (string expected, got nil)")
  T.raises(function() where.compile(42) end, "bad argument #1 to 'compile' (string expected, got number)")
end)

T.test("an expression is never run as Lua: text that looks like code is just a string", function()
  local pred = where.compile([[path == "\") or os.exit(9) or (\"" or path ~ "]] .. "]]" .. [["]])
  T.eq(pred({ path = [[") or os.exit(9) or ("]] }), true, "the whole text is the string compared")
  T.eq(pred({ path = "/lib/x" }), false, "another path")
  T.eq(pred({ path = "a]]b" }), true, "long-bracket text is plain too")
end)

---------------------------------------------------------------------------------------------------
-- Operators

T.test("every comparison operator on numbers", function()
  local m = { Rss = 8192 }
  local cases = {
    { "Rss < 8193", true }, { "Rss < 8192", false },
    { "Rss <= 8192", true }, { "Rss <= 8191", false },
    { "Rss > 8191", true }, { "Rss > 8192", false },
    { "Rss >= 8192", true }, { "Rss >= 8193", false },
    { "Rss == 8192", true }, { "Rss == 8193", false },
    { "Rss ~= 8193", true }, { "Rss ~= 8192", false },
    { "Rss != 8193", true }, { "Rss != 8192", false },
    { "8191 < Rss", true }, { "8192 < Rss", false },
    { "8192 <= Rss", true }, { "8193 > Rss", true }, { "8192 >= Rss", true },
    { "8192 == Rss", true }, { "8191 ~= Rss", true },
  }
  for _, case in ipairs(cases) do
    T.eq(holds(case[1], m), case[2], case[1])
  end
end)

T.test("operators need no blanks around them", function()
  T.eq(holds("Rss>=8192", { Rss = 8192 }), true, "Rss>=8192")
  T.eq(holds("perms~'w'", { perms = "rw-p" }), true, "perms~'w'")
  T.eq(holds("(Rss>1)and(Rss<3)", { Rss = 2 }), true, "(Rss>1)and(Rss<3)")
end)

T.test("every comparison operator on strings", function()
  local m = { perms = "rw-p", path = "/usr/lib/libc.so.6" }
  local cases = {
    { 'perms == "rw-p"', true }, { 'perms == "r--p"', false },
    { 'perms ~= "r--p"', true }, { 'perms != "rw-p"', false },
    { 'perms < "rx"', true }, { 'perms > "rx"', false },
    { 'perms <= "rw-p"', true }, { 'perms >= "rw-q"', false },
    { 'path ~ "libc"', true }, { 'path ~ "libm"', false },
    { 'path ~ ""', true },
  }
  for _, case in ipairs(cases) do
    T.eq(holds(case[1], m), case[2], case[1])
  end
end)

T.test("~ is plain text, not a Lua pattern", function()
  T.eq(holds('path ~ "["', { path = "[stack]" }), true, "bracket")
  T.eq(holds('path ~ "."', { path = "/bin/alertmanager" }), false, "a dot is a dot")
  T.eq(holds('path ~ "%d"', { path = "x%dy" }), true, "a percent is a percent")
  T.eq(holds('path ~ "so.6"', { path = "/lib/libc.so.6" }), true, "dotted text")
end)

T.test("two fields compare with each other", function()
  T.eq(holds("Pss < Rss", { Pss = 10, Rss = 20 }), true, "Pss < Rss")
  T.eq(holds("Pss == Rss", { Pss = 20, Rss = 20 }), true, "Pss == Rss")
  T.eq(holds("Pss == Rss", { Pss = 20 }), false, "one side absent")
  T.eq(holds("size == Size", { size = 4096, Size = 4096 }), true, "size == Size")
end)

T.test("literals compare with each other", function()
  T.eq(holds("1K == 1024", {}), true, "1K == 1024")
  T.eq(holds("'a' < 'b'", {}), true, "'a' < 'b'")
  T.eq(holds("1 == '1'", {}), false, "number against string")
end)

T.test("and, or and not", function()
  local m = { a = 1, b = 0 }
  T.eq(holds("a and a", m), true, "a and a")
  T.eq(holds("a and b", m), false, "a and b")
  T.eq(holds("b or a", m), true, "b or a")
  T.eq(holds("b or b", m), false, "b or b")
  T.eq(holds("not b", m), true, "not b")
  T.eq(holds("not a", m), false, "not a")
  T.eq(holds("not not a", m), true, "not not a")
  T.eq(holds("a and a and a and b", m), false, "chain of and")
  T.eq(holds("b or b or b or a", m), true, "chain of or")
end)

T.test("and stops at the first false operand, or at the first true one", function()
  local calls = {}
  with_derived({
    yes = function() calls[#calls + 1] = "yes"; return true end,
    no = function() calls[#calls + 1] = "no"; return false end,
  }, function()
    T.eq(holds("no and yes", {}), false, "no and yes")
    T.eq(holds("yes or no", {}), true, "yes or no")
    T.eq(calls, { "no", "yes" }, "operands evaluated")
  end)
end)

T.test("precedence: comparison, then not, then and, then or", function()
  local t, f = { x = 1 }, {}  -- x is true in t, absent in f
  -- a or b and c == a or (b and c)
  T.eq(holds("x or x and y", t), true, "x or x and y")
  T.eq(holds("(x or x) and y", t), false, "(x or x) and y")
  -- not a and b == (not a) and b
  T.eq(holds("not y and y", t), false, "not y and y")
  T.eq(holds("not (y and y)", t), true, "not (y and y)")
  -- not applies to the whole comparison
  T.eq(holds("not x > 5", { x = 3 }), true, "not x > 5 with x = 3")
  T.eq(holds("not x > 5", { x = 7 }), false, "not x > 5 with x = 7")
  -- comparisons bind tighter than and/or
  T.eq(holds("x == 1 and x < 2 or x == 9", t), true, "comparison chain")
  T.eq(holds("x == 1 and (x > 2 or x == 9)", t), false, "grouped")
  T.eq(holds("y or x", f), false, "both absent")
  T.eq(holds("((((x))))", t), true, "nested parentheses")
end)

---------------------------------------------------------------------------------------------------
-- Numbers

T.test("size suffixes are binary units, in any case, with or without i and B", function()
  local cases = {
    { "1k", KiB }, { "1K", KiB }, { "1kB", KiB }, { "1KB", KiB }, { "1KiB", KiB }, { "1kib", KiB },
    { "1Ki", KiB }, { "1Kb", KiB },
    { "1M", MiB }, { "1m", MiB }, { "1MB", MiB }, { "1Mb", MiB }, { "1MiB", MiB }, { "1Mi", MiB },
    { "1G", GiB }, { "2g", 2 * GiB }, { "1GB", GiB }, { "1GiB", GiB }, { "1gib", GiB },
    { "1T", TiB }, { "1TB", TiB }, { "1TiB", TiB }, { "1t", TiB },
    { "1P", 1 << 50 }, { "1pb", 1 << 50 }, { "1E", 1 << 60 }, { "7EiB", 7 << 60 },
    { "100B", 100 }, { "100 b", 100 },
    { "512k", 524288 }, { "512 kB", 524288 }, { "8900 kB", 9113600 }, { "3\tM", 3 * MiB },
    { "1.5K", 1536 }, { "0.5M", 524288 }, { "4096", 4096 },
  }
  for _, case in ipairs(cases) do
    local expr = "x == " .. case[1]
    T.eq(holds(expr, { x = case[2] }), true, expr)
    T.eq(holds(expr, { x = case[2] + 1 }), false, expr .. " against one more")
  end
end)

T.test("a name spelled like a unit is still a name", function()
  T.eq(holds("K == 1", { K = 1 }), true, "K")
  T.eq(holds("x > 1 and M", { x = 2, M = 1 }), true, "M after a number and 'and'")
  T.eq(holds("B", { B = 1 }), true, "B alone")
  T.eq(holds("GiB >= 1G", { GiB = GiB }), true, "GiB as a key, against 1G")
  T.eq(compile_error("x == 1 Kx"), "where: column 8: expected 'and', 'or' or end of expression near 'Kx'",
    "a word that is not a unit after the blank is not read as one")
end)

T.test("a decimal number is a size: a fraction of a byte is rounded down", function()
  T.eq(holds("x == 1536.0", { x = 1536 }), true, "1536.0 is 1536")
  T.eq(holds("x == 0.1K", { x = 102 }), true, "0.1K is 102 (102.4 rounded down)")
  T.eq(holds("x == 1.5M", { x = 1572864.0 }), true, "a float field equal to the size")
  T.eq(holds("x > 0.5", { x = 1 }), true, "1 > 0.5")
  T.eq(holds("x == 0.5", { x = 0 }), true, "0.5 is 0 bytes")
  T.eq(holds("x < 0.5", { x = 0 }), false, "so 0 is not below it")
end)

T.test("hexadecimal numbers, addresses read as unsigned", function()
  local vsyscall = { vm_start = 0xffffffffff600000, vm_end = 0xffffffffff601000 }
  local heap = { vm_start = 0x55d0c6a0e000 }
  T.eq(holds("vm_start == 0xffffffffff600000", vsyscall), true, "exact address")
  T.eq(holds("vm_start == 0XFFFFFFFFFF600000", vsyscall), true, "upper case")
  T.eq(holds("vm_start >= 0x7f0000000000", vsyscall), true, "[vsyscall] is above 0x7f0000000000")
  T.eq(holds("vm_start < 0x7f0000000000", vsyscall), false, "and not below it")
  T.eq(holds("vm_start < 0x7f0000000000", heap), true, "heap below")
  T.eq(holds("vm_end > vm_start", vsyscall), true, "field against field")
  local pair = { vm_start = 0xffffffffff600000, limit = 0x7f0000000000 }
  T.eq(holds("vm_start > limit", pair), true, "field against field across 2^63")
  T.eq(holds("vm_start <= limit", pair), false, "<= field against field across 2^63")
  T.eq(holds("limit < vm_start", pair), true, "< field against field across 2^63")
  T.eq(holds("vm_start > 1T", vsyscall), true, "against a decimal")
  T.eq(holds("vm_start > 0xf9ccd8a1c5080000", vsyscall), true, "against a literal above 2^63")
  T.eq(holds("vm_start >= 0xf9ccd8a1c5080000", vsyscall), true, ">= against a literal above 2^63")
  T.eq(holds("vm_start <= 0xf9ccd8a1c5080000", vsyscall), false, "<= against a literal above 2^63")
  T.eq(holds("vm_start > 8191P", vsyscall), true, "against the largest sizes")
  T.eq(holds("vm_start == 0xffffffffff600001", vsyscall), false, "integers equal bit for bit, not as floats")
  T.eq(holds("vm_start ~= 0xffffffffff600001", vsyscall), true, "~= bit for bit")
  T.eq(holds("x == 0x0000000000000000001", { x = 1 }), true, "leading zeros do not count")
end)

T.test("a size of 2^63 bytes or more is refused, never wrapped or made a float", function()
  -- 8388608T is 2^63: one past math.maxinteger.
  T.eq(holds("x > 8388607T", { x = math.maxinteger }), true, "maxinteger above 2^63 - 1T")
  T.eq(holds("x == 9223372036854775807", { x = math.maxinteger }), true, "2^63 - 1 itself")
  T.eq(holds("x == 8191.999999999999999999P", { x = math.maxinteger }), true, "2^63 - 1 by a fraction")
  T.eq(compile_error("x == 8388608T"), "where: column 6: expected a size below 2^63 bytes (8E) near '8388608T'",
    "2^63 with a unit")
  T.eq(compile_error("x < 9223372036854775808"),
    "where: column 5: expected a size below 2^63 bytes (8E) near '9223372036854775808'", "2^63 in digits")
  T.eq(compile_error("x < 8 E"), "where: column 5: expected a size below 2^63 bytes (8E) near '8'",
    "2^63 with a blank before the unit")
end)

---------------------------------------------------------------------------------------------------
-- Strings

T.test("strings in double and single quotes with their escapes", function()
  T.eq(holds([[path == "/bin/sh"]], { path = "/bin/sh" }), true, "double quotes")
  T.eq(holds([[path == '/bin/sh']], { path = "/bin/sh" }), true, "single quotes")
  T.eq(holds([[path == "a\"b"]], { path = 'a"b' }), true, [[\"]])
  T.eq(holds([[path == 'it\'s']], { path = "it's" }), true, [[\']])
  T.eq(holds([[path == "a\\b"]], { path = [[a\b]] }), true, [[\\]])
  T.eq(holds([[path == "a\\"]], { path = [[a\]] }), true, [[\\ before the closing quote]])
  T.eq(holds([[path == 'say "hi"']], { path = 'say "hi"' }), true, "other quote inside")
  T.eq(holds([[path == ""]], { path = "" }), true, "empty string")
  T.eq(holds([[path == "/x (deleted)"]], { path = "/x (deleted)" }), true, "blanks kept")
  T.eq(holds([[path == "and or not"]], { path = "and or not" }), true, "keywords in a string")
end)

---------------------------------------------------------------------------------------------------
-- VmFlags

T.test("VmFlags.xx is true when the code is set", function()
  local m = { VmFlags = { rd = true, wr = true, mr = true } }
  T.eq(holds("VmFlags.wr", m), true, "wr")
  T.eq(holds("VmFlags.ex", m), false, "ex")
  T.eq(holds("VmFlags.wr and VmFlags.ex", m), false, "wr and ex")
  T.eq(holds("VmFlags.wr and not VmFlags.ex", m), true, "wr and not ex")
  T.eq(holds("VmFlags.q9", m), false, "an unknown code is absent")
  T.eq(holds("VmFlags.wr", {}), false, "a mapping without VmFlags (proc.maps)")
  T.eq(holds("not VmFlags.wr", {}), true, "not of an absent flag")
end)

T.test("VmFlags on the real set objects of smaps", function()
  local stack = fixture[34]
  T.eq(stack.path, "[stack]", "fixture row")
  T.eq(holds("VmFlags.gd and VmFlags.ac and not VmFlags.sd", stack), true, "stack flags")
  T.eq(count("VmFlags.wr", fixture), 12, "wr")
  T.eq(count("VmFlags.ex", fixture), 4, "ex")
  T.eq(count("VmFlags.wr and VmFlags.ex", fixture), 1, "wr and ex")
  T.eq(count("VmFlags.zz", fixture), 0, "unknown code")
end)

---------------------------------------------------------------------------------------------------
-- Absent fields and types

T.test("an absent field compares false with every operator; nil is not 0", function()
  -- What each operator gives with Swap = 0, against which the absent Swap is checked.
  local with_zero = {
    ["<"] = false, ["<="] = true, [">"] = false, [">="] = true,
    ["=="] = true, ["~="] = false, ["!="] = false, ["~"] = false,
  }
  for op, expected in pairs(with_zero) do
    T.eq(holds("Swap " .. op .. " 0", { Swap = 0 }), expected, "0 " .. op .. " 0")
    T.eq(holds("Swap " .. op .. " 0", {}), false, "absent " .. op .. " 0")
    T.eq(holds("0 " .. op .. " Swap", {}), false, "0 " .. op .. " absent")
    T.eq(holds("Swap " .. op .. " 1", {}), false, "absent " .. op .. " 1")
  end
  T.eq(holds("not (Swap == 0)", {}), true, "not of a false comparison")
  T.eq(holds("Swap", {}), false, "bare absent")
end)

T.test("a string against a number compares false with every operator", function()
  for _, op in ipairs({ "<", "<=", ">", ">=", "==", "~=", "!=", "~" }) do
    T.eq(holds("perms " .. op .. " 0", { perms = "rw-p" }), false, "perms " .. op .. " 0")
    T.eq(holds("Rss " .. op .. " '4'", { Rss = 4 }), false, "Rss " .. op .. " '4'")
  end
end)

T.test("a bare name is true unless absent, false, 0 or empty", function()
  T.eq(holds("x", { x = 1 }), true, "1")
  T.eq(holds("x", { x = 0.5 }), true, "0.5")
  T.eq(holds("x", { x = "r" }), true, "string")
  T.eq(holds("x", { x = true }), true, "true")
  T.eq(holds("x", { x = 0 }), false, "0")
  T.eq(holds("x", { x = 0.0 }), false, "0.0")
  T.eq(holds("x", { x = "" }), false, "empty string")
  T.eq(holds("x", { x = false }), false, "false")
  T.eq(holds("x", {}), false, "absent")
end)

T.test("any identifier is a key, so new kernel keys need no change", function()
  T.eq(holds("Future_Key_2 >= 4K", { Future_Key_2 = 8192 }), true, "new key")
  T.eq(holds("_x == 1", { _x = 1 }), true, "leading underscore")
  T.eq(holds("android and orange and notice", { android = 1, orange = 1, notice = 1 }), true,
    "names that start with a keyword")
end)

---------------------------------------------------------------------------------------------------
-- Derived names

T.test("derived names are computed from the whole mapping", function()
  with_derived({
    kind = function(m) return m.path == "[stack]" and "stack" or (m.path == "" and "anon" or "file") end,
    anon = function(m) return m.inode == 0 end,
    shared = function(m) return m.perms:sub(4, 4) == "s" end,
    writable = function(m) return m.perms:sub(2, 2) == "w" end,
    executable = function(m) return m.perms:sub(3, 3) == "x" end,
  }, function()
    T.eq(count('kind == "stack"', fixture), 1, "stack")
    T.eq(count('kind == "anon"', fixture), 17, "anon kind")
    T.eq(count("anon", fixture), 23, "anon")
    T.eq(count("not anon", fixture), 12, "not anon")
    T.eq(count("shared", fixture), 4, "shared")
    T.eq(count("writable and not executable", fixture), 11, "writable")
    T.eq(count("executable and Rss > 0", fixture), 3, "executable with pages")
    T.eq(count("anon and Rss > 100K", fixture), 1, "anonymous and large")
  end)
end)

T.test("a derived name takes the place of a key of the same name", function()
  with_derived({ anon = function() return false end }, function()
    T.eq(holds("anon", { anon = true }), false, "derived wins")
  end)
  T.eq(holds("sticky", { sticky = true }), true, "without a derived entry the key is read")
end)

T.test("derived names come from memscript.classify when it is built in", function()
  if not package.preload["memscript.classify"] then T.skip("memscript.classify is not built in") end
  local classify = require "memscript.classify"
  T.eq(where.derived.kind, classify.kind, "kind")
  T.eq(where.derived.anon, classify.anonymous, "anon")
  T.eq(where.derived.shared, classify.shared, "shared")
  T.eq(where.derived.readable, classify.readable, "readable")
  T.eq(where.derived.writable, classify.writable, "writable")
  T.eq(where.derived.executable, classify.executable, "executable")
end)

T.test("the classifier's names on the captured helper", function()
  if not package.preload["memscript.classify"] then T.skip("memscript.classify is not built in") end
  T.eq(count('kind == "stack"', fixture), 1, "stack")
  T.eq(count('kind == "heap"', fixture), 1, "heap")
  T.eq(count('kind == "vsyscall"', fixture), 1, "vsyscall")
  T.eq(count('kind == "vdso"', fixture), 1, "vdso")
  T.eq(count('kind == "vvar"', fixture), 2, "vvar: [vvar] and [vvar_vclock]")
  T.eq(count('kind == "file"', fixture), 8, "file: five of the executable, data, with space.bin, the odd name")
  T.eq(count('kind == "anon"', fixture), 5, "anon kind: the bss and four regions without a path")
  T.eq(count('kind == "guard"', fixture), 12, "guard: the ---p separators")
  T.eq(count('kind == "shm"', fixture), 2, "shm: shared anonymous (/dev/zero) and System V")
  T.eq(count('kind == "deleted"', fixture), 1, "deleted")
  T.eq(count('kind == "memfd"', fixture), 1, "memfd")
  T.eq(count("anon", fixture), 19, "anon: the seventeen without a path, [heap] and [stack]")
  T.eq(count("anon and Locked", fixture), 1, "anonymous and locked")
  T.eq(count("shared", fixture), 4, "shared")
  T.eq(count("readable", fixture), 22, "readable")
  T.eq(count("writable", fixture), 12, "writable")
  T.eq(count("executable and not writable", fixture), 3, "executable")
end)

---------------------------------------------------------------------------------------------------
-- Errors

T.test("syntax errors name the column and what was expected", function()
  local cases = {
    -- empty expression
    { "", "where: column 1: expected a condition at end of expression" },
    { "   ", "where: column 4: expected a condition at end of expression" },
    -- missing operand
    { "Rss >", "where: column 6: expected a value at end of expression" },
    { "Rss > and Pss", "where: column 7: expected a value near 'and'" },
    { "Rss > 1 and", "where: column 12: expected a condition at end of expression" },
    { "or Rss", "where: column 1: expected a condition near 'or'" },
    { "not", "where: column 4: expected a condition at end of expression" },
    { "()", "where: column 2: expected a condition near ')'" },
    { "1M", "where: column 3: expected a comparison operator at end of expression" },
    { "'x' and Rss", "where: column 5: expected a comparison operator near 'and'" },
    { "Rss 1M", "where: column 5: expected a comparison operator, 'and' or 'or' near '1M'" },
    { "anon shared", "where: column 6: expected a comparison operator, 'and' or 'or' near 'shared'" },
    -- unknown operator
    { "Rss = 1", "where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '='" },
    { "Rss => 1", "where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '=>'" },
    { "Rss <> 1", "where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '<>'" },
    { "Rss === 1", "where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '==='" },
    { "Rss ! 1", "where: column 5: expected a comparison operator (< <= > >= == ~= != ~) near '!'" },
    -- trailing garbage
    { "Rss > 1M foo", "where: column 10: expected 'and', 'or' or end of expression near 'foo'" },
    { "Rss > 1M )", "where: column 10: expected 'and', 'or' or end of expression near ')'" },
    { "Rss > 1M; os.exit()", "where: column 9: expected 'and', 'or' or end of expression near ';'" },
    { "anon not shared", "where: column 6: expected 'and', 'or' or end of expression near 'not'" },
    -- unbalanced parentheses
    { "(Rss > 1M", "where: column 10: expected ')' to close the '(' of column 1 at end of expression" },
    { "((anon)", "where: column 8: expected ')' to close the '(' of column 1 at end of expression" },
    { "(anon (shared))", "where: column 7: expected ')' to close the '(' of column 1 near '('" },
    { "anon)", "where: column 5: expected 'and', 'or' or end of expression near ')'" },
    -- strings
    { 'path ~ "libc', [[where: column 8: expected " to close this string near '"libc']] },
    { "path ~ 'libc", [[where: column 8: expected ' to close this string near ''libc']] },
    { [[path == "a\"]], [[where: column 9: expected " to close this string near '"a\"']] },
    { [[path == "a\n"]], [[where: column 12: expected \\, \" or \' after the backslash near 'n']] },
    -- numbers
    { "Rss > 1Mx", "where: column 8: expected a size unit such as K, MiB or GB near 'Mx'" },
    { "Rss > 12abc", "where: column 9: expected a size unit such as K, MiB or GB near 'abc'" },
    { "Rss > 1KiBB", "where: column 8: expected a size unit such as K, MiB or GB near 'KiBB'" },
    { "Rss > 1e5", "where: column 8: expected a size unit such as K, MiB or GB near 'e5'" },
    { "Rss > 1.", "where: column 8: expected 'and', 'or' or end of expression near '.'" },
    { "vm_start > 0x", "where: column 14: expected hexadecimal digits at end of expression" },
    { "vm_start > 0x7fg", "where: column 16: expected hexadecimal digits near 'g'" },
    { "vm_start > 0x1K", "where: column 15: expected hexadecimal digits near 'K'" },
    { "x == 0x10000000000000000",
      "where: column 6: expected at most 16 hexadecimal digits near '0x10000000000000000'" },
    -- dotted names
    { "Rss.x > 0", "where: column 1: expected a name without '.' (only VmFlags.xx has one) near 'Rss.x'" },
    { "vmflags.wr", "where: column 1: expected a name without '.' (only VmFlags.xx has one) near 'vmflags.wr'" },
    { "VmFlags.w", "where: column 9: expected a two-character VmFlags code near 'w'" },
    { "VmFlags.wrx", "where: column 9: expected a two-character VmFlags code near 'wrx'" },
    { "VmFlags.", "where: column 9: expected a two-character VmFlags code at end of expression" },
    -- anything else
    { "Rss > -1", "where: column 7: expected a value near '-'" },
    { "# x", "where: column 1: expected a condition near '#'" },
    { "Rss " .. string.rep("a", 40),
      "where: column 5: expected a comparison operator, 'and' or 'or' near 'aaaaaaaaaaaaaaaaaaaaaaaa...'" },
  }
  for _, case in ipairs(cases) do
    T.eq(compile_error(case[1]), case[2], format("error of %q", case[1]))
  end
end)

T.test("nesting a few dozen levels deep compiles; much deeper is an error without a Lua position", function()
  local depth = 30
  local nested = string.rep("not (", depth) .. "x" .. string.rep(")", depth)
  T.eq(holds(nested, { x = 1 }), true, "30 levels of not (")
  T.eq(holds(string.rep("(", depth) .. "x" .. string.rep(")", depth), {}), false, "30 parentheses")
  T.eq(compile_error(string.rep("(", 1000) .. "x" .. string.rep(")", 1000)),
    "where: expression nested too deeply", "1000 parentheses")
  T.eq(compile_error(string.rep("not ", 1000) .. "x"), "where: expression nested too deeply", "1000 not")
end)

---------------------------------------------------------------------------------------------------
-- Real mappings

-- The expected counts were taken from the capture's smaps text, not from memscript.
T.test("counts on the mappings of the captured helper", function()
  T.eq(#fixture, 35, "mappings")
  local cases = {
    { "Rss > 100K", 3 }, { "Rss > 128K", 2 }, { "Rss >= 128K", 3 }, { "Rss == 0", 15 },
    { "Rss", 20 }, { "not Rss", 15 }, { "Locked", 1 }, { "Locked >= 32K", 1 }, { "Pss < Rss", 1 },
    { "Swap > 0", 0 }, { "Size == 496 kB", 1 }, { "size == 4K", 13 }, { "size == Size", 35 },
    { "perms == 'rw-p'", 8 }, { "perms ~ 'x'", 4 }, { "perms ~= 'rw-p'", 27 }, { "perms ~ 's'", 4 },
    { "dev == 'fe:00'", 9 }, { "dev == '00:01'", 3 }, { "inode == 10953012", 5 }, { "offset > 0", 5 },
    { "vm_start >= 0x7f0000000000", 28 }, { "vm_start < 0x7f0000000000", 7 },
    { "vm_start == 0xffffffffff600000", 1 }, { "vm_end > 0xffffffffff600000", 1 },
    { "path == ''", 17 }, { "path ~ '['", 6 }, { "path ~ '.'", 4 }, { "path ~ '(deleted)'", 4 },
    { "THPeligible == 0", 35 }, { "THPeligible ~= 0", 0 }, { "not THPeligible", 35 },
    { "not VmFlags.wr and Rss > 0", 8 }, { "not (VmFlags.wr and Rss > 0)", 23 },
    { "VmFlags.lo", 1 }, { "VmFlags.dd", 3 }, { "VmFlags.sh", 4 },
  }
  for _, case in ipairs(cases) do
    T.eq(count(case[1], fixture), case[2], case[1])
  end
end)

T.test("every example of docs/where.md gives its count on the captured helper", function()
  local text = T.read(T.source .. "/docs/where.md")
  local examples = 0
  for expr, n in text:gmatch("\n| `([^`]*)` | (%d+) |") do
    T.eq(count(expr, fixture), tonumber(n), expr)
    examples = examples + 1
  end
  T.ok(examples >= 10, "examples found: " .. examples)
end)

T.test("every error shown in docs/where.md is the one raised", function()
  local text = T.read(T.source .. "/docs/where.md")
  local shown = 0
  for expr, message in text:gmatch("\n| `([^`]*)` | `(where: [^`]*)` |") do
    T.eq(compile_error(expr), message, expr)
    shown = shown + 1
  end
  T.ok(shown >= 5, "errors found: " .. shown)
end)

T.test("counts on memscript's own mappings agree with plain Lua over the same tables", function()
  local mappings = assert(proc.smaps("self"))
  local function lua_count(fn)
    local n = 0
    for _, m in ipairs(mappings) do
      if fn(m) then n = n + 1 end
    end
    return n
  end
  local ex = lua_count(function(m) return m.perms:sub(3, 3) == "x" end)
  T.ok(ex >= 2, "memscript and libc have executable mappings")
  T.eq(count("VmFlags.ex", mappings), ex, "VmFlags.ex against perms")
  T.eq(count("perms ~ 'x'", mappings), ex, "perms ~ 'x'")
  T.eq(count("Rss > 8K", mappings), lua_count(function(m) return m.Rss > 8192 end), "Rss > 8K")
  T.eq(count("Private_Dirty", mappings), lua_count(function(m) return m.Private_Dirty ~= 0 end),
    "Private_Dirty")
  T.eq(count("path ~ '/'", mappings), lua_count(function(m) return m.path:find("/", 1, true) end),
    "path ~ '/'")
  T.eq(count('path == "[stack]"', mappings), 1, "one stack")
  T.eq(count("size == Size", mappings), #mappings, "size == Size")
end)

T.done()
