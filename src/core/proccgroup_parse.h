/* proccgroup_parse.h: the lines of /proc/PID/cgroup, "hierarchy-ID:controller-list:cgroup-path". */
#ifndef MEMSCRIPT_PROCCGROUP_PARSE_H
#define MEMSCRIPT_PROCCGROUP_PARSE_H

#include <stddef.h>

/*
 * cgroups(7) and proc_cgroup_show (kernel/cgroup/cgroup.c): one line per hierarchy the process is in,
 *     12:memory:/system.slice/nginx.service          a v1 hierarchy: its ID, its controllers
 *     1:name=systemd:/user.slice                     a named v1 hierarchy without controllers
 *     2:cpu,cpuacct,memory,net_cls:/docker/5f3a...   several controllers in any order
 *     0::/user.slice/user-1000.slice/session-3.scope the v2 (unified) hierarchy: ID 0, no controllers
 * The path is everything after the second colon, printed raw: it may hold colons
 * ("/kubepods-burstable-pod1.slice:cri-containerd:86ac...") and any byte a cgroup's name may hold
 * but '/' and newline; a process outside the reader's cgroup namespace shows a path that climbs out
 * of it ("0::/../../user-1000.slice/session-520.scope"). The path is passed through as printed.
 */
struct proccgroup_line {
	unsigned hierarchy;        /* the hierarchy ID: 0 is the v2 hierarchy */
	const char *controllers;   /* the controller list as printed: "memory", "cpu,cpuacct", "" */
	size_t controllers_len;
	const char *path;          /* from the '/' after the second colon to the end of the line */
	size_t path_len;
};

/*
 * Parses one line (no newline) into *out; pointers point into line, nothing is allocated. Returns
 * NULL, or a static reason: an empty line, a NUL byte, an ID that is not a decimal (no sign, no
 * leading zero) or does not fit an int, a missing colon, an empty name or a blank or control
 * character in the controller list, a path that is empty or does not start with '/'.
 */
const char *proccgroup_parse_line(const char *line, size_t len, struct proccgroup_line *out);

/* Whether the line's controller list names controller ("memory" in "cpu,memory"); not "name=..." parts. */
int proccgroup_has_controller(const struct proccgroup_line *l, const char *controller);

#endif
