/* lcapture.c: module memscript.capture: a capture writer for scripts/capture.lua, over src/source/capture.c. */
#include "bind/lcapture.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "source/archive_pack.h"
#include "source/capture.h"

#define WRITER "memscript.capture.writer"

static struct capture_writer **check_writer(lua_State *L)
{
	struct capture_writer **w = luaL_checkudata(L, 1, WRITER);
	luaL_argcheck(L, *w != NULL, 1, "the capture writer is closed");
	return w;
}

static int failure(lua_State *L, const char *msg, int err)
{
	lua_pushnil(L);
	lua_pushstring(L, msg);
	lua_pushinteger(L, err);
	return 3;
}

/* create(dir): a writer, or nil, message, errno. */
static int capture_lua_create(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	struct capture_writer **w = lua_newuserdatauv(L, sizeof(*w), 0);
	char err[PATH_MAX + 256];
	int e;

	*w = NULL;
	luaL_setmetatable(L, WRITER);
	e = capture_create(dir, w, err, sizeof(err));
	if (e != 0)
		return failure(L, err, e);
	return 1;
}

/* w:process(pid, names, bytes): the files names[i] holding bytes[names[i]] (absent ones skipped). */
static int writer_process(lua_State *L)
{
	struct capture_writer **w = check_writer(L);
	lua_Integer pid = luaL_checkinteger(L, 2);
	const char *names[32], *data[32];
	size_t len[32], n, i;
	char pidname[32], err[PATH_MAX + 256];
	int e;

	luaL_argcheck(L, pid > 0 && pid <= INT_MAX, 2, "pid must be a positive integer");
	luaL_checktype(L, 3, LUA_TTABLE);
	luaL_checktype(L, 4, LUA_TTABLE);
	n = (size_t)lua_rawlen(L, 3);
	luaL_argcheck(L, n <= 32, 3, "at most 32 files");
	lua_settop(L, 4);
	for (i = 0; i < n; i++) {
		lua_rawgeti(L, 3, (lua_Integer)i + 1);
		names[i] = luaL_checkstring(L, -1);
		luaL_argcheck(L, names[i][0] != '\0' && strchr(names[i], '/') == NULL && strcmp(names[i], ".") != 0 &&
				 strcmp(names[i], "..") != 0, 3, "file names without '/'");
		lua_pushvalue(L, -1);
		if (lua_rawget(L, 4) == LUA_TSTRING)
			data[i] = lua_tolstring(L, -1, &len[i]);
		else
			data[i] = NULL, len[i] = 0;
		/* names and bytes stay on the stack, so their pointers stay valid */
	}
	snprintf(pidname, sizeof(pidname), "%lld", (long long)pid);
	e = capture_write_process(*w, pidname, n, names, data, len, err, sizeof(err));
	if (e != 0)
		return failure(L, err, e);
	lua_pushboolean(L, 1);
	return 1;
}

static int write_file(lua_State *L, int sys)
{
	struct capture_writer **w = check_writer(L);
	const char *rel = luaL_checkstring(L, 2);
	size_t len;
	const char *data = luaL_checklstring(L, 3, &len);
	char err[PATH_MAX + 256];
	int e = capture_write_file(*w, sys, rel, data, len, err, sizeof(err));

	if (e != 0)
		return failure(L, err, e);
	lua_pushboolean(L, 1);
	return 1;
}

/* w:file(name, bytes): a file of the proc tree's top. */
static int writer_file(lua_State *L)
{
	return write_file(L, 0);
}

/* w:sys_file(relpath, bytes): a file of the sys tree ("fs/cgroup/memory.stat"). */
static int writer_sys_file(lua_State *L)
{
	return write_file(L, 1);
}

/* w:pack(path): the capture so far packed into the archive path (format by its name). */
static int writer_pack(lua_State *L)
{
	static const char *const trees[] = {"proc", "sys"};
	struct capture_writer **w = check_writer(L);
	const char *path = luaL_checkstring(L, 2);
	char err[PATH_MAX + 512];
	int e = archive_pack(capture_top_fd(*w), trees, 2, path, err, sizeof(err));

	if (e != 0)
		return failure(L, err, e);
	lua_pushboolean(L, 1);
	return 1;
}

/* w:finish(): no more processes: removes the staging directory. Files and packing stay possible. */
static int writer_finish(lua_State *L)
{
	struct capture_writer **w = check_writer(L);
	char err[PATH_MAX + 256];
	int e = capture_finish(*w, err, sizeof(err));

	if (e != 0)
		return failure(L, err, e);
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * w:close() (also <close> and the collector): the descriptors are closed; an unfinished capture
 * keeps its staging directory, as an interrupted capture does.
 */
static int writer_close(lua_State *L)
{
	struct capture_writer **w = luaL_checkudata(L, 1, WRITER);

	if (*w != NULL)
		capture_abandon(*w);
	*w = NULL;
	return 0;
}

static const luaL_Reg writer_methods[] = {
	{"close", writer_close},
	{"file", writer_file},
	{"finish", writer_finish},
	{"pack", writer_pack},
	{"process", writer_process},
	{"sys_file", writer_sys_file},
	{NULL, NULL},
};

static const luaL_Reg capture_functions[] = {
	{"create", capture_lua_create},
	{NULL, NULL},
};

static void push_list(lua_State *L, const char *const *names)
{
	lua_Integer i;

	lua_newtable(L);
	for (i = 0; names[i] != NULL; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, i + 1);
	}
}

int luaopen_memscript_capture(lua_State *L)
{
	if (luaL_newmetatable(L, WRITER)) {
		luaL_newlib(L, writer_methods);
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, writer_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, writer_close);
		lua_setfield(L, -2, "__close");
	}
	lua_pop(L, 1);
	luaL_newlib(L, capture_functions);
	lua_pushliteral(L, CAPTURE_META);
	lua_setfield(L, -2, "META");
	push_list(L, capture_process_files);
	lua_setfield(L, -2, "PROCESS_FILES");
	push_list(L, capture_system_files);
	lua_setfield(L, -2, "SYSTEM_FILES");
	return 1;
}
