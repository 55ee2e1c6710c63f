/*
 * dsn - RFC 3464 reports for failed and delayed recipients.
 */
#include "dsn.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/log.h"
#include "../deliver/deliver.h"
#include "spool.h"

static void rfc822_date(time_t t, char *out, size_t sz)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, sz, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

/* "5.1.1" from a reply like "550 5.1.1 text", else the fallback. */
static void status_of(const struct rcpt_result *r, const char *fallback, char *out, size_t sz)
{
	char st[16];
	snprintf(out, sz, "%s", fallback);
	if (strlen(r->text) > 10 && sscanf(r->text + 4, "%15s", st) == 1 && st[1] == '.' && st[0] == fallback[0] &&
	    strspn(st, "0123456789.") == strlen(st))
		snprintf(out, sz, "%s", st);
}

int dsn_send(int rootfd, struct deliver *dl, const struct envelope *env, int fd, off_t off,
	     const struct dsn_report *rep, char id_r[64])
{
	if (!env->from[0] || rep->n == 0)
		return 0; /* never to the null sender */
	bool delayed = rep->kind == DSN_DELAYED;
	const char *host = rep->reporting_host;
	struct envelope b = {0};
	spool_new_id(b.id);
	b.received = time(NULL);
	snprintf(b.peer, sizeof b.peer, "local");
	snprintf(b.helo, sizeof b.helo, "%s", host);
	envelope_add_rcpt(&b, env->from);
	struct spool_file sf;
	if (spool_create(rootfd, &sf, &b) < 0) {
		envelope_free(&b);
		return -1;
	}
	char date[64], arrival[64], until[64], boundary[120];
	rfc822_date(time(NULL), date, sizeof date);
	rfc822_date(env->received ? env->received : time(NULL), arrival, sizeof arrival);
	rfc822_date(rep->retry_until, until, sizeof until);
	snprintf(boundary, sizeof boundary, "%.40s/%.60s", b.id, host);
	struct buf m = BUF_INIT;
	buf_printf(&m,
		   "From: Mail Delivery System <MAILER-DAEMON@%s>\nTo: <%s>\nSubject: %s\nDate: %s\n"
		   "Message-ID: <%s@%s>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"%s\"\n\n"
		   "This is a MIME-encapsulated message.\n\n--%s\nContent-Type: text/plain; charset=us-ascii\n\n"
		   "This is the mail system at %s.\n\n",
		   host, env->from,
		   delayed ? "Delayed Mail (still being retried)" : "Undelivered Mail Returned to Sender", date, b.id,
		   host, boundary, boundary, host);
	if (delayed)
		buf_printf(&m,
			   "Your message has not been delivered yet to these recipients. This is only a\n"
			   "warning: delivery will be retried until %s;\nyou do not need to send it again.\n\n",
			   until);
	else
		buf_puts(&m, "Your message could not be delivered to these recipients:\n\n");
	for (int i = 0; i < rep->n; i++)
		buf_printf(&m, "<%s>: %s\n", rep->rcpts[i],
			   rep->why[i]->text[0] ? rep->why[i]->text : (delayed ? "not delivered yet" : "delivery failed"));
	buf_printf(&m,
		   "\n--%s\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; %s\n"
		   "X-Tern-Queue-ID: %s\nArrival-Date: %s\n",
		   boundary, host, env->id, arrival);
	for (int i = 0; i < rep->n; i++) {
		const struct rcpt_result *r = rep->why[i];
		char st[16];
		if (delayed)
			status_of(r, "4.4.7", st, sizeof st);
		else if (r->code >= 500)
			status_of(r, "5.0.0", st, sizeof st);
		else
			snprintf(st, sizeof st, "5.4.7"); /* given up after temporary failures */
		buf_printf(&m, "\nFinal-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n", rep->rcpts[i],
			   delayed ? "delayed" : "failed", st);
		if (r->code > 0)
			buf_printf(&m, "Diagnostic-Code: smtp; %s\n", r->text);
		if (delayed)
			buf_printf(&m, "Will-Retry-Until: %s\n", until);
	}
	buf_printf(&m, "\n--%s\nContent-Type: text/rfc822-headers\n\n", boundary);
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
	if (rc == 0 && spool_commit(rootfd, &sf) == 0) {
		log_info("outbound %s: %s report %s sent to <%s>", env->id, delayed ? "delay" : "failure", b.id,
			 env->from);
		if (id_r)
			snprintf(id_r, 64, "%s", b.id);
		deliver_enqueue(dl, b.id);
	} else {
		spool_abort(rootfd, &sf);
		rc = -1;
	}
	envelope_free(&b);
	return rc;
}
