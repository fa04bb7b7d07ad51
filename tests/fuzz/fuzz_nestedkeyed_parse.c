/* fuzz_nestedkeyed_parse.c: nestedkeyed_parse_line and its pairs on every line, against a reference split at spaces. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/nestedkeyed_parse.h"

/*
 * The reference: tokens split at each space, none empty; no control byte; the first has no '=';
 * at least one more; each of those has a first '=' neither first nor last. Returns the number of
 * pairs, or -1 when the line is refused.
 */
static long reference_pairs(const char *line, size_t len)
{
	size_t i, start = 0;
	long tokens = 0;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++)
		if (fuzz_is_control((unsigned char)line[i]))
			return -1;
	for (i = 0; i <= len; i++) {
		if (i < len && line[i] != ' ')
			continue;
		{
			const char *token = line + start, *equals;
			size_t n = i - start;
			if (n == 0)
				return -1;
			equals = memchr(token, '=', n);
			if (tokens == 0 ? equals != NULL : (equals == NULL || equals == token || equals == token + n - 1))
				return -1;
		}
		tokens++;
		start = i + 1;
	}
	return tokens >= 2 ? tokens - 1 : -1;
}

static void check_line(const char *line, size_t len)
{
	struct nestedkeyed_record r, again;
	struct nestedkeyed_pair p, q;
	const char *reason, *expect;
	long want = reference_pairs(line, len);
	size_t n = 0;

	memset(&r, 0, sizeof(r));
	reason = nestedkeyed_parse_line(line, len, &r);
	FUZZ_CHECK((reason == NULL) == (want >= 0));
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}
	FUZZ_CHECK(r.npairs == (size_t)want);
	FUZZ_CHECK(r.name == line && r.name_len > 0 && r.name_len < len && line[r.name_len] == ' ');
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(nestedkeyed_parse_line(line, len, &again) == NULL);
	FUZZ_CHECK(again.name == r.name && again.name_len == r.name_len && again.npairs == r.npairs);

	/* The pairs, in order, give the line back: name, then " key=value" for each. */
	expect = line + r.name_len;
	while (nestedkeyed_next_pair(&r, &p)) {
		const char *token_end;
		n++;
		FUZZ_CHECK(n <= r.npairs);
		FUZZ_CHECK(*expect == ' ' && p.key == expect + 1 && p.key_len > 0);
		FUZZ_CHECK(memchr(p.key, '=', p.key_len) == NULL && p.key[p.key_len] == '=');
		token_end = p.value.text + p.value.text_len;
		FUZZ_CHECK(p.value.text == p.key + p.key_len + 1 && p.value.text_len > 0);
		FUZZ_CHECK(token_end == line + len || *token_end == ' ');
		FUZZ_CHECK(memchr(p.value.text, ' ', p.value.text_len) == NULL);
		fuzz_check_value(&p.value, p.value.text, p.value.text_len);
		FUZZ_CHECK(nestedkeyed_next_pair(&again, &q) == 1);
		FUZZ_CHECK(q.key == p.key && q.key_len == p.key_len && fuzz_same_value(&q.value, &p.value));
		expect = token_end;
	}
	FUZZ_CHECK(n == r.npairs && expect == line + len);
	FUZZ_CHECK(nestedkeyed_next_pair(&r, &p) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
