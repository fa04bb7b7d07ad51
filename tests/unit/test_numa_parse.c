/* test_numa_parse.c: numa_maps and memory.numa_stat lines: written, captured, other projects', and this process's own. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "core/maps_parse.h"
#include "core/numa_parse.h"
#include "core/numparse.h"
#include "unit.h"

static const char *parse(const char *line, struct numa_line *l)
{
	memset(l, 0xa5, sizeof(*l));
	return numa_parse_line(line, strlen(line), l);
}

/* The next token must be a word with this text. */
static void expect_word(struct numa_line *l, const char *text)
{
	struct numa_token t;

	if (!CHECK_INT(text, 1, numa_next_token(l, &t)))
		return;
	CHECK_INT("a word", NUMA_WORD, t.kind);
	CHECK_TEXT("word", text, t.text, t.text_len);
	CHECK("no key for a word", t.key == NULL && t.key_len == 0);
	CHECK_INT("no node", -1, t.node);
	CHECK_TEXT("value is the word", text, t.value.text, t.value.text_len);
}

/* The next token must be key=value of this kind; returns it in *out. */
static int expect_pair(struct numa_line *l, enum numa_token_kind kind, const char *key, const char *value,
		       struct numa_token *out)
{
	struct numa_token t;

	if (!CHECK_INT(key, 1, numa_next_token(l, &t)))
		return 0;
	CHECK_INT(key, kind, t.kind);
	CHECK_TEXT("key", key, t.key, t.key_len);
	CHECK_TEXT("value", value, t.value.text, t.value.text_len);
	CHECK("text is key=value", t.text == t.key && t.text_len == t.key_len + 1 + t.value.text_len);
	if (out != NULL)
		*out = t;
	return 1;
}

static void test_numa_maps_file_line(void)
{
	struct numa_line l;
	struct numa_token t;
	uint64_t start;
	const char *p;

	if (!CHECK_REASON("accepted", NULL,
			  parse("7f2a1c000000 default file=/usr/lib/x86_64-linux-gnu/libc.so.6 mapped=40 mapmax=5 N0=40 kernelpagesize_kB=4", &l)))
		return;
	CHECK_INT("lead is a word", NUMA_WORD, l.lead.kind);
	CHECK_TEXT("lead", "7f2a1c000000", l.lead.text, l.lead.text_len);
	p = l.lead.text;
	CHECK("the address reads as hex", num_parse_hex(&p, l.lead.text + l.lead.text_len, &start) == NUM_OK &&
						   start == UINT64_C(0x7f2a1c000000));
	CHECK_UINT("six tokens after it", 6, l.ntokens);
	CHECK_UINT("one node", 1, l.nnodes);
	expect_word(&l, "default");
	expect_pair(&l, NUMA_PAIR, "file", "/usr/lib/x86_64-linux-gnu/libc.so.6", &t);
	CHECK_INT("path is text", VALUE_TEXT, t.value.kind);
	if (expect_pair(&l, NUMA_PAIR, "mapped", "40", &t))
		CHECK_UINT("mapped", 40, t.value.number);
	expect_pair(&l, NUMA_PAIR, "mapmax", "5", NULL);
	if (expect_pair(&l, NUMA_NODE, "N0", "40", &t)) {
		CHECK_INT("node 0", 0, t.node);
		CHECK_UINT("pages on node 0", 40, t.value.number);
	}
	if (expect_pair(&l, NUMA_PAIR, "kernelpagesize_kB", "4", &t))
		CHECK_UINT("page size kB", 4, t.value.number);
	CHECK_INT("end", 0, numa_next_token(&l, &t));
	CHECK_INT("end again", 0, numa_next_token(&l, &t));
}

static void test_numa_maps_words_and_policies(void)
{
	struct numa_line l;
	struct numa_token t;

	if (CHECK_REASON("heap", NULL, parse("55b7bb74e000 default heap anon=4 dirty=4 active=0 N0=4 kernelpagesize_kB=4", &l))) {
		expect_word(&l, "default");
		expect_word(&l, "heap");
	}
	if (CHECK_REASON("stack", NULL, parse("7ffefbd63000 default stack anon=5 dirty=5 active=1 N0=5 kernelpagesize_kB=4", &l))) {
		expect_word(&l, "default");
		expect_word(&l, "stack");
	}
	if (CHECK_REASON("huge", NULL, parse("7f0000000000 bind:0-1 file=/dev/hugepages/x huge dirty=1 N1=1 kernelpagesize_kB=2048", &l))) {
		expect_word(&l, "bind:0-1");
		expect_pair(&l, NUMA_PAIR, "file", "/dev/hugepages/x", NULL);
		expect_word(&l, "huge");
		expect_pair(&l, NUMA_PAIR, "dirty", "1", NULL);
		if (expect_pair(&l, NUMA_NODE, "N1", "1", &t))
			CHECK_INT("node 1", 1, t.node);
	}
	if (CHECK_REASON("no page in memory", NULL, parse("7fc2d53fe000 default", &l))) {
		CHECK_UINT("one token", 1, l.ntokens);
		CHECK_UINT("no node", 0, l.nnodes);
	}
	if (CHECK_REASON("interleave", NULL, parse("7f0 interleave:0-3 anon=1", &l)))
		expect_word(&l, "interleave:0-3");
	if (CHECK_REASON("prefer", NULL, parse("7f0 prefer:1 anon=1", &l)))
		expect_word(&l, "prefer:1");
	/* mpol_to_str's two names with a space come as two words. */
	if (CHECK_REASON("prefer (many)", NULL, parse("7f0 prefer (many):0-1 anon=1", &l))) {
		expect_word(&l, "prefer");
		expect_word(&l, "(many):0-1");
	}
	if (CHECK_REASON("weighted interleave", NULL, parse("7f0 weighted interleave:0-3 anon=1", &l))) {
		expect_word(&l, "weighted");
		expect_word(&l, "interleave:0-3");
	}
	/* A policy with a mode flag holds '=': a pair. */
	if (CHECK_REASON("bind=static", NULL, parse("7f0 bind=static:0-1 anon=1", &l)))
		expect_pair(&l, NUMA_PAIR, "bind", "static:0-1", NULL);
}

static void test_escaped_and_raw_path_bytes(void)
{
	struct numa_line l;
	char raw[] = "7f0 default file=/tmp/a\rb\x01\x7f\xff mapped=1";

	if (CHECK_REASON("escaped path", NULL, parse("7efd34f5f000 default file=/tmp/memscript-shapes/a\\040b\\075c\\011d mapped=1 active=0 N0=1 kernelpagesize_kB=4", &l))) {
		expect_word(&l, "default");
		expect_pair(&l, NUMA_PAIR, "file", "/tmp/memscript-shapes/a\\040b\\075c\\011d", NULL);
		CHECK_UINT("the path did not split the line", 6, l.ntokens);
	}
	/* Bytes the kernel does not escape in a path are kept: a name cannot hide a mapping. */
	if (CHECK_REASON("raw control bytes in the path", NULL, numa_parse_line(raw, sizeof(raw) - 1, &l))) {
		expect_word(&l, "default");
		expect_pair(&l, NUMA_PAIR, "file", "/tmp/a\rb\x01\x7f\xff", NULL);
	}
}

static void test_numa_stat_lines(void)
{
	struct numa_line l;
	struct numa_token t;

	if (CHECK_REASON("v2", NULL, parse("anon N0=1330585600 N1=1141161984", &l))) {
		CHECK_INT("lead word", NUMA_WORD, l.lead.kind);
		CHECK_TEXT("lead", "anon", l.lead.text, l.lead.text_len);
		CHECK_UINT("two nodes", 2, l.nnodes);
		if (expect_pair(&l, NUMA_NODE, "N0", "1330585600", &t))
			CHECK_UINT("N0 bytes", UINT64_C(1330585600), t.value.number);
		if (expect_pair(&l, NUMA_NODE, "N1", "1141161984", &t))
			CHECK_INT("node 1", 1, t.node);
	}
	if (CHECK_REASON("v1", NULL, parse("total=858067 N0=858067", &l))) {
		CHECK_INT("lead is a pair", NUMA_PAIR, l.lead.kind);
		CHECK_TEXT("lead key", "total", l.lead.key, l.lead.key_len);
		CHECK_UINT("lead value", 858067, l.lead.value.number);
		CHECK_UINT("one token", 1, l.ntokens);
		CHECK_UINT("one node", 1, l.nnodes);
	}
}

static void test_node_keys(void)
{
	static const struct {
		const char *line;
		enum numa_token_kind kind;
		int node;
	} cases[] = {
		{"x N12=3", NUMA_NODE, 12},
		{"x N2147483647=1", NUMA_NODE, 2147483647},
		{"x N01=3", NUMA_PAIR, -1},          /* leading zero: not a node number */
		{"x N=3", NUMA_PAIR, -1},
		{"x Nx=3", NUMA_PAIR, -1},
		{"x N1x=3", NUMA_PAIR, -1},
		{"x n1=3", NUMA_PAIR, -1},
		{"x N2147483648=1", NUMA_PAIR, -1},  /* past INT_MAX */
		{"x N99999999999999999999=1", NUMA_PAIR, -1},
		{"x N1", NUMA_WORD, -1},
	};
	struct numa_line l;
	struct numa_token t;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!CHECK_REASON(cases[i].line, NULL, parse(cases[i].line, &l)))
			continue;
		CHECK_UINT(cases[i].line, cases[i].kind == NUMA_NODE, l.nnodes);
		if (CHECK_INT(cases[i].line, 1, numa_next_token(&l, &t))) {
			CHECK_INT(cases[i].line, cases[i].kind, t.kind);
			CHECK_INT(cases[i].line, cases[i].node, t.node);
		}
	}
	/* The lead is classified the same way. */
	if (CHECK_REASON("node lead", NULL, parse("N3=7 x", &l))) {
		CHECK_INT("lead node", NUMA_NODE, l.lead.kind);
		CHECK_INT("lead node 3", 3, l.lead.node);
		CHECK_UINT("nnodes counts only the tokens after the lead", 0, l.nnodes);
	}
}

static void test_reasons(void)
{
	struct numa_line l;
	char nul_line[] = "7f0 default file=/a\0b";

	CHECK_REASON("empty", "empty line", parse("", &l));
	CHECK_REASON("leading space", "space at the start of the line", parse(" anon N0=1", &l));
	CHECK_REASON("trailing space", "space at the end of the line", parse("anon N0=1 ", &l));
	CHECK_REASON("lead then space", "space at the end of the line", parse("anon ", &l));
	CHECK_REASON("two spaces", "two spaces in a row", parse("anon  N0=1", &l));
	CHECK_REASON("NUL", "NUL byte in the line", numa_parse_line(nul_line, sizeof(nul_line) - 1, &l));
	CHECK_REASON("empty key", "empty key before '='", parse("anon =1", &l));
	CHECK_REASON("empty value", "empty value after '='", parse("anon N0=", &l));
	CHECK_REASON("lead empty key", "empty key before '='", parse("=1 N0=1", &l));
	CHECK_REASON("lead empty value", "empty value after '='", parse("total= N0=1", &l));
}

static void test_duplicates_are_the_callers(void)
{
	struct numa_line l;

	if (CHECK_REASON("N0 twice", NULL, parse("anon N0=1 N0=2", &l))) {
		CHECK_UINT("both counted", 2, l.nnodes);
		expect_pair(&l, NUMA_NODE, "N0", "1", NULL);
		expect_pair(&l, NUMA_NODE, "N0", "2", NULL);
	}
}

static void test_two_mib_line(void)
{
	size_t nodes = (2u << 20) / 16, len, i, n = 0;
	char *line = malloc((2u << 20) + 64), *p;
	struct numa_line l;
	struct numa_token t;
	int in_order = 1;

	if (!CHECK("allocated", line != NULL))
		return;
	p = line + sprintf(line, "anon");
	for (i = 0; i < nodes; i++)
		p += sprintf(p, " N%zu=%zu", i, i * 3);
	len = (size_t)(p - line);
	if (CHECK_REASON("accepted", NULL, numa_parse_line(line, len, &l))) {
		CHECK_UINT("nodes", nodes, l.nnodes);
		while (numa_next_token(&l, &t)) {
			in_order &= t.kind == NUMA_NODE && t.node == (int)n && t.value.number == n * 3;
			n++;
		}
		CHECK_UINT("tokens", nodes, n);
		CHECK("every node in order with its value", in_order);
	}
	free(line);
}

/* ---- whole files ---- */

struct scan {
	long lines, refused;
	int sums_match;         /* every line: the N* values add up to the lead's value (v1) */
	uint64_t total, file, anon, unevictable;
	uint64_t node_tokens;
	uint64_t words;
	int policies_seen;      /* bit per policy shape seen in a numa_maps */
};

static void scan_line(const char *line, size_t len, long lineno, void *arg)
{
	struct scan *s = arg;
	struct numa_line l;
	struct numa_token t;
	const char *reason = numa_parse_line(line, len, &l);
	uint64_t sum = 0;

	s->lines++;
	if (reason != NULL) {
		s->refused++;
		fprintf(stderr, "line %ld: %s\n", lineno, reason);
		return;
	}
	while (numa_next_token(&l, &t)) {
		if (t.kind == NUMA_NODE) {
			s->node_tokens++;
			sum += t.value.number;
		}
		s->words += t.kind == NUMA_WORD;
	}
	if (l.lead.kind == NUMA_PAIR) {
		s->sums_match &= sum == l.lead.value.number;
		if (l.lead.key_len == 5 && memcmp(l.lead.key, "total", 5) == 0)
			s->total = l.lead.value.number;
		if (l.lead.key_len == 4 && memcmp(l.lead.key, "file", 4) == 0)
			s->file = l.lead.value.number;
		if (l.lead.key_len == 4 && memcmp(l.lead.key, "anon", 4) == 0)
			s->anon = l.lead.value.number;
		if (l.lead.key_len == 11 && memcmp(l.lead.key, "unevictable", 11) == 0)
			s->unevictable = l.lead.value.number;
	}
}

static int scan_path(const char *path, struct scan *s)
{
	size_t len;
	char *data = unit_read_file(path, &len);

	memset(s, 0, sizeof(*s));
	s->sums_match = 1;
	if (data == NULL)
		return 0;
	unit_each_line(data, len, scan_line, s);
	free(data);
	return 1;
}

static int scan_fixture(const char *var, const char *rel, struct scan *s)
{
	char path[4096];

	return unit_fixture_path(var, rel, path, sizeof(path)) != NULL && scan_path(path, s);
}

static void test_captured_files(void)
{
	struct scan s;

	if (CHECK("numa_maps", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/proc/self/numa_maps", &s))) {
		CHECK_INT("37 lines", 37, s.lines);
		CHECK_INT("none refused", 0, s.refused);
	}
	if (CHECK("numa_maps-policies", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/proc/self/numa_maps-policies", &s))) {
		CHECK_INT("30 lines", 30, s.lines);
		CHECK_INT("none refused", 0, s.refused);
	}
	/* v1 numa_stat: each line's nodes add up to its lead; total is file + anon + unevictable. */
	if (CHECK("v1 memory.numa_stat", scan_fixture("MEMSCRIPT_FIXTURES", "shapes/sys/fs/cgroup/memory/memory.numa_stat", &s))) {
		CHECK_INT("8 lines", 8, s.lines);
		CHECK_INT("none refused", 0, s.refused);
		CHECK("node values add up to the lead's", s.sums_match);
		CHECK_UINT("total", 4438, s.total);
		CHECK_UINT("total = file + anon + unevictable", s.total, s.file + s.anon + s.unevictable);
	}
}

static void test_peers_captures(void)
{
	static const char *const v2_files[] = {
		"peers/cgroup/telegraf/testdata/v2/memory.numa_stat",
		"peers/cgroup/below/inline/cgroupfs/memory.numa_stat_test_memory_numa_stat_success",
		"peers/cgroup/cmonitor/extracted/fedora35-Linux-5.14.17-x86_64-systemd/sample1/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope/memory.numa_stat",
	};
	struct scan s;
	size_t i;

	if (!scan_fixture("MEMSCRIPT_SHARED_FIXTURES", v2_files[0], &s)) {
		unit_skip("other projects' memory.numa_stat captures (no ../shared/fixtures)");
		return;
	}
	for (i = 0; i < sizeof(v2_files) / sizeof(v2_files[0]); i++) {
		if (!CHECK(v2_files[i], scan_fixture("MEMSCRIPT_SHARED_FIXTURES", v2_files[i], &s)))
			continue;
		CHECK_INT(v2_files[i], 0, s.refused);
		CHECK(v2_files[i], s.lines > 10 && s.node_tokens >= (uint64_t)s.lines);
	}
	/* below's capture: 27 lines (the last without a newline), 4 nodes each. */
	if (scan_fixture("MEMSCRIPT_SHARED_FIXTURES", v2_files[1], &s)) {
		CHECK_INT("below: 27 lines", 27, s.lines);
		CHECK_UINT("below: 4 nodes a line", 27 * 4, s.node_tokens);
	}
	if (CHECK("telegraf v1", scan_fixture("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/telegraf/testdata/memory/memory.numa_stat", &s))) {
		CHECK_INT("refused", 0, s.refused);
		CHECK("node values add up", s.sums_match);
		CHECK_UINT("total", 858067, s.total);
	}
	if (CHECK("cmonitor v1, two nodes", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/cmonitor/extracted/centos7-Linux-3.10.0-x86_64-systemd/sample1/sys/fs/cgroup/memory/user.slice/memory.numa_stat", &s))) {
		CHECK_INT("refused", 0, s.refused);
		CHECK("N0 + N1 = total on every line", s.sums_match);
		CHECK_UINT("total", 14084435, s.total);
		CHECK_UINT("total = file + anon + unevictable", s.total, s.file + s.anon + s.unevictable);
	}
	if (CHECK("telegraf hugetlb numa_stat", scan_fixture("MEMSCRIPT_SHARED_FIXTURES",
			"peers/cgroup/telegraf/testdata/v2/hugetlb.2MB.numa_stat", &s))) {
		CHECK_INT("one line", 1, s.lines - s.refused);
		CHECK_UINT("two nodes", 2, s.node_tokens);
	}
}

/* ---- this process's own numa_maps ---- */

/* The start addresses of data's lines, parsed by parse_start; returns how many (at most max). */
static size_t starts_of(const char *data, size_t len, uint64_t *starts, size_t max, int numa)
{
	const char *p = data, *end = data + len;
	size_t n = 0;

	while (p < end && n < max) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		if (numa) {
			struct numa_line l;
			const char *q;
			if (!CHECK_REASON("live numa_maps line accepted", NULL, numa_parse_line(p, line_len, &l)))
				return 0;
			q = l.lead.text;
			if (!CHECK("address in hex", num_parse_hex(&q, l.lead.text + l.lead.text_len, &starts[n]) == NUM_OK))
				return 0;
		} else {
			struct maps_header h;
			if (maps_parse_header(p, line_len, &h) != NULL)
				return 0;
			/* The gate area is printed by maps after the last mapping, not by numa_maps. */
			if (h.path_len == 10 && memcmp(h.path, "[vsyscall]", 10) == 0) {
				p = nl ? nl + 1 : end;
				continue;
			}
			starts[n] = h.vm_start;
		}
		n++;
		p = nl ? nl + 1 : end;
	}
	return n;
}

static void test_live_numa_maps_against_maps(void)
{
	enum { MAX = 4096, BUF = 1 << 20 };
	static uint64_t maps_starts[MAX], numa_starts[MAX], again_starts[MAX];
	static char maps[BUF], numa[BUF], again[BUF];
	size_t maps_len = 0, numa_len = 0, again_len = 0, n_maps = 0, n_numa = 0, n_again = 0;
	int attempt;

	if (access("/proc/self/numa_maps", R_OK) != 0) {
		unit_skip("no /proc/self/numa_maps (kernel without CONFIG_NUMA)");
		return;
	}
	/*
	 * numa_maps has one line per mapping, as maps: same start addresses, in the same order, but
	 * for the [vsyscall] gate area (Linux 6.18 prints it in maps only). The three reads go into
	 * buffers written beforehand, so nothing is mapped between them, not even by a sanitizer.
	 */
	memset(maps, 1, sizeof(maps));
	memset(numa, 1, sizeof(numa));
	memset(again, 1, sizeof(again));
	for (attempt = 0; attempt < 5; attempt++) {
		int ok = unit_read_into("/proc/self/maps", maps, sizeof(maps), &maps_len) &&
			 unit_read_into("/proc/self/numa_maps", numa, sizeof(numa), &numa_len) &&
			 unit_read_into("/proc/self/maps", again, sizeof(again), &again_len);
		if (!CHECK("read maps, numa_maps, maps", ok))
			return;
		n_maps = starts_of(maps, maps_len, maps_starts, MAX, 0);
		n_numa = starts_of(numa, numa_len, numa_starts, MAX, 1);
		n_again = starts_of(again, again_len, again_starts, MAX, 0);
		/* Only a read between two identical reads of maps is compared. */
		if (maps_len == again_len && memcmp(maps, again, maps_len) == 0)
			break;
	}
	if (!CHECK("maps stayed the same around one read of numa_maps", attempt < 5))
		return;
	CHECK(">= 5 mappings", n_maps >= 5 && n_again == n_maps);
	CHECK_UINT("as many lines as maps", n_maps, n_numa);
	CHECK("the same start addresses", n_maps == n_numa && memcmp(maps_starts, numa_starts, n_maps * sizeof(uint64_t)) == 0);
}

/* The parsed numa_maps line of the mapping at start, copied into line (NUL-terminated). */
static int numa_line_of(uintptr_t start, char *line, size_t size)
{
	size_t len;
	char *data = unit_read_file("/proc/self/numa_maps", &len);
	const char *p, *end;
	int found = 0;

	if (data == NULL)
		return 0;
	for (p = data, end = data + len; p < end && !found;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		const char *q = p;
		uint64_t addr;
		if (num_parse_hex(&q, p + line_len, &addr) == NUM_OK && addr == start && line_len < size) {
			memcpy(line, p, line_len);
			line[line_len] = '\0';
			found = 1;
		}
		p = nl ? nl + 1 : end;
	}
	free(data);
	return found;
}

#define MPOL_BIND_MODE 2
#define MPOL_PREFERRED_MANY_MODE 5
#define MPOL_F_STATIC_NODES_FLAG (1 << 15)

/* Touches pages of an area with a policy (mode -1: none) and checks what numa_maps says of it. */
static void check_area(int mode, const char *want_policy_1, const char *want_policy_2)
{
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = 8, touched = 5, i, n_pages = 0;
	unsigned long nodemask = 1;
	char line[4096];
	struct numa_line l;
	struct numa_token t;
	uint64_t anon = 0;
	/* Between two inaccessible pages, so the kernel merges the area with no neighbour. */
	char *reserved = mmap(NULL, (pages + 2) * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *area = reserved + page;

	if (!CHECK("mmap", reserved != MAP_FAILED))
		return;
	if (!CHECK("mprotect", mprotect(area, pages * (size_t)page, PROT_READ | PROT_WRITE) == 0)) {
		munmap(reserved, (pages + 2) * (size_t)page);
		return;
	}
	madvise(area, pages * (size_t)page, MADV_NOHUGEPAGE);
	if (mode >= 0 && syscall(SYS_mbind, area, pages * (size_t)page, mode, &nodemask, 64, 0) != 0) {
		fprintf(stderr, "mbind mode %#x: %s: policy not checked\n", (unsigned)mode, strerror(errno));
		want_policy_1 = NULL;
	}
	for (i = 0; i < touched; i++)
		area[i * (size_t)page] = 1;
	if (CHECK("the area's numa_maps line", numa_line_of((uintptr_t)area, line, sizeof(line))) &&
	    CHECK_REASON(line, NULL, numa_parse_line(line, strlen(line), &l))) {
		if (want_policy_1 != NULL) {
			expect_word(&l, want_policy_1);
			if (want_policy_2 != NULL)
				expect_word(&l, want_policy_2);
		}
		while (numa_next_token(&l, &t)) {
			if (t.kind == NUMA_NODE)
				n_pages += t.value.number;
			if (t.kind == NUMA_PAIR && t.key_len == 4 && memcmp(t.key, "anon", 4) == 0)
				anon = t.value.number;
		}
		CHECK_UINT("anon= is the pages touched", touched, anon);
		CHECK_UINT("the N<node>= counts add up to the pages touched", touched, n_pages);
	}
	munmap(reserved, (pages + 2) * (size_t)page);
}

static void test_live_area_counts_and_policies(void)
{
	if (access("/proc/self/numa_maps", R_OK) != 0) {
		unit_skip("no /proc/self/numa_maps (kernel without CONFIG_NUMA)");
		return;
	}
	check_area(-1, "default", NULL);
	check_area(MPOL_PREFERRED_MANY_MODE, "prefer", "(many):0");
	{
		/* bind with MPOL_F_STATIC_NODES prints "bind=static:0": a pair, checked here by hand. */
		long page = sysconf(_SC_PAGESIZE);
		unsigned long nodemask = 1;
		char line[4096];
		struct numa_line l;
		char *area = mmap(NULL, 2 * (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (!CHECK("mmap", area != MAP_FAILED))
			return;
		if (syscall(SYS_mbind, area, 2 * (size_t)page, MPOL_BIND_MODE | MPOL_F_STATIC_NODES_FLAG, &nodemask, 64, 0) == 0) {
			area[0] = 1;
			if (CHECK("bound area's line", numa_line_of((uintptr_t)area, line, sizeof(line))) &&
			    CHECK_REASON(line, NULL, numa_parse_line(line, strlen(line), &l)))
				expect_pair(&l, NUMA_PAIR, "bind", "static:0", NULL);
		}
		munmap(area, 2 * (size_t)page);
	}
}

int main(void)
{
	UNIT_RUN(test_numa_maps_file_line, "a numa_maps file line: address word, policy, file=, counts, N0=, page size");
	UNIT_RUN(test_numa_maps_words_and_policies, "numa_maps words and every policy shape mpol_to_str prints");
	UNIT_RUN(test_escaped_and_raw_path_bytes, "file= paths as printed: octal escapes kept, raw control bytes kept");
	UNIT_RUN(test_numa_stat_lines, "memory.numa_stat: v2 name then nodes, v1 total= then nodes");
	UNIT_RUN(test_node_keys, "node keys: N and a number without leading zero up to INT_MAX");
	UNIT_RUN(test_reasons, "refused: empty, misplaced spaces, NUL, empty key or value");
	UNIT_RUN(test_duplicates_are_the_callers, "a node printed twice is handed out twice (the caller refuses repeats)");
	UNIT_RUN(test_two_mib_line, "a 2 MiB line of 131072 nodes");
	UNIT_RUN(test_captured_files, "captured numa_maps and v1 memory.numa_stat (nodes add up, total = file + anon + unevictable)");
	UNIT_RUN(test_peers_captures, "other projects' memory.numa_stat captures, v1 and v2, read in place");
	UNIT_RUN(test_live_numa_maps_against_maps, "live numa_maps: one line per mapping of /proc/self/maps but [vsyscall], same addresses");
	UNIT_RUN(test_live_area_counts_and_policies, "live: an area's anon= and N<node>= equal the pages touched; its policy as set with mbind");
	return unit_end();
}
