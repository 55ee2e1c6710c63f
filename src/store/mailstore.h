/*
 * mailstore - account mailboxes on disk (Maildir under
 * ROOT/domains/DOMAIN/ACCOUNT-DIR/Maildir).
 *
 * mailstore_usage() sums the sizes and counts the messages of new/ and
 * cur/. mailstore_open() opens an account's Maildir, creating the account
 * directory and tmp/ new/ cur/ on first use.
 */
#ifndef TERN_MAILSTORE_H
#define TERN_MAILSTORE_H

#include <stdint.h>

void mailstore_usage(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r);
int mailstore_open(int rootfd, const char *domain, const char *dir);

/* The custom-domain rules for a domain that is not handled locally:
 * custdomains/DOMAIN.tab, then .PARENT.tab for each parent suffix, then
 * .tab (the catch-all, only when catch_all is true). 0 and the text in out,
 * or -1 when none applies. domain must be lower case and valid. */
#include <stdbool.h>

#include "../core/buf.h"
int mailstore_custdom_read(int rootfd, const char *domain, bool catch_all, struct buf *out);

#endif
