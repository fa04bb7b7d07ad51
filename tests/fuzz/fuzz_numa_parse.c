/* fuzz_numa_parse.c: numa_parse_line and its tokens on every line, against a reference split at spaces. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/numa_parse.h"

/* Returns the tokens of the line (the lead included), or -1 when the reference refuses it. */
static long reference_tokens(const char *line, size_t len)
{
	size_t i, start = 0;
	long tokens = 0;

	if (len == 0 || memchr(line, '\0', len) != NULL)
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
			if (equals != NULL && (equals == token || equals == token + n - 1))
				return -1;
		}
		tokens++;
		start = i + 1;
	}
	return tokens;
}

/* The node number of key[0..n) when it is a node key ('N', digits, no leading zero, <= INT_MAX), else -1. */
static long reference_node(const char *key, size_t n)
{
	long long node = 0;
	size_t i;

	if (n < 2 || key[0] != 'N' || (n > 2 && key[1] == '0'))
		return -1;
	for (i = 1; i < n; i++) {
		if (!fuzz_is_digit(key[i]))
			return -1;
		node = node * 10 + (key[i] - '0');
		if (node > INT_MAX)
			return -1;
	}
	return (long)node;
}

/* Checks one token against the bytes it was cut from; returns 1 for a node. */
static int check_token(const struct numa_token *t, const char *token, size_t n)
{
	const char *equals = memchr(token, '=', n);
	long node;

	FUZZ_CHECK(t->text == token && t->text_len == n);
	if (equals == NULL) {
		FUZZ_CHECK(t->kind == NUMA_WORD && t->key == NULL && t->key_len == 0 && t->node == -1);
		FUZZ_CHECK(t->value.kind == VALUE_TEXT && t->value.text == token && t->value.text_len == n);
		return 0;
	}
	FUZZ_CHECK(t->key == token && t->key_len == (size_t)(equals - token));
	fuzz_check_value(&t->value, equals + 1, (size_t)(token + n - equals - 1));
	node = reference_node(token, t->key_len);
	FUZZ_CHECK(t->kind == (node >= 0 ? NUMA_NODE : NUMA_PAIR));
	FUZZ_CHECK(t->node == (int)node);
	return node >= 0;
}

static void check_line(const char *line, size_t len)
{
	struct numa_line l, again;
	struct numa_token t, u;
	const char *reason, *p, *token_end;
	long want = reference_tokens(line, len);
	size_t n = 0, nodes = 0;

	memset(&l, 0, sizeof(l));
	reason = numa_parse_line(line, len, &l);
	FUZZ_CHECK((reason == NULL) == (want >= 0));
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}
	FUZZ_CHECK(l.ntokens == (size_t)want - 1);
	token_end = memchr(line, ' ', len);
	if (token_end == NULL)
		token_end = line + len;
	check_token(&l.lead, line, (size_t)(token_end - line));
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(numa_parse_line(line, len, &again) == NULL);
	FUZZ_CHECK(again.ntokens == l.ntokens && again.nnodes == l.nnodes);

	/* The tokens, in order, give the line back. */
	p = token_end;
	while (numa_next_token(&l, &t)) {
		FUZZ_CHECK(*p == ' ');
		p++;
		token_end = memchr(p, ' ', (size_t)(line + len - p));
		if (token_end == NULL)
			token_end = line + len;
		nodes += (size_t)check_token(&t, p, (size_t)(token_end - p));
		FUZZ_CHECK(numa_next_token(&again, &u) == 1);
		FUZZ_CHECK(u.kind == t.kind && u.text == t.text && u.text_len == t.text_len && u.node == t.node &&
			   fuzz_same_value(&u.value, &t.value));
		p = token_end;
		n++;
	}
	FUZZ_CHECK(p == line + len);
	FUZZ_CHECK(n == l.ntokens && nodes == l.nnodes);
	FUZZ_CHECK(numa_next_token(&l, &t) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
