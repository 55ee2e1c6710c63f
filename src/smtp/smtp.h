/*
 * smtp - the SMTP front-end: MX (25), submission (587) and SMTPS (465).
 *
 * Sessions run on the mail event loop. Commands are parsed by
 * smtp_parse.c, DATA by smtp_data.c; recipients are checked against the
 * directory at RCPT time; the message goes to the spool while it is
 * received and is committed (fsync) on a worker thread before 250 is
 * answered, then handed to local delivery. Password checks run on a
 * worker too, so the loop never blocks on hashing or fsync.
 */
#ifndef TERN_SMTP_H
#define TERN_SMTP_H

#include <openssl/ssl.h>

struct admin_env;
struct evloop;
struct workq;
struct deliver;
struct listener;

enum smtp_kind { SMTP_KIND_MX, SMTP_KIND_SUBMISSION, SMTP_KIND_SMTPS };

struct smtp_server;

struct smtp_server *smtp_server_new(struct admin_env *env, struct evloop *lp, struct workq *io,
				    struct deliver *dl, SSL_CTX *tls);
/* Accept function for evloop_listen(); the listener's service id is the kind. */
void smtp_accept(struct evloop *lp, int fd, const struct listener *l, void *srv);
void smtp_server_free(struct smtp_server *srv);
/* The server's sending-limit counters (send_limits.h), for the admin. */
struct send_counters *smtp_server_sends(struct smtp_server *srv);

#endif
