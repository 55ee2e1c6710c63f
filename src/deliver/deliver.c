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
#include "mailproc.h"
#include "resolve.h"

struct deliver {
	struct admin_env *env;
	struct workq *q;
	char host[128];
};

struct job {
	struct deliver *dl;
	char id[64];
	bool recovery;
};

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

/* Is a copy named base already in new/ or cur/ (with any flags)? */
static bool already_delivered(int mdfd, const char *base)
{
	char p[600];
	snprintf(p, sizeof p, "new/%s", base);
	if (faccessat(mdfd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return true;
	int fd = openat(mdfd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	size_t bl = strlen(base);
	bool found = false;
	struct dirent *de;
	while (!found && (de = readdir(d)))
		found = !strncmp(de->d_name, base, bl) && (de->d_name[bl] == ':' || de->d_name[bl] == '\0');
	closedir(d);
	return found;
}

static int maildir_put(struct deliver *dl, const struct mailbox_ref *m, const struct envelope *env, const char *rcpt,
		       int spoolfd, off_t body_off, const char *base, bool recovery)
{
	int md = mailstore_open(dl->env->rootfd, m->domain, m->dir);
	if (md < 0)
		return -1;
	if (recovery && already_delivered(md, base)) {
		close(md);
		return 0;
	}
	char tmp[600], dst[600];
	snprintf(tmp, sizeof tmp, "tmp/%s", base);
	snprintf(dst, sizeof dst, "new/%s", base);
	unlinkat(md, tmp, 0);
	int fd = openat(md, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		close(md);
		return -1;
	}
	struct buf h = BUF_INIT;
	buf_printf(&h, "Return-Path: <%s>\nDelivered-To: %s\n", env->from, rcpt);
	int rc = write_all(fd, h.data, h.len);
	buf_free(&h);
	if (rc == 0)
		rc = copy_body(fd, spoolfd, body_off);
	if (rc == 0)
		rc = fsync(fd);
	close(fd);
	if (rc == 0)
		rc = renameat(md, tmp, md, dst);
	if (rc == 0)
		rc = fs_fsync_dir_at(md, "new");
	if (rc < 0)
		unlinkat(md, tmp, 0);
	close(md);
	return rc;
}

/* Durably write a copy of the message for some recipients into
 * spool/<dir>/<id>, with a log line beside it. Running it again after a
 * crash replaces the copy with an identical one. */
static int spool_fork(struct deliver *dl, int spoolfd, off_t body_off, const struct envelope *env, char **rcpts,
		      int n, const char *dir, const char *why)
{
	struct envelope e = *env;
	e.rcpt = NULL;
	e.nrcpt = 0;
	for (int i = 0; i < n; i++)
		envelope_add_rcpt(&e, rcpts[i]);
	char logrel[200], line[700];
	snprintf(logrel, sizeof logrel, "spool/%s/%s.log", dir, env->id);
	int lf = openat(dl->env->rootfd, logrel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lf >= 0) {
		for (int i = 0; i < n; i++) {
			int l = snprintf(line, sizeof line, "%lld <%s> %s\n", (long long)time(NULL), rcpts[i], why);
			if (write(lf, line, (size_t)l) < 0)
				break;
		}
		if (fsync(lf) < 0)
			log_warn("cannot sync %s", logrel);
		close(lf);
	}
	struct spool_file sf;
	int rc = spool_create(dl->env->rootfd, &sf, &e);
	if (rc == 0) {
		rc = copy_body(sf.fd, spoolfd, body_off);
		if (rc == 0)
			rc = spool_commit_to(dl->env->rootfd, &sf, dir);
		else
			spool_abort(dl->env->rootfd, &sf);
	}
	envelope_free(&e);
	return rc;
}

#define MAX_HOPS 16

/* The Maildir name of recipient ri's copy ti: derived from the spool id,
 * so a repeated delivery finds the copy already there. */
static void maildir_base(struct deliver *dl, const struct envelope *env, int ri, int ti, char *base, size_t sz)
{
	char uid[64];
	snprintf(uid, sizeof uid, "%s", env->id);
	for (char *p = uid; *p; p++)
		if (*p == '.' || *p == '/' || *p == ':')
			*p = '_';
	snprintf(base, sz, "%lld.T%sR%dN%d.%s", (long long)env->received, uid, ri, ti, dl->host);
}

/* A copy of the message for one address, as a new spool entry with a
 * name derived from the original, handed to delivery. */
static int redirect_copy(struct deliver *dl, int spoolfd, off_t body_off, const struct envelope *env,
			 const char *sender, const char *to, const char *tag)
{
	struct envelope e = *env;
	e.rcpt = NULL;
	e.nrcpt = 0;
	snprintf(e.id, sizeof e.id, "%.38s-%.20s", env->id, tag);
	snprintf(e.from, sizeof e.from, "%.329s", sender);
	e.hops = env->hops + 1;
	envelope_add_rcpt(&e, to);
	struct spool_file sf;
	int rc = spool_create(dl->env->rootfd, &sf, &e);
	if (rc == 0) {
		rc = copy_body(sf.fd, spoolfd, body_off);
		if (rc == 0)
			rc = spool_commit(dl->env->rootfd, &sf);
		else
			spool_abort(dl->env->rootfd, &sf);
	}
	if (rc == 0) {
		log_info("deliver %s: redirected to <%s> as %s", env->id, to, e.id);
		deliver_enqueue(dl, e.id);
	}
	envelope_free(&e);
	return rc;
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

struct remote_list {
	int n;
	char **addr;
};

static void remote_add(struct remote_list *rl, const char *addr)
{
	for (int i = 0; i < rl->n; i++)
		if (!strcasecmp(rl->addr[i], addr))
			return;
	rl->addr = xrealloc(rl->addr, (size_t)(rl->n + 1) * sizeof *rl->addr);
	rl->addr[rl->n++] = xstrdup(addr);
}

/* Apply rules for recipient ri: an account's mailproc.tab (m set) or a
 * custom domain's file (m NULL). -1 when something must be retried. */
static int apply_rules(struct deliver *dl, struct mp_rules *rules, const struct mailbox_ref *m,
		       const struct envelope *env, int ri, int ti, int spoolfd, off_t body_off, bool recovery,
		       struct remote_list *remote)
{
	const char *rcpt = env->rcpt[ri];
	char self[600], dom[256] = "";
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
		case MP_MAILBOX: {
			if (!m) {
				log_err("deliver %s: \"mailbox\" in the custom domain rules of <%s> ignored", env->id, rcpt);
				break;
			}
			char base[300];
			maildir_base(dl, env, ri, ti, base, sizeof base);
			if (maildir_put(dl, m, env, rcpt, spoolfd, body_off, base, recovery) < 0) {
				log_err("deliver %s: cannot write to %s/%s: %s", env->id, m->domain, m->dir, strerror(errno));
				rc = -1;
			} else {
				log_info("deliver %s: <%s> -> %s@%s", env->id, rcpt, m->name, m->domain);
			}
			break;
		}
		case MP_REDIRECT:
		case MP_LREDIRECT:
			if (env->hops >= MAX_HOPS) {
				log_err("deliver %s: too many redirections for <%s>; not redirected again", env->id, rcpt);
				break;
			}
			for (int k = 0; k < cmd->argc && rc == 0; k++) {
				char to[600], tag[64];
				if (strchr(cmd->argv[k], '@'))
					snprintf(to, sizeof to, "%s", cmd->argv[k]);
				else
					snprintf(to, sizeof to, "%s@%s", cmd->argv[k], dom); /* a bare name */
				snprintf(tag, sizeof tag, "r%dt%dc%dk%d", ri, ti, c, k);
				rc = redirect_copy(dl, spoolfd, body_off, env,
						   cmd->kind == MP_LREDIRECT ? self : env->from, to, tag);
			}
			break;
		case MP_EXTERNAL:
			if (run_external(dl, cmd, spoolfd, body_off, env, rcpt) == 16)
				c = rules->n; /* exit code 16: stop here */
			break;
		case MP_SMTP:
		case MP_SMTPRELAY:
			remote_add(remote, rcpt);
			break;
		}
	}
	return rc;
}

static int process_account(struct deliver *dl, const struct mailbox_ref *m, const struct envelope *env, int ri,
			   int ti, int spoolfd, off_t body_off, bool recovery, struct remote_list *remote)
{
	struct mp_rules rules;
	int bad = 0;
	if (mailproc_load(dl->env->rootfd, m->domain, m->dir, &rules, &bad) < 0) {
		/* A broken rule file must not lose mail: store it. */
		log_err("deliver %s: mailproc.tab of %s@%s is invalid (line %d); storing in the mailbox", env->id,
			m->name, m->domain, bad);
		mailproc_free(&rules);
		mailproc_parse("mailbox", &rules, NULL);
	}
	int rc = apply_rules(dl, &rules, m, env, ri, ti, spoolfd, body_off, recovery, remote);
	mailproc_free(&rules);
	return rc;
}

/* A recipient outside our domains: its custom domain rules if any apply,
 * else it waits for outbound delivery. */
static int process_remote(struct deliver *dl, const struct envelope *env, int ri, int spoolfd, off_t body_off,
			  bool recovery, struct remote_list *remote, const char *addr)
{
	const char *at = strrchr(addr, '@');
	struct buf text = BUF_INIT;
	char dom[256];
	snprintf(dom, sizeof dom, "%s", at ? at + 1 : "");
	for (char *p = dom; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!at || admin_check_domain(dom) != TERN_OK || mailstore_custdom_read(dl->env->rootfd, dom, true, &text) < 0) {
		buf_free(&text);
		remote_add(remote, addr);
		return 0;
	}
	struct mp_rules rules = {0};
	int bad = 0, rc;
	if (mailproc_parse(text.data ? text.data : "", &rules, &bad) < 0) {
		log_err("deliver %s: custom domain rules for %s are invalid (line %d); message kept for outbound "
			"delivery",
			env->id, dom, bad);
		remote_add(remote, addr);
		rc = 0;
	} else {
		rc = apply_rules(dl, &rules, NULL, env, ri, 0, spoolfd, body_off, recovery, remote);
	}
	mailproc_free(&rules);
	buf_free(&text);
	return rc;
}

static void deliver_one(void *arg)
{
	struct job *j = arg;
	struct deliver *dl = j->dl;
	char rel[128];
	snprintf(rel, sizeof rel, "spool/queue/%s", j->id);
	int fd = openat(dl->env->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		free(j);
		return;
	}
	struct envelope env;
	off_t body_off;
	if (spool_read_envelope(fd, &env, &body_off) < 0) {
		log_err("deliver: %s is not a valid spool file; moved to spool/held", j->id);
		close(fd);
		spool_move(dl->env->rootfd, j->id, "held");
		free(j);
		return;
	}
	struct dir_conn *c = thread_conn(dl);
	struct remote_list remote = {0};
	char **held = NULL;
	int nheld = 0;
	bool failed = false;
	for (int i = 0; i < env.nrcpt && !failed; i++) {
		struct resolved r;
		enum resolve_kind k = c ? resolve_rcpt(c, env.rcpt[i], &r) : RESOLVE_UNKNOWN;
		if (k == RESOLVE_UNKNOWN || k == RESOLVE_LOOP || (k == RESOLVE_LOCAL && !r.nlocal && !r.nremote)) {
			held = xrealloc(held, (size_t)(nheld + 1) * sizeof *held);
			held[nheld++] = env.rcpt[i];
			log_warn("deliver %s: <%s> %s; message kept in spool/held", env.id, env.rcpt[i],
				 k == RESOLVE_LOOP ? "expands too deep (alias or list loop)" : "no longer exists");
		}
		for (int t = 0; t < r.nlocal && !failed; t++)
			if (process_account(dl, &r.local[t], &env, i, t, fd, body_off, j->recovery, &remote) < 0)
				failed = true;
		for (int t = 0; t < r.nremote && !failed; t++)
			if (process_remote(dl, &env, i, fd, body_off, j->recovery, &remote, r.remote[t]) < 0)
				failed = true;
		if (k != RESOLVE_UNKNOWN)
			resolved_free(&r);
	}
	if (!failed && remote.n) {
		if (spool_fork(dl, fd, body_off, &env, remote.addr, remote.n, "remote", "waiting for outbound delivery") < 0)
			failed = true;
		else if (dl->env->outbound)
			dl->env->outbound(dl->env->outbound_arg, env.id);
	}
	if (!failed && nheld &&
	    spool_fork(dl, fd, body_off, &env, held, nheld, "held", "recipient does not exist any more") < 0)
		failed = true;
	close(fd);
	if (!failed) /* every recipient is delivered, waiting in remote/ or held/ */
		spool_done(dl->env->rootfd, env.id);
	if (failed) {
		/* Leave it in the queue; a later pass (restart) retries. */
		log_err("deliver %s: kept in the spool queue for a later attempt", env.id);
	}
	for (int i = 0; i < remote.n; i++)
		free(remote.addr[i]);
	free(remote.addr);
	free(held);
	envelope_free(&env);
	free(j);
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
	dl->q = workq_new(threads, "delivery");
	return dl;
}

static void submit(struct deliver *dl, const char *id, bool recovery)
{
	struct job *j = xcalloc(1, sizeof *j);
	j->dl = dl;
	j->recovery = recovery;
	snprintf(j->id, sizeof j->id, "%s", id);
	workq_submit(dl->q, deliver_one, j);
}

void deliver_enqueue(struct deliver *dl, const char *id)
{
	submit(dl, id, false);
}

void deliver_recover(struct deliver *dl)
{
	char **ids;
	int n = spool_list_queue(dl->env->rootfd, &ids);
	if (n)
		log_info("deliver: %d message(s) left in the spool queue, delivering", n);
	for (int i = 0; i < n; i++) {
		submit(dl, ids[i], true);
		free(ids[i]);
	}
	free(ids);
}

void deliver_stop(struct deliver *dl)
{
	if (!dl)
		return;
	workq_free(dl->q);
	free(dl);
}
