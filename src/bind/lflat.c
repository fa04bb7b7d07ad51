/* lflat.c: "key value" files as tables: /proc/vmstat, /proc/PID/ksm_stat, cgroup memory.stat and memory.events. */
#include <limits.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "bind/layout.h"
#include "core/flatkeyed_parse.h"

struct flat_ctx {
	const char *path;
	struct procfile file;
	const char *data; /* the bytes parsed: file's, or the caller's (bind_flat_numbers) */
	size_t len;
	int numbers_only; /* a word in place of a value is refused (files the kernel prints numbers in) */
};

/* Stack: the layout at 1, the table at 2. Every key as printed, its value as value_token classifies it. */
static int flat_build(lua_State *L, void *arg)
{
	struct flat_ctx *c = arg;
	const char *p = c->data, *end = p + c->len;
	long lineno = 0;

	layout_new(L);
	lua_newtable(L);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct flatkeyed_field f;
		const char *reason;

		lineno++;
		reason = flatkeyed_parse_line(p, (size_t)(line_end - p), &f);
		if (reason != NULL)
			return bind_format_error(L, c->path, lineno, reason);
		if (c->numbers_only && f.value.kind == VALUE_TEXT)
			return bind_format_error(L, c->path, lineno,
						 lua_pushfstring(L, "'%s' where a number is expected",
								 f.value.text_len > 40 ? "a long value"
										       : lua_pushlstring(L, f.value.text, f.value.text_len)));
		if (bind_record_key(L, 1, f.key, f.key_len, 0, c->path, lineno) != 0)
			return 3;
		bind_push_value(L, &f.value);
		lua_rawset(L, -3);
		p = nl ? nl + 1 : end;
	}
	lua_pushvalue(L, 1);
	lua_setmetatable(L, -2);
	return 1;
}

static void flat_cleanup(void *arg)
{
	procfile_free(&((struct flat_ctx *)arg)->file);
}

int bind_flat_file(lua_State *L, const struct source_dir *dir, const char *file)
{
	char path[PATH_MAX];
	struct flat_ctx c;
	int err;

	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	err = source_dir_read(dir, file, &c.file);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	c.data = c.file.data;
	c.len = c.file.len;
	c.numbers_only = 0;
	return bind_call(L, flat_build, &c, flat_cleanup);
}

int bind_flat_numbers(lua_State *L, const char *path, const char *data, size_t len)
{
	struct flat_ctx c;

	c.path = path;
	c.file.data = NULL;
	c.file.len = c.file.cap = 0;
	c.data = data;
	c.len = len;
	c.numbers_only = 1;
	return bind_call(L, flat_build, &c, flat_cleanup);
}

/* proc.vmstat(): /proc/vmstat, every counter as the kernel printed it (nr_* in pages). */
int bind_vmstat(lua_State *L)
{
	return bind_flat_file(L, source_tree(bind_source(L), SOURCE_PROC), "vmstat");
}

static int read_flat(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	(void)arg;
	return bind_flat_file(L, dir, file);
}

/* proc.ksm_stat(pid): /proc/PID/ksm_stat (Linux 6.1+), as printed. */
static int flat_ksm_stat(lua_State *L)
{
	return bind_process_file(L, "ksm_stat", read_flat, NULL);
}

const luaL_Reg bind_flat_functions[] = {
	{"ksm_stat", flat_ksm_stat},
	{NULL, NULL},
};
