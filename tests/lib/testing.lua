-- The test suite's checks: named tests, equality with a readable diff, and the closing line CTest reads.
--
-- A test file:
--   local T = require "testing"
--   T.test("Rss of the heap is in bytes", function()
--     T.eq(m.Rss, 132 * 1024, "Rss")
--   end)
--   T.done()
--
-- Environment set by tests/CMakeLists.txt:
--   MEMSCRIPT_BIN       the memscript binary under test
--   MEMSCRIPT_SOURCE    the source tree
--   MEMSCRIPT_FIXTURES  tests/fixtures in the source tree
--   MEMSCRIPT_HELPER    the live helper program (tests/helper)
--   MEMSCRIPT_BUILD     the build tree

local format, concat = string.format, table.concat
local sort, type, tostring, pairs = table.sort, type, tostring, pairs

local M = {}

M.bin = os.getenv("MEMSCRIPT_BIN")
M.source = os.getenv("MEMSCRIPT_SOURCE")
M.fixtures = os.getenv("MEMSCRIPT_FIXTURES")
M.helper = os.getenv("MEMSCRIPT_HELPER")
M.build = os.getenv("MEMSCRIPT_BUILD")

local passed, failed, skipped = 0, 0, 0

local function show(v, depth)
  depth = depth or 0
  if type(v) == "string" then return format("%q", v) end
  if type(v) ~= "table" or depth > 3 then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do
    parts[#parts + 1] = format("[%s]=%s", show(k), show(v[k], depth + 1))
  end
  return "{" .. concat(parts, ", ") .. "}"
end
M.show = show

local function deep_equal(a, b)
  if a == b then return math.type(a) == math.type(b) end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do
    if not deep_equal(v, b[k]) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

-- Fails the current test; level 3 blames the test body's line.
local function fail(msg)
  error(msg, 3)
end

-- Equal values of the same type; numbers must also agree on integer versus float.
function M.eq(actual, expected, what)
  if not deep_equal(actual, expected) then
    fail(format("%s: expected %s, got %s", what or "value", show(expected), show(actual)))
  end
end

function M.ok(cond, what)
  if not cond then fail(what or "condition is false") end
end

-- haystack contains needle as plain text.
function M.contains(haystack, needle, what)
  if type(haystack) ~= "string" or not haystack:find(needle, 1, true) then
    fail(format("%s: %s does not contain %s", what or "text", show(haystack), show(needle)))
  end
end

-- Lines that differ between two texts, for comparing whole reports.
function M.same_text(actual, expected, what)
  if actual == expected then return end
  local a, e = {}, {}
  for l in (actual .. "\n"):gmatch("(.-)\n") do a[#a + 1] = l end
  for l in (expected .. "\n"):gmatch("(.-)\n") do e[#e + 1] = l end
  for i = 1, math.max(#a, #e) do
    if a[i] ~= e[i] then
      fail(format("%s differs at line %d:\n  expected: %s\n  actual:   %s",
        what or "text", i, show(e[i]), show(a[i])))
    end
  end
  fail((what or "text") .. " differs in its trailing newline")
end

-- A call that must raise an error whose message contains `needle`.
function M.raises(fn, needle, what)
  local ok, err = pcall(fn)
  if ok then fail((what or "call") .. ": expected an error, none was raised") end
  if needle and not tostring(err):find(needle, 1, true) then
    fail(format("%s: error %s does not contain %s", what or "call", show(tostring(err)), show(needle)))
  end
end

-- A traceback for failures; a skip's message is kept as it is.
local function handler(err)
  if type(err) == "string" and err:find("^SKIP: ") then return err end
  return debug.traceback(err, 2)
end

function M.test(name, fn)
  local ok, err = xpcall(fn, handler)
  if ok then
    passed = passed + 1
    io.write("ok      ", name, "\n")
  elseif type(err) == "string" and err:find("^SKIP: ") then
    skipped = skipped + 1
    io.write("skip    ", name, " (", err:sub(7), ")\n")
  else
    failed = failed + 1
    io.write("FAILED  ", name, "\n    ", tostring(err):gsub("\n", "\n    "), "\n")
  end
end

-- Skips the current test with a reason (a missing peer such as pmap).
function M.skip(reason)
  error("SKIP: " .. reason, 0)
end

-- A file's whole text; nil and the message when it cannot be opened.
function M.read_if(path)
  local f, msg = io.open(path, "rb")
  if not f then return nil, msg end
  local text = f:read("a")
  f:close()
  return text
end

-- A file's whole text; an error when it cannot be opened.
function M.read(path)
  return assert(M.read_if(path))
end

-- Writes text to a file, replacing it.
function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  assert(f:write(text))
  assert(f:close())
end

-- Runs a shell command; returns stdout, stderr and the exit status.
function M.run(cmd, stdin)
  local tmp = os.tmpname()
  local inpath
  if stdin then
    inpath = os.tmpname()
    M.write(inpath, stdin)
  end
  local full = format("(%s) 2>%s%s", cmd, tmp, inpath and (" <" .. inpath) or " </dev/null")
  local p = assert(io.popen(full, "r"))
  local out = p:read("a")
  local _, _, status = p:close()
  local err = M.read_if(tmp) or ""
  os.remove(tmp)
  if inpath then os.remove(inpath) end
  return out, err, status
end

-- A new temporary directory: its path, and a value that removes the directory when it is closed:
--   local tmp, cleanup <close> = T.tempdir()
function M.tempdir()
  local path = M.sh("mktemp -d"):gsub("\n$", "")
  return path, setmetatable({}, { __close = function() M.run("rm -rf " .. M.q(path)) end })
end

-- Runs a shell command that must succeed (exit 0); returns its stdout.
function M.sh(cmd)
  local out, err, status = M.run(cmd)
  if status ~= 0 then error(format("%s: exit %s: %s%s", cmd, tostring(status), out, err), 2) end
  return out
end

-- Runs memscript with args (already quoted for the shell), with the environment variables that
-- change what it does cleared, reading root instead of /proc when given. Returns stdout, stderr, status.
function M.memscript(root, args)
  local root_option = root and ("--proc-root " .. M.q(root) .. " ") or ""
  return M.run("env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " .. M.q(M.bin) .. " " .. root_option .. args)
end

-- lua-cjson decodes every number as a float; integral ones are made integers again, in place, so
-- that T.eq can compare them with the exact integers expected (check the raw text for exactness).
function M.integers(v)
  if type(v) == "table" then
    for k, x in pairs(v) do v[k] = M.integers(x) end
    return v
  end
  if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then return math.tointeger(v) end
  return v
end

-- JSON text decoded, with integral numbers as integers.
function M.json(text)
  return M.integers(require("cjson").decode(text))
end

-- CSV text (RFC 4180: records end with CRLF, a quoted field may hold commas, line breaks and doubled
-- quotes) as an array of records, each an array of field strings; an error for anything else.
function M.csv(text)
  local records, i, n = {}, 1, #text
  if n > 0 and text:sub(-2) ~= "\r\n" then error("CSV text does not end with CRLF: " .. show(text), 2) end
  while i <= n do
    local record = {}
    while true do
      local field
      if text:sub(i, i) == '"' then
        local parts = {}
        i = i + 1
        while true do
          local q = text:find('"', i, true)
          if not q then error("unterminated quoted field in " .. show(text), 2) end
          parts[#parts + 1] = text:sub(i, q - 1)
          if text:sub(q + 1, q + 1) ~= '"' then i = q + 1; break end
          parts[#parts + 1] = '"'
          i = q + 2
        end
        field = concat(parts)
      else
        local stop = text:find("[,\r]", i) or n + 1
        field = text:sub(i, stop - 1)
        if field:find('["\n]') then error("quote or line break in an unquoted field: " .. show(field), 2) end
        i = stop
      end
      record[#record + 1] = field
      if text:sub(i, i) == "," then
        i = i + 1
      elseif text:sub(i, i + 1) == "\r\n" then
        i = i + 2
        break
      else
        error(format("expected ',' or CRLF at byte %d of %s", i, show(text)), 2)
      end
    end
    records[#records + 1] = record
  end
  return records
end

-- Quotes a string for the shell.
function M.q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Prints the closing line and exits non-zero when anything failed.
function M.done()
  io.write(format("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
  -- closing the state runs the test file's <close> cleanups (helper processes, temporary files)
  os.exit(failed == 0 and passed > 0 and 0 or 1, true)
end

return M
