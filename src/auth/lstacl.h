/*
 * lstacl - the access control of one listener (the address a service
 * listens on): enabled or not, its six connection limits, its allow and
 * deny rules and the allow rules' limits. The admin CLI edits it
 * (CONFIG <service> / UPDATE Listener); the daemon reads it when it binds
 * its listeners (a disabled listener is not opened) and when a
 * connection arrives on that listener.
 *
 * Stored in the directory store (durable transactions), keyed by the
 * service's scope ("cli", "smtp", "pop3") and the listener's canonical
 * address ("127.0.0.1:7000", "[::1]:7000"), as <scope>.<host>.<port>
 * ("cli.127.0.0.1.7000", "cli.::1.7000": setting-name characters only,
 * so the settings also travel through server.tab and snapshots):
 *   setting  Listener.<key>            "enable maxConn interval maxInt peerMax peerInterval peerMaxInt"
 *   setting  ListenerRuleLimits.<key>  the allow rules' limits, <P>AccRuleLimits format
 *   access map <key>                   the rules: ALLOW / DENY rows, ALLOW-OFF / DENY-OFF when disabled
 * Nothing stored = enabled, no limits, no rules. Moving a listener
 * (SET address) moves all three; removing it removes them.
 *
 * Evaluation at accept (the service level first, then the listener's; a
 * connection must pass both): the rules of a level are taken in priority
 * order (lower first; at equal priority a deny rule before an allow
 * rule), disabled rules skipped; the first rule holding the peer decides
 * (deny: refused; allow: admitted, and that rule's limits count the
 * connection). No rule holding the peer: admitted. Then the level's own
 * limits and the deciding allow rule's limits (auth/connlimit.c).
 */
#ifndef TERN_LSTACL_H
#define TERN_LSTACL_H

#include <stdbool.h>
#include <stddef.h>

#include "../admin/errors.h"
#include "connlimit.h"

struct dir_conn;

struct lstacl {
	bool enable;
	struct connlimit_conf limits;
	char rule_limits[4000]; /* <P>AccRuleLimits format */
};

struct lstacl_rule {
	const char *ipset; /* addr/len */
	bool allow, off;
	int priority; /* lower first */
};

#define LSTACL_KEY_MAX 120

/* "<scope>.<host>.<port>" of a canonical listener address */
void lstacl_key(char *out, size_t sz, const char *scope, const char *laddr);
/* The canonical address of a bound listener: "a.b.c.d:port", "[v6]:port". */
void lstacl_addr(char *out, size_t sz, int family, const char *host, int port);
/* Nothing stored: enabled, no limits (windows of 60 s), no rules. */
void lstacl_defaults(struct lstacl *acl);
/* What is stored for the listener (or the defaults) into acl; true when something is stored. */
bool lstacl_load(struct dir_conn *rd, const char *scope, const char *laddr, struct lstacl *acl);
/* A listener not explicitly disabled is enabled. */
bool lstacl_enabled(struct dir_conn *rd, const char *scope, const char *laddr);
/* The listener's rules admit peer (no rule holding it: yes). */
bool lstacl_allows(struct dir_conn *rd, const char *scope, const char *laddr, const char *peer);
/* Rows of the listener's access map: addr, mask, action, precedence. */
enum tern_err lstacl_rules_list(struct dir_conn *rd, const char *scope, const char *laddr,
				int (*fn)(void *arg, const char *const *f, int n), void *arg);

/* Inside a directory transaction (dir_write): remove everything stored
 * for the listener; store it (replacing what was). */
enum tern_err lstacl_tx_drop(struct dir_conn *c, const char *scope, const char *laddr);
enum tern_err lstacl_tx_put(struct dir_conn *c, const char *scope, const char *laddr, const struct lstacl *acl,
			    const struct lstacl_rule *rules, int nrules);

#endif
