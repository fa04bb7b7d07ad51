/* cmdline_parse.c: splitting /proc/PID/cmdline at its NUL bytes, a last argument without one kept. */
#include "core/cmdline_parse.h"

#include <string.h>

int cmdline_next(const char **pos, const char *end, const char **arg, size_t *arg_len)
{
	const char *p = *pos, *nul;

	if (p >= end)
		return 0;
	nul = memchr(p, '\0', (size_t)(end - p));
	*arg = p;
	*arg_len = (size_t)((nul ? nul : end) - p);
	*pos = nul ? nul + 1 : end;
	return 1;
}

size_t cmdline_count(const char *data, size_t len)
{
	const char *p = data, *end, *nul;
	size_t n = 0;

	if (len == 0)
		return 0;
	end = data + len;
	while (p < end) {
		n++;
		nul = memchr(p, '\0', (size_t)(end - p));
		if (nul == NULL)
			break;
		p = nul + 1;
	}
	return n;
}
