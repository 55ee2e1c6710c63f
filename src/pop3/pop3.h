/*
 * pop3 - the POP3 front-end (RFC 1939, 2449 CAPA, 2595 STLS, 5034 SASL
 * PLAIN) on 110 and, with implicit TLS, 995.
 *
 * Sessions run on the mail event loop; the login (password hashing), the
 * Maildir scan and the deletions at QUIT run on a worker. A mailbox is
 * open in one session at a time. At login, messages in new/ move to cur/;
 * UIDLs are the Maildir base names, so they survive restarts. Deletions
 * happen only at QUIT and are made durable (fsync of cur/) before +OK.
 */
#ifndef TERN_POP3_H
#define TERN_POP3_H

#include <openssl/ssl.h>

struct admin_env;
struct evloop;
struct workq;
struct listener;
struct pop3_server;

struct pop3_server *pop3_server_new(struct admin_env *env, struct evloop *lp, struct workq *io, SSL_CTX *tls);
void pop3_accept(struct evloop *lp, int fd, const struct listener *l, void *srv);
void pop3_server_free(struct pop3_server *srv);

#endif
