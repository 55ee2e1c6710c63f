/*
 * cli_sendquota - SHOW sendQuota and RESET sendQuota in an account's
 * Limits context: the account's usage of its sending limits, read from and
 * zeroed in SMTP's counters (src/smtp/send_limits.h).
 *
 * SHOW prints, as `name = value` lines, what the account has sent in its
 * current window against each limit (the stored limits, not the pending
 * edits of this context) and the window's start and remaining seconds.
 * RESET zeroes the counters at once (no COMMIT): the account's window is
 * closed, so its next message is accepted against fresh counts. The
 * counters are kept over restarts (smtp/send_store.h), so the zeroed state
 * is written to disk before the +OK: a restart or a crash right after it
 * cannot bring the old counts back. The reset is logged with the admin's
 * name (the CLI's change log).
 */
#include <stdio.h>
#include <string.h>

#include "../admin/admin.h"
#include "../smtp/send_limits.h"
#include "cli_ctx.h"

/* The stored account of the Limits frame; false (and -ERR) if there is none. */
static bool limits_account(struct cli_session *s, struct dir_user *u)
{
	struct cli_frame *f = cli_cur(s);
	int od = cli_object_depth(s, s->depth);
	if (s->f[od].create) {
		cli_err(s, "Account %s does not exist yet (COMMIT it first)", f->name);
		return false;
	}
	if (!dir_user_get(s->ctx.rd, f->domain, f->name, u) || u->type != 'U') {
		cli_err(s, "Account %s not found", f->name);
		return false;
	}
	if (!s->srv->env->sends) {
		cli_err(s, "The SMTP service is not running, so there are no send counters");
		return false;
	}
	return true;
}

/* The account of the context, its limits and its current usage. */
static bool account_usage(struct cli_session *s, struct dir_user *u, struct send_limits *l, struct send_usage *use)
{
	if (!limits_account(s, u))
		return false;
	send_limits_read(s->ctx.rd, u->id, l);
	send_counters_usage(s->srv->env->sends, u->id, l->interval, use);
	return true;
}

void cli_h_show_sendquota(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct dir_user u;
	struct send_limits l;
	struct send_usage use;
	if (!account_usage(s, &u, &l, &use))
		return;
	char start[64] = "";
	if (use.open)
		admin_format_date((time_t)use.started, start, sizeof start);
	struct buf out = BUF_INIT;
	buf_puts(&out, "\r\nThe send quota of this account:\r\n");
	buf_printf(&out, "sentMessages = %lld\r\nsentMessagesCount = %lld\r\n", (long long)use.msgs,
		   (long long)l.max_msgs);
	buf_printf(&out, "sentRecipients = %lld\r\nsentRecipientsCount = %lld\r\n", (long long)use.rcpts,
		   (long long)l.max_rcpts);
	buf_printf(&out, "sentSize = %lld\r\nsentMessagesSize = %lld\r\n", (long long)((use.bytes + 1023) / 1024),
		   (long long)l.max_kb);
	buf_printf(&out, "sentMessagesInterval = %lld\r\nintervalStart = \"%s\"\r\nintervalRemaining = %lld\r\n",
		   (long long)l.interval, start, (long long)use.remaining);
	buf_puts(&out, "sendingEnabled = ");
	buf_puts(&out, l.send_enabled ? "yes" : "no");
	buf_puts(&out, "\r\n\r\n");
	conn_write(&s->c, out.data, out.len);
	buf_free(&out);
	cli_ok(s);
}

void cli_h_reset_sendquota(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct dir_user u;
	struct send_limits l;
	struct send_usage use;
	if (!account_usage(s, &u, &l, &use))
		return;
	send_counters_reset(s->srv->env->sends, u.id);
	if (send_counters_sync(s->srv->env->sends) < 0) {
		cli_err(s, "The counters are zeroed but could not be saved to disk (see the server log)");
		return;
	}
	snprintf(s->log_detail, sizeof s->log_detail,
		 "send counters of %s@%s zeroed (were: %lld messages, %lld recipients, %lld bytes)", u.name, u.domain,
		 (long long)use.msgs, (long long)use.rcpts, (long long)use.bytes);
	cli_ok(s);
}
