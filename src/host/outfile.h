/* outfile.h: -o FILE: standard output goes to a temporary file that replaces FILE only when whole. */
#ifndef MEMSCRIPT_OUTFILE_H
#define MEMSCRIPT_OUTFILE_H

#include <stddef.h>

/* outfile_begin's refusal of a path that names something other than a regular file. */
#define OUTFILE_NOT_REGULAR (-1)

/*
 * Sends standard output to a new temporary file beside path (beside the file it links to, when
 * path is a symbolic link), with the mode of the file it will replace, or 0666 less the umask.
 * Returns 0, an errno value, or OUTFILE_NOT_REGULAR when path exists and is not a regular file
 * (a device, a pipe, a directory), with nothing changed.
 */
int outfile_begin(const char *path);

/*
 * Flushes, syncs and renames the temporary file over path, then restores standard output.
 * Returns 0, or an errno value after removing the temporary file (path is left as it was).
 */
int outfile_commit(void);

/* Discards the temporary file and restores standard output. */
void outfile_abort(void);

#endif
