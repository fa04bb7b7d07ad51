/* keyval_parse.h: the "Key: value" lines of status, meminfo, smaps and smaps_rollup (proc(5)). */
#ifndef MEMSCRIPT_KEYVAL_PARSE_H
#define MEMSCRIPT_KEYVAL_PARSE_H

#include <stddef.h>
#include <stdint.h>

enum kv_kind {
	KV_KB,   /* "Rss:   132 kB": number is in kB */
	KV_INT,  /* "Threads:  51", "THPeligible: 0": a plain decimal, no leading zero */
	KV_TEXT, /* anything else: "State: S (sleeping)", "Umask: 0022", "VmFlags: rd wr" */
};

struct kv_field {
	const char *key;     /* the key exactly as the kernel spells it, without the colon */
	size_t key_len;
	enum kv_kind kind;
	uint64_t number;     /* KV_KB and KV_INT; UINT64_MAX when overflowed */
	int overflowed;      /* the decimal did not fit 64 bits: use the digits in text */
	const char *text;    /* the value with surrounding blanks trimmed (digits for numbers) */
	size_t text_len;
};

/*
 * Parses one line (no newline) into *field; pointers point into line.
 * Returns NULL, or a static reason the line is not a "Key: value" line.
 */
const char *kv_parse_line(const char *line, size_t len, struct kv_field *field);

/*
 * The common case of kv_parse_line, faster: a line whose first key_len bytes are a key the caller
 * already had from kv_parse_line, followed by ':', blanks and a number: "N kB" or a plain
 * decimal kv_parse_line takes as KV_INT. Returns 1 with *field as kv_parse_line would set it, or
 * 0 for any other line (hand it to kv_parse_line).
 */
int kv_parse_known_number(const char *line, size_t len, size_t key_len, struct kv_field *field);

/*
 * The same for a line inside a buffer that ends at end, with no line length known yet, and the
 * key compared here: the line must start with the key_len bytes at key, and end in '\n' before
 * end. Returns that newline, with *field set as kv_parse_known_number would set it for the line
 * without it, or NULL for any other line (or no newline).
 */
const char *kv_scan_known_number(const char *line, const char *end, const char *key, size_t key_len,
				 struct kv_field *field);

/*
 * The same for a line whose value is not wanted: the line starts with the key_len bytes at key (a
 * key the caller had from kv_parse_line), then ':', and ends in '\n' before end. Returns that
 * newline when kv_parse_line would take the line without it (with this key, whatever its value),
 * else NULL. Reads no number: a line passed over costs a look for its newline, first where
 * len_hint puts it (the length of the line last seen in this place, 0 for none), a few words
 * looked at whatever they hold: the kernel prints most lines of a kind at one width.
 */
const char *kv_skip_known(const char *line, const char *end, const char *key, size_t key_len, size_t len_hint);

#endif
