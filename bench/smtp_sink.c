/*
 * smtp_sink - a fast SMTP sink for the outbound (relay) benchmarks.
 *
 * One thread, epoll, non-blocking sockets, many concurrent sessions. Speaks EHLO/HELO, MAIL, RCPT,
 * DATA, RSET, NOOP, QUIT and advertises PIPELINING. The message body is scanned for the end-of-data
 * line and thrown away; nothing is stored. Modes:
 *   accept  every RCPT gets 250, every message 250 after the dot (counted)
 *   defer   every RCPT gets 451 4.3.0 (counted), so DATA never follows
 *   reject  every RCPT gets 550 5.1.1 (counted)
 *
 * The counters (messages, recipients, sessions, the highest number of sessions open at once, the
 * wall-clock time of the first and the last accepted message, and with --match TEXT the number and
 * the last time of the transactions whose MAIL line contains TEXT: accepted messages, or in
 * defer/reject mode the first RCPT) are written to --stats FILE
 * (atomically: FILE.tmp + rename) at most every 50 ms while they change, on SIGUSR1 and at exit.
 * SIGUSR1 also prints them on stderr; SIGTERM/SIGINT print them on stdout and exit.
 * See bench/README-mail.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 2048 /* longest command line kept; longer ones get 500 */
#define OUT_CAP 8192	  /* replies waiting to be sent; reading pauses when it is nearly full */
#define READ_CHUNK 65536

enum mode { M_ACCEPT, M_DEFER, M_REJECT };

static struct {
	const char *host, *stats, *port_file, *match;
	int port, max_sessions, max_conns;
	enum mode mode;
	bool quiet;
} opt = {.host = "127.0.0.1", .max_conns = 10000};

static struct {
	unsigned long long messages, rcpt_ok, rcpt_deferred, rcpt_rejected, sessions, body_bytes, matched;
	int open, max_open;
	struct timespec first, last; /* CLOCK_REALTIME of the first/last accepted message */
	struct timespec match_last;  /* ... of the last accepted message whose MAIL line has --match */
	bool dirty;
} st;

enum cstate { C_CMD, C_DATA, C_QUIT };

struct conn {
	int fd;
	enum cstate state;
	bool have_mail, overlong, matched;
	int rcpts;	    /* accepted recipients of the current transaction */
	int dot;	    /* end-of-data scanner state, see data_scan() */
	unsigned long long bytes;
	size_t inlen, outlen, outpos;
	char in[LINE_MAX_LEN];
	char out[OUT_CAP];
};

static volatile sig_atomic_t got_term, got_usr1;

static void on_term(int s)
{
	(void)s;
	got_term = 1;
}

static void on_usr1(int s)
{
	(void)s;
	got_usr1 = 1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: smtp_sink [--mode accept|defer|reject] [--host 127.0.0.1] [--port P]\n"
		   "                 [--port-file FILE] [--stats FILE] [--max-sessions K] [--max-conns N]\n"
		   "                 [--match TEXT] [--quiet]\n"
		   "  --port 0 (default) picks a free port; --port-file receives the port number.\n"
		   "  --max-sessions K: at most K sessions at once; further connections wait in the\n"
		   "    listen backlog until one ends (emulates a per-destination concurrency limit).\n"
		   "  --stats FILE: counters, rewritten while they change, on SIGUSR1 and at exit.\n"
		   "  --match TEXT: also count (\"matched\", \"matched_last\") the transactions whose MAIL\n"
		   "    command line contains TEXT, e.g. a probe's sender among other traffic: in accept\n"
		   "    mode at the end of DATA, in defer/reject mode at the first RCPT.\n");
}

static double ts(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec / 1e9;
}

static void format_stats(char *b, size_t n)
{
	snprintf(b, n,
		 "mode %s\nmessages %llu\nrcpt_accepted %llu\nrcpt_deferred %llu\nrcpt_rejected %llu\n"
		 "sessions %llu\nopen %d\nmax_open %d\nbody_bytes %llu\nfirst %.6f\nlast %.6f\n"
		 "matched %llu\nmatched_last %.6f\n",
		 opt.mode == M_ACCEPT ? "accept" : opt.mode == M_DEFER ? "defer" : "reject", st.messages, st.rcpt_ok,
		 st.rcpt_deferred, st.rcpt_rejected, st.sessions, st.open, st.max_open, st.body_bytes,
		 st.messages ? ts(&st.first) : 0.0, st.messages ? ts(&st.last) : 0.0, st.matched,
		 st.matched ? ts(&st.match_last) : 0.0);
}

static void write_stats(void)
{
	st.dirty = false;
	if (!opt.stats)
		return;
	char b[1024], tmp[4200];
	format_stats(b, sizeof b);
	snprintf(tmp, sizeof tmp, "%s.tmp", opt.stats);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "smtp_sink: cannot write %s: %s\n", tmp, strerror(errno));
		return;
	}
	fputs(b, f);
	if (fclose(f) != 0 || rename(tmp, opt.stats) != 0)
		fprintf(stderr, "smtp_sink: cannot update %s: %s\n", opt.stats, strerror(errno));
}

static int flush_out(struct conn *c);

/* Queue a reply. When the buffer is full it is sent first; it only stays full when the kernel's
 * send buffer is full too, i.e. for a client that pipelines without ever reading: that client is
 * dropped. */
static bool reply(struct conn *c, const char *s)
{
	size_t n = strlen(s);
	if (c->outlen + n > sizeof c->out && flush_out(c) < 0)
		return false;
	if (c->outlen + n > sizeof c->out)
		return false;
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
	return true;
}

/* Send what is queued. Returns -1 on a broken connection; what the socket does not take now
 * stays queued (moved to the front). */
static int flush_out(struct conn *c)
{
	while (c->outpos < c->outlen) {
		ssize_t w = send(c->fd, c->out + c->outpos, c->outlen - c->outpos, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				memmove(c->out, c->out + c->outpos, c->outlen - c->outpos);
				c->outlen -= c->outpos;
				c->outpos = 0;
				return 0;
			}
			return -1;
		}
		c->outpos += (size_t)w;
	}
	c->outpos = c->outlen = 0;
	return 0;
}

static bool verb(const char *line, size_t len, const char *v)
{
	size_t n = strlen(v);
	return len >= n && !strncasecmp(line, v, n) && (len == n || line[n] == ' ' || line[n] == ':');
}

static void count_message(struct conn *c)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (!st.messages)
		st.first = now;
	st.last = now;
	st.messages++;
	st.body_bytes += c->bytes;
	if (c->matched) {
		st.matched++;
		st.match_last = now;
	}
	st.dirty = true;
}

/* One command line (without CR LF). Returns false to drop the connection. */
static bool command(struct conn *c, const char *line, size_t len)
{
	if (c->overlong) {
		c->overlong = false;
		return reply(c, "500 5.5.2 line too long\r\n");
	}
	if (verb(line, len, "EHLO"))
		return reply(c, "250-sink.invalid\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 ENHANCEDSTATUSCODES\r\n");
	if (verb(line, len, "HELO"))
		return reply(c, "250 sink.invalid\r\n");
	if (verb(line, len, "MAIL")) {
		if (c->have_mail)
			return reply(c, "503 5.5.1 nested MAIL command\r\n");
		c->have_mail = true;
		c->rcpts = 0;
		c->matched = opt.match && memmem(line, len, opt.match, strlen(opt.match)) != NULL;
		return reply(c, "250 2.1.0 ok\r\n");
	}
	if (verb(line, len, "RCPT")) {
		if (!c->have_mail)
			return reply(c, "503 5.5.1 need MAIL first\r\n");
		st.dirty = true;
		if (opt.mode != M_ACCEPT && c->matched) {
			/* a probe's attempt ends here: count it once per transaction */
			c->matched = false;
			st.matched++;
			clock_gettime(CLOCK_REALTIME, &st.match_last);
		}
		switch (opt.mode) {
		case M_DEFER:
			st.rcpt_deferred++;
			return reply(c, "451 4.3.0 sink defers: try again later\r\n");
		case M_REJECT:
			st.rcpt_rejected++;
			return reply(c, "550 5.1.1 sink rejects this recipient\r\n");
		case M_ACCEPT:
			break;
		}
		st.rcpt_ok++;
		c->rcpts++;
		return reply(c, "250 2.1.5 ok\r\n");
	}
	if (verb(line, len, "DATA")) {
		if (!c->have_mail || !c->rcpts)
			return reply(c, "554 5.5.1 no valid recipients\r\n");
		c->state = C_DATA;
		c->dot = 2; /* at the beginning of a line */
		c->bytes = 0;
		return reply(c, "354 end with <CRLF>.<CRLF>\r\n");
	}
	if (verb(line, len, "RSET")) {
		c->have_mail = false;
		c->rcpts = 0;
		return reply(c, "250 2.0.0 ok\r\n");
	}
	if (verb(line, len, "NOOP"))
		return reply(c, "250 2.0.0 ok\r\n");
	if (verb(line, len, "QUIT")) {
		c->state = C_QUIT;
		return reply(c, "221 2.0.0 bye\r\n");
	}
	return reply(c, "502 5.5.2 command not implemented\r\n");
}

/* Scan body bytes for CR LF "." CR LF. States: 0 inside a line, 1 after CR, 2 at the beginning of
 * a line, 3 after a leading ".", 4 after ". CR". Returns how many bytes belong to the body (the
 * terminator included) once the end is found, or n when it is not in this chunk. */
static size_t data_scan(struct conn *c, const char *p, size_t n, bool *end)
{
	*end = false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		switch (c->dot) {
		case 1:
			c->dot = ch == '\n' ? 2 : ch == '\r' ? 1 : 0;
			break;
		case 2:
			c->dot = ch == '.' ? 3 : ch == '\r' ? 1 : 0;
			break;
		case 3:
			c->dot = ch == '\r' ? 4 : 0;
			break;
		case 4:
			if (ch == '\n') {
				*end = true;
				c->bytes += i + 1;
				return i + 1;
			}
			c->dot = ch == '\r' ? 1 : 0;
			break;
		default:
			c->dot = ch == '\r' ? 1 : 0;
			break;
		}
	}
	c->bytes += n;
	return n;
}

/* Feed received bytes. Returns false to drop the connection. */
static bool feed(struct conn *c, const char *p, size_t n)
{
	while (n && c->state != C_QUIT) {
		if (c->state == C_DATA) {
			bool end;
			size_t used = data_scan(c, p, n, &end);
			p += used;
			n -= used;
			if (end) {
				count_message(c);
				c->state = C_CMD;
				c->have_mail = false;
				c->rcpts = 0;
				if (!reply(c, "250 2.0.0 queued (discarded by the sink)\r\n"))
					return false;
			}
			continue;
		}
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) + 1 : n;
		if (!c->overlong) {
			if (c->inlen + take > sizeof c->in) {
				c->overlong = true; /* keep reading to the end of the line, then 500 */
				c->inlen = 0;
			} else {
				memcpy(c->in + c->inlen, p, take);
				c->inlen += take;
			}
		}
		p += take;
		n -= take;
		if (nl) {
			size_t len = c->inlen;
			while (len && (c->in[len - 1] == '\n' || c->in[len - 1] == '\r'))
				len--;
			c->inlen = 0;
			if (!command(c, c->in, len))
				return false;
		}
	}
	return true;
}

static int make_listener(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt.port)};
	if (inet_pton(AF_INET, opt.host, &a.sin_addr) != 1) {
		fprintf(stderr, "smtp_sink: --host must be a numeric IPv4 address\n");
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 4096) < 0) {
		fprintf(stderr, "smtp_sink: cannot listen on %s:%d: %s\n", opt.host, opt.port, strerror(errno));
		close(fd);
		return -1;
	}
	socklen_t al = sizeof a;
	getsockname(fd, (struct sockaddr *)&a, &al);
	opt.port = ntohs(a.sin_port);
	return fd;
}

static void close_conn(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
	st.open--;
	st.dirty = true;
}

/* Wanted events: stop reading while replies are waiting (the client is not reading), and
 * always stop after QUIT. */
static void rearm(int ep, struct conn *c)
{
	struct epoll_event ev = {.data.ptr = c};
	ev.events = c->outlen ? EPOLLOUT : EPOLLIN;
	epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Handle readiness of one connection. Returns false when it was closed. */
static bool serve(int ep, struct conn *c, uint32_t events)
{
	static char buf[READ_CHUNK];
	if (events & (EPOLLERR | EPOLLHUP) && !(events & EPOLLIN)) {
		close_conn(ep, c);
		return false;
	}
	if (c->outlen && flush_out(c) < 0) {
		close_conn(ep, c);
		return false;
	}
	if (c->state == C_QUIT) {
		if (!c->outlen) {
			close_conn(ep, c);
			return false;
		}
		rearm(ep, c);
		return true;
	}
	/* read until the socket is empty, or until the client stops taking our replies */
	while (!c->outlen) {
		ssize_t r = recv(c->fd, buf, sizeof buf, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			close_conn(ep, c);
			return false;
		}
		if (r == 0 || !feed(c, buf, (size_t)r)) {
			close_conn(ep, c);
			return false;
		}
		if (c->outlen && flush_out(c) < 0) {
			close_conn(ep, c);
			return false;
		}
		if (c->state == C_QUIT)
			break;
	}
	if (c->state == C_QUIT && !c->outlen) {
		close_conn(ep, c);
		return false;
	}
	rearm(ep, c);
	return true;
}

static void accept_all(int ep, int lfd, bool *listening)
{
	for (;;) {
		if (opt.max_sessions && st.open >= opt.max_sessions)
			break;
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				fprintf(stderr, "smtp_sink: accept: %s\n", strerror(errno));
			break;
		}
		if (st.open >= opt.max_conns) {
			static const char busy[] = "421 4.3.2 sink: too many connections\r\n";
			if (send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL) < 0) {
				/* nothing to do: the connection is closed anyway */
			}
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		st.open++;
		st.sessions++;
		if (st.open > st.max_open)
			st.max_open = st.open;
		st.dirty = true;
		reply(c, "220 sink.invalid ESMTP smtp_sink\r\n");
		struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			free(c);
			st.open--;
			continue;
		}
		if (flush_out(c) < 0) {
			close_conn(ep, c);
			continue;
		}
		rearm(ep, c);
	}
	/* a full house stops accepting: the rest wait in the backlog */
	bool want = !opt.max_sessions || st.open < opt.max_sessions;
	if (want != *listening) {
		struct epoll_event ev = {.events = want ? EPOLLIN : 0, .data.ptr = NULL};
		epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev);
		*listening = want;
	}
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quiet")) {
			opt.quiet = true;
			continue;
		}
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!v) {
			usage(stderr);
			return 2;
		}
		i++;
		if (!strcmp(a, "--mode")) {
			if (!strcmp(v, "accept"))
				opt.mode = M_ACCEPT;
			else if (!strcmp(v, "defer"))
				opt.mode = M_DEFER;
			else if (!strcmp(v, "reject"))
				opt.mode = M_REJECT;
			else {
				fprintf(stderr, "smtp_sink: unknown mode %s\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--host")) {
			opt.host = v;
		} else if (!strcmp(a, "--port")) {
			if (!parse_int(v, 0, 65535, &opt.port)) {
				fprintf(stderr, "smtp_sink: bad port %s\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--port-file")) {
			opt.port_file = v;
		} else if (!strcmp(a, "--match")) {
			opt.match = v;
		} else if (!strcmp(a, "--stats")) {
			opt.stats = v;
		} else if (!strcmp(a, "--max-sessions")) {
			if (!parse_int(v, 0, 1000000, &opt.max_sessions)) {
				fprintf(stderr, "smtp_sink: bad --max-sessions %s\n", v);
				return 2;
			}
		} else if (!strcmp(a, "--max-conns")) {
			if (!parse_int(v, 1, 1000000, &opt.max_conns)) {
				fprintf(stderr, "smtp_sink: bad --max-conns %s\n", v);
				return 2;
			}
		} else {
			usage(stderr);
			return 2;
		}
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	struct sigaction sa = {.sa_handler = on_term};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int lfd = make_listener();
	if (lfd < 0)
		return 1;
	if (opt.port_file) {
		char tmp[4200];
		snprintf(tmp, sizeof tmp, "%s.tmp", opt.port_file);
		FILE *f = fopen(tmp, "w");
		if (!f || fprintf(f, "%d\n", opt.port) < 0 || fclose(f) != 0 || rename(tmp, opt.port_file) != 0) {
			fprintf(stderr, "smtp_sink: cannot write %s\n", opt.port_file);
			return 1;
		}
	}
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
		perror("smtp_sink: epoll");
		return 1;
	}
	bool listening = true;
	write_stats();
	if (!opt.quiet)
		fprintf(stderr, "smtp_sink: %s mode on %s:%d\n",
			opt.mode == M_ACCEPT ? "accept" : opt.mode == M_DEFER ? "defer" : "reject", opt.host, opt.port);
	struct epoll_event evs[256];
	struct timespec last_write = {0};
	while (!got_term) {
		int n = epoll_wait(ep, evs, 256, 50);
		if (n < 0 && errno != EINTR) {
			perror("smtp_sink: epoll_wait");
			break;
		}
		bool freed = false;
		for (int i = 0; i < n; i++) {
			if (!evs[i].data.ptr) {
				accept_all(ep, lfd, &listening);
				continue;
			}
			if (!serve(ep, evs[i].data.ptr, evs[i].events))
				freed = true;
		}
		if (freed && !listening)
			accept_all(ep, lfd, &listening);
		if (got_usr1) {
			got_usr1 = 0;
			char b[1024];
			format_stats(b, sizeof b);
			fputs(b, stderr);
			write_stats();
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		double since = (double)(now.tv_sec - last_write.tv_sec) + (double)(now.tv_nsec - last_write.tv_nsec) / 1e9;
		if (st.dirty && since >= 0.05) {
			write_stats();
			last_write = now;
		}
	}
	write_stats();
	char b[1024];
	format_stats(b, sizeof b);
	fputs(b, stdout);
	/* connections still open are closed by the exit */
	close(ep);
	close(lfd);
	return 0;
}
