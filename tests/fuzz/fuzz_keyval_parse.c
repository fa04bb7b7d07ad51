/* fuzz_keyval_parse.c: kv_parse_line on every line, each in a block of its own size, results checked by shape; its fast path against it. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/keyval_parse.h"

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int all_digits(const char *p, size_t n)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return n > 0;
}

/* The decimal in digits, or UINT64_MAX with *overflowed set. */
static uint64_t reference_dec(const char *digits, size_t n, int *overflowed)
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

static void check_line(const char *line, size_t len)
{
	struct kv_field f;
	const char *reason, *colon = memchr(line, ':', len);
	const char *value, *value_end, *end = line + len;
	size_t i;
	int overflowed;

	memset(&f, 0xa5, sizeof(f));
	reason = kv_parse_line(line, len, &f);
	if (reason == NULL) {
		/* The fast path, given the key kv_parse_line found: when it takes the line, it says the same. */
		struct kv_field g;
		memset(&g, 0x5a, sizeof(g));
		int known = kv_parse_known_number(line, len, (size_t)(colon - line), &g);
		char *in_span;
		const char *nl;
		if (known) {
			FUZZ_CHECK(g.kind == KV_INT || g.kind == KV_KB);
			FUZZ_CHECK(g.kind == f.kind && g.number == f.number && g.overflowed == f.overflowed);
			FUZZ_CHECK(g.key == f.key && g.key_len == f.key_len);
			FUZZ_CHECK(g.text == f.text && g.text_len == f.text_len);
		}
		/* The same line with its newline, in a span of exactly that size: the span's fast path agrees. */
		in_span = malloc(len + 1);
		FUZZ_CHECK(in_span != NULL);
		memcpy(in_span, line, len);
		in_span[len] = '\n';
		memset(&g, 0x5a, sizeof(g));
		nl = kv_scan_known_number(in_span, in_span + len + 1, f.key, f.key_len, &g);
		FUZZ_CHECK((nl != NULL) == known);
		if (nl != NULL) {
			FUZZ_CHECK(nl == in_span + len);
			FUZZ_CHECK(g.kind == f.kind && g.number == f.number && g.overflowed == f.overflowed);
			FUZZ_CHECK(g.key == in_span && g.key_len == f.key_len);
			FUZZ_CHECK(g.text == in_span + (f.text - line) && g.text_len == f.text_len);
		}
		free(in_span);
	}
	if (colon != NULL && colon > line) {
		/*
		 * A line passed over by its key (a key kv_parse_line gave: no blank or control character):
		 * kv_skip_known takes it exactly when kv_parse_line does, wherever the length it is told to
		 * look at first puts the newline.
		 */
		int key_ok = 1;
		for (i = 0; line + i < colon; i++)
			key_ok = key_ok && (unsigned char)line[i] > ' ' && (unsigned char)line[i] != 0x7f;
		if (key_ok) {
			static const size_t hints[] = {0, 1, 7, 8, 9, 27};
			char *in_span = malloc(len + 9);
			size_t h;
			FUZZ_CHECK(in_span != NULL);
			memcpy(in_span, line, len);
			memcpy(in_span + len, "\nSize: 4\n", 9); /* a next line, as in a span */
			/* also len - 1, len, len + 1 and len + 8, the next line's newline */
			for (h = 0; h < sizeof(hints) / sizeof(hints[0]) + 4; h++) {
				size_t hint = h < 6 ? hints[h] : h < 9 ? len + h - 7 : len + 8;
				const char *nl = kv_skip_known(in_span, in_span + len + 9, line, (size_t)(colon - line), hint);
				FUZZ_CHECK(nl == (reason == NULL ? in_span + len : NULL));
			}
			free(in_span);
		}
	}
	if (colon == NULL || colon == line)
		FUZZ_CHECK(reason != NULL);
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}

	/* The key: everything before the first ':', no blank or control character in it. */
	FUZZ_CHECK(f.key == line && f.key + f.key_len == colon && f.key_len > 0);
	for (i = 0; i < f.key_len; i++)
		FUZZ_CHECK((unsigned char)line[i] > ' ' && (unsigned char)line[i] != 0x7f);

	/* The value: the rest with blanks trimmed at both ends. */
	value = colon + 1;
	while (value < end && is_blank(*value))
		value++;
	value_end = end;
	while (value_end > value && is_blank(value_end[-1]))
		value_end--;
	FUZZ_CHECK(f.text == value);

	switch (f.kind) {
	case KV_TEXT:
		FUZZ_CHECK(f.text + f.text_len == value_end);
		FUZZ_CHECK(f.number == 0 && f.overflowed == 0);
		/* A plain decimal without a leading zero is never left as text. */
		FUZZ_CHECK(!(all_digits(f.text, f.text_len) && (f.text_len == 1 || f.text[0] != '0')));
		break;
	case KV_INT:
		FUZZ_CHECK(f.text + f.text_len == value_end);
		FUZZ_CHECK(all_digits(f.text, f.text_len));
		FUZZ_CHECK(f.text_len == 1 || f.text[0] != '0');
		FUZZ_CHECK(f.number == reference_dec(f.text, f.text_len, &overflowed));
		FUZZ_CHECK(f.overflowed == overflowed);
		break;
	case KV_KB:
		FUZZ_CHECK(all_digits(f.text, f.text_len));
		FUZZ_CHECK(value_end - (f.text + f.text_len) == 3 && memcmp(f.text + f.text_len, " kB", 3) == 0);
		FUZZ_CHECK(f.number == reference_dec(f.text, f.text_len, &overflowed));
		FUZZ_CHECK(f.overflowed == overflowed);
		break;
	default:
		FUZZ_CHECK(!"kind out of range");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
