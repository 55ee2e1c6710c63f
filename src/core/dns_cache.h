/*
 * dns_cache - the resolver's answer cache: raw DNS answers by key, each
 * until its expiry, at most `max` of them (the least recently used one
 * goes first). Thread-safe: one mutex around every call.
 *
 * The resolver (dns.c) keys an answer by its nameserver list, query type
 * and name, and keeps the answer's bytes and its c-ares status (success,
 * no data, no such name); this file knows nothing of c-ares.
 *
 * Times ("now") are milliseconds of a monotonic clock given by the caller
 * (the unit tests give their own); TTLs are seconds.
 *
 * TTL policy (dns_answer_ttl): a positive answer lives for the smallest
 * TTL of its answer records, at most DNS_CACHE_MAX_TTL; a negative one
 * (RFC 2308: no such name, or the name without data of the type) for
 * min(TTL of the SOA in the authority section, the SOA's MINIMUM), at most
 * DNS_CACHE_MAX_NEG_TTL; a negative answer without SOA, a TTL of 0 and
 * anything malformed are not cached. Failures (SERVFAIL, timeouts) never
 * reach the cache.
 */
#ifndef TERN_DNS_CACHE_H
#define TERN_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#define DNS_CACHE_DEFAULT_SIZE 1000 /* entries; the DnsCacheSize setting's default */
#define DNS_CACHE_MAX_TTL 86400     /* 1 day */
#define DNS_CACHE_MAX_NEG_TTL 300   /* 5 minutes */
#define DNS_CACHE_MAX_ANSWER 16384  /* larger answers are not kept */

struct dns_cache;

struct dns_cache *dns_cache_new(size_t max);
void dns_cache_free(struct dns_cache *c);
/* New bound; entries beyond it (least recently used first) are dropped;
 * 0 drops all and keeps nothing more. */
void dns_cache_set_max(struct dns_cache *c, size_t max);
size_t dns_cache_max(struct dns_cache *c);
/* Drop every entry; returns how many there were. */
size_t dns_cache_flush(struct dns_cache *c);
size_t dns_cache_count(struct dns_cache *c);

/* A live entry for key: its status, a copy of its answer (*buf malloc'd,
 * the caller frees it; NULL when it has none) and true; it becomes the
 * most recently used. An expired entry is dropped and false returned. */
bool dns_cache_get(struct dns_cache *c, const char *key, long long now, int *status, unsigned char **buf, int *len);
/* Keep (or replace) key's answer for ttl seconds from now; ttl <= 0, an
 * answer over DNS_CACHE_MAX_ANSWER bytes or a cache of size 0: nothing. */
void dns_cache_put(struct dns_cache *c, const char *key, long long now, long ttl, int status, const unsigned char *buf,
		   int len);

/* Hits and misses since start (for the log and the benchmark). */
void dns_cache_stats(struct dns_cache *c, unsigned long *hits, unsigned long *misses);

/* How long an answer may be cached, by the policy above; -1: not at all.
 * negative: the answer says no such name / no data. */
long dns_answer_ttl(const unsigned char *buf, int len, bool negative);

#endif
