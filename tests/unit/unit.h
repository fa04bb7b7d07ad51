/* unit.h: the C unit tests' named checks; a failure prints file:line, the check's name, expected and actual. */
#ifndef MEMSCRIPT_UNIT_H
#define MEMSCRIPT_UNIT_H

/*
 * A test program is a list of tests, each a function run by UNIT_RUN(function, "the behaviour it
 * pins"). Inside, every check has a name and returns 1 when it holds, so a test can stop where
 * going on makes no sense:   if (!CHECK_REASON("accepted", NULL, reason)) return;
 * A test that cannot run here (a file this kernel lacks, a fixture folder absent) calls
 * unit_skip("why") and returns; it is reported as "skip", never as passed.
 *
 * Output, one line per test: "ok   NAME", "FAIL NAME" (after the failed checks' lines) or
 * "skip NAME: WHY"; then "N tests: P passed, F failed, S skipped". unit_end() gives the exit
 * status: 1 when a check failed, 77 when every test was skipped (CTest's SKIP_RETURN_CODE, so the
 * program shows as "Skipped"), else 0 (a program with some tests skipped still lists each of them
 * as "skip" in its output).
 */

/* UNIT_SANITIZED: 1 in the AddressSanitizer build, where memscript's own allocators step aside. */
#if defined(__SANITIZE_ADDRESS__)
#define UNIT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNIT_SANITIZED 1
#endif
#endif
#ifndef UNIT_SANITIZED
#define UNIT_SANITIZED 0
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct unit_state {
	int checks_failed; /* in the current test */
	int skipped;       /* the current test called unit_skip */
	const char *skip_reason;
	int tests_passed, tests_failed, tests_skipped;
};

static struct unit_state unit;

/* Prints s[0..len) quoted, bytes other than printable ASCII as C escapes, long texts cut. */
static inline void unit_print_text(const char *s, size_t len)
{
	size_t i, shown = len > 160 ? 160 : len;

	if (s == NULL) {
		fputs("NULL", stderr);
		return;
	}
	fputc('"', stderr);
	for (i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(stderr, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", stderr);
		else if (c == '\t')
			fputs("\\t", stderr);
		else if (c == '\r')
			fputs("\\r", stderr);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(stderr, "\\x%02x", c);
		else
			fputc(c, stderr);
	}
	fputc('"', stderr);
	if (shown < len)
		fprintf(stderr, "... (%zu bytes)", len);
}

static inline int unit_fail_begin(const char *file, int line, const char *name)
{
	unit.checks_failed++;
	fprintf(stderr, "%s:%d: check failed: %s\n", file, line, name);
	return 0;
}

static inline int unit_check(const char *file, int line, const char *name, int ok, const char *cond)
{
	if (ok)
		return 1;
	unit_fail_begin(file, line, name);
	fprintf(stderr, "    expected true: %s\n", cond);
	return 0;
}

static inline int unit_check_uint(const char *file, int line, const char *name, uint64_t expected,
				  uint64_t actual)
{
	if (expected == actual)
		return 1;
	unit_fail_begin(file, line, name);
	fprintf(stderr, "    expected %" PRIu64 " (0x%" PRIx64 ")\n    actual   %" PRIu64 " (0x%" PRIx64 ")\n",
		expected, expected, actual, actual);
	return 0;
}

static inline int unit_check_int(const char *file, int line, const char *name, long long expected,
				 long long actual)
{
	if (expected == actual)
		return 1;
	unit_fail_begin(file, line, name);
	fprintf(stderr, "    expected %lld\n    actual   %lld\n", expected, actual);
	return 0;
}

/* actual[0..actual_len) equals the C string expected (actual NULL only when expected is NULL). */
static inline int unit_check_text(const char *file, int line, const char *name, const char *expected,
				  const char *actual, size_t actual_len)
{
	if (expected == NULL ? actual == NULL
			     : actual != NULL && strlen(expected) == actual_len &&
				       memcmp(expected, actual, actual_len) == 0)
		return 1;
	unit_fail_begin(file, line, name);
	fputs("    expected ", stderr);
	unit_print_text(expected, expected ? strlen(expected) : 0);
	fputs("\n    actual   ", stderr);
	unit_print_text(actual, actual_len);
	fputc('\n', stderr);
	return 0;
}

/* A parser's result: NULL (accepted) or a reason equal to expected. */
static inline int unit_check_reason(const char *file, int line, const char *name, const char *expected,
				    const char *actual)
{
	return unit_check_text(file, line, name, expected, actual, actual ? strlen(actual) : 0);
}

#define CHECK(name, cond) unit_check(__FILE__, __LINE__, (name), (cond) ? 1 : 0, #cond)
#define CHECK_UINT(name, expected, actual) \
	unit_check_uint(__FILE__, __LINE__, (name), (uint64_t)(expected), (uint64_t)(actual))
#define CHECK_INT(name, expected, actual) \
	unit_check_int(__FILE__, __LINE__, (name), (long long)(expected), (long long)(actual))
#define CHECK_TEXT(name, expected, actual, actual_len) \
	unit_check_text(__FILE__, __LINE__, (name), (expected), (actual), (actual_len))
#define CHECK_REASON(name, expected, actual) \
	unit_check_reason(__FILE__, __LINE__, (name), (expected), (actual))

/* Marks the running test skipped; the test returns after calling it. */
static inline void unit_skip(const char *reason)
{
	unit.skipped = 1;
	unit.skip_reason = reason;
}

static inline void unit_run(void (*test)(void), const char *name)
{
	unit.checks_failed = 0;
	unit.skipped = 0;
	unit.skip_reason = NULL;
	test();
	if (unit.checks_failed > 0) {
		unit.tests_failed++;
		printf("FAIL %s\n", name);
	} else if (unit.skipped) {
		unit.tests_skipped++;
		printf("skip %s: %s\n", name, unit.skip_reason);
	} else {
		unit.tests_passed++;
		printf("ok   %s\n", name);
	}
	fflush(stdout);
	fflush(stderr);
}

#define UNIT_RUN(test, name) unit_run((test), (name))

static inline int unit_end(void)
{
	int total = unit.tests_passed + unit.tests_failed + unit.tests_skipped;

	printf("%d tests: %d passed, %d failed, %d skipped\n", total, unit.tests_passed,
	       unit.tests_failed, unit.tests_skipped);
	if (unit.tests_failed > 0)
		return 1;
	if (unit.tests_passed == 0 && unit.tests_skipped > 0)
		return 77;
	return 0;
}

/* ---- files ---- */

/*
 * Reads path whole into a malloc'ed buffer NUL-terminated at *len (the caller frees it). Returns
 * NULL with errno set when the file cannot be opened or read.
 */
static inline char *unit_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (buf == NULL || fd < 0) {
		int err = errno;
		free(buf);
		if (fd >= 0)
			close(fd);
		errno = err;
		return NULL;
	}
	for (;;) {
		ssize_t got;
		if (cap - n < 2) {
			char *grown = realloc(buf, cap * 2);
			if (grown == NULL) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
			cap *= 2;
		}
		got = read(fd, buf + n, cap - n - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			int err = errno;
			free(buf);
			close(fd);
			errno = err;
			return NULL;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * Reads path into buf[0..size - 1), NUL-terminated, without allocating: for reading a process's
 * own maps or statm twice with nothing in between that maps or touches memory (the buffer should
 * have been written once before). Returns 1 and *len, or 0 when the file cannot be read or does
 * not fit.
 */
static inline int unit_read_into(const char *path, char *buf, size_t size, size_t *len)
{
	size_t n = 0;
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	while (n < size - 1) {
		got = read(fd, buf + n, size - 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		n += (size_t)got;
	}
	close(fd);
	if (got < 0 || n == size - 1)
		return 0;
	buf[n] = '\0';
	*len = n;
	return 1;
}

/*
 * The path of a file under the folder named by the environment variable var (set by CMake:
 * MEMSCRIPT_SHARED_FIXTURES for ../shared/fixtures, MEMSCRIPT_FIXTURES for tests/fixtures),
 * written to buf; NULL when var is unset or the file is absent.
 */
static inline const char *unit_fixture_path(const char *var, const char *relpath, char *buf, size_t size)
{
	const char *dir = getenv(var);
	int n;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	n = snprintf(buf, size, "%s/%s", dir, relpath);
	if (n < 0 || (size_t)n >= size || access(buf, R_OK) != 0)
		return NULL;
	return buf;
}

/*
 * Calls line_fn(line, len, arg) for each line of data[0..len) (split at '\n'; a last line without
 * one included; no line after a final '\n'), each in a malloc'ed block of its exact size so
 * AddressSanitizer sees a parser that reads past the end. Returns the number of lines.
 */
static inline long unit_each_line(const char *data, size_t len,
				  void (*line_fn)(const char *line, size_t line_len, long lineno, void *arg),
				  void *arg)
{
	const char *p = data, *end = data + len;
	long lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t line_len = (size_t)((nl ? nl : end) - p);
		char *copy = malloc(line_len ? line_len : 1);
		if (copy == NULL)
			abort();
		memcpy(copy, p, line_len);
		line_fn(copy, line_len, ++lineno, arg);
		free(copy);
		p = nl ? nl + 1 : end;
	}
	return lineno;
}

#endif
