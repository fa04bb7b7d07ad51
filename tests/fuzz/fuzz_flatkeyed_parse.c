/* fuzz_flatkeyed_parse.c: flatkeyed_parse_line on every line, each in a block of its own size, against a reference. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/flatkeyed_parse.h"

/* Whether line is "key value" by the rules, worked out independently: one space, no control byte. */
static int reference_accepts(const char *line, size_t len)
{
	const char *space = NULL;
	size_t i, spaces = 0;

	for (i = 0; i < len; i++) {
		if (fuzz_is_control((unsigned char)line[i]))
			return 0;
		if (line[i] == ' ') {
			spaces++;
			space = line + i;
		}
	}
	if (spaces != 1 || space == line || space == line + len - 1)
		return 0;
	/* "key: value": the colon is not the key. */
	return !(space == line + 1 && line[0] == ':');
}

static void check_line(const char *line, size_t len)
{
	struct flatkeyed_field f, again;
	const char *reason, *space, *value;

	memset(&f, 0, sizeof(f));
	reason = flatkeyed_parse_line(line, len, &f);
	FUZZ_CHECK((reason == NULL) == reference_accepts(line, len));
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}
	space = memchr(line, ' ', len);
	/* The key is everything before the space but a last ':', which key_colon reports. */
	FUZZ_CHECK(f.key == line && f.key_len > 0);
	FUZZ_CHECK(f.key_colon == (space[-1] == ':'));
	FUZZ_CHECK(f.key + f.key_len + f.key_colon == space);
	FUZZ_CHECK(memchr(f.key, ' ', f.key_len) == NULL);
	value = space + 1;
	FUZZ_CHECK(value < line + len);
	fuzz_check_value(&f.value, value, (size_t)(line + len - value));

	/* Accepted once, accepted again the same. */
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(flatkeyed_parse_line(line, len, &again) == NULL);
	FUZZ_CHECK(again.key == f.key && again.key_len == f.key_len && again.key_colon == f.key_colon);
	FUZZ_CHECK(fuzz_same_value(&again.value, &f.value));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
