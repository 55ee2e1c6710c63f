/*
 * send_limits - per-account sending limits and their in-memory counters
 * (see send_limits.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/xmalloc.h"
#include "send_limits.h"

/* ---- the limits ---- */

static int64_t var_number(const char *v)
{
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || x < 0)
		return 0;
	return x;
}

static int limit_var(void *arg, const char *const *f, int n)
{
	struct send_limits *l = arg;
	if (n < 2)
		return 0;
	if (!strcmp(f[0], "SmtpSendEnable"))
		l->send_enabled = strcmp(f[1], "0") != 0;
	else if (!strcmp(f[0], "Limits.sentMessagesCount"))
		l->max_msgs = var_number(f[1]);
	else if (!strcmp(f[0], "Limits.sentRecipientsCount"))
		l->max_rcpts = var_number(f[1]);
	else if (!strcmp(f[0], "Limits.sentMessagesSize"))
		l->max_kb = var_number(f[1]);
	else if (!strcmp(f[0], "Limits.sentMessagesInterval"))
		l->interval = var_number(f[1]);
	return 0;
}

void send_limits_read(struct dir_conn *c, int64_t account_id, struct send_limits *l)
{
	memset(l, 0, sizeof *l);
	l->send_enabled = true;
	if (c && account_id > 0)
		dir_uservar_list(c, account_id, limit_var, l);
	if (l->interval <= 0)
		l->interval = SEND_DEFAULT_INTERVAL;
	if (l->interval > 100LL * 365 * 86400)
		l->interval = 100LL * 365 * 86400;
}

bool send_limits_active(const struct send_limits *l)
{
	return l->max_msgs > 0 || l->max_rcpts > 0 || l->max_kb > 0;
}

/* ---- the counters ---- */

struct slot {
	int64_t id;
	int64_t start, end; /* ms, monotonic */
	int64_t serial;     /* which window this is (refunds go to their own window only) */
	int64_t msgs, rcpts, bytes;
	int next; /* bucket chain or free list, -1 = end */
};

struct send_counters {
	pthread_mutex_t mu;
	struct slot *slots;
	int cap;
	int *bucket;
	int nbuckets; /* power of two */
	int free_head;
	int64_t serials; /* windows opened so far */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct send_counters *send_counters_new(int capacity)
{
	struct send_counters *sc = xcalloc(1, sizeof *sc);
	pthread_mutex_init(&sc->mu, NULL);
	sc->cap = capacity > 0 ? capacity : 1;
	sc->slots = xcalloc((size_t)sc->cap, sizeof *sc->slots);
	sc->nbuckets = 1;
	while (sc->nbuckets < sc->cap)
		sc->nbuckets <<= 1;
	sc->bucket = xcalloc((size_t)sc->nbuckets, sizeof *sc->bucket);
	for (int i = 0; i < sc->nbuckets; i++)
		sc->bucket[i] = -1;
	for (int i = 0; i < sc->cap; i++)
		sc->slots[i].next = i + 1 < sc->cap ? i + 1 : -1;
	sc->free_head = 0;
	return sc;
}

void send_counters_free(struct send_counters *sc)
{
	if (!sc)
		return;
	pthread_mutex_destroy(&sc->mu);
	free(sc->slots);
	free(sc->bucket);
	free(sc);
}

static int bucket_of(const struct send_counters *sc, int64_t id)
{
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;
	return (int)((h >> 32) & (uint64_t)(sc->nbuckets - 1));
}

/* Give every slot whose window has ended back to the free list. */
static void sweep(struct send_counters *sc, int64_t now)
{
	for (int b = 0; b < sc->nbuckets; b++) {
		int *pp = &sc->bucket[b];
		while (*pp >= 0) {
			struct slot *e = &sc->slots[*pp];
			if (now >= e->end) {
				int i = *pp;
				*pp = e->next;
				e->next = sc->free_head;
				sc->free_head = i;
			} else {
				pp = &e->next;
			}
		}
	}
}

/* The account's slot with a live window (the window's end follows the
 * current interval), or NULL. An ended window's slot is freed. */
static struct slot *find(struct send_counters *sc, int64_t id, int64_t interval_ms, int64_t now)
{
	int *pp = &sc->bucket[bucket_of(sc, id)];
	while (*pp >= 0) {
		struct slot *e = &sc->slots[*pp];
		if (e->id == id) {
			e->end = e->start + interval_ms;
			if (now < e->end)
				return e;
			int i = *pp;
			*pp = e->next;
			e->next = sc->free_head;
			sc->free_head = i;
			return NULL;
		}
		pp = &e->next;
	}
	return NULL;
}

static struct slot *open_window(struct send_counters *sc, int64_t id, int64_t interval_ms, int64_t now)
{
	if (sc->free_head < 0)
		sweep(sc, now);
	if (sc->free_head < 0)
		return NULL;
	int i = sc->free_head;
	struct slot *e = &sc->slots[i];
	sc->free_head = e->next;
	memset(e, 0, sizeof *e);
	e->id = id;
	e->serial = ++sc->serials;
	e->start = now;
	e->end = now + interval_ms;
	int b = bucket_of(sc, id);
	e->next = sc->bucket[b];
	sc->bucket[b] = i;
	return e;
}

static enum send_verdict judge(const struct send_limits *l, const struct slot *e, int64_t msgs, int64_t rcpts,
			       int64_t bytes)
{
	int64_t um = e ? e->msgs : 0, ur = e ? e->rcpts : 0, ub = e ? e->bytes : 0;
	if (l->max_msgs > 0 && msgs > 0 && um + msgs > l->max_msgs)
		return SEND_OVER_MSGS;
	if (l->max_rcpts > 0 && rcpts > 0 && ur + rcpts > l->max_rcpts)
		return SEND_OVER_RCPTS;
	if (l->max_kb > 0 && bytes > 0 && ub + bytes > l->max_kb * 1024)
		return SEND_OVER_SIZE;
	return SEND_OK;
}

static int64_t retry_secs(const struct slot *e, int64_t now)
{
	if (!e || e->end <= now)
		return 0;
	return (e->end - now + 999) / 1000;
}

enum send_verdict send_counters_check(struct send_counters *sc, int64_t id, const struct send_limits *l, int64_t msgs,
				      int64_t rcpts, int64_t bytes, int64_t *retry_r)
{
	*retry_r = 0;
	if (!send_limits_active(l))
		return SEND_OK;
	int64_t now = now_ms();
	pthread_mutex_lock(&sc->mu);
	struct slot *e = find(sc, id, l->interval * 1000, now);
	enum send_verdict v = judge(l, e, msgs, rcpts, bytes);
	*retry_r = retry_secs(e, now);
	pthread_mutex_unlock(&sc->mu);
	return v;
}

enum send_verdict send_counters_charge(struct send_counters *sc, int64_t id, const struct send_limits *l,
				       int64_t msgs, int64_t rcpts, int64_t bytes, int64_t *retry_r,
				       struct send_ticket *t)
{
	memset(t, 0, sizeof *t);
	*retry_r = 0;
	if (!send_limits_active(l))
		return SEND_OK;
	int64_t now = now_ms(), iv = l->interval * 1000;
	pthread_mutex_lock(&sc->mu);
	struct slot *e = find(sc, id, iv, now);
	enum send_verdict v = judge(l, e, msgs, rcpts, bytes);
	if (v == SEND_OK && !e && !(e = open_window(sc, id, iv, now)))
		v = SEND_FULL;
	if (v == SEND_OK) {
		e->msgs += msgs;
		e->rcpts += rcpts;
		e->bytes += bytes;
		*t = (struct send_ticket){id, e->serial, msgs, rcpts, bytes};
	}
	*retry_r = retry_secs(e, now);
	pthread_mutex_unlock(&sc->mu);
	return v;
}

void send_counters_refund(struct send_counters *sc, const struct send_ticket *t)
{
	if (!t->id)
		return;
	pthread_mutex_lock(&sc->mu);
	for (int i = sc->bucket[bucket_of(sc, t->id)]; i >= 0; i = sc->slots[i].next) {
		struct slot *e = &sc->slots[i];
		if (e->id != t->id)
			continue;
		if (e->serial == t->window) {
			e->msgs = e->msgs > t->msgs ? e->msgs - t->msgs : 0;
			e->rcpts = e->rcpts > t->rcpts ? e->rcpts - t->rcpts : 0;
			e->bytes = e->bytes > t->bytes ? e->bytes - t->bytes : 0;
		}
		break;
	}
	pthread_mutex_unlock(&sc->mu);
}

void send_counters_usage(struct send_counters *sc, int64_t id, int64_t interval, struct send_usage *u)
{
	memset(u, 0, sizeof *u);
	if (interval <= 0)
		interval = SEND_DEFAULT_INTERVAL;
	int64_t now = now_ms();
	pthread_mutex_lock(&sc->mu);
	struct slot *e = find(sc, id, interval * 1000, now);
	if (e) {
		u->open = true;
		u->msgs = e->msgs;
		u->rcpts = e->rcpts;
		u->bytes = e->bytes;
		u->started = (int64_t)time(NULL) - (now - e->start) / 1000;
		u->remaining = retry_secs(e, now);
	}
	pthread_mutex_unlock(&sc->mu);
}

bool send_counters_reset(struct send_counters *sc, int64_t id)
{
	bool was = false;
	pthread_mutex_lock(&sc->mu);
	for (int *pp = &sc->bucket[bucket_of(sc, id)]; *pp >= 0; pp = &sc->slots[*pp].next) {
		struct slot *e = &sc->slots[*pp];
		if (e->id != id)
			continue;
		int i = *pp;
		*pp = e->next;
		e->next = sc->free_head;
		sc->free_head = i;
		was = now_ms() < e->end;
		break;
	}
	pthread_mutex_unlock(&sc->mu);
	return was;
}
