/*
 * route - where outbound mail for a domain goes, and with which options.
 *
 * In order, the first that applies wins:
 *   1. ROOT/smtpfwd.tab  "domain-pattern"<TAB>"host[:port][,opt=v...];..."
 *      per-domain smart hosts; a leading '#' tries them in random order;
 *   2. ROOT/smtpgw.tab   "domain-pattern"<TAB>"@gw1,@gw2..."  the domain is
 *      relayed through gw1 (routed like a domain: MX, then A/AAAA); the
 *      source route itself is not sent (RFC 5321 appendix C);
 *   3. the DefaultSMTPGateways setting (same syntax as an smtpfwd.tab value);
 *   4. MX routing of the domain itself.
 * Patterns are wildcards matched case-insensitively; the first matching line
 * of a file wins. Host options: NeedTLS=0 (never), 1 (when offered, the
 * default from SmtpGwConfig), 2 (required: no clear-text fallback).
 *
 * Credentials for a smart host come from ROOT/userauth/smtp/<host>.tab, first
 * line "PLAIN"|"LOGIN"|"CRAM-MD5"<TAB>"user"<TAB>"password"; they are only
 * ever sent inside TLS.
 */
#ifndef TERN_ROUTE_H
#define TERN_ROUTE_H

#include <stdbool.h>

#define ROUTE_MAX_HOSTS 16

struct route_host {
	char host[256];
	int port; /* 0: the default (SmtpOutPort for MX, 25 for gateways) */
	int need_tls;
};

struct route {
	bool mx;                /* route by MX of mx_domain */
	char mx_domain[256];
	int nhosts;             /* smart hosts, tried in order */
	struct route_host hosts[ROUTE_MAX_HOSTS];
	char why[64];           /* which rule chose it, for the log */
};

/* NeedTLS from an SmtpGwConfig value (1 when it says nothing). */
int route_default_tls(const char *gwconfig);
/* Parse "host[:port][,opt=v...];..." into r->hosts; false on a syntax error. */
bool route_parse_hosts(const char *spec, int default_tls, struct route *r);
/* Decide the route of a recipient domain. default_gws: the setting's value;
 * gwconfig: SmtpGwConfig ("NeedTLS=N"). */
void route_lookup(int rootfd, const char *domain, const char *default_gws, const char *gwconfig, struct route *r);

enum auth_mech { AUTH_NONE, AUTH_PLAIN, AUTH_LOGIN, AUTH_CRAM_MD5 };
struct route_auth {
	enum auth_mech mech;
	char user[256];
	char pass[256];
};
/* Credentials for a smart host; false when there are none (or the host name
 * cannot name a file). */
bool route_auth_lookup(int rootfd, const char *host, struct route_auth *a);
/* Wipe a credentials struct. */
void route_auth_clear(struct route_auth *a);

#endif
