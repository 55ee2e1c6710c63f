/*
 * cli_rename - SET name (SET email of a list subscriber) on an existing
 * object: checked at SET, kept as the pending edit "@name", applied by the
 * admin core's rename verbs (admin/admin_rename.h) at the object's COMMIT
 * (DONE in the AACL, the list's COMMIT for a subscriber), before its other
 * edits, which then apply under the new name. A rename that fails answers
 * -ERR and leaves the frame and every pending edit as they were.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../admin/admin_cli.h"
#include "../admin/admin_rename.h"
#include "cli_ctx.h"

bool cli_rename_check(struct cli_session *s, const struct cli_frame *f, const char *v, char *norm, size_t nsz)
{
	const char *what;
	bool ok;
	switch (f->ctx) {
	case CLI_CTX_DOMAIN:
		what = "a valid domain name";
		ok = strlen(v) <= 253 && admin_check_domain(v) == TERN_OK;
		break;
	case CLI_CTX_ACCOUNT:
	case CLI_CTX_GROUP:
	case CLI_CTX_LIST:
		what = "a valid local part";
		ok = strlen(v) <= 128 && strcmp(v, "*") != 0 && admin_check_user(v) == TERN_OK;
		break;
	case CLI_CTX_LIST_USER:
		what = "a valid e-mail address";
		ok = strlen(v) <= 300 && admin_check_address(v) == TERN_OK;
		break;
	case CLI_CTX_ADMIN_USER:
	case CLI_CTX_ADMIN_GROUP:
		what = "letters, digits, '.', '_' and '-', at most 64";
		ok = admin_aacl_name_ok(v);
		break;
	default:
		cli_err(s, "Attribute name is read-only");
		return false;
	}
	if (!ok) {
		cli_err(s, "Invalid value for %s (not %s)", f->ctx == CLI_CTX_LIST_USER ? "email" : "name", what);
		return false;
	}
	if (f->ctx == CLI_CTX_ADMIN_USER || f->ctx == CLI_CTX_ADMIN_GROUP)
		snprintf(norm, nsz, "%s", v);
	else
		cli_lower(norm, nsz, v);
	if (f->create && strcmp(norm, f->name) != 0) {
		cli_err(s, "The name of a new object is the one given to ADD; SET %s renames existing objects "
			   "(UPDATE) only", f->ctx == CLI_CTX_LIST_USER ? "email" : "name");
		return false;
	}
	return true;
}

static void rename_failed(struct cli_session *s, enum tern_err e, const char *type, const char *old,
			  const char *new_name)
{
	switch (e) {
	case TERN_E_USER_EXISTS:
	case TERN_E_ALIAS_EXISTS:
	case TERN_E_DOMAIN_EXISTS:
	case TERN_E_ALIASDOMAIN_EXISTS:
	case TERN_E_MLUSER_EXISTS:
		cli_err(s, "Cannot rename %s %s to %s: %s already exists%s", type, old, new_name, new_name,
			e == TERN_E_ALIAS_EXISTS ? " (an alias)" : e == TERN_E_ALIASDOMAIN_EXISTS ? " (an alias domain)" : "");
		break;
	case TERN_E_BUSY:
		cli_err(s, "Cannot rename %s %s: %s in use by a POP3 session; try again when it ends", type, old,
			strcmp(type, "domain") ? "its mailbox is" : "a mailbox of the domain is");
		break;
	case TERN_E_BAD_DOMAIN:
	case TERN_E_BAD_ADDRESS:
	case TERN_E_BAD_USERNAME:
	case TERN_E_INVALID:
		cli_err(s, "Invalid value for name (%s)", new_name);
		break;
	case TERN_E_RECORD_NOT_FOUND:
	case TERN_E_USER_NOT_FOUND:
	case TERN_E_MLUSER_NOT_FOUND:
	case TERN_E_NOT_A_LIST:
	case TERN_E_DOMAIN_NOT_HANDLED:
		cli_err(s, "Cannot rename %s %s: it no longer exists", type, old);
		break;
	default:
		cli_err(s, "Cannot rename %s %s: %s", type, old, cli_err_text(e));
		break;
	}
}

void cli_rename_only(struct cli_session *s)
{
	size_t l = strlen(s->log_detail);
	if (l >= 2 && !strcmp(s->log_detail + l - 2, "; "))
		s->log_detail[l - 2] = '\0';
	cli_pop(s);
	cli_ok_text(s, CLI_COMMIT_TEXT);
}

bool cli_rename_apply(struct cli_session *s, struct cli_frame *f)
{
	const struct cli_kv *kv = cli_kv_find(&f->edits, "@name");
	if (f->create || !kv || !kv->v || !strcmp(kv->v, f->name)) {
		if (!f->create && kv)
			cli_kv_drop(&f->edits, "@name");
		return true;
	}
	char new_name[256], old[256];
	snprintf(new_name, sizeof new_name, "%s", kv->v);
	snprintf(old, sizeof old, "%s", f->name);
	enum tern_err e;
	const char *type;
	switch (f->ctx) {
	case CLI_CTX_DOMAIN:
		type = "domain";
		e = admin_rename_domain(&s->ctx, old, new_name);
		break;
	case CLI_CTX_ACCOUNT:
		type = "account";
		e = admin_rename_account(&s->ctx, f->domain, old, new_name, 'U');
		break;
	case CLI_CTX_GROUP:
	case CLI_CTX_LIST:
		type = f->ctx == CLI_CTX_GROUP ? "group" : "list";
		e = admin_rename_account(&s->ctx, f->domain, old, new_name, 'M');
		break;
	case CLI_CTX_ADMIN_USER:
		type = "admin user";
		e = admin_rename_admin(&s->ctx, old, new_name);
		break;
	case CLI_CTX_ADMIN_GROUP:
		type = "admin group";
		e = admin_rename_admin_group(&s->ctx, old, new_name);
		break;
	default:
		return true;
	}
	if (e) {
		rename_failed(s, e, type, old, new_name);
		return false;
	}
	snprintf(f->name, sizeof f->name, "%s", new_name);
	if (f->ctx == CLI_CTX_DOMAIN)
		snprintf(f->domain, sizeof f->domain, "%s", new_name);
	if (f->ctx == CLI_CTX_ADMIN_USER && !strcmp(s->admin, old) && strlen(new_name) < sizeof s->admin)
		memcpy(s->admin, new_name, strlen(new_name) + 1); /* renamed oneself */
	cli_kv_drop(&f->edits, "@name");
	if (f->ctx == CLI_CTX_DOMAIN || f->ctx == CLI_CTX_ACCOUNT || f->ctx == CLI_CTX_GROUP || f->ctx == CLI_CTX_LIST)
		cli_detail_add(s, "%s %s%s%s renamed to %s%s%s; ", type, old, f->ctx == CLI_CTX_DOMAIN ? "" : "@",
			       f->ctx == CLI_CTX_DOMAIN ? "" : f->domain, new_name, f->ctx == CLI_CTX_DOMAIN ? "" : "@",
			       f->ctx == CLI_CTX_DOMAIN ? "" : f->domain);
	else
		cli_detail_add(s, "%s %s renamed to %s; ", type, old, new_name);
	return true;
}

/* The subscriber renames a list frame holds ("@rename:<old>" = new). */
#define RENAME_KEY "@rename:"

bool cli_rename_member_pending(struct cli_frame *list, const char *old, const char *new_addr)
{
	char key[600];
	snprintf(key, sizeof key, RENAME_KEY "%s", old);
	cli_kv_set(&list->edits, key, new_addr);
	return true;
}

bool cli_rename_members_apply(struct cli_session *s, struct cli_frame *f)
{
	for (int i = 0; i < f->edits.n;) {
		const struct cli_kv *kv = &f->edits.e[i];
		if (strncmp(kv->k, RENAME_KEY, strlen(RENAME_KEY)) != 0 || !kv->v) {
			i++;
			continue;
		}
		char old[400], new_addr[400];
		snprintf(old, sizeof old, "%s", kv->k + strlen(RENAME_KEY));
		snprintf(new_addr, sizeof new_addr, "%s", kv->v);
		enum tern_err e = admin_rename_mluser(&s->ctx, f->domain, f->name, old, new_addr);
		if (e) {
			rename_failed(s, e, "subscriber", old, new_addr);
			return false;
		}
		cli_detail_add(s, "subscriber %s of %s@%s renamed to %s; ", old, f->name, f->domain, new_addr);
		char key[600];
		snprintf(key, sizeof key, "%s", kv->k);
		cli_kv_drop(&f->edits, key); /* the list shifts: look at i again */
	}
	return true;
}
