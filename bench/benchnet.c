/*
 * benchnet - small blocking TCP/TLS client helpers shared by the mail benchmarks.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, fdatasync, MSG_NOSIGNAL, SOCK_CLOEXEC */
#endif
#include "benchnet.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double bn_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bn_resolve(const char *host, const char *port, struct addrinfo **out, char *err, size_t errlen)
{
	struct addrinfo hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	int rc = getaddrinfo(host, port, &hints, out);
	if (rc) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	return 0;
}

static void set_timeouts(int fd, double timeout_s)
{
	struct timeval tv;
	tv.tv_sec = (time_t)timeout_s;
	tv.tv_usec = (suseconds_t)((timeout_s - (double)tv.tv_sec) * 1e6);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int connect_one(const struct addrinfo *a, double timeout_s, int *err_out)
{
	int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
	if (fd < 0) {
		*err_out = errno;
		return -1;
	}
	if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
		if (errno != EINPROGRESS) {
			*err_out = errno;
			close(fd);
			return -1;
		}
		struct pollfd p = {.fd = fd, .events = POLLOUT, .revents = 0};
		int ms = (int)(timeout_s * 1000.0);
		int r;
		do
			r = poll(&p, 1, ms);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			*err_out = ETIMEDOUT;
			close(fd);
			return -1;
		}
		int soerr = 0;
		socklen_t sl = sizeof soerr;
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
			*err_out = r < 0 ? errno : soerr ? soerr : EIO;
			close(fd);
			return -1;
		}
	}
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	set_timeouts(fd, timeout_s);
	return fd;
}

int bn_connect(struct bconn *c, const struct addrinfo *ai, double timeout_s, size_t bufsize, char *err,
	       size_t errlen)
{
	int e = 0;
	c->fd = -1;
	c->ssl = NULL;
	for (const struct addrinfo *a = ai; a; a = a->ai_next) {
		c->fd = connect_one(a, timeout_s, &e);
		if (c->fd >= 0)
			break;
	}
	if (c->fd < 0) {
		snprintf(err, errlen, "connect: %s", strerror(e));
		return -1;
	}
	if (!c->buf || c->cap < bufsize) {
		free(c->buf);
		c->buf = malloc(bufsize);
		if (!c->buf) {
			snprintf(err, errlen, "out of memory");
			close(c->fd);
			c->fd = -1;
			return -1;
		}
		c->cap = bufsize;
	}
	c->pos = c->end = 0;
	return 0;
}

SSL_CTX *bn_tls_ctx(void)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
	return ctx;
}

int bn_tls_start(struct bconn *c, SSL_CTX *ctx, const char *sni, char *err, size_t errlen)
{
	if (c->pos != c->end) {
		snprintf(err, errlen, "TLS: plain-text data after the upgrade reply");
		return -1;
	}
	c->ssl = SSL_new(ctx);
	if (!c->ssl) {
		snprintf(err, errlen, "TLS: SSL_new failed");
		return -1;
	}
	SSL_set_fd(c->ssl, c->fd);
	if (sni)
		SSL_set_tlsext_host_name(c->ssl, sni);
	ERR_clear_error();
	if (SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();
		char eb[256];
		ERR_error_string_n(e, eb, sizeof eb);
		snprintf(err, errlen, "TLS handshake failed: %s", e ? eb : "connection closed or timeout");
		SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	return 0;
}

int bn_write(struct bconn *c, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w;
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			int k = SSL_write(c->ssl, s, n > INT_MAX ? INT_MAX : (int)n);
			if (k <= 0) {
				int se = SSL_get_error(c->ssl, k);
				if (se == SSL_ERROR_SYSCALL && errno)
					return -1;
				errno = EIO;
				return -1;
			}
			w = k;
		} else {
			w = send(c->fd, s, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EWOULDBLOCK)
					errno = EAGAIN;
				return -1;
			}
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read more data into the buffer. Returns bytes read, 0 on EOF, -1 on error. */
static ssize_t fill(struct bconn *c)
{
	if (c->pos == c->end)
		c->pos = c->end = 0;
	if (c->end == c->cap) {
		if (c->pos > 0) {
			memmove(c->buf, c->buf + c->pos, c->end - c->pos);
			c->end -= c->pos;
			c->pos = 0;
		} else {
			char *nb = realloc(c->buf, c->cap * 2);
			if (!nb) {
				errno = ENOMEM;
				return -1;
			}
			c->buf = nb;
			c->cap *= 2;
		}
	}
	size_t room = c->cap - c->end;
	for (;;) {
		ssize_t r;
		if (c->ssl) {
			ERR_clear_error();
			errno = 0;
			int k = SSL_read(c->ssl, c->buf + c->end, room > INT_MAX ? INT_MAX : (int)room);
			if (k <= 0) {
				int se = SSL_get_error(c->ssl, k);
				if (se == SSL_ERROR_ZERO_RETURN)
					return 0;
				if (se == SSL_ERROR_SYSCALL) {
					if (errno == EINTR)
						continue;
					if (errno == EWOULDBLOCK)
						errno = EAGAIN;
					if (!errno)
						return 0; /* EOF without close_notify */
					return -1;
				}
				errno = EIO;
				return -1;
			}
			r = k;
		} else {
			r = recv(c->fd, c->buf + c->end, room, 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EWOULDBLOCK)
					errno = EAGAIN;
				return -1;
			}
		}
		c->end += (size_t)r;
		return r;
	}
}

ssize_t bn_getline(struct bconn *c, char **line, size_t maxlen)
{
	size_t scanned = 0;
	for (;;) {
		char *start = c->buf + c->pos;
		char *nl = memchr(start + scanned, '\n', c->end - c->pos - scanned);
		if (nl) {
			size_t len = (size_t)(nl - start) + 1;
			*line = start;
			c->pos += len;
			return (ssize_t)len;
		}
		scanned = c->end - c->pos;
		if (scanned > maxlen) {
			errno = EMSGSIZE;
			return -1;
		}
		ssize_t r = fill(c);
		if (r < 0)
			return -1;
		if (r == 0) {
			if (scanned)
				errno = ECONNRESET; /* EOF inside a line */
			return scanned ? -1 : 0;
		}
	}
}

void bn_drain_eof(struct bconn *c, double timeout_s)
{
	set_timeouts(c->fd, timeout_s);
	for (int i = 0; i < 64; i++) {
		c->pos = c->end = 0;
		if (fill(c) <= 0)
			return;
	}
}

void bn_close(struct bconn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->pos = c->end = 0;
}

const char *bn_ioerr(int rc, int err)
{
	if (rc == 0)
		return "connection closed by server";
	if (err == EAGAIN)
		return "timeout";
	return strerror(err);
}

int bn_format(char *out, size_t outlen, const char *fmt, const char *s, long num, int *ns, int *nd)
{
	size_t o = 0;
	*ns = *nd = 0;
	for (const char *p = fmt; *p; p++) {
		char tmp[64];
		const char *piece;
		size_t plen;
		if (*p != '%') {
			piece = p;
			plen = 1;
		} else if (p[1] == '%') {
			piece = "%";
			plen = 1;
			p++;
		} else if (p[1] == 's') {
			if (!s)
				return -1;
			piece = s;
			plen = strlen(s);
			(*ns)++;
			p++;
		} else {
			const char *q = p + 1;
			int left = 0, zero = 0, width = 0;
			for (; *q == '-' || *q == '0'; q++) {
				if (*q == '-')
					left = 1;
				else
					zero = 1;
			}
			for (; *q >= '0' && *q <= '9'; q++) {
				width = width * 10 + (*q - '0');
				if (width > 40)
					return -1;
			}
			if (*q != 'd')
				return -1;
			char digits[32];
			int dl = snprintf(digits, sizeof digits, "%ld", num);
			int pad = width > dl ? width - dl : 0;
			size_t t = 0;
			if (left) {
				memcpy(tmp, digits, (size_t)dl);
				t = (size_t)dl;
				memset(tmp + t, ' ', (size_t)pad);
				t += (size_t)pad;
			} else if (zero) {
				const char *d = digits;
				if (*d == '-') {
					tmp[t++] = '-';
					d++;
				}
				memset(tmp + t, '0', (size_t)pad);
				t += (size_t)pad;
				memcpy(tmp + t, d, strlen(d));
				t += strlen(d);
			} else {
				memset(tmp, ' ', (size_t)pad);
				t = (size_t)pad;
				memcpy(tmp + t, digits, (size_t)dl);
				t += (size_t)dl;
			}
			piece = tmp;
			plen = t;
			(*nd)++;
			p = q;
		}
		if (o + plen + 1 > outlen)
			return -1;
		memcpy(out + o, piece, plen);
		o += plen;
	}
	if (o + 1 > outlen)
		return -1;
	out[o] = '\0';
	return (int)o;
}

long bn_parse_long(const char *s)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (errno || e == s || *e || v < 0)
		return -1;
	return v;
}

double bn_parse_double(const char *s)
{
	char *e;
	errno = 0;
	double v = strtod(s, &e);
	if (errno || e == s || *e || !(v >= 0) || v > 1e12)
		return -1;
	return v;
}

long bn_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}
