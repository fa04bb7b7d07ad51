/* fuzz_numparse.c: num_parse_dec and num_parse_hex against a digit-counting reference, at every number. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/numparse.h"

static int dec_value(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : -1;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * The reference: a number fits 64 bits when its digits without leading zeros are fewer than the
 * maximum's, or as many and not greater as text. Its value is then computed without overflow.
 */
static void check_one(const char *start, const char *end, int hex)
{
	static const char max_dec[] = "18446744073709551615";
	static const char max_hex[] = "ffffffffffffffff";
	const char *max = hex ? max_hex : max_dec;
	size_t max_len = strlen(max);
	int (*digit)(char) = hex ? hex_value : dec_value;
	const char *run_end = start, *sig;
	const char *pos = start;
	uint64_t out = 12345, expect = 0;
	enum num_status st;
	int fits;
	size_t sig_len, i;

	while (run_end < end && digit(*run_end) >= 0)
		run_end++;
	st = hex ? num_parse_hex(&pos, end, &out) : num_parse_dec(&pos, end, &out);
	if (run_end == start) {
		FUZZ_CHECK(st == NUM_NONE);
		FUZZ_CHECK(pos == start);
		return;
	}
	FUZZ_CHECK(pos == run_end);

	for (sig = start; sig < run_end - 1 && *sig == '0'; sig++)
		;
	sig_len = (size_t)(run_end - sig);
	fits = sig_len < max_len;
	if (sig_len == max_len) {
		fits = 1;
		for (i = 0; i < sig_len; i++) {
			char have = sig[i] >= 'A' && sig[i] <= 'F' ? (char)(sig[i] - 'A' + 'a') : sig[i];
			if (have != max[i]) {
				fits = have < max[i];
				break;
			}
		}
	}
	if (!fits) {
		FUZZ_CHECK(st == NUM_OVERFLOW);
		FUZZ_CHECK(out == UINT64_MAX);
		return;
	}
	for (i = 0; i < sig_len; i++)
		expect = expect * (hex ? 16 : 10) + (uint64_t)digit(sig[i]);
	FUZZ_CHECK(st == NUM_OK);
	FUZZ_CHECK(out == expect);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_exact_copy(data, size);
	const char *end = text + size, *p;
	int hex;

	/* Every position where a run of digits starts, and every position that is not a digit. */
	for (hex = 0; hex <= 1; hex++) {
		for (p = text; p < end;) {
			const char *q = p;
			check_one(p, end, hex);
			while (q < end && (hex ? hex_value(*q) : dec_value(*q)) >= 0)
				q++;
			p = q > p ? q : p + 1;
		}
		check_one(end, end, hex);
	}
	free(text);
	return 0;
}
