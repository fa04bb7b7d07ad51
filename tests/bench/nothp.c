/* nothp: runs a command with transparent huge pages disabled for it, as on a host whose THP is "never". */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

/*
 * usage: nothp CMD ARG...
 * PR_SET_THP_DISABLE holds for the process and its children, across execve: no huge page backs any
 * of its memory, whatever /sys/kernel/mm/transparent_hugepage/enabled says or the program asks.
 */
int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: nothp CMD ARG...\n");
		return 2;
	}
	if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) {
		perror("nothp: prctl(PR_SET_THP_DISABLE)");
		return 2;
	}
	execvp(argv[1], argv + 1);
	perror(argv[1]);
	return 127;
}
