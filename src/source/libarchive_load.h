/* libarchive_load.h: libarchive loaded when the first archive is read or written, not at start-up. */
#ifndef MEMSCRIPT_LIBARCHIVE_LOAD_H
#define MEMSCRIPT_LIBARCHIVE_LOAD_H

#include <stddef.h>

/*
 * libarchive with the libraries it needs (libxml2, ICU, libstdc++, ...) would more than triple the
 * time `memscript -e ''` takes if it were linked: it is opened with dlopen by the first reader or
 * writer of an archive, and its functions are called through tables typed from archive.h's own
 * prototypes (archive_tree.c, archive_pack.c).
 */

/* A function to look up: where its address goes, and its name. */
struct libarchive_symbol {
	void **slot;
	const char *name;
};

/*
 * Opens libarchive (once for the process) and fills the n slots. Returns 0, or -1 with
 * "cannot ACTION archives: reason" in err.
 */
int libarchive_load(const struct libarchive_symbol *symbols, size_t n, const char *action, char *err,
		    size_t errlen);

#endif
