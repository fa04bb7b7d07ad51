/* archive_tree.h: a captured proc tree read whole from a tar (or any libarchive) archive. */
#ifndef MEMSCRIPT_ARCHIVE_TREE_H
#define MEMSCRIPT_ARCHIVE_TREE_H

#include <stddef.h>

struct archive_tree;

/*
 * The bytes a tree may hold (file contents, names and index) when its loader sets no budget: 1 GiB,
 * several times the largest capture of a busy machine (tens to hundreds of MB), while a small
 * archive that unpacks to many gigabytes (a sparse file, a bomb) is refused.
 */
#define ARCHIVE_TREE_DEFAULT_BUDGET ((size_t)1 << 30)

/*
 * What loading may take. An archive is read whole, in C, before any code that uses it runs, so
 * whoever loads it bounds it here: a byte budget (checked against each entry's declared size
 * before anything is allocated, and against the running total), memory counted with the
 * caller's own (charge, release), and a way to stop (should_stop, asked between reads).
 */
struct archive_limits {
	size_t max_bytes;            /* 0: ARCHIVE_TREE_DEFAULT_BUDGET */
	const char *budget_name;     /* names the budget in messages ("--max-memory"); NULL: the default's */
	int (*charge)(void *arg, size_t bytes);   /* 0 refuses bytes more; NULL: none */
	void (*release)(void *arg, size_t bytes); /* gives charged bytes back (tree freed, load failed) */
	const char *(*should_stop)(void *arg);    /* NULL to go on, else why loading stops; may be NULL */
	void *arg;
};

/*
 * Reads every regular file of the archive at path into memory. Files are named from the top of
 * the captured machine ("proc/42/smaps", "sys/fs/cgroup/memory.stat"): what comes before the
 * first directory named "proc" is removed ("capture/proc/42/smaps" is "proc/42/smaps"), and an
 * archive with no such directory is taken as a proc tree alone ("42/smaps" is "proc/42/smaps").
 * Returns the tree, or NULL with a message (naming the archive, and
 * the entry when one is at fault, and the reason) in err and an errno value in *errnum: the
 * system's when the file could not be read (ENOENT, EACCES, ...), EINVAL when its content is not
 * a readable archive, ENOMEM when it does not fit in the budget, ECANCELED when should_stop said so.
 * limits NULL: ARCHIVE_TREE_DEFAULT_BUDGET alone. limits is copied.
 */
struct archive_tree *archive_tree_load_limited(const char *path, const struct archive_limits *limits,
					       char *err, size_t errlen, int *errnum);

/* archive_tree_load_limited with the limits last given to archive_tree_set_default_limits. */
struct archive_tree *archive_tree_load(const char *path, char *err, size_t errlen, int *errnum);

/*
 * The limits archive_tree_load applies from now on (copied; NULL: the default budget alone): the
 * program sets them once from its own (memscript: --max-memory and --timeout), so every loader
 * is bounded alike.
 */
void archive_tree_set_default_limits(const struct archive_limits *limits);

/* The bytes of relpath ("proc/42/smaps"), or NULL with *len 0 when the archive lacks it. */
const char *archive_tree_find(const struct archive_tree *tree, const char *relpath, size_t *len);

/*
 * Calls fn(name, arg) for each distinct name directly under the directory dir ("proc" gives "42",
 * "meminfo", ...), in path order, until fn returns nonzero. fn may be NULL. Returns 1 when the
 * archive holds a file under dir, 0 when it holds none (no such directory).
 */
int archive_tree_list_dir(const struct archive_tree *tree, const char *dir,
			  int (*fn)(const char *name, void *arg), void *arg);

/* Frees the tree, giving its bytes back through the release of the limits it was loaded with. */
void archive_tree_free(struct archive_tree *tree);

#endif
