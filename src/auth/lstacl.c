/*
 * lstacl - a listener's access control in the directory store; see lstacl.h.
 */
#include "lstacl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../admin/admin.h"
#include "../store/directory.h"

/* Setting names take letters, digits and "-_.,:" only: "[::1]:7000" is
 * written "::1.7000", "127.0.0.1:7000" "127.0.0.1.7000" (the port after
 * the last dot; canonical addresses keep keys unique). */
void lstacl_key(char *out, size_t sz, const char *scope, const char *laddr)
{
	char host[LSTACL_KEY_MAX];
	const char *colon = strrchr(laddr, ':');
	const char *h = laddr;
	size_t hl = colon ? (size_t)(colon - laddr) : strlen(laddr);
	if (*h == '[' && hl >= 2 && h[hl - 1] == ']') {
		h++;
		hl -= 2;
	}
	if (hl >= sizeof host)
		hl = sizeof host - 1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(out, sz, "%s.%s.%s", scope, host, colon ? colon + 1 : "0");
}

void lstacl_addr(char *out, size_t sz, int family, const char *host, int port)
{
	unsigned char bin[16];
	char txt[INET6_ADDRSTRLEN];
	const char *h = host;
	if (inet_pton(family, host, bin) == 1 && inet_ntop(family, bin, txt, sizeof txt))
		h = txt;
	if (family == AF_INET6)
		snprintf(out, sz, "[%s]:%d", h, port);
	else
		snprintf(out, sz, "%s:%d", h, port);
}

static void setting_name(char *out, size_t sz, const char *what, const char *scope, const char *laddr)
{
	char key[LSTACL_KEY_MAX];
	lstacl_key(key, sizeof key, scope, laddr);
	snprintf(out, sz, "%s.%s", what, key);
}

void lstacl_defaults(struct lstacl *acl)
{
	memset(acl, 0, sizeof *acl);
	acl->enable = true;
	acl->limits.interval = acl->limits.peer_interval = 60;
}

bool lstacl_load(struct dir_conn *rd, const char *scope, const char *laddr, struct lstacl *acl)
{
	lstacl_defaults(acl);
	char name[200], val[200];
	setting_name(name, sizeof name, "Listener", scope, laddr);
	bool found = false;
	if (dir_setting_get(rd, name, val, sizeof val)) {
		long en = 1;
		struct connlimit_conf *cf = &acl->limits;
		if (sscanf(val, "%ld %ld %ld %ld %ld %ld %ld", &en, &cf->max_conns, &cf->interval, &cf->max_interval,
			   &cf->peer_max_conns, &cf->peer_interval, &cf->peer_max_interval) == 7) {
			acl->enable = en != 0;
			found = true;
		}
	}
	setting_name(name, sizeof name, "ListenerRuleLimits", scope, laddr);
	if (dir_setting_get(rd, name, acl->rule_limits, sizeof acl->rule_limits))
		found = true;
	return found;
}

bool lstacl_enabled(struct dir_conn *rd, const char *scope, const char *laddr)
{
	struct lstacl acl;
	lstacl_load(rd, scope, laddr, &acl);
	return acl.enable;
}

bool lstacl_allows(struct dir_conn *rd, const char *scope, const char *laddr, const char *peer)
{
	if (!laddr || !*laddr)
		return true;
	char key[LSTACL_KEY_MAX];
	lstacl_key(key, sizeof key, scope, laddr);
	return admin_ipmap_allows(rd, key, peer);
}

enum tern_err lstacl_rules_list(struct dir_conn *rd, const char *scope, const char *laddr,
				int (*fn)(void *arg, const char *const *f, int n), void *arg)
{
	char key[LSTACL_KEY_MAX];
	lstacl_key(key, sizeof key, scope, laddr);
	return dir_ipmap_list(rd, key, fn, arg);
}

enum tern_err lstacl_tx_drop(struct dir_conn *c, const char *scope, const char *laddr)
{
	char key[LSTACL_KEY_MAX], name[200];
	lstacl_key(key, sizeof key, scope, laddr);
	enum tern_err e = dir_ipmap_replace_begin(c, key);
	setting_name(name, sizeof name, "Listener", scope, laddr);
	if (!e)
		e = dir_setting_del(c, name);
	setting_name(name, sizeof name, "ListenerRuleLimits", scope, laddr);
	if (!e)
		e = dir_setting_del(c, name);
	return e;
}

enum tern_err lstacl_tx_put(struct dir_conn *c, const char *scope, const char *laddr, const struct lstacl *acl,
			    const struct lstacl_rule *rules, int nrules)
{
	enum tern_err e = lstacl_tx_drop(c, scope, laddr);
	if (e)
		return e;
	char key[LSTACL_KEY_MAX], name[200], val[200];
	lstacl_key(key, sizeof key, scope, laddr);
	const struct connlimit_conf *cf = &acl->limits;
	snprintf(val, sizeof val, "%d %ld %ld %ld %ld %ld %ld", acl->enable ? 1 : 0, cf->max_conns, cf->interval,
		 cf->max_interval, cf->peer_max_conns, cf->peer_interval, cf->peer_max_interval);
	setting_name(name, sizeof name, "Listener", scope, laddr);
	e = dir_setting_set(c, name, val);
	if (!e && acl->rule_limits[0]) {
		setting_name(name, sizeof name, "ListenerRuleLimits", scope, laddr);
		e = dir_setting_set(c, name, acl->rule_limits);
	}
	for (int i = 0; !e && i < nrules; i++) {
		char addr[128], mask[16] = "32";
		snprintf(addr, sizeof addr, "%s", rules[i].ipset);
		char *slash = strchr(addr, '/');
		if (slash) {
			*slash = '\0';
			snprintf(mask, sizeof mask, "%s", slash + 1);
		} else if (strchr(addr, ':')) {
			snprintf(mask, sizeof mask, "128");
		}
		if (!admin_ipmap_rule_valid(addr, mask) || rules[i].priority < 0 || rules[i].priority > 100000)
			return TERN_E_INVALID;
		const char *action = rules[i].allow ? (rules[i].off ? "ALLOW-OFF" : "ALLOW")
						    : (rules[i].off ? "DENY-OFF" : "DENY");
		e = dir_ipmap_append(c, key, addr, mask, action, 100000 - rules[i].priority);
	}
	return e;
}
