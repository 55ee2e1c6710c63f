/*
 * evloop - the event loop the mail protocols run on (libevent).
 *
 * One loop thread owns every mail connection. evloop_listen() attaches an
 * already bound listener; each accepted connection is handed to the accept
 * function on the loop thread. Blocking work goes to a workq; results come
 * back with event_active() on an event of the session.
 *
 * evloop_tls_bev() wraps a socket (implicit TLS) or an existing bufferevent
 * (STARTTLS) in a server-side TLS bufferevent.
 */
#ifndef TERN_EVLOOP_H
#define TERN_EVLOOP_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>
#include <stdbool.h>

#include "listen.h"

struct evloop;

typedef void (*evloop_accept_fn)(struct evloop *lp, int fd, const struct listener *l, void *arg);

struct evloop *evloop_new(void);
struct event_base *evloop_base(struct evloop *lp);
int evloop_listen(struct evloop *lp, struct listener *l, evloop_accept_fn fn, void *arg);
/* Live changes, any thread: attach a bound listener (the loop owns its fd
 * from then on), or free the listener with this fd and close it. Both run
 * in the loop thread (no accept callback of that listener can be under
 * way) and return when done; 0, or -1. */
int evloop_attach(struct evloop *lp, struct listener *l, evloop_accept_fn fn, void *arg);
int evloop_detach(struct evloop *lp, int fd);
int evloop_start(struct evloop *lp);
/* Stop accepting, end the loop and join its thread; sessions still hold
 * their bufferevents, so free them before evloop_free(). */
void evloop_halt(struct evloop *lp);
void evloop_free(struct evloop *lp);
/* Stop (or resume) taking connections of a service: while stopped, each
 * new connection is accepted and closed at once, after refusal (a full
 * line with CRLF; not on implicit-TLS listeners). Open sessions go on.
 * Any thread. */
void evloop_set_stopped(struct evloop *lp, int service, bool stopped, const char *refusal);
bool evloop_stopped(struct evloop *lp, int service);
/* Connections currently open for a service (loop thread only). */
int *evloop_counter(struct evloop *lp, int service);

/* Close a connection once everything written to bev (and, for a TLS
 * filter, to the socket beneath it) has gone out, or after 5 seconds. The
 * caller must not use bev afterwards. Loop thread only. */
void evloop_free_when_flushed(struct evloop *lp, struct bufferevent *bev);

struct bufferevent *evloop_tls_socket(struct event_base *b, int fd, SSL_CTX *ctx);
struct bufferevent *evloop_tls_upgrade(struct event_base *b, struct bufferevent *plain, SSL_CTX *ctx);

#endif
