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

#endif
