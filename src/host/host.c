/* host.c: the memscript command line, following the standalone lua interpreter (lua.c). */
#include "host/host.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "host/call.h"
#include "host/cjson_guard.h"
#include "host/options.h"
#include "host/scripts.h"
#include "host/guard.h"
#include "bind/lproc.h"
#include "host/outfile.h"
#include "bind/preload.h"
#include "bind/runtime.h"
#include "host/repl.h"
#include "source/archive_tree.h"

static int dochunk(lua_State *L, int status)
{
	if (status == LUA_OK)
		status = host_docall(L, 0, 0);
	return host_report(L, status);
}

/* NULL (text or binary), or "t" under --sandbox: how user chunks may be loaded. */
static const char *chunk_mode = NULL;

static int dostring(lua_State *L, const char *code, const char *name)
{
	return dochunk(L, luaL_loadbufferx(L, code, strlen(code), name, chunk_mode));
}

/* The registry key of memscript.sys, which the host fills (options, iteration, script_path). */
#define SYS_KEY "memscript.host.sys"

/* Sets memscript.sys[key] to the value on top of the stack (popped), with no metamethod run. */
static void set_sys_field(lua_State *L, const char *key)
{
	lua_getfield(L, LUA_REGISTRYINDEX, SYS_KEY);
	lua_pushstring(L, key);
	lua_pushvalue(L, -3);
	lua_rawset(L, -3);
	lua_pop(L, 2);
}

/* Lua function: -l's spec "MOD" or "G=MOD" -> global G (or MOD) = require(MOD), through the global require as lua's -l. */
static int load_library(lua_State *L)
{
	size_t len;
	const char *spec = luaL_checklstring(L, 1, &len);
	const char *eq = memchr(spec, '=', len);

	lua_getglobal(L, "require");
	if (eq != NULL)
		lua_pushstring(L, eq + 1);
	else
		lua_pushvalue(L, 1);
	lua_call(L, 1, 1);
	lua_pushglobaltable(L);
	lua_pushlstring(L, spec, eq != NULL ? (size_t)(eq - spec) : len);
	lua_pushvalue(L, -3);
	lua_settable(L, -3);
	return 0;
}

/* -l MOD or -l G=MOD, run as user code. */
static int dolibrary(lua_State *L, const char *spec)
{
	lua_pushcfunction(L, load_library);
	lua_pushstring(L, spec);
	return host_report(L, host_docall(L, 1, 0));
}

/* Runs -e and -l in the order given (lua.c's runargs). */
static int run_early_options(lua_State *L, char **argv, int stop)
{
	int i;

	for (i = 1; i < stop; i++) {
		char *a = argv[i];
		char *value = NULL;
		if (strcmp(a, "--proc-root") == 0 || strcmp(a, "--root") == 0 || strcmp(a, "-f") == 0 ||
		    strcmp(a, "--format") == 0 || strcmp(a, "--timeout") == 0 || strcmp(a, "--max-memory") == 0 ||
		    strcmp(a, "-o") == 0 || strcmp(a, "--interval") == 0 || strcmp(a, "--count") == 0 ||
		    strcmp(a, "--complete") == 0 || strcmp(a, "--svg") == 0) {
			i++;
			continue;
		}
		if (a[0] == '-' && (a[1] == 'e' || a[1] == 'l'))
			value = a[2] != '\0' ? a + 2 : argv[++i];
		if (value == NULL)
			continue;
		if (a[1] == 'e') {
			if (dostring(L, value, "=(command line)") != LUA_OK)
				return 0;
		} else if (dolibrary(L, value) != LUA_OK) {
			return 0;
		}
	}
	return 1;
}

/*
 * arg: the script at 0, its arguments at 1..n, the interpreter and options at negative indices.
 * With no script the interpreter is at 0 and the options follow, as in lua.c.
 */
static void create_arg_table(lua_State *L, int argc, char **argv, int script)
{
	int i;

	lua_createtable(L, argc - script, script + 1);
	for (i = 0; i < argc; i++) {
		lua_pushstring(L, argv[i]);
		lua_rawseti(L, -2, i - script);
	}
	lua_setglobal(L, "arg");
}

static int push_script_args(lua_State *L)
{
	int i, n;

	lua_getglobal(L, "arg");
	n = (int)luaL_len(L, -1);
	luaL_checkstack(L, n + 3, "too many arguments to script");
	for (i = 1; i <= n; i++)
		lua_rawgeti(L, -i, i);
	lua_remove(L, -i);
	return n;
}

/* Compiles the script (or standard input) and leaves it on the stack; returns a lua status. */
static int load_script(lua_State *L, const char *name, int from_stdin)
{
	char path[PATH_MAX];
	enum script_found found;
	int status;

	if (from_stdin)
		return host_report(L, luaL_loadfilex(L, NULL, chunk_mode));
	found = host_find_script(name, path, sizeof(path));
	if (found == SCRIPT_NOT_FOUND) {
		host_say_script_not_found(name);
		return LUA_ERRFILE;
	}
	status = host_load_script(L, path, found, chunk_mode);
	if (status == LUA_OK) {
		/* memscript.sys.script_path: where the script was found, for files that sit beside it */
		lua_pushstring(L, path);
		set_sys_field(L, "script_path");
	}
	return host_report(L, status);
}

/* Runs the compiled script on top of the stack (keeping it there) with arg[1..n]. */
static int call_script(lua_State *L)
{
	int n;

	lua_pushvalue(L, -1);
	n = push_script_args(L);
	return host_report(L, host_docall(L, n, 0));
}

/* Calls the runtime's iteration_end or finish (the library's end-of-run work); finish's status in *result. */
static int call_run_hook(lua_State *L, const char *name, int *result)
{
	int status;

	runtime_push(L, name);
	status = host_docall(L, 0, 1);
	if (status == LUA_OK) {
		if (result != NULL && lua_isinteger(L, -1))
			*result = (int)lua_tointeger(L, -1);
		lua_pop(L, 1);
	}
	return host_report(L, status);
}

/* Sets memscript.sys.iteration, so the library can tell watch runs apart. */
static void set_iteration(lua_State *L, long iteration)
{
	lua_pushinteger(L, iteration);
	set_sys_field(L, "iteration");
}

static int begin_output(const struct options *o)
{
	char why[PATH_MAX + 300];

	if (o->output == NULL)
		return 1;
	if (outfile_begin(o->output, why, sizeof(why)) != 0) {
		host_message(why);
		return 0;
	}
	return 1;
}

/* Replaces -o's file when the run succeeded, else leaves it as it was. Returns 0 on a write error. */
static int end_output(int succeeded)
{
	char why[PATH_MAX + 300];

	if (!outfile_active())
		return 1;
	if (!succeeded) {
		outfile_abort();
		return 1;
	}
	if (outfile_commit(why, sizeof(why)) != 0) {
		host_message(why);
		return 0;
	}
	return 1;
}

/* Set when standard output was closed as memscript started (>&-): the reason its writes fail. */
static int stdout_closed_at_start;

/*
 * Descriptors 0, 1 and 2 closed by the caller are opened on /dev/null, read-only: a file
 * memscript opens later cannot become standard output (and receive what the script prints), and
 * writes to a closed standard output fail, so the loss is reported rather than silent.
 */
static void reserve_standard_fds(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		int got;
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if (fd == STDOUT_FILENO)
			stdout_closed_at_start = 1;
		got = open("/dev/null", O_RDONLY);
		if (got < 0)
			got = open("/", O_RDONLY | O_DIRECTORY);
		if (got >= 0 && got != fd) {
			/* a lower descriptor was free after all: not ours to keep */
			close(got);
		}
	}
}

/*
 * The last check on every way out (the end of the run, os.exit, the end of watching, an error):
 * output that did not reach standard output (a full disk, a closed descriptor, an I/O error on
 * close) turns the status into 3, with a message. Standard error's own failure cannot be
 * reported anywhere: the message is lost with it, and the status is the only sign left.
 */
static int finish_standard_output(int status)
{
	const char *reason = NULL;
	int err;

	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		struct statvfs fs;
		err = errno;
		/* stdio keeps no errno of an earlier failed write; an empty write asks the descriptor
		 * again (a device, a closed or read-only descriptor), a full file system says why itself */
		if (err == 0 && write(STDOUT_FILENO, "", 0) < 0)
			err = errno;
		if (err == 0 && fstatvfs(STDOUT_FILENO, &fs) == 0 && fs.f_bavail == 0)
			err = ENOSPC;
		if (stdout_closed_at_start)
			reason = "it was closed when memscript started";
		else
			reason = err != 0 ? strerror(err) : "a write failed";
	}
	if (fclose(stdout) != 0 && reason == NULL)
		reason = strerror(errno);
	if (reason != NULL) {
		char msg[200];
		snprintf(msg, sizeof(msg), "standard output: %s: output was lost", reason);
		host_message(msg);
		status = STATUS_UNKNOWN;
	}
	return status;
}

/* Everything that runs inside the Lua state, itself under lua_pcall so nothing escapes as a panic. */
struct host_run {
	int argc;
	char **argv;
	struct options opts;
	int status;
	int succeeded;     /* the run ended well: -o's single file may replace the old one */
	long runs;         /* watch mode: the runs started */
	long lost_outputs; /* watch mode with -o: runs whose file could not be written */
	long charts;       /* watch mode with --svg: charts written */
	long lost_charts;  /* watch mode with --svg: runs whose chart could not be written */
};

/* One run of what is watched: the script on top of the stack, or with no script the -e chunks. */
struct watched {
	struct host_run *run;
	int script_loaded;
};

static int run_once(lua_State *L, const struct watched *w)
{
	if (w->script_loaded)
		return call_script(L);
	return run_early_options(L, w->run->argv, w->run->argc) ? LUA_OK : LUA_ERRRUN;
}

/*
 * --svg: after a run, the chart of the processes sampled with memscript.watch's memory(pid)
 * (runtime.growth_svg), written as -o writes a file: whole or not at all. A run that sampled none
 * writes nothing. Returns 0 when the chart could not be made or written.
 */
static int write_growth_chart(lua_State *L, struct host_run *run)
{
	char why[PATH_MAX + 300];
	const char *text;
	size_t len;
	int status, written;

	runtime_push(L, "growth_svg");
	status = host_docall(L, 0, 1);
	if (status != LUA_OK)
		return host_report(L, status) == LUA_OK;
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return 1;
	}
	text = lua_tolstring(L, -1, &len);
	written = text != NULL && outfile_replace(run->opts.svg, text, len, why, sizeof(why)) == 0;
	lua_pop(L, 1);
	if (!written) {
		host_message(why);
		return 0;
	}
	run->charts++;
	return 1;
}

/*
 * Waits for the start of the next watch run, on the grid start + k * interval (k = *tick).
 * A run that ended past one or more ticks does not make the next ones start back to back: the
 * ticks missed are skipped, and the next run starts at the first tick still to come. *tick is
 * the grid index of the next run. Returns 0 when the deadline or Ctrl-C cut the wait short.
 */
static int wait_for_tick(double start, double interval, long *tick)
{
	double now = guard_now();
	double due = start + (double)*tick * interval;

	if (due < now) {
		*tick = (long)floor((now - start) / interval) + 1;
		due = start + (double)*tick * interval;
	}
	(*tick)++;
	return guard_sleep(due - now);
}

/*
 * Runs the script once, or in watch mode every interval seconds (from one start to the next)
 * until count runs or Ctrl-C. Each run's output replaces -o's file on its own; a run whose file
 * cannot be written (a full disk) is reported, the old file kept, and the next run tries again.
 */
static int run_iterations(lua_State *L, const struct watched *w, int output_per_run)
{
	struct host_run *run = w->run;
	const struct options *o = &run->opts;
	long iteration, tick = 1;
	double start = guard_now();

	for (iteration = 1; o->count == 0 || iteration <= o->count; iteration++) {
		int ok;
		if (o->interval > 0 && iteration > 1 && !wait_for_tick(start, o->interval, &tick)) {
			if (guard_timed_out()) {
				char msg[120];
				snprintf(msg, sizeof(msg), "timeout: the script ran longer than %.14g seconds "
					 "(--timeout), between two runs", o->timeout);
				host_message(msg);
				return LUA_ERRRUN;
			}
			return LUA_OK; /* Ctrl-C between runs ends watching */
		}
		if (o->interval > 0 && iteration > 1 && guard_interrupted())
			return LUA_OK; /* Ctrl-C came after the wait: no run starts after it */
		set_iteration(L, iteration);
		run->runs = iteration;
		if (output_per_run && !begin_output(o)) {
			/* no file to write this run into: the run is skipped, the next tries again */
			run->lost_outputs++;
			continue;
		}
		ok = run_once(L, w) == LUA_OK && call_run_hook(L, "iteration_end", NULL) == LUA_OK;
		if (ok && o->svg != NULL && !write_growth_chart(L, run))
			run->lost_charts++;
		if (output_per_run && !end_output(ok))
			run->lost_outputs++;
		if (!ok)
			return guard_interrupted() && o->interval > 0 ? LUA_OK : LUA_ERRRUN;
		if (o->interval <= 0)
			break;
		/* without -o, a standard output that fails (a full disk) ends watching: nothing is kept */
		if (o->output == NULL && (fflush(stdout) != 0 || ferror(stdout)))
			return LUA_OK;
	}
	return LUA_OK;
}

/* An archive given as --proc-root (or to proc.at) is read whole into memory by C code before the
 * script can do anything: its bytes count against --max-memory, and the deadline and Ctrl-C stop it. */
static int charge_archive(void *arg, size_t bytes)
{
	(void)arg;
	return guard_charge(bytes);
}

static void release_archive(void *arg, size_t bytes)
{
	(void)arg;
	guard_release(bytes);
}

static const char *archive_should_stop(void *arg)
{
	(void)arg;
	return guard_should_stop();
}

/* Without --max-memory an archive may take ARCHIVE_TREE_DEFAULT_BUDGET; with it, what the cap leaves. */
static void limit_archives(const struct options *o)
{
	struct archive_limits limits;

	memset(&limits, 0, sizeof(limits));
	limits.max_bytes = o->max_memory;
	limits.budget_name = o->max_memory != 0 ? "--max-memory"
		: "the memory an archive may take without --max-memory";
	limits.charge = charge_archive;
	limits.release = release_archive;
	limits.should_stop = archive_should_stop;
	archive_tree_set_default_limits(&limits);
}

/* where(expr): the where-language compiler, through the runtime. */
static int lua_where(lua_State *L)
{
	lua_settop(L, 1);
	runtime_push(L, "where");
	lua_insert(L, 1);
	lua_call(L, 1, 1);
	return 1;
}

/*
 * sys.replace_file(path, text): writes text to path as -o writes standard output (outfile_replace):
 * whole or not at all, never through another user's link. Returns true, or nil and "PATH: reason".
 * --sandbox takes it away (memscript.sandbox).
 */
static int sys_replace_file(lua_State *L)
{
	size_t len;
	const char *path = luaL_checkstring(L, 1);
	const char *text = luaL_checklstring(L, 2, &len);
	char why[PATH_MAX + 300];

	if (outfile_replace(path, text, len, why, sizeof(why)) != 0) {
		luaL_pushfail(L);
		lua_pushstring(L, why);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* The globals every script sees besides Lua's own: proc, cgroup (proc.cgroup) and where; and the host's options. */
static void open_memscript(lua_State *L, const struct options *o)
{
	struct lproc_options po = {NULL, 1, 0};

	if (o->root != NULL && o->root[0] != '\0') {
		po.root = o->root;
		po.proc_root = o->proc_root;
	} else {
		const char *env = getenv("MEMSCRIPT_PROC_ROOT");
		if (env != NULL && env[0] != '\0')
			po.root = env;
	}
	po.max_file = o->max_memory;
	lproc_push(L, &po);
	lua_pushvalue(L, -1);
	lua_setglobal(L, "proc");
	lua_getfield(L, -1, "cgroup");
	lua_setglobal(L, "cgroup");
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_insert(L, -2);
	lua_setfield(L, -2, "memscript");
	lua_pop(L, 1);

	lua_pushcfunction(L, lua_where);
	lua_setglobal(L, "where");

	host_require(L, "memscript.sys");
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, SYS_KEY);
	lua_pushinteger(L, 1);
	lua_setfield(L, -2, "iteration");
	lua_pushcfunction(L, sys_replace_file);
	lua_setfield(L, -2, "replace_file");
	lua_getfield(L, -1, "options");
	if (o->format != NULL) {
		lua_pushstring(L, o->format);
		lua_setfield(L, -2, "format");
	}
	lua_pop(L, 2);
}

static void print_version(void)
{
	printf("memscript %s (%s, LPeg)\n", MEMSCRIPT_VERSION, LUA_RELEASE);
	fflush(stdout);
}


/* The run after set-up: -e and -l, the script (maybe watched), the REPL; returns success. */
static int run_user_code(lua_State *L, struct host_run *run, int whole_output)
{
	struct options *o = &run->opts;
	int script_index = o->script;
	struct watched w = {run, 0};

	if (script_index == 0 && o->has_e && o->interval > 0) {
		/* watching a one-liner: the -e chunks are what runs every interval */
		if (run_iterations(L, &w, !whole_output) != LUA_OK)
			return 0;
		return call_run_hook(L, "finish", &run->status) == LUA_OK;
	}
	if (!run_early_options(L, run->argv, script_index ? script_index : run->argc))
		return 0;
	if (script_index == 0 && !o->has_e && !o->version && !o->interactive && isatty(STDIN_FILENO)) {
		print_version();
		o->interactive = 1;
	} else if (script_index != 0 || (!o->has_e && !o->version && !o->interactive)) {
		/* the script, or standard input when it is not a terminal and nothing else was asked */
		if (load_script(L, script_index ? run->argv[script_index] : NULL,
				script_index == 0 || o->stdin_script) != LUA_OK)
			return 0;
		w.script_loaded = 1;
		if (run_iterations(L, &w, !whole_output) != LUA_OK)
			return 0;
		lua_pop(L, 1);
	}
	if (o->interactive)
		repl_run(L);
	return call_run_hook(L, "finish", &run->status) == LUA_OK;
}

/* This run, for os.exit, which ends it from inside a script. */
static struct host_run *current_run;

/*
 * Closes the state, under the guard (guard_close): the deadline and Ctrl-C still reach its
 * finalizers, and nothing they do changes the status. What they print goes where standard output
 * points then: into -o's file when it is not yet committed (closing is part of the run), into
 * nothing when -o's files are already complete (watch mode), else to standard output.
 */
static void close_state(lua_State *L, const struct options *o)
{
	int saved = -1;

	if (o->output != NULL && !outfile_active()) {
		int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		fflush(stdout);
		saved = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
		if (null_fd >= 0 && saved >= 0)
			dup2(null_fd, STDOUT_FILENO);
		if (null_fd >= 0)
			close(null_fd);
	}
	guard_close(L);
	guard_stop_timer();
	/* every lua-cjson instance was freed with the state: what is left has no owner */
	cjson_guard_release_all();
	if (saved >= 0) {
		/* /dev/null takes every byte: no error of its own, one from before is kept */
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
}

/* What ends every run after the state is closed: -o's file, watch mode's lost files, standard output. */
static int end_run(const struct host_run *run, int status)
{
	if (!end_output(status != STATUS_UNKNOWN && run->succeeded))
		status = STATUS_UNKNOWN;
	if (run->lost_outputs > 0) {
		char msg[PATH_MAX + 200];
		snprintf(msg, sizeof(msg), "%s: the output of %ld of %ld runs could not be written (see above)",
			 run->opts.output, run->lost_outputs, run->runs);
		host_message(msg);
		status = STATUS_UNKNOWN;
	}
	if (run->lost_charts > 0) {
		char msg[PATH_MAX + 200];
		snprintf(msg, sizeof(msg), "%s: the chart of %ld of %ld runs could not be written (see above)",
			 run->opts.svg, run->lost_charts, run->runs);
		host_message(msg);
		status = STATUS_UNKNOWN;
	} else if (run->opts.svg != NULL && run->charts == 0 && run->runs > 0) {
		char msg[PATH_MAX + 200];
		snprintf(msg, sizeof(msg), "%s: no chart written: no run sampled a process with memscript.watch's "
			 "memory(pid)", run->opts.svg);
		host_message(msg);
		status = STATUS_UNKNOWN;
	}
	return finish_standard_output(status);
}

/*
 * os.exit([code [, close]]) ends the run as its end would: the finish hooks print (alerts), the
 * state is closed (its finalizers run, bounded as at the end of a run), -o's file is put in place
 * unless the code is UNKNOWN, and standard output is checked. `code` true/false means 0/1 as in
 * Lua; no code means the status the run has raised. Called by a finalizer while the state closes,
 * it is an error (reported nowhere, as finalizer errors are): the run's status stands.
 */
static int host_os_exit(lua_State *L)
{
	struct host_run *run = current_run;
	int status = STATUS_OK, explicit_status = 0;

	if (guard_closing())
		return luaL_error(L, "os.exit: ignored while the state closes; the run's status stands");
	if (lua_isboolean(L, 1)) {
		status = lua_toboolean(L, 1) ? 0 : 1;
		explicit_status = 1;
	} else if (!lua_isnoneornil(L, 1)) {
		status = (int)luaL_checkinteger(L, 1);
		explicit_status = 1;
	}
	{
		int raised = STATUS_OK;
		int hooks_ok = call_run_hook(L, "finish", &raised) == LUA_OK;
		if (!explicit_status)
			status = hooks_ok && !host_memory_cap_caught() ? raised : STATUS_UNKNOWN;
	}
	run->succeeded = status != STATUS_UNKNOWN;
	/* lua_close from inside the running state, as Lua's own os.exit(code, true) does */
	close_state(L, &run->opts);
	exit(end_run(run, status));
}

static int host_protected_main(lua_State *L)
{
	struct host_run *run = lua_touserdata(L, 1);
	struct options *o = &run->opts;
	/* -o: one file for the whole run, or in watch mode one complete file per run of the script */
	int whole_output = o->interval <= 0;
	int ok;

	luaL_checkversion(L);
	guard_catch_idle_interrupts(o->interval > 0);
	luaL_openlibs(L);
	guard_patrol_coroutines(L);
	host_keep_require(L);
	current_run = run;
	lua_getglobal(L, "os");
	lua_pushcfunction(L, host_os_exit);
	lua_setfield(L, -2, "exit");
	lua_pop(L, 1);
	limit_archives(o);
	preload_register(L);
	/* lua-cjson with its buffers under --max-memory, in place of the plain opener */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, cjson_guard_open);
	lua_setfield(L, -2, "cjson");
	lua_pop(L, 1);
	/* Before any user code: the runtime keeps Lua's own require, whatever a script does later. */
	runtime_load(L);
	open_memscript(L, o);
	if (o->sandbox) {
		runtime_push(L, "sandbox");
		lua_pushglobaltable(L);
		lua_call(L, 1, 0);
		chunk_mode = "t";
	}
	if (o->list) {
		run->status = host_list_scripts(L) ? STATUS_OK : STATUS_UNKNOWN;
		run->succeeded = run->status == STATUS_OK;
		return 0;
	}
	if (o->complete != NULL) {
		run->status = host_complete_script(L, o->complete) ? STATUS_OK : STATUS_UNKNOWN;
		run->succeeded = run->status == STATUS_OK;
		return 0;
	}
	create_arg_table(L, run->argc, run->argv, o->script);
	if (o->version)
		print_version();
	if (whole_output && !begin_output(o))
		return 0;
	run->status = STATUS_OK;
	ok = run_user_code(L, run, whole_output);
	if (host_memory_cap_caught())
		ok = 0;
	if (!ok)
		run->status = STATUS_UNKNOWN;
	run->succeeded = ok;
	return 0;
}

int host_main(int argc, char **argv)
{
	struct host_run run;
	lua_State *L;
	int status;

	reserve_standard_fds();
	memset(&run, 0, sizeof(run));
	run.argc = argc;
	run.argv = argv;
	run.status = STATUS_UNKNOWN;
	status = host_parse_options(argc, argv, &run.opts);
	if (status == OPTIONS_HELP)
		return finish_standard_output(STATUS_OK);
	if (status != 0)
		return STATUS_UNKNOWN;
	if (run.opts.count > 0 && run.opts.interval <= 0) {
		fprintf(stderr, "memscript: --count counts the runs of watch mode: give --interval too\n%s", host_usage_text);
		return STATUS_UNKNOWN;
	}
	if (run.opts.svg != NULL && run.opts.interval <= 0) {
		fprintf(stderr, "memscript: --svg charts the samples of watch mode: give --interval too\n%s", host_usage_text);
		return STATUS_UNKNOWN;
	}
	/* Whatever the parent set, a closed pipe on stdout ends memscript quietly, as it does cat. */
	signal(SIGPIPE, SIG_DFL);
	L = guard_newstate(run.opts.max_memory);
	if (L == NULL) {
		host_message("cannot create state: not enough memory");
		return STATUS_UNKNOWN;
	}
	guard_set_timeout(run.opts.timeout);
	lua_pushcfunction(L, host_protected_main);
	lua_pushlightuserdata(L, &run);
	status = lua_pcall(L, 1, 0, 0);
	if (status != LUA_OK) {
		host_report(L, status);
		run.status = STATUS_UNKNOWN;
		run.succeeded = 0;
	}
	close_state(L, &run.opts);
	return end_run(&run, run.status);
}
