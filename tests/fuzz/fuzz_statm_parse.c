/* fuzz_statm_parse.c: statm_parse on the whole input, in a block of its own size, against a reference. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/statm_parse.h"

/* Seven runs of digits separated by one space, then at most one newline. */
static int reference_accepts(const char *text, size_t len)
{
	size_t i = 0, field;

	if (len > 0 && text[len - 1] == '\n')
		len--;
	for (field = 0; field < STATM_FIELDS; field++) {
		size_t start;
		if (field > 0) {
			if (i >= len || text[i] != ' ')
				return 0;
			i++;
		}
		start = i;
		while (i < len && fuzz_is_digit(text[i]))
			i++;
		if (i == start)
			return 0;
	}
	return i == len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact_copy(data, size);
	struct statm s, again;
	const char *reason, *p = text;
	size_t i;
	int overflowed;

	memset(&s, 0, sizeof(s));
	reason = statm_parse(text, size, &s);
	FUZZ_CHECK((reason == NULL) == reference_accepts(text, size));
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		FUZZ_CHECK(s.error_field == NULL || strcmp(reason, "unexpected text after the seventh field") != 0);
		free(text);
		return 0;
	}
	for (i = 0; i < STATM_FIELDS; i++) {
		const struct statm_field *f = &s.fields[i];
		if (i > 0)
			FUZZ_CHECK(*p++ == ' ');
		FUZZ_CHECK(f->digits == p && f->digits_len > 0);
		FUZZ_CHECK(f->pages == fuzz_reference_dec(f->digits, f->digits_len, &overflowed) && f->overflowed == overflowed);
		p += f->digits_len;
	}
	FUZZ_CHECK(p == text + size || (p == text + size - 1 && *p == '\n'));
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(statm_parse(text, size, &again) == NULL && memcmp(&again, &s, sizeof(s)) == 0);
	free(text);
	return 0;
}
