/*
 * outbound - delivery of spool/remote entries to other servers.
 *
 * This first increment delivers through smart hosts (DefaultSMTPGateways,
 * tried in order); MX routing comes next. A scheduler keeps every waiting
 * entry in a min-heap by due time (one scan of spool/remote at start-up,
 * then pushes), so picking the next due message never scans the spool.
 * An attempt speaks SMTP (EHLO, STARTTLS when offered, MAIL, one RCPT per
 * recipient, DATA). Per recipient: 2xx is done, 5xx bounces, 4xx or a
 * connection failure retries on QueueRetrySchedule. After MaxQueueLifetime
 * the rest bounces and the message is frozen in spool/held (or dropped
 * with RemoveSpoolErrors=1). Bounces are RFC 3464 reports from the null
 * sender, never sent for a message from the null sender. Each attempt is
 * logged in spool/remote/ID.log (the frozen log). The entry is rewritten
 * (durably) with the recipients still to do after every attempt.
 */
#ifndef TERN_OUTBOUND_H
#define TERN_OUTBOUND_H

struct admin_env;
struct deliver;
struct outbound;

struct outbound *outbound_start(struct admin_env *env, struct deliver *dl, int threads);
/* A new or changed entry in spool/remote: attempt it now. */
void outbound_enqueue(struct outbound *ob, const char *id);
/* Stop attempting (attempts under way finish); outbound_enqueue() stays
 * harmless until outbound_free(). */
void outbound_halt(struct outbound *ob);
void outbound_free(struct outbound *ob);

#endif
