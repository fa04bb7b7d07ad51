/* layout.c: layouts, the metatables that keep a record's key order and units. */
#include "bind/layout.h"

#include <lauxlib.h>

/* A layout is a table {keys = {...}, kb = {key = true}} marked by this key, which no script can name. */
static const char layout_mark = 0;

void layout_new(lua_State *L)
{
	luaL_checkstack(L, 4, "layout");
	lua_createtable(L, 0, 3);
	lua_pushlightuserdata(L, (void *)&layout_mark);
	lua_pushboolean(L, 1);
	lua_rawset(L, -3);
	lua_createtable(L, 32, 0);
	lua_setfield(L, -2, "keys");
	lua_createtable(L, 0, 32);
	lua_setfield(L, -2, "kb");
}

void layout_append(lua_State *L, int layout, int key, int kb)
{
	layout = lua_absindex(L, layout);
	key = lua_absindex(L, key);
	luaL_checkstack(L, 3, "layout");
	lua_getfield(L, layout, "keys");
	lua_pushvalue(L, key);
	lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
	lua_pop(L, 1);
	if (kb) {
		lua_getfield(L, layout, "kb");
		lua_pushvalue(L, key);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
		lua_pop(L, 1);
	}
}

/* Pushes the layout of the table at index 1 and returns 1, or returns 0 when it has none. */
static int push_layout(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	if (!lua_getmetatable(L, 1))
		return 0;
	lua_pushlightuserdata(L, (void *)&layout_mark);
	if (lua_rawget(L, -2) != LUA_TBOOLEAN) {
		lua_pop(L, 2);
		return 0;
	}
	lua_pop(L, 1);
	return 1;
}

int layout_keys(lua_State *L)
{
	lua_Integer i, n;

	if (!push_layout(L)) {
		lua_pushnil(L);
		return 1;
	}
	lua_getfield(L, -1, "keys");
	n = (lua_Integer)lua_rawlen(L, -1);
	lua_createtable(L, (int)n, 0);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -2, i);
		lua_rawseti(L, -2, i);
	}
	return 1;
}

int layout_unit(lua_State *L)
{
	luaL_checkany(L, 2);
	if (!push_layout(L)) {
		lua_pushnil(L);
		return 1;
	}
	lua_getfield(L, -1, "kb");
	lua_pushvalue(L, 2);
	if (lua_rawget(L, -2) == LUA_TBOOLEAN)
		lua_pushliteral(L, "kB");
	else
		lua_pushnil(L);
	return 1;
}
