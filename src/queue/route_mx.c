/*
 * route_mx - MX routing with c-ares look-ups.
 */
#include "route_mx.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "../core/dns.h"
#include "qlog.h"

bool mx_connect(const struct mx_cfg *cfg, const char *domain, const char *helo, struct smtp_out *s, char *why,
		size_t wsz, int rootfd, const char *logid)
{
	struct dns_mx mx[DNS_MAX_MX];
	int nmx = 0;
	enum dns_status st = dns_mx(cfg->dns, domain, mx, &nmx);
	if (st == DNS_NXDOMAIN) {
		snprintf(why, wsz, "550 5.1.2 the domain %s does not exist", domain);
		return false;
	}
	if (st == DNS_TEMPFAIL) {
		snprintf(why, wsz, "DNS lookup of the MX records of %s failed; will retry", domain);
		return false;
	}
	if (nmx == 0) { /* no MX: the domain itself is the exchanger */
		nmx = 1;
		mx[0].pref = 0;
		snprintf(mx[0].host, sizeof mx[0].host, "%s", domain);
	}
	for (int m = 0; m < nmx; m++) {
		struct sockaddr_storage addrs[DNS_MAX_ADDRS];
		int na = 0;
		if (dns_addrs(cfg->dns, mx[m].host, cfg->v6, addrs, &na) != DNS_OK) {
			char line[400];
			snprintf(line, sizeof line, "%s (preference %d): no address", mx[m].host, mx[m].pref);
			qlog_attempt(rootfd, logid, line);
			continue;
		}
		for (int a = 0; a < na; a++) {
			if (addrs[a].ss_family == AF_INET)
				((struct sockaddr_in *)&addrs[a])->sin_port = htons((uint16_t)cfg->port);
			else
				((struct sockaddr_in6 *)&addrs[a])->sin6_port = htons((uint16_t)cfg->port);
			struct client c;
			char line[700], msg[400];
			if (client_connect_addr(&c, &addrs[a], cfg->timeout) < 0) {
				snprintf(line, sizeof line, "%s (preference %d): cannot connect", mx[m].host, mx[m].pref);
				qlog_attempt(rootfd, logid, line);
				continue;
			}
			if (smtp_out_open(s, &c, helo, 1, NULL, msg, sizeof msg) == 0)
				return true;
			snprintf(line, sizeof line, "%s (preference %d): %s", mx[m].host, mx[m].pref, msg);
			qlog_attempt(rootfd, logid, line);
		}
	}
	snprintf(why, wsz, "no mail exchanger of %s answered; will retry", domain);
	return false;
}
