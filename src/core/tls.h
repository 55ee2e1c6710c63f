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
 * moment to the new connection (versions, TLS 1.2 cipher list and TLS 1.3
 * suites, server cipher order, DH parameters, certificate and key, client
 * certificate request and CA store, chain depth), so tls_server_apply()
 * takes effect for new connections at once and never disturbs running ones.
 *
 * ciphers: one list; entries named TLS_* are TLS 1.3 suites
 * (SSL_set_ciphersuites), the others OpenSSL TLS 1.2 cipher-list entries;
 * an empty part keeps OpenSSL's defaults for that version. ephemeral: the
 * TLS 1.2 list loses every static-RSA/PSK key exchange (!kRSA:!kRSAPSK:!kPSK).
 * certfile: PEM chain (leaf first) and unencrypted private key in one file;
 * a file named *.crt without a key takes the key from the *.key beside it.
 * request_client: clients are asked for a certificate (not required); one
 * that is presented must verify against cafile within depth or the
 * handshake fails; the verified subject is logged.
 */
struct tls_params {
	char versions[64];  /* "(tls1_2 tls1_3)" */
	char ciphers[1024]; /* TLS 1.2 cipher list and TLS 1.3 suites */
	int prefer_server;  /* 1: the server's cipher order wins */
	char dhfile[512];   /* PEM DH parameters relative to the data root; "none" or "" */
	int depth;          /* client certificate chain depth */
	char certfile[512]; /* PEM chain and key relative to the data root */
	char cafile[512];   /* PEM CA certificates relative to the data root; "none" or "" */
	int request_client; /* 1: ask clients for a certificate */
	int ephemeral;      /* 1: TLS 1.2 key exchange only by ephemeral (EC)DHE */
};

/* The defaults (the Tls* settings' defaults). */
void tls_params_default(struct tls_params *p);
/* Check a whole parameter set (files read, cross-checks); 0 or -1 (why). */
int tls_params_check(const struct tls_params *p, char *why, size_t wsz);
/* The socket of a connection whose TLS runs over a filter (STARTTLS), for
 * the log lines about its client certificate. */
void tls_note_fd(SSL *ssl, int fd);

/* Check one Tls* setting's value; 0 ok, -1 refused with the reason in why. */
int tls_setting_check(const char *name, const char *value, char *why, size_t wsz);
/* Validate p and make it the current parameters; -1 (why) keeps the old. */
int tls_server_apply(const struct tls_params *p, char *why, size_t wsz);
/* Drop the current parameters (at exit). */
void tls_server_cleanup(void);

#endif
