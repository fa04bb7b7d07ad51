/* archive_tree.h: a captured proc tree read whole from a tar (or any libarchive) archive. */
#ifndef MEMSCRIPT_ARCHIVE_TREE_H
#define MEMSCRIPT_ARCHIVE_TREE_H

#include <stddef.h>

struct archive_tree;

/*
 * Reads every regular file of the archive at path into memory. Paths are taken relative to the
 * first directory named "proc" in them ("capture/proc/42/smaps" is "42/smaps"), or to the
 * archive's root when none is. Returns the tree, or NULL with a message (naming the archive and
 * the reason) in err and an errno value in *errnum: the system's when the file could not be read
 * (ENOENT, EACCES, ...), EINVAL when its content is not a readable archive.
 */
struct archive_tree *archive_tree_load(const char *path, char *err, size_t errlen, int *errnum);

/* The bytes of relpath ("42/smaps", "meminfo"), or NULL with *len 0 when the archive lacks it. */
const char *archive_tree_find(const struct archive_tree *tree, const char *relpath, size_t *len);

/* Calls fn(name, arg) for each distinct first component of the paths ("42", "meminfo", ...). */
void archive_tree_list_top(const struct archive_tree *tree, void (*fn)(const char *name, void *arg), void *arg);

void archive_tree_free(struct archive_tree *tree);

#endif
