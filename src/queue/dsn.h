/*
 * dsn - delivery status notifications (RFC 3464 multipart/report) for the
 * sender of a queued message: failures (bounces) and delay warnings.
 *
 * Never sent to the null sender, so never a notification about a
 * notification. The report is spooled like any message and handed to
 * local delivery (which routes it onward when the sender is remote).
 */
#ifndef TERN_DSN_H
#define TERN_DSN_H

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "smtp_out.h"

struct deliver;
struct envelope;

enum dsn_kind { DSN_FAILED, DSN_DELAYED };

struct dsn_report {
	enum dsn_kind kind;
	const char *reporting_host; /* our name */
	time_t retry_until;         /* DSN_DELAYED: when we give up */
	int n;                      /* recipients */
	char **rcpts;
	struct rcpt_result **why;
};

/* Spool and hand to delivery; 0 on success (or nothing to send), -1 on
 * error. The new spool id goes to id_r when non-NULL. */
int dsn_send(int rootfd, struct deliver *dl, const struct envelope *env, int fd, off_t off,
	     const struct dsn_report *rep, char id_r[64]);

#endif
