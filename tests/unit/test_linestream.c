/* test_linestream.c: every line of a file, in order, with more streams open at once than the chunk pool serves. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source/linestream.h"
#include "unit.h"

/* Lines "line N of NAME, padded ...", N from 1: long enough that LINES of them fill many chunks. */
#define LINES 40000

static char dir[] = "/tmp/memscript-linestream-XXXXXX";

static void line_text(char *buf, size_t size, const char *name, long n)
{
	snprintf(buf, size, "line %ld of %s, padded to be read across many 256 KiB chunks: %080ld", n, name, n);
}

/* Writes a file of lines lines named name under dir; returns its path (static buffer per call site). */
static int write_file(const char *name, long lines, char *path, size_t size)
{
	char buf[256];
	FILE *f;
	long n;

	snprintf(path, size, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return errno;
	for (n = 1; n <= lines; n++) {
		line_text(buf, sizeof(buf), name, n);
		fprintf(f, "%s\n", buf);
	}
	return fclose(f) == 0 ? 0 : errno;
}

/* Reads the next line of s and checks it is line n of name; returns 1 when it is. */
static int next_is(struct linestream *s, const char *name, long n)
{
	char want[256];
	const char *line;
	size_t len;
	int r = linestream_next(s, &line, &len);

	if (!CHECK_INT("a line is there", 1, r))
		return 0;
	line_text(want, sizeof(want), name, n);
	if (strlen(want) != len || memcmp(want, line, len) != 0)
		return CHECK_TEXT("the line", want, line, len);
	return CHECK_INT("its number", n, linestream_lineno(s));
}

/*
 * Three large files read in turns, a line of each at a time: each stream keeps up to four chunks,
 * twelve in all, more than the eight of the pool, so some chunks come from malloc; twice, so the
 * second round takes back what the first gave.
 */
static void test_interleaved(void)
{
	static const char *const names[3] = {"a", "b", "c"};
	char paths[3][512];
	struct linestream *s[3];
	int i, round;
	long n;

	for (i = 0; i < 3; i++)
		if (!CHECK_INT("file written", 0, write_file(names[i], LINES, paths[i], sizeof(paths[i]))))
			return;
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++)
			if (!CHECK_INT("opened", 0, linestream_open(paths[i], &s[i])))
				return;
		for (n = 1; n <= LINES; n++)
			for (i = 0; i < 3; i++)
				if (!next_is(s[i], names[i], n))
					goto close;
		for (i = 0; i < 3; i++) {
			const char *line;
			size_t len;
			CHECK_INT("the end after the last line", 0, linestream_next(s[i], &line, &len));
		}
	close:
		for (i = 0; i < 3; i++)
			linestream_close(s[i]);
	}
	for (i = 0; i < 3; i++)
		unlink(paths[i]);
}

/* Streams closed mid-file give their chunks back: many opened, read a little and closed, in a row. */
static void test_closed_midway(void)
{
	char path[512];
	int k;

	if (!CHECK_INT("file written", 0, write_file("mid", LINES, path, sizeof(path))))
		return;
	for (k = 0; k < 50; k++) {
		struct linestream *s;
		long n;
		if (!CHECK_INT("opened", 0, linestream_open(path, &s)))
			return;
		for (n = 1; n <= 1000 * (k % 5 + 1); n++)
			if (!next_is(s, "mid", n))
				break;
		linestream_close(s);
	}
	unlink(path);
}

/* A file within the first chunk: read without a thread, every line, then the end. */
static void test_small_file(void)
{
	char path[512];
	struct linestream *s;
	const char *line;
	size_t len;
	long n;

	if (!CHECK_INT("file written", 0, write_file("small", 10, path, sizeof(path))))
		return;
	if (!CHECK_INT("opened", 0, linestream_open(path, &s)))
		return;
	for (n = 1; n <= 10; n++)
		if (!next_is(s, "small", n))
			break;
	CHECK_INT("the end", 0, linestream_next(s, &line, &len));
	linestream_close(s);
	unlink(path);
}

/*
 * A file of many chunks, its last line without a newline, read a span at a time: every line, in
 * order, whole, with many lines in most spans.
 */
static void test_spans(void)
{
	static const char last[] = "the last line, with no newline";
	char path[512], want[256];
	struct linestream *s;
	const char *span;
	size_t len;
	long n = 0, spans = 0;
	FILE *f;
	int r;

	if (!CHECK_INT("file written", 0, write_file("spans", LINES, path, sizeof(path))))
		return;
	f = fopen(path, "a");
	if (!CHECK("appended", f != NULL && fputs(last, f) >= 0 && fclose(f) == 0))
		return;
	if (!CHECK_INT("opened", 0, linestream_open(path, &s)))
		return;
	while ((r = linestream_next_span(s, &span, &len)) == 1) {
		const char *p = span, *end = span + len;
		spans++;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t line_len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
			if (++n <= LINES)
				line_text(want, sizeof(want), "spans", n);
			else
				strcpy(want, last);
			if (strlen(want) != line_len || memcmp(want, p, line_len) != 0) {
				CHECK_TEXT("the line", want, p, line_len);
				goto out;
			}
			p = nl != NULL ? nl + 1 : end;
		}
	}
	CHECK_INT("the end", 0, r);
	CHECK_INT("every line", LINES + 1, n);
	/* 40,001 lines of about 140 bytes: about 22 chunks, each a span, and a line across each boundary */
	CHECK("many lines a span", spans > 1 && spans < 100);
out:
	linestream_close(s);
	unlink(path);
}

/*
 * Through a pipe: part A (several chunks), then B, 20 KiB, written 100 ms later (the parser has
 * taken what it was handed of A and waits), then C, held back until the parser has B's last line
 * or hold_ms have passed. A reader blocks in read(2) on an empty pipe, so the last of A it holds
 * is handed over with B, or not before C.
 */
#define PART_A_LINES 2000 /* about 280 KiB: more than the first chunk of either kind of stream */
#define PART_B_LINES 140  /* about 20 KiB: past the 16 KiB a waiting parser is handed */
#define PART_C_LINES 1000
#define PART_LAST (PART_A_LINES + PART_B_LINES + PART_C_LINES)

struct held_back {
	int fd;
	long hold_ms;
	int parser_has_b;   /* set by the parser when it has B's last line */
	int c_written;      /* set by the writer before it writes C */
};

/*
 * Writes lines from to to with one write(2), so a reader waiting on the pipe gets them all with one
 * read (they fit in an empty pipe's 64 KiB, whose writer holds the pipe's lock until they are in).
 */
static int write_lines(int fd, long from, long to)
{
	char *buf = malloc(256 * (size_t)(to - from + 1));
	size_t len = 0;
	ssize_t written;
	long n;

	if (buf == NULL)
		return ENOMEM;
	for (n = from; n <= to; n++) {
		line_text(buf + len, 255, "pipe", n);
		len += strlen(buf + len);
		buf[len++] = '\n';
	}
	written = write(fd, buf, len);
	free(buf);
	return written == (ssize_t)len ? 0 : written < 0 ? errno : EIO;
}

/* Writes lines from to to a hundred at a time: more than a pipe holds, as its reader takes them. */
static void write_many(int fd, long from, long to)
{
	long n;

	for (n = from; n <= to; n += 100)
		write_lines(fd, n, n + 99 <= to ? n + 99 : to);
}

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static void *write_parts(void *arg)
{
	struct held_back *h = arg;
	long waited;

	write_many(h->fd, 1, PART_A_LINES);
	sleep_ms(100);
	write_lines(h->fd, PART_A_LINES + 1, PART_A_LINES + PART_B_LINES);
	for (waited = 0; waited < h->hold_ms && !__atomic_load_n(&h->parser_has_b, __ATOMIC_ACQUIRE); waited++)
		sleep_ms(1);
	__atomic_store_n(&h->c_written, 1, __ATOMIC_RELEASE);
	write_many(h->fd, PART_A_LINES + PART_B_LINES + 1, PART_LAST);
	close(h->fd);
	return NULL;
}

/*
 * Reads every line of the three parts through a stream opened by open; returns 1 when B's last line
 * came before C was written, 0 when after, -1 when a check failed.
 */
static int b_before_c(int (*open)(int, struct linestream **), long hold_ms)
{
	struct held_back h = {0};
	struct linestream *s;
	pthread_t writer;
	const char *line;
	size_t len;
	long n;
	int fds[2], before = -1;

	if (!CHECK_INT("pipe", 0, pipe(fds) == 0 ? 0 : errno))
		return -1;
	h.fd = fds[1];
	h.hold_ms = hold_ms;
	if (!CHECK_INT("writer started", 0, pthread_create(&writer, NULL, write_parts, &h)))
		return -1;
	if (!CHECK_INT("opened", 0, open(fds[0], &s))) {
		close(fds[0]);
		pthread_join(writer, NULL);
		return -1;
	}
	for (n = 1; n <= PART_LAST; n++) {
		if (!next_is(s, "pipe", n))
			break;
		if (n == PART_A_LINES + PART_B_LINES) {
			before = !__atomic_load_n(&h.c_written, __ATOMIC_ACQUIRE);
			__atomic_store_n(&h.parser_has_b, 1, __ATOMIC_RELEASE);
		}
	}
	if (n <= PART_LAST || !CHECK_INT("the end", 0, linestream_next(s, &line, &len)))
		before = -1;
	__atomic_store_n(&h.parser_has_b, 1, __ATOMIC_RELEASE);
	linestream_close(s);
	pthread_join(writer, NULL);
	return before;
}

/* A parser that waits is handed what the reader holds once that is 16 KiB, not a whole chunk. */
static void test_waiting_parser(void)
{
	int before = b_before_c(linestream_open_fd, 5000);

	if (before >= 0)
		CHECK_INT("B's last line taken before C was written", 1, before);
}

/* A read-ahead pool's stream hands over whole chunks: its parser waits for C. */
static void test_waiting_pool_parser(void)
{
	int before = b_before_c(linestream_open_fd_filled, 300);

	if (before >= 0)
		CHECK_INT("B's last line taken after C was written", 0, before);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a writer whose reader stopped early gets EPIPE */
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	UNIT_RUN(test_interleaved, "three large files read a line of each in turn, twice: every line, in order, then the end");
	UNIT_RUN(test_closed_midway, "fifty streams closed mid-file one after another: each reads its lines from the start");
	UNIT_RUN(test_small_file, "a file within the first chunk: its lines, then the end");
	UNIT_RUN(test_waiting_parser, "a parser that waits is handed the lines read so far once they are 16 KiB, not a whole chunk");
	UNIT_RUN(test_waiting_pool_parser, "a read-ahead pool's stream hands over whole chunks, also to a parser that waits");
	UNIT_RUN(test_spans, "a file of many chunks read a span at a time: every line whole and in order, the last without newline");
	rmdir(dir);
	return unit_end();
}
