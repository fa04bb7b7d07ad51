/* scripts.h: the scripts memscript runs by name, and what it says of the bundled ones. */
#ifndef MEMSCRIPT_SCRIPTS_H
#define MEMSCRIPT_SCRIPTS_H

#include <stddef.h>

#include <lua.h>

/* Where host_find_script found a script. */
enum script_found {
	SCRIPT_NOT_FOUND = 0,
	SCRIPT_GIVEN,   /* a name with a '/': the path the user typed */
	SCRIPT_LOOKED_UP, /* a bare name found in the current directory or MEMSCRIPT_PATH */
	SCRIPT_BUNDLED, /* among memscript's own scripts */
};

/*
 * Resolves a script argument into path: a name with a '/' is used as given; a bare name is looked
 * up in the current directory, MEMSCRIPT_PATH, then the bundled scripts.
 */
enum script_found host_find_script(const char *name, char *path, size_t size);

/*
 * Compiles the script found at path, leaving it on the stack (mode as luaL_loadfilex's). A script
 * found by a bare name in a directory (SCRIPT_LOOKED_UP) is run only when it is a regular file
 * owned by the user memscript runs as or by root that no one else may write: root typing
 * `memscript report.lua` in /tmp must not run a report.lua another user left there. The file is
 * checked and read through one descriptor. Returns a lua status; LUA_ERRFILE with the message
 * pushed when the script is refused.
 */
int host_load_script(lua_State *L, const char *path, enum script_found found, const char *mode);

/* The message for a script name host_find_script did not find. */
void host_say_script_not_found(const char *name);

/* --list: each bundled script, in name order, with its summary and usage line. Returns success. */
int host_list_scripts(lua_State *L);

/* --complete SCRIPT: the completion data of the script that running SCRIPT would run. Returns success. */
int host_complete_script(lua_State *L, const char *name);

#endif
