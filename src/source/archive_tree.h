/* archive_tree.h: a captured proc tree read whole from a tar (or any libarchive) archive. */
#ifndef MEMSCRIPT_ARCHIVE_TREE_H
#define MEMSCRIPT_ARCHIVE_TREE_H

#include <stddef.h>

struct archive_tree;

/*
 * Reads every regular file of the archive at path into memory. Files are named from the top of
 * the captured machine ("proc/42/smaps", "sys/fs/cgroup/memory.stat"): what comes before the
 * first directory named "proc" is removed ("capture/proc/42/smaps" is "proc/42/smaps"), and an
 * archive with no such directory is taken as a proc tree alone ("42/smaps" is "proc/42/smaps"). Returns the tree, or NULL with a message (naming the archive and
 * the reason) in err and an errno value in *errnum: the system's when the file could not be read
 * (ENOENT, EACCES, ...), EINVAL when its content is not a readable archive.
 */
struct archive_tree *archive_tree_load(const char *path, char *err, size_t errlen, int *errnum);

/* The bytes of relpath ("proc/42/smaps"), or NULL with *len 0 when the archive lacks it. */
const char *archive_tree_find(const struct archive_tree *tree, const char *relpath, size_t *len);

/*
 * Calls fn(name, arg) for each distinct name directly under the directory dir ("proc" gives "42",
 * "meminfo", ...), in path order, until fn returns nonzero. fn may be NULL. Returns 1 when the
 * archive holds a file under dir, 0 when it holds none (no such directory).
 */
int archive_tree_list_dir(const struct archive_tree *tree, const char *dir,
			  int (*fn)(const char *name, void *arg), void *arg);

void archive_tree_free(struct archive_tree *tree);

#endif
