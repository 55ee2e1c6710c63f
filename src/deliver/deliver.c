/*
 * deliver - spool -> Maildir, idempotent per recipient.
 */
#include "deliver.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/workq.h"
#include "../core/xmalloc.h"
#include "../queue/spool.h"
#include "../store/mailstore.h"
#include "../store/mboxlock.h"
#include "mailproc.h"
#include "progress.h"
#include "resolve.h"

#define INFLIGHT_BUCKETS 1024

struct job {
	struct deliver *dl;
	char id[64];
	struct job *next; /* in its in-flight bucket */
};

struct deliver {
	struct admin_env *env;
	struct workq *q;
	char host[128];
	/* Ids queued or being delivered: one run per spool entry at a time. */
	pthread_mutex_t mu;
	struct job *inflight[INFLIGHT_BUCKETS];
};

static unsigned bucket_of(const char *id)
{
	unsigned h = 5381;
	for (const unsigned char *s = (const unsigned char *)id; *s; s++)
		h = h * 33 + *s;
	return h % INFLIGHT_BUCKETS;
}

static void job_finished(struct deliver *dl, struct job *j)
{
	pthread_mutex_lock(&dl->mu);
	for (struct job **p = &dl->inflight[bucket_of(j->id)]; *p; p = &(*p)->next)
		if (*p == j) {
			*p = j->next;
			break;
		}
	pthread_mutex_unlock(&dl->mu);
	free(j);
}

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void close_conn(void *p)
{
	dir_conn_close(p);
}

static void make_key(void)
{
	pthread_key_create(&conn_key, close_conn);
}

static struct dir_conn *thread_conn(struct deliver *dl)
{
	pthread_once(&conn_once, make_key);
	struct dir_conn *c = pthread_getspecific(conn_key);
	if (!c) {
		c = dir_conn_open(dl->env->dir);
		pthread_setspecific(conn_key, c);
	}
	return c;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int copy_body(int out, int in, off_t off)
{
	struct stat st;
	if (fstat(in, &st) < 0)
		return -1;
	while (off < st.st_size) {
		ssize_t n = sendfile(out, in, &off, (size_t)(st.st_size - off));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
	}
	return 0;
}

#define MAX_HOPS 16

struct addr_list {
	int n;
	char **addr;
	char **why; /* held: the reason, per address */
};

static void addr_add(struct addr_list *l, const char *addr, const char *why)
{
	for (int i = 0; i < l->n; i++)
		if (!strcasecmp(l->addr[i], addr))
			return;
	l->addr = xrealloc(l->addr, (size_t)(l->n + 1) * sizeof *l->addr);
	l->why = xrealloc(l->why, (size_t)(l->n + 1) * sizeof *l->why);
	l->addr[l->n] = xstrdup(addr);
	l->why[l->n++] = xstrdup(why ? why : "");
}

static void addr_free(struct addr_list *l)
{
	for (int i = 0; i < l->n; i++) {
		free(l->addr[i]);
		free(l->why[i]);
	}
	free(l->addr);
	free(l->why);
}

struct reservation {
	char domain[256], dir[256];
	uint64_t bytes;
};

struct relay_group {
	char route[512];
	struct addr_list l;
};

/* One delivery run of a spool entry: the actions it stages, then marks,
 * then publishes (progress.h). */
struct run {
	struct deliver *dl;
	struct dir_conn *c;
	const struct envelope *env;
	int fd;
	off_t body_off;
	uint64_t body_size;
	struct progress pg;
	struct addr_list remote, held;
	struct addr_list full; /* mailboxes over quota */
	struct relay_group *relays; /* mailproc smtprelay: recipients by smart-host route */
	int nrelays;
	char **tmpdirs; /* Maildirs whose tmp/ holds a staged copy */
	int ntmpdirs;
	struct reservation *resv;
	int nresv;
};

static void tmpdir_add(struct run *r, const char *mdrel)
{
	for (int i = 0; i < r->ntmpdirs; i++)
		if (!strcmp(r->tmpdirs[i], mdrel))
			return;
	r->tmpdirs = xrealloc(r->tmpdirs, (size_t)(r->ntmpdirs + 1) * sizeof *r->tmpdirs);
	r->tmpdirs[r->ntmpdirs++] = xstrdup(mdrel);
}

static void release_all(struct run *r)
{
	for (int i = 0; i < r->nresv; i++)
		if (r->resv[i].bytes)
			mailstore_release(r->resv[i].domain, r->resv[i].dir, r->resv[i].bytes);
	free(r->resv);
	r->resv = NULL;
	r->nresv = 0;
}

/* The Maildir name of a copy: derived from the spool id and the action's
 * key, unique per message and recipient. */
static void maildir_base(struct deliver *dl, const struct envelope *env, const char *key, char *base, size_t sz)
{
	char uid[64];
	snprintf(uid, sizeof uid, "%s", env->id);
	for (char *p = uid; *p; p++)
		if (*p == '.' || *p == '/' || *p == ':')
			*p = '_';
	snprintf(base, sz, "%lld.T%s_%s.%s", (long long)env->received, uid, key, dl->host);
}

static void return_header(const struct envelope *env, const char *rcpt, struct buf *h)
{
	buf_printf(h, "Return-Path: <%s>\nDelivered-To: %s\n", env->from, rcpt);
}

/* Stage a Maildir copy in tmp/ (fsync'd), to be renamed into new/ once
 * marked. A full mailbox (size or message-count quota, counting copies
 * being delivered) is not written: the copy is frozen for the admin
 * instead. */
static int maildir_stage(struct run *r, const struct mailbox_ref *m, const char *rcpt, const char *key)
{
	struct deliver *dl = r->dl;
	struct buf h = BUF_INIT;
	return_header(r->env, rcpt, &h);
	uint64_t need = h.len + r->body_size;
	struct delivery_gate g = {.receive = true, .max_bytes = 0, .max_count = 0};
	if (r->c)
		resolve_gate(r->c, m->id, &g);
	if (g.max_bytes > 0 || g.max_count > 0) {
		int over = mailstore_reserve(dl->env->rootfd, m->domain, m->dir, need, (uint64_t)g.max_bytes,
					     (uint64_t)g.max_count);
		if (over) {
			char self[600], why[120];
			snprintf(self, sizeof self, "%s@%s", m->name, m->domain);
			if (over == MAILSTORE_OVER_COUNT)
				snprintf(why, sizeof why, "%s %lld messages",
					 g.count_by_folder ? "FolderMaxMessages" : "MaxMessages", (long long)g.max_count);
			else
				snprintf(why, sizeof why, "%s %lld KB", g.size_by_folder ? "FolderMaxMBSize" : "MaxMBSize",
					 (long long)(g.max_bytes / 1024));
			log_warn("deliver %s: <%s> -> %s: mailbox over quota (%s); message kept in spool/held", r->env->id,
				 rcpt, self, why);
			char reason[160];
			snprintf(reason, sizeof reason, "mailbox over quota (%s)", why);
			addr_add(&r->full, self, reason);
			buf_free(&h);
			return 0;
		}
		r->resv = xrealloc(r->resv, (size_t)(r->nresv + 1) * sizeof *r->resv);
		struct reservation *rv = &r->resv[r->nresv++];
		snprintf(rv->domain, sizeof rv->domain, "%s", m->domain);
		snprintf(rv->dir, sizeof rv->dir, "%s", m->dir);
		rv->bytes = need;
	}
	int md = mailstore_open(dl->env->rootfd, m->domain, m->dir);
	if (md < 0) {
		buf_free(&h);
		return -1;
	}
	char base[300], tmp[320], mdrel[600], src[1000], dst[1000];
	maildir_base(dl, r->env, key, base, sizeof base);
	snprintf(tmp, sizeof tmp, "tmp/%s", base);
	unlinkat(md, tmp, 0);
	int fd = openat(md, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? -1 : write_all(fd, h.data, h.len);
	buf_free(&h);
	if (rc == 0)
		rc = copy_body(fd, r->fd, r->body_off);
	if (rc == 0)
		rc = fsync(fd);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		log_err("deliver %s: cannot write to %s/%s: %s", r->env->id, m->domain, m->dir, strerror(errno));
		unlinkat(md, tmp, 0);
		close(md);
		return -1;
	}
	close(md);
	snprintf(mdrel, sizeof mdrel, "domains/%s/%s/Maildir", m->domain, m->dir);
	snprintf(src, sizeof src, "%s/tmp/%s", mdrel, base);
	snprintf(dst, sizeof dst, "%s/new/%s", mdrel, base);
	tmpdir_add(r, mdrel);
	progress_add(&r->pg, key, src, dst);
	return 0;
}

/* Stage a spool copy of the message (envelope e) as spool/work/ID~KEY,
 * to be renamed to dst once marked. */
static int spool_stage(struct run *r, const struct envelope *e, const char *key, const char *dst)
{
	char stage[200];
	progress_stage_path(r->env->id, key, stage, sizeof stage);
	struct spool_file sf;
	unlinkat(r->dl->env->rootfd, stage, 0);
	if (spool_create_path(r->dl->env->rootfd, stage, &sf, e) < 0)
		return -1;
	int rc = copy_body(sf.fd, r->fd, r->body_off);
	if (rc == 0)
		rc = fsync(sf.fd);
	close(sf.fd);
	if (rc < 0) {
		unlinkat(r->dl->env->rootfd, stage, 0);
		return -1;
	}
	progress_add(&r->pg, key, stage, dst);
	return 0;
}

/* A copy of the message for one address, as a new spool entry with an id
 * derived from the original and the action, handed to delivery. */
static int redirect_stage(struct run *r, const char *key, const char *sender, const char *to)
{
	const struct envelope *env = r->env;
	struct envelope e = *env;
	e.rcpt = NULL;
	e.nrcpt = 0;
	char mat[200], h[PROGRESS_KEY_LEN + 1], dst[160];
	snprintf(mat, sizeof mat, "%s|%s", env->id, key);
	progress_key(h, mat);
	snprintf(e.id, sizeof e.id, "%.30s-%s", env->id, h);
	snprintf(e.from, sizeof e.from, "%.329s", sender);
	e.hops = env->hops + 1;
	envelope_add_rcpt(&e, to);
	snprintf(dst, sizeof dst, "spool/queue/%s", e.id);
	int rc = spool_stage(r, &e, key, dst);
	if (rc == 0)
		log_info("deliver %s: redirected to <%s> as %s", env->id, to, e.id);
	envelope_free(&e);
	return rc;
}

/* The copy for some recipients kept in spool/<dir>/ID (outbound delivery
 * or frozen), with a log line per recipient beside it. A copy frozen for
 * full mailboxes is ID-q and only stores into the mailboxes when submitted
 * again (the account's other rules ran already). */
static int fork_stage_route(struct run *r, const struct addr_list *l, const char *dir, const char *why, bool quota,
			    const char *route, int nroute)
{
	char key[PROGRESS_KEY_LEN + 1], mat[700], dst[160];
	snprintf(mat, sizeof mat, "S\n%s%s%s%s", dir, quota ? "\nquota" : "", route ? "\nG\n" : "", route ? route : "");
	progress_key(key, mat);
	if (progress_find(&r->pg, key))
		return 0; /* done before a crash */
	const struct envelope *env = r->env;
	struct envelope e = *env;
	e.rcpt = NULL;
	e.nrcpt = 0;
	if (quota) {
		snprintf(e.id, sizeof e.id, "%.40s-q", env->id);
		e.mailbox_only = true;
	}
	if (route) { /* one entry per smtprelay route, beside the plain remote one */
		snprintf(e.id, sizeof e.id, "%.40s-g%d", env->id, nroute);
		snprintf(e.route, sizeof e.route, "%s", route);
	}
	for (int i = 0; i < l->n; i++)
		envelope_add_rcpt(&e, l->addr[i]);
	char logrel[200], line[900];
	snprintf(logrel, sizeof logrel, "spool/%s/%s.log", dir, e.id);
	int lf = openat(r->dl->env->rootfd, logrel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lf >= 0) {
		for (int i = 0; i < l->n; i++) {
			int n = snprintf(line, sizeof line, "%lld <%s> %s\n", (long long)time(NULL), l->addr[i],
					 why ? why : l->why[i]);
			if (n > 0 && write(lf, line, (size_t)n) < 0)
				break;
		}
		if (fsync(lf) < 0)
			log_warn("cannot sync %s", logrel);
		close(lf);
	}
	snprintf(dst, sizeof dst, "spool/%s/%s", dir, e.id);
	int rc = spool_stage(r, &e, key, dst);
	envelope_free(&e);
	return rc;
}

static int fork_stage(struct run *r, const struct addr_list *l, const char *dir, const char *why, bool quota)
{
	return fork_stage_route(r, l, dir, why, quota, NULL, 0);
}

/* Run an "external" command with the message on stdin. Returns its exit
 * code or -1. */
static int run_external(struct deliver *dl, const struct mp_cmd *cmd, int spoolfd, off_t body_off,
			const struct envelope *env, const char *rcpt)
{
	char rel[160], abs[4200];
	snprintf(rel, sizeof rel, "spool/tmp/ext-%.60s-%d", env->id, (int)(random() & 0xffff));
	int fd = openat(dl->env->rootfd, rel, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (copy_body(fd, spoolfd, body_off) == 0 && lseek(fd, 0, SEEK_SET) == 0) {
		snprintf(abs, sizeof abs, "%s/%s", dl->env->root, rel);
		char *argv[40];
		int n = 0;
		for (int i = 0; i < cmd->argc && n < 39; i++) {
			const char *a = cmd->argv[i];
			if (!strcmp(a, "@@FROM"))
				a = env->from;
			else if (!strcmp(a, "@@RCPT"))
				a = rcpt;
			else if (!strcmp(a, "@@MSGID"))
				a = env->id;
			else if (!strcmp(a, "@@FILE"))
				a = abs;
			argv[n++] = (char *)a;
		}
		argv[n] = NULL;
		rc = mailproc_run(argv, fd, cmd->timeout);
		if (rc != 0 && rc != 16)
			log_err("deliver %s: external %s for <%s> failed (exit %d)", env->id, cmd->argv[0], rcpt, rc);
	}
	close(fd);
	unlinkat(dl->env->rootfd, rel, 0);
	return rc;
}

/* Apply rules for recipient ri: an account's mailproc.tab (m set) or a
 * custom domain's file (m NULL). Actions done before (marked) are
 * skipped. -1 when something must be retried. */
static int apply_rules(struct run *r, struct mp_rules *rules, const struct mailbox_ref *m, int ri)
{
	const struct envelope *env = r->env;
	const char *rcpt = env->rcpt[ri];
	char self[600], dom[256] = "", mat[2000], key[PROGRESS_KEY_LEN + 1];
	if (m) {
		snprintf(self, sizeof self, "%s@%s", m->name, m->domain);
		snprintf(dom, sizeof dom, "%s", m->domain);
	} else {
		snprintf(self, sizeof self, "%s", rcpt);
		const char *at = strrchr(rcpt, '@');
		snprintf(dom, sizeof dom, "%s", at ? at + 1 : "");
	}
	int rc = 0;
	for (int c = 0; c < rules->n && rc == 0; c++) {
		struct mp_cmd *cmd = &rules->cmd[c];
		switch (cmd->kind) {
		case MP_MAILBOX:
			if (!m) {
				log_err("deliver %s: \"mailbox\" in the custom domain rules of <%s> ignored", env->id, rcpt);
				break;
			}
			snprintf(mat, sizeof mat, "M\n%d\n%s\ndomains/%s/%s", ri, rcpt, m->domain, m->dir);
			progress_key(key, mat);
			if (progress_find(&r->pg, key))
				break; /* stored before, or staged by an earlier rule */
			rc = maildir_stage(r, m, rcpt, key);
			break;
		case MP_REDIRECT:
		case MP_LREDIRECT:
			if (env->hops >= MAX_HOPS) {
				log_err("deliver %s: too many redirections for <%s>; not redirected again", env->id, rcpt);
				break;
			}
			for (int k = 0; k < cmd->argc && rc == 0; k++) {
				char to[600];
				if (strchr(cmd->argv[k], '@'))
					snprintf(to, sizeof to, "%s", cmd->argv[k]);
				else
					snprintf(to, sizeof to, "%s@%s", cmd->argv[k], dom); /* a bare name */
				snprintf(mat, sizeof mat, "R\n%d\n%s\n%d\n%d\n%s", ri, self, c, k, to);
				progress_key(key, mat);
				if (progress_find(&r->pg, key))
					continue;
				rc = redirect_stage(r, key, cmd->kind == MP_LREDIRECT ? self : env->from, to);
			}
			break;
		case MP_EXTERNAL: {
			snprintf(mat, sizeof mat, "X\n%d\n%s\n%d", ri, self, c);
			progress_key(key, mat);
			const struct progress_mark *pm = progress_find(&r->pg, key);
			bool stop;
			if (pm) {
				stop = !strcmp(pm->dst, "stop");
			} else {
				stop = run_external(r->dl, cmd, r->fd, r->body_off, env, rcpt) == 16;
				progress_add(&r->pg, key, "-", stop ? "stop" : "ran");
			}
			if (stop)
				c = rules->n; /* exit code 16: stop here */
			break;
		}
		case MP_SMTP:
			addr_add(&r->remote, rcpt, NULL);
			break;
		case MP_SMTPRELAY: {
			char route[512];
			size_t rl = 0;
			route[0] = '\0';
			for (int k = 0; k < cmd->argc && rl < sizeof route - 1; k++)
				rl += (size_t)snprintf(route + rl, sizeof route - rl, "%s%s", k ? ";" : "", cmd->argv[k]);
			int g = 0;
			while (g < r->nrelays && strcmp(r->relays[g].route, route))
				g++;
			if (g == r->nrelays) {
				r->relays = xrealloc(r->relays, (size_t)(g + 1) * sizeof *r->relays);
				memset(&r->relays[g], 0, sizeof r->relays[g]);
				snprintf(r->relays[g].route, sizeof r->relays[g].route, "%s", route);
				r->nrelays++;
			}
			addr_add(&r->relays[g].l, rcpt, NULL);
			break;
		}
		}
	}
	return rc;
}

static int process_account(struct run *r, const struct mailbox_ref *m, int ri)
{
	struct mp_rules rules;
	int bad = 0;
	if (r->c && !dir_domain_enabled(r->c, m->domain)) {
		/* A disabled domain keeps its mail: the account's copy is
		 * frozen (as the account's own address, so that submitting it
		 * again reaches only this account) until the domain is enabled. */
		char self[600], why[300];
		snprintf(self, sizeof self, "%s@%s", m->name, m->domain);
		snprintf(why, sizeof why, "%s%s", ADMIN_DOMAIN_DISABLED_WHY, m->domain);
		log_warn("deliver %s: <%s> -> %s: domain %s is disabled; message kept in spool/held", r->env->id,
			 r->env->rcpt[ri], self, m->domain);
		addr_add(r->env->mailbox_only ? &r->full : &r->held, self, why);
		return 0;
	}
	if (r->env->mailbox_only) {
		mailproc_parse("mailbox", &rules, NULL);
	} else if (mailproc_load(r->dl->env->rootfd, m->domain, m->dir, &rules, &bad) < 0) {
		/* A broken rule file must not lose mail: store it. */
		log_err("deliver %s: mailproc.tab of %s@%s is invalid (line %d); storing in the mailbox", r->env->id,
			m->name, m->domain, bad);
		mailproc_free(&rules);
		mailproc_parse("mailbox", &rules, NULL);
	}
	int rc = apply_rules(r, &rules, m, ri);
	mailproc_free(&rules);
	return rc;
}

/* A recipient outside our domains: its custom domain rules if any apply,
 * else it waits for outbound delivery. */
static int process_remote(struct run *r, int ri, const char *addr)
{
	const char *at = strrchr(addr, '@');
	struct buf text = BUF_INIT;
	char dom[256];
	snprintf(dom, sizeof dom, "%s", at ? at + 1 : "");
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!at || admin_check_domain(dom) != TERN_OK ||
	    mailstore_custdom_read(r->dl->env->rootfd, dom, true, &text) < 0) {
		buf_free(&text);
		addr_add(&r->remote, addr, NULL);
		return 0;
	}
	struct mp_rules rules = {0};
	int bad = 0, rc;
	if (mailproc_parse(text.data ? text.data : "", &rules, &bad) < 0) {
		log_err("deliver %s: custom domain rules for %s are invalid (line %d); message kept for outbound "
			"delivery",
			r->env->id, dom, bad);
		addr_add(&r->remote, addr, NULL);
		rc = 0;
	} else {
		rc = apply_rules(r, &rules, NULL, ri);
	}
	mailproc_free(&rules);
	buf_free(&text);
	return rc;
}

static const char *last_part(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Rename a marked, staged copy into place (nothing when it is there
 * already) and hand it on. */
static int publish(struct run *r, const struct progress_mark *pm)
{
	struct deliver *dl = r->dl;
	int root = dl->env->rootfd;
	if (!strcmp(pm->src, "-"))
		return 0;
	struct stat st;
	if (fstatat(root, pm->src, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1; /* published before */
	char dir[1000];
	snprintf(dir, sizeof dir, "%s", pm->dst);
	char *slash = strrchr(dir, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	bool maildir = !strncmp(pm->dst, "domains/", 8);
	struct mailstore_change *ch = NULL;
	if (maildir) {
		char mdrel[1000];
		snprintf(mdrel, sizeof mdrel, "%s", dir);
		char *s = strrchr(mdrel, '/'); /* .../Maildir/new */
		if (s)
			*s = '\0';
		ch = mailstore_change_begin(root, mdrel);
	}
	int rc = renameat(root, pm->src, root, pm->dst);
	if (rc == 0)
		rc = fs_fsync_dir_at(root, dir);
	if (ch && rc == 0) {
		/* Counted now: its reservation goes in the same step, so that
		 * no other delivery sees the copy twice. */
		for (int i = 0; i < r->nresv; i++) {
			char resrel[600];
			snprintf(resrel, sizeof resrel, "domains/%s/%s/Maildir/new", r->resv[i].domain, r->resv[i].dir);
			if (r->resv[i].bytes == (uint64_t)st.st_size && !strcmp(resrel, dir)) {
				mailstore_change_unreserve(ch, r->resv[i].bytes);
				r->resv[i].bytes = 0;
				break;
			}
		}
	}
	if (ch)
		mailstore_change_end(ch, rc == 0 ? st.st_size : 0, rc == 0 ? 1 : 0, 0, 0);
	if (rc < 0) {
		log_err("deliver %s: cannot move %s into place: %s", r->env->id, pm->src, strerror(errno));
		return -1;
	}
	if (!strncmp(pm->dst, "spool/queue/", 12))
		deliver_enqueue(dl, last_part(pm->dst));
	else if (!strncmp(pm->dst, "spool/remote/", 13) && dl->env->outbound)
		dl->env->outbound(dl->env->outbound_arg, last_part(pm->dst));
	return 0;
}

static void deliver_run(void *arg)
{
	struct job *j = arg;
	struct deliver *dl = j->dl;
	char rel[128];
	snprintf(rel, sizeof rel, "spool/queue/%s", j->id);
	int fd = openat(dl->env->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		job_finished(dl, j);
		return;
	}
	struct envelope env;
	off_t body_off;
	struct stat st;
	if (fstat(fd, &st) < 0 || spool_read_envelope(fd, &env, &body_off) < 0) {
		log_err("deliver: %s is not a valid spool file; moved to spool/held", j->id);
		close(fd);
		spool_move(dl->env->rootfd, j->id, "held");
		job_finished(dl, j);
		return;
	}
	struct run r = {.dl = dl, .env = &env, .fd = fd, .body_off = body_off};
	r.body_size = st.st_size > body_off ? (uint64_t)(st.st_size - body_off) : 0;
	r.c = thread_conn(dl);
	progress_load(&r.pg, dl->env->rootfd, env.id, (unsigned long long)st.st_ino);
	bool failed = false;
	/* Copies marked before a crash but not yet in place. */
	for (int i = 0; i < r.pg.n; i++)
		if (publish(&r, &r.pg.m[i]) < 0)
			failed = true;
	if (env.route[0]) {
		/* an smtprelay copy (frozen and submitted again): straight back to its hosts */
		r.relays = xcalloc(1, sizeof *r.relays);
		snprintf(r.relays[0].route, sizeof r.relays[0].route, "%s", env.route);
		r.nrelays = 1;
		for (int i = 0; i < env.nrcpt; i++)
			addr_add(&r.relays[0].l, env.rcpt[i], NULL);
	}
	for (int i = 0; i < env.nrcpt && !failed && !env.route[0]; i++) {
		struct resolved rs;
		enum resolve_kind k = r.c ? resolve_rcpt(r.c, env.rcpt[i], &rs) : RESOLVE_UNKNOWN;
		char renamed[600];
		if ((k == RESOLVE_UNKNOWN || k == RESOLVE_REMOTE) && r.c &&
		    dir_rename_follow(r.c, env.rcpt[i], (int64_t)env.received, renamed, sizeof renamed)) {
			/* accepted before its account or domain was renamed */
			if (k != RESOLVE_UNKNOWN)
				resolved_free(&rs);
			log_info("deliver %s: <%s> was renamed to <%s> after the message arrived", env.id, env.rcpt[i],
				 renamed);
			k = resolve_rcpt(r.c, renamed, &rs);
		}
		if (k == RESOLVE_UNKNOWN || k == RESOLVE_LOOP || (k == RESOLVE_LOCAL && !rs.nlocal && !rs.nremote)) {
			bool loop = k == RESOLVE_LOOP;
			addr_add(&r.held, env.rcpt[i],
				 loop ? "recipient expands too deep (alias or list loop)" : "recipient does not exist any more");
			log_warn("deliver %s: <%s> %s; message kept in spool/held", env.id, env.rcpt[i],
				 loop ? "expands too deep (alias or list loop)" : "no longer exists");
		}
		for (int t = 0; t < rs.nlocal && !failed && k != RESOLVE_UNKNOWN; t++)
			if (process_account(&r, &rs.local[t], i) < 0)
				failed = true;
		for (int t = 0; t < rs.nremote && !failed && k != RESOLVE_UNKNOWN; t++)
			if (process_remote(&r, i, rs.remote[t]) < 0)
				failed = true;
		if (k != RESOLVE_UNKNOWN)
			resolved_free(&rs);
	}
	if (!failed && r.remote.n && fork_stage(&r, &r.remote, "remote", "waiting for outbound delivery", false) < 0)
		failed = true;
	for (int g = 0; g < r.nrelays && !failed; g++)
		if (fork_stage_route(&r, &r.relays[g].l, "remote", "waiting for the smtprelay smart hosts", false,
				     r.relays[g].route, g) < 0)
			failed = true;
	if (!failed && r.held.n && fork_stage(&r, &r.held, "held", NULL, false) < 0)
		failed = true;
	if (!failed && r.full.n && fork_stage(&r, &r.full, "held", NULL, true) < 0)
		failed = true;
	/* Staged copies must be in their directories before they are marked. */
	for (int i = 0; i < r.ntmpdirs && !failed; i++) {
		char tmpdir[700];
		snprintf(tmpdir, sizeof tmpdir, "%s/tmp", r.tmpdirs[i]);
		if (fs_fsync_dir_at(dl->env->rootfd, tmpdir) < 0)
			failed = true;
	}
	int first = r.pg.n;
	if (!failed && progress_commit(&r.pg) < 0)
		failed = true;
	if (failed) {
		progress_abort(&r.pg);
	} else {
		for (int i = first; i < r.pg.n; i++) {
			if (publish(&r, &r.pg.m[i]) < 0)
				failed = true;
			else if (!strncmp(r.pg.m[i].dst, "domains/", 8))
				log_info("deliver %s: stored in %s", env.id, r.pg.m[i].dst);
		}
	}
	release_all(&r);
	close(fd);
	if (!failed && spool_done(dl->env->rootfd, env.id) == 0) /* every recipient is delivered, waiting in remote/ or held/ */
		progress_remove(dl->env->rootfd, env.id);
	if (failed) {
		/* Leave it in the queue; a later pass (restart) retries. */
		log_err("deliver %s: kept in the spool queue for a later attempt", env.id);
	}
	addr_free(&r.remote);
	addr_free(&r.held);
	addr_free(&r.full);
	for (int g = 0; g < r.nrelays; g++)
		addr_free(&r.relays[g].l);
	free(r.relays);
	for (int i = 0; i < r.ntmpdirs; i++)
		free(r.tmpdirs[i]);
	free(r.tmpdirs);
	progress_free(&r.pg);
	envelope_free(&env);
	job_finished(dl, j);
}

/* A whole run holds the moves lock shared: an account or domain rename
 * (exclusive) never moves a Maildir under a run (store/mboxlock.h). */
static void deliver_one(void *arg)
{
	mbox_use_begin();
	deliver_run(arg);
	mbox_use_end();
}

struct deliver *deliver_start(struct admin_env *env, int threads)
{
	struct deliver *dl = xcalloc(1, sizeof *dl);
	dl->env = env;
	if (gethostname(dl->host, sizeof dl->host - 1) < 0 || !dl->host[0])
		snprintf(dl->host, sizeof dl->host, "localhost");
	for (char *p = dl->host; *p; p++)
		if (*p == '/' || *p == ':' || *p == '.')
			*p = '_';
	pthread_mutex_init(&dl->mu, NULL);
	progress_sweep(env->rootfd);
	/* Delivery waits on fsyncs far more than it computes; twice the
	 * workers let those fsyncs overlap (and the shared ones coalesce). */
	dl->q = workq_new(threads * 2, "delivery");
	return dl;
}

static void submit(struct deliver *dl, const char *id)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->dl = dl;
	snprintf(j->id, sizeof j->id, "%s", id);
	unsigned b = bucket_of(j->id);
	pthread_mutex_lock(&dl->mu);
	for (struct job *o = dl->inflight[b]; o; o = o->next)
		if (!strcmp(o->id, j->id)) { /* already queued (start-up listing and SMTP) */
			pthread_mutex_unlock(&dl->mu);
			free(j);
			return;
		}
	j->next = dl->inflight[b];
	dl->inflight[b] = j;
	pthread_mutex_unlock(&dl->mu);
	workq_submit(dl->q, deliver_one, j);
}

void deliver_enqueue(struct deliver *dl, const char *id)
{
	submit(dl, id);
}

void deliver_recover(struct deliver *dl)
{
	char **ids;
	int n = spool_list_queue(dl->env->rootfd, &ids);
	if (n)
		log_info("deliver: %d message(s) left in the spool queue, delivering", n);
	for (int i = 0; i < n; i++) {
		submit(dl, ids[i]);
		free(ids[i]);
	}
	free(ids);
}

void deliver_stop(struct deliver *dl)
{
	if (!dl)
		return;
	workq_free(dl->q);
	pthread_mutex_destroy(&dl->mu);
	free(dl);
}
