/* pagemap_decode.c: the bits of pagemap entries and kpageflags words, one at a time or counted over arrays. */
#include "core/pagemap_decode.h"

static int bit(uint64_t raw, unsigned n)
{
	return (int)((raw >> n) & 1);
}

void pagemap_decode(uint64_t raw, struct pagemap_entry *entry)
{
	entry->raw = raw;
	entry->present = bit(raw, PAGEMAP_PRESENT);
	entry->swapped = bit(raw, PAGEMAP_SWAPPED);
	entry->file_or_shared = bit(raw, PAGEMAP_FILE_OR_SHARED);
	entry->exclusive = bit(raw, PAGEMAP_EXCLUSIVE);
	entry->soft_dirty = bit(raw, PAGEMAP_SOFT_DIRTY);
	entry->uffd_wp = bit(raw, PAGEMAP_UFFD_WP);
	entry->guard = bit(raw, PAGEMAP_GUARD);
	entry->pfn = entry->present ? raw & PAGEMAP_PFN_MASK : 0;
	entry->swap_type = entry->swapped ? (unsigned)(raw & PAGEMAP_SWAP_TYPE_MASK) : 0;
	entry->swap_offset = entry->swapped ? (raw & PAGEMAP_PFN_MASK) >> PAGEMAP_SWAP_OFFSET_SHIFT : 0;
}

void pagemap_count(const uint64_t *entries, size_t n, struct pagemap_counts *counts)
{
	uint64_t present = 0, swapped = 0, swapped_not_guard = 0, soft_dirty = 0, exclusive = 0;
	uint64_t file_or_shared = 0, uffd_wp = 0, guard = 0;
	size_t i, j;

	/*
	 * Shifts and adds into locals, no branch per entry. Most entries of a large mapping are often
	 * empty (0: nothing mapped there yet): eight at a time are tested together and skipped, a
	 * branch per eight that is taken the same way for long runs.
	 */
	for (i = 0; i < n; i += 8) {
		size_t block = n - i < 8 ? n - i : 8;
		const uint64_t *e8 = entries + i;
		if (block == 8 && (e8[0] | e8[1] | e8[2] | e8[3] | e8[4] | e8[5] | e8[6] | e8[7]) == 0)
			continue;
		for (j = 0; j < block; j++) {
			uint64_t e = e8[j];
			present += e >> PAGEMAP_PRESENT;
			swapped += (e >> PAGEMAP_SWAPPED) & 1;
			swapped_not_guard += (e >> PAGEMAP_SWAPPED) & ~(e >> PAGEMAP_GUARD) & 1;
			file_or_shared += (e >> PAGEMAP_FILE_OR_SHARED) & 1;
			guard += (e >> PAGEMAP_GUARD) & 1;
			uffd_wp += (e >> PAGEMAP_UFFD_WP) & 1;
			exclusive += (e >> PAGEMAP_EXCLUSIVE) & 1;
			soft_dirty += (e >> PAGEMAP_SOFT_DIRTY) & ((e >> PAGEMAP_PRESENT) | (e >> PAGEMAP_SWAPPED)) & 1;
		}
	}
	counts->entries += n;
	counts->present += present;
	counts->swapped += swapped;
	counts->swapped_not_guard += swapped_not_guard;
	counts->soft_dirty += soft_dirty;
	counts->exclusive += exclusive;
	counts->file_or_shared += file_or_shared;
	counts->uffd_wp += uffd_wp;
	counts->guard += guard;
}

/* include/uapi/linux/kernel-page-flags.h, KPF_<NAME> in lowercase, indexed by bit number. */
static const char *const kpageflags_names[KPAGEFLAGS_NAMED] = {
	"locked",        /* 0 */
	"error",         /* 1 */
	"referenced",    /* 2 */
	"uptodate",      /* 3 */
	"dirty",         /* 4 */
	"lru",           /* 5 */
	"active",        /* 6 */
	"slab",          /* 7 */
	"writeback",     /* 8 */
	"reclaim",       /* 9 */
	"buddy",         /* 10 */
	"mmap",          /* 11 */
	"anon",          /* 12 */
	"swapcache",     /* 13 */
	"swapbacked",    /* 14 */
	"compound_head", /* 15 */
	"compound_tail", /* 16 */
	"huge",          /* 17 */
	"unevictable",   /* 18 */
	"hwpoison",      /* 19 */
	"nopage",        /* 20 */
	"ksm",           /* 21 */
	"thp",           /* 22 */
	"offline",       /* 23 */
	"zero_page",     /* 24 */
	"idle",          /* 25 */
	"pgtable",       /* 26 */
};

const char *kpageflags_name(unsigned bit_number)
{
	return bit_number < KPAGEFLAGS_NAMED ? kpageflags_names[bit_number] : NULL;
}

void kpageflags_count(const uint64_t *flags, size_t n, uint64_t counts[64])
{
	size_t i;

	/* A page has a handful of flags set: visit those, lowest first, rather than all 64 bits. */
	for (i = 0; i < n; i++) {
		uint64_t f = flags[i];
		while (f != 0) {
			counts[__builtin_ctzll(f)]++;
			f &= f - 1;
		}
	}
}
