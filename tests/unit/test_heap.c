/* test_heap.c: the Lua heap's blocks: contents kept through growth and moves, classes reused, huge blocks aligned and given back. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/heap.h"
#include "unit.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)

static void fill(unsigned char *p, size_t size, unsigned seed)
{
	size_t i;

	for (i = 0; i < size; i++)
		p[i] = (unsigned char)(seed + i * 7);
}

static int filled(const unsigned char *p, size_t size, unsigned seed)
{
	size_t i;

	for (i = 0; i < size; i++)
		if (p[i] != (unsigned char)(seed + i * 7))
			return 0;
	return 1;
}

/* Resident kilobytes of this process (VmRSS), or -1. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Past 256 KiB of blocks the arena is on: this many blocks of 1 KiB are kept for the test's run. */
static void *ballast[512];

static void test_growth_keeps_contents(void)
{
	unsigned char *p = NULL;
	size_t size = 0, next;

	/* an array that doubles from 16 bytes to 64 MiB, as a Lua array does, its bytes kept */
	for (next = 16; next <= 64 * MIB; next *= 2) {
		unsigned char *grown = heap_realloc(p, size, next);
		if (!CHECK("grown", grown != NULL))
			return;
		if (!CHECK("contents kept", filled(grown, size, 3)))
			return;
		fill(grown + size, next - size, (unsigned)(3 + size * 7));
		p = grown;
		size = next;
	}
	CHECK("every byte", filled(p, size, 3));
	/* and shrinks back: never fails, contents kept */
	for (next = size / 4; next >= 16; next /= 4) {
		p = heap_realloc(p, size, next);
		if (!CHECK("shrunk", p != NULL))
			return;
		CHECK("contents kept", filled(p, next, 3));
		size = next;
	}
	heap_free(p, size);
}

static void test_classes_reused(void)
{
	static const size_t sizes[] = {1, 15, 16, 17, 1000, 1024, 1025, 4096, 4097, 8192, 100000, 3 * MIB};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *a = heap_realloc(NULL, 0, sizes[i]), *b;
		if (!CHECK("allocated", a != NULL))
			return;
		fill(a, sizes[i], 11);
		heap_free(a, sizes[i]);
		b = heap_realloc(NULL, 0, sizes[i]);
		if (!CHECK("allocated again", b != NULL))
			return;
		if (!UNIT_SANITIZED)
			CHECK("the block freed is the one given next", a == b);
		fill(b, sizes[i], 12);
		CHECK("writable whole", filled(b, sizes[i], 12));
		/* a block that grows within its class stays where it is */
		if (sizes[i] > 4096 && !UNIT_SANITIZED) {
			size_t pow2 = 8192;
			while (pow2 < sizes[i])
				pow2 *= 2;
			CHECK("grows in place within its power of two", heap_realloc(b, sizes[i], pow2) == b);
			heap_free(b, pow2);
		} else {
			heap_free(b, sizes[i]);
		}
	}
}

static void test_huge_blocks_given_back(void)
{
	unsigned char *p, *freed;
	long before, during, after;

	if (UNIT_SANITIZED) {
		unit_skip("the sanitized build's blocks are glibc's");
		return;
	}
	before = rss_kb();
	p = heap_realloc(NULL, 0, 32 * MIB);
	if (!CHECK("allocated", p != NULL))
		return;
	CHECK("aligned on a huge page", ((uintptr_t)p & (2 * MIB - 1)) == 0);
	memset(p, 1, 32 * MIB);
	during = rss_kb();
	heap_free(p, 32 * MIB);
	freed = p;
	after = rss_kb();
	CHECK("resident while written", during - before >= 30 * 1024);
	CHECK("given back when freed", during - after >= 30 * 1024);
	/* reused, zero-filled by the kernel */
	p = heap_realloc(NULL, 0, 20 * MIB);
	if (!CHECK("allocated again", p != NULL))
		return;
	CHECK("the block freed, 20 MiB being of its class (32 MiB)", p == freed);
	CHECK("its pages fault in afresh, zeroed", p[0] == 0 && p[20 * MIB - 1] == 0);
	heap_free(p, 20 * MIB);
}

int main(void)
{
	size_t i;

	for (i = 0; i < sizeof(ballast) / sizeof(ballast[0]); i++)
		ballast[i] = heap_realloc(NULL, 0, KIB);
	UNIT_RUN(test_growth_keeps_contents, "a block doubling to 64 MiB and shrinking back keeps its bytes");
	UNIT_RUN(test_classes_reused, "a freed block is the next of its class; one growing within its class stays");
	UNIT_RUN(test_huge_blocks_given_back, "blocks of huge pages are aligned on one and given back when freed");
	for (i = 0; i < sizeof(ballast) / sizeof(ballast[0]); i++)
		heap_free(ballast[i], KIB);
	return unit_end();
}
