/* keyval_parse.c: classifies one "Key: value" line by the shape of its value, never by its key. */
#include "core/keyval_parse.h"

#include <string.h>

#include "core/numparse.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

const char *kv_parse_line(const char *line, size_t len, struct kv_field *field)
{
	const char *end = line + len;
	const char *colon = memchr(line, ':', len);
	const char *p, *value, *value_end;

	if (colon == NULL)
		return "no ':' after the key";
	if (colon == line)
		return "empty key";
	for (p = line; p < colon; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f)
			return "blank or control character in the key";
	}
	value = colon + 1;
	while (value < end && is_blank(*value))
		value++;
	value_end = end;
	while (value_end > value && is_blank(value_end[-1]))
		value_end--;
	/*
	 * Control characters are kept, a carriage return too: status's Name is the command name, which
	 * a process sets itself and the kernel prints with only '\n' and '\\' escaped, so rejecting any
	 * other would let a process hide its status from memscript (and make every check of all
	 * processes UNKNOWN). A value that ends in one is no number: "4 kB\r" stays text. No kernel file
	 * holds NUL.
	 */
	for (p = value; p < end; p++) {
		if (*p == '\0')
			return "NUL byte in the value";
	}

	field->key = line;
	field->key_len = (size_t)(colon - line);
	field->text = value;
	field->text_len = (size_t)(value_end - value);
	field->number = 0;
	field->overflowed = 0;
	field->kind = KV_TEXT;

	p = value;
	if (p < value_end && *p >= '0' && *p <= '9') {
		uint64_t number;
		enum num_status st = num_parse_dec(&p, value_end, &number);
		size_t digits = (size_t)(p - value);
		if (p == value_end) {
			/* "0022" stays text: a leading zero means the kernel printed octal or fixed width. */
			if (digits == 1 || value[0] != '0') {
				field->kind = KV_INT;
				field->number = number;
				field->overflowed = st == NUM_OVERFLOW;
				field->text_len = digits;
			}
		} else if (value_end - p == 3 && memcmp(p, " kB", 3) == 0) {
			field->kind = KV_KB;
			field->number = number;
			field->overflowed = st == NUM_OVERFLOW;
			field->text_len = digits;
		}
	}
	return NULL;
}

/*
 * Whether the n bytes at a and b are the same: short keys, compared eight bytes at a time inline,
 * the last eight (or four) overlapping what was compared already rather than byte by byte.
 */
static int same_bytes(const char *a, const char *b, size_t n)
{
	uint64_t x, y;
	uint32_t u, v;

	if (n >= 8) {
		size_t i;
		for (i = 0; i + 8 < n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return 0;
		}
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return 0;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	for (; n > 0; a++, b++, n--)
		if (*a != *b)
			return 0;
	return 1;
}

/*
 * "key: number" at line, the key key_len bytes long, up to end: with nl, the line goes on to a
 * '\n' before end and that newline is returned; without, it ends at end, which is returned. NULL
 * for any other line.
 */
static const char *known_number(const char *line, const char *end, size_t key_len, int nl,
				struct kv_field *field)
{
	static const uint64_t spaces = 0x2020202020202020ULL;
	const char *p = line + key_len, *digits, *digits_end;
	uint64_t number = 0, word;

	if (key_len == 0 || key_len >= (size_t)(end - line) || *p != ':')
		return NULL;
	/* The kernel pads sizes to a column ("Rss:                 132 kB"): spaces eight at a time. */
	for (p++; end - p >= 8; p += 8) {
		memcpy(&word, p, 8);
		if (word != spaces)
			break;
	}
	for (; p < end && is_blank(*p); p++)
		;
	digits = p;
	/* Up to 19 digits cannot overflow 64 bits; longer numbers go the careful way. */
	for (; p < end && *p >= '0' && *p <= '9' && p - digits < 19; p++)
		number = number * 10 + (uint64_t)(*p - '0');
	if (p == digits || (p < end && *p >= '0' && *p <= '9'))
		return NULL;
	digits_end = p;
	if (nl ? p < end && *p == '\n' : p == end) {
		if (p - digits > 1 && digits[0] == '0')
			return NULL;
		field->kind = KV_INT;
	} else if (end - p >= 3 + nl && p[0] == ' ' && p[1] == 'k' && p[2] == 'B' && (nl ? p[3] == '\n' : p + 3 == end)) {
		field->kind = KV_KB;
		p += 3;
	} else {
		return NULL;
	}
	field->key = line;
	field->key_len = key_len;
	field->text = digits;
	field->text_len = (size_t)(digits_end - digits);
	field->number = number;
	field->overflowed = 0;
	return p;
}

int kv_parse_known_number(const char *line, size_t len, size_t key_len, struct kv_field *field)
{
	return known_number(line, line + len, key_len, 0, field) != NULL;
}

const char *kv_scan_known_number(const char *line, const char *end, const char *key, size_t key_len,
				 struct kv_field *field)
{
	if (key_len == 0 || key_len >= (size_t)(end - line) || !same_bytes(line, key, key_len))
		return NULL;
	return known_number(line, end, key_len, 1, field);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define WORDWISE 1
/* The high bit of each byte of w that is '\n' or NUL; bytes above the first such may be flagged too. */
static uint64_t newline_or_nul_bits(uint64_t w)
{
	static const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL,
			      newlines = 0x0a0a0a0a0a0a0a0aULL;
	uint64_t n = w ^ newlines;

	return (((w - ones) & ~w) | ((n - ones) & ~n)) & highs;
}
#endif

/* The first '\n' or NUL from p on, before end, or NULL: eight bytes at a time where that is safe. */
static const char *newline_or_nul(const char *p, const char *end)
{
#ifdef WORDWISE
	for (; end - p >= 8; p += 8) {
		uint64_t w, found;
		memcpy(&w, p, 8);
		/* the lowest byte flagged is the first one: only bytes above it can be flagged wrongly */
		if ((found = newline_or_nul_bits(w)) != 0)
			return p + (__builtin_ctzll(found) >> 3);
	}
#endif
	for (; p < end; p++)
		if (*p == '\n' || *p == '\0')
			return p;
	return NULL;
}

/* Whether the bytes from p to end hold a '\n' or a NUL: a word at a time, without stopping early. */
static int has_newline_or_nul(const char *p, const char *end)
{
#ifdef WORDWISE
	uint64_t found = 0, w;

	if (end - p >= 8) {
		for (; end - p > 8; p += 8) {
			memcpy(&w, p, 8);
			found |= newline_or_nul_bits(w);
		}
		memcpy(&w, end - 8, 8); /* the last eight, some looked at already */
		return (found | newline_or_nul_bits(w)) != 0;
	}
#endif
	return newline_or_nul(p, end) != NULL;
}

const char *kv_skip_known(const char *line, const char *end, const char *key, size_t key_len, size_t len_hint)
{
	const char *nl;

	if (key_len == 0 || key_len >= (size_t)(end - line) || !same_bytes(line, key, key_len) || line[key_len] != ':')
		return NULL;
	/* Where the line at this place was as long before, its newline is looked at first. */
	if (len_hint > key_len && len_hint < (size_t)(end - line) && line[len_hint] == '\n' &&
	    !has_newline_or_nul(line + key_len + 1, line + len_hint))
		return line + len_hint;
	nl = newline_or_nul(line + key_len + 1, end);
	return nl != NULL && *nl == '\n' ? nl : NULL;
}
