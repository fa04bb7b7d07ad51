/* test_singlevalue_parse.c: one-value files: cgroup limits and counters, written, captured, other projects', live. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/flatkeyed_parse.h"
#include "core/singlevalue_parse.h"
#include "unit.h"

static const char *parse(const char *data, struct value_token *v)
{
	memset(v, 0xa5, sizeof(*v));
	return singlevalue_parse(data, strlen(data), v);
}

static void test_numbers(void)
{
	struct value_token v;

	if (CHECK_REASON("v1 no limit", NULL, parse("9223372036854771712\n", &v))) {
		CHECK_INT("kind", VALUE_UINT, v.kind);
		CHECK_UINT("v1 no limit exact", UINT64_C(9223372036854771712), v.number);
		CHECK_TEXT("text without the newline", "9223372036854771712", v.text, v.text_len);
	}
	if (CHECK_REASON("0", NULL, parse("0\n", &v)))
		CHECK_UINT("0", 0, v.number);
	if (CHECK_REASON("negative", NULL, parse("-1\n", &v))) {
		CHECK_INT("kind", VALUE_NEGATIVE, v.kind);
		CHECK_UINT("magnitude", 1, v.number);
	}
	if (CHECK_REASON("overflow", NULL, parse("99999999999999999999\n", &v))) {
		CHECK_INT("overflowed", 1, v.overflowed);
		CHECK_TEXT("digits kept", "99999999999999999999", v.digits, v.digits_len);
	}
	if (CHECK_REASON("no newline (a cut capture)", NULL, parse("4096", &v)))
		CHECK_UINT("value", 4096, v.number);
}

static void test_words(void)
{
	struct value_token v;

	if (CHECK_REASON("max", NULL, parse("max\n", &v))) {
		CHECK_INT("kind", VALUE_TEXT, v.kind);
		CHECK_TEXT("word", "max", v.text, v.text_len);
	}
	if (CHECK_REASON("a list", NULL, parse("0-95\n", &v)))
		CHECK_TEXT("list as text", "0-95", v.text, v.text_len);
	if (CHECK_REASON("member", NULL, parse("member\n", &v)))
		CHECK_INT("kind", VALUE_TEXT, v.kind);
	if (CHECK_REASON("nothing but a newline", NULL, parse("\n", &v))) {
		CHECK_INT("empty text", VALUE_TEXT, v.kind);
		CHECK_UINT("length 0", 0, v.text_len);
	}
}

static void test_reasons(void)
{
	struct value_token v;
	char nul_file[] = "12\0003\n";

	CHECK_REASON("empty file", "empty file: one value and a newline expected", parse("", &v));
	CHECK_REASON("two values (cpu.max)", "blank in the value: one value expected, not several", parse("max 100000\n", &v));
	CHECK_REASON("tab", "blank in the value: one value expected, not several", parse("1\t2\n", &v));
	CHECK_REASON("trailing space", "blank in the value: one value expected, not several", parse("1 \n", &v));
	CHECK_REASON("two lines", "text after the first line: one value expected", parse("1\n2\n", &v));
	CHECK_REASON("an empty second line", "text after the first line: one value expected", parse("1\n\n", &v));
	CHECK_REASON("CRLF", "carriage return in the file (CRLF line ends?)", parse("max\r\n", &v));
	CHECK_REASON("control", "control character in the value", parse("m\x01x\n", &v));
	CHECK_REASON("NUL", "NUL byte in the file", singlevalue_parse(nul_file, sizeof(nul_file) - 1, &v));
}

static void test_two_mib(void)
{
	size_t len = 2u << 20;
	char *data = malloc(len);
	struct value_token v;

	if (!CHECK("allocated", data != NULL))
		return;
	memset(data, '1', len - 1);
	data[len - 1] = '\n';
	if (CHECK_REASON("2 MiB of digits", NULL, singlevalue_parse(data, len, &v))) {
		CHECK_INT("overflowed", 1, v.overflowed);
		CHECK_UINT("digits", len - 1, v.digits_len);
	}
	free(data);
}

/* Parses the file at path: 1 and *v when accepted, 0 with *reason set when refused, -1 unreadable. */
static int parse_file(const char *path, struct value_token *v, const char **reason, char **data_out)
{
	size_t len;
	char *data = unit_read_file(path, &len);

	*data_out = NULL;
	*reason = NULL;
	if (data == NULL)
		return -1;
	*reason = singlevalue_parse(data, len, v);
	*data_out = data;
	return *reason == NULL;
}

static void test_captured_v1_limit(void)
{
	char path[4096], *data;
	struct value_token v;
	const char *reason;

	/* cmonitor's capture of an Ubuntu 20.04 session scope, read in place: v1 prints "no limit" alike everywhere */
	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/cmonitor/extracted/ubuntu20.04-Linux-5.4.0-x86_64-systemd/sample1/sys/fs/cgroup/memory/user.slice/user-1000.slice/session-1.scope/memory.limit_in_bytes", path, sizeof(path)) == NULL) {
		unit_skip("cmonitor's cgroup v1 capture (no ../shared/fixtures)");
		return;
	}
	if (CHECK_INT("accepted", 1, parse_file(path, &v, &reason, &data))) {
		CHECK_INT("kind", VALUE_UINT, v.kind);
		CHECK_UINT("no limit", UINT64_C(9223372036854771712), v.number);
	}
	free(data);
}

struct peer_case {
	const char *file;
	const char *reason;   /* NULL: accepted */
	enum value_kind kind;
	const char *text;
	uint64_t number;
};

static void test_peers_captures(void)
{
	static const struct peer_case cases[] = {
		{"oomd/tree/cgroup/system.slice/memory.max", NULL, VALUE_TEXT, "max", 0},
		{"oomd/tree/cgroup/system.slice/memory.current", NULL, VALUE_UINT, "987654321", 987654321},
		{"telegraf/testdata/v2/memory.max", NULL, VALUE_UINT, "103079215104", UINT64_C(103079215104)},
		{"telegraf/testdata/v2/memory.swap.max", NULL, VALUE_UINT, "0", 0},
		{"telegraf/testdata/v2/memory.high", NULL, VALUE_TEXT, "max", 0},
		{"telegraf/testdata/v2/cpuset.cpus", NULL, VALUE_TEXT, "", 0},
		{"telegraf/testdata/v2/cpuset.cpus.effective", NULL, VALUE_TEXT, "0-95", 0},
		{"telegraf/testdata/v2/cpuset.cpus.partition", NULL, VALUE_TEXT, "member", 0},
		{"telegraf/testdata/v2/cpu.max", "blank in the value: one value expected, not several", VALUE_TEXT, NULL, 0},
		{"telegraf/testdata/memory/memory.empty", "empty file: one value and a newline expected", VALUE_TEXT, NULL, 0},
		{"telegraf/testdata/memory/memory.limit_in_bytes", NULL, VALUE_UINT, "223372036854771712",
		 UINT64_C(223372036854771712)},
		{"telegraf/testdata/memory/memory.use_hierarchy", NULL, VALUE_TEXT, "12-781", 0},
		{"cmonitor/extracted/centos7-Linux-3.10.0-x86_64-systemd/sample1/sys/fs/cgroup/memory/user.slice/memory.limit_in_bytes",
		 NULL, VALUE_UINT, "9223372036854771712", UINT64_C(9223372036854771712)},
	};
	char rel[512], path[4096], *data;
	struct value_token v;
	const char *reason;
	size_t i;

	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/oomd/tree/cgroup/system.slice/memory.max", path,
			      sizeof(path)) == NULL) {
		unit_skip("other projects' cgroup captures (no ../shared/fixtures)");
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct peer_case *c = &cases[i];
		snprintf(rel, sizeof(rel), "peers/cgroup/%s", c->file);
		if (!CHECK(c->file, unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", rel, path, sizeof(path)) != NULL))
			continue;
		if (parse_file(path, &v, &reason, &data) < 0) {
			CHECK(c->file, 0);
			continue;
		}
		if (CHECK_REASON(c->file, c->reason, reason) && reason == NULL) {
			CHECK_INT(c->file, c->kind, v.kind);
			CHECK_TEXT(c->file, c->text, v.text, v.text_len);
			CHECK_UINT(c->file, c->number, v.number);
		}
		free(data);
	}
}

/* The v1 root's "no limit" in memory.limit_in_bytes is the hierarchical_memory_limit of memory.stat. */
static void test_live_v1_limit_against_memory_stat(void)
{
	const char *dir = "/sys/fs/cgroup/memory";
	char path[256], *data, *stat;
	struct value_token limit;
	const char *reason, *p, *end;
	size_t len;
	int found = 0;

	snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", dir);
	if (access(path, R_OK) != 0) {
		unit_skip("no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory");
		return;
	}
	if (!CHECK_INT("memory.limit_in_bytes accepted", 1, parse_file(path, &limit, &reason, &data))) {
		free(data);
		return;
	}
	CHECK_INT("a decimal", VALUE_UINT, limit.kind);
	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	stat = unit_read_file(path, &len);
	if (CHECK("memory.stat read", stat != NULL)) {
		for (p = stat, end = stat + len; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			struct flatkeyed_field f;
			if (flatkeyed_parse_line(p, (size_t)((nl ? nl : end) - p), &f) == NULL &&
			    f.key_len == 25 && memcmp(f.key, "hierarchical_memory_limit", 25) == 0) {
				found = 1;
				CHECK_UINT("memory.stat's hierarchical_memory_limit", limit.number, f.value.number);
			}
			p = nl ? nl + 1 : end;
		}
		CHECK("hierarchical_memory_limit found", found);
		free(stat);
	}
	free(data);
	snprintf(path, sizeof(path), "%s/memory.usage_in_bytes", dir);
	if (CHECK_INT("memory.usage_in_bytes accepted", 1, parse_file(path, &limit, &reason, &data))) {
		CHECK_INT("usage is a decimal", VALUE_UINT, limit.kind);
		CHECK("usage is not 0", limit.number > 0);
	}
	free(data);
}

static void test_live_v2_word(void)
{
	static const char *const roots[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"};
	char path[256], *data = NULL;
	struct value_token v;
	const char *reason;
	size_t i;

	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(path, sizeof(path), "%s/cgroup.max.depth", roots[i]);
		if (access(path, R_OK) == 0)
			break;
	}
	if (i == sizeof(roots) / sizeof(roots[0])) {
		unit_skip("no cgroup v2 hierarchy with cgroup.max.depth");
		return;
	}
	/* The root's cgroup.max.depth is "max" unless someone set a number. */
	if (CHECK_INT("cgroup.max.depth accepted", 1, parse_file(path, &v, &reason, &data)))
		CHECK("max or a decimal",
		      (v.kind == VALUE_TEXT && v.text_len == 3 && memcmp(v.text, "max", 3) == 0) || v.kind == VALUE_UINT);
	free(data);
}

int main(void)
{
	UNIT_RUN(test_numbers, "decimals: v1's no-limit exact, 0, negative, overflow, no newline");
	UNIT_RUN(test_words, "words and lists as text: max, 0-95, member, an empty line");
	UNIT_RUN(test_reasons, "refused: empty file, two values, two lines, CR, control, NUL");
	UNIT_RUN(test_two_mib, "2 MiB of digits");
	UNIT_RUN(test_captured_v1_limit, "a captured v1 memory.limit_in_bytes (cmonitor's, in place): 9223372036854771712");
	UNIT_RUN(test_peers_captures, "other projects' memory.max, memory.current, cpuset, cpu.max captures, read in place");
	UNIT_RUN(test_live_v1_limit_against_memory_stat, "live v1 root: memory.limit_in_bytes equals memory.stat's hierarchical_memory_limit");
	UNIT_RUN(test_live_v2_word, "live v2 root: cgroup.max.depth");
	return unit_end();
}
