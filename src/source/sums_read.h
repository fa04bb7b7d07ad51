/* sums_read.h: the lines of a stream of smaps added up into smaps sums, a span at a time. */
#ifndef MEMSCRIPT_SUMS_READ_H
#define MEMSCRIPT_SUMS_READ_H

struct linestream;
struct smaps_sums;

/*
 * Adds every line of stream into s (started with smaps_sums_init). Returns 0 at end of file; -1
 * for a line refused, its number in *lineno and the reason in s->reason; SUMS_READ_STOPPED when stop
 * (if not NULL), asked between spans, says to stop; or the errno value reading or adding up failed with.
 */
#define SUMS_READ_STOPPED (-2)
int sums_read(struct linestream *stream, struct smaps_sums *s, long *lineno, int (*stop)(void *), void *arg);

#endif
