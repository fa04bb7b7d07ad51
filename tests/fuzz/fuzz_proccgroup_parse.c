/* fuzz_proccgroup_parse.c: proccgroup_parse_line on every line, each in a block of its own size, against a reference. */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/proccgroup_parse.h"

/*
 * The line split by the rules, worked out independently: a decimal ID without leading zero up to
 * INT_MAX, ':', a list of printable words joined by single commas (or nothing), ':', then '/' and
 * anything but NUL. Returns 1 and the parts when accepted.
 */
static int reference_split(const char *line, size_t len, long *id, size_t *list_start, size_t *list_len,
			   size_t *path_start)
{
	size_t i = 0, j;
	long long value = 0;

	if (len == 0 || memchr(line, '\0', len) != NULL)
		return 0;
	while (i < len && line[i] >= '0' && line[i] <= '9') {
		value = value * 10 + (line[i] - '0');
		if (value > INT_MAX)
			return 0;
		i++;
	}
	if (i == 0 || (i > 1 && line[0] == '0') || i == len || line[i] != ':')
		return 0;
	*id = (long)value;
	*list_start = ++i;
	for (j = i; j < len && line[j] != ':'; j++) {
		unsigned char c = (unsigned char)line[j];
		if (c <= ' ' || c == 0x7f)
			return 0;
		if (c == ',' && (j == i || j + 1 == len || line[j + 1] == ',' || line[j + 1] == ':'))
			return 0;
	}
	if (j == len)
		return 0;
	*list_len = j - i;
	*path_start = j + 1;
	return *path_start < len && line[*path_start] == '/';
}

/* Whether the list names word, by splitting it at commas the simple way. */
static int reference_has(const char *list, size_t len, const char *word)
{
	size_t start = 0, i, n = strlen(word);

	for (i = 0; i <= len; i++) {
		if (i < len && list[i] != ',')
			continue;
		if (i - start == n && memcmp(list + start, word, n) == 0)
			return 1;
		start = i + 1;
	}
	return 0;
}

static void check_line(const char *line, size_t len)
{
	struct proccgroup_line l, again;
	size_t list_start = 0, list_len = 0, path_start = 0;
	long id = -1;
	int accept = reference_split(line, len, &id, &list_start, &list_len, &path_start);
	const char *reason;
	static const char *const words[] = {"memory", "cpu", "name=systemd"};
	size_t w;

	memset(&l, 0, sizeof(l));
	reason = proccgroup_parse_line(line, len, &l);
	FUZZ_CHECK((reason == NULL) == accept);
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}
	FUZZ_CHECK((long)l.hierarchy == id);
	FUZZ_CHECK(l.controllers == line + list_start && l.controllers_len == list_len);
	FUZZ_CHECK(l.path == line + path_start && l.path_len == len - path_start);
	FUZZ_CHECK(l.path[0] == '/');
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		FUZZ_CHECK(proccgroup_has_controller(&l, words[w]) == reference_has(l.controllers, l.controllers_len, words[w]));
	/* Accepted once, accepted again the same. */
	memset(&again, 0, sizeof(again));
	FUZZ_CHECK(proccgroup_parse_line(line, len, &again) == NULL);
	FUZZ_CHECK(again.hierarchy == l.hierarchy && again.controllers == l.controllers && again.path == l.path &&
		   again.path_len == l.path_len && again.controllers_len == l.controllers_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
