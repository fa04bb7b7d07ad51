/* numparse.c: decimal and hex parsing that detects overflow instead of wrapping. */
#include "core/numparse.h"

enum num_status num_parse_dec(const char **pos, const char *end, uint64_t *out)
{
	const char *p = *pos;
	uint64_t value = 0;
	int overflow = 0;

	if (p >= end || *p < '0' || *p > '9')
		return NUM_NONE;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			overflow = 1;
		else
			value = value * 10 + digit;
	}
	*pos = p;
	*out = overflow ? UINT64_MAX : value;
	return overflow ? NUM_OVERFLOW : NUM_OK;
}

/* One more than the value of each byte as a hex digit, 0 for the others: one load per digit. */
static const unsigned char hex_values[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_digit(char c)
{
	return (int)hex_values[(unsigned char)c] - 1;
}

enum num_status num_parse_hex(const char **pos, const char *end, uint64_t *out)
{
	const char *p = *pos;
	uint64_t value = 0;
	int overflow = 0;
	int digit;

	if (p >= end || hex_digit(*p) < 0)
		return NUM_NONE;
	for (; p < end && (digit = hex_digit(*p)) >= 0; p++) {
		if (value >> 60)
			overflow = 1;
		value = (value << 4) | (uint64_t)digit;
	}
	*pos = p;
	*out = overflow ? UINT64_MAX : value;
	return overflow ? NUM_OVERFLOW : NUM_OK;
}
