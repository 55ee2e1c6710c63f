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

/* ---- groups, mailing lists and domain defaults (admin_cli_objects.c) ----
 *
 * Groups (forwarders) and mailing lists are both XMail-style mailing-list
 * accounts (type 'M', members in the store), so delivery, the controller's
 * mluserlist and ClosedML treat them alike; the variable CliKind says which
 * one the CLI shows it as ("group" or "list"). */
#define ADMIN_CLI_KIND_VAR "CliKind"

struct admin_cli_list_edit {
	const char *kind;     /* "group" or "list" (stored at creation) */
	const char *password; /* NULL: unchanged; a group without one gets a random one */
	const char *const *vars; /* nvars (name, value) pairs; NULL value removes */
	int nvars;
	const char *const *add; /* member addresses to add */
	int nadd;
	const char *const *del; /* member addresses to remove */
	int ndel;
};

/* Create or change a group/list with its members in one transaction. */
enum tern_err admin_cli_list_commit(struct admin_ctx *ctx, const char *domain, const char *name, bool create,
				    const struct admin_cli_list_edit *ed, char *detail_r, size_t dsz);

/* The CLI kind of a mailing-list account: TERN_OK and "group"/"list" in
 * kind_r (lists created elsewhere count as "list"); TERN_E_RECORD_NOT_FOUND
 * when there is no such group/list. */
enum tern_err admin_cli_list_kind(struct admin_ctx *ctx, const char *domain, const char *name, char *kind_r,
				  size_t sz);

/* Names of the groups/lists of kind in domain matching the wildcard
 * pattern (NULL: all), streamed as one-field rows in store order. */
enum tern_err admin_cli_list_names(struct admin_ctx *ctx, const char *domain, const char *kind, const char *pattern,
				   dir_row_fn fn, void *arg);

/* Change the defaults new accounts of domain inherit (its userdef.tab):
 * npairs (name, value) pairs, NULL value removes. The file starts from the
 * effective defaults (the domain's own or the server's) and is written
 * durably. */
enum tern_err admin_cli_domain_defaults_set(struct admin_ctx *ctx, const char *domain, const char *const *pairs,
					    int npairs);

/* ---- server settings and access rules (admin_cli_server.c) ---- */

struct admin_cli_rule {
	const char *ipset; /* addr or addr/len */
	bool allow;
	int priority; /* lower is evaluated first */
	bool off;     /* disabled: stored (ALLOW-OFF / DENY-OFF), skipped when matching */
};

struct admin_cli_server_edit {
	const char *const *settings; /* nsettings (name, value) pairs; NULL value = back to the default */
	int nsettings;
	const char *ipmap; /* non-NULL: replace this access map with rules */
	const struct admin_cli_rule *rules;
	int nrules;
	/* listeners removed from the service: their access control goes too (auth/lstacl.h) */
	const char *lst_scope;
	const char *const *lst_drop;
	int nlst_drop;
};

/* Apply settings (checked against the registry) and access rules in one
 * durable transaction. On TERN_E_INVALID detail_r names the setting or
 * rule at fault. */
/* Inside a write transaction: may a new account ('U') or group/list ('M')
 * take name in domain (no alias, account, group or list of that name;
 * within the domain's admin limits)? */
struct admin_limits;
enum tern_err admin_cli_name_free(struct dir_conn *c, const char *domain, const char *name,
				  const struct admin_limits *lim, char type, bool group, char *detail, size_t dsz);
/* After settings changed wholesale (a controller server.tab upload, a
 * snapshot restore): the TLS parameters and the CLI-edited listeners are
 * brought in line with the store at once; failures are logged (what: who
 * asks, for the log). */
void admin_apply_live_settings(struct admin_env *env, struct dir_conn *rd, const char *what);
/* Store name/value setting pairs in the open transaction: a NULL value or
 * the default deletes the row. */
enum tern_err admin_cli_store_settings(struct dir_conn *c, const char *const *pairs, int n);
enum tern_err admin_cli_server_commit(struct admin_ctx *ctx, const struct admin_cli_server_edit *ed, char *detail_r,
				      size_t dsz);

/* Access-map precedence (higher wins) of a CLI priority (lower first), and back. */
#define ADMIN_CLI_PREC(prio) (100000 - (prio))

/* The rules of an access map: rows addr, mask, ALLOW|DENY (-OFF: disabled), precedence. */
enum tern_err admin_cli_rules_list(struct admin_ctx *ctx, const char *map, dir_row_fn fn, void *arg);

/* ---- admin users and groups (AACL, admin_cli_aacl.c) ----
 * Admin accounts are the store's (the controller's too). What the AACL
 * adds is kept as settings: AaclDescription.<name>, AaclInterfaces.<name>
 * ("(cli ctrl)": the front-ends the admin may log in to), AaclParents.<name>
 * ("(g1 g2)": its admin groups); a group is AaclGroup.<g> (its interfaces)
 * with AaclGroupDescription.<g> and AaclGroupParents.<g> ("(g1 g2)": the
 * groups it belongs to; nested, never a cycle). An admin may log in
 * through the union of its own interfaces and those of every group of its
 * ancestry (its groups, their parents, ...); when none of them sets any:
 * all. */

/* The groups above a user (kind 'u') or group ('g'), nearest first, each
 * once (at most AACL_MAX_GROUPS). */
#define AACL_MAX_GROUPS 64
struct aacl_groups {
	char v[AACL_MAX_GROUPS][65];
	int n;
};
void admin_aacl_ancestry(struct dir_conn *c, char kind, const char *name, struct aacl_groups *out);

/* Is name a valid admin user or group name (letters, digits, '.', '_', '-';
 * 1 to 64)? */
bool admin_aacl_name_ok(const char *name);

/* May admin `name` log in through front-end `via` ("cli", "ctrl")? */
bool admin_aacl_may_login(struct dir_conn *c, const char *name, const char *via);

/* rows: name, description, interfaces, parents */
enum tern_err admin_cli_admin_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg);
bool admin_cli_admin_exists(struct admin_ctx *ctx, const char *name);

/* Create (create = true; password required) or change an admin user: NULL
 * fields stay unchanged; description/interfaces "" remove them. One
 * transaction. */
enum tern_err admin_cli_admin_save(struct admin_ctx *ctx, const char *name, bool create, const char *password,
				   const char *description, const char *interfaces, const char *parents);

/* rows: name, description, interfaces, members ("(a b)": users, then
 * groups), parents ("(a b)", "" when none) */
enum tern_err admin_cli_group_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg);
bool admin_cli_group_exists(struct admin_ctx *ctx, const char *name);
/* Would making group g a member of group p make g its own ancestor? */
bool admin_cli_group_cycle(struct admin_ctx *ctx, const char *g, const char *p);
/* interfaces "" = every interface; parents "()" = none. TERN_E_FORBIDDEN:
 * a parent would make the group its own ancestor. */
enum tern_err admin_cli_group_save(struct admin_ctx *ctx, const char *name, bool create, const char *description,
				   const char *interfaces, const char *parents);
/* Delete a group; with members (users or groups) only when forced (they
 * leave it). */
enum tern_err admin_cli_group_del(struct admin_ctx *ctx, const char *name, bool forced);

/* Delete an admin user (never the last one, never the one acting). */
enum tern_err admin_cli_admin_del(struct admin_ctx *ctx, const char *name);

/* ---- snapshots: list, show, restore (admin_cli_restore.c) ----
 *
 * What a restore brings back (additive: nothing that exists now is
 * deleted, no mailbox is touched):
 *   - the server settings (server.tab) and the access maps (ctrl, and
 *     from format 2 cli, pop3, smtp): replaced by the snapshot's;
 *   - format 2 (snapshot_parts.h): admin accounts deleted since (with
 *     their saved password), the permission records and AACL attributes
 *     of the admin users/groups the snapshot has (those created since keep
 *     theirs), and the configuration files (config_files.h): the root's
 *     replaced as a set, a domain's/account's only for domains/accounts
 *     the snapshot holds, after the store's transaction;
 *   - refused (TERN_E_OVER_CEILING / TERN_E_LIMIT_REACHED, the reason in
 *     the report's detail, nothing changed) when it would set a quota
 *     above, or make lists/groups exceed, the limits in force after it;
 *   - domains, alias domains, aliases and external aliases the snapshot
 *     has and the store lacks (a deleted domain comes back, with its alias
 *     domains, aliases and catch-all);
 *   - the variables of accounts/lists that exist (quota, contact info,
 *     limits, list settings) set to the snapshot's values.
 * Accounts and lists deleted since are not recreated: snapshots hold no
 * passwords (their mailboxes are in the trash). Before changing anything
 * the restore saves the current configuration as a snapshot labelled
 * "before-restore-<version>", so it can itself be undone. One transaction
 * for the store. */

/* rows: name, version, created, admin, peer (oldest first) */
enum tern_err admin_cli_snapshot_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg);
/* One file of a snapshot (MANIFEST, a view, uservars.tab) into out. */
enum tern_err admin_cli_snapshot_read(struct admin_ctx *ctx, const char *name, const char *file, struct buf *out);
/* Names of the files a snapshot holds, for SHOW. */
const char *const *admin_cli_snapshot_files(void);

/* Names of a snapshot's files (tables, then files/REL), one per row. */
enum tern_err admin_cli_snapshot_file_names(struct admin_ctx *ctx, const char *name, dir_row_fn fn, void *arg);

struct admin_cli_restore_report {
	char before[160]; /* the snapshot saved first ("" when refused) */
	int settings, domains, aliasdomains, aliases, exaliases, vars, skipped;
	int admins, perms, rules, files, files_removed; /* format 2 */
	char detail[300]; /* why a restore was refused (admin limits) */
};

enum tern_err admin_cli_config_restore(struct admin_ctx *ctx, const char *name, struct admin_cli_restore_report *r);
