/* lsys.c: module memscript.sys: isatty, a monotonic clock, sleeping, reading a named file, and the host's options. */
#include "bind/lsys.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

/* isatty(fd): true when fd (0, 1 or 2) is a terminal. */
static int sys_isatty(lua_State *L)
{
	lua_Integer fd = luaL_checkinteger(L, 1);
	luaL_argcheck(L, fd >= 0 && fd <= 1024, 1, "file descriptor expected");
	lua_pushboolean(L, isatty((int)fd));
	return 1;
}

/* The metatable of a userdata that owns a file descriptor (an int, -1 when closed). */
#define FD_OWNER "memscript.sys.fd"

static void close_owned(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int fd_owner_gc(lua_State *L)
{
	close_owned(luaL_checkudata(L, 1, FD_OWNER));
	return 0;
}

/* What a file that is not a regular one is, for messages. */
static const char *file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a pipe";
	if (S_ISSOCK(mode))
		return "a socket";
	return "of an unknown kind";
}

/*
 * read_file(path): the whole text of the regular file at path; nil, "path: reason", errno for
 * anything else. For files a user names (rules files): a device such as /dev/zero never ends and a
 * pipe may never open, so only regular files are read, and opening does not wait (O_NONBLOCK).
 */
static int sys_read_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	luaL_Buffer b;
	struct stat st;
	/* the descriptor is owned by a userdata, so a memory error while reading cannot leak it */
	int *fd = lua_newuserdatauv(L, sizeof(int), 0);

	*fd = -1;
	luaL_setmetatable(L, FD_OWNER);
	*fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) != 0)
		return luaL_fileresult(L, 0, path);
	if (!S_ISREG(st.st_mode)) {
		close_owned(fd);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s, not a regular file (only regular files are read)", path, file_kind(st.st_mode));
		lua_pushinteger(L, S_ISDIR(st.st_mode) ? EISDIR : EINVAL);
		return 3;
	}
	luaL_buffinit(L, &b);
	for (;;) {
		char *piece = luaL_prepbuffer(&b);
		ssize_t n = read(*fd, piece, LUAL_BUFFERSIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return luaL_fileresult(L, 0, path);
		if (n == 0)
			break;
		luaL_addsize(&b, (size_t)n);
	}
	luaL_pushresult(&b);
	close_owned(fd);
	return 1;
}

/* monotonic(): seconds since an arbitrary point, as a float with nanosecond resolution. */
static int sys_monotonic(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

/*
 * sleep(seconds): sleeps. The only signals memscript handles are Ctrl-C and its --timeout alarm,
 * both of which stop the script, so a signal ends the sleep early and the script stops at once.
 */
static int sys_sleep(lua_State *L)
{
	lua_Number seconds = luaL_checknumber(L, 1);
	struct timespec ts;

	luaL_argcheck(L, seconds >= 0 && seconds < 1e9, 1, "seconds out of range");
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - floor(seconds)) * 1e9);
	nanosleep(&ts, NULL);
	return 0;
}

/* time(): wall-clock seconds since the epoch, as a float. */
static int sys_time(lua_State *L)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
	return 1;
}

static const luaL_Reg sys_functions[] = {
	{"isatty", sys_isatty},
	{"monotonic", sys_monotonic},
	{"read_file", sys_read_file},
	{"sleep", sys_sleep},
	{"time", sys_time},
	{NULL, NULL},
};

int luaopen_memscript_sys(lua_State *L)
{
	if (luaL_newmetatable(L, FD_OWNER)) {
		lua_pushcfunction(L, fd_owner_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, sys_functions);
	lua_newtable(L);
	lua_setfield(L, -2, "options");
	/* the version memscript -v prints, for what scripts record (a capture's metadata) */
	lua_pushliteral(L, MEMSCRIPT_VERSION);
	lua_setfield(L, -2, "version");
	return 1;
}
