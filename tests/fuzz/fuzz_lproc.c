/* fuzz_lproc.c: every `proc` function over a proc root whose files all hold the fuzz input. */
/*
 * Each call returns its table (comm: its string) or nil, "PATH:LINE: reason", EINVAL, checked
 * against the input; then it runs again with Lua's allocations failing from a point on (chosen
 * from the input), where it may also raise "not enough memory" but must not crash or leak.
 * MEMSCRIPT_FUZZ_SKIP="stat,comm" leaves functions out, to fuzz the others past a known failure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "fuzz_util.h"
#include "bind/lproc.h"
#include "core/maps_parse.h"

/*
 * The files of process 1 in the tree; all are hard links to one file, "data", which holds the
 * input (a captured tree holds regular files only: memscript follows no link there).
 */
static const char *const pid_files[] = {
	"cmdline", "comm", "ksm_stat", "maps", "numa_maps", "smaps", "smaps_rollup", "stat", "statm", "status"};
/* The files of the tree's top; also hard links to the one file. */
static const char *const top_files[] = {"meminfo", "vmstat"};
#define NTOP (sizeof(top_files) / sizeof(top_files[0]))
#define NFILES (sizeof(pid_files) / sizeof(pid_files[0]))

static struct fuzz_file mem = {-1, ""};
static char root[64];

/* The tree is named after the process, so a run that crashed leaves one its successors can remove. */
static const char *const tree_parents[] = {"/dev/shm", "/tmp"};
#define TREE_PREFIX "memscript-fuzz-"

static void remove_tree_at(const char *dir)
{
	char path[256];
	size_t i;

	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/1/%s", dir, pid_files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/1", dir);
	rmdir(path);
	for (i = 0; i < NTOP; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, top_files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/data", dir);
	unlink(path);
	rmdir(dir);
}

static void remove_tree(void)
{
	remove_tree_at(root);
}

/* Removes the trees of runs whose process is gone (a crash skips atexit). */
static void remove_stale_trees(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[256];
		long pid;
		char *end;
		if (strncmp(e->d_name, TREE_PREFIX, strlen(TREE_PREFIX)) != 0)
			continue;
		pid = strtol(e->d_name + strlen(TREE_PREFIX), &end, 10);
		if (*end != '\0' || pid <= 0)
			continue;
		/* Our own pid can only be on the tree of a dead run that had it; another, if it is gone. */
		if (pid != (long)getpid() && !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
			continue;
		snprintf(path, sizeof(path), "%s/%s", parent, e->d_name);
		remove_tree_at(path);
	}
	closedir(d);
}

static void make_tree(void)
{
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(tree_parents) / sizeof(tree_parents[0]); i++) {
		remove_stale_trees(tree_parents[i]);
		snprintf(root, sizeof(root), "%s/" TREE_PREFIX "%ld", tree_parents[i], (long)getpid());
		if (mkdir(root, 0700) == 0)
			break;
	}
	FUZZ_CHECK(i < sizeof(tree_parents) / sizeof(tree_parents[0]));
	atexit(remove_tree);
	snprintf(mem.path, sizeof(mem.path), "%s/data", root);
	mem.fd = open(mem.path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FUZZ_CHECK(mem.fd >= 0);
	snprintf(path, sizeof(path), "%s/1", root);
	FUZZ_CHECK(mkdir(path, 0700) == 0);
	for (i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/1/%s", root, pid_files[i]);
		FUZZ_CHECK(link(mem.path, path) == 0);
	}
	for (i = 0; i < NTOP; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, top_files[i]);
		FUZZ_CHECK(link(mem.path, path) == 0);
	}
}

/* ---- an allocator that fails every allocation from a chosen one on ---- */

struct alloc_state {
	long count;     /* allocations (not frees, not shrinks) so far */
	long fail_from; /* the first to fail, or -1 */
};

static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct alloc_state *a = ud;

	if (nsize == 0) {
		free(ptr);
		return NULL;
	}
	/* Lua relies on a shrink never failing. */
	if (ptr == NULL || nsize > osize) {
		if (a->fail_from >= 0 && a->count >= a->fail_from)
			return NULL;
		a->count++;
	}
	return realloc(ptr, nsize);
}

/* ---- checks on results ---- */

static long count_lines(const char *bytes, size_t len)
{
	long n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += bytes[i] == '\n';
	return n + (len > 0 && bytes[len - 1] != '\n');
}

/* Lines with something on them: the "Key: value" files skip empty ones. */
static long count_nonempty_lines(const char *bytes, size_t len)
{
	long n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += bytes[i] != '\n' && (i + 1 == len || bytes[i + 1] == '\n');
	return n;
}

/* Lines that maps_is_header takes for a mapping header. */
static long count_headers(const char *bytes, size_t len)
{
	const char *p = bytes, *end = bytes + len;
	long n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		n += maps_is_header(p, (size_t)(line_end - p));
		p = nl ? nl + 1 : end;
	}
	return n;
}

static long table_size(lua_State *L, int t)
{
	long n = 0;

	lua_pushnil(L);
	while (lua_next(L, t)) {
		FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
		lua_pop(L, 1);
		n++;
	}
	return n;
}

/* nil, "PATH:LINE: reason", EINVAL: the files exist, so only their content can be refused. */
static void check_refused(lua_State *L, int base, int nres, const char *path)
{
	const char *msg;
	size_t path_len = strlen(path);

	FUZZ_CHECK(nres == 3);
	FUZZ_CHECK(lua_isnil(L, base + 1));
	FUZZ_CHECK(lua_type(L, base + 2) == LUA_TSTRING);
	msg = lua_tostring(L, base + 2);
	FUZZ_CHECK(strncmp(msg, path, path_len) == 0 && msg[path_len] == ':');
	msg += path_len + 1;
	FUZZ_CHECK(*msg >= '1' && *msg <= '9');
	while (*msg >= '0' && *msg <= '9')
		msg++;
	FUZZ_CHECK(msg[0] == ':' && msg[1] == ' ' && msg[2] != '\0');
	FUZZ_CHECK(lua_isinteger(L, base + 3) && lua_tointeger(L, base + 3) == EINVAL);
}

static int is_number_or_string(lua_State *L, int idx)
{
	return lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TSTRING;
}

static int assign_into(lua_State *L)
{
	lua_pushboolean(L, 1);
	lua_setfield(L, 1, "wr");
	return 0;
}

/* A VmFlags set: each code of its text is true, a blank is not a code, and it refuses writes. */
static void check_vmflags(lua_State *L, int set)
{
	const char *text, *p;
	size_t len;

	FUZZ_CHECK(lua_type(L, set) == LUA_TTABLE);
	text = luaL_tolstring(L, set, &len);
	for (p = text; p < text + len;) {
		const char *word = p;
		while (p < text + len && *p != ' ')
			p++;
		if (p > word) {
			lua_pushlstring(L, word, (size_t)(p - word));
			FUZZ_CHECK(lua_gettable(L, set) == LUA_TBOOLEAN && lua_toboolean(L, -1));
			lua_pop(L, 1);
		}
		while (p < text + len && *p == ' ')
			p++;
	}
	lua_pop(L, 1);
	FUZZ_CHECK(lua_getfield(L, set, "a b") == LUA_TNIL);
	lua_pop(L, 1);
	lua_pushcfunction(L, assign_into);
	lua_pushvalue(L, set);
	FUZZ_CHECK(lua_pcall(L, 1, 0, 0) == LUA_ERRRUN);
	lua_pop(L, 1);
}

static void check_integer_field(lua_State *L, int t, const char *key)
{
	FUZZ_CHECK(lua_getfield(L, t, key) == LUA_TNUMBER && lua_isinteger(L, -1));
	lua_pop(L, 1);
}

static void check_mappings(lua_State *L, int t, int smaps)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, t), i;
	size_t prev_len = 0;
	char *prev_flags = NULL;

	for (i = 1; i <= n; i++) {
		int m;
		uint64_t start, end;
		size_t len;
		FUZZ_CHECK(lua_rawgeti(L, t, i) == LUA_TTABLE);
		m = lua_gettop(L);
		check_integer_field(L, m, "vm_start");
		check_integer_field(L, m, "vm_end");
		check_integer_field(L, m, "size");
		check_integer_field(L, m, "offset");
		check_integer_field(L, m, "inode");
		lua_getfield(L, m, "vm_start");
		lua_getfield(L, m, "vm_end");
		lua_getfield(L, m, "size");
		start = (uint64_t)lua_tointeger(L, -3);
		end = (uint64_t)lua_tointeger(L, -2);
		FUZZ_CHECK(start <= end && (uint64_t)lua_tointeger(L, -1) == end - start);
		lua_pop(L, 3);
		FUZZ_CHECK(lua_getfield(L, m, "perms") == LUA_TSTRING);
		lua_tolstring(L, -1, &len);
		FUZZ_CHECK(len == 4);
		FUZZ_CHECK(lua_getfield(L, m, "dev") == LUA_TSTRING);
		FUZZ_CHECK(lua_getfield(L, m, "path") == LUA_TSTRING);
		lua_pop(L, 3);
		if (!smaps) {
			FUZZ_CHECK(table_size(L, m) == 8);
		} else {
			lua_pushnil(L);
			while (lua_next(L, m)) {
				FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
				if (strcmp(lua_tostring(L, -2), "VmFlags") != 0)
					FUZZ_CHECK(is_number_or_string(L, -1));
				lua_pop(L, 1);
			}
			if (lua_getfield(L, m, "VmFlags") == LUA_TTABLE) {
				/* One set per distinct text: the same text as the previous mapping's, the same set. */
				const char *text = luaL_tolstring(L, -1, &len);
				check_vmflags(L, m + 1);
				if (prev_flags != NULL && len == prev_len && memcmp(text, prev_flags, len) == 0) {
					lua_getfield(L, m - 1, "VmFlags");
					FUZZ_CHECK(lua_rawequal(L, -1, m + 1));
					lua_pop(L, 1);
				}
				free(prev_flags);
				prev_flags = fuzz_exact_copy((const uint8_t *)text, len);
				prev_len = len;
				lua_pop(L, 1);
			} else {
				free(prev_flags);
				prev_flags = NULL;
			}
			lua_pop(L, 1);
		}
		/* Keep the previous mapping at m - 1 for the next round's sharing check. */
		if (i > 1)
			lua_remove(L, m - 1);
	}
	if (n > 0)
		lua_pop(L, 1);
	free(prev_flags);
	FUZZ_CHECK(lua_rawgeti(L, t, n + 1) == LUA_TNIL);
	lua_pop(L, 1);
}

static void check_keyvals(lua_State *L, int t, long expect_keys)
{
	lua_pushnil(L);
	while (lua_next(L, t)) {
		FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
		FUZZ_CHECK(is_number_or_string(L, -1));
		lua_pop(L, 1);
	}
	FUZZ_CHECK(table_size(L, t) == expect_keys);
}

static void check_statm(lua_State *L, int t)
{
	static const char *const names[] = {"size", "resident", "shared", "text", "lib", "data", "dt"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		FUZZ_CHECK(lua_getfield(L, t, names[i]) == LUA_TNUMBER);
		lua_pop(L, 1);
	}
	FUZZ_CHECK(table_size(L, t) == 7);
}

/* The arguments joined with NUL (and the trailing NUL, if any) are the file again. */
static void check_cmdline(lua_State *L, int t, const char *bytes, size_t len)
{
	lua_Integer n = (lua_Integer)lua_rawlen(L, t), i;
	size_t off = 0;

	for (i = 1; i <= n; i++) {
		const char *arg;
		size_t arg_len;
		FUZZ_CHECK(lua_rawgeti(L, t, i) == LUA_TSTRING);
		arg = lua_tolstring(L, -1, &arg_len);
		FUZZ_CHECK(off + arg_len <= len && memcmp(bytes + off, arg, arg_len) == 0);
		off += arg_len;
		FUZZ_CHECK(off == len || bytes[off] == '\0');
		if (off < len)
			off++;
		lua_pop(L, 1);
	}
	FUZZ_CHECK(off == len);
}

/* ---- the calls ---- */

struct call {
	const char *name;
	const char *file; /* NULL: the function takes no pid */
};

static const struct call calls[] = {
	{"cmdline", "cmdline"}, {"comm", "comm"}, {"ksm_stat", "ksm_stat"}, {"maps", "maps"},
	{"meminfo", NULL}, {"numa_maps", "numa_maps"}, {"smaps", "smaps"}, {"smaps_rollup", "smaps_rollup"}, {"smaps_sums", "smaps"},
	{"stat", "stat"},
	{"statm", "statm"}, {"status", "status"}, {"vmstat", NULL},
};

/* Whether name is in the comma-separated MEMSCRIPT_FUZZ_SKIP. */
static int skipped(const char *name)
{
	const char *list = getenv("MEMSCRIPT_FUZZ_SKIP"), *p;
	size_t len = strlen(name);

	for (p = list; p != NULL && *p != '\0'; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strcspn(p, ",") == len && strncmp(p, name, len) == 0)
			return 1;
	}
	return 0;
}

/* The fields smaps_sums adds up (top.lua -m's, and one that is a number too): a table in the registry. */
static int sum_fields_ref = LUA_NOREF;

static void make_sum_fields(lua_State *L)
{
	static const char *const fields[] = {"Rss", "Pss", "Private_Dirty", "Swap", "SwapPss", "KernelPageSize"};
	size_t i;

	lua_createtable(L, 6, 0);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		lua_pushstring(L, fields[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	sum_fields_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Calls proc.NAME(1) or proc.NAME(); -1 when skipped, or when `proc` has no stat (it came later). */
static int call_proc(lua_State *L, const struct call *c)
{
	if (skipped(c->name))
		return -1;
	if (lua_getfield(L, 1, c->name) == LUA_TNIL && strcmp(c->name, "stat") == 0) {
		lua_pop(L, 1);
		return -1;
	}
	FUZZ_CHECK(lua_type(L, -1) == LUA_TFUNCTION);
	if (c->file != NULL)
		lua_pushinteger(L, 1);
	if (strcmp(c->name, "smaps_sums") == 0) {
		/* made before allocations may fail: pushing it allocates nothing */
		lua_rawgeti(L, LUA_REGISTRYINDEX, sum_fields_ref);
		return lua_pcall(L, 2, LUA_MULTRET, 0);
	}
	return lua_pcall(L, c->file != NULL, LUA_MULTRET, 0);
}

static void check_result(lua_State *L, const struct call *c, int nres, const char *bytes, size_t len)
{
	char path[128];
	int t = 2;

	if (c->file != NULL)
		snprintf(path, sizeof(path), "%s/1/%s", root, c->file);
	else
		snprintf(path, sizeof(path), "%s/%s", root, c->name);

	if (strcmp(c->name, "comm") == 0) {
		size_t comm_len;
		const char *comm;
		FUZZ_CHECK(nres == 1 && lua_type(L, t) == LUA_TSTRING);
		comm = lua_tolstring(L, t, &comm_len);
		FUZZ_CHECK(comm_len == len - (len > 0 && bytes[len - 1] == '\n'));
		FUZZ_CHECK(memcmp(comm, bytes, comm_len) == 0);
		return;
	}
	if (lua_type(L, t) != LUA_TTABLE) {
		check_refused(L, 1, nres, path);
		return;
	}
	FUZZ_CHECK(nres == 1);
	if (strcmp(c->name, "cmdline") == 0) {
		check_cmdline(L, t, bytes, len);
	} else if (strcmp(c->name, "maps") == 0) {
		check_mappings(L, t, 0);
		FUZZ_CHECK((long)lua_rawlen(L, t) == count_lines(bytes, len));
	} else if (strcmp(c->name, "smaps") == 0) {
		check_mappings(L, t, 1);
		FUZZ_CHECK((long)lua_rawlen(L, t) == count_headers(bytes, len));
	} else if (strcmp(c->name, "smaps_sums") == 0) {
		/* one group per distinct path: their mapping counts add up to the headers */
		long i, groups = (long)lua_rawlen(L, t), maps = 0;
		FUZZ_CHECK(groups <= count_headers(bytes, len));
		for (i = 1; i <= groups; i++) {
			FUZZ_CHECK(lua_rawgeti(L, t, i) == LUA_TTABLE);
			FUZZ_CHECK(lua_getfield(L, -1, "path") == LUA_TSTRING);
			FUZZ_CHECK(lua_getfield(L, -2, "maps") == LUA_TNUMBER && lua_isinteger(L, -1));
			maps += (long)lua_tointeger(L, -1);
			lua_pop(L, 3);
		}
		FUZZ_CHECK(maps == count_headers(bytes, len));
	} else if (strcmp(c->name, "numa_maps") == 0) {
		/* a table per line: its address and policy, and no key without a value */
		long i, n = (long)lua_rawlen(L, t);
		FUZZ_CHECK(n == count_lines(bytes, len));
		for (i = 1; i <= n; i++) {
			FUZZ_CHECK(lua_rawgeti(L, t, i) == LUA_TTABLE);
			FUZZ_CHECK(lua_getfield(L, -1, "vm_start") == LUA_TNUMBER && lua_isinteger(L, -1));
			FUZZ_CHECK(lua_getfield(L, -2, "policy") == LUA_TSTRING);
			lua_pop(L, 2);
			lua_pushnil(L);
			while (lua_next(L, -2)) {
				FUZZ_CHECK(lua_type(L, -2) == LUA_TSTRING);
				FUZZ_CHECK(is_number_or_string(L, -1) || lua_type(L, -1) == LUA_TBOOLEAN);
				lua_pop(L, 1);
			}
			lua_pop(L, 1);
		}
	} else if (strcmp(c->name, "statm") == 0) {
		check_statm(L, t);
	} else if (strcmp(c->name, "stat") == 0) {
		check_keyvals(L, t, table_size(L, t));
	} else if (strcmp(c->name, "vmstat") == 0 || strcmp(c->name, "ksm_stat") == 0) {
		/* "key value": every line a key, none empty */
		check_keyvals(L, t, count_lines(bytes, len));
	} else {
		long keys = count_nonempty_lines(bytes, len);
		if (strcmp(c->name, "smaps_rollup") == 0 && len > 0) {
			const char *nl = memchr(bytes, '\n', len);
			keys -= maps_is_header(bytes, (size_t)((nl ? nl : bytes + len) - bytes));
		}
		check_keyvals(L, t, keys);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alloc_state alloc = {0, -1};
	const char *bytes = (const char *)data;
	uint32_t hash = 2166136261u;
	lua_State *L;
	size_t i;

	if (mem.fd < 0)
		make_tree();
	fuzz_file_set(&mem, data, size);
	for (i = 0; i < size; i++)
		hash = (hash ^ data[i]) * 16777619u;

	L = lua_newstate(fuzz_alloc, &alloc);
	FUZZ_CHECK(L != NULL);
	{
		struct lproc_options options = {root, 1, 0};
		lproc_push(L, &options);
	}
	make_sum_fields(L);
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const struct call *c = &calls[i];
		long allocs;
		int status;

		/* As it is: never an error raised, whatever the content. */
		alloc.count = 0;
		status = call_proc(L, c);
		if (status < 0)
			continue;
		if (status != LUA_OK)
			fprintf(stderr, "proc.%s raised: %s\n", c->name, lua_tostring(L, -1));
		FUZZ_CHECK(status == LUA_OK);
		check_result(L, c, lua_gettop(L) - 1, bytes, size);
		lua_settop(L, 1);
		allocs = alloc.count;

		/* Out of memory at one allocation (chosen from the input) and every one after it. */
		alloc.count = 0;
		alloc.fail_from = (long)((hash + i * 7919u) % (uint32_t)(allocs + 1));
		status = call_proc(L, c);
		alloc.fail_from = -1;
		if (status == LUA_OK) {
			check_result(L, c, lua_gettop(L) - 1, bytes, size);
		} else {
			const char *msg = lua_tostring(L, -1);
			if (!(status == LUA_ERRMEM ||
			      (status == LUA_ERRRUN && msg != NULL && strncmp(msg, "stack overflow", 14) == 0)))
				fprintf(stderr, "proc.%s out of memory: status %d: %s\n", c->name, status,
					msg ? msg : "(not a string)");
			FUZZ_CHECK(status == LUA_ERRMEM ||
				   (status == LUA_ERRRUN && msg != NULL && strncmp(msg, "stack overflow", 14) == 0));
		}
		lua_settop(L, 1);
	}
	lua_close(L);
	return 0;
}
