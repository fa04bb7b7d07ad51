/* linestream.c: a reader thread fills fixed chunks; the caller takes whole lines out of them. */
#define _GNU_SOURCE /* memrchr */
#include "source/linestream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "source/bigarray.h"
#include "source/procfile.h"

/*
 * A read(2) of a seq_file such as smaps returns at most about one page, whatever the buffer, so
 * the reader fills a chunk with many reads and hands it over only when nearly full: hand-offs
 * (and the wake-ups they cost) are then about one per 256 KiB, some 170 for the smaps of a
 * process with 60,000 mappings. Memory stays at CHUNKS * CHUNK_SIZE whatever the file's size.
 */
#define CHUNK_SIZE (256 * 1024)
#define CHUNK_SLACK (8 * 1024)
#define CHUNKS 4
/*
 * The first chunk is filled to this much before the caller gets it, each next one to twice the
 * last up to CHUNK_SIZE: the caller starts on the first lines soon, and hand-offs stay few.
 */
#define FIRST_FILL (32 * 1024)
/*
 * A parser that has caught up does not wait for a whole chunk: the reader hands over what it holds
 * as soon as that is EARLY_FILL bytes, so the parser works on while the kernel produces the rest
 * and, after the last read, only the last few kilobytes are left to parse (with whole chunks, the
 * last of a 5,000-line maps held about 110 KiB, a quarter of the parse). A parser that has caught
 * up waits first by spinning, up to SPIN_NS, yielding its CPU to any other thread that wants it:
 * a sleeping thread's wake-up costs the reader a system call and the parser tens of microseconds
 * in a virtual machine, about what the kernel takes to produce the next EARLY_FILL bytes. The CPU
 * time the parser would have slept is spent instead: 2 to 4.5 ms over a 3.6 MB smaps read in about
 * 13.5 ms, for a result about 5 % sooner. A read-ahead pool's streams do neither: their parsers
 * are the pool's threads, whose CPU another process's files can use, and the pool's next file
 * hides a stream's last chunk.
 */
#define EARLY_FILL (16 * 1024)
#define SPIN_NS 200000L

struct chunk {
	char *data;
	size_t len;
};

/*
 * Chunk buffers come first from a pool of POOL_CHUNKS in one 2 MiB region that the kernel is asked
 * to back with a huge page (bigarray): the chunks a one-shot run touches then cost one fault, not one
 * per 4 KiB page (about 250 for a ring of fresh chunks, at ten microseconds or more each in a virtual
 * machine, as much as the kernel's whole cost of a 5,000-line maps). The pool serves two streams at a
 * time, a read-ahead pool's streams beyond it take malloc'ed chunks, and chunks given back by closed
 * streams are kept (at most CHUNKS of them) for the next stream: a scan opens one per process.
 */
#define POOL_CHUNKS 8
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static char *pool;          /* POOL_CHUNKS * CHUNK_SIZE bytes, or NULL when it could not be made */
static int pool_tried;
static unsigned pool_free;  /* bit i set: chunk i of the pool is free */
static char *spare[CHUNKS];
static int spare_count;

static int in_pool(const char *data)
{
	return pool != NULL && data >= pool && data < pool + (size_t)POOL_CHUNKS * CHUNK_SIZE;
}

static char *chunk_buffer(void)
{
	char *data = NULL;

	pthread_mutex_lock(&spare_lock);
	if (!pool_tried) {
		pool_tried = 1;
		pool = bigarray_alloc((size_t)POOL_CHUNKS * CHUNK_SIZE);
		pool_free = pool != NULL ? (1u << POOL_CHUNKS) - 1 : 0;
	}
	if (pool_free != 0) {
		int i = __builtin_ctz(pool_free);
		pool_free &= ~(1u << i);
		data = pool + (size_t)i * CHUNK_SIZE;
	} else if (spare_count > 0) {
		data = spare[--spare_count];
	}
	pthread_mutex_unlock(&spare_lock);
	return data != NULL ? data : malloc(CHUNK_SIZE);
}

static void chunk_release(char *data)
{
	if (data == NULL)
		return;
	pthread_mutex_lock(&spare_lock);
	if (in_pool(data)) {
		pool_free |= 1u << ((size_t)(data - pool) / CHUNK_SIZE);
		data = NULL;
	} else if (spare_count < CHUNKS) {
		spare[spare_count++] = data;
		data = NULL;
	}
	pthread_mutex_unlock(&spare_lock);
	free(data);
}

struct linestream {
	int fd;
	struct chunk chunks[CHUNKS];

	/* Ring of filled chunks handed from the reader to the parser, guarded by lock. */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int head;          /* the chunk the parser takes next (or holds) */
	int filled;        /* chunks filled and not yet given back, the parser's included */
	int reader_done;   /* the reader reached end of file or an error */
	int reader_error;  /* errno of a failed read, 0 otherwise */
	int stop;          /* the parser closes early: the reader must quit */
	int threaded;
	pthread_t thread;
	size_t first_fill; /* what the first chunk is filled to before the caller gets it */
	int eager;         /* a waiting parser is handed EARLY_FILL bytes, and spins */
	/* Read and written with atomics, also outside lock: */
	int parser_waiting; /* the parser found no chunk filled: the reader hands one over early */
	unsigned handed;    /* counts the reader's hand-offs (and its end), for a spinning parser */

	/* Parser side: the chunk being cut into lines. */
	int current;       /* index of the chunk held by the parser, -1 when none */
	size_t pos;
	long lineno;

	/* A line that crosses a chunk boundary is assembled here. */
	char *carry;
	size_t carry_len;
	size_t carry_cap;
	size_t max_line;   /* the longest line taken, in bytes; 0: no limit */
};

/*
 * Reads into c until it holds target bytes or less than CHUNK_SLACK is free, or the file ends, or
 * (with waiting, not NULL) it holds EARLY_FILL bytes and *waiting is set. Returns 0, or an errno
 * value; *eof is set at end of file.
 */
static int fill_chunk(int fd, struct chunk *c, size_t target, int *eof, const int *waiting)
{
	c->len = 0;
	*eof = 0;
	while (c->len < target && CHUNK_SIZE - c->len >= CHUNK_SLACK) {
		long n;
		if (waiting != NULL && c->len >= EARLY_FILL && __atomic_load_n(waiting, __ATOMIC_RELAXED))
			break;
		n = procfile_read_some(fd, c->data + c->len, CHUNK_SIZE - c->len);
		if (n < 0)
			return errno;
		if (n == 0) {
			*eof = 1;
			break;
		}
		c->len += (size_t)n;
	}
	return 0;
}

static void *reader_main(void *arg)
{
	struct linestream *s = arg;

	size_t target = s->first_fill;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		int slot, err, eof;
		while (s->filled == CHUNKS && !s->stop)
			pthread_cond_wait(&s->changed, &s->lock);
		if (s->stop)
			break;
		slot = (s->head + s->filled) % CHUNKS;
		pthread_mutex_unlock(&s->lock);
		target = target * 2 < CHUNK_SIZE ? target * 2 : CHUNK_SIZE;
		err = fill_chunk(s->fd, &s->chunks[slot], target, &eof, s->eager ? &s->parser_waiting : NULL);
		pthread_mutex_lock(&s->lock);
		if (err == 0 && s->chunks[slot].len > 0)
			s->filled++;
		if (err != 0 || eof) {
			s->reader_error = err;
			s->reader_done = 1;
		}
		__atomic_add_fetch(&s->handed, 1, __ATOMIC_RELEASE);
		pthread_cond_signal(&s->changed);
		if (s->reader_done)
			break;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int linestream_open(const char *path, struct linestream **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno;
	return linestream_open_fd(fd, out);
}

static int open_fd(int fd, size_t first_fill, int eager, struct linestream **out)
{
	struct linestream *s;
	int i, err, eof;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		close(fd);
		return ENOMEM;
	}
	s->current = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->fd = fd;
	s->first_fill = first_fill;
	s->eager = eager;
	/* The first chunk is read here: a file that ends within it (most files) needs no thread, nor more chunks. */
	s->chunks[0].data = chunk_buffer();
	if (s->chunks[0].data == NULL) {
		linestream_close(s);
		return ENOMEM;
	}
	err = fill_chunk(s->fd, &s->chunks[0], first_fill, &eof, NULL);
	if (err != 0) {
		linestream_close(s);
		return err;
	}
	s->filled = s->chunks[0].len > 0;
	s->reader_done = eof;
	if (!eof) {
		for (i = 1; i < CHUNKS; i++) {
			s->chunks[i].data = chunk_buffer();
			if (s->chunks[i].data == NULL) {
				linestream_close(s);
				return ENOMEM;
			}
		}
		/*
		 * The reader starts with every signal blocked (a thread inherits its creator's mask), so
		 * Ctrl-C and the --timeout alarm reach the thread that runs Lua, whose hook they arm.
		 */
		sigset_t all, saved;
		int created;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &saved);
		created = pthread_create(&s->thread, NULL, reader_main, s) == 0;
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
		if (!created) {
			linestream_close(s);
			return EAGAIN;
		}
		s->threaded = 1;
	}
	*out = s;
	return 0;
}

int linestream_open_fd(int fd, struct linestream **out)
{
	return open_fd(fd, FIRST_FILL, 1, out);
}

int linestream_open_fd_filled(int fd, struct linestream **out)
{
	return open_fd(fd, CHUNK_SIZE, 0, out);
}

int linestream_open_memory(const char *data, size_t len, struct linestream **out)
{
	struct linestream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ENOMEM;
	s->current = -1;
	s->fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	/* The whole file is one chunk of its own size. */
	s->chunks[0].data = malloc(len > 0 ? len : 1);
	if (s->chunks[0].data == NULL) {
		linestream_close(s);
		return ENOMEM;
	}
	memcpy(s->chunks[0].data, data, len);
	s->chunks[0].len = len;
	s->filled = len > 0;
	s->reader_done = 1;
	*out = s;
	return 0;
}

/* Returns when *counter is no longer seen, or after SPIN_NS, letting other threads run meanwhile. */
static void spin_while_same(const unsigned *counter, unsigned seen)
{
	struct timespec start, now;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 1; __atomic_load_n(counter, __ATOMIC_ACQUIRE) == seen; i++) {
		sched_yield();
		if (i % 16 == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) >= SPIN_NS)
				return;
		}
	}
}

/* Gives the current chunk back and waits for the next. Returns 1, 0 at end, or -errno. */
static int next_chunk(struct linestream *s)
{
	int result, spun = 0;

	pthread_mutex_lock(&s->lock);
	if (s->current >= 0) {
		s->head = (s->head + 1) % CHUNKS;
		s->filled--;
		s->current = -1;
		pthread_cond_signal(&s->changed);
	}
	while (s->filled == 0 && !s->reader_done) {
		__atomic_store_n(&s->parser_waiting, 1, __ATOMIC_RELAXED);
		if (s->eager && !spun) {
			unsigned seen = __atomic_load_n(&s->handed, __ATOMIC_RELAXED);
			spun = 1;
			pthread_mutex_unlock(&s->lock);
			spin_while_same(&s->handed, seen);
			pthread_mutex_lock(&s->lock);
			continue;
		}
		pthread_cond_wait(&s->changed, &s->lock);
	}
	__atomic_store_n(&s->parser_waiting, 0, __ATOMIC_RELAXED);
	if (s->filled > 0) {
		s->current = s->head;
		s->pos = 0;
		result = 1;
	} else {
		result = s->reader_error ? -s->reader_error : 0;
	}
	pthread_mutex_unlock(&s->lock);
	return result;
}

void linestream_set_max_line(struct linestream *s, size_t max)
{
	s->max_line = max;
}

static int carry_append(struct linestream *s, const char *p, size_t n)
{
	if (s->max_line != 0 && s->carry_len + n > s->max_line)
		return -EFBIG;
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

/* The next line, not counted. */
static int next_line(struct linestream *s, const char **line, size_t *len)
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

int linestream_next(struct linestream *s, const char **line, size_t *len)
{
	int r = next_line(s, line, len);

	if (r == 1)
		s->lineno++;
	return r;
}

int linestream_next_span(struct linestream *s, const char **span, size_t *len)
{
	for (;;) {
		struct chunk *c;
		const char *start, *last;
		int r;

		if (s->current < 0 || s->pos == s->chunks[s->current].len) {
			if ((r = next_chunk(s)) <= 0)
				return r;
			continue;
		}
		c = &s->chunks[s->current];
		start = c->data + s->pos;
		last = memrchr(start, '\n', c->len - s->pos);
		if (last == NULL) /* one line that goes on in the next chunk, or the file's last */
			return next_line(s, span, len);
		*span = start;
		*len = (size_t)(last - start) + 1;
		s->pos += *len;
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
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->changed);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
	if (s->fd >= 0)
		close(s->fd);
	/* A memory stream's one chunk is of the file's size, not a chunk buffer. */
	for (i = 0; i < CHUNKS; i++) {
		if (s->fd >= 0)
			chunk_release(s->chunks[i].data);
		else
			free(s->chunks[i].data);
	}
	free(s->carry);
	free(s);
}
