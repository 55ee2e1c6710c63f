/*
 * poplink - the POP3 collection thread and a small blocking POP3 client.
 */
#include "poplink.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin.h"
#include "../admin/settings.h"
#include "../core/buf.h"
#include "../core/client.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/xmalloc.h"
#include "../deliver/deliver.h"
#include "../queue/spool.h"
#include "../smtp/smtp_parse.h"
#include "hdraddr.h"

#define MAX_MSG (64u << 20)

struct poplink {
	struct admin_env *env;
	struct deliver *dl;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
};

struct link {
	char ld[256], lu[256], rh[300], ru[256], auth[256];
};


/* ---- client I/O ---- */



/* Send a command (may be NULL), read a status line: 0 for +OK. */
static int c_cmd(struct client *c, const char *cmd, struct buf *resp)
{
	if (cmd) {
		struct buf b = BUF_INIT;
		buf_printf(&b, "%s\r\n", cmd);
		int rc = client_send(c, b.data, b.len);
		secret_wipe(b.data, b.len);
		buf_free(&b);
		if (rc < 0)
			return -1;
	}
	if (client_read_line(c, resp, 65536) < 0)
		return -1;
	return strncmp(resp->data, "+OK", 3) ? -1 : 0;
}



static bool has_auth(const char *auth, const char *word)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", auth);
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcasecmp(t, word))
			return true;
	return false;
}


/* ---- UIDL memory for "Leave" ---- */

static void uidl_path(const struct link *l, char *out, size_t sz)
{
	char key[1200], md5[33];
	snprintf(key, sizeof key, "%s|%s|%s|%s", l->ld, l->lu, l->rh, l->ru);
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	secret_md5_hex(key, strlen(key), md5);
	snprintf(out, sz, "pop3links/%s.uidl", md5);
}

static bool uidl_seen(const struct buf *seen, const char *uidl)
{
	size_t n = strlen(uidl);
	const char *p = seen->data;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len == n && !memcmp(p, uidl, n))
			return true;
		p = nl ? nl + 1 : NULL;
	}
	return false;
}

/* ---- one link ---- */

/* The recipients of a fetched message. A handled domain or "@domain": the
 * link's local user there. "?masq,dom1,dom2...": every address of the
 * listed domains found in To/Cc/Bcc, re-addressed to local-part@masq.
 * "&suffix,dom1,dom2...": every such address with the suffix appended
 * (john@dom1 -> john@dom1.suffix). */
struct rcpt_map {
	const struct link *l;
	char target[256]; /* masq domain or suffix */
	char doms[32][256];
	int ndoms;
	struct envelope *env;
};

static void map_addr(void *arg, const char *addr)
{
	struct rcpt_map *m = arg;
	char local[256], dom[256], out[1024];
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom))
		return;
	bool match = false;
	for (int i = 0; i < m->ndoms && !match; i++)
		match = !strcasecmp(dom, m->doms[i]);
	if (!match)
		return;
	if (m->l->ld[0] == '?')
		snprintf(out, sizeof out, "%s@%s", local, m->target);
	else
		snprintf(out, sizeof out, "%s@%s%s", local, dom, m->target);
	if (!smtp_addr_valid(out))
		return;
	for (int i = 0; i < m->env->nrcpt; i++)
		if (!strcasecmp(m->env->rcpt[i], out))
			return;
	if (m->env->nrcpt < SPOOL_MAX_RCPTS)
		envelope_add_rcpt(m->env, out);
}

/* Split "?masq,dom1,dom2" / "&suffix,dom1,..." into m. */
static bool parse_special(const struct link *l, struct rcpt_map *m)
{
	char tmp[256];
	snprintf(tmp, sizeof tmp, "%s", l->ld + 1);
	char *save = NULL;
	char *t = strtok_r(tmp, ",", &save);
	if (!t || !t[0])
		return false;
	snprintf(m->target, sizeof m->target, "%s", t);
	for (char *p = m->target; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	while ((t = strtok_r(NULL, ",", &save)) && m->ndoms < 32)
		if (t[0])
			snprintf(m->doms[m->ndoms++], sizeof m->doms[0], "%s", t);
	return m->ndoms > 0;
}

static int store_message(struct poplink *pl, const struct link *l, const char *data, size_t len, char *id_r,
			 bool *queued_r)
{
	struct envelope env = {0};
	spool_new_id(env.id);
	env.received = time(NULL);
	snprintf(env.peer, sizeof env.peer, "pop3");
	snprintf(env.helo, sizeof env.helo, "%.250s", l->rh);
	char rcpt[600];
	const char *dir = "queue";
	if (l->ld[0] == '?' || l->ld[0] == '&') {
		struct rcpt_map m = {.l = l, .env = &env};
		parse_special(l, &m);
		hdr_rcpt_addrs(data, len, map_addr, &m);
		snprintf(rcpt, sizeof rcpt, "%s", l->ld);
		if (!env.nrcpt) {
			/* Nobody to re-address to: kept for the admin, never dropped. */
			char pm[600];
			if (l->ld[0] == '?')
				snprintf(pm, sizeof pm, "postmaster@%s", m.target);
			else
				snprintf(pm, sizeof pm, "postmaster@%s%s", m.ndoms ? m.doms[0] : "", m.target);
			envelope_add_rcpt(&env, pm);
			dir = "held";
		}
	} else {
		/* "@domain": the message goes to local-user@domain through the spool,
		 * wherever that domain is handled. */
		snprintf(rcpt, sizeof rcpt, "%s@%s", l->lu, l->ld[0] == '@' ? l->ld + 1 : l->ld);
		envelope_add_rcpt(&env, rcpt);
	}
	struct spool_file sf;
	int rc = spool_create(pl->env->rootfd, &sf, &env);
	if (rc == 0) {
		char date[64], hdr[900];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
		int hl = snprintf(hdr, sizeof hdr, "X-Tern-Fetched: from %s@%s by POP3 link for %s;\n\t%s\n", l->ru, l->rh,
				  rcpt, date);
		rc = spool_write(&sf, hdr, (size_t)hl);
		if (rc == 0)
			rc = spool_write(&sf, data, len);
		if (rc == 0 && !strcmp(dir, "held")) {
			char logrel[200], line[900];
			snprintf(logrel, sizeof logrel, "spool/held/%s.log", env.id);
			int lf = openat(pl->env->rootfd, logrel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
					0600);
			if (lf >= 0) {
				int n = snprintf(line, sizeof line,
						 "%lld <%s> fetched by POP3 link %s@%s for %s: no To/Cc/Bcc address of the "
						 "link's domains\n",
						 (long long)now, env.rcpt[0], l->ru, l->rh, l->ld);
				if (n < 0 || write(lf, line, (size_t)n) < 0 || fsync(lf) < 0)
					rc = -1;
				close(lf);
			}
			log_warn("poplink %s@%s for %s: a message names no address of the link's domains; kept in spool/held "
				 "as %s",
				 l->ru, l->rh, l->ld, env.id);
		}
		if (rc == 0)
			rc = spool_commit_to(pl->env->rootfd, &sf, dir);
		else
			spool_abort(pl->env->rootfd, &sf);
	}
	snprintf(id_r, 64, "%s", env.id);
	*queued_r = !strcmp(dir, "queue");
	envelope_free(&env);
	return rc;
}

static void fetch_link(struct poplink *pl, struct dir_conn *c, const struct link *l)
{
	if (l->ld[0] == '?' || l->ld[0] == '&') {
		struct rcpt_map m = {.l = l};
		if (!parse_special(l, &m)) {
			log_warn("poplink %s@%s for %s: malformed local form (want ?masq-domain,dom,... or "
				 "&suffix,dom,...), skipped",
				 l->ru, l->rh, l->ld);
			return;
		}
	}
	unsigned char box[2048];
	size_t blen = sizeof box;
	struct buf pass = BUF_INIT, r = BUF_INIT, msg = BUF_INIT, seen = BUF_INIT, newseen = BUF_INIT;
	if (!dir_poplink_get_box(c, l->ld, l->lu, l->rh, l->ru, box, &blen) || secret_box_open(box, blen, &pass) < 0) {
		log_err("poplink %s@%s: cannot read its password", l->ru, l->rh);
		buf_free(&pass);
		return;
	}
	bool pop3s = has_auth(l->auth, "POP3S"), leave = has_auth(l->auth, "Leave");
	struct client cl;
	const char *why = NULL;
	int fetched = 0;
	if (client_connect_hostport(&cl, l->rh, pop3s ? "995" : "110", 60) < 0) {
		why = "cannot connect";
		goto out;
	}
	/* Collection follows the opportunistic model of the mail tools it
	 * replaces: encryption without certificate checks. */
	if (pop3s && client_start_tls(&cl) < 0) {
		why = "TLS handshake failed";
		goto out;
	}
	if (c_cmd(&cl, NULL, &r) < 0) {
		why = "no greeting";
		goto out;
	}
	char ts[256] = "";
	const char *lt = strchr(r.data, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	if (lt && gt && gt - lt < (long)sizeof ts)
		snprintf(ts, sizeof ts, "%.*s", (int)(gt - lt + 1), lt);
	if (!pop3s && (has_auth(l->auth, "STLS") || has_auth(l->auth, "FSTLS"))) {
		if (c_cmd(&cl, "STLS", &r) == 0) {
			if (client_start_tls(&cl) < 0) {
				why = "STLS handshake failed";
				goto out;
			}
		} else if (has_auth(l->auth, "FSTLS")) {
			why = "server refuses STLS (FSTLS)";
			goto out;
		}
	}
	struct buf cmd = BUF_INIT;
	bool logged = false;
	if ((has_auth(l->auth, "APOP") || has_auth(l->auth, "FAPOP")) && ts[0]) {
		struct buf in = BUF_INIT;
		char md5[33];
		buf_puts(&in, ts);
		buf_append(&in, pass.data, pass.len);
		secret_md5_hex(in.data, in.len, md5);
		secret_wipe(in.data, in.len);
		buf_free(&in);
		buf_printf(&cmd, "APOP %s %s", l->ru, md5);
		logged = c_cmd(&cl, cmd.data, &r) == 0;
		buf_reset(&cmd);
	}
	if (!logged && !has_auth(l->auth, "FAPOP")) {
		buf_printf(&cmd, "USER %s", l->ru);
		if (c_cmd(&cl, cmd.data, &r) == 0) {
			buf_reset(&cmd);
			buf_printf(&cmd, "PASS %s", pass.data);
			logged = c_cmd(&cl, cmd.data, &r) == 0;
			secret_wipe(cmd.data, cmd.len);
		}
	}
	buf_free(&cmd);
	if (!logged) {
		why = "login refused";
		goto out;
	}
	char upath[200];
	uidl_path(l, upath, sizeof upath);
	if (leave) {
		mkdirat(pl->env->rootfd, "pop3links", 0700);
		fs_read_all_at(pl->env->rootfd, upath, 16u << 20, &seen);
	}
	/* UIDL listing (when available) gives message numbers and ids. */
	int nmsg = 0;
	int *nums = NULL;
	char **uidls = NULL;
	if (c_cmd(&cl, "UIDL", &r) == 0) {
		for (;;) {
			if (client_read_line(&cl, &r, 65536) < 0) {
				why = "connection lost";
				goto out_list;
			}
			if (!strcmp(r.data, "."))
				break;
			char u[128];
			int num;
			if (sscanf(r.data, "%d %127s", &num, u) == 2 && nmsg < 100000) {
				nums = xrealloc(nums, (size_t)(nmsg + 1) * sizeof *nums);
				uidls = xrealloc(uidls, (size_t)(nmsg + 1) * sizeof *uidls);
				nums[nmsg] = num;
				uidls[nmsg++] = xstrdup(u);
			}
		}
	} else if (leave) {
		why = "the server has no UIDL, which Leave needs";
		goto out_list;
	} else if (c_cmd(&cl, "STAT", &r) == 0) {
		int count = 0;
		sscanf(r.data, "+OK %d", &count);
		for (int i = 1; i <= count && i <= 100000; i++) {
			nums = xrealloc(nums, (size_t)(nmsg + 1) * sizeof *nums);
			uidls = xrealloc(uidls, (size_t)(nmsg + 1) * sizeof *uidls);
			nums[nmsg] = i;
			uidls[nmsg++] = xstrdup("-");
		}
	}
	for (int i = 0; i < nmsg && !why; i++) {
		if (leave && uidl_seen(&seen, uidls[i]))
			continue;
		char rc_cmd[32];
		snprintf(rc_cmd, sizeof rc_cmd, "RETR %d", nums[i]);
		if (c_cmd(&cl, rc_cmd, &r) < 0) {
			why = "RETR failed";
			break;
		}
		buf_reset(&msg);
		for (;;) {
			if (client_read_line(&cl, &r, 65536) < 0) {
				why = "connection lost during RETR";
				break;
			}
			if (!strcmp(r.data, "."))
				break;
			const char *p = r.data[0] == '.' ? r.data + 1 : r.data;
			if (msg.len < MAX_MSG) {
				buf_puts(&msg, p);
				buf_putc(&msg, '\n');
			}
		}
		if (why)
			break;
		char id[64];
		bool queued;
		if (store_message(pl, l, msg.data ? msg.data : "", msg.len, id, &queued) < 0) {
			why = "cannot store the message locally";
			break;
		}
		/* The message is durable here: only now may it go away remotely. */
		if (queued)
			deliver_enqueue(pl->dl, id);
		fetched++;
		if (leave) {
			buf_printf(&newseen, "%s\n", uidls[i]);
		} else {
			char dc[32];
			snprintf(dc, sizeof dc, "DELE %d", nums[i]);
			if (c_cmd(&cl, dc, &r) < 0) {
				why = "DELE failed";
				break;
			}
		}
	}
	if (leave && newseen.len) {
		buf_append(&seen, newseen.data, newseen.len);
		fs_write_atomic_at(pl->env->rootfd, upath, seen.data, seen.len, 0600);
	}
	if (!why)
		c_cmd(&cl, "QUIT", &r);
out_list:
	for (int i = 0; i < nmsg; i++)
		free(uidls[i]);
	free(uidls);
	free(nums);
out:
	if (why)
		log_warn("poplink %s@%s -> %s@%s: %s", l->ru, l->rh, l->lu, l->ld, why);
	else if (fetched)
		log_info("poplink %s@%s -> %s@%s: %d message(s) collected", l->ru, l->rh, l->lu, l->ld, fetched);
	client_close(&cl);
	secret_wipe(pass.data, pass.len);
	buf_free(&pass);
	buf_free(&r);
	buf_free(&msg);
	buf_free(&seen);
	buf_free(&newseen);
}

struct link_list {
	int n;
	struct link *v;
};

static int collect_link(void *arg, const char *const *f, int n)
{
	(void)n;
	struct link_list *ll = arg;
	if (strcmp(f[5], "1"))
		return 0;
	ll->v = xrealloc(ll->v, (size_t)(ll->n + 1) * sizeof *ll->v);
	struct link *l = &ll->v[ll->n++];
	snprintf(l->ld, sizeof l->ld, "%s", f[0]);
	snprintf(l->lu, sizeof l->lu, "%s", f[1]);
	snprintf(l->rh, sizeof l->rh, "%s", f[2]);
	snprintf(l->ru, sizeof l->ru, "%s", f[3]);
	snprintf(l->auth, sizeof l->auth, "%s", f[4]);
	return 0;
}

static void run_pass(struct poplink *pl, struct dir_conn *c)
{
	struct link_list ll = {0};
	dir_poplink_list(c, collect_link, &ll);
	for (int i = 0; i < ll.n; i++) {
		pthread_mutex_lock(&pl->mu);
		bool stop = pl->stop;
		pthread_mutex_unlock(&pl->mu);
		if (stop)
			break;
		char real[256];
		if (ll.v[i].ld[0] != '@' && ll.v[i].ld[0] != '?' && ll.v[i].ld[0] != '&' &&
		    (!dir_domain_resolve(c, ll.v[i].ld, real, sizeof real) || !dir_user_get(c, real, ll.v[i].lu, NULL)))
			continue; /* the local account is gone: the link is off */
		fetch_link(pl, c, &ll.v[i]);
	}
	free(ll.v);
}

static void *poplink_main(void *arg)
{
	struct poplink *pl = arg;
	struct dir_conn *c = dir_conn_open(pl->env->dir);
	if (!c)
		return NULL;
	time_t last = 0;
	pthread_mutex_lock(&pl->mu);
	while (!pl->stop) {
		pthread_mutex_unlock(&pl->mu);
		/* The interval is read every second, so a change applies at once. */
		long interval = settings_get_int(c, "Pop3LinkInterval");
		if (time(NULL) - last >= interval) {
			last = time(NULL);
			run_pass(pl, c);
		}
		pthread_mutex_lock(&pl->mu);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		while (!pl->stop && pthread_cond_timedwait(&pl->cv, &pl->mu, &until) == 0)
			;
	}
	pthread_mutex_unlock(&pl->mu);
	dir_conn_close(c);
	return NULL;
}

struct poplink *poplink_start(struct admin_env *env, struct deliver *dl)
{
	struct poplink *pl = xcalloc(1, sizeof *pl);
	pl->env = env;
	pl->dl = dl;
	pthread_mutex_init(&pl->mu, NULL);
	pthread_cond_init(&pl->cv, NULL);
	if (pthread_create(&pl->thread, NULL, poplink_main, pl) != 0) {
		free(pl);
		return NULL;
	}
	return pl;
}

void poplink_stop(struct poplink *pl)
{
	if (!pl)
		return;
	pthread_mutex_lock(&pl->mu);
	pl->stop = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
	pthread_join(pl->thread, NULL);
	pthread_mutex_destroy(&pl->mu);
	pthread_cond_destroy(&pl->cv);
	free(pl);
}
