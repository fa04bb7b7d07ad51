/* options.h: memscript's own command-line options (lua.c's, and those of memscript's runs). */
#ifndef MEMSCRIPT_OPTIONS_H
#define MEMSCRIPT_OPTIONS_H

#include <stddef.h>

struct options {
	int script;        /* index in argv of the script, 0 when none */
	int interactive;   /* -i */
	int version;       /* -v */
	int has_e;         /* some -e */
	int stdin_script;  /* "-" */
	int list;          /* --list */
	const char *complete; /* --complete SCRIPT */
	int sandbox;       /* --sandbox */
	double timeout;    /* --timeout, seconds; 0 for none */
	size_t max_memory; /* --max-memory, bytes; 0 for none */
	double interval;   /* --interval, seconds; 0: run once */
	long count;        /* --count: runs in watch mode, 0 for no end */
	const char *output; /* -o FILE */
	const char *svg;    /* --svg FILE: watch mode's chart of memscript.watch.memory's samples */
	const char *root;   /* --root or --proc-root */
	int proc_root;      /* root came from --proc-root */
	const char *format;
};

/* The text -h and --help print, and usage errors end with. */
extern const char host_usage_text[];

/* host_parse_options' result when it printed the help: the run ends there, with status 0. */
#define OPTIONS_HELP 1

/*
 * Parses the options before the script into *o (argv[1..], up to the script or "--"). Returns 0,
 * OPTIONS_HELP, or -1 after printing what is wrong.
 */
int host_parse_options(int argc, char **argv, struct options *o);

#endif
