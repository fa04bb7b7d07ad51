/* kpage_account.h: what /proc/kpageflags and /proc/kpagecount say of a process's present pages, added up per range as procrank does. */
#ifndef MEMSCRIPT_KPAGE_ACCOUNT_H
#define MEMSCRIPT_KPAGE_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The page flags counted, each a bit of a kpageflags word (pagemap_decode.h). All but mlocked are
 * stable (include/uapi/linux/kernel-page-flags.h); mlocked is KPF_MLOCKED, bit 33, one of the
 * flags the kernel exports "for kernel hacking" (include/linux/kernel-page-flags.h), the bit
 * page-types reads for it too.
 */
enum kpage_flag {
	KPAGE_REFERENCED,  /* bit 2 */
	KPAGE_DIRTY,       /* bit 4 */
	KPAGE_LRU,         /* bit 5 */
	KPAGE_ACTIVE,      /* bit 6 */
	KPAGE_ANON,        /* bit 12 */
	KPAGE_SWAPBACKED,  /* bit 14: anonymous or shmem, backed by swap rather than a file */
	KPAGE_HUGE,        /* bit 17: hugetlb */
	KPAGE_UNEVICTABLE, /* bit 18 */
	KPAGE_KSM,         /* bit 21 */
	KPAGE_THP,         /* bit 22: any transparent huge page, of any size, head and tail pages alike */
	KPAGE_ZERO_PAGE,   /* bit 24: the zero page, or the huge zero page */
	KPAGE_MLOCKED,     /* bit 33 */
	KPAGE_FLAGS
};

/* The name of a counted flag ("referenced", ... "mlocked") and its kpageflags bit. */
const char *kpage_flag_name(enum kpage_flag flag);
unsigned kpage_flag_bit(enum kpage_flag flag);

/* Which present pages are counted: procrank's -k, -s and -c. */
enum kpage_filter {
	KPAGE_ALL,
	KPAGE_ONLY_KSM,        /* KSM pages only */
	KPAGE_ONLY_SWAPBACKED, /* swap-backed pages only (anonymous, shmem) */
	KPAGE_ONLY_CACHE,      /* page cache only: pages not swap-backed */
};

/* PSS is summed in fixed point with these many fractional bits, as the kernel sums smaps Pss. */
#define KPAGE_PSS_SHIFT 12

/* What the pages of one range that the filter kept add up to. Sizes are in pages but pss. */
struct kpage_totals {
	uint64_t pages;                 /* present pages the filter kept */
	uint64_t flagged[KPAGE_FLAGS];  /* of those, how many have each flag */
	uint64_t mapped;                /* with a mapcount of 1 or more: procrank's Rss */
	uint64_t unique;                /* with a mapcount of exactly 1: procrank's Uss */
	uint64_t pss_fixed;             /* the sum of page_size / mapcount, in bytes << KPAGE_PSS_SHIFT */
};

/* Whether a page with kpageflags word flags passes filter. */
int kpage_kept(uint64_t flags, enum kpage_filter filter);

/*
 * Adds one present page, its kpageflags word and its kpagecount mapcount, to *totals (no filter:
 * the caller asks kpage_kept first). A mapcount of 0 (the zero page, pages the kernel does not
 * count as mapped) adds to no sum of mapcounts, as in procrank.
 */
void kpage_add(uint64_t flags, uint64_t mapcount, uint64_t page_size, struct kpage_totals *totals);

/* The page_idle bitmap (/sys/kernel/mm/page_idle/bitmap) holds the page frame pfn at bit
 * pfn % 64 of the 64-bit word pfn / 64. */
static inline uint64_t kpage_idle_word(uint64_t pfn)
{
	return pfn >> 6;
}

static inline uint64_t kpage_idle_mask(uint64_t pfn)
{
	return UINT64_C(1) << (pfn & 63);
}

#endif
