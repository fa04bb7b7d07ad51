/* lpages.c: a process's pages: proc.pagemap (with kpageflags, kpagecount, kpagecgroup, page_idle), proc.numa_maps, proc.clear_refs, proc.mark_idle. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "bind/bind.h"
#include "core/maps_parse.h"
#include "core/numa_parse.h"
#include "core/numparse.h"
#include "source/bigarray.h"
#include "source/pages.h"

/* ---- what a caller asks of proc.pagemap ---- */

/* The fields of pagemap itself, in bytes. */
enum pagemap_field {
	FIELD_PRESENT,
	FIELD_SWAPPED,
	FIELD_SOFT_DIRTY,
	FIELD_EXCLUSIVE,
	FIELD_FILE_OR_SHARED,
	FIELD_UFFD_WP,
	FIELD_GUARD,
	PAGEMAP_FIELDS
};

static const char *const pagemap_field_names[PAGEMAP_FIELDS] = {
	"present", "swapped", "soft_dirty", "exclusive", "file_or_shared", "uffd_wp", "guard",
};

/* The fields from kpageflags and kpagecount: the flags of kpage_account.h, then these sums. */
enum kpage_sum { SUM_RSS, SUM_PSS, SUM_USS, KPAGE_SUMS };
static const char *const kpage_sum_names[KPAGE_SUMS] = {"rss", "pss", "uss"};
#define KPAGE_FIELDS (KPAGE_FLAGS + KPAGE_SUMS)

static const char *kpage_field_name(int i)
{
	return i < KPAGE_FLAGS ? kpage_flag_name((enum kpage_flag)i) : kpage_sum_names[i - KPAGE_FLAGS];
}

enum method { METHOD_AUTO, METHOD_READ, METHOD_SCAN };

/* Where pagemap is read from, the files looked up, and what is kept of each range. */
struct pagemap_ctx {
	/* what was asked */
	int one_range;                 /* a mapping or {start, stop} given: one table, not an array */
	uint64_t start, end;
	enum method method;
	unsigned pagemap_want;         /* bit per enum pagemap_field */
	uint64_t kpage_want;           /* bit per kpage field (flags, then sums) */
	int kpage, cgroup, idle;
	enum kpage_filter filter;
	int mark;                      /* proc.mark_idle: mark, do not count */

	/* the process and its files; every descriptor -1 until opened */
	const struct source_dir *dir;
	struct source *src;
	int pagemap_fd, kpageflags_fd, kpagecount_fd, kpagecgroup_fd, idle_fd;
	struct procfile maps;
	char maps_path[PATH_MAX];

	/* the ranges: one per mapping (with its perms and path in maps), or the one asked for */
	struct pagemap_range *ranges;
	struct range_text {
		const char *perms, *path;
		size_t perms_len, path_len;
	} *text;
	size_t n, cap;
	unsigned char *uncovered;
	struct kpage_totals *totals;
	struct pages_cgroups *cgroups;
	uint64_t *idle_pages;

	/* the memory cgroups met, by inode number, with their paths once found (NULL: not found) */
	struct cgroup_names {
		uint64_t *inode;
		char **path;
		size_t n, unresolved;
	} names;
};

static int field_index(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static int kpage_field_index(const char *name)
{
	int i;

	for (i = 0; i < KPAGE_FIELDS; i++)
		if (strcmp(kpage_field_name(i), name) == 0)
			return i;
	return -1;
}

/* The option key of the table at arg: the index of its value in names, or dflt when absent. */
static int check_choice(lua_State *L, int arg, const char *key, const char *const *names, int dflt, const char *expected)
{
	const char *value;
	int i;

	lua_getfield(L, arg, key);
	if (lua_isnil(L, -1)) {
		lua_pop(L, 1);
		return dflt;
	}
	value = lua_tostring(L, -1);
	for (i = 0; value != NULL && lua_type(L, -1) == LUA_TSTRING && names[i] != NULL; i++)
		if (strcmp(names[i], value) == 0) {
			lua_pop(L, 1);
			return i;
		}
	return luaL_argerror(L, arg, lua_pushfstring(L, "%s: %s expected, got '%s'", key, expected,
						     value != NULL ? value : luaL_typename(L, -1)));
}

/* Reads the options table at arg into c (raises on a wrong one). */
static void check_options(lua_State *L, int arg, struct pagemap_ctx *c)
{
	static const char *const methods[] = {"auto", "read", "scan", NULL};
	/* enum kpage_filter from KPAGE_ONLY_KSM on: KPAGE_ALL is the default, not a choice. */
	static const char *const filters[] = {"ksm", "swapbacked", "cache", NULL};
	lua_Integer i, n;

	c->pagemap_want = (1u << PAGEMAP_FIELDS) - 1;
	c->kpage_want = 0;
	if (lua_isnoneornil(L, arg))
		return;
	luaL_checktype(L, arg, LUA_TTABLE);
	c->method = (enum method)check_choice(L, arg, "method", methods, METHOD_AUTO, "\"auto\", \"read\" or \"scan\"");
	c->filter = (enum kpage_filter)(check_choice(L, arg, "only", filters, -1, "\"ksm\", \"swapbacked\" or \"cache\"") +
					KPAGE_ONLY_KSM);
	lua_getfield(L, arg, "kpageflags");
	c->kpage = lua_toboolean(L, -1) || c->filter != KPAGE_ALL;
	lua_getfield(L, arg, "kpagecgroup");
	c->cgroup = lua_toboolean(L, -1);
	lua_getfield(L, arg, "idle");
	c->idle = lua_toboolean(L, -1);
	lua_pop(L, 3);
	if (c->kpage)
		c->kpage_want = (UINT64_C(1) << KPAGE_FIELDS) - 1;
	if (lua_getfield(L, arg, "fields") != LUA_TNIL) {
		luaL_argcheck(L, lua_istable(L, -1), arg, "fields: an array of field names expected");
		c->pagemap_want = 0;
		c->kpage_want = 0;
		n = (lua_Integer)lua_rawlen(L, -1);
		for (i = 1; i <= n; i++) {
			const char *name;
			int f;
			lua_rawgeti(L, -1, i);
			name = lua_tostring(L, -1);
			luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, arg, "fields: an array of field names expected");
			if ((f = field_index(pagemap_field_names, PAGEMAP_FIELDS, name)) >= 0)
				c->pagemap_want |= 1u << f;
			else if ((f = kpage_field_index(name)) >= 0)
				c->kpage_want |= UINT64_C(1) << f;
			else
				luaL_argerror(L, arg, lua_pushfstring(L, "fields: no field '%s' in pagemap's tables", name));
			lua_pop(L, 1);
		}
		/* Naming a field of kpageflags asks for them. */
		if (c->kpage_want != 0)
			c->kpage = 1;
	}
	lua_pop(L, 1);
	luaL_argcheck(L, !(c->method == METHOD_SCAN && (c->kpage || c->cgroup || c->idle)), arg,
		      "method \"scan\" gives no page frame numbers: kpageflags, kpagecgroup and idle need \"read\"");
}

/* An address from a Lua integer: full 64 bits, as proc.maps gives them. */
static uint64_t check_address(lua_State *L, int idx, int arg, const char *what)
{
	int isnum;
	lua_Integer v = lua_tointegerx(L, idx, &isnum);

	if (!isnum)
		luaL_argerror(L, arg, lua_pushfstring(L, "%s: an integer address expected", what));
	return (uint64_t)v;
}

/* The range argument at arg: a mapping table (vm_start, vm_end), or {start, stop}. */
static void check_range(lua_State *L, int arg, struct pagemap_ctx *c)
{
	if (lua_isnoneornil(L, arg))
		return;
	luaL_argcheck(L, lua_istable(L, arg), arg, "a mapping or {start, stop} expected");
	c->one_range = 1;
	if (lua_getfield(L, arg, "vm_start") != LUA_TNIL) {
		c->start = check_address(L, -1, arg, "vm_start");
		lua_getfield(L, arg, "vm_end");
		c->end = check_address(L, -1, arg, "vm_end");
		lua_pop(L, 2);
	} else {
		lua_pop(L, 1);
		lua_rawgeti(L, arg, 1);
		lua_rawgeti(L, arg, 2);
		luaL_argcheck(L, !lua_isnil(L, -2) && !lua_isnil(L, -1), arg, "a mapping or {start, stop} expected");
		c->start = check_address(L, -2, arg, "start");
		c->end = check_address(L, -1, arg, "stop");
		lua_pop(L, 2);
	}
	luaL_argcheck(L, c->start < c->end, arg, "start must be below stop (addresses compared unsigned)");
}

/* Widens the range asked for to the pages that hold any byte of it. */
static void round_range(lua_State *L, struct pagemap_ctx *c, uint64_t page_size)
{
	c->start &= ~(page_size - 1);
	c->end = c->end > UINT64_MAX - (page_size - 1) ? ~(page_size - 1) : (c->end + page_size - 1) & ~(page_size - 1);
	luaL_argcheck(L, c->start < c->end, 2, "the range reaches past the last page of the address space");
}

/* ---- the ranges ---- */

/*
 * Room for cap ranges in all. The arrays are bigarrays: 60,000 mappings take 7 MB, which faults
 * in a few huge pages rather than 1,800 small ones.
 */
static int reserve_ranges(struct pagemap_ctx *c, size_t cap)
{
	struct pagemap_range *ranges;
	struct range_text *text;

	if (cap <= c->cap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*ranges))
		return ENOMEM;
	ranges = bigarray_alloc(cap * sizeof(*ranges));
	text = bigarray_alloc(cap * sizeof(*text));
	if (ranges == NULL || text == NULL) {
		bigarray_free(ranges, cap * sizeof(*ranges));
		bigarray_free(text, cap * sizeof(*text));
		return ENOMEM;
	}
	if (c->n > 0) {
		memcpy(ranges, c->ranges, c->n * sizeof(*ranges));
		memcpy(text, c->text, c->n * sizeof(*text));
	}
	bigarray_free(c->ranges, c->cap * sizeof(*c->ranges));
	bigarray_free(c->text, c->cap * sizeof(*c->text));
	c->ranges = ranges;
	c->text = text;
	c->cap = cap;
	return 0;
}

static int add_range(struct pagemap_ctx *c, uint64_t start, uint64_t end, const struct maps_header *h)
{
	int err;

	if (c->n == c->cap && (err = reserve_ranges(c, c->cap ? c->cap * 2 : 64)) != 0)
		return err;
	memset(&c->ranges[c->n], 0, sizeof(c->ranges[c->n]));
	c->ranges[c->n].start = start;
	c->ranges[c->n].end = end;
	memset(&c->text[c->n], 0, sizeof(c->text[c->n]));
	if (h != NULL) {
		c->text[c->n].perms = h->perms;
		c->text[c->n].perms_len = h->perms_len;
		c->text[c->n].path = h->path;
		c->text[c->n].path_len = h->path_len;
	}
	c->n++;
	return 0;
}

/* One range per line of the process's maps. Returns 0, or the results of an error pushed (3). */
static int read_maps_ranges(lua_State *L, struct pagemap_ctx *c, uint64_t page_size)
{
	const char *p, *end;
	long lineno = 0;
	int err;

	source_dir_path(c->dir, "maps", c->maps_path, sizeof(c->maps_path));
	err = source_dir_read(c->dir, "maps", &c->maps);
	if (err != 0)
		return bind_os_error(L, c->dir, "maps", err);
	p = c->maps.data;
	end = p + c->maps.len;
	/* A range per line: the lines are counted first, so the arrays are made once, at their size. */
	{
		size_t lines = 1;
		const char *q = p;
		while (q < end && (q = memchr(q, '\n', (size_t)(end - q))) != NULL) {
			lines++;
			q++;
		}
		if ((err = reserve_ranges(c, lines)) != 0)
			return bind_os_error(L, c->dir, "maps", err);
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct maps_header h;
		const char *reason;

		lineno++;
		reason = maps_parse_header(p, (size_t)(line_end - p), &h);
		if (reason == NULL && ((h.vm_start | h.vm_end) & (page_size - 1)) != 0)
			reason = "a mapping's addresses are not page-aligned";
		if (reason == NULL && h.vm_end <= h.vm_start)
			reason = "a mapping that ends where it starts or before";
		if (reason == NULL && c->n > 0 && h.vm_start < c->ranges[c->n - 1].end)
			reason = "a mapping below or over the one before it";
		if (reason != NULL)
			return bind_format_error(L, c->maps_path, lineno, reason);
		if ((err = add_range(c, h.vm_start, h.vm_end, &h)) != 0)
			return bind_os_error(L, c->dir, "maps", err);
		p = nl ? nl + 1 : end;
	}
	return 0;
}

/* ---- counting ---- */

static unsigned page_shift_of(uint64_t page_size)
{
	return (unsigned)__builtin_ctzll(page_size);
}

/* Opens file beneath dir into *fd; returns 0 or the error results pushed (3). */
static int open_file(lua_State *L, const struct source_dir *dir, const char *file, int flags, int *fd)
{
	int err = source_dir_open_fd(dir, file, flags, fd);

	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return 0;
}

#define PAGE_IDLE_BITMAP "kernel/mm/page_idle/bitmap"

/* The error results of a count that failed with err. */
static int count_error(lua_State *L, struct pagemap_ctx *c, const struct pages_request *req, int err)
{
	struct source_dir *proc_top = source_tree(c->src, SOURCE_PROC);

	switch (req->failed) {
	case PAGES_FILE_KPAGEFLAGS:
		return bind_os_error(L, proc_top, "kpageflags", err);
	case PAGES_FILE_KPAGECOUNT:
		return bind_os_error(L, proc_top, "kpagecount", err);
	case PAGES_FILE_KPAGECGROUP:
		return bind_os_error(L, proc_top, "kpagecgroup", err);
	case PAGES_FILE_IDLE:
		return bind_os_error(L, source_tree(c->src, SOURCE_SYS), PAGE_IDLE_BITMAP, err);
	case PAGES_FILE_PAGEMAP:
		break;
	}
	if (err == EPERM) {
		char path[PATH_MAX];
		source_dir_path(c->dir, "pagemap", path, sizeof(path));
		lua_pushnil(L);
		lua_pushfstring(L, "%s: page frame numbers are hidden (reading them needs CAP_SYS_ADMIN)", path);
		lua_pushinteger(L, EPERM);
		return 3;
	}
	return bind_os_error(L, c->dir, "pagemap", err);
}

/* Which method counts what was asked: PAGEMAP_SCAN cannot tell exclusive pages or give frames. */
static enum method choose_method(const struct pagemap_ctx *c, uint64_t scan_mask)
{
	int needs_read = c->kpage || c->cgroup || c->idle || c->mark ||
			 (c->pagemap_want & (1u << FIELD_EXCLUSIVE)) ||
			 ((c->pagemap_want & (1u << FIELD_GUARD)) && !(scan_mask & PAGEMAP_SCAN_GUARD));

	if (c->method != METHOD_AUTO)
		return c->method;
	return scan_mask != 0 && !needs_read ? METHOD_SCAN : METHOD_READ;
}

/* ---- memory cgroups by inode number ---- */

/* Notes the inodes the ranges' pages belong to, each once (0, no cgroup, left out). */
static int collect_cgroup_inodes(struct pagemap_ctx *c)
{
	struct cgroup_names *names = &c->names;
	size_t r, i, j, cap = 0;

	for (r = 0; r < c->n; r++)
		for (i = 0; i < c->cgroups[r].n; i++) {
			uint64_t inode = c->cgroups[r].inode[i];
			for (j = 0; j < names->n && names->inode[j] != inode; j++)
				;
			if (j < names->n || inode == 0)
				continue;
			if (names->n == cap) {
				size_t grown = cap ? cap * 2 : 8;
				uint64_t *inodes = realloc(names->inode, grown * sizeof(*inodes));
				char **paths;
				if (inodes == NULL)
					return ENOMEM;
				names->inode = inodes;
				paths = realloc(names->path, grown * sizeof(*paths));
				if (paths == NULL)
					return ENOMEM;
				names->path = paths;
				cap = grown;
			}
			names->inode[names->n] = inode;
			names->path[names->n++] = NULL;
		}
	names->unresolved = names->n;
	return 0;
}

struct cgroup_walk {
	const struct source_dir *sys;
	struct cgroup_names *names;
	char rel[PATH_MAX];    /* the directory listed, under /sys */
	size_t root_len;       /* the hierarchy's top in rel */
	int depth;
	int err;
};

/* Names the cgroup at w->rel when it is one the pages belong to. */
static int name_cgroup(struct cgroup_walk *w, uint64_t inode)
{
	size_t i;

	for (i = 0; i < w->names->n; i++)
		if (w->names->inode[i] == inode && w->names->path[i] == NULL) {
			const char *path = w->rel[w->root_len] != '\0' ? w->rel + w->root_len : "/";
			if ((w->names->path[i] = strdup(path)) == NULL)
				return ENOMEM;
			w->names->unresolved--;
		}
	return 0;
}

static int walk_entry(const char *name, void *arg)
{
	struct cgroup_walk *w = arg;
	size_t len = strlen(w->rel);
	uint64_t inode;
	int is_dir, n;

	n = snprintf(w->rel + len, sizeof(w->rel) - len, "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(w->rel) - len || w->depth >= 64) {
		w->rel[len] = '\0';
		return 0; /* deeper than any cgroup tree: not followed */
	}
	if (source_dir_inode(w->sys, w->rel, &inode, &is_dir) == 0 && is_dir) {
		if ((w->err = name_cgroup(w, inode)) == 0 && w->names->unresolved > 0) {
			w->depth++;
			/* A directory gone since it was listed (a cgroup removed) is no error. */
			source_dir_list_dirs(w->sys, w->rel, walk_entry, w);
			w->depth--;
		}
	}
	w->rel[len] = '\0';
	return w->err != 0 || w->names->unresolved == 0;
}

/*
 * Finds the paths of the inodes collected in the memory controller's hierarchy, the one proc.cgroup
 * reads: paths as cgroup.of gives them, relative to the hierarchy's top ("/" for the root).
 */
static int resolve_cgroups(struct pagemap_ctx *c)
{
	struct cgroup_walk w;
	uint64_t inode;
	int is_dir;

	if (c->names.unresolved == 0)
		return 0;
	memset(&w, 0, sizeof(w));
	w.sys = source_tree(c->src, SOURCE_SYS);
	w.names = &c->names;
	if (bind_cgroup_memory_top(c->src, w.rel, sizeof(w.rel)) != 0)
		return 0; /* no hierarchy with the memory controller: the inodes stay without paths */
	w.root_len = strlen(w.rel);
	if (source_dir_inode(w.sys, w.rel, &inode, &is_dir) != 0 || !is_dir)
		return 0;
	if ((w.err = name_cgroup(&w, inode)) != 0 || c->names.unresolved == 0)
		return w.err;
	source_dir_list_dirs(w.sys, w.rel, walk_entry, &w);
	return w.err;
}

static const char *cgroup_path(const struct pagemap_ctx *c, uint64_t inode)
{
	size_t i;

	for (i = 0; i < c->names.n; i++)
		if (c->names.inode[i] == inode)
			return c->names.path[i];
	return NULL;
}

/*
 * The categories a scan asks for: those of the fields wanted. The kernel returns fewer, longer
 * regions for fewer categories, and looks a page's struct page up only for FILE.
 */
static uint64_t scan_categories(const struct pagemap_ctx *c, uint64_t scan_mask)
{
	uint64_t mask = PAGEMAP_SCAN_PRESENT | PAGEMAP_SCAN_SWAPPED;

	if (c->pagemap_want & (1u << FIELD_SOFT_DIRTY))
		mask |= PAGEMAP_SCAN_SOFT_DIRTY;
	if (c->pagemap_want & (1u << FIELD_FILE_OR_SHARED))
		mask |= PAGEMAP_SCAN_FILE;
	if (c->pagemap_want & (1u << FIELD_UFFD_WP))
		mask |= PAGEMAP_SCAN_WRITTEN;
	/* swapped leaves guard regions out: it needs to know them */
	if (c->pagemap_want & ((1u << FIELD_GUARD) | (1u << FIELD_SWAPPED)))
		mask |= PAGEMAP_SCAN_GUARD;
	return mask & scan_mask;
}

/* ---- the tables ---- */

static void set_bytes(lua_State *L, const char *key, uint64_t pages, unsigned shift)
{
	if (pages <= (uint64_t)LUA_MAXINTEGER >> shift)
		lua_pushinteger(L, (lua_Integer)(pages << shift));
	else
		lua_pushnumber(L, (lua_Number)pages * (lua_Number)(UINT64_C(1) << shift));
	lua_setfield(L, -2, key);
}

/* Sets the counts of range r in the table on top. */
static void set_counts(lua_State *L, const struct pagemap_ctx *c, size_t r, enum method method, unsigned shift,
		       uint64_t scan_mask)
{
	const struct pagemap_counts *k = &c->ranges[r].counts;
	uint64_t values[PAGEMAP_FIELDS];
	int f;

	if (c->uncovered[r])
		return; /* pagemap has no entries there: nothing is known */
	values[FIELD_PRESENT] = k->present;
	values[FIELD_SWAPPED] = k->swapped_not_guard;
	values[FIELD_SOFT_DIRTY] = k->soft_dirty;
	values[FIELD_EXCLUSIVE] = k->exclusive;
	values[FIELD_FILE_OR_SHARED] = k->file_or_shared;
	values[FIELD_UFFD_WP] = k->uffd_wp;
	values[FIELD_GUARD] = k->guard;
	for (f = 0; f < PAGEMAP_FIELDS; f++) {
		if (!(c->pagemap_want & (1u << f)))
			continue;
		/* What the scan cannot tell stays nil, never 0. */
		if (method == METHOD_SCAN && (f == FIELD_EXCLUSIVE || (f == FIELD_GUARD && !(scan_mask & PAGEMAP_SCAN_GUARD))))
			continue;
		set_bytes(L, pagemap_field_names[f], values[f], shift);
	}
	if (c->kpage) {
		const struct kpage_totals *t = &c->totals[r];
		for (f = 0; f < KPAGE_FLAGS; f++)
			if (c->kpage_want & (UINT64_C(1) << f))
				set_bytes(L, kpage_flag_name((enum kpage_flag)f), t->flagged[f], shift);
		if (c->kpage_want & (UINT64_C(1) << (KPAGE_FLAGS + SUM_RSS)))
			set_bytes(L, "rss", t->mapped, shift);
		if (c->kpage_want & (UINT64_C(1) << (KPAGE_FLAGS + SUM_USS)))
			set_bytes(L, "uss", t->unique, shift);
		if (c->kpage_want & (UINT64_C(1) << (KPAGE_FLAGS + SUM_PSS))) {
			lua_pushinteger(L, (lua_Integer)(t->pss_fixed >> KPAGE_PSS_SHIFT));
			lua_setfield(L, -2, "pss");
		}
	}
	if (c->cgroup) {
		const struct pages_cgroups *g = &c->cgroups[r];
		size_t i;
		lua_createtable(L, (int)g->n, 0);
		for (i = 0; i < g->n; i++) {
			const char *path = cgroup_path(c, g->inode[i]);
			lua_createtable(L, 0, 3);
			lua_pushinteger(L, (lua_Integer)g->inode[i]);
			lua_setfield(L, -2, "inode");
			if (path != NULL) {
				lua_pushstring(L, path);
				lua_setfield(L, -2, "path");
			}
			set_bytes(L, "bytes", g->pages[i], shift);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		lua_setfield(L, -2, "cgroups");
	}
	if (c->idle)
		set_bytes(L, "idle", c->idle_pages[r], shift);
}

/*
 * How many fields set_counts sets at most: a table made that size holds them without a resize, and
 * no bigger (60,000 tables asked for present alone are half the memory of tables sized for all).
 */
static int counts_fields(const struct pagemap_ctx *c, enum method method, uint64_t scan_mask)
{
	unsigned pagemap_fields = c->pagemap_want;

	if (method == METHOD_SCAN) {
		pagemap_fields &= ~(1u << FIELD_EXCLUSIVE);
		if (!(scan_mask & PAGEMAP_SCAN_GUARD))
			pagemap_fields &= ~(1u << FIELD_GUARD);
	}
	return __builtin_popcount(pagemap_fields) + (c->kpage ? __builtin_popcountll(c->kpage_want) : 0) +
	       (c->cgroup != 0) + (c->idle != 0);
}

/* The table of range r: its place (vm_start, vm_end, size; perms and path from maps) and its counts. */
static void push_range_table(lua_State *L, const struct pagemap_ctx *c, size_t r, enum method method,
			     unsigned shift, uint64_t scan_mask, int counts)
{
	lua_createtable(L, 0, 5 + counts);
	lua_pushinteger(L, (lua_Integer)c->ranges[r].start);
	lua_setfield(L, -2, "vm_start");
	lua_pushinteger(L, (lua_Integer)c->ranges[r].end);
	lua_setfield(L, -2, "vm_end");
	lua_pushinteger(L, (lua_Integer)(c->ranges[r].end - c->ranges[r].start));
	lua_setfield(L, -2, "size");
	if (c->text[r].perms != NULL) {
		lua_pushlstring(L, c->text[r].perms, c->text[r].perms_len);
		lua_setfield(L, -2, "perms");
		lua_pushlstring(L, c->text[r].path, c->text[r].path_len);
		lua_setfield(L, -2, "path");
	}
	set_counts(L, c, r, method, shift, scan_mask);
}

/* ---- proc.pagemap and proc.mark_idle ---- */

static int pagemap_build(lua_State *L, void *arg)
{
	struct pagemap_ctx *c = arg;
	uint64_t page_size = (uint64_t)source_page_size(c->src), scan_mask = 0, marked = 0;
	unsigned shift = page_shift_of(page_size);
	struct source_dir *proc_top = source_tree(c->src, SOURCE_PROC);
	struct pages_request req;
	enum method method;
	int n, err, counts;
	size_t r;

	if ((n = open_file(L, c->dir, "pagemap", O_RDONLY, &c->pagemap_fd)) != 0)
		return n;
	if (c->kpage && ((n = open_file(L, proc_top, "kpageflags", O_RDONLY, &c->kpageflags_fd)) != 0 ||
			 (n = open_file(L, proc_top, "kpagecount", O_RDONLY, &c->kpagecount_fd)) != 0))
		return n;
	if (c->cgroup && (n = open_file(L, proc_top, "kpagecgroup", O_RDONLY, &c->kpagecgroup_fd)) != 0)
		return n;
	if ((c->idle || c->mark) && (n = open_file(L, source_tree(c->src, SOURCE_SYS), PAGE_IDLE_BITMAP,
						    c->mark ? O_WRONLY : O_RDONLY, &c->idle_fd)) != 0)
		return n;
	/* pagemap is open before maps is read: a program run (exec) in between shows as ESRCH below. */
	if (c->one_range)
		err = add_range(c, c->start, c->end, NULL);
	else if ((n = read_maps_ranges(L, c, page_size)) != 0)
		return n;
	else
		err = 0;
	if (err != 0)
		return bind_os_error(L, c->dir, "pagemap", err);
	c->uncovered = calloc(c->n + 1, 1);
	if (c->kpage)
		c->totals = calloc(c->n + 1, sizeof(*c->totals));
	if (c->cgroup)
		c->cgroups = calloc(c->n + 1, sizeof(*c->cgroups));
	if (c->idle)
		c->idle_pages = calloc(c->n + 1, sizeof(*c->idle_pages));
	if (c->uncovered == NULL || (c->kpage && c->totals == NULL) || (c->cgroup && c->cgroups == NULL) ||
	    (c->idle && c->idle_pages == NULL))
		return bind_os_error(L, c->dir, "pagemap", ENOMEM);

	memset(&req, 0, sizeof(req));
	req.pagemap_fd = c->pagemap_fd;
	req.page_shift = shift;
	req.ranges = c->ranges;
	req.nranges = c->n;
	req.uncovered = c->uncovered;
	req.kpageflags_fd = c->kpageflags_fd;
	req.kpagecount_fd = c->kpagecount_fd;
	req.kpagecgroup_fd = c->kpagecgroup_fd;
	req.idle_fd = c->idle_fd;
	req.filter = c->filter;
	req.totals = c->totals;
	req.cgroups = c->cgroups;
	req.idle = c->idle_pages;
	if (c->mark) {
		if ((err = pages_mark_idle(&req, &marked)) != 0)
			return count_error(L, c, &req, err);
		if (marked <= (uint64_t)LUA_MAXINTEGER >> shift)
			lua_pushinteger(L, (lua_Integer)(marked << shift));
		else
			lua_pushnumber(L, (lua_Number)marked * (lua_Number)page_size);
		return 1;
	}
	if (c->method != METHOD_READ)
		scan_mask = pages_scan_mask(c->pagemap_fd);
	method = choose_method(c, scan_mask);
	if (method == METHOD_SCAN && scan_mask == 0)
		return bind_os_error(L, c->dir, "pagemap", ENOTTY); /* "scan" asked of a kernel before 6.7 */
	err = method == METHOD_SCAN ? pages_count_scan(&req, scan_categories(c, scan_mask)) : pages_count_read(&req);
	if (err != 0)
		return count_error(L, c, &req, err);
	if (c->cgroup && ((err = collect_cgroup_inodes(c)) != 0 || (err = resolve_cgroups(c)) != 0))
		return bind_os_error(L, c->dir, "pagemap", err);

	counts = counts_fields(c, method, scan_mask);
	if (c->one_range) {
		push_range_table(L, c, 0, method, shift, scan_mask, counts);
	} else {
		lua_createtable(L, (int)(c->n < INT_MAX ? c->n : INT_MAX), 0);
		for (r = 0; r < c->n; r++) {
			push_range_table(L, c, r, method, shift, scan_mask, counts);
			lua_rawseti(L, -2, (lua_Integer)r + 1);
		}
		bind_set_mapping_list(L);
	}
	lua_pushstring(L, method == METHOD_SCAN ? "scan" : "read");
	return 2;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void pagemap_cleanup(void *arg)
{
	struct pagemap_ctx *c = arg;

	close_fd(&c->pagemap_fd);
	close_fd(&c->kpageflags_fd);
	close_fd(&c->kpagecount_fd);
	close_fd(&c->kpagecgroup_fd);
	close_fd(&c->idle_fd);
	procfile_free(&c->maps);
	pages_cgroups_free(c->cgroups, c->n);
	free(c->cgroups);
	bigarray_free(c->ranges, c->cap * sizeof(*c->ranges));
	bigarray_free(c->text, c->cap * sizeof(*c->text));
	free(c->uncovered);
	free(c->totals);
	free(c->idle_pages);
	for (size_t i = 0; i < c->names.n; i++)
		free(c->names.path[i]);
	free(c->names.inode);
	free(c->names.path);
}

static void ctx_init(struct pagemap_ctx *c)
{
	memset(c, 0, sizeof(*c));
	c->pagemap_fd = c->kpageflags_fd = c->kpagecount_fd = c->kpagecgroup_fd = c->idle_fd = -1;
}

/* Runs a pagemap_ctx on the process at argument 1: live trees only. */
static int run_pagemap(lua_State *L, struct pagemap_ctx *c)
{
	struct source_dir **opened, *dir;
	int n;

	dir = bind_process_dir(L, 1, "pagemap", &opened, &n);
	if (dir == NULL)
		return n;
	/* The source: a handle's, or this proc table's. */
	c->src = source_dir_source(dir);
	if (c->one_range)
		round_range(L, c, (uint64_t)source_page_size(c->src));
	if (source_kind(c->src) != SOURCE_LIVE) {
		char path[PATH_MAX];
		source_dir_path(dir, "pagemap", path, sizeof(path));
		bind_done_process(opened);
		lua_pushnil(L);
		lua_pushfstring(L, "%s: not in a captured tree (pagemap is a view of the running system's memory)", path);
		lua_pushinteger(L, EOPNOTSUPP);
		return 3;
	}
	c->dir = dir;
	n = bind_call_bulk(L, pagemap_build, c, pagemap_cleanup);
	bind_done_process(opened);
	return n;
}

/* proc.pagemap(pid [, mapping or {start, stop} [, options]]) */
static int pages_pagemap(lua_State *L)
{
	struct pagemap_ctx c;

	ctx_init(&c);
	check_range(L, 2, &c);
	check_options(L, 3, &c);
	lua_settop(L, 3);
	return run_pagemap(L, &c);
}

/* proc.mark_idle(pid [, mapping or {start, stop}]): bytes marked idle in the page_idle bitmap. */
static int pages_mark_idle_fn(lua_State *L)
{
	struct pagemap_ctx c;

	ctx_init(&c);
	check_range(L, 2, &c);
	c.mark = 1;
	lua_settop(L, 2);
	return run_pagemap(L, &c);
}

/* ---- proc.clear_refs ---- */

static int write_clear_refs(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	const char *value = arg;
	int fd, err = source_dir_open_fd(dir, file, O_WRONLY, &fd);
	ssize_t n;

	if (err != 0)
		return bind_os_error(L, dir, file, err);
	do
		n = write(fd, value, strlen(value));
	while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : 0;
	close(fd);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * proc.clear_refs(pid, what): writes what (1 to 5) to /proc/PID/clear_refs: 1 clears the
 * referenced and accessed bits of all its pages, 2 of its anonymous pages, 3 of its file pages,
 * 4 its soft-dirty bits, 5 resets its peak resident set size (VmHWM).
 */
static int pages_clear_refs(lua_State *L)
{
	static const char *const values[] = {"", "1", "2", "3", "4", "5"};
	lua_Integer what = luaL_checkinteger(L, 2);

	luaL_argcheck(L, what >= 1 && what <= 5, 2, "1, 2, 3, 4 or 5 expected (proc(5), clear_refs)");
	lua_settop(L, 1);
	return bind_process_file(L, "clear_refs", write_clear_refs, (void *)values[what]);
}

/* ---- proc.numa_maps ---- */

struct numa_ctx {
	const char *path;
	struct procfile file;
};

/* The numa_maps keys whose values count pages (of kernelpagesize_kB): pushed as bytes. */
static int counts_pages(const struct numa_token *t)
{
	static const char *const keys[] = {"active", "anon", "dirty", "mapped", "swapcache", "writeback"};
	size_t i;

	if (t->kind == NUMA_NODE)
		return 1;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (t->key_len == strlen(keys[i]) && memcmp(t->key, keys[i], t->key_len) == 0)
			return 1;
	return 0;
}

static int key_is(const struct numa_token *t, const char *key)
{
	return t->key != NULL && t->key_len == strlen(key) && memcmp(t->key, key, t->key_len) == 0;
}

/* Sets t[key] = value (on top) in the table below it, or returns the duplicate key's error (3). */
static int set_unique(lua_State *L, const char *key, size_t len, const char *path, long lineno)
{
	lua_pushlstring(L, key, len);
	if (lua_rawget(L, -3) != LUA_TNIL)
		return bind_format_error(L, path, lineno, lua_pushfstring(L, "duplicate key '%s'",
									 lua_pushlstring(L, key, len)));
	lua_pop(L, 1);
	lua_pushlstring(L, key, len);
	lua_insert(L, -2);
	lua_rawset(L, -3);
	return 0;
}

/* One line: the mapping's table pushed, or the error results (3). */
static int numa_line_table(lua_State *L, const char *line, size_t len, const char *path, long lineno)
{
	struct numa_line nl, again;
	struct numa_token t, next;
	uint64_t start, kb = 0, unit;
	const char *reason, *p;
	int have_kb = 0, have_pages = 0, n;

	reason = numa_parse_line(line, len, &nl);
	if (reason != NULL)
		return bind_format_error(L, path, lineno, reason);
	p = nl.lead.text;
	if (nl.lead.kind != NUMA_WORD || num_parse_hex(&p, nl.lead.text + nl.lead.text_len, &start) != NUM_OK ||
	    p != nl.lead.text + nl.lead.text_len)
		return bind_format_error(L, path, lineno, "the line does not start with a mapping's address in hex");
	if (nl.ntokens == 0)
		return bind_format_error(L, path, lineno, "no memory policy after the address");
	/* The page size the counts are in is printed last: find it first. */
	again = nl;
	while (numa_next_token(&again, &t)) {
		if (key_is(&t, "kernelpagesize_kB")) {
			if (t.value.kind != VALUE_UINT || t.value.overflowed || t.value.number == 0 ||
			    t.value.number > (UINT64_MAX >> 10))
				return bind_format_error(L, path, lineno, "kernelpagesize_kB is not a page size");
			kb = t.value.number;
			have_kb = 1;
		} else if (t.kind == NUMA_NODE || (t.kind == NUMA_PAIR && counts_pages(&t))) {
			have_pages = 1;
		}
	}
	if (have_pages && !have_kb)
		return bind_format_error(L, path, lineno, "page counts without kernelpagesize_kB");
	unit = kb << 10;

	luaL_checkstack(L, 8, "numa_maps line");
	lua_createtable(L, 0, 8);
	lua_pushinteger(L, (lua_Integer)start);
	lua_setfield(L, -2, "vm_start");
	/* The policy: one token, or two for the names with a space ("prefer (many):0-1"). */
	numa_next_token(&nl, &t);
	lua_pushlstring(L, t.text, t.text_len);
	again = nl;
	if (t.kind == NUMA_WORD && numa_next_token(&again, &next) && next.kind == NUMA_WORD &&
	    ((t.text_len == 6 && memcmp(t.text, "prefer", 6) == 0 && next.text_len >= 6 &&
	      memcmp(next.text, "(many)", 6) == 0) ||
	     (t.text_len == 8 && memcmp(t.text, "weighted", 8) == 0 && next.text_len >= 10 &&
	      memcmp(next.text, "interleave", 10) == 0))) {
		lua_pushliteral(L, " ");
		lua_pushlstring(L, next.text, next.text_len);
		lua_concat(L, 3);
		nl = again;
	}
	lua_setfield(L, -2, "policy");
	while (numa_next_token(&nl, &t)) {
		if (t.kind == NUMA_WORD) {
			/* heap, stack, huge */
			lua_pushboolean(L, 1);
			if ((n = set_unique(L, t.text, t.text_len, path, lineno)) != 0)
				return n;
			continue;
		}
		if (key_is(&t, "file")) {
			lua_pushlstring(L, t.value.text, t.value.text_len);
		} else if (counts_pages(&t)) {
			if (t.value.kind != VALUE_UINT)
				return bind_format_error(L, path, lineno,
							 lua_pushfstring(L, "%s: a count of pages expected",
									 lua_pushlstring(L, t.key, t.key_len)));
			bind_push_scaled(L, t.value.number, t.value.overflowed, t.value.digits, t.value.digits_len, unit);
		} else {
			bind_push_value(L, &t.value);
		}
		if ((n = set_unique(L, t.key, t.key_len, path, lineno)) != 0)
			return n;
	}
	return 0;
}

static int numa_build(lua_State *L, void *arg)
{
	struct numa_ctx *c = arg;
	const char *p = c->file.data, *end = p + c->file.len;
	long lineno = 0;
	lua_Integer i = 0;
	int n;

	lua_newtable(L);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;

		lineno++;
		if ((n = numa_line_table(L, p, (size_t)(line_end - p), c->path, lineno)) != 0)
			return n;
		lua_rawseti(L, -2, ++i);
		p = nl ? nl + 1 : end;
	}
	bind_set_mapping_list(L);
	return 1;
}

static void numa_cleanup(void *arg)
{
	procfile_free(&((struct numa_ctx *)arg)->file);
}

static int read_numa_maps(lua_State *L, const struct source_dir *dir, const char *file, void *arg)
{
	char path[PATH_MAX];
	struct numa_ctx c;
	int err;

	(void)arg;
	source_dir_path(dir, file, path, sizeof(path));
	c.path = path;
	err = bind_process_read(L, 1, dir, file, &c.file);
	if (err != 0)
		return bind_os_error(L, dir, file, err);
	return bind_call(L, numa_build, &c, numa_cleanup);
}

/* proc.numa_maps(pid): /proc/PID/numa_maps, one table per mapping. */
static int pages_numa_maps(lua_State *L)
{
	lua_settop(L, 1);
	return bind_process_file(L, "numa_maps", read_numa_maps, NULL);
}

const luaL_Reg bind_pages_functions[] = {
	{"numa_maps", pages_numa_maps},
	{"pagemap", pages_pagemap},
	{NULL, NULL},
};

const luaL_Reg bind_pages_writers[] = {
	{"clear_refs", pages_clear_refs},
	{"mark_idle", pages_mark_idle_fn},
	{NULL, NULL},
};
