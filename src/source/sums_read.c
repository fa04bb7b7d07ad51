/* sums_read.c: a stream of smaps lines handed to the sums a span of many lines at a time. */
#include "source/sums_read.h"

#include <stdio.h>

#include "core/smaps_sums.h"
#include "source/linestream.h"

int sums_read(struct linestream *stream, struct smaps_sums *s, long *lineno, int (*stop)(void *), void *arg)
{
	const char *span, *reason;
	size_t len;
	int got, added;

	*lineno = 0;
	while ((got = linestream_next_span(stream, &span, &len)) > 0) {
		if (stop != NULL && stop(arg))
			return SUMS_READ_STOPPED;
		added = smaps_sums_span(s, span, len, lineno, &reason);
		if (added == -1) {
			if (reason != s->reason) /* a static reason: kept where the sums keep theirs */
				snprintf(s->reason, sizeof(s->reason), "%s", reason);
			return -1;
		}
		if (added != 0)
			return added;
	}
	return -got;
}
