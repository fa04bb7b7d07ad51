/*
 * lua_compile.c: a build step. Compiles one Lua source file into a binary chunk with the Lua that
 * memscript links, so that memscript loads its embedded modules without compiling them at run
 * time. Debug information is kept: error messages and tracebacks name the same lines.
 *
 * Usage: lua_compile SOURCE OUTPUT CHUNKNAME
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>

static int write_part(lua_State *L, const void *p, size_t size, void *ud)
{
	(void)L;
	return fwrite(p, 1, size, ud) == size ? 0 : 1;
}

int main(int argc, char **argv)
{
	lua_State *L;
	FILE *out;
	char *text;
	long size;
	FILE *in;

	if (argc != 4) {
		fprintf(stderr, "usage: lua_compile SOURCE OUTPUT CHUNKNAME\n");
		return 2;
	}
	in = fopen(argv[1], "rb");
	if (in == NULL || fseek(in, 0, SEEK_END) != 0 || (size = ftell(in)) < 0 || fseek(in, 0, SEEK_SET) != 0) {
		perror(argv[1]);
		return 1;
	}
	text = malloc((size_t)size + 1);
	if (text == NULL || fread(text, 1, (size_t)size, in) != (size_t)size) {
		perror(argv[1]);
		return 1;
	}
	fclose(in);
	L = luaL_newstate();
	if (L == NULL)
		return 1;
	if (luaL_loadbufferx(L, text, (size_t)size, argv[3], "t") != LUA_OK) {
		fprintf(stderr, "%s\n", lua_tostring(L, -1));
		return 1;
	}
	out = fopen(argv[2], "wb");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	if (lua_dump(L, write_part, out, 0) != 0 || fclose(out) != 0) {
		fprintf(stderr, "%s: could not write the chunk\n", argv[2]);
		remove(argv[2]);
		return 1;
	}
	lua_close(L);
	free(text);
	return 0;
}
