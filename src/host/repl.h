/* repl.h: the interactive session. */
#ifndef MEMSCRIPT_REPL_H
#define MEMSCRIPT_REPL_H

#include <lua.h>

/* Reads, evaluates and prints lines until end of input. */
void repl_run(lua_State *L);

#endif
