/* test_flatkeyed_parse.c: "key value" lines: written edge cases, captured files, other projects' captures, the live kernel. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>

#include "core/flatkeyed_parse.h"
#include "unit.h"

static const char *parse(const char *line, struct flatkeyed_field *f)
{
	memset(f, 0xa5, sizeof(*f));
	return flatkeyed_parse_line(line, strlen(line), f);
}

static void test_counter_line(void)
{
	struct flatkeyed_field f;

	if (!CHECK_REASON("accepted", NULL, parse("nr_free_pages 1037690", &f)))
		return;
	CHECK_TEXT("key", "nr_free_pages", f.key, f.key_len);
	CHECK_INT("no colon", 0, f.key_colon);
	CHECK_INT("kind", VALUE_UINT, f.value.kind);
	CHECK_UINT("number", 1037690, f.value.number);
	CHECK_TEXT("digits", "1037690", f.value.digits, f.value.digits_len);
}

static void test_keys_as_printed(void)
{
	struct flatkeyed_field f;

	if (CHECK_REASON("dotted key", NULL, parse("core_sched.force_idle_usec 0", &f)))
		CHECK_TEXT("dots kept", "core_sched.force_idle_usec", f.key, f.key_len);
	if (CHECK_REASON("device key", NULL, parse("8:0 200", &f))) {
		CHECK_TEXT("a colon inside the key is kept", "8:0", f.key, f.key_len);
		CHECK_INT("not a key colon", 0, f.key_colon);
	}
	if (CHECK_REASON("v1 total_ key", NULL, parse("total_inactive_file 5861376", &f)))
		CHECK_TEXT("key", "total_inactive_file", f.key, f.key_len);
	if (CHECK_REASON("uppercase key", NULL, parse("Pss_Anon 4", &f)))
		CHECK_TEXT("case kept", "Pss_Anon", f.key, f.key_len);
}

static void test_ksm_colon(void)
{
	struct flatkeyed_field f;

	if (!CHECK_REASON("accepted", NULL, parse("ksm_merge_any: no", &f)))
		return;
	CHECK_TEXT("key without the colon", "ksm_merge_any", f.key, f.key_len);
	CHECK_INT("colon reported", 1, f.key_colon);
	CHECK_INT("kind", VALUE_TEXT, f.value.kind);
	CHECK_TEXT("value", "no", f.value.text, f.value.text_len);
	CHECK_REASON("a colon alone is an empty key", "empty key before ':'", parse(": no", &f));
}

static void test_values(void)
{
	struct flatkeyed_field f;

	if (CHECK_REASON("v1 no limit", NULL, parse("hierarchical_memory_limit 9223372036854771712", &f)))
		CHECK_UINT("v1 no limit exact", UINT64_C(9223372036854771712), f.value.number);
	if (CHECK_REASON("negative", NULL, parse("ksm_process_profit -4096", &f))) {
		CHECK_INT("kind", VALUE_NEGATIVE, f.value.kind);
		CHECK_UINT("magnitude", 4096, f.value.number);
	}
	if (CHECK_REASON("overflow", NULL, parse("slab 99999999999999999999", &f))) {
		CHECK_INT("overflowed", 1, f.value.overflowed);
		CHECK_TEXT("digits kept", "99999999999999999999", f.value.digits, f.value.digits_len);
	}
	if (CHECK_REASON("word", NULL, parse("max 0", &f))) {
		CHECK_TEXT("key max", "max", f.key, f.key_len);
		CHECK_UINT("value 0", 0, f.value.number);
	}
	if (CHECK_REASON("text value", NULL, parse("memory.oom.group max", &f)))
		CHECK_INT("text", VALUE_TEXT, f.value.kind);
	if (CHECK_REASON("leading zero", NULL, parse("mode 0644", &f)))
		CHECK_INT("leading zero is text", VALUE_TEXT, f.value.kind);
}

static void test_reasons(void)
{
	struct flatkeyed_field f;
	char nul_line[] = "pgfault 1\0002";

	CHECK_REASON("empty", "empty line", parse("", &f));
	CHECK_REASON("one word", "no space after the key", parse("garbage", &f));
	CHECK_REASON("leading space", "empty key (the line starts with a space)", parse(" 1", &f));
	CHECK_REASON("no value", "empty value after the key", parse("pgfault ", &f));
	CHECK_REASON("two spaces", "a second space in the line: one key and one value expected", parse("pgfault  1", &f));
	CHECK_REASON("nested keyed line", "a second space in the line: one key and one value expected",
		     parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0", &f));
	CHECK_REASON("cpu.max", "a second space in the line: one key and one value expected", parse("a b c", &f));
	CHECK_REASON("tab", "tab in the line: key and value are separated by one space", parse("pgfault\t1", &f));
	CHECK_REASON("CRLF", "carriage return in the line (CRLF line ends?)", parse("pgfault 1\r", &f));
	CHECK_REASON("control", "control character in the line", parse("pg\x01 1", &f));
	CHECK_REASON("DEL", "control character in the line", parse("pgfault 1\x7f", &f));
	CHECK_REASON("NUL", "NUL byte in the line", flatkeyed_parse_line(nul_line, sizeof(nul_line) - 1, &f));
	CHECK_REASON("a Key: value line with padding", "a second space in the line: one key and one value expected",
		     parse("MemTotal:        8039564 kB", &f));
}

static void test_duplicate_keys_are_the_callers(void)
{
	struct flatkeyed_field a, b;

	CHECK_REASON("first", NULL, parse("oom 0", &a));
	CHECK_REASON("again", NULL, parse("oom 3", &b));
	CHECK_TEXT("same key", "oom", b.key, b.key_len);
	CHECK_UINT("its own value", 3, b.value.number);
}

static void test_two_mib(void)
{
	size_t len = 2u << 20;
	char *line = malloc(len);
	struct flatkeyed_field f;

	if (!CHECK("allocated", line != NULL))
		return;
	memset(line, 'k', len);
	line[len - 2] = ' ';
	line[len - 1] = '7';
	if (CHECK_REASON("2 MiB key", NULL, flatkeyed_parse_line(line, len, &f))) {
		CHECK_UINT("key length", len - 2, f.key_len);
		CHECK_UINT("value", 7, f.value.number);
	}
	memset(line, '5', len);
	line[0] = 'k';
	line[1] = ' ';
	if (CHECK_REASON("2 MiB value", NULL, flatkeyed_parse_line(line, len, &f))) {
		CHECK_INT("overflowed", 1, f.value.overflowed);
		CHECK_UINT("digits", len - 2, f.value.digits_len);
	}
	free(line);
}

/* ---- whole files ---- */

struct file_scan {
	long lines, refused, uints;
	char first_reason[160];
	/* the value of one key, when seen */
	const char *want_key;
	int seen;
	struct value_token want;
	char want_text[64];
};

static void scan_line(const char *line, size_t len, long lineno, void *arg)
{
	struct file_scan *s = arg;
	struct flatkeyed_field f;
	const char *reason = flatkeyed_parse_line(line, len, &f);

	s->lines++;
	if (reason != NULL) {
		if (s->refused++ == 0)
			snprintf(s->first_reason, sizeof(s->first_reason), "line %ld: %s", lineno, reason);
		return;
	}
	s->uints += f.value.kind == VALUE_UINT;
	if (s->want_key != NULL && f.key_len == strlen(s->want_key) && memcmp(f.key, s->want_key, f.key_len) == 0) {
		s->seen++;
		s->want = f.value;
		snprintf(s->want_text, sizeof(s->want_text), "%.*s", (int)f.value.text_len, f.value.text);
	}
}

/* Scans path; returns 0 when it cannot be read. */
static int scan_file(const char *path, const char *key, struct file_scan *s)
{
	size_t len;
	char *data = unit_read_file(path, &len);

	memset(s, 0, sizeof(*s));
	s->want_key = key;
	if (data == NULL)
		return 0;
	unit_each_line(data, len, scan_line, s);
	free(data);
	if (s->refused)
		fprintf(stderr, "%s: %s\n", path, s->first_reason);
	return 1;
}

static int scan_fixture(const char *var, const char *rel, const char *key, struct file_scan *s)
{
	char path[4096];

	if (unit_fixture_path(var, rel, path, sizeof(path)) == NULL)
		return 0;
	return scan_file(path, key, s);
}

static void test_captured_vmstat(void)
{
	struct file_scan s;

	if (!CHECK("tests/fixtures/shapes/proc/vmstat read",
		   scan_fixture("MEMSCRIPT_FIXTURES", "shapes/proc/vmstat", "nr_free_pages", &s)))
		return;
	CHECK_INT("192 lines", 192, s.lines);
	CHECK_INT("none refused", 0, s.refused);
	CHECK_INT("every value a decimal", 192, s.uints);
	CHECK_INT("nr_free_pages once", 1, s.seen);
	CHECK_UINT("nr_free_pages as captured", 1056117, s.want.number);
}

static void test_captured_v1_memory_stat(void)
{
	struct file_scan s;

	if (!CHECK("memory.stat read", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/sys/fs/cgroup/memory/memory.stat",
						      "hierarchical_memory_limit", &s)))
		return;
	CHECK_INT("42 lines", 42, s.lines);
	CHECK_INT("none refused", 0, s.refused);
	CHECK_UINT("hierarchical_memory_limit", UINT64_C(9223372036854771712), s.want.number);
	if (!CHECK("memory.stat read", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/sys/fs/cgroup/memory/memory.stat",
						      "total_cache", &s)))
		return;
	CHECK_UINT("total_cache", 311689216, s.want.number);
	/* oom_control: cmonitor's capture of a v1 session scope, read in place when ../shared/fixtures is there */
	if (getenv("MEMSCRIPT_SHARED_FIXTURES") != NULL &&
	    CHECK("oom_control read", scan_fixture("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/cmonitor/extracted/ubuntu20.04-Linux-5.4.0-x86_64-systemd/sample1/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-1.scope/memory.oom_control", "under_oom", &s)))
		CHECK_INT("oom_control: 3 lines, none refused", 3, s.lines - s.refused);
	if (CHECK("cpu.stat read", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/sys/fs/cgroup/unified/cpu.stat",
						  "usage_usec", &s)))
		CHECK_UINT("usage_usec", 549420000, s.want.number);
}

static void test_captured_ksm_stat(void)
{
	struct file_scan s;

	if (!CHECK("ksm_stat read", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/proc/self/ksm_stat", "ksm_mergeable", &s)))
		return;
	CHECK_INT("6 lines", 6, s.lines);
	CHECK_INT("none refused", 0, s.refused);
	CHECK_INT("four decimals", 4, s.uints);
	CHECK_TEXT("ksm_mergeable (printed with a colon)", "no", s.want_text, strlen(s.want_text));
}

static void test_peers_captures(void)
{
	static const char *const files[] = {
		"peers/cgroup/oomd/tree/cgroup/system.slice/memory.stat",
		"peers/cgroup/telegraf/testdata/v2/memory.stat",
		"peers/cgroup/telegraf/testdata/v2/memory.events",
		"peers/cgroup/telegraf/testdata/v2/memory.events.local",
		"peers/cgroup/telegraf/testdata/v2/cpu.stat",
		"peers/cgroup/telegraf/testdata/v2/memory.swap.events",
		"peers/cgroup/cmonitor/extracted/centos7-Linux-3.10.0-x86_64-systemd/sample1/sys/fs/cgroup/memory/user.slice/memory.stat",
	};
	struct file_scan s;
	size_t i;

	if (getenv("MEMSCRIPT_SHARED_FIXTURES") == NULL ||
	    !scan_fixture("MEMSCRIPT_SHARED_FIXTURES", files[0], "anon", &s)) {
		unit_skip("other projects' cgroup captures (no ../shared/fixtures)");
		return;
	}
	CHECK_UINT("oomd memory.stat anon", 1294168064, s.want.number);
	CHECK_INT("oomd memory.stat: 29 lines accepted", 29, s.lines - s.refused);
	for (i = 1; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!CHECK(files[i], scan_fixture("MEMSCRIPT_SHARED_FIXTURES", files[i], NULL, &s)))
			continue;
		CHECK(files[i], s.lines > 0);
		CHECK_INT(files[i], 0, s.refused);
		CHECK_INT(files[i], s.lines, s.uints);
	}
	if (CHECK("telegraf v2 memory.events", scan_fixture("MEMSCRIPT_SHARED_FIXTURES", files[2], "oom_group_kill", &s)))
		CHECK_INT("oom_group_kill seen", 1, s.seen);
	if (CHECK("cmonitor v1 memory.stat", scan_fixture("MEMSCRIPT_SHARED_FIXTURES", files[6], "total_rss", &s)))
		CHECK_UINT("total_rss", UINT64_C(9645748224), s.want.number);
	/* Captures with values past INT64_MAX and below zero. */
	if (CHECK("below's overflow case", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/below/inline/cgroupfs/memory.stat_test_memory_stat_overflow", "slab", &s)))
		CHECK_UINT("slab past INT64_MAX, exact", UINT64_C(14914318128160131214), s.want.number);
	if (CHECK("telegraf v1 memory.stat", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/telegraf/testdata/memory/memory.stat", "dirty", &s))) {
		CHECK_INT("5 lines accepted", 5, s.lines - s.refused);
		CHECK_INT("dirty is negative", VALUE_NEGATIVE, s.want.kind);
		CHECK_UINT("dirty magnitude", 307200, s.want.number);
	}
	if (CHECK("telegraf v1 memory.stat", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/telegraf/testdata/memory/memory.stat", "cache", &s)))
		CHECK_UINT("cache", UINT64_C(1739362304123123123), s.want.number);
	if (CHECK("telegraf's malformed file", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/telegraf/testdata/broken/malformed.file", NULL, &s)))
		CHECK_INT("\"garbage\" refused", 1, s.refused);
}

static void test_live_vmstat(void)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t touched = 256, i;
	struct file_scan before, after;
	char *area;

	if (!CHECK("/proc/vmstat read", scan_file("/proc/vmstat", "pgfault", &before)))
		return;
	CHECK("lines", before.lines > 50);
	CHECK_INT("none refused", 0, before.refused);
	CHECK_INT("every value a decimal", before.lines, before.uints);
	CHECK_INT("pgfault once", 1, before.seen);

	/* Touching pages that were never touched faults each in: pgfault grows by at least that. */
	area = mmap(NULL, touched * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK("mmap", area != MAP_FAILED))
		return;
	madvise(area, touched * (size_t)page, MADV_NOHUGEPAGE);
	if (!CHECK("/proc/vmstat read", scan_file("/proc/vmstat", "pgfault", &before)))
		return;
	for (i = 0; i < touched; i++)
		area[i * (size_t)page] = 1;
	if (CHECK("/proc/vmstat read again", scan_file("/proc/vmstat", "pgfault", &after)))
		CHECK("pgfault grew by at least the pages touched", after.want.number >= before.want.number + touched);
	munmap(area, touched * (size_t)page);
}

static void test_live_ksm_stat(void)
{
	struct file_scan s;
	int merge_any;

	if (access("/proc/self/ksm_stat", R_OK) != 0) {
		unit_skip("no /proc/self/ksm_stat (kernel without CONFIG_KSM)");
		return;
	}
	if (!CHECK("ksm_stat read", scan_file("/proc/self/ksm_stat", "ksm_merge_any", &s)))
		return;
	CHECK_INT("none refused", 0, s.refused);
	/* PR_GET_MEMORY_MERGE (68, Linux 6.4) is what ksm_merge_any prints. */
	merge_any = prctl(68, 0, 0, 0, 0);
	if (merge_any < 0) {
		CHECK_INT("no prctl, no ksm_merge_any line", 0, s.seen);
		return;
	}
	if (CHECK_INT("ksm_merge_any once", 1, s.seen))
		CHECK_TEXT("ksm_merge_any as prctl(PR_GET_MEMORY_MERGE) says", merge_any ? "yes" : "no", s.want_text,
			   strlen(s.want_text));
}

int main(void)
{
	UNIT_RUN(test_counter_line, "a counter line: key, and a decimal with its digits");
	UNIT_RUN(test_keys_as_printed, "keys as printed: dots, a colon inside, total_, case");
	UNIT_RUN(test_ksm_colon, "ksm_stat's \"key: value\" lines: key without the colon, key_colon set");
	UNIT_RUN(test_values, "values: v1's no-limit, negative, overflow, words, leading zero");
	UNIT_RUN(test_reasons, "refused: empty, one word, blanks, a second space, tab, CR, control, NUL");
	UNIT_RUN(test_duplicate_keys_are_the_callers, "a repeated key parses each time (the caller refuses repeats)");
	UNIT_RUN(test_two_mib, "a 2 MiB key and a 2 MiB value");
	UNIT_RUN(test_captured_vmstat, "captured /proc/vmstat: 192 lines, all decimals");
	UNIT_RUN(test_captured_v1_memory_stat, "captured cgroup v1 memory.stat, oom_control and v2 cpu.stat");
	UNIT_RUN(test_captured_ksm_stat, "captured ksm_stat with its two colon lines");
	UNIT_RUN(test_peers_captures, "other projects' memory.stat, memory.events, cpu.stat captures, read in place");
	UNIT_RUN(test_live_vmstat, "live /proc/vmstat: every line; pgfault grows by the pages this test touches");
	UNIT_RUN(test_live_ksm_stat, "live /proc/self/ksm_stat: ksm_merge_any as prctl reports it");
	return unit_end();
}
