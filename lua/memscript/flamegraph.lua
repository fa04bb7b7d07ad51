-- flamegraph.lua: a tree of bytes drawn as an icicle graph, one self-contained SVG file with hover and zoom.
--
--   local flamegraph = require "memscript.flamegraph"
--   local tree = flamegraph.tree("vm")
--   flamegraph.add(tree, { {"root", "group"}, {"sshd [812]", "process"}, {"file", "file"},
--                          {"/usr/lib/libc.so.6", "file"} }, 1286144)
--   io.write(flamegraph.svg(tree, { title = "PSS by user, process, kind and file" }))
--
-- The root is drawn on top across the whole width, each frame's children under it, left to right
-- largest first (ties by name), each as wide as its share of the root's bytes; a frame's bytes are
-- the sum of its children's, exactly. Children narrower than half a pixel are drawn as one frame,
-- "N smaller", holding their bytes (one alone is drawn as itself), so the picture stays small and
-- every byte is in a frame at every depth it reaches.
--
-- Each frame is a <g class="frame"> with data-b (its bytes), data-o (its offset from the root's left
-- edge, in bytes), data-d (its depth) and data-l (the text drawn, when not the name), a <title>
-- whose first line is its name and whose second
-- is "SIZE (BYTES bytes), P% of all, Q% of PARENT", a <rect> and a <text> label cut to fit. The
-- embedded script (no external file) shows a frame's title under the graph while the pointer is over
-- it, and a click zooms: the frame then fills the width, its descendants scaled with it, its
-- ancestors drawn across the width above it, the rest hidden. A click on the root, or on "Reset
-- zoom", zooms out. The address's fragment follows the zoom (#zoom=ID, ID the frame's id), so a
-- link or a reload opens the picture zoomed into that frame; without a script the picture is
-- still whole and every title still shows on hover.

local svg = require "memscript.svg"
local units = require "memscript.units"
local text = require "memscript.text"

local ipairs, tostring, type, error = ipairs, tostring, type, error
local format, concat, sort = string.format, table.concat, table.sort
local floor, mtype = math.floor, math.type
local utf8_len, utf8_offset = utf8.len, utf8.offset

local M = {}

-- Geometry, in pixels.
local WIDTH, LEFT, ROW, FRAME_HEIGHT, CHAR_WIDTH = 1200, 10, 18, 17, 7.2
local TOP = 56            -- the first row, under the title lines
local MIN_FRAME = 0.5     -- children narrower than this are drawn together as one frame

-- A new tree: its root frame, named name (a machine's host name, "all").
function M.tree(name)
  return { name = name, kind = "root", bytes = 0, children = {}, index = {} }
end

-- Adds bytes to the root and to each frame of the stack, creating those not there yet. frames is
-- an array of {name, kind, detail, label}: kind a memscript.classify kind or "group", "process" (the
-- colour), detail (optional) a further line for the frame's title, such as a command line, label
-- (optional) the shorter text drawn on the frame instead of its name (a file's base name).
function M.add(tree, frames, bytes)
  if type(bytes) ~= "number" then
    error(format("bad argument #3 to 'add' (number expected, got %s)", type(bytes)), 2)
  end
  tree.bytes = tree.bytes + bytes
  local node = tree
  for _, f in ipairs(frames) do
    local key = tostring(f[1]) .. "\0" .. tostring(f[2])
    local child = node.index[key]
    if not child then
      child = { name = tostring(f[1]), kind = f[2], detail = f[3], label = f[4], bytes = 0, children = {},
                index = {} }
      node.index[key] = child
      node.children[#node.children + 1] = child
    end
    child.bytes = child.bytes + bytes
    node = child
  end
end

local function by_size(a, b)
  if a.bytes ~= b.bytes then return a.bytes > b.bytes end
  if a.name ~= b.name then return a.name < b.name end
  return tostring(a.kind) < tostring(b.kind)
end

local function integer_text(n)
  if mtype(n) == "integer" then return format("%d", n) end
  return format("%.0f", n)
end

-- The frames to draw, in depth-first order, each with offset, depth and parent set.
local function place(tree)
  local frames = {}
  local min_bytes = tree.bytes * MIN_FRAME / (WIDTH - 2 * LEFT)
  local function visit(node, offset, depth, parent)
    node.offset, node.depth, node.parent = offset, depth, parent
    frames[#frames + 1] = node
    local children = {}
    for _, c in ipairs(node.children) do
      if c.bytes > 0 then children[#children + 1] = c end
    end
    sort(children, by_size)
    local small, small_bytes = {}, 0
    for _, c in ipairs(children) do
      if c.bytes >= min_bytes then
        visit(c, offset, depth + 1, node)
        offset = offset + c.bytes
      else
        small[#small + 1] = c
        small_bytes = small_bytes + c.bytes
      end
    end
    if #small == 1 then
      visit(small[1], offset, depth + 1, node)
    elseif #small > 1 then
      visit({ name = format("%d smaller", #small), kind = "rest", bytes = small_bytes, children = {},
              detail = format("%d frames, each less than %.2f%% of all", #small, MIN_FRAME * 100 / (WIDTH - 2 * LEFT)) },
            offset, depth + 1, node)
    end
  end
  visit(tree, 0, 0, nil)
  return frames
end

-- The label of a frame w pixels wide: its escaped name, cut to fit with "..", or "" when too narrow.
local function label(name, w)
  local s = text.escape(name)
  local fits = floor((w - 6) / CHAR_WIDTH)
  if fits < 3 then return "" end
  local chars = utf8_len(s) or #s
  if chars > fits then
    local cut = utf8_offset(s, fits - 1)
    s = s:sub(1, (cut or (fits - 1)) - 1) .. ".."
  end
  return svg.escaped_text(s)
end

local function share(part, whole)
  if whole == 0 then return "0.0%" end
  return format("%.1f%%", part * 100 / whole)
end

-- The frame's title: its name, then its size and shares, then its detail.
local function title_of(node, total)
  local lines = { svg.text(node.name) }
  local size = format("%s (%s bytes), %s of all", units.format(node.bytes), integer_text(node.bytes),
    share(node.bytes, total))
  if node.parent then size = size .. format(", %s of %s", share(node.bytes, node.parent.bytes), svg.text(node.parent.name)) end
  lines[2] = size
  if node.detail then lines[3] = svg.text(node.detail) end
  return concat(lines, "\n")
end

local STYLE = [[
text { font-family: monospace; font-size: 12px; fill: #000; }
text.heading { font-family: sans-serif; font-size: 15px; font-weight: bold; }
text.note, text.legend, #details { font-family: sans-serif; font-size: 12px; }
#unzoom { font-family: sans-serif; font-size: 12px; fill: #1a5fb4; cursor: pointer; visibility: hidden; }
g.frame { cursor: pointer; }
g.frame:hover rect { stroke: #000; stroke-width: 1; }
g.frame.ancestor rect { opacity: 0.55; }
g.frame.hidden { display: none; }
]]

-- The embedded script: hover details and click-to-zoom (see the comment at the top of this file).
local SCRIPT = [[
(function () {
  "use strict";
  var root = document.documentElement;
  var LEFT = +root.getAttribute("data-left"), WIDTH = +root.getAttribute("data-width");
  var CHAR = +root.getAttribute("data-char");
  var frames = Array.prototype.slice.call(document.querySelectorAll("g.frame"));
  var details = document.getElementById("details"), unzoom = document.getElementById("unzoom");
  var hint = details.textContent;
  function num(g, name) { return +g.getAttribute("data-" + name); }
  function titleLines(g) { return g.querySelector("title").textContent.split("\n"); }
  function labelOf(g) { var l = g.getAttribute("data-l"); return l !== null ? l : titleLines(g)[0]; }
  function fit(name, w) {
    var chars = Array.from(name), n = Math.floor((w - 6) / CHAR);
    if (n < 3) return "";
    return chars.length > n ? chars.slice(0, n - 2).join("") + ".." : name;
  }
  function zoom(target) {
    var o0 = num(target, "o"), b0 = num(target, "b"), d0 = num(target, "d");
    frames.forEach(function (g) {
      var o = num(g, "o"), b = num(g, "b"), d = num(g, "d"), x, w;
      var inside = d >= d0 && o >= o0 && o + b <= o0 + b0;
      var above = d < d0 && o <= o0 && o + b >= o0 + b0;
      g.classList.toggle("hidden", !inside && !above);
      g.classList.toggle("ancestor", above);
      if (!inside && !above) return;
      if (above) { x = LEFT; w = WIDTH; } else { x = LEFT + (o - o0) / b0 * WIDTH; w = b / b0 * WIDTH; }
      var rect = g.querySelector("rect"), label = g.querySelector("text");
      rect.setAttribute("x", x.toFixed(2));
      rect.setAttribute("width", Math.max(w - 0.5, 0.1).toFixed(2));
      label.setAttribute("x", (x + 3).toFixed(2));
      label.textContent = fit(labelOf(g), w);
    });
    var zoomed = target !== frames[0];
    unzoom.style.visibility = zoomed ? "visible" : "hidden";
    root.setAttribute("data-zoom", target.id);
    var fragment = zoomed ? "#zoom=" + target.id : "";
    if (location.hash !== fragment && !(location.hash === "" && fragment === "")) {
      history.replaceState(null, "", location.pathname + location.search + fragment);
    }
  }
  function fromFragment() {
    var m = /^#zoom=(f\d+)$/.exec(location.hash), g = m && document.getElementById(m[1]);
    zoom(g && g.classList.contains("frame") ? g : frames[0]);
  }
  frames.forEach(function (g) {
    g.addEventListener("mouseover", function () { details.textContent = titleLines(g).join(" \u2014 "); });
    g.addEventListener("mouseout", function () { details.textContent = hint; });
    g.addEventListener("click", function () { zoom(g); });
  });
  unzoom.addEventListener("click", function () { zoom(frames[0]); });
  window.addEventListener("hashchange", fromFragment);
  fromFragment();
  root.setAttribute("data-ready", "true");
})();
]]

-- The SVG text of a tree. opts: title (the heading), note (a second line: where the figures come
-- from), hint (what the line under the graph says before a frame is hovered).
function M.svg(tree, opts)
  opts = opts or {}
  local frames = place(tree)
  local total, inner = tree.bytes, WIDTH - 2 * LEFT
  local depth = 0
  for _, f in ipairs(frames) do if f.depth > depth then depth = f.depth end end
  local bottom = TOP + (depth + 1) * ROW
  local kinds = {}
  local height = bottom + 56
  local body = {
    format('<text class="heading" x="%d" y="22">%s</text>\n', LEFT, svg.text(opts.title or tree.name)),
    format('<text class="note" x="%d" y="40">%s</text>\n', LEFT, svg.text(opts.note or "")),
    format('<text id="unzoom" x="%d" y="40" text-anchor="end">Reset zoom</text>\n', WIDTH - LEFT),
  }
  for i, f in ipairs(frames) do
    f.id = "f" .. (i - 1)
    local x = LEFT + (total > 0 and f.offset / total * inner or 0)
    local w = total > 0 and f.bytes / total * inner or inner
    local y = TOP + f.depth * ROW
    local drawn = f.label ~= nil and f.label ~= f.name
    body[#body + 1] = format('<g class="frame" id="%s" data-b="%s" data-o="%s" data-d="%d"%s>' ..
      '<title>%s</title><rect x="%s" y="%d" width="%s" height="%d" fill="%s"/>' ..
      '<text x="%s" y="%d">%s</text></g>\n', f.id, integer_text(f.bytes), integer_text(f.offset), f.depth,
      drawn and format(' data-l="%s"', svg.text(f.label)) or "", title_of(f, total), svg.num(x), y,
      svg.num(w > 0.6 and w - 0.5 or 0.1), FRAME_HEIGHT, svg.colour(f.kind, f.depth > 0 and f.name or nil),
      svg.num(x + 3), y + 12, label(drawn and f.label or f.name, w))
    kinds[f.kind] = true
  end
  body[#body + 1] = format('<text id="details" x="%d" y="%d">%s</text>\n', LEFT, bottom + 16,
    svg.text(opts.hint or "Point at a frame for its bytes; click to zoom in, click the top frame to zoom out."))
  -- the legend names the colour groups drawn
  for _, piece in ipairs(svg.legend(LEFT, bottom + 30, svg.groups_of(kinds))) do body[#body + 1] = piece end
  return svg.document {
    width = WIDTH, height = height, title = opts.title or tree.name, style = STYLE, script = SCRIPT, body = body,
    attributes = format('data-left="%d" data-width="%d" data-char="%s"', LEFT, inner, svg.num(CHAR_WIDTH)),
  }
end

return M
