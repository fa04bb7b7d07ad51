/* test_maps_parse.c: maps_is_header and maps_parse_header on written lines and on mappings this test makes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "core/maps_parse.h"
#include "unit.h"

static const char *parse(const char *line, struct maps_header *h)
{
	memset(h, 0xa5, sizeof(*h));
	return maps_parse_header(line, strlen(line), h);
}

static void test_file_mapping(void)
{
	struct maps_header h;

	if (!CHECK_REASON("accepted", NULL,
			  parse("7f2a1c000000-7f2a1c026000 r--p 00001000 fd:01 1311054                    /usr/lib/x86_64-linux-gnu/libc.so.6", &h)))
		return;
	CHECK_UINT("vm_start", UINT64_C(0x7f2a1c000000), h.vm_start);
	CHECK_UINT("vm_end", UINT64_C(0x7f2a1c026000), h.vm_end);
	CHECK_TEXT("perms", "r--p", h.perms, h.perms_len);
	CHECK_UINT("offset (hex)", 0x1000, h.offset);
	CHECK_TEXT("dev as printed", "fd:01", h.dev, h.dev_len);
	CHECK_UINT("inode (decimal)", 1311054, h.inode);
	CHECK_TEXT("path after the padding", "/usr/lib/x86_64-linux-gnu/libc.so.6", h.path, h.path_len);
}

static void test_paths_as_printed(void)
{
	struct maps_header h;

	if (CHECK_REASON("anonymous accepted", NULL, parse("7f76c4a33000-7f76c4a35000 rw-p 00000000 00:00 0 ", &h)))
		CHECK_TEXT("blank path (the kernel pads after the inode)", "", h.path, h.path_len);
	if (CHECK_REASON("no space after inode accepted", NULL, parse("7f76c4a33000-7f76c4a35000 rw-p 00000000 00:00 0", &h)))
		CHECK_TEXT("no path", "", h.path, h.path_len);
	if (CHECK_REASON("spaces accepted", NULL,
			 parse("7f0-7f1 r--s 00000000 fd:00 12 /tmp/edgecap/my data/table of values.bin", &h)))
		CHECK_TEXT("spaces kept", "/tmp/edgecap/my data/table of values.bin", h.path, h.path_len);
	if (CHECK_REASON("deleted accepted", NULL, parse("7f0-7f1 rw-s 00000000 00:01 1026 /memfd:ring-buffer (deleted)", &h)))
		CHECK_TEXT("\" (deleted)\" kept", "/memfd:ring-buffer (deleted)", h.path, h.path_len);
	if (CHECK_REASON("vsyscall accepted", NULL,
			 parse("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]", &h))) {
		CHECK_UINT("vm_start near 2^64", UINT64_C(0xffffffffff600000), h.vm_start);
		CHECK_TEXT("path", "[vsyscall]", h.path, h.path_len);
	}
}

static void test_reasons(void)
{
	struct maps_header h;

	CHECK_REASON("g in start", "address: '-' expected after the start",
		     parse("56055a7g7000-56055a7f8000 r--p 00000000 fd:00 1 /x", &h));
	CHECK_REASON("no start", "address: start is not a 64-bit hex number", parse("-1 r--p 0 00:00 0", &h));
	CHECK_REASON("start overflow", "address: start is not a 64-bit hex number",
		     parse("10000000000000000-1 r--p 0 00:00 0", &h));
	CHECK_REASON("no end", "address: end is not a 64-bit hex number", parse("1- r--p 0 00:00 0", &h));
	CHECK_REASON("end then no space", "address: space expected after the end", parse("1-2", &h));
	CHECK_REASON("end below start", "address: end is below start", parse("2-1 r--p 0 00:00 0", &h));
	CHECK_REASON("perms of 3", "perms: four characters expected", parse("1-2 r-p 0 00:00 0", &h));
	CHECK_REASON("perms at end", "perms: four characters expected", parse("1-2 r--p", &h));
	CHECK_REASON("offset", "offset: hex number expected", parse("1-2 r--p zz 00:00 0", &h));
	CHECK_REASON("dev missing", "dev: major:minor expected", parse("1-2 r--p 0 ", &h));
	CHECK_REASON("inode", "inode: decimal number expected", parse("1-2 r--p 0 00:00 x", &h));
	CHECK_REASON("inode then junk", "inode: decimal number expected", parse("1-2 r--p 0 00:00 12x /p", &h));
	CHECK_REASON("empty", "address: start is not a 64-bit hex number", parse("", &h));
}

static void test_is_header(void)
{
	CHECK_INT("header", 1, maps_is_header("7f0-7f1 r", 9));
	CHECK_INT("smaps field", 0, maps_is_header("Rss:   4 kB", 11));
	CHECK_INT("uppercase hex is not a header", 0, maps_is_header("7F0-7F1 r", 9));
	CHECK_INT("no '-'", 0, maps_is_header("7f0", 3));
	CHECK_INT("'-' first", 0, maps_is_header("-7f0", 4));
	CHECK_INT("empty", 0, maps_is_header("", 0));
	/* A field whose key is all hex letters: "dead-" would be taken for a header; "dead:" is not. */
	CHECK_INT("hex-looking key with colon", 0, maps_is_header("dead: 1", 7));
}

/* Finds the maps line of the mapping starting at start and parses it. */
static int find_mapping(uintptr_t start, struct maps_header *found, char **data_out)
{
	size_t len;
	char *data = unit_read_file("/proc/self/maps", &len);
	const char *p, *end;

	if (data == NULL)
		return 0;
	for (p = data, end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		struct maps_header h;
		if (maps_parse_header(p, line_len, &h) == NULL && h.vm_start == start) {
			*found = h;
			*data_out = data;
			return 1;
		}
		p = nl ? nl + 1 : end;
	}
	free(data);
	return 0;
}

static void test_live_mappings(void)
{
	long page = sysconf(_SC_PAGESIZE);
	struct maps_header h;
	char path[] = "/tmp/memscript-unit-maps-XXXXXX";
	char dev[32];
	struct stat st;
	char *data, *anon, *file;
	int fd;

	/* Three read-write pages between two inaccessible ones, so the kernel merges them with nothing. */
	anon = mmap(NULL, 5 * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK("anonymous mmap", anon != MAP_FAILED))
		return;
	if (CHECK("mprotect", mprotect(anon + page, 3 * (size_t)page, PROT_READ | PROT_WRITE) == 0) &&
	    CHECK("anonymous mapping found in /proc/self/maps", find_mapping((uintptr_t)anon + (uintptr_t)page, &h, &data))) {
		CHECK_UINT("vm_end", (uintptr_t)anon + 4 * (size_t)page, h.vm_end);
		CHECK_TEXT("perms", "rw-p", h.perms, h.perms_len);
		CHECK_UINT("inode 0", 0, h.inode);
		CHECK_TEXT("no path", "", h.path, h.path_len);
		free(data);
	}
	munmap(anon, 5 * (size_t)page);

	fd = mkstemp(path);
	if (!CHECK("temporary file", fd >= 0))
		return;
	if (CHECK("file of 4 pages", ftruncate(fd, 4 * page) == 0 && fstat(fd, &st) == 0)) {
		file = mmap(NULL, 2 * (size_t)page, PROT_READ, MAP_SHARED, fd, 2 * page);
		if (CHECK("file mmap at offset 2 pages", file != MAP_FAILED)) {
			if (CHECK("file mapping found", find_mapping((uintptr_t)file, &h, &data))) {
				CHECK_TEXT("perms", "r--s", h.perms, h.perms_len);
				CHECK_UINT("offset in bytes", 2 * (uint64_t)page, h.offset);
				CHECK_UINT("inode is the file's", st.st_ino, h.inode);
				snprintf(dev, sizeof(dev), "%02x:%02x", major(st.st_dev), minor(st.st_dev));
				CHECK_TEXT("dev is the file's", dev, h.dev, h.dev_len);
				CHECK_TEXT("path", path, h.path, h.path_len);
				free(data);
			}
			munmap(file, 2 * (size_t)page);
		}
	}
	close(fd);
	unlink(path);
}

int main(void)
{
	UNIT_RUN(test_file_mapping, "a file mapping: every column");
	UNIT_RUN(test_paths_as_printed, "the path as printed: blank, spaces, (deleted), [vsyscall]");
	UNIT_RUN(test_reasons, "each malformed column has its reason");
	UNIT_RUN(test_is_header, "maps_is_header: lowercase hex then '-'");
	UNIT_RUN(test_live_mappings, "mappings this test makes: address, perms, offset, dev, inode and path as mmap and fstat say");
	return unit_end();
}
