/* size_parse.c: the one size grammar of memscript: "4096", "64M", "1.5GiB", "512 kB" in bytes. */
#include "core/size_parse.h"

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* A letter, a digit or '_': what continues a word, so a unit must not be followed by one. */
static int is_word_char(char c)
{
	char l = lower(c);
	return is_digit(c) || (l >= 'a' && l <= 'z') || c == '_';
}

/* The power of 1024 the unit word[0..len) means (0 for "B"), or -1 when the word is not a unit. */
static int unit_power(const char *word, size_t len)
{
	static const char prefixes[] = "kmgtpe";
	size_t i = 0;
	int power = 0;
	int p;

	for (p = 0; prefixes[p] != '\0'; p++) {
		if (len > 0 && lower(word[0]) == prefixes[p]) {
			power = p + 1;
			i = 1;
			if (i < len && lower(word[i]) == 'i')
				i++;
			break;
		}
	}
	if (i < len && lower(word[i]) == 'b')
		i++;
	if (i == 0 || i != len)
		return -1;
	return power;
}

enum size_status size_scan(const char *text, size_t len, size_t *used, uint64_t *bytes)
{
	size_t pos = 0, fraction_start = 0, fraction_end = 0, word, word_end, i;
	uint64_t whole = 0, fraction = 0;
	int overflow = 0, power, shift;

	*used = 0;
	if (len == 0 || !is_digit(text[0]))
		return SIZE_INVALID;
	for (; pos < len && is_digit(text[pos]); pos++) {
		unsigned digit = (unsigned)(text[pos] - '0');
		if (whole > (UINT64_MAX - digit) / 10)
			overflow = 1;
		else
			whole = whole * 10 + digit;
	}
	if (pos + 1 < len && text[pos] == '.' && is_digit(text[pos + 1])) {
		fraction_start = ++pos;
		while (pos < len && is_digit(text[pos]))
			pos++;
		fraction_end = pos;
	}
	for (word = pos; word < len && is_blank(text[word]); word++)
		;
	for (word_end = word; word_end < len && is_word_char(text[word_end]); word_end++)
		;
	power = unit_power(text + word, word_end - word);
	if (power >= 0)
		pos = word_end;
	else
		power = 0;
	*used = pos;
	shift = 10 * power;
	if (overflow || whole > ((uint64_t)INT64_MAX >> shift))
		return SIZE_TOO_LARGE;
	/*
	 * floor(0.d1...dn * 2^shift), exactly: from the last digit to the first, q = (d * 2^shift + q) / 10,
	 * since floor((m + x) / 10) = floor((m + floor(x)) / 10) for a whole m. q stays below 2^shift
	 * (at most 2^60), so d * 2^shift + q stays below 2^64.
	 */
	for (i = fraction_end; i > fraction_start; i--)
		fraction = (((uint64_t)(text[i - 1] - '0') << shift) + fraction) / 10;
	/* whole << shift is at most 2^63 - 2^shift and fraction below 2^shift: the sum is below 2^63 */
	*bytes = (whole << shift) + fraction;
	return SIZE_OK;
}

enum size_status size_parse(const char *text, size_t len, uint64_t *bytes)
{
	size_t start = 0, used, end;
	enum size_status status;

	while (start < len && is_blank(text[start]))
		start++;
	status = size_scan(text + start, len - start, &used, bytes);
	if (status == SIZE_INVALID)
		return status;
	for (end = start + used; end < len && is_blank(text[end]); end++)
		;
	if (end != len)
		return SIZE_INVALID;
	return status;
}
