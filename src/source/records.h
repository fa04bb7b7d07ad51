/* records.h: reading fixed-size 64-bit records (pagemap, kpageflags, kpagecount) from an open file. */
#ifndef MEMSCRIPT_RECORDS_H
#define MEMSCRIPT_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#define RECORD_SIZE 8

/* Records per pread: 64 KiB. pagemap and kpageflags refuse a read whose offset or length is
 * not a multiple of 8 (EINVAL), so every read starts at a record and asks for whole records. */
#define RECORDS_BATCH 8192

/*
 * Reads count records starting at record index first (byte offset 8 * first) from fd into
 * out[0..count), with pread (the file offset is not used or moved), RECORDS_BATCH records per
 * read, retrying EINTR and short reads. The records are in the machine's byte order, as the
 * kernel writes them.
 * Sets *nread to how many were read: fewer than count when the file ends first (pagemap past the
 * end of the address space, kpageflags past the last page frame). Returns 0, or an errno value
 * with *nread still the records read before it: EINVAL for a file that ends inside a record (its
 * size is not a multiple of 8) or an offset past what off_t holds, or the error of pread itself
 * (ESPIPE for a pipe, EIO...). out[*nread..count) is unspecified afterwards.
 */
int records_read(int fd, uint64_t first, uint64_t *out, size_t count, size_t *nread);

/*
 * Writes in[0..count) as records from record index first, with pwrite, RECORDS_BATCH records per
 * write, retrying EINTR and short writes (the page_idle bitmap takes whole 64-bit words only).
 * Returns 0 or an errno value (EINVAL for an offset past what off_t holds, ENOSPC when the file
 * takes no more, the error of pwrite itself).
 */
int records_write(int fd, uint64_t first, const uint64_t *in, size_t count);

#endif
