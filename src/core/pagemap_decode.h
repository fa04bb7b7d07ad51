/* pagemap_decode.h: the 64-bit records of /proc/PID/pagemap and /proc/kpageflags, decoded and counted. */
#ifndef MEMSCRIPT_PAGEMAP_DECODE_H
#define MEMSCRIPT_PAGEMAP_DECODE_H

#include <stddef.h>
#include <stdint.h>

/*
 * /proc/PID/pagemap holds one 64-bit entry per virtual page (entry i at byte offset 8 * i maps
 * the page at address i * page size), in the machine's byte order. The bits, from the kernel's
 * Documentation/admin-guide/mm/pagemap.rst:
 *   0-54  page frame number if present (zero without CAP_SYS_ADMIN, since 4.2),
 *         or if swapped: swap type in 0-4, swap offset in 5-54
 *   55    pte is soft-dirty            56  page exclusively mapped (since 4.2)
 *   57    pte is uffd-wp protected (since 5.13)   58  pte is a guard region (since 6.15)
 *   59-60 zero                         61  page is a file page or shared anonymous (since 3.5)
 *   62    page swapped                 63  page present
 * Bit 62 is set for every entry the kernel keeps in swap format, not only swapped-out pages:
 * on Linux 6.18 a guard region (madvise MADV_GUARD_INSTALL) reads as bits 62 and 58 with a swap
 * type and offset in the low bits.
 */
#define PAGEMAP_PFN_MASK        ((UINT64_C(1) << 55) - 1)
#define PAGEMAP_SWAP_TYPE_MASK  UINT64_C(0x1f)
#define PAGEMAP_SWAP_OFFSET_SHIFT 5
#define PAGEMAP_SOFT_DIRTY      55
#define PAGEMAP_EXCLUSIVE       56
#define PAGEMAP_UFFD_WP         57
#define PAGEMAP_GUARD           58
#define PAGEMAP_FILE_OR_SHARED  61
#define PAGEMAP_SWAPPED         62
#define PAGEMAP_PRESENT         63

struct pagemap_entry {
	uint64_t raw;            /* the entry as read */
	uint64_t pfn;            /* present: bits 0-54; 0 when not present */
	unsigned swap_type;      /* swapped: bits 0-4; 0 when not swapped */
	uint64_t swap_offset;    /* swapped: bits 5-54; 0 when not swapped */
	int present;             /* each of these is 0 or 1: the bit of the same name */
	int swapped;
	int file_or_shared;
	int exclusive;
	int soft_dirty;
	int uffd_wp;
	int guard;
};

/* Decodes one entry. The bits are taken as they are: a present entry also marked swapped (no
 * kernel writes one) gets both its pfn and its swap fields. */
void pagemap_decode(uint64_t raw, struct pagemap_entry *entry);

/* How many entries have each bit set; entries counts them all. */
struct pagemap_counts {
	uint64_t entries;
	uint64_t present;
	uint64_t swapped;        /* bit 62: includes guard regions and other swap-format entries */
	uint64_t swapped_not_guard; /* bit 62 without bit 58: the swap-format entries but guard regions */
	uint64_t soft_dirty;     /* bit 55 on an entry present or swapped (bit 63 or 62): the kernel
	                            also sets it on every empty entry of a VMA marked VM_SOFTDIRTY,
	                            which is no page */
	uint64_t exclusive;
	uint64_t file_or_shared;
	uint64_t uffd_wp;
	uint64_t guard;
};

/*
 * Adds the bits of entries[0..n) to *counts (which the caller zeroes once, so a range read in
 * batches is counted batch by batch). No branch per entry: it runs over millions of them, most
 * often empty ones, which it skips eight at a time.
 */
void pagemap_count(const uint64_t *entries, size_t n, struct pagemap_counts *counts);

/*
 * /proc/kpageflags holds one 64-bit word of flags per page frame (word i at byte 8 * i describes
 * PFN i); /proc/kpagecount one 64-bit mapping count per frame. Bits 0-26 are the stable flags of
 * include/uapi/linux/kernel-page-flags.h (KPF_LOCKED 0 ... KPF_PGTABLE 26); bits 32 and up are
 * flags for kernel hacking (include/linux/kernel-page-flags.h), not part of the stable
 * interface, and have no name here (on 6.18, an anonymous page shows bit 34).
 */
#define KPAGEFLAGS_NAMED 27

/*
 * The name of kpageflags bit, the KPF_ macro's name in lowercase ("locked", "anon",
 * "compound_head", "zero_page"), or NULL for a bit with no stable name (27 and up). The string is
 * static.
 */
const char *kpageflags_name(unsigned bit_number);

/* Adds, for each bit 0-63, how many of flags[0..n) have it set, to counts[bit]. */
void kpageflags_count(const uint64_t *flags, size_t n, uint64_t counts[64]);

#endif
