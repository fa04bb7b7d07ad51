/* pidstat_parse.h: /proc/PID/stat (proc(5)): "pid (comm) state ppid ...", one line. */
#ifndef MEMSCRIPT_PIDSTAT_PARSE_H
#define MEMSCRIPT_PIDSTAT_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Fields 3 to 52 of proc(5), from state to exit_code. */
#define PIDSTAT_FIELDS 50

/* proc(5)'s names of fields 3 on, in the order printed: pidstat_field_names[0] is "state". */
extern const char *const pidstat_field_names[PIDSTAT_FIELDS];

struct pidstat_field {
	const char *text;    /* the field as printed ("S", "-1", "18446744073709551615") */
	size_t text_len;
	/* The numbers (every field but state, which is text; all 0 for state): */
	int negative;        /* printed with a '-' ("-1" as tty_nr or cutime may be) */
	uint64_t magnitude;  /* the digits' value; UINT64_MAX when overflowed */
	int overflowed;      /* the digits (text, without the '-') did not fit 64 bits */
};

struct pidstat {
	uint64_t pid;
	const char *pid_digits;   /* the pid as printed */
	size_t pid_len;
	const char *comm;         /* between the first '(' and the last ')': spaces, parentheses and
	                             newlines included, as the process set it */
	size_t comm_len;
	size_t nfields;           /* fields[0..nfields) were printed: fewer than PIDSTAT_FIELDS from
	                             an older kernel; text past the last known field is ignored */
	struct pidstat_field fields[PIDSTAT_FIELDS];
	/* When a reason is returned: */
	long error_line;          /* the line the reason is about (1, or after a comm with newlines) */
	const char *error_field;  /* the field's name, or NULL when the reason names none */
};

/*
 * Parses the whole file data[0..len) (data may be NULL when len is 0) into *stat; pointers point
 * into data and nothing is allocated. comm ends at the last ')' of the file (a process may put
 * ')' and newlines in its name); the line ends at the first newline after it, and anything after
 * that newline is an error. Returns NULL, or a static reason with error_line and error_field set;
 * the message the `proc` module shows is "PATH:LINE: FIELD: REASON", or "PATH:LINE: REASON" when
 * error_field is NULL. The reasons: "comm in parentheses expected after the pid", "unexpected text
 * after the first line", "pid expected" (no digits before the '(' or more than 64 bits), and per
 * field "space expected before the field" and (past state) "decimal number expected".
 */
const char *pidstat_parse(const char *data, size_t len, struct pidstat *stat);

#endif
