/*
 * outbound - the remote queue: scheduler heap, SMTP client attempts,
 * retries, bounces, freezing.
 */
#include "outbound.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin.h"
#include "../admin/settings.h"
#include "../core/client.h"
#include "../core/dns.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/workq.h"
#include "../core/xmalloc.h"
#include "../deliver/deliver.h"
#include "smtp_reply.h"
#include "spool.h"

struct due {
	time_t when;
	char id[64];
};

struct outbound {
	struct admin_env *env;
	struct deliver *dl;
	struct workq *q;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct due *heap;
	int n, cap;
	char **busy; /* ids being attempted: never two attempts of one entry at once */
	int nbusy;
	char host[256];
};

static bool busy_take(struct outbound *ob, const char *id)
{
	for (int i = 0; i < ob->nbusy; i++)
		if (!strcmp(ob->busy[i], id))
			return false;
	ob->busy = xrealloc(ob->busy, (size_t)(ob->nbusy + 1) * sizeof *ob->busy);
	ob->busy[ob->nbusy++] = xstrdup(id);
	return true;
}

static void busy_release(struct outbound *ob, const char *id)
{
	pthread_mutex_lock(&ob->mu);
	for (int i = 0; i < ob->nbusy; i++)
		if (!strcmp(ob->busy[i], id)) {
			free(ob->busy[i]);
			ob->busy[i] = ob->busy[--ob->nbusy];
			break;
		}
	pthread_mutex_unlock(&ob->mu);
}

/* ---- heap ---- */

static void heap_push(struct outbound *ob, time_t when, const char *id)
{
	if (ob->n == ob->cap) {
		ob->cap = ob->cap ? ob->cap * 2 : 256;
		ob->heap = xrealloc(ob->heap, (size_t)ob->cap * sizeof *ob->heap);
	}
	int i = ob->n++;
	ob->heap[i].when = when;
	snprintf(ob->heap[i].id, sizeof ob->heap[i].id, "%s", id);
	while (i > 0) {
		int p = (i - 1) / 2;
		if (ob->heap[p].when <= ob->heap[i].when)
			break;
		struct due t = ob->heap[p];
		ob->heap[p] = ob->heap[i];
		ob->heap[i] = t;
		i = p;
	}
}

static struct due heap_pop(struct outbound *ob)
{
	struct due top = ob->heap[0];
	ob->heap[0] = ob->heap[--ob->n];
	int i = 0;
	for (;;) {
		int l = 2 * i + 1, r = l + 1, m = i;
		if (l < ob->n && ob->heap[l].when < ob->heap[m].when)
			m = l;
		if (r < ob->n && ob->heap[r].when < ob->heap[m].when)
			m = r;
		if (m == i)
			break;
		struct due t = ob->heap[m];
		ob->heap[m] = ob->heap[i];
		ob->heap[i] = t;
		i = m;
	}
	return top;
}

static void schedule(struct outbound *ob, time_t when, const char *id)
{
	pthread_mutex_lock(&ob->mu);
	heap_push(ob, when, id);
	pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
}

/* ---- state beside each entry: "attempts first-time" ---- */

static void state_read(int rootfd, const char *id, int *attempts, time_t *first)
{
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s.state", id);
	struct buf b = BUF_INIT;
	*attempts = 0;
	*first = 0;
	if (fs_read_all_at(rootfd, rel, 256, &b) == 0 && b.data) {
		long long f = 0;
		if (sscanf(b.data, "%d %lld", attempts, &f) == 2)
			*first = (time_t)f;
	}
	buf_free(&b);
}

static void state_write(int rootfd, const char *id, int attempts, time_t first)
{
	char rel[128], text[64];
	snprintf(rel, sizeof rel, "spool/remote/%s.state", id);
	int n = snprintf(text, sizeof text, "%d %lld\n", attempts, (long long)first);
	fs_write_atomic_at(rootfd, rel, text, (size_t)n, 0600);
}

static void log_attempt(int rootfd, const char *id, const char *line)
{
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s.log", id);
	int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s %s\n", stamp, line);
	if (write(fd, b.data, b.len) < 0)
		log_warn("outbound: cannot write %s", rel);
	close(fd);
	buf_free(&b);
}

/* ---- SMTP client ---- */

struct rcpt_result {
	int code; /* 0 not tried, else the SMTP reply code */
	char text[300];
};

/* Read a (multi-line) reply; returns the code or -1. Text: the last line. */
static int smtp_reply(struct client *c, char *text, size_t tsz, bool *starttls)
{
	struct buf l = BUF_INIT;
	int code = -1;
	for (;;) {
		bool last;
		size_t toff;
		if (client_read_line(c, &l, 4096) < 0 || smtp_reply_line(l.data, l.len, &code, &last, &toff) < 0) {
			code = -1;
			break;
		}
		if (starttls && !strncasecmp(l.data + toff, "STARTTLS", 8))
			*starttls = true;
		if (last) {
			snprintf(text, tsz, "%s", l.data);
			break;
		}
	}
	buf_free(&l);
	return code;
}

static int smtp_cmd(struct client *c, const char *cmd, char *text, size_t tsz, bool *starttls)
{
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s\r\n", cmd);
	int rc = client_send(c, b.data, b.len);
	buf_free(&b);
	if (rc < 0)
		return -1;
	return smtp_reply(c, text, tsz, starttls);
}

/* Send the spooled message body: LF to CR LF, dot-stuffed. */
static int send_body(struct client *c, int fd, off_t off)
{
	char in[65536];
	struct buf out = BUF_INIT;
	bool bol = true;
	ssize_t r;
	int rc = 0;
	while (rc == 0 && (r = pread(fd, in, sizeof in, off)) > 0) {
		off += r;
		for (ssize_t i = 0; i < r; i++) {
			char ch = in[i];
			if (bol && ch == '.')
				buf_putc(&out, '.');
			if (ch == '\n') {
				buf_puts(&out, "\r\n");
				bol = true;
				continue;
			}
			bol = false;
			buf_putc(&out, ch);
		}
		rc = client_send(c, out.data, out.len);
		buf_reset(&out);
	}
	if (rc == 0 && !bol)
		rc = client_send(c, "\r\n", 2);
	if (rc == 0)
		rc = client_send(c, ".\r\n", 3);
	buf_free(&out);
	return rc;
}

/* One SMTP transaction on a connected client for the recipients in idx.
 * Fills results; returns false when no answer at all could be had (try the
 * next host). Closes the client. */
static bool smtp_session(struct outbound *ob, struct client *cl, const struct envelope *env, const int *idx, int nidx,
			 int fd, off_t off, struct rcpt_result *res)
{
	struct client c = *cl;
	char text[300];
	bool ok = false, starttls = false;
	if (smtp_reply(&c, text, sizeof text, NULL) != 220)
		goto out;
	char ehlo[300];
	snprintf(ehlo, sizeof ehlo, "EHLO %s", ob->host);
	if (smtp_cmd(&c, ehlo, text, sizeof text, &starttls) != 250)
		goto out;
	if (starttls) {
		/* Opportunistic TLS (RFC 3207): encrypt when offered; the
		 * certificate is not checked, as for any unauthenticated MX. */
		if (smtp_cmd(&c, "STARTTLS", text, sizeof text, NULL) == 220) {
			if (client_start_tls(&c) < 0)
				goto out;
			if (smtp_cmd(&c, ehlo, text, sizeof text, NULL) != 250)
				goto out;
		}
	}
	char line[400];
	snprintf(line, sizeof line, "MAIL FROM:<%s>", env->from);
	int code = smtp_cmd(&c, line, text, sizeof text, NULL);
	if (code < 0)
		goto out;
	ok = true; /* the host answered: its verdicts count */
	if (code / 100 != 2) {
		for (int k = 0; k < nidx; k++) {
			res[idx[k]].code = code;
			snprintf(res[idx[k]].text, sizeof res[idx[k]].text, "%s", text);
		}
		goto quit;
	}
	int accepted = 0;
	for (int k = 0; k < nidx; k++) {
		int i = idx[k];
		snprintf(line, sizeof line, "RCPT TO:<%s>", env->rcpt[i]);
		res[i].code = smtp_cmd(&c, line, res[i].text, sizeof res[i].text, NULL);
		if (res[i].code < 0) {
			res[i].code = 0;
			ok = false;
			goto out;
		}
		if (res[i].code / 100 == 2)
			accepted++;
	}
	if (!accepted)
		goto quit;
	code = smtp_cmd(&c, "DATA", text, sizeof text, NULL);
	if (code == 354) {
		code = send_body(&c, fd, off) == 0 ? smtp_reply(&c, text, sizeof text, NULL) : -1;
	}
	for (int k = 0; k < nidx; k++) {
		int i = idx[k];
		if (res[i].code / 100 != 2)
			continue;
		if (code < 0) {
			res[i].code = 0; /* unknown: try again */
			snprintf(res[i].text, sizeof res[i].text, "connection lost during DATA");
		} else {
			res[i].code = code;
			snprintf(res[i].text, sizeof res[i].text, "%s", text);
		}
	}
quit:
	smtp_cmd(&c, "QUIT", text, sizeof text, NULL);
out:
	client_close(&c);
	return ok;
}

static bool try_gateway(struct outbound *ob, const char *hostport, const struct envelope *env, const int *idx,
			int nidx, int fd, off_t off, struct rcpt_result *res)
{
	struct client c;
	if (client_connect_hostport(&c, hostport, "25", 60) < 0)
		return false;
	return smtp_session(ob, &c, env, idx, nidx, fd, off, res);
}

struct route_cfg {
	char dns[512];
	int port;
	bool v6;
};

static void set_all(struct rcpt_result *res, const int *idx, int nidx, int code, const char *text)
{
	for (int k = 0; k < nidx; k++) {
		res[idx[k]].code = code;
		snprintf(res[idx[k]].text, sizeof res[idx[k]].text, "%s", text);
	}
}

/* MX routing for the recipients of one domain (RFC 5321 §5.1). */
static void route_domain(struct outbound *ob, const struct route_cfg *rc, const char *domain,
			 const struct envelope *env, const int *idx, int nidx, int fd, off_t off, struct rcpt_result *res,
			 int rootfd)
{
	struct dns_mx mx[DNS_MAX_MX];
	int nmx = 0;
	enum dns_status st = dns_mx(rc->dns, domain, mx, &nmx);
	if (st == DNS_NXDOMAIN) {
		set_all(res, idx, nidx, 550, "550 5.1.2 the recipient's domain does not exist");
		return;
	}
	if (st == DNS_TEMPFAIL) {
		set_all(res, idx, nidx, 0, "DNS lookup of the MX records failed; will retry");
		return;
	}
	if (nmx == 0) { /* no MX: the domain itself is the exchanger */
		nmx = 1;
		mx[0].pref = 0;
		snprintf(mx[0].host, sizeof mx[0].host, "%s", domain);
	}
	for (int m = 0; m < nmx; m++) {
		struct sockaddr_storage addrs[DNS_MAX_ADDRS];
		int na = 0;
		if (dns_addrs(rc->dns, mx[m].host, rc->v6, addrs, &na) != DNS_OK)
			continue;
		for (int a = 0; a < na; a++) {
			if (addrs[a].ss_family == AF_INET)
				((struct sockaddr_in *)&addrs[a])->sin_port = htons((uint16_t)rc->port);
			else
				((struct sockaddr_in6 *)&addrs[a])->sin6_port = htons((uint16_t)rc->port);
			struct client c;
			if (client_connect_addr(&c, &addrs[a], 60) < 0) {
				char line[400];
				snprintf(line, sizeof line, "%s (preference %d): cannot connect", mx[m].host, mx[m].pref);
				log_attempt(rootfd, env->id, line);
				continue;
			}
			if (smtp_session(ob, &c, env, idx, nidx, fd, off, res))
				return;
		}
	}
	set_all(res, idx, nidx, 0, "no mail exchanger of the domain answered; will retry");
}

/* ---- bounces ---- */

static void bounce(struct outbound *ob, const struct envelope *env, int fd, off_t off, char **rcpts,
		   struct rcpt_result **why, int n)
{
	if (!env->from[0] || n == 0)
		return; /* never to the null sender, so never a bounce of a bounce */
	struct envelope b = {0};
	spool_new_id(b.id);
	b.received = time(NULL);
	snprintf(b.peer, sizeof b.peer, "local");
	snprintf(b.helo, sizeof b.helo, "%s", ob->host);
	envelope_add_rcpt(&b, env->from);
	struct spool_file sf;
	if (spool_create(ob->env->rootfd, &sf, &b) < 0) {
		envelope_free(&b);
		return;
	}
	char date[64], boundary[80];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(boundary, sizeof boundary, "%.40s/%.30s", b.id, ob->host);
	struct buf m = BUF_INIT;
	buf_printf(&m,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\nSubject: Undelivered Mail Returned to "
		   "Sender\nDate: %s\nMessage-ID: <%s@%s>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n\n"
		   "This is a MIME-encapsulated message.\n\n--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "This is the mail system at %s.\n\nYour message could not be delivered to these recipients:\n\n",
		   ob->host, env->from, date, b.id, ob->host, boundary, boundary, ob->host);
	for (int i = 0; i < n; i++)
		buf_printf(&m, "<%s>: %s\n", rcpts[i], why[i]->text[0] ? why[i]->text : "delivery failed");
	buf_printf(&m, "\n--%s\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; %s\n", boundary, ob->host);
	for (int i = 0; i < n; i++) {
		int code = why[i]->code;
		const char *status = code >= 500 ? "5.0.0" : "4.4.7";
		char st[16];
		/* an enhanced code at the start of the reply text wins */
		if (strlen(why[i]->text) > 10 && sscanf(why[i]->text + 4, "%15s", st) == 1 && st[1] == '.' &&
		    (st[0] == '5' || st[0] == '4'))
			status = st;
		buf_printf(&m, "\nFinal-Recipient: rfc822; %s\nAction: failed\nStatus: %s\n", rcpts[i],
			   code >= 500 ? status : "5.4.7");
		if (code > 0)
			buf_printf(&m, "Diagnostic-Code: smtp; %s\n", why[i]->text);
	}
	buf_printf(&m, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
	/* the original headers */
	char in[65536];
	ssize_t r = pread(fd, in, sizeof in - 1, off);
	if (r > 0) {
		in[r] = '\0';
		char *end = strstr(in, "\n\n");
		size_t hl = end ? (size_t)(end - in) + 1 : (size_t)r;
		buf_append(&m, in, hl);
	}
	buf_printf(&m, "\n--%s--\n", boundary);
	int rc = spool_write(&sf, m.data, m.len);
	buf_free(&m);
	if (rc == 0 && spool_commit(ob->env->rootfd, &sf) == 0) {
		log_info("outbound %s: bounce %s sent to <%s>", env->id, b.id, env->from);
		deliver_enqueue(ob->dl, b.id);
	} else {
		spool_abort(ob->env->rootfd, &sf);
	}
	envelope_free(&b);
}

/* ---- one attempt ---- */

static long retry_delay(const char *schedule, int attempts)
{
	long last = 300;
	const char *p = schedule;
	for (int i = 0; *p; i++) {
		char *end;
		long v = strtol(p, &end, 10);
		if (end == p)
			break;
		last = v > 0 ? v : 1;
		if (i + 1 >= attempts)
			return last;
		p = *end == ',' ? end + 1 : end;
	}
	return last;
}

static void remove_entry(int rootfd, const char *id)
{
	static const char *const sfx[] = {"", ".state", ".log"};
	for (int i = 0; i < 3; i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "spool/remote/%s%s", id, sfx[i]);
		unlinkat(rootfd, rel, 0);
	}
	fs_fsync_dir_at(rootfd, "spool/remote");
}

struct job {
	struct outbound *ob;
	char id[64];
};

static void attempt(void *arg)
{
	struct job *j = arg;
	struct outbound *ob = j->ob;
	int rootfd = ob->env->rootfd;
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s", j->id);
	int fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct envelope env;
	off_t off;
	if (fd < 0 || spool_read_envelope(fd, &env, &off) < 0) {
		if (fd >= 0)
			close(fd);
		busy_release(ob, j->id);
		free(j);
		return;
	}
	struct dir_conn *c = dir_conn_open(ob->env->dir);
	char gateways[4096] = "", sched[1024];
	settings_get(c, "DefaultSMTPGateways", gateways, sizeof gateways);
	settings_get(c, "QueueRetrySchedule", sched, sizeof sched);
	long lifetime = settings_get_int(c, "MaxQueueLifetime");
	struct route_cfg rc;
	settings_get(c, "DnsServers", rc.dns, sizeof rc.dns);
	rc.port = (int)settings_get_int(c, "SmtpOutPort");
	rc.v6 = settings_get_int(c, "SmtpOutEnableIPv6") != 0;
	bool drop = settings_get_int(c, "RemoveSpoolErrors") != 0;
	dir_conn_close(c);
	int attempts;
	time_t first;
	state_read(rootfd, j->id, &attempts, &first);
	if (!first)
		first = env.received ? env.received : time(NULL);
	attempts++;
	struct rcpt_result *res = xcalloc((size_t)env.nrcpt + 1, sizeof *res);
	int *all = xcalloc((size_t)env.nrcpt + 1, sizeof *all);
	for (int i = 0; i < env.nrcpt; i++)
		all[i] = i;
	bool answered = false;
	char *save = NULL;
	for (char *g = strtok_r(gateways, ";", &save); g && !answered; g = strtok_r(NULL, ";", &save)) {
		char *comma = strchr(g, ',');
		if (comma)
			*comma = '\0'; /* options (NeedTLS, OutBind) are not handled yet */
		while (*g == ' ')
			g++;
		if (!*g)
			continue;
		answered = try_gateway(ob, g, &env, all, env.nrcpt, fd, off, res);
		if (!answered) {
			char line[600];
			snprintf(line, sizeof line, "%.500s: no SMTP answer (connection failed or closed)", g);
			log_attempt(rootfd, env.id, line);
		}
	}
	if (!gateways[0]) {
		/* MX routing: one session per destination domain */
		bool *seen = xcalloc((size_t)env.nrcpt + 1, sizeof *seen);
		int *idx = xcalloc((size_t)env.nrcpt + 1, sizeof *idx);
		for (int i = 0; i < env.nrcpt; i++) {
			if (seen[i])
				continue;
			const char *dom = strrchr(env.rcpt[i], '@');
			dom = dom ? dom + 1 : "";
			int nidx = 0;
			for (int k = i; k < env.nrcpt; k++) {
				const char *dk = strrchr(env.rcpt[k], '@');
				if (!seen[k] && !strcasecmp(dk ? dk + 1 : "", dom)) {
					seen[k] = true;
					idx[nidx++] = k;
				}
			}
			route_domain(ob, &rc, dom, &env, idx, nidx, fd, off, res, rootfd);
		}
		free(seen);
		free(idx);
	}
	bool expired = time(NULL) - first >= lifetime;
	char **left = NULL, **failed = NULL;
	struct rcpt_result **why = NULL;
	int nleft = 0, nfailed = 0, ndone = 0;
	for (int i = 0; i < env.nrcpt; i++) {
		char line[700];
		snprintf(line, sizeof line, "<%s> %s", env.rcpt[i], res[i].code ? res[i].text : "not attempted");
		log_attempt(rootfd, env.id, line);
		if (res[i].code / 100 == 2) {
			ndone++;
			log_info("outbound %s: <%s> delivered: %s", env.id, env.rcpt[i], res[i].text);
		} else if (res[i].code / 100 == 5 || expired) {
			failed = xrealloc(failed, (size_t)(nfailed + 1) * sizeof *failed);
			why = xrealloc(why, (size_t)(nfailed + 1) * sizeof *why);
			failed[nfailed] = env.rcpt[i];
			why[nfailed++] = &res[i];
			if (expired && res[i].code / 100 != 5 && !res[i].text[0])
				snprintf(res[i].text, sizeof res[i].text, "gave up after %d attempts", attempts);
		} else {
			left = xrealloc(left, (size_t)(nleft + 1) * sizeof *left);
			left[nleft++] = env.rcpt[i];
		}
	}
	bounce(ob, &env, fd, off, failed, why, nfailed);
	if (expired && nfailed && !drop) {
		/* given up: keep the message for the admin, with its log */
		struct envelope e = env;
		e.rcpt = NULL;
		e.nrcpt = 0;
		for (int i = 0; i < nfailed; i++)
			envelope_add_rcpt(&e, failed[i]);
		struct spool_file sf;
		if (spool_create(rootfd, &sf, &e) == 0) {
			char in[65536];
			ssize_t r;
			off_t o = off;
			int wrc = 0;
			while (wrc == 0 && (r = pread(fd, in, sizeof in, o)) > 0) {
				wrc = spool_write(&sf, in, (size_t)r);
				o += r;
			}
			if (wrc == 0 && spool_commit_to(rootfd, &sf, "held") == 0) {
				char from[128], to[128];
				snprintf(from, sizeof from, "spool/remote/%s.log", env.id);
				snprintf(to, sizeof to, "spool/held/%s.log", env.id);
				renameat(rootfd, from, rootfd, to);
				fs_fsync_dir_at(rootfd, "spool/held");
				log_warn("outbound %s: given up after %d attempts; frozen in spool/held", env.id, attempts);
			} else {
				spool_abort(rootfd, &sf);
			}
		}
		envelope_free(&e);
	}
	if (nleft && !expired) {
		if (ndone || nfailed) {
			/* durably forget the recipients that are finished */
			struct envelope e = env;
			e.rcpt = NULL;
			e.nrcpt = 0;
			for (int i = 0; i < nleft; i++)
				envelope_add_rcpt(&e, left[i]);
			struct spool_file sf;
			if (spool_create(rootfd, &sf, &e) == 0) {
				char in[65536];
				ssize_t r;
				off_t o = off;
				int wrc = 0;
				while (wrc == 0 && (r = pread(fd, in, sizeof in, o)) > 0) {
					wrc = spool_write(&sf, in, (size_t)r);
					o += r;
				}
				if (wrc == 0)
					spool_commit_to(rootfd, &sf, "remote");
				else
					spool_abort(rootfd, &sf);
			}
			envelope_free(&e);
		}
		state_write(rootfd, env.id, attempts, first);
		long delay = retry_delay(sched, attempts);
		busy_release(ob, j->id);
		schedule(ob, time(NULL) + delay, env.id);
	} else {
		remove_entry(rootfd, env.id);
		busy_release(ob, j->id);
	}
	close(fd);
	free(left);
	free(failed);
	free(why);
	free(res);
	free(all);
	envelope_free(&env);
	free(j);
}

/* ---- scheduler ---- */

static void *scheduler(void *arg)
{
	struct outbound *ob = arg;
	pthread_mutex_lock(&ob->mu);
	while (!ob->stop) {
		time_t now = time(NULL);
		if (ob->n && ob->heap[0].when <= now) {
			struct due d = heap_pop(ob);
			if (!busy_take(ob, d.id))
				continue; /* already being attempted; it reschedules itself */
			pthread_mutex_unlock(&ob->mu);
			struct job *j = xcalloc(1, sizeof *j);
			j->ob = ob;
			snprintf(j->id, sizeof j->id, "%s", d.id);
			workq_submit(ob->q, attempt, j);
			pthread_mutex_lock(&ob->mu);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += ob->n ? (ob->heap[0].when - now) : 60;
		pthread_cond_timedwait(&ob->cv, &ob->mu, &until);
	}
	pthread_mutex_unlock(&ob->mu);
	return NULL;
}

struct outbound *outbound_start(struct admin_env *env, struct deliver *dl, int threads)
{
	struct outbound *ob = xcalloc(1, sizeof *ob);
	ob->env = env;
	ob->dl = dl;
	pthread_mutex_init(&ob->mu, NULL);
	pthread_cond_init(&ob->cv, NULL);
	if (gethostname(ob->host, sizeof ob->host - 1) < 0 || !ob->host[0])
		snprintf(ob->host, sizeof ob->host, "localhost");
	/* one scan at start-up; afterwards everything arrives by push */
	int fd = openat(env->rootfd, "spool/remote", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int n = 0;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, '.') == NULL)
			continue;
		size_t l = strlen(de->d_name);
		if ((l > 6 && !strcmp(de->d_name + l - 6, ".state")) || (l > 4 && !strcmp(de->d_name + l - 4, ".log")))
			continue;
		heap_push(ob, time(NULL), de->d_name);
		n++;
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	if (n)
		log_info("outbound: %d message(s) waiting for remote delivery", n);
	ob->q = workq_new(threads, "outbound");
	if (pthread_create(&ob->thread, NULL, scheduler, ob) != 0)
		fatal("cannot start the outbound scheduler");
	return ob;
}

void outbound_enqueue(struct outbound *ob, const char *id)
{
	schedule(ob, time(NULL), id);
}

void outbound_halt(struct outbound *ob)
{
	if (!ob || !ob->q)
		return;
	pthread_mutex_lock(&ob->mu);
	ob->stop = true;
	pthread_cond_broadcast(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
	pthread_join(ob->thread, NULL);
	workq_free(ob->q); /* attempts under way finish */
	ob->q = NULL;
}

void outbound_free(struct outbound *ob)
{
	if (!ob)
		return;
	outbound_halt(ob);
	pthread_mutex_destroy(&ob->mu);
	pthread_cond_destroy(&ob->cv);
	for (int i = 0; i < ob->nbusy; i++)
		free(ob->busy[i]);
	free(ob->busy);
	free(ob->heap);
	free(ob);
}
