/* test_keyval_parse.c: kv_parse_line on status, meminfo and smaps lines, made-up edge cases and the live files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "core/keyval_parse.h"
#include "unit.h"

static const char *parse(const char *line, struct kv_field *f)
{
	memset(f, 0xa5, sizeof(*f));
	return kv_parse_line(line, strlen(line), f);
}

static void test_kb_value(void)
{
	struct kv_field f;

	if (!CHECK_REASON("accepted", NULL, parse("Rss:                 132 kB", &f)))
		return;
	CHECK_TEXT("key", "Rss", f.key, f.key_len);
	CHECK_INT("kind", KV_KB, f.kind);
	CHECK_UINT("number (kB)", 132, f.number);
	CHECK_INT("not overflowed", 0, f.overflowed);
	CHECK_TEXT("text is the digits", "132", f.text, f.text_len);
}

static void test_int_value(void)
{
	struct kv_field f;

	if (!CHECK_REASON("Threads accepted", NULL, parse("Threads:\t51", &f)))
		return;
	CHECK_TEXT("key", "Threads", f.key, f.key_len);
	CHECK_INT("kind", KV_INT, f.kind);
	CHECK_UINT("number", 51, f.number);
	if (!CHECK_REASON("THPeligible accepted", NULL, parse("THPeligible:    0", &f)))
		return;
	CHECK_INT("single 0 is an integer", KV_INT, f.kind);
	CHECK_UINT("number", 0, f.number);
}

static void test_text_values(void)
{
	struct kv_field f;

	if (CHECK_REASON("Umask accepted", NULL, parse("Umask:\t0022", &f))) {
		CHECK_INT("a leading zero keeps Umask text", KV_TEXT, f.kind);
		CHECK_TEXT("text", "0022", f.text, f.text_len);
		CHECK_UINT("number 0 for text", 0, f.number);
	}
	if (CHECK_REASON("State accepted", NULL, parse("State:\tS (sleeping)", &f))) {
		CHECK_INT("kind", KV_TEXT, f.kind);
		CHECK_TEXT("text with its space", "S (sleeping)", f.text, f.text_len);
	}
	if (CHECK_REASON("VmFlags accepted", NULL, parse("VmFlags: rd wr mr mw me ac sd ", &f))) {
		CHECK_TEXT("trailing blank trimmed", "rd wr mr mw me ac sd", f.text, f.text_len);
	}
	if (CHECK_REASON("Name with a colon accepted", NULL, parse("Name:\ta:b", &f))) {
		CHECK_TEXT("key ends at the first colon", "Name", f.key, f.key_len);
		CHECK_TEXT("the value keeps the later colon", "a:b", f.text, f.text_len);
	}
	if (CHECK_REASON("empty value accepted", NULL, parse("Groups:\t", &f))) {
		CHECK_INT("kind", KV_TEXT, f.kind);
		CHECK_UINT("empty text", 0, f.text_len);
	}
	if (CHECK_REASON("12 kBx accepted", NULL, parse("X: 12 kBx", &f)))
		CHECK_INT("not exactly \" kB\": text", KV_TEXT, f.kind);
	if (CHECK_REASON("12kB accepted", NULL, parse("X: 12kB", &f)))
		CHECK_INT("no space before kB: text", KV_TEXT, f.kind);
}

static void test_overflow_keeps_digits(void)
{
	struct kv_field f;

	if (CHECK_REASON("kB overflow accepted", NULL, parse("Huge:  99999999999999999999 kB", &f))) {
		CHECK_INT("kind", KV_KB, f.kind);
		CHECK_INT("overflowed", 1, f.overflowed);
		CHECK_UINT("number", UINT64_MAX, f.number);
		CHECK_TEXT("digits kept", "99999999999999999999", f.text, f.text_len);
	}
	if (CHECK_REASON("2^64-1 accepted", NULL, parse("Big: 18446744073709551615", &f))) {
		CHECK_INT("fits", 0, f.overflowed);
		CHECK_UINT("number", UINT64_MAX, f.number);
	}
}

static void test_reasons(void)
{
	struct kv_field f;
	char nul_line[] = "Name:\ta\0b";

	CHECK_REASON("no colon", "no ':' after the key", parse("garbage", &f));
	CHECK_REASON("empty line", "no ':' after the key", parse("", &f));
	CHECK_REASON("empty key", "empty key", parse(": 1", &f));
	CHECK_REASON("space in key", "blank or control character in the key", parse("Vm RSS: 1 kB", &f));
	CHECK_REASON("control in key", "blank or control character in the key", parse("Vm\x01: 1", &f));
	CHECK_REASON("NUL in value", "NUL byte in the value",
		     kv_parse_line(nul_line, sizeof(nul_line) - 1, &f));
}

static void test_carriage_return_is_data(void)
{
	struct kv_field f;

	/* A process may end its name with one; the kernel prints it raw in status's Name. */
	if (CHECK_REASON("CR in a name", NULL, parse("Name:\tevil\r", &f)))
		CHECK_TEXT("kept", "evil\r", f.text, f.text_len);
	if (CHECK_REASON("CR after a size", NULL, parse("VmRSS:\t 4 kB\r", &f)))
		CHECK_INT("no longer a size: text", KV_TEXT, f.kind);
}

static void test_duplicate_keys_are_the_callers(void)
{
	struct kv_field a, b;

	CHECK_REASON("first", NULL, parse("VmRSS:\t    1440 kB", &a));
	CHECK_REASON("second", NULL, parse("VmRSS:\t    9999 kB", &b));
	CHECK_TEXT("same key both times", "VmRSS", b.key, b.key_len);
	CHECK_UINT("each line its own value", 9999, b.number);
}

/* Where kv_skip_known ends a line of span at key (len_hint as told), as an offset; -1 for NULL. */
static long skipped(const char *span, size_t len, const char *key, size_t len_hint)
{
	const char *nl = kv_skip_known(span, span + len, key, strlen(key), len_hint);
	return nl != NULL ? (long)(nl - span) : -1;
}

static void test_skip_known(void)
{
	static const char two[] = "Size:                  8 kB\nVmFlags: rd mr mw me \n";
	static const char nul[] = "Shared_Clean:          8 kB\nKSM:    \0 kB\n";
	static const char last[] = "Locked:                0 kB";

	/* the kernel's width (27 bytes and a newline), found where the hint says or by looking */
	CHECK_INT("at the hint", 27, skipped(two, sizeof(two) - 1, "Size", 27));
	CHECK_INT("without a hint", 27, skipped(two, sizeof(two) - 1, "Size", 0));
	CHECK_INT("a hint too short", 27, skipped(two, sizeof(two) - 1, "Size", 20));
	/* the next line's newline is not this line's, even where the hint points at it */
	CHECK_INT("a hint past the newline", 27, skipped(two, sizeof(two) - 1, "Size", 49));
	CHECK_INT("any value, text too", 49, skipped(two + 28, sizeof(two) - 29, "VmFlags", 21) + 28);
	CHECK_INT("another key", -1, skipped(two, sizeof(two) - 1, "Rss", 27));
	CHECK_INT("a longer key that starts alike", -1, skipped(two, sizeof(two) - 1, "Size_X", 27));
	CHECK_INT("no colon after the key", -1, skipped(two, sizeof(two) - 1, "Siz", 27));
	/* kv_parse_line refuses a NUL in a value: so does the skip, at the hint or not */
	CHECK_INT("line before the NUL", 27, skipped(nul, sizeof(nul) - 1, "Shared_Clean", 27));
	CHECK_INT("NUL at the hint", -1, skipped(nul + 28, sizeof(nul) - 29, "KSM", 12));
	CHECK_INT("NUL, no hint", -1, skipped(nul + 28, sizeof(nul) - 29, "KSM", 0));
	CHECK_INT("no newline before the end", -1, skipped(last, sizeof(last) - 1, "Locked", 27));
}

static void test_two_mib_value(void)
{
	size_t len = 2u << 20;
	char *line = malloc(len);
	struct kv_field f;

	if (!CHECK("allocated", line != NULL))
		return;
	memcpy(line, "Long:", 5);
	memset(line + 5, 'x', len - 5);
	if (CHECK_REASON("accepted", NULL, kv_parse_line(line, len, &f)))
		CHECK_UINT("the whole value", len - 5, f.text_len);
	free(line);
}

struct live {
	int lines, refused;
	uint64_t vmrss_kb, memtotal_kb;
	int vmrss_kind;
};

static void live_line(const char *line, size_t len, long lineno, void *arg)
{
	struct live *l = arg;
	struct kv_field f;
	const char *reason = kv_parse_line(line, len, &f);

	(void)lineno;
	l->lines++;
	if (reason != NULL) {
		l->refused++;
		CHECK_REASON("a live line is accepted", NULL, reason);
		return;
	}
	if (f.key_len == 5 && memcmp(f.key, "VmRSS", 5) == 0) {
		l->vmrss_kb = f.number;
		l->vmrss_kind = f.kind;
	}
	if (f.key_len == 8 && memcmp(f.key, "MemTotal", 8) == 0)
		l->memtotal_kb = f.number;
}

static void test_live_status_and_meminfo(void)
{
	struct live l;
	struct sysinfo si;
	size_t len;
	char *data;

	memset(&l, 0, sizeof(l));
	data = unit_read_file("/proc/self/status", &len);
	if (!CHECK("read /proc/self/status", data != NULL))
		return;
	unit_each_line(data, len, live_line, &l);
	free(data);
	CHECK("status has lines", l.lines > 20);
	CHECK_INT("VmRSS is kB", KV_KB, l.vmrss_kind);
	CHECK("VmRSS is not 0", l.vmrss_kb > 0);

	data = unit_read_file("/proc/meminfo", &len);
	if (!CHECK("read /proc/meminfo", data != NULL))
		return;
	unit_each_line(data, len, live_line, &l);
	free(data);
	CHECK_INT("no live line refused", 0, l.refused);
	/* sysinfo's totalram and MemTotal are the same count of pages. */
	if (CHECK("sysinfo", sysinfo(&si) == 0))
		CHECK_UINT("MemTotal equals sysinfo's totalram", (uint64_t)si.totalram * si.mem_unit / 1024,
			   l.memtotal_kb);
}

int main(void)
{
	UNIT_RUN(test_kb_value, "\"N kB\" is KV_KB, the digits as text");
	UNIT_RUN(test_int_value, "a plain decimal is KV_INT");
	UNIT_RUN(test_text_values, "text: a leading zero, words, a later colon, an empty value, near-kB shapes");
	UNIT_RUN(test_overflow_keeps_digits, "past 64 bits: overflowed, UINT64_MAX, digits kept");
	UNIT_RUN(test_reasons, "reasons: no colon, empty key, blank or control in the key, NUL");
	UNIT_RUN(test_carriage_return_is_data, "a carriage return is kept in the value: a process may put one in its name");
	UNIT_RUN(test_duplicate_keys_are_the_callers, "a repeated key parses each time (the caller refuses repeats)");
	UNIT_RUN(test_skip_known, "kv_skip_known: a line of a known key passed over as kv_parse_line takes it, "
		 "its newline found at the hint or by looking");
	UNIT_RUN(test_two_mib_value, "a 2 MiB value");
	UNIT_RUN(test_live_status_and_meminfo, "live /proc/self/status and /proc/meminfo; MemTotal against sysinfo");
	return unit_end();
}
