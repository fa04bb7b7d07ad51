-- The test suite's checks: named tests, equality with a readable diff, and the closing line CTest reads.
--
-- A test file:
--   local T = require "testing"
--   T.test("Rss of the heap is in bytes", function()
--     T.eq(m.Rss, 132 * 1024, "Rss")
--   end)
--   T.done()
--
-- A test that cannot run here says why with T.skip(reason): it is reported as skipped, never as
-- passed, and a file with skipped tests exits with SKIP_CODE, which CTest shows as "Skipped".
-- T.skip(reason) is for what the CI machine has (root, pmap, promtool, a kernel feature): with
-- MEMSCRIPT_TEST_STRICT=1 in the environment (.ci/run sets it) such a skip is a failure.
-- T.skip(reason, "anywhere") is for what no machine is required to have, such as the other
-- projects' captures in ../shared/fixtures (T.shared).
--
-- Environment set by tests/CMakeLists.txt:
--   MEMSCRIPT_BIN               the memscript binary under test
--   MEMSCRIPT_SOURCE            the source tree
--   MEMSCRIPT_FIXTURES          tests/fixtures in the source tree
--   MEMSCRIPT_SHARED_FIXTURES   ../shared/fixtures beside the source tree (may be absent)
--   MEMSCRIPT_HELPER            the live helper program (tests/helper)
--   MEMSCRIPT_BUILD             the build tree
--   MEMSCRIPT_TEST_NAME         the CTest name of this test file
--   MEMSCRIPT_TEST_RESULTS      a file to write each test's outcome to, for the summary that
--                               tests/summary.lua prints (build.sh test)

local format, concat = string.format, table.concat
local sort, type, tostring, pairs = table.sort, type, tostring, pairs

local M = {}

M.bin = os.getenv("MEMSCRIPT_BIN")
M.source = os.getenv("MEMSCRIPT_SOURCE")
M.fixtures = os.getenv("MEMSCRIPT_FIXTURES")
M.helper = os.getenv("MEMSCRIPT_HELPER")
M.build = os.getenv("MEMSCRIPT_BUILD")
M.shared_fixtures = os.getenv("MEMSCRIPT_SHARED_FIXTURES")
M.strict = os.getenv("MEMSCRIPT_TEST_STRICT") == "1"

-- The exit status of a file in which nothing failed and something was skipped (SKIP_RETURN_CODE in
-- tests/CMakeLists.txt); the automake convention.
M.SKIP_CODE = 77

local passed, failed, skipped = 0, 0, 0

-- One line per test, tab-separated, for tests/summary.lua: "ok NAME", "FAILED NAME",
-- "skip NAME REASON anywhere|ci", and at the end "done PASSED FAILED SKIPPED". A file without its
-- "done" line did not finish.
local results
do
  local path = os.getenv("MEMSCRIPT_TEST_RESULTS")
  if path and path ~= "" then results = assert(io.open(path, "w")) end
end

local function record(...)
  if not results then return end
  local fields = table.pack(...)
  for i = 1, fields.n do fields[i] = tostring(fields[i]):gsub("[\t\r\n]", " ") end
  results:write(concat(fields, "\t"), "\n")
  results:flush()
end

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

-- What T.skip raises: the reason, and whether the skip is acceptable on every machine.
local Skip = {}
Skip.__index = Skip
function Skip.__tostring(s) return "SKIP: " .. s.reason end

local function is_skip(err)
  return getmetatable(err) == Skip
end

-- A traceback for failures; a skip is kept as it is.
local function handler(err)
  if is_skip(err) then return err end
  return debug.traceback(err, 2)
end

local function report_failure(name, message)
  failed = failed + 1
  io.write("FAILED  ", name, "\n    ", tostring(message):gsub("\n", "\n    "), "\n")
  record("FAILED", name)
end

function M.test(name, fn)
  local ok, err = xpcall(fn, handler)
  if ok then
    passed = passed + 1
    io.write("ok      ", name, "\n")
    record("ok", name)
  elseif is_skip(err) and M.strict and not err.anywhere then
    report_failure(name, "skipped, and MEMSCRIPT_TEST_STRICT=1 requires this test to run: " .. err.reason)
  elseif is_skip(err) then
    skipped = skipped + 1
    io.write("skip    ", name, " (", err.reason, ")\n")
    record("skip", name, err.reason, err.anywhere and "anywhere" or "ci")
  else
    report_failure(name, err)
  end
end

-- Skips the current test with a reason. Without `where`, the reason is something the CI machine
-- has (root, an installed peer such as pmap, a kernel feature), and with MEMSCRIPT_TEST_STRICT=1
-- the skip is a failure. With where = "anywhere" the skip is acceptable on every machine.
function M.skip(reason, where)
  if where ~= nil and where ~= "anywhere" then
    error("T.skip: the second argument is nil or \"anywhere\", got " .. show(where), 2)
  end
  error(setmetatable({ reason = reason, anywhere = where == "anywhere" }, Skip), 0)
end

-- The path of a file or directory under ../shared/fixtures (other projects' captures, read in
-- place, never copied here); skips the test, on any machine, when that folder is absent.
function M.shared(path)
  local root = M.shared_fixtures
  local probe = root and io.open(root .. "/.", "rb")
  if not probe then M.skip("no ../shared/fixtures", "anywhere") end
  probe:close()
  local full = root .. "/" .. path
  local f = io.open(full, "rb")
  if not f then error("../shared/fixtures has no " .. path, 2) end
  f:close()
  return full
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

-- The shell command that runs memscript with args (already quoted for the shell), reading root
-- instead of /proc when given, with the environment variables that change what it does
-- (MEMSCRIPT_PATH, MEMSCRIPT_PROC_ROOT) cleared. Every run of memscript in the suite goes through
-- here. opts, all optional:
--   env      variable assignments for memscript, already quoted ("HOME=/tmp/x TERM=xterm"); they
--            are set after the clearing, so a test may set MEMSCRIPT_PATH itself
--   dir      the directory to run in
--   prefix   a command memscript runs under, already quoted ("setpriv --reuid=65534 ...", "timeout 60")
--   bin      another memscript binary to run (an installed copy) instead of the one under test
-- The result is one shell command: it can be put in the background, in a pipeline, or given to
-- script(1) or ptydrive.
function M.memscript_command(root, args, opts)
  opts = opts or {}
  local parts = {}
  if opts.dir then parts[#parts + 1] = "cd " .. M.q(opts.dir) .. " &&" end
  if opts.prefix then parts[#parts + 1] = opts.prefix end
  parts[#parts + 1] = "env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT"
  if opts.env and opts.env ~= "" then parts[#parts + 1] = opts.env end
  parts[#parts + 1] = M.q(opts.bin or M.bin)
  if root then parts[#parts + 1] = "--proc-root " .. M.q(root) end
  if args and args ~= "" then parts[#parts + 1] = args end
  return concat(parts, " ")
end

-- Runs memscript (see memscript_command; opts.stdin is its standard input). Returns stdout,
-- stderr and the exit status.
function M.memscript(root, args, opts)
  return M.run(M.memscript_command(root, args, opts), opts and opts.stdin)
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

-- Prints the closing line and exits: 1 when anything failed or no test ran at all, SKIP_CODE when
-- something was skipped, 0 when every test passed.
function M.done()
  io.write(format("%d passed, %d failed, %d skipped\n", passed, failed, skipped))
  record("done", passed, failed, skipped)
  if results then results:close() end
  local status = 0
  if failed > 0 or passed + skipped == 0 then
    status = 1
  elseif skipped > 0 then
    status = M.SKIP_CODE
  end
  -- closing the state runs the test file's <close> cleanups (helper processes, temporary files)
  os.exit(status, true)
end

return M
