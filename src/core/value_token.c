/* value_token.c: one classification of a printed value, shared by the cgroup, vmstat and numa parsers. */
#include "core/value_token.h"

#include "core/numparse.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

void value_token_classify(const char *text, size_t len, struct value_token *value)
{
	const char *end = text + len, *digits, *p;
	int negative;
	uint64_t number;
	enum num_status st;
	size_t ndigits;

	value->kind = VALUE_TEXT;
	value->text = text;
	value->text_len = len;
	value->number = 0;
	value->overflowed = 0;
	value->digits = NULL;
	value->digits_len = 0;
	value->fraction = NULL;
	value->fraction_len = 0;

	negative = len > 0 && text[0] == '-';
	digits = p = text + negative;
	st = num_parse_dec(&p, end, &number);
	if (st == NUM_NONE)
		return;
	ndigits = (size_t)(p - digits);
	if (ndigits > 1 && digits[0] == '0')
		return;
	if (p < end) {
		const char *fraction;
		/* A fixed-point value: "12.34", never negative in the files read here. */
		if (negative || *p != '.')
			return;
		fraction = ++p;
		while (p < end && is_digit(*p))
			p++;
		if (p == fraction || p != end)
			return;
		value->kind = VALUE_FIXED;
		value->fraction = fraction;
		value->fraction_len = (size_t)(p - fraction);
	} else {
		value->kind = negative ? VALUE_NEGATIVE : VALUE_UINT;
	}
	value->number = number;
	value->overflowed = st == NUM_OVERFLOW;
	value->digits = digits;
	value->digits_len = ndigits;
}

const char *value_token_bad_byte(unsigned char c, const char *tab_reason)
{
	if (c >= 0x20 && c != 0x7f)
		return NULL;
	if (c == '\0')
		return "NUL byte in the line";
	if (c == '\r')
		return "carriage return in the line (CRLF line ends?)";
	if (c == '\t')
		return tab_reason;
	return "control character in the line";
}
