/*
 * live_listeners - the daemon's registry of the listeners the admin CLI
 * edits (services cli, smtpIncoming, pop3: plain and implicit-TLS lists),
 * so that a listener or service COMMIT takes effect at once.
 *
 * live_listeners_sync() compares a service's stored configuration (its
 * two listener lists and each listener's enable flag) with what is bound:
 * it closes the sockets of removed, disabled or moved listeners and binds
 * the new, enabled or moved ones. Established sessions are not touched
 * (the CLI's run in their own threads with a copy of their listener, the
 * mail sessions own their bufferevents). Closing goes through the accept
 * loop's own thread (listen_detach, evloop_detach), so it never races an
 * accept.
 *
 * A socket that cannot be opened (address in use, not an address of this
 * host, a privileged port after the privilege drop) is logged and named
 * in why; the configuration stays stored (it is what the next start
 * binds) and every other change of the same sync is applied. A later
 * sync retries it.
 *
 * Development mode (ternd --dev) binds fixed ports at start-up whatever
 * the lists say: the addresses stored at start-up are taken as served by
 * those ports and not bound; an address added (or moved to) afterwards is
 * bound exactly as given.
 */
#ifndef TERN_LIVE_LISTENERS_H
#define TERN_LIVE_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/evloop.h"
#include "../store/directory.h"

struct live_svc {
	const char *scope;   /* "cli", "smtp", "pop3" (auth/lstacl.h) */
	const char *setting; /* its listener list */
	int service;	     /* struct listener.service */
	bool tls;	     /* implicit TLS */
	evloop_accept_fn fn; /* NULL: the CLI's accept loop (core/listen.h) */
	void *arg;
	const char *what; /* for the log */
};

struct live_listeners;

struct live_listeners *live_listeners_new(struct dir *dir, struct evloop *lp, const struct live_svc *svcs, int n,
					  bool dev, bool have_tls);
/* A listener bound at start-up (already attached to its loop). */
void live_listeners_note(struct live_listeners *ll, int service, bool tls, const char *addr, int fd);
/* Development mode, after the start-up listeners are noted: see above. */
void live_listeners_baseline(struct live_listeners *ll);
/* Bring the bound sockets of scope in line with the stored configuration.
 * 0, or -1 with why (each socket that could not be opened, and why). */
int live_listeners_sync(void *ll, const char *scope, char *why, size_t sz);
void live_listeners_free(struct live_listeners *ll);

#endif
