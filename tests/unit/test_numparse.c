/* test_numparse.c: num_parse_dec and num_parse_hex: values, where they stop, and overflow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/numparse.h"
#include "unit.h"

/* Parses text with parse, checking status, value and how many bytes were consumed. */
static void expect_parse(enum num_status (*parse)(const char **, const char *, uint64_t *), const char *text,
			 size_t len, enum num_status want_status, uint64_t want_value, size_t want_consumed)
{
	const char *pos = text;
	uint64_t value = 12345;
	enum num_status st = parse(&pos, text + len, &value);

	CHECK_INT(text, want_status, st);
	CHECK_UINT(text, want_consumed, (size_t)(pos - text));
	if (st != NUM_NONE)
		CHECK_UINT(text, want_value, value);
	else
		CHECK_UINT("value untouched without digits", 12345, value);
}

static void dec(const char *text, enum num_status st, uint64_t value, size_t consumed)
{
	expect_parse(num_parse_dec, text, strlen(text), st, value, consumed);
}

static void hex(const char *text, enum num_status st, uint64_t value, size_t consumed)
{
	expect_parse(num_parse_hex, text, strlen(text), st, value, consumed);
}

static void test_decimal_values(void)
{
	dec("0", NUM_OK, 0, 1);
	dec("7", NUM_OK, 7, 1);
	dec("1037690", NUM_OK, 1037690, 7);
	dec("132 kB", NUM_OK, 132, 3);
	dec("9223372036854771712", NUM_OK, UINT64_C(9223372036854771712), 19);
	dec("000000000000000000000000000042", NUM_OK, 42, 30);
}

static void test_decimal_stops_at_first_non_digit(void)
{
	dec("12x", NUM_OK, 12, 2);
	dec("5.25", NUM_OK, 5, 1);
	dec("1-2", NUM_OK, 1, 1);
	dec("4096\n", NUM_OK, 4096, 4);
}

static void test_decimal_no_digit(void)
{
	dec("", NUM_NONE, 0, 0);
	dec(" 1", NUM_NONE, 0, 0);
	dec("-1", NUM_NONE, 0, 0);
	dec("+1", NUM_NONE, 0, 0);
	dec("kB", NUM_NONE, 0, 0);
}

static void test_decimal_overflow(void)
{
	dec("18446744073709551615", NUM_OK, UINT64_MAX, 20);
	dec("18446744073709551616", NUM_OVERFLOW, UINT64_MAX, 20);
	dec("18446744073709551620", NUM_OVERFLOW, UINT64_MAX, 20);
	dec("99999999999999999999 kB", NUM_OVERFLOW, UINT64_MAX, 20);
	dec("184467440737095516150", NUM_OVERFLOW, UINT64_MAX, 21);
	/* A leading zero does not count toward overflow. */
	dec("018446744073709551615", NUM_OK, UINT64_MAX, 21);
}

static void test_decimal_respects_end(void)
{
	expect_parse(num_parse_dec, "123456", 3, NUM_OK, 123, 3);
	expect_parse(num_parse_dec, "123456", 0, NUM_NONE, 0, 0);
}

/* 2 MiB of digits: overflowed, every digit consumed, in one pass. */
static void test_decimal_two_mib_of_digits(void)
{
	size_t len = 2u << 20;
	char *digits = malloc(len);

	if (!CHECK("allocated", digits != NULL))
		return;
	memset(digits, '9', len);
	expect_parse(num_parse_dec, digits, len, NUM_OVERFLOW, UINT64_MAX, len);
	memset(digits, '0', len);
	digits[len - 1] = '5';
	expect_parse(num_parse_dec, digits, len, NUM_OK, 5, len);
	free(digits);
}

static void test_hex_values(void)
{
	hex("0", NUM_OK, 0, 1);
	hex("7f2a1c000000-7f2a1c021000", NUM_OK, UINT64_C(0x7f2a1c000000), 12);
	hex("ffffffffff600000", NUM_OK, UINT64_C(0xffffffffff600000), 16);
	hex("ABCDEF", NUM_OK, 0xabcdef, 6);
	hex("aBcD", NUM_OK, 0xabcd, 4);
	hex("00000000000000000000001", NUM_OK, 1, 23);
}

static void test_hex_stops_and_none(void)
{
	hex("56055a7g7000", NUM_OK, 0x56055a7, 7);
	hex("fd:00", NUM_OK, 0xfd, 2);
	hex("", NUM_NONE, 0, 0);
	hex("g", NUM_NONE, 0, 0);
	hex("-1", NUM_NONE, 0, 0);
	hex("x1", NUM_NONE, 0, 0);
}

static void test_hex_overflow(void)
{
	hex("ffffffffffffffff", NUM_OK, UINT64_MAX, 16);
	hex("10000000000000000", NUM_OVERFLOW, UINT64_MAX, 17);
	hex("fffffffffffffffff", NUM_OVERFLOW, UINT64_MAX, 17);
	hex("0ffffffffffffffff", NUM_OK, UINT64_MAX, 17);
}

int main(void)
{
	UNIT_RUN(test_decimal_values, "decimal: values up to 64 bits, leading zeros read as zeros");
	UNIT_RUN(test_decimal_stops_at_first_non_digit, "decimal: stops at the first byte that is not a digit");
	UNIT_RUN(test_decimal_no_digit, "decimal: NUM_NONE without a digit first, position and value untouched");
	UNIT_RUN(test_decimal_overflow, "decimal: past 2^64-1 is NUM_OVERFLOW, UINT64_MAX, all digits consumed");
	UNIT_RUN(test_decimal_respects_end, "decimal: reads nothing at or past end");
	UNIT_RUN(test_decimal_two_mib_of_digits, "decimal: 2 MiB of digits");
	UNIT_RUN(test_hex_values, "hex: lowercase and uppercase digits up to 64 bits");
	UNIT_RUN(test_hex_stops_and_none, "hex: stops at the first non-hex byte; NUM_NONE without a digit");
	UNIT_RUN(test_hex_overflow, "hex: past 16 significant digits is NUM_OVERFLOW");
	return unit_end();
}
