/*
 * admin_cli_listener - a listener's settings and access control in one
 * transaction; see admin_cli_listener.h.
 */
#include "admin_cli_listener.h"

#include <stdio.h>
#include <string.h>

#include "settings.h"

static enum tern_err tx_listener(struct dir_conn *c, void *arg)
{
	const struct admin_cli_listener_edit *ed = arg;
	enum tern_err e = admin_cli_store_settings(c, ed->settings, ed->nsettings);
	if (!e && ed->from && strcmp(ed->from, ed->to) != 0)
		e = lstacl_tx_drop(c, ed->scope, ed->from);
	if (!e)
		e = lstacl_tx_put(c, ed->scope, ed->to, ed->acl, ed->rules, ed->nrules);
	return e;
}

enum tern_err admin_cli_listener_commit(struct admin_ctx *ctx, const struct admin_cli_listener_edit *ed,
					char *detail_r, size_t dsz)
{
	if (detail_r && dsz)
		detail_r[0] = '\0';
	for (int i = 0; i < ed->nsettings; i++) {
		const char *name = ed->settings[2 * i], *value = ed->settings[2 * i + 1];
		if (!settings_find(name) || (value && settings_validate(name, value) != TERN_OK)) {
			if (detail_r && dsz)
				snprintf(detail_r, dsz, "%s", name);
			return TERN_E_INVALID;
		}
	}
	for (int i = 0; i < ed->nrules; i++) {
		char addr[128], mask[16] = "32";
		snprintf(addr, sizeof addr, "%s", ed->rules[i].ipset);
		char *slash = strchr(addr, '/');
		if (slash) {
			*slash = '\0';
			snprintf(mask, sizeof mask, "%s", slash + 1);
		} else if (strchr(addr, ':')) {
			snprintf(mask, sizeof mask, "128");
		}
		if (!admin_ipmap_rule_valid(addr, mask) || ed->rules[i].priority < 0 || ed->rules[i].priority > 100000) {
			if (detail_r && dsz)
				snprintf(detail_r, dsz, "%s", ed->rules[i].ipset);
			return TERN_E_INVALID;
		}
	}
	return dir_write(ctx->env->dir, tx_listener, (void *)ed);
}
