/* memhelper: maps known memory regions, describes them on stdout, then stops itself for the live tests. */

/*
 * Output (one line each, flushed before the stop):
 *   memhelper pid=PID page_size=BYTES dir=DIR
 *   region NAME START_HEX SIZE_BYTES WHAT_WAS_DONE...   (WHAT is key=value words; file=NAME comes last,
 *                                                         NAME is relative to DIR and may hold spaces)
 *   failed NAME REASON                                  (a region the system would not let us make)
 *   zombie PID                                          (a child that has exited and is never reaped)
 *   ready
 * Then the process stops with SIGSTOP (again after any SIGCONT) so its memory holds still while read;
 * the tests end it with SIGKILL and remove DIR and the files in it.
 *
 * Every region sits inside one PROT_NONE reservation, with one PROT_NONE page between neighbours, so the
 * kernel never merges two regions into one mapping and each is found by its start address and size.
 * The "guard" region is the exception: it is PROT_NONE itself, so it lies between two mapped regions.
 *
 * `memhelper grow [STEP_KB [INTERVAL_MS [STEPS]]]` maps the same regions, then instead of stopping maps
 * and writes a new anonymous region of STEP_KB (default 256) every INTERVAL_MS (default 50), STEPS times
 * (default 200), printing "grow N START_HEX SIZE_BYTES" after each, and stops once done.
 *
 * `memhelper pageout` maps the same regions, then asks the kernel to page out anon_half (private) and
 * shared_anon (shmem) with MADV_PAGEOUT, printing "pageout NAME ok" or "pageout NAME failed REASON",
 * and stops: on a machine with swap their written pages are then swapped out.
 *
 * Arguments after "--" are ignored: they are there to give /proc/PID/cmdline a known content.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Sizes in pages; tests/test_live.lua checks the same numbers. */
enum {
    ANON_HALF_PAGES = 64,
    FILE_PRIVATE_PAGES = 16,
    SHARED_ANON_PAGES = 16,
    MLOCKED_PAGES = 8,
    WX_PAGES = 4,
    GUARD_PAGES = 4,
    MADVISED_PAGES = 8,
    SPACED_PAGES = 4,
    DELETED_PAGES = 4,
    MEMFD_PAGES = 8,
    SYSV_PAGES = 4,
    ODD_NAME_PAGES = 1,
    /* regions plus separators plus slack at both ends */
    RESERVATION_PAGES = 160
};

static size_t page_size;
static unsigned char *anon_half_at, *shared_anon_at;   /* for pageout mode */
static char dir_path[4096];
static unsigned char *cursor;   /* next free address inside the reservation */
static unsigned char *reservation_end;

static void die(const char *what)
{
    fprintf(stderr, "memhelper: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* Address for a region of `pages`; a PROT_NONE separator page follows unless `separate` is 0. */
static unsigned char *take(size_t pages, int separate)
{
    unsigned char *at = cursor;
    cursor += (pages + (separate ? 1 : 0)) * page_size;
    if (cursor > reservation_end) {
        fprintf(stderr, "memhelper: reservation too small\n");
        exit(2);
    }
    return at;
}

static void describe(const char *name, const void *start, size_t pages, const char *what)
{
    printf("region %s %" PRIxPTR " %zu %s\n", name, (uintptr_t)start, pages * page_size, what);
}

static void report_failure(const char *name, const char *call)
{
    printf("failed %s %s: %s\n", name, call, strerror(errno));
}

/* Writes one byte into each of `count` pages, every `stride`-th page from the first. */
static void write_pages(unsigned char *start, size_t count, size_t stride)
{
    for (size_t i = 0; i < count; i++)
        start[i * stride * page_size] = (unsigned char)(i + 1);
}

/* Reads one byte from each of `count` pages, every `stride`-th page (volatile: the reads must happen). */
static void read_pages(const unsigned char *start, size_t count, size_t stride)
{
    for (size_t i = 0; i < count; i++)
        (void)((const volatile unsigned char *)start)[i * stride * page_size];
}

/* Creates DIR/name holding `pages` pages of a fixed pattern; returns an open read-write descriptor. */
static int make_file(const char *name, size_t pages)
{
    char path[sizeof dir_path + 64];
    snprintf(path, sizeof path, "%s/%s", dir_path, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die(path);
    unsigned char *page = malloc(page_size);
    if (!page)
        die("malloc");
    for (size_t i = 0; i < pages; i++) {
        memset(page, (int)('a' + i % 26), page_size);
        if (write(fd, page, page_size) != (ssize_t)page_size)
            die(path);
    }
    free(page);
    return fd;
}

static unsigned char *map_fixed(unsigned char *at, size_t pages, int prot, int flags, int fd, off_t offset)
{
    void *p = mmap(at, pages * page_size, prot, flags | MAP_FIXED, fd, offset);
    return p == MAP_FAILED ? NULL : p;
}

static void map_anon_half(void)
{
    unsigned char *p = map_fixed(take(ANON_HALF_PAGES, 1), ANON_HALF_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!p)
        die("mmap anon_half");
    write_pages(p, ANON_HALF_PAGES / 2, 2);
    anon_half_at = p;
    describe("anon_half", p, ANON_HALF_PAGES, "written_pages=32 every_other_page");
}

/* Maps pages 1..16 of a 17-page file, so the mapping's offset is one page. */
static void map_file_private(void)
{
    int fd = make_file("data", FILE_PRIVATE_PAGES + 1);
    unsigned char *p = map_fixed(take(FILE_PRIVATE_PAGES, 1), FILE_PRIVATE_PAGES, PROT_READ, MAP_PRIVATE,
                                 fd, (off_t)page_size);
    if (!p)
        die("mmap file_private");
    close(fd);
    read_pages(p, FILE_PRIVATE_PAGES / 4, 4);
    describe("file_private", p, FILE_PRIVATE_PAGES, "read_pages=4 offset_pages=1 file=data");
}

static void map_shared_anon(void)
{
    unsigned char *p = map_fixed(take(SHARED_ANON_PAGES, 1), SHARED_ANON_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (!p)
        die("mmap shared_anon");
    write_pages(p, SHARED_ANON_PAGES / 2, 1);
    shared_anon_at = p;
    describe("shared_anon", p, SHARED_ANON_PAGES, "written_pages=8");
}

static void map_mlocked(void)
{
    unsigned char *p = map_fixed(take(MLOCKED_PAGES, 1), MLOCKED_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!p)
        die("mmap mlocked");
    write_pages(p, MLOCKED_PAGES, 1);
    if (mlock(p, MLOCKED_PAGES * page_size) != 0) {
        char what[96];
        snprintf(what, sizeof what, "written_pages=8 mlock=failed:%d", errno);
        describe("mlocked", p, MLOCKED_PAGES, what);
        return;
    }
    describe("mlocked", p, MLOCKED_PAGES, "written_pages=8 mlock=ok");
}

/* The writable and executable region, then the guard right above it (no separator between them). */
static void map_wx_and_guard(void)
{
    unsigned char *at = take(WX_PAGES, 0);
    unsigned char *p = map_fixed(at, WX_PAGES, PROT_READ | PROT_WRITE | PROT_EXEC,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!p) {
        report_failure("wx", "mmap");
    } else {
        write_pages(p, 1, 1);
        describe("wx", p, WX_PAGES, "written_pages=1");
    }
    unsigned char *g = map_fixed(take(GUARD_PAGES, 0), GUARD_PAGES, PROT_NONE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!g)
        die("mmap guard");
    describe("guard", g, GUARD_PAGES, "prot=none");
}

static void map_madvised(void)
{
    unsigned char *p = map_fixed(take(MADVISED_PAGES, 1), MADVISED_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!p)
        die("mmap madvised");
    if (madvise(p, MADVISED_PAGES * page_size, MADV_RANDOM) != 0)
        die("madvise MADV_RANDOM");
    if (madvise(p, MADVISED_PAGES * page_size, MADV_DONTDUMP) != 0)
        die("madvise MADV_DONTDUMP");
    write_pages(p, 2, 1);
    describe("madvised", p, MADVISED_PAGES, "written_pages=2 madvise=random,dontdump");
}

static void map_spaced(void)
{
    int fd = make_file("with space.bin", SPACED_PAGES);
    unsigned char *p = map_fixed(take(SPACED_PAGES, 1), SPACED_PAGES, PROT_READ, MAP_SHARED, fd, 0);
    if (!p)
        die("mmap spaced");
    close(fd);
    read_pages(p, 1, 1);
    describe("spaced", p, SPACED_PAGES, "read_pages=1 file=with space.bin");
}

static void map_deleted(void)
{
    char path[sizeof dir_path + 64];
    int fd = make_file("deleted.bin", DELETED_PAGES);
    unsigned char *p = map_fixed(take(DELETED_PAGES, 1), DELETED_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE, fd, 0);
    if (!p)
        die("mmap deleted");
    close(fd);
    write_pages(p, 1, 1);
    snprintf(path, sizeof path, "%s/deleted.bin", dir_path);
    if (unlink(path) != 0)
        die(path);
    describe("deleted", p, DELETED_PAGES, "written_pages=1 unlinked=yes file=deleted.bin");
}

static void map_memfd(void)
{
    int fd = memfd_create("memhelper", MFD_CLOEXEC);
    if (fd < 0) {
        report_failure("memfd", "memfd_create");
        take(MEMFD_PAGES, 1);
        return;
    }
    if (ftruncate(fd, (off_t)(MEMFD_PAGES * page_size)) != 0)
        die("ftruncate memfd");
    unsigned char *p = map_fixed(take(MEMFD_PAGES, 1), MEMFD_PAGES, PROT_READ | PROT_WRITE,
                                 MAP_SHARED, fd, 0);
    if (!p)
        die("mmap memfd");
    close(fd);
    write_pages(p, MEMFD_PAGES / 2, 1);
    describe("memfd", p, MEMFD_PAGES, "written_pages=4 name=memhelper");
}

/* A System V segment, removed at once so it goes away with the process. */
static void map_sysv(void)
{
    unsigned char *at = take(SYSV_PAGES, 1);
    int id = shmget(IPC_PRIVATE, SYSV_PAGES * page_size, IPC_CREAT | 0600);
    if (id < 0) {
        report_failure("sysv", "shmget");
        return;
    }
    void *p = shmat(id, at, SHM_REMAP);
    if (p == (void *)-1) {
        report_failure("sysv", "shmat");
        shmctl(id, IPC_RMID, NULL);
        return;
    }
    shmctl(id, IPC_RMID, NULL);
    write_pages(p, 1, 1);
    char what[64];
    snprintf(what, sizeof what, "written_pages=1 shmid=%d", id);
    describe("sysv", p, SYSV_PAGES, what);
}

/* A file name with valid UTF-8 (e with acute) and one byte that is not UTF-8 (0xff). */
#define ODD_NAME "odd-\xc3\xa9-\xff.bin"

static void map_odd_name(void)
{
    int fd = make_file(ODD_NAME, ODD_NAME_PAGES);
    unsigned char *p = map_fixed(take(ODD_NAME_PAGES, 1), ODD_NAME_PAGES, PROT_READ, MAP_PRIVATE, fd, 0);
    if (!p)
        die("mmap odd_name");
    close(fd);
    read_pages(p, 1, 1);
    describe("odd_name", p, ODD_NAME_PAGES, "read_pages=1 file=" ODD_NAME);
}

/* A child that exits at once; waiting with WNOWAIT returns once it is a zombie and leaves it one. */
static void make_zombie(void)
{
    pid_t child = fork();
    if (child < 0) {
        report_failure("zombie", "fork");
        return;
    }
    if (child == 0)
        _exit(0);
    siginfo_t info;
    if (waitid(P_PID, (id_t)child, &info, WEXITED | WNOWAIT) != 0)
        die("waitid");
    printf("zombie %ld\n", (long)child);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* argv[index] as a positive number, or `fallback` when the options end before `index`. */
static long argument(char **argv, int index, int ends_options, long fallback)
{
    if (index >= ends_options)
        return fallback;
    char *end;
    long v = strtol(argv[index], &end, 10);
    if (*argv[index] == '\0' || *end != '\0' || v <= 0) {
        fprintf(stderr, "memhelper: bad number %s\n", argv[index]);
        exit(2);
    }
    return v;
}

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21 /* Linux 5.4; older C libraries' headers lack it */
#endif

static void page_out(const char *name, unsigned char *start, size_t pages)
{
    if (madvise(start, pages * page_size, MADV_PAGEOUT) == 0)
        printf("pageout %s ok\n", name);
    else
        printf("pageout %s failed %s\n", name, strerror(errno));
}

static void grow(long step_kb, long interval_ms, long steps)
{
    size_t step_pages = ((size_t)step_kb * 1024 + page_size - 1) / page_size;
    for (long n = 1; n <= steps; n++) {
        unsigned char *p = mmap(NULL, step_pages * page_size, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            die("mmap grow");
        write_pages(p, step_pages, 1);
        printf("grow %ld %" PRIxPTR " %zu\n", n, (uintptr_t)p, step_pages * page_size);
        fflush(stdout);
        sleep_ms(interval_ms);
    }
}

int main(int argc, char **argv)
{
    int grow_mode = argc > 1 && strcmp(argv[1], "grow") == 0;
    int pageout_mode = argc > 1 && strcmp(argv[1], "pageout") == 0;
    int ends_options = 1 + grow_mode + pageout_mode;   /* index of "--" if given */
    for (int i = 2; grow_mode && i < argc && i <= 4 && strcmp(argv[i], "--") != 0; i++)
        ends_options = i + 1;
    if (ends_options < argc && strcmp(argv[ends_options], "--") != 0) {
        fprintf(stderr, "usage: memhelper [grow [STEP_KB [INTERVAL_MS [STEPS]]] | pageout] [-- IGNORED...]\n");
        return 2;
    }
    /* Own session: the stop never leaves a stopped member in the caller's process group, and a SIGHUP
       sent to an orphaned group is ignored. */
    setsid();
    signal(SIGHUP, SIG_IGN);

    page_size = (size_t)sysconf(_SC_PAGESIZE);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir_path, sizeof dir_path, "%s/memhelper.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir_path))
        die("mkdtemp");
    /* The kernel shows resolved paths; a TMPDIR reached through a symlink must not differ from them. */
    char resolved[PATH_MAX];
    if (!realpath(dir_path, resolved))
        die("realpath");
    snprintf(dir_path, sizeof dir_path, "%s", resolved);

    unsigned char *base = mmap(NULL, RESERVATION_PAGES * page_size, PROT_NONE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        die("mmap reservation");
    reservation_end = base + RESERVATION_PAGES * page_size;
    cursor = base + page_size;

    printf("memhelper pid=%ld page_size=%zu dir=%s\n", (long)getpid(), page_size, dir_path);
    map_anon_half();
    map_file_private();
    map_shared_anon();
    map_mlocked();
    map_wx_and_guard();
    map_madvised();
    map_spaced();
    map_deleted();
    map_memfd();
    map_sysv();
    map_odd_name();
    make_zombie();
    if (pageout_mode) {
        page_out("anon_half", anon_half_at, ANON_HALF_PAGES);
        page_out("shared_anon", shared_anon_at, SHARED_ANON_PAGES);
    }
    printf("ready\n");
    if (fflush(stdout) != 0)
        die("stdout");

    if (grow_mode)
        grow(argument(argv, 2, ends_options, 256), argument(argv, 3, ends_options, 50),
             argument(argv, 4, ends_options, 200));
    for (;;)
        raise(SIGSTOP);
}
