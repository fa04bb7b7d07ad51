/* runtime.c: memscript.runtime, loaded once from package.preload and kept in the registry. */
#include "bind/runtime.h"

#include <lauxlib.h>

/* The registry key of the loaded module: a script reaches the registry only through debug. */
static const char runtime_key = 0;

int runtime_load(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&runtime_key);
	if (lua_rawget(L, LUA_REGISTRYINDEX) == LUA_TTABLE) {
		lua_pop(L, 1);
		return 1;
	}
	lua_pop(L, 1);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	if (lua_getfield(L, -1, "memscript.runtime") != LUA_TFUNCTION) {
		lua_pop(L, 2);
		return 0;
	}
	lua_remove(L, -2);
	lua_pushliteral(L, "memscript.runtime");
	lua_call(L, 1, 1);
	if (!lua_istable(L, -1))
		luaL_error(L, "memscript.runtime did not load as a table");
	lua_pushlightuserdata(L, (void *)&runtime_key);
	lua_insert(L, -2);
	lua_rawset(L, LUA_REGISTRYINDEX);
	return 1;
}

int runtime_push(lua_State *L, const char *name)
{
	lua_pushlightuserdata(L, (void *)&runtime_key);
	if (lua_rawget(L, LUA_REGISTRYINDEX) != LUA_TTABLE) {
		lua_pop(L, 1);
		if (!runtime_load(L))
			return 0;
		lua_pushlightuserdata(L, (void *)&runtime_key);
		lua_rawget(L, LUA_REGISTRYINDEX);
	}
	lua_getfield(L, -1, name);
	lua_remove(L, -2);
	return 1;
}
