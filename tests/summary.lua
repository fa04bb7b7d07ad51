-- Prints what a CTest run of the suite did: test files and named tests passed, failed, skipped.
-- usage: memscript tests/summary.lua BUILD_DIR [TITLE]
--
-- Reads BUILD_DIR/test-results/junit.xml (ctest --output-junit) for every test file's outcome, and
-- BUILD_DIR/test-results/NAME.txt, written by tests/lib/testing.lua, for the tests inside each file.
-- Lists every skipped test with its reason, and every failed one. Exit status 0 when the summary
-- could be made, 2 when the JUnit report is missing or unreadable.

local format, concat = string.format, table.concat

local build, title = arg[1], arg[2]
if not build then
  io.stderr:write("usage: memscript tests/summary.lua BUILD_DIR [TITLE]\n")
  os.exit(2)
end
local results_dir = build .. "/test-results"

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local text = f:read("a")
  f:close()
  return text
end

local ENTITIES = { quot = '"', amp = "&", lt = "<", gt = ">", apos = "'" }
local function unescape(s)
  return (s:gsub("&(%a+);", ENTITIES))
end

local junit = read(results_dir .. "/junit.xml")
if not junit then
  io.stderr:write("summary: no ", results_dir, "/junit.xml (run ctest with --output-junit test-results/junit.xml)\n")
  os.exit(2)
end

-- The test files in CTest's order, each { name, status = "passed" | "failed" | "skipped" }.
local files = {}
for attributes in junit:gmatch("<testcase(.-)>") do
  local name = attributes:match(' name="([^"]*)"')
  local status = attributes:match(' status="([^"]*)"')
  if name and status then
    local outcome = ({ run = "passed", fail = "failed", notrun = "skipped", disabled = "skipped" })[status]
    files[#files + 1] = { name = unescape(name), status = outcome or ("failed (" .. status .. ")") }
  end
end
if #files == 0 then
  io.stderr:write("summary: ", results_dir, "/junit.xml lists no test\n")
  os.exit(2)
end

-- The named tests of one file from its results file: lists of passed, failed and skipped tests,
-- and whether its closing line was written. nil when the file wrote none (not a Lua test file).
local function named_tests(file)
  local text = read(results_dir .. "/" .. file.name .. ".txt")
  if not text then return nil end
  local t = { passed = {}, failed = {}, skipped = {}, finished = false }
  for line in text:gmatch("[^\n]+") do
    local fields = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do fields[#fields + 1] = field end
    local kind = fields[1]
    if kind == "ok" then
      t.passed[#t.passed + 1] = fields[2]
    elseif kind == "FAILED" then
      t.failed[#t.failed + 1] = fields[2]
    elseif kind == "skip" then
      t.skipped[#t.skipped + 1] = { name = fields[2], reason = fields[3], anywhere = fields[4] == "anywhere" }
    elseif kind == "done" then
      t.finished = true
    end
  end
  return t
end

local count = { passed = 0, failed = 0, skipped = 0 }
local tests = { passed = 0, failed = 0, skipped = 0 }
local skipped_lines, failed_lines = {}, {}
for _, file in ipairs(files) do
  local kind = file.status:match("^%a+")
  count[kind] = count[kind] + 1
  local t = named_tests(file)
  if t then
    tests.passed = tests.passed + #t.passed
    tests.failed = tests.failed + #t.failed
    tests.skipped = tests.skipped + #t.skipped
    -- skips grouped by reason, in the order they came
    local reasons, by_reason = {}, {}
    for _, s in ipairs(t.skipped) do
      if not by_reason[s.reason] then
        by_reason[s.reason] = { anywhere = s.anywhere }
        reasons[#reasons + 1] = s.reason
      end
      local list = by_reason[s.reason]
      list[#list + 1] = s.name
    end
    for _, reason in ipairs(reasons) do
      local list = by_reason[reason]
      skipped_lines[#skipped_lines + 1] = format("  %s: %s (%d %s%s)", file.name, reason, #list,
        #list == 1 and "test" or "tests", list.anywhere and "; acceptable anywhere" or "")
      for _, name in ipairs(list) do skipped_lines[#skipped_lines + 1] = "      " .. name end
    end
    for _, name in ipairs(t.failed) do failed_lines[#failed_lines + 1] = format("  %s: %s", file.name, name) end
    if kind == "failed" and not t.finished then
      failed_lines[#failed_lines + 1] = format("  %s: did not finish (no closing line: an error outside a " ..
        "test, a crash or CTest's timeout; see its output)", file.name)
    elseif kind == "failed" and #t.failed == 0 then
      failed_lines[#failed_lines + 1] = format("  %s: failed with no failed test (see its output)", file.name)
    end
  elseif kind ~= "passed" then
    local line = format("  %s: %s (no named tests)", file.name, file.status)
    if kind == "failed" then failed_lines[#failed_lines + 1] = line else skipped_lines[#skipped_lines + 1] = line end
  end
end

local out = {}
out[#out + 1] = format("==== Summary%s: %d test files ====", title and (" of " .. title) or "", #files)
out[#out + 1] = format("test files:  %d passed, %d failed, %d skipped (some or all of their tests skipped)",
  count.passed, count.failed, count.skipped)
out[#out + 1] = format("named tests: %d passed, %d failed, %d skipped", tests.passed, tests.failed, tests.skipped)
if #skipped_lines > 0 then
  out[#out + 1] = "skipped, by file and reason:"
  for _, line in ipairs(skipped_lines) do out[#out + 1] = line end
end
if #failed_lines > 0 then
  out[#out + 1] = "failed:"
  for _, line in ipairs(failed_lines) do out[#out + 1] = line end
end
io.write(concat(out, "\n"), "\n")
