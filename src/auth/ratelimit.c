/*
 * ratelimit - a small fixed table of peers with failure counts.
 */
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SLOTS 1024

struct slot {
	char key[96];
	int fails;
	time_t first;
	time_t blocked_until;
	time_t last;
};

static struct slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static struct slot *find(const char *scope, const char *peer, bool create)
{
	char key[96];
	snprintf(key, sizeof key, "%s|%s", scope, peer);
	struct slot *oldest = &table[0];
	for (int i = 0; i < SLOTS; i++) {
		if (!strcmp(table[i].key, key))
			return &table[i];
		if (table[i].last < oldest->last)
			oldest = &table[i];
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->key, sizeof oldest->key, "%s", key);
	return oldest;
}

bool rl_blocked(const char *scope, const char *peer)
{
	pthread_mutex_lock(&mu);
	struct slot *s = find(scope, peer, false);
	bool b = s && s->blocked_until > time(NULL);
	pthread_mutex_unlock(&mu);
	return b;
}

int rl_fail(const char *scope, const char *peer, int max, int block_sec)
{
	time_t now = time(NULL);
	pthread_mutex_lock(&mu);
	struct slot *s = find(scope, peer, true);
	if (s->first == 0 || now - s->first > block_sec) {
		s->first = now;
		s->fails = 0;
	}
	s->fails++;
	s->last = now;
	if (s->fails >= max)
		s->blocked_until = now + block_sec;
	int n = s->fails;
	pthread_mutex_unlock(&mu);
	return n;
}

void rl_success(const char *scope, const char *peer)
{
	pthread_mutex_lock(&mu);
	struct slot *s = find(scope, peer, false);
	if (s && s->blocked_until <= time(NULL))
		memset(s, 0, sizeof *s);
	pthread_mutex_unlock(&mu);
}
