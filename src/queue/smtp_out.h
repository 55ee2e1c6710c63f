/*
 * smtp_out - the outbound SMTP client session: greeting, EHLO (HELO
 * fallback), STARTTLS by policy, AUTH to smart hosts, pipelined
 * MAIL/RCPT/DATA transactions, and reuse of a session for several messages.
 *
 * All calls block with the client's timeouts; one session belongs to one
 * thread at a time.
 */
#ifndef TERN_SMTP_OUT_H
#define TERN_SMTP_OUT_H

#include <stdbool.h>
#include <sys/types.h>

#include "../core/client.h"
#include "route.h"

struct envelope;

struct smtp_out {
	struct client c;
	bool open;
	bool tls;
	bool pipelining;
	char auth_mechs[256]; /* from the EHLO AUTH line, space-separated */
	int transactions;     /* completed MAIL transactions on this session */
};

struct rcpt_result {
	int code; /* 0: not tried / unknown, else the SMTP reply code */
	char text[300];
};

/* Greet on a connected client (taken over by s). need_tls: 0 never, 1 when
 * offered, 2 required. auth may be NULL. Returns 0 when ready for MAIL;
 * -1 when the host gave no usable answer (try the next host; why says
 * what happened); a reply code (4xx/5xx) that applies to every recipient. */
int smtp_out_open(struct smtp_out *s, struct client *c, const char *helo, int need_tls,
		  const struct route_auth *auth, char *why, size_t wsz);
/* One transaction for recipients env->rcpt[idx[k]]: fills res[idx[k]].
 * Returns false when the session broke before any verdict (nothing in res
 * counts; the session is closed). */
bool smtp_out_send(struct smtp_out *s, const struct envelope *env, const int *idx, int nidx, int fd, off_t off,
		   struct rcpt_result *res);
/* QUIT (politely, errors ignored) and close. */
void smtp_out_close(struct smtp_out *s);

#endif
