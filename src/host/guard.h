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

/*
 * Memory held outside the Lua heap (lua-cjson's buffers, an archive read into memory) counted
 * against the same cap: guard_charge returns 1 after counting bytes, or 0, counting nothing and
 * noting the refusal (guard_memory_refused), when they do not fit. guard_release gives bytes back.
 */
int guard_charge(size_t bytes);
void guard_release(size_t bytes);

/* While allow is set, guard_charge does not enforce the cap (for small repairs after a refusal). */
void guard_overdraft(int allow);

/* Raises Lua's own memory error (LUA_ERRMEM, "not enough memory") in L; does not return. */
void guard_raise_memory_error(lua_State *L);

/* True once the time limit has passed. */
int guard_timed_out(void);

/* Turns the deadline's timer off, once everything it bounds (user code, closing the state) is over. */
void guard_stop_timer(void);

/*
 * For C code that runs long outside user code (loading an archive): NULL to go on, or why to
 * stop (the deadline passed, Ctrl-C), as a message.
 */
const char *guard_should_stop(void);

/*
 * Closes the state as part of the guarded run: its finalizers, which run with hooks off, are
 * still bounded by the deadline (ended with status 3 after the grace) and Ctrl-C (ended at once,
 * status 3). May be called from inside the state (os.exit), which must not be used after.
 */
void guard_close(lua_State *L);

/* True while guard_close runs: a finalizer calling os.exit then must not close the state again. */
int guard_closing(void);

/*
 * Whether Ctrl-C outside user code (between watch runs) is caught, so the watch loop ends
 * cleanly, instead of ending the process as the default action does.
 */
void guard_catch_idle_interrupts(int catch_them);

/*
 * True after a Ctrl-C that ended user code or a sleep, until the next guard_enter; and for good
 * after one caught outside user code (guard_catch_idle_interrupts), so that one between two watch
 * runs is not lost.
 */
int guard_interrupted(void);

/* Seconds on a monotonic clock. */
double guard_now(void);

/* Sleeps; returns 0 when Ctrl-C or the deadline cut the sleep short. */
int guard_sleep(double seconds);

#endif
