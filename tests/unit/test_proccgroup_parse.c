/* test_proccgroup_parse.c: /proc/PID/cgroup lines: v1, v2 and hybrid hosts, colons in paths, refusals, other projects' captures, live. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proccgroup_parse.h"
#include "unit.h"

static const char *parse(const char *line, struct proccgroup_line *l)
{
	memset(l, 0xa5, sizeof(*l));
	return proccgroup_parse_line(line, strlen(line), l);
}

static void test_shapes(void)
{
	struct proccgroup_line l;

	if (CHECK_REASON("v2", NULL, parse("0::/user.slice/user-1000.slice/session-3.scope", &l))) {
		CHECK_INT("hierarchy 0", 0, l.hierarchy);
		CHECK_TEXT("no controllers", "", l.controllers, l.controllers_len);
		CHECK_TEXT("path", "/user.slice/user-1000.slice/session-3.scope", l.path, l.path_len);
		CHECK_INT("no memory controller", 0, proccgroup_has_controller(&l, "memory"));
	}
	if (CHECK_REASON("v1 memory", NULL, parse("12:memory:/system.slice/nginx.service", &l))) {
		CHECK_INT("hierarchy", 12, l.hierarchy);
		CHECK_TEXT("controllers", "memory", l.controllers, l.controllers_len);
		CHECK_INT("memory", 1, proccgroup_has_controller(&l, "memory"));
		CHECK_INT("not a prefix", 0, proccgroup_has_controller(&l, "mem"));
	}
	if (CHECK_REASON("joined controllers", NULL, parse("2:cpu,cpuacct,memory,net_cls,net_prio,hugetlb:/u", &l))) {
		CHECK_INT("memory in the middle", 1, proccgroup_has_controller(&l, "memory"));
		CHECK_INT("first", 1, proccgroup_has_controller(&l, "cpu"));
		CHECK_INT("last", 1, proccgroup_has_controller(&l, "hugetlb"));
		CHECK_INT("cpuacc is not cpuacct", 0, proccgroup_has_controller(&l, "cpuacc"));
	}
	if (CHECK_REASON("named hierarchy", NULL, parse("1:name=systemd:/init.scope", &l))) {
		CHECK_TEXT("controllers", "name=systemd", l.controllers, l.controllers_len);
		CHECK_INT("systemd is not a controller", 0, proccgroup_has_controller(&l, "systemd"));
	}
	if (CHECK_REASON("colons in the path", NULL,
			 parse("11:memory:/system.slice/containerd.service/kubepods-burstable-podf65e797d_d5f9.slice"
			       ":cri-containerd:86ac6260f9f8", &l)))
		CHECK_TEXT("path keeps its colons",
			   "/system.slice/containerd.service/kubepods-burstable-podf65e797d_d5f9.slice:cri-containerd:86ac6260f9f8",
			   l.path, l.path_len);
	if (CHECK_REASON("outside the namespace", NULL, parse("0::/../../user-1000.slice/session-520.scope", &l)))
		CHECK_TEXT("path as printed", "/../../user-1000.slice/session-520.scope", l.path, l.path_len);
	if (CHECK_REASON("root", NULL, parse("0::/", &l)))
		CHECK_TEXT("root", "/", l.path, l.path_len);
	if (CHECK_REASON("a v1 line with no controller (ID 1)", NULL, parse("1::/", &l))) {
		CHECK_INT("hierarchy 1", 1, l.hierarchy);
		CHECK_TEXT("empty list", "", l.controllers, l.controllers_len);
	}
	if (CHECK_REASON("a name with blanks and a tab", NULL, parse("0::/a b\tc (deleted)", &l)))
		CHECK_TEXT("kept raw", "/a b\tc (deleted)", l.path, l.path_len);
	if (CHECK_REASON("largest ID", NULL, parse("2147483647:cpu:/", &l)))
		CHECK_UINT("INT_MAX", 2147483647u, l.hierarchy);
}

static void test_reasons(void)
{
	struct proccgroup_line l;
	char nul_line[] = "0::/a\0b";

	CHECK_REASON("empty", "empty line", parse("", &l));
	CHECK_REASON("indented (a test's literal)", "the line does not start with a hierarchy ID (ID:controllers:path expected)",
		     parse("\t9:net_cls,net_prio:/", &l));
	CHECK_REASON("no ID", "the line does not start with a hierarchy ID (ID:controllers:path expected)", parse("::/", &l));
	CHECK_REASON("word", "no ':' after the hierarchy ID (ID:controllers:path expected)", parse("0\\using\\colons\\/", &l));
	CHECK_REASON("no colon at all", "no ':' after the hierarchy ID (ID:controllers:path expected)", parse("12", &l));
	CHECK_REASON("sign", "the line does not start with a hierarchy ID (ID:controllers:path expected)", parse("-1:cpu:/", &l));
	CHECK_REASON("leading zero", "hierarchy ID with a leading zero", parse("012:cpu:/", &l));
	CHECK_REASON("past INT_MAX", "hierarchy ID out of range", parse("2147483648:cpu:/", &l));
	CHECK_REASON("64 digits", "hierarchy ID out of range", parse("9999999999999999999999999999999999:cpu:/", &l));
	CHECK_REASON("one colon", "no ':' after the controller list (ID:controllers:path expected)", parse("5:memory", &l));
	CHECK_REASON("not an ID", "the line does not start with a hierarchy ID (ID:controllers:path expected)", parse("invalid-line:", &l));
	CHECK_REASON("empty path", "empty cgroup path", parse("4:memory:", &l));
	CHECK_REASON("relative path", "the cgroup path does not start with '/'", parse("4:memory:docker/1", &l));
	CHECK_REASON("blank in the list", "blank or control character in the controller list", parse("4:cpu, memory:/", &l));
	CHECK_REASON("tab in the list", "blank or control character in the controller list", parse("4:cpu\tmemory:/", &l));
	CHECK_REASON("leading comma", "empty name in the controller list", parse("4:,memory:/", &l));
	CHECK_REASON("trailing comma", "empty name in the controller list", parse("4:memory,:/", &l));
	CHECK_REASON("two commas", "empty name in the controller list", parse("4:cpu,,memory:/", &l));
	CHECK_REASON("NUL", "NUL byte in the line", proccgroup_parse_line(nul_line, sizeof(nul_line) - 1, &l));
}

/* The lines of a file: how many were accepted, the first refusal, and the memory and v2 paths. */
struct file_result {
	int lines, accepted;
	const char *reason;
	int reason_line;
	char memory_path[512], v2_path[512];
	int memory_lines, v2_lines;
};

static int read_lines(const char *path, struct file_result *r)
{
	size_t len;
	char *data = unit_read_file(path, &len);
	const char *p, *end;

	memset(r, 0, sizeof(*r));
	if (data == NULL)
		return 0;
	for (p = data, end = data + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = nl ? nl : end;
		struct proccgroup_line l;
		const char *reason;
		r->lines++;
		reason = proccgroup_parse_line(p, (size_t)(line_end - p), &l);
		if (reason != NULL) {
			if (r->reason == NULL) {
				r->reason = reason;
				r->reason_line = r->lines;
			}
		} else {
			r->accepted++;
			if (proccgroup_has_controller(&l, "memory")) {
				r->memory_lines++;
				snprintf(r->memory_path, sizeof(r->memory_path), "%.*s", (int)l.path_len, l.path);
			}
			if (l.hierarchy == 0) {
				r->v2_lines++;
				snprintf(r->v2_path, sizeof(r->v2_path), "%.*s", (int)l.path_len, l.path);
			}
		}
		p = nl ? nl + 1 : end;
	}
	free(data);
	return 1;
}

struct peer_case {
	const char *file;
	int lines, accepted;
	const char *reason; /* of the first refused line */
	const char *memory_path, *v2_path;
};

static void test_peers_captures(void)
{
	static const struct peer_case cases[] = {
		{"go-sysinfo/inline/proc_pid_cgroup/kubernetesCgroup", 11, 11, NULL,
		 "/kubepods/burstable/podb83789a8-5f9d-11ea-bae1-0a0084deb344/9f99515d52142271cfeebef269bf4b7609b9b69b62008d6a5d316f561ccf061d", ""},
		{"go-sysinfo/inline/proc_pid_cgroup/emptyCgroup", 0, 0, NULL, "", ""},
		{"openjdk/inline/proc_self_cgroup/cgroupv1SelfColonsContent", 12, 12, NULL,
		 "/system.slice/containerd.service/kubepods-burstable-podf65e797d_d5f9_4604_9773_94f4bb9946a0.slice:cri-containerd:"
		 "86ac6260f9f8a9c1276748250f330ae9c2fcefe5ae809364ad1e45f3edf7e08a",
		 "/user.slice/user-1000.slice/user@1000.service/apps.slice/apps-org.gnome.Terminal.slice/vte-spawn-3c00b338-5b65-439f-8e97-135e183d135d.scope"},
		{"openjdk/inline/proc_self_cgroup/selfCgroupNonZeroJoinControllers", 10, 10, NULL,
		 "/user.slice/user-1000.slice/session-3.scope", "/user.slice/user-1000.slice/session-3.scope"},
		{"openjdk/inline/proc_self_cgroup/cgroupv2SelfCgroupContent", 1, 1, NULL, "", "/user.slice/user-1000.slice/session-2.scope"},
		{"below/inline/procfs/pid_cgroup_test_pid_cgroupv1and2", 12, 12, NULL, "/init.scope",
		 "/user.slice/user:with:colon.slice/session-3.scope"},
		{"containerd-cgroups/inline/proc_pid_cgroup/TestSystemd240", 9, 1,
		 "the line does not start with a hierarchy ID (ID:controllers:path expected)", "", ""},
		{"automaxprocs/testdata/proc/invalid-cgroup/cgroup", 2, 1,
		 "the line does not start with a hierarchy ID (ID:controllers:path expected)", "", ""},
		{"automaxprocs/testdata/proc/v2/cgroup-invalid", 1, 0, "no ':' after the hierarchy ID (ID:controllers:path expected)", "", ""},
		{"elastic-agent-system-metrics/cgroup/testdata/docker2/proc/2233801/cgroup", 1, 1, NULL, "",
		 "/../../user-1000.slice/session-520.scope"},
		{"cmonitor/extracted/ubuntu20.04-Linux-5.4.0-x86_64-docker/sample1/proc/2063/cgroup", 13, 13, NULL,
		 "/docker/d19cdffb6d5cac225c19a074e1cf0442df9bfcecf39f8b1581ce6784e73971f3", "/system.slice/containerd.service"},
	};
	char rel[512], path[4096];
	size_t i;

	if (unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", "peers/cgroup/NOTICE", path, sizeof(path)) == NULL) {
		unit_skip("other projects' cgroup captures (no ../shared/fixtures)");
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct peer_case *c = &cases[i];
		struct file_result r;
		snprintf(rel, sizeof(rel), "peers/cgroup/%s", c->file);
		if (!CHECK(c->file, unit_fixture_path("MEMSCRIPT_SHARED_FIXTURES", rel, path, sizeof(path)) != NULL) ||
		    !CHECK(c->file, read_lines(path, &r)))
			continue;
		CHECK_INT(c->file, c->lines, r.lines);
		CHECK_INT(c->file, c->accepted, r.accepted);
		CHECK_REASON(c->file, c->reason, r.reason);
		CHECK_TEXT(c->file, c->memory_path, r.memory_path, strlen(r.memory_path));
		CHECK_TEXT(c->file, c->v2_path, r.v2_path, strlen(r.v2_path));
	}
}

/* This machine's own /proc/self/cgroup: every line accepted, one v2 line, at most one memory line. */
static void test_live(void)
{
	struct file_result r;

	if (!read_lines("/proc/self/cgroup", &r)) {
		unit_skip("no /proc/self/cgroup (a kernel without cgroups)");
		return;
	}
	CHECK("some lines", r.lines > 0);
	CHECK_INT("every line accepted", r.lines, r.accepted);
	CHECK_REASON("no refusal", NULL, r.reason);
	CHECK_INT("one v2 line", 1, r.v2_lines);
	CHECK("at most one memory line", r.memory_lines <= 1);
}

int main(void)
{
	UNIT_RUN(test_shapes, "v2, v1, joined and named hierarchies; colons, blanks and climbing paths kept as printed");
	UNIT_RUN(test_reasons, "refused: empty, indented, no ID, leading zero, past INT_MAX, missing colon, bad list, bad path, NUL");
	UNIT_RUN(test_peers_captures, "other projects' /proc/PID/cgroup captures, read in place");
	UNIT_RUN(test_live, "this machine's /proc/self/cgroup");
	return unit_end();
}
