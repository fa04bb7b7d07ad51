-- Swap done right, on a machine with swap: the shmem pages a process maps that are swapped out are in
-- its smaps_rollup Swap but not in SwapPss or status VmSwap, and top.lua shows them as ShmemSwap.
local T = require "testing"
local live = require "livehelper"

local format = string.format

local function swap_total()
  return tonumber(T.read("/proc/meminfo"):match("\nSwapTotal:%s+(%d+) kB"))
end

T.test("live, with swap: shmem paged out is in Swap, not SwapPss or VmSwap; top.lua's ShmemSwap shows it", function()
  if swap_total() == 0 then T.skip("this machine has no swap to page memory out to", "anywhere") end
  local h <close> = setmetatable(live.start({"pageout", "--", "swap test"}), {__close = function(h) live.stop(h) end})
  local said = T.read(h.out_path)
  for _, name in ipairs({"anon_half", "shared_anon"}) do
    if not said:find("\npageout " .. name .. " ok\n", 1, true) then
      T.skip("the kernel refused MADV_PAGEOUT: " .. said:match("\npageout " .. name .. " ([^\n]*)"), "anywhere")
    end
  end
  local shared, private
  for _, m in ipairs(proc.smaps(h.pid)) do
    if m.vm_start == h.regions.shared_anon.start then shared = m end
    if m.vm_start == h.regions.anon_half.start then private = m end
  end
  local page = h.page_size
  -- 8 pages of shared_anon and 32 of anon_half were written; a page the kernel could not write out
  -- stays resident, so what is swapped is at most that
  T.ok(shared.Swap > 0 and shared.Swap <= 8 * page, "shared_anon swapped out: " .. shared.Swap)
  T.eq(shared.SwapPss, 0, "SwapPss never counts swapped-out shmem")
  T.ok(private.Swap > 0 and private.Swap <= 32 * page, "anon_half swapped out: " .. private.Swap)
  T.eq(private.SwapPss, private.Swap, "a private page swapped out is the process's alone")
  local rollup, status = proc.smaps_rollup(h.pid), proc.status(h.pid)
  T.eq(status.VmSwap, rollup.SwapPss, "VmSwap: the swap entries in its page tables, all its own here")
  T.eq(rollup.Swap - status.VmSwap, shared.Swap, "Swap less VmSwap: the shmem swapped out")
  local out, err, status_code = T.memscript(nil, "-f json top.lua -p " .. h.pid)
  T.eq({err, status_code}, {"", 0}, "top.lua")
  local row = T.json(out)[1]
  T.eq({row.swap, row.shmem_swap, row.footprint}, {rollup.SwapPss, shared.Swap, row.pss + rollup.SwapPss},
    "top.lua: Swap is SwapPss, ShmemSwap the shmem swapped out, Footprint PSS + SwapPss")
  local why = T.json((T.memscript(nil, "-f json why.lua --no-sample " .. h.pid)))[1]
  T.eq(why.figures.shmem_swap, shared.Swap, "why.lua")
  T.contains(why.text, format("besides %s of shared memory it maps swapped out",
    require("memscript.units").format(shared.Swap)), "why.lua says it")
end)

T.done()
