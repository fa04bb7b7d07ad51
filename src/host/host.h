/* host.h: the memscript command: a run from its options to its exit status. */
#ifndef MEMSCRIPT_HOST_H
#define MEMSCRIPT_HOST_H

#include <lua.h>

/* Exit statuses of the Monitoring Plugins convention. */
enum host_status {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
	STATUS_UNKNOWN = 3,
};

/* Runs memscript with argv; returns the process exit status. */
int host_main(int argc, char **argv);

#endif
