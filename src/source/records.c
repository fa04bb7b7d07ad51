/* records.c: one pread loop and one pwrite loop for the files of 64-bit records, whole records only. */
#include "source/records.h"

#include <errno.h>
#include <stdint.h>
#include <unistd.h>

/* The largest record index whose byte offset an off_t holds. */
#define RECORDS_MAX_INDEX ((uint64_t)INT64_MAX / RECORD_SIZE)

static ssize_t pread_retrying(int fd, void *buf, size_t len, off_t offset)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, offset);
	while (n < 0 && errno == EINTR);
	return n;
}

int records_read(int fd, uint64_t first, uint64_t *out, size_t count, size_t *nread)
{
	size_t done = 0;

	*nread = 0;
	if (first > RECORDS_MAX_INDEX)
		return EINVAL;
	if (count > RECORDS_MAX_INDEX - first)
		count = (size_t)(RECORDS_MAX_INDEX - first);
	while (done < count) {
		size_t want = count - done < RECORDS_BATCH ? count - done : RECORDS_BATCH;
		ssize_t n = pread_retrying(fd, out + done, want * RECORD_SIZE,
					   (off_t)((first + done) * RECORD_SIZE));
		if (n < 0) {
			*nread = done;
			return errno;
		}
		if (n == 0)
			break;
		if ((size_t)n < RECORD_SIZE) {
			/* Less than one record at a record's start: the file ends inside that record. */
			*nread = done;
			return EINVAL;
		}
		/* A short read ending inside a record: keep the whole ones, read that one again. */
		done += (size_t)n / RECORD_SIZE;
	}
	*nread = done;
	return 0;
}

int records_write(int fd, uint64_t first, const uint64_t *in, size_t count)
{
	size_t done = 0;

	if (first > RECORDS_MAX_INDEX || count > RECORDS_MAX_INDEX - first)
		return EINVAL;
	while (done < count) {
		size_t want = count - done < RECORDS_BATCH ? count - done : RECORDS_BATCH;
		ssize_t n;
		do
			n = pwrite(fd, in + done, want * RECORD_SIZE, (off_t)((first + done) * RECORD_SIZE));
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno;
		if ((size_t)n < RECORD_SIZE)
			return ENOSPC;
		done += (size_t)n / RECORD_SIZE;
	}
	return 0;
}
