/*
 * fuzz_smaps_sums.c: smaps_sums_line over every line, against a reference that parses each line
 * the slow way (kv_parse_line, a linear search of paths): the keys learned by place must change
 * nothing: the same line refused for the same reason, or the same groups and sums. And
 * smaps_sums_span over the whole input must give what the lines one by one gave.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/keyval_parse.h"
#include "core/maps_parse.h"
#include "core/smaps_sums.h"

static const char *const FIELDS[] = {"Rss", "Pss", "Swap", "THPeligible", "VmFlags"};
#define NFIELDS 5
#define GROUPS_MAX 64

#define PATH_MAX_REF 256

struct ref_group {
	char path[PATH_MAX_REF];
	size_t path_len;
	uint64_t maps;
	uint64_t sums[NFIELDS];
	unsigned char seen[NFIELDS];
};

struct reference {
	struct ref_group groups[GROUPS_MAX];
	int ngroups;
	struct ref_group *current;
	unsigned char mapping_seen[NFIELDS];
	char reason[96];
};

/* The reference's step: 0, -1 with *reason, or 1 when it holds more groups than it can (stop comparing). */
static int ref_line(struct reference *r, const char *line, size_t len, const char **reason)
{
	struct kv_field f;
	uint64_t unit, add;
	int i, k = -1;

	if (maps_is_header(line, len)) {
		struct maps_header h;
		if ((*reason = maps_parse_header(line, len, &h)) != NULL)
			return -1;
		r->current = NULL;
		for (i = 0; i < r->ngroups; i++)
			if (r->groups[i].path_len == h.path_len && memcmp(r->groups[i].path, h.path, h.path_len) == 0)
				r->current = &r->groups[i];
		if (r->current == NULL) {
			if (r->ngroups == GROUPS_MAX || h.path_len >= PATH_MAX_REF)
				return 1;
			r->current = &r->groups[r->ngroups++];
			memset(r->current, 0, sizeof(*r->current));
			memcpy(r->current->path, h.path, h.path_len);
			r->current->path_len = h.path_len;
		}
		r->current->maps++;
		memset(r->mapping_seen, 0, sizeof(r->mapping_seen));
		return 0;
	}
	if (r->current == NULL) {
		*reason = "field before the first mapping header";
		return -1;
	}
	if ((*reason = kv_parse_line(line, len, &f)) != NULL)
		return -1;
	for (i = 0; i < NFIELDS; i++)
		if (strlen(FIELDS[i]) == f.key_len && memcmp(FIELDS[i], f.key, f.key_len) == 0)
			k = i;
	if (k < 0)
		return 0;
	if (r->mapping_seen[k]) {
		snprintf(r->reason, sizeof(r->reason), "duplicate key '%s'", FIELDS[k]);
		*reason = r->reason;
		return -1;
	}
	r->mapping_seen[k] = 1;
	if (f.kind == KV_TEXT) {
		snprintf(r->reason, sizeof(r->reason), "%s: a number expected, to be summed", FIELDS[k]);
		*reason = r->reason;
		return -1;
	}
	unit = f.kind == KV_KB ? 1024 : 1;
	if (f.overflowed || f.number > UINT64_MAX / unit || (add = f.number * unit) > UINT64_MAX - r->current->sums[k]) {
		snprintf(r->reason, sizeof(r->reason), "%s: the sum does not fit 64 bits", FIELDS[k]);
		*reason = r->reason;
		return -1;
	}
	r->current->sums[k] += add;
	r->current->seen[k] = 1;
	return 0;
}

static struct reference ref;
static struct smaps_sums sums, spans;

static void check_same_groups(const struct smaps_sums *a, const struct smaps_sums *b)
{
	size_t i;
	int k;

	FUZZ_CHECK(a->ngroups == b->ngroups);
	for (i = 0; i < a->ngroups; i++) {
		const struct smaps_sums_group *g = &a->groups[i], *h = &b->groups[i];
		FUZZ_CHECK(g->path_len == h->path_len && memcmp(g->path, h->path, g->path_len) == 0);
		FUZZ_CHECK(g->maps == h->maps);
		for (k = 0; k < NFIELDS; k++)
			FUZZ_CHECK(g->seen[k] == h->seen[k] && g->sums[k] == h->sums[k]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *got_reason = NULL, *span_reason = NULL;
	size_t lens[NFIELDS];
	int i, got = 0, want = 0, comparing = 1, span_got;
	long lineno = 0, span_lineno = 0;
	char *whole;

	for (i = 0; i < NFIELDS; i++)
		lens[i] = strlen(FIELDS[i]);
	FUZZ_CHECK(smaps_sums_init(&sums, FIELDS, lens, NFIELDS) == NULL);
	FUZZ_CHECK(smaps_sums_init(&spans, FIELDS, lens, NFIELDS) == NULL);
	memset(&ref, 0, sizeof(ref));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		/* each line in a block of its own size, so reading past it is caught */
		char *line = fuzz_exact_copy((const uint8_t *)p, len);
		const char *want_reason = NULL;
		if (comparing && (want = ref_line(&ref, line, len, &want_reason)) == 1)
			comparing = 0;
		lineno++;
		got = smaps_sums_line(&sums, line, len, &got_reason);
		FUZZ_CHECK(got != ENOMEM);
		if (comparing) {
			FUZZ_CHECK(got == want);
			if (got == -1)
				FUZZ_CHECK(got_reason != NULL && want_reason != NULL && strcmp(got_reason, want_reason) == 0);
		}
		free(line);
		if (got != 0)
			break;
		p = nl != NULL ? nl + 1 : end;
	}
	if (comparing && got == 0) {
		FUZZ_CHECK(sums.ngroups == (size_t)ref.ngroups);
		for (i = 0; i < ref.ngroups; i++) {
			const struct smaps_sums_group *g = &sums.groups[i];
			const struct ref_group *w = &ref.groups[i];
			int k;
			FUZZ_CHECK(g->path_len == w->path_len && memcmp(g->path, w->path, w->path_len) == 0);
			FUZZ_CHECK(g->maps == w->maps);
			for (k = 0; k < NFIELDS; k++)
				FUZZ_CHECK(g->seen[k] == w->seen[k] && g->sums[k] == w->sums[k]);
		}
	}

	/* The whole input as one span (in a block of its own size) gives what the lines one by one gave. */
	whole = fuzz_exact_copy(data, size);
	span_got = smaps_sums_span(&spans, whole, size, &span_lineno, &span_reason);
	FUZZ_CHECK(span_got == got);
	if (got == -1)
		FUZZ_CHECK(span_lineno == lineno && strcmp(span_reason, got_reason) == 0);
	else
		check_same_groups(&spans, &sums);
	free(whole);
	smaps_sums_free(&sums);
	smaps_sums_free(&spans);
	return 0;
}
