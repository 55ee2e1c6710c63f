/*
 * ratelimit - failed-login accounting per peer address.
 *
 * rl_blocked() tells whether a peer is currently blocked; rl_fail() records
 * a failure and returns the number of failures in the current window, and
 * blocks the peer for block_sec once max failures are reached;
 * rl_success() forgets a peer. Thread-safe; the table is bounded (oldest
 * entries are reused).
 */
#ifndef TERN_RATELIMIT_H
#define TERN_RATELIMIT_H

#include <stdbool.h>

bool rl_blocked(const char *scope, const char *peer);
int rl_fail(const char *scope, const char *peer, int max, int block_sec);
void rl_success(const char *scope, const char *peer);

#endif
