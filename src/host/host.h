/* host.h: the memscript command: options, the Lua state, running user code protected. */
#ifndef MEMSCRIPT_HOST_H
#define MEMSCRIPT_HOST_H

#include <lua.h>

/* Exit statuses of the Monitoring Plugins convention. */
enum host_status {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
	STATUS_UNKNOWN = 3,
};

/* Runs memscript with argv; returns the process exit status. */
int host_main(int argc, char **argv);

/*
 * Calls the function below narg arguments on the stack with a traceback handler, as the only way
 * user code runs. Returns a lua_pcall status; on error the message (with traceback) is on the stack.
 */
int host_docall(lua_State *L, int narg, int nres);

/*
 * Pushes the module `name` as Lua's own require loads it: the require saved before any user code
 * ran, not the global of that name, which a script may replace. Raises on error.
 */
void host_require(lua_State *L, const char *name);

/* Prints "memscript: MSG" on stderr. */
void host_message(const char *msg);

/* Prints the error on top of the stack, if any, and pops it; returns status unchanged. */
int host_report(lua_State *L, int status);

#endif
