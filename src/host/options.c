/* options.c: memscript's own command-line options, before the script and its arguments. */
#include "host/options.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/size_parse.h"

static const char progname[] = "memscript";

const char host_usage_text[] =
	"usage: memscript [options] [script [args]]\n"
	"Available options are:\n"
	"  -e CODE          execute string CODE\n"
	"  -l MOD           require library MOD into global MOD\n"
	"  -l G=MOD         require library MOD into global G\n"
	"  -i               enter interactive mode after executing script\n"
	"  -v               show version information\n"
	"  -f, --format F   output format of the bundled scripts: table, json, csv, prom or folded\n"
	"  -o FILE          write standard output to FILE, replacing it only when complete\n"
	"  --interval SECS  run the script again every SECS seconds (watch mode)\n"
	"  --count N        with --interval: stop after N runs (0, the default: until Ctrl-C)\n"
	"  --svg FILE       with --interval: after each run, chart the memory of the processes\n"
	"                   sampled with memscript.watch's memory(pid) in FILE (SVG)\n"
	"  --root DIR       read a captured machine: DIR/proc and DIR/sys (DIR may be an archive)\n"
	"  --proc-root DIR  read /proc files under DIR instead of /proc (a proc tree, a capture\n"
	"                   or an archive of one)\n"
	"  --list           list the bundled scripts with their usage lines\n"
	"  --complete SCRIPT  print SCRIPT's options and operands for shell completion\n"
	"  --sandbox        run without os.execute, io.popen, file writes, binary chunks,\n"
	"                   C modules or the debug library (for shared rule files)\n"
	"  --timeout SECS   stop the script after SECS seconds (exit status 3)\n"
	"  --max-memory SIZE  cap the memory of the run (Lua heap, lua-cjson, archives)\n"
	"                   at SIZE bytes (a size: 64M, 1.5G, 512 kB)\n"
	"  -h, --help       show this help\n"
	"  --               stop handling options\n"
	"  -                stop handling options and execute stdin\n"
	"A bare script name is looked up in the current directory, then in each directory\n"
	"of MEMSCRIPT_PATH, then among the bundled scripts; one found in a directory runs only\n"
	"when it is a file of yours or root's that no one else may write (./NAME runs any).\n"
	"Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (script error).\n";


/*
 * --max-memory's value in bytes, through the one size grammar (src/core/size_parse.h): "64M",
 * "1.5G", "512 kB". Returns 0, after printing why, for anything else, 0 bytes included.
 */
static size_t parse_max_memory(const char *text)
{
	uint64_t bytes = 0;
	enum size_status status = size_parse(text, strlen(text), &bytes);

	if (status == SIZE_TOO_LARGE || (status == SIZE_OK && bytes > SIZE_MAX))
		fprintf(stderr, "%s: --max-memory needs a size below 2^63 bytes (8E), got '%s'\n", progname, text);
	else if (status != SIZE_OK)
		fprintf(stderr, "%s: --max-memory needs a size such as 64M, got '%s'\n", progname, text);
	else if (bytes == 0)
		fprintf(stderr, "%s: --max-memory needs a size above 0, got '%s'\n", progname, text);
	else
		return (size_t)bytes;
	return 0;
}

static const char *const output_formats[] = {"table", "json", "csv", "prom", "folded", NULL};

/* Returns value when it is one of the output formats, else NULL after printing why. */
static const char *check_format(const char *value)
{
	int i;

	for (i = 0; output_formats[i] != NULL; i++) {
		if (strcmp(value, output_formats[i]) == 0)
			return value;
	}
	fprintf(stderr, "%s: unknown format '%s' (table, json, csv, prom or folded)\n", progname, value);
	return NULL;
}

/* Parses the options before the script; returns 0, OPTIONS_HELP, or -1 after printing what is wrong. */
int host_parse_options(int argc, char **argv, struct options *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] != '-') {
			o->script = i;
			return 0;
		}
		if (strcmp(a, "-") == 0) {
			o->stdin_script = 1;
			o->script = i;
			return 0;
		}
		if (strcmp(a, "--") == 0) {
			if (i + 1 < argc)
				o->script = i + 1;
			return 0;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(host_usage_text, stdout);
			return OPTIONS_HELP;
		} else if (strcmp(a, "-i") == 0) {
			o->interactive = 1;
			o->version = 1;
		} else if (strcmp(a, "-v") == 0) {
			o->version = 1;
		} else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
			if (strcmp(a, "-e") == 0)
				o->has_e = 1;
			if (++i >= argc) {
				fprintf(stderr, "%s: '%s' needs an argument\n%s", progname, a, host_usage_text);
				return -1;
			}
		} else if (strncmp(a, "-e", 2) == 0) {
			o->has_e = 1;
		} else if (strncmp(a, "-l", 2) == 0) {
			/* -lMOD */
		} else if (strcmp(a, "--proc-root") == 0 || strcmp(a, "--root") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "%s: '%s' needs a directory\n%s", progname, a, host_usage_text);
				return -1;
			}
			o->root = argv[i];
			o->proc_root = a[2] == 'p';
		} else if (strncmp(a, "--proc-root=", 12) == 0) {
			o->root = a + 12;
			o->proc_root = 1;
		} else if (strncmp(a, "--root=", 7) == 0) {
			o->root = a + 7;
			o->proc_root = 0;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--format") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "%s: '%s' needs a format\n%s", progname, a, host_usage_text);
				return -1;
			}
			if ((o->format = check_format(argv[i])) == NULL)
				return -1;
		} else if (strncmp(a, "--format=", 9) == 0) {
			if ((o->format = check_format(a + 9)) == NULL)
				return -1;
		} else if (strcmp(a, "--list") == 0) {
			o->list = 1;
		} else if (strcmp(a, "--complete") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "%s: '--complete' needs a script\n%s", progname, host_usage_text);
				return -1;
			}
			o->complete = argv[i];
		} else if (strcmp(a, "--sandbox") == 0) {
			o->sandbox = 1;
		} else if (strcmp(a, "-o") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "%s: '-o' needs a file\n%s", progname, host_usage_text);
				return -1;
			}
			o->output = argv[i];
		} else if (strcmp(a, "--svg") == 0) {
			if (++i >= argc) {
				fprintf(stderr, "%s: '--svg' needs a file\n%s", progname, host_usage_text);
				return -1;
			}
			o->svg = argv[i];
		} else if (strcmp(a, "--interval") == 0 || strcmp(a, "--count") == 0) {
			char *end = NULL;
			double value;
			if (++i >= argc) {
				fprintf(stderr, "%s: '%s' needs a number\n%s", progname, a, host_usage_text);
				return -1;
			}
			value = strtod(argv[i], &end);
			if (end == argv[i] || *end != '\0' || !(value >= 0 && value < 1e9) ||
			    (a[2] == 'c' && value != (double)(long)value) || (a[2] == 'i' && value <= 0)) {
				fprintf(stderr, "%s: %s needs a %s, got '%s'\n", progname, a,
					a[2] == 'c' ? "whole number of runs" : "number of seconds above 0", argv[i]);
				return -1;
			}
			if (a[2] == 'c')
				o->count = (long)value;
			else
				o->interval = value;
		} else if (strcmp(a, "--timeout") == 0 || strcmp(a, "--max-memory") == 0) {
			char *end = NULL;
			if (++i >= argc) {
				fprintf(stderr, "%s: '%s' needs a value\n%s", progname, a, host_usage_text);
				return -1;
			}
			if (strcmp(a, "--timeout") == 0) {
				o->timeout = strtod(argv[i], &end);
				if (end == argv[i] || *end != '\0' || !(o->timeout > 0 && o->timeout < 1e9)) {
					fprintf(stderr, "%s: --timeout needs a number of seconds, got '%s'\n", progname, argv[i]);
					return -1;
				}
			} else if ((o->max_memory = parse_max_memory(argv[i])) == 0) {
				return -1;
			}
		} else {
			fprintf(stderr, "%s: unrecognized option '%s'\n%s", progname, a, host_usage_text);
			return -1;
		}
	}
	return 0;
}
