/* test_nestedkeyed_parse.c: "name key=value ..." lines: PSI and io.stat, written, captured, other projects', live. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/nestedkeyed_parse.h"
#include "unit.h"

static const char *parse(const char *line, struct nestedkeyed_record *r)
{
	memset(r, 0xa5, sizeof(*r));
	return nestedkeyed_parse_line(line, strlen(line), r);
}

/* The next pair must have this key and value text. */
static int expect_pair(struct nestedkeyed_record *r, const char *key, const char *value, struct nestedkeyed_pair *out)
{
	struct nestedkeyed_pair p;

	memset(&p, 0xa5, sizeof(p));
	if (!CHECK_INT(key, 1, nestedkeyed_next_pair(r, &p)))
		return 0;
	CHECK_TEXT("key", key, p.key, p.key_len);
	CHECK_TEXT("value text", value, p.value.text, p.value.text_len);
	if (out != NULL)
		*out = p;
	return 1;
}

static void test_psi_line(void)
{
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;

	if (!CHECK_REASON("accepted", NULL, parse("some avg10=0.93 avg60=0.58 avg300=1.21 total=12784533", &r)))
		return;
	CHECK_TEXT("name", "some", r.name, r.name_len);
	CHECK_UINT("four pairs", 4, r.npairs);
	if (expect_pair(&r, "avg10", "0.93", &p)) {
		CHECK_INT("avg10 fixed-point", VALUE_FIXED, p.value.kind);
		CHECK_UINT("integer part", 0, p.value.number);
		CHECK_TEXT("hundredths", "93", p.value.fraction, p.value.fraction_len);
	}
	expect_pair(&r, "avg60", "0.58", NULL);
	if (expect_pair(&r, "avg300", "1.21", &p))
		CHECK_UINT("integer part", 1, p.value.number);
	if (expect_pair(&r, "total", "12784533", &p)) {
		CHECK_INT("total decimal", VALUE_UINT, p.value.kind);
		CHECK_UINT("total", 12784533, p.value.number);
	}
	CHECK_INT("then the end", 0, nestedkeyed_next_pair(&r, &p));
	CHECK_INT("and the end again", 0, nestedkeyed_next_pair(&r, &p));
}

static void test_io_stat_lines(void)
{
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;

	if (CHECK_REASON("io.stat", NULL, parse("8:0 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0", &r))) {
		CHECK_TEXT("device name", "8:0", r.name, r.name_len);
		CHECK_UINT("six pairs", 6, r.npairs);
		if (expect_pair(&r, "rbytes", "1459200", &p))
			CHECK_UINT("rbytes", 1459200, p.value.number);
	}
	/* io.stat with the io.cost controller's keys appended (cost.vrate is fixed-point). */
	if (CHECK_REASON("io.stat with cost.*", NULL,
			 parse("259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=0", &r))) {
		CHECK_UINT("eight pairs", 8, r.npairs);
		while (nestedkeyed_next_pair(&r, &p) && !(p.key_len == 10 && memcmp(p.key, "cost.vrate", 10) == 0))
			;
		CHECK_TEXT("cost.vrate found", "cost.vrate", p.key, p.key_len);
		CHECK_INT("cost.vrate fixed-point", VALUE_FIXED, p.value.kind);
		CHECK_UINT("cost.vrate integer part", 100, p.value.number);
	}
}

static void test_values_kept_as_printed(void)
{
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;

	if (CHECK_REASON("a second '='", NULL, parse("x a=b=c", &r)) && expect_pair(&r, "a", "b=c", &p))
		CHECK_INT("text", VALUE_TEXT, p.value.kind);
	if (CHECK_REASON("overflow", NULL, parse("some total=99999999999999999999", &r)) && expect_pair(&r, "total", "99999999999999999999", &p))
		CHECK_INT("overflowed", 1, p.value.overflowed);
	if (CHECK_REASON("negative", NULL, parse("x delta=-5", &r)) && expect_pair(&r, "delta", "-5", &p))
		CHECK_INT("negative", VALUE_NEGATIVE, p.value.kind);
	if (CHECK_REASON("max", NULL, parse("8:16 rbps=max wbps=1048576", &r)) && expect_pair(&r, "rbps", "max", &p))
		CHECK_INT("io.max's max is text", VALUE_TEXT, p.value.kind);
	/* A key printed twice is handed out twice: the caller refuses repeats. */
	if (CHECK_REASON("repeated key", NULL, parse("some total=1 total=2", &r))) {
		CHECK_UINT("two pairs", 2, r.npairs);
		expect_pair(&r, "total", "1", NULL);
		expect_pair(&r, "total", "2", NULL);
	}
}

static void test_reasons(void)
{
	struct nestedkeyed_record r;
	char nul_line[] = "some avg10=0\0001";

	CHECK_REASON("empty", "empty line", parse("", &r));
	CHECK_REASON("leading space", "empty record name (the line starts with a space)", parse(" avg10=1", &r));
	CHECK_REASON("name alone", "no key=value pair after the record name", parse("some", &r));
	CHECK_REASON("v1 numa_stat line", "'=' in the record name: a name then key=value pairs expected",
		     parse("total=0 N0=0 N1=0", &r));
	CHECK_REASON("flat keyed line", "no '=' in a token after the record name: key=value expected", parse("low 0", &r));
	CHECK_REASON("empty key", "empty key before '='", parse("some =1", &r));
	CHECK_REASON("empty value", "empty value after '='", parse("some avg10=", &r));
	CHECK_REASON("two spaces", "two spaces in a row", parse("some  avg10=1", &r));
	CHECK_REASON("space at end", "space at the end of the line", parse("some avg10=1 ", &r));
	CHECK_REASON("tab", "tab in the line: tokens are separated by one space", parse("some\tavg10=1", &r));
	CHECK_REASON("tab in a pair", "tab in the line: tokens are separated by one space", parse("some avg10=1\t", &r));
	CHECK_REASON("CRLF", "carriage return in the line (CRLF line ends?)", parse("some total=0\r", &r));
	CHECK_REASON("control", "control character in the line", parse("so\x1bme total=0", &r));
	CHECK_REASON("NUL", "NUL byte in the line", nestedkeyed_parse_line(nul_line, sizeof(nul_line) - 1, &r));
}

static void test_two_mib_line(void)
{
	size_t pairs = (2u << 20) / 8, len = 4 + pairs * 8, i, n = 0;
	char *line = malloc(len);
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;
	int all_one = 1;

	if (!CHECK("allocated", line != NULL))
		return;
	memcpy(line, "name", 4);
	for (i = 0; i < pairs; i++)
		memcpy(line + 4 + i * 8, " k0000=1", 8);
	if (CHECK_REASON("2 MiB of pairs", NULL, nestedkeyed_parse_line(line, len, &r))) {
		CHECK_UINT("npairs", pairs, r.npairs);
		while (nestedkeyed_next_pair(&r, &p)) {
			n++;
			all_one &= p.value.kind == VALUE_UINT && p.value.number == 1;
		}
		CHECK_UINT("handed out", pairs, n);
		CHECK("every value 1", all_one);
	}
	free(line);
}

/* ---- whole files ---- */

struct psi {
	long lines, refused;
	int have_some, have_full;
	uint64_t some_total, full_total;
	int averages_fixed; /* every avg* pair was fixed-point with two decimals */
};

static void psi_line(const char *line, size_t len, long lineno, void *arg)
{
	struct psi *s = arg;
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;
	const char *reason = nestedkeyed_parse_line(line, len, &r);
	uint64_t total = 0;

	s->lines++;
	if (reason != NULL) {
		s->refused++;
		fprintf(stderr, "line %ld: %s\n", lineno, reason);
		return;
	}
	while (nestedkeyed_next_pair(&r, &p)) {
		if (p.key_len > 3 && memcmp(p.key, "avg", 3) == 0)
			s->averages_fixed &= p.value.kind == VALUE_FIXED && p.value.fraction_len == 2;
		if (p.key_len == 5 && memcmp(p.key, "total", 5) == 0)
			total = p.value.number;
	}
	if (r.name_len == 4 && memcmp(r.name, "some", 4) == 0) {
		s->have_some++;
		s->some_total = total;
	} else if (r.name_len == 4 && memcmp(r.name, "full", 4) == 0) {
		s->have_full++;
		s->full_total = total;
	}
}

static int read_psi(const char *path, struct psi *s)
{
	size_t len;
	char *data = unit_read_file(path, &len);

	memset(s, 0, sizeof(*s));
	s->averages_fixed = 1;
	if (data == NULL)
		return 0;
	unit_each_line(data, len, psi_line, s);
	free(data);
	return 1;
}

static void test_captured_pressure(void)
{
	static const char *const files[] = {"shapes/proc/pressure/cpu", "shapes/proc/pressure/io",
					    "shapes/proc/pressure/memory", "shapes/sys/fs/cgroup/unified/memory.pressure",
					    "shapes/sys/fs/cgroup/unified/io.pressure"};
	char path[4096];
	struct psi s;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (!CHECK(files[i], unit_fixture_path("MEMSCRIPT_FIXTURES", files[i], path, sizeof(path)) != NULL &&
					     read_psi(path, &s)))
			continue;
		CHECK_INT(files[i], 2, s.lines);
		CHECK_INT(files[i], 0, s.refused);
		CHECK(files[i], s.have_some == 1 && s.have_full == 1 && s.averages_fixed);
	}
	if (unit_fixture_path("MEMSCRIPT_FIXTURES", "shapes/proc/pressure/cpu", path, sizeof(path)) && read_psi(path, &s))
		CHECK_UINT("cpu some total as captured", 66046211, s.some_total);
}

static void test_peers_captures(void)
{
	char path[4096];
	struct psi s;
	size_t len;
	char *data;
	struct nestedkeyed_record r;
	struct nestedkeyed_pair p;
	const char *nl;

	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/oomd/tree/cgroup/system.slice/memory.pressure",
			      path, sizeof(path)) == NULL) {
		unit_skip("other projects' PSI and io.stat captures (no ../shared/fixtures)");
		return;
	}
	if (CHECK("oomd memory.pressure", read_psi(path, &s))) {
		CHECK_INT("refused", 0, s.refused);
		CHECK_UINT("some total", UINT64_C(134829384400), s.some_total);
		CHECK_UINT("full total", UINT64_C(128544748770), s.full_total);
	}
	/* below's capture ends without a newline after the full line. */
	if (CHECK("below cpu.pressure", unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/below/inline/cgroupfs/cpu.pressure_test_cpu_pressure_full", path, sizeof(path)) &&
			read_psi(path, &s))) {
		CHECK_INT("two lines, none refused", 2, s.lines - s.refused);
		CHECK_UINT("full total", 34509874, s.full_total);
	}
	if (CHECK("prometheus cpu (some only)", unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/prometheus-procfs/proc/pressure/cpu", path, sizeof(path)) && read_psi(path, &s))) {
		CHECK_INT("one line", 1, s.lines - s.refused);
		CHECK_INT("no full line", 0, s.have_full);
	}
	if (!CHECK("oomd io.stat", unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/oomd/tree/cgroup/system.slice/io.stat", path, sizeof(path)) &&
			(data = unit_read_file(path, &len)) != NULL))
		return;
	nl = memchr(data, '\n', len);
	if (CHECK("first line", nl != NULL) &&
	    CHECK_REASON("accepted", NULL, nestedkeyed_parse_line(data, (size_t)(nl - data), &r))) {
		CHECK_TEXT("device", "1:10", r.name, r.name_len);
		CHECK_UINT("six pairs", 6, r.npairs);
		while (nestedkeyed_next_pair(&r, &p) && !(p.key_len == 6 && memcmp(p.key, "dbytes", 6) == 0))
			;
		CHECK_UINT("dbytes", UINT64_C(5555555555), p.value.number);
	}
	free(data);
}

static void test_live_pressure(void)
{
	struct psi first, root, again;

	if (access("/proc/pressure/memory", R_OK) != 0) {
		unit_skip("no /proc/pressure/memory (kernel without PSI, or psi=0)");
		return;
	}
	if (!CHECK("read", read_psi("/proc/pressure/memory", &first)))
		return;
	CHECK_INT("none refused", 0, first.refused);
	CHECK("some and full", first.have_some == 1 && first.have_full == 1);
	CHECK("averages are fixed-point with two decimals", first.averages_fixed);
	/*
	 * The v2 root cgroup's memory.pressure is the same counters as /proc/pressure/memory (the
	 * root has no cgroup.events): its totals lie between two reads of the system file.
	 */
	if (access("/sys/fs/cgroup/unified/memory.pressure", R_OK) == 0 &&
	    access("/sys/fs/cgroup/unified/cgroup.events", F_OK) != 0 &&
	    read_psi("/sys/fs/cgroup/unified/memory.pressure", &root) && read_psi("/proc/pressure/memory", &again)) {
		CHECK("root some total between two reads of the system's",
		      first.some_total <= root.some_total && root.some_total <= again.some_total);
		CHECK("root full total between two reads of the system's",
		      first.full_total <= root.full_total && root.full_total <= again.full_total);
	}
}

int main(void)
{
	UNIT_RUN(test_psi_line, "a PSI line: name, four pairs, averages fixed-point, total decimal");
	UNIT_RUN(test_io_stat_lines, "io.stat lines, with io.cost's cost.* keys");
	UNIT_RUN(test_values_kept_as_printed, "values: a second '=', overflow, negative, max; a repeated key handed out twice");
	UNIT_RUN(test_reasons, "refused: empty, no name, '=' in the name, no pair, token without '=', empties, spacing, control");
	UNIT_RUN(test_two_mib_line, "a 2 MiB line of 262144 pairs");
	UNIT_RUN(test_captured_pressure, "captured /proc/pressure/* and the v2 root's memory.pressure, io.pressure");
	UNIT_RUN(test_peers_captures, "other projects' PSI and io.stat captures, read in place");
	UNIT_RUN(test_live_pressure, "live /proc/pressure/memory; the v2 root's totals between two reads of it");
	return unit_end();
}
