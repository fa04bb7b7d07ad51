/* lsums.c: /proc/PID/smaps summed by mapping path in C, for views over every mapping of every process. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "core/maps_parse.h"

/*
 * proc.smaps(pid) builds a table per mapping: for a view that only adds some fields up by path
 * (top.lua -m, over every process), that is most of the cost. Here the lines are parsed as
 * proc.smaps parses them, and the fields asked for are added up per distinct path in C; Lua gets
 * one table per path.
 */

#define SUM_FIELDS_MAX 16
/* Keys remembered by their place after a mapping's header, and the longest such key. */
#define PLACES_MAX 48
#define PLACE_KEY_MAX 32

struct sum_group {
	char *path;
	size_t path_len;
	uint64_t hash;
	uint64_t maps;
	uint64_t sums[SUM_FIELDS_MAX];
	unsigned char seen[SUM_FIELDS_MAX]; /* the field was printed in one of the group's mappings */
};

struct sums_ctx {
	const char *path;
	struct linestream *stream;
	const char *fields[SUM_FIELDS_MAX];
	size_t field_len[SUM_FIELDS_MAX];
	int nfields;
	struct sum_group *groups;
	size_t ngroups, cap;
	size_t *index; /* open addressing over groups: 0 empty, else group number + 1 */
	size_t index_cap;
	/*
	 * The key each line after a header had last time, by place: every mapping of smaps prints its
	 * keys in the same order, so most lines are the known key and a number, taken in one pass
	 * (kv_parse_known_number) without looking the key up among the fields.
	 */
	struct {
		char key[PLACE_KEY_MAX];
		size_t len;  /* 0: nothing known at this place */
		int field;   /* the field the key is, or -1 */
	} places[PLACES_MAX];
};

static uint64_t path_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Doubles the index; returns 0 or ENOMEM. */
static int grow_index(struct sums_ctx *c)
{
	size_t cap = c->index_cap ? c->index_cap * 2 : 256, i;
	size_t *index = calloc(cap, sizeof(*index));

	if (index == NULL)
		return ENOMEM;
	for (i = 0; i < c->ngroups; i++) {
		size_t slot = (size_t)c->groups[i].hash & (cap - 1);
		while (index[slot] != 0)
			slot = (slot + 1) & (cap - 1);
		index[slot] = i + 1;
	}
	free(c->index);
	c->index = index;
	c->index_cap = cap;
	return 0;
}

/* The group of path, made when new; NULL when memory runs out. */
static struct sum_group *group_of(struct sums_ctx *c, const char *path, size_t len)
{
	uint64_t h = path_hash(path, len);
	struct sum_group *g;
	size_t slot;

	if ((c->ngroups + 1) * 2 > c->index_cap && grow_index(c) != 0)
		return NULL;
	for (slot = (size_t)h & (c->index_cap - 1); c->index[slot] != 0; slot = (slot + 1) & (c->index_cap - 1)) {
		g = &c->groups[c->index[slot] - 1];
		if (g->hash == h && g->path_len == len && memcmp(g->path, path, len) == 0)
			return g;
	}
	if (c->ngroups == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct sum_group *grown = realloc(c->groups, cap * sizeof(*grown));
		if (grown == NULL)
			return NULL;
		c->groups = grown;
		c->cap = cap;
	}
	g = &c->groups[c->ngroups];
	memset(g, 0, sizeof(*g));
	g->path = malloc(len + 1);
	if (g->path == NULL)
		return NULL;
	memcpy(g->path, path, len);
	g->path[len] = '\0';
	g->path_len = len;
	g->hash = h;
	c->index[slot] = ++c->ngroups;
	return g;
}

/* Which asked-for field key is, or -1. */
static int field_of(const struct sums_ctx *c, const char *key, size_t len)
{
	int i;

	for (i = 0; i < c->nfields; i++)
		if (c->field_len[i] == len && memcmp(c->fields[i], key, len) == 0)
			return i;
	return -1;
}

/* Whether line is the key known at this place after the header with a number, parsed into *f. */
static int known_line(const struct sums_ctx *c, int place, const char *line, size_t len, struct kv_field *f)
{
	size_t key_len;

	if (place >= PLACES_MAX || (key_len = c->places[place].len) == 0 || key_len >= len)
		return 0;
	return memcmp(line, c->places[place].key, key_len) == 0 && kv_parse_known_number(line, len, key_len, f);
}

static int sums_build(lua_State *L, void *arg)
{
	struct sums_ctx *c = arg;
	struct sum_group *g = NULL;
	unsigned char mapping_seen[SUM_FIELDS_MAX];
	size_t i;
	int r, k, place = 0;

	for (;;) {
		const char *line, *reason;
		size_t len;
		struct kv_field f;

		r = linestream_next(c->stream, &line, &len);
		if (r < 0)
			return bind_path_error(L, c->path, -r);
		if (r == 0)
			break;
		if (g != NULL && known_line(c, place, line, len, &f)) {
			k = c->places[place++].field;
		} else if (maps_is_header(line, len)) {
			struct maps_header h;
			reason = maps_parse_header(line, len, &h);
			if (reason != NULL)
				return bind_format_error(L, c->path, linestream_lineno(c->stream), reason);
			g = group_of(c, h.path, h.path_len);
			if (g == NULL)
				return bind_path_error(L, c->path, ENOMEM);
			g->maps++;
			memset(mapping_seen, 0, sizeof(mapping_seen));
			place = 0;
			continue;
		} else if (g != NULL) {
			reason = kv_parse_line(line, len, &f);
			if (reason != NULL)
				return bind_format_error(L, c->path, linestream_lineno(c->stream), reason);
			k = field_of(c, f.key, f.key_len);
			if (place < PLACES_MAX && f.key_len < PLACE_KEY_MAX) {
				memcpy(c->places[place].key, f.key, f.key_len);
				c->places[place].len = f.key_len;
				c->places[place].field = k;
			}
			place++;
		} else {
			return bind_format_error(L, c->path, linestream_lineno(c->stream),
						 "field before the first mapping header");
		}
		if (k < 0)
			continue;
		if (mapping_seen[k])
			return bind_format_error(L, c->path, linestream_lineno(c->stream),
						 lua_pushfstring(L, "duplicate key '%s'", c->fields[k]));
		mapping_seen[k] = 1;
		if (f.kind == KV_TEXT)
			return bind_format_error(L, c->path, linestream_lineno(c->stream),
						 lua_pushfstring(L, "%s: a number expected, to be summed", c->fields[k]));
		{
			uint64_t unit = f.kind == KV_KB ? 1024 : 1, add;
			if (f.overflowed || f.number > UINT64_MAX / unit ||
			    (add = f.number * unit) > UINT64_MAX - g->sums[k])
				return bind_format_error(L, c->path, linestream_lineno(c->stream),
							 lua_pushfstring(L, "%s: the sum does not fit 64 bits", c->fields[k]));
			g->sums[k] += add;
			g->seen[k] = 1;
		}
	}
	lua_createtable(L, (int)c->ngroups, 0);
	for (i = 0; i < c->ngroups; i++) {
		const struct sum_group *grp = &c->groups[i];
		lua_createtable(L, 0, 2 + c->nfields);
		lua_pushlstring(L, grp->path, grp->path_len);
		lua_setfield(L, -2, "path");
		lua_pushinteger(L, (lua_Integer)grp->maps);
		lua_setfield(L, -2, "maps");
		/* a field no mapping of the group printed is nil, never 0 */
		for (k = 0; k < c->nfields; k++) {
			if (!grp->seen[k])
				continue;
			if (grp->sums[k] <= (uint64_t)LUA_MAXINTEGER)
				lua_pushinteger(L, (lua_Integer)grp->sums[k]);
			else
				lua_pushnumber(L, (lua_Number)grp->sums[k]);
			lua_setfield(L, -2, c->fields[k]);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static void sums_cleanup(void *arg)
{
	struct sums_ctx *c = arg;
	size_t i;

	linestream_close(c->stream);
	for (i = 0; i < c->ngroups; i++)
		free(c->groups[i].path);
	free(c->groups);
	free(c->index);
}

/* The field names at argument 2: strings, at most SUM_FIELDS_MAX, kept alive by the argument. */
static void check_sum_fields(lua_State *L, struct sums_ctx *c)
{
	lua_Integer i, n;

	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	luaL_argcheck(L, n >= 1 && n <= SUM_FIELDS_MAX, 2, "1 to 16 field names expected");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, 2, i);
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 2, "field names are strings");
		c->fields[i - 1] = lua_tolstring(L, -1, &c->field_len[i - 1]);
		luaL_argcheck(L, field_of(c, c->fields[i - 1], c->field_len[i - 1]) < 0, 2, "a field named twice");
		c->nfields = (int)i;
		lua_pop(L, 1); /* the string stays alive in the table */
	}
}

static int read_sums(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	char path[PATH_MAX];
	struct sums_ctx *c = arg;
	int err;

	source_dir_path(dir, file, path, sizeof(path));
	c->path = path;
	err = bind_process_lines(L, 1, dir, file, &c->stream);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, sums_build, c, sums_cleanup);
}

/*
 * proc.smaps_sums(pid, fields): the mappings of /proc/PID/smaps added up by path, one table per
 * distinct path in the order first met: {path = "...", maps = N, Rss = bytes, ...} with the fields
 * named (numbers only; sizes in bytes as proc.smaps gives them).
 */
static int sums_smaps_sums(lua_State *L)
{
	struct sums_ctx c;

	memset(&c, 0, sizeof(c));
	lua_settop(L, 2);
	check_sum_fields(L, &c);
	return bind_process_file(L, "smaps", read_sums, &c);
}

const luaL_Reg bind_sums_functions[] = {
	{"smaps_sums", sums_smaps_sums},
	{NULL, NULL},
};
