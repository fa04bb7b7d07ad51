/* lproc.h: the `proc` Lua module, the one place that knows both the /proc parsers and Lua. */
#ifndef MEMSCRIPT_LPROC_H
#define MEMSCRIPT_LPROC_H

#include <lua.h>

/*
 * Pushes a new `proc` table whose functions read files under root ("/proc", or a captured tree).
 * Raises an error if root is longer than a path can be.
 */
void lproc_push(lua_State *L, const char *root);

/* Opens `proc` on the root of MEMSCRIPT_PROC_ROOT or "/proc"; for package.preload and luaL_requiref. */
int luaopen_memscript_proc(lua_State *L);

#endif
