/* Benchmark workload: processes with many distinct mappings of three shapes, which then wait to be read. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Shapes (-s):
 *   anon   15/16 anonymous mappings in runs of 1 to 4 pages whose protections cycle rw-, r--, rw-,
 *          --- so no two neighbours merge (the first page of every r-- run and of every fourth rw-
 *          run is written); 1/16 private read-only mappings of FILE_COUNT files, at descending
 *          offsets, every third one read.
 *   file   15/16 private read-only mappings of FILE_COUNT files with long, distinct paths, taken in
 *          turn at descending offsets so each page of a file is mapped by many mappings (shared
 *          page-cache pages: fractional Pss); every other one is read. 1/16 anonymous, as above.
 *   mixed  a realistic medium process: the system's shared libraries mapped as the dynamic loader
 *          maps them (r--, r-x, r-- and a written rw- segment of one file, adjacent), a malloc heap
 *          and large malloc blocks, thread stacks with their guard pages, and anonymous regions.
 * With -P N the process starts N children of the mixed shape, each with MAPPINGS mappings, and
 * waits for them to be ready: a simulated big host. The mappings of each shape are the same on
 * every run and every machine with the same page size and libraries.
 */
enum { FILE_EVERY = 16, FILE_COUNT = 4, LONG_FILE_COUNT = 12, FILE_PAGES = 64, MAX_RUN_PAGES = 4 };

static char file_dir[1024];
static char file_paths[LONG_FILE_COUNT][4200];
static int file_count;
static pid_t *children;
static long child_count;

/* Async-signal-safe cleanup of the backing files and the children; on SIGTERM/SIGINT/SIGHUP and at exit. */
static void cleanup(void)
{
	for (long i = 0; i < child_count; i++)
		if (children[i] > 0)
			kill(children[i], SIGKILL);
	for (int i = 0; i < file_count; i++)
		if (file_paths[i][0] != '\0')
			unlink(file_paths[i]);
	/* The long paths nest directories: remove each file's directories from the deepest up to file_dir. */
	for (int i = 0; i < file_count; i++) {
		char dir[4200];
		memcpy(dir, file_paths[i], sizeof(dir));
		for (;;) {
			char *slash = strrchr(dir, '/');
			if (slash == NULL)
				break;
			*slash = '\0';
			if (strlen(dir) < strlen(file_dir))
				break;
			rmdir(dir);
		}
	}
}

static void on_signal(int signo)
{
	cleanup();
	signal(signo, SIG_DFL);
	raise(signo);
}

/* Deterministic run lengths: the same layout on every run and every machine with the same page size. */
static uint32_t lcg_state = 12345u;

static uint32_t next_random(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state >> 16;
}

static size_t next_run_pages(void)
{
	return 1 + next_random() % MAX_RUN_PAGES;
}

static void die(const char *what)
{
	fprintf(stderr, "workload: %s: %s\n", what, strerror(errno));
	cleanup();
	exit(1);
}

/* Creates file index under file_dir; long: under a few levels of long directory names. */
static int make_file(int index, long page_size, int long_path)
{
	char dir[4096];
	int fd;

	if (long_path) {
		/* About 200 bytes of path, distinct in its last directory and name. */
		snprintf(dir, sizeof(dir), "%s/shared-libraries-of-a-rather-deeply-installed-application", file_dir);
		mkdir(dir, 0700);
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/component-%02d-with-a-long-descriptive-name", index);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			die(dir);
		snprintf(file_paths[index], sizeof(file_paths[index]), "%s/libcomponent-%02d-data-file.so.1.2.3", dir, index);
	} else {
		snprintf(file_paths[index], sizeof(file_paths[index]), "%s/mapped-%d.dat", file_dir, index);
	}
	file_count = index + 1;
	fd = open(file_paths[index], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
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

/* runs anonymous runs whose protections cycle, from one reservation. */
static void map_anonymous(long runs, long page_size)
{
	static const int anon_prot[4] = {PROT_READ | PROT_WRITE, PROT_READ, PROT_READ | PROT_WRITE, PROT_NONE};
	const size_t run_bytes_max = (size_t)MAX_RUN_PAGES * (size_t)page_size;
	char *anon = reserve((size_t)runs * run_bytes_max), *at = anon;

	/* Runs are laid out first, then protections changed, so each mprotect splits. */
	for (long r = 0; r < runs; r++) {
		size_t bytes = next_run_pages() * (size_t)page_size;
		int prot = anon_prot[r % 4];
		if (r % 4 == 1 || r % 8 == 0)
			at[0] = (char)r;
		if (prot != (PROT_READ | PROT_WRITE) && mprotect(at, bytes, prot) != 0)
			die("mprotect (is vm.max_map_count large enough?)");
		at += bytes;
	}
	size_t used = (size_t)(at - anon);
	if (munmap(at, (size_t)runs * run_bytes_max - used) != 0)
		die("munmap tail");
}

/* runs private read-only file mappings, adjacent, at descending offsets; every read_every-th is read. */
static void map_files(long runs, const int *fds, int nfds, int read_every, long page_size)
{
	const size_t run_bytes_max = (size_t)MAX_RUN_PAGES * (size_t)page_size;
	char *files = reserve((size_t)runs * run_bytes_max), *at = files;
	long offset_page = FILE_PAGES;
	volatile char sink = 0;

	/* MAP_FIXED over a reservation, so the runs are adjacent and only the offsets differ. */
	for (long r = 0; r < runs; r++) {
		size_t pages = next_run_pages();
		size_t bytes = pages * (size_t)page_size;
		/* Descending offsets: a run never starts where its left neighbour's file range ends. */
		offset_page -= (long)pages + 1;
		if (offset_page < 0)
			offset_page = FILE_PAGES - (long)pages;
		void *got = mmap(at, bytes, PROT_READ, MAP_PRIVATE | MAP_FIXED, fds[r % nfds], (off_t)offset_page * page_size);
		if (got == MAP_FAILED)
			die("mmap file (is vm.max_map_count large enough?)");
		if (r % read_every == 0)
			for (size_t p = 0; p < pages; p++)
				sink = (char)(sink + at[p * (size_t)page_size]);
		at += bytes;
	}
	size_t used = (size_t)(at - files);
	if (munmap(at, (size_t)runs * run_bytes_max - used) != 0)
		die("munmap tail");
}

static void shape_anon(long wanted, long page_size)
{
	int fds[FILE_COUNT];
	for (int i = 0; i < FILE_COUNT; i++)
		fds[i] = make_file(i, page_size, 0);
	map_anonymous(wanted - wanted / FILE_EVERY, page_size);
	map_files(wanted / FILE_EVERY, fds, FILE_COUNT, 3, page_size);
	for (int i = 0; i < FILE_COUNT; i++)
		close(fds[i]);
}

static void shape_file(long wanted, long page_size)
{
	int fds[LONG_FILE_COUNT];
	for (int i = 0; i < LONG_FILE_COUNT; i++)
		fds[i] = make_file(i, page_size, 1);
	map_files(wanted - wanted / FILE_EVERY, fds, LONG_FILE_COUNT, 2, page_size);
	map_anonymous(wanted / FILE_EVERY, page_size);
	for (int i = 0; i < LONG_FILE_COUNT; i++)
		close(fds[i]);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The system's shared libraries of at least 8 pages, sorted by name (the same set on every run). */
static char **library_list(long page_size, int *count)
{
	static const char *const dirs[] = {"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib"};
	char **names = NULL;
	int n = 0, cap = 0;

	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]) && n == 0; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;
		if (dir == NULL)
			continue;
		while ((e = readdir(dir)) != NULL) {
			char path[4096];
			struct stat st;
			if (strstr(e->d_name, ".so") == NULL)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 8 * page_size)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 256;
				names = realloc(names, (size_t)cap * sizeof(*names));
				if (names == NULL)
					die("realloc");
			}
			names[n++] = strdup(path);
		}
		closedir(dir);
	}
	if (n > 0)
		qsort(names, (size_t)n, sizeof(*names), compare_names);
	*count = n;
	return names;
}

/* Maps one library as the dynamic loader does: r--, r-x, r-- and a written rw- segment, adjacent. */
static int map_library(const char *path, long page_size, size_t touch_every)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	size_t pages = (size_t)(st.st_size / page_size);
	size_t text = pages / 2, rodata = pages / 4, first = 1;
	if (text + rodata + first + 1 > pages || text == 0 || rodata == 0) {
		close(fd);
		return 0;
	}
	size_t total = first + text + rodata + 1;
	char *base = reserve(total * (size_t)page_size);
	size_t at = 0;
	const int prots[4] = {PROT_READ, PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
	const size_t sizes[4] = {first, text, rodata, 1};
	volatile char sink = 0;
	for (int s = 0; s < 4; s++) {
		char *p = mmap(base + at * (size_t)page_size, sizes[s] * (size_t)page_size, prots[s], MAP_PRIVATE | MAP_FIXED,
		               fd, (off_t)at * page_size);
		if (p == MAP_FAILED)
			die("mmap library");
		/* The loader reads headers, some code runs, data is written: some pages resident, as in a real process. */
		for (size_t q = 0; q < sizes[s]; q += touch_every)
			sink = (char)(sink + p[q * (size_t)page_size]);
		if (s == 3)
			p[0] = 1;
		at += sizes[s];
	}
	close(fd);
	return 4;
}

static void *sleeping_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static char **libs;
static int nlibs;

/* Lists the libraries once, before -P forks its children. */
static void shape_mixed_prepare(long page_size)
{
	if (libs == NULL)
		libs = library_list(page_size, &nlibs);
}

/* About wanted mappings: libraries (4 each) up to 40 %, thread stacks (2 each) up to 10 %, the rest anonymous. */
static void shape_mixed(long wanted, long page_size, int with_threads)
{
	long made = 24; /* the program, its own libraries, stack, vdso... */

	/* Listed once: children of -P inherit the list. Each process starts at its own place in it. */
	shape_mixed_prepare(page_size);
	int first = nlibs > 0 ? (int)(next_random() % (uint32_t)nlibs) : 0;
	for (int i = 0; i < nlibs && made < wanted * 4 / 10; i++)
		made += map_library(libs[(first + i) % nlibs], page_size, with_threads ? 2 : 64);
	/* A heap with live blocks, and large blocks malloc maps on their own. */
	for (long i = 0; i < wanted / 2; i++) {
		char *block = malloc(64 + (size_t)(next_random() % 4096));
		if (block != NULL)
			block[0] = 1;
	}
	for (int i = 0; i < 8; i++) {
		char *big = malloc((size_t)(256 + i * 64) * 1024);
		if (big != NULL) {
			memset(big, 1, with_threads ? 64 * 1024 : 4096);
			made++;
		}
	}
	if (with_threads) {
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		for (long t = 0; t < wanted / 20; t++) {
			pthread_t thread;
			if (pthread_create(&thread, &attr, sleeping_thread, NULL) != 0)
				break;
			made += 2;
		}
		pthread_attr_destroy(&attr);
	}
	if (wanted > made)
		map_anonymous(wanted - made, page_size);
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: workload [-s anon|file|mixed] [-n MAPPINGS] [-P CHILDREN] [-d DIR]\n"
	        "  -s  shape (default anon; see the comment at the top of workload.c)\n"
	        "  -n  mappings to create (default 60000; the process adds its own few dozen)\n"
	        "  -P  start CHILDREN processes of the mixed shape with MAPPINGS mappings each instead\n"
	        "  -d  directory for the mapped files (default $TMPDIR or /tmp)\n"
	        "Prints \"PID ready LINES\" (LINES = lines of /proc/PID/maps; with -P, \"PID ready CHILDREN children\")\n"
	        "and waits for SIGTERM, which removes its files and ends its children.\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long wanted = 60000, nchildren = 0;
	const char *dir = getenv("TMPDIR"), *shape = "anon";
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	int opt;
	while ((opt = getopt(argc, argv, "n:d:s:P:")) != -1) {
		if (opt == 'n')
			wanted = strtol(optarg, NULL, 10);
		else if (opt == 'd')
			dir = optarg;
		else if (opt == 's')
			shape = optarg;
		else if (opt == 'P')
			nchildren = strtol(optarg, NULL, 10);
		else
			usage();
	}
	if (wanted < FILE_EVERY || optind != argc || nchildren < 0 ||
	    (strcmp(shape, "anon") != 0 && strcmp(shape, "file") != 0 && strcmp(shape, "mixed") != 0))
		usage();

	const long page_size = sysconf(_SC_PAGESIZE);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGHUP, on_signal);
	atexit(cleanup);

	if (nchildren > 0) {
		/* Each child tells it is ready by closing its end of the pipe. */
		int ready[2];
		if (pipe(ready) != 0)
			die("pipe");
		shape_mixed_prepare(page_size);
		children = calloc((size_t)nchildren, sizeof(*children));
		if (children == NULL)
			die("calloc");
		for (long i = 0; i < nchildren; i++) {
			pid_t pid = fork();
			if (pid < 0)
				die("fork");
			if (pid == 0) {
				signal(SIGTERM, SIG_DFL);
				child_count = 0;
				close(ready[0]);
				lcg_state = 12345u + (uint32_t)i;
				shape_mixed(wanted, page_size, 0);
				close(ready[1]);
				for (;;)
					pause();
			}
			children[child_count++] = pid;
		}
		close(ready[1]);
		char byte;
		while (read(ready[0], &byte, 1) > 0 || errno == EINTR)
			;
		close(ready[0]);
		printf("%ld ready %ld children\n", (long)getpid(), nchildren);
		fflush(stdout);
		for (;;)
			pause();
	}

	if (strcmp(shape, "mixed") != 0) {
		snprintf(file_dir, sizeof file_dir, "%s/memscript-bench-XXXXXX", dir);
		if (mkdtemp(file_dir) == NULL) {
			file_dir[0] = '\0';
			die("mkdtemp");
		}
	}
	if (strcmp(shape, "anon") == 0)
		shape_anon(wanted, page_size);
	else if (strcmp(shape, "file") == 0)
		shape_file(wanted, page_size);
	else
		shape_mixed(wanted, page_size, 1);

	printf("%ld ready %ld\n", (long)getpid(), count_maps_lines());
	fflush(stdout);
	for (;;)
		pause();
}
