/* bigarray.h: zeroed memory for large arrays, in transparent huge pages where the kernel offers them. */
#ifndef MEMSCRIPT_BIGARRAY_H
#define MEMSCRIPT_BIGARRAY_H

#include <stddef.h>

/*
 * size bytes of zeroed memory, or NULL. From BIGARRAY_MIN bytes up the memory is a mapping of its
 * own, 2 MiB-aligned, that the kernel is asked to back with huge pages (MADV_HUGEPAGE: it does where
 * transparent huge pages are "madvise" or "always"): where a fault on a fresh 4 KiB page costs ten
 * microseconds or more (virtual machines), an array of 60,000 records of 120 bytes costs 20 ms in
 * faults, and 1 ms in huge pages. Smaller sizes, and every size in an AddressSanitizer build (which
 * must see the blocks), come from calloc.
 */
void *bigarray_alloc(size_t size);

/* Gives back memory from bigarray_alloc(size), size as it was asked; NULL is nothing. */
void bigarray_free(void *p, size_t size);

#define BIGARRAY_MIN ((size_t)1 << 20)

#endif
