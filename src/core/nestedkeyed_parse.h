/* nestedkeyed_parse.h: "name key=value key=value" lines: pressure (PSI) files and cgroup io.stat. */
#ifndef MEMSCRIPT_NESTEDKEYED_PARSE_H
#define MEMSCRIPT_NESTEDKEYED_PARSE_H

#include <stddef.h>

#include "core/value_token.h"

/*
 * cgroup-v2.rst calls these "nested keyed" files: "KEY0 SUB_KEY0=VAL00 SUB_KEY1=VAL01...".
 * /proc/pressure/memory and cgroup memory.pressure:
 *     some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 *     full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * io.stat:
 *     8:0 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
 * The averages are fixed-point ("%lu.%02lu": VALUE_FIXED), the totals and byte counts decimals.
 */
struct nestedkeyed_record {
	const char *name;   /* the first token: "some", "full", "8:0" */
	size_t name_len;
	size_t npairs;      /* how many key=value pairs follow (at least one) */
	/* The cursor nestedkeyed_next_pair advances; it points into the line. */
	const char *next;
	const char *end;
};

struct nestedkeyed_pair {
	const char *key;           /* up to the first '=' of the token */
	size_t key_len;
	struct value_token value;  /* after that '=', classified (value_token.h) */
};

/*
 * Checks one whole line (no newline) and fills *record; pointers point into line, nothing is
 * allocated. The line is accepted or refused as a whole, before any pair is handed out, so a
 * caller builds nothing for a line it then refuses. Returns NULL, or a static reason: an empty
 * line, an empty name or a name with '=' in it, no pair after the name, a token without '=',
 * an empty key or value, two spaces in a row or a space at the end, a control character (tab,
 * carriage return, NUL...). A key repeated within the line is the caller's to refuse.
 */
const char *nestedkeyed_parse_line(const char *line, size_t len, struct nestedkeyed_record *record);

/*
 * The next pair of a record that nestedkeyed_parse_line accepted: fills *pair and returns 1, or
 * returns 0 after the last (record->npairs pairs in all).
 */
int nestedkeyed_next_pair(struct nestedkeyed_record *record, struct nestedkeyed_pair *pair);

#endif
