/* ptydrive: runs a command on a pseudo-terminal and drives it from a script, for the interactive tests. */

/*
 * usage: ptydrive [-t SECONDS] [-s COLSxROWS] [-r] -- COMMAND [ARGS...]
 *
 * The script comes on standard input, one step a line:
 *   send TEXT     types TEXT (escapes: \r \n \t \e \\ \xHH; \x03 is Ctrl-C, \x04 Ctrl-D)
 *   expect TEXT   waits until TEXT appears in the output after the end of the previous match
 *   raw           waits until the terminal is out of canonical mode: the command is reading keys one
 *                 by one, as a line editor does once it waits for input (libedit prints its prompt
 *                 before it switches, so keys sent right after the prompt could be echoed twice)
 *   wait          waits for the command to exit
 *   # ...         a comment; blank lines are skipped
 * Everything the command writes is copied to standard output with carriage returns removed (the
 * terminal turns "\n" into "\r\n"); expect matches against that same text. With -r every byte is
 * kept as the terminal gave it, carriage returns included, for tests of what reaches a terminal.
 *
 * Exit status: the command's (128 + N when killed by signal N) after `wait`; 0 when the script ends
 * without `wait` (the command is then hung up on and killed); 124 when an expect or wait times out
 * (default 10 s each), 125 when the command ended before the expected text; 126 on a driver failure.
 * A failure is explained on standard error.
 */

#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_TIMEOUT = 124, EXIT_ENDED = 125, EXIT_DRIVER = 126 };

struct drive {
	int master;
	pid_t child;
	int eof;             /* the command closed its side of the terminal */
	int reaped;
	int status;          /* wait status once reaped */
	char *out;           /* all output so far, carriage returns removed, NUL-terminated */
	size_t len, cap;
	size_t mark;         /* where the next expect starts searching */
	double timeout;
	int keep_cr;         /* -r: the transcript keeps carriage returns */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "ptydrive: %s: %s\n", what, strerror(errno));
	exit(EXIT_DRIVER);
}

static void append_output(struct drive *d, const char *buf, size_t n)
{
	size_t i;

	if (d->len + n + 1 > d->cap) {
		d->cap = (d->len + n + 1) * 2;
		d->out = realloc(d->out, d->cap);
		if (d->out == NULL)
			die("realloc");
	}
	for (i = 0; i < n; i++) {
		if (buf[i] != '\r' || d->keep_cr)
			d->out[d->len++] = buf[i];
	}
	d->out[d->len] = '\0';
}

/* Reads what the command wrote, waiting up to ms milliseconds for it; copies it to stdout. */
static void pump(struct drive *d, int ms)
{
	struct pollfd p = { .fd = d->master, .events = POLLIN };
	char buf[4096];
	ssize_t n;
	size_t before = d->len;

	if (d->eof)
		return;
	if (poll(&p, 1, ms) <= 0)
		return;
	n = read(d->master, buf, sizeof(buf));
	if (n > 0) {
		append_output(d, buf, (size_t)n);
		fwrite(d->out + before, 1, d->len - before, stdout);
		fflush(stdout);
	} else if (n == 0 || errno != EINTR) {
		d->eof = 1; /* EIO: no process has the terminal open any more */
	}
}

static int try_reap(struct drive *d)
{
	if (!d->reaped && waitpid(d->child, &d->status, WNOHANG) == d->child)
		d->reaped = 1;
	return d->reaped;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return EXIT_DRIVER;
}

static void kill_child(struct drive *d)
{
	if (!d->reaped) {
		kill(d->child, SIGKILL);
		waitpid(d->child, &d->status, 0);
		d->reaped = 1;
	}
}

/* Decodes the escapes of a script line in place; returns the decoded length. */
static size_t unescape(char *s)
{
	char *r = s, *w = s;

	while (*r != '\0') {
		if (*r != '\\' || r[1] == '\0') {
			*w++ = *r++;
			continue;
		}
		r++;
		switch (*r) {
		case 'r': *w++ = '\r'; r++; break;
		case 'n': *w++ = '\n'; r++; break;
		case 't': *w++ = '\t'; r++; break;
		case 'e': *w++ = '\033'; r++; break;
		case 'x': {
			char hex[3] = { r[1], r[1] ? r[2] : '\0', '\0' };
			*w++ = (char)strtol(hex, NULL, 16);
			r += 1 + strlen(hex);
			break;
		}
		default: *w++ = *r++; break;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void fail(struct drive *d, int code, const char *what, const char *text)
{
	fflush(stdout);
	fprintf(stderr, "\nptydrive: %s \"%s\"\n", what, text);
	kill_child(d);
	exit(code);
}

static void step_expect(struct drive *d, const char *text)
{
	double deadline = now() + d->timeout;

	for (;;) {
		char *hit = strstr(d->out + d->mark, text);
		if (hit != NULL) {
			d->mark = (size_t)(hit - d->out) + strlen(text);
			return;
		}
		if (d->eof)
			fail(d, EXIT_ENDED, "the command ended before printing", text);
		if (now() > deadline)
			fail(d, EXIT_TIMEOUT, "timed out waiting for", text);
		pump(d, 50);
	}
}

static void step_send(struct drive *d, const char *text, size_t len)
{
	while (len > 0) {
		ssize_t n = write(d->master, text, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("write to the terminal");
		}
		text += n;
		len -= (size_t)n;
	}
}

static void step_raw(struct drive *d)
{
	double deadline = now() + d->timeout;
	struct termios t;

	for (;;) {
		/* on Linux the master reports the terminal's settings, which the command sets on its side */
		if (tcgetattr(d->master, &t) != 0)
			die("tcgetattr");
		if (!(t.c_lflag & ICANON))
			return;
		if (d->eof)
			fail(d, EXIT_ENDED, "the command ended before reading keys", "");
		if (now() > deadline)
			fail(d, EXIT_TIMEOUT, "timed out waiting for the terminal to leave canonical mode", "");
		pump(d, 5);
	}
}

static void step_wait(struct drive *d)
{
	double deadline = now() + d->timeout;

	while (!try_reap(d)) {
		if (now() > deadline)
			fail(d, EXIT_TIMEOUT, "timed out waiting for the command to exit", "");
		pump(d, 20);
		if (d->eof) {
			struct timespec pause = { 0, 10 * 1000 * 1000 };
			nanosleep(&pause, NULL);
		}
	}
	while (!d->eof)
		pump(d, 100); /* whatever is still buffered in the terminal */
}

static void start(struct drive *d, char **argv, unsigned short cols, unsigned short rows)
{
	struct winsize ws = { .ws_row = rows, .ws_col = cols };
	const char *slave_name;

	d->master = posix_openpt(O_RDWR | O_NOCTTY);
	if (d->master < 0 || grantpt(d->master) != 0 || unlockpt(d->master) != 0)
		die("posix_openpt");
	slave_name = ptsname(d->master);
	if (slave_name == NULL)
		die("ptsname");
	if (ioctl(d->master, TIOCSWINSZ, &ws) != 0)
		die("TIOCSWINSZ");
	fflush(stdout);
	d->child = fork();
	if (d->child < 0)
		die("fork");
	if (d->child == 0) {
		int slave;
		close(d->master);
		if (setsid() < 0)
			die("setsid");
		slave = open(slave_name, O_RDWR);
		if (slave < 0)
			die(slave_name);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		execvp(argv[0], argv);
		fprintf(stderr, "ptydrive: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
}

int main(int argc, char **argv)
{
	struct drive d;
	unsigned cols = 80, rows = 24;
	char line[8192];
	int i, waited = 0;

	memset(&d, 0, sizeof(d));
	d.timeout = 10;
	append_output(&d, "", 0); /* out is always a string */
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-t") == 0 && i + 1 < argc)
			d.timeout = atof(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc && sscanf(argv[++i], "%ux%u", &cols, &rows) == 2)
			continue;
		else if (strcmp(argv[i], "-r") == 0)
			d.keep_cr = 1;
		else
			break;
	}
	if (i >= argc || strcmp(argv[i], "--") != 0 || i + 1 >= argc) {
		fprintf(stderr, "usage: ptydrive [-t SECONDS] [-s COLSxROWS] [-r] -- COMMAND [ARGS...] < script\n");
		return EXIT_DRIVER;
	}
	signal(SIGPIPE, SIG_IGN);
	start(&d, argv + i + 1, (unsigned short)cols, (unsigned short)rows);

	while (fgets(line, sizeof(line), stdin) != NULL) {
		size_t len = strcspn(line, "\n");
		line[len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		pump(&d, 0);
		if (strncmp(line, "send ", 5) == 0) {
			step_send(&d, line + 5, unescape(line + 5));
		} else if (strncmp(line, "expect ", 7) == 0) {
			unescape(line + 7);
			step_expect(&d, line + 7);
		} else if (strcmp(line, "raw") == 0) {
			step_raw(&d);
		} else if (strcmp(line, "wait") == 0) {
			step_wait(&d);
			waited = 1;
		} else {
			fprintf(stderr, "ptydrive: unknown step: %s\n", line);
			kill_child(&d);
			return EXIT_DRIVER;
		}
	}
	if (!waited) {
		kill(d.child, SIGHUP);
		kill_child(&d);
		return 0;
	}
	return exit_code(d.status);
}
