/* test_smaps_sums.c: smaps added up by path: sums in bytes, keys learned by place, the lines refused. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/smaps_sums.h"
#include "unit.h"

/* Starts a sum of the fields named in the space-separated list. */
static const char *start(struct smaps_sums *s, const char *list)
{
	static char copy[256];
	const char *names[SMAPS_SUMS_FIELDS_MAX + 1];
	size_t lens[SMAPS_SUMS_FIELDS_MAX + 1];
	int n = 0;
	char *word;

	strcpy(copy, list);
	for (word = strtok(copy, " "); word != NULL && n <= SMAPS_SUMS_FIELDS_MAX; word = strtok(NULL, " ")) {
		names[n] = word;
		lens[n++] = strlen(word);
	}
	return smaps_sums_init(s, names, lens, n);
}

/* 1: add hands text to smaps_sums_span whole, as a stream does a chunk; 0: line by line. */
static int by_span;

/* Adds every line of text; returns the result of the first line that is not 0, with its number. */
static int add(struct smaps_sums *s, const char *text, int *lineno, const char **reason)
{
	const char *p = text;
	int r;

	*lineno = 0;
	*reason = NULL;
	if (by_span) {
		long n = 0;
		r = smaps_sums_span(s, text, strlen(text), &n, reason);
		*lineno = (int)n;
		return r;
	}
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		++*lineno;
		if ((r = smaps_sums_line(s, p, len, reason)) != 0)
			return r;
		p += len + (nl != NULL);
	}
	return 0;
}

static const struct smaps_sums_group *group(const struct smaps_sums *s, const char *path)
{
	size_t i;

	for (i = 0; i < s->ngroups; i++)
		if (s->groups[i].path_len == strlen(path) && memcmp(s->groups[i].path, path, strlen(path)) == 0)
			return &s->groups[i];
	return NULL;
}

static void test_sums_by_path(void)
{
	struct smaps_sums s;
	const struct smaps_sums_group *a, *b;
	const char *reason;
	int lineno;

	CHECK_REASON("fields", NULL, start(&s, "Rss Pss Swap Locked THPeligible"));
	/* the second mapping has the first one's keys in another order, one left out and one more */
	CHECK_INT("added", 0, add(&s,
		"00400000-00401000 r-xp 00000000 fd:00 12  /a\n"
		"Rss:                   4 kB\nPss:                   2 kB\nSwap:                  0 kB\n"
		"THPeligible:    1\n"
		"00500000-00501000 rw-p 00000000 00:00 0 \n"
		"Pss:                   4 kB\nRss:                   8 kB\nLocked:                4 kB\n"
		"VmFlags: rd wr mr mw me ac\n"
		"00600000-00601000 r-xp 00000000 fd:00 12  /a\n"
		"Rss:                  12 kB\nPss:                  12 kB\nSwap:                  4 kB\n"
		"THPeligible:    0\n", &lineno, &reason));
	CHECK_UINT("groups", 2, s.ngroups);
	a = group(&s, "/a");
	b = group(&s, "");
	if (!CHECK("both paths", a != NULL && b != NULL))
		goto out;
	CHECK_TEXT("first met first", "/a", s.groups[0].path, s.groups[0].path_len);
	CHECK_UINT("/a mappings", 2, a->maps);
	CHECK_UINT("/a Rss", 16384, a->sums[0]);
	CHECK_UINT("/a Pss", 14336, a->sums[1]);
	CHECK_UINT("/a Swap", 4096, a->sums[2]);
	CHECK_INT("/a Locked never printed", 0, a->seen[3]);
	CHECK_UINT("/a THPeligible, a plain number", 1, a->sums[4]);
	CHECK_UINT("anonymous Rss", 8192, b->sums[0]);
	CHECK_UINT("anonymous Locked", 4096, b->sums[3]);
	CHECK_INT("anonymous Swap never printed", 0, b->seen[2]);
out:
	smaps_sums_free(&s);
}

static void test_lines_refused(void)
{
	static const char header[] = "00400000-00401000 r-xp 00000000 fd:00 12  /a\n";
	static const struct {
		const char *body;
		int line;
		const char *reason;
	} cases[] = {
		{"Rss:  4 kB\nno colon here\n", 3, "no ':' after the key"},
		{"Rss:  4 kB\nRss:  4 kB\n", 3, "duplicate key 'Rss'"},
		{"Rss:  4 kB\nPss:  2 kB\n" "00500000-00501000 r-xp 00000000 fd:00 12  /a\n" "Rss:  many kB\n", 5,
		 "Rss: a number expected, to be summed"},
		{"Rss:  4 kB\nPss:  2 kB\n" "00500000-00501000 r-xp 00000000 fd:00 12  /a\n" "Rss:  4 kB\nRss:  4 kB\n", 6,
		 "duplicate key 'Rss'"},
		{"Rss:  18014398509481984 kB\n", 2, "Rss: the sum does not fit 64 bits"},
		{"Rss:  99999999999999999999 kB\n", 2, "Rss: the sum does not fit 64 bits"},
		/* the key learned at its place, then a value that is no number there: the line taken the slow way */
		{"Rss:  4 kB\nPss:  2 kB\n" "00500000-00501000 r-xp 00000000 fd:00 12  /a\n" "Rss:  4 kBx\n", 5,
		 "Rss: a number expected, to be summed"},
		{"Rss:  4 kB\nPss:  2 kB\n" "00500000-00501000 r-xp 00000000 fd:00 12  /a\n" "Rss:  04\n", 5,
		 "Rss: a number expected, to be summed"},
		/* the last line with no newline */
		{"Rss:  4 kB\nPss:  2 kB\n" "00500000-00501000 r-xp 00000000 fd:00 12  /a\n" "Rss:  4 kB\nRss:  4 kB", 6,
		 "duplicate key 'Rss'"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct smaps_sums s;
		char text[512];
		const char *reason;
		int lineno;
		strcpy(text, header);
		strcat(text, cases[i].body);
		start(&s, "Rss Pss");
		CHECK_INT(cases[i].body, -1, add(&s, text, &lineno, &reason));
		CHECK_INT(cases[i].body, cases[i].line, lineno);
		CHECK_REASON(cases[i].body, cases[i].reason, reason);
		smaps_sums_free(&s);
	}
	{
		struct smaps_sums s;
		const char *reason;
		int lineno;
		start(&s, "Rss");
		CHECK_INT("a field first", -1, add(&s, "Rss:  4 kB\n", &lineno, &reason));
		CHECK_REASON("a field first", "field before the first mapping header", reason);
		smaps_sums_free(&s);
	}
}

/* Adds len bytes of text (NUL bytes allowed) one way or the other, as add does. */
static int add_bytes(struct smaps_sums *s, const char *text, size_t len, int *lineno, const char **reason)
{
	const char *p = text, *end = text + len;
	int r;

	*lineno = 0;
	*reason = NULL;
	if (by_span) {
		long n = 0;
		r = smaps_sums_span(s, text, len, &n, reason);
		*lineno = (int)n;
		return r;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		++*lineno;
		if ((r = smaps_sums_line(s, p, n, reason)) != 0)
			return r;
		p += n + (nl != NULL);
	}
	return 0;
}

static void test_unsummed_lines(void)
{
	/* Size and VmFlags learned in the first mapping, not summed: any value in the second, of any length */
	static const char ok[] = "00400000-00401000 r-xp 00000000 fd:00 12  /a\n"
				 "Size:                  4 kB\nRss:                   4 kB\nVmFlags: rd\n"
				 "00500000-00502000 r-xp 00000000 fd:00 12  /a\n"
				 "Size:   many\nRss:                   8 kB\nVmFlags: rd ex mr mw me\n";
	/* a NUL in such a value is refused as kv_parse_line refuses it */
	static const char nul[] = "00400000-00401000 r-xp 00000000 fd:00 12  /a\n"
				  "Size:                  4 kB\nRss:                   4 kB\n"
				  "00500000-00502000 r-xp 00000000 fd:00 12  /a\n"
				  "Size:                 \0 kB\nRss:                   8 kB\n";
	struct smaps_sums s;
	const struct smaps_sums_group *g;
	const char *reason;
	int lineno;

	start(&s, "Rss");
	CHECK_INT("taken", 0, add_bytes(&s, ok, sizeof(ok) - 1, &lineno, &reason));
	CHECK_INT("every line", 8, lineno);
	if ((g = group(&s, "/a")) != NULL) {
		CHECK_UINT("two mappings", 2, g->maps);
		CHECK_UINT("Rss in bytes", 12 * 1024, g->sums[0]);
	} else {
		CHECK_INT("group /a", 1, 0);
	}
	smaps_sums_free(&s);
	start(&s, "Rss");
	CHECK_INT("NUL refused", -1, add_bytes(&s, nul, sizeof(nul) - 1, &lineno, &reason));
	CHECK_INT("at its line", 5, lineno);
	CHECK_REASON("why", "NUL byte in the value", reason);
	smaps_sums_free(&s);
}

static void test_fields_refused(void)
{
	struct smaps_sums s;

	CHECK_REASON("none", "1 to 16 field names expected", start(&s, ""));
	CHECK_REASON("seventeen", "1 to 16 field names expected", start(&s, "a b c d e f g h i j k l m n o p q"));
	CHECK_REASON("twice", "a field named twice", start(&s, "Rss Pss Rss"));
	CHECK_REASON("32 bytes", "field names of 1 to 31 bytes expected", start(&s, "abcdefghijklmnopqrstuvwxyz012345"));
	CHECK_REASON("31 bytes", NULL, start(&s, "abcdefghijklmnopqrstuvwxyz01234"));
}

int main(void)
{
	UNIT_RUN(test_sums_by_path, "sums in bytes by path, keys in another order in the next mapping");
	UNIT_RUN(test_lines_refused, "the lines refused, with their line and reason, where the order was learned too");
	UNIT_RUN(test_unsummed_lines, "lines not summed: any value, a NUL refused at its line");
	by_span = 1;
	UNIT_RUN(test_sums_by_path, "the same sums from the lines handed over as one span");
	UNIT_RUN(test_unsummed_lines, "the same lines not summed from one span: passed over by their key");
	UNIT_RUN(test_lines_refused, "the same lines refused, at the same line, from one span");
	by_span = 0;
	UNIT_RUN(test_fields_refused, "field lists refused: none, too many, twice, too long");
	return unit_end();
}
