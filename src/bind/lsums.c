/* lsums.c: /proc/PID/smaps summed by mapping path in C, for views over every mapping of every process. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "core/smaps_sums.h"
#include "source/readahead.h"
#include "source/sums_read.h"

/*
 * proc.smaps(pid) builds a table per mapping: for a view that only adds some fields up by path
 * (top.lua -m, over every process), that is most of the cost. Here the lines are parsed as
 * proc.smaps parses them, and the fields asked for are added up per distinct path in C
 * (core/smaps_sums.c); Lua gets one table per path. A handle reading ahead with "smaps_sums" and
 * the same fields (p:read_ahead) has had its sums made on a pool thread.
 */

struct sums_ctx {
	const char *path;
	struct linestream *stream;
	struct smaps_sums sums;
};

/* Pushes the array of one table per path, from sums added up. */
static void push_groups(lua_State *L, const struct smaps_sums *s)
{
	size_t i;
	int k;

	lua_createtable(L, (int)s->ngroups, 0);
	for (i = 0; i < s->ngroups; i++) {
		const struct smaps_sums_group *grp = &s->groups[i];
		lua_createtable(L, 0, 2 + s->nfields);
		lua_pushlstring(L, grp->path, grp->path_len);
		lua_setfield(L, -2, "path");
		lua_pushinteger(L, (lua_Integer)grp->maps);
		lua_setfield(L, -2, "maps");
		/* a field no mapping of the group printed is nil, never 0 */
		for (k = 0; k < s->nfields; k++) {
			if (!grp->seen[k])
				continue;
			if (grp->sums[k] <= (uint64_t)LUA_MAXINTEGER)
				lua_pushinteger(L, (lua_Integer)grp->sums[k]);
			else
				lua_pushnumber(L, (lua_Number)grp->sums[k]);
			lua_setfield(L, -2, s->fields[k]);
		}
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
}

static int sums_build(lua_State *L, void *arg)
{
	struct sums_ctx *c = arg;
	long lineno;
	int r = sums_read(c->stream, &c->sums, &lineno, NULL, NULL);

	if (r == -1)
		return bind_format_error(L, c->path, lineno, c->sums.reason);
	if (r != 0)
		return bind_path_error(L, c->path, r);
	push_groups(L, &c->sums);
	return 1;
}

/* Sums a pool thread made without meeting an error: the tables sums_build would give. */
static int sums_taken(lua_State *L, void *arg)
{
	struct sums_ctx *c = arg;

	push_groups(L, &c->sums);
	return 1;
}

static void sums_cleanup(void *arg)
{
	struct sums_ctx *c = arg;

	linestream_close(c->stream);
	c->stream = NULL;
	smaps_sums_free(&c->sums);
}

/*
 * The field names in the table at index t (strings) copied into c's sum, started.
 * Errors name argument arg (the table, or the argument that holds it).
 */
static void check_sum_fields(lua_State *L, int t, int arg, struct sums_ctx *c)
{
	const char *names[SMAPS_SUMS_FIELDS_MAX], *refused;
	size_t lens[SMAPS_SUMS_FIELDS_MAX];
	lua_Integer i, n;

	if (lua_type(L, t) != LUA_TTABLE)
		luaL_argerror(L, arg, "a table of field names expected");
	n = (lua_Integer)lua_rawlen(L, t);
	luaL_argcheck(L, n >= 1 && n <= SMAPS_SUMS_FIELDS_MAX, arg, "1 to 16 field names expected");
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, t, i);
		luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, arg, "field names are strings");
		names[i - 1] = lua_tolstring(L, -1, &lens[i - 1]);
		lua_pop(L, 1); /* the string stays alive in the table, and is copied into the sum */
	}
	refused = smaps_sums_init(&c->sums, names, lens, (int)n);
	luaL_argcheck(L, refused == NULL, arg, refused);
}

static int read_sums(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	char path[PATH_MAX], reason[sizeof(((struct smaps_sums *)0)->reason)];
	struct sums_ctx *c = arg;
	int err, read_err;
	long lineno;

	source_dir_path(dir, file, path, sizeof(path));
	c->path = path;
	if (readahead_take_sums(bind_process_ahead(L, 1), &c->sums, &err, &read_err, &lineno)) {
		if (err == 0 && read_err == 0 && lineno == 0)
			return bind_call(L, sums_taken, c, sums_cleanup);
		/* freed before the error is made, which may raise (out of memory) */
		memcpy(reason, c->sums.reason, sizeof(reason));
		smaps_sums_free(&c->sums);
		/* as the direct path says each: an open failure, a read failure, a line refused */
		if (err != 0)
			return bind_os_error(L, dir, file, err);
		if (read_err != 0)
			return bind_path_error(L, path, read_err);
		return bind_format_error(L, path, lineno, reason);
	}
	err = bind_process_lines(L, 1, dir, file, &c->stream);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, sums_build, c, sums_cleanup);
}

/* The sum p:read_ahead({... "smaps_sums" ...}, {smaps_sums = fields}) hands a pool thread. */
void bind_sums_fields(lua_State *L, int t, int arg, struct smaps_sums *out)
{
	struct sums_ctx c;

	memset(&c, 0, sizeof(c));
	check_sum_fields(L, t, arg, &c);
	*out = c.sums;
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
	check_sum_fields(L, 2, 2, &c);
	return bind_process_file(L, "smaps", read_sums, &c);
}

const luaL_Reg bind_sums_functions[] = {
	{"smaps_sums", sums_smaps_sums},
	{NULL, NULL},
};
