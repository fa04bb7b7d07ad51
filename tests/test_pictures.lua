-- flame.lua, map.lua, leak.lua --svg and watch mode's --svg: well-formed, self-contained SVG whose bytes are the views' bytes.
--
-- Every picture is checked with xmllint --noout and for references outside itself; its numbers are
-- read back from the data attributes and titles it carries (tests/lib/pictures.lua) and compared with
-- what the table views print on the same tree, or with the folded stacks of the same run. The hostile
-- helper's names (markup, quotes, escape sequences, invalid UTF-8) must come out as escaped text.
-- test_browser.lua renders the same pictures in Chromium.

local T = require "testing"
local pictures = require "pictures"
local machine = require "machine"
local hostile = require "hostile"
local live = require "livehelper"
local text = require "memscript.text"
local svg = require "memscript.svg"

local format, concat = string.format, table.concat

-- with each process's /proc/PID/cgroup (machine.CGROUPS)
local root, cleanup <close> = machine.build({ cgroups = true })
local tmp, tmp_cleanup <close> = T.tempdir()
local captured = proc.at(root)

-- The elements a picture may hold.
local ALLOWED = { defs = true, g = true, line = true, pattern = true, polygon = true, polyline = true, rect = true,
  script = true, style = true, svg = true, text = true, title = true }

-- Runs memscript on the tree (or live with root false); stdout, stderr and status checked for success.
local function run(args, on)
  local tree = root
  if on == false then tree = nil elseif on then tree = on end
  local out, err, status = T.memscript(tree, args)
  T.eq({ err, status }, { "", 0 }, args .. ": stderr and status")
  return out
end

-- The text of a picture file, checked well-formed, self-contained and made of the allowed elements.
local function picture(path)
  pictures.check_wellformed(path)
  local svg_text = T.read(path)
  T.eq(pictures.foreign(svg_text), {}, path .. ": references outside the picture")
  for _, name in ipairs(pictures.element_names(svg_text)) do
    T.ok(ALLOWED[name], path .. ": element <" .. name .. ">")
  end
  T.eq(select(2, svg_text:gsub("<script>", "")), 1, path .. ": one script, the picture's own")
  return svg_text
end

local function sum_of(list, field)
  local total = 0
  for _, item in ipairs(list) do total = total + (item[field] or 0) end
  return total
end

-- The smaps of a captured process added up by field.
local function smaps_sum(pid, field)
  return sum_of(captured.smaps(pid), field)
end

-- The PSS of a live process from its smaps.
local function smaps_sum_live(pid)
  return sum_of(proc.smaps(pid), "Pss")
end

-- ---- memscript.svg ----

T.test("svg.text: a process's text as XML text: terminal escapes first, then entities, U+FFFE and U+FFFF escaped", function()
  T.eq(svg.text("plain é"), "plain é", "plain text")
  T.eq(svg.text("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;", "markup")
  T.eq(svg.text("\27[2K\r\n\0\xff"), "\\x1b[2K\\r\\n\\x00\\xff", "control bytes and a stray byte")
  T.eq(svg.text("\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd"), "\\u{FFFE}\\u{FFFF}\xef\xbf\xbd", "the two non-characters XML refuses")
  T.eq(svg.text("]]>"), "]]&gt;", "a CDATA end")
  T.eq(svg.num(1180.251), "1180.25", "two decimals")
  T.eq(svg.num(12.0), "12", "no trailing zeros")
  T.eq(svg.num(-0.001), "0", "no negative zero")
  T.eq(svg.colour("file", "/usr/lib/libc.so.6"), svg.colour("file", "/usr/lib/libc.so.6"), "the same colour every time")
  T.ok(svg.colour("file", "a") ~= svg.colour("heap", "a"), "kinds differ")
  T.eq(svg.group("memfd"), "shmem", "a memfd is shared memory")
  T.raises(function() svg.document({ width = 1, height = 1, script = "x = ']]>'" }) end, "CDATA", "a script that would end its CDATA")
end)

-- ---- flame.lua ----

T.test("flame.lua -u -o FILE: one well-formed, self-contained SVG, nothing on stdout", function()
  local path = tmp .. "/flame-u.svg"
  T.eq(run("flame.lua -u -o " .. T.q(path)), "", "stdout")
  local svg_text = picture(path)
  T.ok(#svg_text < 100 * 1024, "a small picture: " .. #svg_text .. " bytes")
  -- without -o, the same picture on standard output
  T.eq(run("flame.lua -u"), svg_text, "standard output")
end)

T.test("flame.lua: every frame holds exactly the bytes of the frames under it, side by side from its left edge", function()
  local frames = pictures.frames(run("flame.lua -u"))
  local children = pictures.children(frames)
  local checked = 0
  for _, f in ipairs(frames) do
    local list = children[f.id]
    if #list > 0 then
      checked = checked + 1
      T.eq(sum_of(list, "bytes"), f.bytes, f.name .. ": the sum of its children")
      local offset = f.offset
      for _, c in ipairs(list) do
        T.eq(c.offset, offset, c.name .. ": where it starts")
        offset = offset + c.bytes
      end
    end
  end
  T.ok(checked >= 10, "frames with children: " .. checked)
  T.eq(frames[1].depth, 0, "the root first")
  -- the root is named by the host name a capture records; this tree has no metadata
  T.eq(frames[1].name, "all", "the root")
end)

T.test("flame.lua -u: the root, users, processes and kinds are the smaps sums, as top.lua -m and report.lua give them", function()
  local paths = pictures.by_path(pictures.frames(run("flame.lua -u")))
  local pss = { [1848] = smaps_sum(1848, "Pss"), [4804] = smaps_sum(4804, "Pss"), [4805] = smaps_sum(4805, "Pss") }
  T.eq(pss, { [1848] = 1032 * 1024, [4804] = 400 * 1024, [4805] = 400 * 1024 }, "the smaps' PSS of each process")
  T.eq(paths["root;memhelper [1848]"].bytes, pss[1848], "the helper")
  T.eq(paths["root;sleep [4804]"].bytes, pss[4804], "the sleep")
  T.eq(paths["3999999;sleep [4805]"].bytes, pss[4805], "the sleep of the user with no name")
  T.eq(paths["root"].bytes, pss[1848] + pss[4804], "root's processes")
  -- the whole: top.lua -m's PSS total (smaps added up by path as here)
  local doc = T.json(run("-f json top.lua -m"))
  T.eq(pictures.frames(run("flame.lua -u"))[1].bytes, sum_of(doc, "pss"), "the root and top.lua -m's total")
  -- a process's kinds and files: report.lua -f folded's KIND;PATH lines, with --metric rss
  local rss_paths = pictures.by_path(pictures.frames(run("flame.lua -u --metric rss")))
  local by_kind = {}
  for line in run("-f folded report.lua 1848"):gmatch("[^\n]+") do
    local kind, bytes = line:match("^([^;]+);.* (%d+)$")
    by_kind[kind] = (by_kind[kind] or 0) + tonumber(bytes)
  end
  for kind, bytes in pairs(by_kind) do
    T.eq(rss_paths["root;memhelper [1848];" .. kind].bytes, bytes, "RSS of the helper's " .. kind)
  end
  T.eq(rss_paths["root;memhelper [1848];file;/tmp/memhelper"].bytes, 684032, "the executable's five mappings")
  T.eq(rss_paths["root;memhelper [1848];file;/tmp/memhelper"].label_attr, "memhelper", "drawn by its base name")
  T.eq(rss_paths["root;memhelper [1848];heap"].title, "heap\n16K (16384 bytes), 0.3% of all, 1.5% of memhelper [1848]",
    "a title: the name, the bytes, the shares")
end)

T.test("flame.lua -f folded -o FILE: the stacks on stdout and the picture of the same run hold the same bytes", function()
  local path = tmp .. "/flame-same-run.svg"
  local out = run("-f folded flame.lua -u -o " .. T.q(path))
  local paths = pictures.by_path(pictures.frames(picture(path)))
  local lines, total = 0, 0
  for stack, bytes in out:gmatch("([^\n]+) (%d+)\n") do
    lines = lines + 1
    bytes = math.tointeger(tonumber(bytes))
    total = total + bytes
    -- a folded frame and a title hold the same escapes, but for ';' (\x3b in a frame)
    local frame = paths[stack:gsub("\\x3b", ";")]
    T.ok(frame ~= nil, "a frame for the stack " .. stack)
    T.eq(#pictures.children(pictures.frames(T.read(path)))[frame.id], 0, stack .. " is a leaf")
    T.eq(frame.bytes, bytes, stack)
  end
  T.ok(lines >= 20, "stacks: " .. lines)
  T.eq(pictures.frames(T.read(path))[1].bytes, total, "the root holds every stack's bytes")
  T.ok(out:find("3999999;sleep\\x3ba b [4805];", 1, true) == nil, "the process frame is comm [pid]")
end)

T.test("flame.lua --metric: rss, uss, swap and footprint (pss + swap), each the smaps sums", function()
  local function root_bytes(metric) return pictures.frames(run("flame.lua --metric " .. metric))[1].bytes end
  local all = { 1848, 4804, 4805 }
  local function total(field)
    local n = 0
    for _, pid in ipairs(all) do n = n + smaps_sum(pid, field) end
    return n
  end
  T.eq(root_bytes("rss"), total("Rss"), "rss")
  T.eq(root_bytes("pss"), total("Pss"), "pss")
  T.eq(root_bytes("uss"), total("Private_Clean") + total("Private_Dirty") + total("Private_Hugetlb"), "uss")
  T.eq(root_bytes("swap"), machine.SWAP_PSS, "swap: SwapPss")
  T.eq(root_bytes("footprint"), total("Pss") + machine.SWAP_PSS, "footprint")
  local paths = pictures.by_path(pictures.frames(run("flame.lua --metric swap")))
  T.eq(paths["sleep [4805];stack"].bytes, machine.SWAP_PSS, "the swapped stack, with no user level")
end)

-- The stacks of folded text added up by their frames above the process's: {["a;b"] = bytes}; the
-- process frame is the last with top.lua, the third from the end or before with flame.lua.
local function folded_by_group(text, process_frame)
  local sums = {}
  for stack, bytes in text:gmatch("([^\n]+) (%d+)\n") do
    local frames = {}
    for frame in (stack .. ";"):gmatch("([^;]*);") do frames[#frames + 1] = frame end
    local at = process_frame(frames)
    T.ok(at and at > 1, "a process frame under the group's in " .. stack)
    local key = concat(frames, ";", 1, at - 1)
    sums[key] = (sums[key] or 0) + math.tointeger(tonumber(bytes))
  end
  return sums
end

local function last_frame(frames) return #frames end
local function process_frame(frames)
  for i = #frames, 1, -1 do
    if frames[i]:match(" %[%d+%]$") then return i end
  end
end

T.test("flame.lua -c: a frame per component of each process's memory cgroup, the cgroups and bytes of top.lua -c", function()
  local paths = pictures.by_path(pictures.frames(run("flame.lua -c")))
  -- the cgroups of machine.CGROUPS: a v2 line, the root, a v1 memory line whose name holds a ';'
  T.eq(paths["system.slice;memhelper.service;memhelper [1848]"].bytes, smaps_sum(1848, "Pss"), "the helper")
  T.eq(paths["/;sleep [4804]"].bytes, smaps_sum(4804, "Pss"), "the sleep in the root cgroup")
  T.eq(paths["user.slice;sleep;a.scope;sleep [4805]"].bytes, smaps_sum(4805, "Pss"), "the sleep in sleep;a.scope")
  T.eq(paths["user.slice;sleep;a.scope"].name, "sleep;a.scope", "one frame for the name with a ';'")
  -- by RSS (exact in smaps and smaps_rollup alike) each cgroup holds what top.lua -c's row and
  -- stacks hold; the same folded frames
  for _, metric in ipairs({ "rss", "swap" }) do
    local flame = folded_by_group(run("-f folded flame.lua -c --metric " .. metric), process_frame)
    local top = folded_by_group(run("-f folded top.lua -c -s " .. metric), last_frame)
    T.eq(flame, top, metric .. " per cgroup: flame.lua -c and top.lua -c")
    local rows = {}
    for _, row in ipairs(T.json(run("-f json top.lua -c"))) do
      if row[metric] > 0 then
        local frames = {}
        for i, f in ipairs(require("memscript.folded").path_frames(row.cgroup)) do
          frames[i] = require("memscript.folded").frame(f)
        end
        rows[concat(frames, ";")] = row[metric]
      end
    end
    T.eq(flame, rows, metric .. ": top.lua -c's rows")
  end
  T.ok(folded_by_group(run("-f folded flame.lua -c --metric rss"), process_frame)["user.slice;sleep\\x3ba.scope"] ~= nil,
    "the ';' in a cgroup's name escaped in its folded frame")
end)

T.test("a label drawn on a frame or a box is the start of its title's first line: its name escaped once, not twice", function()
  local tree, tree_cleanup <close> = machine.build({ cgroups = true })
  T.write(tree .. "/1848/cgroup", "0::/system.slice/a\27[2Jb\\c.service\n")
  T.write(tree .. "/1848/smaps", (T.read(tree .. "/1848/smaps"):gsub("memhelper%.3qopYa/data", "memhelper.3qopYa/d\27[1mt")))
  local frames = pictures.frames(run("flame.lua -c", tree))
  local frame
  for _, f in ipairs(frames) do if f.title:match("^[^\n]*") == "a\\x1b[2Jb\\\\c.service" then frame = f end end
  T.ok(frame ~= nil, "the cgroup's frame, its title the name as memscript.text escapes it")
  T.eq(frame.label, "a\\x1b[2Jb\\\\c.service", "its label: the same text")
  local path = tmp .. "/escaped-label-map.svg"
  run("map.lua 1848 -o " .. T.q(path), tree)
  local found
  for _, r in ipairs(pictures.regions(picture(path))) do
    if r.title:match("^[^\n]*") == "/tmp/memhelper.3qopYa/d\\x1b[1mt" then found = r end
  end
  T.ok(found ~= nil, "the mapping's box, its title the path escaped")
  T.contains(pictures.unxml(found.body), ">d\\x1b[1mt<", "its label: the base name escaped once")
end)

T.test("flame.lua -c: a process whose cgroup cannot be read is left out and counted, as top.lua -c counts it", function()
  local bare, bare_cleanup <close> = machine.build()
  local out, err, status = T.memscript(bare, "flame.lua -c")
  T.eq({ out, status }, { "", 3 }, "no picture, and UNKNOWN: none was read")
  local _, top_err, top_status = T.memscript(bare, "top.lua -c")
  T.eq({ err, status }, { top_err, top_status }, "stderr and status as top.lua -c's")
  T.contains(err, "3 processes unreadable: 3 other (", "counted")
  -- without -c, the cgroup file is not read
  T.eq(pictures.frames(run("flame.lua", bare))[1].bytes, pictures.frames(run("flame.lua"))[1].bytes, "without -c")
end)

-- The cgroup live tests make: under the memory cgroup memscript's tests run in, in the v1 hierarchy.
local cg = require "livecgroup"
local V1 = cg.V1

-- What flame.lua -c, top.lua -c (its rows and its stacks) and cgroup.lua -p name as the cgroup of
-- process pid: {flame = "a;b", top = "a;b", top_row = "/a/b", cgroup = "/a/b"}.
local function cgroups_named(pid)
  local named = {}
  local flame = folded_by_group(run("-f folded flame.lua -c --metric rss -p " .. pid, false), process_frame)
  local top = folded_by_group(run("-f folded top.lua -c -s rss -p " .. pid, false), last_frame)
  named.flame, named.top = next(flame), next(top)
  T.eq({ next(flame, named.flame), next(top, named.top) }, {}, "one cgroup each")
  local rows = T.json(run("-f json top.lua -c -p " .. pid, false))
  T.eq(#rows, 1, "top.lua -c: one row")
  named.top_row = rows[1].cgroup
  local chain = T.json(run("-f json cgroup.lua -p " .. pid, false))
  named.cgroup = chain[#chain].path
  return named
end

-- path as the stacks' frames hold it.
local function stack_of(path)
  local folded = require "memscript.folded"
  local frames = {}
  for i, f in ipairs(folded.path_frames(path)) do frames[i] = folded.frame(f) end
  return concat(frames, ";")
end

T.test("flame.lua -c, top.lua -c and cgroup.lua name the same cgroup for the live helper", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local of, msg = proc.cgroup.of(h.pid)
    if not of then T.skip("no memory cgroup for the helper: " .. tostring(msg), "anywhere") end
    if not proc.cgroup.memory(of.path) then
      T.skip("the helper's cgroup " .. of.path .. " is outside the hierarchy memscript sees", "anywhere")
    end
    T.eq(cgroups_named(h.pid), { flame = stack_of(of.path), top = stack_of(of.path), top_row = of.path,
      cgroup = of.path }, "the cgroup each names")
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("flame.lua -c, top.lua -c and cgroup.lua in a cgroup made here whose name holds a ';' and a space", function()
  local why = cg.unavailable()
  if why then T.skip(why[1], why[2]) end
  local path = cg.child("pictures;a b")
  T.sh("mkdir " .. T.q(V1 .. path))
  local h
  local ok, problem = pcall(function()
    h = live.start(nil, 60, cg.into(path))
    T.eq(assert(proc.cgroup.of(h.pid)).path, path, "proc.cgroup.of")
    T.eq(cgroups_named(h.pid), { flame = stack_of(path), top = stack_of(path), top_row = path, cgroup = path },
      "the cgroup each names")
    T.contains(stack_of(path), "memscript-test-pictures\\x3ba b-", "the ';' escaped in the stacks")
    -- the picture: the helper under the cgroup's frames, its bytes its smaps' PSS
    local frames = {}
    for dir in path:gmatch("[^/]+") do frames[#frames + 1] = dir end
    frames[#frames + 1] = "memhelper [" .. h.pid .. "]"
    local paths = pictures.by_path(pictures.frames(run("flame.lua -c -p " .. h.pid, false)))
    T.ok(paths[concat(frames, ";")] ~= nil, "the helper under " .. path)
    T.eq(paths[concat(frames, ";")].bytes, smaps_sum_live(h.pid), "its PSS")
  end)
  if h then live.stop(h) end
  cg.remove(path)
  if not ok then error(problem, 0) end
end)

T.test("flame.lua refuses -f json, and says when FILE cannot be written", function()
  local out, err, status = T.memscript(root, "-f json flame.lua")
  T.eq({ out, status }, { "", 3 }, "-f json: stdout and status")
  T.contains(err, "memscript: flame.lua draws SVG, or writes folded stacks with -f folded, not 'json'\nusage: ", "-f json")
  out, err, status = T.memscript(root, "flame.lua -o " .. T.q(tmp .. "/missing/x.svg"))
  T.eq({ out, err, status }, { "", "memscript: flame.lua: " .. tmp .. "/missing/x.svg: No such file or directory\n", 3 },
    "a file in a missing directory")
end)

-- ---- map.lua ----

T.test("map.lua PID -o FILE: every mapping a box with its exact size and resident bytes, in address order", function()
  local path = tmp .. "/map.svg"
  T.eq(run("map.lua 1848 -o " .. T.q(path)), "", "stdout")
  local svg_text = picture(path)
  local regions = pictures.regions(svg_text)
  local smaps = captured.smaps(1848)
  T.eq(#regions, #smaps, "one box per mapping")
  for i, m in ipairs(smaps) do
    T.eq({ regions[i].start, regions[i].size, regions[i].rss }, { format("%x", m.vm_start), m.size, m.Rss },
      "mapping " .. i)
  end
  -- pmap's totals (report.lua), in kB
  local kbytes, rss_kb = run("report.lua 1848"):match("\ntotal kB +(%d+) +(%d+)")
  T.eq(sum_of(regions, "size"), tonumber(kbytes) * 1024, "mapped, as pmap's total")
  T.eq(sum_of(regions, "rss"), tonumber(rss_kb) * 1024, "resident, as pmap's total")
  T.contains(svg_text, "pid 1848 (memhelper): 35 mappings, 1.6M mapped, 1.0M resident, 1 writable and executable, "
    .. "1 of deleted files</title>", "the summary in the title")
  T.eq(run("map.lua 1848"), svg_text, "the same picture on standard output")
end)

T.test("map.lua: gaps between mappings compressed and sized exactly; widths on a log scale across orders of magnitude", function()
  local svg_text = run("map.lua 1848")
  local smaps, gaps = captured.smaps(1848), pictures.gaps(svg_text)
  local expected = {}
  for i = 2, #smaps do
    if smaps[i].vm_start ~= smaps[i - 1].vm_end then
      local size = smaps[i].vm_start - smaps[i - 1].vm_end
      if size < 0 then size = size + 2.0^64 end
      expected[#expected + 1] = size
    end
  end
  local got = {}
  for i, g in ipairs(gaps) do got[i] = g.size end
  T.eq(#got, #expected, "gaps")
  for i = 1, #expected do T.eq(got[i], math.tointeger(expected[i]) or expected[i], "gap " .. i) end
  T.ok(#gaps >= 4, "the helper's address space has gaps: " .. #gaps)
  -- the smallest mapping (4 kB) is 28 px; 16 kB, two doublings, 28 + 2 * 16; the largest (496 kB) 28 + 16 * log2(124)
  local regions = pictures.regions(svg_text)
  for _, r in ipairs(regions) do
    local expected_width = 28 + 16 * math.log(r.size / 4096, 2)
    T.ok(math.abs(r.width - expected_width) < 0.01, format("width of %s (%d bytes): %s, not %.2f", r.start, r.size,
      tostring(r.width), expected_width))
  end
  T.contains(svg_text, "width by size on a log scale: 4.0K is 28 px, each doubling 16 px more", "the scale says so")
end)

T.test("map.lua marks W+X with a red outline and files deleted since mapped with a dashed one, nothing else", function()
  local regions = pictures.regions(run("map.lua 1848"))
  local marked = {}
  for _, r in ipairs(regions) do
    if r.mark then marked[#marked + 1] = { r.start, r.mark, r.stroke, r.dashed } end
  end
  T.eq(marked, { { "7f9c73a2a000", "W+X", "#c01c28", false }, { "7f9c73a40000", "deleted", "#777", true } },
    "the rwxp region and deleted.bin; not the memfd, the System V segment or /dev/zero, which no directory held")
  T.contains(regions[1].title, "/tmp/memhelper\n400000-401000 r--p, 4.0K (4096 bytes), file\n" ..
    "resident 4.0K (4096 bytes), 100.0% of it; PSS 4.0K (4096 bytes); swap 0B (0 bytes)\nVmFlags rd mr mw me",
    "a title")
end)

T.test("map.lua: more than 2000 mappings are drawn in bundles of consecutive ones, every byte counted, W+X alone", function()
  -- 4500 mappings of 8 kB: anonymous (4 kB resident) and guard pages in turn, a 4 kB gap after every
  -- hundredth, and one rwxp at the 2000th
  local dir, done <close> = T.tempdir()
  T.sh(format("mkdir -p %s/proc && cp -r %s %s/proc/1848 && chmod -R u+w %s", T.q(dir),
    T.q(T.fixtures .. "/helper-capture/proc/1848"), T.q(dir), T.q(dir)))
  local lines, address, total_rss = {}, 0x10000000, 0
  for i = 1, 4500 do
    local perms = i == 2000 and "rwxp" or (i % 2 == 0 and "---p" or "rw-p")
    local rss = perms == "---p" and 0 or 4
    total_rss = total_rss + rss * 1024
    lines[#lines + 1] = format("%x-%x %s 00000000 00:00 0 \nSize:                  8 kB\nRss:                 %3d kB\n" ..
      "Pss:                 %3d kB\nSwap:                  0 kB\nVmFlags: rd wr mr mw me ac \n", address, address + 8192,
      perms, rss, rss)
    address = address + 8192 + (i % 100 == 0 and 4096 or 0)
  end
  T.write(dir .. "/proc/1848/smaps", concat(lines))
  local svg_text = run("map.lua 1848", dir .. "/proc")
  local regions = pictures.regions(svg_text)
  T.ok(#regions <= 2000, "boxes: " .. #regions)
  T.eq({ sum_of(regions, "count"), sum_of(regions, "size"), sum_of(regions, "rss") }, { 4500, 4500 * 8192, total_rss },
    "every mapping, every byte mapped and resident")
  -- the 44 gaps: between boxes, or counted inside a bundle
  local gaps, gap_bytes = #pictures.gaps(svg_text), sum_of(pictures.gaps(svg_text), "size")
  for _, r in ipairs(regions) do
    local n, bytes = r.title:match("; (%d+) gaps? inside, [^(]*%((%d+) bytes%) not mapped")
    if n then gaps, gap_bytes = gaps + tonumber(n), gap_bytes + tonumber(bytes) end
  end
  T.eq({ gaps, gap_bytes }, { 44, 44 * 4096 }, "gaps")
  local alone
  for _, r in ipairs(regions) do if r.mark == "W+X" then alone = r end end
  T.eq({ alone and alone.count, alone and alone.start }, { 1, format("%x", 0x10000000 + 1999 * 8192 + 19 * 4096) },
    "the rwxp mapping in a box of its own")
  T.eq(regions[1].title, "3 mappings\n10000000-10006000, 24K (24576 bytes) mapped; anon 2 (16K), guard 1 (8.0K); " ..
    "0 gaps inside, 0B (0 bytes) not mapped\nresident 8.0K (8192 bytes), 33.3% of it; PSS 8.0K (8192 bytes); swap 0B (0 bytes)",
    "a bundle's title")
  T.contains(svg_text, "4500 mappings in ", "the picture says so")
end)

T.test("map.lua: a process that cannot be read, and a format it does not draw, exit 3 with a message", function()
  local out, err, status = T.memscript(root, "map.lua 4242")
  T.eq({ out, err, status }, { "", "memscript: map.lua: " .. root .. "/4242/status: No such file or directory\n", 3 },
    "a missing process")
  out, err, status = T.memscript(root, "-f csv map.lua 1848")
  T.eq({ out, status }, { "", 3 }, "-f csv")
  T.contains(err, "memscript: map.lua draws SVG, not 'csv'\nusage: memscript map.lua", "-f csv")
end)

-- ---- leak.lua --svg ----

-- test_leak.lua's growing capture: the helper's [heap] 1 MiB larger at each sample, 10 s apart on a
-- clock the prelude keeps.
local function leak_on_growing_capture(args)
  local dir, done <close> = T.tempdir()
  T.sh(format("cp -r %s %s/", T.q(T.fixtures .. "/helper-capture/proc"), T.q(dir)))
  local prelude = T.read(T.source .. "/tests/gallery/growing-heap.lua")
  local out, err, status = T.memscript(dir .. "/proc", "-e " .. T.q(prelude) .. " leak.lua " .. args,
    { env = "MEMSCRIPT_GROWING_SMAPS=" .. T.q(dir .. "/proc/1848/smaps") })
  return out, err, status
end

T.test("leak.lua --svg: the chart of the same run: anonymous as the summary's total, file, shmem, swap, the fit", function()
  local path = tmp .. "/leak.svg"
  local out, err, status = leak_on_growing_capture("--interval 10 --count 6 --svg " .. T.q(path) .. " 1848")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local first, last = out:match("\ntotal +(%d+) +(%d+) ")
  local svg_text = picture(path)
  local samples = pictures.samples(svg_text)
  T.eq(#samples, 6, "samples")
  T.eq({ samples[1].anonymous, samples[6].anonymous }, { tonumber(first), tonumber(last) }, "the summary's first and last")
  for i, s in ipairs(samples) do
    T.eq(s.t, (i - 1) * 10, "time of sample " .. i)
    -- the capture: 248 kB anonymous; RssFile 736 kB and RssShmem 52 kB in its status, as here from smaps
    T.eq({ s.anonymous, s.file, s.shmem, s.swap }, { 248 * 1024 + (i - 1) * 1048576, 736 * 1024, 52 * 1024, 0 },
      "layers of sample " .. i)
  end
  T.contains(svg_text, "anonymous: +6.0M per minute (r² 1.00, 6 samples over 50 s)", "the fitted line")
  T.ok(svg_text:find('<polyline class="fit"', 1, true) ~= nil, "drawn")
end)

T.test("leak.lua --svg into a directory that is not there: the summary, then exit 3 naming the file", function()
  local out, err, status = leak_on_growing_capture("--interval 10 --count 3 --svg " .. T.q(tmp .. "/no/x.svg") .. " 1848")
  T.eq({ err, status }, { "memscript: leak.lua: " .. tmp .. "/no/x.svg: No such file or directory\n", 3 }, "stderr and status")
  T.contains(out, "pid 1848 (memhelper): 3 samples over 20.0 s, every 10 s\n", "the summary")
end)

-- ---- watch mode's --svg ----

T.test("watch mode --svg: a panel per process sampled with watch.memory, its layers status's figures exactly", function()
  local a, b = live.start(), live.start()
  local ok, problem = pcall(function()
    local path = tmp .. "/watch.svg"
    local code = format('local w = require("memscript.watch"); assert(w.memory(%d)); assert(w.memory(%d))', a.pid, b.pid)
    local out, err, status = T.memscript(nil, "--interval 0.05 --count 4 --svg " .. T.q(path) .. " -e " .. T.q(code))
    T.eq({ out, err, status }, { "", "", 0 }, "stdout, stderr, status")
    local svg_text = picture(path)
    T.eq(select(2, svg_text:gsub('<g class="panel"', "")), 2, "two panels")
    local samples = pictures.samples(svg_text)
    T.eq(#samples, 8, "four samples of each")
    -- the helpers are stopped: their status does not change
    for i, h in ipairs({ a, b }) do
      local st = assert(proc.status(h.pid))
      for j = 1, 4 do
        local s = samples[(i - 1) * 4 + j]
        T.eq({ s.anonymous, s.file, s.shmem, s.swap }, { st.RssAnon, st.RssFile, st.RssShmem, st.VmSwap },
          format("helper %d, sample %d", i, j))
      end
    end
    T.contains(svg_text, format("pid %d (memhelper): resident memory and swap", math.min(a.pid, b.pid)), "first panel")
  end)
  live.stop(a)
  live.stop(b)
  if not ok then error(problem, 0) end
end)

T.test("watch mode --svg: without --interval, with nothing sampled, or unwritable: exit 3 and why", function()
  local out, err, status = T.memscript(nil, "--svg x.svg -e 'x = 1'")
  T.eq({ out, status }, { "", 3 }, "without --interval")
  T.contains(err, "memscript: --svg charts the samples of watch mode: give --interval too\n", "without --interval")
  out, err, status = T.memscript(nil, "--interval 0.01 --count 2 --svg " .. T.q(tmp .. "/none.svg") .. " -e 'x = 1'")
  T.eq({ out, err, status }, { "", "memscript: " .. tmp .. "/none.svg: no chart written: no run sampled a process " ..
    "with memscript.watch's memory(pid)\n", 3 }, "nothing sampled")
  out, err, status = T.memscript(nil, "--interval 0.01 --count 2 --svg " .. T.q(tmp .. "/no/x.svg") ..
    " -e 'require(\"memscript.watch\").memory(\"self\")'")
  T.eq({ out, status }, { "", 3 }, "unwritable")
  T.eq(err, format("memscript: %s/no/x.svg: No such file or directory\nmemscript: %s/no/x.svg: No such file or directory\n" ..
    "memscript: %s/no/x.svg: the chart of 2 of 2 runs could not be written (see above)\n", tmp, tmp, tmp), "unwritable")
end)

T.test("watch.memory: a kernel thread has no memory lines: nil and why, errno 22", function()
  local watch = require "memscript.watch"
  local sample, msg, errno = watch.memory(2)
  if sample == nil and errno ~= 22 then T.skip("pid 2 is not a kernel thread here: " .. tostring(msg), "anywhere") end
  T.eq({ sample, msg, errno }, { nil, "/proc/2/status: no RssAnon line (a process without memory of its own?)", 22 },
    "kthreadd")
  local self = assert(watch.memory("self"))
  T.ok(self.anonymous > 0 and self.file > 0, "memscript's own: anonymous and file pages")
end)

-- ---- names chosen by a process ----

T.test("names with markup, quotes, escape sequences and invalid UTF-8 are text in every picture, never markup", function()
  local h = hostile.start()
  local ok, problem = pcall(function()
    local status = assert(proc.status(h.pid))
    -- flame.lua, the same run's stacks alongside
    local path = tmp .. "/hostile-flame.svg"
    local out = run("-f folded flame.lua -p " .. h.pid .. " -o " .. T.q(path), false)
    local frames = pictures.frames(picture(path))
    local leaves = 0
    for _ in out:gmatch("[^\n]+") do leaves = leaves + 1 end
    local names = {}
    for _, f in ipairs(frames) do names[f.name] = f end
    -- what a title shows: the name as svg.text writes it, its entities read back
    local function shown(s) return pictures.unxml(svg.text(s)) end
    local process = shown(status.Name .. " [" .. h.pid .. "]")
    T.ok(names[process] ~= nil, "the process frame, escaped: " .. process)
    T.ok(names[shown(h.memfd_path)] ~= nil, "the memfd frame, escaped")
    T.ok(names[shown(h.file_path)] ~= nil, "the file frame, escaped")
    T.contains(shown(h.memfd_path), "</title><script>alert(\"x\")</script>\\x1b[2K\\r\\\\012\\xff\\u{FFFF}]]>",
      "the memfd's name as shown")
    T.ok(leaves >= 5, "the same run's stacks: " .. leaves)
    for _, f in ipairs(frames) do
      T.ok(not f.title:find("[%z\1-\9\11-\31\127]"), "no control byte in a title: " .. f.id)
    end
    T.contains(names[process].title, shown(table.concat(assert(proc.cmdline(h.pid)), " ")), "the command line")
    -- map.lua
    path = tmp .. "/hostile-map.svg"
    run("map.lua " .. h.pid .. " -o " .. T.q(path), false)
    local regions = pictures.regions(picture(path))
    local titles = {}
    for _, r in ipairs(regions) do titles[r.title:match("^[^\n]*")] = true end
    T.ok(titles[shown(h.memfd_path)], "the memfd's box")
    T.ok(titles[shown(h.file_path)], "the file's box")
    -- leak.lua's chart names the process by its comm
    path = tmp .. "/hostile-leak.svg"
    local _, err, code = T.memscript(nil, "leak.lua --interval 0.01 --count 2 --svg " .. T.q(path) .. " " .. h.pid)
    T.eq({ err, code }, { "", 0 }, "leak.lua")
    T.contains(picture(path), svg.text(status.Name), "the comm in the chart's title")
  end)
  hostile.stop(h)
  if not ok then error(problem, 0) end
end)

T.done()
