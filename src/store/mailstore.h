/*
 * mailstore - account mailboxes on disk (Maildir under
 * ROOT/domains/DOMAIN/ACCOUNT-DIR/Maildir).
 *
 * mailstore_usage() sums the sizes and counts the messages of new/ and
 * cur/ (cached, see below). mailstore_open() opens an account's Maildir, creating the account
 * directory and tmp/ new/ cur/ on first use.
 */
#ifndef TERN_MAILSTORE_H
#define TERN_MAILSTORE_H

#include <stdint.h>

/* From the per-process usage cache: a subdirectory is counted again only
 * when its mtime changed (so a 100,000-message mailbox costs two stat()s
 * per check, not a scan). While a delivery or a POP3 session is changing
 * the mailbox, the figures from just before are returned without waiting. */
void mailstore_usage(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r);
/* Counting everything now (userstat); refreshes the cache. */
void mailstore_usage_exact(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r);
/* Directory counts done so far (tests, benchmarks). */
uint64_t mailstore_scans(void);
/* Delivery's quota check: reserve one copy of bytes about to be stored
 * when the mailbox stays within its quotas counting the copies being
 * stored by others: usage + reserved + bytes <= max_bytes and messages +
 * reserved copies + 1 <= max_count (0 = no such limit). 0, or
 * MAILSTORE_OVER_SIZE / MAILSTORE_OVER_COUNT (nothing reserved). Released
 * with mailstore_release() (or mailstore_change_unreserve()) once the copy
 * is in place (and counted) or abandoned. */
#define MAILSTORE_OVER_SIZE (-1)
#define MAILSTORE_OVER_COUNT (-2)
int mailstore_reserve(int rootfd, const char *domain, const char *dir, uint64_t bytes, uint64_t max_bytes,
		      uint64_t max_count);
void mailstore_release(const char *domain, const char *dir, uint64_t bytes);
/* Tern changing a Maildir (mdrel "domains/D/U/Maildir"): begin locks the
 * mailbox's cache entry, end applies the changes in bytes and messages to
 * new/ and cur/ and unlocks. */
struct mailstore_change;
struct mailstore_change *mailstore_change_begin(int rootfd, const char *mdrel);
/* Between begin and end: the copy counted by this change was reserved
 * (mailstore_reserve) - drop the reservation (its bytes and the one copy)
 * with the same lock. */
void mailstore_change_unreserve(struct mailstore_change *c, uint64_t bytes);
void mailstore_change_end(struct mailstore_change *c, int64_t dbytes_new, int64_t dcount_new, int64_t dbytes_cur,
			  int64_t dcount_cur);
int mailstore_open(int rootfd, const char *domain, const char *dir);
/* A mailbox directory was moved (a rename): the cached figures of every
 * Maildir under prefix ("domains/D/U" or "domains/D") are counted again
 * at their next use. */
void mailstore_forget(const char *prefix);

/* The custom-domain rules for a domain that is not handled locally:
 * custdomains/DOMAIN.tab, then .PARENT.tab for each parent suffix, then
 * .tab (the catch-all, only when catch_all is true). 0 and the text in out,
 * or -1 when none applies. domain must be lower case and valid. */
#include <stdbool.h>

#include "../core/buf.h"
int mailstore_custdom_read(int rootfd, const char *domain, bool catch_all, struct buf *out);

#endif
