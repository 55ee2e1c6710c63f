/*
 * send_store - the sending-limit counters (send_limits.h) kept over
 * restarts, in one file under the data root (SEND_STORE_FILE).
 *
 * Why a file and not the directory store (tern.db): the counters change
 * with every message sent by an account with limits, they are runtime
 * state rather than configuration (snapshots, restores and table uploads
 * must not carry them), and their whole table is small and bounded. A
 * write of the file (temp file, fsync, rename, directory fsync) needs no
 * lock shared with the admin's and delivery's directory writes, whose
 * group commits it would otherwise join once a second.
 *
 * Write-back: the SMTP path only changes memory. A background thread
 * writes the table when it changed, at most once per SEND_STORE_FLUSH_MS,
 * so after a crash (kill -9) the counts of acknowledged mail are lost for
 * at most the last SEND_STORE_FLUSH_MS (plus the time of one write); a
 * clean stop writes the table last. send_counters_sync() (RESET
 * sendQuota, deleting accounts) writes at once and returns only when the
 * file is durable.
 *
 * Start-up: temp files of a write cut short are removed; a missing file
 * is an empty table; a damaged one (truncated, checksum mismatch,
 * unparsable) is logged, kept beside as SEND_STORE_FILE ".corrupt" and
 * ignored: every account starts from zero. Windows that ended while the daemon was down are dropped, and so
 * are the counters of accounts that no longer exist.
 */
#ifndef TERN_SEND_STORE_H
#define TERN_SEND_STORE_H

#include "../store/directory.h"
#include "send_limits.h"

#define SEND_STORE_FILE "sendcounters.tab"
#define SEND_STORE_FLUSH_MS 1000

struct send_store;

/* Load ROOT/SEND_STORE_FILE (dirfd: the data root) into sc (c: to drop
 * the counters of deleted accounts), start the writer and hook
 * send_counters_sync(). Never fails: problems are logged. */
struct send_store *send_store_open(struct send_counters *sc, int dirfd, struct dir_conn *c);
/* Write the table now if it changed since the last write; 0 once durable. */
int send_store_flush(struct send_store *st);
/* Stop the writer, write the table a last time, unhook. */
void send_store_close(struct send_store *st);

#endif
