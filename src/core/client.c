/*
 * client - blocking outgoing connections.
 */
#include "client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* Timeouts for every read, write and the connect itself; no Nagle delay:
 * every send is a whole command or a batch of them. */
static void set_opts(int fd, int timeout_sec)
{
	struct timeval tv = {timeout_sec, 0};
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int client_connect(struct client *c, const char *host, const char *port, int timeout_sec)
{
	memset(c, 0, sizeof *c);
	c->fd = -1;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		set_opts(fd, timeout_sec);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
			c->fd = fd;
			break;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return c->fd >= 0 ? 0 : -1;
}

int client_connect_addr(struct client *c, const struct sockaddr_storage *sa, int timeout_sec)
{
	memset(c, 0, sizeof *c);
	c->fd = socket(sa->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	set_opts(c->fd, timeout_sec);
	socklen_t len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (connect(c->fd, (const struct sockaddr *)sa, len) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	return 0;
}

int client_connect_hostport(struct client *c, const char *hostport, const char *default_port, int timeout_sec)
{
	char host[300], port[16];
	snprintf(port, sizeof port, "%s", default_port);
	if (hostport[0] == '[') {
		const char *e = strchr(hostport, ']');
		if (!e)
			return -1;
		snprintf(host, sizeof host, "%.*s", (int)(e - hostport - 1), hostport + 1);
		if (e[1] == ':')
			snprintf(port, sizeof port, "%s", e + 2);
	} else {
		snprintf(host, sizeof host, "%s", hostport);
		char *colon = strrchr(host, ':');
		if (colon && strchr(host, ':') == colon) {
			*colon = '\0';
			snprintf(port, sizeof port, "%s", colon + 1);
		}
	}
	return client_connect(c, host, port, timeout_sec);
}

int client_start_tls(struct client *c)
{
	c->ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ctx)
		return -1;
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl)
		return -1;
	SSL_set_fd(c->ssl, c->fd);
	buf_reset(&c->in); /* nothing read in plain text counts after this */
	return SSL_connect(c->ssl) == 1 ? 0 : -1;
}

int client_send(struct client *c, const void *data, size_t n)
{
	const char *p = data;
	while (n) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : send(c->fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int client_read_line(struct client *c, struct buf *out, size_t max)
{
	for (;;) {
		char *lf = c->in.len ? memchr(c->in.data, '\n', c->in.len) : NULL;
		if (lf) {
			size_t len = (size_t)(lf - c->in.data), keep = len;
			while (keep && c->in.data[keep - 1] == '\r')
				keep--;
			buf_reset(out);
			buf_append(out, c->in.data, keep);
			buf_consume(&c->in, len + 1);
			return 0;
		}
		if (c->in.len > max)
			return -1;
		char chunk[16384];
		ssize_t n = c->ssl ? SSL_read(c->ssl, chunk, sizeof chunk) : recv(c->fd, chunk, sizeof chunk, 0);
		if (n <= 0)
			return -1;
		buf_append(&c->in, chunk, (size_t)n);
	}
}

void client_close(struct client *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->ssl = NULL;
	c->ctx = NULL;
	buf_free(&c->in);
}
