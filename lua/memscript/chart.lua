-- chart.lua: memory sampled over time as a stacked chart with its fitted line, one self-contained SVG file.
--
--   local chart = require "memscript.chart"
--   io.write(chart.svg({ {
--     title = "pid 1234 (java)",
--     times = { 0, 10, 20 },                                  -- seconds, any origin
--     layers = { { name = "anonymous", values = { ... } }, { name = "file", values = { ... } },
--                { name = "shmem", values = { ... } }, { name = "swap", values = { ... } } },
--     fit = "anonymous",                                      -- a layer's name, or "total"
--   } }))
--
-- Each panel stacks its layers bottom to top over the sampling time, their sum the top edge, and
-- draws the least-squares line (memscript.watch.slope) through the fitted series, dashed, with
-- its slope per minute and r². The layers are coloured as memscript.svg colours kinds: anonymous
-- as anonymous memory, file as files, shmem as shared memory, swap grey. Each sample is a <g
-- class="sample"> holding data-t (seconds since the first sample) and data-LAYER (bytes) for each
-- layer, with a title of its figures; the embedded script shows it under the chart while the
-- pointer is over it. Several panels are drawn one under the other, in one file.

local svg = require "memscript.svg"
local units = require "memscript.units"
local watch = require "memscript.watch"

local ipairs, tostring, type, error = ipairs, tostring, type, error
local format, concat = string.format, table.concat
local floor, huge, mtype = math.floor, math.huge, math.type

local M = {}

-- Geometry, in pixels.
local WIDTH, LEFT, RIGHT = 1200, 78, 34
local PLOT_HEIGHT, PANEL_TOP, PANEL_BOTTOM = 240, 64, 74   -- a plot; above it (titles); below (axis, legend)

-- The colour of each layer a chart of process memory has; another layer is grey.
local LAYER_COLOURS = { anonymous = svg.colour("anon"), file = svg.colour("file"), shmem = svg.colour("shm"),
  swap = "#8c8c9c" }

local function integer_text(n)
  if mtype(n) == "integer" then return format("%d", n) end
  return format("%.0f", n)
end

-- A round step for about `count` ticks up to `top`: a power of two times a power of 1024 for bytes
-- (so ticks read 256K, 512K, 1.0M), 1, 2 or 5 times a power of 10 for seconds.
local function tick_step(top, count, binary)
  if top <= 0 then return 1 end
  local raw = top / count
  if binary then
    local base = 1
    while base * 1024 <= raw do base = base * 1024 end
    local m = 1
    while base * m < raw do m = m * 2 end
    return base * m
  end
  local base = 10 ^ floor(math.log(raw, 10))
  for _, m in ipairs({ 1, 2, 5, 10 }) do
    if base * m >= raw * (1 - 1e-9) then return base * m end
  end
  return base * 10
end

local function seconds_text(s)
  if s >= 3600 * 2 then return format("%.4g h", s / 3600) end
  if s >= 120 then return format("%.4g min", s / 60) end
  return format("%.4g s", s)
end

-- The least-squares line of values over times: the value at a time, its slope per second and r².
local function fitted_line(times, values)
  local series = { times = times, values = values }
  local slope, r2 = watch.slope(series)
  if not slope then return nil end
  local mean_t, mean_v = 0, 0
  for i = 1, #times do mean_t, mean_v = mean_t + times[i], mean_v + values[i] end
  mean_t, mean_v = mean_t / #times, mean_v / #times
  return function(t) return mean_v + slope * (t - mean_t) end, slope, r2
end

local STYLE = [[
text { font-family: sans-serif; font-size: 12px; fill: #000; }
text.heading { font-size: 15px; font-weight: bold; }
text.axis { font-size: 11px; fill: #444; }
line.grid { stroke: #ddd; stroke-width: 1; }
line.axis { stroke: #444; stroke-width: 1; }
polyline.fit { fill: none; stroke: #000; stroke-width: 2; stroke-dasharray: 7 4; }
g.sample rect { fill: #000; fill-opacity: 0; }
g.sample:hover rect { fill-opacity: 0.08; }
]]

local SCRIPT = [[
(function () {
  "use strict";
  var root = document.documentElement;
  Array.prototype.forEach.call(document.querySelectorAll("g.panel"), function (panel) {
    var details = panel.querySelector("text.details"), hint = details.textContent;
    Array.prototype.forEach.call(panel.querySelectorAll("g.sample"), function (g) {
      var lines = g.querySelector("title").textContent.split("\n");
      g.addEventListener("mouseover", function () { details.textContent = lines.join(" \u2014 "); });
      g.addEventListener("mouseout", function () { details.textContent = hint; });
    });
  });
  root.setAttribute("data-ready", "true");
})();
]]

local function check_panel(p, index)
  local n = #p.times
  if n == 0 then error(format("chart.svg: panel %d has no samples", index), 3) end
  for _, layer in ipairs(p.layers) do
    if type(layer.name) ~= "string" or not layer.name:match("^[a-z][a-z0-9_]*$") then
      error(format("chart.svg: panel %d: a layer's name is a lower-case word, got %s", index, tostring(layer.name)), 3)
    end
    if #layer.values ~= n then
      error(format("chart.svg: panel %d: layer %s has %d values for %d times", index, tostring(layer.name),
        #layer.values, n), 3)
    end
  end
end

-- One panel's SVG pieces, drawn from y = top; returns the pieces and the panel's height.
local function panel_svg(p, index, top)
  local n = #p.times
  local t0 = p.times[1]
  local span = p.times[n] - t0
  local totals, highest = {}, 0
  for i = 1, n do
    local sum = 0
    for _, layer in ipairs(p.layers) do sum = sum + layer.values[i] end
    totals[i] = sum
    if sum > highest then highest = sum end
  end
  -- the fitted series and its line
  local fit_values = totals
  if p.fit and p.fit ~= "total" then
    for _, layer in ipairs(p.layers) do if layer.name == p.fit then fit_values = layer.values end end
  end
  local relative = {}
  for i = 1, n do relative[i] = p.times[i] - t0 end
  local line_at, slope, r2 = nil, nil, nil
  if p.fit then line_at, slope, r2 = fitted_line(relative, fit_values) end
  local top_value = highest
  if line_at then
    top_value = math.max(top_value, line_at(0), line_at(span))
  end
  local y_step = tick_step(top_value, 5, true)
  local y_max = y_step * math.max(1, -floor(-top_value / y_step))
  local plot_left, plot_width = LEFT, WIDTH - LEFT - RIGHT
  local plot_top = top + PANEL_TOP
  local function x_of(t) return plot_left + (span > 0 and t / span * plot_width or 0) end
  local function y_of(v) return plot_top + PLOT_HEIGHT - v / y_max * PLOT_HEIGHT end

  local out = { format('<g class="panel" id="panel%d">\n', index) }
  local fit_text = ""
  if slope then
    fit_text = format("%s: %s%s per minute (r² %.2f, %d samples over %s)", p.fit == "total" and "total" or p.fit,
      slope >= 0 and "+" or "", units.format(slope * 60), r2, n, seconds_text(span))
  end
  out[#out + 1] = format('<text class="heading" x="%d" y="%d">%s</text>\n', 10, top + 22, svg.text(p.title or ""))
  out[#out + 1] = format('<text x="%d" y="%d">%s</text>\n', 10, top + 40, svg.text(p.note or
    (slope and ("the fitted line of " .. fit_text) or format("%d sample%s: too few for a fitted line", n,
      n == 1 and "" or "s"))))
  -- grid and axes
  local v = 0
  while v <= y_max do
    local y = y_of(v)
    out[#out + 1] = format('<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="axis" x="%d" y="%s" ' ..
      'text-anchor="end">%s</text>\n', svg.num(plot_left), svg.num(y), svg.num(plot_left + plot_width), svg.num(y),
      plot_left - 6, svg.num(y + 4), svg.text(units.format(v)))
    v = v + y_step
  end
  local x_step = tick_step(span, 8, false)
  local t = 0
  while span > 0 and t <= span + x_step * 1e-9 do
    local x = x_of(t)
    out[#out + 1] = format('<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="axis" x="%s" y="%s" ' ..
      'text-anchor="middle">%s</text>\n', svg.num(x), svg.num(plot_top + PLOT_HEIGHT), svg.num(x),
      svg.num(plot_top + PLOT_HEIGHT + 4), svg.num(x), svg.num(plot_top + PLOT_HEIGHT + 16), svg.text(seconds_text(t)))
    t = t + x_step
  end
  out[#out + 1] = format('<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>\n', svg.num(plot_left),
    svg.num(plot_top + PLOT_HEIGHT), svg.num(plot_left + plot_width), svg.num(plot_top + PLOT_HEIGHT))
  -- the layers, bottom to top: each a polygon between its lower and upper edge
  local below = {}
  for i = 1, n do below[i] = 0 end
  for _, layer in ipairs(p.layers) do
    local upper, lower = {}, {}
    for i = 1, n do
      local x = x_of(relative[i])
      upper[#upper + 1] = svg.num(x) .. "," .. svg.num(y_of(below[i] + layer.values[i]))
      lower[n - i + 1] = svg.num(x) .. "," .. svg.num(y_of(below[i]))
      below[i] = below[i] + layer.values[i]
    end
    if n == 1 then   -- one sample: a bar of a few pixels
      local x = x_of(0)
      upper = { svg.num(x) .. "," .. svg.num(y_of(below[1])), svg.num(x + 6) .. "," .. svg.num(y_of(below[1])) }
      lower = { svg.num(x + 6) .. "," .. svg.num(y_of(below[1] - layer.values[1])),
                svg.num(x) .. "," .. svg.num(y_of(below[1] - layer.values[1])) }
    end
    out[#out + 1] = format('<polygon class="layer" data-layer="%s" points="%s %s" fill="%s"/>\n', svg.text(layer.name),
      concat(upper, " "), concat(lower, " "), LAYER_COLOURS[layer.name] or "#bbbbbb")
  end
  if line_at then
    out[#out + 1] = format('<polyline class="fit" points="%s,%s %s,%s"><title>%s</title></polyline>\n',
      svg.num(x_of(0)), svg.num(y_of(line_at(0))), svg.num(x_of(span)), svg.num(y_of(line_at(span))), svg.text(fit_text))
  end
  -- the samples: hover strips
  for i = 1, n do
    local x = x_of(relative[i])
    local left = i > 1 and (x + x_of(relative[i - 1])) / 2 or x
    local right = i < n and (x + x_of(relative[i + 1])) / 2 or x
    if right - left < 4 then left, right = x - 2, x + 2 end
    local attrs, lines = {}, { format("sample %d at %s", i, seconds_text(relative[i])) }
    for _, layer in ipairs(p.layers) do
      attrs[#attrs + 1] = format('data-%s="%s"', svg.text(layer.name), integer_text(layer.values[i]))
      lines[#lines + 1] = format("%s %s (%s bytes)", svg.text(layer.name), units.format(layer.values[i]),
        integer_text(layer.values[i]))
    end
    lines[#lines + 1] = format("total %s (%s bytes)", units.format(totals[i]), integer_text(totals[i]))
    out[#out + 1] = format('<g class="sample" data-t="%s" %s><title>%s</title><rect x="%s" y="%s" width="%s" ' ..
      'height="%d"/></g>\n', svg.num(relative[i]), concat(attrs, " "), concat(lines, "\n"), svg.num(left),
      svg.num(plot_top), svg.num(right - left), PLOT_HEIGHT)
  end
  -- the legend and the details line
  local x, y = plot_left, plot_top + PLOT_HEIGHT + 36
  for _, layer in ipairs(p.layers) do
    out[#out + 1] = format('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>\n',
      x, y - 10, LAYER_COLOURS[layer.name] or "#bbbbbb", x + 16, y, svg.text(layer.name))
    x = x + 30 + 7 * #layer.name
  end
  if line_at then
    out[#out + 1] = format('<line x1="%d" y1="%d" x2="%d" y2="%d" class="fit-key" stroke="#000" stroke-width="2" ' ..
      'stroke-dasharray="7 4"/><text x="%d" y="%d">%s</text>\n', x, y - 4, x + 24, y - 4, x + 30, y,
      svg.text("fitted " .. fit_text))
  end
  out[#out + 1] = format('<text class="details" x="%d" y="%d">%s</text>\n', plot_left, y + 20,
    svg.text("Point at the chart for a sample's figures."))
  out[#out + 1] = "</g>\n"
  return out, PANEL_TOP + PLOT_HEIGHT + PANEL_BOTTOM
end

-- The SVG text of panels (see the top of this file): each {title, note, times, layers, fit}; note,
-- when given, replaces the line under the title that describes the fitted line; a layer's name is
-- a lower-case word (it names an attribute). opts: title (the document's title).
function M.svg(panels, opts)
  opts = opts or {}
  local body, top = {}, 0
  for i, p in ipairs(panels) do
    check_panel(p, i)
    local pieces, height = panel_svg(p, i, top)
    for _, piece in ipairs(pieces) do body[#body + 1] = piece end
    top = top + height
  end
  return svg.document { width = WIDTH, height = top > 0 and top or 40, style = STYLE, script = SCRIPT, body = body,
                        title = opts.title or (panels[1] and panels[1].title) or "memory over time" }
end

return M
