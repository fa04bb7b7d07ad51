/* heap.c: where the Lua heap's small blocks live once a script builds big tables: 2 MiB chunks fit for huge pages. */
#define _GNU_SOURCE /* MAP_NORESERVE, MADV_HUGEPAGE */
#include "host/heap.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/*
 * Why: a mapping table of proc.smaps is two blocks (a 56-byte table and a 768-byte hash part), and
 * 60,000 of them are 51 MB that the process touches for the first time. On some machines (virtual
 * ones above all) a fault on a fresh 4 KiB page costs ten microseconds or more, so the faults cost
 * more than the kernel's own production of smaps. glibc's heap grows by brk in steps that are not
 * aligned to huge pages, so the kernel can back none of it with a transparent huge page even when
 * asked. Here small blocks come from 2 MiB-aligned chunks the kernel is asked to back with huge
 * pages (where THP is "madvise" or "always"), or, where it will not, that are populated with one
 * call per chunk, which costs about half the faults it replaces.
 *
 * How: Lua tells the allocator the size of every block it frees or resizes, so blocks need no
 * header: a block of up to SMALL_MAX bytes belongs to a size class, freed blocks go on their
 * class's list and are reused first (memory is never given back, so a scan that reads one process
 * after another reuses the same pages). The chunks come from one reservation of address space,
 * so a pointer's owner is told by its address. Larger blocks, and every block until the Lua heap
 * first reaches ARENA_AFTER bytes (so that a small script's start-up is not paid in huge pages),
 * are glibc's. Only the thread that runs Lua allocates here.
 */

#define CHUNK_SIZE ((size_t)2 << 20)
#define RESERVE_SIZE ((size_t)1 << (sizeof(size_t) > 4 ? 36 : 30))
#define ARENA_AFTER ((size_t)256 << 10)
#define SMALL_MAX 4096
#define FINE_MAX 1024 /* classes of 16 bytes up to here, of 128 bytes above */
#define CLASSES (FINE_MAX / 16 + (SMALL_MAX - FINE_MAX) / 128)

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/* Whether the arena may be used: address sanitizer builds keep every block where ASan sees it. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_ALLOWED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_ALLOWED 0
#endif
#endif
#ifndef ARENA_ALLOWED
/* The reservation needs a 64-bit address space. */
#define ARENA_ALLOWED (UINTPTR_MAX > 0xffffffffu)
#endif

struct free_block {
	struct free_block *next;
};

static enum { ARENA_UNUSED, ARENA_ON, ARENA_OFF } arena_state = ARENA_UNUSED;
static char *reserve_start, *reserve_end; /* the aligned reservation */
static char *bump, *committed_end;         /* next fresh byte, end of the usable part */
static int populate;                       /* no huge pages: populate each chunk at once */
static size_t glibc_bytes;                 /* bytes in glibc's blocks, until the arena is on */
static struct free_block *free_lists[CLASSES];

static int class_of(size_t size)
{
	if (size <= FINE_MAX)
		return (int)((size + 15) / 16) - 1;
	return FINE_MAX / 16 + (int)((size - FINE_MAX + 127) / 128) - 1;
}

static size_t class_size(int c)
{
	if (c < FINE_MAX / 16)
		return (size_t)(c + 1) * 16;
	return FINE_MAX + (size_t)(c - FINE_MAX / 16 + 1) * 128;
}

static int in_arena(const void *p)
{
	return (const char *)p >= reserve_start && (const char *)p < reserve_end;
}

/* Whether the kernel backs madvised memory with huge pages for this process. */
static int huge_pages_offered(void)
{
	char text[128];
	ssize_t n;
	int fd;

	if (prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1)
		return 0;
	fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return strstr(text, "[never]") == NULL;
}

/* Reserves the address space; the arena stays off when that is refused (a small RLIMIT_AS). */
static void arena_start(void)
{
	char *p = mmap(NULL, RESERVE_SIZE + CHUNK_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);

	if (p == MAP_FAILED) {
		arena_state = ARENA_OFF;
		return;
	}
	reserve_start = (char *)(((uintptr_t)p + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1));
	reserve_end = reserve_start + RESERVE_SIZE;
	bump = committed_end = reserve_start;
	populate = !huge_pages_offered();
	arena_state = ARENA_ON;
}

/* Makes the next chunk usable; 0 when the reservation is used up or the kernel refuses. */
static int commit_chunk(void)
{
	if (committed_end == reserve_end ||
	    mprotect(committed_end, CHUNK_SIZE, PROT_READ | PROT_WRITE) != 0)
		return 0;
	if (populate)
		madvise(committed_end, CHUNK_SIZE, MADV_POPULATE_WRITE);
	else
		madvise(committed_end, CHUNK_SIZE, MADV_HUGEPAGE);
	committed_end += CHUNK_SIZE;
	return 1;
}

/* A block of class c from the arena, or NULL. */
static void *arena_alloc(int c)
{
	size_t size = class_size(c);
	struct free_block *b = free_lists[c];

	if (b != NULL) {
		free_lists[c] = b->next;
		return b;
	}
	if ((size_t)(committed_end - bump) < size && !commit_chunk())
		return NULL;
	b = (struct free_block *)bump;
	bump += size;
	return b;
}

static void arena_free(void *p, size_t size)
{
	struct free_block *b = p;
	int c = class_of(size);

	b->next = free_lists[c];
	free_lists[c] = b;
}

void heap_free(void *ptr, size_t size)
{
	if (ptr == NULL)
		return;
	if (in_arena(ptr)) {
		arena_free(ptr, size);
		return;
	}
	free(ptr);
	if (arena_state == ARENA_UNUSED)
		glibc_bytes -= size < glibc_bytes ? size : glibc_bytes;
}

void *heap_realloc(void *ptr, size_t osize, size_t nsize)
{
	void *moved;

	if (ptr != NULL && in_arena(ptr)) {
		int old_class = class_of(osize);
		if (nsize <= SMALL_MAX && class_of(nsize) == old_class)
			return ptr;
		moved = nsize <= SMALL_MAX ? arena_alloc(class_of(nsize)) : NULL;
		if (moved == NULL)
			moved = malloc(nsize);
		if (moved == NULL)
			/* A shrink must not fail: the block is big enough, its class stays the larger one. */
			return nsize <= osize ? ptr : NULL;
		memcpy(moved, ptr, osize < nsize ? osize : nsize);
		arena_free(ptr, osize);
		return moved;
	}
	if (ptr == NULL && nsize <= SMALL_MAX && ARENA_ALLOWED) {
		if (arena_state == ARENA_UNUSED && glibc_bytes + nsize > ARENA_AFTER)
			arena_start();
		if (arena_state == ARENA_ON && (moved = arena_alloc(class_of(nsize))) != NULL)
			return moved;
	}
	moved = realloc(ptr, nsize);
	if (moved != NULL && arena_state == ARENA_UNUSED)
		glibc_bytes = glibc_bytes - (ptr != NULL ? osize : 0) + nsize;
	return moved;
}
