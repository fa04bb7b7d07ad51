/* source.h: a machine's files, /proc and /sys alike: the running system, a captured tree, or an archive of one. */
#ifndef MEMSCRIPT_SOURCE_H
#define MEMSCRIPT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "source/archive_tree.h"
#include "source/linestream.h"
#include "source/procfile.h"

/*
 * A source is opened once and read many times. Every file is opened beneath one of its two trees,
 * relative to a directory descriptor: a name can never leave its tree ("..", an absolute path, or a
 * symbolic link in a captured tree are refused), and only regular files are read, so a FIFO or a
 * device planted in a captured tree cannot block or feed memscript forever.
 *
 * A directory handle (struct source_dir) is one directory of a tree held open: /proc/PID for the
 * files of one process, so that they are all read from the same process (once it has ended, every
 * read fails with ESRCH, even if its pid has been given to a new process), or a cgroup's directory.
 */
struct source;
struct source_dir;

enum source_tree {
	SOURCE_PROC = 0, /* /proc, or a capture's proc/ */
	SOURCE_SYS = 1,  /* /sys, or a capture's sys/ */
};

enum source_kind {
	SOURCE_LIVE,      /* this machine's /proc and /sys */
	SOURCE_DIRECTORY, /* a captured tree in a directory */
	SOURCE_ARCHIVE,   /* a captured tree packed in one file (tar, tar.gz, zip, ...) */
};

/*
 * Besides errno values, what reading a name that is not a regular file (a FIFO, a device, a
 * directory, a socket) returns; scripts see it as EINVAL. source_strerror describes both.
 */
#define SOURCE_ENOTREG 4096

/* How a source was named on the command line. */
enum source_root_kind {
	SOURCE_ROOT_MACHINE, /* --root DIR: DIR/proc and DIR/sys */
	SOURCE_ROOT_PROC,    /* --proc-root DIR: a proc tree, or a capture's top (DIR/proc) */
};

/*
 * Opens a source. root NULL is the running system (/proc and /sys). Otherwise root is a directory
 * or an archive file: with SOURCE_ROOT_MACHINE its proc/ and sys/ are the trees; with
 * SOURCE_ROOT_PROC root is the proc tree itself, unless it is the top of a capture (it holds proc/
 * and no meminfo), which is then read as a machine. A root that is this machine's own procfs is
 * the running system's. Either tree may be missing: reading it then fails with ENOENT.
 * Returns 0 and the source, or an errno value with a message naming root in err.
 */
int source_open(const char *root, enum source_root_kind how, struct source **out, char *err, size_t errlen);

void source_close(struct source *src);

enum source_kind source_kind(const struct source *src);

/* The name given (or "/proc" for the running system), for messages and proc.root(). */
const char *source_name(const struct source *src);

/*
 * The page size the tree's page counts are in: this machine's, unless set (a capture records the
 * page size of the machine it was taken on: capture_page_size).
 */
long source_page_size(const struct source *src);
void source_set_page_size(struct source *src, long page_size);

/*
 * Largest file read whole (bytes; 0: no limit). A bigger one fails with EFBIG: the --max-memory
 * cap applies to what a read would hand to Lua.
 */
void source_set_max_file(struct source *src, size_t bytes);
size_t source_max_file(const struct source *src);

/*
 * Opens the directory reldir of a tree ("" for the tree's top, "42" for a process). In the running
 * system's proc tree, a first component "self" names memscript's own process. Returns 0 or an
 * errno value (ENOENT, ESRCH, EACCES, ELOOP for a link in a captured tree, ENOTDIR, ...).
 */
int source_dir_open(struct source *src, enum source_tree tree, const char *reldir, struct source_dir **out);

/* A handle on the top of a tree, owned by the source (do not close it). */
struct source_dir *source_tree(struct source *src, enum source_tree tree);

void source_dir_close(struct source_dir *dir);

/* The source dir belongs to. */
struct source *source_dir_source(const struct source_dir *dir);

/* dir's path under its tree's top ("" for the top, "1234" for a process, "self" resolved). */
const char *source_dir_name(const struct source_dir *dir);

/* The name of relpath under dir, as messages show it: "/proc/42/smaps", "cap.tar:proc/42/smaps". */
void source_dir_path(const struct source_dir *dir, const char *relpath, char *buf, size_t size);

/* Reads relpath under dir whole into *out (the caller frees it). Returns 0 or an error as above. */
int source_dir_read(const struct source_dir *dir, const char *relpath, struct procfile *out);

/* Opens relpath under dir for reading line by line (linestream_close it). Returns 0 or an error. */
int source_dir_lines(const struct source_dir *dir, const char *relpath, struct linestream **out);

/* The same with the first chunk filled whole before it returns (linestream_open_fd_filled). */
int source_dir_lines_filled(const struct source_dir *dir, const char *relpath, struct linestream **out);

/*
 * Opens relpath under dir as a file descriptor, for what is not read whole: files of 64-bit records
 * read with pread (pagemap, kpageflags), files written (clear_refs, page_idle/bitmap). flags is
 * O_RDONLY, O_WRONLY or O_RDWR; the descriptor is close-on-exec, in blocking mode, and the caller
 * closes it. Only a regular file is opened (SOURCE_ENOTREG otherwise), beneath dir as every read
 * is. Only the running system's trees are opened for writing (a captured tree gives EROFS), and an
 * archive's files have no descriptor (EOPNOTSUPP). Returns 0 and *fd_out, or an error as above.
 */
int source_dir_open_fd(const struct source_dir *dir, const char *relpath, int flags, int *fd_out);

/*
 * Calls fn(name, arg) for each entry of the directory relpath under dir ("" for dir itself), "."
 * and ".." left out, in no particular order; fn returns nonzero to stop. Returns 0 or an error.
 */
int source_dir_list(const struct source_dir *dir, const char *relpath,
		    int (*fn)(const char *name, void *arg), void *arg);

/*
 * The inode number of relpath under dir ("" for dir itself), and whether it is a directory; the
 * link itself for a symbolic link. A captured tree in a directory is asked as the running system
 * is; an archive's entries have no inode (EOPNOTSUPP). Returns 0 or an error as above.
 */
int source_dir_inode(const struct source_dir *dir, const char *relpath, uint64_t *inode, int *is_dir);

/*
 * Calls fn(name, arg) for each subdirectory of the directory relpath under dir, as source_dir_list
 * does for every entry: the cgroups below a cgroup, whose directory also holds its files. A symbolic
 * link is not a subdirectory here, even in the running system. Returns 0 or an error.
 */
int source_dir_list_dirs(const struct source_dir *dir, const char *relpath,
			 int (*fn)(const char *name, void *arg), void *arg);

/* The message of an error returned above. */
const char *source_strerror(int err);

/* The errno value scripts see for an error returned above. */
int source_errno(int err);

#endif
