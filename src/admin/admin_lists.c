/*
 * admin_lists - mailing-list members and POP3 links.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/secret.h"
#include "admin.h"

/* ---- mailing lists ---- */

struct ml_op {
	char domain[256];
	const char *list;
	const char *addr;
	char perms[4];
	struct dir_user u;
};

static enum tern_err find_list(struct dir_conn *c, struct ml_op *m)
{
	char real[256];
	if (!dir_domain_resolve(c, m->domain, real, sizeof real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!dir_user_get(c, real, m->list, &m->u))
		return TERN_E_RECORD_NOT_FOUND;
	if (m->u.type != 'M')
		return TERN_E_NOT_A_LIST;
	return TERN_OK;
}

static enum tern_err tx_ml_add(struct dir_conn *c, void *arg)
{
	struct ml_op *m = arg;
	enum tern_err e = find_list(c, m);
	if (e)
		return e;
	if (dir_mluser_exists(c, m->u.id, m->addr))
		return TERN_E_MLUSER_EXISTS;
	return dir_mluser_add(c, m->u.id, m->addr, m->perms);
}

enum tern_err admin_mluser_add(struct admin_ctx *ctx, const char *domain, const char *list, const char *addr,
			       const char *perms)
{
	struct ml_op m = {.list = list, .addr = addr};
	if (strlen(domain) > 253)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(m.domain, sizeof m.domain, domain);
	char real[256];
	if (!dir_domain_resolve(ctx->rd, m.domain, real, sizeof real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (admin_check_address(addr))
		return TERN_E_BAD_ADDRESS;
	if (!perms)
		perms = "RW";
	if (strcasecmp(perms, "R") && strcasecmp(perms, "RW") && strcasecmp(perms, "RA"))
		return TERN_E_INVALID;
	for (int i = 0; perms[i] && i < 3; i++)
		m.perms[i] = (char)toupper((unsigned char)perms[i]);
	return dir_write(ctx->env->dir, tx_ml_add, &m);
}

static enum tern_err tx_ml_del(struct dir_conn *c, void *arg)
{
	struct ml_op *m = arg;
	enum tern_err e = find_list(c, m);
	if (e)
		return e;
	if (!dir_mluser_exists(c, m->u.id, m->addr))
		return TERN_E_MLUSER_NOT_FOUND;
	return dir_mluser_del(c, m->u.id, m->addr);
}

enum tern_err admin_mluser_del(struct admin_ctx *ctx, const char *domain, const char *list, const char *addr)
{
	struct ml_op m = {.list = list, .addr = addr};
	if (strlen(domain) > 253)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(m.domain, sizeof m.domain, domain);
	return dir_write(ctx->env->dir, tx_ml_del, &m);
}

enum tern_err admin_mluser_list(struct admin_ctx *ctx, const char *domain, const char *list, dir_row_fn fn,
				void *arg)
{
	struct ml_op m = {.list = list};
	if (strlen(domain) > 253)
		return TERN_E_DOMAIN_NOT_HANDLED;
	admin_lower_copy(m.domain, sizeof m.domain, domain);
	enum tern_err e = find_list(ctx->rd, &m);
	if (e)
		return e;
	return dir_mluser_list(ctx->rd, m.u.id, fn, arg);
}

/* ---- POP3 links ---- */

static bool auth_ok(const char *auth)
{
	static const char *const known[] = {"CLR", "APOP", "FAPOP", "STLS", "FSTLS", "POP3S", "Leave"};
	char tmp[256];
	if (!*auth || strlen(auth) >= sizeof tmp)
		return false;
	snprintf(tmp, sizeof tmp, "%s", auth);
	char *save = NULL;
	for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		bool ok = false;
		for (size_t i = 0; i < sizeof known / sizeof *known; i++)
			if (!strcasecmp(t, known[i]))
				ok = true;
		if (!strncasecmp(t, "OutBind=", 8) && t[8])
			ok = true;
		if (!ok)
			return false;
	}
	return true;
}

static bool host_ok(const char *h)
{
	if (!*h || strlen(h) > 260)
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-:[]_", *p))
			return false;
	return true;
}

struct link_op {
	char ld[256];
	const char *lu, *rh, *ru, *auth;
	struct buf box;
	bool on;
	int changed;
};

/* The local side: a handled domain and an existing account, or one of the
 * special forms '@domain', '?masq,...', '&.suffix,...'. */
static enum tern_err check_local(struct dir_conn *c, const char *ld, const char *lu)
{
	if (ld[0] == '@' || ld[0] == '?' || ld[0] == '&')
		return admin_value_ok(ld) && admin_value_ok(lu) && *lu ? TERN_OK : TERN_E_INVALID;
	char real[256];
	if (!dir_domain_resolve(c, ld, real, sizeof real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!dir_user_get(c, real, lu, NULL))
		return TERN_E_RECORD_NOT_FOUND;
	return TERN_OK;
}

static enum tern_err tx_link_add(struct dir_conn *c, void *arg)
{
	struct link_op *l = arg;
	enum tern_err e = check_local(c, l->ld, l->lu);
	if (e)
		return e;
	if (dir_poplink_exists(c, l->ld, l->lu, l->rh, l->ru))
		return TERN_E_POPLINK_EXISTS;
	return dir_poplink_add(c, l->ld, l->lu, l->rh, l->ru, l->box.data, l->box.len, l->auth, true);
}

enum tern_err admin_poplink_add(struct admin_ctx *ctx, const char *ld, const char *lu, const char *rh,
				const char *ru, const char *rpass, const char *auth)
{
	struct link_op l = {.lu = lu, .rh = rh, .ru = ru, .auth = auth, .box = BUF_INIT};
	if (strlen(ld) > 253 || strlen(lu) > 253 || strlen(ru) > 253)
		return TERN_E_INVALID;
	admin_lower_copy(l.ld, sizeof l.ld, ld);
	if (!host_ok(rh) || !*ru || !admin_value_ok(ru) || !admin_value_ok(rpass) || strlen(rpass) > 1024 ||
	    !auth_ok(auth))
		return TERN_E_INVALID;
	secret_box_seal(rpass, strlen(rpass), &l.box);
	enum tern_err e = dir_write(ctx->env->dir, tx_link_add, &l);
	buf_free(&l.box);
	return e;
}

static enum tern_err tx_link_del(struct dir_conn *c, void *arg)
{
	struct link_op *l = arg;
	if (!dir_poplink_exists(c, l->ld, l->lu, l->rh, l->ru))
		return TERN_E_POPLINK_NOT_FOUND;
	return dir_poplink_del(c, l->ld, l->lu, l->rh, l->ru);
}

enum tern_err admin_poplink_del(struct admin_ctx *ctx, const char *ld, const char *lu, const char *rh,
				const char *ru)
{
	struct link_op l = {.lu = lu, .rh = rh, .ru = ru};
	if (strlen(ld) > 253)
		return TERN_E_POPLINK_NOT_FOUND;
	admin_lower_copy(l.ld, sizeof l.ld, ld);
	return dir_write(ctx->env->dir, tx_link_del, &l);
}

struct link_filter {
	struct dir_conn *c;
	const char *ld, *lu;
	dir_row_fn fn;
	void *arg;
};

static int link_row(void *arg, const char *const *f, int n)
{
	(void)n;
	struct link_filter *lf = arg;
	if (lf->ld && strcasecmp(lf->ld, f[0]))
		return 0;
	if (lf->lu && strcasecmp(lf->lu, f[1]))
		return 0;
	bool on = !strcmp(f[5], "1");
	if (on && f[0][0] != '@' && f[0][0] != '?' && f[0][0] != '&') {
		char real[256];
		on = dir_domain_resolve(lf->c, f[0], real, sizeof real) && dir_user_get(lf->c, real, f[1], NULL);
	}
	const char *out[7] = {f[0], f[1], f[2], f[3], ADMIN_SECRET_PLACEHOLDER, f[4], on ? "ON" : "OFF"};
	return lf->fn(lf->arg, out, 7);
}

enum tern_err admin_poplink_list(struct admin_ctx *ctx, const char *ld, const char *lu, dir_row_fn fn, void *arg)
{
	/* The per-row account check uses other statements of the same
	 * connection; the listing statement itself is not touched. */
	struct link_filter lf = {.c = ctx->rd, .ld = ld, .lu = lu, .fn = fn, .arg = arg};
	return dir_poplink_list(ctx->rd, link_row, &lf);
}

static enum tern_err tx_link_enable(struct dir_conn *c, void *arg)
{
	struct link_op *l = arg;
	enum tern_err e = dir_poplink_enable(c, l->on, l->ld, l->lu, l->rh, l->ru, &l->changed);
	if (e)
		return e;
	return l->changed ? TERN_OK : TERN_E_POPLINK_NOT_FOUND;
}

enum tern_err admin_poplink_enable(struct admin_ctx *ctx, const char *onoff, const char *ld, const char *lu,
				   const char *rh, const char *ru)
{
	struct link_op l = {.lu = lu, .rh = rh, .ru = ru};
	if (!strcmp(onoff, "1"))
		l.on = true;
	else if (strcmp(onoff, "0"))
		return TERN_E_INVALID;
	if (strlen(ld) > 253)
		return TERN_E_POPLINK_NOT_FOUND;
	admin_lower_copy(l.ld, sizeof l.ld, ld);
	return dir_write(ctx->env->dir, tx_link_enable, &l);
}
