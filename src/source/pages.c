/* pages.c: pagemap read in batches or scanned with PAGEMAP_SCAN, present pages looked up by frame in /proc/kpage* and page_idle. */
#include "source/pages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/pagemap_decode.h"
#include "source/records.h"

/* include/uapi/linux/fs.h: _IOWR('f', 16, struct pm_scan_arg). */
#define PAGES_PAGEMAP_SCAN _IOWR('f', 16, struct pagemap_scan_arg)

/* Regions per PAGEMAP_SCAN call: 96 KiB of vector. */
#define SCAN_VECTOR 4096

/*
 * Neighbouring page frames are looked up in one read of each kpage file: a window spans at most
 * this many frames (a read of 4 KiB costs about what a read of one record does).
 */
#define LOOKUP_WINDOW 512

/* ---- PAGEMAP_SCAN ---- */

static const uint64_t scan_mask_full = PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_SWAPPED | PAGEMAP_SCAN_FILE |
				       PAGEMAP_SCAN_SOFT_DIRTY | PAGEMAP_SCAN_WRITTEN | PAGEMAP_SCAN_GUARD;

/* Asks the kernel with an empty range: EINVAL for a category it does not know, ENOTTY for no ioctl. */
static int scan_answers(int fd, uint64_t return_mask)
{
	struct pagemap_scan_arg arg;

	memset(&arg, 0, sizeof(arg));
	arg.size = sizeof(arg);
	arg.category_anyof_mask = PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_SWAPPED;
	arg.return_mask = return_mask;
	return ioctl(fd, PAGES_PAGEMAP_SCAN, &arg) >= 0;
}

uint64_t pages_scan_mask(int pagemap_fd)
{
	static int known;
	static uint64_t mask;

	if (!known) {
		if (scan_answers(pagemap_fd, scan_mask_full))
			mask = scan_mask_full;
		else if (scan_answers(pagemap_fd, scan_mask_full & ~PAGEMAP_SCAN_GUARD))
			mask = scan_mask_full & ~PAGEMAP_SCAN_GUARD; /* before Linux 6.15 */
		else
			mask = 0;
		known = 1;
	}
	return mask;
}

/* ---- liveness ---- */

/*
 * Whether the process's memory is still there: the kernel returns no entry for a process whose
 * address space is gone. Once gone it never comes back, so a process alive after a count was
 * alive while it was counted. page: a page number pagemap has an entry for.
 */
static int memory_alive(int fd, uint64_t page, int *err)
{
	uint64_t entry;
	size_t nread;

	*err = records_read(fd, page, &entry, 1, &nread);
	return *err == 0 && nread == 1;
}

/* The first page of the first range pagemap has entries for; 0 when no range has any. */
static int first_page(const struct pages_request *req, uint64_t *page)
{
	size_t i;

	for (i = 0; i < req->nranges; i++)
		if (req->ranges[i].start < PAGES_KERNEL_HALF) {
			*page = req->ranges[i].start >> req->page_shift;
			return 1;
		}
	return 0;
}

/* 0 when the memory is still there (or nothing was read), else ESRCH or the probe's own error. */
static int still_alive(const struct pages_request *req)
{
	uint64_t page;
	int err;

	if (!first_page(req, &page) || memory_alive(req->pagemap_fd, page, &err))
		return 0;
	return err != 0 ? err : ESRCH;
}

/* ---- lookups by page frame ---- */

struct frame {
	uint64_t pfn;
	size_t range;
};

static int compare_frames(const void *a, const void *b)
{
	uint64_t x = ((const struct frame *)a)->pfn, y = ((const struct frame *)b)->pfn;
	return (x > y) - (x < y);
}

static int cgroup_add(struct pages_cgroups *c, uint64_t inode)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->inode[i] == inode) {
			c->pages[i]++;
			return 0;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 4;
		uint64_t *inodes = realloc(c->inode, cap * sizeof(*inodes)), *pages;
		if (inodes == NULL)
			return ENOMEM;
		c->inode = inodes;
		pages = realloc(c->pages, cap * sizeof(*pages));
		if (pages == NULL)
			return ENOMEM;
		c->pages = pages;
		c->cap = cap;
	}
	c->inode[c->n] = inode;
	c->pages[c->n++] = 1;
	return 0;
}

void pages_cgroups_free(struct pages_cgroups *cgroups, size_t n)
{
	size_t i;

	if (cgroups == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(cgroups[i].inode);
		free(cgroups[i].pages);
		memset(&cgroups[i], 0, sizeof(cgroups[i]));
	}
}

/* Reads count records of a kpage file from record first; a file that ends sooner is EIO. */
static int read_window(int fd, uint64_t first, uint64_t *out, size_t count)
{
	size_t nread;
	int err = records_read(fd, first, out, count, &nread);

	if (err == 0 && nread < count)
		err = EIO;
	return err;
}

/* The buffers of the lookups: a window of each kpage file, and the idle words it spans. */
struct lookup_buffers {
	uint64_t flags[LOOKUP_WINDOW];
	uint64_t counts[LOOKUP_WINDOW];
	uint64_t cgroups[LOOKUP_WINDOW];
	uint64_t idle[LOOKUP_WINDOW / 64 + 2];
};

/* Looks up frames[0..n), sorted by pfn, in the kpage files and the idle bitmap the request opened. */
static int look_up_frames(struct pages_request *req, const struct frame *frames, size_t n, struct lookup_buffers *b)
{
	uint64_t page_size = UINT64_C(1) << req->page_shift;
	size_t a = 0, i;
	int err;

	while (a < n) {
		uint64_t first = frames[a].pfn, span;
		size_t end = a + 1;
		while (end < n && frames[end].pfn - first < LOOKUP_WINDOW)
			end++;
		span = frames[end - 1].pfn - first + 1;
		if (req->kpageflags_fd >= 0) {
			if ((err = read_window(req->kpageflags_fd, first, b->flags, span)) != 0) {
				req->failed = PAGES_FILE_KPAGEFLAGS;
				return err;
			}
			if ((err = read_window(req->kpagecount_fd, first, b->counts, span)) != 0) {
				req->failed = PAGES_FILE_KPAGECOUNT;
				return err;
			}
		}
		if (req->kpagecgroup_fd >= 0 && (err = read_window(req->kpagecgroup_fd, first, b->cgroups, span)) != 0) {
			req->failed = PAGES_FILE_KPAGECGROUP;
			return err;
		}
		if (req->idle_fd >= 0) {
			uint64_t word0 = kpage_idle_word(first);
			if ((err = read_window(req->idle_fd, word0, b->idle,
					       kpage_idle_word(frames[end - 1].pfn) - word0 + 1)) != 0) {
				req->failed = PAGES_FILE_IDLE;
				return err;
			}
		}
		for (i = a; i < end; i++) {
			uint64_t at = frames[i].pfn - first;
			size_t r = frames[i].range;
			if (req->kpageflags_fd >= 0) {
				if (!kpage_kept(b->flags[at], req->filter))
					continue;
				kpage_add(b->flags[at], b->counts[at], page_size, &req->totals[r]);
			}
			if (req->kpagecgroup_fd >= 0 && (err = cgroup_add(&req->cgroups[r], b->cgroups[at])) != 0)
				return err;
			if (req->idle_fd >= 0)
				req->idle[r] += (b->idle[kpage_idle_word(frames[i].pfn) - kpage_idle_word(first)] &
						 kpage_idle_mask(frames[i].pfn)) != 0;
		}
		a = end;
	}
	return 0;
}

/* ---- reading pagemap ---- */

static int wants_frames(const struct pages_request *req)
{
	return req->kpageflags_fd >= 0 || req->kpagecgroup_fd >= 0 || req->idle_fd >= 0;
}

/* What a batch's present pages are used for: looked up, or marked idle. */
enum frame_use { FRAMES_NONE, FRAMES_LOOK_UP, FRAMES_MARK_IDLE };

struct reader {
	uint64_t *entries;   /* RECORDS_BATCH */
	struct frame *frames; /* RECORDS_BATCH, with a frame use */
	struct lookup_buffers *lookup;
	uint64_t *words;     /* LOOKUP_WINDOW / 64 + 2, for marking */
	uint64_t marked;
};

/* Adds the present pages of entries[0..n) in range r to the batch's frames. */
static int gather_frames(const uint64_t *entries, size_t n, size_t r, struct frame *frames, size_t *nframes)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(entries[i] >> PAGEMAP_PRESENT))
			continue;
		/* Frame 0 is never a process's page: the kernel hid the frame numbers. */
		if ((entries[i] & PAGEMAP_PFN_MASK) == 0)
			return EPERM;
		frames[*nframes].pfn = entries[i] & PAGEMAP_PFN_MASK;
		frames[*nframes].range = r;
		(*nframes)++;
	}
	return 0;
}

/* Marks frames[0..n), sorted, idle: one write of the words each window of frames spans. */
static int mark_frames(struct pages_request *req, const struct frame *frames, size_t n, struct reader *rd)
{
	size_t a = 0, i;
	int err;

	while (a < n) {
		uint64_t word0 = kpage_idle_word(frames[a].pfn), nwords;
		size_t end = a;
		while (end < n && kpage_idle_word(frames[end].pfn) - word0 < LOOKUP_WINDOW / 64)
			end++;
		nwords = kpage_idle_word(frames[end - 1].pfn) - word0 + 1;
		memset(rd->words, 0, nwords * sizeof(uint64_t));
		for (i = a; i < end; i++)
			rd->words[kpage_idle_word(frames[i].pfn) - word0] |= kpage_idle_mask(frames[i].pfn);
		if ((err = records_write(req->idle_fd, word0, rd->words, nwords)) != 0) {
			req->failed = PAGES_FILE_IDLE;
			return err;
		}
		rd->marked += end - a;
		a = end;
	}
	return 0;
}

/* The ranges in [i, j] from page `from`: the slice of a batch read from page `first` each is in. */
static int count_batch(struct pages_request *req, struct reader *rd, enum frame_use use, uint64_t first,
		       uint64_t stop, size_t i, size_t j)
{
	unsigned shift = req->page_shift;
	size_t r, nframes = 0;
	int err;

	for (r = i; r <= j; r++) {
		uint64_t from = req->ranges[r].start >> shift, to = req->ranges[r].end >> shift;
		if (from < first)
			from = first;
		if (to > stop)
			to = stop;
		if (to <= from)
			continue;
		pagemap_count(rd->entries + (from - first), (size_t)(to - from), &req->ranges[r].counts);
		if (use != FRAMES_NONE &&
		    (err = gather_frames(rd->entries + (from - first), (size_t)(to - from), r, rd->frames, &nframes)) != 0)
			return err;
	}
	if (nframes == 0)
		return 0;
	qsort(rd->frames, nframes, sizeof(rd->frames[0]), compare_frames);
	if (use == FRAMES_LOOK_UP)
		return look_up_frames(req, rd->frames, nframes, rd->lookup);
	return mark_frames(req, rd->frames, nframes, rd);
}

static int read_ranges(struct pages_request *req, struct reader *rd, enum frame_use use)
{
	unsigned shift = req->page_shift;
	size_t i = 0, n = req->nranges;
	uint64_t next = 0; /* the first page not read yet */
	int err;

	req->failed = PAGES_FILE_PAGEMAP;
	while (i < n) {
		uint64_t first, stop, window_end;
		size_t j, nread;

		if (req->ranges[i].start >= PAGES_KERNEL_HALF) {
			req->uncovered[i++] = 1;
			continue;
		}
		first = req->ranges[i].start >> shift;
		if (first < next)
			first = next;
		window_end = first + RECORDS_BATCH;
		/* The batch takes the ranges that start inside it, as far as it reaches. */
		j = i;
		while (j + 1 < n && req->ranges[j + 1].start < PAGES_KERNEL_HALF &&
		       (req->ranges[j + 1].start >> shift) < window_end)
			j++;
		stop = req->ranges[j].end >> shift;
		if (stop > window_end)
			stop = window_end;
		err = records_read(req->pagemap_fd, first, rd->entries, (size_t)(stop - first), &nread);
		if (err != 0)
			return err;
		if (nread < stop - first) {
			/* No more entries: the memory went away, or these addresses lie past the process's. */
			if ((err = still_alive(req)) != 0)
				return err;
			for (; i <= j; i++)
				if ((req->ranges[i].end >> shift) > first + nread)
					req->uncovered[i] = 1;
			next = stop;
			continue;
		}
		if ((err = count_batch(req, rd, use, first, stop, i, j)) != 0)
			return err;
		next = stop;
		i = (req->ranges[j].end >> shift) > stop ? j : j + 1;
	}
	req->failed = PAGES_FILE_PAGEMAP;
	return still_alive(req);
}

static void set_entries(struct pages_request *req)
{
	size_t r;

	for (r = 0; r < req->nranges; r++)
		req->ranges[r].counts.entries = (req->ranges[r].end - req->ranges[r].start) >> req->page_shift;
}

/* Runs read_ranges with the buffers a frame use needs. */
static int read_with(struct pages_request *req, enum frame_use use, uint64_t *marked)
{
	struct reader rd;
	int err = ENOMEM;

	memset(&rd, 0, sizeof(rd));
	rd.entries = malloc(RECORDS_BATCH * sizeof(uint64_t));
	if (use != FRAMES_NONE)
		rd.frames = malloc(RECORDS_BATCH * sizeof(struct frame));
	if (use == FRAMES_LOOK_UP)
		rd.lookup = malloc(sizeof(*rd.lookup));
	if (use == FRAMES_MARK_IDLE)
		rd.words = malloc((LOOKUP_WINDOW / 64 + 2) * sizeof(uint64_t));
	if (rd.entries != NULL && (use == FRAMES_NONE || rd.frames != NULL) &&
	    (use != FRAMES_LOOK_UP || rd.lookup != NULL) && (use != FRAMES_MARK_IDLE || rd.words != NULL))
		err = read_ranges(req, &rd, use);
	if (marked != NULL)
		*marked = rd.marked;
	free(rd.entries);
	free(rd.frames);
	free(rd.lookup);
	free(rd.words);
	return err;
}

int pages_count_read(struct pages_request *req)
{
	int err = read_with(req, wants_frames(req) ? FRAMES_LOOK_UP : FRAMES_NONE, NULL);

	if (err == 0)
		set_entries(req);
	return err;
}

int pages_mark_idle(struct pages_request *req, uint64_t *marked)
{
	*marked = 0;
	return read_with(req, FRAMES_MARK_IDLE, marked);
}

/* ---- scanning ---- */

int pages_count_scan(struct pages_request *req, uint64_t return_mask)
{
	struct pagemap_scan_arg arg;
	struct pagemap_scan_cursor cursor;
	struct pagemap_region *vector;
	uint64_t low = 0, high = 0;
	size_t r;
	int err = 0;

	req->failed = PAGES_FILE_PAGEMAP;
	for (r = 0; r < req->nranges; r++) {
		if (req->ranges[r].start >= PAGES_KERNEL_HALF) {
			req->uncovered[r] = 1;
			continue;
		}
		if (high == 0)
			low = req->ranges[r].start;
		high = req->ranges[r].end < PAGES_KERNEL_HALF ? req->ranges[r].end : PAGES_KERNEL_HALF;
	}
	set_entries(req);
	if (high == 0)
		return 0;
	vector = malloc(SCAN_VECTOR * sizeof(*vector));
	if (vector == NULL)
		return ENOMEM;
	memset(&arg, 0, sizeof(arg));
	memset(&cursor, 0, sizeof(cursor));
	arg.size = sizeof(arg);
	arg.start = low;
	arg.end = high;
	arg.vec = (uint64_t)(uintptr_t)vector;
	arg.vec_len = SCAN_VECTOR;
	arg.category_anyof_mask = PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_SWAPPED;
	arg.return_mask = return_mask;
	for (;;) {
		uint64_t started = arg.start;
		long n = ioctl(req->pagemap_fd, PAGES_PAGEMAP_SCAN, &arg);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		pagemap_scan_add(vector, (size_t)n, req->ranges, req->nranges, req->page_shift, &cursor);
		if (arg.walk_end >= high)
			break;
		if (arg.walk_end <= started) {
			err = EIO; /* no progress: never loop on it */
			break;
		}
		arg.start = arg.walk_end;
	}
	free(vector);
	return err != 0 ? err : still_alive(req);
}
