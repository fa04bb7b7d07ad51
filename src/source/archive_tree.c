/* archive_tree.c: libarchive reads the archive once; lookups are a binary search over its paths. */
#include "source/archive_tree.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/libarchive_load.h"

/* libarchive's reading half, loaded when the first archive is opened (libarchive_load.h says why). */
static struct {
	struct archive *(*read_new)(void);
	int (*read_support_filter_all)(struct archive *);
	int (*read_support_format_all)(struct archive *);
	int (*read_open_filename)(struct archive *, const char *, size_t);
	int (*read_next_header)(struct archive *, struct archive_entry **);
	la_ssize_t (*read_data)(struct archive *, void *, size_t);
	int (*read_free)(struct archive *);
	const char *(*error_string)(struct archive *);
	int (*errno_of)(struct archive *);
	const char *(*entry_pathname)(struct archive_entry *);
	const char *(*entry_pathname_utf8)(struct archive_entry *);
	__LA_MODE_T (*entry_filetype)(struct archive_entry *);
	la_int64_t (*entry_size)(struct archive_entry *);
	int (*entry_size_is_set)(struct archive_entry *);
} la;

/* Loads libarchive once; returns 0, or -1 with the reason in err. */
static int load_libarchive(char *err, size_t errlen)
{
	static int loaded;
	const struct libarchive_symbol symbols[] = {
		{(void **)&la.read_new, "archive_read_new"},
		{(void **)&la.read_support_filter_all, "archive_read_support_filter_all"},
		{(void **)&la.read_support_format_all, "archive_read_support_format_all"},
		{(void **)&la.read_open_filename, "archive_read_open_filename"},
		{(void **)&la.read_next_header, "archive_read_next_header"},
		{(void **)&la.read_data, "archive_read_data"},
		{(void **)&la.read_free, "archive_read_free"},
		{(void **)&la.error_string, "archive_error_string"},
		{(void **)&la.errno_of, "archive_errno"},
		{(void **)&la.entry_pathname, "archive_entry_pathname"},
		{(void **)&la.entry_pathname_utf8, "archive_entry_pathname_utf8"},
		{(void **)&la.entry_filetype, "archive_entry_filetype"},
		{(void **)&la.entry_size, "archive_entry_size"},
		{(void **)&la.entry_size_is_set, "archive_entry_size_is_set"},
	};

	if (loaded)
		return 0;
	if (libarchive_load(symbols, sizeof(symbols) / sizeof(symbols[0]), "read", err, errlen) != 0)
		return -1;
	loaded = 1;
	return 0;
}

struct tree_file {
	char *relpath;
	char *data;
	size_t len;
};

struct archive_tree {
	struct tree_file *files;
	size_t count, cap;
	struct archive_limits limits; /* max_bytes set */
	size_t held;                  /* bytes counted against limits (and charged) */
};

/* Bytes a file's data is read in at most, so that should_stop is asked often enough. */
#define READ_CHUNK ((size_t)1 << 20)

static struct archive_limits default_limits;

void archive_tree_set_default_limits(const struct archive_limits *limits)
{
	if (limits != NULL)
		default_limits = *limits;
	else
		memset(&default_limits, 0, sizeof(default_limits));
}

/* How messages name the budget. */
static const char *budget_name(const struct archive_tree *tree)
{
	return tree->limits.budget_name != NULL ? tree->limits.budget_name : "the budget of an archive in memory";
}

/*
 * Says that bytes more (uncompressed: an entry's declared size) do not fit in the budget, naming
 * the archive, the entry, the budget, and what the archive's files already take. Returns ENOMEM.
 */
static int refuse(const struct archive_tree *tree, const char *archive_path, const char *name,
		  unsigned long long bytes, const char *what, char *err, size_t errlen)
{
	if (tree->held > 0)
		snprintf(err, errlen, "%s: %s: %llu bytes %s do not fit in %s (%zu bytes; the archive's files before "
			 "it take %zu)", archive_path, name, bytes, what, budget_name(tree), tree->limits.max_bytes,
			 tree->held);
	else
		snprintf(err, errlen, "%s: %s: %llu bytes %s do not fit in %s (%zu bytes)", archive_path, name,
			 bytes, what, budget_name(tree), tree->limits.max_bytes);
	return ENOMEM;
}

/*
 * Counts bytes more against the budget and the caller's charge before they are allocated.
 * Returns 0, or ENOMEM with err set.
 */
static int take(struct archive_tree *tree, size_t bytes, const char *archive_path, const char *name,
		char *err, size_t errlen)
{
	if (bytes > tree->limits.max_bytes - tree->held ||
	    (tree->limits.charge != NULL && !tree->limits.charge(tree->limits.arg, bytes)))
		return refuse(tree, archive_path, name, bytes, "more", err, errlen);
	tree->held += bytes;
	return 0;
}

/* Gives back bytes taken for something freed. */
static void give_back(struct archive_tree *tree, size_t bytes)
{
	tree->held -= bytes;
	if (tree->limits.release != NULL)
		tree->limits.release(tree->limits.arg, bytes);
}

/* 0 to go on, or ECANCELED with err saying why loading stops. */
static int check_stop(const struct archive_tree *tree, const char *archive_path, const char *name,
		      char *err, size_t errlen)
{
	const char *why = tree->limits.should_stop != NULL ? tree->limits.should_stop(tree->limits.arg) : NULL;

	if (why == NULL)
		return 0;
	if (name != NULL)
		snprintf(err, errlen, "%s: reading stopped at %s: %s", archive_path, name, why);
	else
		snprintf(err, errlen, "%s: reading stopped: %s", archive_path, why);
	return ECANCELED;
}

/* "./capture/proc/42/smaps" -> "capture/proc/42/smaps": the name without "./" and "/" in front. */
static const char *plain_path(const char *path)
{
	for (;;) {
		if (path[0] == '.' && path[1] == '/')
			path += 2;
		else if (path[0] == '/')
			path++;
		else
			return path;
	}
}

/*
 * The length of what comes before the first "proc" component of path ("capture/" in
 * "capture/proc/42/smaps", 0 in "proc/meminfo"), or -1 when no component is "proc".
 */
static long prefix_before_proc(const char *path)
{
	const char *p = path;

	for (;;) {
		const char *slash = strchr(p, '/');
		if (slash == NULL)
			return -1;
		if (slash - p == 4 && strncmp(p, "proc", 4) == 0)
			return p - path;
		p = slash + 1;
	}
}

/* Room kept after each name for a "proc/" put in front of it by root_paths. */
#define PROC_PREFIX_ROOM 5

/*
 * Path order with '/' before every other byte, so that all the files under one directory sort
 * together ("1/maps" before "1 x/maps"), which archive_tree_list_dir relies on.
 */
static int path_compare(const char *a, const char *b)
{
	for (;; a++, b++) {
		unsigned ca = (unsigned char)*a, cb = (unsigned char)*b;
		unsigned ka = ca == '/' ? 1 : ca == 0 ? 0 : ca + 1;
		unsigned kb = cb == '/' ? 1 : cb == 0 ? 0 : cb + 1;
		if (ka != kb)
			return ka < kb ? -1 : 1;
		if (ca == 0)
			return 0;
	}
}

static int compare_files(const void *a, const void *b)
{
	return path_compare(((const struct tree_file *)a)->relpath, ((const struct tree_file *)b)->relpath);
}

void archive_tree_free(struct archive_tree *tree)
{
	size_t i;

	if (tree == NULL)
		return;
	for (i = 0; i < tree->count; i++) {
		free(tree->files[i].relpath);
		free(tree->files[i].data);
	}
	free(tree->files);
	if (tree->held > 0)
		give_back(tree, tree->held);
	free(tree);
}

/*
 * Appends the data of the entry named name as a file; returns 0, or an errno value with err set.
 * The entry's declared size is checked against the budget before anything is allocated for it,
 * and what is read against it as it grows (a size may be missing, or wrong).
 */
static int add_entry(struct archive_tree *tree, struct archive *a, struct archive_entry *entry,
		     const char *name, const char *archive_path, char *err, size_t errlen)
{
	struct tree_file *f;
	const char *relpath = plain_path(name);
	size_t path_len = strlen(relpath), path_bytes = path_len + 1 + PROC_PREFIX_ROOM;
	size_t cap = 4096, len = 0, taken = 0;
	char *data, *path_copy;
	int e;

	if (la.entry_size_is_set(entry) && la.entry_size(entry) >= 0) {
		uint64_t declared = (uint64_t)la.entry_size(entry);
		if (declared >= tree->limits.max_bytes - tree->held)
			return refuse(tree, archive_path, name, declared, "uncompressed", err, errlen);
		/* the declared size, and the terminating NUL; a size that lies is grown past below */
		cap = (size_t)declared + 1;
	}
	if (tree->count == tree->cap) {
		size_t ncap = tree->cap ? tree->cap * 2 : 64;
		struct tree_file *grown;
		if ((e = take(tree, (ncap - tree->cap) * sizeof(*grown), archive_path, name, err, errlen)) != 0)
			return e;
		grown = realloc(tree->files, ncap * sizeof(*grown));
		if (grown == NULL) {
			give_back(tree, (ncap - tree->cap) * sizeof(*grown));
			snprintf(err, errlen, "%s: out of memory", archive_path);
			return ENOMEM;
		}
		tree->files = grown;
		tree->cap = ncap;
	}
	if ((e = take(tree, path_bytes + cap, archive_path, name, err, errlen)) != 0)
		return e;
	taken = path_bytes + cap;
	data = malloc(cap);
	path_copy = malloc(path_bytes);
	if (data == NULL || path_copy == NULL) {
		e = ENOMEM;
		snprintf(err, errlen, "%s: out of memory", archive_path);
		goto fail;
	}
	memcpy(path_copy, relpath, path_len + 1);
	for (;;) {
		char overflow[4096];
		la_ssize_t n;
		size_t room = cap - len - 1;
		if ((e = check_stop(tree, archive_path, name, err, errlen)) != 0)
			goto fail;
		/* a full buffer reads into overflow: the end of the data needs no room */
		if (room > 0)
			n = la.read_data(a, data + len, room < READ_CHUNK ? room : READ_CHUNK);
		else
			n = la.read_data(a, overflow, sizeof(overflow));
		if (n < 0) {
			snprintf(err, errlen, "%s: %s: %s", archive_path, name, la.error_string(a));
			e = EINVAL;
			goto fail;
		}
		if (n == 0)
			break;
		if (room == 0) {
			/* more than declared, or no size declared: grow by half again, counted */
			size_t more = cap / 2 > sizeof(overflow) ? cap / 2 : sizeof(overflow);
			char *grown;
			if ((e = take(tree, more, archive_path, name, err, errlen)) != 0)
				goto fail;
			taken += more;
			grown = realloc(data, cap + more);
			if (grown == NULL) {
				e = ENOMEM;
				snprintf(err, errlen, "%s: out of memory", archive_path);
				goto fail;
			}
			data = grown;
			cap += more;
			memcpy(data + len, overflow, (size_t)n);
		}
		len += (size_t)n;
	}
	data[len] = '\0';
	if (cap - (len + 1) > (size_t)4096) {
		/* a declared size larger than the data: the rest is given back */
		char *fitted = realloc(data, len + 1);
		if (fitted != NULL) {
			give_back(tree, cap - (len + 1));
			taken -= cap - (len + 1);
			data = fitted;
			cap = len + 1;
		}
	}
	f = &tree->files[tree->count];
	f->relpath = path_copy;
	f->data = data;
	f->len = len;
	tree->count++;
	return 0;
fail:
	free(data);
	free(path_copy);
	give_back(tree, taken);
	return e;
}

/*
 * Names every file from the top of the captured machine: "proc/42/smaps", "sys/fs/cgroup/...".
 * What comes before the first "proc" component found is removed from every path that has it
 * (a tree packed from its parent directory: "capture/proc/42/smaps"), and the files of an
 * archive of a proc tree alone ("42/smaps", "meminfo") are put under "proc/", in the room
 * add_entry kept for it. Names are rewritten in place; nothing is allocated.
 */
static void root_paths(struct archive_tree *tree)
{
	char prefix[PATH_MAX];
	long prefix_len = -1;
	size_t i;

	/* A copy: the path it comes from is rewritten below. */
	for (i = 0; i < tree->count && prefix_len < 0; i++) {
		prefix_len = prefix_before_proc(tree->files[i].relpath);
		if (prefix_len >= PATH_MAX)
			prefix_len = -1;
		else if (prefix_len >= 0)
			memcpy(prefix, tree->files[i].relpath, (size_t)prefix_len);
	}
	for (i = 0; i < tree->count; i++) {
		char *path = tree->files[i].relpath;
		size_t len = strlen(path);
		if (prefix_len < 0) {
			memmove(path + PROC_PREFIX_ROOM, path, len + 1);
			memcpy(path, "proc/", PROC_PREFIX_ROOM);
		} else if (strncmp(path, prefix, (size_t)prefix_len) == 0) {
			/* files outside the captured machine ("NOTES.txt" beside capture/) keep their names */
			memmove(path, path + prefix_len, len - (size_t)prefix_len + 1);
		}
	}
}

/*
 * The errno of a failure libarchive reports: the system's when opening or reading the file failed
 * (ENOENT, EACCES, ...), EINVAL when the archive itself is at fault (libarchive reports a format
 * error as EILSEQ).
 */
static int archive_failure(struct archive *a)
{
	int e = la.errno_of(a);

	return e > 0 && e != EILSEQ ? e : EINVAL;
}

struct archive_tree *archive_tree_load(const char *path, char *err, size_t errlen, int *errnum)
{
	return archive_tree_load_limited(path, &default_limits, err, errlen, errnum);
}

struct archive_tree *archive_tree_load_limited(const char *path, const struct archive_limits *limits,
					       char *err, size_t errlen, int *errnum)
{
	struct archive_tree *tree;
	struct archive *a;
	struct archive_entry *entry;
	int r;
	char why[512];

	if (load_libarchive(why, sizeof(why)) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		*errnum = ELIBACC;
		return NULL;
	}
	tree = calloc(1, sizeof(*tree));
	a = la.read_new();
	if (tree == NULL || a == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		*errnum = ENOMEM;
		free(tree);
		if (a != NULL)
			la.read_free(a);
		return NULL;
	}
	if (limits != NULL)
		tree->limits = *limits;
	if (tree->limits.max_bytes == 0)
		tree->limits.max_bytes = ARCHIVE_TREE_DEFAULT_BUDGET;
	la.read_support_filter_all(a);
	la.read_support_format_all(a);
	if (la.read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s: %s", path, la.error_string(a));
		*errnum = archive_failure(a);
		goto fail;
	}
	/* A warning (a name libarchive cannot convert to the locale's charset) is no reason to stop. */
	while ((r = la.read_next_header(a, &entry)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *name = la.entry_pathname(entry);
		if (name == NULL)
			name = la.entry_pathname_utf8(entry);
		if ((*errnum = check_stop(tree, path, name, err, errlen)) != 0)
			goto fail;
		if (name == NULL || la.entry_filetype(entry) != AE_IFREG)
			continue;
		if ((*errnum = add_entry(tree, a, entry, name, path, err, errlen)) != 0)
			goto fail;
	}
	if (r != ARCHIVE_EOF) {
		snprintf(err, errlen, "%s: %s", path, la.error_string(a));
		*errnum = archive_failure(a);
		goto fail;
	}
	la.read_free(a);
	if (tree->count == 0) {
		snprintf(err, errlen, "%s: no files in the archive", path);
		*errnum = EINVAL;
		archive_tree_free(tree);
		return NULL;
	}
	root_paths(tree);
	qsort(tree->files, tree->count, sizeof(tree->files[0]), compare_files);
	return tree;
fail:
	la.read_free(a);
	archive_tree_free(tree);
	return NULL;
}

const char *archive_tree_find(const struct archive_tree *tree, const char *relpath, size_t *len)
{
	size_t lo = 0, hi = tree->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = path_compare(tree->files[mid].relpath, relpath);
		if (c == 0) {
			*len = tree->files[mid].len;
			return tree->files[mid].data;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*len = 0;
	return NULL;
}

int archive_tree_list_dir(const struct archive_tree *tree, const char *dir,
			  int (*fn)(const char *name, void *arg), void *arg)
{
	size_t dir_len = strlen(dir), lo = 0, hi = tree->count, i;
	char key[PATH_MAX + 1], previous[256] = "";
	int found = 0;

	if (dir_len >= PATH_MAX)
		return 0;
	memcpy(key, dir, dir_len);
	key[dir_len] = '/';
	key[dir_len + 1] = '\0';
	/* The first path at or after "dir/": every path under dir follows it, together. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (path_compare(tree->files[mid].relpath, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < tree->count; i++) {
		const char *p = tree->files[i].relpath;
		size_t n;
		char name[256];
		if (strncmp(p, key, dir_len + 1) != 0)
			break;
		p += dir_len + 1;
		found = 1;
		n = strcspn(p, "/");
		if (n == 0 || n >= sizeof(name))
			continue;
		memcpy(name, p, n);
		name[n] = '\0';
		if (strcmp(name, previous) != 0) {
			memcpy(previous, name, n + 1);
			if (fn != NULL && fn(name, arg) != 0)
				break;
		}
	}
	return found;
}
