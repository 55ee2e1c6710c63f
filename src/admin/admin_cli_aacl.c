/*
 * admin_cli_aacl - admin users for the CLI's AACL context; see admin_cli.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../auth/password.h"
#include "../core/secret.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "settings.h"

static bool admin_name_ok(const char *n)
{
	size_t l = strlen(n);
	if (!l || l > 64)
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

bool admin_aacl_may_login(struct dir_conn *c, const char *name, const char *via)
{
	char key[200], v[300];
	if (!via || !admin_name_ok(name))
		return true;
	snprintf(key, sizeof key, "AaclInterfaces.%s", name);
	if (!dir_setting_get(c, key, v, sizeof v))
		return true;
	char *save = NULL;
	for (char *t = strtok_r(v, "() ,", &save); t; t = strtok_r(NULL, "() ,", &save))
		if (!strcmp(t, via))
			return true;
	return false;
}

struct names {
	char **v;
	int n;
};

static int name_row(void *arg, const char *const *f, int n)
{
	struct names *nm = arg;
	if (n >= 1) {
		nm->v = xrealloc(nm->v, (size_t)(nm->n + 1) * sizeof *nm->v);
		nm->v[nm->n++] = xstrdup(f[0]);
	}
	return 0;
}

enum tern_err admin_cli_admin_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	struct names nm = {0};
	enum tern_err e = dir_admin_list(ctx->rd, name_row, &nm);
	bool stop = false;
	for (int i = 0; i < nm.n; i++) {
		char key[200], desc[300] = "", ifs[300] = "";
		snprintf(key, sizeof key, "AaclDescription.%s", nm.v[i]);
		dir_setting_get(ctx->rd, key, desc, sizeof desc);
		snprintf(key, sizeof key, "AaclInterfaces.%s", nm.v[i]);
		dir_setting_get(ctx->rd, key, ifs, sizeof ifs);
		const char *row[3] = {nm.v[i], desc, ifs};
		if (!e && !stop)
			stop = fn(arg, row, 3) != 0;
		free(nm.v[i]);
	}
	free(nm.v);
	return e;
}

bool admin_cli_admin_exists(struct admin_ctx *ctx, const char *name)
{
	struct dir_admin a;
	return strlen(name) < sizeof a.name && dir_admin_get(ctx->rd, name, &a);
}

struct admin_save {
	const char *name;
	bool create;
	char hash[160];
	struct buf box;
	const char *description, *interfaces;
};

static enum tern_err set_or_del(struct dir_conn *c, const char *prefix, const char *name, const char *v)
{
	char key[200];
	snprintf(key, sizeof key, "%s.%s", prefix, name);
	return v[0] ? dir_setting_set(c, key, v) : dir_setting_del(c, key);
}

static enum tern_err tx_admin_save(struct dir_conn *c, void *arg)
{
	struct admin_save *a = arg;
	struct dir_admin cur;
	bool exists = dir_admin_get(c, a->name, &cur);
	if (a->create && exists)
		return TERN_E_USER_EXISTS;
	if (!a->create && !exists)
		return TERN_E_RECORD_NOT_FOUND;
	enum tern_err e = TERN_OK;
	if (a->hash[0])
		e = dir_admin_put(c, a->name, a->hash, a->box.data, a->box.len);
	if (!e && a->description)
		e = set_or_del(c, "AaclDescription", a->name, a->description);
	if (!e && a->interfaces)
		e = set_or_del(c, "AaclInterfaces", a->name, a->interfaces);
	return e;
}

enum tern_err admin_cli_admin_save(struct admin_ctx *ctx, const char *name, bool create, const char *password,
				   const char *description, const char *interfaces)
{
	if (!admin_name_ok(name))
		return TERN_E_INVALID;
	if (create && !password)
		return TERN_E_INVALID;
	if (password && (!*password || strlen(password) > 1024 || !admin_value_ok(password)))
		return TERN_E_INVALID;
	if (description && (strlen(description) > 200 || settings_validate("AaclDescription.x", description)))
		return TERN_E_INVALID;
	if (interfaces && (strlen(interfaces) > 200 || settings_validate("AaclInterfaces.x", interfaces)))
		return TERN_E_INVALID;
	struct admin_save a = {.name = name, .create = create, .box = BUF_INIT, .description = description,
			       .interfaces = interfaces};
	if (password) {
		if (pw_hash(password, 5, a.hash, sizeof a.hash) < 0)
			return TERN_E_INTERNAL;
		secret_box_seal(password, strlen(password), &a.box);
	}
	enum tern_err e = dir_write(ctx->env->dir, tx_admin_save, &a);
	buf_free(&a.box);
	secret_wipe(a.hash, sizeof a.hash);
	return e;
}

static enum tern_err tx_admin_del(struct dir_conn *c, void *arg)
{
	const char *name = arg;
	struct dir_admin cur;
	if (!dir_admin_get(c, name, &cur))
		return TERN_E_RECORD_NOT_FOUND;
	if (dir_admin_count(c) <= 1)
		return TERN_E_INVALID;
	enum tern_err e = dir_admin_del(c, name);
	if (!e)
		e = set_or_del(c, "AaclDescription", name, "");
	if (!e)
		e = set_or_del(c, "AaclInterfaces", name, "");
	return e;
}

enum tern_err admin_cli_admin_del(struct admin_ctx *ctx, const char *name)
{
	if (!admin_name_ok(name))
		return TERN_E_RECORD_NOT_FOUND;
	if (ctx->admin && !strcmp(ctx->admin, name))
		return TERN_E_INVALID;
	return dir_write(ctx->env->dir, tx_admin_del, (void *)name);
}
