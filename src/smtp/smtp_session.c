/*
 * smtp_session - one SMTP connection on the event loop.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin.h"
#include "../admin/domain_services.h"
#include "../admin/settings.h"
#include "../auth/challenge.h"
#include "../auth/connlimit.h"
#include "../auth/lstacl.h"
#include "../auth/sasl.h"
#include "../core/evloop.h"
#include "../core/listen.h"
#include "../core/log.h"
#include "../core/wildmat.h"
#include "../core/secret.h"
#include "../core/workq.h"
#include "../core/xmalloc.h"
#include "../deliver/deliver.h"
#include "../deliver/resolve.h"
#include "../queue/spool.h"
#include "../store/mailstore.h"
#include "smtp.h"
#include "smtp_data.h"
#include "smtp_parse.h"
#include "send_limits.h"

#define SMTP_MAX_CMD 1000
#define PEER_SLOTS 4096
#define SEND_SLOTS 16384 /* accounts with a live sending-limit window */

struct peer_count {
	char addr[64];
	int n;
};

struct smtp_server {
	struct admin_env *env;
	struct evloop *lp;
	struct workq *io;
	struct deliver *dl;
	SSL_CTX *tls;
	struct dir_conn *rd; /* loop thread's reader */
	char host[256];
	struct peer_count peers[PEER_SLOTS];
	struct send_counters *sends;
	struct smtp_session *sessions; /* loop thread only */
};

enum job_kind { JOB_NONE, JOB_AUTH, JOB_COMMIT };

struct smtp_session {
	struct smtp_server *srv;
	struct bufferevent *bev;
	struct event *done_ev;
	enum smtp_kind kind;
	char peer[64], local[64];
	bool tls, ehlo, esmtp, authed, in_tx, in_data, discarding, closing, busy, quitting;
	bool gone; /* the peer closed or the connection failed */
	struct connlimit_ticket acc; /* counted by the access-control limits */
	struct smtp_session *prev, *next;
	char helo[256];
	char auth_user[320];
	int64_t auth_id; /* the authenticated account, 0 if none */
	struct send_limits lim; /* its sending limits, read at MAIL */
	struct send_ticket charged; /* what the message in the commit job was charged */
	struct envelope env;
	uint64_t mail_size; /* SIZE= of the MAIL command, 0 if none */
	bool body_8bit;
	struct smtp_data data;
	struct spool_file sf;
	bool sf_open;
	struct buf out;
	int errors, auth_errors, max_auth_errors;
	int auth_step; /* 0 none, 1 AUTH LOGIN wants user, 2 wants password, 3 AUTH PLAIN wants response */
	char login_user[320];
	/* job */
	enum job_kind job;
	int job_rc;
	char job_user[320];
	char job_pass[512];
	int64_t job_id;
	bool job_cram;
	char cram[160];
	/* settings read at connect */
	long max_size, max_rcpts, max_line, max_errors;
	bool reject_bare;
};

static void session_free(struct smtp_session *s);
static void read_cb(struct bufferevent *bev, void *arg);

static void reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct smtp_session *s, const char *fmt, ...)
{
	struct evbuffer *o = bufferevent_get_output(s->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
	evbuffer_add(o, "\r\n", 2);
}

static struct peer_count *peer_slot(struct smtp_server *srv, const char *addr, bool create)
{
	struct peer_count *free_slot = NULL;
	for (int i = 0; i < PEER_SLOTS; i++) {
		if (srv->peers[i].n > 0 && !strcmp(srv->peers[i].addr, addr))
			return &srv->peers[i];
		if (!free_slot && srv->peers[i].n == 0)
			free_slot = &srv->peers[i];
	}
	if (!create || !free_slot)
		return NULL;
	snprintf(free_slot->addr, sizeof free_slot->addr, "%s", addr);
	return free_slot;
}

static void tx_reset(struct smtp_session *s)
{
	if (s->sf_open) {
		spool_abort(s->srv->env->rootfd, &s->sf);
		s->sf_open = false;
	}
	envelope_free(&s->env);
	s->in_tx = false;
	s->in_data = false;
	s->body_8bit = false;
	s->mail_size = 0;
	s->env.from[0] = '\0';
}

static void close_after_flush(struct smtp_session *s);

static void count_error(struct smtp_session *s)
{
	if (++s->errors >= s->max_errors) {
		reply(s, "421 4.7.0 %s Too many errors, closing connection", s->srv->host);
		close_after_flush(s);
	}
}

/* ---- closing ---- */

/* Free the session now and close its connection once the last reply is
 * out. Only from a callback's top level: nothing may touch s afterwards. */
static void hand_off(struct smtp_session *s)
{
	struct bufferevent *b = s->bev;
	s->bev = NULL;
	evloop_free_when_flushed(s->srv->lp, b);
	session_free(s);
}

/* Ask for the connection to close after the replies already queued. The
 * close itself runs from the completion event, after the current callback
 * (which may still be looping over input) has returned. */
static void close_after_flush(struct smtp_session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	bufferevent_disable(s->bev, EV_READ);
	if (!s->busy)
		event_active(s->done_ev, EV_READ, 0);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct smtp_session *s = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		reply(s, "421 4.4.2 %s Timeout, closing connection", s->srv->host);
		close_after_flush(s);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		s->closing = true;
		s->gone = true;
		if (!s->busy)
			session_free(s);
	}
}

static void session_free(struct smtp_session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	tx_reset(s);
	struct peer_count *pc = peer_slot(s->srv, s->peer, false);
	if (pc && pc->n > 0)
		pc->n--;
	connlimit_release(&s->acc);
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->done_ev)
		event_free(s->done_ev);
	buf_free(&s->out);
	secret_wipe(s->job_pass, sizeof s->job_pass);
	free(s);
}

/* ---- worker jobs ---- */

static void job_run(void *arg)
{
	struct smtp_session *s = arg;
	if (s->job == JOB_COMMIT) {
		s->job_rc = spool_commit(s->srv->env->rootfd, &s->sf);
	} else if (s->job == JOB_AUTH) {
		s->job_rc = -1;
		struct dir_conn *c = dir_conn_open(s->srv->env->dir);
		char local[256], dom[256], real[256];
		struct dir_user u;
		s->job_id = 0;
		if (s->job_cram) {
			if (c && challenge_verify(c, s->job_user, CHALLENGE_CRAM_MD5, s->cram, s->job_pass, &u) &&
			    dir_domain_enabled(c, u.domain)) {
				s->job_rc = 0;
				s->job_id = u.id;
			}
		} else if (c && smtp_addr_split(s->job_user, local, sizeof local, dom, sizeof dom) &&
			   dir_domain_resolve(c, dom, real, sizeof real) && dir_user_get(c, real, local, &u) &&
			   u.type == 'U' && admin_password_matches(c, &u, s->job_pass) && dir_domain_enabled(c, u.domain)) {
			s->job_rc = 0;
			s->job_id = u.id;
		}
		dir_conn_close(c);
		secret_wipe(s->job_pass, sizeof s->job_pass);
		if (s->job_rc < 0)
			sleep(1); /* slow down password guessing */
	}
	event_active(s->done_ev, EV_READ, 0);
}

static void start_job(struct smtp_session *s, enum job_kind kind)
{
	s->job = kind;
	s->busy = true;
	bufferevent_disable(s->bev, EV_READ);
	workq_submit(s->srv->io, job_run, s);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct smtp_session *s = arg;
	if (!s->busy) {
		/* no job: a close asked for by close_after_flush() */
		if (s->closing)
			hand_off(s);
		return;
	}
	s->busy = false;
	enum job_kind k = s->job;
	s->job = JOB_NONE;
	if (k == JOB_COMMIT) {
		s->sf_open = false;
		if (s->job_rc == 0) {
			if (!s->closing)
				reply(s, "250 2.0.0 Ok: queued as %s", s->env.id);
			log_info("smtp %s: from=<%s> rcpts=%d size=%llu id=%s", s->peer, s->env.from, s->env.nrcpt,
				 (unsigned long long)s->data.size, s->env.id);
			deliver_enqueue(s->srv->dl, s->env.id);
		} else {
			send_counters_refund(s->srv->sends, &s->charged);
			if (!s->closing)
				reply(s, "451 4.3.0 Cannot store the message, try again later");
		}
		memset(&s->charged, 0, sizeof s->charged);
		tx_reset(s);
	} else if (k == JOB_AUTH && !s->closing) {
		if (s->job_rc == 0) {
			s->authed = true;
			s->auth_id = s->job_id;
			snprintf(s->auth_user, sizeof s->auth_user, "%s", s->job_user);
			log_info("smtp %s: authenticated as %s", s->peer, s->auth_user);
			reply(s, "235 2.7.0 Authentication successful");
		} else {
			log_warn("smtp %s: authentication failed for %s", s->peer, s->job_user);
			reply(s, "535 5.7.8 Authentication credentials invalid");
			if (++s->auth_errors >= s->max_auth_errors) {
				log_warn("smtp %s: %d failed AUTH attempts, closing connection", s->peer, s->auth_errors);
				reply(s, "421 4.7.0 %s Too many failed authentications, closing connection",
				      s->srv->host);
				close_after_flush(s);
			} else {
				count_error(s);
			}
		}
	}
	if (s->closing) {
		if (s->gone)
			session_free(s);
		else
			hand_off(s);
		return;
	}
	bufferevent_enable(s->bev, EV_READ);
	read_cb(s->bev, s);
}

/* ---- commands ---- */

static bool tls_available(struct smtp_session *s)
{
	return s->srv->tls && !s->tls && settings_get_int(s->srv->rd, "EnableSMTP-TLS");
}

static bool auth_allowed(struct smtp_session *s)
{
	return s->tls;
}

static void cmd_ehlo(struct smtp_session *s, const char *arg, bool ehlo)
{
	if (!*arg || strlen(arg) >= sizeof s->helo || strchr(arg, ' ')) {
		reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		count_error(s);
		return;
	}
	tx_reset(s);
	snprintf(s->helo, sizeof s->helo, "%s", arg);
	s->ehlo = true;
	s->esmtp = ehlo;
	if (!ehlo) {
		reply(s, "250 %s", s->srv->host);
		return;
	}
	char size[48];
	snprintf(size, sizeof size, "SIZE %ld", s->max_size);
	const char *lines[10];
	int n = 0;
	lines[n++] = s->srv->host;
	lines[n++] = "PIPELINING";
	lines[n++] = size;
	lines[n++] = "8BITMIME";
	lines[n++] = "ENHANCEDSTATUSCODES";
	lines[n++] = "DSN";
	if (tls_available(s))
		lines[n++] = "STARTTLS";
	if (auth_allowed(s))
		lines[n++] = "AUTH PLAIN LOGIN CRAM-MD5";
	if (settings_get_int(s->srv->rd, "AllowSmtpETRN"))
		lines[n++] = "ETRN";
	struct evbuffer *o = bufferevent_get_output(s->bev);
	for (int i = 0; i < n; i++)
		evbuffer_add_printf(o, "250%c%s\r\n", i + 1 < n ? '-' : ' ', lines[i]);
}

/* Does node match one of the comma-separated wildcard patterns? */
static bool etrn_domain_allowed(const char *patterns, const char *node)
{
	char pat[300];
	for (const char *p = patterns; *p;) {
		size_t l = strcspn(p, ",");
		while (l && *p == ' ') {
			p++;
			l--;
		}
		if (l && l < sizeof pat) {
			memcpy(pat, p, l);
			pat[l] = '\0';
			while (l && pat[l - 1] == ' ')
				pat[--l] = '\0';
			if (l && wildmat(pat, node))
				return true;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return false;
}

/* RFC 1985: ETRN node | @node (and its subdomains) | #queue. */
static void cmd_etrn(struct smtp_session *s, const char *arg)
{
	if (!settings_get_int(s->srv->rd, "AllowSmtpETRN")) {
		reply(s, "502 5.5.1 ETRN is not enabled on this server");
		return;
	}
	if (s->in_tx) {
		reply(s, "503 5.5.1 ETRN is not allowed during a mail transaction");
		return;
	}
	while (*arg == ' ')
		arg++;
	if (!*arg || strchr(arg, ' ')) {
		reply(s, "501 5.5.4 Syntax: ETRN <domain> | @<domain> | #<queue>");
		count_error(s);
		return;
	}
	if (arg[0] == '#') {
		reply(s, "458 4.3.0 Unable to queue messages for node %.200s: named queues are not supported", arg);
		return;
	}
	bool subs = arg[0] == '@';
	const char *node = subs ? arg + 1 : arg;
	if (admin_check_domain(node) != TERN_OK) {
		reply(s, "501 5.5.4 Invalid domain name");
		count_error(s);
		return;
	}
	char allowed[4096];
	settings_get(s->srv->rd, "SmtpEtrnDomains", allowed, sizeof allowed);
	if (!etrn_domain_allowed(allowed, node)) {
		reply(s, "459 4.7.1 Node %.200s not allowed: not a domain this server queues for", node);
		return;
	}
	char p1[300], p2[300];
	snprintf(p1, sizeof p1, "*@%.250s", node);
	snprintf(p2, sizeof p2, "*@*.%.250s", node);
	char *pats[2] = {p1, p2};
	struct admin_ctx ctx = {s->srv->env, s->srv->rd, "smtp-etrn", s->peer, "smtp"};
	int n = 0;
	if (admin_queue_etrn(&ctx, pats, subs ? 2 : 1, &n) != TERN_OK)
		reply(s, "458 4.3.0 Unable to queue messages for node %.200s", node);
	else if (n == 0)
		reply(s, "251 2.0.0 OK no messages waiting for node %.200s", node);
	else
		reply(s, "253 2.0.0 OK %d pending messages for node %.200s started", n, node);
}

static bool relay_allowed(struct smtp_session *s)
{
	if (s->authed)
		return true;
	char nets[4096];
	settings_get(s->srv->rd, "SmtpRelayNetworks", nets, sizeof nets);
	char *save = NULL;
	for (char *t = strtok_r(nets, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
		if (admin_ipmap_rule_matches(t, "", s->peer))
			return true;
	return false;
}

/* Mail for a domain with its own custom domain rules is ours to take
 * (the catch-all .tab file does not count: it would make this an open
 * relay). */
static bool is_custom_domain(struct smtp_session *s, const char *addr)
{
	char local[256], dom[256];
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom) || admin_check_domain(dom) != TERN_OK)
		return false;
	struct buf b = BUF_INIT;
	bool found = mailstore_custdom_read(s->srv->env->rootfd, dom, false, &b) == 0;
	buf_free(&b);
	return found;
}

/* ---- sending limits of the authenticated account (send_limits.h) ---- */

/* Answer a verdict that is not SEND_OK with 450 4.7.1 and say so. */
static bool send_refused(struct smtp_session *s, enum send_verdict v, int64_t retry)
{
	const struct send_limits *l = &s->lim;
	long long iv = (long long)l->interval, r = (long long)(retry > 0 ? retry : 1);
	switch (v) {
	case SEND_OK:
		return false;
	case SEND_OVER_MSGS:
		reply(s, "450 4.7.1 Sending limit reached: %lld messages per %lld seconds for %s; try again in %lld seconds",
		      (long long)l->max_msgs, iv, s->auth_user, r);
		break;
	case SEND_OVER_RCPTS:
		reply(s,
		      "450 4.7.1 Recipient limit reached: %lld recipients per %lld seconds for %s; try again in %lld "
		      "seconds",
		      (long long)l->max_rcpts, iv, s->auth_user, r);
		break;
	case SEND_OVER_SIZE:
		reply(s, "450 4.7.1 Size limit reached: %lld KB per %lld seconds for %s; try again in %lld seconds",
		      (long long)l->max_kb, iv, s->auth_user, r);
		break;
	case SEND_FULL:
		reply(s, "450 4.7.1 Sending limits cannot be tracked right now; try again later");
		break;
	}
	log_warn("smtp %s: %s refused by the sending limits of %s (%s)", s->peer,
		 v == SEND_OVER_RCPTS ? "recipient" : "message", s->auth_user,
		 v == SEND_OVER_MSGS	? "messages"
		 : v == SEND_OVER_RCPTS ? "recipients"
		 : v == SEND_OVER_SIZE	? "size"
					: "table full");
	return true;
}

static bool send_over(struct smtp_session *s, int64_t msgs, int64_t rcpts, int64_t bytes)
{
	if (!s->authed || s->auth_id <= 0)
		return false;
	int64_t retry = 0;
	enum send_verdict v = send_counters_check(s->srv->sends, s->auth_id, &s->lim, msgs, rcpts, bytes, &retry);
	return send_refused(s, v, retry);
}

/* A message larger than the whole allowance can never go: permanent. */
static bool send_too_big(struct smtp_session *s, uint64_t size)
{
	if (!s->authed || s->auth_id <= 0 || s->lim.max_kb <= 0 || size <= (uint64_t)s->lim.max_kb * 1024)
		return false;
	reply(s, "552 5.3.4 Message larger than the sending size limit of %s (%lld KB per %lld seconds)", s->auth_user,
	      (long long)s->lim.max_kb, (long long)s->lim.interval);
	return true;
}

static void cmd_mail(struct smtp_session *s, const char *arg)
{
	if (!s->ehlo) {
		reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		count_error(s);
		return;
	}
	if (s->in_tx) {
		reply(s, "503 5.5.1 Error: nested MAIL command");
		count_error(s);
		return;
	}
	if (s->kind != SMTP_KIND_MX && !s->authed) {
		reply(s, "530 5.7.0 Authentication required");
		count_error(s);
		return;
	}
	s->mail_size = 0;
	struct smtp_path p;
	int pr = smtp_parse_path(arg, "FROM:", true, &p);
	if (pr < 0) {
		if (pr == -2)
			reply(s, "501 5.1.7 Bad sender address syntax");
		else
			reply(s, "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]");
		count_error(s);
		return;
	}
	for (int i = 0; i < p.nparams; i++) {
		if (!strcmp(p.key[i], "SIZE")) {
			char *end;
			long long sz = strtoll(p.value[i], &end, 10);
			if (*end || sz < 0) {
				reply(s, "501 5.5.4 Bad SIZE parameter");
				count_error(s);
				return;
			}
			if (sz > s->max_size) {
				reply(s, "552 5.3.4 Message size exceeds fixed limit");
				return;
			}
			s->mail_size = (uint64_t)sz;
		} else if (!strcmp(p.key[i], "BODY")) {
			if (strcasecmp(p.value[i], "8BITMIME") && strcasecmp(p.value[i], "7BIT")) {
				reply(s, "501 5.5.4 Bad BODY parameter");
				count_error(s);
				return;
			}
			s->body_8bit = !strcasecmp(p.value[i], "8BITMIME");
		} else if (strcmp(p.key[i], "RET") && strcmp(p.key[i], "ENVID") && strcmp(p.key[i], "AUTH")) {
			reply(s, "555 5.5.4 Unsupported parameter %s", p.key[i]);
			count_error(s);
			return;
		}
	}
	if (s->authed && s->auth_id > 0) {
		/* Read per transaction (one indexed read, as resolve_gate() at
		 * RCPT), so that a change applies to the next message. */
		send_limits_read(s->srv->rd, s->auth_id, &s->lim);
		if (!s->lim.send_enabled ||
		    !(domain_services_of_addr(s->srv->rd, s->srv->env->rootfd, s->auth_user) & DOMSVC_SMTPOUT)) {
			log_warn("smtp %s: %s may not send (SmtpSendEnable=0 or smtpOut not among its domain's services)",
				 s->peer, s->auth_user);
			reply(s, "550 5.7.1 Sending mail is disabled for %s (smtpOut is not among its services)",
			      s->auth_user);
			return;
		}
		if (send_too_big(s, s->mail_size) || send_over(s, 1, 0, s->mail_size ? (int64_t)s->mail_size : 1))
			return;
	}
	uint64_t size = s->mail_size;
	tx_reset(s);
	s->mail_size = size;
	snprintf(s->env.from, sizeof s->env.from, "%s", p.addr);
	s->in_tx = true;
	reply(s, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct smtp_session *s, const char *arg)
{
	if (!s->in_tx) {
		reply(s, "503 5.5.1 Error: need MAIL command");
		count_error(s);
		return;
	}
	struct smtp_path p;
	int pr = smtp_parse_path(arg, "TO:", false, &p);
	if (pr < 0) {
		if (pr == -2)
			reply(s, "501 5.1.3 Bad recipient address syntax");
		else
			reply(s, "501 5.5.4 Syntax: RCPT TO:<address> [parameters]");
		count_error(s);
		return;
	}
	for (int i = 0; i < p.nparams; i++)
		if (strcmp(p.key[i], "NOTIFY") && strcmp(p.key[i], "ORCPT")) {
			reply(s, "555 5.5.4 Unsupported parameter %s", p.key[i]);
			count_error(s);
			return;
		}
	if (s->env.nrcpt >= s->max_rcpts) {
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	if (send_over(s, 0, s->env.nrcpt + 1, 0))
		return;
	/* A disabled domain (or an alias domain of one) refuses its mail
	 * permanently, as a disabled mailbox does: the sender is told, and
	 * nothing is accepted that could not be delivered. */
	if (resolve_domain_disabled(s->srv->rd, p.addr)) {
		reply(s, "550 5.2.1 <%s>: Mailbox disabled (its domain is disabled)", p.addr);
		count_error(s);
		return;
	}
	struct resolved r;
	enum resolve_kind k = resolve_rcpt(s->srv->rd, p.addr, &r);
	/* An address that is one account (directly or through an alias) is
	 * checked against that account's delivery settings and quota. */
	if (k == RESOLVE_LOCAL && r.nlocal == 1 && r.nremote == 0) {
		struct delivery_gate g;
		resolve_gate(s->srv->rd, r.local[0].id, &g);
		if (!dir_domain_enabled(s->srv->rd, r.local[0].domain)) {
			resolved_free(&r);
			reply(s, "550 5.2.1 <%s>: Mailbox disabled (its domain is disabled)", p.addr);
			count_error(s);
			return;
		}
		if (!g.receive) {
			resolved_free(&r);
			reply(s, "550 5.2.1 <%s>: Mailbox disabled", p.addr);
			count_error(s);
			return;
		}
		/* the account's services AND its domain's (domain_services.h) */
		if (!(domain_services_get(s->srv->env->rootfd, r.local[0].domain) & DOMSVC_SMTPIN)) {
			resolved_free(&r);
			reply(s, "550 5.2.1 <%s>: Mailbox disabled (smtpIn is not among its domain's services)", p.addr);
			count_error(s);
			return;
		}
		if (g.max_bytes > 0 || g.max_count > 0) {
			uint64_t used, n;
			mailstore_usage(s->srv->env->rootfd, r.local[0].domain, r.local[0].dir, &used, &n);
			if (g.max_bytes > 0 && s->mail_size > (uint64_t)g.max_bytes) {
				resolved_free(&r);
				reply(s, "552 5.2.2 <%s>: Message larger than the mailbox quota", p.addr);
				return;
			}
			if (g.max_bytes > 0 && used + s->mail_size >= (uint64_t)g.max_bytes) {
				resolved_free(&r);
				reply(s, "452 4.2.2 <%s>: Mailbox full", p.addr);
				return;
			}
			/* the message-count quota (totalMessageCount, messageCount) */
			if (g.max_count > 0 && n >= (uint64_t)g.max_count) {
				resolved_free(&r);
				reply(s, "452 4.2.2 <%s>: Mailbox full (message count quota)", p.addr);
				return;
			}
		}
	}
	if (k != RESOLVE_UNKNOWN)
		resolved_free(&r);
	switch (k) {
	case RESOLVE_UNKNOWN:
		reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown", p.addr);
		count_error(s);
		return;
	case RESOLVE_LOOP:
		reply(s, "550 5.4.6 <%s>: Alias or list expansion loop", p.addr);
		count_error(s);
		return;
	case RESOLVE_REMOTE:
		if (!is_custom_domain(s, p.addr) && !relay_allowed(s)) {
			reply(s, "550 5.7.1 <%s>: Relay access denied", p.addr);
			count_error(s);
			return;
		}
		break;
	case RESOLVE_LOCAL:
		if (!(domain_services_of_addr(s->srv->rd, s->srv->env->rootfd, p.addr) & DOMSVC_SMTPIN)) {
			reply(s, "550 5.2.1 <%s>: Mailbox disabled (smtpIn is not among its domain's services)", p.addr);
			count_error(s);
			return;
		}
		if (!resolve_list_receives(s->srv->rd, p.addr)) {
			/* as for an unknown recipient: a disabled group receives nothing */
			reply(s, "550 5.1.1 <%s>: Recipient address rejected: User unknown (the group or list is disabled)",
			      p.addr);
			count_error(s);
			return;
		}
		if (!resolve_may_post(s->srv->rd, p.addr, s->env.from, s->auth_user)) {
			reply(s, "550 5.7.2 <%s>: Only members may post to this list", p.addr);
			count_error(s);
			return;
		}
		break;
	}
	envelope_add_rcpt(&s->env, p.addr);
	reply(s, "250 2.1.5 Ok");
}

static void cmd_data(struct smtp_session *s, const char *arg)
{
	if (*arg) {
		reply(s, "501 5.5.4 Syntax: DATA");
		count_error(s);
		return;
	}
	if (!s->in_tx || s->env.nrcpt == 0) {
		reply(s, "503 5.5.1 Error: need RCPT command");
		count_error(s);
		return;
	}
	/* Another session of the account may have used the rest meanwhile. */
	if (send_over(s, 1, s->env.nrcpt, s->mail_size ? (int64_t)s->mail_size : 1)) {
		tx_reset(s);
		return;
	}
	spool_new_id(s->env.id);
	s->env.received = time(NULL);
	snprintf(s->env.peer, sizeof s->env.peer, "%s", s->peer);
	snprintf(s->env.helo, sizeof s->env.helo, "%s", s->helo);
	snprintf(s->env.auth, sizeof s->env.auth, "%s", s->auth_user);
	if (spool_create(s->srv->env->rootfd, &s->sf, &s->env) < 0) {
		log_err("smtp: cannot create a spool file: %s", strerror(errno));
		reply(s, "451 4.3.0 Cannot store the message, try again later");
		return;
	}
	s->sf_open = true;
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
	struct buf h = BUF_INIT;
	buf_printf(&h, "Received: from %s ([%s])\n\tby %s (Tern) with %s%s%s id %s", s->helo, s->peer, s->srv->host,
		   s->esmtp ? "ESMTP" : "SMTP", s->tls ? "S" : "", s->authed ? "A" : "", s->env.id);
	if (s->env.nrcpt == 1)
		buf_printf(&h, "\n\tfor <%s>", s->env.rcpt[0]);
	buf_printf(&h, ";\n\t%s\n", date);
	spool_write(&s->sf, h.data, h.len);
	buf_free(&h);
	smtp_data_init(&s->data, (uint64_t)s->max_size, (size_t)s->max_line);
	s->in_data = true;
	reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

static void finish_data(struct smtp_session *s)
{
	s->in_data = false;
	if (s->data.too_big) {
		reply(s, "552 5.3.4 Message size exceeds fixed limit");
		tx_reset(s);
		return;
	}
	if (s->reject_bare && (s->data.bare_lf || s->data.bare_cr)) {
		log_warn("smtp %s: message with bare %s refused", s->peer, s->data.bare_lf ? "LF" : "CR");
		reply(s, "550 5.6.0 Message contains bare CR or LF line endings");
		tx_reset(s);
		return;
	}
	if (s->data.line_too_long) {
		reply(s, "552 5.3.4 Message line too long");
		tx_reset(s);
		return;
	}
	/* loop protection: our own Received: line counts too */
	long max_hops = settings_get_int(s->srv->rd, "SmtpMaxReceivedHeaders");
	if ((long)s->data.received + 1 > max_hops) {
		log_warn("smtp %s: message from <%s> refused: %u Received: headers (mail loop?)", s->peer, s->env.from,
			 s->data.received + 1);
		reply(s, "554 5.4.6 Too many Received: headers, mail loop detected");
		tx_reset(s);
		return;
	}
	if (s->sf.failed) {
		reply(s, "451 4.3.0 Cannot store the message, try again later");
		tx_reset(s);
		return;
	}
	/* Charged now, in one step with the check; given back if the commit
	 * fails, so only messages answered 250 count. */
	memset(&s->charged, 0, sizeof s->charged);
	if (send_too_big(s, s->data.size)) {
		tx_reset(s);
		return;
	}
	if (s->authed && s->auth_id > 0) {
		int64_t retry = 0;
		enum send_verdict v = send_counters_charge(s->srv->sends, s->auth_id, &s->lim, 1, s->env.nrcpt,
							   (int64_t)s->data.size, &retry, &s->charged);
		if (send_refused(s, v, retry)) {
			tx_reset(s);
			return;
		}
	}
	start_job(s, JOB_COMMIT);
}

static void cmd_starttls(struct smtp_session *s, const char *arg)
{
	if (*arg) {
		reply(s, "501 5.5.4 Syntax: STARTTLS");
		count_error(s);
		return;
	}
	if (!tls_available(s)) {
		reply(s, "454 4.7.0 TLS not available");
		return;
	}
	reply(s, "220 2.0.0 Ready to start TLS");
	/* Whatever the client sent after STARTTLS in plain text is dropped. */
	struct evbuffer *in = bufferevent_get_input(s->bev);
	evbuffer_drain(in, evbuffer_get_length(in));
	struct bufferevent *t = evloop_tls_upgrade(evloop_base(s->srv->lp), s->bev, s->srv->tls);
	if (!t) {
		close_after_flush(s);
		return;
	}
	s->bev = t;
	s->tls = true;
	s->ehlo = false;
	tx_reset(s);
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}


static void auth_plain(struct smtp_session *s, const char *b64)
{
	if (sasl_plain_parse(b64, s->job_user, sizeof s->job_user, s->job_pass, sizeof s->job_pass) < 0) {
		reply(s, "501 5.5.2 Bad AUTH PLAIN response");
		count_error(s);
		return;
	}
	s->job_cram = false;
	start_job(s, JOB_AUTH);
}

static void cmd_auth(struct smtp_session *s, const char *arg)
{
	if (!auth_allowed(s)) {
		reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		count_error(s);
		return;
	}
	if (!s->ehlo) {
		reply(s, "503 5.5.1 Error: send EHLO first");
		count_error(s);
		return;
	}
	if (s->authed) {
		reply(s, "503 5.5.1 Error: already authenticated");
		count_error(s);
		return;
	}
	if (s->in_tx) {
		reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		count_error(s);
		return;
	}
	char mech[32] = "";
	const char *sp = strchr(arg, ' ');
	size_t ml = sp ? (size_t)(sp - arg) : strlen(arg);
	if (ml >= sizeof mech) {
		reply(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	memcpy(mech, arg, ml);
	mech[ml] = '\0';
	const char *initial = sp ? sp + 1 : NULL;
	if (!strcasecmp(mech, "PLAIN")) {
		if (initial && strcmp(initial, "="))
			auth_plain(s, initial);
		else {
			s->auth_step = 3;
			reply(s, "334 ");
		}
	} else if (!strcasecmp(mech, "CRAM-MD5")) {
		if (initial) {
			reply(s, "501 5.5.4 CRAM-MD5 takes no initial response");
			return;
		}
		challenge_make(s->srv->host, s->cram, sizeof s->cram);
		unsigned char enc[256];
		EVP_EncodeBlock(enc, (const unsigned char *)s->cram, (int)strlen(s->cram));
		s->auth_step = 4;
		reply(s, "334 %s", enc);
	} else if (!strcasecmp(mech, "LOGIN")) {
		if (initial) {
			char u[300];
			if (sasl_b64_decode(initial, u, sizeof u) <= 0) {
				reply(s, "501 5.5.2 Bad base64");
				return;
			}
			snprintf(s->login_user, sizeof s->login_user, "%s", u);
			s->auth_step = 2;
			reply(s, "334 UGFzc3dvcmQ6");
		} else {
			s->auth_step = 1;
			reply(s, "334 VXNlcm5hbWU6");
		}
	} else {
		reply(s, "504 5.5.4 Unrecognized authentication type");
		count_error(s);
	}
}

static void auth_continue(struct smtp_session *s, const char *line)
{
	int step = s->auth_step;
	s->auth_step = 0;
	if (!strcmp(line, "*")) {
		reply(s, "501 5.7.0 Authentication aborted");
		return;
	}
	if (step == 3) {
		s->job_cram = false;
		auth_plain(s, line);
		return;
	}
	if (step == 4) {
		char resp[400];
		char *sp = NULL;
		if (sasl_b64_decode(line, resp, sizeof resp) <= 0 || !(sp = strrchr(resp, ' ')) || sp == resp ||
		    (size_t)(sp - resp) >= sizeof s->job_user) {
			reply(s, "501 5.5.2 Bad CRAM-MD5 response");
			count_error(s);
			return;
		}
		*sp = '\0';
		snprintf(s->job_user, sizeof s->job_user, "%.319s", resp);
		snprintf(s->job_pass, sizeof s->job_pass, "%.64s", sp + 1);
		s->job_cram = true;
		start_job(s, JOB_AUTH);
		return;
	}
	s->job_cram = false;
	if (step == 1) {
		char user[sizeof s->login_user];
		if (sasl_b64_decode(line, user, sizeof user) <= 0) {
			reply(s, "501 5.5.2 Bad base64");
			count_error(s);
			return;
		}
		memcpy(s->login_user, user, sizeof user);
		s->auth_step = 2;
		reply(s, "334 UGFzc3dvcmQ6");
		return;
	}
	char pass[sizeof s->job_pass];
	pass[0] = '\0';
	if (*line && sasl_b64_decode(line, pass, sizeof pass) < 0) {
		reply(s, "501 5.5.2 Bad AUTH LOGIN response");
		count_error(s);
		return;
	}
	memcpy(s->job_user, s->login_user, sizeof s->job_user);
	memcpy(s->job_pass, pass, sizeof pass);
	secret_wipe(pass, sizeof pass);
	start_job(s, JOB_AUTH);
}

static void run_line(struct smtp_session *s, char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\0' || (unsigned char)line[i] > 127) {
			reply(s, "500 5.5.2 Invalid characters in command");
			count_error(s);
			return;
		}
	if (s->auth_step) {
		auth_continue(s, line);
		return;
	}
	struct smtp_cmd cmd;
	smtp_parse_command(line, &cmd);
	switch (cmd.verb) {
	case SMTP_EHLO:
		cmd_ehlo(s, cmd.arg, true);
		break;
	case SMTP_HELO:
		cmd_ehlo(s, cmd.arg, false);
		break;
	case SMTP_MAIL:
		cmd_mail(s, cmd.arg);
		break;
	case SMTP_RCPT:
		cmd_rcpt(s, cmd.arg);
		break;
	case SMTP_DATA:
		cmd_data(s, cmd.arg);
		break;
	case SMTP_RSET:
		tx_reset(s);
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_NOOP:
		reply(s, "250 2.0.0 Ok");
		break;
	case SMTP_QUIT:
		reply(s, "221 2.0.0 Bye");
		s->quitting = true;
		close_after_flush(s);
		break;
	case SMTP_VRFY:
		reply(s, "252 2.5.2 Cannot VRFY user, but will accept message and attempt delivery");
		break;
	case SMTP_EXPN:
		reply(s, "502 5.5.1 EXPN not available");
		break;
	case SMTP_HELP:
		reply(s, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT VRFY STARTTLS AUTH ETRN");
		break;
	case SMTP_STARTTLS:
		cmd_starttls(s, cmd.arg);
		break;
	case SMTP_AUTH:
		cmd_auth(s, cmd.arg);
		break;
	case SMTP_ETRN:
		cmd_etrn(s, cmd.arg);
		break;
	case SMTP_BDAT:
	case SMTP_UNKNOWN:
		reply(s, "500 5.5.1 Command unrecognized");
		count_error(s);
		break;
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct smtp_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	while (!s->busy && !s->closing) {
		size_t avail = evbuffer_get_length(in);
		if (avail == 0)
			break;
		if (s->in_data) {
			struct evbuffer_iovec v[4];
			int nv = evbuffer_peek(in, -1, NULL, v, 4);
			size_t used_total = 0;
			buf_reset(&s->out);
			for (int i = 0; i < nv && !s->data.done; i++) {
				size_t used = smtp_data_feed(&s->data, v[i].iov_base, v[i].iov_len, &s->out);
				used_total += used;
			}
			if (s->out.len)
				spool_write(&s->sf, s->out.data, s->out.len);
			evbuffer_drain(in, used_total);
			if (s->data.done)
				finish_data(s);
			continue;
		}
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (avail > SMTP_MAX_CMD) {
				evbuffer_drain(in, avail);
				s->discarding = true;
			}
			break;
		}
		size_t len = (size_t)eol.pos;
		if (s->discarding || len > SMTP_MAX_CMD + 1) {
			evbuffer_drain(in, len + 1);
			s->discarding = false;
			reply(s, "500 5.5.2 Line too long");
			count_error(s);
			continue;
		}
		char line[SMTP_MAX_CMD + 2];
		evbuffer_remove(in, line, len + 1);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		run_line(s, line, len);
	}
}

void smtp_accept(struct evloop *lp, int fd, const struct listener *l, void *arg)
{
	struct smtp_server *srv = arg;
	(void)lp;
	struct smtp_session *s = xcalloc(1, sizeof *s);
	s->srv = srv;
	s->kind = (enum smtp_kind)(l->service - 10);
	listen_peer_text(fd, s->peer, sizeof s->peer);
	struct dir_conn *rd = srv->rd;
	s->max_size = settings_get_int(rd, "MaxMessageSize") * 1024;
	s->max_rcpts = settings_get_int(rd, "SmtpMaxRecipients");
	s->max_line = settings_get_int(rd, "SmtpMaxLineLength");
	s->max_errors = settings_get_int(rd, "SmtpMaxErrors");
	s->max_auth_errors = (int)settings_get_int(rd, "SmtpMaxAuthErrors");
	s->reject_bare = settings_get_int(rd, "SmtpRejectBareLineEnds") != 0;
	long timeout = settings_get_int(rd, "SmtpTimeout");
	struct event_base *base = evloop_base(srv->lp);
	if (l->tls) {
		s->bev = evloop_tls_socket(base, fd, srv->tls);
		s->tls = true;
	} else {
		s->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (!s->bev) {
		close(fd);
		free(s);
		return;
	}
	s->done_ev = event_new(base, -1, 0, done_cb, s);
	s->next = srv->sessions;
	if (srv->sessions)
		srv->sessions->prev = s;
	srv->sessions = s;
	struct peer_count *pc = peer_slot(srv, s->peer, true);
	if (pc)
		pc->n++;
	struct timeval tv = {timeout, 0};
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	if (pc && pc->n > settings_get_int(rd, "SmtpMaxConnsPerIP")) {
		reply(s, "421 4.7.0 %s Too many connections from your address", srv->host);
		close_after_flush(s);
		return;
	}
	/* the access control's deny rules (CONFIG SMTP-Incoming / CONFIG AccessControl; access map smtp):
	 * 554 at the greeting (RFC 5321 3.1) and the connection is closed */
	if (!admin_ipmap_allows(rd, "smtp", s->peer) || !lstacl_allows(rd, "smtp", l->addr, s->peer)) {
		log_warn("smtp %s: connection refused by the SMTP access rules", s->peer);
		reply(s, "554 5.7.1 %s Access denied for your address, closing connection", srv->host);
		close_after_flush(s);
		return;
	}
	/* the access control's connection limits (CONFIG SMTP-Incoming / CONFIG AccessControl) */
	enum connlimit_verdict v = connlimit_admit(rd, "Smtp", "smtp", s->peer, &s->acc);
	if (v == CONNLIMIT_OK) /* and those of the listener it came in by (auth/lstacl.h) */
		v = connlimit_admit_listener(rd, "smtp", l->addr, s->peer, &s->acc);
	if (v != CONNLIMIT_OK) {
		log_warn("smtp %s: connection refused: %s", s->peer, connlimit_text(v));
		reply(s, "421 4.7.0 %s %s, closing connection", srv->host, connlimit_text(v));
		close_after_flush(s);
		return;
	}
	reply(s, "220 %s ESMTP Tern", srv->host);
}

struct smtp_server *smtp_server_new(struct admin_env *env, struct evloop *lp, struct workq *io, struct deliver *dl,
				    SSL_CTX *tls)
{
	struct smtp_server *srv = xcalloc(1, sizeof *srv);
	srv->env = env;
	srv->lp = lp;
	srv->io = io;
	srv->dl = dl;
	srv->tls = tls;
	srv->rd = dir_conn_open(env->dir);
	srv->sends = send_counters_new(SEND_SLOTS);
	settings_get(srv->rd, "SmtpServerDomain", srv->host, sizeof srv->host);
	if (!srv->host[0] && gethostname(srv->host, sizeof srv->host - 1) < 0)
		snprintf(srv->host, sizeof srv->host, "localhost");
	return srv;
}

struct send_counters *smtp_server_sends(struct smtp_server *srv)
{
	return srv->sends;
}

void smtp_server_free(struct smtp_server *srv)
{
	if (!srv)
		return;
	while (srv->sessions)
		session_free(srv->sessions);
	dir_conn_close(srv->rd);
	send_counters_free(srv->sends);
	free(srv);
}
