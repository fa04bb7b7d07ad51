/* numa_parse.h: lines of per-node counts: /proc/PID/numa_maps, cgroup memory.numa_stat (v1 and v2). */
#ifndef MEMSCRIPT_NUMA_PARSE_H
#define MEMSCRIPT_NUMA_PARSE_H

#include <stddef.h>

#include "core/value_token.h"

/*
 * The lines are tokens separated by one space: a leading token, then bare words and key=value
 * pairs, among them one "N<node>=<count>" per NUMA node.
 *   numa_maps (proc(5)):  7f2a1c000000 default file=/usr/lib/libc.so.6 mapped=40 mapmax=5 N0=40 kernelpagesize_kB=4
 *                         55b7bb74e000 default heap anon=4 dirty=4 active=0 N0=4 kernelpagesize_kB=4
 *                         7fc2d53fe000 default      (a mapping with no page in memory: nothing after the policy)
 *   v2 memory.numa_stat:  anon N0=1234 N1=0         (bytes)
 *   v1 memory.numa_stat:  total=123 N0=100 N1=23    (pages; the leading token is itself a pair)
 *
 * numa_maps specifics the caller has to know:
 * - The leading token is the mapping's start address in hex: a WORD here; read it with
 *   num_parse_hex.
 * - The policy is printed by mpol_to_str and two of its names hold a space, so they come as two
 *   words: "prefer (many):0-1" is "prefer" then "(many):0-1", "weighted interleave:0-3" is
 *   "weighted" then "interleave:0-3". A policy with flags holds '=' and comes as a pair:
 *   "bind=static:0-1" is key "bind", value "static:0-1". Others: "default", "local",
 *   "prefer:1", "bind:0-1", "interleave:0-3" (words).
 * - file= is followed by the path as printed: the kernel escapes space, tab, newline and '=' in
 *   it as octal ("\040", "\011", "\012", "\075"; seq_file_path with "\n\t= "), so a path never
 *   splits a token, and it is returned escaped, as printed. Other bytes, control characters
 *   included, are printed raw and kept: a line is refused only for a NUL byte or a misplaced space.
 */
enum numa_token_kind {
	NUMA_WORD, /* no '=': "default", "heap", "stack", "huge", "interleave:0-3", the address */
	NUMA_PAIR, /* key=value: "file=/usr/bin/cat", "mapped=40", "total=123" */
	NUMA_NODE, /* a pair whose key is 'N' and a node number without leading zero: "N0=40" */
};

struct numa_token {
	enum numa_token_kind kind;
	const char *text;          /* the whole token as printed */
	size_t text_len;
	const char *key;           /* PAIR, NODE: up to the first '='; NULL for a WORD */
	size_t key_len;
	int node;                  /* NODE: the number after 'N' (0 .. INT_MAX); -1 otherwise */
	struct value_token value;  /* PAIR, NODE: after the '=', classified (value_token.h);
	                              WORD: the whole word as VALUE_TEXT, not classified */
};

struct numa_line {
	struct numa_token lead; /* the first token */
	size_t ntokens;         /* tokens after the lead (0 or more) */
	size_t nnodes;          /* how many of them are NUMA_NODE */
	/* The cursor numa_next_token advances; it points into the line. */
	const char *next;
	const char *end;
};

/*
 * Checks one whole line (no newline) and fills *line_out; pointers point into line, nothing is
 * allocated. Returns NULL, or a static reason: an empty line, a space at the start or the end,
 * two spaces in a row, a NUL byte, a token with an empty key ("=3") or an empty value ("N0=").
 * A node or key repeated within the line is the caller's to refuse.
 */
const char *numa_parse_line(const char *line, size_t len, struct numa_line *line_out);

/*
 * The next token after the lead of a line numa_parse_line accepted: fills *token and returns 1,
 * or returns 0 after the last (line->ntokens in all).
 */
int numa_next_token(struct numa_line *line, struct numa_token *token);

#endif
