-- docs/gallery.md and docs/gallery/*: drawn here from the helper capture; the suite fails when they differ.
--
-- Each picture of the gallery is made by running the bundled script on tests/fixtures/helper-capture
-- (leak.lua and watch mode on a copy whose helper grows, under a clock that moves a fixed step), and
-- the page itself is written here around them. The files in docs/ must be exactly what this draws:
-- when the code changes a picture, the test fails until the gallery is made again with
--   MEMSCRIPT_UPDATE_GALLERY=1 ctest --test-dir build -R test_gallery
-- which writes docs/gallery.md and docs/gallery/ and passes.

local T = require "testing"
local pictures = require "pictures"

local format, concat = string.format, table.concat

local CAPTURE = "tests/fixtures/helper-capture/proc"
local capture = T.source .. "/" .. CAPTURE
local update = os.getenv("MEMSCRIPT_UPDATE_GALLERY") == "1"

local tmp, cleanup <close> = T.tempdir()

local function run(root, args, env)
  local out, err, status = T.memscript(root, args, { env = env })
  T.eq({ err, status }, { "", 0 }, args .. ": stderr and status")
  return out
end

-- A copy of the capture to grow; its proc directory.
local function copy_of_capture(name)
  local dir = tmp .. "/" .. name
  T.sh(format("mkdir -p %s && cp -r %s %s/", T.q(dir), T.q(capture), T.q(dir)))
  return dir .. "/proc"
end

-- The gallery: each picture's file name, the command shown, and how it is made (into path).
local PICTURES = {
  {
    file = "flame.svg", title = "The machine as a flame graph: `flame.lua`",
    command = "memscript --proc-root " .. CAPTURE .. " flame.lua -u -o flame.svg",
    text = "Every process's memory by user, process, kind and file, each frame as wide as its PSS. Open the "
      .. "file itself to point at a frame (its name, bytes and shares) and click to zoom into it; "
      .. "`--metric rss|uss|swap|footprint` changes what the widths are, `-c` puts cgroups where users are.",
    make = function(path) run(capture, "flame.lua -u -o " .. T.q(path)) end,
  },
  {
    file = "map.svg", title = "One address space: `map.lua`",
    command = "memscript --proc-root " .. CAPTURE .. " map.lua 1848 -o map.svg",
    text = "The helper's mappings in address order: each box as wide as its size (on a log scale here, "
      .. "since the sizes differ by more than sixteen times), coloured by kind and filled by its resident "
      .. "share; the hatched bands are unmapped gaps, whatever their size; the red outline is the "
      .. "writable and executable mapping, the dashed one a file deleted since it was mapped.",
    make = function(path) run(capture, "map.lua 1848 -o " .. T.q(path)) end,
  },
  {
    file = "leak.svg", title = "Growth over time: `leak.lua --svg`",
    command = "memscript --proc-root COPY -e \"$(cat tests/gallery/growing-heap.lua)\" "
      .. "leak.lua --interval 10 --count 6 --svg leak.svg 1848",
    text = "leak.lua's samples of a copy of the capture whose heap tests/gallery/growing-heap.lua grows by "
      .. "1 MiB before each sample, 10 s apart: anonymous memory (the total leak.lua reports), file "
      .. "pages, shared memory and swap stacked, and the fitted line of the anonymous total.",
    make = function(path)
      local root = copy_of_capture("leak")
      run(root, "-e " .. T.q(T.read(T.source .. "/tests/gallery/growing-heap.lua")) .. " leak.lua --interval 10 "
        .. "--count 6 --svg " .. T.q(path) .. " 1848", "MEMSCRIPT_GROWING_SMAPS=" .. T.q(root .. "/1848/smaps"))
    end,
  },
  {
    file = "watch.svg", title = "Watch mode: `--svg`",
    command = "memscript --proc-root COPY --interval 0.01 --count 6 --svg watch.svg tests/gallery/watch-memory.lua",
    text = "Watch mode charts every process a run samples with `require(\"memscript.watch\").memory(pid)`: "
      .. "RssAnon, RssFile, RssShmem and VmSwap of its status, stacked, with the fitted line of their total. "
      .. "Here tests/gallery/watch-memory.lua adds 1 MiB to a copy's RssAnon each run, on a clock that "
      .. "moves 10 s a run.",
    make = function(path)
      local root = copy_of_capture("watch")
      run(root, "--interval 0.01 --count 6 --svg " .. T.q(path) .. " " .. T.q(T.source .. "/tests/gallery/watch-memory.lua"),
        "MEMSCRIPT_GROWING_STATUS=" .. T.q(root .. "/1848/status"))
    end,
  },
}

local FOLDED_COMMAND = "memscript --proc-root " .. CAPTURE .. " -f folded top.lua -m -s rss"

-- text in lines of at most 100 characters, broken at spaces.
local function wrapped(text)
  return require("memscript.text").wrap(text, 100)
end

-- The page, around the pictures and the folded text.
local function page(folded_text)
  local out = {
    "# Gallery",
    "",
    "The pictures memscript draws, each one self-contained SVG file that any browser shows, offline. They",
    "are made by the test suite (tests/test_gallery.lua) from the capture of its helper program",
    "(tests/fixtures/helper-capture: one process, `memhelper`, with a mapping of each kind), and the suite",
    "fails when a file here differs from what the code draws now, so the gallery cannot drift from the",
    "code. `MEMSCRIPT_UPDATE_GALLERY=1 ctest --test-dir build -R test_gallery` makes it again. COPY below is",
    "a copy of the capture's top, which the growing pictures change.",
    "",
    "The pictures shown on this page are previews: their scripts run only when a picture is opened by",
    "itself, where pointing shows the figures and a flame graph zooms.",
  }
  for _, p in ipairs(PICTURES) do
    out[#out + 1] = ""
    out[#out + 1] = "## " .. p.title
    out[#out + 1] = ""
    out[#out + 1] = "```sh"
    out[#out + 1] = p.command
    out[#out + 1] = "```"
    out[#out + 1] = ""
    out[#out + 1] = format("![%s](gallery/%s)", p.file, p.file)
    out[#out + 1] = ""
    out[#out + 1] = wrapped(p.text)
  end
  out[#out + 1] = ""
  out[#out + 1] = "## The same stacks for other tools: `-f folded`"
  out[#out + 1] = ""
  out[#out + 1] = "top.lua (`-u`, `-m`), report.lua and flame.lua write their hierarchies as collapsed stacks,"
  out[#out + 1] = "one `frame;frame;frame BYTES` line each, exact bytes adding up to the view's total, for"
  out[#out + 1] = "flamegraph.pl, inferno or speedscope:"
  out[#out + 1] = ""
  out[#out + 1] = "```sh"
  out[#out + 1] = FOLDED_COMMAND
  out[#out + 1] = "```"
  out[#out + 1] = ""
  out[#out + 1] = "```text"
  out[#out + 1] = (folded_text:gsub("\n$", ""))
  out[#out + 1] = "```"
  return concat(out, "\n") .. "\n"
end

-- Everything the gallery holds, made now: name -> text.
local function make_gallery()
  local files = {}
  for _, p in ipairs(PICTURES) do
    local path = tmp .. "/" .. p.file
    p.make(path)
    files["gallery/" .. p.file] = T.read(path)
  end
  files["gallery.md"] = page(run(capture, "-f folded top.lua -m -s rss"))
  return files
end

local made = make_gallery()

T.test("the gallery's pictures are well-formed, self-contained, and show the capture's figures", function()
  for name, body in pairs(made) do
    if name:match("%.svg$") then
      local path = tmp .. "/check-" .. name:match("[^/]+$")
      T.write(path, body)
      pictures.check_wellformed(path)
      T.eq(pictures.foreign(body), {}, name .. ": references outside it")
    end
  end
  local frames = pictures.frames(made["gallery/flame.svg"])
  T.eq({ frames[1].name, frames[1].bytes }, { "vm", 1032 * 1024 }, "the flame graph's root: the capture's host and PSS")
  T.eq(#pictures.regions(made["gallery/map.svg"]), 35, "the map's mappings")
  local leak = pictures.samples(made["gallery/leak.svg"])
  T.eq({ #leak, leak[1].anonymous, leak[6].anonymous, leak[6].t }, { 6, 248 * 1024, 248 * 1024 + 5 * 1048576, 50 },
    "leak.lua's samples")
  local watch = pictures.samples(made["gallery/watch.svg"])
  T.eq({ #watch, watch[1].anonymous, watch[6].anonymous, watch[6].file, watch[6].t },
    { 6, 248 * 1024, 248 * 1024 + 5 * 1048576, 736 * 1024, 50 }, "watch mode's samples")
end)

T.test("docs/gallery.md and docs/gallery/ are what the code draws now", function()
  local docs = T.source .. "/docs/"
  if update then
    T.sh("mkdir -p " .. T.q(docs .. "gallery"))
    for name, body in pairs(made) do T.write(docs .. name, body) end
    io.write("wrote docs/gallery.md and docs/gallery/ (MEMSCRIPT_UPDATE_GALLERY=1)\n")
  end
  local names = {}
  for name in pairs(made) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local committed = T.read_if(docs .. name)
    T.ok(committed ~= nil, "docs/" .. name .. " is missing: make the gallery with MEMSCRIPT_UPDATE_GALLERY=1 " ..
      "ctest --test-dir build -R test_gallery")
    if committed ~= made[name] then
      T.same_text(committed, made[name], "docs/" .. name .. " (make it again with MEMSCRIPT_UPDATE_GALLERY=1 " ..
        "ctest --test-dir build -R test_gallery)")
    end
  end
  -- nothing else in docs/gallery/
  local listed = T.sh("ls " .. T.q(docs .. "gallery"))
  local expected = {}
  for _, name in ipairs(names) do
    if name:match("^gallery/") then expected[#expected + 1] = name:match("[^/]+$") end
  end
  T.eq(listed, concat(expected, "\n") .. "\n", "the files in docs/gallery/")
end)

T.done()
