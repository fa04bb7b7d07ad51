/* fuzz_pidstat_parse.c: pidstat_parse on the whole input, in a block of its own size: every field checked against the bytes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "fuzz_value.h"
#include "core/pidstat_parse.h"

static const char *const reasons[] = {
	"comm in parentheses expected after the pid", "unexpected text after the first line", "pid expected",
	"space expected before the field", "decimal number expected",
};

static int is_field_name(const char *name)
{
	size_t i;

	for (i = 0; i < PIDSTAT_FIELDS; i++)
		if (name == pidstat_field_names[i])
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact_copy(data, size);
	const char *end = text + size, *open_paren, *close_paren = NULL, *p, *reason;
	struct pidstat s, again;
	size_t i, known = 0;
	int overflowed;

	memset(&s, 0, sizeof(s));
	reason = pidstat_parse(text, size, &s);
	if (reason != NULL) {
		for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			known |= reason == reasons[i] || strcmp(reason, reasons[i]) == 0;
		FUZZ_CHECK(known);
		FUZZ_CHECK(s.error_line >= 1);
		FUZZ_CHECK(s.error_field == NULL || is_field_name(s.error_field));
		free(text);
		return 0;
	}
	/* comm: from the first '(' to the last ')'. */
	open_paren = memchr(text, '(', size);
	for (p = end; p > text; p--)
		if (p[-1] == ')') {
			close_paren = p - 1;
			break;
		}
	FUZZ_CHECK(open_paren != NULL && close_paren != NULL && open_paren < close_paren);
	FUZZ_CHECK(s.comm == open_paren + 1 && s.comm + s.comm_len == close_paren);
	/* pid: the leading digits. */
	FUZZ_CHECK(s.pid_digits == text && s.pid_len > 0 && text + s.pid_len <= open_paren);
	FUZZ_CHECK(s.pid == fuzz_reference_dec(text, s.pid_len, &overflowed) && !overflowed);
	FUZZ_CHECK(s.pid_len == (size_t)(open_paren - text) || !fuzz_is_digit(text[s.pid_len]));
	/* Nothing after the line but its newline. */
	p = memchr(close_paren, '\n', (size_t)(end - close_paren));
	FUZZ_CHECK(p == NULL || p == end - 1);
	if (p != NULL)
		end = p;
	/* The fields follow one another, each after one space, up to the line's end or the 50th. */
	FUZZ_CHECK(s.nfields <= PIDSTAT_FIELDS);
	p = close_paren + 1;
	for (i = 0; i < s.nfields; i++) {
		const struct pidstat_field *f = &s.fields[i];
		FUZZ_CHECK(*p == ' ' && f->text == p + 1);
		FUZZ_CHECK(f->text + f->text_len <= end && memchr(f->text, ' ', f->text_len) == NULL);
		FUZZ_CHECK(f->text + f->text_len == end || f->text[f->text_len] == ' ');
		if (i == 0) {
			FUZZ_CHECK(f->negative == 0 && f->magnitude == 0 && f->overflowed == 0);
		} else {
			const char *digits = f->text + f->negative;
			size_t n = f->text_len - (size_t)f->negative, k;
			FUZZ_CHECK(f->negative == (f->text_len > 0 && f->text[0] == '-'));
			FUZZ_CHECK(n > 0);
			for (k = 0; k < n; k++)
				FUZZ_CHECK(fuzz_is_digit(digits[k]));
			FUZZ_CHECK(f->magnitude == fuzz_reference_dec(digits, n, &overflowed) && f->overflowed == overflowed);
		}
		p = f->text + f->text_len;
	}
	FUZZ_CHECK(p == end || s.nfields == PIDSTAT_FIELDS);

	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(pidstat_parse(text, size, &again) == NULL);
	FUZZ_CHECK(memcmp(&again, &s, sizeof(s)) == 0);
	free(text);
	return 0;
}
