/*
 * tls - the server's TLS identity and context.
 *
 * tls_ensure_identity() creates ROOT/tls/server.key and server.crt (a
 * self-signed certificate for the host name, valid ten years) when they do
 * not exist yet. tls_server_ctx() loads them into a server context that
 * accepts TLS 1.2 and later.
 */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include <openssl/ssl.h>

int tls_ensure_identity(const char *certfile, const char *keyfile, const char *hostname);
SSL_CTX *tls_server_ctx(const char *certfile, const char *keyfile);

#endif
