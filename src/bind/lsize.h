/* lsize.h: the size grammar of src/core/size_parse.c as the Lua module memscript.size. */
#ifndef MEMSCRIPT_LSIZE_H
#define MEMSCRIPT_LSIZE_H

#include <lua.h>

/* Opens "memscript.size": parse(text) and scan(text, init). */
int luaopen_memscript_size(lua_State *L);

#endif
