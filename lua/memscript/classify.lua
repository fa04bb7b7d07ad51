-- classify.lua: what a mapping is (its kind) and the booleans users ask for, from perms and path.

local sub, find, match = string.sub, string.find, string.match

local M = {}

local special = {
  ["[heap]"] = "heap",
  ["[stack]"] = "stack",
  ["[vdso]"] = "vdso",
  ["[vvar]"] = "vvar",
  ["[vvar_vclock]"] = "vvar",
  ["[vsyscall]"] = "vsyscall",
}

-- Every kind M.kind returns, with what it means.
M.kinds = {
  heap = "the program break area (brk), [heap]",
  stack = "the main thread's stack, [stack]",
  anon = "anonymous memory with no name (malloc arenas, thread stacks, mmap)",
  named_anon = "anonymous memory named with prctl(PR_SET_VMA_ANON_NAME), [anon:NAME]",
  shm = "shared memory: System V segments, /dev/shm files, shared anonymous mappings",
  file = "a mapped file",
  deleted = "a mapped file that has since been deleted",
  memfd = "a memfd_create() file (/memfd:NAME (deleted))",
  vdso = "the kernel's virtual shared object, [vdso]",
  vvar = "the kernel's data page for the vDSO, [vvar]",
  vsyscall = "the legacy vsyscall page, [vsyscall]",
  guard = "a region with no access at all (---p): guard pages and reservations",
  special = "another kernel-named region in brackets, such as [uprobes]",
}

local function deleted(path)
  return sub(path, -10) == " (deleted)"
end

-- One of the names in M.kinds.
function M.kind(m)
  local path = m.path or ""
  local kind = special[path]
  if kind then return kind end
  if find(path, "^%[stack:") then return "stack" end
  if find(path, "^%[anon:") then return "named_anon" end
  if find(path, "^%[anon_shmem:") then return "shm" end
  if sub(m.perms, 1, 3) == "---" then return "guard" end
  if find(path, "^/memfd:") then return "memfd" end  -- the kernel prints "/memfd:NAME (deleted)"
  if find(path, "^/SYSV%x+") or find(path, "^/dev/shm/") or find(path, "^/dev/zero") then return "shm" end
  if sub(path, 1, 1) == "[" then return "special" end
  if path == "" then
    return sub(m.perms, 4, 4) == "s" and "shm" or "anon"
  end
  if deleted(path) then return "deleted" end
  return "file"
end

-- The kind of memory under a mapping path when the perms are not known (proc.smaps_sums adds
-- mappings up by path alone): M.kind of a private mapping that can be accessed. A blank path is
-- "anon" (the kernel names shared anonymous memory "/dev/zero (deleted)" or "[anon_shmem:NAME]"),
-- whatever the perms: "guard" is never returned (a mapping without access holds no memory unless its
-- pages were written before it lost its access, and those are anonymous memory).
function M.path_kind(path)
  return M.kind({ path = path, perms = "rw-p" })
end

-- Not backed by a file: the heap, stacks, anonymous and named anonymous memory.
function M.anonymous(m)
  local path = m.path or ""
  return m.inode == 0 and (path == "" or find(path, "^%[anon:") ~= nil
    or path == "[heap]" or path == "[stack]" or find(path, "^%[stack:") ~= nil)
end

function M.shared(m) return sub(m.perms, 4, 4) == "s" end
function M.readable(m) return sub(m.perms, 1, 1) == "r" end
function M.writable(m) return sub(m.perms, 2, 2) == "w" end
function M.executable(m) return sub(m.perms, 3, 3) == "x" end

-- The file behind a mapping without " (deleted)", or nil for anonymous and special regions.
function M.file(m)
  local path = m.path or ""
  if sub(path, 1, 1) ~= "/" then return nil end
  return deleted(path) and sub(path, 1, -11) or path
end

-- The name pmap shows: the basename of a file, "[ anon ]", "[ stack ]", or the bracketed name.
function M.name(m)
  local path = m.path or ""
  if path == "" then return "[ anon ]" end
  return match(path, "^.*/(.*)$") or path
end

return M
