/* flatkeyed_parse.h: "key value" lines: /proc/vmstat, /proc/PID/ksm_stat, cgroup memory.stat, memory.events, cpu.stat. */
#ifndef MEMSCRIPT_FLATKEYED_PARSE_H
#define MEMSCRIPT_FLATKEYED_PARSE_H

#include <stddef.h>

#include "core/value_token.h"

/*
 * cgroup-v2.rst calls these "flat keyed" files: "KEY0 VAL0\n", one space between. v1's
 * memory.stat (with its total_* keys) and /proc/vmstat are printed the same way.
 * /proc/PID/ksm_stat prints most lines so and two with a colon after the key
 * ("ksm_merge_any: no"); that colon is taken as part of the separator and reported in key_colon.
 */
struct flatkeyed_field {
	const char *key;           /* the key as printed, without the colon of "key: value" */
	size_t key_len;
	int key_colon;             /* 1 when the key was followed by ':' ("ksm_mergeable: no") */
	struct value_token value;  /* the rest of the line, classified (value_token.h) */
};

/*
 * Parses one line (no newline) into *field; every pointer points into line, nothing is allocated.
 * Returns NULL, or a static reason the line is not "key value": an empty line, no space after the
 * key, an empty key or value, a blank (a second space, a tab) anywhere else, a control character,
 * a NUL byte, a carriage return (CRLF line ends). Values are numbers or single words in every
 * file this shape is used for, so a value with a blank in it is refused rather than kept as text:
 * a nested keyed line ("some avg10=0.00 ...") read as flat keyed is then an error, not a key.
 * A key repeated on another line is not this function's business: the caller keeps the keys.
 */
const char *flatkeyed_parse_line(const char *line, size_t len, struct flatkeyed_field *field);

#endif
