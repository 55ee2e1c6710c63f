/*
 * connlimit - per-service and per-peer connection counters.
 */
#include "connlimit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../admin/admin.h"
#include "../admin/settings.h"
#include "../core/xmalloc.h"
#include "lstacl.h"

#define SCOPES 128 /* the services, listeners and their allow rules with limits */
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
	char name[200];
	long active;
	struct window w;
	struct peer peers[PEER_SLOTS];
};

static struct scope *scopes[SCOPES]; /* allocated when first used */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void conf_load(struct dir_conn *rd, const char *prefix, struct connlimit_conf *cf)
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
	for (int i = 0; i < SCOPES && scopes[i]; i++)
		if (!strcmp(scopes[i]->name, name))
			return scopes[i];
	if (!create)
		return NULL;
	for (int i = 0; i < SCOPES; i++)
		if (!scopes[i]) {
			scopes[i] = xcalloc(1, sizeof *scopes[i]);
			snprintf(scopes[i]->name, sizeof scopes[i]->name, "%s", name);
			return scopes[i];
		}
	/* full: take over an idle rule's table (its rate windows start again) */
	for (int i = 0; i < SCOPES; i++)
		if (strchr(scopes[i]->name, '/') && scopes[i]->active == 0) { /* "scope:ipset/len" */
			memset(scopes[i], 0, sizeof *scopes[i]);
			snprintf(scopes[i]->name, sizeof scopes[i]->name, "%s", name);
			return scopes[i];
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

bool connlimit_rule_parse(const char *entry, char *ipset, size_t sz, struct connlimit_conf *cf)
{
	char set[128];
	int used = 0;
	if (sscanf(entry, " %127s %ld %ld %ld %ld %ld %ld %n", set, &cf->max_conns, &cf->interval, &cf->max_interval,
		   &cf->peer_max_conns, &cf->peer_interval, &cf->peer_max_interval, &used) != 7 ||
	    strlen(set) >= sz)
		return false;
	cf->off = !strcmp(entry + used, "off");
	if (entry[used] != '\0' && !cf->off)
		return false;
	snprintf(ipset, sz, "%s", set);
	return true;
}

static bool conf_any(const struct connlimit_conf *cf)
{
	return cf->max_conns > 0 || cf->max_interval > 0 || cf->peer_max_conns > 0 || cf->peer_max_interval > 0;
}

/* The peer's allow rule in list (AccRuleLimits format): the first
 * enabled entry holding it, if it has limits. */
static bool rule_of(const char *rules, const char *peer, char *ipset, size_t sz, struct connlimit_conf *cf)
{
	char list[4096];
	snprintf(list, sizeof list, "%s", rules);
	char *save = NULL;
	for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		if (!connlimit_rule_parse(e, ipset, sz, cf) || cf->off)
			continue;
		if (admin_ipmap_rule_matches(ipset, "", peer))
			return conf_any(cf);
	}
	return false;
}

/* One level (service or listener): its own limits under scope, then the
 * limits of the peer's allow rule under "scope:ipset". */
static enum connlimit_verdict admit_level(const char *scope, const char *peer, const struct connlimit_conf *own,
					  const char *rules, char *rule_r, size_t rsz, bool *held, bool *rule_held)
{
	time_t now = time(NULL);
	enum connlimit_verdict v = connlimit_enter(scope, peer, own, now);
	if (v != CONNLIMIT_OK)
		return v;
	*held = true;
	char ipset[64];
	struct connlimit_conf cf;
	if (rule_of(rules, peer, ipset, sizeof ipset, &cf)) {
		char rs[300];
		snprintf(rs, sizeof rs, "%s:%s", scope, ipset);
		v = connlimit_enter(rs, peer, &cf, now);
		if (v == CONNLIMIT_MAX)
			v = CONNLIMIT_RULE_MAX;
		else if (v == CONNLIMIT_RATE)
			v = CONNLIMIT_RULE_RATE;
		if (v != CONNLIMIT_OK) {
			connlimit_leave(scope, peer);
			*held = false;
			return v;
		}
		snprintf(rule_r, rsz, "%s", ipset);
		*rule_held = true;
	}
	return CONNLIMIT_OK;
}

enum connlimit_verdict connlimit_admit(struct dir_conn *rd, const char *prefix, const char *scope, const char *peer,
				       struct connlimit_ticket *t)
{
	memset(t, 0, sizeof *t);
	snprintf(t->scope, sizeof t->scope, "%s", scope);
	snprintf(t->peer, sizeof t->peer, "%s", peer);
	struct connlimit_conf cf;
	conf_load(rd, prefix, &cf);
	char key[96], rules[4096];
	snprintf(key, sizeof key, "%sAccRuleLimits", prefix);
	settings_get(rd, key, rules, sizeof rules);
	return admit_level(scope, peer, &cf, rules, t->rule, sizeof t->rule, &t->held, &t->rule_held);
}

enum connlimit_verdict connlimit_admit_listener(struct dir_conn *rd, const char *scope, const char *laddr,
						const char *peer, struct connlimit_ticket *t)
{
	struct lstacl acl;
	if (!laddr || !*laddr || !lstacl_load(rd, scope, laddr, &acl))
		return CONNLIMIT_OK; /* nothing stored for this listener */
	snprintf(t->lscope, sizeof t->lscope, "%s@%s", scope, laddr);
	if (!t->peer[0])
		snprintf(t->peer, sizeof t->peer, "%s", peer);
	return admit_level(t->lscope, peer, &acl.limits, acl.rule_limits, t->lrule, sizeof t->lrule, &t->lheld,
			   &t->lrule_held);
}

void connlimit_release(struct connlimit_ticket *t)
{
	char rs[300];
	if (t->lrule_held) {
		snprintf(rs, sizeof rs, "%s:%s", t->lscope, t->lrule);
		connlimit_leave(rs, t->peer);
	}
	if (t->lheld)
		connlimit_leave(t->lscope, t->peer);
	if (t->rule_held) {
		snprintf(rs, sizeof rs, "%s:%s", t->scope, t->rule);
		connlimit_leave(rs, t->peer);
	}
	if (t->held)
		connlimit_leave(t->scope, t->peer);
	t->held = t->rule_held = t->lheld = t->lrule_held = false;
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
	case CONNLIMIT_RULE_MAX:
		return "Too many connections from your network";
	case CONNLIMIT_RULE_RATE:
		return "Too many new connections from your network, try again later";
	}
	return "refused";
}
