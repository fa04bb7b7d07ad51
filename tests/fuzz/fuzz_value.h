/* fuzz_value.h: the harnesses' reference for value_token: its kind, number and digits worked out again, independently. */
#ifndef MEMSCRIPT_FUZZ_VALUE_H
#define MEMSCRIPT_FUZZ_VALUE_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/value_token.h"
#include "fuzz_util.h"

static inline int fuzz_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The decimal in digits[0..n), or UINT64_MAX with *overflowed set. */
static inline uint64_t fuzz_reference_dec(const char *digits, size_t n, int *overflowed)
{
	uint64_t v = 0;
	size_t i;

	*overflowed = 0;
	for (i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(digits[i] - '0');
		if (v > (UINT64_MAX - d) / 10) {
			*overflowed = 1;
			return UINT64_MAX;
		}
		v = v * 10 + d;
	}
	return v;
}

/*
 * Checks *v, the classification of text[0..len): the kind from the shapes alone, the number from
 * the digits, and that a number that fits prints back as exactly its digits.
 */
static inline void fuzz_check_value(const struct value_token *v, const char *text, size_t len)
{
	int negative = len > 0 && text[0] == '-';
	size_t i = (size_t)negative, d = 0, f = 0;
	enum value_kind kind = VALUE_TEXT;
	int overflowed;
	uint64_t number;
	char printed[32];

	FUZZ_CHECK(v->text == text && v->text_len == len);
	while (i + d < len && fuzz_is_digit(text[i + d]))
		d++;
	if (d > 0 && !(d > 1 && text[i] == '0')) {
		if (i + d == len) {
			kind = negative ? VALUE_NEGATIVE : VALUE_UINT;
		} else if (!negative && text[i + d] == '.') {
			while (i + d + 1 + f < len && fuzz_is_digit(text[i + d + 1 + f]))
				f++;
			if (f > 0 && i + d + 1 + f == len)
				kind = VALUE_FIXED;
		}
	}
	FUZZ_CHECK(v->kind == kind);
	if (kind == VALUE_TEXT) {
		FUZZ_CHECK(v->number == 0 && v->overflowed == 0);
		FUZZ_CHECK(v->digits == NULL && v->digits_len == 0);
		FUZZ_CHECK(v->fraction == NULL && v->fraction_len == 0);
		return;
	}
	FUZZ_CHECK(v->digits == text + negative && v->digits_len == d);
	number = fuzz_reference_dec(v->digits, d, &overflowed);
	FUZZ_CHECK(v->number == number && v->overflowed == overflowed);
	if (!overflowed) {
		snprintf(printed, sizeof(printed), "%" PRIu64, number);
		FUZZ_CHECK(strlen(printed) == d && memcmp(printed, v->digits, d) == 0);
	}
	if (kind == VALUE_FIXED) {
		FUZZ_CHECK(v->fraction == v->digits + d + 1 && v->fraction_len == f);
	} else {
		FUZZ_CHECK(v->fraction == NULL && v->fraction_len == 0);
	}
}

/* Two classifications of the same bytes are the same, field by field. */
static inline int fuzz_same_value(const struct value_token *a, const struct value_token *b)
{
	return a->kind == b->kind && a->text == b->text && a->text_len == b->text_len && a->number == b->number &&
	       a->overflowed == b->overflowed && a->digits == b->digits && a->digits_len == b->digits_len &&
	       a->fraction == b->fraction && a->fraction_len == b->fraction_len;
}

/* A byte none of the cgroup parsers takes: control characters, DEL. */
static inline int fuzz_is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

#endif
