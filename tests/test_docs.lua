-- Every Lua example in docs/ runs, and prints exactly the output the page shows.
--
-- A page's example is a ```lua block; a line "-- args: A B" in it gives the script's arguments.
-- When an ```output block follows it, stdout must equal it. Examples run on the captured tree in
-- tests/fixtures/helper-capture/proc (the suite's helper program, captured by capture.lua), whose
-- path is shown as /proc in the pages.

local T = require "testing"

local root = T.fixtures .. "/helper-capture/proc"

-- The examples of one page: { line = n, code = text, args = "..", output = text or nil }.
local function examples(text)
  local list, lines = {}, {}
  for line in (text .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = line end
  local i = 1
  while i <= #lines do
    if lines[i] == "```lua" then
      local start, body = i, {}
      i = i + 1
      while i <= #lines and lines[i] ~= "```" do body[#body + 1] = lines[i]; i = i + 1 end
      local code = table.concat(body, "\n") .. "\n"
      local example = { line = start, code = code, args = code:match("%-%- args: ([^\n]*)") or "" }
      -- an output block may follow after blank lines
      local j = i + 1
      while j <= #lines and lines[j] == "" do j = j + 1 end
      if lines[j] == "```output" then
        local out = {}
        j = j + 1
        while j <= #lines and lines[j] ~= "```" do out[#out + 1] = lines[j]; j = j + 1 end
        example.output = table.concat(out, "\n") .. (#out > 0 and "\n" or "")
        i = j
      end
      list[#list + 1] = example
    end
    i = i + 1
  end
  return list
end

local pages = {}
local p = assert(io.popen("ls " .. T.q(T.source .. "/docs") .. "/*.md"))
for path in p:lines() do pages[#pages + 1] = path end
p:close()

local total = 0
for _, path in ipairs(pages) do
  local name = path:match("[^/]+$")
  for _, ex in ipairs(examples(T.read(path))) do
    total = total + 1
    T.test(string.format("%s:%d example runs%s", name, ex.line, ex.output and " and prints what the page shows" or ""), function()
      local out, err, status = T.memscript(root, "- " .. ex.args, { stdin = ex.code })
      T.eq(status, 0, "exit status (stderr: " .. err .. ")")
      if ex.output then
        out = out:gsub(root:gsub("%p", "%%%0"), "/proc")
        T.same_text(out, ex.output, "output")
      end
    end)
  end
end

T.test("the pages have examples to run", function()
  T.ok(total >= 10, "expected at least ten examples in docs/, found " .. total)
end)

T.done()
