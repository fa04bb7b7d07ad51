/* call.h: running user code: the one protected call, its error reports, and the modules the host needs. */
#ifndef MEMSCRIPT_CALL_H
#define MEMSCRIPT_CALL_H

#include <lua.h>

/*
 * Calls the function below narg arguments on the stack with a traceback handler, inside the guard
 * (--timeout, Ctrl-C), as the only way user code runs. Returns a lua_pcall status; on error the
 * message (with traceback) is on the stack.
 */
int host_docall(lua_State *L, int narg, int nres);

/* Prints the error on top of the stack, if any, and pops it; returns status unchanged. */
int host_report(lua_State *L, int status);

/*
 * True, after saying so, when the run reached --max-memory and the script caught the error: what
 * it went on to print may lack what it could not build, so the run cannot end OK.
 */
int host_memory_cap_caught(void);

/* Prints "memscript: MSG" on stderr. */
void host_message(const char *msg);

/* Keeps Lua's own require (the global as the standard library set it), before any user code runs. */
void host_keep_require(lua_State *L);

/*
 * Pushes the module `name` as Lua's own require loads it: the require kept by host_keep_require,
 * not the global of that name, which a script may replace. Raises on error.
 */
void host_require(lua_State *L, const char *name);

#endif
