/* cjson_guard.c: lua-cjson's own buffers counted against --max-memory, and freed when a call fails. */
#include "host/cjson_guard.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "host/guard.h"

/*
 * lua-cjson (Debian's liblua5.4-cjson.a, linked statically) keeps C buffers of its own: each
 * instance (cjson.new()) keeps its encoding buffer between calls, sized for the largest output so
 * far, and reserves six times a string's length while encoding it; decoding allocates a buffer the
 * size of its input. None of that is in the Lua heap, and its strbuf calls exit(-1) when malloc
 * fails. The build (CMakeLists.txt) therefore links a copy of that archive in which the calls of
 * lua-cjson's objects to malloc, realloc, calloc, free, exit and abort are renamed to the
 * memscript_cjson_* functions below (objcopy --redefine-sym), so that:
 *
 * - every block counts against --max-memory, with the Lua heap (guard_charge);
 * - a block that does not fit raises a Lua error in the thread running lua-cjson instead of
 *   returning NULL (which strbuf would turn into exit(-1));
 * - every lua-cjson function runs under lua_pcall (guarded_call): when it fails, the buffers the
 *   call made for itself (encoding without keeping the buffer, decoding) are freed, the instance's
 *   kept encoding buffer is made anew (a refusal inside strbuf_resize leaves its recorded size
 *   larger than the block), and the error is raised again, a memory error as Lua's own.
 *
 * Other ways were weighed: building lua-cjson from source with an allocator hook would copy
 * another project's code into this one; -Wl,--wrap=malloc would reach every object linked, not
 * only lua-cjson's; refusing cjson under --max-memory would take JSON output away from capped
 * runs; checking sizes before each call cannot see the kept buffers or decoding's.
 */

/* Each block lua-cjson gets has this header before it: its size and the call that last grew it. */
struct block {
	struct block *prev, *next;
	size_t size;
	unsigned long call; /* 0: made outside any call, or by a repair: owned by an instance */
};

_Static_assert(sizeof(struct block) % _Alignof(max_align_t) == 0, "header keeps malloc's alignment");

/* The blocks allocated and not yet freed, in a ring through this sentinel. */
static struct block live = {&live, &live, 0, 0};

/* The thread running lua-cjson now, and the number of the call it runs (0: none). */
static lua_State *current_state;
static unsigned long current_call;
static unsigned long calls_made;
/* The call in which a block was refused, or in which lua-cjson gave up (exit, abort). */
static unsigned long refused_call, gave_up_call;

static void link_block(struct block *b)
{
	b->next = live.next;
	b->prev = &live;
	live.next->prev = b;
	live.next = b;
}

static void unlink_block(struct block *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

/* Raises an error in the thread running lua-cjson; the wrapper of the call tells why by call number. */
static _Noreturn void raise_in_current_call(void)
{
	lua_State *L = current_state;

	if (L == NULL) {
		/* lua-cjson runs only through guarded_call: this is not reached. */
		static const char msg[] = "memscript: lua-cjson failed outside a call\n";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing more can be done about it */
		}
		_exit(3);
	}
	/* the error object does not matter (guarded_call replaces it); none is allocated for it */
	if (lua_checkstack(L, 1))
		lua_pushnil(L);
	lua_error(L);
	_exit(3); /* lua_error does not return */
}

static _Noreturn void refuse(void)
{
	refused_call = current_call;
	raise_in_current_call();
}

void *memscript_cjson_malloc(size_t size);
void *memscript_cjson_calloc(size_t count, size_t size);
void *memscript_cjson_realloc(void *ptr, size_t size);
void memscript_cjson_free(void *ptr);
_Noreturn void memscript_cjson_exit(int status);
_Noreturn void memscript_cjson_abort(void);

void *memscript_cjson_malloc(size_t size)
{
	struct block *b;

	if (size > (size_t)-1 / 2 || !guard_charge(sizeof(*b) + size))
		refuse();
	b = malloc(sizeof(*b) + size);
	if (b == NULL) {
		guard_release(sizeof(*b) + size);
		refuse();
	}
	b->size = size;
	b->call = current_call;
	link_block(b);
	return b + 1;
}

void *memscript_cjson_calloc(size_t count, size_t size)
{
	void *p;

	if (size != 0 && count > (size_t)-1 / 2 / size)
		refuse();
	p = memscript_cjson_malloc(count * size);
	memset(p, 0, count * size);
	return p;
}

void memscript_cjson_free(void *ptr)
{
	struct block *b;

	if (ptr == NULL)
		return;
	b = (struct block *)ptr - 1;
	unlink_block(b);
	guard_release(sizeof(*b) + b->size);
	free(b);
}

void *memscript_cjson_realloc(void *ptr, size_t size)
{
	struct block *b, *moved;
	size_t old;

	if (ptr == NULL)
		return memscript_cjson_malloc(size);
	if (size == 0) {
		memscript_cjson_free(ptr);
		return NULL;
	}
	b = (struct block *)ptr - 1;
	old = b->size;
	if (size > (size_t)-1 / 2 || (size > old && !guard_charge(size - old)))
		refuse();
	unlink_block(b);
	moved = realloc(b, sizeof(*b) + size);
	if (moved == NULL) {
		link_block(b);
		if (size > old)
			guard_release(size - old);
		refuse();
	}
	if (size < old)
		guard_release(old - size);
	moved->size = size;
	moved->call = current_call;
	link_block(moved);
	return moved + 1;
}

/* strbuf's die() after printing its reason (a length past INT_MAX, say): an error, not the end of memscript. */
void memscript_cjson_exit(int status)
{
	(void)status;
	gave_up_call = current_call;
	raise_in_current_call();
}

/* fpconv's abort() when a number's copy cannot be allocated. */
void memscript_cjson_abort(void)
{
	gave_up_call = current_call;
	raise_in_current_call();
}

void cjson_guard_release_all(void)
{
	while (live.next != &live)
		memscript_cjson_free(live.next + 1);
}

/* Frees the blocks call made that are still allocated: its own buffers, which its failure left behind. */
static void free_blocks_of(unsigned long call)
{
	struct block *b = live.next;

	while (b != &live) {
		struct block *next = b->next;
		if (b->call == call)
			memscript_cjson_free(b + 1);
		b = next;
	}
}

/*
 * Makes the instance's kept encoding buffer anew through lua-cjson's own encode_keep_buffer
 * (upvalue 2 of the wrapper): off frees the buffer, on allocates a small one. Allowed past the
 * cap, so the repair cannot itself be refused; errors are ignored (the instance was unusable
 * before anyway).
 */
static void renew_kept_buffer(lua_State *L)
{
	int kept;

	if (lua_isnil(L, lua_upvalueindex(2)))
		return;
	guard_overdraft(1);
	lua_pushvalue(L, lua_upvalueindex(2));
	if (lua_pcall(L, 0, 1, 0) == LUA_OK) {
		kept = lua_toboolean(L, -1);
		lua_pop(L, 1);
		if (kept) {
			lua_pushvalue(L, lua_upvalueindex(2));
			lua_pushboolean(L, 0);
			if (lua_pcall(L, 1, 0, 0) != LUA_OK)
				lua_pop(L, 1);
			lua_pushvalue(L, lua_upvalueindex(2));
			lua_pushboolean(L, 1);
			if (lua_pcall(L, 1, 0, 0) != LUA_OK)
				lua_pop(L, 1);
		}
	} else {
		lua_pop(L, 1);
	}
	guard_overdraft(0);
}

static void wrap_module(lua_State *L, int index);

/*
 * A lua-cjson function, run protected. Upvalues: 1 lua-cjson's function (a closure over its
 * instance), 2 the same instance's encode_keep_buffer, 3 whether the blocks a failed call leaves
 * are its own temporaries (encode, decode: not new, whose new instance owns its buffer), 4 whether
 * the result is a new module table whose functions must be wrapped too (new).
 */
static int guarded_call(lua_State *L)
{
	lua_State *saved_state = current_state;
	unsigned long saved_call = current_call;
	unsigned long call = ++calls_made;
	int status, memory;

	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	current_state = L;
	current_call = call;
	status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
	current_state = saved_state;
	current_call = 0; /* what the repair allocates belongs to the instance */
	if (status == LUA_OK) {
		current_call = saved_call;
		if (lua_toboolean(L, lua_upvalueindex(4)) && lua_type(L, -1) == LUA_TTABLE)
			wrap_module(L, lua_gettop(L));
		return lua_gettop(L);
	}
	memory = status == LUA_ERRMEM || refused_call == call;
	if (refused_call == call)
		refused_call = 0;
	renew_kept_buffer(L);
	if (lua_toboolean(L, lua_upvalueindex(3)))
		free_blocks_of(call);
	current_call = saved_call;
	if (memory)
		guard_raise_memory_error(L);
	if (gave_up_call == call) {
		gave_up_call = 0;
		return luaL_error(L, "lua-cjson could not go on (its reason is printed above)");
	}
	return lua_error(L);
}

/* Replaces each function of the lua-cjson module table at index with guarded_call over it. */
static void wrap_module(lua_State *L, int index)
{
	lua_getfield(L, index, "encode_keep_buffer");
	lua_pushnil(L);
	while (lua_next(L, index) != 0) {
		/* stack: keep_buffer, key, value */
		if (lua_type(L, -2) == LUA_TSTRING && lua_tocfunction(L, -1) != NULL) {
			const char *name = lua_tostring(L, -2);
			lua_pushvalue(L, -3);
			lua_pushboolean(L, strcmp(name, "encode") == 0 || strcmp(name, "decode") == 0);
			lua_pushboolean(L, strcmp(name, "new") == 0);
			lua_pushcclosure(L, guarded_call, 4); /* upvalue 1: the function, taken off the stack */
			/* replacing the value of an existing key keeps lua_next's traversal valid */
			lua_pushvalue(L, -2);
			lua_insert(L, -2);
			lua_rawset(L, index);
		} else {
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
}

int luaopen_cjson(lua_State *L);

int cjson_guard_open(lua_State *L)
{
	lua_settop(L, 0);
	/* the opener itself runs as a guarded call: its instance's buffer is counted too */
	lua_pushcfunction(L, luaopen_cjson);
	lua_pushnil(L); /* no keep_buffer to renew: the instance made is dropped if opening fails */
	lua_pushboolean(L, 0);
	lua_pushboolean(L, 1);
	lua_pushcclosure(L, guarded_call, 4);
	lua_call(L, 0, 1);
	return 1;
}
