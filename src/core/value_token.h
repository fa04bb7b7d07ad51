/* value_token.h: what one printed value is: a decimal, a negative decimal, a fixed-point decimal, or text. */
#ifndef MEMSCRIPT_VALUE_TOKEN_H
#define MEMSCRIPT_VALUE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The shapes the kernel prints values in: "%llu" (VALUE_UINT), "%lld" when negative
 * (VALUE_NEGATIVE), "%lu.%02lu" as PSI's averages and io.stat's cost.* (VALUE_FIXED); anything
 * else ("max", "0-3", "no") is VALUE_TEXT. A leading zero ("007", "00.5") makes text, as
 * keyval_parse does: the kernel prints no padding in these files, so such a value is not a count.
 */
enum value_kind {
	VALUE_UINT,     /* "1234": digits only */
	VALUE_NEGATIVE, /* "-12": '-' then digits; number is the magnitude */
	VALUE_FIXED,    /* "12.34": digits, '.', one or more digits; number is the integer part */
	VALUE_TEXT,     /* anything else, including "" */
};

struct value_token {
	enum value_kind kind;
	const char *text;     /* the value as printed: with the '-' and the '.' */
	size_t text_len;
	uint64_t number;      /* UINT: the value; NEGATIVE: its magnitude; FIXED: the integer part;
	                         0 for TEXT; UINT64_MAX when overflowed */
	int overflowed;       /* the digits did not fit 64 bits: use them (digits) instead of number */
	const char *digits;   /* the digits number was read from (text, or text + 1 for NEGATIVE);
	                         NULL for TEXT */
	size_t digits_len;
	const char *fraction; /* FIXED: the digits after the '.'; NULL otherwise */
	size_t fraction_len;
};

/*
 * Classifies text[0..len) as a whole (it has no separators left in it); every pointer points into
 * text. Any bytes are accepted: what is not a number is VALUE_TEXT.
 */
void value_token_classify(const char *text, size_t len, struct value_token *value);

/*
 * The reason byte c cannot stand in a line of the files these values come from (a cgroup or
 * vmstat line: printable bytes and single spaces), or NULL; tab_reason is the reason given for a
 * tab, which says what separates the line's parts. ' ' is the caller's to judge.
 */
const char *value_token_bad_byte(unsigned char c, const char *tab_reason);

#endif
