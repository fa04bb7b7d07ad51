/* outfile.c: atomic replacement of an output file (write a temporary file, fsync, rename). */
/* realpath(3) is an XSI function. */
#define _XOPEN_SOURCE 700
#include "host/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char target[PATH_MAX];
static char temporary[PATH_MAX + 16];
static int saved_stdout = -1;

int outfile_begin(const char *path)
{
	struct stat st;
	mode_t mode;
	int fd;

	if (snprintf(target, sizeof(target), "%s", path) >= (int)sizeof(target))
		return ENAMETOOLONG;
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		/* A link to the file: the file is replaced, beside itself, and the link kept. */
		if (realpath(path, target) == NULL)
			return errno;
	}
	if (stat(target, &st) == 0) {
		/* Renaming over a device, a pipe or a directory would replace it with a plain file. */
		if (!S_ISREG(st.st_mode))
			return OUTFILE_NOT_REGULAR;
		mode = st.st_mode & 07777;
	} else {
		/* What a plain create would give: 0666 less the umask. */
		mode = umask(0);
		umask(mode);
		mode = 0666 & ~mode;
	}
	if (snprintf(temporary, sizeof(temporary), "%s.tmpXXXXXX", target) >= (int)sizeof(temporary))
		return ENAMETOOLONG;
	fd = mkstemp(temporary);
	if (fd < 0)
		return errno;
	/* mkstemp makes 0600: the file gets the mode the file it replaces had, or a new file's. */
	fchmod(fd, mode);
	fflush(stdout);
	saved_stdout = dup(STDOUT_FILENO);
	if (saved_stdout < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		int err = errno;
		close(fd);
		unlink(temporary);
		if (saved_stdout >= 0)
			close(saved_stdout);
		saved_stdout = -1;
		return err;
	}
	close(fd);
	clearerr(stdout);
	return 0;
}

static void restore_stdout(void)
{
	if (saved_stdout >= 0) {
		dup2(saved_stdout, STDOUT_FILENO);
		close(saved_stdout);
		saved_stdout = -1;
	}
	clearerr(stdout);
}

int outfile_commit(void)
{
	int err = 0;

	if (saved_stdout < 0)
		return 0;
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err = errno;
		/* An earlier failed write left no errno behind; one more byte tells why (the file
		 * is discarded anyway): "No space left on device" rather than a bare I/O error. */
		if (err == 0 && write(STDOUT_FILENO, "\n", 1) < 0)
			err = errno;
		if (err == 0)
			err = EIO;
	}
	else if (fsync(STDOUT_FILENO) != 0)
		err = errno;
	restore_stdout();
	if (err == 0 && rename(temporary, target) != 0)
		err = errno;
	if (err != 0)
		unlink(temporary);
	return err;
}

void outfile_abort(void)
{
	if (saved_stdout < 0)
		return;
	fflush(stdout);
	restore_stdout();
	unlink(temporary);
}
