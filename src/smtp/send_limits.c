/*
 * send_limits - per-account sending limits and their counters (see
 * send_limits.h; the file that keeps the counters over restarts is
 * send_store.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
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
	uint64_t gen;    /* bumped by every change of a count (the store's "dirty") */
	pthread_mutex_t smu;    /* sync, sync_arg; held while a sync runs */
	int (*sync)(void *arg); /* make the current counts durable (send_store) */
	void *sync_arg;
};

static int64_t clock_ms(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

struct send_counters *send_counters_new(int capacity)
{
	struct send_counters *sc = xcalloc(1, sizeof *sc);
	pthread_mutex_init(&sc->mu, NULL);
	pthread_mutex_init(&sc->smu, NULL);
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
	pthread_mutex_destroy(&sc->smu);
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
		sc->gen++;
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
			sc->gen++;
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
		u->started = (clock_ms(CLOCK_REALTIME) - (now - e->start)) / 1000;
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
		sc->gen++;
		break;
	}
	pthread_mutex_unlock(&sc->mu);
	return was;
}

/* ---- keeping the counters over restarts (the format is send_store's) ---- */

#define DUMP_HEAD "# tern send counters 1\n"

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t send_counters_gen(struct send_counters *sc)
{
	pthread_mutex_lock(&sc->mu);
	uint64_t g = sc->gen;
	pthread_mutex_unlock(&sc->mu);
	return g;
}

uint64_t send_counters_dump(struct send_counters *sc, struct buf *out)
{
	int64_t now = now_ms(), wall = clock_ms(CLOCK_REALTIME);
	buf_puts(out, DUMP_HEAD);
	size_t body = out->len;
	int n = 0;
	pthread_mutex_lock(&sc->mu);
	uint64_t gen = sc->gen;
	for (int b = 0; b < sc->nbuckets; b++)
		for (int i = sc->bucket[b]; i >= 0; i = sc->slots[i].next) {
			const struct slot *e = &sc->slots[i];
			if (now >= e->end)
				continue; /* ended: nothing to keep */
			buf_printf(out, "%" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
				   e->id, e->serial, wall - (now - e->start), wall + (e->end - now), e->msgs, e->rcpts,
				   e->bytes);
			n++;
		}
	pthread_mutex_unlock(&sc->mu);
	buf_printf(out, ".end %d %016" PRIx64 "\n", n, fnv1a(out->data + body, out->len - body));
	return gen;
}

struct loaded {
	int64_t id, serial, start, end, msgs, rcpts, bytes;
};

static bool parse_i64(const char **p, int64_t *v)
{
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return false;
	char *end;
	errno = 0;
	long long x = strtoll(s, &end, 10);
	if (errno || (*end != ' ' && *end != '\n'))
		return false;
	*v = x;
	*p = end + (*end == ' ');
	return true;
}

int send_counters_load(struct send_counters *sc, const char *data, size_t len, char *why, size_t whysz)
{
	const size_t hl = sizeof DUMP_HEAD - 1;
	if (len < hl || memcmp(data, DUMP_HEAD, hl)) {
		snprintf(why, whysz, "no header");
		return -1;
	}
	/* the last line is ".end COUNT CHECKSUM" over the lines before it */
	if (len == hl || data[len - 1] != '\n') {
		snprintf(why, whysz, "truncated");
		return -1;
	}
	size_t tl = len - 1;
	while (tl > hl && data[tl - 1] != '\n')
		tl--;
	int count;
	uint64_t sum;
	char trail[80];
	size_t tn = len - tl;
	if (tn >= sizeof trail || memcmp(data + tl, ".end ", 5)) {
		snprintf(why, whysz, "truncated: no end line");
		return -1;
	}
	memcpy(trail, data + tl, tn);
	trail[tn] = '\0';
	char extra;
	if (sscanf(trail, ".end %d %" SCNx64 "%c", &count, &sum, &extra) != 3 || extra != '\n' || count < 0) {
		snprintf(why, whysz, "bad end line");
		return -1;
	}
	if (fnv1a(data + hl, tl - hl) != sum || (size_t)count > (tl - hl) / 14) {
		snprintf(why, whysz, "checksum mismatch");
		return -1;
	}
	struct loaded *v = xcalloc((size_t)count + 1, sizeof *v);
	int n = 0;
	for (const char *p = data + hl; p < data + tl;) {
		struct loaded r;
		if (n >= count || !parse_i64(&p, &r.id) || !parse_i64(&p, &r.serial) || !parse_i64(&p, &r.start) ||
		    !parse_i64(&p, &r.end) || !parse_i64(&p, &r.msgs) || !parse_i64(&p, &r.rcpts) ||
		    !parse_i64(&p, &r.bytes) || *p++ != '\n' || r.id <= 0 || r.end < r.start) {
			snprintf(why, whysz, "bad line %d", n + 2);
			free(v);
			return -1;
		}
		for (int k = 0; k < n; k++)
			if (v[k].id == r.id) {
				snprintf(why, whysz, "account %" PRId64 " twice", r.id);
				free(v);
				return -1;
			}
		v[n++] = r;
	}
	if (n != count) {
		snprintf(why, whysz, "%d lines for %d counters", n, count);
		free(v);
		return -1;
	}
	/* Windows that ended while the daemon was down are dropped; the rest
	 * go back on the monotonic clock at the same age. A start in the
	 * future (the wall clock was set back) counts as now. */
	int64_t now = now_ms(), wall = clock_ms(CLOCK_REALTIME);
	int kept = 0;
	pthread_mutex_lock(&sc->mu);
	for (int k = 0; k < n; k++) {
		if (v[k].end <= wall)
			continue;
		int64_t age = wall - v[k].start;
		if (age < 0)
			age = 0;
		int64_t len_ms = v[k].end - v[k].start;
		struct slot *e = NULL;
		for (int i = sc->bucket[bucket_of(sc, v[k].id)]; i >= 0 && !e; i = sc->slots[i].next)
			if (sc->slots[i].id == v[k].id)
				e = &sc->slots[i];
		if (!e && !(e = open_window(sc, v[k].id, len_ms, now - age)))
			break; /* the table is full: the rest start afresh */
		e->start = now - age;
		e->end = e->start + len_ms;
		e->msgs = v[k].msgs;
		e->rcpts = v[k].rcpts;
		e->bytes = v[k].bytes;
		e->serial = v[k].serial;
		if (v[k].serial > sc->serials)
			sc->serials = v[k].serial;
		kept++;
	}
	pthread_mutex_unlock(&sc->mu);
	free(v);
	return kept;
}

/* smu is held across the call, so unhooking waits for a sync under way
 * (the store is freed after it unhooks). */
void send_counters_on_sync(struct send_counters *sc, int (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&sc->smu);
	sc->sync = fn;
	sc->sync_arg = arg;
	pthread_mutex_unlock(&sc->smu);
}

int send_counters_sync(struct send_counters *sc)
{
	pthread_mutex_lock(&sc->smu);
	int rc = sc->sync ? sc->sync(sc->sync_arg) : 0;
	pthread_mutex_unlock(&sc->smu);
	return rc;
}

int send_counters_prune(struct send_counters *sc, struct dir_conn *c)
{
	if (!c)
		return -1;
	/* The ids are collected under the lock, looked up without it. */
	pthread_mutex_lock(&sc->mu);
	int n = 0;
	int64_t *ids = xcalloc((size_t)sc->cap, sizeof *ids);
	for (int b = 0; b < sc->nbuckets; b++)
		for (int i = sc->bucket[b]; i >= 0; i = sc->slots[i].next)
			ids[n++] = sc->slots[i].id;
	pthread_mutex_unlock(&sc->mu);
	int dropped = 0;
	for (int k = 0; k < n; k++)
		if (!dir_user_id_taken(c, ids[k]) && send_counters_reset(sc, ids[k]))
			dropped++;
	free(ids);
	if (dropped && send_counters_sync(sc) < 0)
		return -1;
	return dropped;
}
