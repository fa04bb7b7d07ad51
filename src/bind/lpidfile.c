/* lpidfile.c: the small files of one process as Lua values: stat, statm (tables), cmdline (an array), comm (a string). */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "core/numparse.h"

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
				return bind_format_error(L, c->path, 1, lua_pushfstring(L,
					"%s: space expected before the field", names[i]));
			p++;
		}
		digits = p;
		st = num_parse_dec(&p, end, &pages);
		if (st == NUM_NONE)
			return bind_format_error(L, c->path, 1, lua_pushfstring(L,
				"%s: decimal number of pages expected", names[i]));
		bind_push_scaled(L, pages, st == NUM_OVERFLOW, digits, (size_t)(p - digits),
			    (uint64_t)c->page_size);
		lua_setfield(L, -2, names[i]);
	}
	if (p != end)
		return bind_format_error(L, c->path, 1, "unexpected text after the seventh field");
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
	struct source_dir **opened, *dir;
	struct file_ctx c;
	int err, n;

	dir = bind_process_dir(L, 1, file, &opened, &n);
	if (dir == NULL)
		return n;
	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	c.page_size = source_page_size(source_dir_source(dir));
	err = bind_process_read(L, 1, dir, file, &c.file);
	if (err != 0)
		n = bind_os_error(L, dir, file, err);
	else
		n = bind_call(L, build, &c, file_cleanup);
	bind_done_process(opened);
	return n;
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
		return bind_format_error(L, c->path, 1, "comm in parentheses expected after the pid");
	newline = memchr(close_paren, '\n', (size_t)(end - close_paren));
	if (newline != NULL) {
		if (newline + 1 < end) {
			long line = 2;
			for (q = p; q < newline; q++)
				line += *q == '\n';
			return bind_format_error(L, c->path, line, "unexpected text after the first line");
		}
		end = newline;
	}
	lua_createtable(L, 0, 52);
	{
		uint64_t pid;
		const char *digits = p;
		if (num_parse_dec(&p, open_paren, &pid) != NUM_OK)
			return bind_format_error(L, c->path, 1, "pid expected");
		bind_push_scaled(L, pid, 0, digits, (size_t)(p - digits), 1);
		lua_setfield(L, -2, "pid");
	}
	lua_pushlstring(L, open_paren + 1, (size_t)(close_paren - open_paren - 1));
	lua_setfield(L, -2, "comm");
	p = close_paren + 1;
	for (i = 0; i < sizeof(stat_fields) / sizeof(stat_fields[0]) && p < end; i++) {
		const char *field;
		if (*p != ' ')
			return bind_format_error(L, c->path, 1, lua_pushfstring(L,
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
				return bind_format_error(L, c->path, 1, lua_pushfstring(L,
					"%s: decimal number expected", stat_fields[i]));
			if (negative && st == NUM_OK && value <= (uint64_t)LUA_MAXINTEGER)
				lua_pushinteger(L, -(lua_Integer)value);
			else if (negative && st == NUM_OK && value == (uint64_t)LUA_MAXINTEGER + 1)
				lua_pushinteger(L, LUA_MININTEGER);
			else if (negative)
				/* past 64 bits: a float, as bind_push_scaled does for large positive values */
				lua_pushnumber(L, -strtod(field + 1, NULL));
			else
				bind_push_scaled(L, value, st == NUM_OVERFLOW, field, (size_t)(p - field),
					    strcmp(stat_fields[i], "rss") == 0 ? (uint64_t)c->page_size : 1);
		}
		lua_setfield(L, -2, stat_fields[i]);
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
