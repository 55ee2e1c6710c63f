/*
 * mboxlock - maildrop locks and the mailbox moves lock; see mboxlock.h.
 */
#include "mboxlock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/xmalloc.h"

static pthread_mutex_t keys_mu = PTHREAD_MUTEX_INITIALIZER;
static char **keys;
static int nkeys;

bool mboxlock_take(const char *key)
{
	pthread_mutex_lock(&keys_mu);
	for (int i = 0; i < nkeys; i++)
		if (!strcasecmp(keys[i], key)) {
			pthread_mutex_unlock(&keys_mu);
			return false;
		}
	keys = xrealloc(keys, (size_t)(nkeys + 1) * sizeof *keys);
	keys[nkeys++] = xstrdup(key);
	pthread_mutex_unlock(&keys_mu);
	return true;
}

void mboxlock_drop(const char *key)
{
	pthread_mutex_lock(&keys_mu);
	for (int i = 0; i < nkeys; i++)
		if (!strcasecmp(keys[i], key)) {
			free(keys[i]);
			keys[i] = keys[--nkeys];
			break;
		}
	if (nkeys == 0) {
		free(keys);
		keys = NULL;
	}
	pthread_mutex_unlock(&keys_mu);
}

bool mboxlock_domain_busy(const char *domain)
{
	size_t l = strlen(domain);
	bool busy = false;
	pthread_mutex_lock(&keys_mu);
	for (int i = 0; i < nkeys && !busy; i++)
		busy = !strncasecmp(keys[i], domain, l) && keys[i][l] == '/';
	pthread_mutex_unlock(&keys_mu);
	return busy;
}

/* Writers first: a rename waits for the runs under way, not for every run
 * that starts after it asked. */
static pthread_rwlock_t moves;
static pthread_once_t moves_once = PTHREAD_ONCE_INIT;

static void moves_init(void)
{
	pthread_rwlockattr_t a;
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&moves, &a);
	pthread_rwlockattr_destroy(&a);
}

void mbox_use_begin(void)
{
	pthread_once(&moves_once, moves_init);
	pthread_rwlock_rdlock(&moves);
}

void mbox_use_end(void)
{
	pthread_rwlock_unlock(&moves);
}

void mbox_moves_begin(void)
{
	pthread_once(&moves_once, moves_init);
	pthread_rwlock_wrlock(&moves);
}

void mbox_moves_end(void)
{
	pthread_rwlock_unlock(&moves);
}
