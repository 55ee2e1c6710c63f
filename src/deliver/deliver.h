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
 * Maildir names are derived from the spool id and the recipient, so a
 * delivery interrupted by a crash and run again at start-up
 * (deliver_recover()) skips the copies already in place: no message
 * appears twice.
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
