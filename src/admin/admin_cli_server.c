/*
 * admin_cli_server - server settings and access rules for the CLI's
 * server contexts, in one transaction; see admin_cli.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"
#include "../core/tls.h"
#include "admin_cli.h"
#include "settings.h"
#include "../auth/lstacl.h"

static void set_detail(char *detail_r, size_t dsz, const char *what)
{
	if (detail_r && dsz)
		snprintf(detail_r, dsz, "%s", what ? what : "");
}

struct server_commit {
	const struct admin_cli_server_edit *ed;
};

static void rule_parts(const char *ipset, char *addr, size_t asz, char *mask, size_t msz)
{
	snprintf(addr, asz, "%s", ipset);
	char *slash = strchr(addr, '/');
	if (slash) {
		*slash = '\0';
		snprintf(mask, msz, "%s", slash + 1);
	} else {
		snprintf(mask, msz, "%s", strchr(addr, ':') ? "128" : "32");
	}
}

enum tern_err admin_cli_store_settings(struct dir_conn *c, const char *const *pairs, int n)
{
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && i < n; i++) {
		const char *name = pairs[2 * i], *value = pairs[2 * i + 1];
		const struct setting_def *d = settings_find(name);
		if (!value || (d && !strcmp(d->def, value)))
			e = dir_setting_del(c, name);
		else
			e = dir_setting_set(c, name, value);
	}
	return e;
}

static enum tern_err tx_server_commit(struct dir_conn *c, void *arg)
{
	struct server_commit *sc = arg;
	const struct admin_cli_server_edit *ed = sc->ed;
	enum tern_err e = admin_cli_store_settings(c, ed->settings, ed->nsettings);
	if (!e && ed->ipmap) {
		e = dir_ipmap_replace_begin(c, ed->ipmap);
		for (int i = 0; !e && i < ed->nrules; i++) {
			char addr[128], mask[64];
			rule_parts(ed->rules[i].ipset, addr, sizeof addr, mask, sizeof mask);
			const char *action = ed->rules[i].allow ? (ed->rules[i].off ? "ALLOW-OFF" : "ALLOW")
								: (ed->rules[i].off ? "DENY-OFF" : "DENY");
			e = dir_ipmap_append(c, ed->ipmap, addr, mask, action, ADMIN_CLI_PREC(ed->rules[i].priority));
		}
	}
	for (int i = 0; !e && i < ed->nlst_drop; i++)
		e = lstacl_tx_drop(c, ed->lst_scope, ed->lst_drop[i]);
	return e;
}

enum tern_err admin_cli_server_commit(struct admin_ctx *ctx, const struct admin_cli_server_edit *ed, char *detail_r,
				      size_t dsz)
{
	set_detail(detail_r, dsz, NULL);
	for (int i = 0; i < ed->nsettings; i++) {
		const char *name = ed->settings[2 * i], *value = ed->settings[2 * i + 1];
		if (!settings_find(name) || (value && settings_validate(name, value) != TERN_OK)) {
			set_detail(detail_r, dsz, name);
			return TERN_E_INVALID;
		}
	}
	if (ed->ipmap && strcmp(ed->ipmap, "cli") != 0 && strcmp(ed->ipmap, "pop3") != 0 &&
	    strcmp(ed->ipmap, "smtp") != 0)
		return TERN_E_INVALID; /* the CLI's, POP3's and SMTP's maps only; the controller's is ctrl.ipmap.tab */
	for (int i = 0; ed->ipmap && i < ed->nrules; i++) {
		char addr[128], mask[64];
		if (strlen(ed->rules[i].ipset) >= sizeof addr || ed->rules[i].priority < 0 ||
		    ed->rules[i].priority > 100000) {
			set_detail(detail_r, dsz, ed->rules[i].ipset);
			return TERN_E_INVALID;
		}
		rule_parts(ed->rules[i].ipset, addr, sizeof addr, mask, sizeof mask);
		if (!admin_ipmap_rule_valid(addr, mask)) {
			set_detail(detail_r, dsz, ed->rules[i].ipset);
			return TERN_E_INVALID;
		}
	}
	struct server_commit sc = {ed};
	return dir_write(ctx->env->dir, tx_server_commit, &sc);
}

enum tern_err admin_cli_rules_list(struct admin_ctx *ctx, const char *map, dir_row_fn fn, void *arg)
{
	if (strcmp(map, "cli") != 0 && strcmp(map, "ctrl") != 0 && strcmp(map, "pop3") != 0 && strcmp(map, "smtp") != 0)
		return TERN_E_INVALID;
	return dir_ipmap_list(ctx->rd, map, fn, arg);
}

void admin_apply_live_settings(struct admin_env *env, struct dir_conn *rd, const char *what)
{
	struct tls_params tp;
	char why[600];
	settings_tls_params(rd, &tp);
	if (tls_server_apply(&tp, why, sizeof why) < 0)
		log_warn("%s: the TLS settings are not usable (%s): the previous ones stay in force", what, why);
	if (!env->listeners_sync)
		return;
	static const char *const scopes[] = {"cli", "smtp", "pop3"};
	for (size_t i = 0; i < sizeof scopes / sizeof *scopes; i++)
		if (env->listeners_sync(env->listeners_arg, scopes[i], why, sizeof why) < 0)
			log_warn("%s: %s listeners: %s (stored; retried at the next listener COMMIT or start)", what,
				 scopes[i], why);
}
