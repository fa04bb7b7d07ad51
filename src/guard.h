/* guard.h: limits on user code: a Lua heap with a cap, a time limit, and Ctrl-C, through one hook. */
#ifndef MEMSCRIPT_GUARD_H
#define MEMSCRIPT_GUARD_H

#include <stddef.h>

#include <lua.h>

/* A new state whose heap may not grow past max_bytes (0: no cap). NULL if out of memory. */
lua_State *guard_newstate(size_t max_bytes);

/* Stops user code once seconds have passed from now (0: never). Call once, before running it. */
void guard_set_timeout(double seconds);

/* Around every call into user code: Ctrl-C and the deadline interrupt it only in between. */
void guard_enter(lua_State *L);
void guard_leave(lua_State *L);

/* The cap given to guard_newstate, and whether an allocation was refused because of it. */
size_t guard_memory_cap(void);
int guard_memory_refused(void);

/* True once the time limit has passed. */
int guard_timed_out(void);

#endif
