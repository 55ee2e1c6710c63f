/*
 * benchnet - small blocking TCP/TLS client helpers shared by the mail benchmarks
 * (smtp_load, pop3_bench, idle_conns). libc + OpenSSL only.
 */
#ifndef BENCHNET_H
#define BENCHNET_H

#include <netdb.h>
#include <openssl/ssl.h>
#include <stddef.h>
#include <sys/types.h>

/* One client connection with its own read buffer. */
struct bconn {
	int fd;
	SSL *ssl;
	char *buf;
	size_t cap, pos, end; /* unread data is buf[pos..end) */
};

#define BCONN_INIT {-1, NULL, NULL, 0, 0, 0}

/* Monotonic clock in seconds. */
double bn_now(void);

/* Resolve host:port (numeric or name). Returns 0, or -1 with a message in err. */
int bn_resolve(const char *host, const char *port, struct addrinfo **out, char *err, size_t errlen);

/* Connect to the first address of ai that answers within timeout_s seconds. The socket is left
 * blocking, with TCP_NODELAY and SO_RCVTIMEO/SO_SNDTIMEO set to timeout_s. bufsize is the initial
 * read buffer size. Returns 0, or -1 with a message in err. */
int bn_connect(struct bconn *c, const struct addrinfo *ai, double timeout_s, size_t bufsize, char *err,
	       size_t errlen);

/* A client TLS context that does not verify the server certificate (benchmarks only). */
SSL_CTX *bn_tls_ctx(void);

/* Start TLS on a connected socket (implicit TLS, or after STARTTLS/STLS was accepted). Fails if
 * unread plain-text data is buffered. Returns 0, or -1 with a message in err. */
int bn_tls_start(struct bconn *c, SSL_CTX *ctx, const char *sni, char *err, size_t errlen);

/* Write all n bytes. Returns 0 or -1 (errno set, EAGAIN on timeout). */
int bn_write(struct bconn *c, const void *p, size_t n);

/* Next line, '\n' included, as a pointer into the buffer (valid until the next call). Returns its
 * length, 0 at EOF before any byte of a line, -1 on error/timeout (errno set; EAGAIN = timeout).
 * Lines longer than maxlen are an error (EMSGSIZE). */
ssize_t bn_getline(struct bconn *c, char **line, size_t maxlen);

/* Wait until the peer closes (EOF), at most about timeout_s seconds; discards data. Changes the
 * socket timeouts, so use it only before closing. */
void bn_drain_eof(struct bconn *c, double timeout_s);

/* Close the socket and free the TLS session and the buffer. Safe on a closed bconn. */
void bn_close(struct bconn *c);

/* Short description of the last I/O failure ("timeout", "connection closed", strerror). */
const char *bn_ioerr(int rc, int err);

/* Expand fmt: "%s" -> s, "%d" with optional '-'/'0' flags and a width -> num, "%%" -> '%'. Any
 * other conversion is an error. *ns / *nd receive the number of %s / %d seen. Returns the length,
 * or -1 (bad format or output does not fit). */
int bn_format(char *out, size_t outlen, const char *fmt, const char *s, long num, int *ns, int *nd);

/* Parse a non-negative number / a duration in seconds; -1 on garbage. */
long bn_parse_long(const char *s);
double bn_parse_double(const char *s);

/* Raise RLIMIT_NOFILE to its hard limit. Returns the new soft limit. */
long bn_raise_nofile(void);

#endif
