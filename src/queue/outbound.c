/*
 * outbound - the remote queue: the in-memory index and scheduler, one
 * attempt per due entry on a worker, routing, retries, delay warnings,
 * bounces, freezing, per-destination session limits, session reuse, and the
 * admin's view of the queue (struct queue_ops).
 *
 * Durability: an entry is spool/remote/<id> (envelope + message), plus
 * <id>.state ("attempts arrived next warned") and <id>.log (attempt log).
 * After an attempt, recipients that are finished (2xx or bounced) are
 * durably removed from the entry (rewritten, fsync'd) before it can be
 * attempted again; a finished entry is unlinked and the directory fsync'd.
 */
#include "outbound.h"

#include <dirent.h>
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
#include "../core/buf.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/wildmat.h"
#include "../core/workq.h"
#include "../core/xmalloc.h"
#include "../deliver/deliver.h"
#include "dsn.h"
#include "qindex.h"
#include "qlog.h"
#include "route_mx.h"
#include "spool.h"

#define SESSION_IDLE_SECONDS 5
#define SESSION_MAX_TRANSACTIONS 100
#define DEST_WAIT_SECONDS 20

enum doom { DOOM_NONE, DOOM_NDR, DOOM_DELETE, DOOM_FREEZE };

struct dest_slot {
	char key[300];
	int active;
};

struct cached_session {
	char key[300];
	time_t idle_since;
	struct smtp_out s;
};

struct outbound {
	struct admin_env *env;
	struct deliver *dl;
	struct workq *q;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;      /* the scheduler: new due entries, stop */
	pthread_cond_t dest_cv; /* destination slots freed */
	bool stop;
	bool paused; /* STOP Service smtpOutgoing: no new attempts; entries keep their times */
	int threads, inflight;
	struct qindex *idx;
	struct dest_slot *dests;
	int ndests;
	struct cached_session *cache;
	int ncache;
	char host[256];
	struct queue_ops ops;
};

struct job {
	struct outbound *ob;
	char id[64];
};

/* ---- state beside each entry: "attempts arrived next warned" ---- */

struct entry_state {
	int attempts;
	time_t arrived, next;
	bool warned;
};

static void state_read(int rootfd, const char *id, struct entry_state *st)
{
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s.state", id);
	struct buf b = BUF_INIT;
	memset(st, 0, sizeof *st);
	if (fs_read_all_at(rootfd, rel, 256, &b) == 0 && b.data) {
		long long a = 0, n = 0;
		int w = 0;
		int got = sscanf(b.data, "%d %lld %lld %d", &st->attempts, &a, &n, &w);
		if (got >= 2)
			st->arrived = (time_t)a;
		if (got >= 3)
			st->next = (time_t)n;
		st->warned = got >= 4 && w;
	}
	buf_free(&b);
}

static void state_write(int rootfd, const char *id, const struct entry_state *st)
{
	char rel[128], text[96];
	snprintf(rel, sizeof rel, "spool/remote/%s.state", id);
	int n = snprintf(text, sizeof text, "%d %lld %lld %d\n", st->attempts, (long long)st->arrived,
			 (long long)st->next, st->warned ? 1 : 0);
	fs_write_atomic_at(rootfd, rel, text, (size_t)n, 0600);
}

static void remove_files(int rootfd, const char *id)
{
	static const char *const sfx[] = {".state", ".log", ""};
	for (int i = 0; i < 3; i++) {
		char rel[128];
		snprintf(rel, sizeof rel, "spool/remote/%s%s", id, sfx[i]);
		unlinkat(rootfd, rel, 0);
	}
	fs_fsync_dir_at(rootfd, "spool/remote");
}

/* Rewrite spool/remote/<id> durably with only the recipients in keep. */
static int rewrite_entry(int rootfd, const struct envelope *env, int fd, off_t off, char **keep, int nkeep,
			 const char *dir)
{
	struct envelope e = *env;
	e.rcpt = NULL;
	e.nrcpt = 0;
	for (int i = 0; i < nkeep; i++)
		envelope_add_rcpt(&e, keep[i]);
	struct spool_file sf;
	int rc = spool_create(rootfd, &sf, &e);
	if (rc == 0) {
		char in[65536];
		ssize_t r;
		off_t o = off;
		while (rc == 0 && (r = pread(fd, in, sizeof in, o)) > 0) {
			rc = spool_write(&sf, in, (size_t)r);
			o += r;
		}
		if (rc == 0)
			rc = spool_commit_to(rootfd, &sf, dir);
		else
			spool_abort(rootfd, &sf);
	}
	envelope_free(&e);
	return rc;
}

/* ---- the index, under ob->mu ---- */

static void join_rcpts(const struct envelope *env, char **only, int n, struct buf *out)
{
	if (only) {
		for (int i = 0; i < n; i++)
			buf_printf(out, "%s%s", i ? "," : "", only[i]);
		return;
	}
	for (int i = 0; i < env->nrcpt; i++)
		buf_printf(out, "%s%s", i ? "," : "", env->rcpt[i]);
}

/* What the index keeps of an entry, read from the spool without the lock. */
struct loaded {
	struct envelope env;
	struct entry_state es;
	uint64_t size;
};

static bool entry_read(struct outbound *ob, const char *id, struct loaded *ld)
{
	int rootfd = ob->env->rootfd;
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s", id);
	int fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return false;
	off_t off;
	struct stat st;
	if (spool_read_envelope(fd, &ld->env, &off) < 0 || fstat(fd, &st) < 0) {
		close(fd);
		log_err("outbound: spool/remote/%s is not a valid spool file; left alone", id);
		return false;
	}
	close(fd);
	state_read(rootfd, id, &ld->es);
	ld->size = st.st_size > off ? (uint64_t)(st.st_size - off) : 0;
	return true;
}

/* Add a read entry to the index and schedule it (lock held); frees ld. */
static struct qentry *index_insert(struct outbound *ob, const char *id, struct loaded *ld, time_t due_now)
{
	struct qentry *e = qindex_add(ob->idx, id);
	if (e) {
		e->arrived = ld->es.arrived ? ld->es.arrived : (ld->env.received ? ld->env.received : time(NULL));
		e->attempts = ld->es.attempts;
		e->warned = ld->es.warned;
		e->size = ld->size;
		qentry_set(&e->from, ld->env.from);
		struct buf b = BUF_INIT;
		join_rcpts(&ld->env, NULL, 0, &b);
		qentry_set(&e->rcpts, b.data ? b.data : "");
		buf_free(&b);
		qindex_schedule(ob->idx, e, ld->es.next > due_now ? ld->es.next : due_now);
	}
	envelope_free(&ld->env);
	return e;
}

/* ---- destination slots and the session cache (lock held) ---- */

static struct dest_slot *dest_find(struct outbound *ob, const char *key, bool create)
{
	for (int i = 0; i < ob->ndests; i++)
		if (!strcmp(ob->dests[i].key, key))
			return &ob->dests[i];
	if (!create)
		return NULL;
	ob->dests = xrealloc(ob->dests, (size_t)(ob->ndests + 1) * sizeof *ob->dests);
	struct dest_slot *d = &ob->dests[ob->ndests++];
	snprintf(d->key, sizeof d->key, "%s", key);
	d->active = 0;
	return d;
}

/* Wait for a free session slot for key; false after DEST_WAIT_SECONDS. */
static bool dest_acquire(struct outbound *ob, const char *key, int limit)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += DEST_WAIT_SECONDS;
	pthread_mutex_lock(&ob->mu);
	struct dest_slot *d = dest_find(ob, key, true);
	while (d->active >= limit && !ob->stop) {
		if (pthread_cond_timedwait(&ob->dest_cv, &ob->mu, &until) == ETIMEDOUT)
			break;
		d = dest_find(ob, key, true);
	}
	bool ok = d->active < limit && !ob->stop;
	if (ok)
		d->active++;
	pthread_mutex_unlock(&ob->mu);
	return ok;
}

static void dest_release(struct outbound *ob, const char *key)
{
	pthread_mutex_lock(&ob->mu);
	struct dest_slot *d = dest_find(ob, key, false);
	if (d && --d->active <= 0) {
		*d = ob->dests[--ob->ndests];
	}
	pthread_cond_broadcast(&ob->dest_cv);
	pthread_mutex_unlock(&ob->mu);
}

static bool cache_take(struct outbound *ob, const char *key, struct smtp_out *s)
{
	bool got = false;
	pthread_mutex_lock(&ob->mu);
	for (int i = 0; i < ob->ncache; i++)
		if (!strcmp(ob->cache[i].key, key)) {
			*s = ob->cache[i].s;
			ob->cache[i] = ob->cache[--ob->ncache];
			got = true;
			break;
		}
	pthread_mutex_unlock(&ob->mu);
	return got;
}

static void cache_put(struct outbound *ob, const char *key, struct smtp_out *s)
{
	if (!s->open)
		return;
	if (s->transactions >= SESSION_MAX_TRANSACTIONS) {
		smtp_out_close(s);
		return;
	}
	pthread_mutex_lock(&ob->mu);
	if (ob->ncache < ob->threads && !ob->stop) {
		ob->cache = xrealloc(ob->cache, (size_t)(ob->ncache + 1) * sizeof *ob->cache);
		struct cached_session *c = &ob->cache[ob->ncache++];
		snprintf(c->key, sizeof c->key, "%s", key);
		c->idle_since = time(NULL);
		c->s = *s;
		s->open = false;
		pthread_cond_signal(&ob->cv); /* the scheduler reaps idle sessions */
	}
	pthread_mutex_unlock(&ob->mu);
	if (s->open)
		smtp_out_close(s);
}

/* Close sessions idle too long (all with force). */
static void cache_reap(struct outbound *ob, bool all)
{
	time_t now = time(NULL);
	for (;;) {
		struct smtp_out s;
		bool got = false;
		pthread_mutex_lock(&ob->mu);
		for (int i = 0; i < ob->ncache; i++)
			if (all || now - ob->cache[i].idle_since >= SESSION_IDLE_SECONDS) {
				s = ob->cache[i].s;
				ob->cache[i] = ob->cache[--ob->ncache];
				got = true;
				break;
			}
		pthread_mutex_unlock(&ob->mu);
		if (!got)
			return;
		smtp_out_close(&s);
	}
}

/* ---- one destination group ---- */

struct group {
	char key[300];
	struct route route;
	int *idx;
	int n;
};

struct attempt_cfg {
	char gateways[4096];
	char gwconfig[256];
	struct mx_cfg mx;
	int per_dest;
};

static void set_all(struct rcpt_result *res, const int *idx, int n, int code, const char *text)
{
	for (int k = 0; k < n; k++) {
		res[idx[k]].code = code;
		snprintf(res[idx[k]].text, sizeof res[idx[k]].text, "%.299s", text);
	}
}

/* Send to one destination: a cached session first, else connect per route. */
static void send_group(struct outbound *ob, const struct attempt_cfg *cfg, struct group *g, const struct envelope *env,
		       int fd, off_t off, struct rcpt_result *res)
{
	int rootfd = ob->env->rootfd;
	if (!dest_acquire(ob, g->key, cfg->per_dest)) {
		set_all(res, g->idx, g->n, 0, "too many sessions to this destination already; will retry");
		return;
	}
	struct smtp_out s;
	if (cache_take(ob, g->key, &s)) {
		if (smtp_out_send(&s, env, g->idx, g->n, fd, off, res)) {
			cache_put(ob, g->key, &s);
			dest_release(ob, g->key);
			return;
		}
		/* the idle session had gone stale: start afresh */
	}
	char why[400];
	bool answered = false;
	if (g->route.mx) {
		answered = mx_connect(&cfg->mx, g->route.mx_domain, ob->host, &s, why, sizeof why, rootfd, env->id);
		if (!answered && !strncmp(why, "5", 1)) {
			set_all(res, g->idx, g->n, 550, why);
			dest_release(ob, g->key);
			return;
		}
	} else {
		for (int h = 0; h < g->route.nhosts && !answered; h++) {
			const struct route_host *rh = &g->route.hosts[h];
			struct route_auth auth;
			bool have_auth = route_auth_lookup(rootfd, rh->host, &auth);
			char port[8];
			snprintf(port, sizeof port, "%d", rh->port ? rh->port : 25);
			struct client c;
			if (client_connect(&c, rh->host, port, cfg->mx.timeout) < 0) {
				snprintf(why, sizeof why, "%s:%s: cannot connect", rh->host, port);
			} else if (smtp_out_open(&s, &c, ob->host, rh->need_tls, have_auth ? &auth : NULL, why,
						 sizeof why) == 0) {
				answered = true;
			} else {
				char t[400];
				snprintf(t, sizeof t, "%.200s:%s: %.180s", rh->host, port, why);
				snprintf(why, sizeof why, "%s", t);
			}
			route_auth_clear(&auth);
			if (!answered) {
				char line[600];
				snprintf(line, sizeof line, "smart host (%s) %s", g->route.why, why);
				qlog_attempt(rootfd, env->id, line);
			}
		}
		if (!answered)
			snprintf(why, sizeof why, "no smart host answered (%s); will retry", g->route.why);
	}
	if (!answered) {
		set_all(res, g->idx, g->n, 0, why);
	} else if (smtp_out_send(&s, env, g->idx, g->n, fd, off, res)) {
		cache_put(ob, g->key, &s);
	} else {
		set_all(res, g->idx, g->n, 0, "the connection broke before any reply; will retry");
	}
	dest_release(ob, g->key);
}

/* Group the recipients by route: one session per destination. */
static int make_groups(const struct attempt_cfg *cfg, int rootfd, const struct envelope *env, struct group **gs_r)
{
	struct group *gs = NULL;
	int ng = 0;
	int *gof = xcalloc((size_t)env->nrcpt + 1, sizeof *gof); /* group of each recipient */
	for (int i = 0; i < env->nrcpt; i++) {
		const char *dom = strrchr(env->rcpt[i], '@');
		dom = dom ? dom + 1 : "";
		int same = -1; /* an earlier recipient of the same domain: same route */
		for (int k = 0; k < i && same < 0; k++) {
			const char *dk = strrchr(env->rcpt[k], '@');
			if (!strcasecmp(dk ? dk + 1 : "", dom))
				same = gof[k];
		}
		if (same >= 0) {
			gof[i] = same;
			gs[same].idx[gs[same].n++] = i;
			continue;
		}
		struct route r;
		memset(&r, 0, sizeof r);
		if (env->route[0] && route_parse_hosts(env->route, route_default_tls(cfg->gwconfig), &r))
			snprintf(r.why, sizeof r.why, "mailproc smtprelay");
		else
			route_lookup(rootfd, dom, cfg->gateways, cfg->gwconfig, &r);
		char key[300];
		/* the key names the destination and how it is reached, so a cached
		 * session is never reused after the settings that chose it changed */
		if (r.mx) {
			snprintf(key, sizeof key, "mx:%.260s:%d:%d", r.mx_domain, cfg->mx.port, cfg->mx.v6);
		} else {
			int n = snprintf(key, sizeof key, "gw:");
			for (int h = 0; h < r.nhosts && n < (int)sizeof key - 1; h++)
				n += snprintf(key + n, sizeof key - (size_t)n, "%s:%d:%d;", r.hosts[h].host, r.hosts[h].port,
					      r.hosts[h].need_tls);
		}
		for (char *p = key; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		int g = 0;
		while (g < ng && strcmp(gs[g].key, key))
			g++;
		if (g == ng) {
			gs = xrealloc(gs, (size_t)(ng + 1) * sizeof *gs);
			memset(&gs[ng], 0, sizeof gs[ng]);
			snprintf(gs[ng].key, sizeof gs[ng].key, "%s", key);
			gs[ng].route = r;
			gs[ng].idx = xcalloc((size_t)env->nrcpt, sizeof *gs[ng].idx);
			ng++;
		}
		gs[g].idx[gs[g].n++] = i;
		gof[i] = g;
	}
	free(gof);
	*gs_r = gs;
	return ng;
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

/* Finish an entry the admin doomed (NDR or delete) or that an attempt
 * found gone. Lock not held. */
static void finish_doomed(struct outbound *ob, const char *id, enum doom doom)
{
	int rootfd = ob->env->rootfd;
	if (doom == DOOM_FREEZE) {
		/* to spool/held with its log, where the frozen-queue commands see it */
		char from[128], to[128];
		snprintf(from, sizeof from, "spool/remote/%s.log", id);
		snprintf(to, sizeof to, "spool/held/%s.log", id);
		qlog_attempt(rootfd, id, "frozen by the administrator");
		renameat(rootfd, from, rootfd, to);
		snprintf(from, sizeof from, "spool/remote/%s", id);
		snprintf(to, sizeof to, "spool/held/%s", id);
		if (renameat(rootfd, from, rootfd, to) < 0)
			log_err("outbound %s: cannot move to spool/held: %s", id, strerror(errno));
		fs_fsync_dir_at(rootfd, "spool/held");
		snprintf(from, sizeof from, "spool/remote/%s.state", id);
		unlinkat(rootfd, from, 0);
		fs_fsync_dir_at(rootfd, "spool/remote");
		return;
	}
	if (doom == DOOM_NDR) {
		char rel[128];
		snprintf(rel, sizeof rel, "spool/remote/%s", id);
		int fd = openat(rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct envelope env;
		off_t off;
		if (fd >= 0 && spool_read_envelope(fd, &env, &off) == 0) {
			struct rcpt_result *why = xcalloc((size_t)env.nrcpt + 1, sizeof *why);
			struct rcpt_result **pw = xcalloc((size_t)env.nrcpt + 1, sizeof *pw);
			for (int i = 0; i < env.nrcpt; i++) {
				why[i].code = 550;
				snprintf(why[i].text, sizeof why[i].text,
					 "550 5.3.0 delivery cancelled by the administrator");
				pw[i] = &why[i];
			}
			struct dsn_report rep = {DSN_FAILED, ob->host, 0, env.nrcpt, env.rcpt, pw};
			dsn_send(rootfd, ob->dl, &env, fd, off, &rep, NULL);
			free(why);
			free(pw);
			envelope_free(&env);
		}
		if (fd >= 0)
			close(fd);
	}
	remove_files(rootfd, id);
}

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
		log_err("outbound %s: the spool entry is gone or unreadable; dropped from the queue", j->id);
		pthread_mutex_lock(&ob->mu);
		struct qentry *e = qindex_find(ob->idx, j->id);
		if (e)
			qindex_remove(ob->idx, e);
		ob->inflight--;
		pthread_cond_signal(&ob->cv);
		pthread_mutex_unlock(&ob->mu);
		free(j);
		return;
	}
	struct attempt_cfg cfg;
	char sched[1024];
	struct dir_conn *c = dir_conn_open(ob->env->dir);
	settings_get(c, "DefaultSMTPGateways", cfg.gateways, sizeof cfg.gateways);
	settings_get(c, "SmtpGwConfig", cfg.gwconfig, sizeof cfg.gwconfig);
	settings_get(c, "QueueRetrySchedule", sched, sizeof sched);
	settings_get(c, "DnsServers", cfg.mx.dns, sizeof cfg.mx.dns);
	cfg.mx.port = (int)settings_get_int(c, "SmtpOutPort");
	cfg.mx.v6 = settings_get_int(c, "SmtpOutEnableIPv6") != 0;
	cfg.mx.timeout = (int)settings_get_int(c, "SmtpOutTimeout");
	cfg.per_dest = (int)settings_get_int(c, "SmtpOutMaxPerDestination");
	long lifetime = settings_get_int(c, "MaxQueueLifetime");
	long warn_after = settings_get_int(c, "DelayWarningTime");
	long max_attempts = settings_get_int(c, "QueueMaxAttempts");
	bool drop = settings_get_int(c, "RemoveSpoolErrors") != 0;
	dir_conn_close(c);

	struct entry_state es;
	state_read(rootfd, env.id, &es);
	if (!es.arrived)
		es.arrived = env.received ? env.received : time(NULL);
	es.attempts++;
	struct rcpt_result *res = xcalloc((size_t)env.nrcpt + 1, sizeof *res);
	struct group *gs = NULL;
	int ng = make_groups(&cfg, rootfd, &env, &gs);
	for (int g = 0; g < ng; g++) {
		send_group(ob, &cfg, &gs[g], &env, fd, off, res);
		free(gs[g].idx);
	}
	free(gs);

	time_t now = time(NULL);
	bool expired = now - es.arrived >= lifetime || (max_attempts > 0 && es.attempts >= max_attempts);
	char **left = xcalloc((size_t)env.nrcpt + 1, sizeof *left);
	char **failed = xcalloc((size_t)env.nrcpt + 1, sizeof *failed);
	struct rcpt_result **why = xcalloc((size_t)env.nrcpt + 1, sizeof *why);
	struct rcpt_result **lwhy = xcalloc((size_t)env.nrcpt + 1, sizeof *lwhy);
	int nleft = 0, nfailed = 0, ndone = 0;
	char status[300] = "";
	struct buf logb = BUF_INIT; /* the attempt's lines, written once (not at all when all is done) */
	for (int i = 0; i < env.nrcpt; i++) {
		struct rcpt_result *r = &res[i];
		buf_printf(&logb, "<%s> %s\n", env.rcpt[i], r->text[0] ? r->text : "not attempted");
		if (r->code / 100 == 2) {
			ndone++;
			log_info("outbound %s: <%s> delivered: %s", env.id, env.rcpt[i], r->text);
			continue;
		}
		if (r->code / 100 == 5 || expired) {
			if (expired && r->code / 100 != 5) {
				char t[300];
				snprintf(t, sizeof t, "gave up after %d attempts; last: %.200s", es.attempts,
					 r->text[0] ? r->text : "no answer");
				snprintf(r->text, sizeof r->text, "%s", t);
			}
			log_info("outbound %s: <%s> failed: %s", env.id, env.rcpt[i], r->text);
			failed[nfailed] = env.rcpt[i];
			why[nfailed++] = r;
		} else {
			lwhy[nleft] = r;
			left[nleft++] = env.rcpt[i];
			if (!status[0])
				snprintf(status, sizeof status, "%s", r->text[0] ? r->text : "deferred");
		}
	}
	if ((nleft || nfailed) && logb.data)
		qlog_lines(rootfd, env.id, logb.data);
	buf_free(&logb);
	struct dsn_report rep = {DSN_FAILED, ob->host, 0, nfailed, failed, why};
	dsn_send(rootfd, ob->dl, &env, fd, off, &rep, NULL);
	if (expired && nfailed && !drop) {
		/* given up: keep the message for the admin, with its log */
		if (rewrite_entry(rootfd, &env, fd, off, failed, nfailed, "held") == 0) {
			char from[128], to[128];
			snprintf(from, sizeof from, "spool/remote/%s.log", env.id);
			snprintf(to, sizeof to, "spool/held/%s.log", env.id);
			renameat(rootfd, from, rootfd, to);
			fs_fsync_dir_at(rootfd, "spool/held");
			log_warn("outbound %s: given up after %d attempts; frozen in spool/held", env.id, es.attempts);
		}
	}
	bool keep = nleft && !expired;
	if (keep) {
		if ((ndone || nfailed) && rewrite_entry(rootfd, &env, fd, off, left, nleft, "remote") < 0)
			log_err("outbound %s: cannot rewrite the entry; finished recipients may be tried again", env.id);
		if (warn_after > 0 && !es.warned && now - es.arrived >= warn_after) {
			struct dsn_report w = {DSN_DELAYED, ob->host, es.arrived + lifetime, nleft, left, lwhy};
			if (dsn_send(rootfd, ob->dl, &env, fd, off, &w, NULL) == 0)
				es.warned = true;
		}
		es.next = now + retry_delay(sched, es.attempts);
		state_write(rootfd, env.id, &es);
	} else {
		remove_files(rootfd, env.id);
	}
	close(fd);

	enum doom doom = DOOM_NONE;
	pthread_mutex_lock(&ob->mu);
	struct qentry *e = qindex_find(ob->idx, env.id);
	if (e) {
		doom = (enum doom)e->pending;
		e->busy = false;
		if (keep && doom == DOOM_NONE) {
			e->attempts = es.attempts;
			e->warned = es.warned;
			struct buf b = BUF_INIT;
			join_rcpts(&env, left, nleft, &b);
			qentry_set(&e->rcpts, b.data ? b.data : "");
			buf_free(&b);
			qentry_set(&e->status, status);
			qindex_schedule(ob->idx, e, es.next);
		} else {
			qindex_remove(ob->idx, e);
		}
	}
	ob->inflight--;
	pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
	if (keep && doom != DOOM_NONE)
		finish_doomed(ob, env.id, doom);

	free(left);
	free(failed);
	free(why);
	free(lwhy);
	free(res);
	envelope_free(&env);
	free(j);
}

/* ---- scheduler ---- */

static bool is_entry_name(const char *n)
{
	if (n[0] == '.' || !strchr(n, '.'))
		return false;
	size_t l = strlen(n);
	return !(l > 6 && !strcmp(n + l - 6, ".state")) && !(l > 4 && !strcmp(n + l - 4, ".log"));
}

/* One scan of spool/remote at start-up, in the scheduler's thread so the
 * listeners do not wait for it; entries become due as they are read, and
 * everything after arrives by push. */
static void startup_scan(struct outbound *ob)
{
	int fd = openat(ob->env->rootfd, "spool/remote", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	time_t now = time(NULL);
	size_t n = 0;
	while (d && (de = readdir(d)) && !ob->stop) {
		if (!is_entry_name(de->d_name))
			continue;
		struct loaded ld;
		if (!entry_read(ob, de->d_name, &ld))
			continue;
		pthread_mutex_lock(&ob->mu);
		if (index_insert(ob, de->d_name, &ld, now))
			n++;
		pthread_mutex_unlock(&ob->mu);
	}
	if (d)
		closedir(d);
	else if (fd >= 0)
		close(fd);
	if (n)
		log_info("outbound: %zu message(s) waiting for remote delivery", n);
}

static void *scheduler(void *arg)
{
	struct outbound *ob = arg;
	startup_scan(ob);
	pthread_mutex_lock(&ob->mu);
	while (!ob->stop) {
		time_t now = time(NULL);
		struct qentry *e = qindex_first(ob->idx);
		if (e && !ob->paused && e->due <= now && ob->inflight < ob->threads) {
			qindex_unschedule(ob->idx, e);
			e->busy = true;
			ob->inflight++;
			struct job *j = xcalloc(1, sizeof *j);
			j->ob = ob;
			snprintf(j->id, sizeof j->id, "%s", e->id);
			workq_submit(ob->q, attempt, j);
			continue;
		}
		if (ob->ncache) {
			pthread_mutex_unlock(&ob->mu);
			cache_reap(ob, false);
			pthread_mutex_lock(&ob->mu);
			if (ob->stop)
				break;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		long wait = 60;
		if (e && !ob->paused && ob->inflight < ob->threads)
			wait = e->due > now ? (long)(e->due - now) : 1;
		if (ob->ncache && wait > 1)
			wait = 1;
		until.tv_sec += wait;
		pthread_cond_timedwait(&ob->cv, &ob->mu, &until);
	}
	pthread_mutex_unlock(&ob->mu);
	return NULL;
}

/* ---- the admin's view (struct queue_ops) ---- */

struct snap {
	struct queue_row *rows;
	int n, cap;
};

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

static bool snap_one(struct qentry *e, void *arg)
{
	struct snap *sn = arg;
	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? sn->cap * 2 : 1024;
		sn->rows = xrealloc(sn->rows, (size_t)sn->cap * sizeof *sn->rows);
	}
	struct queue_row *r = &sn->rows[sn->n++];
	r->id = xstrdup(e->id);
	r->size = e->size;
	r->arrived = e->arrived;
	r->attempts = e->attempts;
	r->busy = e->busy;
	r->next = e->busy ? 0 : e->due;
	r->status = dup_or_empty(e->busy ? "being delivered" : e->status);
	r->from = dup_or_empty(e->from);
	r->rcpts = dup_or_empty(e->rcpts);
	return true;
}

static int cmp_row(const void *a, const void *b)
{
	const struct queue_row *x = a, *y = b;
	if (x->arrived != y->arrived)
		return x->arrived < y->arrived ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void ops_list(void *arg, queue_row_fn fn, void *farg)
{
	struct outbound *ob = arg;
	struct snap sn = {0};
	pthread_mutex_lock(&ob->mu);
	qindex_each(ob->idx, snap_one, &sn);
	pthread_mutex_unlock(&ob->mu);
	if (sn.n)
		qsort(sn.rows, (size_t)sn.n, sizeof *sn.rows, cmp_row);
	bool go = true;
	for (int i = 0; i < sn.n; i++) {
		if (go)
			go = fn(&sn.rows[i], farg);
		free((char *)sn.rows[i].id);
		free((char *)sn.rows[i].status);
		free((char *)sn.rows[i].from);
		free((char *)sn.rows[i].rcpts);
	}
	free(sn.rows);
}

static int ops_retry(void *arg, const char *id)
{
	struct outbound *ob = arg;
	pthread_mutex_lock(&ob->mu);
	struct qentry *e = qindex_find(ob->idx, id);
	if (e && !e->busy && !e->pending) {
		qindex_schedule(ob->idx, e, time(NULL));
		pthread_cond_signal(&ob->cv);
	}
	pthread_mutex_unlock(&ob->mu);
	return e ? 0 : -1;
}

static int doom_entry(struct outbound *ob, const char *id, enum doom doom)
{
	pthread_mutex_lock(&ob->mu);
	struct qentry *e = qindex_find(ob->idx, id);
	bool now = false;
	if (e && !e->pending) {
		if (e->busy) {
			e->pending = doom; /* the running attempt finishes it */
		} else {
			qindex_remove(ob->idx, e);
			now = true;
		}
	}
	pthread_mutex_unlock(&ob->mu);
	if (!e)
		return -1;
	if (now)
		finish_doomed(ob, id, doom);
	return 0;
}

static int ops_ndr(void *arg, const char *id)
{
	return doom_entry(arg, id, DOOM_NDR);
}

static int ops_remove(void *arg, const char *id)
{
	return doom_entry(arg, id, DOOM_DELETE);
}

static int ops_freeze(void *arg, const char *id)
{
	return doom_entry(arg, id, DOOM_FREEZE);
}

struct flush_ctx {
	const char *pattern;
	struct qentry **hit;
	int n, cap;
};

/* A pattern with '@' matches whole addresses, one without the domains. */
static bool rcpt_matches(const char *rcpts, const char *pattern)
{
	char one[600];
	bool whole = strchr(pattern, '@') != NULL;
	for (const char *p = rcpts; *p;) {
		size_t l = strcspn(p, ",");
		if (l < sizeof one) {
			memcpy(one, p, l);
			one[l] = '\0';
			const char *at = strrchr(one, '@');
			if (wildmat(pattern, whole || !at ? one : at + 1))
				return true;
		}
		p += l;
		if (*p == ',')
			p++;
	}
	return false;
}

static bool flush_one(struct qentry *e, void *arg)
{
	struct flush_ctx *f = arg;
	if (e->busy || e->pending || (f->pattern && !rcpt_matches(e->rcpts, f->pattern)))
		return true;
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 256;
		f->hit = xrealloc(f->hit, (size_t)f->cap * sizeof *f->hit);
	}
	f->hit[f->n++] = e;
	return true;
}

static int ops_flush(void *arg, const char *pattern)
{
	struct outbound *ob = arg;
	struct flush_ctx f = {pattern, NULL, 0, 0};
	pthread_mutex_lock(&ob->mu);
	qindex_each(ob->idx, flush_one, &f);
	time_t now = time(NULL);
	for (int i = 0; i < f.n; i++)
		qindex_schedule(ob->idx, f.hit[i], now);
	if (f.n)
		pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
	free(f.hit);
	return f.n;
}

/* ---- life cycle ---- */


struct outbound *outbound_start(struct admin_env *env, struct deliver *dl, int threads)
{
	struct outbound *ob = xcalloc(1, sizeof *ob);
	ob->env = env;
	ob->dl = dl;
	ob->threads = threads > 0 ? threads : 1;
	ob->idx = qindex_new();
	pthread_mutex_init(&ob->mu, NULL);
	pthread_cond_init(&ob->cv, NULL);
	pthread_cond_init(&ob->dest_cv, NULL);
	struct dir_conn *c = dir_conn_open(env->dir);
	settings_get(c, "HeloDomain", ob->host, sizeof ob->host);
	dir_conn_close(c);
	if (!ob->host[0] && (gethostname(ob->host, sizeof ob->host - 1) < 0 || !ob->host[0]))
		snprintf(ob->host, sizeof ob->host, "localhost");
	ob->ops = (struct queue_ops){ob, ops_list, ops_retry, ops_ndr, ops_remove, ops_freeze, ops_flush};
	ob->q = workq_new(ob->threads, "outbound");
	if (pthread_create(&ob->thread, NULL, scheduler, ob) != 0)
		fatal("cannot start the outbound scheduler");
	return ob;
}

const struct queue_ops *outbound_ops(struct outbound *ob)
{
	return &ob->ops;
}

void outbound_enqueue(struct outbound *ob, const char *id)
{
	pthread_mutex_lock(&ob->mu);
	struct qentry *e = qindex_find(ob->idx, id);
	if (e && !e->busy && !e->pending)
		qindex_schedule(ob->idx, e, time(NULL));
	pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
	if (e)
		return;
	struct loaded ld;
	if (!entry_read(ob, id, &ld))
		return;
	pthread_mutex_lock(&ob->mu);
	index_insert(ob, id, &ld, time(NULL)); /* no-op if the start-up scan got there first */
	pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
}

void outbound_pause(struct outbound *ob, bool paused)
{
	pthread_mutex_lock(&ob->mu);
	ob->paused = paused;
	pthread_cond_signal(&ob->cv);
	pthread_mutex_unlock(&ob->mu);
}

bool outbound_paused(struct outbound *ob)
{
	pthread_mutex_lock(&ob->mu);
	bool p = ob->paused;
	pthread_mutex_unlock(&ob->mu);
	return p;
}

void outbound_halt(struct outbound *ob)
{
	if (!ob || !ob->q)
		return;
	pthread_mutex_lock(&ob->mu);
	ob->stop = true;
	pthread_cond_broadcast(&ob->cv);
	pthread_cond_broadcast(&ob->dest_cv);
	pthread_mutex_unlock(&ob->mu);
	pthread_join(ob->thread, NULL);
	workq_free(ob->q); /* attempts under way finish */
	ob->q = NULL;
	cache_reap(ob, true);
}

void outbound_free(struct outbound *ob)
{
	if (!ob)
		return;
	outbound_halt(ob);
	pthread_mutex_destroy(&ob->mu);
	pthread_cond_destroy(&ob->cv);
	pthread_cond_destroy(&ob->dest_cv);
	qindex_free(ob->idx);
	free(ob->dests);
	free(ob->cache);
	free(ob);
}
