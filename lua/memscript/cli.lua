-- cli.lua: a script's command line declared once, as a spec: parsing, --help, usage errors, its lines
-- in memscript --list and its shell-completion data (memscript --complete).
--
--   local cli = require "memscript.cli"
--   local SPEC = {
--     name = "wx.lua",
--     summary = "security audit: writable+executable memory, executable stacks, ...",
--     options = {
--       { "-n", "--rows", value = "N", type = "integer", min = 1, noun = "rows",
--         help = "show the first N rows only" },
--     },
--     operands = { { "PID", type = "pids", all = true } },
--     epilog = "Exit status: 0 ...",
--   }
--   local opts = cli.parse(SPEC, arg)    -- opts.rows, opts.pids = {1234, "self"}, opts.all
--
-- cli.parse is the first thing a script does, before any work: memscript --list and --complete load
-- each bundled script in a describing mode, in which cli.parse hands the spec back (an error object
-- caught by cli.describe) instead of returning, and in which io, os, print and proc raise when
-- touched. -h and --help are added to every spec. docs/api.md ("Script command lines") describes
-- the spec's fields, the value and operand types and every function.

local type, ipairs, pairs, error, pcall, loadfile, setmetatable, tostring, tonumber, require =
  type, ipairs, pairs, error, pcall, loadfile, setmetatable, tostring, tonumber, require
local format, find, match, sub, gsub, rep = string.format, string.find, string.match, string.sub,
  string.gsub, string.rep
local concat, tointeger = table.concat, math.tointeger
local io, os = io, os
local G = _G
local wrap = require("memscript.text").wrap

local M = {}

-- The width the --help text is wrapped to, and the widest option label that keeps its help beside it.
local HELP_WIDTH, LABEL_WIDTH = 100, 28

-- Value types of options -> the kind of value --complete reports.
local VALUE_KINDS = {
  text = "text", file = "file", directory = "directory", choice = "choice", integer = "number",
  seconds = "number", size = "size", thresholds = "size", pids = "pids",
}

-- Operand types -> the kind --complete reports. path: a file or a directory.
local OPERAND_KINDS = { pid = "pid", pids = "pid", text = "text", file = "file", directory = "directory",
  path = "file" }

local HELP = { "-h", "--help", help = "show this help" }

---------------------------------------------------------------------------------------------------
-- Specs: checked and indexed once per spec table.

local compiled = setmetatable({}, { __mode = "k" })

local function spec_error(spec, fmt, ...)
  error(format("cli: spec %s: ", tostring(type(spec) == "table" and spec.name or spec)) .. format(fmt, ...), 0)
end

-- The option as the spec declares it, with its names, key and value type resolved.
local function compile_option(spec, o)
  local opt = { help = o.help, value = o.value, count = o.count, repeatable = o.repeatable,
                default = o.default, min = o.min, max = o.max, noun = o.noun, choices = o.choices,
                suggest = o.suggest, usage = o.usage }
  for _, name in ipairs(o) do
    if find(name, "^%-%-%w[%w-]*$") then
      opt.long = name
    elseif find(name, "^%-%w$") then
      opt.short = name
    else
      spec_error(spec, "bad option name '%s' (-x or --name)", tostring(name))
    end
  end
  if not opt.short and not opt.long then spec_error(spec, "an option without a name") end
  opt.key = o.key or (opt.long and gsub(sub(opt.long, 3), "-", "_")) or sub(opt.short, 2)
  if opt.value then
    opt.type = o.type or "text"
    if not VALUE_KINDS[opt.type] then spec_error(spec, "option %s: unknown type '%s'", opt.key, opt.type) end
    if opt.type == "integer" and not opt.noun then spec_error(spec, "option %s: an integer needs a noun", opt.key) end
    if opt.type == "choice" and type(opt.choices) ~= "table" then
      spec_error(spec, "option %s: a choice needs its choices", opt.key)
    end
  elseif o.type then
    spec_error(spec, "option %s: a type without a value name", opt.key)
  end
  return opt
end

local function compile_operand(spec, o)
  local operand = { name = o[1], type = o.type or "text", optional = o.optional, all = o.all,
                    unique = o.unique ~= false, parse = o.parse, unless = o.unless, words = o.words }
  if type(operand.name) ~= "string" then spec_error(spec, "an operand without a name") end
  if not OPERAND_KINDS[operand.type] then
    spec_error(spec, "operand %s: unknown type '%s'", operand.name, tostring(operand.type))
  end
  operand.many = operand.type == "pids" or o.many == true
  operand.key = o.key or (operand.type == "pids" and "pids") or operand.name:lower()
  return operand
end

local function compile(spec)
  local c = compiled[spec]
  if c then return c end
  if type(spec) ~= "table" then spec_error(spec, "a table expected") end
  if type(spec.name) ~= "string" or type(spec.summary) ~= "string" then
    spec_error(spec, "name and summary are needed")
  end
  c = { spec = spec, options = {}, rows = {}, by_name = {}, operands = {}, groups = {}, keys = {} }
  local function add(opt)
    for _, name in pairs({ short = opt.short, long = opt.long }) do
      if c.by_name[name] then spec_error(spec, "option %s declared twice", name) end
      c.by_name[name] = opt
    end
    if c.keys[opt.key] then spec_error(spec, "two results named '%s'", opt.key) end
    c.keys[opt.key] = true
    c.options[#c.options + 1] = opt
    c.rows[#c.rows + 1] = opt
  end
  for _, o in ipairs(spec.options or {}) do
    if o.label then
      c.rows[#c.rows + 1] = { label = o.label, help = o.help }
    else
      add(compile_option(spec, o))
    end
  end
  local help = compile_option(spec, HELP)
  help.is_help = true
  add(help)
  for _, o in ipairs(spec.operands or {}) do
    local operand = compile_operand(spec, o)
    if c.keys[operand.key] then spec_error(spec, "two results named '%s'", operand.key) end
    c.keys[operand.key] = true
    c.operands[#c.operands + 1] = operand
  end
  for i, operand in ipairs(c.operands) do
    if operand.many and i < #c.operands then spec_error(spec, "only the last operand may be many") end
  end
  for _, names in ipairs(spec.exclusive or {}) do
    local group = {}
    for _, name in ipairs(names) do
      local opt = c.by_name[name]
      if not opt then spec_error(spec, "exclusive: no option %s", tostring(name)) end
      group[#group + 1] = opt
      opt.group = group
    end
    c.groups[#c.groups + 1] = group
  end
  compiled[spec] = c
  return c
end

---------------------------------------------------------------------------------------------------
-- Text: the usage line and --help.

local function display_name(opt)
  return opt.short or opt.long
end

-- "a", "a and b", "a, b and c".
local function and_list(items)
  if #items == 1 then return items[1] end
  return concat(items, ", ", 1, #items - 1) .. " and " .. items[#items]
end

local function option_synopsis(opt)
  if opt.usage then return opt.usage end
  return display_name(opt) .. (opt.value and (" " .. opt.value) or "")
end

local function operand_synopsis(operand)
  local text = operand.name
  if operand.many then text = text .. "..." end
  if operand.all then text = text .. "|all" end
  if operand.optional then text = "[" .. text .. "]" end
  return text
end

-- "usage: memscript NAME.lua [-x] [-n N] PID...\n": every option but -h, a group of options that
-- exclude each other as one [a | b], then the operands.
function M.usage(spec)
  local c = compile(spec)
  local parts = { "usage: memscript" }
  if spec.host then parts[#parts + 1] = spec.host end
  parts[#parts + 1] = spec.name
  local shown = {}
  for _, opt in ipairs(c.options) do
    if not opt.is_help then
      local group = opt.group
      if group and not shown[group] then
        shown[group] = true
        local alternatives = {}
        for i, member in ipairs(group) do alternatives[i] = option_synopsis(member) end
        parts[#parts + 1] = "[" .. concat(alternatives, " | ") .. "]"
      elseif not group then
        parts[#parts + 1] = "[" .. option_synopsis(opt) .. "]"
      end
    end
  end
  for _, operand in ipairs(c.operands) do parts[#parts + 1] = operand_synopsis(operand) end
  return concat(parts, " ") .. "\n"
end

local function label_of(row)
  if row.label then return row.label end
  local names = {}
  if row.short then names[#names + 1] = row.short end
  if row.long then names[#names + 1] = row.long end
  return concat(names, ", ") .. (row.value and (" " .. row.value) or "")
end

local function block(text)
  if not text or text == "" then return "" end
  return sub(text, -1) == "\n" and text or (text .. "\n")
end

-- The whole --help text: the usage line, the intro, a table of the options, the epilog.
function M.help(spec)
  local c = compile(spec)
  local width = 0
  for _, row in ipairs(c.rows) do
    local n = #label_of(row)
    if n <= LABEL_WIDTH and n > width then width = n end
  end
  local column = 2 + width + 2
  local out = { M.usage(spec), block(spec.intro) }
  for _, row in ipairs(c.rows) do
    local label = label_of(row)
    local help = wrap(row.help or "", HELP_WIDTH - column, column)
    if #label > width then
      out[#out + 1] = "  " .. label .. "\n" .. rep(" ", column) .. help .. "\n"
    else
      out[#out + 1] = "  " .. label .. rep(" ", column - 2 - #label) .. help .. "\n"
    end
  end
  out[#out + 1] = block(spec.epilog)
  return concat(out)
end

---------------------------------------------------------------------------------------------------
-- Errors and the describing mode.

-- Set while cli.describe runs a script: cli.parse then hands its spec back instead of parsing.
local describing, described = false, nil

-- The error object that ends a script being described once it declared its spec.
local DESCRIBED = setmetatable({}, { __tostring = function() return "cli: spec declared" end })

-- Prints "memscript: NAME.lua: message" and the usage line on stderr and exits with status 3
-- (UNKNOWN), as every bundled script does on a usage error. For the checks a script makes itself
-- after cli.parse (an option that does not fit another one, say).
function M.usage_error(spec, message)
  io.stderr:write("memscript: ", spec.name, ": ", message, "\n", M.usage(spec))
  io.stderr:flush()
  os.exit(3)
end

---------------------------------------------------------------------------------------------------
-- Values.

-- The one pid syntax of the bundled scripts: "self", or a decimal number from 1 to 2^31 - 1 (leading
-- zeros are ignored: "007" is 7). Returns the pid, an integer or "self", or nil.
function M.pid(word)
  if word == "self" then return "self" end
  if type(word) ~= "string" or not find(word, "^%d+$") then return nil end
  local n = tointeger(tonumber(word))
  if n and n >= 1 and n <= 0x7fffffff then return n end
  return nil
end

-- Each value type: function(opt, typed, text) -> value | nil, message; typed is the option as given.
local CONVERT = {}

function CONVERT.text(_, _, text) return text end
CONVERT.file, CONVERT.directory = CONVERT.text, CONVERT.text

function CONVERT.integer(opt, typed, text)
  local n = find(text, "^%d+$") and tointeger(tonumber(text))
  local min = opt.min or 0
  if n and n >= min and (not opt.max or n <= opt.max) then return n end
  if opt.max then
    return nil, format("%s needs a number of %s from %d to %d, got '%s'", typed, opt.noun, min, opt.max, text)
  end
  if min == 1 then return nil, format("%s needs a positive number of %s, got '%s'", typed, opt.noun, text) end
  if min == 0 then return nil, format("%s needs a number of %s, got '%s'", typed, opt.noun, text) end
  return nil, format("%s needs a number of %s from %d up, got '%s'", typed, opt.noun, min, text)
end

-- Seconds above 0 and below 10^9, as --interval and --timeout take them: "10", "0.5", ".5".
function CONVERT.seconds(_, typed, text)
  local n = find(text, "^%d*%.?%d+$") and tonumber(text)
  if n and n > 0 and n < 1e9 then return n end
  return nil, format("%s needs a number of seconds above 0, got '%s'", typed, text)
end

function CONVERT.size(_, typed, text)
  local bytes, err = require("memscript.units").parse(text)
  if not bytes then return nil, typed .. ": " .. err end
  return bytes
end

-- WARN[,CRIT] sizes, as alert.thresholds reads them.
function CONVERT.thresholds(_, typed, text)
  local limits, err = require("memscript.alert").thresholds(text)
  if not limits then return nil, typed .. ": " .. err end
  return limits
end

function CONVERT.choice(opt, typed, text)
  for _, choice in ipairs(opt.choices) do
    if text == choice then return text end
  end
  return nil, format("%s needs one of %s, got '%s'", typed, concat(opt.choices, ", "), text)
end

-- Pids separated by commas (blanks around each allowed): a list of integers.
function CONVERT.pids(_, typed, text)
  local list = {}
  for item in (text .. ","):gmatch("([^,]*),") do
    local pid = M.pid(match(item, "^%s*(.-)%s*$"))
    if pid == nil or pid == "self" then
      return nil, format("%s needs process ids separated by commas, got '%s'", typed, text)
    end
    list[#list + 1] = pid
  end
  return list
end

---------------------------------------------------------------------------------------------------
-- Parsing.

-- Operands from their words; fail(message) on a word that is not what the operand takes.
local function operand_value(operand, word, fail)
  if operand.type == "pid" then
    local pid = (operand.parse or M.pid)(word)
    if pid == nil then fail(format("bad process id '%s'", word)) end
    return pid
  end
  return word
end

-- opts[key] of a "pids" operand: its pids (in the order given; a repeated one once unless the
-- operand says unique = false), and opts.all when the word "all" was given instead.
local function pids_value(operand, words, opts, fail)
  local list, seen, all = {}, {}, false
  for _, word in ipairs(words) do
    if operand.all and word == "all" then
      all = true
    else
      local pid = (operand.parse or M.pid)(word)
      if pid == nil then fail(format("bad process id '%s'", word)) end
      if not operand.unique or not seen[pid] then list[#list + 1] = pid end
      seen[pid] = true
    end
  end
  if all and #list > 0 then fail("give process ids or \"all\", not both") end
  opts[operand.key] = list
  if operand.all then opts.all = all end
end

local function assign_operands(c, opts, words, fail)
  local needed = {}
  for i, operand in ipairs(c.operands) do
    needed[i] = not operand.optional and not (operand.unless and opts[operand.unless])
  end
  local missing, w = {}, 1
  for i, operand in ipairs(c.operands) do
    if operand.many then
      local rest = {}
      for j = w, #words do rest[#rest + 1] = words[j] end
      w = #words + 1
      if #rest == 0 and needed[i] then missing[#missing + 1] = operand end
      if operand.type == "pids" then
        pids_value(operand, rest, opts, fail)
      else
        for j, word in ipairs(rest) do rest[j] = operand_value(operand, word, fail) end
        opts[operand.key] = rest
      end
    else
      local later = 0
      for j = i + 1, #c.operands do
        if needed[j] then later = later + 1 end
      end
      if w <= #words and (needed[i] or #words - w + 1 > later) then
        opts[operand.key] = operand_value(operand, words[w], fail)
        w = w + 1
      elseif needed[i] then
        missing[#missing + 1] = operand
      end
    end
  end
  if #missing > 0 then
    local names = {}
    for i, operand in ipairs(missing) do
      if operand.type == "pid" or operand.type == "pids" then fail("no process id given") end
      names[i] = operand.name
    end
    fail(format("%s %s needed", and_list(names), #names == 1 and "is" or "are"))
  end
  if w <= #words then
    local last = c.operands[#c.operands]
    if last and last.type == "pid" and not last.many then
      fail(format("more than one process id given ('%s')", words[w]))
    end
    fail(format("unknown argument '%s'", words[w]))
  end
end

-- The options and operands of words (arg) by the spec: a table with each option's value under its
-- key (the long name without "--", "-" as "_"; or key = "..."), true for a flag, a count for a flag
-- with count = true, the default or nil when not given; and each operand's value under its key (the
-- name in lower case; "pids" and "all" for a pids operand). -h or --help prints the help on stdout
-- and exits 0; a usage error prints the message and the usage line on stderr and exits 3.
function M.parse(spec, words)
  local c = compile(spec)
  if describing then
    described = spec
    error(DESCRIBED, 0)
  end
  words = words or {}
  local function fail(message) M.usage_error(spec, message) end
  local opts, given, operand_words = {}, {}, {}
  for _, opt in ipairs(c.options) do
    if opt.count then opts[opt.key] = 0 end
    if opt.default ~= nil then opts[opt.key] = opt.default end
  end

  local function apply(opt, typed, text)
    if opt.is_help then
      io.stdout:write(M.help(spec))
      io.stdout:flush()
      os.exit(0)
    end
    for _, other in ipairs(opt.group or {}) do
      if other ~= opt and given[other] then
        local names = {}
        for i, member in ipairs(opt.group) do names[i] = display_name(member) end
        fail(format("options %s exclude each other", and_list(names)))
      end
    end
    if not opt.value then
      if opt.count then opts[opt.key] = opts[opt.key] + 1 else opts[opt.key] = true end
    else
      if given[opt] and not opt.repeatable then fail(format("option %s given twice", typed)) end
      local value, err = CONVERT[opt.type](opt, typed, text)
      if value == nil then fail(err) end
      if opt.repeatable then
        local list = given[opt] and opts[opt.key] or {}
        if opt.type == "pids" then
          for _, pid in ipairs(value) do list[#list + 1] = pid end
        else
          list[#list + 1] = value
        end
        opts[opt.key] = list
      else
        opts[opt.key] = value
      end
    end
    given[opt] = true
  end

  local i, only_operands = 1, false
  -- The value of an option: attached ("--rows=5", "-n5") or the next word, whatever it is.
  local function value_of(opt, typed, attached)
    if attached then return attached end
    i = i + 1
    if words[i] == nil then fail(format("option %s needs a value (%s)", typed, opt.value)) end
    return words[i]
  end
  while i <= #words do
    local word = words[i]
    if only_operands or word == "-" or sub(word, 1, 1) ~= "-" then
      operand_words[#operand_words + 1] = word
    elseif word == "--" then
      only_operands = true
    elseif sub(word, 1, 2) == "--" then
      local name, attached = match(word, "^(%-%-[^=]*)=(.*)$")
      name = name or word
      local opt = c.by_name[name]
      if not opt then fail(format("unknown option '%s'", name)) end
      if attached and not opt.value then fail(format("option %s takes no value", name)) end
      apply(opt, name, opt.value and value_of(opt, name, attached))
    else
      -- short options, several in one word (-pq) and a value attached to the last (-n10)
      for j = 2, #word do
        local name = "-" .. sub(word, j, j)
        local opt = c.by_name[name]
        if not opt then
          fail(j == 2 and format("unknown option '%s'", word) or format("unknown option '%s' in '%s'", name, word))
        end
        if opt.value then
          local rest = sub(word, j + 1)
          apply(opt, name, value_of(opt, name, rest ~= "" and rest or nil))
          break
        end
        apply(opt, name)
      end
    end
    i = i + 1
  end
  assign_operands(c, opts, operand_words, fail)
  return opts
end

---------------------------------------------------------------------------------------------------
-- Describing: memscript --list and --complete.

-- What a script being described finds instead of io, os, print, proc and every module but this one:
-- a stand-in whose fields are stand-ins too (`local f = require("m").f` goes through), and which
-- ends the script when it is called, assigned into, or taken as a number, a string or a length.
local function refuse()
  error("cli: the script did work before declaring its command line", 2)
end
local FORBIDDEN = {}
setmetatable(FORBIDDEN, { __index = function() return FORBIDDEN end, __newindex = refuse, __call = refuse,
  __len = refuse, __concat = refuse, __tostring = refuse, __unm = refuse, __add = refuse, __eq = refuse,
  __lt = refuse, __le = refuse })

-- What a script may use while it is described: the base functions that touch nothing outside the
-- Lua state, and the string, table, math and utf8 libraries. Nothing else: no io, os, load,
-- loadfile, dofile, debug, package or collectgarbage, and `proc` raises when touched.
local DESCRIBE_BASE = { "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
  "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber", "tostring", "type", "xpcall",
  "_VERSION", "math", "string", "table", "utf8" }

-- The spec the script at path declares, found by running it up to its cli.parse call in an
-- environment of its own, in which only the functions above are real: require gives memscript.cli
-- itself and, for any other module, a table that raises when touched, so that describing a script
-- (memscript --list, --complete, shell completion on Tab) runs nothing with an effect, whatever the
-- file holds. nil, message when it declares none: it does not use memscript.cli, or fails before.
function M.describe(path)
  local env = { proc = FORBIDDEN, io = FORBIDDEN, os = FORBIDDEN, print = FORBIDDEN, arg = { [0] = path } }
  for _, name in ipairs(DESCRIBE_BASE) do env[name] = G[name] end
  env.require = function(name)
    if name == "memscript.cli" then return M end
    return FORBIDDEN
  end
  env._G = env
  local chunk, err = loadfile(path, "t", env)
  if not chunk then return nil, err end
  describing, described = true, nil
  local ok, result = pcall(chunk)
  describing = false
  local spec = described
  described = nil
  if spec then return spec end
  return nil, ok and (path .. ": declares no command line (memscript.cli)") or tostring(result)
end

local function basename(path)
  return match(path, "([^/]*)$")
end

-- The header of a script that declares no spec: "-- NAME.lua: what it is" on its first line and
-- "-- usage: ..." on its second, as scripts wrote them before memscript.cli.
local function header_lines(path)
  local f = io.open(path, "r")
  if not f then return "", nil end
  local first, second = f:read("l") or "", f:read("l") or ""
  f:close()
  return match(first, ": (.*)$") or "", match(second, "(usage: .*)$")
end

-- The lines memscript --list prints for the script at path: its name and summary, then its usage
-- line; from the header comment when it declares no spec.
function M.list_entry(path)
  local spec = M.describe(path)
  local summary, usage
  if spec then
    summary, usage = spec.summary, gsub(M.usage(spec), "\n$", "")
  else
    summary, usage = header_lines(path)
  end
  local out = format("%-14s %s\n", basename(path), summary)
  if usage then out = out .. format("%-14s %s\n", "", usage) end
  return out
end

local function words_text(list)
  if not list or #list == 0 then return "" end
  return " " .. concat(list, " ")
end

-- The shell-completion data of a spec, one record per line, fields separated by one space:
--   script NAME
--   option SHORT LONG KIND [WORD...]   SHORT or LONG "-" when the option has none; KIND none (a flag),
--                                      number, size, pids (comma-separated), file, directory, text,
--                                      or choice followed by the words it takes
--   operand NAME KIND ARITY [WORD...]  KIND pid, file, directory or text; ARITY one, optional, many
--                                      (one or more) or any (zero or more); WORDs it takes besides
--                                      (self, all, live)
function M.completion(spec)
  local c = compile(spec)
  local lines = { "script " .. spec.name }
  for _, opt in ipairs(c.options) do
    local kind, words = "none", nil
    if opt.value then
      kind = VALUE_KINDS[opt.type]
      words = opt.choices or opt.suggest
      if kind == "text" and words then kind = "choice" end
    end
    lines[#lines + 1] = format("option %s %s %s%s", opt.short or "-", opt.long or "-", kind, words_text(words))
  end
  for _, operand in ipairs(c.operands) do
    local arity = operand.many and (operand.optional and "any" or "many") or (operand.optional and "optional" or "one")
    local words = operand.words
    if not words and (operand.type == "pid" or operand.type == "pids") then
      words = operand.all and { "self", "all" } or { "self" }
    end
    lines[#lines + 1] = format("operand %s %s %s%s", operand.name, OPERAND_KINDS[operand.type], arity,
      words_text(words))
  end
  return concat(lines, "\n") .. "\n"
end

-- The completion data of the script at path; only its "script NAME" line when it declares no spec.
function M.completion_of(path)
  local spec = M.describe(path)
  if spec then return M.completion(spec) end
  return "script " .. basename(path) .. "\n"
end

return M
