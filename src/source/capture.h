/* capture.h: the capture format: what a capture of a machine holds, where, and its metadata file. */
#ifndef MEMSCRIPT_CAPTURE_H
#define MEMSCRIPT_CAPTURE_H

#include <stddef.h>

struct source_dir;

/*
 * A capture is a directory (or an archive of one) laid out as the machine it was taken on:
 * proc/PID/FILE for each process captured, proc/FILE for the system files, and proc/CAPTURE_META,
 * "Key: value" lines saying what the capture was taken on, written last (a tree without it is an
 * interrupted capture). sys/fs/cgroup/... holds the memory cgroup files (the files proc.cgroup
 * reads, which proc.cgroup.hierarchy().files names) of every captured process's memory cgroup and
 * of each cgroup above it up to the hierarchy's root, where scripts/capture.lua writes them.
 */
#define CAPTURE_META "memscript-capture"

/*
 * The files captured of each process, in the order they are read (stat first: it names the
 * process), and of the system. Each list ends with NULL.
 */
extern const char *const capture_process_files[];
extern const char *const capture_system_files[];

/*
 * The page size recorded in the metadata under the proc tree's top dir ("page_size: 4096"), in
 * *page_size. Leaves *page_size as it was when the tree has no metadata or no valid page size.
 */
void capture_page_size(const struct source_dir *proc_top, long *page_size);

/*
 * Writing a capture. Everything is created relative to directory descriptors memscript made
 * itself, with O_EXCL and O_NOFOLLOW: nothing is written through a name another user planted, and
 * the tree stays private to its owner (directories 0700, files 0600) from its first byte on, since
 * it shows other users' memory layouts and command lines.
 *
 * A process is written into proc/.partial/PID and renamed to proc/PID once all its files are
 * written, so even an interrupted capture never shows a half-written process under a pid.
 */
struct capture_writer;

/*
 * Starts a capture in dir: dir is created (0700, with any missing parents), or, when it exists,
 * must be a directory owned by the caller that no one else may write to; dir/proc must not exist.
 * Returns 0, or an errno value with a message naming the path in err.
 */
int capture_create(const char *dir, struct capture_writer **out, char *err, size_t errlen);

/* Writes one process: files[i] (names) with data[i] of len[i] bytes. Returns 0 or an errno value. */
int capture_write_process(struct capture_writer *w, const char *pid, size_t nfiles, const char *const *files,
			  const char *const *data, const size_t *len, char *err, size_t errlen);

/* Writes a file of the proc tree's top (meminfo, vmstat, the metadata), or of the sys tree. */
int capture_write_file(struct capture_writer *w, int sys, const char *relpath, const char *data, size_t len,
		       char *err, size_t errlen);

/* The directory descriptor of the capture's top, for packing it (capture_pack). */
int capture_top_fd(const struct capture_writer *w);

/*
 * Ends the writing of processes: removes proc/.partial. Files of the tree's top and packing stay
 * possible. Returns 0 or an errno value.
 */
int capture_finish(struct capture_writer *w, char *err, size_t errlen);

/* Frees w, leaving what was written as it is (an unfinished capture keeps proc/.partial). */
void capture_abandon(struct capture_writer *w);

#endif
