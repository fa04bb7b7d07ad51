/* numa_parse.c: space-separated tokens, each a bare word or key=value, with the N<node>= keys recognised. */
#include "core/numa_parse.h"

#include <limits.h>
#include <string.h>

#include "core/numparse.h"

/* Classifies token[0..len), which has no space in it and is not empty. */
static void classify_token(const char *token, size_t len, struct numa_token *out)
{
	const char *equals = memchr(token, '=', len), *end = token + len;

	out->text = token;
	out->text_len = len;
	out->node = -1;
	if (equals == NULL) {
		out->kind = NUMA_WORD;
		out->key = NULL;
		out->key_len = 0;
		/* A word is text as a whole, never a number: the address "10000000" is hex. */
		value_token_classify(token, 0, &out->value);
		out->value.text_len = len;
		return;
	}
	out->kind = NUMA_PAIR;
	out->key = token;
	out->key_len = (size_t)(equals - token);
	value_token_classify(equals + 1, (size_t)(end - equals - 1), &out->value);
	if (out->key_len >= 2 && token[0] == 'N' && (out->key_len == 2 || token[1] != '0')) {
		const char *p = token + 1;
		uint64_t node;
		if (num_parse_dec(&p, equals, &node) == NUM_OK && p == equals && node <= INT_MAX) {
			out->kind = NUMA_NODE;
			out->node = (int)node;
		}
	}
}

/* The reason token[0..len) cannot be a token, or NULL. */
static const char *token_reason(const char *token, size_t len, const char *line_end)
{
	const char *equals;

	if (len == 0) {
		if (token == line_end)
			return "space at the end of the line";
		return "two spaces in a row";
	}
	equals = memchr(token, '=', len);
	if (equals == token)
		return "empty key before '='";
	if (equals == token + len - 1)
		return "empty value after '='";
	return NULL;
}

const char *numa_parse_line(const char *line, size_t len, struct numa_line *line_out)
{
	const char *end = line + len, *p = line, *token;
	const char *reason;
	size_t ntokens = 0, nnodes = 0;

	if (len == 0)
		return "empty line";
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in the line";
	if (*line == ' ')
		return "space at the start of the line";
	while (p < end && *p != ' ')
		p++;
	if ((reason = token_reason(line, (size_t)(p - line), end)) != NULL)
		return reason;
	classify_token(line, (size_t)(p - line), &line_out->lead);
	line_out->next = p;
	line_out->end = end;
	while (p < end) {
		token = ++p;
		while (p < end && *p != ' ')
			p++;
		if ((reason = token_reason(token, (size_t)(p - token), end)) != NULL)
			return reason;
		ntokens++;
		/* A node key is 'N', then a digit: the full check is classify_token's, on the way out. */
		if (p - token > 3 && token[0] == 'N' && token[1] >= '0' && token[1] <= '9') {
			struct numa_token t;
			classify_token(token, (size_t)(p - token), &t);
			nnodes += t.kind == NUMA_NODE;
		}
	}
	line_out->ntokens = ntokens;
	line_out->nnodes = nnodes;
	return NULL;
}

int numa_next_token(struct numa_line *line, struct numa_token *token)
{
	const char *p = line->next, *end = line->end, *start;

	if (p >= end)
		return 0;
	start = ++p;
	while (p < end && *p != ' ')
		p++;
	classify_token(start, (size_t)(p - start), token);
	line->next = p;
	return 1;
}
