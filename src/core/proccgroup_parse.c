/* proccgroup_parse.c: one line of /proc/PID/cgroup split into its hierarchy ID, controller list and path. */
#include "core/proccgroup_parse.h"

#include <limits.h>
#include <string.h>

const char *proccgroup_parse_line(const char *line, size_t len, struct proccgroup_line *out)
{
	const char *end = line + len, *p = line, *list, *colon;
	unsigned long id = 0;

	if (len == 0)
		return "empty line";
	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in the line";
	/* The ID: "%d" of a hierarchy's number, 0 for the v2 hierarchy. */
	if (p == end || *p < '0' || *p > '9')
		return "the line does not start with a hierarchy ID (ID:controllers:path expected)";
	if (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
		return "hierarchy ID with a leading zero";
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		id = id * 10 + (unsigned long)(*p - '0');
		if (id > INT_MAX)
			return "hierarchy ID out of range";
	}
	if (p == end || *p != ':')
		return "no ':' after the hierarchy ID (ID:controllers:path expected)";
	list = ++p;
	colon = memchr(list, ':', (size_t)(end - list));
	if (colon == NULL)
		return "no ':' after the controller list (ID:controllers:path expected)";
	/* Controller names and "name=NAME": printable words separated by single commas. */
	for (p = list; p < colon; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c == 0x7f)
			return "blank or control character in the controller list";
		if (c == ',' && (p == list || p + 1 == colon || p[1] == ','))
			return "empty name in the controller list";
	}
	p = colon + 1;
	if (p == end)
		return "empty cgroup path";
	if (*p != '/')
		return "the cgroup path does not start with '/'";
	out->hierarchy = (unsigned)id;
	out->controllers = list;
	out->controllers_len = (size_t)(colon - list);
	out->path = p;
	out->path_len = (size_t)(end - p);
	return NULL;
}

int proccgroup_has_controller(const struct proccgroup_line *l, const char *controller)
{
	const char *p = l->controllers, *end = l->controllers + l->controllers_len;
	size_t want = strlen(controller);

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *name_end = comma ? comma : end;
		if ((size_t)(name_end - p) == want && memcmp(p, controller, want) == 0)
			return 1;
		p = comma ? comma + 1 : end;
	}
	return 0;
}
