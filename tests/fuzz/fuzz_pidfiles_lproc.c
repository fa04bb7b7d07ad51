/* fuzz_pidfiles_lproc.c: proc.stat, proc.statm and proc.cmdline against pidstat_parse, statm_parse and cmdline_parse. */
/*
 * The binding (src/bind/lpidfile.c) builds its tables from these parsers; this checks on any
 * input that the tables it gives are the parsers' results converted to Lua values the way this
 * file converts them, independently (integers, bytes for pages, floats past 64 bits, negatives),
 * or the same "PATH:LINE: reason". The stat, statm and cmdline of process 1 in a tree are hard
 * links to one file, "data", holding the input (a captured tree holds regular files only).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "fuzz_util.h"
#include "bind/lproc.h"
#include "core/cmdline_parse.h"
#include "core/pidstat_parse.h"
#include "core/statm_parse.h"

static struct fuzz_file mem = {-1, ""};
static char root[64];
static const char *const files[] = {"stat", "statm", "cmdline"};

#define TREE_DIR "/tmp"
#define TREE_NAME "memscript-fuzz-pidfiles-"

static void remove_tree_at(const char *dir)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/1/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/1", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/data", dir);
	unlink(path);
	rmdir(dir);
}

static void remove_tree(void)
{
	remove_tree_at(root);
}

/* Removes the trees of runs whose process is gone: a failed check aborts before atexit runs. */
static void remove_stale_trees(void)
{
	const char *name_prefix = TREE_NAME;
	DIR *d = opendir(TREE_DIR);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[256];
		char *end;
		long pid;
		if (strncmp(e->d_name, name_prefix, strlen(name_prefix)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(name_prefix), &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		if (pid != (long)getpid() && !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), TREE_DIR "/%s", e->d_name);
		remove_tree_at(path);
	}
	closedir(d);
}

static void make_tree(void)
{
	char path[128];
	size_t i;

	remove_stale_trees();
	snprintf(root, sizeof(root), TREE_DIR "/" TREE_NAME "%ld", (long)getpid());
	FUZZ_CHECK(mkdir(root, 0700) == 0);
	atexit(remove_tree);
	snprintf(mem.path, sizeof(mem.path), "%s/data", root);
	mem.fd = open(mem.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(mem.fd >= 0);
	snprintf(path, sizeof(path), "%s/1", root);
	FUZZ_CHECK(mkdir(path, 0700) == 0);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/1/%s", root, files[i]);
		FUZZ_CHECK(link(mem.path, path) == 0);
	}
}

/* ---- the Lua values the binding makes of a count (bind_push_scaled there) ---- */

struct lua_value {
	int is_integer;
	lua_Integer integer;
	lua_Number number;
};

static struct lua_value scaled(uint64_t count, int overflowed, const char *digits, size_t ndigits, uint64_t unit)
{
	struct lua_value v = {0, 0, 0};

	if (!overflowed && count <= (uint64_t)LUA_MAXINTEGER / unit) {
		v.is_integer = 1;
		v.integer = (lua_Integer)(count * unit);
	} else if (overflowed) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%.*s", (int)(ndigits < 400 ? ndigits : 400), digits);
		v.number = (lua_Number)strtod(buf, NULL) * (lua_Number)unit;
	} else {
		v.number = (lua_Number)count * (lua_Number)unit;
	}
	return v;
}

/* A stat field's value as the binding is to make it. */
static struct lua_value stat_value(const struct pidstat_field *f, uint64_t unit)
{
	struct lua_value v = {0, 0, 0};

	if (!f->negative)
		return scaled(f->magnitude, f->overflowed, f->text, f->text_len, unit);
	if (!f->overflowed && f->magnitude <= (uint64_t)LUA_MAXINTEGER) {
		v.is_integer = 1;
		v.integer = -(lua_Integer)f->magnitude;
	} else if (!f->overflowed && f->magnitude == (uint64_t)LUA_MAXINTEGER + 1) {
		v.is_integer = 1;
		v.integer = LUA_MININTEGER;
	} else {
		char *digits = fuzz_exact_copy((const uint8_t *)f->text + 1, f->text_len - 1);
		char *z = realloc(digits, f->text_len);
		FUZZ_CHECK(z != NULL);
		z[f->text_len - 1] = '\0';
		v.number = -strtod(z, NULL);
		free(z);
	}
	return v;
}

/* The value at the top of the stack equals v. */
static void check_value(lua_State *L, struct lua_value v, const char *what)
{
	int ok;

	if (v.is_integer)
		ok = lua_isinteger(L, -1) && lua_tointeger(L, -1) == v.integer;
	else
		ok = lua_type(L, -1) == LUA_TNUMBER && !lua_isinteger(L, -1) && lua_tonumber(L, -1) == v.number;
	if (!ok)
		fprintf(stderr, "%s: lproc gives %s\n", what, lua_tostring(L, -1));
	FUZZ_CHECK(ok);
}

static void check_string(lua_State *L, int t, const char *key, const char *s, size_t len)
{
	size_t got_len;
	const char *got;

	FUZZ_CHECK(lua_getfield(L, t, key) == LUA_TSTRING);
	got = lua_tolstring(L, -1, &got_len);
	FUZZ_CHECK(got_len == len && memcmp(got, s, len) == 0);
	lua_pop(L, 1);
}

static long table_size(lua_State *L, int t)
{
	long n = 0;

	lua_pushnil(L);
	while (lua_next(L, t)) {
		lua_pop(L, 1);
		n++;
	}
	return n;
}

/* Calls proc.NAME(1); leaves its results above base. Returns how many. */
static int call(lua_State *L, const char *name)
{
	int base = lua_gettop(L);

	FUZZ_CHECK(lua_getfield(L, 1, name) == LUA_TFUNCTION);
	lua_pushinteger(L, 1);
	FUZZ_CHECK(lua_pcall(L, 1, LUA_MULTRET, 0) == LUA_OK);
	return lua_gettop(L) - base;
}

/* nil, "ROOT/1/FILE:LINE: [FIELD: ]REASON", EINVAL. */
static void check_refusal(lua_State *L, int nres, const char *file, long line, const char *field, const char *reason)
{
	char want[512];

	if (field != NULL)
		snprintf(want, sizeof(want), "%s/1/%s:%ld: %s: %s", root, file, line, field, reason);
	else
		snprintf(want, sizeof(want), "%s/1/%s:%ld: %s", root, file, line, reason);
	if (nres != 3 || !lua_isnil(L, -3) || lua_type(L, -2) != LUA_TSTRING || strcmp(lua_tostring(L, -2), want) != 0)
		fprintf(stderr, "%s: parser says \"%s\", lproc gives \"%s\"\n", file, want,
			nres >= 2 && lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "a table");
	FUZZ_CHECK(nres == 3 && lua_isnil(L, -3) && lua_type(L, -2) == LUA_TSTRING);
	FUZZ_CHECK(strcmp(lua_tostring(L, -2), want) == 0);
	FUZZ_CHECK(lua_tointeger(L, -1) == EINVAL);
}

static void check_stat(lua_State *L, const char *text, size_t size, uint64_t page_size)
{
	struct pidstat s;
	const char *reason = pidstat_parse(text, size, &s);
	int nres = call(L, "stat"), t;
	size_t i;

	if (reason != NULL) {
		check_refusal(L, nres, "stat", s.error_line, s.error_field, reason);
		return;
	}
	if (nres != 1 || lua_type(L, -1) != LUA_TTABLE)
		fprintf(stderr, "stat: parser accepts, lproc gives %s\n", nres >= 2 ? lua_tostring(L, -2) : "?");
	FUZZ_CHECK(nres == 1 && lua_type(L, -1) == LUA_TTABLE);
	t = lua_gettop(L);
	FUZZ_CHECK(table_size(L, t) == 2 + (long)s.nfields);
	lua_getfield(L, t, "pid");
	check_value(L, scaled(s.pid, 0, s.pid_digits, s.pid_len, 1), "pid");
	lua_pop(L, 1);
	check_string(L, t, "comm", s.comm, s.comm_len);
	for (i = 0; i < s.nfields; i++) {
		if (i == 0) {
			check_string(L, t, "state", s.fields[0].text, s.fields[0].text_len);
			continue;
		}
		lua_getfield(L, t, pidstat_field_names[i]);
		check_value(L, stat_value(&s.fields[i], strcmp(pidstat_field_names[i], "rss") == 0 ? page_size : 1),
			    pidstat_field_names[i]);
		lua_pop(L, 1);
	}
}

static void check_statm(lua_State *L, const char *text, size_t size, uint64_t page_size)
{
	struct statm s;
	const char *reason = statm_parse(text, size, &s);
	int nres = call(L, "statm"), t;
	size_t i;

	if (reason != NULL) {
		check_refusal(L, nres, "statm", 1, s.error_field, reason);
		return;
	}
	FUZZ_CHECK(nres == 1 && lua_type(L, -1) == LUA_TTABLE);
	t = lua_gettop(L);
	FUZZ_CHECK(table_size(L, t) == STATM_FIELDS);
	for (i = 0; i < STATM_FIELDS; i++) {
		const struct statm_field *f = &s.fields[i];
		lua_getfield(L, t, statm_field_names[i]);
		check_value(L, scaled(f->pages, f->overflowed, f->digits, f->digits_len, page_size), statm_field_names[i]);
		lua_pop(L, 1);
	}
}

static void check_cmdline(lua_State *L, const char *text, size_t size)
{
	const char *pos = text, *arg;
	size_t arg_len, got_len;
	lua_Integer n = 0;
	int nres = call(L, "cmdline"), t;

	FUZZ_CHECK(nres == 1 && lua_type(L, -1) == LUA_TTABLE);
	t = lua_gettop(L);
	FUZZ_CHECK(lua_rawlen(L, t) == cmdline_count(text, size));
	while (cmdline_next(&pos, text + size, &arg, &arg_len)) {
		const char *got;
		FUZZ_CHECK(lua_rawgeti(L, t, ++n) == LUA_TSTRING);
		got = lua_tolstring(L, -1, &got_len);
		FUZZ_CHECK(got_len == arg_len && memcmp(got, arg, arg_len) == 0);
		lua_pop(L, 1);
	}
	FUZZ_CHECK(table_size(L, t) == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	char *text;
	lua_State *L;

	if (mem.fd < 0)
		make_tree();
	fuzz_file_set(&mem, data, size);
	/* The parsers get exactly the bytes, with nothing after them to read by mistake. */
	text = fuzz_exact_copy(data, size);
	L = luaL_newstate();
	FUZZ_CHECK(L != NULL);
	{
		struct lproc_options options = {root, 1, 0};
		lproc_push(L, &options);
	}
	check_stat(L, text, size, page_size);
	lua_settop(L, 1);
	check_statm(L, text, size, page_size);
	lua_settop(L, 1);
	check_cmdline(L, text, size);
	lua_close(L);
	free(text);
	return 0;
}
