/* statm_parse.h: /proc/PID/statm (proc(5)): seven page counts on one line. */
#ifndef MEMSCRIPT_STATM_PARSE_H
#define MEMSCRIPT_STATM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define STATM_FIELDS 7

/* proc(5)'s names, in the order printed: size resident shared text lib data dt. */
extern const char *const statm_field_names[STATM_FIELDS];

struct statm_field {
	uint64_t pages;      /* UINT64_MAX when overflowed */
	int overflowed;      /* the digits did not fit 64 bits */
	const char *digits;  /* the count as printed */
	size_t digits_len;
};

struct statm {
	struct statm_field fields[STATM_FIELDS];
	const char *error_field; /* when a reason is returned: the field's name, or NULL */
};

/*
 * Parses the whole file data[0..len) (data may be NULL when len is 0; one trailing newline is
 * allowed) into *statm: seven decimals separated by one space, counts of pages. Pointers point
 * into data; nothing is allocated. Returns NULL, or a static reason, always about line 1; the
 * message the `proc` module shows is "PATH:1: FIELD: REASON", or "PATH:1: REASON" when
 * error_field is NULL. The reasons: "space expected before the field" and "decimal number of
 * pages expected" (with a field), "unexpected text after the seventh field" (without).
 */
const char *statm_parse(const char *data, size_t len, struct statm *statm);

#endif
