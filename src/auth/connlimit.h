/*
 * connlimit - the connection limits of a service's access control
 * (maxConnections, timeInterval, maxIntervalConnections and their peer*
 * counterparts), checked when a connection arrives.
 *
 * Two levels, both read from the settings registry at every connection:
 *  - the service's: <Prefix>AccMaxConnections ... (six settings);
 *  - the allow rule's: <Prefix>AccRuleLimits, one entry per allow rule in
 *    evaluation order, "ipset maxConn interval maxInt peerMax peerInterval
 *    peerMaxInt" separated by commas. The first rule whose ipset holds the
 *    peer is the peer's rule; its limits count the connections of every
 *    peer the rule holds (and of each such peer).
 * connlimit_admit() admits a connection (counting it in a ticket) or names
 * the limit it would break; an admitted connection calls
 * connlimit_release() once when it ends. 0 means unlimited. The rate
 * windows are fixed windows of timeInterval seconds. Thread-safe; the
 * tables are bounded (a peer or rule without a slot is held only to the
 * limits that have one).
 */
#ifndef TERN_CONNLIMIT_H
#define TERN_CONNLIMIT_H

#include <stdbool.h>
#include <time.h>

struct dir_conn;

struct connlimit_conf {
	long max_conns, interval, max_interval;
	long peer_max_conns, peer_interval, peer_max_interval;
	bool off; /* a disabled allow rule (entry ending in " off"): skipped when matching */
};

enum connlimit_verdict {
	CONNLIMIT_OK = 0,
	CONNLIMIT_MAX,       /* maxConnections reached */
	CONNLIMIT_RATE,      /* maxIntervalConnections reached in this window */
	CONNLIMIT_PEER_MAX,  /* peerMaxConnections reached */
	CONNLIMIT_PEER_RATE, /* peerMaxIntervalConnections reached */
	CONNLIMIT_RULE_MAX,  /* the allow rule's maxConnections reached */
	CONNLIMIT_RULE_RATE, /* the allow rule's maxIntervalConnections reached */
};

struct connlimit_ticket {
	char scope[16], rule[64], peer[64];
	bool held, rule_held;
	/* the listener level (connlimit_admit_listener) */
	char lscope[112], lrule[64];
	bool lheld, lrule_held;
};

/* scope: "cli", "smtp", "pop3"; prefix: "Cli", "Smtp", "Pop3". */
enum connlimit_verdict connlimit_admit(struct dir_conn *rd, const char *prefix, const char *scope, const char *peer,
				       struct connlimit_ticket *t);
/* The same at the level of the listener that accepted the connection
 * (scope "cli", laddr its canonical address "127.0.0.1:7000"): the
 * listener's six limits and its allow rules' limits (auth/lstacl.h), in
 * the same ticket; call after connlimit_admit() succeeded. */
enum connlimit_verdict connlimit_admit_listener(struct dir_conn *rd, const char *scope, const char *laddr,
						const char *peer, struct connlimit_ticket *t);
void connlimit_release(struct connlimit_ticket *t);
/* A short English reason for a refusal (for the protocol's reply). */
const char *connlimit_text(enum connlimit_verdict v);
/* One entry of <Prefix>AccRuleLimits: "ipset n n n n n n [off]". */
bool connlimit_rule_parse(const char *entry, char *ipset, size_t sz, struct connlimit_conf *cf);

/* The counters themselves (scope any name; the ones above use them). */
enum connlimit_verdict connlimit_enter(const char *scope, const char *peer, const struct connlimit_conf *cf,
				       time_t now);
void connlimit_leave(const char *scope, const char *peer);

#endif
