/* test_bigarray.c: large arrays zeroed, in a 2 MiB-aligned mapping of their own marked for huge pages; small ones from calloc. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "source/bigarray.h"
#include "unit.h"

#define MIB ((size_t)1 << 20)

/* Whether p[0..size) is all zero, and then fills it (every page is writable). */
static int zeroed_then_filled(unsigned char *p, size_t size)
{
	size_t i;
	int zero = 1;

	for (i = 0; i < size; i++)
		zero &= p[i] == 0;
	memset(p, 0xa5, size);
	return zero;
}

static void test_small(void)
{
	static const size_t sizes[] = {0, 1, 4096, BIGARRAY_MIN - 1};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		unsigned char *p = bigarray_alloc(sizes[i]);
		if (!CHECK("allocated", p != NULL))
			return;
		CHECK("zeroed", zeroed_then_filled(p, sizes[i]));
		bigarray_free(p, sizes[i]);
	}
	bigarray_free(NULL, 5 * MIB);
}

/* The VmFlags line of the mapping holding address p in /proc/self/smaps, in out. */
static int vm_flags_of(const void *p, char *out, size_t size)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int inside = 0, found = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long start, end;
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			inside = (uintptr_t)p >= start && (uintptr_t)p < end;
			continue;
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, size, "%s", line);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static void test_large(void)
{
	static const size_t sizes[] = {BIGARRAY_MIN, 5 * MIB + 123};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		unsigned char *p = bigarray_alloc(size), vec;
		char flags[512];
		if (!CHECK("allocated", p != NULL))
			return;
		CHECK("zeroed", zeroed_then_filled(p, size));
		if (UNIT_SANITIZED) {
			bigarray_free(p, size);
			unit_skip("an AddressSanitizer build takes every size from calloc");
			return;
		}
		CHECK_UINT("2 MiB-aligned", 0, (uintptr_t)p % (2 * MIB));
		if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0 &&
		    CHECK("its mapping in smaps", vm_flags_of(p, flags, sizeof(flags))))
			CHECK("marked for huge pages (VmFlags hg)", strstr(flags, " hg") != NULL);
		bigarray_free(p, size);
		/* mincore fails with ENOMEM on an address no mapping holds */
		CHECK("unmapped once freed", mincore(p, 4096, &vec) != 0 && errno == ENOMEM);
	}
}

int main(void)
{
	UNIT_RUN(test_small, "sizes below BIGARRAY_MIN, 0 included: zeroed, writable, freed");
	UNIT_RUN(test_large, "from BIGARRAY_MIN up: zeroed, writable, 2 MiB-aligned, marked hg, unmapped when freed");
	return unit_end();
}
