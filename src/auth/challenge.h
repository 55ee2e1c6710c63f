/*
 * challenge - challenge-response logins for accounts that opted in to a
 * reversible secret (account variable EnableChallengeAuth = 1).
 *
 * challenge_verify() checks a hex digest against the account's secret:
 * CHALLENGE_CRAM_MD5 is HMAC-MD5(secret, challenge) (RFC 2195),
 * CHALLENGE_APOP is MD5(challenge + secret) (RFC 1939). The comparison is
 * constant-time; accounts without a secret always fail.
 */
#ifndef TERN_CHALLENGE_H
#define TERN_CHALLENGE_H

#include <stdbool.h>

#include "../store/directory.h"

enum challenge_kind { CHALLENGE_CRAM_MD5, CHALLENGE_APOP };

/* address is user@domain (alias domains followed). On success the account
 * is copied to *u_r when given. */
bool challenge_verify(struct dir_conn *c, const char *address, enum challenge_kind kind, const char *challenge,
		      const char *hexdigest, struct dir_user *u_r);
/* A fresh challenge "<random.time@host>". */
void challenge_make(const char *host, char *out, size_t sz);

#endif
