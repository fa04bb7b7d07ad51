/* call.c: the one protected path for user code: a traceback handler, the guard around it, errors reported. */
#include "host/call.h"

#include <stdio.h>

#include <lauxlib.h>

#include "bind/runtime.h"
#include "host/guard.h"

void host_message(const char *msg)
{
	fprintf(stderr, "memscript: %s\n", msg);
	fflush(stderr);
}

/* Whether the --max-memory message has been printed. */
static int memory_cap_reported;

int host_report(lua_State *L, int status)
{
	if (status == LUA_ERRMEM && guard_memory_refused()) {
		char msg[160];
		snprintf(msg, sizeof(msg), "not enough memory: the run reached its --max-memory limit of %zu bytes",
			 guard_memory_cap());
		host_message(msg);
		memory_cap_reported = 1;
		lua_pop(L, 1);
		return status;
	}
	if (status != LUA_OK) {
		const char *msg = lua_tostring(L, -1);
		if (msg != NULL && status != LUA_ERRMEM && lua_checkstack(L, 3)) {
			/*
			 * Escaped (memscript.text) when the library can do it: no hook (the deadline's stays
			 * armed after a timeout) may interrupt it; on any failure the message is printed as it is.
			 */
			lua_Hook hook = lua_gethook(L);
			int mask = lua_gethookmask(L), count = lua_gethookcount(L);
			lua_sethook(L, NULL, 0, 0);
			if (runtime_push(L, "escape_message")) {
				lua_pushvalue(L, -2);
				if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isstring(L, -1))
					lua_replace(L, -2);
				else
					lua_pop(L, 1);
				msg = lua_tostring(L, -1);
			}
			lua_sethook(L, hook, mask, count);
		}
		host_message(msg != NULL ? msg : "(error object is not a string)");
		lua_pop(L, 1);
	}
	return status;
}

/*
 * True, after saying so, when the heap reached --max-memory and the script caught the error: what
 * it went on to print may lack what it could not build, so the run cannot end OK.
 */
int host_memory_cap_caught(void)
{
	char msg[200];

	if (!guard_memory_refused() || memory_cap_reported)
		return 0;
	snprintf(msg, sizeof(msg), "not enough memory: the run reached its --max-memory limit of %zu bytes "
		 "(the script caught the error; its results may be incomplete)", guard_memory_cap());
	host_message(msg);
	memory_cap_reported = 1;
	return 1;
}

/* Message handler: turns any error object into a string with a traceback (lua.c's msghandler). */
static int msghandler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);

	if (msg == NULL) {
		if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
			return 1;
		msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
	}
	luaL_traceback(L, L, msg, 1);
	return 1;
}

int host_docall(lua_State *L, int narg, int nres)
{
	int status;
	int base = lua_gettop(L) - narg;

	lua_pushcfunction(L, msghandler);
	lua_insert(L, base);
	guard_enter(L);
	status = lua_pcall(L, narg, nres, base);
	guard_leave(L);
	lua_remove(L, base);
	return status;
}

/* The registry key of Lua's own require, kept before any user code runs. */
#define REQUIRE_KEY "memscript.host.require"

void host_keep_require(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_setfield(L, LUA_REGISTRYINDEX, REQUIRE_KEY);
}

void host_require(lua_State *L, const char *name)
{
	lua_getfield(L, LUA_REGISTRYINDEX, REQUIRE_KEY);
	lua_pushstring(L, name);
	lua_call(L, 1, 1);
}
