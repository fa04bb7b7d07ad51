/* lsize.c: module memscript.size: the one size grammar (src/core/size_parse.c) for Lua. */
#include "bind/lsize.h"

#include <lauxlib.h>

#include "core/size_parse.h"

/* Pushes nil and why a text is not a size: "invalid" or "too large". */
static void push_refusal(lua_State *L, enum size_status status)
{
	lua_pushnil(L);
	lua_pushstring(L, status == SIZE_TOO_LARGE ? "too large" : "invalid");
}

/* parse(text) -> bytes | nil, "invalid" | "too large": the whole text as one size. */
static int size_lua_parse(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	uint64_t bytes;
	enum size_status status = size_parse(text, len, &bytes);

	if (status != SIZE_OK) {
		push_refusal(L, status);
		return 2;
	}
	lua_pushinteger(L, (lua_Integer)bytes);
	return 1;
}

/*
 * scan(text, init) -> bytes, next | nil, "invalid" | "too large", next: the size that starts at
 * byte init of text (1-based, as string.find counts); next is the byte after it (init when text
 * has no digit there). A unit counts only as a whole word (see size_scan).
 */
static int size_lua_scan(lua_State *L)
{
	size_t len, used;
	const char *text = luaL_checklstring(L, 1, &len);
	lua_Integer init = luaL_optinteger(L, 2, 1);
	uint64_t bytes;
	enum size_status status;

	luaL_argcheck(L, init >= 1 && (size_t)init <= len + 1, 2, "initial position out of range");
	status = size_scan(text + init - 1, len - (size_t)(init - 1), &used, &bytes);
	if (status != SIZE_OK) {
		push_refusal(L, status);
		lua_pushinteger(L, init + (lua_Integer)used);
		return 3;
	}
	lua_pushinteger(L, (lua_Integer)bytes);
	lua_pushinteger(L, init + (lua_Integer)used);
	return 2;
}

static const luaL_Reg size_functions[] = {
	{"parse", size_lua_parse},
	{"scan", size_lua_scan},
	{NULL, NULL},
};

int luaopen_memscript_size(lua_State *L)
{
	luaL_newlib(L, size_functions);
	return 1;
}
