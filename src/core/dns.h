/*
 * dns - MX and address look-ups with c-ares, blocking the calling thread
 * (outbound attempts run on a worker pool).
 *
 * servers: "entry,entry,..." (the DnsServers setting) in query order, or ""
 * for the system's resolvers; an entry is "ip[:port]" ([ip6]:port, or a bare
 * IPv6 address), optionally followed by ";timeout=N" (seconds) and
 * ";retries=N" of that server. dns_mx() returns the exchangers sorted by
 * preference (ties keep the server's order). dns_addrs() returns IPv6 and
 * IPv4 addresses of a host (AAAA and A queries), IPv6 first when allow_v6;
 * an address literal is returned as is.
 *
 * Timeout and tries: the servers are asked one after the other; a server
 * is asked `tries` times, waiting timeout_ms for its first answer (c-ares
 * doubles it on each further try), and when it fails (timeout, SERVFAIL,
 * refused) the next server is asked. A server's own timeout/retries win;
 * else the tuning argument's; the functions without one (and those given
 * NULL) take the values of the tuning source (dns_set_tuning_source: the
 * daemon reads its DnsTimeout/DnsRetries settings there, at most once a
 * second), else 3000 ms and 2 tries.
 *
 * Cache (dns_cache.h): answers are kept by (server addresses, type, name)
 * for their TTL (positive: the smallest answer TTL, at most a day;
 * negative, RFC 2308: the SOA's, at most 5 minutes); failures are never
 * kept. Its size is the source's cache_size (DnsCacheSize, default
 * DNS_CACHE_DEFAULT_SIZE entries; 0: no cache), or dns_set_cache_size().
 * Every look-up here goes through it: outbound delivery's and the CLI's.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum dns_status { DNS_OK = 0, DNS_NONE = 1 /* no such record */, DNS_NXDOMAIN = 2, DNS_TEMPFAIL = 3 };

struct dns_mx {
	int pref;
	char host[256];
};

#define DNS_MAX_MX 16
#define DNS_MAX_ADDRS 16

struct dns_tuning {
	int timeout_ms;
	int tries;
	int cache_size; /* entries; read only from the tuning source (-1: keep) */
};

typedef void (*dns_tuning_fn)(void *arg, struct dns_tuning *t);
/* Set once at start-up, before the first query. */
void dns_set_tuning_source(dns_tuning_fn fn, void *arg);
/* The source's values changed: read them again at the next query. */
void dns_tuning_changed(void);

/* The cache: drop every answer (returns how many); a new size at once
 * (shrinking drops the least recently used; 0: none kept); its state. */
size_t dns_flush_cache(void);
void dns_set_cache_size(int n);
void dns_cache_info(size_t *entries, size_t *max, unsigned long *hits, unsigned long *misses);

/* One entry of the server list, taken apart / put together (timeout,
 * retries: -1 = not given, the resolver-wide value applies). */
struct dns_server_opts {
	char addr[128];
	int timeout, retries;
};
void dns_server_parse(const char *entry, struct dns_server_opts *o);
void dns_server_format(const struct dns_server_opts *o, char *out, size_t sz);

enum dns_rtype { DNS_RT_NS, DNS_RT_TXT, DNS_RT_PTR };

#define DNS_MAX_ITEMS 32
#define DNS_ITEM_LEN 1024

/* NS or PTR names (one per item) or TXT records (each record's strings in
 * double quotes, '"' and '\' escaped, other bytes outside 0x20-0x7e as
 * \ddd, separated by a space). For PTR, name is an IPv4 or IPv6 address
 * (the caller checks the address). */
enum dns_status dns_lookup(const char *servers, const struct dns_tuning *t, enum dns_rtype type, const char *name,
			   char (*out)[DNS_ITEM_LEN], int *n_r);

enum dns_status dns_mx_t(const char *servers, const struct dns_tuning *t, const char *domain, struct dns_mx *out,
			 int *n_r);
enum dns_status dns_addrs_t(const char *servers, const struct dns_tuning *t, const char *host, bool allow_v6,
			    struct sockaddr_storage *out, int *n_r);
enum dns_status dns_mx(const char *servers, const char *domain, struct dns_mx *out, int *n_r);
enum dns_status dns_addrs(const char *servers, const char *host, bool allow_v6, struct sockaddr_storage *out,
			  int *n_r);

#endif
