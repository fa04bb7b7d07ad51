/* repl.c: the interactive session: expressions print their values, incomplete input continues. */
#include "repl.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "host.h"

#define PROMPT "> "
#define PROMPT_MORE ">> "
#define LINE_MAX_LEN 4096

/* A syntax error that ends at <eof> means the chunk is unfinished (lua.c's incomplete). */
static int incomplete(lua_State *L, int status)
{
	if (status == LUA_ERRSYNTAX) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);
		const char eof_mark[] = "<eof>";
		size_t mark = sizeof(eof_mark) - 1;
		if (len >= mark && strcmp(msg + len - mark, eof_mark) == 0) {
			lua_pop(L, 1);
			return 1;
		}
	}
	return 0;
}

static int read_line(lua_State *L, int first)
{
	char buf[LINE_MAX_LEN];
	size_t len;

	fputs(first ? PROMPT : PROMPT_MORE, stdout);
	fflush(stdout);
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		return 0;
	len = strlen(buf);
	if (len > 0 && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (first && buf[0] == '=')
		lua_pushfstring(L, "return %s", buf + 1);
	else
		lua_pushlstring(L, buf, len);
	return 1;
}

/* Tries the line as "return LINE" first, so an expression prints its value. */
static int try_expression(lua_State *L)
{
	const char *line = lua_tostring(L, -1);
	const char *code = lua_pushfstring(L, "return %s;", line);
	int status = luaL_loadbuffer(L, code, strlen(code), "=stdin");

	if (status == LUA_OK)
		lua_remove(L, -2);
	else
		lua_pop(L, 2);
	return status;
}

/* Reads until a complete chunk; leaves the compiled function on the stack. Returns -1 at EOF. */
static int load_chunk(lua_State *L)
{
	int status;

	lua_settop(L, 0);
	if (!read_line(L, 1))
		return -1;
	if ((status = try_expression(L)) == LUA_OK) {
		lua_remove(L, 1);
		return status;
	}
	for (;;) {
		size_t len;
		const char *code = lua_tolstring(L, 1, &len);
		status = luaL_loadbuffer(L, code, len, "=stdin");
		if (!incomplete(L, status) || !read_line(L, 0))
			break;
		lua_pushliteral(L, "\n");
		lua_insert(L, -2);
		lua_concat(L, 3);
	}
	lua_remove(L, 1);
	return status;
}

static void print_results(lua_State *L)
{
	int n = lua_gettop(L);

	if (n > 0) {
		luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
		lua_getglobal(L, "print");
		lua_insert(L, 1);
		if (lua_pcall(L, n, 0, 0) != LUA_OK)
			host_report(L, LUA_ERRRUN);
	}
}

void repl_run(lua_State *L)
{
	int status;
	int base = lua_gettop(L);

	(void)base;
	for (;;) {
		lua_settop(L, 0);
		status = load_chunk(L);
		if (status == -1)
			break;
		if (status == LUA_OK)
			status = host_docall(L, 0, LUA_MULTRET);
		if (status == LUA_OK)
			print_results(L);
		else
			host_report(L, status);
	}
	lua_settop(L, 0);
	fputs("\n", stdout);
	fflush(stdout);
}
