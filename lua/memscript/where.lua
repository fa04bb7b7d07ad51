-- The `where` filter language: compiles "Rss > 1M and not anon" into a predicate over mapping tables.

local lpeg = require "lpeg"
local size = require "memscript.size"
local P, R, S, C, Cp, Cs, Ct, Cmt, V = lpeg.P, lpeg.R, lpeg.S, lpeg.C, lpeg.Cp, lpeg.Cs,
  lpeg.Ct, lpeg.Cmt, lpeg.V
local error, format, pcall, require, setmetatable, tonumber, tostring, type =
  error, string.format, pcall, require, setmetatable, tonumber, tostring, type
local find, match, sub = string.find, string.match, string.sub
local mtype, ult = math.type, math.ult

local M = {}

-- Names computed from the whole mapping rather than read from one key, name -> function(m).
-- They take precedence over keys of m; compile() looks them up when it compiles.
M.derived = {}

---------------------------------------------------------------------------------------------------
-- Syntax errors: "where: column N: expected X near 'TEXT'", raised from inside the match.

-- The token found at pos, quoted in messages; long tokens are cut.
local function token_at(s, pos)
  local c = sub(s, pos, pos)
  local token
  if c == '"' or c == "'" then
    token = match(s, "^" .. c .. "[^" .. c .. "]*" .. c .. "?", pos)
  else
    token = match(s, "^[%w_.\128-\255]+", pos) or match(s, "^[<>=!~]+", pos) or c
  end
  if #token > 24 then token = sub(token, 1, 24) .. "..." end
  return token
end

-- Level 0: the message is about the expression, so no Lua position is prefixed to it.
local function syntax_error(s, pos, expected)
  pos = match(s, "^%s*()", pos)  -- point at the token, not at the blanks before it
  if pos > #s then
    error(format("where: column %d: expected %s at end of expression", pos, expected), 0)
  end
  error(format("where: column %d: expected %s near '%s'", pos, expected, token_at(s, pos)), 0)
end

-- Matches nothing: reports what was expected at the current position.
local function expected(what)
  return P(function(s, i) syntax_error(s, i, what) end)
end

---------------------------------------------------------------------------------------------------
-- Values compared by the predicates. Integers are read as unsigned 64-bit numbers, as addresses
-- are: vm_start of [vsyscall] (0xffffffffff600000) is a negative Lua integer but the largest one.

local TWO_POW_64 = 2.0 ^ 64

local function as_unsigned(x)
  if mtype(x) == "integer" and x < 0 then return x + TWO_POW_64 end
  return x
end

-- Each test returns false when a or b is absent or of another type: nil is not 0.
local function less(a, b)
  local ta, tb = mtype(a), mtype(b)
  if ta == "integer" and tb == "integer" then return ult(a, b) end
  if ta and tb then return as_unsigned(a) < as_unsigned(b) end
  return type(a) == "string" and type(b) == "string" and a < b
end

local function less_equal(a, b)
  local ta, tb = mtype(a), mtype(b)
  if ta == "integer" and tb == "integer" then return a == b or ult(a, b) end
  if ta and tb then return as_unsigned(a) <= as_unsigned(b) end
  return type(a) == "string" and type(b) == "string" and a <= b
end

local function equal(a, b)
  local ta, tb = mtype(a), mtype(b)
  if ta and tb then
    if ta == tb then return a == b end
    return as_unsigned(a) == as_unsigned(b)
  end
  local t = type(a)
  return (t == "string" or t == "boolean") and t == type(b) and a == b
end

local function not_equal(a, b)
  if mtype(a) and mtype(b) then return not equal(a, b) end
  local t = type(a)
  return (t == "string" or t == "boolean") and t == type(b) and a ~= b
end

-- Plain substring, not a Lua pattern.
local function contains(a, b)
  return type(a) == "string" and type(b) == "string" and find(a, b, 1, true) ~= nil
end

-- ">" and ">=" are compiled as "<" and "<=" with the operands swapped.
local tests = {
  ["<"] = less, ["<="] = less_equal, [">"] = less, [">="] = less_equal,
  ["=="] = equal, ["~="] = not_equal, ["!="] = not_equal, ["~"] = contains,
}
local swapped = { [">"] = true, [">="] = true }

---------------------------------------------------------------------------------------------------
-- Closures built from the parsed operands. An operand is one of
--   {const = v}  a literal      {name = "Rss"}  m.Rss
--   {flag = "wr"}  m.VmFlags.wr      {derived = fn}  fn(m)

local function getter(operand)
  local key, code, fn = operand.name, operand.flag, operand.derived
  if key then return function(m) return m[key] end end
  if code then
    return function(m)
      local flags = m.VmFlags
      if flags then return flags[code] end
      return nil
    end
  end
  if fn then return fn end
  local value = operand.const
  return function() return value end
end

local function compile_comparison(lhs, op, rhs)
  local test = tests[op]
  if swapped[op] then lhs, rhs = rhs, lhs end
  local a, b = lhs.const, rhs.const
  if a ~= nil and b ~= nil then
    local result = test(a, b)
    return function() return result end
  end
  -- The common shapes (Rss > 1M, path ~ "lib") index m directly; an integer literal against an
  -- integer field, the commonest of all, skips the type dispatch (x <= y is "not y < x").
  if (test == less or test == less_equal) and mtype(a) == "integer" and rhs.name then
    local key = rhs.name
    if test == less then
      return function(m)
        local v = m[key]
        if mtype(v) == "integer" then return ult(a, v) end
        return less(a, v)
      end
    end
    return function(m)
      local v = m[key]
      if mtype(v) == "integer" then return not ult(v, a) end
      return less_equal(a, v)
    end
  end
  if (test == less or test == less_equal) and mtype(b) == "integer" and lhs.name then
    local key = lhs.name
    if test == less then
      return function(m)
        local v = m[key]
        if mtype(v) == "integer" then return ult(v, b) end
        return less(v, b)
      end
    end
    return function(m)
      local v = m[key]
      if mtype(v) == "integer" then return not ult(b, v) end
      return less_equal(v, b)
    end
  end
  if b ~= nil and lhs.name then
    local key = lhs.name
    return function(m) return test(m[key], b) end
  end
  if a ~= nil and rhs.name then
    local key = rhs.name
    return function(m) return test(a, m[key]) end
  end
  if b ~= nil then
    local get = getter(lhs)
    return function(m) return test(get(m), b) end
  end
  if a ~= nil then
    local get = getter(rhs)
    return function(m) return test(a, get(m)) end
  end
  local get_a, get_b = getter(lhs), getter(rhs)
  return function(m) return test(get_a(m), get_b(m)) end
end

-- A bare name is true when its value is neither absent, false, 0 nor "".
local function compile_truth(operand)
  local key, code, fn = operand.name, operand.flag, operand.derived
  if key then
    return function(m)
      local v = m[key]
      return v ~= nil and v ~= false and v ~= 0 and v ~= ""
    end
  end
  if code then
    return function(m)
      local flags = m.VmFlags
      return flags ~= nil and flags[code] ~= nil and flags[code] ~= false
    end
  end
  return function(m)
    local v = fn(m)
    return v ~= nil and v ~= false and v ~= 0 and v ~= ""
  end
end

local function all_of(predicates)
  local fn = predicates[1]
  for i = 2, #predicates do
    local first, second = fn, predicates[i]
    fn = function(m) return first(m) and second(m) end
  end
  return fn
end

local function any_of(predicates)
  local fn = predicates[1]
  for i = 2, #predicates do
    local first, second = fn, predicates[i]
    fn = function(m) return first(m) or second(m) end
  end
  return fn
end

local function negate(fn)
  return function(m) return not fn(m) end
end

---------------------------------------------------------------------------------------------------
-- The grammar (docs/where.md has it in EBNF). Match-time captures check what a plain PEG cannot
-- and raise the syntax errors; the captures are the closures above, never Lua source.

local blank = S" \t\r\n"^0
local digit = R"09"
local hexdigit = R("09", "af", "AF")
local idstart = R("az", "AZ") + "_"
local idchar = idstart + digit
local keyword = (P"and" + "or" + "not") * -idchar

local function word(w) return P(w) * -idchar end

-- A decimal number is a size, read by the one size grammar of memscript.size (the same as
-- units.parse and --max-memory): "1.5M", "512 kB", "2g" in whole bytes. A unit is taken only as a
-- whole word, so what follows a number that is not a unit is left for the checks below.
local decimal_number = Cmt(Cp() * #digit, function(s, _, start)
  local bytes, after = size.scan(s, start)
  if not bytes then
    syntax_error(s, start, after == "too large" and "a size below 2^63 bytes (8E)" or "a number")
  end
  return after, { const = bytes }
end)

local hex_number = Cmt(Cp() * P"0" * S"xX" * (C(hexdigit^1) + expected("hexadecimal digits")),
  function(s, i, start, digits)
    if #match(digits, "^0*(.*)") > 16 then syntax_error(s, start, "at most 16 hexadecimal digits") end
    return i, { const = tonumber(digits, 16) }  -- wraps above 2^63 like the addresses do
  end)

local number = hex_number * (-idchar + expected("hexadecimal digits"))
  + decimal_number * (-idchar + expected("a size unit such as K, MiB or GB"))

local function quoted(q)
  local escape = P"\\" / "" * (S"\\\"'" + expected("\\\\, \\\" or \\' after the backslash"))
  local body = Cs((escape + (1 - S(q .. "\\")))^0)
  return Cmt(Cp() * P(q) * body * C(P(q)^-1), function(s, i, open, text, close)
    if close == "" then syntax_error(s, open, q .. " to close this string") end
    return i, { const = text }
  end)
end
local string_literal = quoted('"') + quoted("'")

local field = Cmt(Cp() * -keyword * C(idstart * idchar^0) * ("." * Cp() * C(idchar^0))^-1,
  function(s, i, start, name, dot, code)
    if dot then
      if name ~= "VmFlags" then syntax_error(s, start, "a name without '.' (only VmFlags.xx has one)") end
      if #code ~= 2 then syntax_error(s, dot, "a two-character VmFlags code") end
      return i, { flag = code }
    end
    local fn = M.derived[name]
    if fn then return i, { derived = fn } end
    return i, { name = name }
  end)

local value = number + string_literal + field
local value_start = blank * (digit + S"\"'" + (idstart - keyword))

local comparison_operator = Cmt(Cp() * C(S"<>=!~"^1), function(s, i, start, op)
  if not tests[op] then syntax_error(s, start, "a comparison operator (< <= > >= == ~= != ~)") end
  return i, op
end)

local comparison = Cmt(value * Cp()
    * (blank * comparison_operator * blank * (value + expected("a value")))^-1,
  function(s, i, lhs, after, op, rhs)
    if op then return i, compile_comparison(lhs, op, rhs) end
    if lhs.const ~= nil then syntax_error(s, after, "a comparison operator") end
    if lpeg.match(value_start, s, after) then
      syntax_error(s, after, "a comparison operator, 'and' or 'or'")
    end
    return i, compile_truth(lhs)
  end)

local grammar = P{ "top",
  top = blank * V"disjunction" * blank * (-P(1) + expected("'and', 'or' or end of expression")),
  disjunction = Ct(V"conjunction" * (blank * word"or" * V"conjunction")^0) / any_of,
  conjunction = Ct(V"condition" * (blank * word"and" * V"condition")^0) / all_of,
  condition = blank * (word"not" * V"condition" / negate + V"group" + comparison
    + expected("a condition")),
  group = Cmt(Cp() * "(" * V"disjunction" * blank * C(P")"^-1), function(s, i, open, fn, close)
    if close == "" then syntax_error(s, i, format("')' to close the '(' of column %d", open)) end
    return i, fn
  end),
}

---------------------------------------------------------------------------------------------------

-- Returns function(m) -> boolean for expr; raises "where: column N: expected X near 'TEXT'".
function M.compile(expr)
  if type(expr) ~= "string" then
    error(format("bad argument #1 to 'compile' (string expected, got %s)", type(expr)), 2)
  end
  local ok, result = pcall(lpeg.match, grammar, expr)
  if ok then return result end
  -- Each level of parentheses or "not" takes room on LPeg's backtrack stack, which is bounded.
  if find(result, "backtrack stack overflow", 1, true) then
    error("where: expression nested too deeply", 0)
  end
  error(result, 0)
end

-- The classifier provides the derived names when it is built in; a broken one is not hidden.
do
  local ok, classify = pcall(require, "memscript.classify")
  if ok and type(classify) == "table" then
    M.derived.kind = classify.kind
    M.derived.anon = classify.anonymous
    M.derived.shared = classify.shared
    M.derived.readable = classify.readable
    M.derived.writable = classify.writable
    M.derived.executable = classify.executable
  elseif not ok and not find(tostring(classify), "module 'memscript.classify' not found", 1, true) then
    error(classify, 0)
  end
end

return setmetatable(M, { __call = function(_, expr) return M.compile(expr) end })
