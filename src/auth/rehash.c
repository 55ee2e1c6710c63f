/*
 * rehash - background yescrypt hashing of pending passwords.
 */
#include "rehash.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin.h"
#include "../admin/settings.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "password.h"

#define BATCH 16
#define QUIET_MS 500

static pthread_t worker;
static bool running, stopping, kicked;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static struct admin_env *renv;

struct hashed {
	int n;
	int64_t id[BATCH];
	void *box[BATCH];
	size_t len[BATCH];
	char hash[BATCH][160];
	bool ok[BATCH];
};

static enum tern_err tx_store(struct dir_conn *c, void *arg)
{
	struct hashed *h = arg;
	for (int i = 0; i < h->n; i++) {
		if (!h->ok[i])
			continue;
		enum tern_err e = dir_user_set_hash_if(c, h->id[i], h->hash[i], h->box[i], h->len[i]);
		if (e)
			return e;
	}
	return TERN_OK;
}

static bool should_stop(void)
{
	pthread_mutex_lock(&mu);
	bool s = stopping;
	pthread_mutex_unlock(&mu);
	return s;
}

static void *rehash_main(void *arg)
{
	(void)arg;
	/* Hashing is deliberately slow: let it use only otherwise idle CPU. */
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19) < 0)
		log_warn("rehash: cannot lower the worker's priority");
	struct dir_conn *c = dir_conn_open(renv->dir);
	if (!c)
		return NULL;
	for (;;) {
		pthread_mutex_lock(&mu);
		if (!kicked && !stopping) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 5;
			pthread_cond_timedwait(&cv, &mu, &until);
		}
		kicked = false;
		bool stop = stopping;
		pthread_mutex_unlock(&mu);
		if (stop)
			break;
		for (;;) {
			struct hashed h = {0};
			h.n = dir_user_pending_batch(c, BATCH, h.id, h.box, h.len);
			if (h.n == 0)
				break;
			int cost = (int)settings_get_int(c, "PasswordHashCost");
			/* Stay out of bulk provisioning: hash once admin writes pause. */
			while (!should_stop() && dir_idle_ms(renv->dir, tx_store) < QUIET_MS) {
				struct timespec ts = {0, 100 * 1000000L};
				nanosleep(&ts, NULL);
			}
			for (int i = 0; i < h.n && !should_stop(); i++) {
				struct buf plain = BUF_INIT;
				if (secret_box_open(h.box[i], h.len[i], &plain) == 0 &&
				    pw_hash(plain.data ? plain.data : "", cost, h.hash[i], sizeof h.hash[i]) == 0)
					h.ok[i] = true;
				else
					log_err("rehash: cannot hash pending password of account %lld",
						(long long)h.id[i]);
				if (plain.data)
					secret_wipe(plain.data, plain.len);
				buf_free(&plain);
			}
			if (!should_stop())
				dir_write(renv->dir, tx_store, &h);
			for (int i = 0; i < h.n; i++)
				free(h.box[i]);
			bool any = false;
			for (int i = 0; i < h.n; i++)
				any |= h.ok[i];
			if (should_stop() || !any)
				break;
		}
	}
	dir_conn_close(c);
	return NULL;
}

int rehash_start(struct admin_env *env)
{
	renv = env;
	kicked = true;
	if (pthread_create(&worker, NULL, rehash_main, NULL) != 0)
		return -1;
	running = true;
	return 0;
}

void rehash_kick(void)
{
	pthread_mutex_lock(&mu);
	kicked = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

void rehash_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stopping = true;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(worker, NULL);
	running = false;
}
