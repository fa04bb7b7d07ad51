/* flatkeyed_parse.c: one "key value" line, the key kept as printed and the value classified by its shape. */
#include "core/flatkeyed_parse.h"

#include <string.h>

/* What a tab in the line is told. */
#define TAB_REASON "tab in the line: key and value are separated by one space"

const char *flatkeyed_parse_line(const char *line, size_t len, struct flatkeyed_field *field)
{
	const char *end = line + len, *space = NULL, *p, *key_end, *value;
	const char *reason;

	if (len == 0)
		return "empty line";
	for (p = line; p < end; p++) {
		if (*p == ' ') {
			if (space != NULL)
				return "a second space in the line: one key and one value expected";
			space = p;
		} else if ((reason = value_token_bad_byte((unsigned char)*p, TAB_REASON)) != NULL) {
			return reason;
		}
	}
	if (space == NULL)
		return "no space after the key";
	if (space == line)
		return "empty key (the line starts with a space)";
	value = space + 1;
	if (value == end)
		return "empty value after the key";
	key_end = space;
	field->key_colon = key_end[-1] == ':';
	if (field->key_colon) {
		key_end--;
		if (key_end == line)
			return "empty key before ':'";
	}
	field->key = line;
	field->key_len = (size_t)(key_end - line);
	value_token_classify(value, (size_t)(end - value), &field->value);
	return NULL;
}
