/* lproc.c: the `proc` module: one table per source, process handles, and the functions about the whole tree. */
#include "bind/lproc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "bind/layout.h"
#include "bind/runtime.h"
#include "core/numparse.h"
#include "core/smaps_sums.h"
#include "source/capture.h"
#include "source/readahead.h"

/* ---- the source userdata (upvalue 1 of every function) ---- */

static int source_gc(lua_State *L)
{
	struct source **src = lua_touserdata(L, 1);
	source_close(*src);
	*src = NULL;
	return 0;
}

/* The tree an optional argument names: "proc" (the default) or "sys". */
static enum source_tree check_tree(lua_State *L, int arg)
{
	static const char *const names[] = {"proc", "sys", NULL};
	return luaL_checkoption(L, arg, "proc", names) == 0 ? SOURCE_PROC : SOURCE_SYS;
}

/* ---- process handles ---- */

/*
 * What /proc/PID/stat says of a process's identity: its start time (pid reuse) and where its
 * program's image lies (an exec: with address space layout randomisation a new image lies
 * elsewhere). proc(5) fields 22 and 26-28, 45-47.
 */
struct identity {
	char starttime[24];
	char image[6][24]; /* startcode endcode startstack start_data end_data start_brk */
};

/* dir and ahead come first, as struct bind_process: the families read through them. */
struct process {
	struct source_dir *dir;
	struct readahead_job *ahead;
	lua_Integer pid;
	int has_identity; /* stat was read at open (a captured tree may lack it) */
	struct identity identity;
};

/* Reads the identity fields from stat text; returns 0 or EINVAL when the text lacks them. */
static int parse_identity(const char *text, size_t len, struct identity *id)
{
	static const int image_fields[6] = {26, 27, 28, 45, 46, 47};
	const char *p = text + len, *end = text + len;
	int field = 2, image = 0;

	/* comm ends at the last ')'; field 3 (state) follows it. */
	while (p > text && p[-1] != ')')
		p--;
	if (p == text)
		return EINVAL;
	memset(id, 0, sizeof(*id));
	while (p < end && *p != '\n') {
		const char *word;
		size_t n;
		while (p < end && *p == ' ')
			p++;
		word = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		n = (size_t)(p - word);
		if (n == 0)
			break;
		field++;
		if (n >= sizeof(id->starttime))
			n = sizeof(id->starttime) - 1;
		if (field == 22)
			memcpy(id->starttime, word, n);
		else if (image < 6 && field == image_fields[image])
			memcpy(id->image[image++], word, n);
	}
	return field >= 22 ? 0 : EINVAL;
}

static int read_identity(const struct source_dir *dir, struct identity *id)
{
	struct procfile f;
	int err = source_dir_read(dir, "stat", &f);

	if (err != 0)
		return err;
	err = parse_identity(f.data, f.len, id);
	procfile_free(&f);
	return err;
}

static struct process *check_process(lua_State *L)
{
	struct process *p = luaL_checkudata(L, 1, BIND_PROCESS);
	luaL_argcheck(L, p->dir != NULL, 1, "process handle is closed");
	return p;
}

static int process_close(lua_State *L)
{
	struct process *p = luaL_checkudata(L, 1, BIND_PROCESS);
	readahead_cancel(p->ahead);
	p->ahead = NULL;
	source_dir_close(p->dir);
	p->dir = NULL;
	return 0;
}

/*
 * p:changed(): false while the process is the one opened; else why not: "gone" (it ended), "exec"
 * (it runs another program image), "reused" (in a captured tree: another process under that pid).
 */
static int process_changed(lua_State *L)
{
	struct process *p = check_process(L);
	struct identity now;
	int err = read_identity(p->dir, &now);

	if (err == ESRCH || (err == ENOENT && p->has_identity)) {
		lua_pushliteral(L, "gone");
		return 1;
	}
	if (!p->has_identity) {
		/* A captured tree without stat: what it holds does not change. */
		lua_pushboolean(L, 0);
		return 1;
	}
	if (err != 0)
		return bind_os_error(L, p->dir, "stat", err);
	if (strcmp(now.starttime, p->identity.starttime) != 0)
		lua_pushliteral(L, "reused");
	else if (memcmp(now.image, p->identity.image, sizeof(now.image)) != 0)
		lua_pushliteral(L, "exec");
	else
		lua_pushboolean(L, 0);
	return 1;
}

static int bytes_build(lua_State *L, void *arg)
{
	const struct procfile *f = arg;
	lua_pushlstring(L, f->data, f->len);
	return 1;
}

static void bytes_cleanup(void *arg)
{
	procfile_free(arg);
}

/* Pushes a file's bytes as a string and frees *f, or returns the error results for err. */
static int push_file_bytes(lua_State *L, const struct source_dir *dir, const char *file, int err,
			   struct procfile *f)
{
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, bytes_build, f, bytes_cleanup);
}

/* p:read(file): the bytes of one of the process's files, read whole. */
static int process_read(lua_State *L)
{
	struct process *p = check_process(L);
	const char *file = luaL_checkstring(L, 2);
	struct procfile f;
	int err;

	luaL_argcheck(L, file[0] != '\0' && file[0] != '/', 2, "a file of the process expected");
	err = source_dir_read(p->dir, file, &f);
	return push_file_bytes(L, p->dir, file, err, &f);
}

/*
 * p:read_ahead(files[, fields]): starts reading the named files of the process on another thread,
 * so that the kernel's work for them overlaps the caller's work on other processes; the next
 * p:status(), p:smaps()... of each takes what was read. "smaps_sums" with fields.smaps_sums (the
 * fields p:smaps_sums will be asked for) adds smaps up on that thread too. Returns the handle.
 */
static int process_read_ahead(lua_State *L)
{
	struct process *p = check_process(L);
	const char *names[READAHEAD_FILES_MAX];
	struct smaps_sums sums, *with_sums = NULL;
	lua_Integer i, n;
	int err;

	luaL_checktype(L, 2, LUA_TTABLE);
	/* the fields first: lua_getfield may run a metamethod, which must not run once names points into arg 2 */
	if (!lua_isnoneornil(L, 3)) {
		luaL_checktype(L, 3, LUA_TTABLE);
		if (lua_getfield(L, 3, "smaps_sums") != LUA_TNIL) {
			bind_sums_fields(L, lua_gettop(L), 3, &sums); /* copied: nothing points into arg 3 */
			with_sums = &sums;
		}
	}
	n = (lua_Integer)lua_rawlen(L, 2);
	luaL_argcheck(L, n <= READAHEAD_FILES_MAX, 2, "too many files");
	for (i = 1; i <= n; i++) {
		/* strings only: lua_tostring of a number would make a string that nothing anchors after the pop */
		luaL_argcheck(L, lua_rawgeti(L, 2, i) == LUA_TSTRING, 2, "names of the process's files expected");
		names[i - 1] = lua_tostring(L, -1);
		luaL_argcheck(L, names[i - 1][0] != '\0' && names[i - 1][0] != '/' && strlen(names[i - 1]) < 32, 2,
			      "names of the process's files expected");
		lua_pop(L, 1); /* still anchored in the table */
	}
	readahead_cancel(p->ahead);
	p->ahead = NULL;
	err = readahead_submit(p->dir, names, (int)n, with_sums, &p->ahead);
	if (err != 0)
		return luaL_error(L, "read_ahead: %s", strerror(err));
	lua_settop(L, 1);
	return 1;
}

/*
 * p:read_ahead_state(): "queued" (no thread has started on the files read_ahead named), "running",
 * "done" (they are read: taking them will not wait), or nil when nothing is read ahead.
 */
static int process_read_ahead_state(lua_State *L)
{
	static const char *const names[] = {"queued", "running", "done"};
	struct process *p = check_process(L);

	if (p->ahead == NULL)
		lua_pushnil(L);
	else
		lua_pushstring(L, names[readahead_state(p->ahead)]);
	return 1;
}

/*
 * proc.read_ahead_wait(handles[, at_least]): the index of the first of the handles (an array of at
 * most 64 process handles) whose files read ahead are read; when none is, waits until at_least
 * (default 1) of them are. An entry with nothing read ahead, or that is not an open handle (false
 * where an open failed), counts as read. Runs no job on this thread while a pool thread can.
 */
static int proc_read_ahead_wait(lua_State *L)
{
	struct readahead_job *jobs[64];
	lua_Integer i, n, at_least = luaL_optinteger(L, 2, 1);
	int found;

	luaL_argcheck(L, at_least >= 1, 2, "at least 1 expected");
	luaL_checktype(L, 1, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 1);
	luaL_argcheck(L, n >= 1 && n <= 64, 1, "1 to 64 process handles expected");
	for (i = 1; i <= n; i++) {
		struct process *p;
		lua_rawgeti(L, 1, i);
		p = luaL_testudata(L, -1, BIND_PROCESS);
		jobs[i - 1] = p != NULL && p->dir != NULL ? p->ahead : NULL;
		lua_pop(L, 1);
	}
	found = readahead_wait_any(jobs, (int)n, at_least > n ? (int)n : (int)at_least); /* n at most 64 */
	lua_pushinteger(L, (lua_Integer)found + 1);
	return 1;
}

static int process_tostring(lua_State *L)
{
	struct process *p = luaL_checkudata(L, 1, BIND_PROCESS);
	lua_pushfstring(L, p->dir != NULL ? "process %d" : "process %d (closed)", (int)p->pid);
	return 1;
}

static int process_index(lua_State *L)
{
	struct process *p = luaL_checkudata(L, 1, BIND_PROCESS);
	if (lua_type(L, 2) == LUA_TSTRING && strcmp(lua_tostring(L, 2), "pid") == 0) {
		lua_pushinteger(L, p->pid);
		return 1;
	}
	lua_pushvalue(L, 2);
	lua_rawget(L, lua_upvalueindex(1));
	return 1;
}

static const luaL_Reg process_methods[] = {
	{"changed", process_changed},
	{"close", process_close},
	{"read", process_read},
	{"read_ahead", process_read_ahead},
	{"read_ahead_state", process_read_ahead_state},
	{NULL, NULL},
};

/* Creates the handles' metatable once per state: methods are the families' functions plus the above. */
static void ensure_process_metatable(lua_State *L)
{
	if (!luaL_newmetatable(L, BIND_PROCESS)) {
		lua_pop(L, 1);
		return;
	}
	lua_createtable(L, 0, 16); /* the methods: upvalue of __index */
	/* A method's source is its handle's: the upvalue is left empty (bind_source refuses it). */
	lua_pushnil(L);
	luaL_setfuncs(L, bind_keyval_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_maps_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_pidfile_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_cgroup_handle_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_flat_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_sums_functions, 1);
	lua_pushnil(L);
	luaL_setfuncs(L, bind_pages_functions, 1);
	luaL_setfuncs(L, process_methods, 0);
	lua_pushcclosure(L, process_index, 1);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, process_close);
	lua_setfield(L, -2, "__close");
	lua_pushcfunction(L, process_close);
	lua_setfield(L, -2, "__gc");
	lua_pushcfunction(L, process_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "process");
	lua_setfield(L, -2, "__name");
	lua_pop(L, 1);
}

/*
 * proc.open(pid [, reading]): a handle on one process. Every file read through it comes from that
 * process: once it has ended, reads fail (ESRCH), even when its pid has been given to another
 * process. reading, the file the caller means to read first, names the failure when there is no
 * such process ("/proc/42/smaps: No such file or directory", as proc.smaps(42) says).
 */
static int proc_open(lua_State *L)
{
	struct source *src = bind_source(L);
	struct process *p;
	const char *reading;
	char name[32];
	int err;

	bind_check_pid(L, 1, name, sizeof(name));
	reading = luaL_optstring(L, 2, NULL);
	lua_settop(L, 2);
	ensure_process_metatable(L);
	p = lua_newuserdatauv(L, sizeof(*p), 1);
	memset(p, 0, sizeof(*p));
	luaL_setmetatable(L, BIND_PROCESS);
	/* The handle keeps the source alive. */
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_setiuservalue(L, -2, 1);
	err = source_dir_open(src, SOURCE_PROC, name, &p->dir);
	if (err != 0) {
		/* Named as the file the caller means to read, when it says: "/proc/42/smaps: ..." */
		char rel[PATH_MAX];
		snprintf(rel, sizeof(rel), "%s%s%s", name, reading != NULL ? "/" : "", reading != NULL ? reading : "");
		return bind_os_error(L, source_tree(src, SOURCE_PROC), rel, err);
	}
	/* The running system always has stat; a captured tree may not, and does not change. */
	err = read_identity(p->dir, &p->identity);
	if (err == 0)
		p->has_identity = 1;
	else if (err == ESRCH) {
		int n = bind_os_error(L, p->dir, "stat", err);
		source_dir_close(p->dir);
		p->dir = NULL;
		return n;
	}
	{
		/* The pid as the tree names it: "self" resolved to memscript's own. */
		const char *name_of_dir = source_dir_name(p->dir), *q = name_of_dir;
		uint64_t pid;
		if (num_parse_dec(&q, q + strlen(q), &pid) == NUM_OK && *q == '\0')
			p->pid = (lua_Integer)pid;
	}
	lua_settop(L, 3); /* the handle, after pid and reading */
	return 1;
}

/* ---- the whole tree ---- */

struct pids_ctx {
	lua_Integer *pids;
	size_t n, cap;
	int failed;
};

static int compare_pids(const void *a, const void *b)
{
	lua_Integer x = *(const lua_Integer *)a, y = *(const lua_Integer *)b;
	return (x > y) - (x < y);
}

/* Adds name to the list when it is a pid; stops (returns 1) when memory runs out. */
static int add_pid_name(const char *name, void *arg)
{
	struct pids_ctx *c = arg;
	const char *p = name;
	uint64_t pid;

	/* A pid directory is named by the number as the kernel prints it: no sign, no leading zero, not 0. */
	if (name[0] < '1' || name[0] > '9' || num_parse_dec(&p, name + strlen(name), &pid) != NUM_OK ||
	    *p != '\0' || pid > INT_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		lua_Integer *grown = realloc(c->pids, cap * sizeof(*grown));
		if (grown == NULL) {
			c->failed = 1;
			return 1;
		}
		c->pids = grown;
		c->cap = cap;
	}
	c->pids[c->n++] = (lua_Integer)pid;
	return 0;
}

static int pids_build(lua_State *L, void *arg)
{
	struct pids_ctx *c = arg;
	size_t i;

	if (c->n > 0)
		qsort(c->pids, c->n, sizeof(c->pids[0]), compare_pids);
	lua_createtable(L, (int)c->n, 0);
	for (i = 0; i < c->n; i++) {
		lua_pushinteger(L, c->pids[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static void pids_cleanup(void *arg)
{
	free(((struct pids_ctx *)arg)->pids);
}

/* proc.pids(): the pids in the tree, ascending. */
static int proc_pids(lua_State *L)
{
	struct source_dir *top = source_tree(bind_source(L), SOURCE_PROC);
	struct pids_ctx c = {NULL, 0, 0, 0};
	int err = source_dir_list(top, "", add_pid_name, &c);

	if (err == 0 && c.failed)
		err = ENOMEM;
	if (err != 0) {
		free(c.pids);
		return bind_os_error(L, top, "", err);
	}
	return bind_call(L, pids_build, &c, pids_cleanup);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct list_ctx {
	char **names;
	size_t n, cap;
	int failed;
};

static int add_name(const char *name, void *arg)
{
	struct list_ctx *c = arg;
	char *copy;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		char **grown = realloc(c->names, cap * sizeof(*grown));
		if (grown == NULL) {
			c->failed = 1;
			return 1;
		}
		c->names = grown;
		c->cap = cap;
	}
	copy = strdup(name);
	if (copy == NULL) {
		c->failed = 1;
		return 1;
	}
	c->names[c->n++] = copy;
	return 0;
}

static int list_build(lua_State *L, void *arg)
{
	struct list_ctx *c = arg;
	size_t i;

	if (c->n > 0)
		qsort(c->names, c->n, sizeof(c->names[0]), compare_strings);
	lua_createtable(L, (int)c->n, 0);
	for (i = 0; i < c->n; i++) {
		lua_pushstring(L, c->names[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

static void list_cleanup(void *arg)
{
	struct list_ctx *c = arg;
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
}

/* proc.list(dir [, tree]): the names in a directory of the tree, sorted. */
static int proc_list(lua_State *L)
{
	const char *rel = luaL_optstring(L, 1, "");
	struct source_dir *top = source_tree(bind_source(L), check_tree(L, 2));
	struct list_ctx c = {NULL, 0, 0, 0};
	int err;

	luaL_argcheck(L, rel[0] != '/', 1, "a path relative to the tree's top expected");
	err = source_dir_list(top, rel, add_name, &c);
	if (err == 0 && c.failed)
		err = ENOMEM;
	if (err != 0) {
		list_cleanup(&c);
		return bind_os_error(L, top, rel, err);
	}
	return bind_call(L, list_build, &c, list_cleanup);
}

static int proc_page_size(lua_State *L)
{
	lua_pushinteger(L, source_page_size(bind_source(L)));
	return 1;
}

static int proc_root(lua_State *L)
{
	lua_pushstring(L, source_name(bind_source(L)));
	return 1;
}

/* meta(): what the tree was taken on: the capture's metadata, or the running system's. */
static int proc_meta(lua_State *L)
{
	struct source *src = bind_source(L);
	struct source_dir *top = source_tree(src, SOURCE_PROC);
	int n = bind_kv_file(L, top, CAPTURE_META);

	if (n == 1) {
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "captured");
		return 1;
	}
	if (lua_tointeger(L, -1) != ENOENT)
		return n;
	lua_pop(L, n);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, source_page_size(src));
	lua_setfield(L, -2, "page_size");
	/* This machine's facts describe only its own /proc, not a tree copied from elsewhere. */
	if (source_kind(src) == SOURCE_LIVE) {
		struct utsname u;
		if (uname(&u) == 0) {
			lua_pushstring(L, u.release);
			lua_setfield(L, -2, "kernel_release");
			lua_pushstring(L, u.nodename);
			lua_setfield(L, -2, "hostname");
		}
	}
	lua_pushboolean(L, 0);
	lua_setfield(L, -2, "captured");
	return 1;
}

/* read(relpath [, tree]): the bytes of a file of the tree, "42/smaps" or "meminfo", read whole. */
static int proc_read(lua_State *L)
{
	const char *rel = luaL_checkstring(L, 1);
	struct source_dir *top = source_tree(bind_source(L), check_tree(L, 2));
	struct procfile f;
	int err;

	luaL_argcheck(L, rel[0] != '\0' && rel[0] != '/', 1, "a path relative to the tree's top expected");
	err = source_dir_read(top, rel, &f);
	return push_file_bytes(L, top, rel, err, &f);
}

static int open_source(lua_State *L, const char *root, enum source_root_kind how, size_t max_file);

/* at(root [, how]): another tree: "proc" (default) a proc tree or capture, "machine" its top. */
static int proc_at(lua_State *L)
{
	static const char *const kinds[] = {"proc", "machine", NULL};
	const char *root = luaL_checkstring(L, 1);
	enum source_root_kind how = luaL_checkoption(L, 2, "proc", kinds) == 0 ? SOURCE_ROOT_PROC
										: SOURCE_ROOT_MACHINE;
	return open_source(L, root, how, source_max_file(bind_source(L)));
}

static const luaL_Reg proc_functions[] = {
	{"at", proc_at},
	{"keys", layout_keys},
	{"list", proc_list},
	{"meminfo", bind_meminfo},
	{"meta", proc_meta},
	{"open", proc_open},
	{"read_ahead_wait", proc_read_ahead_wait},
	{"page_size", proc_page_size},
	{"pids", proc_pids},
	{"read", proc_read},
	{"root", proc_root},
	{"unit", layout_unit},
	{"vmstat", bind_vmstat},
	{NULL, NULL},
};

void bind_set_mapping_list(lua_State *L)
{
	if (!runtime_push(L, "mapping_list_meta"))
		return;
	lua_call(L, 0, 1);
	if (lua_istable(L, -1))
		lua_setmetatable(L, -2);
	else
		lua_pop(L, 1);
}

/*
 * Pushes a proc table on a new source; or returns 3 with nil, message, errno pushed when the
 * source cannot be opened.
 */
static int open_source(lua_State *L, const char *root, enum source_root_kind how, size_t max_file)
{
	struct source **slot;
	char err[PATH_MAX + 256];
	int e;

	lua_createtable(L, 0, 32);
	slot = lua_newuserdatauv(L, sizeof(*slot), 0);
	*slot = NULL;
	/* The collector closes the source from here on, even if a later step raises. */
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, source_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	e = source_open(root, how, slot, err, sizeof(err));
	if (e != 0) {
		lua_pop(L, 2);
		lua_pushnil(L);
		lua_pushstring(L, err);
		lua_pushinteger(L, source_errno(e));
		return 3;
	}
	source_set_max_file(*slot, max_file);
	{
		/* A capture's page counts are in the pages of the machine it was taken on. */
		long page_size = source_page_size(*slot);
		capture_page_size(source_tree(*slot, SOURCE_PROC), &page_size);
		source_set_page_size(*slot, page_size);
	}
	{
		const luaL_Reg *const lists[] = {proc_functions, bind_keyval_functions, bind_maps_functions,
						 bind_pidfile_functions, bind_flat_functions, bind_sums_functions,
						 bind_pages_functions, bind_pages_writers};
		size_t i;
		for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
			lua_pushvalue(L, -2); /* the table, then the source as the functions' upvalue */
			lua_pushvalue(L, -2);
			luaL_setfuncs(L, lists[i], 1);
			lua_pop(L, 1);
		}
	}
	/* proc.cgroup: the memory cgroups of the same machine, read through the same source */
	lua_createtable(L, 0, 8);
	lua_pushvalue(L, -2);
	luaL_setfuncs(L, bind_cgroup_functions, 1);
	lua_pushnumber(L, HUGE_VAL);
	lua_setfield(L, -2, "unlimited");
	lua_setfield(L, -3, "cgroup");
	lua_pop(L, 1);
	return 1;
}

void lproc_push(lua_State *L, const struct lproc_options *options)
{
	if (open_source(L, options->root, options->proc_root ? SOURCE_ROOT_PROC : SOURCE_ROOT_MACHINE,
			options->max_file) != 1) {
		lua_pop(L, 1); /* the errno: the message is raised */
		lua_error(L);
	}
}

int luaopen_memscript_proc(lua_State *L)
{
	struct lproc_options options = {NULL, 1, 0};
	const char *root = getenv("MEMSCRIPT_PROC_ROOT");

	if (root != NULL && root[0] != '\0')
		options.root = root;
	lproc_push(L, &options);
	return 1;
}
