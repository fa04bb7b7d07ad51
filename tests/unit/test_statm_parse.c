/* test_statm_parse.c: /proc/PID/statm: fixtures, edge cases with the reasons proc.statm gives, and this process's own. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/statm_parse.h"
#include "unit.h"

static const char *parse(const char *text, struct statm *s)
{
	memset(s, 0xa5, sizeof(*s));
	return statm_parse(text, strlen(text), s);
}

static void test_names_table(void)
{
	static const char *const want[] = {"size", "resident", "shared", "text", "lib", "data", "dt"};
	size_t i;

	for (i = 0; i < STATM_FIELDS; i++)
		CHECK_TEXT("proc(5) order", want[i], statm_field_names[i], strlen(statm_field_names[i]));
}

static void test_seven_counts(void)
{
	static const uint64_t want[] = {47791, 1051, 646, 352, 0, 37223, 0};
	struct statm s;
	size_t i;

	if (!CHECK_REASON("accepted", NULL, parse("47791 1051 646 352 0 37223 0\n", &s)))
		return;
	for (i = 0; i < STATM_FIELDS; i++) {
		CHECK_UINT(statm_field_names[i], want[i], s.fields[i].pages);
		CHECK_INT(statm_field_names[i], 0, s.fields[i].overflowed);
	}
	CHECK_TEXT("digits", "37223", s.fields[5].digits, s.fields[5].digits_len);
	CHECK_REASON("no newline", NULL, parse("1 2 3 4 5 6 7", &s));
	CHECK_UINT("dt", 7, s.fields[6].pages);
}

static void test_fixture_past_64_bits(void)
{
	char path[4096];
	struct statm s;
	size_t len;
	char *data;

	if (!CHECK("edge/proc/108/statm", unit_fixture_path("MEMSCRIPT_FIXTURES", "edge/proc/108/statm", path, sizeof(path)) &&
						  (data = unit_read_file(path, &len)) != NULL))
		return;
	if (CHECK_REASON("accepted", NULL, statm_parse(data, len, &s))) {
		CHECK_UINT("size 2^51-1", (UINT64_C(1) << 51) - 1, s.fields[0].pages);
		CHECK_UINT("resident 2^51", UINT64_C(1) << 51, s.fields[1].pages);
		CHECK_UINT("shared 2^64-1", UINT64_MAX, s.fields[2].pages);
		CHECK_INT("2^64-1 fits", 0, s.fields[2].overflowed);
		CHECK_INT("data overflowed", 1, s.fields[5].overflowed);
		CHECK_UINT("data UINT64_MAX", UINT64_MAX, s.fields[5].pages);
		CHECK_TEXT("data digits kept", "99999999999999999999", s.fields[5].digits, s.fields[5].digits_len);
	}
	free(data);
}

static void test_reasons_as_proc_statm_gives_them(void)
{
	struct statm s;

#define REFUSED(text, reason, field_name)                                                          \
	do {                                                                                       \
		CHECK_REASON(text, reason, parse(text, &s));                                       \
		CHECK_TEXT(text, field_name, s.error_field, s.error_field ? strlen(s.error_field) : 0); \
	} while (0)
	REFUSED("", "decimal number of pages expected", "size");
	REFUSED("\n", "decimal number of pages expected", "size");
	REFUSED(" 1 2 3 4 5 6 7", "decimal number of pages expected", "size");
	REFUSED("1", "space expected before the field", "resident");
	REFUSED("1 2 3 4 5 6", "space expected before the field", "dt");
	REFUSED("1 2 3 4 5 6 ", "decimal number of pages expected", "dt");
	REFUSED("1  2 3 4 5 6 7", "decimal number of pages expected", "resident");
	REFUSED("1 2 3 x 5 6 7", "decimal number of pages expected", "text");
	REFUSED("1 2 3 4 5 6 7 8", "unexpected text after the seventh field", NULL);
	REFUSED("1 2 3 4 5 6 7\n\n", "unexpected text after the seventh field", NULL);
	REFUSED("1 2 3 4 5 6 7 \n", "unexpected text after the seventh field", NULL);
	REFUSED("1 2 3 4 5 6 7x", "unexpected text after the seventh field", NULL);
	REFUSED("1\t2 3 4 5 6 7", "space expected before the field", "resident");
	REFUSED("1 2 3 4 5 6 -7", "decimal number of pages expected", "dt");
#undef REFUSED
	CHECK_REASON("NULL and 0", "decimal number of pages expected", statm_parse(NULL, 0, &s));
}

static void test_nothing_read_past_the_end(void)
{
	char *copy = malloc(13);
	struct statm s;

	if (!CHECK("allocated", copy != NULL))
		return;
	memcpy(copy, "1 2 3 4 5 6 7", 13);
	CHECK_REASON("exactly the bytes of seven counts", NULL, statm_parse(copy, 13, &s));
	CHECK_REASON("cut after six", "space expected before the field", statm_parse(copy, 11, &s));
	CHECK_REASON("cut after the last space", "decimal number of pages expected", statm_parse(copy, 12, &s));
	free(copy);
}

/*
 * statm's size and resident are status's VmSize and VmRSS in pages, when nothing moved between
 * reads: the three reads go into buffers written beforehand, so they map and touch nothing new.
 */
static void test_live_against_status(void)
{
	static char s1[4096], status[65536], s2[4096];
	uint64_t page_kb = (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
	int attempt;

	memset(s1, 1, sizeof(s1));
	memset(status, 1, sizeof(status));
	memset(s2, 1, sizeof(s2));
	for (attempt = 0; attempt < 5; attempt++) {
		size_t len1, len2, status_len;
		struct statm a, b;
		const char *vmsize, *vmrss;
		int ok = unit_read_into("/proc/self/statm", s1, sizeof(s1), &len1) &&
			 unit_read_into("/proc/self/status", status, sizeof(status), &status_len) &&
			 unit_read_into("/proc/self/statm", s2, sizeof(s2), &len2);
		if (!CHECK("read statm, status, statm", ok))
			return;
		if (len1 != len2 || memcmp(s1, s2, len1) != 0)
			continue;
		if (!CHECK_REASON("accepted", NULL, statm_parse(s1, len1, &a)) ||
		    !CHECK_REASON("accepted", NULL, statm_parse(s2, len2, &b)))
			return;
		vmsize = strstr(status, "\nVmSize:");
		vmrss = strstr(status, "\nVmRSS:");
		if (CHECK("VmSize and VmRSS in status", vmsize && vmrss)) {
			CHECK_UINT("size is VmSize", strtoull(vmsize + 8, NULL, 10), a.fields[0].pages * page_kb);
			CHECK_UINT("resident is VmRSS", strtoull(vmrss + 7, NULL, 10), a.fields[1].pages * page_kb);
		}
		return;
	}
	CHECK("statm stayed the same around a read of status", 0);
}

int main(void)
{
	UNIT_RUN(test_names_table, "the names table: proc(5) order");
	UNIT_RUN(test_seven_counts, "seven page counts, with or without the newline");
	UNIT_RUN(test_fixture_past_64_bits, "fixture 108: 2^51, 2^64-1, and 20 digits past 64 bits kept");
	UNIT_RUN(test_reasons_as_proc_statm_gives_them, "the reasons and field names proc.statm gives");
	UNIT_RUN(test_nothing_read_past_the_end, "nothing read past the bytes given");
	UNIT_RUN(test_live_against_status, "live: size and resident equal status's VmSize and VmRSS");
	return unit_end();
}
