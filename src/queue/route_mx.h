/*
 * route_mx - connect to a domain's mail exchangers (RFC 5321 §5.1): MX
 * records by preference, the domain's own A/AAAA when it has none, IPv6
 * first when enabled, every address of an exchanger before the next one.
 */
#ifndef TERN_ROUTE_MX_H
#define TERN_ROUTE_MX_H

#include <stdbool.h>
#include <stddef.h>

#include "smtp_out.h"

struct mx_cfg {
	char dns[1024]; /* resolvers, DnsServers ("" = the system's) */
	int port;      /* SmtpOutPort */
	bool v6;
	int timeout;   /* SmtpOutTimeout */
};

/* True with s open and greeted (opportunistic STARTTLS). False: why says
 * what happened; it starts with "5" when the domain does not exist (a
 * permanent failure). Each unreachable host is noted in the entry's log. */
bool mx_connect(const struct mx_cfg *cfg, const char *domain, const char *helo, struct smtp_out *s, char *why,
		size_t wsz, int rootfd, const char *logid);

#endif
