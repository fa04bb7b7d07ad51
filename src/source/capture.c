/* capture.c: the capture format's one home: its layout, its metadata, and writing a capture safely. */
#include "source/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/keyval_parse.h"
#include "source/source.h"

const char *const capture_process_files[] = {
	"stat", "status", "statm", "comm", "cmdline", "maps", "smaps", "smaps_rollup", "cgroup", NULL,
};

const char *const capture_system_files[] = {"meminfo", "vmstat", NULL};

void capture_page_size(const struct source_dir *proc_top, long *page_size)
{
	struct procfile f;
	const char *p, *end;

	if (source_dir_read(proc_top, CAPTURE_META, &f) != 0)
		return;
	for (p = f.data, end = f.data + f.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;
		struct kv_field field;
		if (kv_parse_line(p, (size_t)(line_end - p), &field) == NULL && field.key_len == 9 &&
		    memcmp(field.key, "page_size", 9) == 0 && field.kind == KV_INT && !field.overflowed &&
		    field.number > 0 && field.number <= (uint64_t)1 << 30)
			*page_size = (long)field.number;
		p = nl != NULL ? nl + 1 : end;
	}
	procfile_free(&f);
}

/* ---- writing ---- */

struct capture_writer {
	int top_fd;     /* dir */
	int proc_fd;    /* dir/proc */
	int partial_fd; /* dir/proc/.partial */
	int sys_fd;     /* dir/sys, once a file of it is written; -1 before */
	char dir[PATH_MAX];
};

static int fail_at(char *err, size_t errlen, const char *dir, const char *rel, int e)
{
	snprintf(err, errlen, "%s%s%s: %s", dir, rel[0] ? "/" : "", rel, strerror(e));
	return e;
}

/* Opens a directory we just made or were given, never through a link. */
static int open_dir_at(int at, const char *name)
{
	return openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Makes dir's missing parents, as mkdir -p does; they are ordinary directories of the caller's. */
static int make_parents(const char *dir)
{
	char path[PATH_MAX];
	size_t i, len = strlen(dir);

	if (len >= sizeof(path))
		return ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return errno;
		path[i] = '/';
	}
	return 0;
}

/*
 * Opens dir for the capture's top: made now (0700), or an existing directory of the caller's that
 * no one else may write to. Returns the descriptor, or -1 with the reason in err.
 */
static int open_top(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int made = 0, fd, e;

	if (mkdir(dir, 0700) == 0) {
		made = 1;
	} else if (errno == ENOENT) {
		if ((e = make_parents(dir)) != 0 || mkdir(dir, 0700) != 0) {
			fail_at(err, errlen, dir, "", e != 0 ? e : errno);
			return -1;
		}
		made = 1;
	} else if (errno != EEXIST) {
		fail_at(err, errlen, dir, "", errno);
		return -1;
	}
	fd = open_dir_at(AT_FDCWD, dir);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			snprintf(err, errlen, "%s: not a directory (a symbolic link is not followed)", dir);
		else
			fail_at(err, errlen, dir, "", errno);
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		fail_at(err, errlen, dir, "", errno);
		close(fd);
		return -1;
	}
	/* Made now, it may still have been swapped by the owner of its parent: check it all the same. */
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %lu, not by the user capturing (uid %lu): capture into a "
			 "directory of your own", dir, (unsigned long)st.st_uid, (unsigned long)geteuid());
		close(fd);
		return -1;
	}
	if (!made && (st.st_mode & 022) != 0) {
		snprintf(err, errlen, "%s: others may write to it (mode %03o): capture into a directory only you "
			 "can write to", dir, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	return fd;
}

/* Makes the directory name at `at` (0700 whatever the umask) and opens it. */
static int make_private_dir(int at, const char *name)
{
	int fd;

	if (mkdirat(at, name, 0700) != 0)
		return -1;
	fd = open_dir_at(at, name);
	if (fd >= 0 && fchmod(fd, 0700) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int capture_create(const char *dir, struct capture_writer **out, char *err, size_t errlen)
{
	struct capture_writer *w;
	int e;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		return fail_at(err, errlen, dir, "", ENOMEM);
	w->top_fd = w->proc_fd = w->partial_fd = w->sys_fd = -1;
	if (snprintf(w->dir, sizeof(w->dir), "%s", dir) >= (int)sizeof(w->dir)) {
		free(w);
		return fail_at(err, errlen, dir, "", ENAMETOOLONG);
	}
	w->top_fd = open_top(dir, err, errlen);
	if (w->top_fd < 0) {
		free(w);
		return EACCES;
	}
	w->proc_fd = make_private_dir(w->top_fd, "proc");
	if (w->proc_fd < 0) {
		e = errno;
		if (e == EEXIST)
			snprintf(err, errlen, "%s/proc: already exists; capture into a new directory", dir);
		else
			fail_at(err, errlen, dir, "proc", e);
		close(w->top_fd);
		free(w);
		return e;
	}
	w->partial_fd = make_private_dir(w->proc_fd, ".partial");
	if (w->partial_fd < 0) {
		e = errno;
		fail_at(err, errlen, dir, "proc/.partial", e);
		close(w->proc_fd);
		close(w->top_fd);
		free(w);
		return e;
	}
	*out = w;
	return 0;
}

/* Writes data into a new file name at `at` (0600). Returns 0 or an errno value. */
static int write_new_file(int at, const char *name, const char *data, size_t len)
{
	int fd = openat(at, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0)
		return errno;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			unlinkat(at, name, 0);
			return e;
		}
		done += (size_t)n;
	}
	if (close(fd) != 0) {
		int e = errno;
		unlinkat(at, name, 0);
		return e;
	}
	return 0;
}

/* Removes the files written so far into a process's staging directory, then the directory. */
static void remove_staged(struct capture_writer *w, const char *pid, int fd, size_t nfiles,
			  const char *const *files)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		unlinkat(fd, files[i], 0);
	unlinkat(w->partial_fd, pid, AT_REMOVEDIR);
}

int capture_write_process(struct capture_writer *w, const char *pid, size_t nfiles, const char *const *files,
			  const char *const *data, const size_t *len, char *err, size_t errlen)
{
	char rel[PATH_MAX];
	size_t i;
	int fd, e = 0;

	if (w->partial_fd < 0)
		return fail_at(err, errlen, w->dir, "proc/.partial", EBADF);

	snprintf(rel, sizeof(rel), "proc/.partial/%s", pid);
	fd = make_private_dir(w->partial_fd, pid);
	if (fd < 0)
		return fail_at(err, errlen, w->dir, rel, errno);
	for (i = 0; i < nfiles && e == 0; i++) {
		if (data[i] == NULL)
			continue;
		e = write_new_file(fd, files[i], data[i], len[i]);
		if (e != 0) {
			snprintf(rel, sizeof(rel), "proc/.partial/%s/%s", pid, files[i]);
			fail_at(err, errlen, w->dir, rel, e);
		}
	}
	if (e == 0 && renameat(w->partial_fd, pid, w->proc_fd, pid) != 0) {
		e = errno;
		snprintf(rel, sizeof(rel), "proc/%s", pid);
		fail_at(err, errlen, w->dir, rel, e);
	}
	if (e != 0)
		remove_staged(w, pid, fd, nfiles, files);
	close(fd);
	return e;
}

/* Opens (making as needed, 0700) the directories of relpath's parent under dir sys. */
static int open_sys_parent(struct capture_writer *w, char *relpath, const char **name)
{
	char *p = relpath, *slash;
	int fd;

	if (w->sys_fd < 0) {
		w->sys_fd = make_private_dir(w->top_fd, "sys");
		if (w->sys_fd < 0)
			return -1;
	}
	fd = dup(w->sys_fd);
	while (fd >= 0 && (slash = strchr(p, '/')) != NULL) {
		int next;
		*slash = '\0';
		next = make_private_dir(fd, p);
		if (next < 0 && errno == EEXIST)
			next = open_dir_at(fd, p);
		*slash = '/';
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*name = p;
	return fd;
}

static int is_plain_relative(const char *relpath)
{
	const char *p = relpath;

	if (p[0] == '\0' || p[0] == '/')
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/')
			p++;
	}
	return p[-1] != '/';
}

int capture_write_file(struct capture_writer *w, int sys, const char *relpath, const char *data, size_t len,
		       char *err, size_t errlen)
{
	char rel[PATH_MAX], copy[PATH_MAX];
	const char *name = relpath;
	int fd, e;

	snprintf(rel, sizeof(rel), "%s/%s", sys ? "sys" : "proc", relpath);
	if (!is_plain_relative(relpath) || (!sys && strchr(relpath, '/') != NULL) ||
	    snprintf(copy, sizeof(copy), "%s", relpath) >= (int)sizeof(copy))
		return fail_at(err, errlen, w->dir, rel, EINVAL);
	if (sys) {
		fd = open_sys_parent(w, copy, &name);
		if (fd < 0)
			return fail_at(err, errlen, w->dir, rel, errno);
	} else {
		fd = w->proc_fd;
	}
	e = write_new_file(fd, name, data, len);
	if (sys)
		close(fd);
	return e != 0 ? fail_at(err, errlen, w->dir, rel, e) : 0;
}

int capture_top_fd(const struct capture_writer *w)
{
	return w->top_fd;
}

void capture_abandon(struct capture_writer *w)
{
	if (w == NULL)
		return;
	if (w->partial_fd >= 0)
		close(w->partial_fd);
	if (w->sys_fd >= 0)
		close(w->sys_fd);
	close(w->proc_fd);
	close(w->top_fd);
	free(w);
}

int capture_finish(struct capture_writer *w, char *err, size_t errlen)
{
	if (w->partial_fd < 0)
		return 0;
	close(w->partial_fd);
	w->partial_fd = -1;
	if (unlinkat(w->proc_fd, ".partial", AT_REMOVEDIR) != 0)
		return fail_at(err, errlen, w->dir, "proc/.partial", errno);
	return 0;
}
