/* lsys.c: module memscript.sys: isatty, a monotonic clock, sleeping, and the host's options. */
#include "bind/lsys.h"

#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

/* isatty(fd): true when fd (0, 1 or 2) is a terminal. */
static int sys_isatty(lua_State *L)
{
	lua_Integer fd = luaL_checkinteger(L, 1);
	luaL_argcheck(L, fd >= 0 && fd <= 1024, 1, "file descriptor expected");
	lua_pushboolean(L, isatty((int)fd));
	return 1;
}

/* monotonic(): seconds since an arbitrary point, as a float with nanosecond resolution. */
static int sys_monotonic(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/*
 * sleep(seconds): sleeps. The only signals memscript handles are Ctrl-C and its --timeout alarm,
 * both of which stop the script, so a signal ends the sleep early and the script stops at once.
 */
static int sys_sleep(lua_State *L)
{
	lua_Number seconds = luaL_checknumber(L, 1);
	struct timespec ts;

	luaL_argcheck(L, seconds >= 0 && seconds < 1e9, 1, "seconds out of range");
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
	nanosleep(&ts, NULL);
	return 0;
}

/* time(): wall-clock seconds since the epoch, as a float. */
static int sys_time(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

static const luaL_Reg sys_functions[] = {
	{"isatty", sys_isatty},
	{"monotonic", sys_monotonic},
	{"sleep", sys_sleep},
	{"time", sys_time},
	{NULL, NULL},
};

int luaopen_memscript_sys(lua_State *L)
{
	luaL_newlib(L, sys_functions);
	lua_newtable(L);
	lua_setfield(L, -2, "options");
	/* the version memscript -v prints, for what scripts record (a capture's metadata) */
	lua_pushliteral(L, MEMSCRIPT_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
