/* singlevalue_parse.h: files that hold one value and a newline: cgroup memory.max, memory.current, v1 memory.limit_in_bytes. */
#ifndef MEMSCRIPT_SINGLEVALUE_PARSE_H
#define MEMSCRIPT_SINGLEVALUE_PARSE_H

#include <stddef.h>

#include "core/value_token.h"

/*
 * v2 prints a limit as a decimal or as the word "max" ("max\n"); v1 prints "no limit" as a
 * decimal, 9223372036854771712 on x86-64 (PAGE_COUNTER_MAX pages in bytes), which comes
 * through as that integer (VALUE_UINT). Some single-value files hold a list ("0-3" in
 * cpuset.cpus.effective: text) or nothing at all ("\n" in cpuset.cpus: text of length 0).
 */

/*
 * Parses the whole content data[0..len) of such a file: one value, then one '\n' or nothing (a
 * capture cut before its last newline). Fills *value (pointers into data; nothing allocated).
 * Returns NULL, or a static reason: an empty file, a blank (space, tab) in the value (two values
 * on the line, as cpu.max's "max 100000"), text after the first line, a control character, a NUL
 * byte, a carriage return.
 */
const char *singlevalue_parse(const char *data, size_t len, struct value_token *value);

#endif
