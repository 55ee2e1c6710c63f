/*
 * connlimit - the connection limits of a service's access control
 * (maxConnections, timeInterval, maxIntervalConnections and their peer*
 * counterparts), checked when a connection arrives.
 *
 * A service is a scope ("cli", "smtp", "pop3"). connlimit_load() reads the
 * six settings <Prefix>AccMaxConnections ... of the registry;
 * connlimit_enter() admits a connection (counting it) or names the limit
 * it would break; an admitted connection calls connlimit_leave() once when
 * it ends. Limits of 0 mean unlimited. The rate windows are fixed windows
 * of timeInterval seconds. Thread-safe; the per-peer table is bounded
 * (when it is full, peers without a slot are only held to the service-wide
 * limits).
 */
#ifndef TERN_CONNLIMIT_H
#define TERN_CONNLIMIT_H

#include <time.h>

struct dir_conn;

struct connlimit_conf {
	long max_conns, interval, max_interval;
	long peer_max_conns, peer_interval, peer_max_interval;
};

enum connlimit_verdict {
	CONNLIMIT_OK = 0,
	CONNLIMIT_MAX,       /* maxConnections reached */
	CONNLIMIT_RATE,      /* maxIntervalConnections reached in this window */
	CONNLIMIT_PEER_MAX,  /* peerMaxConnections reached */
	CONNLIMIT_PEER_RATE, /* peerMaxIntervalConnections reached */
};

void connlimit_load(struct dir_conn *rd, const char *prefix, struct connlimit_conf *cf);
enum connlimit_verdict connlimit_enter(const char *scope, const char *peer, const struct connlimit_conf *cf,
				       time_t now);
void connlimit_leave(const char *scope, const char *peer);
/* A short English reason for a refusal (for the protocol's reply). */
const char *connlimit_text(enum connlimit_verdict v);

#endif
