/*
 * touchfloor: what the memory alone costs a process where transparent huge pages are never used.
 * Maps MIB MiB of anonymous memory in 4 KiB pages (MADV_NOHUGEPAGE), populates it in one call
 * (MADV_POPULATE_WRITE, as memscript's heap does where there are no huge pages) and writes a byte
 * in each page: a process that builds tables of that size pays at least this, whatever its code.
 *
 * usage: touchfloor MIB
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int main(int argc, char **argv)
{
	long mib = argc == 2 ? atol(argv[1]) : 0;
	size_t size, i;
	volatile char *p;

	if (mib < 1 || mib > 65536) {
		fprintf(stderr, "usage: touchfloor MIB   (1 to 65536)\n");
		return 2;
	}
	size = (size_t)mib << 20;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("touchfloor: mmap");
		return 2;
	}
	madvise((void *)p, size, MADV_NOHUGEPAGE);
	madvise((void *)p, size, MADV_POPULATE_WRITE); /* refused by kernels before 5.14: the writes fault instead */
	for (i = 0; i < size; i += 4096)
		p[i] = 1;
	return 0;
}
