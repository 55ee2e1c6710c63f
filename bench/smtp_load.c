/*
 * smtp_load - SMTP (or LMTP) load generator for any mail server.
 *
 * C worker threads each run complete transactions (EHLO, [STARTTLS, EHLO,] MAIL, RCPT, DATA,
 * dot-stuffed body with a unique Message-ID, QUIT) until N messages have been tried. It counts the
 * 250 acknowledgements of the final dot and the failures (by stage), records the latency of every
 * acknowledged message, measures the fdatasync rate of the mail disk, and can verify delivery by
 * counting the files in the Maildirs afterwards. See bench/README-mail.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* mkdtemp, fdatasync, MSG_NOSIGNAL, SOCK_CLOEXEC */
#endif
#include "benchnet.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 8192
#define ADDR_MAX 512

enum stage { ST_CONNECT, ST_GREETING, ST_EHLO, ST_STARTTLS, ST_RSET, ST_MAIL, ST_RCPT, ST_DATA, ST_DOT, ST_N };
static const char *const stage_name[ST_N] = {"connect", "greeting", "ehlo", "starttls", "rset",
					     "mail", "rcpt", "data", "dot"};

static struct {
	const char *host, *port;
	long conc, count, size, rcpts, rcpt_base, warmup;
	const char *from, *rcpt_fmt, *ehlo;
	bool reuse, starttls, lmtp, pipelining, progress;
	double timeout;
	const char *maildir_root, *maildir_fmt, *fsync_dir, *latency_file;
	double verify_wait, fsync_secs;
} opt = {
	.host = "127.0.0.1",
	.port = "25",
	.conc = 10,
	.count = 1000,
	.size = 4096,
	.rcpts = 1,
	.rcpt_base = 0,
	.from = "loadgen@smtp-load.invalid",
	.rcpt_fmt = "user%d@bench.test",
	.ehlo = "smtp-load.invalid",
	.timeout = 30,
	.verify_wait = 60,
	.fsync_secs = 1,
};

static struct addrinfo *g_addr;
static SSL_CTX *g_tls;
static char *g_body;     /* dot-stuffed body, CRLF lines, without the final "." line */
static size_t g_body_len;
static char g_run_id[64];
static float *g_lat;     /* per message: latency in seconds, or -1 if not acknowledged */
static atomic_long g_next, g_acked, g_failed, g_conns, g_quit_err;
static atomic_long g_fail_stage[ST_N];
static atomic_long g_fail_io;
static atomic_bool g_done;
static long g_count;      /* messages in the current phase */
static char g_phase = 'm'; /* 'w' during the warm-up: part of the Message-ID */ /* failures that were timeouts / resets rather than replies */
static pthread_mutex_t g_err_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_err_samples[5][300];
static int g_nerr;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: smtp_load [--host H] [--port P] [--concurrency C] [--count N] [--size BYTES]\n"
		"                 [--from ADDR] [--rcpt-fmt FMT] [--rcpts R] [--rcpt-base B]\n"
		"                 [--new-conn | --reuse] [--starttls] [--lmtp] [--pipelining] [--ehlo NAME]\n"
		"                 [--timeout S] [--fsync-dir DIR] [--fsync-secs S]\n"
		"                 [--maildir-root DIR --maildir-fmt FMT] [--verify-wait S] [--warmup W]\n"
		"                 [--latency-file FILE] [--progress]\n"
		"defaults: 127.0.0.1:25, C=10, N=1000, 4096-byte body, rcpt-fmt user%%d@bench.test, R=1,\n"
		"          B=0, new connection per message, timeout 30 s, verify-wait 60 s, no warm-up.\n"
		"Recipient of message i: rcpt-fmt with %%d = B + i %% R. --maildir-fmt takes %%s (the root)\n"
		"and %%d (the same index), e.g. \"%%s/domains/bench.test/user%%d/Maildir\".\n");
}

static void record_error(enum stage st, long msg, const char *fmt, ...)
{
	pthread_mutex_lock(&g_err_lock);
	if (g_nerr < 5) {
		char tmp[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(tmp, sizeof tmp, fmt, ap);
		va_end(ap);
		size_t l = strlen(tmp);
		while (l && (tmp[l - 1] == '\n' || tmp[l - 1] == '\r'))
			tmp[--l] = '\0';
		snprintf(g_err_samples[g_nerr++], sizeof g_err_samples[0], "message %ld, %s: %s", msg,
			 stage_name[st], tmp);
	}
	pthread_mutex_unlock(&g_err_lock);
}

/* Per-worker state. */
struct worker {
	int id;
	struct bconn c;
	bool connected, used, has_pipelining, has_starttls;
	char reply[MAX_LINE]; /* last line of the last reply, for error messages */
	char *msg;
	size_t msg_cap;
	int io_rc, io_errno;  /* why read_reply returned 0 */
};

/* Read one (possibly multi-line) reply. Returns its code (100..599), or 0 on I/O error / bad
 * syntax. With want_ext, EHLO keywords are recorded. */
static int read_reply(struct worker *w, bool want_ext)
{
	for (;;) {
		char *l;
		ssize_t n = bn_getline(&w->c, &l, MAX_LINE);
		if (n <= 0) {
			w->io_rc = (int)n;
			w->io_errno = errno;
			snprintf(w->reply, sizeof w->reply, "%s", bn_ioerr((int)n, errno));
			return 0;
		}
		size_t len = (size_t)n;
		while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			len--;
		if (len < 3 || l[0] < '1' || l[0] > '5' || l[1] < '0' || l[1] > '9' || l[2] < '0' || l[2] > '9' ||
		    (len > 3 && l[3] != ' ' && l[3] != '-')) {
			w->io_rc = 1;
			w->io_errno = EPROTO;
			snprintf(w->reply, sizeof w->reply, "bad reply line: %.*s", (int)(len > 200 ? 200 : len), l);
			return 0;
		}
		snprintf(w->reply, sizeof w->reply, "%.*s", (int)len, l);
		if (want_ext && len > 4) {
			const char *kw = l + 4;
			size_t kl = len - 4;
			if (kl >= 10 && !strncasecmp(kw, "PIPELINING", 10) && (kl == 10 || kw[10] == ' '))
				w->has_pipelining = true;
			if (kl >= 8 && !strncasecmp(kw, "STARTTLS", 8) && (kl == 8 || kw[8] == ' '))
				w->has_starttls = true;
		}
		if (len == 3 || l[3] == ' ')
			return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	}
}

static int send_line(struct worker *w, const char *fmt, ...)
{
	char b[ADDR_MAX + 64];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof b) {
		errno = EMSGSIZE;
		return -1;
	}
	return bn_write(&w->c, b, (size_t)n);
}

/* Count a failed message: stage, whether it was an I/O problem, and a sample message. */
static void fail(struct worker *w, enum stage st, long msg, bool io, const char *what)
{
	atomic_fetch_add(&g_failed, 1);
	atomic_fetch_add(&g_fail_stage[st], 1);
	if (io)
		atomic_fetch_add(&g_fail_io, 1);
	record_error(st, msg, "%s", what ? what : w->reply);
	bn_close(&w->c);
	w->connected = false;
}

static int hello(struct worker *w)
{
	w->has_pipelining = w->has_starttls = false;
	if (send_line(w, "%s %s\r\n", opt.lmtp ? "LHLO" : "EHLO", opt.ehlo) < 0)
		return -1;
	return read_reply(w, true);
}

/* Open a connection and get through greeting, EHLO and optional STARTTLS. Returns true on success;
 * on failure the message is counted as failed. */
static bool open_session(struct worker *w, long msg)
{
	char err[256];
	if (bn_connect(&w->c, g_addr, opt.timeout, 16384, err, sizeof err) < 0) {
		fail(w, ST_CONNECT, msg, true, err);
		return false;
	}
	atomic_fetch_add(&g_conns, 1);
	w->connected = true;
	w->used = false;
	int code = read_reply(w, false);
	if (code != 220) {
		fail(w, ST_GREETING, msg, code == 0, NULL);
		return false;
	}
	code = hello(w);
	if (code != 250) {
		fail(w, ST_EHLO, msg, code == 0, NULL);
		return false;
	}
	if (opt.starttls) {
		if (!w->has_starttls) {
			fail(w, ST_STARTTLS, msg, false, "server does not offer STARTTLS");
			return false;
		}
		code = 0;
		if (send_line(w, "STARTTLS\r\n") < 0 || (code = read_reply(w, false)) != 220) {
			fail(w, ST_STARTTLS, msg, code == 0, NULL);
			return false;
		}
		if (bn_tls_start(&w->c, g_tls, NULL, err, sizeof err) < 0) {
			fail(w, ST_STARTTLS, msg, true, err);
			return false;
		}
		code = hello(w);
		if (code != 250) {
			fail(w, ST_EHLO, msg, code == 0, NULL);
			return false;
		}
	}
	return true;
}

static void close_session(struct worker *w)
{
	if (send_line(w, "QUIT\r\n") < 0 || read_reply(w, false) != 221)
		atomic_fetch_add(&g_quit_err, 1);
	else
		bn_drain_eof(&w->c, 2.0); /* let the server close first: TIME_WAIT stays on its side */
	bn_close(&w->c);
	w->connected = false;
}

static void format_date(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* Build headers + body + ".\r\n" for message i into w->msg. Returns the length. */
static size_t build_message(struct worker *w, long i, const char *rcpt)
{
	char date[64];
	format_date(date, sizeof date);
	char hdr[2 * ADDR_MAX + 512];
	int hl = snprintf(hdr, sizeof hdr,
			  "From: <%s>\r\n"
			  "To: <%s>\r\n"
			  "Subject: smtp_load message %ld\r\n"
			  "Date: %s\r\n"
			  "Message-ID: <%s.%c%ld@smtp-load.invalid>\r\n"
			  "X-Smtp-Load: worker %d\r\n"
			  "\r\n",
			  opt.from, rcpt, i, date, g_run_id, g_phase, i, w->id);
	size_t need = (size_t)hl + g_body_len + 3;
	if (need > w->msg_cap) {
		free(w->msg);
		w->msg = malloc(need);
		if (!w->msg) {
			fprintf(stderr, "smtp_load: out of memory\n");
			exit(2);
		}
		w->msg_cap = need;
	}
	memcpy(w->msg, hdr, (size_t)hl);
	memcpy(w->msg + hl, g_body, g_body_len);
	memcpy(w->msg + hl + g_body_len, ".\r\n", 3);
	return need;
}

/* One message. Leaves the connection open (reuse) or closed (new-conn / failure). */
static void one_message(struct worker *w, long i)
{
	char rcpt[ADDR_MAX];
	int ns, nd;
	if (bn_format(rcpt, sizeof rcpt, opt.rcpt_fmt, NULL, opt.rcpt_base + i % opt.rcpts, &ns, &nd) < 0)
		snprintf(rcpt, sizeof rcpt, "invalid@invalid");
	size_t mlen = build_message(w, i, rcpt);

	double t0 = bn_now();
	if (!w->connected && !open_session(w, i))
		return;
	int code;
	if (w->used) {
		code = 0;
		if (send_line(w, "RSET\r\n") < 0 || (code = read_reply(w, false)) != 250) {
			fail(w, ST_RSET, i, code == 0, NULL);
			return;
		}
	}
	w->used = true;
	bool pipe = opt.pipelining && w->has_pipelining;
	if (pipe) {
		char b[3 * ADDR_MAX];
		int n = snprintf(b, sizeof b, "MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n", opt.from, rcpt);
		if (bn_write(&w->c, b, (size_t)n) < 0) {
			fail(w, ST_MAIL, i, true, "write failed");
			return;
		}
	} else if (send_line(w, "MAIL FROM:<%s>\r\n", opt.from) < 0) {
		fail(w, ST_MAIL, i, true, "write failed");
		return;
	}
	code = read_reply(w, false);
	if (code != 250) {
		fail(w, ST_MAIL, i, code == 0, NULL);
		return;
	}
	if (!pipe && send_line(w, "RCPT TO:<%s>\r\n", rcpt) < 0) {
		fail(w, ST_RCPT, i, true, "write failed");
		return;
	}
	code = read_reply(w, false);
	if (code != 250 && code != 251) {
		fail(w, ST_RCPT, i, code == 0, NULL);
		return;
	}
	if (!pipe && send_line(w, "DATA\r\n") < 0) {
		fail(w, ST_DATA, i, true, "write failed");
		return;
	}
	code = read_reply(w, false);
	if (code != 354) {
		fail(w, ST_DATA, i, code == 0, NULL);
		return;
	}
	if (bn_write(&w->c, w->msg, mlen) < 0) {
		fail(w, ST_DOT, i, true, "write of the message failed");
		return;
	}
	code = read_reply(w, false); /* LMTP: one reply per accepted recipient, and we send one */
	if (code != 250) {
		fail(w, ST_DOT, i, code == 0, NULL);
		return;
	}
	g_lat[i] = (float)(bn_now() - t0);
	atomic_fetch_add(&g_acked, 1);
	if (!opt.reuse)
		close_session(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	for (;;) {
		long i = atomic_fetch_add(&g_next, 1);
		if (i >= g_count)
			break;
		one_message(w, i);
	}
	if (w->connected)
		close_session(w);
	return NULL;
}

/* Body of exactly opt.size bytes before stuffing (at least 2): CRLF lines of at most 78 bytes,
 * every 16th line starting with '.', so dot-stuffing is exercised. */
static void build_body(void)
{
	static const char words[] = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod "
				    "tempor incididunt ut labore et dolore magna aliqua. ";
	long size = opt.size < 2 ? 2 : opt.size;
	g_body = malloc((size_t)size + (size_t)size / 16 + 64);
	if (!g_body) {
		fprintf(stderr, "smtp_load: out of memory\n");
		exit(2);
	}
	size_t o = 0, wl = sizeof words - 1, wp = 0;
	long remaining = size, line = 0;
	while (remaining > 0) {
		long L = 76;
		if (remaining <= 78)
			L = remaining - 2;
		else if (remaining == 79)
			L = 75;
		bool dot = (line % 16 == 15) && L > 0;
		if (dot) {
			g_body[o++] = '.';
			g_body[o++] = '.'; /* stuffed: the server stores one '.' */
		}
		for (long k = dot ? 1 : 0; k < L; k++) {
			g_body[o++] = words[wp];
			wp = (wp + 1) % wl;
		}
		g_body[o++] = '\r';
		g_body[o++] = '\n';
		remaining -= L + 2;
		line++;
	}
	g_body_len = o;
}

/* ---------------------------------------------------------------------------------------------
 * Disk probe: 4 KiB append + fdatasync, and new 4 KiB file + fsync, each for opt.fsync_secs.
 */
struct fsync_result {
	double append_rate, newfile_rate;
	char dir[PATH_MAX];
	char err[256];
};

static void fsync_probe(const char *dir, struct fsync_result *r)
{
	memset(r, 0, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	char tdir[PATH_MAX];
	if (snprintf(tdir, sizeof tdir, "%s/.smtp_load_fsync.XXXXXX", dir) >= (int)sizeof tdir ||
	    !mkdtemp(tdir)) {
		snprintf(r->err, sizeof r->err, "cannot create a directory in %s: %s", dir, strerror(errno));
		return;
	}
	char block[4096];
	memset(block, 'x', sizeof block);
	char path[PATH_MAX + 32];
	snprintf(path, sizeof path, "%s/append", tdir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		long n = 0;
		off_t off = 0;
		double t0 = bn_now(), t;
		do {
			if (pwrite(fd, block, sizeof block, off) != (ssize_t)sizeof block || fdatasync(fd) < 0)
				break;
			off += (off_t)sizeof block;
			n++;
		} while ((t = bn_now() - t0) < opt.fsync_secs);
		t = bn_now() - t0;
		r->append_rate = t > 0 ? (double)n / t : 0;
		close(fd);
		unlink(path);
	}
	long n = 0;
	double t0 = bn_now(), t;
	do {
		snprintf(path, sizeof path, "%s/f%ld", tdir, n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			break;
		bool ok = write(fd, block, sizeof block) == (ssize_t)sizeof block && fsync(fd) == 0;
		close(fd);
		if (!ok)
			break;
		n++;
	} while ((t = bn_now() - t0) < opt.fsync_secs);
	t = bn_now() - t0;
	r->newfile_rate = t > 0 ? (double)n / t : 0;
	for (long k = 0; k <= n; k++) {
		snprintf(path, sizeof path, "%s/f%ld", tdir, k);
		unlink(path);
	}
	rmdir(tdir);
}

/* ---------------------------------------------------------------------------------------------
 * Delivery verification: files in new/ + cur/ of every mailbox.
 */
static long count_dir(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	long n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static long count_delivered(void)
{
	long total = 0;
	for (long r = 0; r < opt.rcpts; r++) {
		char mb[PATH_MAX], sub[PATH_MAX + 8];
		int ns, nd;
		if (bn_format(mb, sizeof mb, opt.maildir_fmt, opt.maildir_root, opt.rcpt_base + r, &ns, &nd) < 0)
			return -1;
		snprintf(sub, sizeof sub, "%s/new", mb);
		total += count_dir(sub);
		snprintf(sub, sizeof sub, "%s/cur", mb);
		total += count_dir(sub);
	}
	return total;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

static double pct(const float *s, long n, double p)
{
	if (n <= 0)
		return NAN;
	double want = p * (double)n; /* nearest rank: ceil(p * n) - 1, without libm */
	long k = (long)want;
	if ((double)k < want)
		k++;
	k--;
	if (k < 0)
		k = 0;
	if (k >= n)
		k = n - 1;
	return s[k];
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

static void *progress_main(void *arg)
{
	(void)arg;
	double t0 = bn_now();
	for (;;) {
		sleep(1);
		if (atomic_load(&g_done))
			return NULL;
		fprintf(stderr, "smtp_load: %.0f s: %ld acknowledged, %ld failed\n", bn_now() - t0,
			atomic_load(&g_acked), atomic_load(&g_failed));
	}
}

static void reset_counters(void)
{
	atomic_store(&g_next, 0);
	atomic_store(&g_acked, 0);
	atomic_store(&g_failed, 0);
	atomic_store(&g_conns, 0);
	atomic_store(&g_quit_err, 0);
	atomic_store(&g_fail_io, 0);
	atomic_store(&g_done, false);
	for (int k = 0; k < ST_N; k++)
		atomic_store(&g_fail_stage[k], 0);
	g_nerr = 0;
}

/* Run count messages over the nw workers; returns the elapsed time. Workers close their
 * connections at the end of the phase. */
static double run_phase(long count, struct worker *ws, pthread_t *th, long nw, pthread_attr_t *attr, bool progress)
{
	g_count = count;
	for (long i = 0; i < count; i++)
		g_lat[i] = -1;
	double t0 = bn_now();
	long started = 0;
	for (long k = 0; k < nw; k++) {
		ws[k].id = (int)k;
		if (!ws[k].c.buf)
			ws[k].c = (struct bconn)BCONN_INIT;
		ws[k].connected = false;
		if (pthread_create(&th[k], attr, worker_main, &ws[k])) {
			fprintf(stderr, "smtp_load: could not start worker %ld\n", k);
			if (!k)
				exit(2);
			break;
		}
		started++;
	}
	pthread_t prog;
	bool have_prog = progress && !pthread_create(&prog, attr, progress_main, NULL);
	for (long k = 0; k < started; k++)
		pthread_join(th[k], NULL);
	double elapsed = bn_now() - t0;
	if (have_prog) {
		atomic_store(&g_done, true);
		pthread_join(prog, NULL);
	}
	return elapsed;
}

static int need_arg(int i, int argc, const char *o)
{
	if (i + 1 >= argc) {
		fprintf(stderr, "smtp_load: %s needs a value\n", o);
		exit(2);
	}
	return i + 1;
}

static long num_arg(const char *o, const char *v, long min)
{
	long x = bn_parse_long(v);
	if (x < min) {
		fprintf(stderr, "smtp_load: bad value for %s: %s\n", o, v);
		exit(2);
	}
	return x;
}

static double sec_arg(const char *o, const char *v)
{
	double x = bn_parse_double(v);
	if (x < 0) {
		fprintf(stderr, "smtp_load: bad value for %s: %s\n", o, v);
		exit(2);
	}
	return x;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(o, "--host"))
			opt.host = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--port"))
			opt.port = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--concurrency") || !strcmp(o, "-c"))
			opt.conc = num_arg(o, argv[i = need_arg(i, argc, o)], 1);
		else if (!strcmp(o, "--count") || !strcmp(o, "-n"))
			opt.count = num_arg(o, argv[i = need_arg(i, argc, o)], 1);
		else if (!strcmp(o, "--size"))
			opt.size = num_arg(o, argv[i = need_arg(i, argc, o)], 0);
		else if (!strcmp(o, "--from"))
			opt.from = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--rcpt-fmt"))
			opt.rcpt_fmt = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--rcpts"))
			opt.rcpts = num_arg(o, argv[i = need_arg(i, argc, o)], 1);
		else if (!strcmp(o, "--rcpt-base"))
			opt.rcpt_base = num_arg(o, argv[i = need_arg(i, argc, o)], 0);
		else if (!strcmp(o, "--new-conn"))
			opt.reuse = false;
		else if (!strcmp(o, "--reuse"))
			opt.reuse = true;
		else if (!strcmp(o, "--starttls"))
			opt.starttls = true;
		else if (!strcmp(o, "--lmtp"))
			opt.lmtp = true;
		else if (!strcmp(o, "--pipelining"))
			opt.pipelining = true;
		else if (!strcmp(o, "--ehlo"))
			opt.ehlo = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--timeout"))
			opt.timeout = sec_arg(o, argv[i = need_arg(i, argc, o)]);
		else if (!strcmp(o, "--fsync-dir"))
			opt.fsync_dir = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--fsync-secs"))
			opt.fsync_secs = sec_arg(o, argv[i = need_arg(i, argc, o)]);
		else if (!strcmp(o, "--maildir-root"))
			opt.maildir_root = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--maildir-fmt"))
			opt.maildir_fmt = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--verify-wait"))
			opt.verify_wait = sec_arg(o, argv[i = need_arg(i, argc, o)]);
		else if (!strcmp(o, "--warmup"))
			opt.warmup = num_arg(o, argv[i = need_arg(i, argc, o)], 0);
		else if (!strcmp(o, "--latency-file"))
			opt.latency_file = argv[i = need_arg(i, argc, o)];
		else if (!strcmp(o, "--progress"))
			opt.progress = true;
		else {
			fprintf(stderr, "smtp_load: unknown option %s\n", o);
			usage(stderr);
			exit(2);
		}
	}
	char tmp[ADDR_MAX];
	int ns, nd;
	if (bn_format(tmp, sizeof tmp, opt.rcpt_fmt, NULL, 1, &ns, &nd) < 0 || nd != 1 || ns != 0) {
		fprintf(stderr, "smtp_load: --rcpt-fmt must contain exactly one %%d (and no other conversion)\n");
		exit(2);
	}
	if (strlen(opt.from) > ADDR_MAX - 16 || strpbrk(opt.from, "\r\n<>") || strlen(opt.ehlo) > 255) {
		fprintf(stderr, "smtp_load: bad --from or --ehlo\n");
		exit(2);
	}
	if (!opt.maildir_root != !opt.maildir_fmt) {
		fprintf(stderr, "smtp_load: --maildir-root and --maildir-fmt go together\n");
		exit(2);
	}
	if (opt.maildir_fmt) {
		char p[PATH_MAX];
		if (bn_format(p, sizeof p, opt.maildir_fmt, opt.maildir_root, 1, &ns, &nd) < 0 || nd != 1 || ns > 1) {
			fprintf(stderr, "smtp_load: --maildir-fmt takes at most one %%s (root) and exactly one %%d\n");
			exit(2);
		}
	}
	if (opt.timeout <= 0)
		opt.timeout = 30;
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	long nofile = bn_raise_nofile();
	if (nofile > 0 && opt.conc + 32 > nofile) {
		fprintf(stderr, "smtp_load: concurrency %ld needs more file descriptors (limit %ld)\n", opt.conc,
			nofile);
		return 2;
	}
	char err[300];
	if (bn_resolve(opt.host, opt.port, &g_addr, err, sizeof err) < 0) {
		fprintf(stderr, "smtp_load: %s\n", err);
		return 2;
	}
	if (opt.starttls && !(g_tls = bn_tls_ctx())) {
		fprintf(stderr, "smtp_load: cannot create a TLS context\n");
		return 2;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(g_run_id, sizeof g_run_id, "%lx.%lx.%d", (long)ts.tv_sec, (long)ts.tv_nsec, (int)getpid());
	build_body();
	long maxn = opt.count > opt.warmup ? opt.count : opt.warmup;
	g_lat = malloc(sizeof *g_lat * (size_t)maxn);
	if (!g_lat) {
		fprintf(stderr, "smtp_load: out of memory\n");
		return 2;
	}

	/* the disk first, while the server is idle */
	const char *fdir = opt.fsync_dir ? opt.fsync_dir : opt.maildir_root ? opt.maildir_root : "/tmp";
	struct fsync_result fr;
	bool probe = opt.fsync_secs > 0;
	if (probe)
		fsync_probe(fdir, &fr);

	long before = 0;
	if (opt.maildir_root) {
		before = count_delivered();
		if (before < 0) {
			fprintf(stderr, "smtp_load: cannot expand --maildir-fmt\n");
			return 2;
		}
	}

	size_t sample_len;
	{
		struct worker tmpw;
		memset(&tmpw, 0, sizeof tmpw);
		char rcpt[ADDR_MAX];
		int fs, fd;
		bn_format(rcpt, sizeof rcpt, opt.rcpt_fmt, NULL, opt.rcpt_base, &fs, &fd);
		sample_len = build_message(&tmpw, opt.count - 1, rcpt);
		free(tmpw.msg);
	}

	long nw = opt.conc < opt.count ? opt.conc : opt.count;
	struct worker *ws = calloc((size_t)nw, sizeof *ws);
	pthread_t *th = calloc((size_t)nw, sizeof *th);
	if (!ws || !th) {
		fprintf(stderr, "smtp_load: out of memory\n");
		return 2;
	}
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);

	long warm_acked = 0, warm_failed = 0;
	double warm_time = 0, warm_wait = 0;
	if (opt.warmup > 0) {
		g_phase = 'w';
		warm_time = run_phase(opt.warmup, ws, th, nw, &attr, false);
		warm_acked = atomic_load(&g_acked);
		warm_failed = atomic_load(&g_failed);
		if (opt.maildir_root) {
			/* let the warm-up mail land, so the timed phase starts on a quiet server */
			double v0 = bn_now();
			long target = before + warm_acked;
			while ((before = count_delivered()) < target && bn_now() - v0 < opt.verify_wait)
				usleep(100000);
			warm_wait = bn_now() - v0;
		}
		reset_counters();
		g_phase = 'm';
	}

	double cpu0 = cpu_seconds();
	double elapsed = run_phase(opt.count, ws, th, nw, &attr, opt.progress);
	double cpu = cpu_seconds() - cpu0;

	long acked = atomic_load(&g_acked), failed = atomic_load(&g_failed);
	long delivered = -1;
	double deliver_wait = 0;
	if (opt.maildir_root) {
		double v0 = bn_now();
		for (;;) {
			delivered = count_delivered() - before;
			deliver_wait = bn_now() - v0;
			if (delivered >= acked || deliver_wait >= opt.verify_wait)
				break;
			usleep(100000);
		}
	}

	float *s = malloc(sizeof *s * (size_t)(acked ? acked : 1));
	if (!s) {
		fprintf(stderr, "smtp_load: out of memory\n");
		return 2;
	}
	long ns = 0;
	double sum = 0;
	for (long i = 0; i < opt.count; i++)
		if (g_lat[i] >= 0 && ns < acked) {
			s[ns++] = g_lat[i];
			sum += g_lat[i];
		}
	if (opt.latency_file) {
		FILE *lf = fopen(opt.latency_file, "w");
		if (!lf) {
			fprintf(stderr, "smtp_load: %s: %s\n", opt.latency_file, strerror(errno));
		} else {
			for (long i = 0; i < opt.count; i++)
				if (g_lat[i] >= 0)
					fprintf(lf, "%ld %.3f\n", i, g_lat[i] * 1e3);
			fclose(lf);
		}
	}
	qsort(s, (size_t)ns, sizeof *s, cmp_float);
	double rate = elapsed > 0 ? (double)acked / elapsed : 0;
	double p50 = pct(s, ns, 0.50) * 1e3, p90 = pct(s, ns, 0.90) * 1e3, p99 = pct(s, ns, 0.99) * 1e3;
	double mx = ns ? s[ns - 1] * 1e3 : NAN, mean = ns ? sum / (double)ns * 1e3 : NAN;

	printf("target: %s:%s (%s%s%s, %s)\n", opt.host, opt.port, opt.lmtp ? "LMTP" : "SMTP",
	       opt.starttls ? " + STARTTLS" : "", opt.pipelining ? ", PIPELINING if offered" : "",
	       opt.reuse ? "one connection per worker, RSET between messages" : "new connection per message");
	printf("messages: %ld x %ld-byte body (%zu bytes of DATA incl. headers and stuffing), %ld recipients, "
	       "concurrency %ld\n",
	       opt.count, opt.size < 2 ? 2 : opt.size, sample_len, opt.rcpts, nw);
	if (probe) {
		if (fr.err[0])
			printf("disk probe: %s\n", fr.err);
		else
			printf("disk (%s): 4 KiB append + fdatasync: %.0f/s; new 4 KiB file + fsync: %.0f/s\n", fr.dir,
			       fr.append_rate, fr.newfile_rate);
	}
	if (opt.warmup > 0) {
		printf("warm-up (not counted): %ld messages in %.2f s, %ld acknowledged, %ld failed", opt.warmup,
		       warm_time, warm_acked, warm_failed);
		if (opt.maildir_root)
			printf(", delivered after another %.2f s", warm_wait);
		printf("\n");
	}
	printf("elapsed: %.3f s\n", elapsed);
	printf("connections: %ld\n", atomic_load(&g_conns));
	printf("acknowledged: %ld\n", acked);
	printf("failures: %ld", failed);
	if (failed) {
		const char *sep = " (";
		for (int k = 0; k < ST_N; k++) {
			long v = atomic_load(&g_fail_stage[k]);
			if (v) {
				printf("%s%s %ld", sep, stage_name[k], v);
				sep = ", ";
			}
		}
		printf("; %ld without a server reply: connect/I-O errors, timeouts)", atomic_load(&g_fail_io));
	}
	printf("\n");
	for (int k = 0; k < g_nerr; k++)
		printf("  failure sample: %s\n", g_err_samples[k]);
	if (atomic_load(&g_quit_err))
		printf("QUIT errors (not counted as failures): %ld\n", atomic_load(&g_quit_err));
	printf("messages/s: %.1f\n", rate);
	printf("latency ms: mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", mean, p50, p90, p99, mx);
	printf("client cpu: %.2f s (%.0f%% of one core)\n", cpu, elapsed > 0 ? 100.0 * cpu / elapsed : 0);
	if (opt.maildir_root) {
		printf("delivered/acknowledged: %ld/%ld (%s after %.2f s)\n", delivered, acked,
		       delivered >= acked ? "complete" : "INCOMPLETE", deliver_wait);
		if (delivered > acked)
			printf("  note: more files than acknowledgements (other mail in these mailboxes?)\n");
		double e2e = elapsed + deliver_wait;
		printf("end-to-end messages/s (until all delivered): %.1f\n",
		       e2e > 0 ? (double)(delivered < acked ? delivered : acked) / e2e : 0);
	}
	printf("SUMMARY: %s:%s c=%ld n=%ld size=%ld %s%s: %.1f msg/s, p50 %.2f ms, p99 %.2f ms, failures %ld",
	       opt.host, opt.port, nw, opt.count, opt.size, opt.reuse ? "reuse" : "new-conn",
	       opt.starttls ? " starttls" : "", rate, p50, p99, failed);
	if (opt.maildir_root)
		printf(", delivered %ld/%ld", delivered, acked);
	if (probe && !fr.err[0])
		printf(", fdatasync %.0f/s", fr.append_rate);
	printf("\n");
	fflush(stdout);
	for (long k = 0; k < nw; k++) {
		free(ws[k].c.buf);
		free(ws[k].msg);
	}
	free(ws);
	free(th);
	free(s);
	free(g_lat);
	free(g_body);
	pthread_attr_destroy(&attr);
	freeaddrinfo(g_addr);
	SSL_CTX_free(g_tls);
	bool ok = failed == 0 && acked == opt.count && (!opt.maildir_root || delivered >= acked);
	return ok ? 0 : 1;
}
