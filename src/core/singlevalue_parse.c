/* singlevalue_parse.c: a file's whole content as one value: a decimal, a negative decimal or a word. */
#include "core/singlevalue_parse.h"

const char *singlevalue_parse(const char *data, size_t len, struct value_token *value)
{
	const char *end = data + len, *p;

	if (len == 0)
		return "empty file: one value and a newline expected";
	if (end[-1] == '\n')
		end--;
	for (p = data; p < end; p++) {
		unsigned char c = (unsigned char)*p;
		if (c > ' ' && c != 0x7f)
			continue;
		if (c == ' ' || c == '\t')
			return "blank in the value: one value expected, not several";
		if (c == '\n')
			return "text after the first line: one value expected";
		if (c == '\0')
			return "NUL byte in the file";
		if (c == '\r')
			return "carriage return in the file (CRLF line ends?)";
		return "control character in the value";
	}
	value_token_classify(data, (size_t)(end - data), value);
	return NULL;
}
