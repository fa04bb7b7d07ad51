/* capture.c: the capture format's one home: its layout and its metadata file. */
#include "source/capture.h"

#include <stdint.h>
#include <string.h>

#include "core/keyval_parse.h"
#include "source/source.h"

void capture_page_size(const struct source_dir *proc_top, long *page_size)
{
	struct procfile f;
	const char *p, *end;

	if (source_dir_read(proc_top, CAPTURE_META, &f) != 0)
		return;
	for (p = f.data, end = f.data + f.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl != NULL ? nl : end;
		struct kv_field field;
		if (kv_parse_line(p, (size_t)(line_end - p), &field) == NULL && field.key_len == 9 &&
		    memcmp(field.key, "page_size", 9) == 0 && field.kind == KV_INT && !field.overflowed &&
		    field.number > 0 && field.number <= (uint64_t)1 << 30)
			*page_size = (long)field.number;
		p = nl != NULL ? nl + 1 : end;
	}
	procfile_free(&f);
}
