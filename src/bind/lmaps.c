/* lmaps.c: /proc/PID/maps and /proc/PID/smaps as arrays of mapping tables, VmFlags as shared read-only sets. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "bind/layout.h"
#include "core/maps_parse.h"

/* Fixed stack slots of a mapping build (absolute indices). */
enum {
	SLOT_CTX = 1,     /* not used after entry */
	SLOT_RESULT,      /* the array of mappings */
	SLOT_FLAGSETS,    /* VmFlags text -> shared read-only set */
	SLOT_VM_START,    /* header keys, pushed once */
	SLOT_VM_END,
	SLOT_SIZE,
	SLOT_PERMS,
	SLOT_OFFSET,
	SLOT_DEV,
	SLOT_INODE,
	SLOT_PATH,
	SLOT_PATHS,       /* path strings seen, by hash bucket (struct mapping_ctx's paths) */
	SLOT_SHORTS,      /* perms and dev strings seen (struct mapping_ctx's shorts) */
	SLOT_LAST_FLAGS,  /* the previous mapping's VmFlags set, reused when equal */
	SLOT_FLAG_BUCKETS, /* VmFlags sets seen, by hash bucket (struct mapping_ctx's flag_texts) */
	SLOT_LAST_LAYOUT, /* the previous smaps mapping's layout, reused when its keys are the same */
	SLOT_OWN_LAYOUT,  /* the layout of a mapping with keys past the cache, nil otherwise */
	SLOT_FIRST_KEY    /* smaps keys are pushed from here, below the mapping being built */
};

#define HEADER_FIELDS 8
#define HEADER_ALL ((1u << HEADER_FIELDS) - 1)
#define HEADER_SIZE (1u << (SLOT_SIZE - SLOT_VM_START))
#define KEY_CACHE_MAX 256
/* Buckets of the path cache: a process maps up to a few hundred files, each often several times, in turn. */
#define PATH_BUCKETS 256
/* Buckets of the VmFlags cache: a process's mappings have a few dozen distinct sets of flags. */
#define FLAG_BUCKETS 64
/* perms and dev are short, and few differ in a process; longer ones are pushed each time. */
#define SHORT_TEXT 16
#define SHORT_CACHE 16

/* An smaps key seen before: its Lua string lives at a stack slot. */
struct cached_key {
	const char *text;      /* the Lua string's bytes, alive while it is on the stack */
	size_t len;
	int slot;
	unsigned long record;  /* last mapping that had this key, to reject duplicates */
	int is_vmflags;
	int is_size;           /* is_size_key */
	int kept;              /* the mapping tables hold this key (all, unless fields were named) */
};

/* A mapping's keys in the order printed, as cached key numbers, and which were in kB. */
struct key_sequence {
	int n;
	int key[KEY_CACHE_MAX];
	unsigned char kb[KEY_CACHE_MAX];
};

/* Most fields a caller may name. */
#define FIELDS_MAX 64

struct mapping_ctx {
	const char *path;
	int smaps;
	struct linestream *stream;
	long lineno;           /* the line being taken */

	/* The fields named by the caller (strings anchored in its argument), or nfields -1 for all. */
	int nfields;
	const char *fields[FIELDS_MAX];
	size_t field_lens[FIELDS_MAX];
	unsigned header_kept;  /* bit i: header field i is set */
	int size_derived;      /* smaps tables of every field: size is read through the layout */
	int kept;              /* fields set in the mapping being built */

	struct cached_key keys[KEY_CACHE_MAX];
	int nkeys;
	/* The mapping being built; and the keys of SLOT_LAST_LAYOUT (smaps repeats its key order). */
	struct key_sequence current, last;
	int has_last;
	int own_layout;        /* SLOT_OWN_LAYOUT holds a layout */
	int fields_hint;

	/* The path strings in SLOT_PATHS: bytes anchored there, NULL for an empty bucket. */
	const char *paths[PATH_BUCKETS];
	size_t path_lens[PATH_BUCKETS];
	/* The short strings in SLOT_SHORTS (index i + 1), replaced in turn when all are taken. */
	char shorts[SHORT_CACHE][SHORT_TEXT];
	size_t short_lens[SHORT_CACHE]; /* 0: empty */
	int next_short;
	const char *last_flags;
	size_t last_flags_len;
	/* The texts of the sets in SLOT_FLAG_BUCKETS (anchored by the sets), NULL for an empty bucket. */
	const char *flag_texts[FLAG_BUCKETS];
	size_t flag_lens[FLAG_BUCKETS];
};

/*
 * The place of text[0..len) in a cache of `buckets` places (the path and VmFlags caches): FNV-1a
 * over its bytes from `from` on, mixed with its length.
 */
static int text_bucket(const char *text, size_t len, size_t from, int buckets)
{
	uint32_t hash = 2166136261u;
	size_t i;

	for (i = from; i < len; i++)
		hash = (hash ^ (unsigned char)text[i]) * 16777619u;
	hash ^= (uint32_t)len;
	return (int)((hash ^ (hash >> 16)) % (uint32_t)buckets);
}

/* ---- VmFlags sets ---- */

static int vmflags_readonly(lua_State *L)
{
	return luaL_error(L, "VmFlags sets are read-only (shared by the mappings with the same flags)");
}

static int vmflags_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (lua_next(L, 1))
		return 2;
	lua_pushnil(L);
	return 1;
}

static int vmflags_pairs(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_pushcfunction(L, vmflags_next);
	lua_getfield(L, -2, "__index");
	lua_pushnil(L);
	return 3;
}

static int vmflags_tostring(lua_State *L)
{
	lua_getmetatable(L, 1);
	lua_getfield(L, -1, "text");
	return 1;
}

/* Pushes a new read-only VmFlags set for text ("rd wr mr"). */
static void new_vmflags(lua_State *L, const char *text, size_t len)
{
	const char *p, *end = text + len;

	lua_createtable(L, 0, 0);                 /* the proxy users see */
	lua_createtable(L, 0, 6);                 /* its metatable */
	lua_createtable(L, 0, (int)(len / 3 + 1)); /* the set behind it */
	for (p = text; p < end;) {
		const char *word = p;
		while (p < end && *p != ' ')
			p++;
		if (p > word) {
			lua_pushlstring(L, word, (size_t)(p - word));
			lua_pushboolean(L, 1);
			lua_rawset(L, -3);
		}
		while (p < end && *p == ' ')
			p++;
	}
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, vmflags_readonly);
	lua_setfield(L, -2, "__newindex");
	lua_pushcfunction(L, vmflags_pairs);
	lua_setfield(L, -2, "__pairs");
	lua_pushcfunction(L, vmflags_tostring);
	lua_setfield(L, -2, "__tostring");
	lua_pushliteral(L, "VmFlags");
	lua_setfield(L, -2, "__name");
	lua_pushlstring(L, text, len);
	lua_setfield(L, -2, "text");
	lua_setmetatable(L, -2);
}

/*
 * Pushes the read-only VmFlags set for text, one shared set per distinct text: the previous
 * mapping's when the text is the same, else the one in the text's hash bucket, else the one in
 * SLOT_FLAGSETS (which then takes the bucket), else a new one.
 */
static void push_vmflags(lua_State *L, struct mapping_ctx *c, const char *text, size_t len)
{
	int bucket;

	luaL_checkstack(L, 8, "VmFlags set");
	if (c->last_flags != NULL && len == c->last_flags_len && memcmp(text, c->last_flags, len) == 0) {
		lua_pushvalue(L, SLOT_LAST_FLAGS);
		return;
	}
	bucket = text_bucket(text, len, 0, FLAG_BUCKETS);
	if (c->flag_texts[bucket] != NULL && c->flag_lens[bucket] == len &&
	    memcmp(c->flag_texts[bucket], text, len) == 0) {
		lua_rawgeti(L, SLOT_FLAG_BUCKETS, bucket + 1);
	} else {
		lua_pushlstring(L, text, len);
		if (lua_rawget(L, SLOT_FLAGSETS) == LUA_TNIL) {
			lua_pop(L, 1);
			new_vmflags(L, text, len);
			lua_pushlstring(L, text, len);
			lua_pushvalue(L, -2);
			lua_rawset(L, SLOT_FLAGSETS);
		}
		lua_pushvalue(L, -1);
		lua_rawseti(L, SLOT_FLAG_BUCKETS, bucket + 1);
		lua_getmetatable(L, -1);
		lua_getfield(L, -1, "text");
		/* anchored by the set's metatable; the set, by SLOT_FLAGSETS */
		c->flag_texts[bucket] = lua_tolstring(L, -1, &c->flag_lens[bucket]);
		lua_pop(L, 2);
	}
	lua_pushvalue(L, -1);
	lua_replace(L, SLOT_LAST_FLAGS);
	c->last_flags = c->flag_texts[bucket];
	c->last_flags_len = c->flag_lens[bucket];
}

/* ---- keys and layouts ---- */

/*
 * The smaps keys the kernel prints as sizes, "%8lu kB" (fs/proc/task_mmu.c): a word there is a
 * damaged file, never a value. Other keys may hold text (VmFlags; Android's Name, which a process
 * chooses); keys a later kernel adds are not listed and keep whatever they hold.
 */
static int is_size_key(const char *key, size_t len)
{
	static const char *const sizes[] = {
		"AnonHugePages", "Anonymous", "FilePmdMapped", "KSM", "KernelPageSize", "LazyFree", "Locked",
		"MMUPageSize", "Private_Clean", "Private_Dirty", "Private_Hugetlb", "Pss", "Pss_Anon", "Pss_Dirty",
		"Pss_File", "Pss_Shmem", "Referenced", "Rss", "Shared_Clean", "Shared_Dirty", "Shared_Hugetlb",
		"ShmemPmdMapped", "Size", "Swap", "SwapPss",
	};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if (strlen(sizes[i]) == len && memcmp(sizes[i], key, len) == 0)
			return 1;
	return 0;
}

/* Whether the tables hold key: every key, unless the caller named some. */
static int is_kept(const struct mapping_ctx *c, const char *key, size_t len)
{
	int i;

	if (c->nfields < 0)
		return 1;
	for (i = 0; i < c->nfields; i++)
		if (c->field_lens[i] == len && memcmp(c->fields[i], key, len) == 0)
			return 1;
	return 0;
}

/* Finds or adds the cached key for field number field_no; -1 when the cache is full. */
static int lookup_key(lua_State *L, struct mapping_ctx *c, int field_no, const char *key, size_t len)
{
	int i;

	if (field_no < c->last.n && c->has_last) {
		struct cached_key *k = &c->keys[c->last.key[field_no]];
		if (k->len == len && memcmp(k->text, key, len) == 0)
			return c->last.key[field_no];
	}
	for (i = 0; i < c->nkeys; i++) {
		if (c->keys[i].len == len && memcmp(c->keys[i].text, key, len) == 0)
			return i;
	}
	if (c->nkeys == KEY_CACHE_MAX)
		return -1;
	luaL_checkstack(L, 4, "too many smaps keys");
	lua_pushlstring(L, key, len);
	lua_insert(L, -2); /* below the mapping being built */
	c->keys[i].slot = lua_gettop(L) - 1;
	c->keys[i].text = lua_tostring(L, c->keys[i].slot);
	c->keys[i].len = len;
	c->keys[i].record = 0;
	c->keys[i].is_vmflags = len == 7 && memcmp(key, "VmFlags", 7) == 0;
	c->keys[i].is_size = is_size_key(key, len);
	c->keys[i].kept = is_kept(c, key, len);
	c->nkeys++;
	return i;
}

/*
 * An smaps mapping table does not hold size: the kernel's Size says the same in bytes, and one key
 * more than 32 (ProtectionKey, on machines with memory protection keys) would double the hash part
 * of every table. Its layout reads size as vm_end - vm_start for m.size and lists it in pairs(m).
 */
static int push_derived_size(lua_State *L, int t)
{
	lua_Integer start, end;
	int ok;

	if (lua_getfield(L, t, "vm_start") != LUA_TNUMBER || !lua_isinteger(L, -1)) {
		lua_pop(L, 1);
		return 0;
	}
	start = lua_tointeger(L, -1);
	ok = lua_getfield(L, t, "vm_end") == LUA_TNUMBER && lua_isinteger(L, -1);
	end = lua_tointeger(L, -1);
	lua_pop(L, 2);
	if (!ok)
		return 0;
	lua_pushinteger(L, (lua_Integer)((lua_Unsigned)end - (lua_Unsigned)start));
	return 1;
}

static int is_size_name(lua_State *L, int i)
{
	size_t len;
	const char *key = lua_type(L, i) == LUA_TSTRING ? lua_tolstring(L, i, &len) : NULL;
	return key != NULL && len == 4 && memcmp(key, "size", 4) == 0;
}

static int mapping_index(lua_State *L)
{
	if (is_size_name(L, 2) && push_derived_size(L, 1))
		return 1;
	lua_pushnil(L);
	return 1;
}

/* next over the fields held, then size; the table's own size, if a script set one, comes once. */
static int mapping_next(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 2);
	if (is_size_name(L, 2)) {
		lua_pushnil(L);
		return 1; /* size comes last */
	}
	while (lua_next(L, 1)) {
		if (!is_size_name(L, -2))
			return 2;
		lua_pop(L, 1); /* a size the script set: listed last, with the others' */
	}
	lua_pushliteral(L, "size");
	if (lua_rawget(L, 1) == LUA_TNIL) {
		lua_pop(L, 1);
		if (!push_derived_size(L, 1))
			return 0;
	}
	lua_pushliteral(L, "size");
	lua_insert(L, -2);
	return 2;
}

static int mapping_pairs(lua_State *L)
{
	lua_pushcfunction(L, mapping_next);
	lua_pushvalue(L, 1);
	lua_pushnil(L);
	return 3;
}

/* Gives the layout on top the metamethods that read size, when the tables do not hold it. */
static void derive_size(lua_State *L, const struct mapping_ctx *c)
{
	if (!c->size_derived)
		return;
	lua_pushcfunction(L, mapping_index);
	lua_setfield(L, -2, "__index");
	lua_pushcfunction(L, mapping_pairs);
	lua_setfield(L, -2, "__pairs");
}

/*
 * Past the cache (more than KEY_CACHE_MAX keys, or fields, in play) a mapping gets a layout of its
 * own, started here from the fields it had so far and appended to field by field.
 */
static void start_own_layout(lua_State *L, struct mapping_ctx *c)
{
	int i;

	if (c->own_layout)
		return;
	layout_new(L);
	derive_size(L, c);
	for (i = 0; i < c->current.n; i++)
		if (c->keys[c->current.key[i]].kept)
			layout_append(L, -1, c->keys[c->current.key[i]].slot, c->current.kb[i]);
	lua_replace(L, SLOT_OWN_LAYOUT);
	c->own_layout = 1;
}

/* Sets the layout of the mapping on top: the last one when its keys are the same, else a new one. */
static void set_layout(lua_State *L, struct mapping_ctx *c)
{
	int i;

	if (c->own_layout) {
		lua_pushvalue(L, SLOT_OWN_LAYOUT);
		lua_setmetatable(L, -2);
		lua_pushnil(L);
		lua_replace(L, SLOT_OWN_LAYOUT);
		c->own_layout = 0;
		return;
	}
	if (!c->has_last || c->current.n != c->last.n ||
	    memcmp(c->current.key, c->last.key, (size_t)c->current.n * sizeof(c->current.key[0])) != 0 ||
	    memcmp(c->current.kb, c->last.kb, (size_t)c->current.n) != 0) {
		layout_new(L);
		derive_size(L, c);
		for (i = 0; i < c->current.n; i++)
			if (c->keys[c->current.key[i]].kept)
				layout_append(L, -1, c->keys[c->current.key[i]].slot, c->current.kb[i]);
		lua_replace(L, SLOT_LAST_LAYOUT);
		c->last.n = c->current.n;
		memcpy(c->last.key, c->current.key, (size_t)c->current.n * sizeof(c->current.key[0]));
		memcpy(c->last.kb, c->current.kb, (size_t)c->current.n);
		c->has_last = 1;
	}
	lua_pushvalue(L, SLOT_LAST_LAYOUT);
	lua_setmetatable(L, -2);
}

/* ---- mappings ---- */

/* Pushes a short string (perms, dev): the same string as before for the same text. */
static void push_short(lua_State *L, struct mapping_ctx *c, const char *text, size_t len)
{
	int i;

	if (len == 0 || len >= SHORT_TEXT) {
		lua_pushlstring(L, text, len);
		return;
	}
	for (i = 0; i < SHORT_CACHE; i++) {
		if (c->short_lens[i] == len && memcmp(c->shorts[i], text, len) == 0) {
			lua_rawgeti(L, SLOT_SHORTS, i + 1);
			return;
		}
	}
	i = c->next_short;
	c->next_short = (i + 1) % SHORT_CACHE;
	lua_pushlstring(L, text, len);
	lua_pushvalue(L, -1);
	lua_rawseti(L, SLOT_SHORTS, i + 1);
	memcpy(c->shorts[i], text, len);
	c->short_lens[i] = len;
}

/* Pushes the path string; a path seen before (by its hash bucket) is the same string, not a copy. */
static void push_path(lua_State *L, struct mapping_ctx *c, const char *path, size_t len)
{
	int bucket;

	if (len == 0) {
		lua_pushliteral(L, "");
		return;
	}
	/* The end of a path tells paths apart best (libraries differ in their names, not directories). */
	bucket = text_bucket(path, len, len > 32 ? len - 32 : 0, PATH_BUCKETS);
	if (c->paths[bucket] != NULL && c->path_lens[bucket] == len && memcmp(c->paths[bucket], path, len) == 0) {
		lua_rawgeti(L, SLOT_PATHS, bucket + 1);
		return;
	}
	lua_pushlstring(L, path, len);
	lua_pushvalue(L, -1);
	lua_rawseti(L, SLOT_PATHS, bucket + 1);
	c->paths[bucket] = lua_tostring(L, -1); /* anchored in SLOT_PATHS until replaced there */
	c->path_lens[bucket] = len;
}

/* Sets header field i (slot SLOT_VM_START + i) to the value on top, when it is kept; pops the value. */
static void set_header_field(lua_State *L, const struct mapping_ctx *c, int i)
{
	if (!(c->header_kept & (1u << i))) {
		lua_pop(L, 1);
		return;
	}
	lua_pushvalue(L, SLOT_VM_START + i);
	lua_insert(L, -2);
	lua_rawset(L, -3);
}

static void set_header_fields(lua_State *L, struct mapping_ctx *c, const struct maps_header *h)
{
	if ((c->header_kept | HEADER_SIZE) == HEADER_ALL) {
		/* Every field (size aside): the common case, without the test per field. */
		lua_pushvalue(L, SLOT_VM_START);
		lua_pushinteger(L, (lua_Integer)h->vm_start);
		lua_rawset(L, -3);
		lua_pushvalue(L, SLOT_VM_END);
		lua_pushinteger(L, (lua_Integer)h->vm_end);
		lua_rawset(L, -3);
		if (c->header_kept & HEADER_SIZE) {
			lua_pushvalue(L, SLOT_SIZE);
			lua_pushinteger(L, (lua_Integer)(h->vm_end - h->vm_start));
			lua_rawset(L, -3);
		}
		lua_pushvalue(L, SLOT_PERMS);
		push_short(L, c, h->perms, h->perms_len);
		lua_rawset(L, -3);
		lua_pushvalue(L, SLOT_OFFSET);
		lua_pushinteger(L, (lua_Integer)h->offset);
		lua_rawset(L, -3);
		lua_pushvalue(L, SLOT_DEV);
		push_short(L, c, h->dev, h->dev_len);
		lua_rawset(L, -3);
		lua_pushvalue(L, SLOT_INODE);
		lua_pushinteger(L, (lua_Integer)h->inode);
		lua_rawset(L, -3);
		lua_pushvalue(L, SLOT_PATH);
		push_path(L, c, h->path, h->path_len);
		lua_rawset(L, -3);
		return;
	}
	lua_pushinteger(L, (lua_Integer)h->vm_start);
	set_header_field(L, c, 0);
	lua_pushinteger(L, (lua_Integer)h->vm_end);
	set_header_field(L, c, 1);
	lua_pushinteger(L, (lua_Integer)(h->vm_end - h->vm_start));
	set_header_field(L, c, 2);
	push_short(L, c, h->perms, h->perms_len);
	set_header_field(L, c, 3);
	lua_pushinteger(L, (lua_Integer)h->offset);
	set_header_field(L, c, 4);
	push_short(L, c, h->dev, h->dev_len);
	set_header_field(L, c, 5);
	lua_pushinteger(L, (lua_Integer)h->inode);
	set_header_field(L, c, 6);
	push_path(L, c, h->path, h->path_len);
	set_header_field(L, c, 7);
}

/* Appends the mapping on top to the result, with its layout when it came from smaps. */
static void finish_mapping(lua_State *L, struct mapping_ctx *c, lua_Integer *count)
{
	if (c->smaps)
		set_layout(L, c);
	c->fields_hint = c->kept;
	lua_rawseti(L, SLOT_RESULT, ++*count);
}

/*
 * Most lines are the key the previous mapping had at this place, and a number: for such a line at
 * line, in a span that ends at end, its newline, with *f set; NULL for any other line.
 */
static const char *known_field(const struct mapping_ctx *c, const char *line, const char *end, struct kv_field *f)
{
	const struct cached_key *expected;

	if (!c->has_last || c->current.n >= c->last.n)
		return NULL;
	expected = &c->keys[c->last.key[c->current.n]];
	return kv_scan_known_number(line, end, expected->text, expected->len, f);
}

/*
 * One "Key: value" line of the mapping on top, or with known, the line known_field took (*known its
 * field); returns the number of results of an error, or 0.
 */
static int add_smaps_field(lua_State *L, struct mapping_ctx *c, const char *line, size_t len, unsigned long record,
			   const struct kv_field *known)
{
	struct kv_field f;
	const char *reason;
	int field_no = c->current.n, k = -1;

	if (known != NULL) {
		f = *known;
		k = c->last.key[field_no];
	} else if (c->has_last && field_no < c->last.n) {
		const struct cached_key *expected = &c->keys[c->last.key[field_no]];
		if (len > expected->len && memcmp(line, expected->text, expected->len) == 0 &&
		    kv_parse_known_number(line, len, expected->len, &f))
			k = c->last.key[field_no];
	}
	if (k < 0) {
		reason = kv_parse_line(line, len, &f);
		if (reason != NULL)
			return bind_format_error(L, c->path, c->lineno, reason);
		k = field_no < KEY_CACHE_MAX ? lookup_key(L, c, field_no, f.key, f.key_len) : -1;
		/* only here: the fast path above takes numbers alone */
		if (f.kind == KV_TEXT && (k >= 0 ? c->keys[k].is_size : is_size_key(f.key, f.key_len)))
			return bind_format_error(L, c->path, c->lineno,
						 lua_pushfstring(L, "'%s' where a size in kB is expected",
								 f.text_len > 40 ? "a long value" : lua_pushlstring(L, f.text, f.text_len)));
	}
	if (k >= 0) {
		if (c->keys[k].record == record)
			return bind_format_error(L, c->path, c->lineno,
						 lua_pushfstring(L, "duplicate key '%s'", c->keys[k].text));
		c->keys[k].record = record;
		if (!c->keys[k].kept) {
			/* Parsed all the same: a line the full tables would refuse is refused here too. */
			c->current.key[field_no] = k;
			c->current.kb[field_no] = f.kind == KV_KB;
			c->current.n = field_no + 1;
			return 0;
		}
		if (c->own_layout)
			layout_append(L, SLOT_OWN_LAYOUT, c->keys[k].slot, f.kind == KV_KB);
		lua_pushvalue(L, c->keys[k].slot);
	} else {
		/* Past the cache: rare enough to pay for a lookup each time. */
		start_own_layout(L, c);
		if (!is_kept(c, f.key, f.key_len)) {
			/* Not in the table, so its duplicates are not seen: as for the kept, none is allowed. */
			c->current.n = field_no + 1 <= KEY_CACHE_MAX ? field_no + 1 : KEY_CACHE_MAX;
			return 0;
		}
		lua_pushlstring(L, f.key, f.key_len);
		lua_pushvalue(L, -1);
		if (lua_rawget(L, -3) != LUA_TNIL)
			return bind_format_error(L, c->path, c->lineno,
						 lua_pushfstring(L, "duplicate key '%s'", lua_tostring(L, -2)));
		lua_pop(L, 1);
		layout_append(L, SLOT_OWN_LAYOUT, -1, f.kind == KV_KB);
	}
	if (k >= 0 && c->keys[k].is_vmflags)
		push_vmflags(L, c, f.text, f.text_len);
	else
		bind_push_kv_value(L, &f);
	lua_rawset(L, -3);
	c->kept++;
	if (field_no < KEY_CACHE_MAX && k >= 0) {
		c->current.key[field_no] = k;
		c->current.kb[field_no] = f.kind == KV_KB;
	}
	c->current.n = field_no + 1 <= KEY_CACHE_MAX ? field_no + 1 : KEY_CACHE_MAX;
	return 0;
}

static int mapping_build(lua_State *L, void *arg)
{
	static const char *const header_keys[HEADER_FIELDS] = {
		"vm_start", "vm_end", "size", "perms", "offset", "dev", "inode", "path"};
	struct mapping_ctx *c = arg;
	lua_Integer count = 0;
	unsigned long record = 0;
	const char *span;
	size_t span_len;
	int i, r;

	luaL_checkstack(L, SLOT_FIRST_KEY + 8, NULL);
	lua_settop(L, 0);
	lua_pushnil(L);                 /* SLOT_CTX */
	lua_newtable(L);                /* SLOT_RESULT */
	lua_newtable(L);                /* SLOT_FLAGSETS */
	for (i = 0; i < HEADER_FIELDS; i++)
		lua_pushstring(L, header_keys[i]);
	lua_createtable(L, PATH_BUCKETS, 0); /* SLOT_PATHS */
	lua_createtable(L, SHORT_CACHE, 0); /* SLOT_SHORTS */
	lua_pushnil(L);                 /* SLOT_LAST_FLAGS */
	lua_createtable(L, FLAG_BUCKETS, 0); /* SLOT_FLAG_BUCKETS */
	lua_pushnil(L);                 /* SLOT_LAST_LAYOUT */
	lua_pushnil(L);                 /* SLOT_OWN_LAYOUT */
	c->header_kept = 0;
	for (i = 0; i < HEADER_FIELDS; i++)
		if (is_kept(c, header_keys[i], strlen(header_keys[i])))
			c->header_kept |= 1u << i;
	c->size_derived = c->smaps && c->nfields < 0;
	if (c->size_derived)
		c->header_kept &= ~HEADER_SIZE;
	c->fields_hint = __builtin_popcount(c->header_kept);

	while ((r = linestream_next_span(c->stream, &span, &span_len)) > 0) {
		const char *line = span, *end = span + span_len, *nl;

		for (; line < end; line = nl + 1) {
			struct kv_field f;
			const char *reason;
			size_t len;

			c->lineno++;
			if (c->smaps && record > 0 && (nl = known_field(c, line, end, &f)) != NULL) {
				if ((r = add_smaps_field(L, c, line, (size_t)(nl - line), record, &f)) != 0)
					return r;
				continue;
			}
			nl = memchr(line, '\n', (size_t)(end - line));
			len = nl != NULL ? (size_t)(nl - line) : (size_t)(end - line);
			if (nl == NULL)
				nl = end - 1;
			if (maps_is_header(line, len)) {
				struct maps_header h;
				reason = maps_parse_header(line, len, &h);
				if (reason != NULL)
					return bind_format_error(L, c->path, c->lineno, reason);
				if (record > 0)
					finish_mapping(L, c, &count);
				record++;
				c->current.n = 0;
				c->kept = __builtin_popcount(c->header_kept);
				lua_createtable(L, 0, c->fields_hint);
				set_header_fields(L, c, &h);
			} else if (c->smaps && record > 0) {
				if ((r = add_smaps_field(L, c, line, len, record, NULL)) != 0)
					return r;
			} else {
				return bind_format_error(L, c->path, c->lineno,
					c->smaps ? "field before the first mapping header"
						 : "mapping header expected (start-end perms offset dev inode path)");
			}
		}
	}
	if (r < 0)
		return bind_path_error(L, c->path, -r);
	if (record > 0)
		finish_mapping(L, c, &count);
	lua_pushvalue(L, SLOT_RESULT);
	/* The list's methods (memscript.collection) are set inside the build, with the rest of it. */
	bind_set_mapping_list(L);
	return 1;
}

static void mapping_cleanup(void *arg)
{
	linestream_close(((struct mapping_ctx *)arg)->stream);
}

/*
 * The fields argument (arg 2): nil for every field, or an array of field names the tables are to
 * hold; the strings stay anchored by the array, which stays on the stack for the whole call.
 */
static void check_fields(lua_State *L, struct mapping_ctx *c)
{
	lua_Integer i, n;

	c->nfields = -1;
	if (lua_isnoneornil(L, 2))
		return;
	luaL_checktype(L, 2, LUA_TTABLE);
	n = (lua_Integer)lua_rawlen(L, 2);
	luaL_argcheck(L, n <= FIELDS_MAX, 2, "too many field names");
	c->nfields = (int)n;
	for (i = 1; i <= n; i++) {
		if (lua_rawgeti(L, 2, i) != LUA_TSTRING)
			luaL_argerror(L, 2, lua_pushfstring(L, "field names expected, got %s at %d", luaL_typename(L, -1), (int)i));
		c->fields[i - 1] = lua_tolstring(L, -1, &c->field_lens[i - 1]);
		lua_pop(L, 1);
	}
}

static int read_mappings(lua_State *L, const char *file, int smaps)
{
	char path[PATH_MAX];
	struct source_dir **opened, *dir;
	struct mapping_ctx *c;
	int err, n;

	lua_settop(L, 2);
	/* The context is large (the key cache); a userdata keeps it off the C stack and is collected. */
	c = lua_newuserdatauv(L, sizeof(*c), 0);
	memset(c, 0, sizeof(*c));
	check_fields(L, c);
	dir = bind_process_dir(L, 1, file, &opened, &n);
	if (dir == NULL)
		return n;
	source_dir_path(dir, file, path, sizeof(path));
	c->path = path;
	c->smaps = smaps;
	err = bind_process_lines(L, 1, dir, file, &c->stream);
	if (err != 0) {
		n = bind_os_error(L, dir, file, err);
		bind_done_process(opened);
		return n;
	}
	n = bind_call_bulk(L, mapping_build, c, mapping_cleanup);
	bind_done_process(opened);
	return n;
}

static int maps_maps(lua_State *L)
{
	return read_mappings(L, "maps", 0);
}

static int maps_smaps(lua_State *L)
{
	return read_mappings(L, "smaps", 1);
}

const luaL_Reg bind_maps_functions[] = {
	{"maps", maps_maps},
	{"smaps", maps_smaps},
	{NULL, NULL},
};
