/* heap.c: where the Lua heap's blocks live once a script builds big tables: 2 MiB chunks fit for huge pages. */
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
 * The same holds for large blocks: the array of 60,000 mapping tables grows by doubling to 1 MB,
 * and each of its sizes was a fresh glibc mmap, touched page by page when Lua cleared it: about
 * 500 faults, a sixth of the time of proc.maps of that process.
 *
 * How: Lua tells the allocator the size of every block it frees or resizes, so blocks need no
 * header: a block of up to SMALL_MAX bytes belongs to a size class of 16 or 128 bytes, a larger
 * one, up to LARGE_MAX, to a power of two (Lua's arrays and hash parts are powers of two already,
 * and a block that grows within its class stays where it is). Freed blocks go on their class's
 * list and are reused first (memory is kept, so a scan that reads one process after another
 * reuses the same pages), but for blocks of whole huge pages, which are aligned to them and given
 * back to the kernel when freed. The chunks come from one reservation of address space, so a
 * pointer's owner is told by its address. Blocks past LARGE_MAX, and every block until the Lua
 * heap first reaches ARENA_AFTER bytes (so that a small script's start-up, 35 KiB, is not paid in
 * a huge page: zeroing one costs what some twenty 4 KiB faults do), are glibc's; where chunks are
 * populated instead, until ARENA_AFTER_POPULATE. A glibc block that grows once the arena is on
 * moves into it. Chunks taken for large blocks are never populated: only what Lua writes of a
 * block becomes resident, not the rest of its power of two. Only the thread that runs Lua
 * allocates here.
 */

#define CHUNK_SIZE ((size_t)2 << 20)
#define RESERVE_SIZE ((size_t)1 << (sizeof(size_t) > 4 ? 36 : 30))
#define ARENA_AFTER ((size_t)64 << 10)
#define ARENA_AFTER_POPULATE ((size_t)256 << 10)
#define SMALL_MAX 4096
#define FINE_MAX 1024 /* classes of 16 bytes up to here, of 128 bytes above */
#define SMALL_CLASSES (FINE_MAX / 16 + (SMALL_MAX - FINE_MAX) / 128)
#define LARGE_MIN_SHIFT 13 /* the first large class: 8 KiB */
#define LARGE_MAX_SHIFT 30 /* the last: 1 GiB */
#define LARGE_MAX ((size_t)1 << LARGE_MAX_SHIFT)
#define CLASSES (SMALL_CLASSES + LARGE_MAX_SHIFT - LARGE_MIN_SHIFT + 1)

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
static int populate = -1;                  /* no huge pages: populate each chunk at once; -1 not known yet */
static size_t glibc_bytes;                 /* bytes in glibc's blocks, until the arena is on */
static struct free_block *free_lists[CLASSES]; /* below HUGE_FIRST */

/* The class of a block of size bytes (1 to LARGE_MAX), which is at least that large. */
static int class_of(size_t size)
{
	if (size <= FINE_MAX)
		return (int)((size + 15) / 16) - 1;
	if (size <= SMALL_MAX)
		return FINE_MAX / 16 + (int)((size - FINE_MAX + 127) / 128) - 1;
	/* the power of two at or above size */
	return SMALL_CLASSES + (64 - __builtin_clzll((unsigned long long)size - 1)) - LARGE_MIN_SHIFT;
}

static size_t class_size(int c)
{
	if (c < FINE_MAX / 16)
		return (size_t)(c + 1) * 16;
	if (c < SMALL_CLASSES)
		return FINE_MAX + (size_t)(c - FINE_MAX / 16 + 1) * 128;
	return (size_t)1 << (c - SMALL_CLASSES + LARGE_MIN_SHIFT);
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
	if (populate < 0)
		populate = !huge_pages_offered();
	arena_state = ARENA_ON;
}

/*
 * Makes the next chunk usable; small: for small blocks, populated where there are no huge pages.
 * 0 when the reservation is used up or the kernel refuses.
 */
static int commit_chunk(int small)
{
	if (committed_end == reserve_end ||
	    mprotect(committed_end, CHUNK_SIZE, PROT_READ | PROT_WRITE) != 0)
		return 0;
	if (populate) {
		if (small)
			madvise(committed_end, CHUNK_SIZE, MADV_POPULATE_WRITE);
	} else {
		madvise(committed_end, CHUNK_SIZE, MADV_HUGEPAGE);
	}
	committed_end += CHUNK_SIZE;
	return 1;
}

/*
 * Freed blocks of whole huge pages are kept here, not on the free lists: a link written into one
 * would fault a huge page back in. Past HUGE_KEPT of a class, a freed one's address space is left.
 */
#define HUGE_FIRST (SMALL_CLASSES + 21 - LARGE_MIN_SHIFT) /* the class of 2 MiB, CHUNK_SIZE */
#define HUGE_KEPT 16
static void *huge_kept[CLASSES - HUGE_FIRST][HUGE_KEPT];
static int huge_count[CLASSES - HUGE_FIRST];

static void *arena_alloc(int c)
{
	size_t size = class_size(c);
	struct free_block *b;

	if (c >= HUGE_FIRST) {
		if (huge_count[c - HUGE_FIRST] > 0)
			return huge_kept[c - HUGE_FIRST][--huge_count[c - HUGE_FIRST]];
		/* it starts on a huge page: committed_end is on one, so this stays within what is committed */
		bump = (char *)(((uintptr_t)bump + CHUNK_SIZE - 1) & ~(uintptr_t)(CHUNK_SIZE - 1));
	} else if ((b = free_lists[c]) != NULL) {
		free_lists[c] = b->next;
		return b;
	}
	while ((size_t)(committed_end - bump) < size)
		if (!commit_chunk(c < SMALL_CLASSES))
			return NULL;
	b = (struct free_block *)bump;
	bump += size;
	return b;
}

static void arena_free(void *p, size_t size)
{
	struct free_block *b = p;
	int c = class_of(size);

	if (c >= HUGE_FIRST) {
		/* its huge pages go back to the kernel; reused, they fault in again, one per 2 MiB */
		madvise(p, class_size(c), MADV_DONTNEED);
		if (huge_count[c - HUGE_FIRST] < HUGE_KEPT)
			huge_kept[c - HUGE_FIRST][huge_count[c - HUGE_FIRST]++] = p;
		return;
	}
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
	int fits = nsize <= LARGE_MAX && ARENA_ALLOWED; /* a block of nsize bytes has an arena class */

	if (ptr != NULL && in_arena(ptr)) {
		if (fits && class_of(nsize) == class_of(osize))
			return ptr;
		moved = fits ? arena_alloc(class_of(nsize)) : NULL;
		if (moved == NULL)
			moved = malloc(nsize);
		if (moved == NULL)
			/* A shrink must not fail: the block is big enough, its class stays the larger one. */
			return nsize <= osize ? ptr : NULL;
		memcpy(moved, ptr, osize < nsize ? osize : nsize);
		arena_free(ptr, osize);
		return moved;
	}
	if (fits) {
		if (arena_state == ARENA_UNUSED && glibc_bytes - (ptr != NULL ? osize : 0) + nsize > ARENA_AFTER) {
			if (populate < 0)
				populate = !huge_pages_offered();
			if (!populate || glibc_bytes - (ptr != NULL ? osize : 0) + nsize > ARENA_AFTER_POPULATE)
				arena_start();
		}
		/* a new block, or a glibc block growing, once the arena is on */
		if (arena_state == ARENA_ON && (ptr == NULL || nsize > osize) &&
		    (moved = arena_alloc(class_of(nsize))) != NULL) {
			if (ptr != NULL) {
				memcpy(moved, ptr, osize);
				free(ptr);
			}
			return moved;
		}
	}
	moved = realloc(ptr, nsize);
	if (moved != NULL && arena_state == ARENA_UNUSED)
		glibc_bytes = glibc_bytes - (ptr != NULL ? osize : 0) + nsize;
	return moved;
}
