/*
 * send_store - the sending-limit counters on disk (see send_store.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "send_store.h"

#define SEND_STORE_MAX (64u << 20) /* far above a full table */

struct send_store {
	struct send_counters *sc;
	int dirfd;
	pthread_mutex_t wmu; /* one write at a time; saved */
	uint64_t saved;      /* the generation the file holds */
	bool failing;        /* the last write failed (logged once) */
	pthread_mutex_t mu;  /* stop, cv */
	pthread_cond_t cv;
	bool stop;
	pthread_t thr;
};

int send_store_flush(struct send_store *st)
{
	pthread_mutex_lock(&st->wmu);
	if (send_counters_gen(st->sc) == st->saved) {
		pthread_mutex_unlock(&st->wmu);
		return 0;
	}
	struct buf out = BUF_INIT;
	uint64_t gen = send_counters_dump(st->sc, &out);
	int rc = fs_write_atomic_at(st->dirfd, SEND_STORE_FILE, out.data, out.len, 0600);
	if (rc == 0) {
		st->saved = gen;
		if (st->failing)
			log_info("send counters: %s written again", SEND_STORE_FILE);
		st->failing = false;
	} else if (!st->failing) {
		log_err("send counters: cannot write %s: %s (retrying)", SEND_STORE_FILE, strerror(errno));
		st->failing = true;
	}
	pthread_mutex_unlock(&st->wmu);
	buf_free(&out);
	return rc;
}

static int sync_hook(void *arg)
{
	return send_store_flush(arg);
}

static void *writer(void *arg)
{
	struct send_store *st = arg;
	pthread_mutex_lock(&st->mu);
	while (!st->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(SEND_STORE_FLUSH_MS % 1000) * 1000000L;
		until.tv_sec += SEND_STORE_FLUSH_MS / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		while (!st->stop && pthread_cond_timedwait(&st->cv, &st->mu, &until) != ETIMEDOUT)
			;
		if (st->stop)
			break;
		pthread_mutex_unlock(&st->mu);
		send_store_flush(st);
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* Temp files of writes a crash interrupted (fs_write_atomic_at names them
 * .tmp.PID.RANDOM.NAME): never read, removed. */
static void clear_temps(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	const size_t nl = strlen("." SEND_STORE_FILE);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (!strncmp(de->d_name, ".tmp.", 5) && l > nl && !strcmp(de->d_name + l - nl, "." SEND_STORE_FILE))
			unlinkat(dirfd, de->d_name, 0);
	}
	closedir(d);
}

static void load(struct send_store *st)
{
	clear_temps(st->dirfd);
	struct buf in = BUF_INIT;
	if (fs_read_all_at(st->dirfd, SEND_STORE_FILE, SEND_STORE_MAX, &in) < 0) {
		if (errno != ENOENT)
			log_warn("send counters: cannot read %s (%s): every account starts from zero", SEND_STORE_FILE,
				 strerror(errno));
		buf_free(&in);
		return;
	}
	char why[128];
	int n = send_counters_load(st->sc, in.data ? in.data : "", in.len, why, sizeof why);
	buf_free(&in);
	if (n < 0) {
		/* kept for a look, out of the way of the next write */
		const char *bad = SEND_STORE_FILE ".corrupt";
		bool moved = renameat(st->dirfd, SEND_STORE_FILE, st->dirfd, bad) == 0;
		log_warn("send counters: %s is damaged (%s) and is ignored%s%s: every account starts from zero",
			 SEND_STORE_FILE, why, moved ? "; kept as " : "", moved ? bad : "");
		return;
	}
	log_info("send counters: %d open window%s taken back from %s", n, n == 1 ? "" : "s", SEND_STORE_FILE);
}

struct send_store *send_store_open(struct send_counters *sc, int dirfd, struct dir_conn *c)
{
	struct send_store *st = xcalloc(1, sizeof *st);
	st->sc = sc;
	st->dirfd = dirfd;
	pthread_mutex_init(&st->wmu, NULL);
	pthread_mutex_init(&st->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&st->cv, &ca);
	pthread_condattr_destroy(&ca);
	load(st);
	/* what was loaded is what the file holds: no write until a change */
	st->saved = send_counters_gen(sc);
	send_counters_on_sync(sc, sync_hook, st);
	/* accounts deleted while the daemon was down (written at once) */
	int gone = send_counters_prune(sc, c);
	if (gone > 0)
		log_info("send counters: %d window%s of deleted accounts dropped", gone, gone == 1 ? "" : "s");
	if (pthread_create(&st->thr, NULL, writer, st) != 0)
		fatal("send counters: cannot start the writer thread");
	return st;
}

void send_store_close(struct send_store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&st->mu);
	st->stop = true;
	pthread_cond_broadcast(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->thr, NULL);
	send_counters_on_sync(st->sc, NULL, NULL);
	send_store_flush(st);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	pthread_mutex_destroy(&st->wmu);
	free(st);
}
