/* source.c: opening files beneath a tree's directory descriptor, or finding them in an archive. */
#define _GNU_SOURCE /* openat2's RESOLVE_* flags, fdopendir */
#include "source/source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>


/* A name that would leave its tree: "..", or an absolute path. */
#define SOURCE_EOUTSIDE (SOURCE_ENOTREG + 1)
/* A symbolic link met in a captured tree. */
#define SOURCE_ELINK (SOURCE_ENOTREG + 2)

struct source_dir {
	struct source *src;
	enum source_tree tree;
	int fd;                /* the directory, or -1 (an archive, or a tree that does not exist) */
	int owned_by_source;   /* a tree's top, closed with the source */
	char rel[PATH_MAX];    /* the directory under the tree's top: "" or "42" */
};

struct source {
	enum source_kind kind;
	char name[PATH_MAX];
	long page_size;
	size_t max_file;
	struct archive_tree *archive;
	char tree_path[2][PATH_MAX]; /* each tree's top as messages name it */
	struct source_dir top[2];
	int proc_on_procfs; /* the proc tree's top is a procfs, its device proc_dev */
	dev_t proc_dev;
};

static const char *const tree_names[2] = {"proc", "sys"};

/* ---- opening beneath a directory ---- */

/*
 * Whether relpath stays in its tree by its name: relative, with no ".." component. openat2
 * checks again as it resolves (RESOLVE_BENEATH), this gives the clearer message.
 */
static int stays_beneath(const char *relpath)
{
	const char *p = relpath;

	if (p[0] == '/')
		return 0;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

/*
 * The same walk without openat2 (kernels before 5.6): one component at a time, never following
 * a link in a captured tree.
 */
static int open_by_components(int dirfd, const char *relpath, int flags, int follow)
{
	char part[NAME_MAX + 1];
	const char *p = relpath;
	int fd = dirfd, next;

	for (;;) {
		size_t n = strcspn(p, "/");
		const char *rest = p + n;
		int last;
		while (*rest == '/')
			rest++;
		last = *rest == '\0';
		if (n > NAME_MAX) {
			if (fd != dirfd)
				close(fd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(part, p, n);
		part[n] = '\0';
		next = openat(fd, n > 0 ? part : ".",
			      (last ? flags : O_PATH | O_DIRECTORY) | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
		if (fd != dirfd) {
			int saved = errno;
			close(fd);
			errno = saved;
		}
		if (next < 0 || last)
			return next;
		fd = next;
		p = rest;
	}
}

/*
 * Opens relpath beneath the directory dirfd. In a captured tree no symbolic link is followed
 * (captures hold none; one there was planted); in the running system's trees links that stay
 * beneath the top are (sysfs has many), and "magic" links (/proc/PID/exe, fd/N) never are.
 * Returns a descriptor, or -1 with errno set.
 */
static int open_beneath(const struct source *src, int dirfd, const char *relpath, int flags)
{
	static int no_openat2; /* the kernel said ENOSYS once: it will again */
	struct open_how how;
	int fd = -1, tries;
	int follow = src->kind == SOURCE_LIVE;

	if (no_openat2)
		return open_by_components(dirfd, relpath, flags, follow);
	memset(&how, 0, sizeof(how));
	/* openat2 refuses O_NOCTTY beside O_PATH, which opens nothing to be a terminal. */
	how.flags = (unsigned long long)(flags | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY));
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | (follow ? 0 : RESOLVE_NO_SYMLINKS);
	/* EAGAIN: a rename elsewhere in the tree raced the lookup; trying again is what the kernel asks. */
	for (tries = 0; tries < 8; tries++) {
		fd = (int)syscall(SYS_openat2, dirfd, relpath[0] != '\0' ? relpath : ".", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd < 0 && errno == ENOSYS) {
		no_openat2 = 1;
		return open_by_components(dirfd, relpath, flags, follow);
	}
	if (fd < 0 && errno == EXDEV)
		errno = SOURCE_EOUTSIDE;
	else if (fd < 0 && errno == ELOOP && !follow)
		errno = SOURCE_ELINK;
	return fd;
}

/*
 * What a captured tree (a directory another user may have made) may make memscript hold, when
 * --max-memory sets no smaller limit: a file read whole, as an archive's whole tree may take (a
 * sparse file of terabytes costs its maker nothing); a line of a file read line by line (maps,
 * smaps: the kernel's longest, a mapped file's path, is kilobytes). The running system's files
 * are the kernel's, bounded by what it prints.
 */
#define CAPTURED_FILE_MAX ((size_t)1 << 30)
#define CAPTURED_LINE_MAX ((size_t)16 << 20)

/* The largest file src reads whole (0: no limit). */
static size_t file_limit(const struct source *src)
{
	if (src->max_file != 0)
		return src->max_file;
	return src->kind == SOURCE_LIVE ? 0 : CAPTURED_FILE_MAX;
}

/* The longest line src reads line by line (0: no limit). */
static size_t line_limit(const struct source *src)
{
	size_t limit = src->kind == SOURCE_LIVE ? 0 : CAPTURED_LINE_MAX;

	if (src->max_file != 0 && (limit == 0 || src->max_file < limit))
		limit = src->max_file;
	return limit;
}

/*
 * Opens a file to read (or, with flags O_WRONLY or O_RDWR, to write): O_NONBLOCK so a FIFO cannot
 * block the open, then only a regular file. *size (when size is not NULL) is its size as fstat
 * gives it (0 for /proc's files).
 */
static int open_regular_flags(const struct source_dir *dir, const char *relpath, int flags, off_t *size, int *err)
{
	struct stat st;
	int fd;

	if (!stays_beneath(relpath)) {
		*err = SOURCE_EOUTSIDE;
		return -1;
	}
	fd = open_beneath(dir->src, dir->fd, relpath, flags | O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		*err = errno;
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		*err = S_ISDIR(st.st_mode) ? EISDIR : SOURCE_ENOTREG;
		close(fd);
		return -1;
	}
	/*
	 * Regular files ignore O_NONBLOCK; it is cleared all the same, so reads are plain reads, except
	 * on the procfs of the proc tree, which ignores it (/proc/kmsg aside, where a read then does
	 * not wait): two system calls fewer for each of a process's files.
	 */
	if (!(dir->src->proc_on_procfs && st.st_dev == dir->src->proc_dev))
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (size != NULL)
		*size = st.st_size;
	return fd;
}

static int open_regular(const struct source_dir *dir, const char *relpath, off_t *size, int *err)
{
	return open_regular_flags(dir, relpath, O_RDONLY, size, err);
}

/* ---- archives ---- */

/* An archive's key for relpath under dir: "proc/42/smaps". Returns 0 or ENAMETOOLONG. */
static int archive_key(const struct source_dir *dir, const char *relpath, char *key, size_t size)
{
	int n;

	if (dir->rel[0] != '\0' && relpath[0] != '\0')
		n = snprintf(key, size, "%s/%s/%s", tree_names[dir->tree], dir->rel, relpath);
	else if (dir->rel[0] != '\0' || relpath[0] != '\0')
		n = snprintf(key, size, "%s/%s", tree_names[dir->tree], dir->rel[0] ? dir->rel : relpath);
	else
		n = snprintf(key, size, "%s", tree_names[dir->tree]);
	/* "42/" and "42//smaps" name what "42" and "42/smaps" do. */
	while (n > 0 && key[n - 1] == '/')
		key[--n] = '\0';
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* The bytes of relpath under dir in the archive (held by the archive). Returns 0 or an error. */
static int archive_file(const struct source_dir *dir, const char *relpath, const char **data, size_t *len)
{
	char key[PATH_MAX];
	int e;

	if ((e = archive_key(dir, relpath, key, sizeof(key))) != 0)
		return e;
	if (!stays_beneath(relpath))
		return SOURCE_EOUTSIDE;
	*data = archive_tree_find(dir->src->archive, key, len);
	if (*data == NULL)
		return archive_tree_list_dir(dir->src->archive, key, NULL, NULL) ? EISDIR : ENOENT;
	return 0;
}

/* ---- the source ---- */

static int is_procfs(int fd)
{
	struct statfs sf;
	return fstatfs(fd, &sf) == 0 && sf.f_type == PROC_SUPER_MAGIC;
}

static void set_error(char *err, size_t errlen, const char *name, int e)
{
	snprintf(err, errlen, "%s: %s", name, source_strerror(e));
}

/* Opens the directory path as a tree's top; a tree that does not exist is absent, not an error. */
static int open_tree(struct source *src, enum source_tree tree, const char *path)
{
	struct source_dir *top = &src->top[tree];

	top->src = src;
	top->tree = tree;
	top->owned_by_source = 1;
	top->rel[0] = '\0';
	snprintf(src->tree_path[tree], sizeof(src->tree_path[tree]), "%s", path);
	top->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top->fd < 0 && errno != ENOENT && errno != ENOTDIR)
		return errno;
	if (tree == SOURCE_PROC && top->fd >= 0 && is_procfs(top->fd)) {
		struct stat st;
		if (fstat(top->fd, &st) == 0) {
			src->proc_on_procfs = 1;
			src->proc_dev = st.st_dev;
		}
	}
	return 0;
}

static int join(char *out, size_t size, const char *a, const char *b)
{
	int n = snprintf(out, size, "%s/%s", a, b);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* A directory root: which trees it holds, by the kind of root it was named as. */
static int open_directory(struct source *src, const char *root, enum source_root_kind how)
{
	char proc_path[PATH_MAX], sys_path[PATH_MAX];
	struct stat st;
	int e, fd;

	if ((e = join(proc_path, sizeof(proc_path), root, "proc")) != 0 ||
	    (e = join(sys_path, sizeof(sys_path), root, "sys")) != 0)
		return e;
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (is_procfs(fd)) {
		/* --proc-root /proc: this machine's own, read as the running system's. */
		close(fd);
		src->kind = SOURCE_LIVE;
		if ((e = open_tree(src, SOURCE_PROC, root)) != 0)
			return e;
		return open_tree(src, SOURCE_SYS, "/sys");
	}
	src->kind = SOURCE_DIRECTORY;
	if (how == SOURCE_ROOT_PROC) {
		/* The top of a capture (DIR rather than DIR/proc) names the same tree. */
		int top_of_capture = fstatat(fd, "meminfo", &st, AT_SYMLINK_NOFOLLOW) != 0 &&
				     fstatat(fd, "proc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
		close(fd);
		if (!top_of_capture) {
			if ((e = open_tree(src, SOURCE_PROC, root)) != 0)
				return e;
			/* A proc tree alone has no sys tree. */
			src->top[SOURCE_SYS].src = src;
			src->top[SOURCE_SYS].tree = SOURCE_SYS;
			src->top[SOURCE_SYS].fd = -1;
			src->top[SOURCE_SYS].owned_by_source = 1;
			snprintf(src->tree_path[SOURCE_SYS], sizeof(src->tree_path[SOURCE_SYS]), "%s", sys_path);
			return 0;
		}
	} else {
		close(fd);
	}
	if ((e = open_tree(src, SOURCE_PROC, proc_path)) != 0)
		return e;
	return open_tree(src, SOURCE_SYS, sys_path);
}

static int open_archive(struct source *src, const char *root, char *err, size_t errlen)
{
	int e = 0, t;

	src->kind = SOURCE_ARCHIVE;
	src->archive = archive_tree_load(root, err, errlen, &e);
	if (src->archive == NULL)
		return e != 0 ? e : EINVAL;
	for (t = 0; t < 2; t++) {
		src->top[t].src = src;
		src->top[t].tree = (enum source_tree)t;
		src->top[t].fd = -1;
		src->top[t].owned_by_source = 1;
		src->top[t].rel[0] = '\0';
		/* Messages name an archive's files "cap.tar:42/smaps" and "cap.tar:sys/fs/...". */
		snprintf(src->tree_path[t], sizeof(src->tree_path[t]), t == SOURCE_PROC ? "%s:" : "%s:sys", root);
	}
	return 0;
}

int source_open(const char *root, enum source_root_kind how, struct source **out, char *err, size_t errlen)
{
	struct source *src;
	struct stat st;
	size_t len;
	int e;

	*out = NULL;
	src = calloc(1, sizeof(*src));
	if (src == NULL) {
		set_error(err, errlen, root != NULL ? root : "/proc", ENOMEM);
		return ENOMEM;
	}
	src->top[0].fd = src->top[1].fd = -1;
	src->page_size = sysconf(_SC_PAGESIZE);
	if (root == NULL) {
		snprintf(src->name, sizeof(src->name), "/proc");
		src->kind = SOURCE_LIVE;
		if ((e = open_tree(src, SOURCE_PROC, "/proc")) != 0 || (e = open_tree(src, SOURCE_SYS, "/sys")) != 0)
			goto fail;
		*out = src;
		return 0;
	}
	len = strlen(root);
	if (len >= sizeof(src->name) - 16) {
		e = ENAMETOOLONG;
		goto fail;
	}
	memcpy(src->name, root, len + 1);
	/* "/proc/" and "/proc" name the same tree; paths are joined with '/'. */
	while (len > 1 && src->name[len - 1] == '/')
		src->name[--len] = '\0';
	if (stat(src->name, &st) != 0) {
		e = errno;
		goto fail;
	}
	if (S_ISREG(st.st_mode)) {
		if ((e = open_archive(src, src->name, err, errlen)) != 0) {
			source_close(src);
			return e; /* the message names the archive and the entry */
		}
	} else if (S_ISDIR(st.st_mode)) {
		if ((e = open_directory(src, src->name, how)) != 0)
			goto fail;
	} else {
		e = SOURCE_ENOTREG;
		goto fail;
	}
	/* proc.root() names the proc tree, as every message about its files does. */
	if (src->kind != SOURCE_ARCHIVE)
		snprintf(src->name, sizeof(src->name), "%s", src->tree_path[SOURCE_PROC]);
	*out = src;
	return 0;
fail:
	set_error(err, errlen, src->name[0] ? src->name : root, e);
	source_close(src);
	return e;
}

void source_close(struct source *src)
{
	int t;

	if (src == NULL)
		return;
	for (t = 0; t < 2; t++)
		if (src->top[t].fd >= 0)
			close(src->top[t].fd);
	archive_tree_free(src->archive);
	free(src);
}

enum source_kind source_kind(const struct source *src)
{
	return src->kind;
}

const char *source_name(const struct source *src)
{
	return src->name;
}

long source_page_size(const struct source *src)
{
	return src->page_size;
}

void source_set_page_size(struct source *src, long page_size)
{
	src->page_size = page_size;
}

void source_set_max_file(struct source *src, size_t bytes)
{
	src->max_file = bytes;
}

size_t source_max_file(const struct source *src)
{
	return src->max_file;
}

struct source_dir *source_tree(struct source *src, enum source_tree tree)
{
	return &src->top[tree];
}

/* "self" in the running system's proc tree is memscript's own process: its pid, as /proc names it. */
static int resolve_self(const struct source *src, const char *reldir, char *out, size_t size)
{
	char pid[32];
	ssize_t n;
	const char *rest = reldir + 4;

	n = readlinkat(src->top[SOURCE_PROC].fd, "self", pid, sizeof(pid) - 1);
	if (n <= 0)
		return n < 0 ? errno : ENOENT;
	pid[n] = '\0';
	n = snprintf(out, size, "%s%s", pid, rest);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

int source_dir_open(struct source *src, enum source_tree tree, const char *reldir, struct source_dir **out)
{
	struct source_dir *dir;
	const struct source_dir *top = &src->top[tree];
	int e;

	*out = NULL;
	if (!stays_beneath(reldir))
		return SOURCE_EOUTSIDE;
	dir = calloc(1, sizeof(*dir));
	if (dir == NULL)
		return ENOMEM;
	dir->src = src;
	dir->tree = tree;
	dir->fd = -1;
	if (src->kind == SOURCE_LIVE && tree == SOURCE_PROC && strncmp(reldir, "self", 4) == 0 &&
	    (reldir[4] == '\0' || reldir[4] == '/')) {
		if ((e = resolve_self(src, reldir, dir->rel, sizeof(dir->rel))) != 0)
			goto fail;
	} else if (snprintf(dir->rel, sizeof(dir->rel), "%s", reldir) >= (int)sizeof(dir->rel)) {
		e = ENAMETOOLONG;
		goto fail;
	}
	if (src->archive != NULL) {
		char key[PATH_MAX];
		if ((e = archive_key(dir, "", key, sizeof(key))) != 0)
			goto fail;
		if (!archive_tree_list_dir(src->archive, key, NULL, NULL)) {
			e = ENOENT;
			goto fail;
		}
	} else {
		if (top->fd < 0) {
			e = ENOENT;
			goto fail;
		}
		dir->fd = open_beneath(src, top->fd, dir->rel, O_RDONLY | O_DIRECTORY);
		if (dir->fd < 0) {
			e = errno;
			goto fail;
		}
	}
	*out = dir;
	return 0;
fail:
	free(dir);
	return e;
}

void source_dir_close(struct source_dir *dir)
{
	if (dir == NULL || dir->owned_by_source)
		return;
	if (dir->fd >= 0)
		close(dir->fd);
	free(dir);
}

struct source *source_dir_source(const struct source_dir *dir)
{
	return dir->src;
}

const char *source_dir_name(const struct source_dir *dir)
{
	return dir->rel;
}

void source_dir_path(const struct source_dir *dir, const char *relpath, char *buf, size_t size)
{
	const char *top = dir->src->tree_path[dir->tree];
	size_t top_len = strlen(top);
	const char *sep = dir->rel[0] != '\0' && relpath[0] != '\0' ? "/" : "";
	/* An archive's proc tree is named by the archive and a colon alone. */
	const char *after_top = (dir->rel[0] || relpath[0]) && top_len > 0 && top[top_len - 1] != ':' ? "/" : "";

	snprintf(buf, size, "%s%s%s%s%s", top, after_top, dir->rel, sep, relpath);
}

int source_dir_read(const struct source_dir *dir, const char *relpath, struct procfile *out)
{
	size_t limit = file_limit(dir->src);
	off_t size;
	int fd, e;

	out->data = NULL;
	out->len = out->cap = 0;
	if (dir->src->archive != NULL) {
		const char *data;
		size_t len;
		if ((e = archive_file(dir, relpath, &data, &len)) != 0)
			return e;
		if (dir->src->max_file != 0 && len > dir->src->max_file)
			return EFBIG;
		out->data = malloc(len + 1);
		if (out->data == NULL)
			return ENOMEM;
		memcpy(out->data, data, len + 1);
		out->len = len;
		out->cap = len + 1;
		return 0;
	}
	if (dir->fd < 0)
		return ENOENT;
	fd = open_regular(dir, relpath, &size, &e);
	if (fd < 0)
		return e;
	/* too large already: refused before a byte is read (the read loop checks a file that grows) */
	if (limit != 0 && (uintmax_t)size > limit) {
		close(fd);
		return EFBIG;
	}
	e = procfile_read_fd_max(fd, limit, out);
	close(fd);
	return e;
}

static int open_lines(const struct source_dir *dir, const char *relpath, int filled, struct linestream **out)
{
	off_t size;
	int fd, e;

	if (dir->src->archive != NULL) {
		const char *data;
		size_t len;
		if ((e = archive_file(dir, relpath, &data, &len)) != 0)
			return e;
		return linestream_open_memory(data, len, out);
	}
	if (dir->fd < 0)
		return ENOENT;
	fd = open_regular(dir, relpath, &size, &e);
	if (fd < 0)
		return e;
	if ((e = filled ? linestream_open_fd_filled(fd, out) : linestream_open_fd(fd, out)) != 0)
		return e;
	linestream_set_max_line(*out, line_limit(dir->src));
	return 0;
}

int source_dir_lines(const struct source_dir *dir, const char *relpath, struct linestream **out)
{
	return open_lines(dir, relpath, 0, out);
}

int source_dir_lines_filled(const struct source_dir *dir, const char *relpath, struct linestream **out)
{
	return open_lines(dir, relpath, 1, out);
}

int source_dir_open_fd(const struct source_dir *dir, const char *relpath, int flags, int *fd_out)
{
	int fd, e;

	*fd_out = -1;
	if (flags != O_RDONLY && flags != O_WRONLY && flags != O_RDWR)
		return EINVAL;
	if (!stays_beneath(relpath))
		return SOURCE_EOUTSIDE;
	if (dir->src->archive != NULL)
		return EOPNOTSUPP;
	if (flags != O_RDONLY && dir->src->kind != SOURCE_LIVE)
		return EROFS;
	if (dir->fd < 0)
		return ENOENT;
	fd = open_regular_flags(dir, relpath, flags, NULL, &e);
	if (fd < 0)
		return e;
	*fd_out = fd;
	return 0;
}

/*
 * Calls fn(name, arg) for each entry of the directory relpath beneath dir in a directory tree (not
 * an archive), "." and ".." left out, and with dirs_only the directories alone, until fn returns
 * nonzero. Returns 0 or an errno value.
 */
static int list_directory(const struct source_dir *dir, const char *relpath, int dirs_only,
			  int (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d;
	struct dirent *entry;
	int fd, e = 0;

	if (dir->fd < 0)
		return ENOENT;
	fd = open_beneath(dir->src, dir->fd, relpath, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return errno;
	d = fdopendir(fd);
	if (d == NULL) {
		e = errno;
		close(fd);
		return e;
	}
	for (;;) {
		struct stat st;
		int is_dir = 1;
		errno = 0;
		entry = readdir(d);
		if (entry == NULL) {
			e = errno;
			break;
		}
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		/* d_type where the file system gives it (cgroupfs, tmpfs, ext4 do), else a look at the entry */
		if (dirs_only)
			is_dir = entry->d_type != DT_UNKNOWN ? entry->d_type == DT_DIR
							     : fstatat(dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
								       S_ISDIR(st.st_mode);
		if (is_dir && fn(entry->d_name, arg) != 0)
			break;
	}
	closedir(d);
	return e;
}

int source_dir_list(const struct source_dir *dir, const char *relpath,
		    int (*fn)(const char *name, void *arg), void *arg)
{
	int e;

	if (!stays_beneath(relpath))
		return SOURCE_EOUTSIDE;
	if (dir->src->archive != NULL) {
		char key[PATH_MAX];
		if ((e = archive_key(dir, relpath, key, sizeof(key))) != 0)
			return e;
		if (!archive_tree_list_dir(dir->src->archive, key, fn, arg))
			return archive_tree_find(dir->src->archive, key, &(size_t){0}) ? ENOTDIR : ENOENT;
		return 0;
	}
	return list_directory(dir, relpath, 0, fn, arg);
}

int source_dir_inode(const struct source_dir *dir, const char *relpath, uint64_t *inode, int *is_dir)
{
	struct stat st;
	int fd;

	if (!stays_beneath(relpath))
		return SOURCE_EOUTSIDE;
	if (dir->src->archive != NULL)
		return EOPNOTSUPP;
	if (dir->fd < 0)
		return ENOENT;
	fd = open_beneath(dir->src, dir->fd, relpath, O_PATH | O_NOFOLLOW);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	close(fd);
	*inode = (uint64_t)st.st_ino;
	*is_dir = S_ISDIR(st.st_mode);
	return 0;
}

/* An archive's names under one directory that are directories themselves (they hold a file). */
struct archive_dirs {
	const struct archive_tree *tree;
	char key[PATH_MAX];
	size_t key_len;
	int (*fn)(const char *name, void *arg);
	void *arg;
};

static int visit_archive_dir(const char *name, void *arg)
{
	struct archive_dirs *a = arg;
	size_t n = strlen(name);

	if (a->key_len + 1 + n >= sizeof(a->key))
		return 0;
	a->key[a->key_len] = '/';
	memcpy(a->key + a->key_len + 1, name, n + 1);
	if (!archive_tree_list_dir(a->tree, a->key, NULL, NULL))
		return 0;
	return a->fn(name, a->arg);
}

int source_dir_list_dirs(const struct source_dir *dir, const char *relpath,
			 int (*fn)(const char *name, void *arg), void *arg)
{
	int e;

	if (!stays_beneath(relpath))
		return SOURCE_EOUTSIDE;
	if (dir->src->archive != NULL) {
		struct archive_dirs a;
		if ((e = archive_key(dir, relpath, a.key, sizeof(a.key))) != 0)
			return e;
		a.tree = dir->src->archive;
		a.key_len = strlen(a.key);
		a.fn = fn;
		a.arg = arg;
		if (!archive_tree_list_dir(dir->src->archive, a.key, NULL, NULL))
			return archive_tree_find(dir->src->archive, a.key, &(size_t){0}) ? ENOTDIR : ENOENT;
		/* visit_archive_dir writes past key_len: the listing walks a copy of the directory's key */
		{
			char listed[PATH_MAX];
			memcpy(listed, a.key, a.key_len + 1);
			archive_tree_list_dir(dir->src->archive, listed, visit_archive_dir, &a);
		}
		return 0;
	}
	return list_directory(dir, relpath, 1, fn, arg);
}

const char *source_strerror(int err)
{
	if (err == SOURCE_ENOTREG)
		return "not a regular file (a FIFO, a device or a socket is never read)";
	if (err == SOURCE_EOUTSIDE)
		return "names a file outside the tree";
	if (err == SOURCE_ELINK)
		return "a symbolic link in a captured tree (captures hold none; it is not followed)";
	return strerror(err);
}

int source_errno(int err)
{
	if (err == SOURCE_ELINK)
		return ELOOP;
	return err == SOURCE_ENOTREG || err == SOURCE_EOUTSIDE ? EINVAL : err;
}
