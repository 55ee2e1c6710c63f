/*
 * outbound - delivery of spool/remote entries to other servers.
 *
 * Every waiting entry is in an in-memory index (qindex: hash by id plus a
 * heap by due time), built by one scan of spool/remote at start-up and then
 * kept up to date by pushes, so neither scheduling nor listing reads the
 * spool. Up to SmtpOutThreads attempts run at once; each groups the
 * recipients by route (route.h: smtpfwd.tab, smtpgw.tab,
 * DefaultSMTPGateways, MX) and speaks one SMTP session per destination
 * (smtp_out.h), at most SmtpOutMaxPerDestination sessions per destination,
 * reusing idle sessions for a few seconds. Per recipient: 2xx is done, 5xx
 * bounces, 4xx or no answer retries on QueueRetrySchedule; a delay warning
 * goes to the sender once after DelayWarningTime; after MaxQueueLifetime
 * (or QueueMaxAttempts) the rest bounces and the message is frozen in
 * spool/held with its log (or dropped with RemoveSpoolErrors=1). Reports
 * are RFC 3464 (dsn.h), never sent to the null sender.
 */
#ifndef TERN_OUTBOUND_H
#define TERN_OUTBOUND_H

#include <stdbool.h>

struct admin_env;
struct deliver;
struct outbound;
struct queue_ops;

struct outbound *outbound_start(struct admin_env *env, struct deliver *dl, int threads);
/* A new or changed entry in spool/remote: attempt it now. */
void outbound_enqueue(struct outbound *ob, const char *id);
/* The admin's view of the queue (valid until outbound_free). */
const struct queue_ops *outbound_ops(struct outbound *ob);
/* Pause (or resume) delivery: while paused no new attempt starts (those
 * under way finish); entries stay in the queue with their due times and
 * every one that fell due is attempted on resume. */
void outbound_pause(struct outbound *ob, bool paused);
bool outbound_paused(struct outbound *ob);
/* Stop attempting (attempts under way finish); outbound_enqueue() stays
 * harmless until outbound_free(). */
void outbound_halt(struct outbound *ob);
void outbound_free(struct outbound *ob);

#endif
