/* Benchmark floor for proc.pagemap: a process's pagemap ranges read with pread (and walked with PAGEMAP_SCAN) doing nothing; and a sparse workload. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/*
 * usage: pagemap_floor sparse
 *          maps 16 GiB of anonymous memory (MAP_NORESERVE, MADV_NOHUGEPAGE) and writes 1 GiB of it, as 16
 *          runs of 64 MiB spread evenly; prints "PID ready START END" and waits for a signal.
 *        pagemap_floor [-r ROUNDS] PID [START END]
 *          the floor of counting the pages of every mapping of PID (or of [START, END), hex): for each
 *          round, the same ranges read from /proc/PID/pagemap with pread into one 64 KiB buffer, per
 *          mapping, doing nothing with them; and walked with PAGEMAP_SCAN (Linux 6.7+) asking for
 *          present or swapped pages, doing nothing with the regions; and, not part of the floor but
 *          paid by anything that counts per mapping, /proc/PID/maps read with read(2) (when no range is
 *          given). For comparison, the ranges are also read with fewer preads, batched as memscript's
 *          "read" batches them (see pread_batched). Prints the medians over the rounds:
 *            ranges N  entries N  pread_ms X  batched_ms B  scan_ms Y  maps_ms Z
 *          (Y, Z "-" without PAGEMAP_SCAN, with a range)
 */

#define BATCH 8192 /* entries per pread, as memscript reads */
#define VECTOR 4096 /* regions per PAGEMAP_SCAN call, as memscript asks */
#define KERNEL_HALF (UINT64_C(1) << 63)

struct region {
	uint64_t start, end, categories;
};
struct scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
		category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN_IOCTL _IOWR('f', 16, struct scan_arg)
#define PAGE_IS_PRESENT (1 << 3)
#define PAGE_IS_SWAPPED (1 << 4)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int sparse(void)
{
	size_t gib = (size_t)1 << 30, size = 16 * gib, run = 64 << 20;
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("pagemap_floor: mmap");
		return 2;
	}
	madvise(p, size, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < 16; i++)
		memset(p + i * (size / 16), 1, run);
	printf("%ld ready %" PRIxPTR " %" PRIxPTR "\n", (long)getpid(), (uintptr_t)p, (uintptr_t)(p + size));
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * Reads the pagemap entries of ranges[0..n) as memscript's read does (src/source/pages.c): a batch
 * of up to BATCH entries from the first range not read yet takes every range that starts inside it,
 * with the entries between them, up to the end of the last of them or of the batch. Returns 0, or
 * -1 after a short read.
 */
static int pread_batched(int fd, uint64_t (*ranges)[2], size_t n, uint64_t page, uint64_t *buffer)
{
	size_t i = 0, j;
	uint64_t next = 0;

	while (i < n) {
		uint64_t first = ranges[i][0] / page, window_end, stop;
		if (first < next)
			first = next;
		window_end = first + BATCH;
		for (j = i; j + 1 < n && ranges[j + 1][0] / page < window_end; j++)
			;
		stop = ranges[j][1] / page < window_end ? ranges[j][1] / page : window_end;
		if (pread(fd, buffer, (size_t)(stop - first) * 8, (off_t)(first * 8)) != (ssize_t)((stop - first) * 8))
			return -1;
		next = stop;
		i = ranges[j][1] / page > stop ? j : j + 1;
	}
	return 0;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), compare_doubles);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	int rounds = 11, argi = 1;
	uint64_t (*ranges)[2] = NULL;
	size_t n = 0, cap = 0, entries = 0;
	long page = sysconf(_SC_PAGESIZE);
	char path[64];

	if (argc >= 2 && strcmp(argv[1], "sparse") == 0)
		return sparse();
	if (argc >= 3 && strcmp(argv[1], "-r") == 0) {
		rounds = atoi(argv[2]);
		argi = 3;
	}
	if (argi >= argc || rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: pagemap_floor sparse | pagemap_floor [-r ROUNDS] PID [START END]\n");
		return 2;
	}
	if (argi + 2 < argc) {
		ranges = malloc(sizeof(*ranges));
		ranges[0][0] = strtoull(argv[argi + 1], NULL, 16);
		ranges[0][1] = strtoull(argv[argi + 2], NULL, 16);
		n = 1;
	} else {
		char line[8192];
		snprintf(path, sizeof(path), "/proc/%s/maps", argv[argi]);
		FILE *maps = fopen(path, "r");
		if (maps == NULL) {
			perror(path);
			return 2;
		}
		while (fgets(line, sizeof(line), maps)) {
			uint64_t start, end;
			if (sscanf(line, "%" SCNx64 "-%" SCNx64, &start, &end) != 2 || start >= KERNEL_HALF)
				continue;
			if (n == cap) {
				cap = cap ? 2 * cap : 1024;
				ranges = realloc(ranges, cap * sizeof(*ranges));
			}
			ranges[n][0] = start;
			ranges[n][1] = end;
			n++;
		}
		fclose(maps);
	}
	for (size_t i = 0; i < n; i++)
		entries += (ranges[i][1] - ranges[i][0]) / (uint64_t)page;

	snprintf(path, sizeof(path), "/proc/%s/pagemap", argv[argi]);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return 2;
	}
	uint64_t *buffer = malloc(BATCH * sizeof(uint64_t));
	struct region *vector = malloc(VECTOR * sizeof(struct region));
	double *pread_s = calloc((size_t)rounds, sizeof(double)), *scan_s = calloc((size_t)rounds, sizeof(double));
	double *maps_s = calloc((size_t)rounds, sizeof(double)), *batched_s = calloc((size_t)rounds, sizeof(double));
	int scan_ok = 1, whole = argi + 2 >= argc;
	char maps_path[64];
	snprintf(maps_path, sizeof(maps_path), "/proc/%s/maps", argv[argi]);
	for (int r = 0; r < rounds; r++) {
		double t0 = now();
		if (whole) {
			int maps_fd = open(maps_path, O_RDONLY | O_CLOEXEC);
			ssize_t got;
			if (maps_fd < 0) {
				perror(maps_path);
				return 2;
			}
			while ((got = read(maps_fd, buffer, BATCH * sizeof(uint64_t))) > 0)
				;
			close(maps_fd);
			maps_s[r] = now() - t0;
		}
		t0 = now();
		for (size_t i = 0; i < n; i++) {
			uint64_t first = ranges[i][0] / (uint64_t)page, last = ranges[i][1] / (uint64_t)page;
			while (first < last) {
				size_t want = last - first < BATCH ? (size_t)(last - first) : BATCH;
				if (pread(fd, buffer, want * 8, (off_t)(first * 8)) != (ssize_t)(want * 8)) {
					fprintf(stderr, "pagemap_floor: %s: short read\n", path);
					return 2;
				}
				first += want;
			}
		}
		pread_s[r] = now() - t0;
		t0 = now();
		if (pread_batched(fd, ranges, n, (uint64_t)page, buffer) != 0) {
			fprintf(stderr, "pagemap_floor: %s: short read\n", path);
			return 2;
		}
		batched_s[r] = now() - t0;
		if (!scan_ok)
			continue;
		t0 = now();
		struct scan_arg arg;
		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = ranges[0][0];
		arg.end = ranges[n - 1][1];
		arg.vec = (uint64_t)(uintptr_t)vector;
		arg.vec_len = VECTOR;
		arg.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
		arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
		for (;;) {
			if (ioctl(fd, PAGEMAP_SCAN_IOCTL, &arg) < 0) {
				scan_ok = 0;
				break;
			}
			if (arg.walk_end >= arg.end)
				break;
			arg.start = arg.walk_end;
		}
		scan_s[r] = now() - t0;
	}
	printf("ranges %zu  entries %zu  pread_ms %.3f  batched_ms %.3f  ", n, entries, median(pread_s, rounds) * 1e3,
	       median(batched_s, rounds) * 1e3);
	if (scan_ok)
		printf("scan_ms %.3f  ", median(scan_s, rounds) * 1e3);
	else
		printf("scan_ms -  ");
	if (whole)
		printf("maps_ms %.3f\n", median(maps_s, rounds) * 1e3);
	else
		printf("maps_ms -\n");
	return 0;
}
