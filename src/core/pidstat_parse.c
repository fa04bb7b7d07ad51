/* pidstat_parse.c: /proc/PID/stat split into pid, comm and the proc(5) fields, numbers with their sign. */
#include "core/pidstat_parse.h"

#include <string.h>

#include "core/numparse.h"

/* proc(5) names of /proc/PID/stat fields 3 on (after "pid (comm)"). */
const char *const pidstat_field_names[PIDSTAT_FIELDS] = {
	"state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt", "cminflt",
	"majflt", "cmajflt", "utime", "stime", "cutime", "cstime", "priority", "nice",
	"num_threads", "itrealvalue", "starttime", "vsize", "rss", "rsslim", "startcode",
	"endcode", "startstack", "kstkesp", "kstkeip", "signal", "blocked", "sigignore",
	"sigcatch", "wchan", "nswap", "cnswap", "exit_signal", "processor", "rt_priority",
	"policy", "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data",
	"end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code",
};

static const char *fail(struct pidstat *stat, long line, const char *field, const char *reason)
{
	stat->error_line = line;
	stat->error_field = field;
	return reason;
}

const char *pidstat_parse(const char *data, size_t len, struct pidstat *stat)
{
	const char *p = data, *end, *open_paren, *close_paren = NULL, *newline, *q;
	size_t i;

	stat->nfields = 0;
	stat->error_line = 0;
	stat->error_field = NULL;
	if (len == 0)
		return fail(stat, 1, NULL, "comm in parentheses expected after the pid");
	end = data + len;
	open_paren = memchr(p, '(', len);
	/*
	 * comm is printed as the process set it: spaces, parentheses and newlines included. It ends
	 * at the last ')'; the one line the kernel prints ends at the first newline after that.
	 */
	for (q = end; q > p; q--) {
		if (q[-1] == ')') {
			close_paren = q - 1;
			break;
		}
	}
	if (open_paren == NULL || close_paren == NULL || close_paren < open_paren)
		return fail(stat, 1, NULL, "comm in parentheses expected after the pid");
	newline = memchr(close_paren, '\n', (size_t)(end - close_paren));
	if (newline != NULL) {
		if (newline + 1 < end) {
			long line = 2;
			for (q = p; q < newline; q++)
				line += *q == '\n';
			return fail(stat, line, NULL, "unexpected text after the first line");
		}
		end = newline;
	}
	stat->pid_digits = p;
	if (num_parse_dec(&p, open_paren, &stat->pid) != NUM_OK)
		return fail(stat, 1, NULL, "pid expected");
	stat->pid_len = (size_t)(p - stat->pid_digits);
	stat->comm = open_paren + 1;
	stat->comm_len = (size_t)(close_paren - open_paren - 1);

	p = close_paren + 1;
	for (i = 0; i < PIDSTAT_FIELDS && p < end; i++) {
		struct pidstat_field *f = &stat->fields[i];
		const char *field;
		if (*p != ' ')
			return fail(stat, 1, pidstat_field_names[i], "space expected before the field");
		p++;
		field = p;
		while (p < end && *p != ' ')
			p++;
		f->text = field;
		f->text_len = (size_t)(p - field);
		f->negative = 0;
		f->magnitude = 0;
		f->overflowed = 0;
		if (i > 0) {
			const char *num;
			enum num_status st;
			f->negative = field < p && *field == '-';
			num = field + f->negative;
			st = num_parse_dec(&num, p, &f->magnitude);
			if (st == NUM_NONE || num != p)
				return fail(stat, 1, pidstat_field_names[i], "decimal number expected");
			f->overflowed = st == NUM_OVERFLOW;
		}
		stat->nfields = i + 1;
	}
	return NULL;
}
