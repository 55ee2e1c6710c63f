/*
 * cli_ctx_adminlimits - the domain's administrative limits
 * (<domain-adminLimits#>, entered with CONFIG adminLimits from a domain,
 * left with COMMIT or BACK).
 *
 * The limits Tern enforces are the admin core's (admin/admin_limits.h):
 * maxAccounts, maxMaillists, maxGroups and the quota ceiling
 * maxAccountMessageSizeQuota (KB), 0 = no limit. They are stored in the
 * domain's adminlimits.tab at this context's COMMIT (durably), so the
 * real client's pattern CONFIG adminLimits -> SET maxAccounts n -> COMMIT
 * -> COMMIT applies them at the first COMMIT and the second commits the
 * domain. Limits for things Tern does not have (folders, message counts,
 * public folders, account classes, subdomains, licences) are refused on
 * SET with the reason; HELP lists them with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../admin/admin_limits.h"
#include "cli_ctx.h"

#define IN(c) CLI_IN(CLI_CTX_##c)
#define N CLI_N

#define LIM(n, max, h) {n, CLI_AT_NUMBER, "lim:" n, NULL, 0, max, "0", 0, h}
#define NO(n, h) {n, CLI_AT_NUMBER, NULL, NULL, 0, 0, NULL, CLI_AF_WHY | CLI_AF_NOSET | CLI_AF_NOSHOW, h}
#define NO_FOLDERS "Not supported: Tern's mailboxes have one folder (no folder count to limit)."
#define NO_ML "Not supported: Tern's mailing lists have no mailbox to limit."
#define NO_PF "Not supported: Tern has no public folders."
#define NO_SUB "Not supported: Tern has no subdomains."
#define NO_LIC "Not supported: Tern has no licence ceilings (every account is basic)."

static const struct cli_attr limit_attrs[] = {
	LIM("maxAccounts", 2147483647LL,
	    "Accounts the domain may hold, 0 = no limit; ADD Account and the controller's useradd are refused at "
	    "the limit (a lower limit removes nothing)."),
	LIM("maxMaillists", 2147483647LL,
	    "Mailing lists the domain may hold, 0 = no limit (lists made by the controller's useradd ... M count)."),
	LIM("maxGroups", 2147483647LL, "Groups the domain may hold, 0 = no limit."),
	LIM("maxAccountMessageSizeQuota", ADMIN_LIMIT_MAX,
	    "Ceiling in KB for every account's totalMessageSize (MaxMBSize), 0 = none; with a ceiling a larger or "
	    "unlimited (0) quota is refused and new accounts start at most at the ceiling."),
	NO("maxFolderRecipients", NO_PF),
	NO("maxAccountClasses", "Not supported: Tern has no account classes."),
	LIM("maxAccountMessageCountQuota", ADMIN_LIMIT_MAX,
	    "Ceiling for every account's totalMessageCount (MaxMessages), 0 = none; enforced like the size ceiling."),
	NO("maxAccountFolderCountQuota", NO_FOLDERS),
	LIM("maxAccountFolderMessageSizeQuota", ADMIN_LIMIT_MAX,
	    "Ceiling in KB for every account's per-folder messageSize (FolderMaxMBSize; Tern has one folder), 0 = "
	    "none."),
	LIM("maxAccountFolderMessageCountQuota", ADMIN_LIMIT_MAX,
	    "Ceiling for every account's per-folder messageCount (FolderMaxMessages), 0 = none."),
	NO("maxMaillistMessageSizeQuota", NO_ML),
	NO("maxMaillistMessageCountQuota", NO_ML),
	NO("maxMaillistFolderCountQuota", NO_ML),
	NO("maxMaillistFolderMessageSizeQuota", NO_ML),
	NO("maxMaillistFolderMessageCountQuota", NO_ML),
	NO("maxPublicFolderMessageSizeQuota", NO_PF),
	NO("maxPublicFolderMessageCountQuota", NO_PF),
	NO("maxPublicFolderFolderCountQuota", NO_PF),
	NO("maxPublicFolderFolderMessageSizeQuota", NO_PF),
	NO("maxPublicFolderFolderMessageCountQuota", NO_PF),
	NO("availableServices",
	   "Not supported: services are chosen per account (CONFIG Limits services), not offered per domain."),
	NO("maxSubdomains", NO_SUB),
	NO("subdomainStorageLocation", NO_SUB),
	NO("subdomainObjectStorageLocation", NO_SUB),
	NO("purgeConstraint", "Not supported: Tern has no PURGE command."),
	NO("purgeFolders", "Not supported: Tern has no PURGE command."),
	NO("maxPremiumMailboxCount", NO_LIC),
	NO("maxSharingMailboxCount", NO_LIC),
	NO("maxPersonalOrganizerMailboxCount", NO_LIC),
	NO("maxOutlookConnectorMailboxCount", NO_LIC),
	NO("maxActiveSyncMailboxCount", NO_LIC),
	NO("maxIAMailboxCount", NO_LIC),
};

static const struct cli_ctx_reg limits_ctxs[] = {
	{CLI_CTX_ADMIN_LIMITS,
	 {"adminLimits", "AdminLimits", "admin limit set", limit_attrs, N(limit_attrs), CLI_CTX_DOMAIN}},
};

static void h_config_admin_limits(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	char domain[256];
	snprintf(domain, sizeof domain, "%s", cli_cur(s)->domain);
	struct admin_limits lim;
	admin_limits_get(s->srv->env, domain, &lim);
	struct cli_frame *f = cli_push(s, CLI_CTX_ADMIN_LIMITS);
	if (!f)
		return;
	snprintf(f->domain, sizeof f->domain, "%s", domain);
	snprintf(f->name, sizeof f->name, "%s", domain);
	for (int i = 0; i < ADMIN_LIM__COUNT; i++) {
		char key[64], v[32];
		snprintf(key, sizeof key, "lim:%s", admin_limit_name((enum admin_limit)i));
		snprintf(v, sizeof v, "%lld", (long long)lim.v[i]);
		cli_kv_set(&f->base, key, v);
	}
	cli_ok(s);
}

static void h_commit_admin_limits(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	struct cli_frame *f = cli_cur(s);
	if (!cli_frame_pending(f)) {
		cli_pop(s);
		cli_ok_text(s, CLI_COMMIT_TEXT);
		return;
	}
	struct admin_limits lim;
	for (int i = 0; i < ADMIN_LIM__COUNT; i++) {
		const char *name = admin_limit_name((enum admin_limit)i);
		const struct cli_attr *a = cli_attr_find(f->ctx, name);
		char tmp[64];
		lim.v[i] = a ? strtoll(cli_attr_value(s, s->depth, a, tmp, sizeof tmp), NULL, 10) : 0;
	}
	enum tern_err e = admin_limits_set(&s->ctx, f->domain, &lim);
	if (e) {
		cli_commit_failed(s, e, "Domain", f->domain);
		return;
	}
	cli_detail_add(s, "domain %s admin limits:", f->domain);
	for (int i = 0; i < ADMIN_LIM__COUNT; i++)
		cli_detail_add(s, " %s=%lld", admin_limit_name((enum admin_limit)i), (long long)lim.v[i]);
	cli_pop(s);
	cli_ok_text(s, CLI_COMMIT_TEXT);
}

static void h_no_subdomains(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_err(s, "This server has no subdomains");
}

#define ARGS {{CLI_ARG_SET, NULL, "args", false}}

static const struct cli_cmd limits_cmds[] = {
	{IN(DOMAIN), "CONFIG adminLimits", {{0}}, CLI_READS | CLI_ENTERS(ADMIN_LIMITS), h_config_admin_limits,
	 "Enter the domain's administrative limits (applied at their COMMIT)."},
	{IN(ADMIN_LIMITS), "SET", CLI_SET_ARGS, CLI_PENDING, cli_h_set, NULL},
	{IN(ADMIN_LIMITS), "SHOW", {CLI_SHOW_ATTR}, CLI_READS, cli_h_show,
	 "Print the limits (pending changes included; 0 = no limit)."},
	{IN(ADMIN_LIMITS), "COMMIT", {{0}}, CLI_CHANGES | CLI_LEAVES(COMMIT), h_commit_admin_limits,
	 "Store the limits and return to the domain."},
	{IN(ADMIN_LIMITS), "LIST reservedRcpts", {{0}}, CLI_LATER, cli_h_later, NULL},
	{IN(ADMIN_LIMITS), "ADD reservedRcpt", ARGS, CLI_LATER, cli_h_later, NULL},
	{IN(ADMIN_LIMITS), "REMOVE reservedRcpt", ARGS, CLI_LATER, cli_h_later, NULL},
	{IN(ADMIN_LIMITS), "LIST subdomainMessageStorageLocations", {{0}}, CLI_NOHELP, h_no_subdomains,
	 "Subdomains are not supported."},
	{IN(ADMIN_LIMITS), "ADD subdomainMessageStorageLocation", ARGS, CLI_NOHELP, h_no_subdomains,
	 "Subdomains are not supported."},
	{IN(ADMIN_LIMITS), "REMOVE subdomainMessageStorageLocation", ARGS, CLI_NOHELP, h_no_subdomains,
	 "Subdomains are not supported."},
};

const struct cli_part cli_part_adminlimits = {limits_ctxs, N(limits_ctxs), limits_cmds, N(limits_cmds)};
