/* lproc.c: turns the results of the /proc parsers into the tables of the `proc` module. */
#include "bind/lproc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <lauxlib.h>

#include "source/archive_tree.h"
#include "core/keyval_parse.h"
#include "source/linestream.h"
#include "core/maps_parse.h"
#include "core/numparse.h"
#include "source/procfile.h"

/* Every function of one `proc` table shares this as upvalue 1. */
struct proc_source {
	long page_size;
	struct archive_tree *tree; /* a captured tree read from an archive, or NULL for a directory */
	char root[PATH_MAX];
};

static struct proc_source *source_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* ---- arguments and paths ---- */

/* Checks a pid argument (integer, numeric string or "self") and writes its directory name. */
static void check_pid(lua_State *L, int arg, char *name, size_t size)
{
	if (lua_type(L, arg) == LUA_TNUMBER) {
		lua_Integer pid;
		int isint;
		pid = lua_tointegerx(L, arg, &isint);
		luaL_argcheck(L, isint && pid > 0 && pid <= INT_MAX, arg, "pid must be a positive integer");
		snprintf(name, size, "%lld", (long long)pid);
		return;
	}
	if (lua_type(L, arg) == LUA_TSTRING) {
		size_t len;
		const char *s = lua_tolstring(L, arg, &len);
		const char *p = s;
		uint64_t pid;
		if (len == 4 && memcmp(s, "self", 4) == 0) {
			snprintf(name, size, "self");
			return;
		}
		if (num_parse_dec(&p, s + len, &pid) == NUM_OK && p == s + len && pid > 0 && pid <= INT_MAX) {
			snprintf(name, size, "%llu", (unsigned long long)pid);
			return;
		}
		luaL_argerror(L, arg, lua_pushfstring(L, "pid expected, got \"%s\"", s));
	}
	luaL_typeerror(L, arg, "pid (integer, numeric string or \"self\")");
}

static void file_path(lua_State *L, const char *dir, const char *file, char *path)
{
	struct proc_source *src = source_of(L);
	int n;

	/* In an archive a file is named "archive:relative/path", so messages name both. */
	char sep = src->tree != NULL ? ':' : '/';
	if (dir != NULL)
		n = snprintf(path, PATH_MAX, "%s%c%s/%s", src->root, sep, dir, file);
	else
		n = snprintf(path, PATH_MAX, "%s%c%s", src->root, sep, file);
	if (n < 0 || n >= PATH_MAX)
		luaL_error(L, "path under %s is too long", src->root);
}

/* The path of a per-process file from the pid at argument 1. */
static void pid_file_path(lua_State *L, const char *file, char *path)
{
	char name[32];

	check_pid(L, 1, name, sizeof(name));
	file_path(L, name, file, path);
}

/* ---- reading: from the directory, or from the archive's copy in memory ---- */

/* The file named path (made by file_path) whole; returns 0 or an errno value. */
static int source_read(lua_State *L, const char *path, struct procfile *out)
{
	struct proc_source *src = source_of(L);
	const char *data;
	size_t len;

	if (src->tree == NULL)
		return procfile_read(path, out);
	data = archive_tree_find(src->tree, path + strlen(src->root) + 1, &len);
	out->data = NULL;
	out->len = out->cap = 0;
	if (data == NULL)
		return ENOENT;
	out->data = malloc(len + 1);
	if (out->data == NULL)
		return ENOMEM;
	memcpy(out->data, data, len + 1);
	out->len = len;
	out->cap = len + 1;
	return 0;
}

static int source_lines(lua_State *L, const char *path, struct linestream **out)
{
	struct proc_source *src = source_of(L);
	const char *data;
	size_t len;

	if (src->tree == NULL)
		return linestream_open(path, out);
	data = archive_tree_find(src->tree, path + strlen(src->root) + 1, &len);
	if (data == NULL)
		return ENOENT;
	return linestream_open_memory(data, len, out);
}

/* ---- results ---- */

/* A failure of the environment: nil, "path: reason", errno (as luaL_fileresult). */
static int push_os_error(lua_State *L, const char *path, int err)
{
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s: %s", path, strerror(err));
	lua_pushinteger(L, err);
	return 3;
}

/* Content the parser cannot take: nil, "path:line: reason", EINVAL. */
static int push_format_error(lua_State *L, const char *path, long line, const char *reason)
{
	luaL_checkstack(L, 3, NULL);
	lua_pushnil(L);
	lua_pushfstring(L, "%s:%d: %s", path, (int)line, reason);
	lua_pushinteger(L, EINVAL);
	return 3;
}

/*
 * Pushes count * unit. A product that does not fit a Lua integer becomes a float, as Lua itself
 * reads a decimal numeral too big for an integer; it is never wrapped.
 */
static void push_scaled(lua_State *L, uint64_t count, int overflowed, const char *digits,
			size_t ndigits, uint64_t unit)
{
	if (!overflowed && count <= (uint64_t)LUA_MAXINTEGER / unit) {
		lua_pushinteger(L, (lua_Integer)(count * unit));
	} else if (overflowed) {
		char buf[512];
		snprintf(buf, sizeof(buf), "%.*s", (int)(ndigits < 400 ? ndigits : 400), digits);
		lua_pushnumber(L, (lua_Number)strtod(buf, NULL) * (lua_Number)unit);
	} else {
		lua_pushnumber(L, (lua_Number)count * (lua_Number)unit);
	}
}

static void push_kv_value(lua_State *L, const struct kv_field *f)
{
	switch (f->kind) {
	case KV_KB:
		push_scaled(L, f->number, f->overflowed, f->text, f->text_len, 1024);
		break;
	case KV_INT:
		push_scaled(L, f->number, f->overflowed, f->text, f->text_len, 1);
		break;
	case KV_TEXT:
		lua_pushlstring(L, f->text, f->text_len);
		break;
	}
}

/*
 * Runs build(L, ctx) as a protected call so the caller can free what it malloc'ed before any
 * error propagates (a Lua error longjmps over C frames). Returns build's results.
 */
struct protected_build {
	int (*build)(lua_State *L, void *ctx);
	void *ctx;
};

static int protected_trampoline(lua_State *L)
{
	struct protected_build *pb = lua_touserdata(L, 1);
	lua_pop(L, 1);
	return pb->build(L, pb->ctx);
}

/* Calls build protected; on error runs cleanup and re-raises, else runs cleanup and returns. */
static int call_build(lua_State *L, int (*build)(lua_State *, void *), void *ctx,
		      void (*cleanup)(void *))
{
	struct protected_build pb = {build, ctx};
	int top = lua_gettop(L);
	int gc_was_running = lua_gc(L, LUA_GCISRUNNING);
	int status;

	/* Everything built is alive until returned: collecting during the build is wasted work. */
	if (gc_was_running)
		lua_gc(L, LUA_GCSTOP);
	lua_pushcfunction(L, protected_trampoline);
	lua_pushlightuserdata(L, &pb);
	status = lua_pcall(L, 1, LUA_MULTRET, 0);
	if (gc_was_running)
		lua_gc(L, LUA_GCRESTART);
	cleanup(ctx);
	if (status != LUA_OK)
		lua_error(L);
	return lua_gettop(L) - top;
}

/* ---- "Key: value" files: status, meminfo, smaps_rollup ---- */

struct kv_ctx {
	const char *path;
	struct procfile file;
	int rollup; /* smaps_rollup: the first line is a mapping header, skipped */
	int status; /* status: the keys printed in hex or as lists stay text */
};

/*
 * The status keys the kernel prints in hexadecimal (signal and capability sets, CPU and memory
 * node masks) or as lists ("0-3,8"), so that their digits alone ("10", "3") are not a decimal
 * number: fs/proc/array.c. Their values stay the text printed, whatever digits they hold.
 */
static const char *const status_text_keys[] = {
	"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt", "CapInh", "CapPrm", "CapEff", "CapBnd",
	"CapAmb", "Cpus_allowed", "Cpus_allowed_list", "Mems_allowed", "Mems_allowed_list",
};

static int is_status_text_key(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(status_text_keys) / sizeof(status_text_keys[0]); i++)
		if (strlen(status_text_keys[i]) == len && memcmp(status_text_keys[i], key, len) == 0)
			return 1;
	return 0;
}

static int kv_build(lua_State *L, void *arg)
{
	struct kv_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	long lineno = 0;

	lua_newtable(L);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct kv_field f;
		const char *reason;

		lineno++;
		/* An empty line carries no key (captures of status have been seen to start with one). */
		if (line_end == p || (c->rollup && lineno == 1 && maps_is_header(p, (size_t)(line_end - p)))) {
			p = nl ? nl + 1 : end;
			continue;
		}
		reason = kv_parse_line(p, (size_t)(line_end - p), &f);
		if (reason != NULL)
			return push_format_error(L, c->path, lineno, reason);
		lua_pushlstring(L, f.key, f.key_len);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) != LUA_TNIL) {
			lua_pop(L, 1);
			return push_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "duplicate key '%s'", lua_tostring(L, -1)));
		}
		lua_pop(L, 1);
		if (c->status && f.kind == KV_INT && is_status_text_key(f.key, f.key_len))
			f.kind = KV_TEXT;
		push_kv_value(L, &f);
		lua_rawset(L, -3);
		p = nl ? nl + 1 : end;
	}
	return 1;
}

static void kv_cleanup(void *arg)
{
	procfile_free(&((struct kv_ctx *)arg)->file);
}

static int read_kv_file(lua_State *L, const char *path, int rollup, int status)
{
	struct kv_ctx c;
	int err;

	c.path = path;
	c.rollup = rollup;
	c.status = status;
	err = source_read(L, path, &c.file);
	if (err != 0)
		return push_os_error(L, path, err);
	return call_build(L, kv_build, &c, kv_cleanup);
}

static int proc_status(lua_State *L)
{
	char path[PATH_MAX];
	pid_file_path(L, "status", path);
	return read_kv_file(L, path, 0, 1);
}

static int proc_smaps_rollup(lua_State *L)
{
	char path[PATH_MAX];
	pid_file_path(L, "smaps_rollup", path);
	return read_kv_file(L, path, 1, 0);
}

static int proc_meminfo(lua_State *L)
{
	char path[PATH_MAX];
	file_path(L, NULL, "meminfo", path);
	return read_kv_file(L, path, 0, 0);
}

/* ---- maps and smaps ---- */

/* Fixed stack slots of a mapping build (absolute indices). */
enum {
	SLOT_CTX = 1,     /* not used after entry */
	SLOT_RESULT,      /* the array of mappings */
	SLOT_FLAGSETS,    /* VmFlags text -> shared read-only set */
	SLOT_VM_START,    /* header keys, pushed once */
	SLOT_VM_END,
	SLOT_SIZE,
	SLOT_PERMS,
	SLOT_OFFSET,
	SLOT_DEV,
	SLOT_INODE,
	SLOT_PATH,
	SLOT_LAST_PATH,   /* the previous mapping's path string, reused when equal */
	SLOT_LAST_FLAGS,  /* the previous mapping's VmFlags set, reused when equal */
	SLOT_FIRST_KEY    /* smaps keys are pushed from here, below the mapping being built */
};

#define HEADER_FIELDS 8
#define KEY_CACHE_MAX 256

/* An smaps key seen before: its Lua string lives at a stack slot. */
struct cached_key {
	const char *text;      /* the Lua string's bytes, alive while it is on the stack */
	size_t len;
	int slot;
	unsigned long record;  /* last mapping that had this key, to reject duplicates */
	int is_vmflags;
};

struct mapping_ctx {
	const char *path;
	int smaps;
	struct linestream *stream;

	struct cached_key keys[KEY_CACHE_MAX];
	int nkeys;
	/* order[i]: the key of field i in the previous mapping; smaps repeats its key order. */
	int order[KEY_CACHE_MAX];
	int fields_hint;

	const char *last_path;
	size_t last_path_len;
	const char *last_flags;
	size_t last_flags_len;
};

static int vmflags_readonly(lua_State *L)
{
	return luaL_error(L, "VmFlags sets are read-only (shared by the mappings with the same flags)");
}

static int vmflags_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int vmflags_pairs(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_pushcfunction(L, vmflags_next);
	lua_getfield(L, -2, "__index");
	lua_pushnil(L);
	return 3;
}

static int vmflags_tostring(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "text");
	return 1;
}

/* Pushes the read-only VmFlags set for text ("rd wr mr"), one shared set per distinct text. */
static void push_vmflags(lua_State *L, struct mapping_ctx *c, const char *text, size_t len)
{
	const char *p, *end = text + len;

	luaL_checkstack(L, 6, "VmFlags set");
	if (c->last_flags != NULL && len == c->last_flags_len && memcmp(text, c->last_flags, len) == 0) {
		lua_pushvalue(L, SLOT_LAST_FLAGS);
		return;
	}
	lua_pushlstring(L, text, len);
	if (lua_rawget(L, SLOT_FLAGSETS) == LUA_TNIL) {
		lua_pop(L, 1);
		lua_createtable(L, 0, 0);                 /* the proxy users see */
		lua_createtable(L, 0, 6);                 /* its metatable */
		lua_createtable(L, 0, (int)(len / 3 + 1)); /* the set behind it */
		for (p = text; p < end;) {
			const char *word = p;
			while (p < end && *p != ' ')
				p++;
			if (p > word) {
				lua_pushlstring(L, word, (size_t)(p - word));
				lua_pushboolean(L, 1);
				lua_rawset(L, -3);
			}
			while (p < end && *p == ' ')
				p++;
		}
		lua_setfield(L, -2, "__index");
		lua_pushcfunction(L, vmflags_readonly);
		lua_setfield(L, -2, "__newindex");
		lua_pushcfunction(L, vmflags_pairs);
		lua_setfield(L, -2, "__pairs");
		lua_pushcfunction(L, vmflags_tostring);
		lua_setfield(L, -2, "__tostring");
		lua_pushliteral(L, "VmFlags");
		lua_setfield(L, -2, "__name");
		lua_pushlstring(L, text, len);
		lua_setfield(L, -2, "text");
		lua_setmetatable(L, -2);
		lua_pushlstring(L, text, len);
		lua_pushvalue(L, -2);
		lua_rawset(L, SLOT_FLAGSETS);
	}
	lua_pushvalue(L, -1);
	lua_replace(L, SLOT_LAST_FLAGS);
	lua_getmetatable(L, -1);
	lua_getfield(L, -1, "text");
	c->last_flags = lua_tolstring(L, -1, &c->last_flags_len); /* anchored by the metatable */
	lua_pop(L, 2);
}

/* Finds or adds the cached key for field number field_no; -1 when the cache is full. */
static int lookup_key(lua_State *L, struct mapping_ctx *c, int field_no, const char *key, size_t len)
{
	int i;

	if (field_no < KEY_CACHE_MAX && field_no < c->nkeys) {
		struct cached_key *k = &c->keys[c->order[field_no]];
		if (k->len == len && memcmp(k->text, key, len) == 0)
			return c->order[field_no];
	}
	for (i = 0; i < c->nkeys; i++) {
		if (c->keys[i].len == len && memcmp(c->keys[i].text, key, len) == 0)
			break;
	}
	if (i == c->nkeys) {
		if (c->nkeys == KEY_CACHE_MAX)
			return -1;
		luaL_checkstack(L, 4, "too many smaps keys");
		lua_pushlstring(L, key, len);
		lua_insert(L, -2); /* below the mapping being built */
		c->keys[i].slot = lua_gettop(L) - 1;
		c->keys[i].text = lua_tostring(L, c->keys[i].slot);
		c->keys[i].len = len;
		c->keys[i].record = 0;
		c->keys[i].is_vmflags = len == 7 && memcmp(key, "VmFlags", 7) == 0;
		c->nkeys++;
	}
	if (field_no < KEY_CACHE_MAX)
		c->order[field_no] = i;
	return i;
}

static void set_header_fields(lua_State *L, struct mapping_ctx *c, const struct maps_header *h)
{
	lua_pushvalue(L, SLOT_VM_START);
	lua_pushinteger(L, (lua_Integer)h->vm_start);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_VM_END);
	lua_pushinteger(L, (lua_Integer)h->vm_end);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_SIZE);
	lua_pushinteger(L, (lua_Integer)(h->vm_end - h->vm_start));
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_PERMS);
	lua_pushlstring(L, h->perms, h->perms_len);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_OFFSET);
	lua_pushinteger(L, (lua_Integer)h->offset);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_DEV);
	lua_pushlstring(L, h->dev, h->dev_len);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_INODE);
	lua_pushinteger(L, (lua_Integer)h->inode);
	lua_rawset(L, -3);
	lua_pushvalue(L, SLOT_PATH);
	if (c->last_path != NULL && h->path_len == c->last_path_len &&
	    memcmp(h->path, c->last_path, h->path_len) == 0) {
		lua_pushvalue(L, SLOT_LAST_PATH);
	} else {
		lua_pushlstring(L, h->path, h->path_len);
		lua_pushvalue(L, -1);
		lua_replace(L, SLOT_LAST_PATH);
		c->last_path = lua_tolstring(L, SLOT_LAST_PATH, &c->last_path_len);
	}
	lua_rawset(L, -3);
}

static int mapping_build(lua_State *L, void *arg)
{
	static const char *const header_keys[HEADER_FIELDS] = {
		"vm_start", "vm_end", "size", "perms", "offset", "dev", "inode", "path"};
	struct mapping_ctx *c = arg;
	lua_Integer count = 0;
	unsigned long record = 0;
	int field_no = 0;
	int i, r;

	luaL_checkstack(L, SLOT_FIRST_KEY + 8, NULL);
	lua_settop(L, 0);
	lua_pushnil(L);                 /* SLOT_CTX */
	lua_newtable(L);                /* SLOT_RESULT */
	lua_newtable(L);                /* SLOT_FLAGSETS */
	for (i = 0; i < HEADER_FIELDS; i++)
		lua_pushstring(L, header_keys[i]);
	lua_pushnil(L);                 /* SLOT_LAST_PATH */
	lua_pushnil(L);                 /* SLOT_LAST_FLAGS */
	c->fields_hint = HEADER_FIELDS;

	for (;;) {
		const char *line;
		size_t len;
		const char *reason;

		r = linestream_next(c->stream, &line, &len);
		if (r < 0)
			return push_os_error(L, c->path, -r);
		if (r == 0)
			break;
		if (maps_is_header(line, len)) {
			struct maps_header h;
			reason = maps_parse_header(line, len, &h);
			if (reason != NULL)
				return push_format_error(L, c->path, linestream_lineno(c->stream), reason);
			if (record > 0) {
				c->fields_hint = HEADER_FIELDS + field_no;
				lua_rawseti(L, SLOT_RESULT, ++count);
			}
			record++;
			field_no = 0;
			lua_createtable(L, 0, c->fields_hint);
			set_header_fields(L, c, &h);
		} else if (c->smaps && record > 0) {
			struct kv_field f;
			int k;
			reason = kv_parse_line(line, len, &f);
			if (reason != NULL)
				return push_format_error(L, c->path, linestream_lineno(c->stream), reason);
			k = lookup_key(L, c, field_no, f.key, f.key_len);
			if (k >= 0) {
				if (c->keys[k].record == record)
					return push_format_error(L, c->path, linestream_lineno(c->stream),
						lua_pushfstring(L, "duplicate key '%s'", c->keys[k].text));
				c->keys[k].record = record;
				lua_pushvalue(L, c->keys[k].slot);
			} else {
				/* Past the cache: rare enough to pay for a lookup each time. */
				lua_pushlstring(L, f.key, f.key_len);
				lua_pushvalue(L, -1);
				if (lua_rawget(L, -3) != LUA_TNIL)
					return push_format_error(L, c->path, linestream_lineno(c->stream),
						lua_pushfstring(L, "duplicate key '%s'", lua_tostring(L, -2)));
				lua_pop(L, 1);
			}
			if (k >= 0 && c->keys[k].is_vmflags)
				push_vmflags(L, c, f.text, f.text_len);
			else
				push_kv_value(L, &f);
			lua_rawset(L, -3);
			field_no++;
		} else {
			return push_format_error(L, c->path, linestream_lineno(c->stream),
				c->smaps ? "field before the first mapping header"
					 : "mapping header expected (start-end perms offset dev inode path)");
		}
	}
	if (record > 0)
		lua_rawseti(L, SLOT_RESULT, ++count);
	lua_pushvalue(L, SLOT_RESULT);
	return 1;
}

static void mapping_cleanup(void *arg)
{
	linestream_close(((struct mapping_ctx *)arg)->stream);
}

/*
 * Gives the array on top of the stack the methods of memscript.collection (filter, sort, ...),
 * loading that module on first use so `memscript -e ''` does not pay for it.
 */
static void set_collection_metatable(lua_State *L)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	if (lua_getfield(L, -1, "memscript.collection") != LUA_TTABLE) {
		lua_pop(L, 1);
		luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
		if (lua_getfield(L, -1, "memscript.collection") != LUA_TFUNCTION) {
			lua_pop(L, 3);
			return;
		}
		lua_remove(L, -2);
		lua_pushliteral(L, "memscript.collection");
		lua_call(L, 1, 1);
		lua_pushvalue(L, -1);
		lua_setfield(L, -3, "memscript.collection");
	}
	if (lua_getfield(L, -1, "meta") == LUA_TTABLE)
		lua_setmetatable(L, -4);
	else
		lua_pop(L, 1);
	lua_pop(L, 2);
}

static int read_mappings(lua_State *L, const char *file, int smaps)
{
	char path[PATH_MAX];
	struct mapping_ctx *c;
	int err, n;

	pid_file_path(L, file, path);
	/* The context is large (the key cache); a userdata keeps it off the C stack and is collected. */
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	c->path = path;
	c->smaps = smaps;
	err = source_lines(L, path, &c->stream);
	if (err != 0)
		return push_os_error(L, path, err);
	n = call_build(L, mapping_build, c, mapping_cleanup);
	if (n == 1)
		set_collection_metatable(L);
	return n;
}

static int proc_maps(lua_State *L)
{
	return read_mappings(L, "maps", 0);
}

static int proc_smaps(lua_State *L)
{
	return read_mappings(L, "smaps", 1);
}

/* ---- statm, cmdline, comm ---- */

struct file_ctx {
	const char *path;
	struct procfile file;
	long page_size;
};

static void file_cleanup(void *arg)
{
	procfile_free(&((struct file_ctx *)arg)->file);
}

static int statm_build(lua_State *L, void *arg)
{
	/* proc(5): size resident shared text lib data dt, in pages */
	static const char *const names[] = {"size", "resident", "shared", "text", "lib", "data", "dt"};
	struct file_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	size_t i;

	if (end > p && end[-1] == '\n')
		end--;
	lua_createtable(L, 0, 7);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *digits;
		uint64_t pages;
		enum num_status st;
		if (i > 0) {
			if (p >= end || *p != ' ')
				return push_format_error(L, c->path, 1, lua_pushfstring(L,
					"%s: space expected before the field", names[i]));
			p++;
		}
		digits = p;
		st = num_parse_dec(&p, end, &pages);
		if (st == NUM_NONE)
			return push_format_error(L, c->path, 1, lua_pushfstring(L,
				"%s: decimal number of pages expected", names[i]));
		push_scaled(L, pages, st == NUM_OVERFLOW, digits, (size_t)(p - digits),
			    (uint64_t)c->page_size);
		lua_setfield(L, -2, names[i]);
	}
	if (p != end)
		return push_format_error(L, c->path, 1, "unexpected text after the seventh field");
	return 1;
}

static int cmdline_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	lua_Integer n = 0;

	lua_newtable(L);
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		const char *arg_end = nul ? nul : end;
		lua_pushlstring(L, p, (size_t)(arg_end - p));
		lua_rawseti(L, -2, ++n);
		p = nul ? nul + 1 : end;
	}
	return 1;
}

static int comm_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	size_t len = c->file.len;

	if (len > 0 && c->file.data[len - 1] == '\n')
		len--;
	lua_pushlstring(L, c->file.data, len);
	return 1;
}

static int read_pid_file(lua_State *L, const char *file, int (*build)(lua_State *, void *))
{
	char path[PATH_MAX];
	struct file_ctx c;
	int err;

	pid_file_path(L, file, path);
	c.path = path;
	c.page_size = source_of(L)->page_size;
	err = source_read(L, path, &c.file);
	if (err != 0)
		return push_os_error(L, path, err);
	return call_build(L, build, &c, file_cleanup);
}

/* proc(5) names of /proc/PID/stat fields 3 on (after "pid (comm)"); rss (pages) becomes bytes. */
static const char *const stat_fields[] = {
	"state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt", "cminflt",
	"majflt", "cmajflt", "utime", "stime", "cutime", "cstime", "priority", "nice",
	"num_threads", "itrealvalue", "starttime", "vsize", "rss", "rsslim", "startcode",
	"endcode", "startstack", "kstkesp", "kstkeip", "signal", "blocked", "sigignore",
	"sigcatch", "wchan", "nswap", "cnswap", "exit_signal", "processor", "rt_priority",
	"policy", "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data",
	"end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code",
};

static int stat_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	const char *open_paren = memchr(p, '(', c->file.len), *close_paren = NULL, *newline, *q;
	size_t i;

	/*
	 * comm is printed as the process set it: spaces, parentheses and newlines included. It ends
	 * at the last ')'; the one line the kernel prints ends at the first newline after that.
	 */
	for (q = end; q > p; q--) {
		if (q[-1] == ')') {
			close_paren = q - 1;
			break;
		}
	}
	if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
		return push_format_error(L, c->path, 1, "comm in parentheses expected after the pid");
	newline = memchr(close_paren, '\n', (size_t)(end - close_paren));
	if (newline != NULL) {
		if (newline + 1 < end) {
			long line = 2;
			for (q = p; q < newline; q++)
				line += *q == '\n';
			return push_format_error(L, c->path, line, "unexpected text after the first line");
		}
		end = newline;
	}
	lua_createtable(L, 0, 52);
	{
		uint64_t pid;
		const char *digits = p;
		if (num_parse_dec(&p, open_paren, &pid) != NUM_OK)
			return push_format_error(L, c->path, 1, "pid expected");
		push_scaled(L, pid, 0, digits, (size_t)(p - digits), 1);
		lua_setfield(L, -2, "pid");
	}
	lua_pushlstring(L, open_paren + 1, (size_t)(close_paren - open_paren - 1));
	lua_setfield(L, -2, "comm");
	p = close_paren + 1;
	for (i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]) && p < end; i++) {
		const char *field;
		if (*p != ' ')
			return push_format_error(L, c->path, 1, lua_pushfstring(L,
				"%s: space expected before the field", stat_fields[i]));
		p++;
		field = p;
		while (p < end && *p != ' ')
			p++;
		if (i == 0) {
			lua_pushlstring(L, field, (size_t)(p - field));
		} else {
			const char *digits = field;
			uint64_t value;
			int negative = *digits == '-';
			const char *num = field + negative;
			enum num_status st = num_parse_dec(&num, p, &value);
			if (st == NUM_NONE || num != p)
				return push_format_error(L, c->path, 1, lua_pushfstring(L,
					"%s: decimal number expected", stat_fields[i]));
			if (negative && st == NUM_OK && value <= (uint64_t)LUA_MAXINTEGER)
				lua_pushinteger(L, -(lua_Integer)value);
			else if (negative && st == NUM_OK && value == (uint64_t)LUA_MAXINTEGER + 1)
				lua_pushinteger(L, LUA_MININTEGER);
			else if (negative)
				/* past 64 bits: a float, as push_scaled does for large positive values */
				lua_pushnumber(L, -strtod(field + 1, NULL));
			else
				push_scaled(L, value, st == NUM_OVERFLOW, field, (size_t)(p - field),
					    strcmp(stat_fields[i], "rss") == 0 ? (uint64_t)c->page_size : 1);
		}
		lua_setfield(L, -2, stat_fields[i]);
	}
	return 1;
}

static int proc_stat(lua_State *L)
{
	return read_pid_file(L, "stat", stat_build);
}

static int proc_statm(lua_State *L)
{
	return read_pid_file(L, "statm", statm_build);
}

static int proc_cmdline(lua_State *L)
{
	return read_pid_file(L, "cmdline", cmdline_build);
}

static int proc_comm(lua_State *L)
{
	return read_pid_file(L, "comm", comm_build);
}

/* ---- the process list and the source ---- */

static int compare_pids(const void *a, const void *b)
{
	lua_Integer x = *(const lua_Integer *)a, y = *(const lua_Integer *)b;
	return (x > y) - (x < y);
}

struct pids_ctx {
	DIR *dir;
	lua_Integer *pids;
	size_t n, cap;
	int failed;
};

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

/* Adds name to the list when it is a pid; sets c->failed when memory runs out. */
static void add_pid_name(const char *name, void *arg)
{
	struct pids_ctx *c = arg;
	const char *p = name;
	uint64_t pid;

	/* A pid directory is named by the number as the kernel prints it: no sign, no leading zero, not 0. */
	if (c->failed || name[0] < '1' || name[0] > '9' ||
	    num_parse_dec(&p, name + strlen(name), &pid) != NUM_OK || *p != '\0' || pid > INT_MAX)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		lua_Integer *grown = realloc(c->pids, cap * sizeof(*grown));
		if (grown == NULL) {
			c->failed = 1;
			return;
		}
		c->pids = grown;
		c->cap = cap;
	}
	c->pids[c->n++] = (lua_Integer)pid;
}

static int proc_pids(lua_State *L)
{
	struct proc_source *src = source_of(L);
	struct pids_ctx c = {NULL, NULL, 0, 0, 0};
	struct dirent *e;
	int err = 0;

	if (src->tree != NULL) {
		archive_tree_list_top(src->tree, add_pid_name, &c);
		if (c.failed) {
			free(c.pids);
			return push_os_error(L, src->root, ENOMEM);
		}
		return call_build(L, pids_build, &c, pids_cleanup);
	}
	c.dir = opendir(src->root);
	if (c.dir == NULL)
		return push_os_error(L, src->root, errno);
	for (;;) {
		errno = 0;
		e = readdir(c.dir);
		if (e == NULL) {
			err = errno;
			break;
		}
		add_pid_name(e->d_name, &c);
		if (c.failed) {
			err = ENOMEM;
			break;
		}
	}
	closedir(c.dir);
	if (err != 0) {
		free(c.pids);
		return push_os_error(L, src->root, err);
	}
	return call_build(L, pids_build, &c, pids_cleanup);
}

static int proc_page_size(lua_State *L)
{
	lua_pushinteger(L, source_of(L)->page_size);
	return 1;
}

static int proc_root(lua_State *L)
{
	lua_pushstring(L, source_of(L)->root);
	return 1;
}

/* The name of the metadata file a capture writes at the top of its proc tree. */
#define CAPTURE_META "memscript-capture"

/* meta(): what the tree was taken on: the capture's metadata, or the running system's. */
static int proc_meta(lua_State *L)
{
	struct proc_source *src = source_of(L);
	char path[PATH_MAX];
	struct procfile f;
	int err;

	file_path(L, NULL, CAPTURE_META, path);
	err = source_read(L, path, &f);
	if (err == 0) {
		struct kv_ctx c;
		c.path = path;
		c.file = f;
		c.rollup = 0;
		if (call_build(L, kv_build, &c, kv_cleanup) != 1)
			return 3;
		lua_pushboolean(L, 1);
		lua_setfield(L, -2, "captured");
		return 1;
	}
	if (err != ENOENT)
		return push_os_error(L, path, err);
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, src->page_size);
	lua_setfield(L, -2, "page_size");
	/* This machine's facts describe only its own /proc, not a tree copied from elsewhere. */
	if (strcmp(src->root, "/proc") == 0) {
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

static int bytes_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;

	lua_pushlstring(L, c->file.data, c->file.len);
	return 1;
}

/* read(relpath): the bytes of a file under the root, "42/smaps" or "meminfo", read whole at once. */
static int proc_read(lua_State *L)
{
	const char *rel = luaL_checkstring(L, 1);
	char path[PATH_MAX];
	struct file_ctx c;
	int err;

	luaL_argcheck(L, rel[0] != '\0' && rel[0] != '/', 1, "a path relative to the proc root expected");
	file_path(L, NULL, rel, path);
	c.path = path;
	c.page_size = 0;
	err = source_read(L, path, &c.file);
	if (err != 0)
		return push_os_error(L, path, err);
	return call_build(L, bytes_build, &c, file_cleanup);
}

/* Opens a proc source on root; pushes the proc table, or returns 0 with a message in err. */
static int open_source(lua_State *L, const char *root, char *err, size_t errlen);

static int proc_at(lua_State *L)
{
	char err[PATH_MAX + 256];

	if (!open_source(L, luaL_checkstring(L, 1), err, sizeof(err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		lua_pushinteger(L, errno ? errno : EINVAL);
		return 3;
	}
	return 1;
}

static const luaL_Reg proc_functions[] = {
	{"at", proc_at},
	{"cmdline", proc_cmdline},
	{"comm", proc_comm},
	{"maps", proc_maps},
	{"meminfo", proc_meminfo},
	{"meta", proc_meta},
	{"page_size", proc_page_size},
	{"pids", proc_pids},
	{"read", proc_read},
	{"root", proc_root},
	{"smaps", proc_smaps},
	{"smaps_rollup", proc_smaps_rollup},
	{"stat", proc_stat},
	{"statm", proc_statm},
	{"status", proc_status},
	{NULL, NULL},
};

static int source_gc(lua_State *L)
{
	struct proc_source *src = lua_touserdata(L, 1);
	archive_tree_free(src->tree);
	src->tree = NULL;
	return 0;
}

/* A capture's page size, from the "page_size: N" line of its metadata, replaces the host's. */
static void read_capture_page_size(struct proc_source *src)
{
	char path[PATH_MAX];
	struct procfile f = {NULL, 0, 0};
	const char *text = NULL, *line;
	size_t len;
	long page_size;

	if (src->tree != NULL) {
		text = archive_tree_find(src->tree, CAPTURE_META, &len);
	} else if (snprintf(path, sizeof(path), "%s/%s", src->root, CAPTURE_META) < (int)sizeof(path) &&
		   procfile_read(path, &f) == 0) {
		text = f.data;
	}
	line = text != NULL ? strstr(text, "page_size:") : NULL;
	if (line != NULL && (line == text || line[-1] == '\n') &&
	    (page_size = strtol(line + 10, NULL, 10)) > 0)
		src->page_size = page_size;
	procfile_free(&f);
}

static int open_source(lua_State *L, const char *root, char *err, size_t errlen)
{
	struct proc_source *src;
	struct stat st;
	size_t len = strlen(root);

	errno = 0;
	if (len >= PATH_MAX - 64) {
		snprintf(err, errlen, "proc root '%.64s...' is too long", root);
		errno = ENAMETOOLONG;
		return 0;
	}
	lua_createtable(L, 0, sizeof(proc_functions) / sizeof(proc_functions[0]));
	src = lua_newuserdatauv(L, sizeof(*src), 0);
	src->page_size = sysconf(_SC_PAGESIZE);
	src->tree = NULL;
	/* The collector frees what the source holds from here on, even if a later step raises. */
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, source_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	memcpy(src->root, root, len + 1);
	/* "/proc/" and "/proc" name the same tree; paths are joined with '/'. */
	while (len > 1 && src->root[len - 1] == '/')
		src->root[--len] = '\0';
	if (stat(src->root, &st) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", src->root, strerror(e));
		lua_pop(L, 2);
		errno = e;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		/* A file: an archive of a captured tree. */
		int e;
		src->tree = archive_tree_load(src->root, err, errlen, &e);
		if (src->tree == NULL) {
			lua_pop(L, 2);
			errno = e;
			return 0;
		}
	} else {
		/* The top of a capture (DIR rather than DIR/proc) names the same tree, as in archives. */
		char inner[PATH_MAX], meminfo[PATH_MAX];
		struct stat ist;
		if (snprintf(inner, sizeof(inner), "%s/proc", src->root) < (int)sizeof(inner) &&
		    snprintf(meminfo, sizeof(meminfo), "%s/meminfo", src->root) < (int)sizeof(meminfo) &&
		    stat(meminfo, &ist) != 0 && stat(inner, &ist) == 0 && S_ISDIR(ist.st_mode) &&
		    strlen(inner) < sizeof(src->root))
			memcpy(src->root, inner, strlen(inner) + 1);
	}
	read_capture_page_size(src);
	luaL_setfuncs(L, proc_functions, 1);
	return 1;
}

void lproc_push(lua_State *L, const char *root)
{
	char err[PATH_MAX + 256];

	if (!open_source(L, root, err, sizeof(err)))
		luaL_error(L, "%s", err);
}

int luaopen_memscript_proc(lua_State *L)
{
	const char *root = getenv("MEMSCRIPT_PROC_ROOT");
	lproc_push(L, root != NULL && root[0] != '\0' ? root : "/proc");
	return 1;
}
