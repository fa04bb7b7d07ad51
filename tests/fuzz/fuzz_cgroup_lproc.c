/* fuzz_cgroup_lproc.c: proc.cgroup's memory, of and list over a v2 and a v1 machine whose cgroup files all hold the fuzz input. */
/*
 * Each call returns its table, or nil, a message and an errno: 22 (EINVAL) with "PATH:LINE: reason"
 * for content refused, 2 (ENOENT) from of() for a file with no memory line; never an error raised.
 * Then again with Lua's allocations failing from a point on (chosen from the input), where it may
 * raise "not enough memory" but must not crash or leak.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "fuzz_util.h"
#include "bind/lproc.h"

static struct fuzz_file mem = {-1, ""};
static char root[64];

/* Every file made, to remove them at exit (each a hard link to the one data file, or written once). */
static char made[128][256];
static size_t nmade;

static void remove_tree(void)
{
	size_t i;

	for (i = nmade; i > 0; i--) {
		if (unlink(made[i - 1]) != 0)
			rmdir(made[i - 1]);
	}
}

static void make_path(const char *rel, int dir)
{
	FUZZ_CHECK(nmade < sizeof(made) / sizeof(made[0]));
	snprintf(made[nmade], sizeof(made[0]), "%s/%s", root, rel);
	if (dir)
		FUZZ_CHECK(mkdir(made[nmade], 0700) == 0);
	else
		FUZZ_CHECK(link(mem.path, made[nmade]) == 0);
	nmade++;
}

static void write_file(const char *rel, const char *text)
{
	int fd;

	FUZZ_CHECK(nmade < sizeof(made) / sizeof(made[0]));
	snprintf(made[nmade], sizeof(made[0]), "%s/%s", root, rel);
	fd = open(made[nmade], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && close(fd) == 0);
	nmade++;
}

/* The names of the files proc.cgroup reads in a hierarchy, from proc.cgroup.hierarchy().files. */
static void link_files(const char *machine, const char *cgroup_dir)
{
	lua_State *L = luaL_newstate();
	char top[128], rel[256];
	lua_Integer i, n;

	snprintf(top, sizeof(top), "%s/%s", root, machine);
	{
		struct lproc_options options = {top, 0, 0};
		lproc_push(L, &options);
	}
	lua_getfield(L, -1, "cgroup");
	lua_getfield(L, -1, "hierarchy");
	lua_call(L, 0, 1);
	FUZZ_CHECK(lua_istable(L, -1));
	lua_getfield(L, -1, "files");
	n = (lua_Integer)lua_rawlen(L, -1);
	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, i);
		snprintf(rel, sizeof(rel), "%s/%s/%s", machine, cgroup_dir, lua_tostring(L, -1));
		if (strcmp(lua_tostring(L, -1), "cgroup.controllers") != 0)
			make_path(rel, 0);
		lua_pop(L, 1);
	}
	lua_close(L);
}

static void make_trees(void)
{
	snprintf(root, sizeof(root), "/tmp/memscript-fuzz-cgroup-%ld", (long)getpid());
	FUZZ_CHECK(mkdir(root, 0700) == 0);
	snprintf(mem.path, sizeof(mem.path), "%s/data", root);
	mem.fd = open(mem.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(mem.fd >= 0);
	atexit(remove_tree);
	/* removed in reverse: the tree's own directory last, the data file before it */
	snprintf(made[nmade++], sizeof(made[0]), "%s", root);
	snprintf(made[nmade++], sizeof(made[0]), "%s", mem.path);
	/* v2: the root says the memory controller is on; cgroup /c holds the files */
	make_path("v2", 1);
	make_path("v2/proc", 1);
	make_path("v2/proc/1", 1);
	make_path("v2/proc/1/cgroup", 0);
	make_path("v2/sys", 1);
	make_path("v2/sys/fs", 1);
	make_path("v2/sys/fs/cgroup", 1);
	write_file("v2/sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
	make_path("v2/sys/fs/cgroup/c", 1);
	link_files("v2", "sys/fs/cgroup/c");
	/* v1: the memory hierarchy at sys/fs/cgroup/memory */
	make_path("v1", 1);
	make_path("v1/proc", 1);
	make_path("v1/proc/1", 1);
	make_path("v1/proc/1/cgroup", 0);
	make_path("v1/sys", 1);
	make_path("v1/sys/fs", 1);
	make_path("v1/sys/fs/cgroup", 1);
	make_path("v1/sys/fs/cgroup/memory", 1);
	make_path("v1/sys/fs/cgroup/memory/c", 1);
	link_files("v1", "sys/fs/cgroup/memory/c");
}

/* ---- an allocator that fails every allocation from a chosen one on ---- */

struct alloc_state {
	long count;
	long fail_from;
};

static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct alloc_state *a = ud;

	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	if (ptr == NULL || nsize > osize) {
		if (a->fail_from >= 0 && a->count >= a->fail_from)
			return NULL;
		a->count++;
	}
	return realloc(ptr, nsize);
}

/* ---- checks ---- */

/* nil, "ROOT/...:LINE: reason" or "ROOT/...: reason", errno */
static void check_failure(lua_State *L, int base, int nres, lua_Integer allowed_errno)
{
	const char *msg;

	FUZZ_CHECK(nres == 3 && lua_isnil(L, base + 1) && lua_type(L, base + 2) == LUA_TSTRING);
	msg = lua_tostring(L, base + 2);
	FUZZ_CHECK(strncmp(msg, root, strlen(root)) == 0);
	FUZZ_CHECK(lua_isinteger(L, base + 3));
	FUZZ_CHECK(lua_tointeger(L, base + 3) == EINVAL || lua_tointeger(L, base + 3) == allowed_errno);
}

/* Every value of t is a number (NaN never), or, with tables allowed, a table of numbers. */
static void check_numbers(lua_State *L, int t, int nested)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
		if (nested) {
			FUZZ_CHECK(lua_type(L, -1) == LUA_TTABLE);
			check_numbers(L, lua_gettop(L), 0);
		} else {
			FUZZ_CHECK(lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) == lua_tonumber(L, -1));
		}
		lua_pop(L, 1);
	}
}

static void check_memory(lua_State *L, int t, int version)
{
	static const char *const flat[] = {"stat", "events", "events_local", "swap_events", "oom_control"};
	size_t i;

	FUZZ_CHECK(lua_getfield(L, t, "version") == LUA_TNUMBER && lua_tointeger(L, -1) == version);
	FUZZ_CHECK(lua_getfield(L, t, "path") == LUA_TSTRING && strcmp(lua_tostring(L, -1), "/c") == 0);
	lua_pop(L, 2);
	lua_pushnil(L);
	while (lua_next(L, t)) {
		int type = lua_type(L, -1);
		FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
		FUZZ_CHECK(type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TTABLE);
		/* a single-value file is a number, never NaN, and negative never */
		if (type == LUA_TNUMBER)
			FUZZ_CHECK(lua_tonumber(L, -1) >= 0);
		lua_pop(L, 1);
	}
	for (i = 0; i < sizeof(flat) / sizeof(flat[0]); i++) {
		if (lua_getfield(L, t, flat[i]) == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
				/* the kernel prints numbers only there: a word is refused, never a value */
				FUZZ_CHECK(lua_type(L, -1) == LUA_TNUMBER);
				lua_pop(L, 1);
			}
		}
		lua_pop(L, 1);
	}
	if (lua_getfield(L, t, "pressure") == LUA_TTABLE)
		check_numbers(L, lua_gettop(L), 1);
	lua_pop(L, 1);
	if (lua_getfield(L, t, "numa_stat") == LUA_TTABLE)
		check_numbers(L, lua_gettop(L), 1);
	lua_pop(L, 1);
	if (lua_getfield(L, t, "procs") == LUA_TTABLE) {
		lua_Integer n = (lua_Integer)lua_rawlen(L, -1), k, previous = 0;
		for (k = 1; k <= n; k++) {
			FUZZ_CHECK(lua_rawgeti(L, -1, k) == LUA_TNUMBER && lua_isinteger(L, -1));
			FUZZ_CHECK(lua_tointeger(L, -1) > previous);
			previous = lua_tointeger(L, -1);
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
}

static void check_of(lua_State *L, int t)
{
	FUZZ_CHECK(lua_getfield(L, t, "path") == LUA_TSTRING && lua_tostring(L, -1)[0] == '/');
	FUZZ_CHECK(lua_getfield(L, t, "version") == LUA_TNUMBER &&
		   (lua_tointeger(L, -1) == 1 || lua_tointeger(L, -1) == 2));
	lua_pop(L, 2);
}

static void check_list(lua_State *L, int t)
{
	FUZZ_CHECK(lua_rawlen(L, t) == 2);
	FUZZ_CHECK(lua_rawgeti(L, t, 1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "/") == 0);
	FUZZ_CHECK(lua_rawgeti(L, t, 2) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "/c") == 0);
	lua_pop(L, 2);
}

enum call_kind { CALL_MEMORY, CALL_OF, CALL_LIST };

/* Calls proc.cgroup.FUNCTION on the proc table at index 1. */
static int call(lua_State *L, enum call_kind kind)
{
	static const char *const names[] = {"memory", "of", "list"};

	lua_getfield(L, 1, "cgroup");
	lua_getfield(L, -1, names[kind]);
	lua_remove(L, -2);
	if (kind == CALL_MEMORY)
		lua_pushliteral(L, "/c");
	else if (kind == CALL_OF)
		lua_pushinteger(L, 1);
	return lua_pcall(L, kind == CALL_LIST ? 0 : 1, LUA_MULTRET, 0);
}

static void check(lua_State *L, enum call_kind kind, int version, int nres)
{
	if (lua_type(L, 2) != LUA_TTABLE) {
		check_failure(L, 1, nres, kind == CALL_OF ? ENOENT : EINVAL);
		FUZZ_CHECK(kind != CALL_LIST);
		return;
	}
	FUZZ_CHECK(nres == 1);
	if (kind == CALL_MEMORY)
		check_memory(L, 2, version);
	else if (kind == CALL_OF)
		check_of(L, 2);
	else
		check_list(L, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct {
		const char *machine;
		int version;
		enum call_kind kind;
	} runs[] = {
		{"v2", 2, CALL_MEMORY}, {"v2", 2, CALL_OF}, {"v2", 2, CALL_LIST},
		{"v1", 1, CALL_MEMORY}, {"v1", 1, CALL_OF}, {"v1", 1, CALL_LIST},
	};
	struct alloc_state alloc = {0, -1};
	uint32_t hash = 2166136261u;
	size_t i;

	if (mem.fd < 0)
		make_trees();
	fuzz_file_set(&mem, data, size);
	for (i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char top[128];
		lua_State *L = lua_newstate(fuzz_alloc, &alloc);
		long allocs;
		int status;

		FUZZ_CHECK(L != NULL);
		snprintf(top, sizeof(top), "%s/%s", root, runs[i].machine);
		{
			struct lproc_options options = {top, 0, 0};
			lproc_push(L, &options);
		}
		alloc.count = 0;
		status = call(L, runs[i].kind);
		if (status != LUA_OK)
			fprintf(stderr, "cgroup call %zu raised: %s\n", i, lua_tostring(L, -1));
		FUZZ_CHECK(status == LUA_OK);
		check(L, runs[i].kind, runs[i].version, lua_gettop(L) - 1);
		lua_settop(L, 1);
		allocs = alloc.count;

		alloc.count = 0;
		alloc.fail_from = (long)((hash + i * 7919u) % (uint32_t)(allocs + 1));
		status = call(L, runs[i].kind);
		alloc.fail_from = -1;
		if (status == LUA_OK)
			check(L, runs[i].kind, runs[i].version, lua_gettop(L) - 1);
		else
			FUZZ_CHECK(status == LUA_ERRMEM);
		lua_close(L);
	}
	return 0;
}
