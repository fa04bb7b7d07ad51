/* cmdline_parse.h: /proc/PID/cmdline (proc(5)): the arguments, each followed by a NUL byte. */
#ifndef MEMSCRIPT_CMDLINE_PARSE_H
#define MEMSCRIPT_CMDLINE_PARSE_H

#include <stddef.h>

/*
 * The file is the process's argument area: arguments each ended by a NUL. A process may rewrite
 * that area, so the last argument may have no NUL after it, and an argument may be empty ("a",
 * "", "b" is "a\0\0b\0"). A kernel thread's file is empty: no argument at all.
 */

/*
 * Hands out the next argument of data at *pos, up to end: sets *arg and *arg_len (pointing into
 * the data; nothing is allocated), moves *pos past the argument and its NUL, and returns 1; returns
 * 0 when *pos has reached end. Every byte is accepted. Joining the arguments with a NUL after each
 * but a last one that had none gives the file again.
 */
int cmdline_next(const char **pos, const char *end, const char **arg, size_t *arg_len);

/* How many arguments cmdline_next hands out for data[0..len) (to size a table beforehand; data
 * may be NULL when len is 0). */
size_t cmdline_count(const char *data, size_t len);

#endif
