-- A headless Chromium driven over the DevTools protocol through a pipe, for the tests of the pictures.
--
--   local browser = require "browser"
--   local b = browser.start()          -- T.skip when there is no chromium
--   local page = b:open("file:///tmp/x.svg#zoom=f3", 1200, 400)
--   page:eval("document.title")       --> the value (JSON-able), an error for an exception
--   page:move(x, y); page:click(x, y) -- real pointer events, as a user's
--   page:pixels()                     --> {width, height, painted, colours} of a screenshot
--   page:problems()                   --> script exceptions, console errors, requests other than the page
--   b:close()
--
-- Chromium is started with --remote-debugging-pipe: it reads the protocol's JSON messages, each
-- ended by a NUL byte, on descriptor 3 and writes its own on descriptor 4, here two FIFOs in a
-- temporary directory, so no port is opened and nothing but the test talks to it. Every run of it
-- is bounded by timeout(1); when it dies, the pipe ends and the reads here fail instead of hanging.

local T = require "testing"
local cjson = require "cjson"

local format, concat = string.format, table.concat

local M = {}

-- The flags a headless Chromium needs on a closed machine, as root, with a fresh profile.
local FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking " ..
  "--disable-component-update --disable-sync --disable-extensions --hide-scrollbars --mute-audio " ..
  "--remote-debugging-pipe"

-- The browser's program, or nil.
function M.program()
  for _, path in ipairs({ "/usr/bin/chromium", "/usr/bin/chromium-browser" }) do
    local f = io.open(path, "rb")
    if f then f:close(); return path end
  end
  return nil
end

local Browser, Page = {}, {}
Browser.__index, Page.__index = Browser, Page

-- Starts the browser; skips the test (one the CI machine must run) when there is none.
function M.start()
  local program = M.program()
  if not program then T.skip("chromium is not installed (the Debian package chromium)") end
  local dir, cleanup = T.tempdir()
  T.sh(format("mkfifo %s/in %s/out", T.q(dir), T.q(dir)))
  os.execute(format("(exec timeout -k 5 150 %s %s --user-data-dir=%s about:blank 3<%s 4>%s >%s 2>&1 &)",
    T.q(program), FLAGS, T.q(dir .. "/profile"), T.q(dir .. "/in"), T.q(dir .. "/out"), T.q(dir .. "/log")))
  -- in the order the shell opens them, or both would wait forever
  local input = assert(io.open(dir .. "/in", "wb"))
  local output = assert(io.open(dir .. "/out", "rb"))
  local b = setmetatable({ dir = dir, cleanup = cleanup, input = input, output = output, id = 0, events = {},
                           started = os.clock() }, Browser)
  b.version = b:send("Browser.getVersion").product
  return b
end

-- The next message from the browser; an error when it has gone.
function Browser:receive()
  local parts, read = {}, self.output.read
  while true do
    local c = read(self.output, 1)
    if c == nil then
      error("the browser ended: " .. (T.read_if(self.dir .. "/log") or ""):sub(-2000), 2)
    end
    if c == "\0" then break end
    parts[#parts + 1] = c
  end
  return cjson.decode(concat(parts))
end

-- Sends a command (to a page when session is given) and returns its result; events that arrive
-- meanwhile are kept. An error when the browser answers with one.
function Browser:send(method, params, session)
  self.id = self.id + 1
  local id = self.id
  local message = cjson.encode({ id = id, method = method, sessionId = session })
  -- an empty params table must be an object, which cjson cannot tell from an array
  local params_json = params and next(params) and cjson.encode(params) or "{}"
  message = message:sub(1, -2) .. ',"params":' .. params_json .. "}"
  self.input:write(message, "\0")
  self.input:flush()
  while true do
    local m = self:receive()
    if m.id == id then
      if m.error then error(format("%s: %s", method, cjson.encode(m.error)), 2) end
      return m.result
    end
    self.events[#self.events + 1] = m
  end
end

-- Waits for an event of a session that satisfies test(event); returns it.
function Browser:wait(session, method, test)
  local i = 1
  while true do
    while i <= #self.events do
      local e = self.events[i]
      if e.sessionId == session and e.method == method and (not test or test(e)) then
        table.remove(self.events, i)
        return e
      end
      i = i + 1
    end
    self.events[#self.events + 1] = self:receive()
  end
end

-- Opens url in a new tab of width x height pixels and waits until it has loaded.
function Browser:open(url, width, height)
  local target = self:send("Target.createTarget", { url = "about:blank" }).targetId
  local session = self:send("Target.attachToTarget", { targetId = target, flatten = true }).sessionId
  local page = setmetatable({ browser = self, session = session, target = target, url = url }, Page)
  for _, domain in ipairs({ "Page", "Runtime", "Log", "Network" }) do self:send(domain .. ".enable", nil, session) end
  -- a dialog would stop the page: counted instead (Page:alerts), as a script a name smuggled in would call it
  self:send("Page.addScriptToEvaluateOnNewDocument", { source = "window.__dialogs = 0; window.alert = " ..
    "window.confirm = window.prompt = function () { window.__dialogs++; };" }, session)
  self:send("Emulation.setDeviceMetricsOverride", { width = width or 1200, height = height or 800,
    deviceScaleFactor = 1, mobile = false }, session)
  self:send("Page.navigate", { url = url }, session)
  self:wait(session, "Page.loadEventFired")
  return page
end

-- Closes the browser, waits until it has closed its end of the pipe, and removes its profile.
function Browser:close()
  if self.closed then return end
  self.closed = true
  pcall(self.send, self, "Browser.close")
  while self.output:read(4096) do end
  self.input:close()
  self.output:close()
  getmetatable(self.cleanup).__close(self.cleanup)
end

-- The value of a JavaScript expression in the page (a promise is awaited); an error for an exception.
function Page:eval(expression)
  local r = self.browser:send("Runtime.evaluate", { expression = expression, returnByValue = true,
    awaitPromise = true }, self.session)
  if r.exceptionDetails then
    error("in the page: " .. cjson.encode(r.exceptionDetails), 2)
  end
  return T.integers(r.result.value)
end

-- The pointer moved to (x, y), as a user moves it (mouseover and mouseout follow).
function Page:move(x, y)
  self.browser:send("Input.dispatchMouseEvent", { type = "mouseMoved", x = x, y = y }, self.session)
end

-- A click of the left button at (x, y).
function Page:click(x, y)
  self:move(x, y)
  for _, kind in ipairs({ "mousePressed", "mouseReleased" }) do
    self.browser:send("Input.dispatchMouseEvent", { type = kind, x = x, y = y, button = "left", clickCount = 1 },
      self.session)
  end
end

-- The centre of the element with this id, in the page's pixels.
function Page:centre(id)
  local r = self:eval(format([[(function () { var b = document.getElementById(%q).getBoundingClientRect();
    return [b.left + b.width / 2, b.top + b.height / 2]; })()]], id))
  return r[1], r[2]
end

-- A screenshot of the page, measured in a blank tab: its size, the pixels painted (not white) and
-- the number of distinct colours.
function Page:pixels()
  local shot = self.browser:send("Page.captureScreenshot", { format = "png" }, self.session).data
  local b = self.browser
  if not b.scratch then b.scratch = b:open("about:blank", 100, 100) end
  return b.scratch:eval(format([[(async function () {
    var img = new Image();
    img.src = "data:image/png;base64,%s";
    await img.decode();
    var canvas = document.createElement("canvas");
    canvas.width = img.width; canvas.height = img.height;
    var ctx = canvas.getContext("2d");
    ctx.drawImage(img, 0, 0);
    var d = ctx.getImageData(0, 0, img.width, img.height).data, painted = 0, colours = new Set();
    for (var i = 0; i < d.length; i += 4) {
      if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) painted++;
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
    return { width: img.width, height: img.height, painted: painted, colours: colours.size };
  })()]], shot))
end

-- What went wrong in the page so far: uncaught exceptions, console errors and log errors, and any
-- request for something other than the page's own URL (a picture is one self-contained file).
function Page:problems()
  local problems = {}
  local page_url = self.url:gsub("#.*$", "")
  for _, e in ipairs(self.browser.events) do
    if e.sessionId == self.session then
      if e.method == "Runtime.exceptionThrown" then
        problems[#problems + 1] = "exception: " .. cjson.encode(e.params.exceptionDetails)
      elseif e.method == "Runtime.consoleAPICalled" and (e.params.type == "error" or e.params.type == "warning") then
        problems[#problems + 1] = "console: " .. cjson.encode(e.params.args)
      elseif e.method == "Log.entryAdded" and e.params.entry.level == "error" then
        problems[#problems + 1] = "log: " .. tostring(e.params.entry.text)
      elseif e.method == "Network.requestWillBeSent" and e.params.request.url:gsub("#.*$", "") ~= page_url then
        problems[#problems + 1] = "request: " .. tostring(e.params.request.url)
      end
    end
  end
  return problems
end

return M
