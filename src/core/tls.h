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

/*
 * The server's TLS parameters (the Tls* settings), shared by every TLS
 * endpoint. The context tls_server_ctx() returns is the one every service
 * holds; at each ClientHello it applies the parameters current at that
 * moment to the new connection (versions, TLS 1.2 cipher list, server
 * cipher order, DH parameters, chain depth), so tls_server_apply() takes
 * effect for new connections at once and never disturbs running ones.
 */
struct tls_params {
	char versions[64];  /* "(tls1_2 tls1_3)" */
	char ciphers[1024]; /* OpenSSL cipher list for TLS 1.2 */
	int prefer_server;  /* 1: the server's cipher order wins */
	char dhfile[512];   /* PEM DH parameters relative to the data root; "none" or "" */
	int depth;          /* client certificate chain depth */
};

/* Check one Tls* setting's value; 0 ok, -1 refused with the reason in why. */
int tls_setting_check(const char *name, const char *value, char *why, size_t wsz);
/* Validate p and make it the current parameters; -1 (why) keeps the old. */
int tls_server_apply(const struct tls_params *p, char *why, size_t wsz);
/* Drop the current parameters (at exit). */
void tls_server_cleanup(void);

#endif
