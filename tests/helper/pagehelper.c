/* pagehelper: a process whose pages are in known states (touched, shared after fork, huge, locked, guarded...), for test_pages. */

/*
 * usage: pagehelper
 *
 * Maps its regions, prints them, then reads commands on stdin, one per line, and answers each
 * with "ok" (or "error WHY") on stdout, flushed. Between commands it is blocked in read(2), so its
 * pages hold still while they are counted. At the end of stdin it exits, and its child with it.
 *
 * Regions (4 KiB pages shown; the page size is printed), each its own mapping:
 *   forked      16 pages written, then shared with a forked child: mapped twice, not exclusive
 *   cow         16 pages written before the fork and again after it: exclusive again
 *   half        64 pages, the first 32 written
 *   untouched   64 pages never touched
 *   zeroread    16 pages read, never written (the zero page, where the kernel maps it on a read)
 *   thp         2 MiB at a 2 MiB boundary, MADV_HUGEPAGE, written
 *   mlocked     8 pages written and locked
 *   shared      8 pages of shared anonymous memory, written
 *   file        8 pages of a file (removed once mapped), mapped private and read
 *   guard       16 pages written, pages 4-7 made a guard region (MADV_GUARD_INSTALL, Linux 6.13+)
 *   uffd        8 pages written, then write-protected through userfaultfd
 *   softdirty   16 pages written
 *   ksm         64 pages of the same bytes, MADV_MERGEABLE
 *   stripes_a, stripes_b, stripes_c: one mapping of 15000 pages cut in three by protection:
 *               a 5000 pages, every 3rd written; b 6000 read-only, every 5th written before;
 *               c 4000, every 7th written (a read of 8192 entries ends inside b)
 * Every region but thp is MADV_NOHUGEPAGE, so that its pages are counted one by one.
 *
 * Output:
 *   pagehelper pid=PID page_size=BYTES child=PID
 *   region NAME START_HEX SIZE_BYTES
 *   note NAME set|refused WHY        (guard, uffd: whether the kernel took the request)
 *   ready
 * Commands:
 *   write NAME FIRST COUNT    writes a new byte into pages FIRST .. FIRST+COUNT-1 of region NAME
 *   sparse GIB                maps GIB GiB of inaccessible, unreserved address space: "region sparse ..."
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102 /* Linux 6.13 */
#endif

#define MAX_REGIONS 24

static size_t page_size;

static struct region {
    char name[16];
    unsigned char *start;
    size_t pages;
} regions[MAX_REGIONS];
static int nregions;

static void die(const char *what)
{
    fprintf(stderr, "pagehelper: %s: %s\n", what, strerror(errno));
    exit(2);
}

static struct region *add(const char *name, void *start, size_t pages)
{
    struct region *r = &regions[nregions++];
    snprintf(r->name, sizeof r->name, "%s", name);
    r->start = start;
    r->pages = pages;
    printf("region %s %" PRIxPTR " %zu\n", name, (uintptr_t)start, pages * page_size);
    return r;
}

/*
 * A page of no access on each side of every region: the kernel merges neighbouring mappings that
 * differ in nothing, and a region must stay a mapping of its own.
 */
static unsigned char *fenced(size_t pages)
{
    unsigned char *p = mmap(NULL, (pages + 2) * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                            -1, 0);
    if (p == MAP_FAILED)
        die("mmap fence");
    return p + page_size;
}

static unsigned char *map_anon(size_t pages, int flags, int huge)
{
    unsigned char *at = fenced(pages);
    unsigned char *p = mmap(at, pages * page_size, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED)
        die("mmap");
    if (madvise(p, pages * page_size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0 && huge)
        die("madvise MADV_HUGEPAGE");
    return p;
}

static unsigned char serial = 1;

static void write_pages(unsigned char *p, size_t first, size_t count)
{
    for (size_t i = first; i < first + count; i++)
        p[i * page_size] = serial;
    serial = serial == 255 ? 1 : serial + 1;
}

static void note(const char *name, int ok)
{
    if (ok)
        printf("note %s set\n", name);
    else
        printf("note %s refused %s\n", name, strerror(errno));
}

static void map_thp(void)
{
    size_t huge = 2u << 20;
    unsigned char *p = mmap(NULL, 2 * huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die("mmap thp");
    unsigned char *aligned = (unsigned char *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
    /* Only the aligned 2 MiB stays mapped: the mapping is exactly one huge page. */
    if (aligned > p && munmap(p, (size_t)(aligned - p)) != 0)
        die("munmap thp head");
    if (p + 2 * huge > aligned + huge && munmap(aligned + huge, (size_t)(p + 2 * huge - (aligned + huge))) != 0)
        die("munmap thp tail");
    if (madvise(aligned, huge, MADV_HUGEPAGE) != 0)
        die("madvise MADV_HUGEPAGE");
    write_pages(aligned, 0, huge / page_size);
    add("thp", aligned, huge / page_size);
}

static void map_file(void)
{
    char path[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/pagehelper.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp");
    unsigned char block[4096];
    memset(block, 'f', sizeof block);
    for (size_t done = 0; done < 8 * page_size; done += sizeof block)
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
            die("write file");
    unsigned char *p = mmap(fenced(8), 8 * page_size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (p == MAP_FAILED)
        die("mmap file");
    close(fd);
    unlink(path);
    madvise(p, 8 * page_size, MADV_NOHUGEPAGE);
    unsigned sum = 0;
    for (size_t i = 0; i < 8; i++)
        sum += ((volatile unsigned char *)p)[i * page_size];
    if (sum != 8 * 'f')
        die("file content");
    add("file", p, 8);
}

static void map_uffd(void)
{
    unsigned char *p = map_anon(8, MAP_PRIVATE, 0);
    write_pages(p, 0, 8);
    add("uffd", p, 8);
    int uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
    struct uffdio_api api = {.api = UFFD_API, .features = 0};
    struct uffdio_register reg = {.range = {(uintptr_t)p, 8 * page_size}, .mode = UFFDIO_REGISTER_MODE_WP};
    struct uffdio_writeprotect wp = {.range = {(uintptr_t)p, 8 * page_size}, .mode = UFFDIO_WRITEPROTECT_MODE_WP};
    /* The descriptor stays open: the protection lasts as long as the registration. */
    note("uffd", uffd >= 0 && ioctl(uffd, UFFDIO_API, &api) == 0 && ioctl(uffd, UFFDIO_REGISTER, &reg) == 0 &&
                     ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) == 0);
}

static void map_stripes(void)
{
    size_t a = 5000, b = 6000, c = 4000;
    unsigned char *p = map_anon(a + b + c, MAP_PRIVATE, 0);
    for (size_t i = 0; i < a; i += 3)
        p[i * page_size] = 1;
    for (size_t i = 0; i < b; i += 5)
        p[(a + i) * page_size] = 1;
    for (size_t i = 0; i < c; i += 7)
        p[(a + b + i) * page_size] = 1;
    if (mprotect(p + a * page_size, b * page_size, PROT_READ) != 0)
        die("mprotect stripes");
    add("stripes_a", p, a);
    add("stripes_b", p + a * page_size, b);
    add("stripes_c", p + (a + b) * page_size, c);
}

static struct region *find(const char *name)
{
    for (int i = 0; i < nregions; i++)
        if (strcmp(regions[i].name, name) == 0)
            return &regions[i];
    return NULL;
}

static void command(char *line)
{
    char name[32];
    size_t first, count, gib;

    if (sscanf(line, "write %31s %zu %zu", name, &first, &count) == 3) {
        struct region *r = find(name);
        if (r == NULL || first + count > r->pages) {
            printf("error no such pages\n");
            return;
        }
        write_pages(r->start, first, count);
        printf("ok\n");
    } else if (sscanf(line, "sparse %zu", &gib) == 1) {
        size_t pages = (gib << 30) / page_size;
        void *p = mmap(NULL, pages * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            printf("error %s\n", strerror(errno));
            return;
        }
        add("sparse", p, pages);
        printf("ok\n");
    } else {
        printf("error unknown command\n");
    }
}

int main(void)
{
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* The regions shared with the child come first: the child maps only these. */
    unsigned char *forked = map_anon(16, MAP_PRIVATE, 0);
    unsigned char *cow = map_anon(16, MAP_PRIVATE, 0);
    write_pages(forked, 0, 16);
    write_pages(cow, 0, 16);
    pid_t parent = getpid(), child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        /* Holds its copy of the pages until the parent ends. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        for (;;)
            pause();
    }
    write_pages(cow, 0, 16);
    printf("pagehelper pid=%ld page_size=%zu child=%ld\n", (long)getpid(), page_size, (long)child);
    add("forked", forked, 16);
    add("cow", cow, 16);

    unsigned char *half = map_anon(64, MAP_PRIVATE, 0);
    write_pages(half, 0, 32);
    add("half", half, 64);
    add("untouched", map_anon(64, MAP_PRIVATE, 0), 64);
    unsigned char *zeroread = map_anon(16, MAP_PRIVATE, 0);
    unsigned sum = 0;
    for (size_t i = 0; i < 16; i++)
        sum += ((volatile unsigned char *)zeroread)[i * page_size];
    if (sum != 0)
        die("zero page content");
    add("zeroread", zeroread, 16);
    map_thp();
    unsigned char *locked = map_anon(8, MAP_PRIVATE, 0);
    write_pages(locked, 0, 8);
    if (mlock(locked, 8 * page_size) != 0)
        die("mlock");
    add("mlocked", locked, 8);
    unsigned char *shared = map_anon(8, MAP_SHARED, 0);
    write_pages(shared, 0, 8);
    add("shared", shared, 8);
    map_file();
    unsigned char *guard = map_anon(16, MAP_PRIVATE, 0);
    write_pages(guard, 0, 16);
    add("guard", guard, 16);
    note("guard", madvise(guard + 4 * page_size, 4 * page_size, MADV_GUARD_INSTALL) == 0);
    map_uffd();
    unsigned char *softdirty = map_anon(16, MAP_PRIVATE, 0);
    write_pages(softdirty, 0, 16);
    add("softdirty", softdirty, 16);
    unsigned char *ksm = map_anon(64, MAP_PRIVATE, 0);
    memset(ksm, 0x5a, 64 * page_size);
    if (madvise(ksm, 64 * page_size, MADV_MERGEABLE) != 0)
        die("madvise MADV_MERGEABLE");
    add("ksm", ksm, 64);
    map_stripes();
    printf("ready\n");

    char line[256];
    while (fgets(line, sizeof line, stdin) != NULL)
        command(line);
    kill(child, SIGKILL);
    return 0;
}
