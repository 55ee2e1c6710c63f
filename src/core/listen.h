/*
 * listen - listener addresses, binding, and the accept loop.
 *
 * Listener lists are written "addr:port,[v6addr]:port,...". listen_bind()
 * binds one address (IPv6 sockets are IPv6-only, so "0.0.0.0" and "::"
 * can both be bound on the same port).
 *
 * listen_run() accepts on every listener until listen_stop() is called
 * (async-signal-safe), running the session function in a new thread for
 * each connection. Connections from link-local or IPv4-mapped IPv6
 * addresses are refused. After listen_run() returns, open sessions have
 * been asked to stop (their sockets are shut down) and waited for.
 */
#ifndef TERN_LISTEN_H
#define TERN_LISTEN_H

#include <stdbool.h>
#include <stddef.h>

#define LISTEN_MAX_ADDRS 16

struct listen_addr {
	int family;
	char host[64];
	int port;
};

struct listener {
	int fd;
	int service; /* caller's service id */
	bool tls;    /* implicit TLS */
	char desc[96];
	char addr[80]; /* the configured address it was bound to, canonical ("127.0.0.1:7000", "[::1]:7000") */
};

typedef void (*listen_session_fn)(int fd, const struct listener *l);

int listen_parse_list(const char *s, int port_offset, struct listen_addr *out, int max);
int listen_bind(const struct listen_addr *a);
int listen_init(void);
void listen_stop(void);
void listen_run(struct listener *ls, int n, listen_session_fn fn);
/* Live changes (any thread): attach a bound listener to the accept loop
 * (it owns the fd from then on), or detach the one with this fd and close
 * it, once the loop no longer polls it (waits for the loop; -1: no such
 * listener). Sessions hold a copy of their listener, so they go on. */
int listen_attach(const struct listener *l);
int listen_detach(int fd);
/* The peer's numeric address (IPv6 without brackets), "" if unknown. */
void listen_peer_text(int fd, char *out, size_t sz);
/* Stop (or resume) taking connections of a service: while stopped, each
 * new connection is accepted and closed at once, after line (a full line
 * with CRLF; not on implicit-TLS listeners). Open sessions go on. */
void listen_set_stopped(int service, bool stopped, const char *line);
bool listen_stopped(int service);
/* Number of sessions of a service currently running. */
int listen_active(int service);

#endif
