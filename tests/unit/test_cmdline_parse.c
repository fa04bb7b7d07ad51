/* test_cmdline_parse.c: /proc/PID/cmdline split at NUL bytes: edge cases, a fixture, and this process's own arguments. */
#include <stdlib.h>
#include <string.h>

#include "core/cmdline_parse.h"
#include "unit.h"

static int main_argc;
static char **main_argv;

/* Splits data[0..len) and compares with the expected arguments (want[n] is NULL). */
static void expect_args(const char *name, const char *data, size_t len, const char *const *want)
{
	const char *pos = data, *arg;
	size_t arg_len, n = 0, count = cmdline_count(data, len);

	while (cmdline_next(&pos, data + len, &arg, &arg_len)) {
		if (!CHECK(name, want[n] != NULL))
			return;
		CHECK_TEXT(name, want[n], arg, arg_len);
		CHECK(name, arg >= data && arg + arg_len <= data + len);
		n++;
	}
	CHECK(name, want[n] == NULL);
	CHECK_UINT(name, n, count);
	CHECK(name, pos == data + len);
}

static void test_split(void)
{
	static const char *const three[] = {"vim", "test.go", "+10", NULL};
	static const char *const no_nul[] = {"a", "b", NULL};
	static const char *const empties[] = {"a", "", "b", NULL};
	static const char *const one_empty[] = {"", NULL};
	static const char *const two_empty[] = {"", "", NULL};
	static const char *const none[] = {NULL};
	static const char *const spaces[] = {"sh -c", "echo a b", NULL};

	expect_args("three, each with its NUL", "vim\0test.go\0+10\0", 16, three);
	expect_args("last without NUL", "a\0b", 3, no_nul);
	expect_args("an empty argument", "a\0\0b\0", 5, empties);
	expect_args("one NUL: one empty argument", "\0", 1, one_empty);
	expect_args("two NULs", "\0\0", 2, two_empty);
	expect_args("empty file: none", "", 0, none);
	expect_args("NULL, 0: none", NULL, 0, none);
	expect_args("spaces stay inside arguments", "sh -c\0echo a b\0", 15, spaces);
}

static void test_any_bytes_and_length(void)
{
	static const char *const control[] = {"\x01\n\t\xff", NULL};
	size_t len = 2u << 20;
	char *big = malloc(len);
	const char *pos, *arg;
	size_t arg_len, count;

	expect_args("control bytes kept", "\x01\n\t\xff", 4, control);
	if (!CHECK("allocated", big != NULL))
		return;
	memset(big, 'x', len);
	pos = big;
	CHECK_INT("a 2 MiB argument without NUL", 1, cmdline_next(&pos, big + len, &arg, &arg_len));
	CHECK_UINT("length", len, arg_len);
	memset(big, 0, len);
	count = cmdline_count(big, len);
	CHECK_UINT("2 MiB of NULs: as many empty arguments", len, count);
	free(big);
}

static void test_fixture(void)
{
	static const char *const want[] = {"vim", "test.go", "+10", NULL};
	char path[4096];
	size_t len;
	char *data;

	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", "procfs/proc/26231/cmdline", path, sizeof(path)) == NULL) {
		unit_skip("prometheus/procfs's capture (no ../shared/fixtures)");
		return;
	}
	if (!CHECK("procfs/proc/26231/cmdline", (data = unit_read_file(path, &len)) != NULL))
		return;
	expect_args("fixture 26231", data, len, want);
	free(data);
}

static void test_live_self(void)
{
	size_t len, n = 0, arg_len;
	char *data = unit_read_file("/proc/self/cmdline", &len);
	const char *pos, *arg;

	if (!CHECK("read /proc/self/cmdline", data != NULL))
		return;
	CHECK_UINT("count is argc", (size_t)main_argc, cmdline_count(data, len));
	for (pos = data; cmdline_next(&pos, data + len, &arg, &arg_len); n++)
		if ((int)n < main_argc)
			CHECK_TEXT("argument as in argv", main_argv[n], arg, arg_len);
	free(data);
}

int main(int argc, char **argv)
{
	main_argc = argc;
	main_argv = argv;
	UNIT_RUN(test_split, "split at NUL: a last argument without one, empty arguments, an empty file");
	UNIT_RUN(test_any_bytes_and_length, "every byte kept; 2 MiB arguments");
	UNIT_RUN(test_fixture, "fixture 26231: vim test.go +10");
	UNIT_RUN(test_live_self, "live: this process's arguments are its argv");
	return unit_end();
}
