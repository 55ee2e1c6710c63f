/*
 * deliver - local delivery of spooled messages into Maildirs.
 *
 * deliver_enqueue() hands a committed spool id to the delivery workers.
 * For each recipient the worker expands aliases, alias domains and lists
 * (resolve.h), writes one copy per mailbox (Maildir tmp/, fsync, rename
 * into new/, fsync new/) with Return-Path and Delivered-To on top, then
 * removes the spool entry. Remote recipients are kept in spool/remote/
 * until outbound delivery exists; recipients that no longer exist (deleted
 * while the message waited) are kept in spool/held/ with a log line, never
 * dropped.
 *
 * Every action of a spool entry (a Maildir copy, a redirected copy, the
 * copies for outbound delivery and for the admin, an external command) is
 * staged, marked in a durable record and only then published
 * (progress.h): a run after a crash skips what was marked, so no copy is
 * made twice, and nothing acknowledged is lost.
 *
 * The quotas (MaxMBSize, MaxMessages and the per-folder FolderMaxMBSize,
 * FolderMaxMessages; see resolve.h) are checked again when a copy is
 * stored (RCPT could not see messages accepted at the same time), with a
 * reservation per copy so that concurrent deliveries cannot overshoot: a
 * copy that would take the mailbox over a quota is not stored; the message is frozen in spool/held as
 * ID-q for that mailbox with a log line ("mailbox over quota"), and an
 * admin can submit it again (frozsubmit) once there is room. That copy
 * carries "O mailbox": it is only stored, the account's other rules
 * (redirects...) having run already.
 */
#ifndef TERN_DELIVER_H
#define TERN_DELIVER_H

struct admin_env;
struct deliver;

struct deliver *deliver_start(struct admin_env *env, int threads);
void deliver_enqueue(struct deliver *dl, const char *id);
/* Queue every spool entry left from before (start-up). */
void deliver_recover(struct deliver *dl);
void deliver_stop(struct deliver *dl);

#endif
