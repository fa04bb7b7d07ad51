/* lcgroup.c: proc.cgroup: a process's memory cgroup, a cgroup's memory files as one table, the hierarchy's cgroups. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "bind/runtime.h"
#include "core/nestedkeyed_parse.h"
#include "core/numa_parse.h"
#include "core/numparse.h"
#include "core/proccgroup_parse.h"
#include "core/singlevalue_parse.h"

/* ---- where the memory hierarchy is ---- */

/*
 * The memory controller's hierarchy under the sys tree: v2 at fs/cgroup when its root lists
 * "memory" in cgroup.controllers; v1 at fs/cgroup/memory (or a mount named for several
 * controllers, memory among them: "cpu,memory"); in a capture that holds neither the v2 root's
 * files nor a v1 memory directory, v2 at fs/cgroup (the cgroups captured without the root's files).
 */
struct hierarchy {
	int version;
	char top[PATH_MAX]; /* "fs/cgroup/memory", "fs/cgroup" */
};

/* Whether word is one of the blank-separated words of text[0..len). */
static int has_word(const char *text, size_t len, const char *word)
{
	const char *p = text, *end = text + len;
	size_t n = strlen(word);

	while (p < end) {
		const char *start;
		while (p < end && (*p == ' ' || *p == '\n'))
			p++;
		start = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if ((size_t)(p - start) == n && memcmp(start, word, n) == 0)
			return 1;
	}
	return 0;
}

/* Whether a v1 mount's directory name lists the memory controller: "memory", "cpu,memory". */
static int names_memory(const char *name)
{
	const char *p = name;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		if (n == 6 && memcmp(p, "memory", 6) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

struct v1_search {
	char name[NAME_MAX + 1];
	int exact; /* found "memory" itself, which wins over a joined mount */
};

static int find_v1_mount(const char *name, void *arg)
{
	struct v1_search *s = arg;

	if (!names_memory(name) || s->exact || strlen(name) > NAME_MAX)
		return 0;
	memcpy(s->name, name, strlen(name) + 1);
	s->exact = strcmp(name, "memory") == 0;
	return 0;
}

/* Pushes nil, "PATH: message", ENOENT for the sys tree's relpath. Returns 3. */
static int no_hierarchy(lua_State *L, struct source *src, const char *relpath, const char *message)
{
	char path[PATH_MAX];

	source_dir_path(source_tree(src, SOURCE_SYS), relpath, path, sizeof(path));
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", path, message);
	lua_pushinteger(L, ENOENT);
	return 3;
}

/*
 * Finds the hierarchy without Lua: 0 and *h; or an errno value, with *where the sys tree's relpath
 * the error names and *message what is missing there (NULL: the errno value's own message).
 */
static int locate_hierarchy(struct source *src, struct hierarchy *h, const char **where, const char **message)
{
	struct source_dir *cgroup_fs;
	struct procfile f;
	struct v1_search v1;
	int err, v2_root, v2_memory = 0;

	*where = "fs/cgroup";
	*message = NULL;
	err = source_dir_open(src, SOURCE_SYS, "fs/cgroup", &cgroup_fs);
	if (err != 0)
		return err;
	v2_root = source_dir_read(cgroup_fs, "cgroup.controllers", &f) == 0;
	if (v2_root) {
		v2_memory = has_word(f.data, f.len, "memory");
		procfile_free(&f);
	}
	memset(&v1, 0, sizeof(v1));
	if (!v2_memory)
		err = source_dir_list_dirs(cgroup_fs, "", find_v1_mount, &v1);
	source_dir_close(cgroup_fs);
	if (v2_memory || (!v1.name[0] && !v2_root && source_kind(src) != SOURCE_LIVE)) {
		h->version = 2;
		snprintf(h->top, sizeof(h->top), "fs/cgroup");
		return 0;
	}
	if (err != 0)
		return err;
	if (v1.name[0]) {
		h->version = 1;
		snprintf(h->top, sizeof(h->top), "fs/cgroup/%s", v1.name);
		return 0;
	}
	if (v2_root) {
		*where = "fs/cgroup/cgroup.controllers";
		*message = "no memory controller (the cgroup2 root does not list it, and no v1 hierarchy has it)";
	} else {
		*message = "no memory controller (neither a cgroup2 root nor a v1 memory hierarchy)";
	}
	return ENOENT;
}

/* Finds the hierarchy: returns 0, or pushes the error results and returns 3. */
static int find_hierarchy(lua_State *L, struct source *src, struct hierarchy *h)
{
	const char *where, *message;
	int err = locate_hierarchy(src, h, &where, &message);

	if (err == 0)
		return 0;
	if (message == NULL)
		return bind_os_error(L, source_tree(src, SOURCE_SYS), where, err);
	return no_hierarchy(L, src, where, message);
}

int bind_cgroup_memory_top(struct source *src, char *top, size_t size)
{
	struct hierarchy h;
	const char *where, *message;
	int err = locate_hierarchy(src, &h, &where, &message);

	if (err == 0 && (size_t)snprintf(top, size, "%s", h.top) >= size)
		err = ENAMETOOLONG;
	return err;
}

/*
 * The directory of the cgroup at path ("/", "/system.slice/a.service") under the sys tree, in buf:
 * the hierarchy's top and the path, trailing slashes left out. Returns 0 or ENAMETOOLONG.
 */
static int cgroup_relpath(const struct hierarchy *h, const char *path, size_t len, char *buf, size_t size)
{
	int n;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len == 1)
		n = snprintf(buf, size, "%s", h->top);
	else
		n = snprintf(buf, size, "%s%.*s", h->top, (int)len, path);
	return n < 0 || (size_t)n >= size ? ENAMETOOLONG : 0;
}

/* A cgroup path argument: a string starting with '/' and holding no NUL. */
static const char *check_cgroup_path(lua_State *L, int arg, size_t *len)
{
	const char *path = luaL_checklstring(L, arg, len);

	luaL_argcheck(L, *len > 0 && path[0] == '/' && strlen(path) == *len, arg,
		      "a cgroup path starting with '/' expected");
	return path;
}

/* ---- cgroup.of(pid) ---- */

struct of_ctx {
	const char *path;
	struct procfile file;
};

static void of_cleanup(void *arg)
{
	procfile_free(&((struct of_ctx *)arg)->file);
}

/*
 * {path, version}: the memory controller's v1 line when there is one (a v1 or hybrid host),
 * else the v2 line. Every line must parse; the memory line and the v2 line appear once each.
 */
static int of_build(lua_State *L, void *arg)
{
	struct of_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	struct proccgroup_line memory_line, v2_line;
	long lineno = 0, memory_at = 0, v2_at = 0;

	memset(&memory_line, 0, sizeof(memory_line));
	memset(&v2_line, 0, sizeof(v2_line));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct proccgroup_line l;
		const char *reason;

		lineno++;
		reason = proccgroup_parse_line(p, (size_t)(line_end - p), &l);
		if (reason != NULL)
			return bind_format_error(L, c->path, lineno, reason);
		if (proccgroup_has_controller(&l, "memory")) {
			if (memory_at != 0)
				return bind_format_error(L, c->path, lineno,
							 lua_pushfstring(L, "a second line for the memory controller (the first is line %d)",
									 (int)memory_at));
			memory_line = l;
			memory_at = lineno;
		} else if (l.hierarchy == 0) {
			if (v2_at != 0)
				return bind_format_error(L, c->path, lineno,
							 lua_pushfstring(L, "a second line for hierarchy 0 (the first is line %d)",
									 (int)v2_at));
			v2_line = l;
			v2_at = lineno;
		}
		p = nl ? nl + 1 : end;
	}
	if (memory_at == 0 && v2_at == 0) {
		luaL_checkstack(L, 3, NULL);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: no line for the memory controller nor for the v2 hierarchy", c->path);
		lua_pushinteger(L, ENOENT);
		return 3;
	}
	lua_createtable(L, 0, 8);
	if (memory_at != 0)
		lua_pushlstring(L, memory_line.path, memory_line.path_len);
	else
		lua_pushlstring(L, v2_line.path, v2_line.path_len);
	lua_setfield(L, -2, "path");
	lua_pushinteger(L, memory_at != 0 ? 1 : 2);
	lua_setfield(L, -2, "version");
	return 1;
}

static int read_of(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	char path[PATH_MAX];
	struct of_ctx c;
	int err, n;

	(void)arg;
	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	err = source_dir_read(dir, file, &c.file);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	n = bind_call(L, of_build, &c, of_cleanup);
	/* The systemd unit and slice, container and pod the path names: memscript.cgroupname's reading. */
	if (n == 1 && runtime_push(L, "cgroup_names")) {
		if (lua_isfunction(L, -1)) {
			lua_pushvalue(L, -2);
			lua_call(L, 1, 0);
		} else {
			lua_pop(L, 1);
		}
	}
	return n;
}

/* of(pid): the memory cgroup of a process (a pid or a process handle). */
static int cgroup_of(lua_State *L)
{
	return bind_process_file(L, "cgroup", read_of, NULL);
}

/* ---- cgroup.memory(path) ---- */

enum file_kind {
	KIND_COUNT, /* a decimal: a size in bytes or a count */
	KIND_LIMIT, /* a decimal or "max" (v2), v1's largest value: no limit (HUGE_VAL) */
	KIND_FLAT,  /* "key value" lines (memory.stat, memory.events, v1 memory.oom_control) */
	KIND_PSI,   /* memory.pressure: "some avg10=... total=...", "full ..." */
	KIND_NUMA,  /* memory.numa_stat: "anon N0=..." (v2, bytes), "total=N N0=..." (v1, pages) */
	KIND_PIDS,  /* cgroup.procs: one pid a line */
};

struct memory_file {
	const char *file;
	const char *key;
	enum file_kind kind;
};

/*
 * cgroup-v2.rst's memory files: the key is the file's name without "memory.", dots as '_'. The
 * root cgroup has none of current, min, low, high, max, peak, swap.* (the kernel does not make them).
 */
static const struct memory_file v2_files[] = {
	{"memory.current", "current", KIND_COUNT},
	{"memory.peak", "peak", KIND_COUNT},
	{"memory.min", "min", KIND_LIMIT},
	{"memory.low", "low", KIND_LIMIT},
	{"memory.high", "high", KIND_LIMIT},
	{"memory.max", "max", KIND_LIMIT},
	{"memory.oom.group", "oom_group", KIND_COUNT},
	{"memory.swap.current", "swap_current", KIND_COUNT},
	{"memory.swap.peak", "swap_peak", KIND_COUNT},
	{"memory.swap.high", "swap_high", KIND_LIMIT},
	{"memory.swap.max", "swap_max", KIND_LIMIT},
	{"memory.zswap.current", "zswap_current", KIND_COUNT},
	{"memory.zswap.max", "zswap_max", KIND_LIMIT},
	{"memory.zswap.writeback", "zswap_writeback", KIND_COUNT},
	{"memory.stat", "stat", KIND_FLAT},
	{"memory.events", "events", KIND_FLAT},
	{"memory.events.local", "events_local", KIND_FLAT},
	{"memory.swap.events", "swap_events", KIND_FLAT},
	{"memory.pressure", "pressure", KIND_PSI},
	{"memory.numa_stat", "numa_stat", KIND_NUMA},
	{"cgroup.procs", "procs", KIND_PIDS},
};

/*
 * cgroup-v1 memory.rst's files: usage_in_bytes, limit_in_bytes and max_usage_in_bytes mean what
 * v2's current, max and peak mean and take those names; the others keep their own (without
 * "memory.", dots as '_'): v1's soft limit, memsw (memory+swap) and kmem counters have no v2 twin.
 */
static const struct memory_file v1_files[] = {
	{"memory.usage_in_bytes", "current", KIND_COUNT},
	{"memory.max_usage_in_bytes", "peak", KIND_COUNT},
	{"memory.limit_in_bytes", "max", KIND_LIMIT},
	{"memory.soft_limit_in_bytes", "soft_limit_in_bytes", KIND_LIMIT},
	{"memory.failcnt", "failcnt", KIND_COUNT},
	{"memory.memsw.usage_in_bytes", "memsw_usage_in_bytes", KIND_COUNT},
	{"memory.memsw.max_usage_in_bytes", "memsw_max_usage_in_bytes", KIND_COUNT},
	{"memory.memsw.limit_in_bytes", "memsw_limit_in_bytes", KIND_LIMIT},
	{"memory.memsw.failcnt", "memsw_failcnt", KIND_COUNT},
	{"memory.kmem.usage_in_bytes", "kmem_usage_in_bytes", KIND_COUNT},
	{"memory.kmem.max_usage_in_bytes", "kmem_max_usage_in_bytes", KIND_COUNT},
	{"memory.kmem.limit_in_bytes", "kmem_limit_in_bytes", KIND_LIMIT},
	{"memory.kmem.failcnt", "kmem_failcnt", KIND_COUNT},
	{"memory.kmem.tcp.usage_in_bytes", "kmem_tcp_usage_in_bytes", KIND_COUNT},
	{"memory.kmem.tcp.max_usage_in_bytes", "kmem_tcp_max_usage_in_bytes", KIND_COUNT},
	{"memory.kmem.tcp.limit_in_bytes", "kmem_tcp_limit_in_bytes", KIND_LIMIT},
	{"memory.kmem.tcp.failcnt", "kmem_tcp_failcnt", KIND_COUNT},
	{"memory.swappiness", "swappiness", KIND_COUNT},
	{"memory.use_hierarchy", "use_hierarchy", KIND_COUNT},
	{"memory.move_charge_at_immigrate", "move_charge_at_immigrate", KIND_COUNT},
	{"memory.oom_control", "oom_control", KIND_FLAT},
	{"memory.stat", "stat", KIND_FLAT},
	{"memory.numa_stat", "numa_stat", KIND_NUMA},
	{"cgroup.procs", "procs", KIND_PIDS},
};

struct memory_ctx {
	struct source_dir *dir;    /* the cgroup's directory */
	const struct hierarchy *h;
	char cgroup[PATH_MAX];     /* the path asked for, trailing slashes left out */
	char path[PATH_MAX];       /* the file being read, as messages name it */
	struct procfile file;
	uint64_t *pids;            /* cgroup.procs while it is read */
	uint64_t v1_no_limit;      /* v1's "no limit": PAGE_COUNTER_MAX pages in bytes */
	long page_size;
	int missing;               /* a file was not there */
};

static void memory_cleanup(void *arg)
{
	struct memory_ctx *c = arg;

	procfile_free(&c->file);
	free(c->pids);
	c->pids = NULL;
	source_dir_close(c->dir);
}

/* The lines of the file read: calls line(L, c, text, len, lineno, arg) for each; returns 0 or its results. */
static int each_line(lua_State *L, struct memory_ctx *c,
		     int (*line)(lua_State *L, struct memory_ctx *c, const char *text, size_t len, long lineno, void *arg),
		     void *arg)
{
	const char *p = c->file.data, *end = p + c->file.len;
	long lineno = 0;

	if (c->file.len == 0)
		return bind_format_error(L, c->path, 1, "empty file");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		int n = line(L, c, p, (size_t)(line_end - p), ++lineno, arg);
		if (n != 0)
			return n;
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* Pushes a one-value file's value: a count, or a limit (HUGE_VAL for no limit). Returns 0 or 3 (refused). */
static int push_single(lua_State *L, struct memory_ctx *c, int limit)
{
	struct value_token v;
	const char *reason = singlevalue_parse(c->file.data, c->file.len, &v);

	if (reason != NULL)
		return bind_format_error(L, c->path, 1, reason);
	if (v.kind == VALUE_TEXT && limit && v.text_len == 3 && memcmp(v.text, "max", 3) == 0) {
		lua_pushnumber(L, HUGE_VAL);
		return 0;
	}
	if (v.kind != VALUE_UINT) {
		const char *shown = v.text_len > 40 ? "a long value" : lua_pushlstring(L, v.text, v.text_len);
		return bind_format_error(L, c->path, 1,
					 lua_pushfstring(L, "'%s' where %s expected", shown,
							 limit ? "a decimal or 'max' is" : "a decimal is"));
	}
	if (limit && c->h->version == 1 && (v.overflowed || v.number >= c->v1_no_limit))
		lua_pushnumber(L, HUGE_VAL);
	else
		bind_push_scaled(L, v.number, v.overflowed, v.digits, v.digits_len, 1);
	return 0;
}

/* v1 memory.stat's limits (hierarchical_memory_limit, hierarchical_memsw_limit): no limit is HUGE_VAL there too. */
static void v1_stat_limits(lua_State *L, const struct memory_ctx *c)
{
	static const char *const limits[] = {"hierarchical_memory_limit", "hierarchical_memsw_limit"};
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		int is_int;
		lua_Integer value;
		int type = lua_getfield(L, -1, limits[i]);
		value = lua_tointegerx(L, -1, &is_int);
		lua_pop(L, 1);
		if (type != LUA_TNUMBER)
			continue;
		if (!is_int || (uint64_t)value >= c->v1_no_limit) {
			lua_pushnumber(L, HUGE_VAL);
			lua_setfield(L, -2, limits[i]);
		}
	}
}

/* One PSI line: pressure[name] = {avg10 = ..., total = ...}; the pressure table on top. */
static int psi_line(lua_State *L, struct memory_ctx *c, const char *text, size_t len, long lineno, void *arg)
{
	struct nestedkeyed_record record;
	struct nestedkeyed_pair pair;
	const char *reason = nestedkeyed_parse_line(text, len, &record);

	(void)arg;
	if (reason != NULL)
		return bind_format_error(L, c->path, lineno, reason);
	lua_pushlstring(L, record.name, record.name_len);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, -3) != LUA_TNIL)
		return bind_format_error(L, c->path, lineno, lua_pushfstring(L, "a second '%s' line", lua_tostring(L, -2)));
	lua_pop(L, 1);
	lua_createtable(L, 0, (int)record.npairs);
	while (nestedkeyed_next_pair(&record, &pair)) {
		lua_pushlstring(L, pair.key, pair.key_len);
		if (lua_rawget(L, -2) != LUA_TNIL)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "duplicate key '%s'", lua_pushlstring(L, pair.key, pair.key_len)));
		lua_pop(L, 1);
		/* averages "%lu.%02lu", the total a count of microseconds */
		if (pair.value.kind != VALUE_UINT && pair.value.kind != VALUE_FIXED)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "'%s': a number expected after '='",
								 lua_pushlstring(L, pair.key, pair.key_len)));
		lua_pushlstring(L, pair.key, pair.key_len);
		bind_push_value(L, &pair.value);
		lua_rawset(L, -3);
	}
	lua_rawset(L, -3);
	return 0;
}

/* A NUMA count as bytes (v1 prints pages, v2 bytes); refuses anything but a decimal. */
static int push_numa_count(lua_State *L, struct memory_ctx *c, const struct value_token *v, long lineno, const char *token,
			   size_t token_len)
{
	if (v->kind != VALUE_UINT)
		return bind_format_error(L, c->path, lineno,
					 lua_pushfstring(L, "'%s': a count expected after '='", lua_pushlstring(L, token, token_len)));
	bind_push_scaled(L, v->number, v->overflowed, v->digits, v->digits_len,
			 c->h->version == 1 ? (uint64_t)c->page_size : 1);
	return 0;
}

/* One memory.numa_stat line: numa_stat[name] = {N0 = bytes, ...; total = bytes in v1}; the table on top. */
static int numa_line(lua_State *L, struct memory_ctx *c, const char *text, size_t len, long lineno, void *arg)
{
	struct numa_line line;
	struct numa_token token;
	const char *reason = numa_parse_line(text, len, &line);

	(void)arg;
	if (reason != NULL)
		return bind_format_error(L, c->path, lineno, reason);
	if (line.lead.kind == NUMA_NODE)
		return bind_format_error(L, c->path, lineno, "the line starts with a node's count, not with its name");
	if (line.lead.kind == NUMA_WORD)
		lua_pushlstring(L, line.lead.text, line.lead.text_len);
	else
		lua_pushlstring(L, line.lead.key, line.lead.key_len);
	lua_pushvalue(L, -1);
	if (lua_rawget(L, -3) != LUA_TNIL)
		return bind_format_error(L, c->path, lineno, lua_pushfstring(L, "a second '%s' line", lua_tostring(L, -2)));
	lua_pop(L, 1);
	lua_createtable(L, 0, (int)line.nnodes + 1);
	if (line.lead.kind == NUMA_PAIR) {
		int n = push_numa_count(L, c, &line.lead.value, lineno, line.lead.text, line.lead.text_len);
		if (n != 0)
			return n;
		lua_setfield(L, -2, "total");
	}
	while (numa_next_token(&line, &token)) {
		int n;
		if (token.kind != NUMA_NODE)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "'%s': a node's count N<node>=<count> expected",
								 lua_pushlstring(L, token.text, token.text_len)));
		lua_pushlstring(L, token.key, token.key_len);
		if (lua_rawget(L, -2) != LUA_TNIL)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "node %d twice", token.node));
		lua_pop(L, 1);
		lua_pushlstring(L, token.key, token.key_len);
		if ((n = push_numa_count(L, c, &token.value, lineno, token.text, token.text_len)) != 0)
			return n;
		lua_rawset(L, -3);
	}
	lua_rawset(L, -3);
	return 0;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/*
 * PID_MAX_LIMIT of 64-bit kernels (include/linux/threads.h): no kernel has more process ids, so no
 * cgroup.procs lists more lines, v1's repeats included (one per task at most). A longer file is
 * damaged or planted, and its pids would take eight bytes a line outside the --max-memory budget.
 */
#define PIDS_MAX (4 * 1024 * 1024)

/* cgroup.procs: the pids, ascending, each once (v1 does not promise either). */
static int push_pids(lua_State *L, struct memory_ctx *c)
{
	const char *p = c->file.data, *end = p + c->file.len;
	size_t n = 0, cap = 0, i, kept = 0;
	long lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end, *q = p;
		uint64_t pid;
		lineno++;
		if (num_parse_dec(&q, line_end, &pid) != NUM_OK || q != line_end || pid == 0 || pid > INT_MAX ||
		    (*p == '0'))
			return bind_format_error(L, c->path, lineno, "a process id expected");
		if (n == PIDS_MAX)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "more processes than a kernel has process ids (%d)",
								 PIDS_MAX));
		if (n == cap) {
			size_t grown_cap = cap ? cap * 2 : 64;
			uint64_t *grown = realloc(c->pids, grown_cap * sizeof(*grown));
			if (grown == NULL)
				return luaL_error(L, "not enough memory");
			c->pids = grown;
			cap = grown_cap;
		}
		c->pids[n++] = pid;
		p = nl ? nl + 1 : end;
	}
	if (n > 0)
		qsort(c->pids, n, sizeof(c->pids[0]), compare_u64);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		if (i > 0 && c->pids[i] == c->pids[i - 1])
			continue;
		lua_pushinteger(L, (lua_Integer)c->pids[i]);
		lua_rawseti(L, -2, (lua_Integer)++kept);
	}
	return 0;
}

/* Pushes the value of file f read into c->file; returns 0, or 3 with the error results pushed. */
static int push_file(lua_State *L, struct memory_ctx *c, const struct memory_file *f)
{
	int n;

	switch (f->kind) {
	case KIND_COUNT:
	case KIND_LIMIT:
		return push_single(L, c, f->kind == KIND_LIMIT);
	case KIND_FLAT:
		/* the "key value" reader's table, which keeps the kernel's key order (proc.keys); numbers only */
		if (c->file.len == 0)
			return bind_format_error(L, c->path, 1, "empty file");
		n = bind_flat_numbers(L, c->path, c->file.data, c->file.len);
		if (n != 1)
			return n;
		if (c->h->version == 1 && strcmp(f->key, "stat") == 0)
			v1_stat_limits(L, c);
		return 0;
	case KIND_PSI:
		lua_createtable(L, 0, 2);
		return each_line(L, c, psi_line, NULL);
	case KIND_NUMA:
		lua_createtable(L, 0, 16);
		return each_line(L, c, numa_line, NULL);
	case KIND_PIDS:
		return push_pids(L, c);
	}
	return 0;
}

/* Whether the directory is empty: a cgroup's never is, until it is removed (its files go with it). */
static int count_entry(const char *name, void *arg)
{
	(void)name;
	(*(int *)arg)++;
	return 1;
}

/* Pushes nil, "PATH: the cgroup was removed while it was read", ENOENT. Returns 3. */
static int removed(lua_State *L, const struct memory_ctx *c)
{
	char path[PATH_MAX];

	source_dir_path(c->dir, "", path, sizeof(path));
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: the cgroup was removed while it was read", path);
	lua_pushinteger(L, ENOENT);
	return 3;
}

static int memory_build(lua_State *L, void *arg)
{
	struct memory_ctx *c = arg;
	const struct memory_file *files = c->h->version == 1 ? v1_files : v2_files;
	size_t nfiles = c->h->version == 1 ? sizeof(v1_files) / sizeof(v1_files[0])
					   : sizeof(v2_files) / sizeof(v2_files[0]);
	size_t i;

	lua_createtable(L, 0, 32);
	lua_pushstring(L, c->cgroup);
	lua_setfield(L, -2, "path");
	lua_pushinteger(L, c->h->version);
	lua_setfield(L, -2, "version");
	for (i = 0; i < nfiles; i++) {
		const struct memory_file *f = &files[i];
		int err, n;

		procfile_free(&c->file);
		source_dir_path(c->dir, f->file, c->path, sizeof(c->path));
		err = source_dir_read(c->dir, f->file, &c->file);
		/* Not made by this kernel, or not in this cgroup (the root; a threaded cgroup's cgroup.procs). */
		if (err == ENOENT || err == EOPNOTSUPP) {
			c->missing |= err == ENOENT;
			continue;
		}
		/* A file opened just before its cgroup was removed. */
		if (err == ENODEV)
			return removed(L, c);
		if (err != 0)
			return bind_os_error(L, c->dir, f->file, err);
		n = push_file(L, c, f);
		if (n != 0)
			return n;
		lua_setfield(L, -2, f->key);
	}
	if (c->missing && source_kind(source_dir_source(c->dir)) == SOURCE_LIVE) {
		int entries = 0;
		if (source_dir_list(c->dir, "", count_entry, &entries) != 0 || entries == 0)
			return removed(L, c);
	}
	return 1;
}

/* Pushes nil, "HIERARCHY/PATH: File name too long", ENAMETOOLONG for a cgroup nested past PATH_MAX. Returns 3. */
static int too_long(lua_State *L, struct source *src, const struct hierarchy *h, const char *path, size_t len)
{
	char top[PATH_MAX];

	while (len > 1 && path[len - 1] == '/')
		len--;
	source_dir_path(source_tree(src, SOURCE_SYS), h->top, top, sizeof(top));
	luaL_checkstack(L, 4, NULL);
	lua_pushnil(L);
	lua_pushlstring(L, path, len);
	lua_pushfstring(L, "%s%s: %s", top, lua_tostring(L, -1), source_strerror(ENAMETOOLONG));
	lua_remove(L, -2);
	lua_pushinteger(L, source_errno(ENAMETOOLONG));
	return 3;
}

/* memory(path): the cgroup's memory files as one table; nil, message, errno. */
static int cgroup_memory(lua_State *L)
{
	struct source *src = bind_source(L);
	struct hierarchy h;
	struct memory_ctx c;
	char rel[PATH_MAX];
	size_t len;
	const char *path = check_cgroup_path(L, 1, &len);
	int n, err;

	if ((n = find_hierarchy(L, src, &h)) != 0)
		return n;
	if ((err = cgroup_relpath(&h, path, len, rel, sizeof(rel))) != 0)
		return too_long(L, src, &h, path, len);
	memset(&c, 0, sizeof(c));
	c.h = &h;
	c.page_size = source_page_size(src);
	if (c.page_size <= 0)
		c.page_size = 4096;
	/* page_counter's PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE) pages, which v1 prints in bytes */
	c.v1_no_limit = (uint64_t)(INT64_MAX / c.page_size) * (uint64_t)c.page_size;
	while (len > 1 && path[len - 1] == '/')
		len--;
	snprintf(c.cgroup, sizeof(c.cgroup), "%.*s", (int)len, path);
	err = source_dir_open(src, SOURCE_SYS, rel, &c.dir);
	if (err != 0)
		return bind_os_error(L, source_tree(src, SOURCE_SYS), rel, err);
	return bind_call(L, memory_build, &c, memory_cleanup);
}

/* ---- cgroup.list(), cgroup.children(path) ---- */

struct path_list {
	char **paths;
	size_t n, cap;
	const char *parent; /* the cgroup whose children are being added */
	int failed;         /* out of memory */
};

static void path_list_free(void *arg)
{
	struct path_list *l = arg;
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	l->paths = NULL;
	l->n = l->cap = 0;
}

static int path_list_add(struct path_list *l, const char *parent, const char *name)
{
	size_t plen = strlen(parent), nlen = strlen(name);
	char *path;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **grown = realloc(l->paths, cap * sizeof(*grown));
		if (grown == NULL)
			return ENOMEM;
		l->paths = grown;
		l->cap = cap;
	}
	/* "/" + name below the root, parent + "/" + name below another */
	path = malloc(plen + nlen + 2);
	if (path == NULL)
		return ENOMEM;
	if (strcmp(parent, "/") == 0)
		plen = 0;
	memcpy(path, parent, plen);
	path[plen] = '/';
	memcpy(path + plen + 1, name, nlen + 1);
	l->paths[l->n++] = path;
	return 0;
}

static int add_child(const char *name, void *arg)
{
	struct path_list *l = arg;

	if (path_list_add(l, l->parent, name) != 0) {
		l->failed = 1;
		return 1;
	}
	return 0;
}

/* The order of a tree: '/' before any other byte, so "/a/b" comes after "/a" and before "/a-b". */
static int compare_paths(const void *a, const void *b)
{
	const unsigned char *x = *(const unsigned char *const *)a, *y = *(const unsigned char *const *)b;

	for (;; x++, y++) {
		unsigned kx = *x == '/' ? 1 : *x == 0 ? 0 : *x + 1u;
		unsigned ky = *y == '/' ? 1 : *y == 0 ? 0 : *y + 1u;
		if (kx != ky)
			return kx < ky ? -1 : 1;
		if (*x == 0)
			return 0;
	}
}

static int paths_build(lua_State *L, void *arg)
{
	struct path_list *l = arg;
	size_t i;

	if (l->n > 0)
		qsort(l->paths, l->n, sizeof(l->paths[0]), compare_paths);
	lua_createtable(L, (int)l->n, 0);
	for (i = 0; i < l->n; i++) {
		lua_pushstring(L, l->paths[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	return 1;
}

/*
 * Adds the children of the cgroup at path (in the hierarchy h) to l. Returns 0 or an errno value,
 * with rel holding the directory it failed on.
 */
static int list_children(struct source *src, const struct hierarchy *h, const char *path, struct path_list *l, char *rel,
			 size_t rel_size)
{
	struct source_dir *sys = source_tree(src, SOURCE_SYS);
	int err = cgroup_relpath(h, path, strlen(path), rel, rel_size);

	if (err != 0)
		return err;
	l->parent = path;
	err = source_dir_list_dirs(sys, rel, add_child, l);
	if (err == 0 && l->failed)
		err = ENOMEM;
	return err;
}

/* list(): every cgroup of the memory hierarchy, "/" first, in tree order. */
static int cgroup_list(lua_State *L)
{
	struct source *src = bind_source(L);
	struct hierarchy h;
	struct path_list l;
	char rel[PATH_MAX];
	size_t i;
	int n, err;

	if ((n = find_hierarchy(L, src, &h)) != 0)
		return n;
	memset(&l, 0, sizeof(l));
	if (path_list_add(&l, "", "") != 0) {
		path_list_free(&l);
		return bind_path_error(L, "cgroup.list", ENOMEM);
	}
	/* Breadth first: each cgroup's children are appended behind it, so no recursion grows the C stack. */
	for (i = 0; i < l.n; i++) {
		/* the array may move as children are added; the string it points to does not */
		err = list_children(src, &h, l.paths[i], &l, rel, sizeof(rel));
		/* A cgroup removed since its parent was listed is simply not there any more. */
		if (err == ENOENT && i > 0)
			continue;
		/*
		 * One nested so deep that its path does not fit in PATH_MAX stays listed (memory() says
		 * why it cannot be read), the cgroups below it cannot be reached: a user's subtree nested
		 * past the limit does not keep the others from being listed.
		 */
		if (err == ENAMETOOLONG && i > 0)
			continue;
		if (err != 0) {
			path_list_free(&l);
			return bind_os_error(L, source_tree(src, SOURCE_SYS), rel, err);
		}
	}
	return bind_call(L, paths_build, &l, path_list_free);
}

/* children(path): the cgroups directly below path, sorted. */
static int cgroup_children(lua_State *L)
{
	struct source *src = bind_source(L);
	struct hierarchy h;
	struct path_list l;
	char rel[PATH_MAX], parent[PATH_MAX];
	size_t len;
	const char *path = check_cgroup_path(L, 1, &len);
	int n, err;

	if ((n = find_hierarchy(L, src, &h)) != 0)
		return n;
	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(parent))
		return bind_path_error(L, path, ENAMETOOLONG);
	memcpy(parent, path, len);
	parent[len] = '\0';
	memset(&l, 0, sizeof(l));
	err = list_children(src, &h, parent, &l, rel, sizeof(rel));
	if (err != 0) {
		path_list_free(&l);
		return bind_os_error(L, source_tree(src, SOURCE_SYS), rel, err);
	}
	return bind_call(L, paths_build, &l, path_list_free);
}

/*
 * hierarchy(): {version = 1 or 2, path = the hierarchy's directory as messages name it, relpath =
 * the same under the sys tree ("fs/cgroup/memory", for proc.read and proc.list), files = the names
 * of the files memory() reads there, and in v2 cgroup.controllers, which tells the hierarchy by its
 * root: what a capture holds of a cgroup}.
 */
static int cgroup_hierarchy(lua_State *L)
{
	struct source *src = bind_source(L);
	struct hierarchy h;
	char path[PATH_MAX];
	const struct memory_file *files;
	size_t nfiles, i;
	int n;

	if ((n = find_hierarchy(L, src, &h)) != 0)
		return n;
	files = h.version == 1 ? v1_files : v2_files;
	nfiles = h.version == 1 ? sizeof(v1_files) / sizeof(v1_files[0]) : sizeof(v2_files) / sizeof(v2_files[0]);
	source_dir_path(source_tree(src, SOURCE_SYS), h.top, path, sizeof(path));
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, h.version);
	lua_setfield(L, -2, "version");
	lua_pushstring(L, path);
	lua_setfield(L, -2, "path");
	lua_pushstring(L, h.top);
	lua_setfield(L, -2, "relpath");
	lua_createtable(L, (int)nfiles + 1, 0);
	for (i = 0; i < nfiles; i++) {
		lua_pushstring(L, files[i].file);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	if (h.version == 2) {
		lua_pushliteral(L, "cgroup.controllers");
		lua_rawseti(L, -2, (lua_Integer)nfiles + 1);
	}
	lua_setfield(L, -2, "files");
	return 1;
}

const luaL_Reg bind_cgroup_functions[] = {
	{"children", cgroup_children},
	{"hierarchy", cgroup_hierarchy},
	{"list", cgroup_list},
	{"memory", cgroup_memory},
	{"of", cgroup_of},
	{NULL, NULL},
};

/* A process handle's p:cgroup(): of() through the handle, from the process it holds. */
const luaL_Reg bind_cgroup_handle_functions[] = {
	{"cgroup", cgroup_of},
	{NULL, NULL},
};
