/* fuzz_singlevalue_parse.c: singlevalue_parse on the whole input, in a block of its own size, against a reference. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/singlevalue_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact_copy(data, size);
	struct value_token v, again;
	const char *reason;
	size_t body = size, i;
	int accept = size > 0;

	/* The value: the file without one last newline; no blank, newline or control byte in it. */
	if (size > 0 && text[size - 1] == '\n')
		body--;
	for (i = 0; i < body && accept; i++)
		accept = !fuzz_is_control((unsigned char)text[i]) && text[i] != ' ';
	memset(&v, 0, sizeof(v));
	reason = singlevalue_parse(text, size, &v);
	FUZZ_CHECK((reason == NULL) == accept);
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
	} else {
		fuzz_check_value(&v, text, body);
		memset(&again, 0, sizeof(again));
		FUZZ_CHECK(singlevalue_parse(text, size, &again) == NULL);
		FUZZ_CHECK(fuzz_same_value(&v, &again));
	}
	free(text);
	return 0;
}
