/* test_pages.c: counting pages from pagemap by both methods, lookups by frame, the page_idle bitmap's format, a process gone before its pagemap is read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "source/pages.h"
#include "source/records.h"
#include "unit.h"

static size_t page;
static unsigned shift;

/* A mapping of pages with an inaccessible page on each side, so it merges with nothing. */
static unsigned char *map_fenced(size_t pages)
{
	unsigned char *p = mmap(NULL, (pages + 2) * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	p = mmap(p + page, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * page, MADV_NOHUGEPAGE);
	return p;
}

static void request_init(struct pages_request *req, int fd, struct pagemap_range *ranges, size_t n,
			 unsigned char *uncovered)
{
	memset(req, 0, sizeof(*req));
	req->pagemap_fd = fd;
	req->page_shift = shift;
	req->ranges = ranges;
	req->nranges = n;
	req->uncovered = uncovered;
	req->kpageflags_fd = req->kpagecount_fd = req->kpagecgroup_fd = req->idle_fd = -1;
}

static void set_range(struct pagemap_range *r, const void *start, size_t pages)
{
	memset(r, 0, sizeof(*r));
	r->start = (uintptr_t)start;
	r->end = (uintptr_t)start + pages * page;
}

/* Three adjacent mappings of 20000 pages (a read of RECORDS_BATCH entries ends in the second). */
static void test_read_and_scan_across_batches(void)
{
	size_t a = 3000, b = 12000, c = 5000, i;
	unsigned char *p = map_fenced(a + b + c);
	struct pagemap_range ranges[3];
	unsigned char uncovered[3] = {0, 0, 0};
	struct pages_request req;
	uint64_t mask;
	int fd, method;

	if (!CHECK("mapped", p != NULL))
		return;
	for (i = 0; i < a + b + c; i += 3)
		p[i * page] = 1;
	mprotect(p + a * page, b * page, PROT_READ);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!CHECK("open pagemap", fd >= 0))
		return;
	mask = pages_scan_mask(fd);
	for (method = 0; method < 2; method++) {
		if (method == 1 && mask == 0) {
			unit_skip("no PAGEMAP_SCAN (Linux 6.7+): the scan is not counted");
			break;
		}
		set_range(&ranges[0], p, a);
		set_range(&ranges[1], p + a * page, b);
		set_range(&ranges[2], p + (a + b) * page, c);
		request_init(&req, fd, ranges, 3, uncovered);
		CHECK_INT(method ? "scanned" : "read", 0, method ? pages_count_scan(&req, mask) : pages_count_read(&req));
		/* Pages 0, 3, 6, ...: 1000 in a; from 3000 to 14999, 4000; from 15000, 1667. */
		CHECK_UINT("a: present", 1000, ranges[0].counts.present);
		CHECK_UINT("b: present", 4000, ranges[1].counts.present);
		CHECK_UINT("c: present", 1667, ranges[2].counts.present);
		CHECK_UINT("a: entries", a, ranges[0].counts.entries);
		CHECK_UINT("c: entries", c, ranges[2].counts.entries);
		CHECK_UINT("b: private anonymous", 0, ranges[1].counts.file_or_shared);
		if (method == 0)
			CHECK_UINT("b: exclusive (read)", 4000, ranges[1].counts.exclusive);
		else
			CHECK_UINT("b: exclusive not counted (scan)", 0, ranges[1].counts.exclusive);
		CHECK("covered", !uncovered[0] && !uncovered[1] && !uncovered[2]);
	}
	close(fd);
	munmap(p - page, (a + b + c + 2) * page);
}

/* Ranges far apart are read apart; a range in the kernel's half has no entries. */
static void test_gaps_and_the_kernel_half(void)
{
	unsigned char *p = map_fenced(16), *q = map_fenced(16);
	struct pagemap_range ranges[3];
	unsigned char uncovered[3] = {0, 0, 0};
	struct pages_request req;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (!CHECK("mapped", p != NULL && q != NULL && fd >= 0))
		return;
	p[0] = p[15 * page] = 1;
	q[page] = 1;
	/* in address order */
	set_range(&ranges[0], p < q ? p : q, 16);
	set_range(&ranges[1], p < q ? q : p, 16);
	memset(&ranges[2], 0, sizeof(ranges[2]));
	ranges[2].start = UINT64_C(0xffffffffff600000);
	ranges[2].end = ranges[2].start + page;
	request_init(&req, fd, ranges, 3, uncovered);
	CHECK_INT("read", 0, pages_count_read(&req));
	CHECK_UINT("the two present in p", 2, ranges[p < q ? 0 : 1].counts.present);
	CHECK_UINT("the one in q", 1, ranges[p < q ? 1 : 0].counts.present);
	CHECK("the kernel's half: uncovered", uncovered[2] && !uncovered[0] && !uncovered[1]);
	CHECK_UINT("and not counted", 0, ranges[2].counts.present);
	close(fd);
}

/* The child's memory goes away after its pagemap was opened: no zeros, ESRCH. */
static void test_memory_gone(void)
{
	unsigned char *p = map_fenced(64);
	struct pagemap_range range;
	unsigned char uncovered = 0;
	struct pages_request req;
	char path[64];
	pid_t child;
	int fd, ready[2];
	uint64_t mask;

	if (!CHECK("mapped", p != NULL) || !CHECK("pipe", pipe(ready) == 0))
		return;
	child = fork();
	if (child == 0) {
		memset(p, 1, 64 * page);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	{
		char x;
		CHECK("child ready", read(ready[0], &x, 1) == 1);
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)child);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	set_range(&range, p, 64);
	request_init(&req, fd, &range, 1, &uncovered);
	CHECK_INT("read while the child lives", 0, pages_count_read(&req));
	CHECK_UINT("its 64 pages", 64, range.counts.present);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	set_range(&range, p, 64);
	CHECK_INT("read after it ended: ESRCH", ESRCH, pages_count_read(&req));
	mask = pages_scan_mask(fd);
	if (mask != 0) {
		set_range(&range, p, 64);
		CHECK_INT("scanned after it ended: ESRCH", ESRCH, pages_count_scan(&req, mask));
		CHECK_UINT("nothing counted", 0, range.counts.present);
	}
	close(fd);
	close(ready[0]);
	close(ready[1]);
}

/* The page frames of n pages from p, or 0 when hidden (no CAP_SYS_ADMIN). */
static int frames_of(const unsigned char *p, size_t n, uint64_t *pfns)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t nread = 0, i;

	if (fd < 0)
		return 0;
	records_read(fd, (uintptr_t)p >> shift, pfns, n, &nread);
	close(fd);
	for (i = 0; i < nread; i++)
		pfns[i] = (pfns[i] >> 63) ? pfns[i] & ((UINT64_C(1) << 55) - 1) : 0;
	return nread == n && pfns[0] != 0;
}

/*
 * The page_idle bitmap's format, on a file of the same layout (this kernel may have no
 * /sys/kernel/mm/page_idle): marking writes a bit per present page frame, counting reads them.
 */
static void test_idle_bitmap_format(void)
{
	unsigned char *p = map_fenced(32);
	uint64_t pfns[32], marked = 0, word, ones = 0;
	struct pagemap_range range;
	unsigned char uncovered = 0;
	struct pages_request req;
	char path[] = "/tmp/memscript-idle.XXXXXX";
	int fd, bitmap;
	size_t i, nread;
	off_t size;

	if (!CHECK("mapped", p != NULL))
		return;
	for (i = 0; i < 32; i += 2)
		p[i * page] = 1;
	if (!frames_of(p, 32, pfns)) {
		unit_skip("page frame numbers are hidden without CAP_SYS_ADMIN");
		return;
	}
	bitmap = mkstemp(path);
	unlink(path);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (!CHECK("files", bitmap >= 0 && fd >= 0))
		return;
	set_range(&range, p, 32);
	request_init(&req, fd, &range, 1, &uncovered);
	req.idle_fd = bitmap;
	CHECK_INT("marked", 0, pages_mark_idle(&req, &marked));
	CHECK_UINT("the 16 present pages", 16, marked);
	/* Every present page's bit is set in word pfn / 64, and no other bit anywhere. */
	for (i = 0; i < 32; i += 2) {
		CHECK_INT("its word", 0, records_read(bitmap, pfns[i] / 64, &word, 1, &nread));
		CHECK("its bit set", (word >> (pfns[i] % 64)) & 1);
	}
	size = lseek(bitmap, 0, SEEK_END);
	for (i = 0; i < (size_t)size / 8; i++) {
		records_read(bitmap, i, &word, 1, &nread);
		ones += (uint64_t)__builtin_popcountll(word);
	}
	CHECK_UINT("16 bits in the whole file", 16, ones);
	/* Counting reads them back; a page whose bit is clear is not idle. */
	{
		uint64_t idle = 0;
		set_range(&range, p, 32);
		req.idle = &idle;
		CHECK_INT("counted", 0, pages_count_read(&req));
		CHECK_UINT("all 16 idle", 16, idle);
		records_read(bitmap, pfns[4] / 64, &word, 1, &nread);
		word &= ~(UINT64_C(1) << (pfns[4] % 64));
		CHECK_INT("a bit cleared", 0, records_write(bitmap, pfns[4] / 64, &word, 1));
		idle = 0;
		set_range(&range, p, 32);
		CHECK_INT("counted again", 0, pages_count_read(&req));
		CHECK_UINT("15 idle", 15, idle);
	}
	close(bitmap);
	close(fd);
}

/* kpageflags and kpagecount for this process's own pages (root). */
static void test_kpage_lookups(void)
{
	unsigned char *p = map_fenced(32);
	struct pagemap_range range;
	unsigned char uncovered = 0;
	struct pages_request req;
	struct kpage_totals totals;
	uint64_t pfns[32];
	int fd;

	if (!CHECK("mapped", p != NULL))
		return;
	memset(p, 1, 20 * page);
	if (!frames_of(p, 32, pfns)) {
		unit_skip("page frame numbers are hidden without CAP_SYS_ADMIN");
		return;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	request_init(&req, fd, &range, 1, &uncovered);
	req.kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	req.kpagecount_fd = open("/proc/kpagecount", O_RDONLY | O_CLOEXEC);
	if (!CHECK("kpage files", req.kpageflags_fd >= 0 && req.kpagecount_fd >= 0))
		return;
	memset(&totals, 0, sizeof(totals));
	req.totals = &totals;
	set_range(&range, p, 32);
	CHECK_INT("counted", 0, pages_count_read(&req));
	CHECK_UINT("present", 20, range.counts.present);
	CHECK_UINT("looked up", 20, totals.pages);
	CHECK_UINT("anonymous", 20, totals.flagged[KPAGE_ANON]);
	CHECK_UINT("mapped once", 20, totals.unique);
	CHECK_UINT("pss", 20 * page, totals.pss_fixed >> KPAGE_PSS_SHIFT);
	req.filter = KPAGE_ONLY_CACHE;
	memset(&totals, 0, sizeof(totals));
	set_range(&range, p, 32);
	CHECK_INT("counted, page cache only", 0, pages_count_read(&req));
	CHECK_UINT("no page cache here", 0, totals.pages);
	close(req.kpageflags_fd);
	close(req.kpagecount_fd);
	close(fd);
}

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	shift = (unsigned)__builtin_ctzl(page);
	UNIT_RUN(test_read_and_scan_across_batches, "read and scan: three mappings over 20000 pages, counted exactly");
	UNIT_RUN(test_gaps_and_the_kernel_half, "ranges far apart; a range in the kernel's half is uncovered");
	UNIT_RUN(test_memory_gone, "a process ended after its pagemap was opened: ESRCH, by both methods");
	UNIT_RUN(test_idle_bitmap_format, "page_idle: a bit per present frame written, and read back");
	UNIT_RUN(test_kpage_lookups, "kpageflags and kpagecount of this process's pages, and the page cache filter");
	return unit_end();
}
