-- vmflags.lua: what each two-letter VmFlags code of /proc/PID/smaps means (kernel proc.rst).

local format, sort, concat, pairs = string.format, table.sort, table.concat, pairs

local M = {}

-- Every code the kernel documents; "dw" is obsolete (no longer printed) but old captures have it.
M.meanings = {
  rd = "readable",
  wr = "writable",
  ex = "executable",
  sh = "shared",
  mr = "may read",
  mw = "may write",
  me = "may execute",
  ms = "may share",
  gd = "stack segment grows down",
  pf = "pure PFN range (no struct page behind it)",
  dw = "disabled write to the mapped file (obsolete)",
  lo = "pages are locked in memory",
  io = "memory-mapped I/O area",
  sr = "sequential read advice given (MADV_SEQUENTIAL)",
  rr = "random read advice given (MADV_RANDOM)",
  dc = "not copied on fork (MADV_DONTFORK)",
  de = "not expanded on remapping",
  ac = "area is accountable (counts against overcommit)",
  nr = "no swap space reserved for the area (MAP_NORESERVE)",
  ht = "area uses huge TLB pages (hugetlbfs)",
  sf = "synchronous page faults (MAP_SYNC)",
  nl = "non-linear mapping (removed in Linux 4.0)",
  ar = "architecture-specific flag",
  wf = "wiped on fork (MADV_WIPEONFORK)",
  dd = "not included in core dumps (MADV_DONTDUMP)",
  sd = "soft-dirty",
  mm = "mixed map area",
  hg = "huge page advice given (MADV_HUGEPAGE)",
  nh = "no-huge-page advice given (MADV_NOHUGEPAGE)",
  mg = "mergeable advice given (MADV_MERGEABLE, KSM)",
  bt = "arm64 BTI guarded page",
  mt = "arm64 MTE allocation tags enabled",
  um = "userfaultfd missing-page tracking",
  uw = "userfaultfd write-protect tracking",
  ui = "userfaultfd minor-fault tracking",
  ss = "shadow stack page",
  sl = "sealed (mseal)",
  lf = "lock pages on fault (mlock2 MLOCK_ONFAULT)",
  dp = "always lazily freeable (droppable)",
  gu = "may contain guard regions (MADV_GUARD_INSTALL)",
}

-- The meaning of one code; an unknown code is described as unknown, never an error.
function M.meaning(code)
  return M.meanings[code] or format("unknown flag '%s'", code)
end

function M.known(code)
  return M.meanings[code] ~= nil
end

-- The codes of a VmFlags set in the order the kernel prints them.
function M.codes(set)
  if set == nil then return {} end
  local printed, codes = tostring(set), {}
  for code in printed:gmatch("%S+") do codes[#codes + 1] = code end
  if #codes == 0 or printed:find("^table:") then
    codes = {}
    for code in pairs(set) do codes[#codes + 1] = code end
    sort(codes)
  end
  return codes
end

-- "rd (readable), wr (writable)" for a set.
function M.describe(set)
  local parts = {}
  for _, code in ipairs(M.codes(set)) do
    parts[#parts + 1] = format("%s (%s)", code, M.meaning(code))
  end
  return concat(parts, ", ")
end

return M
