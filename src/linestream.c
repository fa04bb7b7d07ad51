/* linestream.c: a reader thread fills fixed chunks; the caller takes whole lines out of them. */
#include "linestream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procfile.h"

/*
 * One read(2) of smaps returns as many whole records as fit, so a chunk is one read. 256 KiB is
 * about 300 smaps records: big enough that syscalls and hand-offs are cheap, small enough that
 * the reader and the parser start overlapping at once and memory stays at CHUNKS * CHUNK_SIZE.
 */
#define CHUNK_SIZE (256 * 1024)
#define CHUNKS 4

/*
 * The parser is faster than the kernel produces smaps, so it mostly waits for the next chunk.
 * Sleeping on a condition variable costs the reader a wake-up per chunk, which is on the
 * critical path (the kernel's read is the floor); so a waiting side first polls for a while and
 * sleeps only when that is not enough. The other side signals only a side that sleeps.
 * Polling yields the processor each time, so on a machine whose other cores are busy the
 * waiting side does not take the reader's time.
 */
#define SPIN_NANOSECONDS 1000000L

struct chunk {
	char *data;
	size_t len;
};

struct linestream {
	int fd;
	struct chunk chunks[CHUNKS];

	/*
	 * Ring of chunks: the reader fills slot produced % CHUNKS while produced - consumed < CHUNKS;
	 * the parser holds slot consumed % CHUNKS while produced > consumed.
	 */
	atomic_uint produced;
	atomic_uint consumed;
	atomic_int reader_done;    /* end of file or an error: no more chunks */
	int reader_error;          /* errno of a failed read, written before reader_done */
	atomic_int stop;           /* the parser closes early: the reader must quit */
	atomic_int parser_sleeps;
	atomic_int reader_sleeps;
	pthread_mutex_t lock;      /* only for sleeping and waking */
	pthread_cond_t changed;
	int threaded;
	pthread_t thread;

	/* Parser side: the chunk being cut into lines. */
	int current;       /* index of the chunk held by the parser, -1 when none */
	size_t pos;
	long lineno;

	/* A line that crosses a chunk boundary is assembled here. */
	char *carry;
	size_t carry_len;
	size_t carry_cap;
};

static void wake(struct linestream *s, atomic_int *sleeps)
{
	if (atomic_load(sleeps)) {
		pthread_mutex_lock(&s->lock);
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);
	}
}

static long elapsed_ns(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

/* Waits until ready(s) is true: polls first, then sleeps with *sleeps set so the other side wakes it. */
static void wait_until(struct linestream *s, int (*ready)(struct linestream *), atomic_int *sleeps)
{
	struct timespec start;
	unsigned polls = 0;

	if (ready(s))
		return;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!ready(s)) {
		/* Yielding lets the other side run first when both share a core on a busy machine. */
		sched_yield();
		if ((++polls & 7) == 0 && elapsed_ns(&start) > SPIN_NANOSECONDS) {
			pthread_mutex_lock(&s->lock);
			atomic_store(sleeps, 1);
			while (!ready(s))
				pthread_cond_wait(&s->changed, &s->lock);
			atomic_store(sleeps, 0);
			pthread_mutex_unlock(&s->lock);
			return;
		}
	}
}

static int reader_may_fill(struct linestream *s)
{
	return atomic_load(&s->stop) ||
	       atomic_load(&s->produced) - atomic_load(&s->consumed) < CHUNKS;
}

static int parser_may_take(struct linestream *s)
{
	return atomic_load(&s->reader_done) ||
	       atomic_load(&s->produced) != atomic_load(&s->consumed);
}

static void *reader_main(void *arg)
{
	struct linestream *s = arg;

	for (;;) {
		unsigned slot;
		long n;
		wait_until(s, reader_may_fill, &s->reader_sleeps);
		if (atomic_load(&s->stop))
			break;
		slot = atomic_load(&s->produced) % CHUNKS;
		n = procfile_read_some(s->fd, s->chunks[slot].data, CHUNK_SIZE);
		if (n <= 0) {
			s->reader_error = n < 0 ? errno : 0;
			atomic_store(&s->reader_done, 1);
			wake(s, &s->parser_sleeps);
			break;
		}
		s->chunks[slot].len = (size_t)n;
		atomic_fetch_add(&s->produced, 1);
		wake(s, &s->parser_sleeps);
	}
	return NULL;
}

int linestream_open(const char *path, struct linestream **out)
{
	struct linestream *s;
	long n;
	int i;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ENOMEM;
	s->current = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		int err = errno;
		linestream_close(s);
		return err;
	}
	for (i = 0; i < CHUNKS; i++) {
		s->chunks[i].data = malloc(CHUNK_SIZE);
		if (s->chunks[i].data == NULL) {
			linestream_close(s);
			return ENOMEM;
		}
	}

	/* The first read decides: a file that did not fill half a chunk is finished here, no thread. */
	n = procfile_read_some(s->fd, s->chunks[0].data, CHUNK_SIZE);
	if (n < 0) {
		int err = errno;
		linestream_close(s);
		return err;
	}
	s->chunks[0].len = (size_t)n;
	if (n == 0) {
		atomic_store(&s->reader_done, 1);
	} else if ((size_t)n < CHUNK_SIZE / 2) {
		/* Small file: read the rest in place, no thread needed. */
		size_t len = (size_t)n;
		while (len < CHUNK_SIZE) {
			n = procfile_read_some(s->fd, s->chunks[0].data + len, CHUNK_SIZE - len);
			if (n < 0) {
				int err = errno;
				linestream_close(s);
				return err;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		s->chunks[0].len = len;
		atomic_store(&s->produced, 1);
		if (len < CHUNK_SIZE)
			atomic_store(&s->reader_done, 1);
	} else {
		atomic_store(&s->produced, 1);
	}
	if (!atomic_load(&s->reader_done)) {
		if (pthread_create(&s->thread, NULL, reader_main, s) != 0) {
			linestream_close(s);
			return EAGAIN;
		}
		s->threaded = 1;
	}
	*out = s;
	return 0;
}

/* Gives the current chunk back and waits for the next. Returns 1, 0 at end, or -errno. */
static int next_chunk(struct linestream *s)
{
	if (s->current >= 0) {
		s->current = -1;
		atomic_fetch_add(&s->consumed, 1);
		wake(s, &s->reader_sleeps);
	}
	wait_until(s, parser_may_take, &s->parser_sleeps);
	if (atomic_load(&s->produced) != atomic_load(&s->consumed)) {
		s->current = (int)(atomic_load(&s->consumed) % CHUNKS);
		s->pos = 0;
		return 1;
	}
	return s->reader_error ? -s->reader_error : 0;
}

static int carry_append(struct linestream *s, const char *p, size_t n)
{
	if (s->carry_len + n > s->carry_cap) {
		size_t cap = s->carry_cap ? s->carry_cap : 4096;
		char *grown;
		while (cap < s->carry_len + n)
			cap *= 2;
		grown = realloc(s->carry, cap);
		if (grown == NULL)
			return -ENOMEM;
		s->carry = grown;
		s->carry_cap = cap;
	}
	memcpy(s->carry + s->carry_len, p, n);
	s->carry_len += n;
	return 0;
}

int linestream_next(struct linestream *s, const char **line, size_t *len)
{
	int carrying = 0;

	s->carry_len = 0;
	for (;;) {
		struct chunk *c;
		const char *start, *nl;
		int r;

		if (s->current < 0 || s->pos == s->chunks[s->current].len) {
			r = next_chunk(s);
			if (r < 0)
				return r;
			if (r == 0) {
				if (!carrying)
					return 0;
				/* The last line had no newline. */
				*line = s->carry;
				*len = s->carry_len;
				s->lineno++;
				return 1;
			}
			continue;
		}
		c = &s->chunks[s->current];
		start = c->data + s->pos;
		nl = memchr(start, '\n', c->len - s->pos);
		if (nl == NULL) {
			/* The line goes on in the next chunk: keep this piece. */
			if ((r = carry_append(s, start, c->len - s->pos)) < 0)
				return r;
			carrying = 1;
			s->pos = c->len;
			continue;
		}
		s->pos += (size_t)(nl - start) + 1;
		s->lineno++;
		if (!carrying) {
			*line = start;
			*len = (size_t)(nl - start);
			return 1;
		}
		if ((r = carry_append(s, start, (size_t)(nl - start))) < 0)
			return r;
		*line = s->carry;
		*len = s->carry_len;
		return 1;
	}
}

long linestream_lineno(const struct linestream *s)
{
	return s->lineno;
}

void linestream_close(struct linestream *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->threaded) {
		atomic_store(&s->stop, 1);
		wake(s, &s->reader_sleeps);
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	if (s->fd >= 0)
		close(s->fd);
	for (i = 0; i < CHUNKS; i++)
		free(s->chunks[i].data);
	free(s->carry);
	free(s);
}
