/* smaps_sums.c: smaps lines added up per distinct path, without a table per mapping. */
#include "core/smaps_sums.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/keyval_parse.h"
#include "core/maps_parse.h"

static uint64_t path_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Which field key is, or -1. */
static int field_of(const struct smaps_sums *s, const char *key, size_t len)
{
	int i;

	for (i = 0; i < s->nfields; i++)
		if (s->field_len[i] == len && memcmp(s->fields[i], key, len) == 0)
			return i;
	return -1;
}

const char *smaps_sums_init(struct smaps_sums *s, const char *const *names, const size_t *lens, int n)
{
	int i;

	memset(s, 0, sizeof(*s));
	if (n < 1 || n > SMAPS_SUMS_FIELDS_MAX)
		return "1 to 16 field names expected";
	for (i = 0; i < n; i++) {
		if (lens[i] == 0 || lens[i] >= SMAPS_SUMS_KEY_MAX)
			return "field names of 1 to 31 bytes expected";
		if (field_of(s, names[i], lens[i]) >= 0)
			return "a field named twice";
		memcpy(s->fields[i], names[i], lens[i]);
		s->field_len[i] = lens[i];
		s->nfields = i + 1;
	}
	return NULL;
}

int smaps_sums_same_fields(const struct smaps_sums *a, const struct smaps_sums *b)
{
	int i;

	if (a->nfields != b->nfields)
		return 0;
	for (i = 0; i < a->nfields; i++)
		if (a->field_len[i] != b->field_len[i] || memcmp(a->fields[i], b->fields[i], a->field_len[i]) != 0)
			return 0;
	return 1;
}

/* Doubles the index; returns 0 or ENOMEM. */
static int grow_index(struct smaps_sums *s)
{
	size_t cap = s->index_cap ? s->index_cap * 2 : 256, i;
	size_t *index = calloc(cap, sizeof(*index));

	if (index == NULL)
		return ENOMEM;
	for (i = 0; i < s->ngroups; i++) {
		size_t slot = (size_t)s->groups[i].hash & (cap - 1);
		while (index[slot] != 0)
			slot = (slot + 1) & (cap - 1);
		index[slot] = i + 1;
	}
	free(s->index);
	s->index = index;
	s->index_cap = cap;
	return 0;
}

/* The group of path, made when new; NULL when memory runs out. */
static struct smaps_sums_group *group_of(struct smaps_sums *s, const char *path, size_t len)
{
	struct smaps_sums_group *g = s->current;
	uint64_t h;
	size_t slot;

	/* A library's mappings follow one another, and so do many anonymous ones: no hash for those. */
	if (g != NULL && g->path_len == len && memcmp(g->path, path, len) == 0)
		return g;
	h = path_hash(path, len);

	if ((s->ngroups + 1) * 2 > s->index_cap && grow_index(s) != 0)
		return NULL;
	for (slot = (size_t)h & (s->index_cap - 1); s->index[slot] != 0; slot = (slot + 1) & (s->index_cap - 1)) {
		g = &s->groups[s->index[slot] - 1];
		if (g->hash == h && g->path_len == len && memcmp(g->path, path, len) == 0)
			return g;
	}
	if (s->ngroups == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct smaps_sums_group *grown = realloc(s->groups, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		s->groups = grown;
		s->cap = cap;
	}
	g = &s->groups[s->ngroups];
	memset(g, 0, sizeof(*g));
	g->path = malloc(len + 1);
	if (g->path == NULL)
		return NULL;
	memcpy(g->path, path, len);
	g->path[len] = '\0';
	g->path_len = len;
	g->hash = h;
	s->index[slot] = ++s->ngroups;
	return g;
}

/*
 * Whether line is the key known at this place after the header, with a number, parsed into *f:
 * every mapping of smaps prints its keys in the same order, so most lines are taken in one pass
 * (kv_parse_known_number), without looking the key up among the fields.
 */
static int known_line(const struct smaps_sums *s, const char *line, size_t len, struct kv_field *f)
{
	size_t key_len;

	if (s->place >= SMAPS_SUMS_PLACES || (key_len = s->places[s->place].len) == 0 || key_len >= len)
		return 0;
	return memcmp(line, s->places[s->place].key, key_len) == 0 && kv_parse_known_number(line, len, key_len, f);
}

/*
 * known_line for a line in a span that ends at end, its length not known: its newline, or NULL.
 * A key not summed is passed over whatever its value (kv_skip_known), as smaps_sums_line takes it:
 * *f is then left unset, and the caller adds nothing.
 */
static const char *known_line_in(const struct smaps_sums *s, const char *line, const char *end, struct kv_field *f)
{
	if (s->current == NULL || s->place >= SMAPS_SUMS_PLACES)
		return NULL;
	if (s->places[s->place].field < 0)
		return kv_skip_known(line, end, s->places[s->place].key, s->places[s->place].len,
				     s->places[s->place].line_len);
	return kv_scan_known_number(line, end, s->places[s->place].key, s->places[s->place].len, f);
}

/* Sets *reason to "<field><what>" (the field quoted when quoted), in s->reason; returns -1. */
static int refuse(struct smaps_sums *s, const char **reason, int field, int quoted, const char *what)
{
	snprintf(s->reason, sizeof(s->reason), quoted ? "duplicate key '%s'%s" : "%s%s", s->fields[field], what);
	*reason = s->reason;
	return -1;
}

/* Adds the value of field k (-1: a key not summed) of the mapping being added. 0, or -1 with *reason. */
static int add_field(struct smaps_sums *s, int k, const struct kv_field *f, const char **reason)
{
	uint64_t unit, add;

	if (k < 0)
		return 0;
	if (s->mapping_seen[k])
		return refuse(s, reason, k, 1, "");
	s->mapping_seen[k] = 1;
	if (f->kind == KV_TEXT)
		return refuse(s, reason, k, 0, ": a number expected, to be summed");
	unit = f->kind == KV_KB ? 1024 : 1;
	if (f->overflowed || f->number > UINT64_MAX / unit || (add = f->number * unit) > UINT64_MAX - s->current->sums[k])
		return refuse(s, reason, k, 0, ": the sum does not fit 64 bits");
	s->current->sums[k] += add;
	s->current->seen[k] = 1;
	return 0;
}

int smaps_sums_line(struct smaps_sums *s, const char *line, size_t len, const char **reason)
{
	struct kv_field f;
	int k;

	if (s->current != NULL && known_line(s, line, len, &f)) {
		k = s->places[s->place++].field;
	} else if (maps_is_header(line, len)) {
		struct maps_header h;
		if ((*reason = maps_parse_header(line, len, &h)) != NULL)
			return -1;
		if ((s->current = group_of(s, h.path, h.path_len)) == NULL)
			return ENOMEM;
		s->current->maps++;
		memset(s->mapping_seen, 0, sizeof(s->mapping_seen));
		s->place = 0;
		return 0;
	} else if (s->current != NULL) {
		if ((*reason = kv_parse_line(line, len, &f)) != NULL)
			return -1;
		k = field_of(s, f.key, f.key_len);
		if (s->place < SMAPS_SUMS_PLACES) {
			if (f.key_len < SMAPS_SUMS_KEY_MAX) {
				memcpy(s->places[s->place].key, f.key, f.key_len);
				s->places[s->place].len = f.key_len;
				s->places[s->place].field = k;
			}
			s->place++; /* stays at SMAPS_SUMS_PLACES past the last, however many lines follow */
		}
	} else {
		*reason = "field before the first mapping header";
		return -1;
	}
	return add_field(s, k, &f, reason);
}

int smaps_sums_span(struct smaps_sums *s, const char *span, size_t len, long *lineno, const char **reason)
{
	const char *p = span, *end = span + len, *nl;
	struct kv_field f;
	int r;

	while (p < end) {
		++*lineno;
		if ((nl = known_line_in(s, p, end, &f)) != NULL) {
			int k = s->places[s->place].field;
			s->places[s->place++].line_len = (size_t)(nl - p);
			r = add_field(s, k, &f, reason); /* a key not summed (k < 0) adds nothing, f unread */
		} else {
			nl = memchr(p, '\n', (size_t)(end - p));
			r = smaps_sums_line(s, p, nl != NULL ? (size_t)(nl - p) : (size_t)(end - p), reason);
			if (nl == NULL)
				nl = end - 1;
		}
		if (r != 0)
			return r;
		p = nl + 1;
	}
	return 0;
}

void smaps_sums_free(struct smaps_sums *s)
{
	size_t i;

	for (i = 0; i < s->ngroups; i++)
		free(s->groups[i].path);
	free(s->groups);
	free(s->index);
	s->groups = NULL;
	s->index = NULL;
	s->ngroups = s->cap = s->index_cap = 0;
	s->current = NULL;
}
