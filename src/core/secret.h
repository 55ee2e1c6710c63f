/*
 * secret - randomness, digests, constant-time compares and the data root's
 * secret box (AES-256-GCM with a key kept in ROOT/keys/secret.key).
 *
 * Reversible secrets (controller MD5 login, POP3 link passwords, opt-in
 * challenge-response secrets) are stored only as boxes: 12-byte nonce,
 * ciphertext, 16-byte tag. secret_box_open() fails on any tampering.
 */
#ifndef TERN_SECRET_H
#define TERN_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

void secret_random(void *out, size_t n);
/* n random bytes as 2n lower-case hex characters plus NUL into out. */
void secret_random_hex(char *out, size_t n);
/* MD5 of data as 32 hex characters plus NUL. */
void secret_md5_hex(const void *data, size_t len, char out[33]);
bool secret_equal(const void *a, size_t alen, const void *b, size_t blen);
bool secret_equal_str(const char *a, const char *b);
/* Wipe memory in a way the compiler cannot optimise out. */
void secret_wipe(void *p, size_t n);

/* Load ROOT/keys/secret.key, creating it (0600) on first use. */
int secret_box_init(const char *keyfile);
void secret_box_seal(const void *plain, size_t len, struct buf *out);
int secret_box_open(const void *box, size_t len, struct buf *plain_r);

#endif
