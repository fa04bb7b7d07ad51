/* repl.c: the interactive session: line editing, history and completion (libedit), results pretty-printed. */
#include "host/repl.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <histedit.h>
#include <lauxlib.h>

#include "bind/runtime.h"
#include "host/guard.h"
#include "host/call.h"

/*
 * libedit is loaded when a session on a terminal starts, not linked: of what memscript would load
 * at every start-up, it and the libraries it brings (libtinfo, libbsd, libmd) cost the most, and
 * nothing but this session uses them. Without it a session reads plain lines, as without a terminal.
 */
static struct {
	EditLine *(*el_init)(const char *, FILE *, FILE *, FILE *);
	void (*el_end)(EditLine *);
	const char *(*el_gets)(EditLine *, int *);
	int (*el_get)(EditLine *, int, ...);
	int (*el_set)(EditLine *, int, ...);
	int (*el_wset)(EditLine *, int, ...);
	int (*el_source)(EditLine *, const char *);
	void (*el_resize)(EditLine *);
	const LineInfo *(*el_line)(EditLine *);
	int (*el_insertstr)(EditLine *, const char *);
	History *(*history_init)(void);
	void (*history_end)(History *);
	int (*history)(History *, HistEvent *, int, ...);
} edit;

/* Loads libedit once; returns 0 when it cannot be loaded. */
static int edit_load(void)
{
	static int state; /* 0: not tried, 1: loaded, -1: failed */
	void *h;

	if (state != 0)
		return state > 0;
	state = -1;
	h = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		return 0;
#define EDIT_SYMBOL(name)                                                                             \
	do {                                                                                          \
		*(void **)&edit.name = dlsym(h, #name);                                               \
		if (edit.name == NULL)                                                                \
			return 0;                                                                     \
	} while (0)
	EDIT_SYMBOL(el_init);
	EDIT_SYMBOL(el_end);
	EDIT_SYMBOL(el_gets);
	EDIT_SYMBOL(el_get);
	EDIT_SYMBOL(el_set);
	EDIT_SYMBOL(el_wset);
	EDIT_SYMBOL(el_source);
	EDIT_SYMBOL(el_resize);
	EDIT_SYMBOL(el_line);
	EDIT_SYMBOL(el_insertstr);
	EDIT_SYMBOL(history_init);
	EDIT_SYMBOL(history_end);
	EDIT_SYMBOL(history);
#undef EDIT_SYMBOL
	state = 1;
	return 1;
}

/* From here on the code calls libedit by its own names (EL_HIST takes edit.history itself). */
#define el_init(...) edit.el_init(__VA_ARGS__)
#define el_end(...) edit.el_end(__VA_ARGS__)
#define el_gets(...) edit.el_gets(__VA_ARGS__)
#define el_get(...) edit.el_get(__VA_ARGS__)
#define el_set(...) edit.el_set(__VA_ARGS__)
#define el_wset(...) edit.el_wset(__VA_ARGS__)
#define el_source(...) edit.el_source(__VA_ARGS__)
#define el_resize(...) edit.el_resize(__VA_ARGS__)
#define el_line(...) edit.el_line(__VA_ARGS__)
#define el_insertstr(...) edit.el_insertstr(__VA_ARGS__)
#define history_init(...) edit.history_init(__VA_ARGS__)
#define history_end(...) edit.history_end(__VA_ARGS__)
#define history(...) edit.history(__VA_ARGS__)

#define PROMPT "> "
#define PROMPT_MORE ">> "
#define HISTORY_SIZE 1000
#define CHUNK_NAME "=stdin"

/* What reading a chunk gave. */
enum chunk_status {
	CHUNK_EOF = -1,         /* Ctrl-D at an empty prompt, or end of input */
	CHUNK_INTERRUPTED = -2, /* Ctrl-C at a prompt: the pending input is dropped */
};

struct session {
	lua_State *L;
	EditLine *el;           /* NULL when stdin or stdout is not a terminal: plain reads */
	History *history;       /* NULL when history is not kept */
	char history_path[PATH_MAX];
	const char *prompt;
	int show_ref;           /* memscript.pretty.show in the registry, or LUA_NOREF */
};

/* Set by SIGINT while a prompt waits for input; the read then fails with EINTR. */
static volatile sig_atomic_t prompt_interrupted;

static void on_prompt_sigint(int sig)
{
	(void)sig;
	prompt_interrupted = 1;
}

/* ---- history: $XDG_STATE_HOME/memscript/history, libedit's own file format ---- */

/* mkdir -p for dir (writable copy), each created level private to the user as XDG asks. */
static int make_dirs(char *dir)
{
	char *p;

	for (p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* The history file's path into s->history_path; returns 0, or -1 when there is nowhere to keep it. */
static int history_location(struct session *s)
{
	const char *state = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	char dir[PATH_MAX];
	int n;

	/* The XDG spec says a relative path in the variable is invalid and to be ignored. */
	if (state != NULL && state[0] == '/')
		n = snprintf(dir, sizeof(dir), "%s/memscript", state);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(dir, sizeof(dir), "%s/.local/state/memscript", home);
	else
		return -1;
	if (n < 0 || (size_t)n >= sizeof(dir) || make_dirs(dir) != 0)
		return -1;
	n = snprintf(s->history_path, sizeof(s->history_path), "%s/history", dir);
	return n < 0 || (size_t)n >= sizeof(s->history_path) ? -1 : 0;
}

/*
 * Loads the history; the file grows by one entry per chunk, so when it holds more than the
 * cap it is rewritten with the newest HISTORY_SIZE entries (through a temporary file and rename).
 */
static void history_open(struct session *s)
{
	HistEvent ev;
	int loaded;

	s->history = history_init();
	if (s->history == NULL)
		return;
	history(s->history, &ev, H_SETSIZE, HISTORY_SIZE);
	history(s->history, &ev, H_SETUNIQUE, 1);
	if (history_location(s) != 0) {
		s->history_path[0] = '\0';
		return;
	}
	loaded = history(s->history, &ev, H_LOAD, s->history_path);
	if (loaded > HISTORY_SIZE) {
		char tmp[PATH_MAX + 8];
		snprintf(tmp, sizeof(tmp), "%s.new", s->history_path);
		if (history(s->history, &ev, H_SAVE, tmp) >= 0)
			rename(tmp, s->history_path);
		else
			remove(tmp);
	}
}

/*
 * Appends one entry to the history file in the format H_LOAD reads: the "_HiStOrY_V2_" line
 * first, then one line per entry with spaces, control and non-ASCII bytes as octal escapes and
 * backslashes doubled (strvis's encoding; strunvis decodes it). libedit's H_NSAVE_FP would do
 * this, but the 3.1-20221030 release writes one entry more than asked.
 */
static void history_append_file(const char *path, const char *entry)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600); /* private: it may hold secrets */
	const unsigned char *p;
	struct stat st;
	FILE *f;

	if (fd < 0)
		return;
	f = fdopen(fd, "a");
	if (f == NULL) {
		close(fd);
		return;
	}
	if (fstat(fd, &st) == 0 && st.st_size == 0)
		fputs("_HiStOrY_V2_\n", f);
	for (p = (const unsigned char *)entry; *p != '\0'; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p > ' ' && *p < 0x7f)
			fputc(*p, f);
		else
			fprintf(f, "\\%03o", *p);
	}
	fputc('\n', f);
	fclose(f);
}

/* Adds a chunk to the history and appends it to the file; a repeat of the last entry is skipped. */
static void history_add(struct session *s, const char *chunk)
{
	HistEvent ev;

	if (s->history == NULL || chunk[0] == '\0')
		return;
	if (history(s->history, &ev, H_FIRST) == 0 && strcmp(ev.str, chunk) == 0)
		return;
	history(s->history, &ev, H_ENTER, chunk);
	if (s->history_path[0] != '\0')
		history_append_file(s->history_path, chunk);
}

/* ---- completion: globals, and fields and methods along dotted and colon paths from them ---- */

static const char *const lua_keywords[] = {
	"and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
	"local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while", NULL,
};

static int is_name_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static int is_identifier(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < len; i++) {
		if (!is_name_char((unsigned char)s[i]))
			return 0;
	}
	for (i = 0; lua_keywords[i] != NULL; i++) {
		if (strlen(lua_keywords[i]) == len && memcmp(lua_keywords[i], s, len) == 0)
			return 0;
	}
	return 1;
}

/* The next value to search after the one on top: its metatable's __index when that is a table. */
static int next_in_chain(lua_State *L)
{
	if (!lua_getmetatable(L, -1))
		return 0;
	lua_pushliteral(L, "__index");
	lua_rawget(L, -2);
	lua_remove(L, -2);
	if (lua_type(L, -1) != LUA_TTABLE) {
		lua_pop(L, 1);
		return 0;
	}
	lua_remove(L, -2);
	return 1;
}

/*
 * Replaces the value on top with its field key, found without running any Lua code: a raw get,
 * then the __index tables of the metatables. Leaves nil when there is no such field.
 */
static void raw_field(lua_State *L, const char *key, size_t len)
{
	int hops;

	for (hops = 0; hops < 16; hops++) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			lua_pushlstring(L, key, len);
			lua_rawget(L, -2);
			if (!lua_isnil(L, -1)) {
				lua_remove(L, -2);
				return;
			}
			lua_pop(L, 1);
		}
		if (!next_in_chain(L))
			break;
	}
	lua_pop(L, 1);
	lua_pushnil(L);
}

/* Adds head..key to the set at index set for each name key of the value on top (and its __index chain). */
static void collect_names(lua_State *L, int set, const char *head, const char *prefix, size_t plen,
			  int methods_only)
{
	int hops;

	lua_pushvalue(L, -1);
	for (hops = 0; hops < 16; hops++) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			lua_pushnil(L);
			while (lua_next(L, -2) != 0) {
				size_t len;
				const char *key;
				int wanted = lua_type(L, -2) == LUA_TSTRING;
				if (wanted) {
					key = lua_tolstring(L, -2, &len);
					wanted = len >= plen && memcmp(key, prefix, plen) == 0 && is_identifier(key, len) &&
						 (!methods_only || lua_type(L, -1) == LUA_TFUNCTION);
					if (wanted) {
						lua_pushfstring(L, "%s%s", head, key);
						lua_pushboolean(L, 1);
						lua_rawset(L, set);
					}
				}
				lua_pop(L, 1);
			}
		}
		if (!next_in_chain(L))
			break;
	}
	lua_pop(L, 1);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Called with the word's characters (light userdata) and length: returns the sorted array of its
 * completions ("proc.sm" -> {"proc.smaps", "proc.smaps_rollup"}) and the text Tab inserts. Reads
 * tables raw, so completing never runs user code.
 */
static int completion_candidates(lua_State *L)
{
	size_t len = (size_t)lua_tointeger(L, 2), n = 0, i;
	const char *word = lua_pushlstring(L, lua_touserdata(L, 1), len);
	const char *sep = NULL, *seg, *p;
	const char **names;
	int set;

	for (p = word; *p != '\0'; p++) {
		if (*p == '.' || *p == ':')
			sep = p;
	}
	lua_newtable(L);
	set = lua_gettop(L);
	lua_pushglobaltable(L);
	if (sep == NULL) {
		for (i = 0; lua_keywords[i] != NULL; i++) {
			if (strncmp(lua_keywords[i], word, len) == 0) {
				lua_pushboolean(L, 1);
				lua_setfield(L, set, lua_keywords[i]);
			}
		}
		collect_names(L, set, "", word, len, 0);
	} else if (sep > word) {
		/* walk the path before the last separator from the globals ("a:b.c" finds no field "a:b") */
		for (seg = word; seg < sep; seg = p + 1) {
			for (p = seg; p < sep && *p != '.'; p++)
				;
			raw_field(L, seg, (size_t)(p - seg));
			if (lua_isnil(L, -1))
				break;
		}
		if (!lua_isnil(L, -1)) {
			const char *head = lua_pushlstring(L, word, (size_t)(sep - word + 1));
			lua_insert(L, -2);
			collect_names(L, set, head, sep + 1, strlen(sep + 1), *sep == ':');
			lua_remove(L, -2);
		}
	}
	lua_pop(L, 1);

	lua_pushnil(L);
	while (lua_next(L, set) != 0) {
		lua_pop(L, 1);
		n++;
	}
	names = lua_newuserdatauv(L, (n + 1) * sizeof(*names), 0);
	i = 0;
	lua_pushnil(L);
	while (lua_next(L, set) != 0) {
		lua_pop(L, 1);
		names[i++] = lua_tostring(L, -1); /* kept alive as a key of set */
	}
	qsort(names, n, sizeof(*names), compare_strings);
	lua_createtable(L, (int)n, 0);
	for (i = 0; i < n; i++) {
		lua_pushstring(L, names[i]);
		lua_rawseti(L, -2, (lua_Integer)i + 1);
	}
	/* the longest prefix the candidates share, less the word itself: what Tab inserts */
	if (n > 0) {
		size_t common = strlen(names[0]);
		for (i = 1; i < n; i++) {
			size_t k = 0;
			while (k < common && names[0][k] == names[i][k])
				k++;
			common = k;
		}
		lua_pushlstring(L, names[0] + len, common > len ? common - len : 0);
	} else {
		lua_pushliteral(L, "");
	}
	return 2;
}

static int terminal_columns(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

static int terminal_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0)
		return ws.ws_row;
	return 24;
}

/* Prints the candidates (array on top of the stack) in columns below the line being edited. */
static void list_candidates(lua_State *L, size_t n)
{
	size_t i, widest = 0, per_row, rows, r, c;

	for (i = 1; i <= n; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i);
		if (lua_rawlen(L, -1) > widest)
			widest = lua_rawlen(L, -1);
		lua_pop(L, 1);
	}
	per_row = ((size_t)terminal_columns() - 1) / (widest + 2);
	if (per_row == 0)
		per_row = 1;
	rows = (n + per_row - 1) / per_row;
	fputs("\r\n", stdout);
	for (r = 0; r < rows; r++) {
		for (c = 0; c < per_row && r + c * rows < n; c++) {
			const char *name;
			lua_rawgeti(L, -1, (lua_Integer)(r + c * rows + 1));
			name = lua_tostring(L, -1);
			if (c + 1 < per_row && r + (c + 1) * rows < n)
				printf("%-*s", (int)(widest + 2), name);
			else
				fputs(name, stdout);
			lua_pop(L, 1);
		}
		fputs("\r\n", stdout);
	}
	fflush(stdout);
}

/*
 * Tab: completes the name before the cursor to the longest prefix the candidates share; when
 * that adds nothing and there are several, lists them. All Lua work that can raise (or allocate)
 * happens inside lua_pcall: an error must not leave libedit's terminal state behind.
 */
static unsigned char complete(EditLine *el, int ch)
{
	const LineInfo *line = el_line(el);
	const char *start = line->cursor;
	struct session *s;
	lua_State *L;
	size_t n;
	int top;
	unsigned char result = CC_ERROR;

	(void)ch;
	if (el_get(el, EL_CLIENTDATA, &s) != 0 || s == NULL)
		return CC_ERROR;
	L = s->L;
	while (start > line->buffer &&
	       (is_name_char((unsigned char)start[-1]) || start[-1] == '.' || start[-1] == ':'))
		start--;
	top = lua_gettop(L);
	if (!lua_checkstack(L, 8))
		return CC_ERROR;
	lua_pushcfunction(L, completion_candidates);
	lua_pushlightuserdata(L, (void *)start);
	lua_pushinteger(L, (lua_Integer)(line->cursor - start));
	if (lua_pcall(L, 2, 2, 0) != LUA_OK || !lua_istable(L, -2)) {
		lua_settop(L, top);
		return CC_ERROR;
	}
	n = lua_rawlen(L, -2);
	if (lua_rawlen(L, -1) > 0) {
		result = el_insertstr(el, lua_tostring(L, -1)) == 0 ? CC_REFRESH : CC_ERROR;
	} else if (n > 1) {
		lua_pop(L, 1);
		list_candidates(L, n);
		result = CC_REDISPLAY;
	} else if (n == 1) {
		result = CC_NORM; /* already complete */
	}
	lua_settop(L, top);
	return result;
}

/* ---- reading ---- */

static char *prompt_text(EditLine *el)
{
	struct session *s;

	if (el_get(el, EL_CLIENTDATA, &s) != 0 || s == NULL)
		return (char *)PROMPT;
	return (char *)s->prompt;
}

static void session_open(struct session *s, lua_State *L)
{
	memset(s, 0, sizeof(*s));
	s->L = L;
	s->prompt = PROMPT;
	s->show_ref = LUA_NOREF;
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) || !edit_load())
		return;
	s->el = el_init("memscript", stdin, stdout, stderr);
	if (s->el == NULL)
		return;
	history_open(s);
	el_set(s->el, EL_CLIENTDATA, s);
	el_set(s->el, EL_EDITOR, "emacs");
	el_set(s->el, EL_PROMPT, prompt_text);
	if (s->history != NULL)
		el_set(s->el, EL_HIST, edit.history, s->history);
	/* the wide call: libedit's narrow EL_ADDFN copies the two names and never frees the copies */
	el_wset(s->el, EL_ADDFN, L"memscript-complete", L"complete a Lua name", complete);
	el_set(s->el, EL_BIND, "^I", "memscript-complete", NULL);
	el_source(s->el, NULL); /* ~/.editrc may change any of this */
}

static void session_close(struct session *s)
{
	if (s->el != NULL)
		el_end(s->el);
	if (s->history != NULL)
		history_end(s->history);
	if (s->show_ref != LUA_NOREF)
		luaL_unref(s->L, LUA_REGISTRYINDEX, s->show_ref);
}

/* A line without editing (not a terminal): the prompt as lua.c prints it, then a line of any length. */
static int plain_read(struct session *s, const char *prompt)
{
	luaL_Buffer b;
	char buf[1024];
	int got = 0;

	fputs(prompt, stdout);
	fflush(stdout);
	luaL_buffinit(s->L, &b);
	while (fgets(buf, sizeof(buf), stdin) != NULL) {
		size_t len = strlen(buf);
		got = 1;
		if (len > 0 && buf[len - 1] == '\n') {
			luaL_addlstring(&b, buf, len - 1);
			break;
		}
		luaL_addlstring(&b, buf, len);
	}
	luaL_pushresult(&b);
	if (!got) {
		lua_pop(s->L, 1);
		return CHUNK_EOF;
	}
	return LUA_OK;
}

/*
 * Reads one line and pushes it without its newline. Returns LUA_OK, CHUNK_EOF, or CHUNK_INTERRUPTED
 * when Ctrl-C was pressed at the prompt (the line typed so far is dropped).
 */
static int read_line(struct session *s, const char *prompt)
{
	struct sigaction on_int, saved;
	const char *line;
	int count = 0, err;

	if (s->el == NULL)
		return plain_read(s, prompt);
	s->prompt = prompt;
	/* no SA_RESTART: the signal ends the terminal read with EINTR, and el_gets returns */
	memset(&on_int, 0, sizeof(on_int));
	on_int.sa_handler = on_prompt_sigint;
	sigemptyset(&on_int.sa_mask);
	prompt_interrupted = 0;
	sigaction(SIGINT, &on_int, &saved);
	el_resize(s->el);
	line = el_gets(s->el, &count);
	err = errno;
	sigaction(SIGINT, &saved, NULL);
	if (line == NULL || count <= 0) {
		if (prompt_interrupted || (count < 0 && err == EINTR)) {
			fputs("\n", stdout);
			fflush(stdout);
			return CHUNK_INTERRUPTED;
		}
		return CHUNK_EOF;
	}
	if (count > 0 && line[count - 1] == '\n')
		count--;
	lua_pushlstring(s->L, line, (size_t)count);
	return LUA_OK;
}

/* ---- evaluating (lua.c's design) ---- */

/* A syntax error that ends at <eof> means the chunk is unfinished; pops the message then. */
static int incomplete(lua_State *L, int status)
{
	static const char eof_mark[] = "<eof>";
	const size_t mark = sizeof(eof_mark) - 1;

	if (status == LUA_ERRSYNTAX) {
		size_t len;
		const char *msg = lua_tolstring(L, -1, &len);
		if (msg != NULL && len >= mark && strcmp(msg + len - mark, eof_mark) == 0) {
			lua_pop(L, 1);
			return 1;
		}
	}
	return 0;
}

/* Compiles "return CODE;" for the text at index code; pushes the function, or nothing when it fails. */
static int try_expression(lua_State *L, int code)
{
	const char *text = lua_pushfstring(L, "return %s;", lua_tostring(L, code));
	int status = luaL_loadbuffer(L, text, strlen(text), CHUNK_NAME);

	lua_remove(L, -2); /* the "return" text */
	if (status != LUA_OK)
		lua_pop(L, 1);
	return status;
}

/* The text at index idx gains "\n" and the line on top of the stack. */
static void append_line(lua_State *L, int idx)
{
	lua_pushvalue(L, idx);
	lua_pushliteral(L, "\n");
	lua_pushvalue(L, -3);
	lua_concat(L, 3);
	lua_replace(L, idx);
}

/*
 * Reads a complete chunk and pushes its compiled function, or the syntax error message. An
 * expression line prints its value; "=expr" is "return expr"; a chunk that ends too soon continues
 * on the ">> " prompt. Returns a load status, CHUNK_EOF or CHUNK_INTERRUPTED (nothing pushed then).
 */
static int load_chunk(struct session *s)
{
	lua_State *L = s->L;
	int typed, code, status = read_line(s, PROMPT);

	if (status != LUA_OK)
		return status;
	typed = lua_gettop(L); /* as typed, for the history */
	if (lua_tostring(L, typed)[0] == '=')
		lua_pushfstring(L, "return %s", lua_tostring(L, typed) + 1);
	else
		lua_pushvalue(L, typed);
	code = lua_gettop(L);
	if (try_expression(L, code) == LUA_OK) {
		history_add(s, lua_tostring(L, typed));
		lua_replace(L, typed);
		lua_settop(L, typed);
		return LUA_OK;
	}
	for (;;) {
		size_t len;
		const char *text = lua_tolstring(L, code, &len);
		status = luaL_loadbuffer(L, text, len, CHUNK_NAME);
		if (!incomplete(L, status))
			break;
		status = read_line(s, PROMPT_MORE);
		if (status == CHUNK_INTERRUPTED) {
			lua_settop(L, typed - 1);
			return status;
		}
		if (status == CHUNK_EOF) {
			/* end of input inside a chunk: report why it is incomplete, as lua.c does */
			text = lua_tolstring(L, code, &len);
			status = luaL_loadbuffer(L, text, len, CHUNK_NAME);
			break;
		}
		append_line(L, typed);
		append_line(L, code);
		lua_pop(L, 1);
	}
	history_add(s, lua_tostring(L, typed));
	lua_replace(L, typed);
	lua_settop(L, typed);
	return status;
}

/* The runtime's show, kept in the registry; LUA_NOREF when it could not be loaded. */
static int load_show(lua_State *L)
{
	runtime_push(L, "show");
	return 1;
}

/* Prints the results left on the stack above base through memscript.pretty.show (or print). */
static void print_results(struct session *s, int base)
{
	lua_State *L = s->L;
	int n = lua_gettop(L) - base;
	int status;

	if (n <= 0)
		return;
	if (!lua_checkstack(L, LUA_MINSTACK)) {
		host_message("too many results to print");
		lua_settop(L, base);
		return;
	}
	if (s->show_ref == LUA_NOREF) {
		lua_pushcfunction(L, load_show);
		if (host_docall(L, 0, 1) == LUA_OK && lua_isfunction(L, -1))
			s->show_ref = luaL_ref(L, LUA_REGISTRYINDEX);
		else
			lua_pop(L, 1);
	}
	if (s->show_ref != LUA_NOREF) {
		lua_rawgeti(L, LUA_REGISTRYINDEX, s->show_ref);
		lua_insert(L, base + 1);
		lua_createtable(L, 0, 3);
		if (s->el != NULL) {
			/* a screenful at most; pp(x) prints the rest */
			int rows = terminal_rows() - 2;
			lua_pushinteger(L, rows < 10 ? 10 : rows);
			lua_setfield(L, -2, "lines");
			lua_pushliteral(L, "pp(x) prints all");
			lua_setfield(L, -2, "hint");
		}
		lua_pushinteger(L, terminal_columns());
		lua_setfield(L, -2, "width");
		lua_insert(L, base + 2);
		status = host_docall(L, n + 1, 0);
	} else {
		lua_getglobal(L, "print");
		lua_insert(L, base + 1);
		status = host_docall(L, n, 0);
	}
	host_report(L, status);
}

/* Lua function run once at the start: help and pp for the session, unless already defined. */
static int define_session_globals(lua_State *L)
{
	runtime_push(L, "session_globals");
	lua_call(L, 0, 2);
	if (lua_getglobal(L, "pp") == LUA_TNIL) {
		lua_pushvalue(L, -2);
		lua_setglobal(L, "pp");
	}
	if (lua_getglobal(L, "help") == LUA_TNIL) {
		lua_pushvalue(L, -4);
		lua_setglobal(L, "help");
	}
	return 0;
}

void repl_run(lua_State *L)
{
	struct session s;
	int base = lua_gettop(L);
	int status;

	/* between a chunk's end and the next prompt, Ctrl-C must not end the session */
	guard_catch_idle_interrupts(1);
	lua_pushcfunction(L, define_session_globals);
	host_report(L, host_docall(L, 0, 0));
	session_open(&s, L);
	for (;;) {
		lua_settop(L, base);
		status = load_chunk(&s);
		if (status == CHUNK_EOF)
			break;
		if (status == CHUNK_INTERRUPTED)
			continue;
		if (status == LUA_OK)
			status = host_docall(L, 0, LUA_MULTRET);
		if (status == LUA_OK)
			print_results(&s, base);
		else
			host_report(L, status);
	}
	lua_settop(L, base);
	session_close(&s);
	fputs("\n", stdout);
	fflush(stdout);
}
