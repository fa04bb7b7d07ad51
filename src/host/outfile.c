/* outfile.c: -o's atomic replacement of a file (and a script's, sys.replace_file), relative to its directory's descriptor, never through another user's link. */
/* O_PATH, getrandom and fchownat's flags are Linux (GNU) interfaces. */
#define _GNU_SOURCE
#include "host/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* At most this many symbolic links are followed, as the kernel's own path walk allows. */
#define MAX_LINKS 40

/*
 * The file being written. dirfd and temporary are set before `armed`, and only changed while it
 * is clear with the fatal signals blocked, so a signal handler may read them.
 */
static struct {
	const char *path;           /* as given to -o, for messages */
	int dirfd;                  /* the directory the file is replaced in */
	char name[NAME_MAX + 1];    /* the file's name in that directory */
	char temporary[NAME_MAX + 1];
	int saved_stdout;
	volatile sig_atomic_t armed; /* the temporary file exists */
} out = {NULL, -1, "", "", -1, 0};

/* The file outfile_replace is writing: as `out`, a signal handler may read it while `armed`. */
static struct {
	int dirfd;
	char temporary[NAME_MAX + 1];
	volatile sig_atomic_t armed;
} whole = {-1, "", 0};

/* The path the messages name, and who writes it ("-o", "memscript") for the refusals. */
static struct {
	const char *path;
	const char *writer;
} naming = {NULL, "-o"};

/* The signals whose default action ends the process and that are commonly sent to a job. */
static const int fatal_signals[] = {SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGXCPU, SIGXFSZ};
#define N_FATAL_SIGNALS (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

void outfile_discard_from_signal(void)
{
	if (out.armed) {
		out.armed = 0;
		unlinkat(out.dirfd, out.temporary, 0);
	}
	if (whole.armed) {
		whole.armed = 0;
		unlinkat(whole.dirfd, whole.temporary, 0);
	}
}

/* Removes the temporary file, then dies of the signal as it would have (SA_RESETHAND restored the default). */
static void on_fatal_signal(int sig)
{
	int saved_errno = errno;

	outfile_discard_from_signal();
	raise(sig);
	errno = saved_errno;
}

/* Catches the fatal signals whose action is the default; one the parent ignores (nohup) stays ignored. */
static void catch_fatal_signals(void)
{
	static int done;
	size_t i;

	if (done)
		return;
	done = 1;
	for (i = 0; i < N_FATAL_SIGNALS; i++) {
		struct sigaction old, sa;
		if (sigaction(fatal_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL)
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fatal_signal;
		sa.sa_flags = SA_RESETHAND | SA_NODEFER;
		sigemptyset(&sa.sa_mask);
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

/* Blocks (block != 0) or restores the fatal signals, around changes to `out` a handler reads. */
static void block_fatal_signals(int block, sigset_t *saved)
{
	if (block) {
		sigset_t set;
		size_t i;
		sigemptyset(&set);
		for (i = 0; i < N_FATAL_SIGNALS; i++)
			sigaddset(&set, fatal_signals[i]);
		sigprocmask(SIG_BLOCK, &set, saved);
	} else {
		sigprocmask(SIG_SETMASK, saved, NULL);
	}
}

static int fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_errno(char *why, size_t whylen, int err)
{
	return fail(why, whylen, "%s: %s", naming.path, strerror(err));
}

/* A link is followed only when its owner is the caller (whose files these are) or root (who could write anything anyway). */
static int trusted_owner(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* "nobody (uid 65534)", or "uid 65534" when the user has no name. */
static void describe_user(uid_t uid, char *text, size_t size)
{
	const struct passwd *pw = getpwuid(uid);

	if (pw != NULL && pw->pw_name != NULL)
		snprintf(text, size, "%s (uid %lu)", pw->pw_name, (unsigned long)uid);
	else
		snprintf(text, size, "uid %lu", (unsigned long)uid);
}

static int refuse_link(char *why, size_t whylen, const char *link_name, int is_the_file, uid_t owner)
{
	char user[300];

	describe_user(owner, user, sizeof(user));
	if (is_the_file)
		return fail(why, whylen, "%s: a symbolic link owned by %s, neither you nor root: "
			    "%s does not write through another user's link", naming.path, user, naming.writer);
	return fail(why, whylen, "%s: '%s' on the way is a symbolic link owned by %s, neither you nor root: "
		    "%s does not write through another user's link", naming.path, link_name, user, naming.writer);
}

/*
 * Replaces the first `used` bytes of rest (a link's name and what followed it) with the link's
 * target and what followed: "link/more" -> "target/more". Returns 0 or an errno value.
 */
static int splice_link(int dirfd, const char *link_name, char *rest, size_t size, size_t used)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dirfd, link_name, target, sizeof(target) - 1);
	size_t tail;

	if (n < 0)
		return errno;
	if (n == 0)
		return ENOENT;
	target[n] = '\0';
	tail = strlen(rest + used); /* "" or "/more" */
	if ((size_t)n + tail + 1 > size)
		return ENAMETOOLONG;
	memmove(rest + n, rest + used, tail + 1);
	memcpy(rest, target, (size_t)n);
	return 0;
}

/*
 * Walks path one name at a time from "/" or the current directory, each directory opened
 * relative to the one before without following a link, so nothing can be swapped in between.
 * On success *dirfd is the directory that holds the file, name its name there, and *st what is
 * there now (st_mode 0 when nothing is). Returns 0, or -1 with the reason in why.
 */
static int resolve(const char *path, int *dirfd_out, char *name, struct stat *st, char *why, size_t whylen)
{
	char rest[PATH_MAX * 2];
	char *p;
	int dirfd, links = 0;

	if (path[0] == '\0')
		return fail_errno(why, whylen, ENOENT);
	if (snprintf(rest, sizeof(rest), "%s", path) >= (int)sizeof(rest))
		return fail_errno(why, whylen, ENAMETOOLONG);
	dirfd = open(rest[0] == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fail_errno(why, whylen, errno);
	p = rest;
	for (;;) {
		char *slash, component[NAME_MAX + 1];
		size_t len;
		struct stat lst;
		int fd, err;

		while (*p == '/')
			p++;
		slash = strchr(p, '/');
		len = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (len > NAME_MAX) {
			close(dirfd);
			return fail_errno(why, whylen, ENAMETOOLONG);
		}
		memcpy(component, p, len);
		component[len] = '\0';
		if (slash != NULL && slash[strspn(slash, "/")] != '\0') {
			/* A directory on the way. */
			if (strcmp(component, ".") == 0) {
				p = slash;
				continue;
			}
			fd = openat(dirfd, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0) {
				close(dirfd);
				dirfd = fd;
				p = slash;
				continue;
			}
			err = errno;
			if (fstatat(dirfd, component, &lst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(lst.st_mode)) {
				close(dirfd);
				return fail_errno(why, whylen, err);
			}
		} else {
			/* The file itself: "x/" or "x/." names a directory. */
			if (slash != NULL || len == 0 || strcmp(component, ".") == 0 || strcmp(component, "..") == 0) {
				close(dirfd);
				return fail(why, whylen, "%s: not a regular file (%s replaces a file with a new one, renamed "
					    "over it)", naming.path, naming.writer);
			}
			if (fstatat(dirfd, component, &lst, AT_SYMLINK_NOFOLLOW) != 0) {
				err = errno;
				if (err != ENOENT) {
					close(dirfd);
					return fail_errno(why, whylen, err);
				}
				memset(st, 0, sizeof(*st));
				break;
			}
			if (!S_ISLNK(lst.st_mode)) {
				if (!S_ISREG(lst.st_mode)) {
					close(dirfd);
					return fail(why, whylen, "%s: not a regular file (%s replaces a file with a new one, "
						    "renamed over it)", naming.path, naming.writer);
				}
				*st = lst;
				break;
			}
		}
		/* A symbolic link, on the way or the file itself. */
		if (!trusted_owner(lst.st_uid)) {
			close(dirfd);
			return refuse_link(why, whylen, component, links == 0 && slash == NULL, lst.st_uid);
		}
		if (++links > MAX_LINKS) {
			close(dirfd);
			return fail_errno(why, whylen, ELOOP);
		}
		memmove(rest, p, strlen(p) + 1);
		if ((err = splice_link(dirfd, component, rest, sizeof(rest), len)) != 0) {
			close(dirfd);
			return fail_errno(why, whylen, err);
		}
		p = rest;
		if (rest[0] == '/') {
			close(dirfd);
			dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (dirfd < 0)
				return fail_errno(why, whylen, errno);
		}
	}
	*dirfd_out = dirfd;
	memcpy(name, p, strlen(p) + 1);
	return 0;
}

/* The mode and group of the new file, from what it replaces (see outfile.h); gid -1 keeps the default. */
static mode_t new_file_mode(const struct stat *old, gid_t *gid)
{
	mode_t mask;

	*gid = (gid_t)-1;
	if (old->st_mode == 0) {
		mask = umask(0);
		umask(mask);
		return 0666 & ~mask;
	}
	if (old->st_uid == geteuid()) {
		*gid = old->st_gid;
		return old->st_mode & 0666;
	}
	/* Another user's file becomes the caller's: no write for anyone else, at most the old read bits. */
	return 0600 | (old->st_mode & 0044);
}

/* A new, empty file named "NAME.tmpXXXXXX" in dirfd, made by no one else. Returns the fd or -1. */
static int create_temporary(int dirfd, const char *name, char *temporary)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	int attempt;
	/* NAME_MAX bounds the whole name: a long NAME is cut, the suffix kept. */
	int keep = (int)strlen(name) > NAME_MAX - 10 ? NAME_MAX - 10 : (int)strlen(name);

	for (attempt = 0; attempt < 100; attempt++) {
		unsigned char random_bytes[6];
		char suffix[7];
		int i, fd;
		if (getrandom(random_bytes, sizeof(random_bytes), GRND_NONBLOCK) != (ssize_t)sizeof(random_bytes)) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			for (i = 0; i < 6; i++)
				random_bytes[i] = (unsigned char)((unsigned long)ts.tv_nsec >> (i * 5)) ^ (unsigned char)(attempt * 7 + getpid());
		}
		for (i = 0; i < 6; i++)
			suffix[i] = letters[random_bytes[i] % (sizeof(letters) - 1)];
		suffix[6] = '\0';
		snprintf(temporary, NAME_MAX + 1, "%.*s.tmp%s", keep, name, suffix);
		fd = openat(dirfd, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

int outfile_begin(const char *path, char *why, size_t whylen)
{
	struct stat old;
	sigset_t saved_mask;
	int dirfd, fd, err;
	char name[NAME_MAX + 1];
	char temporary[NAME_MAX + 1];
	gid_t gid;
	mode_t mode;

	out.path = path;
	naming.path = path;
	naming.writer = "-o";
	if (resolve(path, &dirfd, name, &old, why, whylen) != 0)
		return -1;
	mode = new_file_mode(&old, &gid);
	catch_fatal_signals();
	block_fatal_signals(1, &saved_mask);
	fd = create_temporary(dirfd, name, temporary);
	if (fd < 0) {
		err = errno;
		block_fatal_signals(0, &saved_mask);
		close(dirfd);
		return fail_errno(why, whylen, err);
	}
	out.dirfd = dirfd;
	memcpy(out.name, name, strlen(name) + 1);
	memcpy(out.temporary, temporary, sizeof(temporary));
	out.armed = 1;
	block_fatal_signals(0, &saved_mask);
	/* The group first: chown may clear mode bits. A group that cannot be kept gets no access. */
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0)
		mode &= ~(mode_t)0070;
	if (fchmod(fd, mode) != 0) {
		err = errno;
		close(fd);
		outfile_abort();
		return fail_errno(why, whylen, err);
	}
	fflush(stdout);
	out.saved_stdout = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	if (out.saved_stdout < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		err = errno;
		close(fd);
		outfile_abort();
		return fail_errno(why, whylen, err);
	}
	close(fd);
	clearerr(stdout);
	return 0;
}

int outfile_active(void)
{
	return out.dirfd >= 0;
}

static void restore_stdout(void)
{
	if (out.saved_stdout >= 0) {
		dup2(out.saved_stdout, STDOUT_FILENO);
		close(out.saved_stdout);
		out.saved_stdout = -1;
	}
	clearerr(stdout);
}

/* Forgets the file: removes the temporary file unless `renamed`, and closes the directory. */
static void finish(int renamed)
{
	sigset_t saved_mask;

	block_fatal_signals(1, &saved_mask);
	if (!renamed && out.armed)
		unlinkat(out.dirfd, out.temporary, 0);
	out.armed = 0;
	block_fatal_signals(0, &saved_mask);
	close(out.dirfd);
	out.dirfd = -1;
}

int outfile_commit(char *why, size_t whylen)
{
	sigset_t saved_mask;
	int err = 0;

	if (out.dirfd < 0)
		return 0;
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		err = errno;
		/* An earlier failed write left no errno behind; one more byte tells why (the file
		 * is discarded anyway): "No space left on device" rather than a bare I/O error. */
		if (err == 0 && write(STDOUT_FILENO, "\n", 1) < 0)
			err = errno;
		if (err == 0)
			err = EIO;
	} else if (fsync(STDOUT_FILENO) != 0) {
		err = errno;
	}
	restore_stdout();
	if (err == 0) {
		/* renameat replaces the name in the directory, never what a link there points to. */
		block_fatal_signals(1, &saved_mask);
		if (renameat(out.dirfd, out.temporary, out.dirfd, out.name) != 0)
			err = errno;
		else
			out.armed = 0;
		block_fatal_signals(0, &saved_mask);
	}
	if (err == 0) {
		/* The rename made durable where the directory can be opened for it; a failure here
		 * loses nothing the file system has not already got. */
		int d = openat(out.dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d >= 0) {
			fsync(d);
			close(d);
		}
	}
	finish(err == 0);
	if (err != 0)
		return fail(why, whylen, "%s: %s", out.path, strerror(err));
	return 0;
}

void outfile_abort(void)
{
	if (out.dirfd < 0)
		return;
	fflush(stdout);
	restore_stdout();
	finish(0);
}

int outfile_replace(const char *path, const char *data, size_t len, char *why, size_t whylen)
{
	struct stat old;
	sigset_t saved_mask;
	int dirfd, fd, err = 0;
	char name[NAME_MAX + 1];
	gid_t gid;
	mode_t mode;

	naming.path = path;
	naming.writer = "memscript";
	if (resolve(path, &dirfd, name, &old, why, whylen) != 0)
		return -1;
	mode = new_file_mode(&old, &gid);
	catch_fatal_signals();
	block_fatal_signals(1, &saved_mask);
	fd = create_temporary(dirfd, name, whole.temporary);
	if (fd >= 0) {
		whole.dirfd = dirfd;
		whole.armed = 1;
	} else {
		err = errno;
	}
	block_fatal_signals(0, &saved_mask);
	if (fd < 0) {
		close(dirfd);
		return fail_errno(why, whylen, err);
	}
	/* The group first: chown may clear mode bits. A group that cannot be kept gets no access. */
	if (gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0)
		mode &= ~(mode_t)0070;
	if (fchmod(fd, mode) != 0)
		err = errno;
	while (err == 0 && len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno != EINTR)
			err = errno;
		else if (n > 0) {
			data += n;
			len -= (size_t)n;
		}
	}
	if (err == 0 && fsync(fd) != 0)
		err = errno;
	if (close(fd) != 0 && err == 0)
		err = errno;
	/* renameat replaces the name in the directory, never what a link there points to. */
	block_fatal_signals(1, &saved_mask);
	if (err == 0 && renameat(dirfd, whole.temporary, dirfd, name) != 0)
		err = errno;
	if (err != 0)
		unlinkat(dirfd, whole.temporary, 0);
	whole.armed = 0;
	whole.dirfd = -1;
	block_fatal_signals(0, &saved_mask);
	if (err == 0) {
		/* the rename made durable where the directory can be opened for it, as outfile_commit does */
		int d = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d >= 0) {
			fsync(d);
			close(d);
		}
	}
	close(dirfd);
	if (err != 0)
		return fail_errno(why, whylen, err);
	return 0;
}
