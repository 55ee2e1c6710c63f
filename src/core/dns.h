/*
 * dns - MX and address look-ups with c-ares, blocking the calling thread
 * (outbound attempts run on a worker pool).
 *
 * servers: "ip[:port],ip[:port]" (the DnsServers setting), or "" for the
 * system's resolvers. dns_mx() returns the exchangers sorted by preference
 * (ties keep the server's order). dns_addrs() returns IPv6 and IPv4
 * addresses of a host, IPv6 first when allow_v6.
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

enum dns_status dns_mx(const char *servers, const char *domain, struct dns_mx *out, int *n_r);
enum dns_status dns_addrs(const char *servers, const char *host, bool allow_v6, struct sockaddr_storage *out,
			  int *n_r);

#endif
