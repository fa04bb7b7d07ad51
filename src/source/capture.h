/* capture.h: the capture format: what a capture of a machine holds, where, and its metadata file. */
#ifndef MEMSCRIPT_CAPTURE_H
#define MEMSCRIPT_CAPTURE_H

struct source_dir;

/*
 * A capture is a directory (or an archive of one) laid out as the machine it was taken on:
 * proc/PID/FILE for each process captured, proc/FILE for the system files, and proc/CAPTURE_META,
 * "Key: value" lines saying what the capture was taken on, written last (a tree without it is an
 * interrupted capture).
 */
#define CAPTURE_META "memscript-capture"

/*
 * The page size recorded in the metadata under the proc tree's top dir ("page_size: 4096"), in
 * *page_size. Leaves *page_size as it was when the tree has no metadata or no valid page size.
 */
void capture_page_size(const struct source_dir *proc_top, long *page_size);

#endif
