/* outfile.h: -o FILE: standard output goes to a temporary file that replaces FILE only when whole. */
#ifndef MEMSCRIPT_OUTFILE_H
#define MEMSCRIPT_OUTFILE_H

#include <stddef.h>

/*
 * Sends standard output to a new temporary file beside path. Returns 0, or an errno value with
 * nothing changed.
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
