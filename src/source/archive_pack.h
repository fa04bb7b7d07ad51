/* archive_pack.h: packing a captured tree into one archive file (tar, tar.gz, zip, ...). */
#ifndef MEMSCRIPT_ARCHIVE_PACK_H
#define MEMSCRIPT_ARCHIVE_PACK_H

#include <stddef.h>

/*
 * Packs the directories trees[0..ntrees) found under top_fd ("proc", "sys"; a missing one is left
 * out), with everything in them, into the archive archive_path, in the format its name asks for
 * (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2, .zip, .7z, ...; a POSIX tar for any other name).
 * The archive is written to a new file (0600) beside archive_path, then renamed over it: what was
 * there (a file, or a symbolic link someone planted) is replaced, never written through, and is
 * left as it was on failure. Symbolic links, devices and FIFOs in the trees are not packed.
 * Returns 0, or an errno value with a message naming the file in err.
 */
int archive_pack(int top_fd, const char *const *trees, size_t ntrees, const char *archive_path, char *err,
		 size_t errlen);

#endif
