/* Benchmark driver: runs commands interleaved, N rounds, and reports wall time, peak memory and paired ratios. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/*
 * usage: pairtime [-n ROUNDS] [-w WARMUP] [-v] -- [@LABEL] CMD ARG... [-- [@LABEL] CMD ARG...]...
 *
 * Each command is an argv executed directly (no shell), so a separator "--" cannot be an argument of a
 * command; "-s SEP" picks another separator. One round runs every command once; the order within a round
 * is rotated by one each round, so no command always runs first or right after the same other command.
 * The ratio column is the median over rounds of time(command) / time(first command) in the same round,
 * i.e. the median of paired ratios, not a ratio of medians.
 * Wall time is clock_gettime(CLOCK_MONOTONIC) from just before posix_spawn to just after wait4 returns;
 * peak memory is wait4's ru_maxrss (KiB) of that child. Standard input and output are /dev/null, standard
 * error is inherited so failures are visible; a command exiting non-zero makes pairtime exit 1.
 */

struct command {
	const char *label;
	char **argv;
	double *seconds;   /* per recorded round */
	long *maxrss_kib;  /* per recorded round */
	double *ratios;    /* per recorded round, against command 0 */
	int failures;
};

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int compare_longs(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return (x > y) - (x < y);
}

/* Sorts values in place; the median of an even count is the mean of the two middle values. */
static double median_doubles(double *values, int count)
{
	qsort(values, (size_t)count, sizeof *values, compare_doubles);
	return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

static long median_longs(long *values, int count)
{
	qsort(values, (size_t)count, sizeof *values, compare_longs);
	return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

static void *checked_calloc(size_t count, size_t size)
{
	void *p = calloc(count, size);
	if (p == NULL) {
		perror("pairtime: calloc");
		exit(2);
	}
	return p;
}

/* Runs one command to completion; returns its wall time, stores its peak RSS, counts a failure. */
static double run_once(struct command *cmd, const posix_spawn_file_actions_t *actions, long *maxrss_kib)
{
	pid_t pid;
	int status;
	struct rusage usage;
	double start = now_seconds();
	int err = posix_spawnp(&pid, cmd->argv[0], actions, NULL, cmd->argv, environ);
	if (err != 0) {
		fprintf(stderr, "pairtime: %s: %s\n", cmd->argv[0], strerror(err));
		exit(2);
	}
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			perror("pairtime: wait4");
			exit(2);
		}
	}
	double elapsed = now_seconds() - start;
	*maxrss_kib = usage.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (cmd->failures++ == 0)
			fprintf(stderr, "pairtime: %s: exit status %d%s\n", cmd->label,
			        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
			        WIFEXITED(status) ? "" : " (signal)");
	}
	return elapsed;
}

static void usage(void)
{
	fprintf(stderr, "usage: pairtime [-n ROUNDS] [-w WARMUP] [-s SEP] [-v] "
	                "-- [@LABEL] CMD ARG... [-- [@LABEL] CMD ARG...]...\n");
	exit(2);
}

/* The label shown for a command without @LABEL: its argv joined by spaces. */
static char *join_argv(char **argv)
{
	size_t length = 1;
	for (char **a = argv; *a != NULL; a++)
		length += strlen(*a) + 3;  /* a space and two quotes */
	char *text = checked_calloc(length, 1);
	for (char **a = argv; *a != NULL; a++) {
		if (a != argv)
			strcat(text, " ");
		int quote = (*a)[0] == '\0' || strchr(*a, ' ') != NULL;
		if (quote)
			strcat(text, "'");
		strcat(text, *a);
		if (quote)
			strcat(text, "'");
	}
	return text;
}

int main(int argc, char **argv)
{
	int rounds = 11, warmup = 1, verbose = 0;
	const char *separator = "--";
	int i = 1;
	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], separator) != 0; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (strcmp(argv[i], "-w") == 0 && i + 1 < argc)
			warmup = atoi(argv[++i]);
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			separator = argv[++i];
		else if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else
			usage();
	}
	if (rounds < 1 || warmup < 0 || i >= argc || strcmp(argv[i], separator) != 0)
		usage();

	/* Split the rest on the separator, in place: each separator becomes the NULL ending an argv. */
	struct command *commands = checked_calloc((size_t)argc, sizeof *commands);
	int count = 0;
	for (; i < argc; i++) {
		if (strcmp(argv[i], separator) != 0)
			continue;
		argv[i] = NULL;
		if (i + 1 >= argc || strcmp(argv[i + 1], separator) == 0)
			usage();
		struct command *cmd = &commands[count++];
		cmd->argv = &argv[i + 1];
		if (cmd->argv[0][0] == '@') {
			cmd->label = cmd->argv[0] + 1;
			cmd->argv++;
		}
	}
	for (int c = 0; c < count; c++) {
		if (commands[c].argv[0] == NULL)
			usage();
		if (commands[c].label == NULL)
			commands[c].label = join_argv(commands[c].argv);
		commands[c].seconds = checked_calloc((size_t)rounds, sizeof(double));
		commands[c].maxrss_kib = checked_calloc((size_t)rounds, sizeof(long));
		commands[c].ratios = checked_calloc((size_t)rounds, sizeof(double));
	}

	posix_spawn_file_actions_t actions;
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);

	for (int round = -warmup; round < rounds; round++) {
		for (int k = 0; k < count; k++) {
			int c = ((round % count) + count + k) % count;
			long maxrss;
			double elapsed = run_once(&commands[c], &actions, &maxrss);
			if (round >= 0) {
				commands[c].seconds[round] = elapsed;
				commands[c].maxrss_kib[round] = maxrss;
			}
			if (verbose)
				fprintf(stderr, "%s round %d: %s %.6f s %ld KiB\n", round < 0 ? "warm-up" : "timed",
				        round, commands[c].label, elapsed, maxrss);
		}
		if (round >= 0)
			for (int c = 0; c < count; c++)
				commands[c].ratios[round] = commands[c].seconds[round] / commands[0].seconds[round];
	}

	int failed = 0;
	printf("%-44s %11s %11s %9s %13s\n", "command", "median s", "min s", "ratio", "maxRSS KiB");
	for (int c = 0; c < count; c++) {
		struct command *cmd = &commands[c];
		double ratio = median_doubles(cmd->ratios, rounds);
		double median = median_doubles(cmd->seconds, rounds);
		double fastest = cmd->seconds[0]; /* sorted by median_doubles */
		long rss = median_longs(cmd->maxrss_kib, rounds);
		printf("%-44s %11.6f %11.6f %9.3f %13ld%s\n", cmd->label, median, fastest, ratio, rss,
		       cmd->failures ? "  FAILED" : "");
		failed |= cmd->failures != 0;
	}
	printf("(%d rounds after %d warm-up; ratio = median over rounds of time / time of \"%s\" in the same round;"
	       " maxRSS = median ru_maxrss)\n", rounds, warmup, commands[0].label);
	posix_spawn_file_actions_destroy(&actions);
	return failed;
}
