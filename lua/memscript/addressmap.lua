-- addressmap.lua: one process's address space drawn as a picture, one self-contained SVG file.
--
--   local addressmap = require "memscript.addressmap"
--   io.write(addressmap.svg(proc.smaps(pid), { title = "pid 1234 (sshd)" }))
--
-- The mappings in address order, left to right and row after row. Each is a box as wide as its
-- size, on a log scale when the sizes differ by more than SPREAD times (the smallest BOX_MIN
-- pixels, each doubling BOX_STEP more), else in proportion (the smallest BOX_MIN pixels); the box
-- is coloured by kind (memscript.classify, memscript.svg's colours), pale for the part not resident
-- and filled from the bottom by the resident share (Rss / size). Addresses between two mappings
-- that no mapping covers are a gap, drawn as a narrow hatched band whatever their size. A
-- writable and executable mapping has a thick red outline and "W+X" over it, a mapping of a deleted
-- file (kind "deleted") a dashed outline and "deleted" over it.
--
-- A process with more than MAX_BOXES mappings (60,000 is not rare) would make a picture of tens of
-- megabytes that no one can read; its mappings are then drawn in bundles of up to N consecutive
-- ones (N = the count / MAX_BOXES, rounded up), each bundle one box as wide as the bytes it maps,
-- coloured by the kind that maps the most of them, its title counting its mappings by kind and the
-- unmapped addresses between them; a W+X mapping and a deleted file's stay boxes of their own, marked.
--
-- Each box is a <g class="region"> with data-start (its first address in hex), data-size (bytes
-- mapped), data-rss (bytes resident, when smaps has Rss), data-count (mappings in it) and a
-- <title> of its details: the name, the range, perms, size and kind, the resident, PSS and swap
-- bytes, the VmFlags (a bundle: its mappings by kind instead); each gap a <g class="gap"> with
-- data-size and a title. The embedded script shows the title of what the pointer is over under
-- the picture; without it, the titles still show on hover.

local svg = require "memscript.svg"
local units = require "memscript.units"
local classify = require "memscript.classify"
local text = require "memscript.text"

local ipairs, pairs, tostring, type = ipairs, pairs, tostring, type
local format, concat, match = string.format, table.concat, string.match
local floor, log, ult, mtype = math.floor, math.log, math.ult, math.type
local utf8_len, utf8_offset = utf8.len, utf8.offset

local M = {}

-- Geometry, in pixels.
local WIDTH, LEFT = 1200, 10
local BOX_MIN, BOX_STEP, SPREAD = 28, 16, 16  -- the smallest box; a doubling on the log scale; when to use it
local LINEAR_MAX = BOX_MIN * SPREAD            -- the widest box on the linear scale
local BOX_HEIGHT, ROW = 40, 82                 -- a box's height; a row's, with its labels
local GAP_WIDTH, SPACING = 12, 2               -- a gap's band; the space between items
local TOP = 74                                 -- the first row's top, under the title lines
local MAX_BOXES = 2000                         -- more mappings than this are drawn in bundles
local CHAR_WIDTH = 6.6                         -- 11px monospace

M.BOX_MIN, M.BOX_STEP, M.SPREAD, M.GAP_WIDTH, M.MAX_BOXES = BOX_MIN, BOX_STEP, SPREAD, GAP_WIDTH, MAX_BOXES

local function integer_text(n)
  if mtype(n) == "integer" then return format("%d", n) end
  return format("%.0f", n)
end

-- An unsigned 64-bit difference b - a as a number (a float past 2^63).
local function distance(a, b)
  local d = b - a
  if d < 0 then d = d + 2.0^64 end
  return d
end

-- The text drawn in a box w pixels wide: s escaped and cut to fit with "..", or "" when too narrow.
local function fit(s, w)
  s = text.escape(s)
  local fits = floor((w - 4) / CHAR_WIDTH)
  if fits < 2 then return "" end
  local chars = utf8_len(s) or #s
  if chars > fits then
    if fits < 4 then return "" end
    local cut = utf8_offset(s, fits - 1)
    s = s:sub(1, (cut or (fits - 1)) - 1) .. ".."
  end
  return svg.escaped_text(s)
end

-- The name drawn for a mapping: a file's base name, the bracketed name, or "[anon]".
local function short_name(m)
  local path = m.path or ""
  if path == "" then return "[anon]" end
  return match(path, "^/.*/([^/]+)$") or path
end

local function share(part, whole)
  if not part or whole == 0 then return "-" end
  return format("%.1f%%", part * 100 / whole)
end

local function bytes_text(n)
  if n == nil then return "-" end
  return format("%s (%s bytes)", units.format(n), integer_text(n))
end

-- Marks of a mapping: "W+X" and "deleted", each or both, or nil.
local function marks_of(m, kind)
  local marks = {}
  if classify.writable(m) and classify.executable(m) then marks[#marks + 1] = "W+X" end
  -- only a file: the kernel also prints " (deleted)" after memfds, System V segments and shared
  -- anonymous memory, which no directory ever held (their kinds say what they are)
  if kind == "deleted" then marks[#marks + 1] = "deleted" end
  return #marks > 0 and marks or nil
end

-- The title of a mapping: its details, one per line (see the top of this file).
local function region_title(m, kind, marks)
  local lines = {
    svg.text(m.path ~= "" and m.path or "[anon]"),
    format("%x-%x %s, %s, %s%s", m.vm_start, m.vm_end, svg.text(m.perms), bytes_text(m.size), kind,
      marks and (", " .. concat(marks, ", ")) or ""),
    format("resident %s, %s of it; PSS %s; swap %s", bytes_text(m.Rss), share(m.Rss, m.size),
      bytes_text(m.Pss), bytes_text(m.Swap)),
  }
  if m.VmFlags then lines[#lines + 1] = "VmFlags " .. svg.text(tostring(m.VmFlags)) end
  return concat(lines, "\n")
end

-- The title of a bundle of mappings: how many, the range, the bytes by kind, the gaps, the figures.
local function bundle_title(box)
  local by_kind, order = {}, {}
  for _, m in ipairs(box.members) do
    local kind = classify.kind(m)
    if not by_kind[kind] then by_kind[kind] = { count = 0, size = 0 }; order[#order + 1] = kind end
    by_kind[kind].count = by_kind[kind].count + 1
    by_kind[kind].size = by_kind[kind].size + m.size
  end
  local kinds = {}
  for i, kind in ipairs(order) do
    kinds[i] = format("%s %d (%s)", kind, by_kind[kind].count, units.format(by_kind[kind].size))
  end
  return concat({
    format("%d mappings", #box.members),
    format("%x-%x, %s mapped; %s; %d gap%s inside, %s not mapped", box.vm_start, box.vm_end, bytes_text(box.size),
      concat(kinds, ", "), box.gaps, box.gaps == 1 and "" or "s", bytes_text(box.gap_bytes)),
    format("resident %s, %s of it; PSS %s; swap %s", bytes_text(box.Rss), share(box.Rss, box.size),
      bytes_text(box.Pss), bytes_text(box.Swap)),
  }, "\n")
end

-- The boxes to draw: each mapping, or (with more than MAX_BOXES mappings) bundles of up to `per`
-- consecutive mappings, a marked one always alone. A box: vm_start, vm_end, size, Rss, Pss, Swap
-- (sums; nil where no member has the field), kind (the one mapping the most bytes), marks, members,
-- gaps and gap_bytes (unmapped addresses between its members).
local function boxes_of(mappings)
  local per = #mappings > MAX_BOXES and -((-#mappings) // MAX_BOXES) or 1
  local boxes, open = {}, nil
  local function add(box, m)
    box.members[#box.members + 1] = m
    if box.vm_end and box.vm_end ~= m.vm_start then
      box.gaps = box.gaps + 1
      box.gap_bytes = box.gap_bytes + distance(box.vm_end, m.vm_start)
    end
    box.vm_start = box.vm_start or m.vm_start
    box.vm_end = m.vm_end
    box.size = box.size + m.size
    for _, field in ipairs({ "Rss", "Pss", "Swap" }) do
      if m[field] then box[field] = (box[field] or 0) + m[field] end
    end
    local kind = classify.kind(m)
    box.kind_bytes[kind] = (box.kind_bytes[kind] or 0) + m.size
    if not box.kind or box.kind_bytes[kind] > box.kind_bytes[box.kind] then box.kind = kind end
  end
  local function new_box()
    local box = { members = {}, size = 0, gaps = 0, gap_bytes = 0, kind_bytes = {} }
    boxes[#boxes + 1] = box
    return box
  end
  for _, m in ipairs(mappings) do
    local marks = marks_of(m, classify.kind(m))
    if per == 1 or marks then
      local box = new_box()
      add(box, m)
      box.marks, box.mapping = marks, m
      open = nil
    else
      if not open or #open.members >= per then open = new_box() end
      add(open, m)
      if #open.members == 1 then open.mapping = m else open.mapping = nil end
    end
  end
  return boxes, per
end

-- How wide each box is drawn, and the scale's description.
local function widths_of(mappings)
  local smallest, largest = nil, 0
  for _, m in ipairs(mappings) do
    if m.size > 0 and (smallest == nil or m.size < smallest) then smallest = m.size end
    if m.size > largest then largest = m.size end
  end
  smallest = smallest or 1
  local logarithmic = largest > smallest * SPREAD
  local widths = {}
  for i, m in ipairs(mappings) do
    local size = m.size > 0 and m.size or smallest
    if logarithmic then
      widths[i] = BOX_MIN + BOX_STEP * log(size / smallest, 2)
    else
      widths[i] = BOX_MIN * size / smallest
    end
    if widths[i] > WIDTH - 2 * LEFT then widths[i] = WIDTH - 2 * LEFT end
  end
  local scale
  if logarithmic then
    scale = format("width by size on a log scale: %s is %d px, each doubling %d px more", units.format(smallest),
      BOX_MIN, BOX_STEP)
  else
    scale = format("width in proportion to size: %s is %d px", units.format(smallest), BOX_MIN)
  end
  return widths, scale
end

local STYLE = [[
text { font-family: monospace; font-size: 11px; fill: #000; }
text.heading { font-family: sans-serif; font-size: 15px; font-weight: bold; }
text.note, text.legend, #details { font-family: sans-serif; font-size: 12px; }
text.mark { font-family: sans-serif; font-size: 10px; font-weight: bold; }
text.mark.wx { fill: #c01c28; }
text.address { fill: #555; font-size: 10px; }
g.region:hover rect.box, g.gap:hover rect { stroke: #000; stroke-width: 2; }
]]

local SCRIPT = [[
(function () {
  "use strict";
  var root = document.documentElement;
  var details = document.getElementById("details"), hint = details.textContent;
  Array.prototype.forEach.call(document.querySelectorAll("g.region, g.gap"), function (g) {
    var lines = g.querySelector("title").textContent.split("\n");
    g.addEventListener("mouseover", function () { details.textContent = lines.join(" \u2014 "); });
    g.addEventListener("mouseout", function () { details.textContent = hint; });
  });
  root.setAttribute("data-ready", "true");
})();
]]

local HATCH = '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" ' ..
  'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>' ..
  '<line x1="0" y1="0" x2="0" y2="6" stroke="#9a9a9a" stroke-width="2"/></pattern></defs>\n'

-- The SVG text of an address space: mappings (an array of smaps tables, or maps tables, in address
-- order). opts: title (the heading, followed by a summary: mappings, bytes mapped and resident, W+X
-- and deleted ones), note (a second line: where the figures come from), hint (the line under the
-- picture before anything is pointed at).
function M.svg(mappings, opts)
  opts = opts or {}
  local boxes, per = boxes_of(mappings)
  local widths, scale = widths_of(boxes)
  -- the items in order: boxes, and gaps where the next box does not start where one ends
  local items = {}
  for i, box in ipairs(boxes) do
    local previous = boxes[i - 1]
    if previous and previous.vm_end ~= box.vm_start then
      items[#items + 1] = { gap = true, from = previous.vm_end, to = box.vm_start, width = GAP_WIDTH,
                            size = distance(previous.vm_end, box.vm_start) }
    end
    items[#items + 1] = { box = box, width = widths[i] }
  end
  -- rows
  local x, row = LEFT, 0
  for _, item in ipairs(items) do
    if x + item.width > WIDTH - LEFT and x > LEFT then
      x, row = LEFT, row + 1
    end
    item.x, item.row = x, row
    x = x + item.width + SPACING
  end
  local rows = #items > 0 and row + 1 or 0
  local bottom = TOP + rows * ROW
  local body = { HATCH, "", "" }
  local kinds, row_started = {}, {}
  local mapped, resident, wx, deleted = 0, 0, 0, 0
  for i, item in ipairs(items) do
    local y = TOP + item.row * ROW + 14
    if not row_started[item.row] then
      row_started[item.row] = true
      local first = item.gap and item.from or item.box.vm_start
      body[#body + 1] = format('<text class="address" x="%s" y="%d">%x</text>\n', svg.num(item.x),
        y + BOX_HEIGHT + 24, first)
    end
    if item.gap then
      body[#body + 1] = format('<g class="gap" id="g%d" data-size="%s"><title>gap\n%x-%x, %s not mapped</title>' ..
        '<rect x="%s" y="%d" width="%d" height="%d" fill="url(#hatch)"/></g>\n', i, integer_text(item.size),
        item.from, item.to, bytes_text(item.size), svg.num(item.x), y, GAP_WIDTH, BOX_HEIGHT)
    else
      local m = item.box
      local kind = m.kind
      for k in pairs(m.kind_bytes) do kinds[k] = true end
      local marks = m.marks
      local rss = m.Rss
      mapped = mapped + m.size
      resident = resident + (rss or 0)
      local filled = (rss and m.size > 0) and BOX_HEIGHT * rss / m.size or 0
      if filled > BOX_HEIGHT then filled = BOX_HEIGHT end
      local colour = svg.colour(kind)
      local outline = 'stroke="#777" stroke-width="1"'
      if marks and marks[1] == "W+X" then
        wx = wx + 1
        outline = 'stroke="#c01c28" stroke-width="3"'
      end
      if marks and marks[#marks] == "deleted" then
        deleted = deleted + 1
        outline = outline .. ' stroke-dasharray="4 2"'
      end
      local w = item.width
      local single = item.box.mapping
      body[#body + 1] = format('<g class="region" id="r%d" data-start="%x" data-size="%s"%s data-count="%d">' ..
        '<title>%s</title>' ..
        '<rect class="box" x="%s" y="%d" width="%s" height="%d" fill="%s" fill-opacity="0.3" %s/>' ..
        '<rect class="resident" x="%s" y="%s" width="%s" height="%s" fill="%s"/>' ..
        '<text x="%s" y="%d">%s</text><text x="%s" y="%d">%s</text>%s</g>\n',
        i, m.vm_start, integer_text(m.size), rss and format(' data-rss="%s"', integer_text(rss)) or "", #m.members,
        single and region_title(single, kind, marks) or bundle_title(m), svg.num(item.x), y, svg.num(w), BOX_HEIGHT,
        colour, outline,
        svg.num(item.x + 0.5), svg.num(y + BOX_HEIGHT - filled), svg.num(w > 1 and w - 1 or w), svg.num(filled),
        colour, svg.num(item.x + 3), y + 13, fit(single and short_name(single) or format("%d maps", #m.members), w),
        svg.num(item.x + 3), y + BOX_HEIGHT + 12,
        fit(units.format(m.size), w),
        marks and format('<text class="mark%s" x="%s" y="%d">%s</text>', marks[1] == "W+X" and " wx" or "",
          svg.num(item.x + 1), y - 4, fit(concat(marks, " "), w + 40))
          or "")
    end
  end
  local summary = format("%d mappings, %s mapped, %s resident%s%s", #mappings, units.format(mapped),
    units.format(resident), wx > 0 and format(", %d writable and executable", wx) or "",
    deleted > 0 and format(", %d of deleted files", deleted) or "")
  local title = opts.title and (opts.title .. ": " .. summary) or summary
  body[2] = format('<text class="heading" x="%d" y="22">%s</text>\n', LEFT, svg.text(title))
  local layout = scale .. "; a hatched band is a gap between mappings, whatever its size"
  if per > 1 then
    layout = format("%d mappings in %d boxes of up to %d consecutive ones (W+X and deleted alone); ", #mappings,
      #boxes, per) .. layout
  end
  body[3] = format('<text class="note" x="%d" y="40">%s</text>\n<text class="note" x="%d" y="57">%s</text>\n',
    LEFT, svg.text(opts.note or ""), LEFT, svg.text(layout))
  body[#body + 1] = format('<text id="details" x="%d" y="%d">%s</text>\n', LEFT, bottom + 14,
    svg.text(opts.hint or "Point at a mapping for its details. The filled part of a box is its resident share."))
  for _, piece in ipairs(svg.legend(LEFT, bottom + 28, svg.groups_of(kinds))) do body[#body + 1] = piece end
  return svg.document { width = WIDTH, height = bottom + 50, title = title, style = STYLE,
                        script = SCRIPT, body = body }
end

return M
