/*
 * route - smtpfwd.tab / smtpgw.tab / DefaultSMTPGateways / MX decisions and
 * smart-host credentials.
 */
#include "route.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/buf.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"

#define TAB_MAX_BYTES (1024 * 1024)

static int tls_option(const char *gwconfig, int fallback)
{
	const char *p = gwconfig ? strcasestr(gwconfig, "NeedTLS=") : NULL;
	if (p && p[8] >= '0' && p[8] <= '2')
		return p[8] - '0';
	return fallback;
}

int route_default_tls(const char *gwconfig)
{
	return tls_option(gwconfig, 1);
}

static bool host_chars_ok(const char *h)
{
	if (!*h)
		return false;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && *h != '.' && *h != '-' && *h != '_')
			return false;
	return true;
}

/* One "host[:port][,opt...]" item. Bracketed IPv6 literals: "[::1]:2525". */
static bool parse_host(char *item, int default_tls, struct route_host *h)
{
	memset(h, 0, sizeof *h);
	h->need_tls = default_tls;
	char *opts = strchr(item, ',');
	if (opts)
		*opts++ = '\0';
	while (*item == ' ')
		item++;
	size_t l = strlen(item);
	while (l && item[l - 1] == ' ')
		item[--l] = '\0';
	char *port = NULL;
	if (item[0] == '[') {
		char *close = strchr(item, ']');
		if (!close)
			return false;
		*close = '\0';
		snprintf(h->host, sizeof h->host, "%s", item + 1);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1])
			return false;
		if (!h->host[0] || strspn(h->host, "0123456789abcdefABCDEF:.") != strlen(h->host))
			return false;
	} else {
		port = strchr(item, ':');
		if (port)
			*port++ = '\0';
		if (!host_chars_ok(item) || strlen(item) >= sizeof h->host)
			return false;
		snprintf(h->host, sizeof h->host, "%s", item);
	}
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (*end || p < 1 || p > 65535)
			return false;
		h->port = (int)p;
	}
	for (char *save = NULL, *o = opts ? strtok_r(opts, ",", &save) : NULL; o; o = strtok_r(NULL, ",", &save)) {
		while (*o == ' ')
			o++;
		if (!strncasecmp(o, "NeedTLS=", 8) && o[8] >= '0' && o[8] <= '2' && !o[9])
			h->need_tls = o[8] - '0';
		else if (!strncasecmp(o, "OutBind=", 8))
			; /* accepted; outbound binds as the system chooses */
		else
			return false;
	}
	return true;
}

bool route_parse_hosts(const char *spec, int default_tls, struct route *r)
{
	char *copy = xstrdup(spec);
	char *p = copy;
	bool random_order = false, ok = true;
	while (*p == ' ')
		p++;
	if (*p == '#') {
		random_order = true;
		p++;
	}
	r->nhosts = 0;
	for (char *save = NULL, *it = strtok_r(p, ";", &save); it && ok; it = strtok_r(NULL, ";", &save)) {
		if (strspn(it, " ") == strlen(it))
			continue;
		if (r->nhosts == ROUTE_MAX_HOSTS)
			break;
		ok = parse_host(it, default_tls, &r->hosts[r->nhosts]);
		if (ok)
			r->nhosts++;
	}
	free(copy);
	if (ok && random_order)
		for (int i = r->nhosts - 1; i > 0; i--) {
			int j = (int)arc4random_uniform((uint32_t)i + 1);
			struct route_host t = r->hosts[i];
			r->hosts[i] = r->hosts[j];
			r->hosts[j] = t;
		}
	return ok && r->nhosts > 0;
}

/* The value of the first line of ROOT/file whose pattern matches domain. */
static bool tab_match(int rootfd, const char *file, const char *domain, char *out, size_t sz)
{
	struct buf b = BUF_INIT;
	bool found = false;
	if (fs_read_all_at(rootfd, file, TAB_MAX_BYTES, &b) < 0 || !b.data) {
		buf_free(&b);
		return false;
	}
	int lineno = 0;
	for (char *save = NULL, *line = strtok_r(b.data, "\n", &save); line && !found;
	     line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		size_t l = strlen(line);
		while (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (!l || line[0] == '#')
			continue;
		char *f[4];
		if (tab_split(line, f, 4) != 2) {
			log_warn("route: %s line %d is not \"pattern\"<TAB>\"value\"; ignored", file, lineno);
			continue;
		}
		if (wildmat(f[0], domain)) {
			snprintf(out, sz, "%s", f[1]);
			found = true;
		}
	}
	buf_free(&b);
	return found;
}

void route_lookup(int rootfd, const char *domain, const char *default_gws, const char *gwconfig, struct route *r)
{
	memset(r, 0, sizeof *r);
	int tls = tls_option(gwconfig, 1);
	char val[4096];
	if (tab_match(rootfd, "smtpfwd.tab", domain, val, sizeof val)) {
		if (route_parse_hosts(val, tls, r)) {
			snprintf(r->why, sizeof r->why, "smtpfwd.tab");
			return;
		}
		log_warn("route: smtpfwd.tab value for %s is invalid: %s", domain, val);
	}
	if (tab_match(rootfd, "smtpgw.tab", domain, val, sizeof val)) {
		char *gw = val;
		while (*gw == '@' || *gw == ' ')
			gw++;
		gw[strcspn(gw, ",:; ")] = '\0';
		if (host_chars_ok(gw) && strlen(gw) < sizeof r->mx_domain) {
			r->mx = true;
			snprintf(r->mx_domain, sizeof r->mx_domain, "%.255s", gw);
			snprintf(r->why, sizeof r->why, "smtpgw.tab");
			return;
		}
		log_warn("route: smtpgw.tab value for %s is invalid", domain);
	}
	if (default_gws && strspn(default_gws, " ;") != strlen(default_gws)) {
		if (route_parse_hosts(default_gws, tls, r)) {
			snprintf(r->why, sizeof r->why, "DefaultSMTPGateways");
			return;
		}
		log_warn("route: DefaultSMTPGateways is invalid: %s", default_gws);
	}
	r->nhosts = 0;
	r->mx = true;
	snprintf(r->mx_domain, sizeof r->mx_domain, "%s", domain);
	snprintf(r->why, sizeof r->why, "MX");
}

bool route_auth_lookup(int rootfd, const char *host, struct route_auth *a)
{
	memset(a, 0, sizeof *a);
	if (!host_chars_ok(host) || host[0] == '.' || strlen(host) > 200)
		return false;
	char rel[300], lower[256];
	size_t i = 0;
	for (; host[i] && i < sizeof lower - 1; i++)
		lower[i] = (char)tolower((unsigned char)host[i]);
	lower[i] = '\0';
	snprintf(rel, sizeof rel, "userauth/smtp/%s.tab", lower);
	struct buf b = BUF_INIT;
	bool ok = false;
	if (fs_read_all_at(rootfd, rel, 64 * 1024, &b) == 0 && b.data) {
		char *line = b.data;
		line[strcspn(line, "\r\n")] = '\0';
		char *f[4];
		if (tab_split(line, f, 4) == 3 && strlen(f[1]) < sizeof a->user && strlen(f[2]) < sizeof a->pass) {
			if (!strcasecmp(f[0], "PLAIN"))
				a->mech = AUTH_PLAIN;
			else if (!strcasecmp(f[0], "LOGIN"))
				a->mech = AUTH_LOGIN;
			else if (!strcasecmp(f[0], "CRAM-MD5"))
				a->mech = AUTH_CRAM_MD5;
			if (a->mech != AUTH_NONE) {
				snprintf(a->user, sizeof a->user, "%s", f[1]);
				snprintf(a->pass, sizeof a->pass, "%s", f[2]);
				ok = true;
			}
		}
		if (!ok)
			log_warn("route: %s is not \"PLAIN|LOGIN|CRAM-MD5\"<TAB>\"user\"<TAB>\"password\"", rel);
		memset(b.data, 0, b.len);
	}
	buf_free(&b);
	return ok;
}

void route_auth_clear(struct route_auth *a)
{
	explicit_bzero(a, sizeof *a);
}
