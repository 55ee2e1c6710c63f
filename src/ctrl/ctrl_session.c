/*
 * ctrl_session - one controller session: greeting, TLS, login, commands,
 * listings and uploads.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../admin/admin_perms.h"
#include "../admin/settings.h"
#include "../auth/ratelimit.h"
#include "../core/listen.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../core/utf8.h"
#include "ctrl.h"
#include "ctrl_codes.h"

/* ---- replies ---- */

void ctrl_reply_detail(struct ctrl_session *s, enum tern_err e, const char *detail)
{
	int code = ctrl_code(e);
	if (e == TERN_OK)
		conn_puts(&s->c, "+00000 OK\r\n");
	else if (detail)
		conn_printf(&s->c, "-%05d %s %s\r\n", code, ctrl_text(code), detail);
	else
		conn_printf(&s->c, "-%05d %s\r\n", code, ctrl_text(code));
}

void ctrl_reply(struct ctrl_session *s, enum tern_err e)
{
	ctrl_reply_detail(s, e, NULL);
}

int ctrl_row(void *session, const char *const *f, int n)
{
	struct ctrl_session *s = session;
	if (!s->header_sent) {
		conn_puts(&s->c, "+00100 OK\r\n");
		s->header_sent = true;
	}
	/* Record lines always start with '"', so they never need stuffing. */
	struct buf *out = &s->c.out;
	tab_join(out, f, n, "\r\n");
	if (out->len >= 65536)
		conn_flush(&s->c);
	return s->c.failed ? 1 : 0;
}

void ctrl_list_end(struct ctrl_session *s, enum tern_err e)
{
	if (e && !s->header_sent) {
		ctrl_reply(s, e);
		return;
	}
	if (e)
		log_err("ctrl: listing for %s ended early: %s", s->c.peer, tern_err_name(e));
	if (!s->header_sent)
		conn_puts(&s->c, "+00100 OK\r\n");
	conn_puts(&s->c, ".\r\n");
	s->header_sent = true;
}

void ctrl_file_listing(struct ctrl_session *s, const char *data, size_t len)
{
	conn_puts(&s->c, "+00100 OK\r\n");
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - data) : len;
		size_t l = end - i;
		while (l && data[i + l - 1] == '\r')
			l--;
		if (l && data[i] == '.')
			conn_write(&s->c, ".", 1);
		conn_write(&s->c, data + i, l);
		conn_write(&s->c, "\r\n", 2);
		i = nl ? end + 1 : len;
	}
	conn_puts(&s->c, ".\r\n");
	s->header_sent = true;
}


enum tern_err ctrl_upload(struct ctrl_session *s, struct buf *data_r)
{
	conn_puts(&s->c, "+00101 OK\r\n");
	if (conn_flush(&s->c) < 0)
		return TERN_E_INTERNAL;
	struct buf line = BUF_INIT;
	enum tern_err bad = TERN_OK;
	for (;;) {
		enum conn_status st = conn_read_line(&s->c, CTRL_MAX_UPLOAD_LINE, &line);
		if (st == CONN_TOO_LONG) {
			if (!bad)
				bad = TERN_E_LINE_TOO_LONG;
			continue;
		}
		if (st != CONN_OK) {
			/* Cut off before the final dot: nothing is stored. */
			log_info("ctrl: %s: upload interrupted, nothing stored", s->c.peer);
			s->c.failed = true;
			buf_free(&line);
			return TERN_E_INTERNAL;
		}
		if (line.len == 1 && line.data[0] == '.')
			break;
		if (bad)
			continue;
		if (memchr(line.data, '\0', line.len) || !utf8_valid(line.data, line.len)) {
			bad = TERN_E_BAD_CHARS;
			continue;
		}
		size_t off = (line.len && line.data[0] == '.') ? 1 : 0;
		if (data_r->len + line.len + 1 > CTRL_MAX_UPLOAD) {
			bad = TERN_E_LINE_TOO_LONG;
			continue;
		}
		buf_append(data_r, line.data + off, line.len - off);
		buf_putc(data_r, '\n');
	}
	buf_free(&line);
	return bad;
}

/* ---- the session ---- */

static void make_timestamp(struct ctrl_session *s)
{
	uint64_t r;
	secret_random(&r, sizeof r);
	snprintf(s->timestamp, sizeof s->timestamp, "<%lld.%" PRIu64 "@%s>", (long long)time(NULL), r, s->c.local);
}

static bool is_loopback(const char *peer)
{
	return !strncmp(peer, "127.", 4) || !strcmp(peer, "::1");
}

static void log_command(struct ctrl_session *s, const struct ctrl_cmd *cmd, char **argv, int argc,
			const char *outcome)
{
	char line[1024];
	size_t off = 0;
	for (int i = 0; i < argc && off < sizeof line - 1; i++) {
		bool secret = i < 32 && (cmd->secret_args & (1u << i));
		int w = snprintf(line + off, sizeof line - off, "%s%s", i ? " " : "", secret ? "***" : argv[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (off >= sizeof line)
		off = sizeof line - 1;
	line[off] = '\0';
	log_info("ctrl: admin=%s peer=%s: %s -> %s", s->admin, s->c.peer, line, outcome);
}

/* The answer's first line, for the log. */
static void outcome_of(struct ctrl_session *s, size_t start, char *out, size_t sz)
{
	const char *p = s->c.out.data ? s->c.out.data + start : "";
	size_t n = 0;
	while (p[n] && p[n] != '\r' && n + 1 < sz)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	if (!n)
		snprintf(out, sz, "(answered)");
}

static void run_command(struct ctrl_session *s, char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == 0 || c > 127) {
			ctrl_reply(s, TERN_E_BAD_CHARS);
			return;
		}
	}
	char *argv[CTRL_MAX_ARGS];
	int argc = tab_split(line, argv, CTRL_MAX_ARGS);
	if (argc <= 0) {
		ctrl_reply(s, TERN_E_SYNTAX);
		return;
	}
	const struct ctrl_cmd *cmd = ctrl_command_find(argv[0]);
	if (!cmd || argc < cmd->min_args || (cmd->max_args >= 0 && argc > cmd->max_args)) {
		ctrl_reply(s, TERN_E_SYNTAX);
		return;
	}
	s->header_sent = false;
	size_t start = s->c.out.len;
	/* The AACL: the one permission check of the controller. */
	enum tern_err pe = admin_perm_ctrl(&s->ctx, argv, argc);
	if (pe) {
		ctrl_reply(s, pe);
		return;
	}
	cmd->fn(s, argv, argc);
	if (cmd->flags & CTRL_CHANGES) {
		char outcome[128];
		outcome_of(s, start, outcome, sizeof outcome);
		log_command(s, cmd, argv, argc, outcome);
	}
}

static bool do_login(struct ctrl_session *s, int fail_delay_ms, int max_fail, int block_sec, bool allow_clear)
{
	struct buf line = BUF_INIT;
	bool tls_tried = false;
	for (;;) {
		enum conn_status st = conn_read_line(&s->c, CTRL_MAX_LOGIN_LINE, &line);
		if (st == CONN_EOF || st == CONN_TIMEOUT || st == CONN_ERROR) {
			buf_free(&line);
			return false;
		}
		if (st == CONN_OK && !strcmp(line.data ? line.data : "", "#!TLS") && !tls_tried) {
			tls_tried = true;
			if (s->tls_active) {
				ctrl_reply(s, TERN_E_TLS_ACTIVE);
				buf_free(&line);
				return false;
			}
			if (!s->srv->tls || settings_get_int(s->ctx.rd, "EnableCTRL-TLS") == 0) {
				ctrl_reply(s, TERN_E_TLS_DISABLED);
				buf_free(&line);
				return false;
			}
			conn_puts(&s->c, "+00000 Ready to start TLS mode\r\n");
			/* conn_start_tls() drops anything pipelined before the handshake. */
			if (conn_start_tls(&s->c, s->srv->tls) < 0) {
				buf_free(&line);
				return false;
			}
			s->tls_active = true;
			continue;
		}
		break;
	}
	bool ok = false;
	const char *why = "bad login line";
	char *f[4];
	int n = -1;
	if (line.data && line.len == strlen(line.data)) {
		bool ascii = true;
		for (size_t i = 0; i < line.len; i++)
			if ((unsigned char)line.data[i] > 127)
				ascii = false;
		if (ascii)
			n = tab_split(line.data, f, 4);
	}
	if (n == 2) {
		snprintf(s->admin, sizeof s->admin, "%s", f[0]);
		if (f[1][0] != '#' && !s->tls_active && !is_loopback(s->c.peer) && !allow_clear) {
			why = "clear-text login without TLS from a remote peer";
		} else if (admin_login(&s->ctx, f[0], f[1], s->timestamp) == TERN_OK) {
			ok = true;
		} else {
			why = "wrong account or password";
		}
	}
	if (line.data)
		secret_wipe(line.data, line.len);
	buf_free(&line);
	if (ok) {
		rl_success("ctrl", s->c.peer);
		log_info("ctrl: admin=%s peer=%s: logged in%s", s->admin, s->c.peer, s->tls_active ? " (TLS)" : "");
		conn_puts(&s->c, "+00000 OK\r\n");
		return true;
	}
	int fails = rl_fail("ctrl", s->c.peer, max_fail, block_sec);
	log_warn("ctrl: peer=%s account=%s: login failed (%s), failure %d", s->c.peer, n == 2 ? s->admin : "-", why,
		 fails);
	if (fail_delay_ms > 0) {
		struct timespec ts = {fail_delay_ms / 1000, (long)(fail_delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	ctrl_reply(s, TERN_E_LOGIN);
	return false;
}

void ctrl_session_run(struct ctrl_server *srv, int fd, bool implicit_tls)
{
	struct ctrl_session *s = calloc(1, sizeof *s);
	if (!s) {
		close(fd);
		return;
	}
	s->srv = srv;
	struct dir_conn *rd = dir_conn_open(srv->env->dir);
	conn_init(&s->c, fd, 120);
	s->ctx = (struct admin_ctx){.env = srv->env, .rd = rd, .admin = s->admin, .peer = s->c.peer, .via = "ctrl"};
	snprintf(s->admin, sizeof s->admin, "-");
	if (!rd) {
		conn_close(&s->c);
		free(s);
		return;
	}
	int idle = (int)settings_get_int(rd, "CtrlIdleTimeout");
	conn_set_timeout(&s->c, idle > 0 ? idle : 120);
	if (implicit_tls) {
		if (!srv->tls || conn_start_tls(&s->c, srv->tls) < 0)
			goto out;
		s->tls_active = true;
	}
	if (rl_blocked("ctrl", s->c.peer) || !admin_ipmap_allows(rd, "ctrl", s->c.peer)) {
		log_warn("ctrl: peer=%s refused by access map or login-failure block", s->c.peer);
		ctrl_reply(s, TERN_E_IP_DENIED);
		goto out;
	}
	if (listen_active(srv->service_id) > settings_get_int(rd, "CtrlMaxSessions")) {
		ctrl_reply(s, TERN_E_BUSY);
		goto out;
	}
	make_timestamp(s);
	char date[64];
	admin_format_date(time(NULL), date, sizeof date);
	conn_printf(&s->c, "+00000 %s Tern %s CTRL Server; %s\r\n", s->timestamp, srv->version, date);
	if (conn_flush(&s->c) < 0)
		goto out;
	if (!do_login(s, (int)settings_get_int(rd, "CtrlLoginFailDelay"),
		      (int)settings_get_int(rd, "CtrlMaxLoginFailures"), (int)settings_get_int(rd, "CtrlLoginBlockTime"),
		      settings_get_int(rd, "CtrlAllowCleartextLogin") != 0))
		goto out;
	if (conn_flush(&s->c) < 0)
		goto out;
	struct buf line = BUF_INIT;
	while (!s->quit && !s->c.failed) {
		enum conn_status st = conn_read_line(&s->c, CTRL_MAX_LINE, &line);
		if (st == CONN_TOO_LONG) {
			ctrl_reply(s, TERN_E_LINE_TOO_LONG);
		} else if (st != CONN_OK) {
			break;
		} else {
			run_command(s, line.data ? line.data : (char[]){0}, line.len);
		}
		/* Flush once per command, unless more pipelined commands are
		 * already waiting (their answers then go out together). */
		if (s->c.in.len == 0 || memchr(s->c.in.data, '\n', s->c.in.len) == NULL || s->c.out.len > 32768)
			conn_flush(&s->c);
	}
	buf_free(&line);
out:
	conn_close(&s->c);
	dir_conn_close(rd);
	free(s);
}
