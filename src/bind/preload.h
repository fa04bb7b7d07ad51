/* preload.h: the lua/ modules and docs compiled into the binary, registered in package.preload. */
#ifndef MEMSCRIPT_PRELOAD_H
#define MEMSCRIPT_PRELOAD_H

#include <stddef.h>

struct embedded_module {
	const char *name;      /* "memscript.units" */
	const char *chunkname; /* "@memscript/units.lua", so tracebacks name the source file */
	const char *source;
	size_t size;
	int is_text;           /* a docs page: require returns the text itself */
};

/* Generated at build time by cmake/embed_lua.cmake; ends with a NULL name. */
extern const struct embedded_module embedded_modules[];

struct lua_State;

/* Registers the embedded modules and the linked C modules (lpeg, cjson, memscript.size, memscript.sys) in package.preload. */
void preload_register(struct lua_State *L);

#endif
