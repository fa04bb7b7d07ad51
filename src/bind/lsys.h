/* lsys.h: the few system facts the Lua library needs (terminals, clocks, host options). */
#ifndef MEMSCRIPT_LSYS_H
#define MEMSCRIPT_LSYS_H

#include <lua.h>

/* Opens "memscript.sys"; the host fills its `options` table from the command line. */
int luaopen_memscript_sys(lua_State *L);

#endif
