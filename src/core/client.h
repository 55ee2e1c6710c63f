/*
 * client - a blocking TCP client with optional TLS and bounded line reads,
 * for Tern's own outgoing connections (POP3 collection, the tern admin
 * client).
 *
 * client_connect() tries every address of host:port in turn with the given
 * timeout for the connect and for every later read and write.
 * client_connect_hostport() parses "host", "host:port", "[v6]" or
 * "[v6]:port". client_start_tls() runs a TLS handshake without
 * certificate checks (callers say why that is acceptable where they use
 * it). client_read_line() returns one line without its CR LF; lines longer
 * than max fail.
 */
#ifndef TERN_CLIENT_H
#define TERN_CLIENT_H

#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"

struct client {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct buf in;
};

int client_connect(struct client *c, const char *host, const char *port, int timeout_sec);
/* Connect to one address (port set by the caller in the sockaddr). */
int client_connect_addr(struct client *c, const struct sockaddr_storage *sa, int timeout_sec);
int client_connect_hostport(struct client *c, const char *hostport, const char *default_port, int timeout_sec);
int client_start_tls(struct client *c);
int client_send(struct client *c, const void *p, size_t n);
int client_read_line(struct client *c, struct buf *out, size_t max);
void client_close(struct client *c);

#endif
