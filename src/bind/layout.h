/* layout.h: the key order and units of a "Key: value" record, kept beside the table built from it. */
#ifndef MEMSCRIPT_LAYOUT_H
#define MEMSCRIPT_LAYOUT_H

#include <lua.h>

/*
 * A table built from "Key: value" lines (status, meminfo, smaps_rollup, one mapping of smaps)
 * holds the values by key, sizes in bytes; its metatable, a layout, holds what the table cannot:
 * the keys in the order the kernel printed them and which of them it printed in kB. Tables with
 * the same layout share one metatable. proc.keys and proc.unit read layouts.
 */

/* Pushes a new, empty layout. */
void layout_new(lua_State *L);

/* Appends the string at index key to the layout at index layout; kb: printed in kB. */
void layout_append(lua_State *L, int layout, int key, int kb);

/* proc.keys(t): the keys of t's layout in the kernel's order, a new array; nil without a layout. */
int layout_keys(lua_State *L);

/* proc.unit(t, key): "kB" when the kernel printed key's value in t in kB, else nil. */
int layout_unit(lua_State *L);

#endif
