/* test_records.c: records_read over files of known records, with pread failing with EINTR, short and erring on command. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "source/records.h"
#include "unit.h"

/*
 * The test is linked with -Wl,--wrap=pread: records.c's pread calls come here. By default each
 * goes through unchanged; the fields below make calls fail with EINTR, come back short, or fail.
 */
ssize_t __real_pread(int fd, void *buf, size_t count, off_t offset);
ssize_t __wrap_pread(int fd, void *buf, size_t count, off_t offset);

static struct {
	int calls;
	int misaligned;        /* calls whose offset or length was not a multiple of 8 */
	size_t largest;        /* the largest length asked for */
	int eintr_first;       /* the first N calls fail with EINTR */
	size_t short_to;       /* when not 0: each call reads at most this many bytes */
	int fail_call;         /* when not 0: call number N fails with fail_errno */
	int fail_errno;
} wrap;

ssize_t __wrap_pread(int fd, void *buf, size_t count, off_t offset)
{
	wrap.calls++;
	if (offset % 8 != 0 || count % 8 != 0)
		wrap.misaligned++;
	if (count > wrap.largest)
		wrap.largest = count;
	if (wrap.calls <= wrap.eintr_first) {
		errno = EINTR;
		return -1;
	}
	if (wrap.fail_call != 0 && wrap.calls == wrap.fail_call) {
		errno = wrap.fail_errno;
		return -1;
	}
	if (wrap.short_to != 0 && count > wrap.short_to)
		count = wrap.short_to;
	return __real_pread(fd, buf, count, offset);
}

static void wrap_reset(void)
{
	memset(&wrap, 0, sizeof(wrap));
}

/* A memfd holding n records, record i = i * 0x0101010101010101 + 7, then extra bytes of junk. */
static int make_file(size_t n, size_t extra)
{
	int fd = memfd_create("records", MFD_CLOEXEC);
	size_t i;
	uint64_t *records;
	char junk[8] = "junkjunk";

	if (fd < 0)
		return -1;
	records = malloc(n * 8 + 1);
	if (records == NULL) {
		close(fd);
		return -1;
	}
	for (i = 0; i < n; i++)
		records[i] = i * UINT64_C(0x0101010101010101) + 7;
	if ((n > 0 && write(fd, records, n * 8) != (ssize_t)(n * 8)) ||
	    (extra > 0 && write(fd, junk, extra) != (ssize_t)extra)) {
		free(records);
		close(fd);
		return -1;
	}
	free(records);
	return fd;
}

/* out[0..n) are records first .. first + n - 1 of make_file. */
static int records_are(const uint64_t *out, size_t n, uint64_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (out[i] != (first + i) * UINT64_C(0x0101010101010101) + 7)
			return 0;
	return 1;
}

static void test_whole_and_ranges(void)
{
	uint64_t out[16];
	size_t nread = 99;
	int fd = make_file(10, 0);

	if (!CHECK("memfd", fd >= 0))
		return;
	wrap_reset();
	CHECK_INT("all ten", 0, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("nread", 10, nread);
	CHECK("values", records_are(out, 10, 0));
	CHECK_INT("one pread for ten records", 1, wrap.calls);

	CHECK_INT("from 3, four", 0, records_read(fd, 3, out, 4, &nread));
	CHECK_UINT("nread", 4, nread);
	CHECK("records 3..6", records_are(out, 4, 3));

	CHECK_INT("past the end: fewer", 0, records_read(fd, 7, out, 16, &nread));
	CHECK_UINT("three left", 3, nread);
	CHECK("records 7..9", records_are(out, 3, 7));

	CHECK_INT("at the end", 0, records_read(fd, 10, out, 4, &nread));
	CHECK_UINT("none", 0, nread);
	CHECK_INT("far past the end", 0, records_read(fd, UINT64_C(1) << 40, out, 4, &nread));
	CHECK_UINT("none", 0, nread);
	wrap_reset();
	CHECK_INT("count 0", 0, records_read(fd, 0, out, 0, &nread));
	CHECK_UINT("none", 0, nread);
	CHECK_INT("no read for count 0", 0, wrap.calls);
	close(fd);
}

static void test_offsets_past_off_t(void)
{
	uint64_t out[2];
	size_t nread = 99;
	int fd = make_file(1, 0);

	if (!CHECK("memfd", fd >= 0))
		return;
	CHECK_INT("index whose offset is past INT64_MAX", EINVAL,
		  records_read(fd, (UINT64_C(1) << 60), out, 1, &nread));
	CHECK_UINT("none", 0, nread);
	close(fd);
}

static void test_trailing_partial_record(void)
{
	uint64_t out[16];
	size_t nread = 99;
	int fd = make_file(10, 3);

	if (!CHECK("memfd", fd >= 0))
		return;
	CHECK_INT("a file of 10 records and 3 bytes", EINVAL, records_read(fd, 0, out, 16, &nread));
	CHECK_UINT("the whole records before it", 10, nread);
	CHECK("values", records_are(out, 10, 0));
	CHECK_INT("asking only for whole records is fine", 0, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("nread", 10, nread);
	close(fd);
	fd = make_file(0, 5);
	if (CHECK("memfd", fd >= 0)) {
		CHECK_INT("5 bytes only", EINVAL, records_read(fd, 0, out, 1, &nread));
		CHECK_UINT("none", 0, nread);
		close(fd);
	}
}

static void test_batches(void)
{
	size_t n = 20000, nread = 0;
	uint64_t *out = malloc(n * 8);
	int fd = make_file(n, 0);

	if (!CHECK("setup", out != NULL && fd >= 0)) {
		free(out);
		if (fd >= 0)
			close(fd);
		return;
	}
	wrap_reset();
	CHECK_INT("20000 records", 0, records_read(fd, 0, out, n, &nread));
	CHECK_UINT("nread", n, nread);
	CHECK("values", records_are(out, n, 0));
	CHECK_INT("in 3 batches of at most 8192", 3, wrap.calls);
	CHECK_UINT("largest read 64 KiB", RECORDS_BATCH * 8, wrap.largest);
	CHECK_INT("every read at a record, whole records", 0, wrap.misaligned);
	free(out);
	close(fd);
}

static void test_eintr_retried(void)
{
	uint64_t out[10];
	size_t nread = 0;
	int fd = make_file(10, 0);

	if (!CHECK("memfd", fd >= 0))
		return;
	wrap_reset();
	wrap.eintr_first = 3;
	CHECK_INT("read despite three EINTR", 0, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("nread", 10, nread);
	CHECK("values", records_are(out, 10, 0));
	CHECK_INT("three failed calls and one read", 4, wrap.calls);
	close(fd);
}

static void test_short_reads_resumed_at_a_record(void)
{
	uint64_t out[10];
	size_t nread = 0;
	int fd = make_file(10, 0);

	if (!CHECK("memfd", fd >= 0))
		return;
	/* 13 bytes a read: one record and 5 bytes of the next, which is read again from its start. */
	wrap_reset();
	wrap.short_to = 13;
	CHECK_INT("read in short pieces", 0, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("nread", 10, nread);
	CHECK("values", records_are(out, 10, 0));
	CHECK_INT("one record a read", 10, wrap.calls);
	CHECK_INT("every read at a record, whole records", 0, wrap.misaligned);
	wrap_reset();
	wrap.short_to = 5;
	/* Less than a record at a record's start is taken for the file ending inside it. */
	CHECK_INT("5 bytes at a record's start", EINVAL, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("none", 0, nread);
	close(fd);
}

static void test_errors_returned_with_what_was_read(void)
{
	uint64_t out[10];
	size_t nread = 99;
	int fd = make_file(10, 0), fds[2];

	if (!CHECK("memfd", fd >= 0))
		return;
	wrap_reset();
	wrap.short_to = 32;
	wrap.fail_call = 2;
	wrap.fail_errno = EIO;
	CHECK_INT("EIO on the second read", EIO, records_read(fd, 0, out, 10, &nread));
	CHECK_UINT("the four records of the first", 4, nread);
	CHECK("values", records_are(out, 4, 0));
	close(fd);
	wrap_reset();
	if (CHECK("pipe", pipe(fds) == 0)) {
		CHECK_INT("a pipe cannot be read at an offset", ESPIPE, records_read(fds[0], 0, out, 1, &nread));
		CHECK_UINT("none", 0, nread);
		close(fds[0]);
		close(fds[1]);
		CHECK_INT("a closed descriptor", EBADF, records_read(fds[0], 0, out, 1, &nread));
	}
}

int main(void)
{
	UNIT_RUN(test_whole_and_ranges, "records from an index: all, a range, fewer at the end, none past it");
	UNIT_RUN(test_offsets_past_off_t, "an index whose byte offset is past off_t is EINVAL");
	UNIT_RUN(test_trailing_partial_record, "a file ending inside a record is EINVAL, the whole records before it kept");
	UNIT_RUN(test_batches, "20000 records in 64 KiB reads, each at a record boundary");
	UNIT_RUN(test_eintr_retried, "EINTR is retried");
	UNIT_RUN(test_short_reads_resumed_at_a_record, "a short read ending inside a record resumes at that record");
	UNIT_RUN(test_errors_returned_with_what_was_read, "pread's errors (EIO, ESPIPE, EBADF) returned with the records read before");
	return unit_end();
}
