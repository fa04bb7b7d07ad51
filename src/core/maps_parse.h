/* maps_parse.h: the mapping header line of /proc/PID/maps and /proc/PID/smaps (proc(5)). */
#ifndef MEMSCRIPT_MAPS_PARSE_H
#define MEMSCRIPT_MAPS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* "address perms offset dev inode pathname", pointers into the parsed line. */
struct maps_header {
	uint64_t vm_start;
	uint64_t vm_end;
	uint64_t offset;     /* bytes (the kernel prints vm_pgoff << PAGE_SHIFT in hex) */
	uint64_t inode;
	const char *perms;   /* "r-xp", as printed */
	size_t perms_len;
	const char *dev;     /* "fd:00", as printed */
	size_t dev_len;
	const char *path;    /* the rest of the line as printed, "" when blank */
	size_t path_len;
};

/* True when line starts like a mapping header ("hex-hex "), so smaps can tell it from a field. */
int maps_is_header(const char *line, size_t len);

/*
 * Parses one header line (no newline) into *header.
 * Returns NULL, or a static reason naming the column that is malformed.
 */
const char *maps_parse_header(const char *line, size_t len, struct maps_header *header);

#endif
