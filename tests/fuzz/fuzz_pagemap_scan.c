/* fuzz_pagemap_scan.c: PAGEMAP_SCAN regions of any order, size and categories, counted over ranges, against a page-by-page reference. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/pagemap_scan.h"

#define MAX_RANGES 16
#define MAX_REGIONS 64
#define SPACE 1024 /* pages of address space the ranges lie in */
#define SHIFT 12

/* What one page adds, as pagemap_scan.h documents it: the reference, one page at a time. */
static void reference_page(struct pagemap_counts *k, uint64_t cat)
{
	int present = (cat & PAGEMAP_SCAN_PRESENT) != 0, swapped = (cat & PAGEMAP_SCAN_SWAPPED) != 0;
	int guard = (cat & PAGEMAP_SCAN_GUARD) != 0;

	k->present += (uint64_t)present;
	k->swapped += (uint64_t)swapped;
	k->swapped_not_guard += (uint64_t)(swapped && !guard);
	k->guard += (uint64_t)guard;
	k->soft_dirty += (uint64_t)((cat & PAGEMAP_SCAN_SOFT_DIRTY) && (present || swapped));
	k->file_or_shared += (uint64_t)((cat & PAGEMAP_SCAN_FILE) != 0);
	k->uffd_wp += (uint64_t)((present || swapped) && !(cat & PAGEMAP_SCAN_WRITTEN));
}

/*
 * Byte 0: how many ranges (1-16); then two bytes per range: the gap before it and its length, in
 * pages. The rest, five bytes per region: its first page (two bytes, so regions may lie past every
 * range), its length in pages (a signed byte: 0 and below are empty or backwards regions), its
 * categories (a byte: bits 0-7; bit 8, GUARD, from the next byte's low bit), and whether the call
 * ends after it (the next byte's bit 1), as the kernel's answer comes in calls.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pagemap_range ranges[MAX_RANGES], reference[MAX_RANGES];
	struct pagemap_region regions[MAX_REGIONS];
	struct pagemap_scan_cursor cursor;
	uint64_t counted_to = 0, at = 0;
	size_t nranges, nregions = 0, r, pos;

	if (size < 1)
		return 0;
	nranges = (size_t)(data[0] % MAX_RANGES) + 1;
	if (size < 1 + 2 * nranges)
		return 0;
	memset(ranges, 0, sizeof(ranges));
	for (r = 0; r < nranges; r++) {
		at += data[1 + 2 * r] % 16;
		ranges[r].start = at << SHIFT;
		at += (uint64_t)(data[2 + 2 * r] % 64) + 1;
		ranges[r].end = at << SHIFT;
	}
	memcpy(reference, ranges, sizeof(ranges));
	memset(&cursor, 0, sizeof(cursor));

	for (pos = 1 + 2 * nranges; pos + 5 <= size; pos += 5) {
		uint64_t first = (uint64_t)data[pos] | (uint64_t)data[pos + 1] << 8;
		int len = (int8_t)data[pos + 2];
		uint64_t cat = data[pos + 3] | (uint64_t)(data[pos + 4] & 1) << 8;
		int ends_call = (data[pos + 4] & 2) != 0 || nregions + 1 == MAX_REGIONS;
		struct pagemap_region *g = &regions[nregions++];
		uint64_t start, end, page;

		g->start = (first % SPACE) << SHIFT;
		g->end = len > 0 ? g->start + ((uint64_t)len << SHIFT) : g->start - ((uint64_t)(-len) << SHIFT);
		if (len < 0 && g->end > g->start)
			g->end = 0; /* below address 0: backwards all the same */
		g->categories = cat;

		/* The reference: the pages of the region not counted yet, each in the range holding it. */
		start = g->start > counted_to ? g->start : counted_to;
		end = g->end;
		if (end > start) {
			for (page = start >> SHIFT; page < end >> SHIFT; page++)
				for (r = 0; r < nranges; r++)
					if ((page << SHIFT) >= reference[r].start && (page << SHIFT) < reference[r].end)
						reference_page(&reference[r].counts, cat);
			counted_to = end;
		}
		if (ends_call) {
			pagemap_scan_add(regions, nregions, ranges, nranges, SHIFT, &cursor);
			nregions = 0;
		}
	}
	pagemap_scan_add(regions, nregions, ranges, nranges, SHIFT, &cursor);
	for (r = 0; r < nranges; r++) {
		FUZZ_CHECK(ranges[r].start == reference[r].start && ranges[r].end == reference[r].end);
		FUZZ_CHECK(memcmp(&ranges[r].counts, &reference[r].counts, sizeof(ranges[r].counts)) == 0);
		FUZZ_CHECK(ranges[r].counts.present + ranges[r].counts.swapped <= 2 * ((ranges[r].end - ranges[r].start) >> SHIFT));
	}
	FUZZ_CHECK(cursor.counted_to == counted_to);
	return 0;
}
