/* lcapture.h: module memscript.capture: writing a capture (the format lives in src/source/capture.c). */
#ifndef MEMSCRIPT_LCAPTURE_H
#define MEMSCRIPT_LCAPTURE_H

#include <lua.h>

int luaopen_memscript_capture(lua_State *L);

#endif
