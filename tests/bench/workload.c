/* Benchmark workload: a process with tens of thousands of distinct mappings, which then waits to be read. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Layout. Two regions, each reserved as one anonymous mapping and then carved into runs of 1 to 4 pages:
 *   - anonymous region: consecutive runs cycle through rw-, r--, rw-, --- so no two neighbours share
 *     protections and the kernel cannot merge them (a guard-page-like mix, as in threaded programs);
 *     the first page of every fourth rw- run is written (Rss > 0, Private_Dirty > 0), and so is the
 *     first page of each r-- run before it is made read-only.
 *   - file region: private read-only mappings of FILE_COUNT real files in turn, at descending page
 *     offsets, so no run continues its neighbour's file range and they cannot merge; every third run is
 *     read (page cache pages mapped: Rss > 0, Shared_Clean or Private_Clean > 0).
 * One mapping in FILE_EVERY is file-backed, the rest anonymous.
 */
enum { FILE_EVERY = 16, FILE_COUNT = 4, FILE_PAGES = 64, MAX_RUN_PAGES = 4 };

static char file_dir[4096];
static char file_paths[FILE_COUNT][4200];

/* Async-signal-safe cleanup of the backing files; run on SIGTERM/SIGINT/SIGHUP and at normal exit. */
static void remove_files(void)
{
	for (int i = 0; i < FILE_COUNT; i++)
		if (file_paths[i][0] != '\0')
			unlink(file_paths[i]);
	if (file_dir[0] != '\0')
		rmdir(file_dir);
}

static void on_signal(int signo)
{
	remove_files();
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Deterministic run lengths: the same layout on every run and every machine with the same page size. */
static uint32_t lcg_state = 12345u;

static size_t next_run_pages(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return 1 + (lcg_state >> 16) % MAX_RUN_PAGES;
}

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	remove_files();
	exit(1);
}

static int make_file(int index, long page_size)
{
	snprintf(file_paths[index], sizeof file_paths[index], "%s/mapped-%d.dat", file_dir, index);
	int fd = open(file_paths[index], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		die(file_paths[index]);
	char *page = malloc((size_t)page_size);
	if (page == NULL)
		die("malloc");
	for (int p = 0; p < FILE_PAGES; p++) {
		memset(page, 'a' + (p + index) % 26, (size_t)page_size);
		if (write(fd, page, (size_t)page_size) != page_size)
			die(file_paths[index]);
	}
	free(page);
	return fd;
}

static char *reserve(size_t bytes)
{
	void *base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		die("mmap reserve");
	return base;
}

static long count_maps_lines(void)
{
	FILE *maps = fopen("/proc/self/maps", "r");
	if (maps == NULL)
		return -1;
	long lines = 0;
	int c;
	while ((c = getc(maps)) != EOF)
		lines += c == '\n';
	fclose(maps);
	return lines;
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: workload [-n MAPPINGS] [-d DIR]\n"
	        "  -n  mappings to create (default 60000; the process adds its own few dozen)\n"
	        "  -d  directory for the mapped files (default $TMPDIR or /tmp)\n"
	        "Prints \"PID ready LINES\" (LINES = lines of /proc/PID/maps) and waits for SIGTERM.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long wanted = 60000;
	const char *dir = getenv("TMPDIR");
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	int opt;
	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		if (opt == 'n')
			wanted = strtol(optarg, NULL, 10);
		else if (opt == 'd')
			dir = optarg;
		else
			usage();
	}
	if (wanted < FILE_EVERY || optind != argc)
		usage();

	const long page_size = sysconf(_SC_PAGESIZE);
	snprintf(file_dir, sizeof file_dir, "%s/memscript-bench-XXXXXX", dir);
	if (mkdtemp(file_dir) == NULL) {
		file_dir[0] = '\0';
		die("mkdtemp");
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	atexit(remove_files);

	int fds[FILE_COUNT];
	for (int i = 0; i < FILE_COUNT; i++)
		fds[i] = make_file(i, page_size);

	const long file_runs = wanted / FILE_EVERY;
	const long anon_runs = wanted - file_runs;
	const size_t run_bytes_max = (size_t)MAX_RUN_PAGES * (size_t)page_size;

	/* Anonymous region. Runs are laid out first, then protections changed, so each mprotect splits. */
	char *anon = reserve((size_t)anon_runs * run_bytes_max);
	static const int anon_prot[4] = {PROT_READ | PROT_WRITE, PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE};
	char *at = anon;
	for (long r = 0; r < anon_runs; r++) {
		size_t bytes = next_run_pages() * (size_t)page_size;
		int prot = anon_prot[r % 4];
		if (r % 4 == 1 || r % 8 == 0)
			at[0] = (char)r;
		if (prot != (PROT_READ | PROT_WRITE) && mprotect(at, bytes, prot) != 0)
			die("mprotect (is vm.max_map_count large enough?)");
		at += bytes;
	}
	/* The unused tail of the reservation would merge with nothing useful; give it back. */
	size_t anon_used = (size_t)(at - anon);
	if (munmap(at, (size_t)anon_runs * run_bytes_max - anon_used) != 0)
		die("munmap tail");

	/* File region: MAP_FIXED over a reservation so the runs are adjacent and only the offsets differ. */
	char *files = reserve((size_t)file_runs * run_bytes_max);
	at = files;
	long offset_page = FILE_PAGES;
	volatile char sink = 0;
	for (long r = 0; r < file_runs; r++) {
		size_t pages = next_run_pages();
		size_t bytes = pages * (size_t)page_size;
		/* Descending offsets: a run never starts where its left neighbour's file range ends. */
		offset_page -= (long)pages + 1;
		if (offset_page < 0)
			offset_page = FILE_PAGES - (long)pages;
		void *got = mmap(at, bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED, fds[r % FILE_COUNT],
		                 (off_t)offset_page * page_size);
		if (got == MAP_FAILED)
			die("mmap file (is vm.max_map_count large enough?)");
		if (r % 3 == 0)
			sink = (char)(sink + at[0]);
		at += bytes;
	}
	size_t files_used = (size_t)(at - files);
	if (munmap(at, (size_t)file_runs * run_bytes_max - files_used) != 0)
		die("munmap tail");
	for (int i = 0; i < FILE_COUNT; i++)
		close(fds[i]);

	printf("%ld ready %ld\n", (long)getpid(), count_maps_lines());
	fflush(stdout);
	for (;;)
		pause();
}
