/* pages.h: a process's pages counted from /proc/PID/pagemap, and its present pages looked up in /proc/kpage* and the page_idle bitmap. */
#ifndef MEMSCRIPT_PAGES_H
#define MEMSCRIPT_PAGES_H

#include <stddef.h>
#include <stdint.h>

#include "core/kpage_account.h"
#include "core/pagemap_scan.h"

/*
 * Addresses from 2^63 up are the kernel's half: pagemap has no entries there ([vsyscall] on x86-64
 * lies there) and PAGEMAP_SCAN refuses them. Such a range is not read: it is marked uncovered.
 */
#define PAGES_KERNEL_HALF (UINT64_C(1) << 63)

/* The memory cgroups of one range's present pages: cgroup inode numbers and pages, in order met. */
struct pages_cgroups {
	uint64_t *inode;
	uint64_t *pages;
	size_t n, cap;
};

/* Which file a failed count was reading, for the caller's message. */
enum pages_file {
	PAGES_FILE_PAGEMAP,
	PAGES_FILE_KPAGEFLAGS,
	PAGES_FILE_KPAGECOUNT,
	PAGES_FILE_KPAGECGROUP,
	PAGES_FILE_IDLE,
};

/*
 * One count. The caller fills the inputs; the counts go into ranges[i].counts, which the caller
 * zeroes, and the arrays it gives. Every descriptor but pagemap_fd may be -1: not read.
 */
struct pages_request {
	int pagemap_fd;                  /* /proc/PID/pagemap, open */
	unsigned page_shift;             /* log2 of the page size */
	struct pagemap_range *ranges;    /* ascending, not overlapping, page-aligned */
	size_t nranges;
	unsigned char *uncovered;        /* per range: set to 1 when pagemap has no entries for it */

	/* The present pages looked up by page frame number (read method only). */
	int kpageflags_fd, kpagecount_fd; /* both or neither */
	int kpagecgroup_fd;
	int idle_fd;                     /* /sys/kernel/mm/page_idle/bitmap */
	enum kpage_filter filter;        /* which present pages the lookups count */
	struct kpage_totals *totals;     /* per range, with kpageflags_fd */
	struct pages_cgroups *cgroups;   /* per range, with kpagecgroup_fd */
	uint64_t *idle;                  /* per range, with idle_fd: present pages whose idle bit is set */

	/* Out: the file that failed, when a count returns an error. */
	enum pages_file failed;
};

/*
 * Whether the kernel answers PAGEMAP_SCAN on pagemap_fd (Linux 6.7+), and with which categories:
 * returns the return mask this module asks for (PRESENT, SWAPPED, FILE, SOFT_DIRTY, WRITTEN, and
 * GUARD from Linux 6.15), or 0 when the ioctl is not there. Asked once per run.
 */
uint64_t pages_scan_mask(int pagemap_fd);

/*
 * Counts the ranges by reading pagemap with pread, in batches of RECORDS_BATCH entries aligned on
 * the entries read: ranges less than a batch apart are read in one read (the entries between them
 * are read and not counted), a range longer than a batch in several. Every counts field is filled;
 * entries is the range's pages. With the lookups, each batch's present pages are sorted by page
 * frame and looked up in windows of neighbouring frames.
 * Returns 0 or an errno value: ESRCH when the process's memory went away while it was read (it
 * ended, or ran another program: the kernel then gives no more entries, which must not be read as
 * pages that are not there), EPERM when the lookups were asked for and pagemap hides page frame
 * numbers (the opener lacks CAP_SYS_ADMIN), EIO when a kpage file ends before a frame it was asked
 * for, or the error of a read; ENOMEM.
 */
int pages_count_read(struct pages_request *req);

/*
 * Counts the ranges with PAGEMAP_SCAN (pages_scan_mask nonzero): present, swapped,
 * swapped_not_guard, soft_dirty, file_or_shared, uffd_wp and (with GUARD in the mask) guard;
 * exclusive is not counted. No lookups. Returns 0 or an errno value as pages_count_read does
 * (ENOTTY where the kernel has no PAGEMAP_SCAN).
 */
int pages_count_scan(struct pages_request *req, uint64_t return_mask);

/*
 * Marks the present pages of the ranges idle in the page_idle bitmap (req->idle_fd, open for
 * writing): their page frame numbers read from pagemap, each bitmap word written with the bits of
 * those frames set (a bit written as 0 leaves its page as it was). Sets *marked to the pages
 * marked. Returns 0 or an errno value as pages_count_read does.
 */
int pages_mark_idle(struct pages_request *req, uint64_t *marked);

/* Frees what a count put in cgroups[0..n). */
void pages_cgroups_free(struct pages_cgroups *cgroups, size_t n);

#endif
