/* lproc.h: the `proc` Lua module: the files of a source (the running system or a capture) as Lua values. */
#ifndef MEMSCRIPT_LPROC_H
#define MEMSCRIPT_LPROC_H

#include <stddef.h>

#include <lua.h>

/* Which tree a `proc` table reads. */
struct lproc_options {
	const char *root; /* NULL: the running system; else a directory or an archive */
	int proc_root;    /* root names a proc tree or a capture (--proc-root), not a machine's top (--root) */
	size_t max_file;  /* largest file read whole, in bytes (0: no limit) */
};

/* Pushes a new `proc` table reading the tree options name. Raises an error naming the root if it cannot be opened. */
void lproc_push(lua_State *L, const struct lproc_options *options);

/* Opens `proc` on MEMSCRIPT_PROC_ROOT or the running system; for package.preload and luaL_requiref. */
int luaopen_memscript_proc(lua_State *L);

#endif
