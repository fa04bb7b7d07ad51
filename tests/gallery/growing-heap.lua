-- A prelude (memscript -e) for leak.lua on a copy of the captured helper: time passes and the heap grows.
--
-- sys.monotonic starts at 1000 s and each sys.sleep advances it by the time asked, so leak.lua's
-- samples are exactly an interval apart; before each sample after the first, the helper's [heap]
-- (28278000-2829a000: 136 kB mapped, 16 kB resident) grows by 1 MiB mapped, resident and anonymous
-- in the copy's smaps, MEMSCRIPT_GROWING_SMAPS (the file is rewritten; the capture itself is not).
local sys = require "memscript.sys"
local path = assert(os.getenv("MEMSCRIPT_GROWING_SMAPS"), "MEMSCRIPT_GROWING_SMAPS names the smaps to grow")
local f = assert(io.open(path, "rb"))
local original = f:read("a")
f:close()
local clock, grown = 1000.0, 0
local function write_grown()
  local head, heap, tail = original:match("^(.-\n)(28278000%-2829a000 [^\n]*\n.-VmFlags:[^\n]*\n)(.*)$")
  heap = heap:gsub("^28278000%-2829a000", string.format("28278000-%x", 0x2829a000 + grown))
  for _, key in ipairs({ "Size", "Rss", "Pss", "Pss_Dirty", "Private_Dirty", "Referenced", "Anonymous" }) do
    heap = heap:gsub("\n" .. key .. ":( +)(%d+) kB", function(blank, kb)
      local text = tostring(tonumber(kb) + grown // 1024)
      return "\n" .. key .. ":" .. string.rep(" ", #blank + #kb - #text) .. text .. " kB"
    end)
  end
  local out = assert(io.open(path, "wb"))
  out:write(head, heap, tail)
  out:close()
end
sys.monotonic = function() return clock end
sys.sleep = function(seconds)
  clock = clock + seconds
  grown = grown + 1024 * 1024
  write_grown()
end
