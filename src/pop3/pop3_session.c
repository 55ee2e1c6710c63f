/*
 * pop3_session - one POP3 connection on the event loop.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
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
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/workq.h"
#include "../core/xmalloc.h"
#include "../smtp/smtp_parse.h"
#include "../store/mailstore.h"
#include "../store/mboxlock.h"
#include "pop3.h"

#define POP3_MAX_LINE 512
#define MAX_MESSAGES 100000

struct pop3_server {
	struct admin_env *env;
	struct evloop *lp;
	struct workq *io;
	SSL_CTX *tls;
	struct dir_conn *rd;
	struct pop3_session *sessions; /* loop thread only */
};

struct msg {
	char *name;    /* file name in cur/ */
	size_t uidl_len;
	uint64_t size; /* octets as sent (CR LF line ends) */
	bool deleted;
};

enum job_kind { JOB_NONE, JOB_LOGIN, JOB_QUIT };

struct pop3_session {
	struct pop3_server *srv;
	struct bufferevent *bev;
	struct event *done_ev;
	char peer[64];
	bool tls, authed, busy, closing, discarding, sasl_wait;
	bool gone; /* the peer closed or the connection failed */
	struct connlimit_ticket acc; /* counted by the access-control limits */
	/* the service's settings (CONFIG POP3), read when the connection arrives */
	int errors, max_errors, auth_errors, max_auth_errors;
	bool login_plain, login_tls;  /* USER/PASS allowed on clear-text / TLS connections */
	bool sasl_plain, sasl_tls;    /* AUTH PLAIN allowed on clear-text / TLS connections */
	struct pop3_session *prev, *next;
	char mailbox[600]; /* "domains/D/U/Maildir" */
	char lockkey[600];
	struct msg *msgs;
	int nmsgs;
	char user[520];
	/* job */
	enum job_kind job;
	int job_rc;
	char job_user[320];
	char job_pass[512];
	bool job_apop;
	char apop_ts[160];
};

static void read_cb(struct bufferevent *bev, void *arg);
static void session_free(struct pop3_session *s);

static void reply(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(struct pop3_session *s, const char *fmt, ...)
{
	struct evbuffer *o = bufferevent_get_output(s->bev);
	va_list ap;
	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
	evbuffer_add(o, "\r\n", 2);
}

/* ---- mailbox locks (shared with renames, store/mboxlock.h) ---- */

static bool lock_mailbox(struct pop3_server *srv, const char *key)
{
	(void)srv;
	return mboxlock_take(key);
}

static void unlock_mailbox(struct pop3_server *srv, const char *key)
{
	(void)srv;
	mboxlock_drop(key);
}

/* ---- Maildir ---- */

static int cmp_msg(const void *a, const void *b)
{
	return strcmp(((const struct msg *)a)->name, ((const struct msg *)b)->name);
}

/* Octets of a file as POP3 sends it: every LF becomes CR LF. */
static int64_t wire_size(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	char b[65536];
	int64_t n = 0;
	ssize_t r;
	while ((r = read(fd, b, sizeof b)) > 0) {
		n += r;
		for (ssize_t i = 0; i < r; i++)
			if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))
				n++;
	}
	close(fd);
	return n;
}

static int scan_maildir(struct pop3_session *s, int rootfd)
{
	int md = openat(rootfd, s->mailbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (md < 0)
		return errno == ENOENT ? 0 : -1; /* no mail yet */
	/* new/ -> cur/ */
	int nfd = openat(md, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (nfd >= 0) {
		/* The usage cache follows the move instead of counting again. */
		struct mailstore_change *ch = mailstore_change_begin(rootfd, s->mailbox);
		DIR *d = fdopendir(nfd);
		struct dirent *de;
		int64_t mbytes = 0, mcount = 0;
		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			char from[600], to[620];
			snprintf(from, sizeof from, "new/%s", de->d_name);
			snprintf(to, sizeof to, "cur/%s:2,", de->d_name);
			struct stat st;
			bool counted = fstatat(md, from, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
			if (renameat(md, from, md, to) == 0 && counted) {
				mbytes += st.st_size;
				mcount++;
			}
		}
		if (d)
			closedir(d);
		if (mcount) {
			fs_fsync_dir_at(md, "cur");
			fs_fsync_dir_at(md, "new");
		}
		mailstore_change_end(ch, -mbytes, -mcount, mbytes, mcount);
	}
	int cfd = openat(md, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cfd < 0) {
		close(md);
		return 0;
	}
	DIR *d = fdopendir(cfd);
	struct dirent *de;
	while (d && (de = readdir(d)) && s->nmsgs < MAX_MESSAGES) {
		if (de->d_name[0] == '.')
			continue;
		int64_t sz = wire_size(dirfd(d), de->d_name);
		if (sz < 0)
			continue;
		s->msgs = xrealloc(s->msgs, (size_t)(s->nmsgs + 1) * sizeof *s->msgs);
		struct msg *m = &s->msgs[s->nmsgs++];
		m->name = xstrdup(de->d_name);
		const char *colon = strchr(m->name, ':');
		m->uidl_len = colon ? (size_t)(colon - m->name) : strlen(m->name);
		if (m->uidl_len > 70)
			m->uidl_len = 70;
		m->size = (uint64_t)sz;
		m->deleted = false;
	}
	if (d)
		closedir(d);
	close(md);
	if (s->nmsgs)
		qsort(s->msgs, (size_t)s->nmsgs, sizeof *s->msgs, cmp_msg);
	return 0;
}

/* ---- jobs ---- */

struct login_update {
	int64_t id;
	const char *ip;
};

static enum tern_err tx_last_login(struct dir_conn *c, void *arg)
{
	struct login_update *u = arg;
	return dir_user_set_login(c, u->id, (int64_t)time(NULL), u->ip);
}

/* PopEnable (XMail): "0" closes POP3 to the account; absent means open.
 * Limits.pop3ConnectionCount (the CLI's account limit): "0" refuses POP3
 * logins too; 1 (or absent) is the one session the maildrop lock allows. */
struct pop_access {
	bool on, sessions;
};

static int pop_enable_var(void *arg, const char *const *f, int n)
{
	struct pop_access *pa = arg;
	if (n >= 2 && !strcmp(f[0], "PopEnable"))
		pa->on = strcmp(f[1], "0") != 0;
	else if (n >= 2 && !strcmp(f[0], "Limits.pop3ConnectionCount"))
		pa->sessions = strcmp(f[1], "0") != 0;
	return 0;
}

static struct pop_access pop_access_of(struct dir_conn *c, int64_t id)
{
	struct pop_access pa = {true, true};
	dir_uservar_list(c, id, pop_enable_var, &pa);
	return pa;
}

static void job_run(void *arg)
{
	struct pop3_session *s = arg;
	struct admin_env *env = s->srv->env;
	if (s->job == JOB_LOGIN) {
		s->job_rc = -1;
		struct dir_conn *c = dir_conn_open(env->dir);
		char local[256], dom[256], real[256], user[640];
		struct dir_user u;
		snprintf(user, sizeof user, "%s", s->job_user);
		if (!strchr(user, '@') && c) {
			char d[256];
			settings_get(c, "POP3Domain", d, sizeof d);
			if (d[0])
				snprintf(user, sizeof user, "%s@%s", s->job_user, d);
		}
		bool ok;
		if (s->job_apop)
			ok = c && challenge_verify(c, user, CHALLENGE_APOP, s->apop_ts, s->job_pass, &u);
		else
			ok = c && smtp_addr_split(user, local, sizeof local, dom, sizeof dom) &&
			     dir_domain_resolve(c, dom, real, sizeof real) && dir_user_get(c, real, local, &u) &&
			     u.type == 'U' && admin_password_matches(c, &u, s->job_pass);
		secret_wipe(s->job_pass, sizeof s->job_pass);
		struct pop_access pa = {true, true};
		if (ok)
			pa = pop_access_of(c, u.id);
		if (!ok) {
			sleep(1);
		} else if (!dir_domain_enabled(c, u.domain)) {
			s->job_rc = -5; /* the account's domain is disabled (data kept) */
			snprintf(s->user, sizeof s->user, "%s@%s", u.name, u.domain);
		} else if (!pa.sessions) {
			s->job_rc = -6; /* pop3ConnectionCount 0 */
			snprintf(s->user, sizeof s->user, "%s@%s", u.name, u.domain);
		} else if (!pa.on || !(domain_services_get(env->rootfd, u.domain) & DOMSVC_POP3)) {
			/* Every login path (USER/PASS, APOP, AUTH PLAIN) comes here;
			 * checked only once the credentials are right. */
			s->job_rc = -4;
			snprintf(s->user, sizeof s->user, "%s@%s", u.name, u.domain);
		} else {
			snprintf(s->mailbox, sizeof s->mailbox, "domains/%s/%s/Maildir", u.domain, u.dir);
			snprintf(s->lockkey, sizeof s->lockkey, "%s/%s", u.domain, u.dir);
			snprintf(s->user, sizeof s->user, "%s@%s", u.name, u.domain);
			/* No rename moves the mailbox between the look-up and
			 * the lock (store/mboxlock.h): one that committed since
			 * the look-up leaves another directory name. */
			struct dir_user now;
			mbox_use_begin();
			if (!lock_mailbox(s->srv, s->lockkey)) {
				s->job_rc = -2;
				s->lockkey[0] = '\0';
			} else if (!dir_user_get(c, u.domain, u.name, &now) || now.id != u.id || strcmp(now.dir, u.dir)) {
				unlock_mailbox(s->srv, s->lockkey); /* renamed meanwhile: as if in use */
				s->job_rc = -2;
				s->lockkey[0] = '\0';
			} else if (scan_maildir(s, env->rootfd) < 0) {
				s->job_rc = -3;
			} else {
				struct login_update up = {u.id, s->peer};
				dir_write(env->dir, tx_last_login, &up);
				s->job_rc = 0;
			}
			mbox_use_end();
		}
		dir_conn_close(c);
	} else if (s->job == JOB_QUIT) {
		s->job_rc = 0;
		int md = openat(env->rootfd, s->mailbox, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int removed = 0;
		int64_t gone_bytes = 0, gone = 0;
		struct mailstore_change *ch = md >= 0 ? mailstore_change_begin(env->rootfd, s->mailbox) : NULL;
		for (int i = 0; md >= 0 && i < s->nmsgs; i++) {
			if (!s->msgs[i].deleted)
				continue;
			char p[600];
			snprintf(p, sizeof p, "cur/%s", s->msgs[i].name);
			struct stat st;
			bool counted = fstatat(md, p, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
			if (unlinkat(md, p, 0) == 0) {
				removed++;
				if (counted) {
					gone_bytes += st.st_size;
					gone++;
				}
			} else if (errno == ENOENT) {
				removed++;
			} else {
				s->job_rc = -1;
			}
		}
		if (md >= 0) {
			if (removed && fs_fsync_dir_at(md, "cur") < 0)
				s->job_rc = -1;
			close(md);
		}
		if (ch)
			mailstore_change_end(ch, 0, 0, -gone_bytes, -gone);
	}
	event_active(s->done_ev, EV_READ, 0);
}

static void start_job(struct pop3_session *s, enum job_kind k)
{
	s->job = k;
	s->busy = true;
	bufferevent_disable(s->bev, EV_READ);
	workq_submit(s->srv->io, job_run, s);
}

/* Free the session now and close its connection once the last reply is
 * out. Only from a callback's top level: nothing may touch s afterwards. */
static void hand_off(struct pop3_session *s)
{
	struct bufferevent *b = s->bev;
	s->bev = NULL;
	evloop_free_when_flushed(s->srv->lp, b);
	session_free(s);
}

/* Ask for the connection to close after the replies already queued. The
 * close itself runs from the completion event, after the current callback
 * (which may still be looping over input) has returned. */
static void close_after_flush(struct pop3_session *s)
{
	if (s->closing)
		return;
	s->closing = true;
	bufferevent_disable(s->bev, EV_READ);
	if (!s->busy)
		event_active(s->done_ev, EV_READ, 0);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct pop3_session *s = arg;
	if (!s->busy) {
		/* no job: a close asked for by close_after_flush() */
		if (s->closing)
			hand_off(s);
		return;
	}
	s->busy = false;
	enum job_kind k = s->job;
	s->job = JOB_NONE;
	if (s->closing) {
		if (s->gone)
			session_free(s);
		else
			hand_off(s);
		return;
	}
	if (k == JOB_LOGIN) {
		if (s->job_rc == 0) {
			s->authed = true;
			log_info("pop3 %s: %s logged in, %d message(s)", s->peer, s->user, s->nmsgs);
			reply(s, "+OK Logged in, %d message(s)", s->nmsgs);
		} else if (s->job_rc == -2) {
			reply(s, "-ERR [IN-USE] Mailbox is locked by another session");
		} else if (s->job_rc == -3) {
			reply(s, "-ERR [SYS/TEMP] Cannot open the mailbox");
		} else if (s->job_rc == -5) {
			log_warn("pop3 %s: login of %s refused, its domain is disabled", s->peer, s->user);
			reply(s, "-ERR [AUTH] The domain of this account is disabled");
		} else if (s->job_rc == -6) {
			log_warn("pop3 %s: login of %s refused, its pop3ConnectionCount limit is 0", s->peer, s->user);
			reply(s, "-ERR [AUTH] No POP3 sessions are allowed for this account (pop3ConnectionCount 0)");
		} else if (s->job_rc == -4) {
			log_warn("pop3 %s: login of %s refused, POP3 is disabled for the account (PopEnable=0 or pop3 "
				 "not among its domain's services)", s->peer, s->user);
			reply(s, "-ERR [AUTH] POP3 access is disabled for this account");
		} else {
			log_warn("pop3 %s: login failed for %s", s->peer, s->job_user);
			reply(s, "-ERR [AUTH] Authentication failed");
			if (++s->auth_errors >= s->max_auth_errors) {
				log_warn("pop3 %s: %d failed logins, closing connection", s->peer, s->auth_errors);
				reply(s, "-ERR [AUTH] Too many failed logins, closing connection");
				close_after_flush(s);
				return;
			}
		}
	} else if (k == JOB_QUIT) {
		if (s->job_rc == 0)
			reply(s, "+OK Bye");
		else
			reply(s, "-ERR [SYS/TEMP] Some deleted messages could not be removed");
		close_after_flush(s);
		return;
	}
	bufferevent_enable(s->bev, EV_READ);
	read_cb(s->bev, s);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct pop3_session *s = arg;
	if (what & BEV_EVENT_TIMEOUT) {
		reply(s, "-ERR Timeout, closing connection");
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

static void session_free(struct pop3_session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		s->srv->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->lockkey[0])
		unlock_mailbox(s->srv, s->lockkey);
	for (int i = 0; i < s->nmsgs; i++)
		free(s->msgs[i].name);
	free(s->msgs);
	if (s->bev)
		bufferevent_free(s->bev);
	if (s->done_ev)
		event_free(s->done_ev);
	connlimit_release(&s->acc);
	secret_wipe(s->job_pass, sizeof s->job_pass);
	free(s);
}

/* ---- commands ---- */

static struct msg *msg_arg(struct pop3_session *s, const char *arg)
{
	char *end;
	long n = strtol(arg, &end, 10);
	if (!*arg || (*end && *end != ' ') || n < 1 || n > s->nmsgs || s->msgs[n - 1].deleted)
		return NULL;
	return &s->msgs[n - 1];
}

/* Send a message (or its headers and first lines), CR LF, dot-stuffed. */
static void send_message(struct pop3_session *s, struct msg *m, long body_lines)
{
	char p[800];
	snprintf(p, sizeof p, "%s/cur/%s", s->mailbox, m->name);
	int fd = openat(s->srv->env->rootfd, p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		reply(s, "-ERR [SYS/TEMP] Message no longer available");
		return;
	}
	reply(s, "+OK %llu octets", (unsigned long long)m->size);
	struct evbuffer *o = bufferevent_get_output(s->bev);
	char in[65536];
	struct buf out = BUF_INIT;
	bool bol = true, in_body = false, prev_lf = false;
	long lines = 0;
	ssize_t r;
	bool stop = false;
	while (!stop && (r = read(fd, in, sizeof in)) > 0) {
		for (ssize_t i = 0; i < r && !stop; i++) {
			char c = in[i];
			if (bol && c == '.')
				buf_putc(&out, '.');
			if (c == '\n') {
				if (out.len == 0 || out.data[out.len - 1] != '\r')
					buf_putc(&out, '\r');
				buf_putc(&out, '\n');
				if (in_body)
					lines++;
				if (!in_body && prev_lf)
					in_body = true;
				prev_lf = true;
				bol = true;
				if (body_lines >= 0 && in_body && lines >= body_lines)
					stop = true;
				continue;
			}
			if (c != '\r')
				prev_lf = false;
			bol = false;
			buf_putc(&out, c);
		}
		evbuffer_add(o, out.data, out.len);
		buf_reset(&out);
	}
	close(fd);
	if (!bol)
		evbuffer_add(o, "\r\n", 2);
	evbuffer_add(o, ".\r\n", 3);
	buf_free(&out);
}


static bool tls_available(struct pop3_session *s)
{
	return s->srv->tls && !s->tls && settings_get_int(s->srv->rd, "EnablePOP3-TLS");
}

static bool login_allowed(const struct pop3_session *s)
{
	return s->tls ? s->login_tls : s->login_plain;
}

static bool sasl_plain_allowed(const struct pop3_session *s)
{
	return s->tls ? s->sasl_tls : s->sasl_plain;
}

static void cmd_capa(struct pop3_session *s)
{
	struct evbuffer *o = bufferevent_get_output(s->bev);
	evbuffer_add_printf(o, "+OK Capability list follows\r\n%sUIDL\r\nTOP\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\n"
			       "PIPELINING\r\n%s", login_allowed(s) ? "USER\r\n" : "",
			    sasl_plain_allowed(s) ? "SASL PLAIN\r\n" : "");
	if (tls_available(s) && !s->authed)
		evbuffer_add_printf(o, "STLS\r\n");
	evbuffer_add_printf(o, "IMPLEMENTATION Tern\r\n.\r\n");
}

static void auth_plain(struct pop3_session *s, const char *b64)
{
	if (sasl_plain_parse(b64, s->job_user, sizeof s->job_user, s->job_pass, sizeof s->job_pass) < 0) {
		reply(s, "-ERR Bad AUTH PLAIN response");
		return;
	}
	s->job_apop = false;
	start_job(s, JOB_LOGIN);
}

/* A bad command: its -ERR, and the connection closed once maxErrors
 * (Pop3MaxErrors, 0 = no limit) is reached. */
static void bad_command(struct pop3_session *s, const char *text)
{
	reply(s, "-ERR %s", text);
	if (s->max_errors > 0 && ++s->errors >= s->max_errors) {
		log_warn("pop3 %s: too many bad commands (%d), closing connection", s->peer, s->errors);
		reply(s, "-ERR Too many errors, closing connection");
		close_after_flush(s);
	}
}

static void run_line(struct pop3_session *s, char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] == '\0' || (unsigned char)line[i] > 127) {
			bad_command(s, "Invalid characters in command");
			return;
		}
	char *sp = strchr(line, ' ');
	const char *arg = "";
	if (sp) {
		*sp = '\0';
		arg = sp + 1;
	}
	const char *v = line;
	if (!strcasecmp(v, "CAPA")) {
		cmd_capa(s);
	} else if (!strcasecmp(v, "QUIT")) {
		if (s->authed) {
			start_job(s, JOB_QUIT);
		} else {
			reply(s, "+OK Bye");
			close_after_flush(s);
		}
	} else if (!strcasecmp(v, "NOOP")) {
		reply(s, s->authed ? "+OK" : "-ERR Not logged in");
	} else if (!s->authed) {
		if ((!strcasecmp(v, "USER") || !strcasecmp(v, "PASS")) && !login_allowed(s)) {
			secret_wipe(line, len);
			bad_command(s, s->tls ? "[AUTH] USER/PASS is not allowed on this server"
					      : "[AUTH] USER/PASS is not allowed on a clear-text connection (use STLS)");
		} else if (!strcasecmp(v, "USER")) {
			if (!*arg || strlen(arg) >= sizeof s->job_user) {
				bad_command(s, "Bad user name");
				return;
			}
			snprintf(s->job_user, sizeof s->job_user, "%s", arg);
			reply(s, "+OK Send your password");
		} else if (!strcasecmp(v, "PASS")) {
			if (!s->job_user[0]) {
				bad_command(s, "USER first");
				return;
			}
			if (strlen(arg) >= sizeof s->job_pass) {
				reply(s, "-ERR [AUTH] Authentication failed");
				return;
			}
			snprintf(s->job_pass, sizeof s->job_pass, "%s", arg);
			secret_wipe(line, len);
			s->job_apop = false;
			start_job(s, JOB_LOGIN);
		} else if (!strcasecmp(v, "AUTH")) {
			if (strncasecmp(arg, "PLAIN", 5) || (arg[5] && arg[5] != ' ')) {
				bad_command(s, "Unsupported authentication mechanism");
				return;
			}
			if (!sasl_plain_allowed(s)) {
				bad_command(s, s->tls ? "[AUTH] AUTH PLAIN is not allowed on this server"
						      : "[AUTH] AUTH PLAIN is not allowed on a clear-text connection (use STLS)");
				return;
			}
			if (arg[5] == ' ')
				auth_plain(s, arg + 6);
			else {
				reply(s, "+ ");
				s->sasl_wait = true; /* the next line is the response */
			}
		} else if (!strcasecmp(v, "STLS")) {
			if (!tls_available(s)) {
				reply(s, "-ERR TLS not available");
				return;
			}
			reply(s, "+OK Begin TLS negotiation");
			struct evbuffer *in = bufferevent_get_input(s->bev);
			evbuffer_drain(in, evbuffer_get_length(in));
			struct bufferevent *t = evloop_tls_upgrade(evloop_base(s->srv->lp), s->bev, s->srv->tls);
			if (!t) {
				close_after_flush(s);
				return;
			}
			s->bev = t;
			s->tls = true;
			bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
			bufferevent_enable(s->bev, EV_READ | EV_WRITE);
		} else if (!strcasecmp(v, "APOP")) {
			const char *sp2 = strrchr(arg, ' ');
			if (!sp2 || sp2 == arg || (size_t)(sp2 - arg) >= sizeof s->job_user || strlen(sp2 + 1) != 32) {
				bad_command(s, "Syntax: APOP user digest");
				return;
			}
			snprintf(s->job_user, sizeof s->job_user, "%.*s", (int)(sp2 - arg), arg);
			snprintf(s->job_pass, sizeof s->job_pass, "%s", sp2 + 1);
			s->job_apop = true;
			start_job(s, JOB_LOGIN);
		} else {
			bad_command(s, "Unknown command or not logged in");
		}
	} else if (!strcasecmp(v, "STAT")) {
		uint64_t n = 0, sz = 0;
		for (int i = 0; i < s->nmsgs; i++)
			if (!s->msgs[i].deleted) {
				n++;
				sz += s->msgs[i].size;
			}
		reply(s, "+OK %llu %llu", (unsigned long long)n, (unsigned long long)sz);
	} else if (!strcasecmp(v, "LIST") || !strcasecmp(v, "UIDL")) {
		bool uidl = !strcasecmp(v, "UIDL");
		if (*arg) {
			struct msg *m = msg_arg(s, arg);
			if (!m)
				reply(s, "-ERR No such message");
			else if (uidl)
				reply(s, "+OK %ld %.*s", (long)(m - s->msgs) + 1, (int)m->uidl_len, m->name);
			else
				reply(s, "+OK %ld %llu", (long)(m - s->msgs) + 1, (unsigned long long)m->size);
			return;
		}
		struct evbuffer *o = bufferevent_get_output(s->bev);
		evbuffer_add_printf(o, "+OK\r\n");
		for (int i = 0; i < s->nmsgs; i++) {
			if (s->msgs[i].deleted)
				continue;
			if (uidl)
				evbuffer_add_printf(o, "%d %.*s\r\n", i + 1, (int)s->msgs[i].uidl_len, s->msgs[i].name);
			else
				evbuffer_add_printf(o, "%d %llu\r\n", i + 1, (unsigned long long)s->msgs[i].size);
		}
		evbuffer_add(o, ".\r\n", 3);
	} else if (!strcasecmp(v, "RETR")) {
		struct msg *m = msg_arg(s, arg);
		if (!m)
			reply(s, "-ERR No such message");
		else
			send_message(s, m, -1);
	} else if (!strcasecmp(v, "TOP")) {
		struct msg *m = msg_arg(s, arg);
		const char *k = strchr(arg, ' ');
		char *end;
		long lines = k ? strtol(k + 1, &end, 10) : -1;
		if (!m || !k || *end || lines < 0)
			bad_command(s, "Syntax: TOP msg lines");
		else
			send_message(s, m, lines);
	} else if (!strcasecmp(v, "DELE")) {
		struct msg *m = msg_arg(s, arg);
		if (!m) {
			reply(s, "-ERR No such message");
		} else {
			m->deleted = true;
			reply(s, "+OK Marked for deletion");
		}
	} else if (!strcasecmp(v, "RSET")) {
		for (int i = 0; i < s->nmsgs; i++)
			s->msgs[i].deleted = false;
		reply(s, "+OK");
	} else {
		bad_command(s, "Unknown command");
	}
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct pop3_session *s = arg;
	struct evbuffer *in = bufferevent_get_input(s->bev);
	while (!s->busy && !s->closing) {
		size_t avail = evbuffer_get_length(in);
		if (!avail)
			break;
		struct evbuffer_ptr eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			if (avail > POP3_MAX_LINE) {
				evbuffer_drain(in, avail);
				s->discarding = true;
			}
			break;
		}
		size_t len = (size_t)eol.pos;
		if (s->discarding || len > POP3_MAX_LINE) {
			evbuffer_drain(in, len + 1);
			s->discarding = false;
			reply(s, "-ERR Line too long");
			continue;
		}
		char line[POP3_MAX_LINE + 2];
		evbuffer_remove(in, line, len + 1);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (s->sasl_wait) {
			s->sasl_wait = false;
			if (!strcmp(line, "*"))
				reply(s, "-ERR Authentication aborted");
			else
				auth_plain(s, line);
			continue;
		}
		run_line(s, line, len);
	}
}

void pop3_accept(struct evloop *lp, int fd, const struct listener *l, void *arg)
{
	(void)lp;
	struct pop3_server *srv = arg;
	struct pop3_session *s = xcalloc(1, sizeof *s);
	s->srv = srv;
	listen_peer_text(fd, s->peer, sizeof s->peer);
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
	struct timeval tv = {settings_get_int(srv->rd, "Pop3Timeout"), 0};
	bufferevent_set_timeouts(s->bev, &tv, &tv);
	bufferevent_setcb(s->bev, read_cb, NULL, event_cb, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	/* the access control (CONFIG POP3 / CONFIG AccessControl): its rules (no rule = everybody) */
	if (!admin_ipmap_allows(srv->rd, "pop3", s->peer) || !lstacl_allows(srv->rd, "pop3", l->addr, s->peer)) {
		log_warn("pop3 %s: connection refused by the POP3 access rules", s->peer);
		reply(s, "-ERR Access denied for your address, closing connection");
		close_after_flush(s);
		return;
	}
	/* and its connection limits */
	enum connlimit_verdict v = connlimit_admit(srv->rd, "Pop3", "pop3", s->peer, &s->acc);
	if (v == CONNLIMIT_OK) /* and those of the listener it came in by (auth/lstacl.h) */
		v = connlimit_admit_listener(srv->rd, "pop3", l->addr, s->peer, &s->acc);
	if (v != CONNLIMIT_OK) {
		log_warn("pop3 %s: connection refused: %s", s->peer, connlimit_text(v));
		reply(s, "-ERR %s, closing connection", connlimit_text(v));
		close_after_flush(s);
		return;
	}
	s->max_errors = (int)settings_get_int(srv->rd, "Pop3MaxErrors");
	s->max_auth_errors = (int)settings_get_int(srv->rd, "Pop3MaxAuthErrors");
	s->login_plain = settings_get_int(srv->rd, "Pop3PlainAllowLogin") != 0;
	s->login_tls = settings_get_int(srv->rd, "Pop3TlsAllowLogin") != 0;
	char types[200];
	settings_get(srv->rd, "Pop3PlainAuthTypes", types, sizeof types);
	s->sasl_plain = strcasestr(types, "plain") != NULL;
	settings_get(srv->rd, "Pop3TlsAuthTypes", types, sizeof types);
	s->sasl_tls = strcasestr(types, "plain") != NULL;
	char host[128] = "localhost", banner[256];
	gethostname(host, sizeof host - 1);
	challenge_make(host, s->apop_ts, sizeof s->apop_ts);
	settings_get(srv->rd, "Pop3Banner", banner, sizeof banner);
	reply(s, "+OK %s %s", banner[0] ? banner : "Tern POP3 server ready", s->apop_ts);
}

struct pop3_server *pop3_server_new(struct admin_env *env, struct evloop *lp, struct workq *io, SSL_CTX *tls)
{
	struct pop3_server *srv = xcalloc(1, sizeof *srv);
	srv->env = env;
	srv->lp = lp;
	srv->io = io;
	srv->tls = tls;
	srv->rd = dir_conn_open(env->dir);
	return srv;
}

void pop3_server_free(struct pop3_server *srv)
{
	if (!srv)
		return;
	while (srv->sessions)
		session_free(srv->sessions);
	dir_conn_close(srv->rd);
	free(srv);
}
