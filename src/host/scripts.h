/* scripts.h: the scripts memscript runs by name, and what it says of the bundled ones. */
#ifndef MEMSCRIPT_SCRIPTS_H
#define MEMSCRIPT_SCRIPTS_H

#include <stddef.h>

#include <lua.h>

/*
 * Resolves a script argument into path: a name with a '/' is used as given; a bare name is looked
 * up in the current directory, MEMSCRIPT_PATH, then the bundled scripts. Returns 0 when not found.
 */
int host_find_script(const char *name, char *path, size_t size);

/* The message for a script name host_find_script did not find. */
void host_say_script_not_found(const char *name);

/* --list: each bundled script, in name order, with its summary and usage line. Returns success. */
int host_list_scripts(lua_State *L);

/* --complete SCRIPT: the completion data of the script that running SCRIPT would run. Returns success. */
int host_complete_script(lua_State *L, const char *name);

#endif
