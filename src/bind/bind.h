/* bind.h: what the files of the `proc` binding share: its source, pid arguments, results, protected building. */
#ifndef MEMSCRIPT_BIND_H
#define MEMSCRIPT_BIND_H

#include <stddef.h>
#include <stdint.h>

#include <lauxlib.h>
#include <lua.h>

#include "core/keyval_parse.h"
#include "core/value_token.h"
#include "source/source.h"

/*
 * Every function of one `proc` table has the table's source as upvalue 1 (a userdata holding a
 * struct source *, closed by its __gc). A process handle (proc.open) keeps that userdata too.
 */
struct source *bind_source(lua_State *L);

/* The registry name of process handles' metatable ("memscript.process"). */
#define BIND_PROCESS "memscript.process"

struct readahead_job;

/* What a process handle (struct process in lproc.c) begins with. */
struct bind_process {
	struct source_dir *dir;
	struct readahead_job *ahead; /* its files being read ahead (p:read_ahead), or NULL */
};

/*
 * The directory of the process named by argument arg: a process handle's (which the handle owns),
 * or a pid's (integer, numeric string or "self"), opened here for this call. On success returns
 * the directory, with *opened set for a pid: the caller closes it with bind_done_process as soon
 * as it is done (a to-be-closed userdata left on the stack closes it if an error is raised first:
 * the caller removes it from the stack with lua_settop or lua_pop only). On failure
 * returns NULL with the error results (nil, "PATH/file: reason", errno) pushed and *nresults set
 * to 3: file is the file the caller was to read there.
 */
struct source_dir *bind_process_dir(lua_State *L, int arg, const char *file, struct source_dir ***opened,
				    int *nresults);

/* Closes what bind_process_dir opened for one call (NULL: nothing). */
void bind_done_process(struct source_dir **opened);

/*
 * The one way a function of one process reads its file: read(L, dir, file, arg) on the directory
 * of the process at argument 1 (bind_process_dir), closing what was opened for the call. Returns
 * read's results, or the error results when there is no such process.
 */
int bind_process_file(lua_State *L, const char *file,
		      int (*read)(lua_State *L, const struct source_dir *dir, const char *file, void *arg), void *arg);

/*
 * Reads file of the process at argument arg (dir from bind_process_dir) whole, or opens it as lines:
 * what a handle's read-ahead holds for it when there is some (taken once), else afresh. Returns 0
 * or an error as source_dir_read and source_dir_lines do.
 */
int bind_process_read(lua_State *L, int arg, const struct source_dir *dir, const char *file, struct procfile *out);
int bind_process_lines(lua_State *L, int arg, const struct source_dir *dir, const char *file,
		       struct linestream **out);

/*
 * The fields of proc.smaps_sums in the table at index t (checked as it checks them, errors naming
 * argument arg) as a sum started.
 */
struct smaps_sums;
void bind_sums_fields(lua_State *L, int t, int arg, struct smaps_sums *out);

/* The read-ahead job of the process handle at argument arg, or NULL (a pid, or a handle without one). */
struct readahead_job *bind_process_ahead(lua_State *L, int arg);

/* Checks a pid argument (integer, numeric string or "self"), writing its directory name. */
void bind_check_pid(lua_State *L, int arg, char *name, size_t size);

/* A failure of the environment: nil, "path: reason", errno (luaL_fileresult's shape). Returns 3. */
int bind_os_error(lua_State *L, const struct source_dir *dir, const char *file, int err);

/* The same for a path already named. Returns 3. */
int bind_path_error(lua_State *L, const char *path, int err);

/* Content the parser cannot take: nil, "path:line: reason", EINVAL. Returns 3. */
int bind_format_error(lua_State *L, const char *path, long line, const char *reason);

/*
 * Pushes count * unit. A product that does not fit a Lua integer becomes a float, as Lua itself
 * reads a decimal numeral too big for an integer; it is never wrapped. digits are the printed
 * decimal digits, used when count overflowed 64 bits.
 */
void bind_push_scaled(lua_State *L, uint64_t count, int overflowed, const char *digits, size_t ndigits,
		      uint64_t unit);

/*
 * Pushes -magnitude: an integer down to LUA_MININTEGER, a float past it (from the printed digits,
 * as bind_push_scaled does past LUA_MAXINTEGER).
 */
void bind_push_negative(lua_State *L, uint64_t magnitude, int overflowed, const char *digits, size_t ndigits);

/* Pushes a classified value (value_token.h): an integer (a float past 64 bits), a float for "12.34", or the text. */
void bind_push_value(lua_State *L, const struct value_token *v);

/*
 * The next key of a record being built from a file (the record's table on top, its layout at index
 * layout): pushes the key and appends it to the layout (kb: printed in kB), returning 0 so that the
 * caller pushes the value and rawsets; or, when the table has the key already, returns 3 with
 * nil, "path:lineno: duplicate key 'KEY'", 22 pushed.
 */
int bind_record_key(lua_State *L, int layout, const char *key, size_t len, int kb, const char *path, long lineno);

/* Pushes a "Key: value" field's value: bytes for "N kB", an integer, or the text. */
void bind_push_kv_value(lua_State *L, const struct kv_field *f);

/*
 * Runs build(L, ctx) as a protected call, then cleanup(ctx) whatever happened, and re-raises an
 * error build raised: so C memory held across the build is freed before an error propagates.
 * Returns build's results.
 */
int bind_call(lua_State *L, int (*build)(lua_State *L, void *ctx), void *ctx, void (*cleanup)(void *ctx));

/* bind_call with the collector stopped during the build: for a table per mapping (bind.c says why). */
int bind_call_bulk(lua_State *L, int (*build)(lua_State *L, void *ctx), void *ctx, void (*cleanup)(void *ctx));

/*
 * The functions of each family of files, registered by lproc.c in the `proc` table (with the pid as
 * argument 1) and in process handles (the handle as argument 1), with the source as upvalue 1.
 * Each list ends with {NULL, NULL}.
 */
extern const struct luaL_Reg bind_keyval_functions[];  /* smaps_rollup, status */
extern const struct luaL_Reg bind_maps_functions[];    /* maps, smaps */
extern const struct luaL_Reg bind_pidfile_functions[]; /* cmdline, comm, stat, statm */
extern const struct luaL_Reg bind_flat_functions[];    /* ksm_stat */
extern const struct luaL_Reg bind_sums_functions[];    /* smaps_sums */
extern const struct luaL_Reg bind_pages_functions[];   /* numa_maps, pagemap */
/* The functions that change a process's page state: in the `proc` table only, not in handles. */
extern const struct luaL_Reg bind_pages_writers[];     /* clear_refs, mark_idle */

/* proc.cgroup's functions (of, memory, list, children, hierarchy), with the source as upvalue 1. */
extern const struct luaL_Reg bind_cgroup_functions[];
/* p:cgroup() of a process handle: proc.cgroup.of(p). */
extern const struct luaL_Reg bind_cgroup_handle_functions[];
/*
 * The memory controller's hierarchy under the sys tree, where proc.cgroup reads it ("fs/cgroup",
 * "fs/cgroup/memory"), in top[size]: 0, or an errno value (ENOENT: no hierarchy has the controller).
 */
int bind_cgroup_memory_top(struct source *src, char *top, size_t size);

/* proc.meminfo(): /proc/meminfo as a table. */
int bind_meminfo(lua_State *L);

/* Any "Key: value" file under dir as a table (a capture's metadata); or nil, message, errno. */
int bind_kv_file(lua_State *L, const struct source_dir *dir, const char *file);

/* Any "key value" file under dir as a table (vmstat, ksm_stat, cgroup memory.stat); or nil, message, errno. */
int bind_flat_file(lua_State *L, const struct source_dir *dir, const char *file);

/*
 * The same from bytes already read (data[0..len), the file at path; the caller keeps data), for
 * files whose every value the kernel prints as a number (cgroup memory.stat, memory.events): a
 * word in place of one is refused ("'max' where a number is expected"), so no script computes with it.
 */
int bind_flat_numbers(lua_State *L, const char *path, const char *data, size_t len);

/* proc.vmstat(): /proc/vmstat as a table. */
int bind_vmstat(lua_State *L);

/* Gives the array on top of the stack the methods of a list of mappings (filter, sort, ...). */
void bind_set_mapping_list(lua_State *L);

#endif
