/*
 * dns_cache - a bounded LRU of raw DNS answers with expiry (see dns_cache.h).
 *
 * A hash table (chains, doubled when the entries outnumber the buckets)
 * finds an entry; a doubly linked list orders the entries from most to
 * least recently used.
 */
#include "dns_cache.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct entry {
	struct entry *hnext;       /* hash chain */
	struct entry *prev, *next; /* LRU list: prev = more recent */
	uint32_t hash;
	long long expires; /* ms */
	int status;
	int len;
	unsigned char *buf;
	char key[];
};

struct dns_cache {
	pthread_mutex_t mu;
	struct entry **tab;
	size_t nb; /* buckets, a power of 2 */
	size_t n, max;
	struct entry *head, *tail; /* most / least recently used */
	unsigned long hits, misses;
};

static uint32_t hash_key(const char *k)
{
	uint32_t h = 2166136261u;
	for (const unsigned char *p = (const unsigned char *)k; *p; p++) {
		h ^= *p;
		h *= 16777619u;
	}
	return h;
}

struct dns_cache *dns_cache_new(size_t max)
{
	struct dns_cache *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->mu, NULL);
	c->nb = 64;
	c->tab = xcalloc(c->nb, sizeof *c->tab);
	c->max = max;
	return c;
}

static void lru_unlink(struct dns_cache *c, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct dns_cache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
}

/* Unlink e from its chain and the list, and free it. */
static void drop(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->tab[e->hash & (c->nb - 1)];
	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	lru_unlink(c, e);
	free(e->buf);
	free(e);
	c->n--;
}

static void trim(struct dns_cache *c)
{
	while (c->n > c->max && c->tail)
		drop(c, c->tail);
}

static void grow(struct dns_cache *c)
{
	size_t nb = c->nb * 2;
	struct entry **tab = xcalloc(nb, sizeof *tab);
	for (size_t i = 0; i < c->nb; i++)
		for (struct entry *e = c->tab[i], *nx; e; e = nx) {
			nx = e->hnext;
			e->hnext = tab[e->hash & (nb - 1)];
			tab[e->hash & (nb - 1)] = e;
		}
	free(c->tab);
	c->tab = tab;
	c->nb = nb;
}

static struct entry *find(struct dns_cache *c, const char *key, uint32_t h)
{
	for (struct entry *e = c->tab[h & (c->nb - 1)]; e; e = e->hnext)
		if (e->hash == h && !strcmp(e->key, key))
			return e;
	return NULL;
}

static size_t flush_locked(struct dns_cache *c)
{
	size_t n = c->n;
	while (c->head)
		drop(c, c->head);
	return n;
}

void dns_cache_free(struct dns_cache *c)
{
	if (!c)
		return;
	flush_locked(c);
	free(c->tab);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

void dns_cache_set_max(struct dns_cache *c, size_t max)
{
	pthread_mutex_lock(&c->mu);
	c->max = max;
	trim(c);
	pthread_mutex_unlock(&c->mu);
}

size_t dns_cache_max(struct dns_cache *c)
{
	pthread_mutex_lock(&c->mu);
	size_t m = c->max;
	pthread_mutex_unlock(&c->mu);
	return m;
}

size_t dns_cache_flush(struct dns_cache *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = flush_locked(c);
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t dns_cache_count(struct dns_cache *c)
{
	pthread_mutex_lock(&c->mu);
	size_t n = c->n;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void dns_cache_stats(struct dns_cache *c, unsigned long *hits, unsigned long *misses)
{
	pthread_mutex_lock(&c->mu);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(&c->mu);
}

bool dns_cache_get(struct dns_cache *c, const char *key, long long now, int *status, unsigned char **buf, int *len)
{
	*buf = NULL;
	*len = 0;
	uint32_t h = hash_key(key);
	pthread_mutex_lock(&c->mu);
	struct entry *e = find(c, key, h);
	if (e && e->expires <= now) {
		drop(c, e);
		e = NULL;
	}
	if (!e) {
		c->misses++;
		pthread_mutex_unlock(&c->mu);
		return false;
	}
	c->hits++;
	lru_unlink(c, e);
	lru_push_front(c, e);
	*status = e->status;
	if (e->len > 0) {
		*buf = xmalloc((size_t)e->len);
		memcpy(*buf, e->buf, (size_t)e->len);
		*len = e->len;
	}
	pthread_mutex_unlock(&c->mu);
	return true;
}

void dns_cache_put(struct dns_cache *c, const char *key, long long now, long ttl, int status, const unsigned char *buf,
		   int len)
{
	if (ttl <= 0 || len < 0 || len > DNS_CACHE_MAX_ANSWER)
		return;
	uint32_t h = hash_key(key);
	size_t klen = strlen(key);
	struct entry *e = xcalloc(1, sizeof *e + klen + 1);
	memcpy(e->key, key, klen + 1);
	e->hash = h;
	e->expires = now + (long long)ttl * 1000;
	e->status = status;
	if (len > 0 && buf) {
		e->buf = xmalloc((size_t)len);
		memcpy(e->buf, buf, (size_t)len);
		e->len = len;
	}
	pthread_mutex_lock(&c->mu);
	if (c->max == 0) {
		pthread_mutex_unlock(&c->mu);
		free(e->buf);
		free(e);
		return;
	}
	struct entry *old = find(c, key, h);
	if (old)
		drop(c, old);
	if (c->n + 1 > c->nb)
		grow(c);
	e->hnext = c->tab[h & (c->nb - 1)];
	c->tab[h & (c->nb - 1)] = e;
	lru_push_front(c, e);
	c->n++;
	trim(c);
	pthread_mutex_unlock(&c->mu);
}

/* ---- TTL of an answer ---- */

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Offset after the (possibly compressed) name at off, within [0, end); -1 if malformed. */
static int skip_name(const unsigned char *b, int end, int off)
{
	for (int labels = 0; labels < 128; labels++) {
		if (off >= end)
			return -1;
		unsigned c = b[off];
		if (c == 0)
			return off + 1;
		if ((c & 0xc0) == 0xc0)
			return off + 2 <= end ? off + 2 : -1;
		if (c & 0xc0)
			return -1;
		off += 1 + (int)c;
	}
	return -1;
}

/* A TTL as RFC 2181 8 reads it: a value with the top bit set is 0. */
static long ttl_value(uint32_t v)
{
	return (v & 0x80000000u) ? 0 : (long)v;
}

long dns_answer_ttl(const unsigned char *b, int len, bool negative)
{
	if (!b || len < 12)
		return -1;
	unsigned qd = get16(b + 4), an = get16(b + 6), ns = get16(b + 8);
	int off = 12;
	for (unsigned i = 0; i < qd; i++) {
		off = skip_name(b, len, off);
		if (off < 0 || off + 4 > len)
			return -1;
		off += 4;
	}
	long best = -1;
	for (unsigned i = 0; i < an + ns; i++) {
		off = skip_name(b, len, off);
		if (off < 0 || off + 10 > len)
			return -1;
		unsigned type = get16(b + off);
		long ttl = ttl_value(get32(b + off + 4));
		int rdlen = (int)get16(b + off + 8), rd = off + 10;
		if (rd + rdlen > len)
			return -1;
		off = rd + rdlen;
		if (!negative && i < an) {
			if (best < 0 || ttl < best)
				best = ttl;
		} else if (negative && i >= an && type == 6 /* SOA */) {
			int p = skip_name(b, rd + rdlen, rd); /* MNAME */
			p = p < 0 ? -1 : skip_name(b, rd + rdlen, p); /* RNAME */
			if (p < 0 || p + 20 > rd + rdlen)
				return -1;
			long minimum = ttl_value(get32(b + p + 16));
			best = ttl < minimum ? ttl : minimum;
			break;
		}
	}
	if (best < 0)
		return -1;
	long cap = negative ? DNS_CACHE_MAX_NEG_TTL : DNS_CACHE_MAX_TTL;
	return best > cap ? cap : best;
}
