/* lsys.c: module memscript.sys: isatty, a monotonic clock, sleeping, reading a named file, a file system's
 * figures (statfs), and the host's options. */
#define _GNU_SOURCE /* O_PATH */
#include "bind/lsys.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
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

/* A count from the kernel as a Lua integer; a float past 2^63, never wrapped. */
static void push_count(lua_State *L, unsigned long long count)
{
	if (count > (unsigned long long)LUA_MAXINTEGER)
		lua_pushnumber(L, (lua_Number)count);
	else
		lua_pushinteger(L, (lua_Integer)count);
}

static void set_count(lua_State *L, const char *name, unsigned long long count)
{
	push_count(L, count);
	lua_setfield(L, -2, name);
}

/*
 * statfs(path): the figures of the file system holding path, from fstatfs(2) and fstat(2) on one
 * descriptor opened with O_PATH | O_NOFOLLOW (nothing is opened for reading: a FIFO cannot block,
 * a device is not woken; a symbolic link as the last component is refused, not followed). Returns
 * {type, block_size, blocks, blocks_free, blocks_available, files, files_free, dev}: type is f_type
 * (0x01021994 for tmpfs), sizes are counts of block_size (f_frsize) bytes, dev is the device
 * number of the file system as "MAJOR:MINOR", the way /proc/PID/mountinfo prints it, so that a
 * caller can check that path reached the mount it meant and not one mounted over it. On failure
 * nil, "path: reason", errno.
 */
static int sys_statfs(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct statfs fs;
	struct stat st;
	int saved_errno = 0;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return luaL_fileresult(L, 0, path);
	/* both calls made and the descriptor closed before anything that can raise a Lua error */
	if (fstat(fd, &st) != 0 || fstatfs(fd, &fs) != 0)
		saved_errno = errno;
	close(fd);
	if (saved_errno != 0) {
		errno = saved_errno;
		return luaL_fileresult(L, 0, path);
	}
	if (S_ISLNK(st.st_mode)) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: a symbolic link (statfs does not follow one)", path);
		lua_pushinteger(L, ELOOP);
		return 3;
	}
	lua_createtable(L, 0, 8);
	set_count(L, "type", (unsigned long long)(unsigned long)fs.f_type);
	set_count(L, "block_size", (unsigned long long)fs.f_frsize);
	set_count(L, "blocks", (unsigned long long)fs.f_blocks);
	set_count(L, "blocks_free", (unsigned long long)fs.f_bfree);
	set_count(L, "blocks_available", (unsigned long long)fs.f_bavail);
	set_count(L, "files", (unsigned long long)fs.f_files);
	set_count(L, "files_free", (unsigned long long)fs.f_ffree);
	lua_pushfstring(L, "%d:%d", (int)major(st.st_dev), (int)minor(st.st_dev));
	lua_setfield(L, -2, "dev");
	return 1;
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
	{"statfs", sys_statfs},
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
