/* runtime.h: the one door through which C reaches the Lua library: the fields of memscript.runtime. */
#ifndef MEMSCRIPT_RUNTIME_H
#define MEMSCRIPT_RUNTIME_H

#include <lua.h>

/*
 * Loads memscript.runtime (lua/memscript/runtime.lua) from package.preload and keeps it where no
 * script can replace it. The host calls it before any user code runs; runtime_push calls it when
 * that has not happened. Returns 1, or 0 when the module is not in package.preload (the binding
 * used alone, as the fuzz harnesses do). Raises an error the module's loading raised.
 */
int runtime_load(lua_State *L);

/* Pushes memscript.runtime[name] and returns 1, or pushes nothing and returns 0 (as runtime_load). */
int runtime_push(lua_State *L, const char *name);

#endif
