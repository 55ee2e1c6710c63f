/*
 * connlimit - per-service and per-peer connection counters.
 */
#include "connlimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../admin/settings.h"

#define SCOPES 4
#define PEER_SLOTS 1024

struct window {
	time_t start;
	long n;
};

struct peer {
	char addr[64];
	long active;
	struct window w;
};

struct scope {
	char name[16];
	long active;
	struct window w;
	struct peer peers[PEER_SLOTS];
};

static struct scope scopes[SCOPES];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

void connlimit_load(struct dir_conn *rd, const char *prefix, struct connlimit_conf *cf)
{
	static const char *const names[6] = {"MaxConnections",	   "TimeInterval",     "MaxIntervalConnections",
					     "PeerMaxConnections", "PeerTimeInterval", "PeerMaxIntervalConnections"};
	long *dst[6] = {&cf->max_conns,	     &cf->interval,	 &cf->max_interval,
			&cf->peer_max_conns, &cf->peer_interval, &cf->peer_max_interval};
	for (int i = 0; i < 6; i++) {
		char key[96];
		snprintf(key, sizeof key, "%sAcc%s", prefix, names[i]);
		*dst[i] = settings_get_int(rd, key);
	}
}

static struct scope *scope_find(const char *name, bool create)
{
	for (int i = 0; i < SCOPES; i++)
		if (!strcmp(scopes[i].name, name))
			return &scopes[i];
	if (!create)
		return NULL;
	for (int i = 0; i < SCOPES; i++)
		if (!scopes[i].name[0]) {
			snprintf(scopes[i].name, sizeof scopes[i].name, "%s", name);
			return &scopes[i];
		}
	return NULL;
}

/* A peer's slot; with create, a free one (no connection and its window
 * over) is taken. NULL: none. */
static struct peer *peer_find(struct scope *sc, const char *addr, bool create, long interval, time_t now)
{
	struct peer *free_slot = NULL;
	for (int i = 0; i < PEER_SLOTS; i++) {
		struct peer *p = &sc->peers[i];
		if (p->addr[0] && !strcmp(p->addr, addr))
			return p;
		if (!free_slot && (!p->addr[0] || (p->active == 0 && now - p->w.start >= interval)))
			free_slot = p;
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof *free_slot);
	snprintf(free_slot->addr, sizeof free_slot->addr, "%s", addr);
	return free_slot;
}

/* Would one more connection break the window's limit? (The window is
 * restarted when it is over.) */
static bool window_full(struct window *w, long interval, long max, time_t now)
{
	if (max <= 0)
		return false;
	if (now - w->start >= (interval > 0 ? interval : 1)) {
		w->start = now;
		w->n = 0;
	}
	return w->n >= max;
}

enum connlimit_verdict connlimit_enter(const char *scope, const char *peer, const struct connlimit_conf *cf,
				       time_t now)
{
	enum connlimit_verdict v = CONNLIMIT_OK;
	pthread_mutex_lock(&mu);
	struct scope *sc = scope_find(scope, true);
	if (!sc)
		goto out;
	long pi = cf->peer_interval > 0 ? cf->peer_interval : 1;
	struct peer *p = peer_find(sc, peer, true, pi, now);
	if (cf->max_conns > 0 && sc->active >= cf->max_conns)
		v = CONNLIMIT_MAX;
	else if (window_full(&sc->w, cf->interval, cf->max_interval, now))
		v = CONNLIMIT_RATE;
	else if (p && cf->peer_max_conns > 0 && p->active >= cf->peer_max_conns)
		v = CONNLIMIT_PEER_MAX;
	else if (p && window_full(&p->w, pi, cf->peer_max_interval, now))
		v = CONNLIMIT_PEER_RATE;
	if (v != CONNLIMIT_OK) {
		if (p && !p->active && !p->w.n)
			p->addr[0] = '\0'; /* a slot made only for this refusal */
		goto out;
	}
	sc->active++;
	sc->w.n++;
	if (p) {
		p->active++;
		p->w.n++;
	}
out:
	pthread_mutex_unlock(&mu);
	return v;
}

void connlimit_leave(const char *scope, const char *peer)
{
	pthread_mutex_lock(&mu);
	struct scope *sc = scope_find(scope, false);
	if (sc) {
		if (sc->active > 0)
			sc->active--;
		struct peer *p = peer_find(sc, peer, false, 1, 0);
		if (p && p->active > 0)
			p->active--;
	}
	pthread_mutex_unlock(&mu);
}

const char *connlimit_text(enum connlimit_verdict v)
{
	switch (v) {
	case CONNLIMIT_OK:
		return "admitted";
	case CONNLIMIT_MAX:
		return "Too many connections to this service";
	case CONNLIMIT_RATE:
		return "Too many new connections to this service, try again later";
	case CONNLIMIT_PEER_MAX:
		return "Too many connections from your address";
	case CONNLIMIT_PEER_RATE:
		return "Too many new connections from your address, try again later";
	}
	return "refused";
}
