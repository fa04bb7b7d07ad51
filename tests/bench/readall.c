/*
 * readall: the kernel's floor for reading many files on several CPUs at once. Reads every file
 * named to its end, discarding the bytes, with THREADS threads that each take the next file not
 * yet taken, as a whole-system scan shares processes among its threads. A file that cannot be
 * opened or read (a process gone, a permission denied) is passed over, as `cat 2>/dev/null` does.
 *
 * usage: readall THREADS FILE...
 */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define BUFFER (128 * 1024) /* what cat reads with */

static char **files;
static int nfiles;
static atomic_int next_file;

static void *reader(void *arg)
{
	char *buf = malloc(BUFFER);
	int i;

	(void)arg;
	if (buf == NULL)
		return NULL;
	while ((i = atomic_fetch_add(&next_file, 1)) < nfiles) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while (read(fd, buf, BUFFER) > 0)
			;
		close(fd);
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t threads[64];
	int n, i;

	if (argc < 2 || (n = atoi(argv[1])) < 1 || n > 64) {
		fprintf(stderr, "usage: readall THREADS FILE...   (1 to 64 threads)\n");
		return 2;
	}
	files = argv + 2;
	nfiles = argc - 2;
	for (i = 0; i < n; i++)
		if (pthread_create(&threads[i], NULL, reader, NULL) != 0) {
			perror("readall: pthread_create");
			return 2;
		}
	for (i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	return 0;
}
