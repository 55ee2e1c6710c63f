/*
 * directory - the directory store: domains, accounts, aliases, alias
 * domains, external aliases, mailing-list members, POP3 links, account
 * variables, controller access map, admin accounts and settings.
 *
 * One struct dir is shared by the process. Each thread that reads opens its
 * own struct dir_conn with dir_conn_open(); changes run inside dir_write(),
 * which hands the callback a connection inside a write transaction.
 *
 * Durability: dir_write() returns only after the transaction is committed
 * with synchronous=FULL (fsync'd). Concurrent writers are batched into one
 * transaction (group commit); each callback runs inside its own savepoint,
 * so a callback that fails is rolled back without affecting the others.
 *
 * Listing functions call a row callback with string fields; returning
 * non-zero from the callback stops the listing. Names are compared
 * ASCII-case-insensitively everywhere, as XMail does.
 */
#ifndef TERN_DIRECTORY_H
#define TERN_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../admin/errors.h"

struct dir;
struct dir_conn;

typedef int (*dir_row_fn)(void *arg, const char *const *f, int n);

enum tern_err dir_open(const char *path, struct dir **dir_r);
void dir_close(struct dir *d);
struct dir_conn *dir_conn_open(struct dir *d);
void dir_conn_close(struct dir_conn *c);

typedef enum tern_err (*dir_write_fn)(struct dir_conn *c, void *arg);
enum tern_err dir_write(struct dir *d, dir_write_fn fn, void *arg);
/* Statistics: transactions committed and callbacks run (for benchmarks/logs). */
void dir_write_stats(struct dir *d, uint64_t *commits_r, uint64_t *writes_r);
/* Milliseconds since the last write transaction by anyone else than the
 * given callback (background work uses it to stay out of busy periods). */
int64_t dir_idle_ms(struct dir *d, dir_write_fn except);

/* ---- domains ---- */
bool dir_domain_exists(struct dir_conn *c, const char *name);
/* Resolve a name through domains, exact alias domains, wildcard alias
 * domains; writes the real domain into real_r (size >= 256). */
bool dir_domain_resolve(struct dir_conn *c, const char *name, char *real_r, size_t sz);
enum tern_err dir_domain_add(struct dir_conn *c, const char *name);
enum tern_err dir_domain_del(struct dir_conn *c, const char *name);
enum tern_err dir_domain_list(struct dir_conn *c, dir_row_fn fn, void *arg);
/* A domain is enabled unless an admin disabled it (an unknown name counts
 * as enabled: callers check existence themselves). A disabled domain keeps
 * all its data; it receives no mail and serves no logins. */
bool dir_domain_enabled(struct dir_conn *c, const char *name);
enum tern_err dir_domain_set_enabled(struct dir_conn *c, const char *name, bool on);
/* rows: name, enabled ("1"/"0") */
enum tern_err dir_domain_list_state(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_domain_delete_all(struct dir_conn *c);

/* ---- alias domains ---- */
bool dir_aliasdomain_exists(struct dir_conn *c, const char *alias);
enum tern_err dir_aliasdomain_add(struct dir_conn *c, const char *alias, const char *real);
enum tern_err dir_aliasdomain_del(struct dir_conn *c, const char *alias);
/* rows: alias, real (store order) */
enum tern_err dir_aliasdomain_list(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_aliasdomain_delete_all(struct dir_conn *c);

/* ---- users ---- */
struct dir_user {
	int64_t id;
	char domain[256];
	char name[256];
	char dir[256];
	char type; /* 'U' or 'M' */
	char pwhash[160];
	bool has_pending;
	int64_t last_login_time;
	char last_login_ip[64];
};
bool dir_user_get(struct dir_conn *c, const char *domain, const char *name, struct dir_user *u_r);
/* The pending secret box of an account whose hash is not computed yet. */
bool dir_user_pending(struct dir_conn *c, int64_t id, void *box, size_t *len_io);
/* vars: the account's variables serialised as "name<TAB>value<LF>"... */
enum tern_err dir_user_add(struct dir_conn *c, const char *domain, const char *name, char type,
			   const void *pending, size_t pending_len, const char *vars, int64_t id_or_0,
			   int64_t *id_r);
enum tern_err dir_user_del(struct dir_conn *c, int64_t id);
enum tern_err dir_user_set_type(struct dir_conn *c, int64_t id, char type);
bool dir_user_id_taken(struct dir_conn *c, int64_t id);
enum tern_err dir_user_set_login(struct dir_conn *c, int64_t id, int64_t when, const char *ip);
enum tern_err dir_user_set_pending(struct dir_conn *c, int64_t id, const void *box, size_t len);
/* Replace the pending box by a hash, only if the box is still the same.
 * Accounts whose variables say EnableChallengeAuth=1 keep the box as their
 * reversible secret (for challenge-response logins); others lose it. */
enum tern_err dir_user_set_hash_if(struct dir_conn *c, int64_t id, const char *hash, const void *box,
				   size_t len);
/* The sealed reversible secret of an opted-in account. */
bool dir_user_secret(struct dir_conn *c, int64_t id, void *box, size_t *len_io);
enum tern_err dir_user_clear_secret(struct dir_conn *c, int64_t id);
/* Up to max accounts with a pending box: rows id, box (as raw). */
int dir_user_pending_batch(struct dir_conn *c, int max, int64_t *ids, void **boxes, size_t *lens);
/* rows: domain, name, type, id, dir. offset/limit < 0 mean none. */
enum tern_err dir_user_list(struct dir_conn *c, const char *dpat, const char *upat, int64_t offset,
			    int64_t limit, dir_row_fn fn, void *arg);
/* rows: domain, count — every domain matching dpat (NULL = all). */
enum tern_err dir_user_count(struct dir_conn *c, const char *dpat, dir_row_fn fn, void *arg);
/* Accounts of type in domain (exact, real domain); with var, only those
 * whose variable var equals value (match) or does not (!match). -1 on error. */
int64_t dir_user_count_kind(struct dir_conn *c, const char *domain, char type, const char *var, const char *value,
			    bool match);
enum tern_err dir_user_delete_all(struct dir_conn *c);
/* rows: directory names (domain, dir) of every account of a domain */

/* ---- account variables (kept in order; setting a new one appends) ---- */
enum tern_err dir_uservar_list(struct dir_conn *c, int64_t uid, dir_row_fn fn, void *arg);
enum tern_err dir_uservar_set(struct dir_conn *c, int64_t uid, const char *name, const char *value);
enum tern_err dir_uservar_del(struct dir_conn *c, int64_t uid, const char *name);

/* ---- aliases ---- */
bool dir_alias_exists(struct dir_conn *c, const char *domain, const char *alias);
enum tern_err dir_alias_add(struct dir_conn *c, const char *domain, const char *alias, const char *target);
enum tern_err dir_alias_del(struct dir_conn *c, const char *domain, const char *alias);
/* rows: domain, alias, target */
enum tern_err dir_alias_list(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_alias_delete_all(struct dir_conn *c);
/* Resolve an exact or wildcard alias to its target ("name" or "name@dom"). */
bool dir_alias_resolve(struct dir_conn *c, const char *domain, const char *name, char *target_r, size_t sz);

/* ---- external aliases ---- */
bool dir_exalias_exists(struct dir_conn *c, const char *rdomain, const char *rname);
/* The local account an external address stands for ("name@domain"). */
bool dir_exalias_resolve(struct dir_conn *c, const char *rdomain, const char *rname, char *local_r, size_t sz);
enum tern_err dir_exalias_add(struct dir_conn *c, const char *rdomain, const char *rname,
			      const char *ldomain, const char *lname);
enum tern_err dir_exalias_del(struct dir_conn *c, const char *rdomain, const char *rname);
/* rows: rdomain, rname, ldomain, lname */
enum tern_err dir_exalias_list(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_exalias_delete_all(struct dir_conn *c);

/* ---- mailing list members ---- */
bool dir_mluser_exists(struct dir_conn *c, int64_t list_id, const char *addr);
enum tern_err dir_mluser_add(struct dir_conn *c, int64_t list_id, const char *addr, const char *perms);
enum tern_err dir_mluser_del(struct dir_conn *c, int64_t list_id, const char *addr);
/* rows: address, perms */
enum tern_err dir_mluser_list(struct dir_conn *c, int64_t list_id, dir_row_fn fn, void *arg);

/* ---- POP3 links ---- */
bool dir_poplink_exists(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru);
enum tern_err dir_poplink_add(struct dir_conn *c, const char *ld, const char *lu, const char *rh,
			      const char *ru, const void *pwbox, size_t pwlen, const char *auth, bool enabled);
enum tern_err dir_poplink_del(struct dir_conn *c, const char *ld, const char *lu, const char *rh, const char *ru);
/* Enable/disable links of (ld, lu) and, when given, rh/ru; returns the count changed via n_r. */
enum tern_err dir_poplink_enable(struct dir_conn *c, bool on, const char *ld, const char *lu,
				 const char *rh, const char *ru, int *n_r);
/* rows: ld, lu, rh, ru, auth, enabled("1"/"0") */
enum tern_err dir_poplink_list(struct dir_conn *c, dir_row_fn fn, void *arg);
/* The enabled flag of an existing link (for table re-imports). */
bool dir_poplink_get_enabled(struct dir_conn *c, const char *ld, const char *lu, const char *rh,
			     const char *ru, bool *on_r);
bool dir_poplink_get_box(struct dir_conn *c, const char *ld, const char *lu, const char *rh,
			 const char *ru, void *box, size_t *len_io);
enum tern_err dir_poplink_delete_all(struct dir_conn *c);

/* ---- controller access map ---- */
/* rows: addr, mask, action, precedence */
enum tern_err dir_ipmap_list(struct dir_conn *c, const char *map, dir_row_fn fn, void *arg);
/* The maps of single listeners (names with a dot): rows map, addr, mask, action, prec. */
enum tern_err dir_ipmap_list_listeners(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_ipmap_delete_listeners(struct dir_conn *c);
enum tern_err dir_ipmap_replace_begin(struct dir_conn *c, const char *map);
enum tern_err dir_ipmap_append(struct dir_conn *c, const char *map, const char *addr, const char *mask,
			       const char *action, int prec);

/* ---- settings ---- */
bool dir_setting_get(struct dir_conn *c, const char *name, char *val_r, size_t sz);
enum tern_err dir_setting_set(struct dir_conn *c, const char *name, const char *value);
enum tern_err dir_setting_del(struct dir_conn *c, const char *name);
/* rows: name, value (stored values only) */
enum tern_err dir_setting_list(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_setting_delete_all(struct dir_conn *c);

/* ---- admin accounts ---- */
struct dir_admin {
	int64_t id;
	char name[128];
	char pwhash[160];
	unsigned char box[512];
	size_t box_len;
};
bool dir_admin_get(struct dir_conn *c, const char *name, struct dir_admin *a_r);
int64_t dir_admin_count(struct dir_conn *c);
enum tern_err dir_admin_put(struct dir_conn *c, const char *name, const char *hash, const void *box,
			    size_t len);
/* rows: name */
enum tern_err dir_admin_list(struct dir_conn *c, dir_row_fn fn, void *arg);
enum tern_err dir_admin_del(struct dir_conn *c, const char *name);
/* The oldest admin account (the one created with the data root). */
bool dir_admin_first(struct dir_conn *c, char *name_r, size_t sz);

/* ---- admin permissions: kind 'u' (admin user) or 'g' (admin group);
 * domain "" = server-wide; deny true = an explicit deny ---- */
enum tern_err dir_perm_set(struct dir_conn *c, char kind, const char *principal, const char *perm,
			   const char *domain, bool deny);
enum tern_err dir_perm_del(struct dir_conn *c, char kind, const char *principal, const char *perm,
			   const char *domain);
enum tern_err dir_perm_del_all(struct dir_conn *c, char kind, const char *principal);
/* rows: perm, domain, deny ("1"/"0"), by domain then perm */
enum tern_err dir_perm_list(struct dir_conn *c, char kind, const char *principal, dir_row_fn fn, void *arg);

/* ---- renames (dir_rename.c): every row naming the object follows, in
 * the caller's transaction; the callers check that the new name is free ---- */
/* An account or list: its row (name and directory name), aliases to it
 * (local and "name@domain"), external aliases, POP3 links, and its address
 * in every list (with the subscriber name the list keeps). */
enum tern_err dir_user_rename(struct dir_conn *c, int64_t id, const char *new_name, const char *new_dir);
/* A member address: of one list (list_id > 0: TERN_E_MLUSER_EXISTS /
 * TERN_E_MLUSER_NOT_FOUND), or of every list (list_id 0). */
enum tern_err dir_mluser_rename(struct dir_conn *c, int64_t list_id, const char *old_addr, const char *new_addr);
/* A domain: its accounts and lists, aliases (their targets "x@old" too),
 * external aliases, POP3 links, alias domains, list members "x@old",
 * admin permissions scoped to it and the RootDomain/POP3Domain settings. */
enum tern_err dir_domain_rename(struct dir_conn *c, const char *old, const char *new_name);
enum tern_err dir_admin_rename(struct dir_conn *c, const char *old, const char *new_name);
/* Account and domain renames are recorded (kept 7 days): the address
 * mail received at `received` (seconds) for addr goes to now, following
 * renames made after it (an hour of grace), into out; false when none. */
bool dir_rename_follow(struct dir_conn *c, const char *addr, int64_t received, char *out, size_t sz);
enum tern_err dir_perm_rename(struct dir_conn *c, char kind, const char *old, const char *new_name);
/* Move a setting to a new name (replacing any setting of that name). */
enum tern_err dir_setting_rename(struct dir_conn *c, const char *old, const char *new_name);

#endif
