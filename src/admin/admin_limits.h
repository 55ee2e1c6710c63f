/*
 * admin_limits - per-domain administrative limits (the CLI's
 * <domain-adminLimits#>), enforced by the admin core, so that every
 * front-end obeys them (the CLI's ADD Account/Group/List, the
 * controller's useradd and uservarsset).
 *
 * Stored in the domain's own directory, domains/D/adminlimits.tab, one
 * "name"<TAB>"value" line per limit that is set (the format of
 * userdef.tab), written durably; it goes to the trash with the domain.
 * Every limit is a whole number; 0 (or absent) means no limit:
 *   maxAccounts                 accounts (type U) of the domain;
 *   maxMaillists                mailing lists (type M not marked as a
 *                               group; lists made by the controller count);
 *   maxGroups                   groups (type M with CliKind "group");
 *   maxAccountMessageSizeQuota  ceiling in KB for every account's
 *                               MaxMBSize (the CLI's totalMessageSize):
 *                               a larger value, 0 (no quota) or removing
 *                               the quota is refused; a new account
 *                               starts at most at the ceiling;
 *   maxAccountMessageCountQuota, maxAccountFolderMessageSizeQuota,
 *   maxAccountFolderMessageCountQuota
 *                               the same ceilings for MaxMessages
 *                               (totalMessageCount), FolderMaxMBSize
 *                               (messageSize, KB) and FolderMaxMessages
 *                               (messageCount).
 * Counts are taken inside the write transaction that creates the object,
 * so concurrent creations cannot overshoot. Lowering a limit below what
 * the domain already holds is allowed: nothing existing is removed or
 * changed, but new objects (or quotas above the new ceiling) are refused
 * until usage is back under the limit.
 */
#ifndef TERN_ADMIN_LIMITS_H
#define TERN_ADMIN_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin.h"

enum admin_limit {
	ADMIN_LIM_ACCOUNTS,
	ADMIN_LIM_MAILLISTS,
	ADMIN_LIM_GROUPS,
	ADMIN_LIM_QUOTA,        /* ceiling of MaxMBSize */
	ADMIN_LIM_COUNT_QUOTA,  /* ceiling of MaxMessages */
	ADMIN_LIM_FOLDER_SIZE,  /* ceiling of FolderMaxMBSize */
	ADMIN_LIM_FOLDER_COUNT, /* ceiling of FolderMaxMessages */
	ADMIN_LIM__COUNT
};

struct admin_limits {
	int64_t v[ADMIN_LIM__COUNT]; /* 0 = no limit */
};

#define ADMIN_LIMITS_FILE "adminlimits.tab"
#define ADMIN_LIMIT_MAX 4294967295LL

/* The stored name of a limit ("maxAccounts", ...). */
const char *admin_limit_name(enum admin_limit l);
/* Limit by name (case-insensitive); false if unknown. */
bool admin_limit_find(const char *name, enum admin_limit *l_r);

/* The limits of a (real) domain; all 0 when none are set. */
void admin_limits_get(struct admin_env *env, const char *domain, struct admin_limits *out);
/* The limits written in text (adminlimits.tab's format); what names it
 * in warnings about bad lines. */
void admin_limits_parse(const char *text, size_t len, const char *what, struct admin_limits *out);
/* Replace the limits of domain (a handled real domain), durably. */
enum tern_err admin_limits_set(struct admin_ctx *ctx, const char *domain, const struct admin_limits *lim);

/* Inside a write transaction: may one more object be created in domain?
 * type 'U' (account) or 'M' (group when group is true, else list).
 * TERN_E_LIMIT_REACHED with "name=value" in detail when not. */
enum tern_err admin_limits_check_new(struct dir_conn *c, const char *domain, const struct admin_limits *lim,
				     char type, bool group, char *detail, size_t dsz);
/* Is var an account variable a ceiling limits (MaxMBSize, MaxMessages,
 * FolderMaxMBSize, FolderMaxMessages)? Which one in *l_r. */
bool admin_limits_ceiling_of(const char *var, enum admin_limit *l_r);
/* May an account's variable var become value (NULL: removed)? TERN_OK for
 * variables no ceiling limits; TERN_E_OVER_CEILING with "<limit>=N" in
 * detail when not. */
enum tern_err admin_limits_check_var(const struct admin_limits *lim, const char *var, const char *value, char *detail,
				     size_t dsz);
/* The variables (serialised "name<TAB>value<LF>"...) of a new account with
 * each ceiling-limited variable capped at its ceiling; takes vars (freed)
 * and returns the string to use. */
char *admin_limits_cap_vars(const struct admin_limits *lim, char *vars);

#endif
