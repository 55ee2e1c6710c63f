/*
 * cli_session - one CLI connection: banner, login context, the context
 * stack, limits, logging, and the reply framing of spec 6.1 (data lines,
 * one status line, the prompt; one write per reply).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin_cli.h"
#include "../admin/settings.h"
#include "../auth/connlimit.h"
#include "../auth/lstacl.h"
#include "../auth/ratelimit.h"
#include "../core/listen.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/xmalloc.h"
#include "cli.h"
#include "cli_ctx.h"

/* ---- pending-edit lists ---- */

void cli_kv_set(struct cli_kvlist *l, const char *k, const char *v)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].k, k)) {
			if (l->e[i].v)
				secret_wipe(l->e[i].v, strlen(l->e[i].v)); /* may be a password */
			free(l->e[i].v);
			l->e[i].v = v ? xstrdup(v) : NULL;
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->e = xrealloc(l->e, (size_t)l->cap * sizeof *l->e);
	}
	l->e[l->n].k = xstrdup(k);
	l->e[l->n].v = v ? xstrdup(v) : NULL;
	l->n++;
}

void cli_ctx_ext_load(struct cli_session *s, struct cli_frame *f)
{
	const struct cli_ctx_ext *ext = cli_ctx_ext_of(f->ctx);
	if (ext && ext->load)
		ext->load(s, f);
}

void cli_kv_drop(struct cli_kvlist *l, const char *k)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].k, k)) {
			if (l->e[i].v)
				secret_wipe(l->e[i].v, strlen(l->e[i].v));
			free(l->e[i].v);
			free(l->e[i].k);
			memmove(&l->e[i], &l->e[i + 1], (size_t)(l->n - i - 1) * sizeof *l->e);
			l->n--;
			return;
		}
}

const struct cli_kv *cli_kv_find(const struct cli_kvlist *l, const char *k)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].k, k))
			return &l->e[i];
	return NULL;
}

void cli_kv_free(struct cli_kvlist *l)
{
	for (int i = 0; i < l->n; i++) {
		if (l->e[i].v)
			secret_wipe(l->e[i].v, strlen(l->e[i].v)); /* may be a password */
		free(l->e[i].k);
		free(l->e[i].v);
	}
	free(l->e);
	memset(l, 0, sizeof *l);
}

bool cli_str_has(const struct cli_strlist *l, const char *v)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], v))
			return true;
	return false;
}

void cli_str_add(struct cli_strlist *l, const char *v)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = xrealloc(l->v, (size_t)l->cap * sizeof *l->v);
	}
	l->v[l->n++] = xstrdup(v);
}

bool cli_str_remove(struct cli_strlist *l, const char *v)
{
	for (int i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], v)) {
			free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (size_t)(l->n - i - 1) * sizeof *l->v);
			l->n--;
			return true;
		}
	return false;
}

void cli_str_free(struct cli_strlist *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- frames ---- */

void cli_frame_clear(struct cli_frame *f)
{
	cli_kv_free(&f->edits);
	cli_kv_free(&f->base);
	cli_str_free(&f->alias_add);
	cli_str_free(&f->alias_del);
	memset(f, 0, sizeof *f);
}

struct cli_frame *cli_cur(struct cli_session *s)
{
	return &s->f[s->depth];
}

struct cli_frame *cli_push(struct cli_session *s, enum cli_ctx ctx)
{
	if (s->depth + 1 >= CLI_MAX_DEPTH) {
		cli_err(s, "Contexts nested too deeply");
		return NULL;
	}
	struct cli_frame *f = &s->f[++s->depth];
	memset(f, 0, sizeof *f);
	f->ctx = ctx;
	return f;
}

void cli_pop(struct cli_session *s)
{
	if (s->depth == 0)
		return;
	cli_frame_clear(&s->f[s->depth]);
	s->depth--;
}

/* ---- replies ---- */

/* A value cut short by a bounded buffer (here or in the handler that
 * built the text) may end inside a UTF-8 sequence: replace every byte
 * that does not start a complete sequence by '?', so that replies stay
 * UTF-8 (spec 2.3; the input lines were checked to be UTF-8). */
static void utf8_mend(char *t)
{
	for (unsigned char *p = (unsigned char *)t; *p;) {
		size_t want = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
		size_t k = 1;
		while (k < want && (p[k] & 0xC0) == 0x80)
			k++;
		if (want == 0 || k < want) {
			*p++ = '?';
			continue;
		}
		p += want;
	}
}

void cli_ok(struct cli_session *s)
{
	cli_ok_text(s, "command successful");
}

void cli_ok_text(struct cli_session *s, const char *text)
{
	snprintf(s->status, sizeof s->status, "+OK: %s", text);
	utf8_mend(s->status);
	s->status_err = false;
}

void cli_err(struct cli_session *s, const char *fmt, ...)
{
	char text[sizeof s->status - 8];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	utf8_mend(text);
	snprintf(s->status, sizeof s->status, "-ERR: %s", text);
	s->status_err = true;
}

static void put_prompt(struct cli_session *s)
{
	if (s->f[0].ctx == CLI_CTX_LOGIN) {
		conn_puts(&s->c, s->awaiting_password ? "<password> " : "<login> ");
		return;
	}
	char p[256];
	size_t off = 0;
	p[off++] = '<';
	for (int i = 1; i <= s->depth; i++) {
		const char *el = cli_ctx_def(s->f[i].ctx)->element;
		int w = snprintf(p + off, sizeof p - off, "%s%s", i > 1 ? "-" : "", el);
		if (w < 0 || (size_t)w >= sizeof p - off)
			break;
		off += (size_t)w;
	}
	snprintf(p + off, sizeof p - off, "#> ");
	conn_puts(&s->c, p);
}

/* The status line and the prompt end every reply. */
static void finish_reply(struct cli_session *s)
{
	if (s->status[0]) {
		conn_puts(&s->c, s->status);
		conn_puts(&s->c, "\r\n");
	}
	if (!s->no_prompt)
		put_prompt(s);
}

/* ---- logging ---- */

static void log_change(struct cli_session *s, const struct cli_tokens *t, const struct cli_parsed *p)
{
	char line[1024];
	size_t off = 0;
	for (int i = 0; i < t->n && off + 1 < sizeof line; i++) {
		const char *v = p->secret[i] ? "***" : t->v[i];
		bool q = t->lit[i] && !p->secret[i];
		int w = snprintf(line + off, sizeof line - off, "%s%s%s%s", i ? " " : "", q ? "\"" : "", v, q ? "\"" : "");
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off >= sizeof line)
		off = sizeof line - 1;
	line[off] = '\0';
	log_info("cli: admin=%s peer=%s: %s -> %s%s%s", s->admin, s->c.peer, line, s->status,
		 s->log_detail[0] ? "; " : "", s->log_detail);
}

/* ---- input ---- */

/* Read the next line (telnet-decoded) into s->rd.line. */
static enum conn_status read_line(struct cli_session *s, enum cli_read *kind_r)
{
	for (;;) {
		if (s->c.in.len) {
			size_t used = 0;
			enum cli_read r =
				cli_reader_feed(&s->rd, (const unsigned char *)s->c.in.data, s->c.in.len, &used);
			buf_consume(&s->c.in, used);
			if (r != CLI_READ_MORE) {
				*kind_r = r;
				return CONN_OK;
			}
		}
		enum conn_status st = conn_read_more(&s->c);
		if (st != CONN_OK)
			return st;
	}
}

/* Is another complete line already buffered? (Then its reply goes out in
 * the same write as this one.) A LF or NUL that only completes the CR
 * ending the previous line does not count. */
static bool line_pending(struct cli_session *s)
{
	const char *p = s->c.in.data;
	size_t n = s->c.in.len;
	if (n && s->rd.skip_lf && (p[0] == '\n' || p[0] == '\0')) {
		p++;
		n--;
	}
	return n && (memchr(p, '\n', n) || memchr(p, '\r', n));
}

/* ---- commands ---- */

/* The table says where each command leads (cli_export and the tern tool
 * rely on it); a handler that moved elsewhere is a bug worth a log line. */
static void check_move(struct cli_session *s, const struct cli_cmd *cmd, int depth0)
{
	enum cli_go g = cli_cmd_go(cmd);
	enum cli_ctx now = cli_cur(s)->ctx;
	bool ok;
	switch (g) {
	case CLI_GO_ENTER:
		ok = s->depth == depth0 + 1 && now == cli_cmd_to(cmd);
		break;
	case CLI_GO_SWITCH:
		ok = s->depth == depth0 && now == cli_cmd_to(cmd);
		break;
	case CLI_GO_COMMIT:
	case CLI_GO_DONE:
	case CLI_GO_BACK:
		ok = s->depth == depth0 - 1;
		break;
	case CLI_GO_QUIT:
		ok = s->quit;
		break;
	default:
		ok = s->depth == depth0;
		break;
	}
	if (!ok)
		log_err("cli: command table mismatch: '%s' moved to depth %d (from %d), context %d", cmd->words,
			s->depth, depth0, (int)now);
}

static void run_line(struct cli_session *s, char *line, size_t len)
{
	switch (cli_line_check(line, len)) {
	case CLI_LINE_OK:
		break;
	case CLI_LINE_NUL:
		cli_err(s, "Invalid characters in the command line (NUL byte)");
		return;
	case CLI_LINE_CONTROL:
		cli_err(s, "Invalid characters in the command line (control character)");
		return;
	case CLI_LINE_UTF8:
		cli_err(s, "Invalid characters in the command line (not UTF-8)");
		return;
	}
	struct cli_tokens t;
	switch (cli_tokenize(line, &t)) {
	case CLI_TOK_OK:
		break;
	case CLI_TOK_QUOTE:
		cli_err(s, "Invalid parameters (unbalanced quotes)");
		return;
	case CLI_TOK_ESCAPE:
		cli_err(s, "Invalid parameters (backslash at the end of the line)");
		return;
	case CLI_TOK_MANY:
		cli_err(s, "Invalid parameters (more than %d words)", CLI_MAX_ARGS);
		return;
	}
	if (t.n == 0)
		return; /* an empty line gets the prompt again */
	enum cli_ctx cx = cli_cur(s)->ctx;
	int nw = 0;
	enum cli_match why;
	const struct cli_cmd *cmd = cli_match(cx, &t, &nw, &why);
	if (!cmd) {
		if (why == CLI_MATCH_ELSEWHERE)
			cli_err(s, cx == CLI_CTX_LOGIN ? "You must login first" : "Unknown command in this context");
		else
			cli_err(s, "Unknown command");
		return;
	}
	struct cli_parsed p;
	if (cmd->flags & CLI_LATER) {
		/* Whatever the arguments: say that the command is not there yet. */
		memset(&p, 0, sizeof p);
		p.cmd = cmd;
		p.t = &t;
		cmd->fn(s, &p);
		return;
	}
	switch (cli_args_parse(cmd, &t, nw, &p)) {
	case CLI_ARGS_OK:
		break;
	case CLI_ARGS_MISSING:
		cli_err(s, "Invalid parameters (missing argument)");
		return;
	case CLI_ARGS_EXTRA:
		cli_err(s, "Invalid parameters (unexpected argument)");
		return;
	case CLI_ARGS_NOVALUE:
		cli_err(s, "Invalid parameters (a keyword without its value)");
		return;
	}
	s->log_detail[0] = '\0';
	/* The AACL: the one permission check of the CLI (cli_perms.c). */
	if (!cli_perm_allows(s, cmd, &p)) {
		cli_err(s, "Permission denied");
		return;
	}
	int depth0 = s->depth;
	const struct cli_ctx_ext *ext = cli_ctx_ext_of(cx);
	struct cli_kvlist held = {0}; /* the extension's edits, stored after the context's own */
	char object[256] = "";
	if (ext && ext->commit && cli_cmd_go(cmd) == CLI_GO_COMMIT) {
		struct cli_frame *f = cli_cur(s);
		snprintf(object, sizeof object, "%s", f->domain[0] ? f->domain : f->name);
		for (int i = 0; i < ext->nattrs; i++) {
			const struct cli_kv *kv = ext->attrs[i].key ? cli_kv_find(&f->edits, ext->attrs[i].key) : NULL;
			if (kv) {
				cli_kv_set(&held, kv->k, kv->v);
				cli_kv_drop(&f->edits, ext->attrs[i].key);
			}
		}
	}
	cmd->fn(s, &p);
	if (held.n && s->status_err) {
		for (int i = 0; i < held.n; i++) /* not committed: pending again */
			cli_kv_set(&cli_cur(s)->edits, held.e[i].k, held.e[i].v);
	} else if (held.n) {
		ext->commit(s, object, &held);
	}
	cli_kv_free(&held);
	if (!s->status_err)
		check_move(s, cmd, depth0);

	if (cmd->flags & CLI_CHANGES)
		log_change(s, &t, &p);
}

static bool is_loopback(const char *peer)
{
	return !strncmp(peer, "127.", 4) || !strcmp(peer, "::1");
}

/* The line after USER is the password, taken whole. */
static void check_password(struct cli_session *s, struct buf *line)
{
	s->awaiting_password = false;
	bool ok = false;
	const char *why = "wrong account or password";
	const char *pw = line->data ? line->data : "";
	if (!s->tls_active && !is_loopback(s->c.peer) && settings_get_int(s->ctx.rd, "CliAllowCleartextLogin") == 0)
		why = "clear-text login from a remote address without TLS";
	else if (strlen(pw) != line->len || !admin_value_ok(pw))
		why = "bad characters in the password";
	else if (admin_cli_login(&s->ctx, s->user, pw) == TERN_OK)
		ok = true;
	if (line->data)
		secret_wipe(line->data, line->len);
	if (ok) {
		snprintf(s->admin, sizeof s->admin, "%s", s->user);
		rl_success("cli", s->c.peer);
		log_info("cli: admin=%s peer=%s: logged in%s", s->admin, s->c.peer, s->tls_active ? " (TLS)" : "");
		s->f[0].ctx = CLI_CTX_ROOT;
		cli_ok_text(s, "Authentication successful");
		return;
	}
	int fails = rl_fail("cli", s->c.peer, (int)settings_get_int(s->ctx.rd, "CliMaxLoginFailures"),
			    (int)settings_get_int(s->ctx.rd, "CliLoginBlockTime"));
	s->auth_errors++;
	log_warn("cli: peer=%s account=%s: login failed (%s), failure %d", s->c.peer, s->user, why, fails);
	long delay = settings_get_int(s->ctx.rd, "CliLoginFailDelay");
	if (delay > 0) {
		struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (strcmp(why, "clear-text login from a remote address without TLS") == 0)
		cli_err(s, "Authentication failed (clear-text login from a remote address is disabled; use TLS)");
	else
		cli_err(s, "Authentication failed");
	long max = settings_get_int(s->ctx.rd, "CliMaxAuthErrors");
	if ((max > 0 && s->auth_errors >= max) || rl_blocked("cli", s->c.peer)) {
		conn_printf(&s->c, "%s\r\n", s->status);
		cli_err(s, "Too many failed logins, closing connection");
		s->no_prompt = true;
		s->quit = true;
	}
}

static void greet(struct cli_session *s)
{
	char banner[512];
	settings_get(s->ctx.rd, "CliBanner", banner, sizeof banner);
	if (banner[0])
		conn_printf(&s->c, "%s\r\n", banner);
	else
		conn_printf(&s->c, "Welcome to Tern's Command Line Interface (Tern %s)\r\n", s->srv->version);
	conn_puts(&s->c, "You must login first.\r\n<login> ");
}

static void serve(struct cli_session *s)
{
	long max_auth_cmds = settings_get_int(s->ctx.rd, "CliMaxAuthCommands");
	s->max_errors = (int)settings_get_int(s->ctx.rd, "CliMaxErrors");
	while (!s->quit && !s->c.failed) {
		enum cli_read kind = CLI_READ_LINE;
		enum conn_status st = read_line(s, &kind);
		if (st == CONN_TIMEOUT) {
			conn_puts(&s->c, "-ERR: Idle timeout, closing connection\r\n");
			log_info("cli: admin=%s peer=%s: idle timeout", s->admin, s->c.peer);
			break;
		}
		if (st != CONN_OK)
			break;
		s->status[0] = '\0';
		s->status_err = false;
		s->no_prompt = false;
		bool login = s->f[0].ctx == CLI_CTX_LOGIN;
		if (s->ml.active) {
			cli_multiline_feed(s, kind, s->rd.line.data ? s->rd.line.data : "", s->rd.line.len);
		} else if (kind == CLI_READ_TOO_LONG) {
			if (s->awaiting_password)
				s->awaiting_password = false;
			cli_err(s, "Command line too long (at most %d bytes)", CLI_MAX_LINE);
		} else if (login && s->awaiting_password) {
			check_password(s, &s->rd.line);
		} else {
			if (login && s->rd.line.len && max_auth_cmds > 0 && ++s->auth_commands > max_auth_cmds) {
				conn_puts(&s->c, "-ERR: Too many commands before login, closing connection\r\n");
				break;
			}
			run_line(s, s->rd.line.data, s->rd.line.len);
		}
		finish_reply(s);
		if (s->status_err && !login && s->max_errors > 0 && ++s->errors >= s->max_errors) {
			conn_puts(&s->c, "-ERR: Too many errors, closing connection\r\n");
			log_info("cli: admin=%s peer=%s: too many errors, closing", s->admin, s->c.peer);
			break;
		}
		if (!line_pending(s) || s->c.out.len > 32768)
			conn_flush(&s->c);
	}
}

void cli_session_run(struct cli_server *srv, int fd, bool implicit_tls, const char *laddr)
{
	struct cli_session *s = calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		return;
	}
	s->srv = srv;
	struct connlimit_ticket acc = {0};
	struct dir_conn *rd = dir_conn_open(srv->env->dir);
	conn_init(&s->c, fd, 300);
	snprintf(s->admin, sizeof s->admin, "-");
	s->ctx = (struct admin_ctx){.env = srv->env, .rd = rd, .admin = s->admin, .peer = s->c.peer, .via = "cli"};
	cli_reader_init(&s->rd, CLI_MAX_LINE);
	s->f[0].ctx = CLI_CTX_LOGIN;
	if (!rd)
		goto out;
	long idle = settings_get_int(rd, "CliIdleTimeout");
	conn_set_timeout(&s->c, idle > 0 ? (int)idle : 0);
	if (implicit_tls) {
		if (!srv->tls || conn_start_tls(&s->c, srv->tls) < 0)
			goto out;
		s->tls_active = true;
	}
	if (rl_blocked("cli", s->c.peer)) {
		log_warn("cli: peer=%s refused: blocked after too many failed logins", s->c.peer);
		conn_puts(&s->c, "-ERR: Too many failed logins from your address, try again later\r\n");
		goto out;
	}
	/* The CLI service's access control (CONFIG SERVER / CONFIG CLI /
	 * CONFIG AccessControl): no rule = everybody. */
	if (!admin_ipmap_allows(rd, "cli", s->c.peer) || !lstacl_allows(rd, "cli", laddr, s->c.peer)) {
		log_warn("cli: peer=%s refused by the CLI access rules", s->c.peer);
		conn_puts(&s->c, "-ERR: Access denied for your address, closing connection\r\n");
		goto out;
	}
	/* its connection limits (CONFIG AccessControl: maxConnections...) */
	enum connlimit_verdict v = connlimit_admit(rd, "Cli", "cli", s->c.peer, &acc);
	if (v == CONNLIMIT_OK) /* and those of the listener it came in by (auth/lstacl.h) */
		v = connlimit_admit_listener(rd, "cli", laddr, s->c.peer, &acc);
	if (v != CONNLIMIT_OK) {
		log_warn("cli: peer=%s refused: %s", s->c.peer, connlimit_text(v));
		conn_printf(&s->c, "-ERR: %s, closing connection\r\n", connlimit_text(v));
		goto out;
	}
	if (listen_active(srv->service_id) > settings_get_int(rd, "CliMaxSessions")) {
		conn_printf(&s->c, "-ERR: %s\r\n", cli_err_text(TERN_E_BUSY));
		goto out;
	}
	greet(s);
	if (conn_flush(&s->c) < 0)
		goto out;
	serve(s);
	if (s->f[0].ctx != CLI_CTX_LOGIN) {
		if (s->depth > 0)
			log_info("cli: admin=%s peer=%s: session ended, pending changes dropped", s->admin, s->c.peer);
		log_info("cli: admin=%s peer=%s: logged out", s->admin, s->c.peer);
	}
out:
	connlimit_release(&acc);
	while (s->depth > 0)
		cli_pop(s);
	cli_frame_clear(&s->f[0]);
	for (int i = 0; i < s->nlast_filter; i++)
		free(s->last_filter[i]);
	free(s->last_filter);
	if (s->rd.line.data)
		secret_wipe(s->rd.line.data, s->rd.line.len);
	cli_reader_free(&s->rd);
	cli_multiline_free(s);
	conn_close(&s->c);
	dir_conn_close(rd);
	free(s);
}
