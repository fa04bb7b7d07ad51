/* size_parse.h: the one size grammar of memscript ("4096", "64M", "1.5GiB", "512 kB"), in bytes. */
#ifndef MEMSCRIPT_SIZE_PARSE_H
#define MEMSCRIPT_SIZE_PARSE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The grammar, in EBNF (docs/where.md and docs/api.md show it too):
 *
 *   size   = { blank } , number , [ { blank } , unit ] , { blank } ;   (size_parse)
 *   number = digit , { digit } , [ "." , digit , { digit } ] ;
 *   unit   = prefix , [ "i" ] , [ "B" ] | "B" ;                        (any case)
 *   prefix = "K" | "M" | "G" | "T" | "P" | "E" ;                        (1024^1 .. 1024^6)
 *   blank  = " " | tab ;
 *
 * The value is the number times the unit (1 without a unit, or with "B" alone), rounded down to
 * a whole byte, exactly (no floating point: "0.1K" is 102, "8191.999999999999999999P" is
 * 9223372036854775807). A value of 2^63 bytes (8E) or more is refused, so that every size is a
 * Lua integer and fits an off_t.
 */

enum size_status {
	SIZE_OK = 0,
	SIZE_INVALID = 1,   /* not a size */
	SIZE_TOO_LARGE = 2, /* a size of 2^63 bytes or more */
};

/*
 * Reads the size at the start of text[0..len): a number, then blanks and a unit when they follow.
 * A unit counts only as a whole word: when the letters, digits and '_' after the number (and its
 * blanks) are not one unit, the size ends right after the number and the caller sees what follows.
 * Sets *used to the bytes the size spans (0 when text does not start with a digit: SIZE_INVALID),
 * also for SIZE_TOO_LARGE, and *bytes on SIZE_OK.
 */
enum size_status size_scan(const char *text, size_t len, size_t *used, uint64_t *bytes);

/* The whole of text[0..len) as one size, with blanks allowed around it. Sets *bytes on SIZE_OK. */
enum size_status size_parse(const char *text, size_t len, uint64_t *bytes);

#endif
