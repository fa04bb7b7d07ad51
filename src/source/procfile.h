/* procfile.h: reading a /proc file whole, with a buffer that grows, surviving EINTR and short reads. */
#ifndef MEMSCRIPT_PROCFILE_H
#define MEMSCRIPT_PROCFILE_H

#include <stddef.h>

/* A file's bytes; data is NUL-terminated one past len. The caller owns data (free it with procfile_free). */
struct procfile {
	char *data;
	size_t len;
	size_t cap;
};

/* Reads path whole into *file. Returns 0, or an errno value (the file is then empty). */
int procfile_read(const char *path, struct procfile *file);

/* Reads from an open descriptor until end of file. Returns 0 or an errno value. */
int procfile_read_fd(int fd, struct procfile *file);

/* The same, failing with EFBIG as soon as more than max bytes (0: no limit) have been read. */
int procfile_read_fd_max(int fd, size_t max, struct procfile *file);

void procfile_free(struct procfile *file);

/* read(2) that retries EINTR; returns bytes read, 0 at end of file, -1 with errno set. */
long procfile_read_some(int fd, char *buf, size_t count);

#endif
