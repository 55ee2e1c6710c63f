/*
 * idle_conns - memory a server spends per idle connection.
 *
 * Reads the server's PSS (sum of "Pss:" in /proc/PID/smaps_rollup, over PID and all its
 * descendants unless --no-tree), opens N plain connections, reads each greeting, waits --settle
 * seconds, reads the PSS again and prints (after - before) / N. The connections are then held
 * for --hold seconds and closed. See bench/README-mail.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, fdatasync, MSG_NOSIGNAL, SOCK_CLOEXEC */
#endif
#include "benchnet.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static struct {
	const char *host, *port, *expect;
	long count, batch, pid;
	bool tree;
	double settle, hold, timeout;
} opt = {.host = "127.0.0.1",
	 .port = "25",
	 .expect = "220",
	 .count = 1000,
	 .batch = 50,
	 .pid = -1,
	 .tree = true,
	 .settle = 2,
	 .hold = 0,
	 .timeout = 30};

static void usage(FILE *f)
{
	fprintf(f, "usage: idle_conns --pid PID [--host H] [--port P] [--count N] [--expect PREFIX]\n"
		   "                  [--no-tree] [--batch B] [--settle S] [--hold S] [--timeout S]\n"
		   "  PID is the server (for multi-process servers its master: descendants are summed).\n"
		   "  --expect: greeting prefix, default 220 (use +OK for POP3, \"* OK\" for IMAP).\n"
		   "  defaults: 127.0.0.1:25, N=1000, batches of 50, settle 2 s, hold 0 s\n");
}

struct mem {
	long pss_kb, rss_kb, procs;
};

/* Add the Pss/Rss of one process (kB). Returns false if it has gone. */
static bool add_proc(long pid, struct mem *m)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%ld/smaps_rollup", pid);
	FILE *f = fopen(path, "r");
	bool rollup = f != NULL;
	if (!f) {
		snprintf(path, sizeof path, "/proc/%ld/smaps", pid);
		f = fopen(path, "r");
		if (!f)
			return false;
	}
	char line[256];
	long pss = 0, rss = 0, v;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "Pss: %ld kB", &v) == 1)
			pss += v;
		else if (sscanf(line, "Rss: %ld kB", &v) == 1)
			rss += v;
		if (rollup && pss && rss)
			break;
	}
	fclose(f);
	m->pss_kb += pss;
	m->rss_kb += rss;
	m->procs++;
	return true;
}

static long ppid_of(long pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')'); /* the command name may contain spaces and parentheses */
	long pp;
	char st;
	if (!p || sscanf(p + 1, " %c %ld", &st, &pp) != 2)
		return -1;
	return pp;
}

/* Memory of pid, plus of all its descendants with opt.tree. */
static int measure(struct mem *m)
{
	memset(m, 0, sizeof *m);
	if (!add_proc(opt.pid, m))
		return -1;
	if (!opt.tree)
		return 0;
	long cap = 4096, n = 0;
	long *pids = malloc(sizeof *pids * (size_t)cap), *pp = malloc(sizeof *pp * (size_t)cap);
	if (!pids || !pp)
		return -1;
	DIR *d = opendir("/proc");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		if (n == cap) {
			cap *= 2;
			long *a = realloc(pids, sizeof *pids * (size_t)cap), *b = realloc(pp, sizeof *pp * (size_t)cap);
			if (!a || !b)
				return -1;
			pids = a;
			pp = b;
		}
		pids[n] = atol(e->d_name);
		pp[n] = ppid_of(pids[n]);
		n++;
	}
	if (d)
		closedir(d);
	/* breadth-first over the parent links: mark descendants of opt.pid */
	char *in = calloc((size_t)n, 1);
	long *queue = malloc(sizeof *queue * (size_t)(n + 1));
	if (!in || !queue)
		return -1;
	long qh = 0, qt = 0;
	queue[qt++] = opt.pid;
	while (qh < qt) {
		long parent = queue[qh++];
		for (long k = 0; k < n; k++)
			if (!in[k] && pp[k] == parent && pids[k] != opt.pid) {
				in[k] = 1;
				queue[qt++] = pids[k];
				add_proc(pids[k], m);
			}
	}
	free(in);
	free(queue);
	free(pids);
	free(pp);
	return 0;
}

struct iconn {
	struct bconn c;
	bool done;
	char first[128];
};

/* Feed data for the greeting; returns 1 when complete, 0 if more is needed, -1 on error. */
static int greeting_step(struct iconn *ic)
{
	char *l;
	for (;;) {
		/* only consume what is buffered or one read: the socket is readable */
		ssize_t n = bn_getline(&ic->c, &l, 4096);
		if (n <= 0)
			return -1;
		size_t len = (size_t)n;
		while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			len--;
		if (!ic->first[0])
			snprintf(ic->first, sizeof ic->first, "%.*s", (int)len, l);
		/* SMTP continuation lines are "DDD-..."; anything else ends the greeting */
		if (!(len >= 4 && isdigit((unsigned char)l[0]) && isdigit((unsigned char)l[1]) &&
		      isdigit((unsigned char)l[2]) && l[3] == '-'))
			return 1;
		if (ic->c.pos == ic->c.end)
			return 0;
	}
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
		else if (!strcmp(o, "--expect") && has)
			opt.expect = argv[++i];
		else if (!strcmp(o, "--count") && has)
			opt.count = bn_parse_long(argv[++i]);
		else if (!strcmp(o, "--batch") && has)
			opt.batch = bn_parse_long(argv[++i]);
		else if (!strcmp(o, "--pid") && has)
			opt.pid = bn_parse_long(argv[++i]);
		else if (!strcmp(o, "--no-tree"))
			opt.tree = false;
		else if (!strcmp(o, "--tree"))
			opt.tree = true;
		else if (!strcmp(o, "--settle") && has)
			opt.settle = bn_parse_double(argv[++i]);
		else if (!strcmp(o, "--hold") && has)
			opt.hold = bn_parse_double(argv[++i]);
		else if (!strcmp(o, "--timeout") && has)
			opt.timeout = bn_parse_double(argv[++i]);
		else {
			fprintf(stderr, "idle_conns: unknown option or missing value: %s\n", o);
			usage(stderr);
			return 2;
		}
	}
	if (opt.pid <= 0 || opt.count < 1 || opt.batch < 1 || opt.settle < 0 || opt.hold < 0 || opt.timeout <= 0) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	long nofile = bn_raise_nofile();
	if (nofile > 0 && opt.count + 32 > nofile) {
		fprintf(stderr, "idle_conns: %ld connections need more file descriptors (limit %ld)\n", opt.count, nofile);
		return 2;
	}
	char err[300];
	struct addrinfo *ai;
	if (bn_resolve(opt.host, opt.port, &ai, err, sizeof err) < 0) {
		fprintf(stderr, "idle_conns: %s\n", err);
		return 2;
	}
	struct mem before, after;
	if (measure(&before) < 0) {
		fprintf(stderr, "idle_conns: cannot read /proc/%ld/smaps_rollup: %s\n", opt.pid, strerror(errno));
		return 2;
	}

	struct iconn *cs = calloc((size_t)opt.count, sizeof *cs);
	struct pollfd *pf = calloc((size_t)opt.batch, sizeof *pf);
	long *idx = calloc((size_t)opt.batch, sizeof *idx);
	if (!cs || !pf || !idx)
		return 2;
	long opened = 0, failed = 0, bad_greeting = 0;
	char sample[512] = "";
	double t0 = bn_now();
	for (long b = 0; b < opt.count; b += opt.batch) {
		long end = b + opt.batch < opt.count ? b + opt.batch : opt.count;
		for (long k = b; k < end; k++) {
			cs[k].c = (struct bconn)BCONN_INIT;
			if (bn_connect(&cs[k].c, ai, opt.timeout, 4096, err, sizeof err) < 0) {
				cs[k].done = true;
				failed++;
				if (!sample[0])
					snprintf(sample, sizeof sample, "connection %ld: %s", k, err);
			}
		}
		double deadline = bn_now() + opt.timeout;
		for (;;) {
			long np = 0;
			for (long k = b; k < end; k++)
				if (!cs[k].done) {
					pf[np].fd = cs[k].c.fd;
					pf[np].events = POLLIN;
					pf[np].revents = 0;
					idx[np++] = k;
				}
			if (!np)
				break;
			double left = deadline - bn_now();
			if (left <= 0) {
				for (long j = 0; j < np; j++) {
					cs[idx[j]].done = true;
					bn_close(&cs[idx[j]].c);
					failed++;
				}
				if (!sample[0])
					snprintf(sample, sizeof sample, "%ld connections: no greeting within %.0f s", np,
						 opt.timeout);
				break;
			}
			int r = poll(pf, (nfds_t)np, (int)(left * 1000) + 1);
			if (r < 0 && errno != EINTR) {
				perror("idle_conns: poll");
				return 2;
			}
			for (long j = 0; r > 0 && j < np; j++) {
				if (!pf[j].revents)
					continue;
				struct iconn *ic = &cs[idx[j]];
				int g = greeting_step(ic);
				if (g == 0)
					continue;
				ic->done = true;
				if (g < 0) {
					failed++;
					if (!sample[0])
						snprintf(sample, sizeof sample, "connection %ld: %s", idx[j],
							 ic->first[0] ? ic->first : "closed before the greeting");
					bn_close(&ic->c);
				} else if (strncmp(ic->first, opt.expect, strlen(opt.expect))) {
					bad_greeting++;
					if (!sample[0])
						snprintf(sample, sizeof sample, "connection %ld: greeting '%s'", idx[j],
							 ic->first);
					bn_close(&ic->c);
				} else {
					opened++;
				}
			}
		}
	}
	double open_time = bn_now() - t0;
	if (opt.settle > 0)
		usleep((useconds_t)(opt.settle * 1e6));
	if (measure(&after) < 0) {
		fprintf(stderr, "idle_conns: server process %ld disappeared\n", opt.pid);
		return 1;
	}
	/* connections still open after settling (server may drop some early) */
	long alive = 0;
	for (long k = 0; k < opt.count; k++) {
		if (cs[k].c.fd < 0)
			continue;
		struct pollfd p = {.fd = cs[k].c.fd, .events = POLLIN, .revents = 0};
		if (poll(&p, 1, 0) == 0)
			alive++;
	}
	printf("target: %s:%s, server pid %ld%s\n", opt.host, opt.port, opt.pid,
	       opt.tree ? " and its descendants" : "");
	printf("connections: %ld requested, %ld open with greeting (%.2f s), %ld failed, %ld unexpected greeting\n",
	       opt.count, opened, open_time, failed, bad_greeting);
	if (sample[0])
		printf("  failure sample: %s\n", sample);
	printf("still open after %.1f s: %ld\n", opt.settle, alive);
	printf("server processes: %ld before, %ld after\n", before.procs, after.procs);
	printf("server PSS: %ld kB before, %ld kB after (RSS %ld kB -> %ld kB)\n", before.pss_kb, after.pss_kb,
	       before.rss_kb, after.rss_kb);
	double per = opened ? (double)(after.pss_kb - before.pss_kb) * 1024.0 / (double)opened : 0;
	double per_rss = opened ? (double)(after.rss_kb - before.rss_kb) * 1024.0 / (double)opened : 0;
	printf("PSS per connection: %.0f bytes (%.1f KiB); RSS per connection: %.1f KiB\n", per, per / 1024.0,
	       per_rss / 1024.0);
	printf("SUMMARY: idle %s:%s %ld connections: %.1f KiB PSS per connection (%ld -> %ld kB, %ld -> %ld processes)\n",
	       opt.host, opt.port, opened, per / 1024.0, before.pss_kb, after.pss_kb, before.procs, after.procs);
	fflush(stdout);
	if (opt.hold > 0)
		usleep((useconds_t)(opt.hold * 1e6));
	for (long k = 0; k < opt.count; k++) {
		bn_close(&cs[k].c);
		free(cs[k].c.buf);
	}
	free(cs);
	free(pf);
	free(idx);
	freeaddrinfo(ai);
	return opened == opt.count ? 0 : 1;
}
