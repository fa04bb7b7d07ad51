/* lpidfile.c: the small files of one process as Lua values: stat, statm (tables), cmdline (an array), comm (a string). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "core/cmdline_parse.h"
#include "core/pidstat_parse.h"
#include "core/statm_parse.h"

struct file_ctx {
	const char *path;
	struct procfile file;
	long page_size;
};

static void file_cleanup(void *arg)
{
	procfile_free(&((struct file_ctx *)arg)->file);
}

/* The "PATH:LINE: FIELD: REASON" (or without FIELD) of a parser's refusal. */
static int field_error(lua_State *L, const char *path, long line, const char *field, const char *reason)
{
	if (field == NULL)
		return bind_format_error(L, path, line, reason);
	return bind_format_error(L, path, line, lua_pushfstring(L, "%s: %s", field, reason));
}

/* proc(5): size resident shared text lib data dt, in pages, as bytes. */
static int statm_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	struct statm statm;
	const char *reason = statm_parse(c->file.data, c->file.len, &statm);
	size_t i;

	if (reason != NULL)
		return field_error(L, c->path, 1, statm.error_field, reason);
	lua_createtable(L, 0, STATM_FIELDS);
	for (i = 0; i < STATM_FIELDS; i++) {
		const struct statm_field *f = &statm.fields[i];
		bind_push_scaled(L, f->pages, f->overflowed, f->digits, f->digits_len, (uint64_t)c->page_size);
		lua_setfield(L, -2, statm_field_names[i]);
	}
	return 1;
}

static int cmdline_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len, *word;
	size_t len;
	lua_Integer n = 0;

	lua_createtable(L, (int)cmdline_count(c->file.data, c->file.len), 0);
	while (cmdline_next(&p, end, &word, &len)) {
		lua_pushlstring(L, word, len);
		lua_rawseti(L, -2, ++n);
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

static int read_pid_file_at(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	int (*build)(lua_State *, void *) = *(int (**)(lua_State *, void *))arg;
	char path[PATH_MAX];
	struct file_ctx c;
	int err;

	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	c.page_size = source_page_size(source_dir_source(dir));
	err = bind_process_read(L, 1, dir, file, &c.file);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, build, &c, file_cleanup);
}

static int read_pid_file(lua_State *L, const char *file, int (*build)(lua_State *, void *))
{
	return bind_process_file(L, file, read_pid_file_at, &build);
}

/* A stat field's value: the others than state are integers (rss as bytes); past 64 bits a float. */
static void push_stat_field(lua_State *L, const struct pidstat_field *f, uint64_t unit)
{
	if (f->negative)
		bind_push_negative(L, f->magnitude, f->overflowed, f->text + 1, f->text_len - 1);
	else
		bind_push_scaled(L, f->magnitude, f->overflowed, f->text, f->text_len, unit);
}

/* /proc/PID/stat by the field names of proc(5); comm taken up to the last ')'. */
static int stat_build(lua_State *L, void *arg)
{
	struct file_ctx *c = arg;
	struct pidstat *stat = lua_newuserdatauv(L, sizeof(*stat), 0); /* large: off the C stack */
	const char *reason = pidstat_parse(c->file.data, c->file.len, stat);
	size_t i;

	if (reason != NULL)
		return field_error(L, c->path, stat->error_line, stat->error_field, reason);
	lua_createtable(L, 0, 2 + (int)stat->nfields);
	bind_push_scaled(L, stat->pid, 0, stat->pid_digits, stat->pid_len, 1);
	lua_setfield(L, -2, "pid");
	lua_pushlstring(L, stat->comm, stat->comm_len);
	lua_setfield(L, -2, "comm");
	for (i = 0; i < stat->nfields; i++) {
		const struct pidstat_field *f = &stat->fields[i];
		if (i == 0)
			lua_pushlstring(L, f->text, f->text_len);
		else
			push_stat_field(L, f, strcmp(pidstat_field_names[i], "rss") == 0 ? (uint64_t)c->page_size : 1);
		lua_setfield(L, -2, pidstat_field_names[i]);
	}
	return 1;
}

static int pidfile_stat(lua_State *L)
{
	return read_pid_file(L, "stat", stat_build);
}

static int pidfile_statm(lua_State *L)
{
	return read_pid_file(L, "statm", statm_build);
}

static int pidfile_cmdline(lua_State *L)
{
	return read_pid_file(L, "cmdline", cmdline_build);
}

static int pidfile_comm(lua_State *L)
{
	return read_pid_file(L, "comm", comm_build);
}

const luaL_Reg bind_pidfile_functions[] = {
	{"cmdline", pidfile_cmdline},
	{"comm", pidfile_comm},
	{"stat", pidfile_stat},
	{"statm", pidfile_statm},
	{NULL, NULL},
};
