/*
 * admin_cli - admin verbs the hierarchical CLI needs beyond the ones the
 * controller uses: a clear-text admin login, and the commits of the CLI's
 * editing model, each applied as ONE durable transaction (a domain with its
 * postmaster account; an account with its password, variables and aliases;
 * a domain's alias domains and catch-all), so that a failing or interrupted
 * commit leaves nothing half-done. Also SAVE CONFIG's snapshots.
 *
 * Like every admin verb these validate their arguments themselves and
 * return only once a change is committed and fsync'd. On failure, verbs
 * with a detail_r buffer name the object that made them fail (an alias, a
 * target account) so the front-end can say which one.
 */
#ifndef TERN_ADMIN_CLI_H
#define TERN_ADMIN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

/* Clear-text admin login (the whole given line is the password, even when
 * it starts with '#'). Unknown admins cost the same time as wrong passwords. */
enum tern_err admin_cli_login(struct admin_ctx *ctx, const char *name, const char *password);

/* Change the password of an admin account after checking the old one. */
enum tern_err admin_cli_admin_passwd(struct admin_ctx *ctx, const char *name, const char *old_password,
				     const char *new_password);

/* TERN_OK if domain is a handled (real) domain, else TERN_E_DOMAIN_NOT_HANDLED. */
enum tern_err admin_cli_domain_exists(struct admin_ctx *ctx, const char *domain);

/* Account look-up: TERN_OK and its type ('U' account, 'M' mailing list), or
 * TERN_E_DOMAIN_NOT_HANDLED / TERN_E_RECORD_NOT_FOUND. */
enum tern_err admin_cli_account_type(struct admin_ctx *ctx, const char *domain, const char *user, char *type_r);

/* Create a domain together with its postmaster account (password given,
 * variables from userdef.tab), in one transaction. */
enum tern_err admin_cli_domain_create(struct admin_ctx *ctx, const char *domain, const char *postmaster_password);

/* Pending edits of one account. vars holds nvars (name, value) pairs; a
 * NULL value removes the variable. alias_add/alias_del are local parts of
 * aliases in the account's domain that point to the account. */
struct admin_cli_account_edit {
	const char *password; /* NULL: unchanged (required when creating) */
	const char *const *vars;
	int nvars;
	const char *const *alias_add;
	int nalias_add;
	const char *const *alias_del;
	int nalias_del;
};

/* Create (create = true) or change an account with all its edits at once. */
enum tern_err admin_cli_account_commit(struct admin_ctx *ctx, const char *domain, const char *user, bool create,
				       const struct admin_cli_account_edit *ed, char *detail_r, size_t dsz);

/* Pending edits of one domain: alias domains to add/remove, and the
 * catch-all (the wildcard alias "*"): catchall NULL = unchanged, "" = none,
 * else the local part of the account that receives unknown recipients. */
struct admin_cli_domain_edit {
	const char *const *alias_add;
	int nalias_add;
	const char *const *alias_del;
	int nalias_del;
	const char *catchall;
};

enum tern_err admin_cli_domain_commit(struct admin_ctx *ctx, const char *domain, const struct admin_cli_domain_edit *ed,
				      char *detail_r, size_t dsz);

/* The catch-all account of a domain (target of its "*" alias, when that
 * target is an account of the same domain) into out; "" when none. */
void admin_cli_catchall_get(struct admin_ctx *ctx, const char *domain, char *out, size_t sz);

/* SAVE CONFIG: write a versioned snapshot of the whole configuration
 * (every table view, plus every account's variables) to
 * ROOT/snapshots/NNNNNN-YYYYMMDDTHHMMSSZ[-label]/, durably (written in a
 * temporary directory, fsync'd, renamed). label may be NULL; otherwise
 * [A-Za-z0-9._-], at most 64 characters. The snapshot's name goes to id_r.
 * Stored secrets appear only as placeholders. */
enum tern_err admin_cli_config_save(struct admin_ctx *ctx, const char *label, char *id_r, size_t sz);

#endif
