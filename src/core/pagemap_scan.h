/* pagemap_scan.h: the regions the PAGEMAP_SCAN ioctl of /proc/PID/pagemap returns, added up over address ranges. */
#ifndef MEMSCRIPT_PAGEMAP_SCAN_H
#define MEMSCRIPT_PAGEMAP_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "core/pagemap_decode.h"

/*
 * PAGEMAP_SCAN (Linux 6.7+, include/uapi/linux/fs.h; spelled out here for older headers) walks a
 * process's page tables over [start, end) and returns the pages of interest as regions: runs of
 * pages with the same categories, in address order, only the pages that have one of
 * category_anyof_mask. Unlike a read of pagemap it skips what is not mapped without writing an
 * entry for it, and it says nothing of whether a page is mapped exclusively (pagemap bit 56).
 * The categories, as the kernel sets them (fs/proc/task_mmu.c, pagemap_page_category):
 */
#define PAGEMAP_SCAN_WPALLOWED  (UINT64_C(1) << 0) /* the VMA is registered for async uffd write-protect */
#define PAGEMAP_SCAN_WRITTEN    (UINT64_C(1) << 1) /* present or swapped and not uffd-wp protected */
#define PAGEMAP_SCAN_FILE       (UINT64_C(1) << 2) /* not an anonymous page: file or shared (pagemap bit 61) */
#define PAGEMAP_SCAN_PRESENT    (UINT64_C(1) << 3) /* pagemap bit 63 */
#define PAGEMAP_SCAN_SWAPPED    (UINT64_C(1) << 4) /* every swap-format entry, guard regions too (bit 62) */
#define PAGEMAP_SCAN_PFNZERO    (UINT64_C(1) << 5) /* the shared zero page */
#define PAGEMAP_SCAN_HUGE       (UINT64_C(1) << 6) /* mapped by a huge page table entry (THP, hugetlb) */
#define PAGEMAP_SCAN_SOFT_DIRTY (UINT64_C(1) << 7) /* bit 55 */
#define PAGEMAP_SCAN_GUARD      (UINT64_C(1) << 8) /* a guard region (Linux 6.15+; bit 58) */

/* One region the kernel returns (struct page_region): pages [start, end), bytes, page-aligned. */
struct pagemap_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

/* The ioctl's argument (struct pm_scan_arg), 96 bytes. */
struct pagemap_scan_arg {
	uint64_t size;                /* sizeof(struct pagemap_scan_arg) */
	uint64_t flags;               /* 0: no write-protecting */
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;            /* written by the kernel: where this call stopped */
	uint64_t vec;                 /* struct pagemap_region[vec_len], as an address */
	uint64_t vec_len;
	uint64_t max_pages;           /* 0: no limit */
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

/* An address range counted: a mapping, or a range a caller named. */
struct pagemap_range {
	uint64_t start;               /* bytes, page-aligned */
	uint64_t end;                 /* one past the last byte, page-aligned, above start */
	struct pagemap_counts counts; /* in pages */
};

/*
 * Where the counting of one scan has got to, kept across the calls of it: the address below which
 * pages were counted, and the first range that may still get pages. Zero it before the first call.
 */
struct pagemap_scan_cursor {
	uint64_t counted_to;
	size_t range;
};

/*
 * Adds regions[0..n), one call's answer, to the counts of ranges[0..nranges) (ascending, not
 * overlapping): each page of a region to the range holding it, a page outside every range to none.
 * A region or the part of one below cursor->counted_to is not counted again: when the kernel's
 * buffer fills it may report, after the walk_end it gives, regions it already returned (seen on
 * Linux 6.18 with a vector of exactly as many regions as there were). The pagemap_counts fields
 * filled, per page: present (PRESENT), swapped (SWAPPED), swapped_not_guard (SWAPPED without GUARD),
 * guard, soft_dirty, file_or_shared (FILE), uffd_wp (PRESENT or SWAPPED without WRITTEN);
 * exclusive and entries are left as they are (the scan cannot tell the first; the caller knows the
 * second). page_shift: log2 of the page size.
 */
void pagemap_scan_add(const struct pagemap_region *regions, size_t n, struct pagemap_range *ranges, size_t nranges,
		      unsigned page_shift, struct pagemap_scan_cursor *cursor);

#endif
