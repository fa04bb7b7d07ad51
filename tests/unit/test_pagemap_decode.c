/* test_pagemap_decode.c: pagemap entries and kpageflags words, decoded and counted, against mappings this test makes. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "core/pagemap_decode.h"
#include "source/records.h"
#include "unit.h"

#if defined(__has_include)
#if __has_include(<linux/kernel-page-flags.h>)
#include <linux/kernel-page-flags.h>
#define HAVE_KERNEL_PAGE_FLAGS_H 1
#endif
#endif

#define BIT(n) (UINT64_C(1) << (n))

/* ---- decoding ---- */

static void test_decode_present_anon(void)
{
	struct pagemap_entry e;

	/* An anonymous page this kernel reported: present, exclusively mapped, pfn 0x1287be. */
	pagemap_decode(UINT64_C(0x81000000001287be), &e);
	CHECK_UINT("raw kept", UINT64_C(0x81000000001287be), e.raw);
	CHECK_INT("present", 1, e.present);
	CHECK_INT("exclusive", 1, e.exclusive);
	CHECK_UINT("pfn", 0x1287be, e.pfn);
	CHECK_INT("not swapped", 0, e.swapped);
	CHECK_INT("not file or shared", 0, e.file_or_shared);
	CHECK_INT("not soft-dirty", 0, e.soft_dirty);
	CHECK_INT("no uffd-wp", 0, e.uffd_wp);
	CHECK_INT("no guard", 0, e.guard);
	CHECK_UINT("no swap type", 0, e.swap_type);
	CHECK_UINT("no swap offset", 0, e.swap_offset);
}

static void test_decode_shared_and_flags(void)
{
	struct pagemap_entry e;

	/* A shared anonymous page as this kernel reported it: bits 63, 61, 56. */
	pagemap_decode(UINT64_C(0xa100000000128959), &e);
	CHECK_INT("present", 1, e.present);
	CHECK_INT("file or shared", 1, e.file_or_shared);
	CHECK_INT("exclusive", 1, e.exclusive);
	CHECK_UINT("pfn", 0x128959, e.pfn);
	pagemap_decode(BIT(63) | BIT(55) | BIT(57) | 42, &e);
	CHECK_INT("soft-dirty", 1, e.soft_dirty);
	CHECK_INT("uffd-wp", 1, e.uffd_wp);
	CHECK_UINT("pfn", 42, e.pfn);
	pagemap_decode(BIT(63) | PAGEMAP_PFN_MASK, &e);
	CHECK_UINT("the largest pfn: 55 bits", (UINT64_C(1) << 55) - 1, e.pfn);
	/* Bits 59-60 are zero in every kernel; set, they change nothing decoded. */
	pagemap_decode(BIT(63) | BIT(59) | BIT(60) | 7, &e);
	CHECK_UINT("pfn without bits 59-60", 7, e.pfn);
	CHECK("only present", e.present && !e.swapped && !e.file_or_shared && !e.exclusive && !e.guard);
}

static void test_decode_swapped_and_guard(void)
{
	struct pagemap_entry e;

	pagemap_decode(BIT(62) | (UINT64_C(0x1234) << 5) | 3, &e);
	CHECK_INT("swapped", 1, e.swapped);
	CHECK_INT("not present", 0, e.present);
	CHECK_UINT("swap type: bits 0-4", 3, e.swap_type);
	CHECK_UINT("swap offset: bits 5-54", 0x1234, e.swap_offset);
	CHECK_UINT("no pfn", 0, e.pfn);
	pagemap_decode(BIT(62) | PAGEMAP_PFN_MASK, &e);
	CHECK_UINT("largest type", 31, e.swap_type);
	CHECK_UINT("largest offset: 50 bits", (UINT64_C(1) << 50) - 1, e.swap_offset);
	/* A guard region as Linux 6.18 reports it: bits 62 and 58, type 31, offset 4. */
	pagemap_decode(UINT64_C(0x440000000000009f), &e);
	CHECK_INT("guard", 1, e.guard);
	CHECK_INT("in swap format", 1, e.swapped);
	CHECK_UINT("type", 31, e.swap_type);
	CHECK_UINT("offset", 4, e.swap_offset);
	pagemap_decode(0, &e);
	CHECK("nothing mapped: all zero", !e.present && !e.swapped && e.pfn == 0 && e.swap_type == 0 && e.swap_offset == 0);
}

static void test_count(void)
{
	const uint64_t entries[] = {
		UINT64_C(0x81000000001287be), /* present exclusive */
		UINT64_C(0xa100000000128959), /* present shared exclusive */
		UINT64_C(0x440000000000009f), /* guard (swapped bit too) */
		BIT(62) | 3,                  /* swapped */
		BIT(63) | BIT(55),            /* present soft-dirty */
		BIT(57),                      /* uffd-wp marker alone */
		BIT(55),                      /* empty, in a VMA marked soft-dirty: no page */
	};
	struct pagemap_counts c;

	memset(&c, 0, sizeof(c));
	pagemap_count(entries, sizeof(entries) / sizeof(entries[0]), &c);
	CHECK_UINT("entries", 7, c.entries);
	CHECK_UINT("present", 3, c.present);
	CHECK_UINT("swapped", 2, c.swapped);
	CHECK_UINT("swapped but not a guard region", 1, c.swapped_not_guard);
	CHECK_UINT("guard", 1, c.guard);
	CHECK_UINT("exclusive", 2, c.exclusive);
	CHECK_UINT("file_or_shared", 1, c.file_or_shared);
	CHECK_UINT("soft_dirty", 1, c.soft_dirty);
	CHECK_UINT("uffd_wp", 1, c.uffd_wp);
	/* Batch by batch: counts add up. */
	pagemap_count(entries, 2, &c);
	CHECK_UINT("entries after a second batch", 9, c.entries);
	CHECK_UINT("present after a second batch", 5, c.present);
	pagemap_count(entries, 0, &c);
	CHECK_UINT("an empty batch adds nothing", 9, c.entries);
}

/*
 * pagemap_count skips blocks of eight empty entries: entries around and between such blocks, and
 * a tail shorter than eight, are all counted, wherever the array starts.
 */
static void test_count_empty_blocks(void)
{
	const uint64_t present = BIT(63) | BIT(56) | 7, swapped = BIT(62) | BIT(55) | 3;
	uint64_t entries[8 * 6 + 5];
	size_t n = sizeof(entries) / sizeof(entries[0]), start;
	struct pagemap_counts c;

	memset(entries, 0, sizeof(entries));
	/* block 0 full; blocks 1-2 empty; block 3 one present at its last slot; block 4 empty; block 5 one
	   swapped at its first slot; the 5-entry tail: present in its last slot */
	for (size_t i = 0; i < 8; i++)
		entries[i] = present;
	entries[3 * 8 + 7] = present;
	entries[5 * 8] = swapped;
	entries[n - 1] = present;
	memset(&c, 0, sizeof(c));
	pagemap_count(entries, n, &c);
	CHECK_UINT("entries: every one, empty blocks too", n, c.entries);
	CHECK_UINT("present: the full block, the one after the empty blocks, the tail's", 10, c.present);
	CHECK_UINT("exclusive", 10, c.exclusive);
	CHECK_UINT("swapped: the one after the empty block", 1, c.swapped);
	CHECK_UINT("soft_dirty: the swapped one", 1, c.soft_dirty);

	/* From every offset in the first block: the blocks of eight fall elsewhere, the sums do not move. */
	for (start = 1; start < 8; start++) {
		memset(&c, 0, sizeof(c));
		pagemap_count(entries + start, n - start, &c);
		if (!CHECK_UINT("present from an unaligned start", 10 - start, c.present) ||
		    !CHECK_UINT("swapped from an unaligned start", 1, c.swapped) ||
		    !CHECK_UINT("entries from an unaligned start", n - start, c.entries))
			break;
	}
	/* Fewer than eight: a tail only, the last entry counted. */
	memset(&c, 0, sizeof(c));
	pagemap_count(entries + n - 5, 5, &c);
	CHECK_UINT("a 5-entry array: its last entry", 1, c.present);
	/* Only empty entries, 8 * 6 + 5 of them: nothing but entries. */
	memset(entries, 0, sizeof(entries));
	memset(&c, 0, sizeof(c));
	pagemap_count(entries, n, &c);
	CHECK_UINT("all empty: entries", n, c.entries);
	CHECK("all empty: no page", c.present == 0 && c.swapped == 0 && c.exclusive == 0 && c.soft_dirty == 0);
}

/* pagemap_count over a million entries equals pagemap_decode one by one. */
static void test_count_against_decode(void)
{
	size_t n = 1000000, i;
	uint64_t *entries = malloc(n * sizeof(uint64_t)), x = UINT64_C(0x9e3779b97f4a7c15);
	struct pagemap_counts c, ref;

	if (!CHECK("allocated", entries != NULL))
		return;
	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		entries[i] = x;
	}
	memset(&c, 0, sizeof(c));
	memset(&ref, 0, sizeof(ref));
	pagemap_count(entries, n, &c);
	for (i = 0; i < n; i++) {
		struct pagemap_entry e;
		pagemap_decode(entries[i], &e);
		ref.entries++;
		ref.present += (uint64_t)e.present;
		ref.swapped += (uint64_t)e.swapped;
		ref.swapped_not_guard += (uint64_t)(e.swapped && !e.guard);
		ref.soft_dirty += (uint64_t)(e.soft_dirty && (e.present || e.swapped));
		ref.exclusive += (uint64_t)e.exclusive;
		ref.file_or_shared += (uint64_t)e.file_or_shared;
		ref.uffd_wp += (uint64_t)e.uffd_wp;
		ref.guard += (uint64_t)e.guard;
	}
	CHECK_UINT("entries", ref.entries, c.entries);
	CHECK_UINT("present", ref.present, c.present);
	CHECK_UINT("swapped", ref.swapped, c.swapped);
	CHECK_UINT("swapped_not_guard", ref.swapped_not_guard, c.swapped_not_guard);
	CHECK_UINT("soft_dirty", ref.soft_dirty, c.soft_dirty);
	CHECK_UINT("exclusive", ref.exclusive, c.exclusive);
	CHECK_UINT("file_or_shared", ref.file_or_shared, c.file_or_shared);
	CHECK_UINT("uffd_wp", ref.uffd_wp, c.uffd_wp);
	CHECK_UINT("guard", ref.guard, c.guard);
	CHECK("random bits: about half present", c.present > n / 2 - n / 50 && c.present < n / 2 + n / 50);
	free(entries);
}

static void test_kpageflags_names(void)
{
	unsigned bit;
	int all_named = 1;

	for (bit = 0; bit < KPAGEFLAGS_NAMED; bit++)
		all_named &= kpageflags_name(bit) != NULL;
	CHECK("bits 0-26 named", all_named);
	CHECK("27 unnamed", kpageflags_name(27) == NULL);
	CHECK("34 unnamed (kernel hacking flag)", kpageflags_name(34) == NULL);
	CHECK("63 unnamed", kpageflags_name(63) == NULL);
	CHECK("far past 63 unnamed", kpageflags_name(1000) == NULL);
#ifdef HAVE_KERNEL_PAGE_FLAGS_H
	/* Each name at the bit of its KPF_ macro in the installed uapi header. */
#define NAMED(macro, name) CHECK_TEXT(#macro, name, kpageflags_name(macro), strlen(name))
	NAMED(KPF_LOCKED, "locked");
	NAMED(KPF_ERROR, "error");
	NAMED(KPF_REFERENCED, "referenced");
	NAMED(KPF_UPTODATE, "uptodate");
	NAMED(KPF_DIRTY, "dirty");
	NAMED(KPF_LRU, "lru");
	NAMED(KPF_ACTIVE, "active");
	NAMED(KPF_SLAB, "slab");
	NAMED(KPF_WRITEBACK, "writeback");
	NAMED(KPF_RECLAIM, "reclaim");
	NAMED(KPF_BUDDY, "buddy");
	NAMED(KPF_MMAP, "mmap");
	NAMED(KPF_ANON, "anon");
	NAMED(KPF_SWAPCACHE, "swapcache");
	NAMED(KPF_SWAPBACKED, "swapbacked");
	NAMED(KPF_COMPOUND_HEAD, "compound_head");
	NAMED(KPF_COMPOUND_TAIL, "compound_tail");
	NAMED(KPF_HUGE, "huge");
	NAMED(KPF_UNEVICTABLE, "unevictable");
	NAMED(KPF_HWPOISON, "hwpoison");
	NAMED(KPF_NOPAGE, "nopage");
	NAMED(KPF_KSM, "ksm");
	NAMED(KPF_THP, "thp");
	NAMED(KPF_OFFLINE, "offline");
	NAMED(KPF_ZERO_PAGE, "zero_page");
	NAMED(KPF_IDLE, "idle");
	NAMED(KPF_PGTABLE, "pgtable");
#undef NAMED
#else
	CHECK_TEXT("12", "anon", kpageflags_name(12), 4);
	CHECK_TEXT("26", "pgtable", kpageflags_name(26), 7);
#endif
}

static void test_kpageflags_count(void)
{
	const uint64_t flags[] = {BIT(12) | BIT(11) | BIT(3), BIT(11) | BIT(5), BIT(63), 0, BIT(0) | BIT(34)};
	uint64_t counts[64];
	unsigned bit;
	uint64_t others = 0;

	memset(counts, 0, sizeof(counts));
	kpageflags_count(flags, sizeof(flags) / sizeof(flags[0]), counts);
	CHECK_UINT("mmap", 2, counts[11]);
	CHECK_UINT("anon", 1, counts[12]);
	CHECK_UINT("uptodate", 1, counts[3]);
	CHECK_UINT("lru", 1, counts[5]);
	CHECK_UINT("bit 63", 1, counts[63]);
	CHECK_UINT("locked", 1, counts[0]);
	CHECK_UINT("bit 34", 1, counts[34]);
	for (bit = 0; bit < 64; bit++)
		if (bit != 0 && bit != 3 && bit != 5 && bit != 11 && bit != 12 && bit != 34 && bit != 63)
			others += counts[bit];
	CHECK_UINT("no other bit", 0, others);
	kpageflags_count(flags, 1, counts);
	CHECK_UINT("added to", 3, counts[11]);
}

/* ---- the live kernel ---- */

struct area {
	char *reserved;  /* with one inaccessible page on each side, so it merges with nothing */
	char *start;
	size_t pages;
};

static int area_map(struct area *a, size_t pages, int prot, int flags, int fd)
{
	long page = sysconf(_SC_PAGESIZE);

	a->pages = pages;
	a->reserved = mmap(NULL, (pages + 2) * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a->reserved == MAP_FAILED)
		return 0;
	a->start = mmap(a->reserved + page, pages * (size_t)page, prot, flags | MAP_FIXED, fd, 0);
	if (a->start == MAP_FAILED) {
		munmap(a->reserved, (pages + 2) * (size_t)page);
		return 0;
	}
	madvise(a->start, pages * (size_t)page, MADV_NOHUGEPAGE);
	return 1;
}

static void area_unmap(struct area *a)
{
	munmap(a->reserved, (a->pages + 2) * (size_t)sysconf(_SC_PAGESIZE));
}

/* Reads the pagemap entries of the area into out; returns how many (a->pages on success). */
static size_t area_entries(const struct area *a, uint64_t *out)
{
	long page = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t nread = 0;
	int err;

	if (!CHECK("open /proc/self/pagemap", fd >= 0))
		return 0;
	err = records_read(fd, (uintptr_t)a->start / (uintptr_t)page, out, a->pages, &nread);
	CHECK_INT("records_read", 0, err);
	close(fd);
	return nread;
}

static void test_live_anonymous(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct area a;
	uint64_t entries[16];
	struct pagemap_counts c;
	struct pagemap_entry e;
	static const size_t touched[] = {0, 2, 5, 15};
	size_t i;

	if (access("/proc/self/pagemap", R_OK) != 0) {
		unit_skip("no /proc/self/pagemap (kernel without CONFIG_PROC_PAGE_MONITOR)");
		return;
	}
	if (!CHECK("mmap", area_map(&a, 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)))
		return;
	for (i = 0; i < sizeof(touched) / sizeof(touched[0]); i++)
		a.start[touched[i] * (size_t)page] = 1;
	if (CHECK_UINT("16 entries", 16, area_entries(&a, entries))) {
		memset(&c, 0, sizeof(c));
		pagemap_count(entries, 16, &c);
		CHECK_UINT("present: the pages touched", 4, c.present);
		CHECK_UINT("exclusive: each mapped here only", 4, c.exclusive);
		CHECK_UINT("private anonymous: not file or shared", 0, c.file_or_shared);
		CHECK_UINT("nothing swapped (no swap, no guard)", 0, c.swapped);
		pagemap_decode(entries[1], &e);
		CHECK("page 1, never touched, is not present", !e.present && e.raw == 0);
		pagemap_decode(entries[5], &e);
		CHECK("page 5 present", e.present);
	}
	area_unmap(&a);
}

static void test_live_shared_and_file(void)
{
	long page = sysconf(_SC_PAGESIZE);
	char path[] = "/tmp/memscript-unit-pagemap-XXXXXX";
	struct area a;
	uint64_t entries[4];
	struct pagemap_counts c;
	volatile char sink = 0;
	size_t i;
	int fd;

	if (access("/proc/self/pagemap", R_OK) != 0) {
		unit_skip("no /proc/self/pagemap (kernel without CONFIG_PROC_PAGE_MONITOR)");
		return;
	}
	if (!CHECK("shared anonymous mmap", area_map(&a, 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1)))
		return;
	a.start[0] = 1;
	a.start[3 * (size_t)page] = 1;
	if (CHECK_UINT("4 entries", 4, area_entries(&a, entries))) {
		memset(&c, 0, sizeof(c));
		pagemap_count(entries, 4, &c);
		CHECK_UINT("present", 2, c.present);
		CHECK_UINT("shared anonymous pages are file_or_shared", 2, c.file_or_shared);
	}
	area_unmap(&a);

	/* A file written then mapped: its pages are in the page cache, present once read. */
	fd = mkstemp(path);
	if (!CHECK("temporary file", fd >= 0))
		return;
	unlink(path);
	{
		char *buf = calloc(4, (size_t)page);
		int ok = buf != NULL && write(fd, buf, 4 * (size_t)page) == 4 * page;
		free(buf);
		if (!CHECK("4 pages written", ok) || !CHECK("file mmap", area_map(&a, 4, PROT_READ, MAP_PRIVATE, fd))) {
			close(fd);
			return;
		}
	}
	for (i = 0; i < 4; i++)
		sink += a.start[i * (size_t)page];
	(void)sink;
	if (CHECK_UINT("4 entries", 4, area_entries(&a, entries))) {
		memset(&c, 0, sizeof(c));
		pagemap_count(entries, 4, &c);
		CHECK_UINT("present: every page read", 4, c.present);
		CHECK_UINT("file pages are file_or_shared", 4, c.file_or_shared);
	}
	area_unmap(&a);
	close(fd);
}

/* A page's kpageflags word and kpagecount, through records_read. */
static int frame_info(uint64_t pfn, uint64_t *flags, uint64_t *count)
{
	int ffd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	int cfd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	size_t n1 = 0, n2 = 0;
	int ok = ffd >= 0 && cfd >= 0 && records_read(ffd, pfn, flags, 1, &n1) == 0 && n1 == 1 &&
		 records_read(cfd, pfn, count, 1, &n2) == 0 && n2 == 1;

	if (ffd >= 0)
		close(ffd);
	if (cfd >= 0)
		close(cfd);
	return ok;
}

static void test_live_kpageflags_of_own_pages(void)
{
	struct area a;
	uint64_t entry, flags = 0, count = 0, far[4];
	struct pagemap_entry e;
	size_t nread = 99;
	int fd;

	if (access("/proc/kpageflags", R_OK) != 0 || access("/proc/kpagecount", R_OK) != 0) {
		unit_skip("no readable /proc/kpageflags and /proc/kpagecount (needs root)");
		return;
	}
	if (!CHECK("mmap", area_map(&a, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)))
		return;
	a.start[0] = 1;
	if (CHECK_UINT("one entry", 1, area_entries(&a, &entry))) {
		pagemap_decode(entry, &e);
		if (e.pfn == 0) {
			unit_skip("pagemap shows no page frame numbers (no CAP_SYS_ADMIN)");
		} else if (CHECK("the page's frame", frame_info(e.pfn, &flags, &count))) {
			CHECK("anon flag", (flags >> 12) & 1);
			CHECK("mmap flag", (flags >> 11) & 1);
			CHECK("not slab, not buddy", !((flags >> 7) & 1) && !((flags >> 10) & 1));
			CHECK_UINT("mapped once: kpagecount 1", 1, count);
		}
	}
	area_unmap(&a);
	/* kpageflags ends at the last page frame: records past it are not there. */
	fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (CHECK("open kpageflags", fd >= 0)) {
		CHECK_INT("past the last frame", 0, records_read(fd, UINT64_C(1) << 50, far, 4, &nread));
		CHECK_UINT("none read", 0, nread);
		close(fd);
	}
}

/* Linux version as major * 1000 + minor, from uname. */
static int kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

static void test_live_guard_region(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct area a;
	uint64_t entries[3];
	struct pagemap_entry e;

	if (!CHECK("mmap", area_map(&a, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)))
		return;
	/* MADV_GUARD_INSTALL is 102 (Linux 6.13); pagemap reports guard regions since 6.15. */
	if (madvise(a.start + page, (size_t)page, 102) != 0) {
		area_unmap(&a);
		unit_skip("madvise(MADV_GUARD_INSTALL) refused (kernel before 6.13)");
		return;
	}
	if (kernel_version() < 6015) {
		area_unmap(&a);
		unit_skip("pagemap has no guard bit before Linux 6.15");
		return;
	}
	if (CHECK_UINT("3 entries", 3, area_entries(&a, entries))) {
		pagemap_decode(entries[1], &e);
		CHECK_INT("the guard page's guard bit", 1, e.guard);
		CHECK_INT("not present", 0, e.present);
		pagemap_decode(entries[0], &e);
		CHECK_INT("its neighbour is no guard", 0, e.guard);
	}
	area_unmap(&a);
}

static void test_live_soft_dirty(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct area a;
	uint64_t entries[2];
	struct pagemap_entry e0, e1;
	int fd;

	if (!CHECK("mmap", area_map(&a, 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1)))
		return;
	a.start[0] = 1;
	a.start[page] = 1;
	/* A new page is soft-dirty when the kernel tracks it at all (CONFIG_MEM_SOFT_DIRTY). */
	if (!CHECK_UINT("2 entries", 2, area_entries(&a, entries)))
		goto out;
	pagemap_decode(entries[0], &e0);
	if (!e0.soft_dirty) {
		unit_skip("new pages are not soft-dirty (kernel without CONFIG_MEM_SOFT_DIRTY)");
		goto out;
	}
	/* Writing 4 to clear_refs clears the bits; then only the page written again has it. */
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	if (!CHECK("clear_refs", fd >= 0 && write(fd, "4", 1) == 1)) {
		if (fd >= 0)
			close(fd);
		goto out;
	}
	close(fd);
	a.start[page] = 2;
	if (CHECK_UINT("2 entries", 2, area_entries(&a, entries))) {
		pagemap_decode(entries[0], &e0);
		pagemap_decode(entries[1], &e1);
		CHECK_INT("page 0 not written since: clean", 0, e0.soft_dirty);
		CHECK_INT("page 1 written since: soft-dirty", 1, e1.soft_dirty);
	}
out:
	area_unmap(&a);
}

int main(void)
{
	UNIT_RUN(test_decode_present_anon, "decode: a present anonymous page, pfn and exclusive");
	UNIT_RUN(test_decode_shared_and_flags, "decode: file-or-shared, soft-dirty, uffd-wp, the largest pfn, bits 59-60");
	UNIT_RUN(test_decode_swapped_and_guard, "decode: swap type and offset; a guard region in swap format");
	UNIT_RUN(test_count, "count: each bit over an array, added batch by batch");
	UNIT_RUN(test_count_empty_blocks, "count: blocks of eight empty entries skipped, entries beside them and a short tail counted");
	UNIT_RUN(test_count_against_decode, "count over a million random entries equals decoding each");
	UNIT_RUN(test_kpageflags_names, "kpageflags names at the bits of linux/kernel-page-flags.h, none past 26");
	UNIT_RUN(test_kpageflags_count, "kpageflags_count: per-bit counts, added to");
	UNIT_RUN(test_live_anonymous, "live: present and exclusive equal the anonymous pages touched");
	UNIT_RUN(test_live_shared_and_file, "live: shared anonymous and file pages are file_or_shared");
	UNIT_RUN(test_live_kpageflags_of_own_pages, "live: a touched page's frame is anon, mmap, mapped once; kpageflags ends");
	UNIT_RUN(test_live_guard_region, "live: a MADV_GUARD_INSTALL page has the guard bit");
	UNIT_RUN(test_live_soft_dirty, "live: after clear_refs 4, only the page written again is soft-dirty");
	return unit_end();
}
