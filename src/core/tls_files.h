/*
 * tls_files - TLS material read from PEM files under the data root (the
 * working directory): DH parameters, the server's certificate chain and
 * key, the CA certificates that verify client certificates.
 *
 * Paths are relative, without '..', absolute paths or symbolic links; the
 * key directory and the store are refused. Every loader returns NULL / -1
 * with the reason, naming the file, in why.
 */
#ifndef TERN_TLS_FILES_H
#define TERN_TLS_FILES_H

#include <openssl/ssl.h>
#include <stddef.h>

/* The contents of rel (at most max bytes, NUL-terminated; free()). */
char *tls_read_under_root(const char *rel, size_t max, size_t *len_r, char *why, size_t wsz);
/* PEM Diffie-Hellman parameters. */
EVP_PKEY *tls_load_dh(const char *rel, char *why, size_t wsz);
/* Leaf certificate, the rest of the chain and the private key, which must
 * match; a *.crt file without a key takes it from the *.key beside it. */
int tls_load_identity(const char *rel, X509 **cert_r, STACK_OF(X509) **chain_r, EVP_PKEY **key_r, char *why,
		      size_t wsz);
/* A store of the CA certificates in rel (at least one, each a CA) and their
 * subjects (sent to clients in the certificate request). */
X509_STORE *tls_load_cas(const char *rel, STACK_OF(X509_NAME) **names_r, char *why, size_t wsz);

#endif
