/* fuzz_maps_parse.c: maps_is_header and maps_parse_header on every line, each in a block of its own size. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "core/maps_parse.h"

static int within(const char *p, size_t n, const char *line, size_t len)
{
	return p >= line && p + n <= line + len;
}

static int is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void check_line(const char *line, size_t len)
{
	struct maps_header h;
	const char *reason;
	int header = maps_is_header(line, len);
	size_t i;

	/* maps_is_header: lowercase hex digits, then '-'. */
	for (i = 0; i < len && is_lower_hex(line[i]); i++)
		;
	FUZZ_CHECK(header == (i > 0 && i < len && line[i] == '-'));

	memset(&h, 0xa5, sizeof(h));
	reason = maps_parse_header(line, len, &h);
	if (reason != NULL) {
		FUZZ_CHECK(reason[0] != '\0');
		return;
	}
	FUZZ_CHECK(h.vm_start <= h.vm_end);
	FUZZ_CHECK(h.perms_len == 4 && within(h.perms, 4, line, len));
	FUZZ_CHECK(memchr(h.perms, ' ', 4) == NULL);
	FUZZ_CHECK(h.dev_len > 0 && within(h.dev, h.dev_len, line, len));
	FUZZ_CHECK(memchr(h.dev, ' ', h.dev_len) == NULL);
	FUZZ_CHECK(h.perms < h.dev);
	/* The pathname is the rest of the line after the inode's padding. */
	FUZZ_CHECK(within(h.path, h.path_len, line, len) && h.path + h.path_len == line + len);
	FUZZ_CHECK(h.dev + h.dev_len < h.path || (h.path_len == 0));
	FUZZ_CHECK(h.path_len == 0 || h.path[0] != ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_each_line(data, size, check_line);
	return 0;
}
