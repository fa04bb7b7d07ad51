/* archive_pack.c: a captured tree packed into one archive file with libarchive, replacing the file only when whole. */
#define _GNU_SOURCE /* fdopendir, O_PATH */
#include "source/archive_pack.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "source/libarchive_load.h"

/* libarchive's writing half, loaded when the first archive is written (libarchive_load.h says why). */
static struct {
	struct archive *(*write_new)(void);
	int (*write_set_format_filter_by_ext)(struct archive *, const char *);
	int (*write_set_format_pax_restricted)(struct archive *);
	int (*write_open_fd)(struct archive *, int);
	int (*write_header)(struct archive *, struct archive_entry *);
	la_ssize_t (*write_data)(struct archive *, const void *, size_t);
	int (*write_close)(struct archive *);
	int (*write_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	struct archive_entry *(*entry_new)(void);
	void (*entry_free)(struct archive_entry *);
	void (*entry_set_pathname)(struct archive_entry *, const char *);
	void (*entry_set_size)(struct archive_entry *, la_int64_t);
	void (*entry_set_filetype)(struct archive_entry *, unsigned int);
	void (*entry_set_perm)(struct archive_entry *, __LA_MODE_T);
	void (*entry_set_mtime)(struct archive_entry *, time_t, long);
	void (*entry_set_uid)(struct archive_entry *, la_int64_t);
	void (*entry_set_gid)(struct archive_entry *, la_int64_t);
} la;

static int load_libarchive(char *err, size_t errlen)
{
	static int loaded;
	const struct libarchive_symbol symbols[] = {
		{(void **)&la.write_new, "archive_write_new"},
		{(void **)&la.write_set_format_filter_by_ext, "archive_write_set_format_filter_by_ext"},
		{(void **)&la.write_set_format_pax_restricted, "archive_write_set_format_pax_restricted"},
		{(void **)&la.write_open_fd, "archive_write_open_fd"},
		{(void **)&la.write_header, "archive_write_header"},
		{(void **)&la.write_data, "archive_write_data"},
		{(void **)&la.write_close, "archive_write_close"},
		{(void **)&la.write_free, "archive_write_free"},
		{(void **)&la.error_string, "archive_error_string"},
		{(void **)&la.entry_new, "archive_entry_new"},
		{(void **)&la.entry_free, "archive_entry_free"},
		{(void **)&la.entry_set_pathname, "archive_entry_set_pathname"},
		{(void **)&la.entry_set_size, "archive_entry_set_size"},
		{(void **)&la.entry_set_filetype, "archive_entry_set_filetype"},
		{(void **)&la.entry_set_perm, "archive_entry_set_perm"},
		{(void **)&la.entry_set_mtime, "archive_entry_set_mtime"},
		{(void **)&la.entry_set_uid, "archive_entry_set_uid"},
		{(void **)&la.entry_set_gid, "archive_entry_set_gid"},
	};

	if (loaded)
		return 0;
	if (libarchive_load(symbols, sizeof(symbols) / sizeof(symbols[0]), "write", err, errlen) != 0)
		return -1;
	loaded = 1;
	return 0;
}

struct packer {
	struct archive *a;
	struct archive_entry *entry;
	time_t now;
	char *err;
	size_t errlen;
	const char *archive_path;
};

static int entry_header(struct packer *p, const char *path, unsigned type, unsigned perm, la_int64_t size)
{
	struct archive_entry *e = p->entry;

	la.entry_set_pathname(e, path);
	la.entry_set_filetype(e, type);
	la.entry_set_perm(e, perm);
	la.entry_set_size(e, size);
	la.entry_set_mtime(e, p->now, 0);
	la.entry_set_uid(e, (la_int64_t)geteuid());
	la.entry_set_gid(e, (la_int64_t)getegid());
	if (la.write_header(p->a, e) < ARCHIVE_WARN) {
		snprintf(p->err, p->errlen, "%s: %s: %s", p->archive_path, path, la.error_string(p->a));
		return EIO;
	}
	return 0;
}

/* Packs the regular file name at dirfd as path. */
static int pack_file(struct packer *p, int dirfd, const char *name, const char *path)
{
	char buf[65536];
	struct stat st;
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), e;

	if (fd < 0 || fstat(fd, &st) != 0) {
		e = errno;
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return e;
	}
	if ((e = entry_header(p, path, AE_IFREG, 0600, (la_int64_t)st.st_size)) != 0) {
		close(fd);
		return e;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			snprintf(p->err, p->errlen, "%s: %s", path, strerror(e));
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		if (la.write_data(p->a, buf, (size_t)n) != n) {
			snprintf(p->err, p->errlen, "%s: %s", p->archive_path, la.error_string(p->a));
			close(fd);
			return EIO;
		}
	}
	close(fd);
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Packs the directory name at dirfd, as path, and everything in it, in name order. */
static int pack_dir(struct packer *p, int dirfd, const char *name, const char *path)
{
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *d;
	DIR *dir;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = 0;

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		e = errno;
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return e;
	}
	if ((e = entry_header(p, path, AE_IFDIR, 0700, 0)) != 0) {
		closedir(dir);
		return e;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
			if (grown == NULL) {
				e = ENOMEM;
				break;
			}
			names = grown;
		}
		if ((names[n] = strdup(d->d_name)) == NULL) {
			e = ENOMEM;
			break;
		}
		n++;
	}
	if (e != 0)
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(e));
	qsort(names, n, sizeof(*names), compare_names);
	for (i = 0; i < n && e == 0; i++) {
		char child[PATH_MAX];
		struct stat st;
		if (snprintf(child, sizeof(child), "%s/%s", path, names[i]) >= (int)sizeof(child)) {
			e = ENAMETOOLONG;
			snprintf(p->err, p->errlen, "%s/%s: %s", path, names[i], strerror(e));
		} else if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			e = errno;
			snprintf(p->err, p->errlen, "%s: %s", child, strerror(e));
		} else if (S_ISDIR(st.st_mode)) {
			e = pack_dir(p, fd, names[i], child);
		} else if (S_ISREG(st.st_mode)) {
			e = pack_file(p, fd, names[i], child);
		}
		/* nothing else is in a capture memscript made: anything else is not packed */
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(dir);
	return e;
}

/* The directory part of path ("." when none) and its last component. */
static int split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, dirlen, ".");
		*base = path;
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= dirlen)
			return ENAMETOOLONG;
		memcpy(dir, path, n);
		dir[n] = '\0';
		*base = slash + 1;
	}
	return **base != '\0' && strcmp(*base, ".") != 0 && strcmp(*base, "..") != 0 ? 0 : EISDIR;
}

int archive_pack(int top_fd, const char *const *trees, size_t ntrees, const char *archive_path, char *err,
		 size_t errlen)
{
	char dir[PATH_MAX], tmp[NAME_MAX + 1];
	const char *base;
	struct packer p;
	int dirfd, fd = -1, e, tries;
	size_t i;

	if (load_libarchive(err, errlen) != 0)
		return ELIBACC;
	if ((e = split_path(archive_path, dir, sizeof(dir), &base)) != 0) {
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
		return e;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", dir, strerror(e));
		return e;
	}
	/* A new file of our own beside the archive, never a name someone else made. */
	for (tries = 0; tries < 100 && fd < 0; tries++) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(tmp, sizeof(tmp), ".%.*s.%ld%ld.tmp", 200, base, (long)getpid(), (long)(ts.tv_nsec + tries));
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
		close(dirfd);
		return e;
	}
	memset(&p, 0, sizeof(p));
	p.a = la.write_new();
	p.entry = la.entry_new();
	p.now = time(NULL);
	p.err = err;
	p.errlen = errlen;
	p.archive_path = archive_path;
	e = 0;
	if (p.a == NULL || p.entry == NULL) {
		e = ENOMEM;
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
	} else {
		/* The format from the name (.tar.gz, .tar.xz, .zip, ...), else a POSIX tar. */
		if (la.write_set_format_filter_by_ext(p.a, base) != ARCHIVE_OK)
			la.write_set_format_pax_restricted(p.a);
		if (la.write_open_fd(p.a, fd) != ARCHIVE_OK) {
			e = EIO;
			snprintf(err, errlen, "%s: %s", archive_path, la.error_string(p.a));
		}
	}
	for (i = 0; i < ntrees && e == 0; i++) {
		struct stat st;
		if (fstatat(top_fd, trees[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			e = pack_dir(&p, top_fd, trees[i], trees[i]);
	}
	if (e == 0 && la.write_close(p.a) != ARCHIVE_OK) {
		e = EIO;
		snprintf(err, errlen, "%s: %s", archive_path, la.error_string(p.a));
	}
	if (p.entry != NULL)
		la.entry_free(p.entry);
	if (p.a != NULL)
		la.write_free(p.a);
	if (e == 0 && fsync(fd) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
	}
	if (close(fd) != 0 && e == 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
	}
	/* rename replaces a link or a file planted under the name, never what a link points to. */
	if (e == 0 && renameat(dirfd, tmp, dirfd, base) != 0) {
		e = errno;
		snprintf(err, errlen, "%s: %s", archive_path, strerror(e));
	}
	if (e != 0)
		unlinkat(dirfd, tmp, 0);
	close(dirfd);
	return e;
}
