/*
 * rehash - the worker that turns freshly set passwords into hashes.
 *
 * Account passwords arrive sealed in the secret box (durable at once); this
 * worker hashes them with yescrypt at the PasswordHashCost setting, stores
 * the hash and erases the box in one transaction, in the background.
 * rehash_kick() wakes it; it also sweeps at start-up and every few seconds.
 */
#ifndef TERN_REHASH_H
#define TERN_REHASH_H

struct admin_env;

int rehash_start(struct admin_env *env);
void rehash_kick(void);
void rehash_stop(void);

#endif
