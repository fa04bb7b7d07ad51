/* readahead.h: files of a process read ahead by a pool of threads, while the caller works on another. */
#ifndef MEMSCRIPT_READAHEAD_H
#define MEMSCRIPT_READAHEAD_H

#include "source/source.h"

/*
 * A whole-system scan spends most of its time in the kernel producing each process's files
 * (smaps above all) and the rest building tables from them. A job reads the named files of one
 * process through its directory handle on a pool thread (one per CPU), so that the kernel's work
 * for the next processes is done on every CPU while the caller builds the tables of this one (the
 * caller mostly parses, and waits: a pool thread per CPU but one left a CPU idle). "maps" and
 * "smaps" are opened as line streams with their first chunk filled whole (source_dir_lines_filled:
 * the smaps of a process of a few hundred mappings is read by the pool thread alone), every other
 * file read whole, each exactly as source_dir_lines and source_dir_read would, failures included.
 *
 * A job the caller takes from before a pool thread has started it is run by the caller itself, so
 * no one waits on a queue; a caller with several jobs out waits for whichever is done first
 * (readahead_wait_any) instead. The directory must stay open until the job is cancelled.
 */
struct readahead_job;

#define READAHEAD_FILES_MAX 8

struct smaps_sums;

/*
 * Queues a job for names (at most READAHEAD_FILES_MAX, each shorter than 32 bytes). The name
 * "smaps_sums" asks for the process's smaps added up on the pool thread into a copy of sums (a sum
 * started with smaps_sums_init, nothing added; ignored when sums is NULL). 0 or ENOMEM.
 */
int readahead_submit(struct source_dir *dir, const char *const *names, int count, const struct smaps_sums *sums,
		     struct readahead_job **out);

/*
 * Takes the named file's result out of the job, running or waiting for it if need be. Returns 1
 * with *err set (0, and the contents in *out, or the errno value the read failed with) when the
 * job read that file as asked (whole for readahead_take_whole, as lines for readahead_take_lines);
 * 0 when it holds no such file, or it was taken already: read it afresh.
 */
int readahead_take_whole(struct readahead_job *job, const char *name, struct procfile *out, int *err);
int readahead_take_lines(struct readahead_job *job, const char *name, struct linestream **out, int *err);

/*
 * Takes the job's smaps sums when it adds up the fields sums does (a sum started, nothing added), as
 * readahead_take_whole does: returns 1 with *err (the errno value smaps could not be opened with,
 * or 0), *read_err (the errno value reading or adding up failed with on the way, or 0), *lineno
 * (the line of smaps refused, its reason in sums->reason; 0 when none was) and the sums made in
 * *sums (smaps_sums_free them), or 0: add up afresh.
 */
int readahead_take_sums(struct readahead_job *job, struct smaps_sums *sums, int *err, int *read_err, long *lineno);

/* Where the job stands: not started yet, being run (by a pool thread or the caller), or run. */
enum readahead_state { READAHEAD_QUEUED, READAHEAD_RUNNING, READAHEAD_DONE };
enum readahead_state readahead_state(struct readahead_job *job);

/*
 * Returns the index of the first of the n jobs that is done, in the order given (a NULL job counts
 * as done); -1 when n is 0. When none is, waits until at_least of them are (fewer than 1 counts as
 * 1, more than there are as all, a job given twice counting once); where no pool thread could be
 * started, the first queued job is run here instead. A caller with several processes read ahead
 * thus waits for whichever come first, and leaves the jobs no thread has started to the pool: one
 * it ran itself (60,000 mappings: 100 ms) would keep it from handing the pool new work meanwhile. It is woken once, when the
 * last job awaited is done: waiting for a few at a time spares a switch of threads per job. One
 * thread waits at a time (the one that runs Lua).
 */
int readahead_wait_any(struct readahead_job *const *jobs, int n, int at_least);

/* Stops the job (waiting for a pool thread that runs it) and frees what it read but no one took. */
void readahead_cancel(struct readahead_job *job);

#endif
