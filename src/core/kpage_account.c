/* kpage_account.c: per-page kpageflags and kpagecount values added into per-range totals. */
#include "core/kpage_account.h"

static const struct {
	const char *name;
	unsigned bit;
} kpage_flags[KPAGE_FLAGS] = {
	[KPAGE_REFERENCED] = {"referenced", 2},
	[KPAGE_DIRTY] = {"dirty", 4},
	[KPAGE_LRU] = {"lru", 5},
	[KPAGE_ACTIVE] = {"active", 6},
	[KPAGE_ANON] = {"anon", 12},
	[KPAGE_SWAPBACKED] = {"swapbacked", 14},
	[KPAGE_HUGE] = {"huge", 17},
	[KPAGE_UNEVICTABLE] = {"unevictable", 18},
	[KPAGE_KSM] = {"ksm", 21},
	[KPAGE_THP] = {"thp", 22},
	[KPAGE_ZERO_PAGE] = {"zero_page", 24},
	[KPAGE_MLOCKED] = {"mlocked", 33},
};

const char *kpage_flag_name(enum kpage_flag flag)
{
	return kpage_flags[flag].name;
}

unsigned kpage_flag_bit(enum kpage_flag flag)
{
	return kpage_flags[flag].bit;
}

int kpage_kept(uint64_t flags, enum kpage_filter filter)
{
	switch (filter) {
	case KPAGE_ONLY_KSM:
		return (int)((flags >> kpage_flags[KPAGE_KSM].bit) & 1);
	case KPAGE_ONLY_SWAPBACKED:
		return (int)((flags >> kpage_flags[KPAGE_SWAPBACKED].bit) & 1);
	case KPAGE_ONLY_CACHE:
		return !((flags >> kpage_flags[KPAGE_SWAPBACKED].bit) & 1);
	case KPAGE_ALL:
		break;
	}
	return 1;
}

void kpage_add(uint64_t flags, uint64_t mapcount, uint64_t page_size, struct kpage_totals *totals)
{
	int f;

	totals->pages++;
	for (f = 0; f < KPAGE_FLAGS; f++)
		totals->flagged[f] += (flags >> kpage_flags[f].bit) & 1;
	if (mapcount >= 1) {
		totals->mapped++;
		totals->unique += mapcount == 1;
		totals->pss_fixed += (page_size << KPAGE_PSS_SHIFT) / mapcount;
	}
}
