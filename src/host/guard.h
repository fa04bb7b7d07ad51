/* guard.h: limits on user code: a Lua heap with a cap, a time limit, and Ctrl-C, through one hook. */
#ifndef MEMSCRIPT_GUARD_H
#define MEMSCRIPT_GUARD_H

#include <stddef.h>

#include <lua.h>

/* A new state whose heap may not grow past max_bytes (0: no cap). NULL if out of memory. */
lua_State *guard_newstate(size_t max_bytes);

/* Stops user code once seconds have passed from now (0: never). Call once, before running it. */
void guard_set_timeout(double seconds);

/*
 * Replaces coroutine.create and coroutine.wrap with versions whose coroutines the deadline and
 * Ctrl-C reach too. Call once, after the standard libraries are opened.
 */
void guard_patrol_coroutines(lua_State *L);

/* Around every call into user code: Ctrl-C and the deadline interrupt it only in between. */
void guard_enter(lua_State *L);
void guard_leave(lua_State *L);

/* The cap given to guard_newstate, and whether an allocation was refused because of it. */
size_t guard_memory_cap(void);
int guard_memory_refused(void);

/* True once the time limit has passed. */
int guard_timed_out(void);

/*
 * Whether Ctrl-C outside user code (between watch runs) is caught, so the watch loop ends
 * cleanly, instead of ending the process as the default action does.
 */
void guard_catch_idle_interrupts(int catch_them);

/* True after a Ctrl-C that ended user code or a sleep, until the next guard_enter. */
int guard_interrupted(void);

/* Seconds on a monotonic clock. */
double guard_now(void);

/* Sleeps; returns 0 when Ctrl-C or the deadline cut the sleep short. */
int guard_sleep(double seconds);

#endif
