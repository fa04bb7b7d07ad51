/* statm_parse.c: the seven page counts of /proc/PID/statm, overflow kept with the digits. */
#include "core/statm_parse.h"

#include "core/numparse.h"

/* proc(5): size resident shared text lib data dt, in pages */
const char *const statm_field_names[STATM_FIELDS] = {
	"size", "resident", "shared", "text", "lib", "data", "dt",
};

const char *statm_parse(const char *data, size_t len, struct statm *statm)
{
	const char *p = data, *end;
	size_t i;

	statm->error_field = NULL;
	if (len == 0) {
		statm->error_field = statm_field_names[0];
		return "decimal number of pages expected";
	}
	end = data + len;
	if (end > p && end[-1] == '\n')
		end--;
	for (i = 0; i < STATM_FIELDS; i++) {
		struct statm_field *f = &statm->fields[i];
		enum num_status st;
		if (i > 0) {
			if (p >= end || *p != ' ') {
				statm->error_field = statm_field_names[i];
				return "space expected before the field";
			}
			p++;
		}
		f->digits = p;
		st = num_parse_dec(&p, end, &f->pages);
		if (st == NUM_NONE) {
			statm->error_field = statm_field_names[i];
			return "decimal number of pages expected";
		}
		f->overflowed = st == NUM_OVERFLOW;
		f->digits_len = (size_t)(p - f->digits);
	}
	if (p != end)
		return "unexpected text after the seventh field";
	return NULL;
}
