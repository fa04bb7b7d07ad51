/* fuzz_util.h: what the libFuzzer harnesses share: an in-memory file with a path, and exact-size copies. */
#ifndef MEMSCRIPT_FUZZ_UTIL_H
#define MEMSCRIPT_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* libFuzzer's entry point; declared so -Wmissing-prototypes holds for the harnesses. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stops the run so libFuzzer saves the input: a failed check is a finding like a crash. */
#define FUZZ_CHECK(cond)                                                              \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                      \
		}                                                                     \
	} while (0)

/*
 * A memfd that lives for the whole run, and "/proc/self/fd/N" naming it: opening that path gives
 * the parsers their own descriptor at offset 0, as opening a /proc file does.
 */
struct fuzz_file {
	int fd;
	char path[64];
};

static inline void fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Replaces the file's contents with bytes[0..len). */
static inline void fuzz_file_set(struct fuzz_file *f, const void *bytes, size_t len)
{
	const char *p = bytes;
	off_t off = 0;

	if (ftruncate(f->fd, 0) != 0) {
		perror("ftruncate");
		abort();
	}
	while ((size_t)off < len) {
		ssize_t n = pwrite(f->fd, p + off, len - (size_t)off, off);
		if (n <= 0) {
			perror("pwrite");
			abort();
		}
		off += n;
	}
}

/*
 * A copy of bytes[0..len) in a block of exactly len bytes (malloc(0) for an empty line), so
 * AddressSanitizer reports a parser that reads one byte past the end it was given.
 */
static inline char *fuzz_exact_copy(const uint8_t *bytes, size_t len)
{
	char *copy = malloc(len);
	if (copy == NULL && len > 0)
		abort();
	if (len > 0)
		memcpy(copy, bytes, len);
	return copy;
}

/* Calls check(line, len) on each line of data (split at '\n'), each an exact-size copy. */
static inline void fuzz_each_line(const uint8_t *data, size_t size, void (*check)(const char *, size_t))
{
	const uint8_t *p = data, *end = data + size;

	while (p <= end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);
		char *line = fuzz_exact_copy(p, len);
		check(line, len);
		free(line);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/*
 * Files bigger than one linestream chunk (256 KiB) or procfile's first buffer from a small input:
 * bytes 0-1 give a length in units of 24 bytes (up to about 1.5 MiB), the rest is a pattern
 * repeated to that length; a length of 0 keeps the pattern once. Returns a malloc'ed buffer.
 */
static inline char *fuzz_amplify(const uint8_t *data, size_t size, size_t *out_len)
{
	const uint8_t *pattern = data + (size < 2 ? size : 2);
	size_t pattern_len = size < 2 ? 0 : size - 2;
	size_t target = size < 2 ? 0 : (((size_t)data[0] << 8) | data[1]) * 24;
	size_t len, i;
	char *buf;

	if (target == 0 || pattern_len == 0)
		target = pattern_len;
	len = target;
	buf = malloc(len + 1);
	if (buf == NULL)
		abort();
	for (i = 0; i < len; i += pattern_len) {
		size_t n = len - i < pattern_len ? len - i : pattern_len;
		memcpy(buf + i, pattern, n);
	}
	*out_len = len;
	return buf;
}

#endif
