/*
 * send_limits - what an authenticated SMTP sender may send, and how much
 * it has sent lately.
 *
 * The limits are account variables (written by the CLI's Limits context,
 * or by the controller's uservarsset):
 *   Limits.sentMessagesCount     messages per interval, 0 = no limit
 *   Limits.sentRecipientsCount   recipients per interval, 0 = no limit
 *   Limits.sentMessagesSize      KB per interval, 0 = no limit
 *   Limits.sentMessagesInterval  the interval in seconds (0 or unset: 3600)
 *   SmtpSendEnable               "0": the account may not send at all
 *                                (the CLI writes it from `services`:
 *                                smtpOut in the set or not)
 *
 * The counters are a fixed window per account: a window opens with the
 * first message accepted after the previous window ended and lasts one
 * interval; everything accepted inside it counts against the limits. They
 * live in a bounded table keyed by account id, guarded by a mutex, and are
 * kept over restarts by send_store.h (which writes the table to a file
 * within about a second of a change). Only accounts
 * with some limit get a slot; an ended window frees its slot. When every
 * slot holds a live window the check fails closed (SEND_FULL).
 *
 * send_counters_check() only looks; send_counters_charge() checks and
 * adds in one step under the lock, so two sessions of one account cannot
 * both pass the last free message. A charge whose message then cannot be
 * stored is given back with send_counters_refund().
 */
#ifndef TERN_SEND_LIMITS_H
#define TERN_SEND_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/buf.h"
#include "../store/directory.h"

#define SEND_DEFAULT_INTERVAL 3600

struct send_limits {
	bool send_enabled;
	int64_t max_msgs, max_rcpts, max_kb;
	int64_t interval; /* seconds, > 0 */
};

/* The account's limits (no limits and sending enabled if it has no such
 * variables). One indexed read of the account's variables. */
void send_limits_read(struct dir_conn *c, int64_t account_id, struct send_limits *l);
bool send_limits_active(const struct send_limits *l);

enum send_verdict { SEND_OK, SEND_OVER_MSGS, SEND_OVER_RCPTS, SEND_OVER_SIZE, SEND_FULL };

struct send_ticket {
	int64_t id, window; /* the window the charge went to */
	int64_t msgs, rcpts, bytes;
};

struct send_counters;
struct send_counters *send_counters_new(int capacity);
void send_counters_free(struct send_counters *sc);

/* Would adding msgs/rcpts/bytes go over a limit? *retry_r: seconds until
 * the account's window ends (0 if none is open). */
enum send_verdict send_counters_check(struct send_counters *sc, int64_t id, const struct send_limits *l, int64_t msgs,
				      int64_t rcpts, int64_t bytes, int64_t *retry_r);
/* Check and add in one step; on SEND_OK *t says what to give back. */
enum send_verdict send_counters_charge(struct send_counters *sc, int64_t id, const struct send_limits *l,
				       int64_t msgs, int64_t rcpts, int64_t bytes, int64_t *retry_r,
				       struct send_ticket *t);
void send_counters_refund(struct send_counters *sc, const struct send_ticket *t);

/* What the account has used in its current window (the CLI's SHOW
 * sendQuota); interval is its limit's, in seconds. */
struct send_usage {
	bool open;                 /* a window is open */
	int64_t msgs, rcpts, bytes;
	int64_t started;           /* wall clock (seconds since the epoch) */
	int64_t remaining;         /* seconds until the window ends */
};
void send_counters_usage(struct send_counters *sc, int64_t id, int64_t interval, struct send_usage *u);
/* Zero the account's counters (RESET sendQuota): its window is closed, the
 * next message opens a new one, and a refund for the old window is
 * ignored. true if a window was open. */
bool send_counters_reset(struct send_counters *sc, int64_t id);

/* ---- over restarts (used by send_store.c) ---- */

/* A number that changes whenever a count does (charge, refund, reset). */
uint64_t send_counters_gen(struct send_counters *sc);
/* Append the live windows to out, in the file format (a header line, one
 * line per account: id, window serial, window start and end in wall-clock
 * ms, messages, recipients, bytes; then ".end COUNT CHECKSUM"). Returns
 * the send_counters_gen() value the dump shows. */
uint64_t send_counters_dump(struct send_counters *sc, struct buf *out);
/* Take the counts of a dump back (at start-up, into an empty table):
 * windows that have ended are dropped. The number of windows kept, or -1
 * (and why) if the data is not a complete, intact dump: then nothing is
 * taken. */
int send_counters_load(struct send_counters *sc, const char *data, size_t len, char *why, size_t whysz);
/* fn makes the counts durable now (0 or -1); NULL: nothing to do. */
void send_counters_on_sync(struct send_counters *sc, int (*fn)(void *arg), void *arg);
int send_counters_sync(struct send_counters *sc);
/* Drop the counters of every account that no longer exists in the
 * directory, durably (send_counters_sync) when there were any: called
 * after an account or domain is deleted (by any path: the CLI, the
 * controller, a users.tab upload, a restore), so that a new account that
 * gets the same id starts from zero. The number dropped, or -1 if they
 * could not be made durable. */
int send_counters_prune(struct send_counters *sc, struct dir_conn *c);

#endif
