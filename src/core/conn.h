/*
 * conn - one accepted client connection with blocking, bounded I/O.
 *
 * A connection owns its socket, an optional TLS session, an input buffer and
 * an output buffer. Replies are appended with conn_write()/conn_printf() and
 * go out in as few writes as possible: conn_flush() sends everything
 * buffered, and the output buffer flushes itself when it passes 64 KiB, so a
 * long listing is streamed with bounded memory.
 *
 * conn_read_line() returns one line without its end (LF, with any CRs right
 * before it removed). The line is copied into the caller's buffer. A line
 * longer than the limit is consumed up to and including its LF and reported
 * as CONN_TOO_LONG, so the caller can answer and stay in sync.
 */
#ifndef TERN_CONN_H
#define TERN_CONN_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

enum conn_status { CONN_OK, CONN_TOO_LONG, CONN_EOF, CONN_TIMEOUT, CONN_ERROR };

struct conn {
	int fd;
	SSL *ssl;
	struct buf in;
	struct buf out;
	bool failed;     /* a write failed: stop talking */
	char peer[64];   /* numeric peer address, IPv6 without brackets */
	char local[64];  /* numeric local address */
	int peer_port;
	int local_port;
};

void conn_init(struct conn *c, int fd, int timeout_sec);
void conn_set_timeout(struct conn *c, int timeout_sec);
enum conn_status conn_read_line(struct conn *c, size_t max, struct buf *line_r);
/* Wait for more bytes and append them to c->in, for front-ends that frame
 * their input themselves (the CLI's telnet layer). CONN_OK once at least
 * one byte arrived. */
enum conn_status conn_read_more(struct conn *c);
/* Throw away everything received but not yet returned as a line. */
void conn_discard_input(struct conn *c);
void conn_write(struct conn *c, const void *p, size_t n);
void conn_puts(struct conn *c, const char *s);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int conn_flush(struct conn *c);
/* Server side TLS handshake on the connection (input must be empty). */
int conn_start_tls(struct conn *c, SSL_CTX *ctx);
void conn_close(struct conn *c);

#endif
