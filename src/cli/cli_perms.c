/*
 * cli_perms - which AACL permission a CLI command needs, and on which
 * domain; the rule itself is admin_perm_check() (admin_perms.h).
 *
 * Full administrators pass everything. For a restricted admin:
 *  - leaving, HELP, BACK, the version and CHANGE password (its own) need
 *    nothing;
 *  - at the root, UPDATE/SHOW Domain <d> need some permission on d; every
 *    other root command (and the server, queue and AACL contexts) is for
 *    full administrators;
 *  - inside a domain: reads (LIST, SHOW, UPDATE Account...) and the
 *    domain's COMMIT need some permission on it (each pending edit was
 *    checked when it was made); ADD/REMOVE Account, List and Group
 *    need createAccounts; ADD/REMOVE Alias (alias domains) manageDomainAliases;
 *    changes inside an account, list or group need manageAccounts (or
 *    createAccounts while creating it); other domain settings are for full
 *    administrators.
 */
#include <string.h>
#include <strings.h>

#include "../admin/admin_perms.h"
#include "cli_ctx.h"

static bool words_are(const struct cli_cmd *cmd, const char *w)
{
	return !strcasecmp(cmd->words, w);
}

/* The nearest frame of an object inside a domain (account, list, group). */
static const struct cli_frame *object_frame(const struct cli_session *s)
{
	for (int i = s->depth; i > 0; i--) {
		enum cli_ctx c = s->f[i].ctx;
		if (c == CLI_CTX_ACCOUNT || c == CLI_CTX_LIST || c == CLI_CTX_GROUP)
			return &s->f[i];
		if (c == CLI_CTX_DOMAIN)
			break;
	}
	return NULL;
}

static int perm_for(const struct cli_session *s, const struct cli_cmd *cmd, const struct cli_parsed *p,
		    const char **dom)
{
	const struct cli_frame *f = &s->f[s->depth];
	*dom = f->domain;
	if (f->ctx == CLI_CTX_LOGIN || words_are(cmd, "EXIT/QUIT") || words_are(cmd, "HELP") ||
	    words_are(cmd, "GET VERSION") || words_are(cmd, "BACK") || words_are(cmd, "CHANGE password"))
		return ADMIN_PERM_NONE;
	if ((f->ctx == CLI_CTX_ROOT || f->ctx == CLI_CTX_DOMAIN) &&
	    (words_are(cmd, "UPDATE Domain") || words_are(cmd, "SHOW Domain"))) {
		*dom = p->val[0];
		return ADMIN_PERM_READ;
	}
	bool in_domain = f->ctx == CLI_CTX_DOMAIN || f->ctx == CLI_CTX_ACCOUNT || f->ctx == CLI_CTX_CONTACT ||
			 f->ctx == CLI_CTX_QUOTAS || f->ctx == CLI_CTX_LIMITS || f->ctx == CLI_CTX_GROUP ||
			 f->ctx == CLI_CTX_LIST || f->ctx == CLI_CTX_LIST_USER || f->ctx == CLI_CTX_DEF_QUOTAS ||
			 f->ctx == CLI_CTX_DEF_LIMITS;
	if (!in_domain || !f->domain[0])
		return ADMIN_PERM_FULL;
	if (f->ctx == CLI_CTX_DOMAIN) {
		if (words_are(cmd, "ADD Account") || words_are(cmd, "REMOVE Account") || words_are(cmd, "ADD List") ||
		    words_are(cmd, "REMOVE List") || words_are(cmd, "ADD Group") || words_are(cmd, "REMOVE Group"))
			return ADMIN_PERM_CREATE_ACCOUNTS;
		if (words_are(cmd, "ADD Alias") || words_are(cmd, "REMOVE Alias"))
			return ADMIN_PERM_MANAGE_DOMAIN_ALIASES;
		if (words_are(cmd, "COMMIT"))
			return ADMIN_PERM_READ;
	}
	if ((cmd->flags & CLI_READS) && !(cmd->flags & (CLI_CHANGES | CLI_PENDING)))
		return ADMIN_PERM_READ;
	const struct cli_frame *o = object_frame(s);
	if (!o)
		return ADMIN_PERM_FULL;
	return o->create ? ADMIN_PERM_CREATE_ACCOUNTS : ADMIN_PERM_MANAGE_ACCOUNTS;
}

bool cli_perm_allows(struct cli_session *s, const struct cli_cmd *cmd, const struct cli_parsed *p)
{
	if (!s->admin[0])
		return true;
	const char *dom = NULL;
	int perm = perm_for(s, cmd, p, &dom);
	char d[256] = "";
	if (dom)
		admin_lower_copy(d, sizeof d, dom);
	return admin_perm_check(&s->ctx, perm, d, cmd->words) == TERN_OK;
}
