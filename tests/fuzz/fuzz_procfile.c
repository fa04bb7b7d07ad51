/* fuzz_procfile.c: procfile_read of a memfd and procfile_read_fd of a pipe give back exactly the bytes written. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "source/procfile.h"

/*
 * All of the data is written to the pipe before it is read, so it must fit: a write that does
 * not fit the free space of the pipe's last page starts a new one, wasting less than a page each.
 */
#define PIPE_CAPACITY (1024 * 1024)
#define PIPE_BYTES (PIPE_CAPACITY / 2)

static void check_same(const struct procfile *file, const char *bytes, size_t len)
{
	FUZZ_CHECK(file->len == len);
	FUZZ_CHECK(file->data != NULL && file->cap > file->len);
	FUZZ_CHECK(memcmp(file->data, bytes, len) == 0);
	FUZZ_CHECK(file->data[len] == '\0');
}

static void check_pipe(const char *bytes, size_t len)
{
	struct procfile file;
	int fds[2];
	size_t off = 0, piece = 1;

	if (pipe(fds) != 0)
		abort();
	if (fcntl(fds[1], F_SETPIPE_SZ, PIPE_CAPACITY) < PIPE_CAPACITY && len > 16384) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	/* Growing pieces, so the data arrives in several pipe buffers. */
	while (off < len) {
		size_t n = len - off < piece ? len - off : piece;
		FUZZ_CHECK(write(fds[1], bytes + off, n) == (ssize_t)n);
		off += n;
		piece = piece * 3 + 1;
	}
	close(fds[1]);
	FUZZ_CHECK(procfile_read_fd(fds[0], &file) == 0);
	check_same(&file, bytes, len);
	procfile_free(&file);
	FUZZ_CHECK(file.data == NULL && file.len == 0 && file.cap == 0);
	close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file mem = {-1, ""};
	struct procfile file;
	size_t len;
	char *bytes = fuzz_amplify(data, size, &len);

	if (mem.fd < 0) {
		fuzz_file_init(&mem, "procfile");
		/* A missing file: the errno, and an empty result that is safe to free. */
		FUZZ_CHECK(procfile_read("/nonexistent/memscript-fuzz", &file) == ENOENT);
		FUZZ_CHECK(file.data == NULL && file.len == 0);
		procfile_free(&file);
	}
	fuzz_file_set(&mem, bytes, len);
	FUZZ_CHECK(procfile_read(mem.path, &file) == 0);
	check_same(&file, bytes, len);
	procfile_free(&file);

	if (len <= PIPE_BYTES)
		check_pipe(bytes, len);
	free(bytes);
	return 0;
}
