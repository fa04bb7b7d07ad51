/* preload.c: package.preload entries for the embedded lua/ modules and the linked C modules. */
#include "bind/preload.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "bind/lcapture.h"
#include "bind/lproc.h"
#include "bind/lsize.h"
#include "bind/lsys.h"

int luaopen_lpeg(lua_State *L);
int luaopen_cjson(lua_State *L);

/* package.preload loader: upvalue 1 is the embedded_module. Loads lazily, on first require. */
static int load_embedded(lua_State *L)
{
	const struct embedded_module *m = lua_touserdata(L, lua_upvalueindex(1));

	if (m->is_text) {
		lua_pushlstring(L, m->source, m->size);
		return 1;
	}
	if (luaL_loadbuffer(L, m->source, m->size, m->chunkname) != LUA_OK)
		return lua_error(L);
	lua_pushstring(L, m->name);
	lua_call(L, 1, 1);
	return 1;
}

void preload_register(lua_State *L)
{
	const struct embedded_module *m;

	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	for (m = embedded_modules; m->name != NULL; m++) {
		lua_pushlightuserdata(L, (void *)m);
		lua_pushcclosure(L, load_embedded, 1);
		lua_setfield(L, -2, m->name);
	}
	lua_pushcfunction(L, luaopen_lpeg);
	lua_setfield(L, -2, "lpeg");
	lua_pushcfunction(L, luaopen_cjson);
	lua_setfield(L, -2, "cjson");
	lua_pushcfunction(L, luaopen_memscript_capture);
	lua_setfield(L, -2, "memscript.capture");
	lua_pushcfunction(L, luaopen_memscript_size);
	lua_setfield(L, -2, "memscript.size");
	lua_pushcfunction(L, luaopen_memscript_sys);
	lua_setfield(L, -2, "memscript.sys");
	lua_pop(L, 1);
}
