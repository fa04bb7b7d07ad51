/* pagemap_scan.c: PAGEMAP_SCAN regions split over the ranges they fall in and counted by category. */
#include "core/pagemap_scan.h"

/* Adds pages of one region's categories to counts. */
static void add_pages(struct pagemap_counts *counts, uint64_t categories, uint64_t pages)
{
	int present = (categories & PAGEMAP_SCAN_PRESENT) != 0;
	int swapped = (categories & PAGEMAP_SCAN_SWAPPED) != 0;
	int guard = (categories & PAGEMAP_SCAN_GUARD) != 0;

	counts->present += present ? pages : 0;
	counts->swapped += swapped ? pages : 0;
	counts->swapped_not_guard += swapped && !guard ? pages : 0;
	counts->guard += guard ? pages : 0;
	counts->soft_dirty += (categories & PAGEMAP_SCAN_SOFT_DIRTY) && (present || swapped) ? pages : 0;
	counts->file_or_shared += (categories & PAGEMAP_SCAN_FILE) ? pages : 0;
	counts->uffd_wp += (present || swapped) && !(categories & PAGEMAP_SCAN_WRITTEN) ? pages : 0;
}

void pagemap_scan_add(const struct pagemap_region *regions, size_t n, struct pagemap_range *ranges, size_t nranges,
		      unsigned page_shift, struct pagemap_scan_cursor *cursor)
{
	size_t i, r;

	for (i = 0; i < n; i++) {
		uint64_t start = regions[i].start, end = regions[i].end;

		if (start < cursor->counted_to)
			start = cursor->counted_to;
		if (end <= start)
			continue;
		/* Ranges wholly below this region get nothing more from this scan. */
		while (cursor->range < nranges && ranges[cursor->range].end <= start)
			cursor->range++;
		for (r = cursor->range; r < nranges && ranges[r].start < end; r++) {
			uint64_t from = start > ranges[r].start ? start : ranges[r].start;
			uint64_t to = end < ranges[r].end ? end : ranges[r].end;
			if (to > from)
				add_pages(&ranges[r].counts, regions[i].categories, (to - from) >> page_shift);
		}
		cursor->counted_to = end;
	}
}
