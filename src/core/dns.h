/*
 * dns - MX and address look-ups with c-ares, blocking the calling thread
 * (outbound attempts run on a worker pool).
 *
 * servers: "ip[:port],ip[:port]" (the DnsServers setting), or "" for the
 * system's resolvers. dns_mx() returns the exchangers sorted by preference
 * (ties keep the server's order). dns_addrs() returns IPv6 and IPv4
 * addresses of a host, IPv6 first when allow_v6.
 *
 * Timeout and tries: a query waits timeout_ms for a server's answer (c-ares
 * doubles it on each further round) and asks each server `tries` times.
 * The functions without a tuning argument (and those given NULL) take the
 * values of the tuning source (dns_set_tuning_source: the daemon reads its
 * DnsTimeout/DnsRetries settings there), else 3000 ms and 2 tries.
 * The resolver keeps no cache: every call asks the servers.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stdbool.h>
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
};

typedef void (*dns_tuning_fn)(void *arg, struct dns_tuning *t);
/* Set once at start-up, before the first query. */
void dns_set_tuning_source(dns_tuning_fn fn, void *arg);

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
