/* fuzz_cmdline_parse.c: cmdline_next and cmdline_count on the whole input: the arguments give the file back. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/cmdline_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact_copy(data, size);
	const char *pos = text, *end = text + size, *arg, *expect = text;
	size_t arg_len, n = 0;

	while (cmdline_next(&pos, end, &arg, &arg_len)) {
		/* Each argument is the bytes up to the next NUL, which is skipped. */
		FUZZ_CHECK(arg == expect && arg + arg_len <= end);
		FUZZ_CHECK(memchr(arg, '\0', arg_len) == NULL);
		FUZZ_CHECK(arg + arg_len == end || arg[arg_len] == '\0');
		FUZZ_CHECK(pos == (arg + arg_len == end ? end : arg + arg_len + 1));
		expect = pos;
		n++;
	}
	FUZZ_CHECK(pos == end && expect == end);
	FUZZ_CHECK(cmdline_count(text, size) == n);
	/* As many arguments as NULs, and one more when the last byte is not one. */
	{
		size_t nuls = 0, i;
		for (i = 0; i < size; i++)
			nuls += text[i] == '\0';
		FUZZ_CHECK(n == nuls + (size > 0 && text[size - 1] != '\0'));
	}
	free(text);
	return 0;
}
