/* bigarray.c: zeroed memory for large arrays, in transparent huge pages where the kernel offers them. */
#define _GNU_SOURCE /* MADV_HUGEPAGE */
#include "source/bigarray.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)

/* Address sanitizer builds keep every block where ASan sees it. */
#if defined(__SANITIZE_ADDRESS__)
#define MAPPED_ALLOWED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MAPPED_ALLOWED 0
#endif
#endif
#ifndef MAPPED_ALLOWED
#define MAPPED_ALLOWED 1
#endif

static int mapped(size_t size)
{
	return MAPPED_ALLOWED && size >= BIGARRAY_MIN && size <= SIZE_MAX - 2 * HUGE_PAGE;
}

static size_t mapped_length(size_t size)
{
	return (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *bigarray_alloc(size_t size)
{
	size_t length, head, tail;
	char *p, *aligned;

	if (!mapped(size))
		return calloc(1, size != 0 ? size : 1);
	/* One huge page more than needed, then what lies outside the aligned part is given back. */
	length = mapped_length(size);
	p = mmap(NULL, length + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	aligned = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	head = (size_t)(aligned - p);
	tail = HUGE_PAGE - head;
	if (head != 0)
		munmap(p, head);
	if (tail != 0)
		munmap(aligned + length, tail);
	/* Refused where the kernel has no transparent huge pages: the memory is only slower to touch. */
	madvise(aligned, length, MADV_HUGEPAGE);
	return aligned;
}

void bigarray_free(void *p, size_t size)
{
	if (p == NULL)
		return;
	if (!mapped(size)) {
		free(p);
		return;
	}
	munmap(p, mapped_length(size));
}
