/* guard.c: the capped allocator and the hook that interrupts user code on Ctrl-C or a deadline. */
#include "host/guard.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "host/outfile.h"
#include "host/heap.h"

/* One state per process, so the guard's state is process-wide, as a signal handler needs. */
static size_t memory_cap;
static size_t memory_used;
static volatile sig_atomic_t memory_refused;
static double timeout_seconds;
static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t ever_interrupted;
/* A Ctrl-C caught outside user code (catch_idle): kept until the watch loop sees it, which
 * guard_enter's reset of ever_interrupted must not hide. */
static volatile sig_atomic_t idle_interrupted;
static int catch_idle;
static volatile sig_atomic_t timed_out;
static lua_State *volatile guarded_state;
/* Set while the state is being closed (guard_close): no hook may be armed on it any more. */
static volatile sig_atomic_t closing;
/* While set, the cap is not enforced: a repair after a refusal must not itself be refused. */
static int overdraft;

/*
 * A signal handler can arm the hook of the main thread only, and hooks belong to each Lua thread:
 * so every coroutine is made with a count hook that looks at the flags every PATROL_COUNT
 * instructions (guard_patrol_coroutines). The main thread runs unhooked until a signal comes: a
 * hook makes the interpreter trace every instruction, doubling the time of a plain Lua loop.
 */
#define PATROL_COUNT 1000

/*
 * Seconds after the deadline that a script stuck inside one call into C (a pathological string
 * pattern, say), which no hook interrupts, is given before memscript ends at once.
 */
#define GRACE_SECONDS 1

/*
 * Written by the alarm handler when the grace is over, by what was running then: user code, the
 * finalizers of the closing state, or anything else (loading an archive, say). Made when the
 * timeout is set.
 */
static char stuck_message[200], closing_message[200], busy_message[200];
/* What guard_should_stop says after the deadline. */
static char timeout_reason[100] = "timeout: the run took longer than the --timeout";
static size_t stuck_message_len, closing_message_len, busy_message_len;

/* A request this large is refused without asking malloc: no machine has it, and it is how
 * guard_raise_memory_error makes Lua raise its own memory error. */
#define IMPOSSIBLE_SIZE ((size_t)1 << 62)

int guard_charge(size_t bytes)
{
	if (bytes >= IMPOSSIBLE_SIZE)
		return 0;
	if (memory_cap != 0 && !overdraft && (bytes > memory_cap || memory_used > memory_cap - bytes)) {
		memory_refused = 1;
		return 0;
	}
	memory_used += bytes;
	return 1;
}

void guard_release(size_t bytes)
{
	memory_used -= bytes < memory_used ? bytes : memory_used;
}

void guard_overdraft(int allow)
{
	overdraft = allow;
}

void guard_raise_memory_error(lua_State *L)
{
	/* Refused by capped_alloc, so Lua raises LUA_ERRMEM with its own preallocated message. */
	lua_newuserdatauv(L, IMPOSSIBLE_SIZE, 0);
	luaL_error(L, "not enough memory"); /* not reached */
}

/* lua_Alloc: frees and shrinks always succeed; growth past the cap is refused, so Lua raises a
 * memory error the script sees like any allocation failure. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	size_t old = ptr != NULL ? osize : 0; /* osize encodes a type when ptr is NULL */
	void *grown;

	(void)ud;
	if (nsize == 0) {
		heap_free(ptr, old);
		guard_release(old);
		return NULL;
	}
	if (nsize > old && !guard_charge(nsize - old))
		return NULL;
	grown = heap_realloc(ptr, old, nsize);
	if (grown == NULL) {
		if (nsize > old)
			guard_release(nsize - old);
		return NULL;
	}
	if (nsize < old)
		guard_release(old - nsize);
	return grown;
}

static int panic(lua_State *L)
{
	const char *msg = lua_tostring(L, -1);
	fprintf(stderr, "memscript: unprotected error: %s\n", msg ? msg : "(not a string)");
	return 0;
}

lua_State *guard_newstate(size_t max_bytes)
{
	lua_State *L;

	memory_cap = max_bytes;
	L = lua_newstate(capped_alloc, NULL);
	if (L != NULL)
		lua_atpanic(L, panic);
	return L;
}

size_t guard_memory_cap(void)
{
	return memory_cap;
}

int guard_memory_refused(void)
{
	return memory_refused;
}

int guard_timed_out(void)
{
	return timed_out;
}

/*
 * Raises the error that stops user code. After the deadline the hook stays armed on every
 * instruction, so a pcall that catches the error is interrupted again at its next instruction:
 * the only way out is through the host's own protected call.
 */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	if (timed_out) {
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, 1);
		luaL_error(L, "timeout: the script ran longer than %f seconds (--timeout)", timeout_seconds);
	}
	if (interrupted) {
		/* A coroutine raises it and leaves the flag, so the main thread stops too. */
		if (L == guarded_state) {
			interrupted = 0;
			lua_sethook(L, NULL, 0, 0);
		}
		luaL_error(L, "interrupted!");
	}
	/* Armed for a Ctrl-C that was taken care of: back to no hook (main) or the patrol (coroutine). */
	if (L == guarded_state)
		lua_sethook(L, NULL, 0, 0);
	else if (lua_gethookcount(L) != PATROL_COUNT)
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, PATROL_COUNT);
}

/*
 * Signal handlers only set a flag and arm the hook (lua_sethook is safe in one, as lua.c does).
 * Never on a state being closed: it may already be freed.
 */
static void arm(void)
{
	if (guarded_state != NULL && !closing)
		lua_sethook(guarded_state, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Ends the process at once from a signal handler: -o's temporary file removed, the message written. */
static void end_now(const char *message, size_t len)
{
	int saved_errno = errno;

	outfile_discard_from_signal();
	if (write(STDERR_FILENO, message, len) < 0) {
		/* nothing more can be done about it */
	}
	errno = saved_errno;
	_exit(3);
}

static void on_sigint(int sig)
{
	static const char closing_interrupted[] =
		"memscript: interrupted while closing the Lua state (its __gc finalizers): ended at once\n";

	(void)sig;
	ever_interrupted = 1;
	if (closing) {
		/* Finalizers run with hooks off (lua_close), so nothing but ending here stops one. */
		end_now(closing_interrupted, sizeof(closing_interrupted) - 1);
	}
	if (guarded_state == NULL && catch_idle) {
		idle_interrupted = 1;
		return;
	}
	if (guarded_state == NULL) {
		/* Not in user code: end as the default action would, leaving no temporary file. */
		outfile_discard_from_signal();
		signal(SIGINT, SIG_DFL);
		raise(SIGINT);
		return;
	}
	interrupted = 1;
	arm();
}

static void on_alarm(int sig)
{
	(void)sig;
	if (timed_out) {
		/* The grace is over and memscript still runs: stuck where no hook reaches it. */
		if (closing)
			end_now(closing_message, closing_message_len);
		if (guarded_state != NULL)
			end_now(stuck_message, stuck_message_len);
		end_now(busy_message, busy_message_len);
	}
	if (!timed_out) {
		struct itimerval grace;
		memset(&grace, 0, sizeof(grace));
		grace.it_value.tv_sec = GRACE_SECONDS;
		setitimer(ITIMER_REAL, &grace, NULL);
	}
	timed_out = 1;
	arm();
}

void guard_set_timeout(double seconds)
{
	struct itimerval deadline;
	struct sigaction sa;

	if (seconds <= 0)
		return;
	timeout_seconds = seconds;
	snprintf(stuck_message, sizeof(stuck_message),
		 "memscript: timeout: the script ran longer than %.14g seconds (--timeout) and was still "
		 "inside one call into C %d s later: ended at once, output not yet written is lost\n",
		 seconds, GRACE_SECONDS);
	stuck_message_len = strlen(stuck_message);
	snprintf(closing_message, sizeof(closing_message),
		 "memscript: timeout: the script ran longer than %.14g seconds (--timeout) and its __gc "
		 "finalizers were still running %d s later: ended at once\n", seconds, GRACE_SECONDS);
	closing_message_len = strlen(closing_message);
	snprintf(busy_message, sizeof(busy_message),
		 "memscript: timeout: the run took longer than %.14g seconds (--timeout) and had not ended "
		 "%d s later: ended at once, output not yet written is lost\n", seconds, GRACE_SECONDS);
	busy_message_len = strlen(busy_message);
	snprintf(timeout_reason, sizeof(timeout_reason),
		 "timeout: the run took longer than %.14g seconds (--timeout)", seconds);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	memset(&deadline, 0, sizeof(deadline));
	deadline.it_value.tv_sec = (time_t)seconds;
	deadline.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
	if (deadline.it_value.tv_sec == 0 && deadline.it_value.tv_usec == 0)
		deadline.it_value.tv_usec = 1;
	setitimer(ITIMER_REAL, &deadline, NULL);
}

static void install_sigint(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

void guard_catch_idle_interrupts(int catch_them)
{
	catch_idle = catch_them;
	if (catch_them)
		install_sigint();
}

int guard_interrupted(void)
{
	return ever_interrupted || idle_interrupted;
}

double guard_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int guard_sleep(double seconds)
{
	struct timespec ts;

	if (guard_interrupted() || timed_out)
		return 0;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	return nanosleep(&ts, NULL) == 0 && !guard_interrupted() && !timed_out;
}

/*
 * coroutine.create and coroutine.wrap, patrolled (upvalue 1: Lua's own function): the new thread
 * copies the hook of the thread that creates it, so the patrol is set on the creator for the
 * creation only. A hook of the script's own (debug.sethook) is inherited as it would be.
 */
static int patrolled_create(lua_State *L)
{
	lua_Hook hook = lua_gethook(L);
	int mask = lua_gethookmask(L), count = lua_gethookcount(L);
	int patrol = hook == NULL || hook == stop_hook;
	int status;

	luaL_checktype(L, 1, LUA_TFUNCTION); /* raised here, the message names this function */
	if (patrol)
		lua_sethook(L, stop_hook, LUA_MASKCOUNT, PATROL_COUNT);
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	if (patrol) {
		lua_sethook(L, hook, mask, count);
		/* A signal that armed this thread while it was patrolled must not be lost. */
		if ((timed_out || interrupted) && L == guarded_state)
			lua_sethook(L, stop_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
	}
	if (status != LUA_OK)
		return lua_error(L);
	return lua_gettop(L);
}

void guard_patrol_coroutines(lua_State *L)
{
	static const char *const names[] = {"create", "wrap"};
	size_t i;

	if (lua_getglobal(L, "coroutine") != LUA_TTABLE) {
		lua_pop(L, 1);
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		lua_getfield(L, -1, names[i]);
		lua_pushcclosure(L, patrolled_create, 1);
		lua_setfield(L, -2, names[i]);
	}
	lua_pop(L, 1);
}

void guard_stop_timer(void)
{
	struct itimerval off;

	memset(&off, 0, sizeof(off));
	setitimer(ITIMER_REAL, &off, NULL);
}

const char *guard_should_stop(void)
{
	if (timed_out)
		return timeout_reason;
	if (interrupted || idle_interrupted)
		return "interrupted";
	return NULL;
}

void guard_close(lua_State *L)
{
	closing = 1;
	guarded_state = L;
	install_sigint();
	lua_close(L);
	guarded_state = NULL;
	closing = 0;
}

int guard_closing(void)
{
	return closing;
}

void guard_enter(lua_State *L)
{
	guarded_state = L;
	ever_interrupted = 0;
	install_sigint();
	if (timed_out)
		arm();
}

void guard_leave(lua_State *L)
{
	guarded_state = NULL;
	interrupted = 0;
	/* A Ctrl-C that came as the call returned must not stop the next call's first line. */
	if (lua_gethook(L) == stop_hook && !timed_out)
		lua_sethook(L, NULL, 0, 0);
}
