/*
 * admin_cli_objects - groups, mailing lists and domain defaults for the
 * CLI; see admin_cli.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "../auth/rehash.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "admin_limits.h"

#define MAX_VAR_NAME 256
#define MAX_VAR_VALUE 4000

static void set_detail(char *detail_r, size_t dsz, const char *what)
{
	if (detail_r && dsz)
		snprintf(detail_r, dsz, "%s", what ? what : "");
}

static bool var_ok(const char *name, const char *value)
{
	if (!name || !*name || strlen(name) > MAX_VAR_NAME || !admin_value_ok(name))
		return false;
	return !value || (strlen(value) <= MAX_VAR_VALUE && admin_value_ok(value));
}

/* ---- kinds ---- */

struct kind_probe {
	char kind[16];
};

static int kind_row(void *arg, const char *const *f, int n)
{
	struct kind_probe *k = arg;
	if (n >= 2 && !strcmp(f[0], ADMIN_CLI_KIND_VAR))
		snprintf(k->kind, sizeof k->kind, "%s", !strcmp(f[1], "group") ? "group" : "list");
	return 0;
}

static bool kind_of(struct dir_conn *c, const char *domain, const char *name, char *kind_r, size_t sz,
		    struct dir_user *u_r)
{
	struct dir_user u;
	if (strlen(name) > 128 || !dir_user_get(c, domain, name, &u) || u.type != 'M')
		return false;
	struct kind_probe k = {"list"};
	dir_uservar_list(c, u.id, kind_row, &k);
	snprintf(kind_r, sz, "%s", k.kind);
	if (u_r)
		*u_r = u;
	return true;
}

enum tern_err admin_cli_list_kind(struct admin_ctx *ctx, const char *domain, const char *name, char *kind_r,
				  size_t sz)
{
	char d[256], n[256];
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK || strlen(name) > 128)
		return TERN_E_RECORD_NOT_FOUND;
	admin_lower_copy(d, sizeof d, domain);
	admin_lower_copy(n, sizeof n, name);
	return kind_of(ctx->rd, d, n, kind_r, sz, NULL) ? TERN_OK : TERN_E_RECORD_NOT_FOUND;
}

struct names {
	char **v;
	int n;
};

static int name_row(void *arg, const char *const *f, int n)
{
	struct names *nm = arg;
	if (n >= 3 && f[2][0] == 'M') {
		nm->v = xrealloc(nm->v, (size_t)(nm->n + 1) * sizeof *nm->v);
		nm->v[nm->n++] = xstrdup(f[1]);
	}
	return 0;
}

enum tern_err admin_cli_list_names(struct admin_ctx *ctx, const char *domain, const char *kind, const char *pattern,
				   dir_row_fn fn, void *arg)
{
	char d[256];
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	struct names nm = {0};
	/* Collect first: the store's statements are not re-entrant. */
	enum tern_err e = dir_user_list(ctx->rd, d, NULL, -1, -1, name_row, &nm);
	bool stop = false;
	for (int i = 0; i < nm.n; i++) {
		char k[16];
		if (!e && !stop && (!pattern || wildmat(pattern, nm.v[i])) &&
		    kind_of(ctx->rd, d, nm.v[i], k, sizeof k, NULL) && !strcmp(k, kind)) {
			const char *row[1] = {nm.v[i]};
			stop = fn(arg, row, 1) != 0;
		}
		free(nm.v[i]);
	}
	free(nm.v);
	return e;
}

/* ---- commit ---- */

struct list_commit {
	char domain[256];
	char name[256];
	bool create;
	const struct admin_cli_list_edit *ed;
	struct buf box;
	char detail[300];
	struct admin_limits lim;
};

static enum tern_err tx_list_commit(struct dir_conn *c, void *arg)
{
	struct list_commit *l = arg;
	const struct admin_cli_list_edit *ed = l->ed;
	struct dir_user u;
	enum tern_err e;
	if (!dir_domain_exists(c, l->domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (l->create) {
		if ((e = admin_cli_name_free(c, l->domain, l->name, &l->lim, 'M', !strcmp(ed->kind, "group"), l->detail,
					     sizeof l->detail)))
			return e;
		char vars[64];
		snprintf(vars, sizeof vars, "%s\t%s\n", ADMIN_CLI_KIND_VAR, ed->kind);
		if ((e = dir_user_add(c, l->domain, l->name, 'M', l->box.data, l->box.len, vars, 0, &u.id)))
			return e;
	} else {
		char k[16];
		if (!kind_of(c, l->domain, l->name, k, sizeof k, &u) || strcmp(k, ed->kind) != 0)
			return TERN_E_RECORD_NOT_FOUND;
		if (l->box.len && (e = dir_user_set_pending(c, u.id, l->box.data, l->box.len)))
			return e;
	}
	for (int i = 0; i < ed->nvars; i++) {
		const char *name = ed->vars[2 * i], *value = ed->vars[2 * i + 1];
		e = value ? dir_uservar_set(c, u.id, name, value) : dir_uservar_del(c, u.id, name);
		if (e)
			return e;
	}
	for (int i = 0; i < ed->ndel; i++) {
		snprintf(l->detail, sizeof l->detail, "%s", ed->del[i]);
		if (!dir_mluser_exists(c, u.id, ed->del[i]))
			return TERN_E_MLUSER_NOT_FOUND;
		if ((e = dir_mluser_del(c, u.id, ed->del[i])))
			return e;
	}
	for (int i = 0; i < ed->nadd; i++) {
		snprintf(l->detail, sizeof l->detail, "%s", ed->add[i]);
		if (dir_mluser_exists(c, u.id, ed->add[i]))
			return TERN_E_MLUSER_EXISTS;
		if ((e = dir_mluser_add(c, u.id, ed->add[i], "RW")))
			return e;
	}
	l->detail[0] = '\0';
	return TERN_OK;
}

enum tern_err admin_cli_list_commit(struct admin_ctx *ctx, const char *domain, const char *name, bool create,
				    const struct admin_cli_list_edit *ed, char *detail_r, size_t dsz)
{
	set_detail(detail_r, dsz, NULL);
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (strlen(name) > 128 || admin_check_user(name) != TERN_OK || !strcmp(name, "*"))
		return TERN_E_BAD_USERNAME;
	if (!ed->kind || (strcmp(ed->kind, "group") && strcmp(ed->kind, "list")))
		return TERN_E_INVALID;
	if (ed->password && (!*ed->password || strlen(ed->password) > 1024 || !admin_value_ok(ed->password)))
		return TERN_E_INVALID;
	for (int i = 0; i < ed->nvars; i++)
		if (!var_ok(ed->vars[2 * i], ed->vars[2 * i + 1]) || !strcmp(ed->vars[2 * i], ADMIN_CLI_KIND_VAR)) {
			set_detail(detail_r, dsz, ed->vars[2 * i]);
			return TERN_E_INVALID;
		}
	for (int i = 0; i < ed->nadd; i++)
		if (admin_check_address(ed->add[i]) != TERN_OK) {
			set_detail(detail_r, dsz, ed->add[i]);
			return TERN_E_BAD_ADDRESS;
		}
	struct list_commit l = {.create = create, .ed = ed, .box = BUF_INIT};
	admin_lower_copy(l.domain, sizeof l.domain, domain);
	admin_lower_copy(l.name, sizeof l.name, name);
	if (ed->password) {
		secret_box_seal(ed->password, strlen(ed->password), &l.box);
	} else if (create) {
		/* A group has no login; give it a password nobody knows. */
		unsigned char rnd[24];
		char hex[49];
		if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
			return TERN_E_INTERNAL;
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
		secret_box_seal(hex, strlen(hex), &l.box);
		secret_wipe(hex, sizeof hex);
	}
	if (create)
		admin_limits_get(ctx->env, l.domain, &l.lim);
	enum tern_err e = dir_write(ctx->env->dir, tx_list_commit, &l);
	buf_free(&l.box);
	if (e) {
		set_detail(detail_r, dsz, l.detail);
		return e;
	}
	if (create || ed->password)
		rehash_kick();
	return TERN_OK;
}

/* ---- domain defaults (userdef.tab) ---- */

enum tern_err admin_cli_domain_defaults_set(struct admin_ctx *ctx, const char *domain, const char *const *pairs,
					    int npairs)
{
	char d[256];
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(d, sizeof d, domain);
	if (!dir_domain_exists(ctx->rd, d))
		return TERN_E_DOMAIN_NOT_HANDLED;
	for (int i = 0; i < npairs; i++)
		if (!var_ok(pairs[2 * i], pairs[2 * i + 1]))
			return TERN_E_INVALID;
	char *cur = admin_userdef_vars(ctx->env, d);
	struct buf out = BUF_INIT;
	/* Existing defaults, with changed ones replaced or dropped. */
	char *save = NULL;
	for (char *line = strtok_r(cur, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		if (!tab)
			continue;
		*tab = '\0';
		bool changed = false;
		for (int i = 0; i < npairs; i++)
			if (!strcmp(pairs[2 * i], line))
				changed = true;
		if (changed)
			continue;
		tab_put_escaped(&out, line);
		buf_putc(&out, '\t');
		tab_put_escaped(&out, tab + 1);
		buf_putc(&out, '\n');
	}
	for (int i = 0; i < npairs; i++) {
		if (!pairs[2 * i + 1])
			continue;
		bool later = false; /* the last value of a repeated name wins */
		for (int k = i + 1; k < npairs; k++)
			if (!strcmp(pairs[2 * k], pairs[2 * i]))
				later = true;
		if (later)
			continue;
		tab_put_escaped(&out, pairs[2 * i]);
		buf_putc(&out, '\t');
		tab_put_escaped(&out, pairs[2 * i + 1]);
		buf_putc(&out, '\n');
	}
	free(cur);
	char rel[300];
	snprintf(rel, sizeof rel, "domains/%s/userdef.tab", d);
	enum tern_err e = admin_cfgfile_set(ctx, rel, out.data ? out.data : "", out.len, NULL);
	buf_free(&out);
	return e;
}
