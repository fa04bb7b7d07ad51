/* cjson_guard.h: lua-cjson's own buffers counted against --max-memory, and freed when a call fails. */
#ifndef MEMSCRIPT_CJSON_GUARD_H
#define MEMSCRIPT_CJSON_GUARD_H

#include <lua.h>

/*
 * The opener of the "cjson" module for package.preload: lua-cjson's module, each of its
 * functions (and those of the tables cjson.new() makes) run protected, so that a failure inside
 * lua-cjson (its buffers refused by --max-memory, a Lua memory error) frees what the call had
 * allocated for itself and leaves the instance usable, then raises the error again: a memory
 * error as Lua's own (LUA_ERRMEM).
 */
int cjson_guard_open(lua_State *L);

/* Frees the buffers of lua-cjson still allocated; for after the state is closed, when no owner is left. */
void cjson_guard_release_all(void);

#endif
