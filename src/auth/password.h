/*
 * password - account and admin password hashing with libcrypt.
 *
 * pw_hash() produces a yescrypt hash ("$y$...") at the given cost (libcrypt's
 * count: 1 = cheapest, 11 = hardest; 5 is libcrypt's default). pw_verify()
 * accepts every hash libcrypt knows (yescrypt, SHA-512-crypt, ...), so
 * imported hashes keep working. Both are thread-safe.
 */
#ifndef TERN_PASSWORD_H
#define TERN_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

int pw_hash(const char *password, int cost, char *out, size_t outsz);
bool pw_verify(const char *password, const char *hash);

#endif
