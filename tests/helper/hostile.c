/* hostile: names itself and its memory with escape sequences, then stops itself, for test_escape. */

/*
 * usage: hostile COMM MEMFD_NAME FILE_NAME ANON_NAME [ARGS...]
 *
 * Every argument may hold any byte but NUL (the arguments are also the process's command line, so
 * the ones after ANON_NAME only add to it). The process:
 *   - sets its comm to COMM (prctl PR_SET_NAME; the kernel keeps the first 15 bytes);
 *   - maps a memfd named MEMFD_NAME, readable and executable (the kernel shows it as
 *     "/memfd:MEMFD_NAME (deleted)", a newline in it as "\012");
 *   - maps DIR/FILE_NAME, a file it creates in a new temporary directory DIR, private, readable,
 *     writable and executable, so checks of writable+executable memory report its path;
 *   - names one anonymous mapping "hostile-plain" and another ANON_NAME (prctl PR_SET_VMA_ANON_NAME),
 *     reporting whether the kernel accepted each name.
 * Output on stdout (flushed before the stop):
 *   hostile pid=PID page_size=BYTES dir=DIR
 *   region NAME START_HEX SIZE_BYTES          (memfd, file, plain_anon, named_anon)
 *   anon_name plain|hostile set|refused [REASON]
 *   ready
 * Then it stops itself with SIGSTOP (again after any SIGCONT) so its memory holds still while read;
 * the tests end it with SIGKILL and remove DIR and the file in it.
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
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

/* From linux/prctl.h (Linux 5.17), spelled out for older headers. */
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#endif
#ifndef PR_SET_VMA_ANON_NAME
#define PR_SET_VMA_ANON_NAME 0
#endif

enum { REGION_PAGES = 2 };

static size_t page_size;

static void die(const char *what)
{
    fprintf(stderr, "hostile: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void describe(const char *name, const void *start)
{
    printf("region %s %" PRIxPTR " %zu\n", name, (uintptr_t)start, REGION_PAGES * page_size);
}

/* Writes one byte into each page so the mapping has resident pages to report. */
static void touch(unsigned char *p)
{
    for (size_t i = 0; i < REGION_PAGES; i++)
        p[i * page_size] = (unsigned char)(i + 1);
}

static void map_memfd(const char *name)
{
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0)
        die("memfd_create");
    if (ftruncate(fd, (off_t)(REGION_PAGES * page_size)) != 0)
        die("ftruncate memfd");
    unsigned char *p = mmap(NULL, REGION_PAGES * page_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap memfd");
    (void)((volatile unsigned char *)p)[0];
    describe("memfd", p);
}

static void map_file(const char *dir, const char *name)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        die("file name");
    }
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        die("open file");
    if (ftruncate(fd, (off_t)(REGION_PAGES * page_size)) != 0)
        die("ftruncate file");
    unsigned char *p = mmap(NULL, REGION_PAGES * page_size, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE,
                            fd, 0);
    if (p == MAP_FAILED)
        die("mmap file");
    close(fd);
    touch(p);
    describe("file", p);
}

/* An anonymous mapping named `name`; says whether the kernel took the name. */
static void map_named_anon(const char *region, const char *which, const char *name)
{
    unsigned char *p = mmap(NULL, REGION_PAGES * page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED)
        die("mmap anon");
    touch(p);
    describe(region, p);
    if (prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, REGION_PAGES * page_size, name) == 0)
        printf("anon_name %s set\n", which);
    else
        printf("anon_name %s refused %s\n", which, strerror(errno));
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: hostile COMM MEMFD_NAME FILE_NAME ANON_NAME [ARGS...]\n");
        return 2;
    }
    /* Own session, as memhelper: the stop never leaves a stopped member in the caller's group. */
    setsid();
    signal(SIGHUP, SIG_IGN);
    page_size = (size_t)sysconf(_SC_PAGESIZE);

    char dir[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/hostile.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        die("mkdtemp");
    /* The kernel shows resolved paths; a TMPDIR reached through a symlink must not differ from them. */
    char resolved[PATH_MAX];
    if (!realpath(dir, resolved))
        die("realpath");

    if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) != 0)
        die("PR_SET_NAME");
    printf("hostile pid=%ld page_size=%zu dir=%s\n", (long)getpid(), page_size, resolved);
    map_memfd(argv[2]);
    map_file(resolved, argv[3]);
    map_named_anon("plain_anon", "plain", "hostile-plain");
    map_named_anon("named_anon", "hostile", argv[4]);
    printf("ready\n");
    if (fflush(stdout) != 0)
        die("stdout");
    for (;;)
        raise(SIGSTOP);
}
