/*
 * admin_perms - AACL permissions of admin users and admin groups, checked
 * by both admin front-ends (CLI and controller) before a command runs.
 *
 * Rule (one place, admin_perms.c):
 *  - The oldest admin account (created with the data root: 'admin' or the
 *    --set-admin name) is always a full administrator.
 *  - An admin with NO permission records, neither its own nor its groups',
 *    is a full administrator (every data root made before permissions
 *    existed keeps working).
 *  - Otherwise the admin is restricted: it holds permission P on domain D
 *    when it or one of its groups has a grant of P on D or server-wide,
 *    and neither it nor any of its groups has a deny of P on D or
 *    server-wide. A deny always wins over any grant.
 *  - A restricted admin may read a domain's objects when it holds any
 *    permission on that domain; everything not tied to a permission
 *    (server settings, the queue, the AACL, domains themselves) is for
 *    full administrators only.
 */
#ifndef TERN_ADMIN_PERMS_H
#define TERN_ADMIN_PERMS_H

#include <stdbool.h>
#include <stddef.h>

#include "admin.h"

enum admin_perm {
	ADMIN_PERM_CREATE_ACCOUNTS,      /* add and delete accounts (and lists) of a domain */
	ADMIN_PERM_MANAGE_ACCOUNTS,      /* change existing accounts, aliases, lists of a domain */
	ADMIN_PERM_MANAGE_DOMAIN_ALIASES, /* alias domains of a domain */
	ADMIN_PERM__COUNT,
	ADMIN_PERM_READ = 100, /* any permission on the domain */
	ADMIN_PERM_FULL,       /* full administrators only */
	ADMIN_PERM_NONE        /* everyone (noop, quit, navigation) */
};

const char *admin_perm_name(int perm);
/* -1 for a name Tern has no feature for. */
int admin_perm_parse(const char *name);
/* "createAccounts manageAccounts ..." */
const char *admin_perm_supported(void);

/* Is the admin a full administrator (see the rule above)? */
bool admin_perm_is_full(struct dir_conn *c, const char *admin);
/* TERN_OK or TERN_E_PERMISSION (logged with what). domain may be NULL for
 * ADMIN_PERM_FULL/NONE. */
enum tern_err admin_perm_check(struct admin_ctx *ctx, int perm, const char *domain, const char *what);

/* GRANT ('G'), DENY ('D') or REVOKE ('R') the permissions of the set
 * "(a b)" to admin user (kind 'u') or group ('g') principal, server-wide
 * (domain NULL) or on a domain. TERN_E_INVALID with the bad name in
 * bad_r for an unknown permission; TERN_E_DOMAIN_NOT_HANDLED; TERN_E_BUSY
 * when the principal is the built-in first admin; TERN_E_RECORD_NOT_FOUND
 * when it does not exist (any more). */
enum tern_err admin_perm_change(struct admin_ctx *ctx, char kind, const char *principal, const char *set,
				const char *domain, char op, char *bad_r, size_t sz);
/* The checks of admin_perm_change without the change (for a principal
 * that is not stored yet): the same errors but TERN_E_BUSY. */
enum tern_err admin_perm_validate(struct admin_ctx *ctx, const char *set, const char *domain, char *bad_r, size_t sz);

/* Effective permissions: rows (domain, "" = server-wide; perm) of what the
 * principal holds, groups merged and denies applied; *full_r true when it
 * is a full administrator (no rows then). domain NULL = every scope. */
enum tern_err admin_perm_effective(struct admin_ctx *ctx, char kind, const char *principal, const char *domain,
				   bool *full_r, dir_row_fn fn, void *arg);

/* Drop every record of a principal (inside a directory transaction). */
enum tern_err admin_perm_forget(struct dir_conn *c, char kind, const char *principal);

/* The controller's check: the permission its command needs, on which domain. */
enum tern_err admin_perm_ctrl(struct admin_ctx *ctx, char *const *argv, int argc);

#endif
