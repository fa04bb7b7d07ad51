-- The pictures in a real browser: headless Chromium renders each, its script runs without error, and
-- pointing and clicking do what the page says.
--
-- Chromium (the Debian package chromium) is driven over the DevTools protocol through a pipe
-- (tests/lib/browser.lua). Each picture is opened from its file: it must load nothing else, raise no
-- exception or console error, open no dialog, mark itself ready (its script ran to the end), paint a
-- picture that is not blank, and hold the expected labels in its DOM. The flame graph is zoomed by
-- a click, by its #zoom= fragment and back by "Reset zoom"; hovering shows a frame's, a mapping's or a
-- sample's figures under the picture. The hostile helper's names must stay text.

local T = require "testing"
local browser = require "browser"
local pictures = require "pictures"
local machine = require "machine"
local hostile = require "hostile"
local sys = require "memscript.sys"

local format, concat = string.format, table.concat

local tmp, cleanup <close> = T.tempdir()
local root, root_cleanup <close> = machine.build()

local function run(tree, args, env)
  local out, err, status = T.memscript(tree, args, { env = env })
  T.eq({ err, status }, { "", 0 }, args .. ": stderr and status")
  return out
end

-- ---- the pictures ----

local files = {}

files.flame = tmp .. "/flame.svg"
run(root, "flame.lua -u -o " .. T.q(files.flame))
files.map = tmp .. "/map.svg"
run(T.fixtures .. "/helper-capture/proc", "map.lua 1848 -o " .. T.q(files.map))
for _, name in ipairs({ "leak", "watch" }) do
  -- as drawn for the gallery (test_gallery.lua checks these are what the code draws)
  files[name] = T.source .. "/docs/gallery/" .. name .. ".svg"
end

local h = hostile.start()
local hostile_cleanup <close> = setmetatable({}, { __close = function() hostile.stop(h) end })
files.hostile_flame = tmp .. "/hostile-flame.svg"
run(nil, "flame.lua -p " .. h.pid .. " -o " .. T.q(files.hostile_flame))
files.hostile_map = tmp .. "/hostile-map.svg"
run(nil, "map.lua " .. h.pid .. " -o " .. T.q(files.hostile_map))

-- ---- the browser ----

local b
local times = {}
local browser_cleanup <close> = setmetatable({}, { __close = function()
  if b then b:close() end
end })

local function start()
  if not b then b = browser.start() end
  return b
end

-- The picture at path opened in a new tab of its own size; checks that it loaded nothing else, ran
-- its script to the end without error and is not blank. fragment: "#zoom=f3" or nil.
local function open(name, fragment)
  local path = files[name]
  local width, height = T.read(path):match('<svg [^>]*width="([%d.]+)" height="([%d.]+)"')
  local opened_by = start()
  local started = sys.monotonic()
  local page = opened_by:open("file://" .. path .. (fragment or ""), math.ceil(tonumber(width)), math.ceil(tonumber(height)))
  T.eq(page:eval("document.documentElement.getAttribute('data-ready')"), "true", name .. ": its script ran to the end")
  times[#times + 1] = format("%s %.0f ms", name .. (fragment or ""), (sys.monotonic() - started) * 1000)
  T.eq(page:problems(), {}, name .. ": exceptions, console errors, requests for anything else")
  T.eq(page:eval("window.__dialogs"), 0, name .. ": dialogs opened")
  return page
end

-- A rendering that is not blank: at least `share` of its pixels painted, in at least `colours` colours.
local function check_painted(page, name, share, colours)
  local px = page:pixels()
  local painted = px.painted / (px.width * px.height)
  T.ok(painted >= share, format("%s: %.1f%% of the pixels painted, at least %.1f%% expected", name, painted * 100,
    share * 100))
  T.ok(px.colours >= colours, format("%s: %d colours, at least %d expected", name, px.colours, colours))
  return px
end

-- The text of the line under the picture.
local function details(page)
  return page:eval("document.getElementById('details') ? document.getElementById('details').textContent : " ..
    "document.querySelector('text.details').textContent")
end

-- ---- flame.lua ----

local flame_frames = pictures.frames(T.read(files.flame))
local by_name = {}
for _, f in ipairs(flame_frames) do by_name[f.name] = by_name[f.name] or f end

T.test("Chromium renders the flame graph: painted, its frames' labels in the DOM, no script error", function()
  local page = open("flame")
  check_painted(page, "flame", 0.15, 20)
  local labels = page:eval("Array.from(document.querySelectorAll('g.frame text')).map(t => t.textContent)")
  local seen = {}
  for _, l in ipairs(labels) do seen[l] = true end
  for _, expected in ipairs({ "all", "root", "3999999", "memhelper [1848]", "sleep [4804]", "file", "anon" }) do
    T.ok(seen[expected], "a frame labelled " .. expected)
  end
  T.eq(#labels, #flame_frames, "a label per frame")
  -- text is drawn with a font, not left empty: the heading has a width
  T.ok(page:eval("document.querySelector('text.heading').getBBox().width") > 200, "the heading drawn")
end)

T.test("the flame graph: pointing at a frame shows its name, bytes and shares under the graph", function()
  local page = open("flame")
  local f = by_name["memhelper [1848]"]
  page:move(page:centre(f.id))
  T.eq(details(page), (f.title:gsub("\n", " \u{2014} ")), "the details line")
  T.contains(details(page), "memhelper [1848] \u{2014} 1.0M (1056768 bytes), ", "the bytes")
  page:move(1, 1)
  T.eq(details(page), "Point at a frame for its bytes; click to zoom in, click the top frame to zoom out.", "away")
end)

-- The frame's rectangle as drawn: x, width, and whether it is shown.
local function drawn(page, id)
  return page:eval(format([[(function () { var g = document.getElementById(%q), r = g.querySelector("rect");
    return [+r.getAttribute("x"), +r.getAttribute("width"), getComputedStyle(g).display !== "none",
            g.classList.contains("ancestor")]; })()]], id))
end

T.test("the flame graph: a click zooms into a frame, which then fills the width; 'Reset zoom' goes back", function()
  local page = open("flame")
  local f = by_name["memhelper [1848]"]
  local before = drawn(page, f.id)
  local x, y = page:centre(f.id)
  page:click(x, y)
  T.eq(drawn(page, f.id), { 10, 1179.5, true, false }, "the frame across the width")
  T.eq(page:eval("location.hash"), "#zoom=" .. f.id, "the fragment follows the zoom")
  -- what is drawn at the right edge on its row is the frame itself
  T.eq(page:eval(format("document.elementFromPoint(1185, %s).parentNode.id", y)), f.id, "the right edge")
  T.eq(drawn(page, by_name["root"].id)[4], true, "its parent drawn across the top as an ancestor")
  T.eq(drawn(page, by_name["sleep [4804]"].id)[3], false, "a frame outside it hidden")
  local kids = pictures.children(flame_frames)[f.id]
  local child = drawn(page, kids[1].id)
  T.ok(math.abs(child[2] - (kids[1].bytes / f.bytes * 1180 - 0.5)) < 0.01, "a child scaled with it: " .. child[2])
  T.eq(page:eval("getComputedStyle(document.getElementById('unzoom')).visibility"), "visible", "Reset zoom shown")
  page:click(page:centre("unzoom"))
  T.eq(drawn(page, f.id), before, "back as it was")
  T.eq(drawn(page, by_name["sleep [4804]"].id)[3], true, "the others shown again")
  T.eq(page:eval("location.hash"), "", "no fragment")
end)

T.test("the flame graph opened at #zoom=ID is zoomed into that frame, and the rendering shows it", function()
  local f = by_name["sleep [4804]"]
  local page = open("flame", "#zoom=" .. f.id)
  T.eq(drawn(page, f.id), { 10, 1179.5, true, false }, "zoomed on load")
  T.eq(page:eval("document.documentElement.getAttribute('data-zoom')"), f.id, "the zoom the script records")
  local _, y = page:centre(f.id)
  for _, x in ipairs({ 12, 300, 600, 900, 1188 }) do
    T.eq(page:eval(format("document.elementFromPoint(%d, %s).parentNode.id", x, y)), f.id, "drawn at x " .. x)
  end
  check_painted(page, "flame zoomed", 0.10, 10)
  -- a click on the top frame zooms out
  page:click(page:centre(flame_frames[1].id))
  T.eq(drawn(page, f.id)[2] < 1179.5, true, "zoomed out")
  -- an id that is not a frame's leaves the picture whole
  local other = open("flame", "#zoom=details")
  T.eq(other:eval("document.documentElement.getAttribute('data-zoom')"), "f0", "whole")
end)

-- ---- map.lua ----

T.test("Chromium renders the address map: painted, hover shows a mapping's details, W+X outlined in red", function()
  local page = open("map")
  check_painted(page, "map", 0.15, 20)
  local regions = pictures.regions(T.read(files.map))
  local heap
  for i, r in ipairs(regions) do if r.title:match("^%[heap%]") then heap = i end end
  page:move(page:centre(page:eval(format("document.querySelectorAll('g.region')[%d].id", heap - 1))))
  T.eq(details(page), (regions[heap].title:gsub("\n", " \u{2014} ")), "the heap's details")
  local labels = page:eval("Array.from(document.querySelectorAll('g.region text')).map(t => t.textContent).join('|')")
  T.contains(labels, "[heap]", "a label")
  T.contains(labels, "W+X", "the W+X mark")
  T.eq(page:eval([[getComputedStyle(Array.from(document.querySelectorAll('g.region')).find(g =>
    g.querySelector('text.mark') && g.querySelector('text.mark').textContent === 'W+X').querySelector('rect.box')).stroke]]),
    "rgb(192, 28, 40)", "its outline")
end)

-- ---- charts ----

T.test("Chromium renders the growth charts: painted, the fitted line drawn, hover shows a sample", function()
  for _, name in ipairs({ "leak", "watch" }) do
    local page = open(name)
    check_painted(page, name, 0.20, 10)
    T.ok(page:eval("document.querySelector('polyline.fit').getBBox().width") > 1000, name .. ": the fitted line across")
    local samples = pictures.samples(T.read(files[name]))
    local id = page:eval([[(function () { var g = document.querySelectorAll('g.sample')[2];
      g.id = 'sample-under-test'; return g.id; })()]])
    page:move(page:centre(id))
    T.eq(details(page), (samples[3].title:gsub("\n", " \u{2014} ")), name .. ": the third sample's figures")
    T.contains(details(page), "sample 3 at 20 s", name .. ": when")
  end
end)

-- ---- hostile names ----

T.test("a process named with markup and escape sequences: its pictures render as text, no element or script added", function()
  for _, name in ipairs({ "hostile_flame", "hostile_map" }) do
    local page = open(name)
    check_painted(page, name, 0.05, 5)
    T.eq(page:eval("document.querySelectorAll('script').length"), 1, name .. ": the picture's own script only")
    T.eq(page:eval("document.querySelectorAll('b, [onload], foreignObject, a').length"), 0, name .. ": no element from a name")
    local shown = page:eval("Array.from(document.querySelectorAll('title')).map(t => t.textContent).join('\\n')")
    T.contains(shown, "/memfd:</title><script>alert(\"x\")</script>\\x1b[2K\\r", name .. ": the memfd's name as text")
  end
end)

T.test("render times (the time from opening a picture to its script's end, in this browser)", function()
  T.ok(#times >= 8, "pictures opened: " .. #times)
  io.write("    ", concat(times, "; "), "\n")
end)

T.done()
