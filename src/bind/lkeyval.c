/* lkeyval.c: "Key: value" files as tables: /proc/PID/status, /proc/PID/smaps_rollup, /proc/meminfo. */
#include <limits.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "bind/layout.h"
#include "core/maps_parse.h"

struct kv_ctx {
	const char *path;
	struct procfile file;
	int rollup; /* smaps_rollup: the first line is a mapping header, skipped */
	int status; /* status: the keys printed as text whatever digits they hold stay text */
	int numbers_only; /* meminfo, smaps_rollup: the kernel prints nothing but numbers there */
};

/*
 * The status keys whose values are text whatever characters they hold, so that a value's type
 * never depends on the value (fs/proc/array.c): Name (a process may call itself "1234"); Umask
 * (octal); the lists Groups, NStgid, NSpid, NSpgid and NSsid ("1" on a host, "4481\t1" in a
 * container); and the sets printed in hexadecimal (signal and capability masks, CPU and memory
 * node masks: "10" is CPU 4) or as ranges ("0-3,8").
 */
static const char *const status_text_keys[] = {
	"CapAmb", "CapBnd", "CapEff", "CapInh", "CapPrm", "Cpus_allowed", "Cpus_allowed_list", "Groups",
	"Mems_allowed", "Mems_allowed_list", "NSpgid", "NSpid", "NSsid", "NStgid", "Name", "ShdPnd",
	"SigBlk", "SigCgt", "SigIgn", "SigPnd", "Umask",
};

/*
 * The status keys the kernel prints as sizes, "%8lu kB" (fs/proc/task_mmu.c task_mem): the Vm* and
 * Rss* keys and HugetlbPages. Only the kernel writes these lines (a process's own text, its Name,
 * has a line of its own), so anything else there is a damaged file, not a process's choice.
 */
static int is_status_size_key(const char *key, size_t len)
{
	return (len > 2 && memcmp(key, "Vm", 2) == 0) || (len > 3 && memcmp(key, "Rss", 3) == 0) ||
	       (len == 12 && memcmp(key, "HugetlbPages", 12) == 0);
}

/* Refuses a value's text where expected ("a number") is: returns 3, the error results pushed. */
static int refuse_text(lua_State *L, const struct kv_ctx *c, long lineno, const struct kv_field *f, const char *expected)
{
	const char *shown = f->text_len > 40 ? "a long value" : lua_pushlstring(L, f->text, f->text_len);

	return bind_format_error(L, c->path, lineno, lua_pushfstring(L, "'%s' where %s is expected", shown, expected));
}

static int is_status_text_key(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(status_text_keys) / sizeof(status_text_keys[0]); i++)
		if (strlen(status_text_keys[i]) == len && memcmp(status_text_keys[i], key, len) == 0)
			return 1;
	return 0;
}

/* Stack: the layout at 1, the table at 2. */
static int kv_build(lua_State *L, void *arg)
{
	struct kv_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	long lineno = 0;

	layout_new(L);
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
			return bind_format_error(L, c->path, lineno, reason);
		if (bind_record_key(L, 1, f.key, f.key_len, f.kind == KV_KB, c->path, lineno) != 0)
			return 3;
		if (c->numbers_only && f.kind == KV_TEXT)
			return refuse_text(L, c, lineno, &f, "a number");
		if (c->status && f.kind != KV_KB && is_status_size_key(f.key, f.key_len))
			return refuse_text(L, c, lineno, &f, "a size in kB");
		if (c->status && f.kind != KV_TEXT && is_status_text_key(f.key, f.key_len))
			f.kind = KV_TEXT;
		bind_push_kv_value(L, &f);
		lua_rawset(L, -3);
		p = nl ? nl + 1 : end;
	}
	lua_pushvalue(L, 1);
	lua_setmetatable(L, -2);
	return 1;
}

static void kv_cleanup(void *arg)
{
	procfile_free(&((struct kv_ctx *)arg)->file);
}

/*
 * Reads file under dir as "Key: value" lines; returns the table, or nil, message, errno. process:
 * the argument that named the process (its handle may have read the file ahead), 0 for none.
 */
static int read_kv_file(lua_State *L, int process, const struct source_dir *dir, const char *file, int rollup,
			int status, int numbers_only)
{
	char path[PATH_MAX];
	struct kv_ctx c;
	int err;

	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	c.rollup = rollup;
	c.status = status;
	c.numbers_only = numbers_only;
	err = process != 0 ? bind_process_read(L, process, dir, file, &c.file) : source_dir_read(dir, file, &c.file);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, kv_build, &c, kv_cleanup);
}

/* The flags of a "Key: value" file of one process: 1 rollup, 2 status. */
static int read_process_kv(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	int flags = *(const int *)arg;
	return read_kv_file(L, 1, dir, file, flags & 1, flags & 2, flags & 1);
}

static int kv_status(lua_State *L)
{
	int flags = 2;
	return bind_process_file(L, "status", read_process_kv, &flags);
}

static int kv_smaps_rollup(lua_State *L)
{
	int flags = 1;
	return bind_process_file(L, "smaps_rollup", read_process_kv, &flags);
}

int bind_meminfo(lua_State *L)
{
	return read_kv_file(L, 0, source_tree(bind_source(L), SOURCE_PROC), "meminfo", 0, 0, 1);
}

int bind_kv_file(lua_State *L, const struct source_dir *dir, const char *file)
{
	return read_kv_file(L, 0, dir, file, 0, 0, 0);
}

const luaL_Reg bind_keyval_functions[] = {
	{"smaps_rollup", kv_smaps_rollup},
	{"status", kv_status},
	{NULL, NULL},
};
