/* test_pagemap_scan.c: PAGEMAP_SCAN regions split over ranges and counted by category; kpageflags and kpagecount summed as procrank does. */
#include <stdint.h>
#include <string.h>

#include "core/kpage_account.h"
#include "core/pagemap_scan.h"
#include "unit.h"

#define PAGE 4096u
#define SHIFT 12u
#define P(n) ((uint64_t)(n) * PAGE)

static void ranges_init(struct pagemap_range *r, const uint64_t (*bounds)[2], size_t n)
{
	size_t i;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		r[i].start = bounds[i][0];
		r[i].end = bounds[i][1];
	}
}

/* ---- regions over ranges ---- */

static void test_split_over_ranges(void)
{
	/* Three mappings: [10, 20), [20, 30), [40, 50); a region may cover parts of several and a gap. */
	static const uint64_t bounds[3][2] = {{P(10), P(20)}, {P(20), P(30)}, {P(40), P(50)}};
	const struct pagemap_region regions[] = {
		{P(12), P(14), PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_WRITTEN},
		{P(18), P(45), PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_WRITTEN | PAGEMAP_SCAN_FILE},
		{P(49), P(60), PAGEMAP_SCAN_SWAPPED | PAGEMAP_SCAN_WRITTEN},
	};
	struct pagemap_range r[3];
	struct pagemap_scan_cursor cursor = {0, 0};

	ranges_init(r, bounds, 3);
	pagemap_scan_add(regions, 3, r, 3, SHIFT, &cursor);
	CHECK_UINT("first: 2 + 2 present", 4, r[0].counts.present);
	CHECK_UINT("first: the 2 of the second region are file", 2, r[0].counts.file_or_shared);
	CHECK_UINT("second: all 10 present", 10, r[1].counts.present);
	CHECK_UINT("third: 5 present (40-44)", 5, r[2].counts.present);
	CHECK_UINT("third: 1 swapped (49; 50-59 lie outside every range)", 1, r[2].counts.swapped);
	CHECK_UINT("third: swapped and no guard", 1, r[2].counts.swapped_not_guard);
	CHECK_UINT("nothing write-protected", 0, r[0].counts.uffd_wp + r[1].counts.uffd_wp + r[2].counts.uffd_wp);
	CHECK_UINT("exclusive left alone", 0, r[0].counts.exclusive + r[1].counts.exclusive + r[2].counts.exclusive);
	CHECK_UINT("entries left alone", 0, r[0].counts.entries);
	CHECK_UINT("the cursor has counted to the end of the last region", P(60), cursor.counted_to);
}

static void test_categories(void)
{
	static const uint64_t bounds[1][2] = {{0, P(100)}};
	const struct pagemap_region regions[] = {
		{P(0), P(3), PAGEMAP_SCAN_PRESENT},                                /* uffd-wp: not written */
		{P(3), P(5), PAGEMAP_SCAN_SWAPPED | PAGEMAP_SCAN_GUARD | PAGEMAP_SCAN_WRITTEN},
		{P(5), P(6), PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_SOFT_DIRTY | PAGEMAP_SCAN_WRITTEN},
		{P(6), P(7), PAGEMAP_SCAN_SOFT_DIRTY},                              /* neither present nor swapped */
		{P(7), P(9), PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_HUGE | PAGEMAP_SCAN_PFNZERO | PAGEMAP_SCAN_WRITTEN},
	};
	struct pagemap_range r[1];
	struct pagemap_scan_cursor cursor = {0, 0};

	ranges_init(r, bounds, 1);
	pagemap_scan_add(regions, sizeof(regions) / sizeof(regions[0]), r, 1, SHIFT, &cursor);
	CHECK_UINT("present", 3 + 1 + 2, r[0].counts.present);
	CHECK_UINT("swapped: guard regions too (bit 62)", 2, r[0].counts.swapped);
	CHECK_UINT("swapped_not_guard", 0, r[0].counts.swapped_not_guard);
	CHECK_UINT("guard", 2, r[0].counts.guard);
	CHECK_UINT("soft_dirty: of pages present or swapped only", 1, r[0].counts.soft_dirty);
	CHECK_UINT("uffd_wp: present or swapped, not written", 3, r[0].counts.uffd_wp);
	CHECK_UINT("file_or_shared", 0, r[0].counts.file_or_shared);
}

/* Linux 6.18 with a full vector: walk_end before regions it had returned; they come again. */
static void test_regions_reported_twice(void)
{
	static const uint64_t bounds[2][2] = {{P(0), P(16)}, {P(16), P(32)}};
	const struct pagemap_region first_call[] = {
		{P(0), P(1), PAGEMAP_SCAN_PRESENT}, {P(8), P(9), PAGEMAP_SCAN_PRESENT}, {P(20), P(21), PAGEMAP_SCAN_PRESENT},
	};
	/* walk_end was 8: the next call, from 8, returns 8 and 20 again, then 30. */
	const struct pagemap_region second_call[] = {
		{P(8), P(9), PAGEMAP_SCAN_PRESENT}, {P(20), P(21), PAGEMAP_SCAN_PRESENT}, {P(30), P(32), PAGEMAP_SCAN_PRESENT},
	};
	struct pagemap_range r[2];
	struct pagemap_scan_cursor cursor = {0, 0};

	ranges_init(r, bounds, 2);
	pagemap_scan_add(first_call, 3, r, 2, SHIFT, &cursor);
	pagemap_scan_add(second_call, 3, r, 2, SHIFT, &cursor);
	CHECK_UINT("first range: 0 and 8, once each", 2, r[0].counts.present);
	CHECK_UINT("second range: 20 once, 30 and 31", 3, r[1].counts.present);
	/* A region that overlaps what was counted is counted from where counting got to. */
	{
		const struct pagemap_region overlapping[] = {{P(31), P(32), PAGEMAP_SCAN_PRESENT}};
		pagemap_scan_add(overlapping, 1, r, 2, SHIFT, &cursor);
		CHECK_UINT("page 31 not again", 3, r[1].counts.present);
	}
}

static void test_no_ranges_and_empty_regions(void)
{
	static const uint64_t bounds[1][2] = {{P(4), P(8)}};
	const struct pagemap_region regions[] = {
		{P(5), P(5), PAGEMAP_SCAN_PRESENT}, /* empty */
		{P(6), P(5), PAGEMAP_SCAN_PRESENT}, /* backwards */
		{P(6), P(7), PAGEMAP_SCAN_PRESENT},
	};
	struct pagemap_range r[1];
	struct pagemap_scan_cursor cursor = {0, 0};

	pagemap_scan_add(regions, 3, NULL, 0, SHIFT, &cursor);
	CHECK_UINT("no range: counted nowhere, the cursor moved on", P(7), cursor.counted_to);
	memset(&cursor, 0, sizeof(cursor));
	ranges_init(r, bounds, 1);
	pagemap_scan_add(regions, 3, r, 1, SHIFT, &cursor);
	CHECK_UINT("the empty and backwards regions add nothing", 1, r[0].counts.present);
}

/* ---- kpageflags and kpagecount ---- */

#define KPF(n) (UINT64_C(1) << (n))

static void test_flag_names_and_bits(void)
{
	static const struct {
		enum kpage_flag flag;
		const char *name;
		unsigned bit;
	} expected[] = {
		{KPAGE_REFERENCED, "referenced", 2}, {KPAGE_DIRTY, "dirty", 4}, {KPAGE_LRU, "lru", 5},
		{KPAGE_ACTIVE, "active", 6}, {KPAGE_ANON, "anon", 12}, {KPAGE_SWAPBACKED, "swapbacked", 14},
		{KPAGE_HUGE, "huge", 17}, {KPAGE_UNEVICTABLE, "unevictable", 18}, {KPAGE_KSM, "ksm", 21},
		{KPAGE_THP, "thp", 22}, {KPAGE_ZERO_PAGE, "zero_page", 24}, {KPAGE_MLOCKED, "mlocked", 33},
	};
	size_t i;

	CHECK_UINT("every flag listed", KPAGE_FLAGS, sizeof(expected) / sizeof(expected[0]));
	for (i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		const char *name = kpage_flag_name(expected[i].flag);
		CHECK("a name", name != NULL && strcmp(name, expected[i].name) == 0);
		CHECK_UINT("its bit", expected[i].bit, kpage_flag_bit(expected[i].flag));
	}
}

static void test_procrank_sums(void)
{
	struct kpage_totals t;
	/* Pages as this kernel showed them: anonymous (3 11 12 14 34), mlocked, a page cache page. */
	const uint64_t anon = KPF(3) | KPF(11) | KPF(12) | KPF(14) | KPF(34);
	const uint64_t locked = anon | KPF(2) | KPF(5) | KPF(18) | KPF(33);
	const uint64_t cache = KPF(2) | KPF(3) | KPF(5) | KPF(6) | KPF(11) | KPF(35);

	memset(&t, 0, sizeof(t));
	kpage_add(anon, 1, PAGE, &t);
	kpage_add(anon, 2, PAGE, &t);
	kpage_add(locked, 3, PAGE, &t);
	kpage_add(cache, 0, PAGE, &t); /* a mapcount of 0 adds to no sum */
	CHECK_UINT("pages", 4, t.pages);
	CHECK_UINT("mapped (procrank's Rss)", 3, t.mapped);
	CHECK_UINT("unique (Uss)", 1, t.unique);
	/* 4096 + 2048 + 1365.33..., summed with 12 fractional bits */
	CHECK_UINT("pss in fixed point", ((uint64_t)PAGE << 12) + ((uint64_t)PAGE << 12) / 2 + ((uint64_t)PAGE << 12) / 3,
		   t.pss_fixed);
	CHECK_UINT("pss in bytes, truncated", 7509, t.pss_fixed >> KPAGE_PSS_SHIFT);
	CHECK_UINT("anon", 3, t.flagged[KPAGE_ANON]);
	CHECK_UINT("swapbacked", 3, t.flagged[KPAGE_SWAPBACKED]);
	CHECK_UINT("mlocked (bit 33)", 1, t.flagged[KPAGE_MLOCKED]);
	CHECK_UINT("unevictable", 1, t.flagged[KPAGE_UNEVICTABLE]);
	CHECK_UINT("referenced", 2, t.flagged[KPAGE_REFERENCED]);
	CHECK_UINT("active", 1, t.flagged[KPAGE_ACTIVE]);
	CHECK_UINT("lru", 2, t.flagged[KPAGE_LRU]);
	CHECK_UINT("ksm", 0, t.flagged[KPAGE_KSM]);
}

static void test_filters(void)
{
	const uint64_t anon = KPF(12) | KPF(14), ksm = KPF(12) | KPF(14) | KPF(21), cache = KPF(5);

	CHECK("all keeps all", kpage_kept(anon, KPAGE_ALL) && kpage_kept(cache, KPAGE_ALL));
	CHECK("ksm: only KSM pages", kpage_kept(ksm, KPAGE_ONLY_KSM) && !kpage_kept(anon, KPAGE_ONLY_KSM));
	CHECK("swapbacked", kpage_kept(anon, KPAGE_ONLY_SWAPBACKED) && !kpage_kept(cache, KPAGE_ONLY_SWAPBACKED));
	CHECK("cache: not swap-backed", kpage_kept(cache, KPAGE_ONLY_CACHE) && !kpage_kept(anon, KPAGE_ONLY_CACHE));
}

static void test_idle_bitmap_layout(void)
{
	/* Documentation/admin-guide/mm/idle_page_tracking.rst: PFN i is bit i % 64 of word i / 64. */
	CHECK_UINT("pfn 0: word 0", 0, kpage_idle_word(0));
	CHECK_UINT("pfn 0: bit 0", 1, kpage_idle_mask(0));
	CHECK_UINT("pfn 63: word 0", 0, kpage_idle_word(63));
	CHECK_UINT("pfn 63: bit 63", UINT64_C(1) << 63, kpage_idle_mask(63));
	CHECK_UINT("pfn 64: word 1", 1, kpage_idle_word(64));
	CHECK_UINT("pfn 64: bit 0", 1, kpage_idle_mask(64));
	CHECK_UINT("pfn 0x1287be: word", 0x1287be / 64, kpage_idle_word(0x1287be));
	CHECK_UINT("pfn 0x1287be: bit 62", UINT64_C(1) << 62, kpage_idle_mask(0x1287be));
}

int main(void)
{
	UNIT_RUN(test_split_over_ranges, "regions split at range boundaries; pages outside every range go nowhere");
	UNIT_RUN(test_categories, "categories: swapped includes guard, soft-dirty and uffd-wp of pages present or swapped");
	UNIT_RUN(test_regions_reported_twice, "a region the kernel returns again after walk_end is counted once");
	UNIT_RUN(test_no_ranges_and_empty_regions, "no range, empty and backwards regions");
	UNIT_RUN(test_flag_names_and_bits, "the kpageflags counted: names and bits");
	UNIT_RUN(test_procrank_sums, "Rss, Uss and Pss from mapcounts, a mapcount of 0 left out, flags counted");
	UNIT_RUN(test_filters, "procrank's filters: KSM, swap-backed, page cache");
	UNIT_RUN(test_idle_bitmap_layout, "the page_idle bitmap: a bit per page frame in 64-bit words");
	return unit_end();
}
