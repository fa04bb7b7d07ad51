/* outfile.h: -o FILE: standard output goes to a temporary file that replaces FILE only when whole. */
#ifndef MEMSCRIPT_OUTFILE_H
#define MEMSCRIPT_OUTFILE_H

#include <stddef.h>

/*
 * Sends standard output to a new temporary file in the directory of path, to replace path when
 * committed. path is reached without writing through anything another user could have planted:
 * each directory is opened relative to the one before, and a symbolic link (on the way or the
 * file itself) is followed only when it is owned by the caller or by root; the file a link of
 * theirs names is replaced, beside itself, and the link kept. An existing path that is not a
 * regular file (a device, a pipe, a directory) is refused.
 *
 * The new file's mode: 0666 less the umask for a new file; an existing file's permission bits
 * without execute, setuid, setgid or sticky bits when the caller owns it (its group kept when
 * allowed); and when another user owns it, 0600 with at most its group and other read bits.
 *
 * Returns 0, or -1 with "PATH: reason" in why, nothing changed.
 */
int outfile_begin(const char *path, char *why, size_t whylen);

/* Whether a temporary file is open (between outfile_begin and outfile_commit or outfile_abort). */
int outfile_active(void);

/*
 * Flushes, syncs and renames the temporary file over path, then restores standard output.
 * Returns 0, or -1 with "PATH: reason" in why after removing the temporary file (path is left as
 * it was).
 */
int outfile_commit(char *why, size_t whylen);

/*
 * Writes the len bytes of data to path as -o writes standard output: reached and created the same
 * way, into a temporary file beside it that is synced and renamed over path only when whole, with
 * the same mode (see outfile_begin); another user's link is refused as "memscript does not write
 * through another user's link". Independent of -o: both may be in progress. Returns 0, or -1 with
 * "PATH: reason" in why, path left as it was.
 */
int outfile_replace(const char *path, const char *data, size_t len, char *why, size_t whylen);

/* Discards the temporary file and restores standard output. */
void outfile_abort(void);

/*
 * Removes the temporary files, if any (-o's and outfile_replace's). Async-signal-safe: for handlers about to end the process
 * (a fatal signal, the --timeout grace), so that no FILE.tmpXXXXXX is left behind.
 */
void outfile_discard_from_signal(void);

#endif
