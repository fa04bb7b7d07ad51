/* procfile.c: one read loop for every /proc file memscript reads whole. */
#include "source/procfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* Most status, statm and meminfo files fit in one page; smaps grows the buffer geometrically. */
#define PROCFILE_INITIAL 8192

long procfile_read_some(int fd, char *buf, size_t count)
{
	ssize_t n;

	do
		n = read(fd, buf, count);
	while (n < 0 && errno == EINTR);
	return (long)n;
}

int procfile_read_fd(int fd, struct procfile *file)
{
	return procfile_read_fd_max(fd, 0, file);
}

int procfile_read_fd_max(int fd, size_t max, struct procfile *file)
{
	file->data = NULL;
	file->len = 0;
	file->cap = 0;
	for (;;) {
		long n;
		if (file->cap - file->len < 2) {
			size_t cap = file->cap ? file->cap * 2 : PROCFILE_INITIAL;
			char *grown = realloc(file->data, cap);
			if (grown == NULL) {
				procfile_free(file);
				return ENOMEM;
			}
			file->data = grown;
			file->cap = cap;
		}
		n = procfile_read_some(fd, file->data + file->len, file->cap - file->len - 1);
		if (n < 0) {
			int err = errno;
			procfile_free(file);
			return err;
		}
		if (n == 0)
			break;
		file->len += (size_t)n;
		if (max != 0 && file->len > max) {
			procfile_free(file);
			return EFBIG;
		}
	}
	file->data[file->len] = '\0';
	return 0;
}

int procfile_read(const char *path, struct procfile *file)
{
	int fd, err;

	file->data = NULL;
	file->len = file->cap = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	err = procfile_read_fd(fd, file);
	close(fd);
	return err;
}

void procfile_free(struct procfile *file)
{
	free(file->data);
	file->data = NULL;
	file->len = file->cap = 0;
}
