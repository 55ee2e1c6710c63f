/*
 * admin_cli - the CLI's commits, each one durable transaction; see
 * admin_cli.h.
 */
#include "admin_cli.h"
#include "admin_limits.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../auth/password.h"
#include "../auth/rehash.h"
#include "../core/log.h"
#include "../core/secret.h"

#define MAX_PASSWORD 1024
#define MAX_VAR_NAME 256
#define MAX_VAR_VALUE 4000

static void set_detail(char *detail_r, size_t dsz, const char *what)
{
	if (detail_r && dsz)
		snprintf(detail_r, dsz, "%s", what ? what : "");
}

static bool password_ok(const char *pw)
{
	return pw && *pw && strlen(pw) <= MAX_PASSWORD && admin_value_ok(pw);
}

/* ---- login ---- */

enum tern_err admin_cli_login(struct admin_ctx *ctx, const char *name, const char *password)
{
	return admin_login_clear(ctx, name, password);
}

enum tern_err admin_cli_admin_passwd(struct admin_ctx *ctx, const char *name, const char *old_password,
				     const char *new_password)
{
	if (admin_cli_login(ctx, name, old_password) != TERN_OK)
		return TERN_E_BAD_PASSWORD;
	if (!password_ok(new_password))
		return TERN_E_INVALID;
	return admin_account_set(ctx->env, name, new_password);
}

/* ---- look-ups ---- */

enum tern_err admin_cli_domain_exists(struct admin_ctx *ctx, const char *domain)
{
	char d[256];
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	return dir_domain_exists(ctx->rd, d) ? TERN_OK : TERN_E_DOMAIN_NOT_HANDLED;
}

enum tern_err admin_cli_account_type(struct admin_ctx *ctx, const char *domain, const char *user, char *type_r)
{
	char d[256];
	struct dir_user u;
	if (admin_cli_domain_exists(ctx, domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	if (strlen(user) > 128 || !dir_user_get(ctx->rd, d, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	if (type_r)
		*type_r = u.type;
	return TERN_OK;
}

void admin_cli_catchall_get(struct admin_ctx *ctx, const char *domain, char *out, size_t sz)
{
	char d[256], target[600];
	out[0] = '\0';
	if (strlen(domain) > 253)
		return;
	admin_lower_copy(d, sizeof d, domain);
	if (!dir_alias_exists(ctx->rd, d, "*") || !dir_alias_resolve(ctx->rd, d, "*", target, sizeof target))
		return;
	/* Only a local target is a catch-all account in the CLI's sense. */
	char *at = strchr(target, '@');
	if (at) {
		if (strcasecmp(at + 1, d) != 0)
			return;
		*at = '\0';
	}
	snprintf(out, sz, "%s", target);
}

/* An account directory left over under a new account's name (a deletion
 * interrupted by a crash) goes to the trash: old mail never reaches a new
 * account. */
static void clear_stale_dir(struct admin_env *env, const char *domain, const char *user)
{
	char rel[600], label[600], dest[800];
	struct stat st;
	snprintf(rel, sizeof rel, "domains/%s/%s", domain, user);
	if (fstatat(env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	snprintf(label, sizeof label, "orphan-%s-%s", domain, user);
	if (admin_trash_move(env, rel, label, dest, sizeof dest) == 0)
		log_warn("stale mailbox directory %s moved to %s", rel, dest);
}

/* ---- domain creation ---- */

struct domain_create {
	char domain[256];
	struct buf box;
	char *vars;
};

static enum tern_err tx_domain_create(struct dir_conn *c, void *arg)
{
	struct domain_create *dc = arg;
	if (dir_domain_exists(c, dc->domain) || dir_aliasdomain_exists(c, dc->domain))
		return TERN_E_DOMAIN_EXISTS;
	enum tern_err e = dir_domain_add(c, dc->domain);
	if (e)
		return e;
	return dir_user_add(c, dc->domain, "postmaster", 'U', dc->box.data, dc->box.len, dc->vars, 0, NULL);
}

enum tern_err admin_cli_domain_create(struct admin_ctx *ctx, const char *domain, const char *postmaster_password)
{
	enum tern_err e = admin_check_domain(domain);
	if (e)
		return e;
	if (!password_ok(postmaster_password))
		return TERN_E_INVALID;
	struct domain_create dc = {.box = BUF_INIT};
	admin_lower_copy(dc.domain, sizeof dc.domain, domain);
	if (dir_domain_exists(ctx->rd, dc.domain) || dir_aliasdomain_exists(ctx->rd, dc.domain))
		return TERN_E_DOMAIN_EXISTS;
	char rel[300];
	snprintf(rel, sizeof rel, "domains/%s", dc.domain);
	if (mkdirat(ctx->env->rootfd, rel, 0700) < 0 && errno != EEXIST) {
		log_err("cannot create %s/%s: %s", ctx->env->root, rel, strerror(errno));
		return TERN_E_CREATE_DIR;
	}
	secret_box_seal(postmaster_password, strlen(postmaster_password), &dc.box);
	dc.vars = admin_userdef_vars(ctx->env, dc.domain);
	e = dir_write(ctx->env->dir, tx_domain_create, &dc);
	buf_free(&dc.box);
	free(dc.vars);
	if (e)
		return e;
	clear_stale_dir(ctx->env, dc.domain, "postmaster");
	rehash_kick();
	return TERN_OK;
}

/* ---- account commit ---- */

struct account_commit {
	char domain[256];
	char user[256];
	bool create;
	const struct admin_cli_account_edit *ed;
	struct buf box; /* sealed new password, if any */
	char *defvars;  /* userdef.tab variables, for a new account */
	char detail[300];
	struct admin_limits lim;
};

static enum tern_err add_aliases(struct dir_conn *c, struct account_commit *a)
{
	for (int i = 0; i < a->ed->nalias_add; i++) {
		const char *al = a->ed->alias_add[i];
		snprintf(a->detail, sizeof a->detail, "%s", al);
		if (dir_user_get(c, a->domain, al, NULL))
			return TERN_E_USER_EXISTS;
		if (dir_alias_exists(c, a->domain, al))
			return TERN_E_ALIAS_EXISTS;
		enum tern_err e = dir_alias_add(c, a->domain, al, a->user);
		if (e)
			return e;
	}
	a->detail[0] = '\0';
	return TERN_OK;
}

enum tern_err admin_cli_name_free(struct dir_conn *c, const char *domain, const char *name,
				  const struct admin_limits *lim, char type, bool group, char *detail, size_t dsz)
{
	if (dir_alias_exists(c, domain, name))
		return TERN_E_ALIAS_EXISTS;
	if (dir_user_get(c, domain, name, NULL))
		return TERN_E_USER_EXISTS;
	return admin_limits_check_new(c, domain, lim, type, group, detail, dsz);
}

static enum tern_err tx_account_commit(struct dir_conn *c, void *arg)
{
	struct account_commit *a = arg;
	const struct admin_cli_account_edit *ed = a->ed;
	struct dir_user u;
	enum tern_err e;
	if (!dir_domain_exists(c, a->domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (a->create) {
		if ((e = admin_cli_name_free(c, a->domain, a->user, &a->lim, 'U', false, a->detail, sizeof a->detail)))
			return e;
		if ((e = dir_user_add(c, a->domain, a->user, 'U', a->box.data, a->box.len, a->defvars, 0, &u.id)))
			return e;
	} else {
		if (!dir_user_get(c, a->domain, a->user, &u) || u.type != 'U')
			return TERN_E_RECORD_NOT_FOUND;
		if (a->box.len && (e = dir_user_set_pending(c, u.id, a->box.data, a->box.len)))
			return e;
	}
	for (int i = 0; i < ed->nvars; i++) {
		const char *name = ed->vars[2 * i], *value = ed->vars[2 * i + 1];
		e = value ? dir_uservar_set(c, u.id, name, value) : dir_uservar_del(c, u.id, name);
		if (e)
			return e;
	}
	for (int i = 0; i < ed->nalias_del; i++) {
		const char *al = ed->alias_del[i];
		char target[600];
		snprintf(a->detail, sizeof a->detail, "%s", al);
		if (!dir_alias_exists(c, a->domain, al) || !dir_alias_resolve(c, a->domain, al, target, sizeof target))
			return TERN_E_ALIAS_NOT_FOUND;
		char *at = strchr(target, '@');
		if (at && strcasecmp(at + 1, a->domain) == 0)
			*at = '\0';
		if (strcasecmp(target, a->user) != 0)
			return TERN_E_ALIAS_NOT_FOUND; /* it belongs to another account */
		if ((e = dir_alias_del(c, a->domain, al)))
			return e;
	}
	a->detail[0] = '\0';
	return add_aliases(c, a);
}

static bool var_ok(const char *name, const char *value)
{
	if (!name || !*name || strlen(name) > MAX_VAR_NAME || !admin_value_ok(name))
		return false;
	return !value || (strlen(value) <= MAX_VAR_VALUE && admin_value_ok(value));
}

enum tern_err admin_cli_account_commit(struct admin_ctx *ctx, const char *domain, const char *user, bool create,
				       const struct admin_cli_account_edit *ed, char *detail_r, size_t dsz)
{
	set_detail(detail_r, dsz, NULL);
	struct account_commit a = {.create = create, .ed = ed, .box = BUF_INIT};
	enum tern_err e;
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	if ((e = admin_check_user(user)))
		return e;
	admin_lower_copy(a.domain, sizeof a.domain, domain);
	admin_lower_copy(a.user, sizeof a.user, user);
	if (create && !ed->password)
		return TERN_E_INVALID;
	if (ed->password && !password_ok(ed->password))
		return TERN_E_INVALID;
	for (int i = 0; i < ed->nvars; i++)
		if (!var_ok(ed->vars[2 * i], ed->vars[2 * i + 1])) {
			set_detail(detail_r, dsz, ed->vars[2 * i]);
			return TERN_E_INVALID;
		}
	for (int i = 0; i < ed->nalias_add; i++)
		if ((e = admin_check_user(ed->alias_add[i])) || !strcmp(ed->alias_add[i], "*")) {
			set_detail(detail_r, dsz, ed->alias_add[i]);
			return TERN_E_BAD_USERNAME;
		}
	/* the domain's quota ceilings (maxAccountMessageSizeQuota...) */
	admin_limits_get(ctx->env, a.domain, &a.lim);
	for (int i = 0; i < ed->nvars; i++)
		if ((e = admin_limits_check_var(&a.lim, ed->vars[2 * i], ed->vars[2 * i + 1], a.detail, sizeof a.detail))) {
			set_detail(detail_r, dsz, a.detail);
			return e;
		}
	if (ed->password)
		secret_box_seal(ed->password, strlen(ed->password), &a.box);
	if (create)
		a.defvars = admin_limits_cap_vars(&a.lim, admin_userdef_vars(ctx->env, a.domain));
	e = dir_write(ctx->env->dir, tx_account_commit, &a);
	buf_free(&a.box);
	free(a.defvars);
	if (e) {
		set_detail(detail_r, dsz, a.detail);
		return e;
	}
	if (create)
		clear_stale_dir(ctx->env, a.domain, a.user);
	if (ed->password)
		rehash_kick();
	return TERN_OK;
}

/* ---- domain commit ---- */

struct domain_commit {
	char domain[256];
	const struct admin_cli_domain_edit *ed;
	char detail[300];
};

static enum tern_err tx_domain_commit(struct dir_conn *c, void *arg)
{
	struct domain_commit *d = arg;
	const struct admin_cli_domain_edit *ed = d->ed;
	enum tern_err e;
	if (!dir_domain_exists(c, d->domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	for (int i = 0; i < ed->nalias_del; i++) {
		char al[256], real[256];
		admin_lower_copy(al, sizeof al, ed->alias_del[i]);
		snprintf(d->detail, sizeof d->detail, "%s", al);
		if (!dir_aliasdomain_exists(c, al) || !dir_domain_resolve(c, al, real, sizeof real) ||
		    strcmp(real, d->domain) != 0)
			return TERN_E_ALIASDOMAIN_NOT_FOUND;
		if ((e = dir_aliasdomain_del(c, al)))
			return e;
	}
	for (int i = 0; i < ed->nalias_add; i++) {
		char al[256];
		admin_lower_copy(al, sizeof al, ed->alias_add[i]);
		snprintf(d->detail, sizeof d->detail, "%s", al);
		if (dir_domain_exists(c, al) || dir_aliasdomain_exists(c, al))
			return TERN_E_ALIASDOMAIN_EXISTS;
		if ((e = dir_aliasdomain_add(c, al, d->domain)))
			return e;
	}
	if (ed->catchall) {
		if (dir_alias_exists(c, d->domain, "*") && (e = dir_alias_del(c, d->domain, "*")))
			return e;
		if (ed->catchall[0]) {
			char u[256];
			admin_lower_copy(u, sizeof u, ed->catchall);
			snprintf(d->detail, sizeof d->detail, "%s", u);
			struct dir_user du;
			if (!dir_user_get(c, d->domain, u, &du) || du.type != 'U')
				return TERN_E_RECORD_NOT_FOUND;
			if ((e = dir_alias_add(c, d->domain, "*", u)))
				return e;
		}
	}
	d->detail[0] = '\0';
	return TERN_OK;
}

enum tern_err admin_cli_domain_commit(struct admin_ctx *ctx, const char *domain, const struct admin_cli_domain_edit *ed,
				      char *detail_r, size_t dsz)
{
	set_detail(detail_r, dsz, NULL);
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	struct domain_commit d = {.ed = ed};
	admin_lower_copy(d.domain, sizeof d.domain, domain);
	for (int i = 0; i < ed->nalias_add; i++)
		if (strlen(ed->alias_add[i]) > 253 || admin_check_domain(ed->alias_add[i]) != TERN_OK) {
			set_detail(detail_r, dsz, ed->alias_add[i]);
			return TERN_E_BAD_DOMAIN;
		}
	if (ed->catchall && ed->catchall[0] && admin_check_user(ed->catchall) != TERN_OK) {
		set_detail(detail_r, dsz, ed->catchall);
		return TERN_E_RECORD_NOT_FOUND;
	}
	enum tern_err e = dir_write(ctx->env->dir, tx_domain_commit, &d);
	if (e)
		set_detail(detail_r, dsz, d.detail);
	return e;
}
