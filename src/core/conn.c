/*
 * conn - bounded line reads and buffered writes over TCP or TLS.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "log.h"

#define CONN_FLUSH_AT 65536

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t outsz, int *port)
{
	out[0] = '\0';
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)outsz);
		*port = ntohs(a->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)ss;
		inet_ntop(AF_INET6, &a->sin6_addr, out, (socklen_t)outsz);
		*port = ntohs(a->sin6_port);
	}
}

void conn_set_timeout(struct conn *c, int timeout_sec)
{
	struct timeval tv = {.tv_sec = timeout_sec, .tv_usec = 0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void conn_init(struct conn *c, int fd, int timeout_sec)
{
	memset(c, 0, sizeof *c);
	c->fd = fd;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	conn_set_timeout(c, timeout_sec);
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text(&ss, c->peer, sizeof c->peer, &c->peer_port);
	sl = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
		addr_text(&ss, c->local, sizeof c->local, &c->local_port);
}

/* Read more bytes into c->in. Returns bytes read, 0 on EOF, -1 timeout, -2 error. */
static ssize_t fill(struct conn *c)
{
	char chunk[16384];
	ssize_t n;
	if (c->ssl) {
		ERR_clear_error();
		int r = SSL_read(c->ssl, chunk, sizeof chunk);
		if (r > 0) {
			n = r;
		} else {
			int e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN)
				return 0;
			if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_SYSCALL) &&
			    (errno == EAGAIN || errno == EWOULDBLOCK))
				return -1;
			if (e == SSL_ERROR_SYSCALL && r == 0)
				return 0;
			return -2;
		}
	} else {
		do
			n = recv(c->fd, chunk, sizeof chunk, 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
	}
	if (n > 0)
		buf_append(&c->in, chunk, (size_t)n);
	return n;
}

enum conn_status conn_read_line(struct conn *c, size_t max, struct buf *line_r)
{
	bool discarding = false;
	size_t scanned = 0;
	for (;;) {
		char *lf = NULL;
		if (c->in.len > scanned)
			lf = memchr(c->in.data + scanned, '\n', c->in.len - scanned);
		if (lf) {
			size_t len = (size_t)(lf - c->in.data);
			size_t keep = len;
			while (keep > 0 && c->in.data[keep - 1] == '\r')
				keep--;
			if (discarding || keep > max) {
				buf_consume(&c->in, len + 1);
				return CONN_TOO_LONG;
			}
			buf_reset(line_r);
			buf_append(line_r, c->in.data, keep);
			buf_consume(&c->in, len + 1);
			return CONN_OK;
		}
		if (c->in.len > max + 2) {
			/* Keep only a trailing CR run in case the LF follows. */
			discarding = true;
			size_t cr = 0;
			while (cr < c->in.len && c->in.data[c->in.len - 1 - cr] == '\r')
				cr++;
			buf_consume(&c->in, c->in.len - cr);
		}
		scanned = c->in.len;
		ssize_t n = fill(c);
		if (n == 0)
			return CONN_EOF;
		if (n == -1)
			return CONN_TIMEOUT;
		if (n < 0)
			return CONN_ERROR;
	}
}

enum conn_status conn_read_more(struct conn *c)
{
	ssize_t n = fill(c);
	if (n > 0)
		return CONN_OK;
	return n == 0 ? CONN_EOF : n == -1 ? CONN_TIMEOUT : CONN_ERROR;
}

void conn_discard_input(struct conn *c)
{
	buf_reset(&c->in);
}

void conn_write(struct conn *c, const void *p, size_t n)
{
	if (c->failed)
		return;
	buf_append(&c->out, p, n);
	if (c->out.len >= CONN_FLUSH_AT)
		conn_flush(c);
}

void conn_puts(struct conn *c, const char *s)
{
	conn_write(c, s, strlen(s));
}

void conn_printf(struct conn *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&c->out, fmt, ap);
	va_end(ap);
	if (c->out.len >= CONN_FLUSH_AT)
		conn_flush(c);
}

int conn_flush(struct conn *c)
{
	size_t off = 0;
	while (!c->failed && off < c->out.len) {
		ssize_t n;
		if (c->ssl) {
			ERR_clear_error();
			int r = SSL_write(c->ssl, c->out.data + off, (int)(c->out.len - off));
			n = r > 0 ? r : -1;
		} else {
			n = send(c->fd, c->out.data + off, c->out.len - off, MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
		}
		if (n <= 0) {
			c->failed = true;
			break;
		}
		off += (size_t)n;
	}
	buf_reset(&c->out);
	return c->failed ? -1 : 0;
}

int conn_start_tls(struct conn *c, SSL_CTX *ctx)
{
	if (conn_flush(c) < 0)
		return -1;
	conn_discard_input(c);
	c->ssl = SSL_new(ctx);
	if (!c->ssl)
		return -1;
	SSL_set_fd(c->ssl, c->fd);
	ERR_clear_error();
	if (SSL_accept(c->ssl) != 1) {
		log_info("TLS handshake with %s failed", c->peer);
		SSL_free(c->ssl);
		c->ssl = NULL;
		c->failed = true;
		return -1;
	}
	return 0;
}

void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		conn_flush(c);
		if (c->ssl) {
			SSL_shutdown(c->ssl);
			SSL_free(c->ssl);
			c->ssl = NULL;
		}
		close(c->fd);
		c->fd = -1;
	}
	buf_free(&c->in);
	buf_free(&c->out);
}
