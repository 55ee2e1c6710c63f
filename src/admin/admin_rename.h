/*
 * admin_rename - renaming accounts, groups and lists, domains, list
 * members, admin users and admin groups: one verb each, used by every
 * front-end. Each checks its arguments, refuses a new name that is taken,
 * applies the change durably and logs it (admin, peer, front-end).
 *
 * What follows the object is in store/directory.h (dir_*_rename). An
 * account or domain also has a directory (domains/D, domains/D/U): the
 * store and the directory cannot change in one step, so those renames are
 * made recoverable by an intent record (ROOT/rename.intent, written
 * durably before anything changes):
 *   1. intent written and fsync'd (what is renamed, the ids and paths);
 *   2. the directory store changed in one transaction (name and directory
 *      name of the rows together);
 *   3. the directory renamed (rename(2), atomic) and its parent fsync'd;
 *   4. the intent removed.
 * admin_rename_recover(), run at start-up before any service, completes
 * step 3 when the transaction of step 2 committed (the store names the new
 * directory, the old one is still there) and drops the intent otherwise,
 * so a crash at any point leaves the old or the new name, whole.
 * Deliveries cannot write into a directory while it moves (the moves lock
 * of store/mboxlock.h); a mailbox a POP3 session holds is not renamed
 * (TERN_E_BUSY).
 */
#ifndef TERN_ADMIN_RENAME_H
#define TERN_ADMIN_RENAME_H

#include "admin.h"

/* An account (type 'U') or a group/list ('M') of domain. TERN_E_USER_EXISTS
 * (an account, group or list has the name), TERN_E_ALIAS_EXISTS,
 * TERN_E_BAD_USERNAME, TERN_E_RECORD_NOT_FOUND, TERN_E_BUSY (POP3). */
enum tern_err admin_rename_account(struct admin_ctx *ctx, const char *domain, const char *old, const char *new_name,
				   char type);
/* TERN_E_DOMAIN_EXISTS (a domain or alias domain has the name),
 * TERN_E_BAD_DOMAIN, TERN_E_DOMAIN_NOT_HANDLED, TERN_E_BUSY (POP3). */
enum tern_err admin_rename_domain(struct admin_ctx *ctx, const char *old, const char *new_name);
/* A member address of a group/list (its subscriber name follows). */
enum tern_err admin_rename_mluser(struct admin_ctx *ctx, const char *domain, const char *list, const char *old,
				  const char *new_addr);
/* Admin users and groups: memberships ("AaclParents") and permission
 * records follow. The first admin keeps being the first (same row). */
enum tern_err admin_rename_admin(struct admin_ctx *ctx, const char *old, const char *new_name);
enum tern_err admin_rename_admin_group(struct admin_ctx *ctx, const char *old, const char *new_name);

/* Start-up: complete or drop an interrupted rename (see above). */
void admin_rename_recover(struct admin_env *env, struct dir_conn *c);

#define ADMIN_RENAME_INTENT "rename.intent"

#endif
