/* fuzz_archive_tree.c: archive_tree_load on any bytes, then every lookup the `proc` module makes. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>

#include "source/archive_tree.h"
#include "fuzz_util.h"

/* A file's bytes are NUL-terminated one past their length, as procfile's are. */
static void check_find(const struct archive_tree *tree, const char *relpath)
{
	size_t len = 12345;
	const char *data = archive_tree_find(tree, relpath, &len);

	if (data == NULL) {
		FUZZ_CHECK(len == 0);
		return;
	}
	FUZZ_CHECK(data[len] == '\0');
	FUZZ_CHECK(strlen(data) <= len);
}

struct visit {
	const struct archive_tree *tree;
	char previous[256];
	int count;
};

/* Each name under proc/ once, in ascending order, and the files a process directory may hold. */
static int visit_proc(const char *name, void *arg)
{
	static const char *const files[] = {
		"cmdline", "comm", "maps", "smaps", "smaps_rollup", "stat", "statm", "status"};
	struct visit *v = arg;
	char path[512];
	size_t i;

	FUZZ_CHECK(name[0] != '\0' && strchr(name, '/') == NULL && strlen(name) < sizeof(v->previous));
	if (v->count > 0) {
		if (strcmp(v->previous, name) >= 0)
			fprintf(stderr, "first components out of order or repeated: \"%s\" then \"%s\"\n",
				v->previous, name);
		FUZZ_CHECK(strcmp(v->previous, name) < 0);
	}
	snprintf(v->previous, sizeof(v->previous), "%s", name);
	v->count++;
	snprintf(path, sizeof(path), "proc/%s", name);
	check_find(v->tree, path);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "proc/%s/%s", name, files[i]);
		check_find(v->tree, path);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fuzz_file mem = {-1, ""};
	struct archive_tree *tree;
	struct visit v;
	char err[1024];
	size_t path_len;
	int errnum, found;

	if (mem.fd < 0)
		fuzz_file_init(&mem, "archive");
	fuzz_file_set(&mem, data, size);
	path_len = strlen(mem.path);
	err[0] = '\0';
	errnum = 0;
	tree = archive_tree_load(mem.path, err, sizeof(err), &errnum);
	if (tree == NULL) {
		/* The message names the archive, then the reason; an errno value comes with it. */
		FUZZ_CHECK(strncmp(err, mem.path, path_len) == 0 && err[path_len] == ':' && err[path_len + 1] != '\0');
		FUZZ_CHECK(errnum > 0);
		return 0;
	}
	memset(&v, 0, sizeof(v));
	v.tree = tree;
	found = archive_tree_list_dir(tree, "proc", visit_proc, &v);
	FUZZ_CHECK(v.count == 0 || found);
	check_find(tree, "proc/meminfo");
	check_find(tree, "");
	archive_tree_free(tree);
	return 0;
}
