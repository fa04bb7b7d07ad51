/* readahead.c: a pool of threads reading processes' files ahead of the caller, one job per process. */
#include "source/readahead.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/smaps_sums.h"
#include "source/sums_read.h"

/* At most this many pool threads, whatever the CPU count. */
#define POOL_MAX 7

enum job_state { JOB_QUEUED, JOB_RUNNING, JOB_DONE };

enum job_kind { READ_WHOLE, READ_LINES, READ_SUMS };

struct job_file {
	char name[32];
	enum job_kind kind;
	int taken;
	int err;
	struct procfile whole;
	struct linestream *stream;
	/* READ_SUMS: smaps added up here (err: it could not be opened); a line refused is at lineno (0:
	 * none), its reason in sums->reason; read_err: reading or adding up failed on the way (an errno value) */
	struct smaps_sums *sums;
	long lineno;
	int read_err;
};

struct readahead_job {
	struct source_dir *dir;
	int count;
	struct job_file files[READAHEAD_FILES_MAX];
	enum job_state state;  /* guarded by pool_lock */
	int cancelled;         /* set once, atomically: a pool thread stops before its next file or span */
	int watched;           /* guarded by pool_lock: readahead_wait_any waits for it among others */
	struct readahead_job *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER; /* a job was queued */
static pthread_cond_t job_done = PTHREAD_COND_INITIALIZER;   /* a job became JOB_DONE */
static pthread_cond_t watched_done = PTHREAD_COND_INITIALIZER; /* as many watched jobs as awaited are done */
static int watch_need; /* guarded by pool_lock: watched jobs still to be done before readahead_wait_any wakes */
static struct readahead_job *queue_head, *queue_tail;
static int pool_size; /* threads started; -1 when none could be */

/* Read without pool_lock: a pool thread asks before each file and each span of smaps it adds up. */
static int is_cancelled(struct readahead_job *job)
{
	return __atomic_load_n(&job->cancelled, __ATOMIC_ACQUIRE);
}

static int job_cancelled(void *job)
{
	return is_cancelled(job);
}

/* Adds up the process's smaps into f->sums, stopping soon when the job is cancelled. */
static void run_sums(struct readahead_job *job, struct job_file *f)
{
	struct linestream *stream;
	long lineno;
	int r;

	if ((f->err = source_dir_lines_filled(job->dir, "smaps", &stream)) != 0)
		return;
	r = sums_read(stream, f->sums, &lineno, job_cancelled, job);
	if (r == -1)
		f->lineno = lineno;
	else if (r != 0 && r != SUMS_READ_STOPPED)
		f->read_err = r;
	linestream_close(stream);
}

/* Reads the job's files; the caller set it JOB_RUNNING and holds no lock. */
static void run_job(struct readahead_job *job)
{
	int i;

	for (i = 0; i < job->count; i++) {
		struct job_file *f = &job->files[i];
		if (is_cancelled(job))
			break;
		if (f->kind == READ_SUMS)
			run_sums(job, f);
		else if (f->kind == READ_LINES)
			f->err = source_dir_lines_filled(job->dir, f->name, &f->stream);
		else
			f->err = source_dir_read(job->dir, f->name, &f->whole);
	}
}

enum readahead_state readahead_state(struct readahead_job *job)
{
	enum job_state state;

	pthread_mutex_lock(&pool_lock);
	state = job->state;
	pthread_mutex_unlock(&pool_lock);
	return state == JOB_QUEUED ? READAHEAD_QUEUED : state == JOB_RUNNING ? READAHEAD_RUNNING : READAHEAD_DONE;
}

static struct readahead_job *dequeue_locked(void)
{
	struct readahead_job *job = queue_head;

	if (job != NULL) {
		queue_head = job->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		job->next = NULL;
	}
	return job;
}

static void *pool_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&pool_lock);
	for (;;) {
		struct readahead_job *job;
		while (queue_head == NULL)
			pthread_cond_wait(&work_ready, &pool_lock);
		job = dequeue_locked();
		job->state = JOB_RUNNING;
		pthread_mutex_unlock(&pool_lock);
		run_job(job);
		pthread_mutex_lock(&pool_lock);
		job->state = JOB_DONE;
		pthread_cond_broadcast(&job_done);
		if (job->watched && --watch_need == 0)
			pthread_cond_signal(&watched_done);
	}
	return NULL;
}

/* Starts the pool once: one thread per CPU. Called with pool_lock held. */
static void start_pool_locked(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int want = cpus > 1 ? (int)cpus : 1, i;
	sigset_t all, saved;

	if (want > POOL_MAX)
		want = POOL_MAX;
	/* Signals go to the thread that runs Lua (Ctrl-C, the --timeout alarm), as for line streams. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	for (i = 0; i < want; i++) {
		pthread_t thread;
		if (pthread_create(&thread, NULL, pool_main, NULL) != 0)
			break;
		pthread_detach(thread);
		pool_size++;
	}
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (pool_size == 0)
		pool_size = -1;
}

int readahead_submit(struct source_dir *dir, const char *const *names, int count, const struct smaps_sums *sums,
		     struct readahead_job **out)
{
	struct readahead_job *job;
	int i;

	*out = NULL;
	if (count > READAHEAD_FILES_MAX)
		count = READAHEAD_FILES_MAX;
	job = calloc(1, sizeof(*job));
	if (job == NULL)
		return ENOMEM;
	job->dir = dir;
	for (i = 0; i < count; i++) {
		struct job_file *f = &job->files[job->count];
		size_t len = strlen(names[i]);
		if (len >= sizeof(f->name))
			continue;
		memcpy(f->name, names[i], len + 1);
		if (strcmp(f->name, "smaps_sums") == 0) {
			if (sums == NULL || (f->sums = malloc(sizeof(*f->sums))) == NULL)
				continue;
			*f->sums = *sums; /* the fields named; nothing added yet */
			f->kind = READ_SUMS;
		} else {
			f->kind = strcmp(f->name, "maps") == 0 || strcmp(f->name, "smaps") == 0 ? READ_LINES : READ_WHOLE;
		}
		job->count++;
	}
	pthread_mutex_lock(&pool_lock);
	if (pool_size == 0)
		start_pool_locked();
	job->state = JOB_QUEUED;
	/* Without a pool the job stays queued, and whoever takes from it runs it. */
	if (queue_tail != NULL)
		queue_tail->next = job;
	else
		queue_head = job;
	queue_tail = job;
	pthread_cond_signal(&work_ready);
	pthread_mutex_unlock(&pool_lock);
	*out = job;
	return 0;
}

static void unlink_locked(struct readahead_job *job)
{
	struct readahead_job **at = &queue_head, *prev = NULL;

	while (*at != NULL && *at != job) {
		prev = *at;
		at = &(*at)->next;
	}
	if (*at == NULL)
		return;
	*at = job->next;
	if (queue_tail == job)
		queue_tail = prev;
	job->next = NULL;
}

/* Makes the job done: runs it here when no pool thread has started it, else waits for it. */
static void finish(struct readahead_job *job)
{
	pthread_mutex_lock(&pool_lock);
	if (job->state == JOB_QUEUED) {
		unlink_locked(job);
		job->state = JOB_RUNNING;
		pthread_mutex_unlock(&pool_lock);
		run_job(job);
		pthread_mutex_lock(&pool_lock);
		job->state = JOB_DONE;
	}
	while (job->state != JOB_DONE)
		pthread_cond_wait(&job_done, &pool_lock);
	pthread_mutex_unlock(&pool_lock);
}

int readahead_wait_any(struct readahead_job *const *jobs, int n, int at_least)
{
	int i, first = -1, done = 0, queued = -1;

	pthread_mutex_lock(&pool_lock);
	for (i = 0; i < n; i++) {
		if (jobs[i] == NULL || jobs[i]->state == JOB_DONE) {
			done++;
			if (first < 0)
				first = i;
		} else if (jobs[i]->state == JOB_QUEUED && queued < 0) {
			queued = i;
		}
	}
	if (at_least < 1)
		at_least = 1;
	if (done == 0 && pool_size < 0 && queued >= 0) {
		/* No pool thread will run it: it is run here, as finish would. */
		pthread_mutex_unlock(&pool_lock);
		finish(jobs[queued]);
		return queued;
	}
	if (done == 0 && pool_size >= 0) {
		/* The pool threads wake this one once, when the last of the jobs awaited is done; a job
		 * given twice is awaited once. */
		int pending = 0;
		for (i = 0; i < n; i++) {
			if (!jobs[i]->watched) {
				jobs[i]->watched = 1;
				pending++;
			}
		}
		watch_need = at_least < pending ? at_least : pending;
		while (watch_need > 0)
			pthread_cond_wait(&watched_done, &pool_lock);
		for (i = 0; i < n; i++) {
			jobs[i]->watched = 0;
			if (first < 0 && jobs[i]->state == JOB_DONE)
				first = i;
		}
	}
	pthread_mutex_unlock(&pool_lock);
	return first;
}

static struct job_file *find_file(struct readahead_job *job, const char *name, enum job_kind kind)
{
	int i;

	if (job == NULL)
		return NULL;
	for (i = 0; i < job->count; i++)
		if (!job->files[i].taken && job->files[i].kind == kind && strcmp(job->files[i].name, name) == 0)
			return &job->files[i];
	return NULL;
}

int readahead_take_whole(struct readahead_job *job, const char *name, struct procfile *out, int *err)
{
	struct job_file *f = find_file(job, name, READ_WHOLE);

	if (f == NULL)
		return 0;
	finish(job);
	f->taken = 1;
	*err = f->err;
	*out = f->whole;
	memset(&f->whole, 0, sizeof(f->whole));
	return 1;
}

int readahead_take_lines(struct readahead_job *job, const char *name, struct linestream **out, int *err)
{
	struct job_file *f = find_file(job, name, READ_LINES);

	if (f == NULL)
		return 0;
	finish(job);
	f->taken = 1;
	*err = f->err;
	*out = f->stream;
	f->stream = NULL;
	return 1;
}

int readahead_take_sums(struct readahead_job *job, struct smaps_sums *sums, int *err, int *read_err, long *lineno)
{
	struct job_file *f = find_file(job, "smaps_sums", READ_SUMS);

	if (f == NULL || !smaps_sums_same_fields(f->sums, sums))
		return 0;
	finish(job);
	f->taken = 1;
	*err = f->err;
	*read_err = f->read_err;
	*lineno = f->lineno;
	smaps_sums_free(sums);
	*sums = *f->sums;
	memset(f->sums, 0, sizeof(*f->sums)); /* the groups are the caller's now */
	return 1;
}

void readahead_cancel(struct readahead_job *job)
{
	int i;

	if (job == NULL)
		return;
	pthread_mutex_lock(&pool_lock);
	if (job->state == JOB_QUEUED) {
		unlink_locked(job);
		job->state = JOB_DONE;
	}
	__atomic_store_n(&job->cancelled, 1, __ATOMIC_RELEASE);
	while (job->state != JOB_DONE)
		pthread_cond_wait(&job_done, &pool_lock);
	pthread_mutex_unlock(&pool_lock);
	for (i = 0; i < job->count; i++) {
		procfile_free(&job->files[i].whole);
		linestream_close(job->files[i].stream);
		if (job->files[i].sums != NULL) {
			smaps_sums_free(job->files[i].sums);
			free(job->files[i].sums);
		}
	}
	free(job);
}
