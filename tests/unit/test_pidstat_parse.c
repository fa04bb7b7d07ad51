/* test_pidstat_parse.c: /proc/PID/stat: fixtures, edge cases with the reasons proc.stat gives, and this process's own. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "core/pidstat_parse.h"
#include "unit.h"

/* Index of the field named name in pidstat_field_names. */
static size_t field_index(const char *name)
{
	size_t i;

	for (i = 0; i < PIDSTAT_FIELDS; i++)
		if (strcmp(pidstat_field_names[i], name) == 0)
			return i;
	fprintf(stderr, "no field %s\n", name);
	abort();
}

static const struct pidstat_field *field(const struct pidstat *s, const char *name)
{
	return &s->fields[field_index(name)];
}

/* The unsigned value of a field that must be a plain number. */
static int check_number(const struct pidstat *s, const char *name, uint64_t want)
{
	const struct pidstat_field *f = field(s, name);

	return CHECK_INT(name, 0, f->negative) && CHECK_INT(name, 0, f->overflowed) && CHECK_UINT(name, want, f->magnitude);
}

static const char *parse(const char *text, struct pidstat *s)
{
	memset(s, 0xa5, sizeof(*s));
	return pidstat_parse(text, strlen(text), s);
}

/* Whether prometheus/procfs's capture rel is in ../shared/fixtures; if not, the test is skipped. */
static int have_capture(const char *rel)
{
	char path[4096];

	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", rel, path, sizeof(path)) != NULL)
		return 1;
	unit_skip("prometheus/procfs's captures (no ../shared/fixtures)");
	return 0;
}

static const char *parse_fixture(const char *rel, struct pidstat *s, char **data)
{
	char path[4096];
	size_t len;

	*data = NULL;
	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", rel, path, sizeof(path)) == NULL ||
	    (*data = unit_read_file(path, &len)) == NULL)
		return "fixture not found";
	memset(s, 0xa5, sizeof(*s));
	return pidstat_parse(*data, len, s);
}

static void test_names_table(void)
{
	CHECK_TEXT("field 3 is state", "state", pidstat_field_names[0], strlen(pidstat_field_names[0]));
	CHECK_UINT("rss is field 24", 24 - 3, field_index("rss"));
	CHECK_UINT("starttime is field 22", 22 - 3, field_index("starttime"));
	CHECK_UINT("exit_code is field 52", 52 - 3, field_index("exit_code"));
}

static void test_fixture_vim(void)
{
	struct pidstat s;
	char *data;

	if (!have_capture("procfs/proc/26231/stat"))
		return;
	if (!CHECK_REASON("procfs/proc/26231/stat", NULL, parse_fixture("procfs/proc/26231/stat", &s, &data))) {
		free(data);
		return;
	}
	CHECK_UINT("pid", 26231, s.pid);
	CHECK_TEXT("pid digits", "26231", s.pid_digits, s.pid_len);
	CHECK_TEXT("comm", "vim", s.comm, s.comm_len);
	CHECK_UINT("all 50 fields", PIDSTAT_FIELDS, s.nfields);
	CHECK_TEXT("state", "R", field(&s, "state")->text, field(&s, "state")->text_len);
	check_number(&s, "ppid", 5392);
	check_number(&s, "num_threads", 1);
	check_number(&s, "starttime", 82375);
	check_number(&s, "vsize", 56274944);
	check_number(&s, "rss", 1981);
	check_number(&s, "rsslim", UINT64_MAX);
	check_number(&s, "exit_code", 0);
	free(data);
}

static void test_fixture_negative_fields(void)
{
	struct pidstat s;
	const struct pidstat_field *f;
	char *data;

	if (!have_capture("procfs/proc/26232/stat"))
		return;
	if (!CHECK_REASON("procfs/proc/26232/stat", NULL, parse_fixture("procfs/proc/26232/stat", &s, &data))) {
		free(data);
		return;
	}
	CHECK_TEXT("comm", "ata_sff", s.comm, s.comm_len);
	f = field(&s, "tty_nr");
	CHECK("tty_nr 0", f->negative == 0 && f->magnitude == 0);
	f = field(&s, "tpgid");
	CHECK("tpgid -1", f->negative == 1 && f->magnitude == 1);
	f = field(&s, "cutime");
	CHECK("cutime -2^63: negative, magnitude 2^63", f->negative == 1 && f->magnitude == UINT64_C(9223372036854775808) && !f->overflowed);
	CHECK_TEXT("cutime text", "-9223372036854775808", f->text, f->text_len);
	f = field(&s, "nice");
	CHECK("nice -20", f->negative == 1 && f->magnitude == 20);
	check_number(&s, "cstime", UINT64_C(9223372036854775807));
	free(data);
}

static void test_comm_ends_at_last_paren(void)
{
	struct pidstat s;
	char *data;

	if (!have_capture("procfs/proc/27079/stat"))
		return;
	if (CHECK_REASON("27079", NULL, parse_fixture("procfs/proc/27079/stat", &s, &data)))
		CHECK_TEXT("comm", "pthread_load", s.comm, s.comm_len);
	free(data);
	if (CHECK_REASON("parentheses and spaces", NULL, parse("1020 ((a b ) ( c d) ) R 28378 1020\n", &s))) {
		CHECK_TEXT("comm up to the last ')'", "(a b ) ( c d) ", s.comm, s.comm_len);
		CHECK_TEXT("state", "R", s.fields[0].text, s.fields[0].text_len);
		CHECK_UINT("two fields", 3, s.nfields);
	}
	if (CHECK_REASON("newline in comm", NULL, parse("42 (a\nb) S 1 42\n", &s))) {
		CHECK_TEXT("comm", "a\nb", s.comm, s.comm_len);
		check_number(&s, "ppid", 1);
	}
	if (CHECK_REASON("empty comm", NULL, parse("7 () S 1", &s)))
		CHECK_UINT("empty", 0, s.comm_len);
}

static void test_reasons_as_proc_stat_gives_them(void)
{
	struct pidstat s;

	CHECK_REASON("empty", "comm in parentheses expected after the pid", parse("", &s));
	CHECK_INT("line 1", 1, s.error_line);
	CHECK("no field", s.error_field == NULL);
	CHECK_REASON("no parenthesis", "comm in parentheses expected after the pid", parse("12 S 1", &s));
	CHECK_REASON("')' before '('", "comm in parentheses expected after the pid", parse("12 )x( S", &s));
	/* Text after the line: the line number counts the newlines of comm. */
	CHECK_REASON("junk after", "unexpected text after the first line", parse("42 (a) S 1\njunk\n", &s));
	CHECK_INT("line 2", 2, s.error_line);
	CHECK_REASON("junk after a comm with a newline", "unexpected text after the first line", parse("42 (a\nb) S 1\njunk\n", &s));
	CHECK_INT("line 3", 3, s.error_line);
	CHECK_REASON("no pid", "pid expected", parse("(a) S", &s));
	CHECK_REASON("pid overflow", "pid expected", parse("99999999999999999999 (a) S", &s));
	CHECK_REASON("no space after ')'", "space expected before the field", parse("1 (a)S 1", &s));
	CHECK_TEXT("field named", "state", s.error_field, s.error_field ? strlen(s.error_field) : 0);
	CHECK_INT("line 1", 1, s.error_line);
	CHECK_REASON("two spaces", "decimal number expected", parse("1 (a) S  1", &s));
	CHECK_TEXT("ppid named", "ppid", s.error_field, s.error_field ? strlen(s.error_field) : 0);
	CHECK_REASON("letters", "decimal number expected", parse("1 (a) S 1 x", &s));
	CHECK_TEXT("pgrp named", "pgrp", s.error_field, s.error_field ? strlen(s.error_field) : 0);
	CHECK_REASON("a lone '-'", "decimal number expected", parse("1 (a) S -", &s));
	CHECK_REASON("space at the end", "decimal number expected", parse("1 (a) S 1 ", &s));
	CHECK_TEXT("pgrp named", "pgrp", s.error_field, s.error_field ? strlen(s.error_field) : 0);
}

static void test_lenient_where_proc_stat_is(void)
{
	struct pidstat s;
	size_t len;
	char *line, *p;
	int i;

	/* Digits then anything before '(' still give the pid, as proc.stat reads it. */
	if (CHECK_REASON("pid followed by letters", NULL, parse("12x(a) S", &s)))
		CHECK_UINT("pid", 12, s.pid);
	if (CHECK_REASON("fields stop early", NULL, parse("1 (a) S 1 2", &s)))
		CHECK_UINT("three fields", 3, s.nfields);
	if (CHECK_REASON("state only", NULL, parse("1 (a)", &s)))
		CHECK_UINT("no field", 0, s.nfields);
	if (CHECK_REASON("empty state", NULL, parse("1 (a) ", &s))) {
		CHECK_UINT("state present, empty", 1, s.nfields);
		CHECK_UINT("empty", 0, s.fields[0].text_len);
	}
	if (CHECK_REASON("one newline at the end", NULL, parse("1 (a) S 1\n", &s)))
		check_number(&s, "ppid", 1);
	/* A field past 64 bits and a negative one past 64 bits keep their digits. */
	if (CHECK_REASON("overflowed fields", NULL, parse("1 (a) S 99999999999999999999 -99999999999999999999", &s))) {
		CHECK("ppid overflowed", s.fields[1].overflowed && !s.fields[1].negative && s.fields[1].magnitude == UINT64_MAX);
		CHECK("pgrp negative overflowed", s.fields[2].overflowed && s.fields[2].negative);
		CHECK_TEXT("digits kept", "-99999999999999999999", s.fields[2].text, s.fields[2].text_len);
	}
	/* More fields than proc(5) names (a newer kernel's): the rest of the line is ignored. */
	line = malloc(4096);
	if (!CHECK("allocated", line != NULL))
		return;
	p = line + sprintf(line, "5 (x) S");
	for (i = 1; i < 60; i++)
		p += sprintf(p, " %d", i);
	len = (size_t)(p - line);
	memset(&s, 0, sizeof(s));
	if (CHECK_REASON("60 fields", NULL, pidstat_parse(line, len, &s))) {
		CHECK_UINT("the 50 named", PIDSTAT_FIELDS, s.nfields);
		check_number(&s, "exit_code", 49);
	}
	strcpy(p, " junk");
	CHECK_REASON("text past the last named field is not read", NULL, pidstat_parse(line, strlen(line), &s));
	free(line);
}

static void test_pointers_stay_inside(void)
{
	/* Exactly the bytes given: no NUL after them, so AddressSanitizer sees any read past. */
	static const char text[] = "1 (a) S -";
	char *copy = malloc(sizeof(text) - 1);
	struct pidstat s;

	if (!CHECK("allocated", copy != NULL))
		return;
	memcpy(copy, text, sizeof(text) - 1);
	CHECK_REASON("a lone '-' at the very end", "decimal number expected", pidstat_parse(copy, sizeof(text) - 1, &s));
	memcpy(copy, "1 (a) S ", 8);
	CHECK_REASON("an empty number at the very end", "decimal number expected", pidstat_parse(copy, 8, &s));
	memcpy(copy, "1 (a) ", 6);
	CHECK_REASON("an empty state at the very end", NULL, pidstat_parse(copy, 6, &s));
	CHECK_UINT("an empty state", 0, s.fields[0].text_len);
	free(copy);
	CHECK_REASON("NULL and 0", "comm in parentheses expected after the pid", pidstat_parse(NULL, 0, &s));
}

static void test_live_self(void)
{
	char name[16] = "a) (b\nc";
	char before[17] = {0};
	struct pidstat s;
	size_t len;
	char *data;

	/* A name with a ')' and a newline in it, as any process may set. */
	prctl(PR_GET_NAME, before, 0, 0, 0);
	if (!CHECK("PR_SET_NAME", prctl(PR_SET_NAME, name, 0, 0, 0) == 0))
		return;
	data = unit_read_file("/proc/self/stat", &len);
	prctl(PR_SET_NAME, before, 0, 0, 0);
	if (!CHECK("read /proc/self/stat", data != NULL))
		return;
	if (CHECK_REASON("accepted", NULL, pidstat_parse(data, len, &s))) {
		CHECK_UINT("pid", (uint64_t)getpid(), s.pid);
		CHECK_TEXT("comm as set", name, s.comm, s.comm_len);
		CHECK_TEXT("running", "R", s.fields[0].text, s.fields[0].text_len);
		check_number(&s, "ppid", (uint64_t)getppid());
		check_number(&s, "num_threads", 1);
		check_number(&s, "pgrp", (uint64_t)getpgrp());
		CHECK_UINT("Linux 3.5 on prints all 50 fields", PIDSTAT_FIELDS, s.nfields);
	}
	free(data);
}

int main(void)
{
	UNIT_RUN(test_names_table, "the names table: proc(5) field numbers");
	UNIT_RUN(test_fixture_vim, "fixture 26231 (vim): pid, comm, numbers by name");
	UNIT_RUN(test_fixture_negative_fields, "fixture 26232: negative fields, -2^63, 2^63-1");
	UNIT_RUN(test_comm_ends_at_last_paren, "comm ends at the last ')': parentheses, spaces, newline, empty");
	UNIT_RUN(test_reasons_as_proc_stat_gives_them, "the reasons, lines and field names proc.stat gives");
	UNIT_RUN(test_lenient_where_proc_stat_is, "accepted as proc.stat accepts: short lines, overflow, fields past the 50th");
	UNIT_RUN(test_pointers_stay_inside, "nothing read past the bytes given");
	UNIT_RUN(test_live_self, "this process's stat, with a ')' and a newline in its name");
	return unit_end();
}
