/* test_value_token.c: value_token_classify: decimals, negatives, fixed-point and text, with their digits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/value_token.h"
#include "unit.h"

static struct value_token classify(const char *text)
{
	struct value_token v;

	memset(&v, 0xa5, sizeof(v));
	value_token_classify(text, strlen(text), &v);
	return v;
}

static void expect_text(const char *text)
{
	struct value_token v = classify(text);

	CHECK_INT(text, VALUE_TEXT, v.kind);
	CHECK_TEXT(text, text, v.text, v.text_len);
	CHECK_UINT(text, 0, v.number);
	CHECK_INT(text, 0, v.overflowed);
	CHECK("no digits for text", v.digits == NULL && v.digits_len == 0);
	CHECK("no fraction for text", v.fraction == NULL && v.fraction_len == 0);
}

static void test_unsigned(void)
{
	struct value_token v = classify("1037690");

	CHECK_INT("kind", VALUE_UINT, v.kind);
	CHECK_UINT("number", 1037690, v.number);
	CHECK_TEXT("digits", "1037690", v.digits, v.digits_len);
	CHECK_TEXT("text", "1037690", v.text, v.text_len);
	v = classify("0");
	CHECK_INT("0 kind", VALUE_UINT, v.kind);
	CHECK_UINT("0", 0, v.number);
	v = classify("9223372036854771712");
	CHECK_INT("v1 no-limit kind", VALUE_UINT, v.kind);
	CHECK_UINT("v1 no-limit", UINT64_C(9223372036854771712), v.number);
	v = classify("14914318128160131214");
	CHECK_INT("past INT64_MAX, within 64 bits", 0, v.overflowed);
	CHECK_UINT("exact", UINT64_C(14914318128160131214), v.number);
}

static void test_overflow(void)
{
	struct value_token v = classify("99999999999999999999");

	CHECK_INT("kind", VALUE_UINT, v.kind);
	CHECK_INT("overflowed", 1, v.overflowed);
	CHECK_UINT("number", UINT64_MAX, v.number);
	CHECK_TEXT("digits kept", "99999999999999999999", v.digits, v.digits_len);
	v = classify("18446744073709551615");
	CHECK_INT("2^64-1 fits", 0, v.overflowed);
	CHECK_UINT("2^64-1", UINT64_MAX, v.number);
	v = classify("18446744073709551616");
	CHECK_INT("2^64 overflows", 1, v.overflowed);
}

static void test_negative(void)
{
	struct value_token v = classify("-1");

	CHECK_INT("kind", VALUE_NEGATIVE, v.kind);
	CHECK_UINT("magnitude", 1, v.number);
	CHECK_TEXT("digits without the sign", "1", v.digits, v.digits_len);
	CHECK_TEXT("text with the sign", "-1", v.text, v.text_len);
	v = classify("-9223372036854775808");
	CHECK_INT("INT64_MIN kind", VALUE_NEGATIVE, v.kind);
	CHECK_UINT("INT64_MIN magnitude", UINT64_C(9223372036854775808), v.number);
	v = classify("-99999999999999999999");
	CHECK_INT("overflowed negative", 1, v.overflowed);
	CHECK_INT("still negative", VALUE_NEGATIVE, v.kind);
	v = classify("-0");
	CHECK_INT("-0 is negative zero", VALUE_NEGATIVE, v.kind);
	CHECK_UINT("-0 magnitude", 0, v.number);
}

static void test_fixed_point(void)
{
	struct value_token v = classify("12.34");

	CHECK_INT("kind", VALUE_FIXED, v.kind);
	CHECK_UINT("integer part", 12, v.number);
	CHECK_TEXT("integer digits", "12", v.digits, v.digits_len);
	CHECK_TEXT("fraction digits", "34", v.fraction, v.fraction_len);
	CHECK_TEXT("text", "12.34", v.text, v.text_len);
	v = classify("0.00");
	CHECK_INT("0.00 kind", VALUE_FIXED, v.kind);
	CHECK_TEXT("0.00 fraction", "00", v.fraction, v.fraction_len);
	v = classify("1.5");
	CHECK_INT("one fraction digit", VALUE_FIXED, v.kind);
	v = classify("99999999999999999999.25");
	CHECK_INT("overflowed integer part kind", VALUE_FIXED, v.kind);
	CHECK_INT("overflowed integer part", 1, v.overflowed);
}

static void test_text(void)
{
	expect_text("max");
	expect_text("");
	expect_text("no");
	expect_text("0-3");
	expect_text("007");   /* leading zero: not a count */
	expect_text("00");
	expect_text("00.5");
	expect_text("-007");
	expect_text("-");
	expect_text("+1");
	expect_text("1.");
	expect_text(".5");
	expect_text("1.2.3");
	expect_text("-1.5");  /* negative fixed-point: no file read here prints one */
	expect_text("12 kB");
	expect_text("1e3");
	expect_text("0x10");
	expect_text("12a");
}

static void test_respects_length(void)
{
	struct value_token v;

	value_token_classify("12345", 2, &v);
	CHECK_INT("kind", VALUE_UINT, v.kind);
	CHECK_UINT("only the given bytes", 12, v.number);
	value_token_classify("1.5x", 3, &v);
	CHECK_INT("fixed within the length", VALUE_FIXED, v.kind);
}

static void test_two_mib(void)
{
	size_t len = 2u << 20;
	char *text = malloc(len);
	struct value_token v;

	if (!CHECK("allocated", text != NULL))
		return;
	memset(text, '7', len);
	value_token_classify(text, len, &v);
	CHECK_INT("2 MiB of digits: a decimal", VALUE_UINT, v.kind);
	CHECK_INT("overflowed", 1, v.overflowed);
	CHECK_UINT("all digits", len, v.digits_len);
	text[len / 2] = '.';
	value_token_classify(text, len, &v);
	CHECK_INT("with a '.' in the middle: fixed", VALUE_FIXED, v.kind);
	CHECK_UINT("fraction length", len - len / 2 - 1, v.fraction_len);
	free(text);
}

int main(void)
{
	UNIT_RUN(test_unsigned, "a decimal is VALUE_UINT, up to 2^64-1 exactly");
	UNIT_RUN(test_overflow, "past 64 bits: overflowed, UINT64_MAX, digits kept");
	UNIT_RUN(test_negative, "'-' then digits is VALUE_NEGATIVE with the magnitude");
	UNIT_RUN(test_fixed_point, "digits '.' digits is VALUE_FIXED: integer part and fraction digits");
	UNIT_RUN(test_text, "everything else is text: words, lists, leading zeros, signs, exponents");
	UNIT_RUN(test_respects_length, "only text[0..len) is read");
	UNIT_RUN(test_two_mib, "2 MiB values");
	return unit_end();
}
