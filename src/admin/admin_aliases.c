/*
 * admin_aliases - account aliases (exact and wildcard) and external aliases.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "../core/wildmat.h"
#include "admin.h"

/* Split "local@domain" at the last '@' into two buffers. */
static bool split_addr(const char *addr, char *local, size_t lsz, char *dom, size_t dsz)
{
	const char *at = strrchr(addr, '@');
	if (!at || (size_t)(at - addr) >= lsz || strlen(at + 1) >= dsz)
		return false;
	memcpy(local, addr, (size_t)(at - addr));
	local[at - addr] = '\0';
	admin_lower_copy(dom, dsz, at + 1);
	return true;
}

static bool account_exists(struct dir_conn *c, const char *domain, const char *name)
{
	char real[256];
	return dir_domain_resolve(c, domain, real, sizeof real) && dir_user_get(c, real, name, NULL);
}

struct alias_add {
	char domain[256];
	const char *alias;
	const char *target;
};

static enum tern_err tx_alias_add(struct dir_conn *c, void *arg)
{
	struct alias_add *a = arg;
	char real[256];
	if (!dir_domain_resolve(c, a->domain, real, sizeof real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	const char *at = strrchr(a->target, '@');
	if (at) {
		char l[256], d[256];
		if (!split_addr(a->target, l, sizeof l, d, sizeof d) || !account_exists(c, d, l))
			return TERN_E_RECORD_NOT_FOUND;
	} else if (!account_exists(c, a->domain, a->target)) {
		return TERN_E_RECORD_NOT_FOUND;
	}
	if (dir_user_get(c, a->domain, a->alias, NULL))
		return TERN_E_USER_EXISTS;
	if (dir_alias_exists(c, a->domain, a->alias))
		return TERN_E_ALIAS_EXISTS;
	return dir_alias_add(c, a->domain, a->alias, a->target);
}

enum tern_err admin_alias_add(struct admin_ctx *ctx, const char *domain, const char *alias, const char *target)
{
	struct alias_add a = {.alias = alias, .target = target};
	if (strlen(domain) > 253)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(a.domain, sizeof a.domain, domain);
	enum tern_err e;
	if ((e = admin_check_user(alias)))
		return e;
	if (strchr(target, '@') ? admin_check_address(target) : admin_check_user(target))
		return TERN_E_RECORD_NOT_FOUND;
	return dir_write(ctx->env->dir, tx_alias_add, &a);
}

struct alias_del {
	char domain[256];
	const char *alias;
};

static enum tern_err tx_alias_del(struct dir_conn *c, void *arg)
{
	struct alias_del *a = arg;
	if (!dir_alias_exists(c, a->domain, a->alias))
		return TERN_E_ALIAS_NOT_FOUND;
	return dir_alias_del(c, a->domain, a->alias);
}

enum tern_err admin_alias_del(struct admin_ctx *ctx, const char *domain, const char *alias)
{
	struct alias_del a = {.alias = alias};
	if (strlen(domain) > 253)
		return TERN_E_ALIAS_NOT_FOUND;
	admin_lower_copy(a.domain, sizeof a.domain, domain);
	return dir_write(ctx->env->dir, tx_alias_del, &a);
}

struct alias_filter {
	const char *p[3];
	dir_row_fn fn;
	void *arg;
};

static int alias_row(void *arg, const char *const *f, int n)
{
	struct alias_filter *af = arg;
	for (int i = 0; i < 3; i++)
		if (af->p[i] && !wildmat(af->p[i], f[i]))
			return 0;
	return af->fn(af->arg, f, n);
}

enum tern_err admin_alias_list(struct admin_ctx *ctx, const char *dpat, const char *apat, const char *tpat,
			       dir_row_fn fn, void *arg)
{
	struct alias_filter af = {{dpat, apat, tpat}, fn, arg};
	return dir_alias_list(ctx->rd, alias_row, &af);
}

struct exalias {
	char lname[256], ldomain[256], rname[256], rdomain[256];
};

static enum tern_err tx_exalias_add(struct dir_conn *c, void *arg)
{
	struct exalias *x = arg;
	if (!account_exists(c, x->ldomain, x->lname))
		return TERN_E_RECORD_NOT_FOUND;
	if (dir_exalias_exists(c, x->rdomain, x->rname))
		return TERN_E_EXALIAS_EXISTS;
	return dir_exalias_add(c, x->rdomain, x->rname, x->ldomain, x->lname);
}

enum tern_err admin_exalias_add(struct admin_ctx *ctx, const char *local, const char *remote)
{
	struct exalias x;
	if (admin_check_address(local) || admin_check_address(remote))
		return TERN_E_BAD_ADDRESS;
	if (!split_addr(local, x.lname, sizeof x.lname, x.ldomain, sizeof x.ldomain) ||
	    !split_addr(remote, x.rname, sizeof x.rname, x.rdomain, sizeof x.rdomain))
		return TERN_E_BAD_ADDRESS;
	return dir_write(ctx->env->dir, tx_exalias_add, &x);
}

static enum tern_err tx_exalias_del(struct dir_conn *c, void *arg)
{
	struct exalias *x = arg;
	if (!dir_exalias_exists(c, x->rdomain, x->rname))
		return TERN_E_EXALIAS_NOT_FOUND;
	return dir_exalias_del(c, x->rdomain, x->rname);
}

enum tern_err admin_exalias_del(struct admin_ctx *ctx, const char *remote)
{
	struct exalias x;
	if (admin_check_address(remote) ||
	    !split_addr(remote, x.rname, sizeof x.rname, x.rdomain, sizeof x.rdomain))
		return TERN_E_BAD_ADDRESS;
	return dir_write(ctx->env->dir, tx_exalias_del, &x);
}

struct exalias_filter {
	char lu[256], ld[256], ru[256], rd[256];
	bool has_l, has_r;
	dir_row_fn fn;
	void *arg;
};

static int exalias_row(void *arg, const char *const *f, int n)
{
	/* rows: rdomain, rname, ldomain, lname */
	struct exalias_filter *xf = arg;
	if (xf->has_l && (!wildmat(xf->lu, f[3]) || !wildmat(xf->ld, f[2])))
		return 0;
	if (xf->has_r && (!wildmat(xf->ru, f[1]) || !wildmat(xf->rd, f[0])))
		return 0;
	return xf->fn(xf->arg, f, n);
}

enum tern_err admin_exalias_list(struct admin_ctx *ctx, const char *lpat, const char *rpat, dir_row_fn fn,
				 void *arg)
{
	struct exalias_filter xf = {.fn = fn, .arg = arg};
	if (lpat) {
		if (!split_addr(lpat, xf.lu, sizeof xf.lu, xf.ld, sizeof xf.ld) || !xf.lu[0] || !xf.ld[0])
			return TERN_E_BAD_ADDRESS;
		xf.has_l = true;
	}
	if (rpat) {
		if (!split_addr(rpat, xf.ru, sizeof xf.ru, xf.rd, sizeof xf.rd) || !xf.ru[0] || !xf.rd[0])
			return TERN_E_BAD_ADDRESS;
		xf.has_r = true;
	}
	return dir_exalias_list(ctx->rd, exalias_row, &xf);
}
