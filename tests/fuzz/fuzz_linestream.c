/* fuzz_linestream.c: the lines linestream gives for a file of up to 1.5 MiB equal the file split at '\n'. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "source/linestream.h"

static long count_lines(const char *bytes, size_t len)
{
	long n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += bytes[i] == '\n';
	return n + (len > 0 && bytes[len - 1] != '\n');
}

/* Reads stop_after lines of s and checks them against bytes; at the end, checks end of file. */
static void check_stream(struct linestream *s, const char *bytes, size_t len, long stop_after)
{
	const char *expect = bytes, *end = bytes + len;
	long total = count_lines(bytes, len), n = 0;

	while (n < stop_after) {
		const char *line, *nl;
		size_t line_len;
		FUZZ_CHECK(linestream_next(s, &line, &line_len) == 1);
		n++;
		FUZZ_CHECK(linestream_lineno(s) == n);
		nl = memchr(expect, '\n', (size_t)(end - expect));
		FUZZ_CHECK(line_len == (size_t)((nl ? nl : end) - expect));
		FUZZ_CHECK(memcmp(line, expect, line_len) == 0);
		expect = nl ? nl + 1 : end;
	}
	if (stop_after == total) {
		const char *line;
		size_t line_len;
		FUZZ_CHECK(expect == end);
		FUZZ_CHECK(linestream_next(s, &line, &line_len) == 0);
		/* End of file stays end of file. */
		FUZZ_CHECK(linestream_next(s, &line, &line_len) == 0);
		FUZZ_CHECK(linestream_lineno(s) == total);
	}
}

/* A pipe fed in pieces of changing size, so reads come back short as they do from a seq_file. */
struct feeder {
	int fd;
	const char *bytes;
	size_t len;
	uint32_t seed;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;
	uint32_t x = f->seed | 1;

	while (off < f->len) {
		size_t piece;
		ssize_t n;
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		piece = 1 + x % 12000;
		if (piece > f->len - off)
			piece = f->len - off;
		n = write(f->fd, f->bytes + off, piece);
		if (n < 0)
			break; /* EPIPE: the stream was closed before the end */
		off += (size_t)n;
	}
	close(f->fd);
	return NULL;
}

/*
 * Byte 0: bit 7 set: the stream is closed after (bits 0-5) / 64 of the lines, with the reader
 * thread possibly still running; bit 6 set: the file is a pipe rather than a memfd. The rest:
 * a pattern and its length (fuzz_amplify). Every input is also read through linestream_open_memory.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file mem = {-1, ""};
	struct linestream *s = NULL;
	size_t len;
	char *bytes;
	long total, stop_after;

	if (size == 0)
		return 0;
	if (mem.fd < 0) {
		signal(SIGPIPE, SIG_IGN);
		fuzz_file_init(&mem, "linestream");
		FUZZ_CHECK(linestream_open("/nonexistent/memscript-fuzz", &s) == ENOENT);
	}
	bytes = fuzz_amplify(data + 1, size - 1, &len);
	total = count_lines(bytes, len);
	stop_after = data[0] & 0x80 ? (long)(data[0] & 0x3f) * total / 64 : total;

	if (data[0] & 0x40) {
		struct feeder f;
		pthread_t thread;
		char path[64];
		int fds[2];
		FUZZ_CHECK(pipe(fds) == 0);
		f.fd = fds[1];
		f.bytes = bytes;
		f.len = len;
		f.seed = (uint32_t)size * 2654435761u;
		FUZZ_CHECK(pthread_create(&thread, NULL, feed, &f) == 0);
		/* Opening /proc/self/fd/N of a pipe gives a new reader of the same pipe. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
		FUZZ_CHECK(linestream_open(path, &s) == 0);
		check_stream(s, bytes, len, stop_after);
		linestream_close(s);
		close(fds[0]);
		pthread_join(thread, NULL);
	} else {
		fuzz_file_set(&mem, bytes, len);
		FUZZ_CHECK(linestream_open(mem.path, &s) == 0);
		check_stream(s, bytes, len, stop_after);
		linestream_close(s);
	}

	FUZZ_CHECK(linestream_open_memory(bytes, len, &s) == 0);
	check_stream(s, bytes, len, stop_after);
	linestream_close(s);
	free(bytes);
	return 0;
}
