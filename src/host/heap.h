/* heap.h: the blocks of the Lua heap: in huge-page chunks once the heap passes 64 KiB, blocks past 1 GiB glibc's. */
#ifndef MEMSCRIPT_HEAP_H
#define MEMSCRIPT_HEAP_H

#include <stddef.h>

/*
 * lua_Alloc's work without the accounting: size is the block's size as Lua gives it (osize), 0
 * for a new block. heap_realloc(NULL, 0, n) allocates; a shrink never fails. NULL when memory
 * runs out (the block is then unchanged).
 */
void *heap_realloc(void *ptr, size_t size, size_t new_size);

/* Frees a block of heap_realloc's; size is its size. */
void heap_free(void *ptr, size_t size);

#endif
