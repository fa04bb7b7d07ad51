-- Reading the SVG pictures back in the tests: well-formedness, self-containment, frames, regions, samples.
--
--   local pictures = require "pictures"
--   pictures.check_wellformed(path)   -- xmllint --noout, or T.skip without it
--   pictures.foreign(text)            --> what would make the picture depend on anything outside it
--   pictures.frames(text)             --> the flame graph's frames: {id, bytes, offset, depth, name, label, title}
--   pictures.regions(text), pictures.gaps(text), pictures.samples(text)

local T = require "testing"

local format, concat, gsub = string.format, table.concat, string.gsub
local tointeger, tonumber = math.tointeger, tonumber

local M = {}

local ENTITIES = { amp = "&", lt = "<", gt = ">", quot = '"', ["#39"] = "'" }

-- XML text with its entities decoded (the five the pictures write).
function M.unxml(s)
  return (gsub(s, "&(#?%w+);", function(name)
    local c = ENTITIES[name]
    if not c then error("unexpected entity &" .. name .. ";", 2) end
    return c
  end))
end

-- Fails the test unless xmllint finds the file well-formed; skips without xmllint.
function M.check_wellformed(path)
  local _, _, found = T.run("command -v xmllint")
  if found ~= 0 then T.skip("xmllint is not installed (the Debian package libxml2-utils)") end
  local out, err, status = T.run("xmllint --noout " .. T.q(path))
  T.eq({ out, err, status }, { "", "", 0 }, "xmllint --noout " .. path)
end

-- Everything in an SVG text that refers outside it: in a tag, an "http:" or "https:" other than the
-- SVG namespace (data-* attributes aside: text for the script), an href or src attribute, a url() other than to an element of the picture; in the
-- style, url() to anything else or @import; in the script, a fetch, a request or an import; an
-- element that shows or embeds another document (a, image, foreignObject, iframe, use). Text shown
-- (titles, labels: what processes called themselves) is not looked at: it refers to nothing.
function M.foreign(text)
  local found = {}
  local function look(piece, where)
    for hit in piece:gmatch("[^%s\"'<>]*[Hh][Tt][Tt][Pp][Ss]?:[^%s\"'<>]*") do found[#found + 1] = where .. ": " .. hit end
    for hit in piece:gmatch("url%(([^)]*)%)") do
      if not hit:match("^#[%w_-]+$") then found[#found + 1] = where .. ": url(" .. hit .. ")" end
    end
  end
  for tag in text:gmatch("<[^>]*>") do
    local name = tag:match("^<(%a[%w:-]*)")
    if name == "a" or name == "image" or name == "foreignObject" or name == "iframe" or name == "use" then
      found[#found + 1] = "element " .. name
    end
    if tag:find("[%s:]href%s*=") then found[#found + 1] = "href in " .. tag end
    if tag:find("%ssrc%s*=") then found[#found + 1] = "src in " .. tag end
    -- data-* attributes hold text and numbers for the script (a frame's label), never a reference
    look(gsub(gsub(tag, ' xmlns="http://www%.w3%.org/2000/svg"', "", 1), ' data%-[%w-]+="[^"]*"', ""), "tag")
  end
  for style in text:gmatch("<style>(.-)</style>") do
    look(style, "style")
    if style:find("@import", 1, true) then found[#found + 1] = "style: @import" end
  end
  for script in text:gmatch("<script>(.-)</script>") do
    look(script, "script")
    for _, word in ipairs({ "fetch(", "XMLHttpRequest", "import(", "importScripts", "WebSocket", "sendBeacon" }) do
      if script:find(word, 1, true) then found[#found + 1] = "script: " .. word end
    end
  end
  return found
end

-- The element names the text holds, each once, sorted.
function M.element_names(text)
  local seen, names = {}, {}
  for name in text:gmatch("<([%a][%w:-]*)") do
    if not seen[name] then seen[name] = true; names[#names + 1] = name end
  end
  table.sort(names)
  return names
end

local function number(s)
  return s and (tointeger(tonumber(s)) or tonumber(s))
end

-- The frames of a flame graph (memscript.flamegraph), in document order.
function M.frames(text)
  local frames = {}
  for attrs, title, rect, label in text:gmatch('<g class="frame" ([^>]*)><title>(.-)</title>(<rect [^>]*/>)<text [^>]*>(.-)</text></g>') do
    local f = { id = attrs:match('id="([^"]*)"'), bytes = number(attrs:match('data%-b="(%d+)"')),
                offset = number(attrs:match('data%-o="(%d+)"')), depth = number(attrs:match('data%-d="(%d+)"')),
                label_attr = attrs:match('data%-l="([^"]*)"'), title = M.unxml(title), label = M.unxml(label),
                x = number(rect:match(' x="([%d.]+)"')), width = number(rect:match(' width="([%d.]+)"')) }
    f.name = f.title:match("^[^\n]*")
    frames[#frames + 1] = f
  end
  return frames
end

-- The mappings of an address map (memscript.addressmap), in address order.
function M.regions(text)
  local regions = {}
  for attrs, title, body in text:gmatch('<g class="region" ([^>]*)><title>(.-)</title>(.-)</g>') do
    local box = body:match('<rect class="box" ([^>]*)/>')
    regions[#regions + 1] = { start = attrs:match('data%-start="(%x+)"'), size = number(attrs:match('data%-size="(%d+)"')),
      rss = number(attrs:match('data%-rss="(%d+)"')), count = number(attrs:match('data%-count="(%d+)"')),
      title = M.unxml(title), body = body,
      width = number(box:match(' width="([%d.]+)"')), stroke = box:match(' stroke="([^"]*)"'),
      dashed = box:find("stroke%-dasharray") ~= nil, mark = body:match('<text class="mark[^"]*"[^>]*>(.-)</text>') }
  end
  return regions
end

-- The gaps of an address map.
function M.gaps(text)
  local gaps = {}
  for size, title in text:gmatch('<g class="gap" id="g%d+" data%-size="(%d+)"><title>(.-)</title>') do
    gaps[#gaps + 1] = { size = number(size), title = M.unxml(title) }
  end
  return gaps
end

-- The samples of a chart (memscript.chart): {t, anonymous, file, shmem, swap, title}.
function M.samples(text)
  local samples = {}
  for attrs, title in text:gmatch('<g class="sample" ([^>]*)><title>(.-)</title>') do
    local s = { t = number(attrs:match('data%-t="([%d.]+)"')), title = M.unxml(title) }
    for name, value in attrs:gmatch('data%-(%a+)="(%d+)"') do s[name] = number(value) end
    samples[#samples + 1] = s
  end
  return samples
end

-- The children of each frame by id, from depths and offsets: the frames one deeper within its bytes.
function M.children(frames)
  local children = {}
  for _, f in ipairs(frames) do children[f.id] = {} end
  for _, parent in ipairs(frames) do
    for _, f in ipairs(frames) do
      if f.depth == parent.depth + 1 and f.offset >= parent.offset and f.offset + f.bytes <= parent.offset + parent.bytes then
        local list = children[parent.id]
        list[#list + 1] = f
      end
    end
  end
  return children
end

-- The frame of each path of names from the root's child down ("root;memhelper [1848];file"), by path.
function M.by_path(frames)
  local children = M.children(frames)
  local paths = {}
  local function visit(f, prefix)
    for _, c in ipairs(children[f.id]) do
      local path = prefix and (prefix .. ";" .. c.name) or c.name
      paths[path] = c
      visit(c, path)
    end
  end
  visit(frames[1], nil)
  return paths
end

return M
