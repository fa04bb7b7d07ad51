-- meminfo.lua: what each key of /proc/meminfo means, in one line, for every script that explains one
--
--   local meanings = require("memscript.meminfo").meanings
--   print(meanings.SUnreclaim)   --> the part of Slab that cannot be reclaimed under memory pressure
--
-- The meanings follow proc(5) and the kernel's Documentation/filesystems/proc.rst (section "meminfo").
-- Which keys a kernel prints, and in what order, is read from its meminfo (proc.keys): a key missing
-- here is a newer kernel's, and M.NOT_DESCRIBED says so.

local M = {}

M.meanings = {
  MemTotal = "usable RAM: physical memory less firmware reservations and the kernel's code",
  MemFree = "RAM not used for anything",
  MemAvailable = "estimate of what new programs can get without swapping (Linux 3.14+)",
  Buffers = "cache of block-device blocks (file system metadata)",
  Cached = "page cache: file contents, tmpfs and shared memory",
  Active = "pages used recently, reclaimed last",
  Inactive = "pages not used recently, reclaimed first",
  ["Active(anon)"] = "anonymous pages (heap, stack) used recently; can only be swapped out",
  ["Inactive(anon)"] = "anonymous pages not used recently: next to be swapped out",
  ["Active(file)"] = "file-backed pages (code, mapped files) used recently; dropped or written back",
  ["Inactive(file)"] = "file-backed pages not used recently: next to be dropped",
  SwapTotal = "swap space, all areas",
  SwapFree = "swap space not in use",
  HugePages_Total = "pages in the hugetlb pool, each Hugepagesize",
  HugePages_Free = "pool pages not allocated",
  HugePages_Rsvd = "pool pages reserved by mappings but not yet touched",
  HugePages_Surp = "pages above the pool size (overcommitted)",
  Hugepagesize = "size of a default huge page",
  Hugetlb = "memory in huge pages of every size (Linux 4.16+)",
  SwapCached = "memory swapped out, swapped back in and still in the swap file: no I/O to swap it out again",
  Unevictable = "user-space memory that cannot be reclaimed: mlocked pages, ramfs pages, secret memfd pages",
  Mlocked = "memory locked with mlock()",
  HighTotal = "highmem: memory above ~860 MB, for user space and the page cache, slower for the kernel to reach",
  HighFree = "highmem not in use",
  LowTotal = "lowmem: memory the kernel can also use for its own data structures (the Slab comes from it)",
  LowFree = "lowmem not in use",
  Zswap = "memory used by the zswap backend (compressed size)",
  Zswapped = "anonymous memory stored in zswap (original size)",
  Dirty = "memory waiting to be written back to disk",
  Writeback = "memory being written back to disk now",
  AnonPages = "non-file-backed pages mapped into user-space page tables",
  Mapped = "files mapped into memory with mmap(2), such as libraries",
  Shmem = "shared memory (shmem) and tmpfs",
  KReclaimable = "kernel allocations reclaimed under memory pressure: SReclaimable and others with a shrinker",
  Slab = "in-kernel data structures cache",
  SReclaimable = "the part of Slab that might be reclaimed, such as caches",
  SUnreclaim = "the part of Slab that cannot be reclaimed under memory pressure",
  KernelStack = "the kernel stacks of all tasks",
  PageTables = "user-space page tables",
  SecPageTables = "secondary page tables: KVM MMU and IOMMU allocations on x86 and arm64",
  NFS_Unstable = "always 0; counted NFS pages written to the server but not yet committed to stable storage",
  Bounce = "memory used for block-device bounce buffers",
  WritebackTmp = "memory used by FUSE for temporary writeback buffers",
  CommitLimit = "what can be allocated under strict overcommit (vm.overcommit_memory 2): "
    .. "(RAM - huge pages) * overcommit_ratio / 100 + swap",
  Committed_AS = "memory allocated by processes, touched or not; strict overcommit keeps it under CommitLimit",
  VmallocTotal = "size of the vmalloc virtual address space",
  VmallocUsed = "vmalloc space in use",
  VmallocChunk = "largest free contiguous block of vmalloc space (0 since Linux 4.4: no longer computed)",
  Percpu = "memory backing per-CPU allocations (the allocator's metadata not counted)",
  EarlyMemtestBad = "RAM the early memtest found corrupted (the line is absent when memtest did not run)",
  HardwareCorrupted = "RAM the kernel identifies as corrupted",
  LazyFree = "memory marked with madvise(2) MADV_FREE",
  AnonHugePages = "non-file-backed huge pages mapped into user-space page tables",
  ShmemHugePages = "shared memory (shmem) and tmpfs allocated with huge pages",
  ShmemPmdMapped = "shared memory mapped into user space with huge pages",
  FileHugePages = "file system data (page cache) allocated with huge pages",
  FilePmdMapped = "page cache mapped into user space with huge pages",
  CmaTotal = "memory reserved for the Contiguous Memory Allocator (CMA)",
  CmaFree = "free memory left in the CMA reserves",
  Unaccepted = "memory the guest has not accepted yet",
  Balloon = "memory returned to the host by a VM balloon driver",
  DirectMap4k = "RAM the kernel's identity mapping maps with 4 kB pages",
  DirectMap4M = "RAM the kernel's identity mapping maps with 4 MB pages",
  DirectMap2M = "RAM the kernel's identity mapping maps with 2 MB pages",
  DirectMap1G = "RAM the kernel's identity mapping maps with 1 GB pages",
}

M.NOT_DESCRIBED = "(printed by this kernel, not described here)"

return M
