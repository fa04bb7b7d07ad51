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

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
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
