/* nestedkeyed_parse.c: a record name then key=value tokens, checked whole, then handed out pair by pair. */
#include "core/nestedkeyed_parse.h"

#include <string.h>

/* What a tab in the line is told. */
#define TAB_REASON "tab in the line: tokens are separated by one space"

const char *nestedkeyed_parse_line(const char *line, size_t len, struct nestedkeyed_record *record)
{
	const char *end = line + len, *p = line, *token;
	const char *reason;
	size_t npairs = 0;

	if (len == 0)
		return "empty line";
	while (p < end && *p != ' ') {
		if (*p == '=')
			return "'=' in the record name: a name then key=value pairs expected";
		if ((reason = value_token_bad_byte((unsigned char)*p, TAB_REASON)) != NULL)
			return reason;
		p++;
	}
	if (p == line)
		return "empty record name (the line starts with a space)";
	record->name = line;
	record->name_len = (size_t)(p - line);
	record->next = p;
	record->end = end;
	if (p == end)
		return "no key=value pair after the record name";
	while (p < end) {
		const char *equals = NULL;
		p++; /* the one space before each pair */
		token = p;
		for (; p < end && *p != ' '; p++) {
			if (*p == '=' && equals == NULL)
				equals = p;
			else if ((reason = value_token_bad_byte((unsigned char)*p, TAB_REASON)) != NULL)
				return reason;
		}
		if (p == token)
			return p == end ? "space at the end of the line" : "two spaces in a row";
		if (equals == NULL)
			return "no '=' in a token after the record name: key=value expected";
		if (equals == token)
			return "empty key before '='";
		if (equals + 1 == p)
			return "empty value after '='";
		npairs++;
	}
	record->npairs = npairs;
	return NULL;
}

int nestedkeyed_next_pair(struct nestedkeyed_record *record, struct nestedkeyed_pair *pair)
{
	const char *p = record->next, *end = record->end, *token, *equals;

	if (p >= end)
		return 0;
	token = ++p;
	while (p < end && *p != ' ')
		p++;
	equals = memchr(token, '=', (size_t)(p - token));
	pair->key = token;
	pair->key_len = (size_t)(equals - token);
	value_token_classify(equals + 1, (size_t)(p - equals - 1), &pair->value);
	record->next = p;
	return 1;
}
