/* scripts.c: finding a script by name (current directory, MEMSCRIPT_PATH, the bundled ones), --list and --complete. */
#include "host/scripts.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "bind/runtime.h"
#include "host/call.h"

static int readable_file(const char *path)
{
	return access(path, R_OK) == 0;
}

/* The bundled scripts: installed beside the binary's prefix, else the source tree's scripts/. */
static const char *bundled_scripts_dir(void)
{
	static char dir[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash != NULL) {
			*slash = '\0';
			if (snprintf(dir, sizeof(dir), "%s/../share/memscript/scripts", exe) < (int)sizeof(dir) &&
			    access(dir, X_OK) == 0)
				return dir;
		}
	}
	if (access(MEMSCRIPT_INSTALL_SCRIPTS_DIR, X_OK) == 0 && access(MEMSCRIPT_BUILD_SCRIPTS_DIR, X_OK) != 0)
		return MEMSCRIPT_INSTALL_SCRIPTS_DIR;
	return MEMSCRIPT_BUILD_SCRIPTS_DIR;
}

enum script_found host_find_script(const char *name, char *path, size_t size)
{
	const char *search;

	if (strchr(name, '/') != NULL) {
		snprintf(path, size, "%s", name);
		return SCRIPT_GIVEN;
	}
	if (readable_file(name)) {
		snprintf(path, size, "%s", name);
		return SCRIPT_LOOKED_UP;
	}
	search = getenv("MEMSCRIPT_PATH");
	while (search != NULL && *search != '\0') {
		const char *colon = strchr(search, ':');
		size_t len = colon ? (size_t)(colon - search) : strlen(search);
		if (len > 0 && snprintf(path, size, "%.*s/%s", (int)len, search, name) < (int)size &&
		    readable_file(path))
			return SCRIPT_LOOKED_UP;
		search = colon ? colon + 1 : NULL;
	}
	if (snprintf(path, size, "%s/%s", bundled_scripts_dir(), name) < (int)size && readable_file(path))
		return SCRIPT_BUNDLED;
	snprintf(path, size, "%s", name);
	return SCRIPT_NOT_FOUND;
}

/* lua_Reader over a file, giving first the "\n" of a first line that was skipped. */
struct script_reader {
	FILE *f;
	int newline;
	char buf[BUFSIZ];
};

static const char *read_script(lua_State *L, void *ud, size_t *size)
{
	struct script_reader *r = ud;

	(void)L;
	if (r->newline) {
		r->newline = 0;
		*size = 1;
		return "\n";
	}
	*size = fread(r->buf, 1, sizeof(r->buf), r->f);
	return *size > 0 ? r->buf : NULL;
}

/* Skips a UTF-8 byte order mark and a first line starting with '#', as luaL_loadfilex does. */
static void skip_header(struct script_reader *r)
{
	int c = getc(r->f);

	if (c == 0xEF) {
		if (getc(r->f) == 0xBB && getc(r->f) == 0xBF) {
			c = getc(r->f);
		} else {
			rewind(r->f);
			return;
		}
	}
	if (c == '#') {
		while ((c = getc(r->f)) != EOF && c != '\n')
			;
		r->newline = 1;
	} else if (c != EOF) {
		ungetc(c, r->f);
	}
}

int host_load_script(lua_State *L, const char *path, enum script_found found, const char *mode)
{
	struct script_reader r;
	struct stat st;
	char chunkname[PATH_MAX + 2];
	int fd, status;

	if (found != SCRIPT_LOOKED_UP)
		return luaL_loadfilex(L, path, mode);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) != 0) {
		lua_pushfstring(L, "cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return LUA_ERRFILE;
	}
	if (!S_ISREG(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022) != 0) {
		char msg[PATH_MAX * 2 + 300];
		snprintf(msg, sizeof(msg), "%s: not run: a script found by its bare name runs only when it is a "
			 "regular file of yours or root's that no one else may write (this one: %s, uid %lu, mode %03o); "
			 "give a path (./%s) to run it anyway", path,
			 S_ISREG(st.st_mode) ? "a regular file" : "not a regular file", (unsigned long)st.st_uid,
			 (unsigned)(st.st_mode & 07777), path);
		lua_pushstring(L, msg);
		close(fd);
		return LUA_ERRFILE;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	r.f = fdopen(fd, "r");
	if (r.f == NULL) {
		lua_pushfstring(L, "cannot read %s: %s", path, strerror(errno));
		close(fd);
		return LUA_ERRFILE;
	}
	r.newline = 0;
	skip_header(&r);
	snprintf(chunkname, sizeof(chunkname), "@%s", path);
	status = lua_load(L, read_script, &r, chunkname, mode);
	if (status == LUA_OK && ferror(r.f)) {
		lua_pop(L, 1);
		lua_pushfstring(L, "cannot read %s: %s", path, strerror(errno));
		status = LUA_ERRFILE;
	}
	fclose(r.f);
	return status;
}

/* The message for a script name host_find_script did not find. */
void host_say_script_not_found(const char *name)
{
	char msg[PATH_MAX + 200];

	snprintf(msg, sizeof(msg), "cannot find script '%s' (looked in the current directory, MEMSCRIPT_PATH and %s)",
		 name, bundled_scripts_dir());
	host_message(msg);
}

static int is_lua_script(const struct dirent *e)
{
	size_t len = strlen(e->d_name);
	return len > 4 && strcmp(e->d_name + len - 4, ".lua") == 0;
}

/*
 * Writes what the runtime's describe(form, path) returns: the library describes a script from the
 * command line it declares (memscript.cli). Returns a lua status, reported.
 */
static int describe_script(lua_State *L, const char *form, const char *path)
{
	int status;

	runtime_push(L, "describe");
	lua_pushstring(L, form);
	lua_pushstring(L, path);
	status = host_docall(L, 2, 1);
	if (status == LUA_OK) {
		const char *text = lua_tostring(L, -1);
		if (text != NULL)
			fputs(text, stdout);
		lua_pop(L, 1);
	}
	return host_report(L, status);
}

/* --list: each bundled script, in name order, with its summary and usage line. Returns success. */
int host_list_scripts(lua_State *L)
{
	const char *dir = bundled_scripts_dir();
	struct dirent **entries;
	int i, ok = 1, n = scandir(dir, &entries, is_lua_script, alphasort);

	if (n < 0) {
		fprintf(stderr, "memscript: %s: %s\n", dir, strerror(errno));
		return 0;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		if (ok && snprintf(path, sizeof(path), "%s/%s", dir, entries[i]->d_name) < (int)sizeof(path))
			ok = describe_script(L, "list", path) == LUA_OK;
		free(entries[i]);
	}
	free(entries);
	return ok;
}

/* --complete SCRIPT: the completion data of the script that running SCRIPT would run. Returns success. */
int host_complete_script(lua_State *L, const char *name)
{
	char path[PATH_MAX];

	if (host_find_script(name, path, sizeof(path)) == SCRIPT_NOT_FOUND) {
		host_say_script_not_found(name);
		return 0;
	}
	return describe_script(L, "complete", path) == LUA_OK;
}
