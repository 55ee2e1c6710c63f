/*
 * pop3_bench - time a complete POP3 session that downloads a whole mailbox.
 *
 * One session: connect, [TLS / STLS,] greeting, USER, PASS, LIST, RETR of every listed message
 * (each read to its terminating dot), QUIT. Nothing is deleted. The session is run K times and the
 * median is reported, with the messages and bytes retrieved. See bench/README-mail.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, fdatasync, MSG_NOSIGNAL, SOCK_CLOEXEC */
#endif
#include "benchnet.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE (1 << 20)

static struct {
	const char *host, *port, *user, *pass;
	bool tls, stls, verbose;
	long repeat;
	double timeout;
} opt = {.host = "127.0.0.1", .port = "110", .repeat = 5, .timeout = 60};

struct run {
	double total, login, list, retr;
	long msgs, listed_bytes, bytes, lines;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pop3_bench --user USER --pass PASS [--host H] [--port P] [--tls | --stls]\n"
		   "                  [--repeat K] [--timeout S] [--verbose]\n"
		   "  --tls   implicit TLS (POP3S); --stls  upgrade with STLS after the greeting\n"
		   "  defaults: 127.0.0.1:110, K=5, timeout 60 s\n");
}

static char g_err[512];

/* Read a status line; returns 1 for +OK, 0 for -ERR or anything else, -1 on I/O error. */
static int status(struct bconn *c, const char *what)
{
	char *l;
	ssize_t n = bn_getline(c, &l, 4096);
	if (n <= 0) {
		snprintf(g_err, sizeof g_err, "%s: %s", what, bn_ioerr((int)n, errno));
		return -1;
	}
	size_t len = (size_t)n;
	while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
		len--;
	if (len >= 3 && !memcmp(l, "+OK", 3))
		return 1;
	snprintf(g_err, sizeof g_err, "%s: %.*s", what, (int)(len > 300 ? 300 : len), l);
	return 0;
}

static int cmd(struct bconn *c, const char *line, const char *what)
{
	if (bn_write(c, line, strlen(line)) < 0) {
		snprintf(g_err, sizeof g_err, "%s: write: %s", what, bn_ioerr(-1, errno));
		return -1;
	}
	return status(c, what);
}

/* Read a multi-line body up to the "." line. For each line calls cb (may be NULL) with the
 * un-stuffed line (CRLF included). Counts un-stuffed bytes and lines. Returns 0 or -1. */
static int multiline(struct bconn *c, const char *what, long *bytes, long *lines,
		     void (*cb)(const char *, size_t, void *), void *arg)
{
	for (;;) {
		char *l;
		ssize_t n = bn_getline(c, &l, MAX_LINE);
		if (n <= 0) {
			snprintf(g_err, sizeof g_err, "%s: %s before the terminating dot", what, bn_ioerr((int)n, errno));
			return -1;
		}
		size_t len = (size_t)n;
		if (l[0] == '.') {
			if ((len == 3 && l[1] == '\r') || len == 2)
				return 0;
			l++;
			len--;
		}
		if (bytes)
			*bytes += (long)len;
		if (lines)
			(*lines)++;
		if (cb)
			cb(l, len, arg);
	}
}

struct listing {
	long *num, *size;
	long n, cap;
};

static void list_line(const char *l, size_t len, void *arg)
{
	struct listing *ls = arg;
	char tmp[64];
	if (len >= sizeof tmp)
		return;
	memcpy(tmp, l, len);
	tmp[len] = '\0';
	long num, size;
	if (sscanf(tmp, "%ld %ld", &num, &size) != 2)
		return;
	if (ls->n == ls->cap) {
		ls->cap = ls->cap ? ls->cap * 2 : 1024;
		ls->num = realloc(ls->num, sizeof *ls->num * (size_t)ls->cap);
		ls->size = realloc(ls->size, sizeof *ls->size * (size_t)ls->cap);
		if (!ls->num || !ls->size) {
			fprintf(stderr, "pop3_bench: out of memory\n");
			exit(2);
		}
	}
	ls->num[ls->n] = num;
	ls->size[ls->n] = size;
	ls->n++;
}

static int session(const struct addrinfo *ai, SSL_CTX *ctx, struct run *r)
{
	struct bconn c = BCONN_INIT;
	struct listing ls = {NULL, NULL, 0, 0};
	char line[1024];
	int rc = -1;
	memset(r, 0, sizeof *r);
	double t0 = bn_now();
	if (bn_connect(&c, ai, opt.timeout, 256 * 1024, g_err, sizeof g_err) < 0)
		goto out;
	if (opt.tls && bn_tls_start(&c, ctx, NULL, g_err, sizeof g_err) < 0)
		goto out;
	if (status(&c, "greeting") != 1)
		goto out;
	if (opt.stls) {
		if (cmd(&c, "STLS\r\n", "STLS") != 1 || bn_tls_start(&c, ctx, NULL, g_err, sizeof g_err) < 0)
			goto out;
	}
	snprintf(line, sizeof line, "USER %s\r\n", opt.user);
	if (cmd(&c, line, "USER") != 1)
		goto out;
	snprintf(line, sizeof line, "PASS %s\r\n", opt.pass);
	if (cmd(&c, line, "PASS") != 1)
		goto out;
	double t1 = bn_now();
	r->login = t1 - t0;
	if (cmd(&c, "LIST\r\n", "LIST") != 1 || multiline(&c, "LIST", NULL, NULL, list_line, &ls) < 0)
		goto out;
	double t2 = bn_now();
	r->list = t2 - t1;
	for (long k = 0; k < ls.n; k++) {
		r->listed_bytes += ls.size[k];
		snprintf(line, sizeof line, "RETR %ld\r\n", ls.num[k]);
		char what[64];
		snprintf(what, sizeof what, "RETR %ld", ls.num[k]);
		if (cmd(&c, line, what) != 1 || multiline(&c, what, &r->bytes, &r->lines, NULL, NULL) < 0)
			goto out;
		r->msgs++;
	}
	double t3 = bn_now();
	r->retr = t3 - t2;
	if (cmd(&c, "QUIT\r\n", "QUIT") != 1)
		goto out;
	r->total = bn_now() - t0;
	rc = 0;
out:
	bn_close(&c);
	free(c.buf);
	free(ls.num);
	free(ls.size);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, long n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(o, "--host") && has)
			opt.host = argv[++i];
		else if (!strcmp(o, "--port") && has)
			opt.port = argv[++i];
		else if (!strcmp(o, "--user") && has)
			opt.user = argv[++i];
		else if (!strcmp(o, "--pass") && has)
			opt.pass = argv[++i];
		else if (!strcmp(o, "--tls"))
			opt.tls = true;
		else if (!strcmp(o, "--stls"))
			opt.stls = true;
		else if (!strcmp(o, "--verbose") || !strcmp(o, "-v"))
			opt.verbose = true;
		else if (!strcmp(o, "--repeat") && has) {
			opt.repeat = bn_parse_long(argv[++i]);
			if (opt.repeat < 1) {
				fprintf(stderr, "pop3_bench: bad --repeat\n");
				return 2;
			}
		} else if (!strcmp(o, "--timeout") && has) {
			opt.timeout = bn_parse_double(argv[++i]);
			if (opt.timeout <= 0) {
				fprintf(stderr, "pop3_bench: bad --timeout\n");
				return 2;
			}
		} else {
			fprintf(stderr, "pop3_bench: unknown option or missing value: %s\n", o);
			usage(stderr);
			return 2;
		}
	}
	if (!opt.user || !opt.pass || (opt.tls && opt.stls) || strpbrk(opt.user, "\r\n") ||
	    strpbrk(opt.pass, "\r\n") || strlen(opt.user) > 900 || strlen(opt.pass) > 900) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct addrinfo *ai;
	if (bn_resolve(opt.host, opt.port, &ai, g_err, sizeof g_err) < 0) {
		fprintf(stderr, "pop3_bench: %s\n", g_err);
		return 2;
	}
	SSL_CTX *ctx = NULL;
	if ((opt.tls || opt.stls) && !(ctx = bn_tls_ctx())) {
		fprintf(stderr, "pop3_bench: cannot create a TLS context\n");
		return 2;
	}
	double *tot = calloc((size_t)opt.repeat, sizeof *tot), *login = calloc((size_t)opt.repeat, sizeof *login),
	       *retr = calloc((size_t)opt.repeat, sizeof *retr);
	if (!tot || !login || !retr)
		return 2;
	struct run r, first;
	memset(&first, 0, sizeof first);
	for (long k = 0; k < opt.repeat; k++) {
		if (session(ai, ctx, &r) < 0) {
			fprintf(stderr, "pop3_bench: run %ld: %s\n", k + 1, g_err);
			printf("SUMMARY: pop3 %s:%s FAILED: %s\n", opt.host, opt.port, g_err);
			return 1;
		}
		if (k == 0)
			first = r;
		else if (r.msgs != first.msgs || r.bytes != first.bytes)
			fprintf(stderr, "pop3_bench: warning: run %ld retrieved %ld messages / %ld bytes, run 1 %ld / %ld\n",
				k + 1, r.msgs, r.bytes, first.msgs, first.bytes);
		if (opt.verbose)
			fprintf(stderr, "pop3_bench: run %ld: %.3f s (login %.2f ms, LIST %.2f ms, RETR %.3f s)\n", k + 1,
				r.total, r.login * 1e3, r.list * 1e3, r.retr);
		tot[k] = r.total;
		login[k] = r.login;
		retr[k] = r.retr;
	}
	double mt = median(tot, opt.repeat), ml = median(login, opt.repeat), mr = median(retr, opt.repeat);
	printf("target: %s:%s (POP3%s), user %s\n", opt.host, opt.port, opt.tls ? "S" : opt.stls ? " + STLS" : "",
	       opt.user);
	printf("runs: %ld\n", opt.repeat);
	printf("messages retrieved: %ld (%ld lines)\n", first.msgs, first.lines);
	printf("bytes retrieved: %ld (LIST total %ld%s)\n", first.bytes, first.listed_bytes,
	       first.bytes == first.listed_bytes ? "" : ", differs");
	printf("session time: median %.3f s, min %.3f s, max %.3f s\n", mt, tot[0], tot[opt.repeat - 1]);
	printf("first run: %.3f s (may include one-time work such as indexing the mailbox)\n", first.total);
	printf("login (connect..PASS) median: %.2f ms\n", ml * 1e3);
	printf("RETR phase median: %.3f s (%.0f messages/s, %.1f MB/s)\n", mr, mr > 0 ? (double)first.msgs / mr : 0,
	       mr > 0 ? (double)first.bytes / mr / 1e6 : 0);
	printf("SUMMARY: pop3 %s:%s %ld messages %ld bytes: session median %.3f s (%.0f msg/s), login %.2f ms\n",
	       opt.host, opt.port, first.msgs, first.bytes, mt, mt > 0 ? (double)first.msgs / mt : 0, ml * 1e3);
	SSL_CTX_free(ctx);
	freeaddrinfo(ai);
	free(tot);
	free(login);
	free(retr);
	return 0;
}
