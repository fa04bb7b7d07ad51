/* bind.c: the pieces every file of the `proc` binding uses: its source, pids, errors, numbers, protected builds. */
#include "bind/bind.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/layout.h"
#include "core/numparse.h"
#include "source/readahead.h"

struct source *bind_source(lua_State *L)
{
	struct source **src = lua_touserdata(L, lua_upvalueindex(1));

	/* A process handle's method, reached through its metatable and given something else. */
	if (src == NULL || *src == NULL)
		luaL_error(L, "a process handle's method needs the handle (p:method())");
	return *src;
}

void bind_check_pid(lua_State *L, int arg, char *name, size_t size)
{
	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Integer pid;
		int isint;
		pid = lua_tointegerx(L, arg, &isint);
		luaL_argcheck(L, isint && pid > 0 && pid <= INT_MAX, arg, "pid must be a positive integer");
		snprintf(name, size, "%lld", (long long)pid);
		return;
	}
	if (lua_type(L, arg) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, arg, &len);
		const char *p = s;
		uint64_t pid;
		if (len == 4 && memcmp(s, "self", 4) == 0) {
			snprintf(name, size, "self");
			return;
		}
		if (num_parse_dec(&p, s + len, &pid) == NUM_OK && p == s + len && pid > 0 && pid <= INT_MAX) {
			snprintf(name, size, "%llu", (unsigned long long)pid);
			return;
		}
		luaL_argerror(L, arg, lua_pushfstring(L, "pid expected, got \"%s\"", s));
	}
	luaL_typeerror(L, arg, "pid (integer, numeric string or \"self\")");
}

/*
 * A directory opened for one call: closed by the call, or, when an error is raised before the call
 * does, as the error leaves the call (a to-be-closed slot); the collector closes it if even that
 * did not run (a closing method can fail to start when memory is short, as a finalizer can).
 */
static int opened_dir_close(lua_State *L)
{
	struct source_dir **slot = lua_touserdata(L, 1);
	source_dir_close(*slot);
	*slot = NULL;
	return 0;
}

struct source_dir *bind_process_dir(lua_State *L, int arg, const char *file, struct source_dir ***opened,
				    int *nresults)
{
	struct source *src;
	struct source_dir **handle, **slot;
	char name[32];
	int err;

	*opened = NULL;
	/* A process handle starts with its directory (struct process in lproc.c). */
	handle = luaL_testudata(L, arg, BIND_PROCESS);
	if (handle != NULL) {
		luaL_argcheck(L, *handle != NULL, arg, "process handle is closed");
		return *handle;
	}
	bind_check_pid(L, arg, name, sizeof(name));
	src = bind_source(L);
	slot = lua_newuserdatauv(L, sizeof(*slot), 0);
	*slot = NULL;
	lua_createtable(L, 0, 2);
	lua_pushcfunction(L, opened_dir_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, opened_dir_close);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_toclose(L, -1);
	err = source_dir_open(src, SOURCE_PROC, name, slot);
	if (err != 0) {
		/* The message names the file the caller was to read: "/proc/42/smaps: No such file ..." */
		char rel[64];
		lua_pop(L, 1);
		snprintf(rel, sizeof(rel), "%s/%s", name, file);
		*nresults = bind_os_error(L, source_tree(src, SOURCE_PROC), rel, err);
		return NULL;
	}
	/* The userdata stays on the stack below what the caller pushes (only lua_settop may remove it); bind_done_process closes it. */
	*opened = slot;
	return *slot;
}

void bind_done_process(struct source_dir **opened)
{
	if (opened != NULL) {
		source_dir_close(*opened);
		*opened = NULL;
	}
}

int bind_process_file(lua_State *L, const char *file,
		      int (*read)(lua_State *L, const struct source_dir *dir, const char *file, void *arg), void *arg)
{
	struct source_dir **opened, *dir;
	int n;

	dir = bind_process_dir(L, 1, file, &opened, &n);
	if (dir == NULL)
		return n;
	n = read(L, dir, file, arg);
	bind_done_process(opened);
	return n;
}

struct readahead_job *bind_process_ahead(lua_State *L, int arg)
{
	struct bind_process *p = luaL_testudata(L, arg, BIND_PROCESS);
	return p != NULL ? p->ahead : NULL;
}

int bind_process_read(lua_State *L, int arg, const struct source_dir *dir, const char *file, struct procfile *out)
{
	int err;

	if (readahead_take_whole(bind_process_ahead(L, arg), file, out, &err))
		return err;
	return source_dir_read(dir, file, out);
}

int bind_process_lines(lua_State *L, int arg, const struct source_dir *dir, const char *file,
		       struct linestream **out)
{
	int err;

	if (readahead_take_lines(bind_process_ahead(L, arg), file, out, &err))
		return err;
	return source_dir_lines(dir, file, out);
}

int bind_os_error(lua_State *L, const struct source_dir *dir, const char *file, int err)
{
	char path[PATH_MAX];
	size_t max_file = source_max_file(source_dir_source(dir));

	if (err == EFBIG && max_file != 0) {
		/*
		 * The file is larger than the Lua heap may grow (--max-memory): asking for room to hold
		 * it raises the memory error a script sees when anything it builds does not fit.
		 */
		lua_newuserdatauv(L, max_file + 1, 0);
		lua_pop(L, 1);
	}

	source_dir_path(dir, file, path, sizeof(path));
	return bind_path_error(L, path, err);
}

int bind_path_error(lua_State *L, const char *path, int err)
{
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", path, source_strerror(err));
	lua_pushinteger(L, source_errno(err));
	return 3;
}

int bind_format_error(lua_State *L, const char *path, long line, const char *reason)
{
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s:%d: %s", path, (int)line, reason);
	lua_pushinteger(L, EINVAL);
	return 3;
}

void bind_push_scaled(lua_State *L, uint64_t count, int overflowed, const char *digits, size_t ndigits,
		      uint64_t unit)
{
	if (!overflowed && count <= (uint64_t)LUA_MAXINTEGER / unit) {
		lua_pushinteger(L, (lua_Integer)(count * unit));
	} else if (overflowed) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%.*s", (int)(ndigits < 400 ? ndigits : 400), digits);
		lua_pushnumber(L, (lua_Number)strtod(buf, NULL) * (lua_Number)unit);
	} else {
		lua_pushnumber(L, (lua_Number)count * (lua_Number)unit);
	}
}

void bind_push_negative(lua_State *L, uint64_t magnitude, int overflowed, const char *digits, size_t ndigits)
{
	if (!overflowed && magnitude <= (uint64_t)LUA_MAXINTEGER) {
		lua_pushinteger(L, -(lua_Integer)magnitude);
	} else if (!overflowed && magnitude == (uint64_t)LUA_MAXINTEGER + 1) {
		lua_pushinteger(L, LUA_MININTEGER);
	} else {
		/* past 64 bits: a float, as bind_push_scaled does for large positive values */
		char buf[512];
		snprintf(buf, sizeof(buf), "%.*s", (int)(ndigits < 400 ? ndigits : 400), digits);
		lua_pushnumber(L, -strtod(buf, NULL));
	}
}

void bind_push_value(lua_State *L, const struct value_token *v)
{
	char buf[512];

	switch (v->kind) {
	case VALUE_UINT:
		bind_push_scaled(L, v->number, v->overflowed, v->digits, v->digits_len, 1);
		break;
	case VALUE_NEGATIVE:
		bind_push_negative(L, v->number, v->overflowed, v->digits, v->digits_len);
		break;
	case VALUE_FIXED:
		snprintf(buf, sizeof(buf), "%.*s", (int)(v->text_len < 400 ? v->text_len : 400), v->text);
		lua_pushnumber(L, (lua_Number)strtod(buf, NULL));
		break;
	case VALUE_TEXT:
		lua_pushlstring(L, v->text, v->text_len);
		break;
	}
}

void bind_push_kv_value(lua_State *L, const struct kv_field *f)
{
	switch (f->kind) {
	case KV_KB:
		bind_push_scaled(L, f->number, f->overflowed, f->text, f->text_len, 1024);
		break;
	case KV_INT:
		bind_push_scaled(L, f->number, f->overflowed, f->text, f->text_len, 1);
		break;
	case KV_TEXT:
		lua_pushlstring(L, f->text, f->text_len);
		break;
	}
}

int bind_record_key(lua_State *L, int layout, const char *key, size_t len, int kb, const char *path, long lineno)
{
	layout = lua_absindex(L, layout);
	lua_pushlstring(L, key, len);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, -3) != LUA_TNIL) {
		lua_pop(L, 1);
		return bind_format_error(L, path, lineno, lua_pushfstring(L, "duplicate key '%s'", lua_tostring(L, -1)));
	}
	lua_pop(L, 1);
	layout_append(L, layout, -1, kb);
	return 0;
}

struct protected_build {
	int (*build)(lua_State *L, void *ctx);
	void *ctx;
};

static int protected_trampoline(lua_State *L)
{
	struct protected_build *pb = lua_touserdata(L, 1);
	lua_pop(L, 1);
	return pb->build(L, pb->ctx);
}

static int call_build(lua_State *L, int (*build)(lua_State *, void *), void *ctx, void (*cleanup)(void *),
		      int stop_collector)
{
	struct protected_build pb = {build, ctx};
	int top = lua_gettop(L);
	int stopped = stop_collector && lua_gc(L, LUA_GCISRUNNING);
	int status;

	if (stopped)
		lua_gc(L, LUA_GCSTOP);
	lua_pushcfunction(L, protected_trampoline);
	lua_pushlightuserdata(L, &pb);
	status = lua_pcall(L, 1, LUA_MULTRET, 0);
	if (stopped)
		lua_gc(L, LUA_GCRESTART);
	cleanup(ctx);
	if (status != LUA_OK)
		lua_error(L);
	return lua_gettop(L) - top;
}

/*
 * The collector is left running: what is built is anchored on the stack. Stopping it around every
 * call would cost more than it saves: Lua 5.4's LUA_GCRESTART zeroes the collector's debt, which
 * starts a collection step at the next allocation, so a script keeping what it reads (a table per
 * process) would have its whole heap traversed again and again, in time growing as its square.
 */
int bind_call(lua_State *L, int (*build)(lua_State *, void *), void *ctx, void (*cleanup)(void *))
{
	return call_build(L, build, ctx, cleanup, 0);
}

/*
 * For the builds of a table per mapping (tens of megabytes at 60,000 mappings): the collector would
 * traverse the growing result again and again while it is built, all of it alive, about a fifth
 * of proc.smaps's time. One step at the restart is small beside such a build.
 */
int bind_call_bulk(lua_State *L, int (*build)(lua_State *, void *), void *ctx, void (*cleanup)(void *))
{
	return call_build(L, build, ctx, cleanup, 1);
}
