/* libarchive_load.c: dlopen of libarchive, shared by the archive reader and writer. */
#include "source/libarchive_load.h"

#include <dlfcn.h>
#include <stdio.h>

int libarchive_load(const struct libarchive_symbol *symbols, size_t n, const char *action, char *err,
		    size_t errlen)
{
	static void *handle;
	size_t i;

	if (handle == NULL) {
		handle = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL)
			handle = dlopen("libarchive.so", RTLD_NOW | RTLD_LOCAL);
		if (handle == NULL) {
			snprintf(err, errlen, "cannot %s archives: %s", action, dlerror());
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		*symbols[i].slot = dlsym(handle, symbols[i].name);
		if (*symbols[i].slot == NULL) {
			snprintf(err, errlen, "cannot %s archives: libarchive lacks %s", action, symbols[i].name);
			return -1;
		}
	}
	return 0;
}
