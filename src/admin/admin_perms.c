/*
 * admin_perms - AACL permissions: storage, the effective-permission rule
 * and the one check both front-ends call; see admin_perms.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/log.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "admin_perms.h"

static const char *const perm_names[ADMIN_PERM__COUNT] = {
	[ADMIN_PERM_CREATE_ACCOUNTS] = "createAccounts",
	[ADMIN_PERM_MANAGE_ACCOUNTS] = "manageAccounts",
	[ADMIN_PERM_MANAGE_DOMAIN_ALIASES] = "manageDomainAliases",
};

const char *admin_perm_name(int perm)
{
	if (perm >= 0 && perm < ADMIN_PERM__COUNT)
		return perm_names[perm];
	return perm == ADMIN_PERM_READ ? "read" : perm == ADMIN_PERM_FULL ? "full administrator" : "none";
}

int admin_perm_parse(const char *name)
{
	for (int i = 0; i < ADMIN_PERM__COUNT; i++)
		if (!strcasecmp(name, perm_names[i]))
			return i;
	return -1;
}

const char *admin_perm_supported(void)
{
	return "createAccounts manageAccounts manageDomainAliases";
}

/* ---- the records of a principal and its groups ---- */

struct rec {
	int perm;
	char domain[256];
	bool deny;
};

struct recs {
	struct rec *v;
	int n;
};

static int rec_row(void *arg, const char *const *f, int n)
{
	struct recs *r = arg;
	if (n < 3)
		return 0;
	int p = admin_perm_parse(f[0]);
	if (p < 0)
		return 0;
	r->v = xrealloc(r->v, (size_t)(r->n + 1) * sizeof *r->v);
	struct rec *x = &r->v[r->n++];
	x->perm = p;
	snprintf(x->domain, sizeof x->domain, "%s", f[1]);
	x->deny = !strcmp(f[2], "1");
	return 0;
}

static enum tern_err gather(struct dir_conn *c, char kind, const char *principal, struct recs *r)
{
	enum tern_err e = dir_perm_list(c, kind, principal, rec_row, r);
	if (e)
		return e;
	/* every group above: its groups, their parents, ... */
	struct aacl_groups *anc = xmalloc(sizeof *anc);
	admin_aacl_ancestry(c, kind, principal, anc);
	for (int i = 0; !e && i < anc->n; i++)
		e = dir_perm_list(c, 'g', anc->v[i], rec_row, r);
	free(anc);
	return e;
}

/* The rule: some grant of perm on domain or server-wide, and no deny of
 * perm on domain or server-wide. */
static bool holds(const struct recs *r, int perm, const char *domain)
{
	bool granted = false;
	for (int i = 0; i < r->n; i++) {
		const struct rec *x = &r->v[i];
		if (x->perm != perm || (x->domain[0] && strcasecmp(x->domain, domain)))
			continue;
		if (x->deny)
			return false;
		granted = true;
	}
	return granted;
}

static bool first_admin(struct dir_conn *c, const char *admin)
{
	char first[128];
	return dir_admin_first(c, first, sizeof first) && !strcasecmp(first, admin);
}

bool admin_perm_is_full(struct dir_conn *c, const char *admin)
{
	if (!admin || first_admin(c, admin))
		return true;
	struct recs r = {0};
	enum tern_err e = gather(c, 'u', admin, &r);
	bool full = !e && r.n == 0;
	free(r.v);
	return full;
}

enum tern_err admin_perm_check(struct admin_ctx *ctx, int perm, const char *domain, const char *what)
{
	if (perm == ADMIN_PERM_NONE || !ctx->admin || first_admin(ctx->rd, ctx->admin))
		return TERN_OK;
	struct recs r = {0};
	enum tern_err e = gather(ctx->rd, 'u', ctx->admin, &r);
	bool ok = false;
	if (!e && r.n == 0)
		ok = true; /* no records at all: a full administrator */
	else if (!e && domain && *domain && !wildmat_has_wild(domain)) {
		if (perm == ADMIN_PERM_READ) {
			for (int p = 0; p < ADMIN_PERM__COUNT && !ok; p++)
				ok = holds(&r, p, domain);
		} else if (perm >= 0 && perm < ADMIN_PERM__COUNT) {
			ok = holds(&r, perm, domain);
		}
	}
	free(r.v);
	if (e)
		return e;
	if (!ok) {
		log_warn("%s: admin %s from %s refused %s: needs %s%s%s", ctx->via ? ctx->via : "admin", ctx->admin,
			 ctx->peer ? ctx->peer : "-", what ? what : "-", admin_perm_name(perm),
			 domain && *domain ? " on " : "", domain && *domain ? domain : "");
		return TERN_E_PERMISSION;
	}
	return TERN_OK;
}

/* ---- GRANT / DENY / REVOKE ---- */

struct change {
	char kind, op;
	const char *principal;
	char domain[256];
	int perms[ADMIN_PERM__COUNT];
	int n;
};

static enum tern_err tx_change(struct dir_conn *c, void *arg)
{
	struct change *ch = arg;
	if (ch->domain[0] && !dir_domain_exists(c, ch->domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (ch->kind == 'u' && first_admin(c, ch->principal))
		return TERN_E_BUSY;
	/* In the same transaction as the change: a principal removed meanwhile
	 * (another session) must not leave records that a later admin of the
	 * same name would inherit. */
	if (ch->kind == 'u') {
		struct dir_admin a;
		if (strlen(ch->principal) >= sizeof a.name || !dir_admin_get(c, ch->principal, &a))
			return TERN_E_RECORD_NOT_FOUND;
	} else {
		char key[300], v[8];
		snprintf(key, sizeof key, "AaclGroup.%s", ch->principal);
		if (strlen(ch->principal) > 200 || !dir_setting_get(c, key, v, sizeof v))
			return TERN_E_RECORD_NOT_FOUND;
	}
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && i < ch->n; i++) {
		const char *p = perm_names[ch->perms[i]];
		if (ch->op == 'R')
			e = dir_perm_del(c, ch->kind, ch->principal, p, ch->domain);
		else
			e = dir_perm_set(c, ch->kind, ch->principal, p, ch->domain, ch->op == 'D');
	}
	return e;
}

/* The set and domain of a change, checked (ch->n perms, ch->domain). */
static enum tern_err parse_change(struct change *ch, const char *set, const char *domain, char *bad_r, size_t sz)
{
	if (bad_r && sz)
		bad_r[0] = '\0';
	if (domain) {
		enum tern_err e = admin_check_domain(domain);
		if (e)
			return e;
		admin_lower_copy(ch->domain, sizeof ch->domain, domain);
	}
	char tmp[512];
	if (strlen(set) >= sizeof tmp)
		return TERN_E_INVALID;
	snprintf(tmp, sizeof tmp, "%s", set);
	char *save = NULL;
	for (char *t = strtok_r(tmp, "() ,", &save); t; t = strtok_r(NULL, "() ,", &save)) {
		int p = admin_perm_parse(t);
		if (p < 0) {
			if (bad_r)
				snprintf(bad_r, sz, "%s", t);
			return TERN_E_INVALID;
		}
		bool dup = false;
		for (int i = 0; i < ch->n; i++)
			dup |= ch->perms[i] == p;
		if (!dup)
			ch->perms[ch->n++] = p;
	}
	return ch->n ? TERN_OK : TERN_E_SYNTAX;
}

enum tern_err admin_perm_change(struct admin_ctx *ctx, char kind, const char *principal, const char *set,
				const char *domain, char op, char *bad_r, size_t sz)
{
	struct change ch = {.kind = kind, .op = op, .principal = principal};
	enum tern_err e = parse_change(&ch, set, domain, bad_r, sz);
	if (e)
		return e;
	return dir_write(ctx->env->dir, tx_change, &ch);
}

enum tern_err admin_perm_validate(struct admin_ctx *ctx, const char *set, const char *domain, char *bad_r, size_t sz)
{
	struct change ch = {0};
	enum tern_err e = parse_change(&ch, set, domain, bad_r, sz);
	if (e)
		return e;
	if (ch.domain[0] && !dir_domain_exists(ctx->rd, ch.domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	return TERN_OK;
}

enum tern_err admin_perm_forget(struct dir_conn *c, char kind, const char *principal)
{
	return dir_perm_del_all(c, kind, principal);
}

/* ---- effective permissions ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcasecmp(*(char *const *)a, *(char *const *)b);
}

enum tern_err admin_perm_effective(struct admin_ctx *ctx, char kind, const char *principal, const char *domain,
				   bool *full_r, dir_row_fn fn, void *arg)
{
	*full_r = false;
	if (kind == 'u' && first_admin(ctx->rd, principal)) {
		*full_r = true;
		return TERN_OK;
	}
	struct recs r = {0};
	enum tern_err e = gather(ctx->rd, kind, principal, &r);
	if (e || (r.n == 0 && kind == 'u')) {
		*full_r = !e;
		free(r.v);
		return e;
	}
	/* The scopes: server-wide first, then each domain named, sorted. */
	const char **scopes = xmalloc((size_t)(r.n + 1) * sizeof *scopes);
	int ns = 0;
	for (int i = 0; i < r.n; i++) {
		const char *d = r.v[i].domain;
		if (!d[0] || (domain && strcasecmp(d, domain)))
			continue;
		bool seen = false;
		for (int k = 0; k < ns && !seen; k++)
			seen = !strcasecmp(scopes[k], d);
		if (!seen)
			scopes[ns++] = d;
	}
	qsort(scopes, (size_t)ns, sizeof *scopes, cmp_str);
	bool stop = false;
	if (!domain) {
		for (int p = 0; p < ADMIN_PERM__COUNT && !stop; p++)
			if (holds(&r, p, "\x01")) { /* matches only server-wide records */
				const char *row[2] = {"", perm_names[p]};
				stop = fn(arg, row, 2) != 0;
			}
	} else if (ns == 0) {
		scopes[ns++] = domain;
	}
	for (int k = 0; k < ns && !stop; k++)
		for (int p = 0; p < ADMIN_PERM__COUNT && !stop; p++)
			if (holds(&r, p, scopes[k])) {
				const char *row[2] = {scopes[k], perm_names[p]};
				stop = fn(arg, row, 2) != 0;
			}
	free(scopes);
	free(r.v);
	return TERN_OK;
}

/* ---- the controller's commands ---- */

enum dom_src {
	D_NONE,    /* no domain: the permission alone */
	D_ARG1,    /* argv[1] */
	D_ARG2,    /* argv[2] */
	D_OPT1,    /* argv[1] when given and not a pattern, else full admins */
	D_ADDR1,   /* the domain part of the address argv[1] */
	D_ALIAS1,  /* the real domain of the alias domain argv[1] */
};

static const struct ctrl_perm {
	const char *cmd;
	int perm;
	enum dom_src src;
} ctrl_perms[] = {
	{"useradd", ADMIN_PERM_CREATE_ACCOUNTS, D_ARG1},
	{"userdel", ADMIN_PERM_CREATE_ACCOUNTS, D_ARG1},
	{"userpasswd", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"uservarsset", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"usersetmproc", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"aliasadd", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"aliasdel", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"mluseradd", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"mluserdel", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"poplnkadd", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"poplnkdel", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG1},
	{"poplnkenable", ADMIN_PERM_MANAGE_ACCOUNTS, D_ARG2},
	{"exaliasadd", ADMIN_PERM_MANAGE_ACCOUNTS, D_ADDR1},
	{"aliasdomainadd", ADMIN_PERM_MANAGE_DOMAIN_ALIASES, D_ARG1},
	{"aliasdomaindel", ADMIN_PERM_MANAGE_DOMAIN_ALIASES, D_ALIAS1},
	{"userauth", ADMIN_PERM_READ, D_ARG1},
	{"userstat", ADMIN_PERM_READ, D_ARG1},
	{"uservars", ADMIN_PERM_READ, D_ARG1},
	{"usergetmproc", ADMIN_PERM_READ, D_ARG1},
	{"mluserlist", ADMIN_PERM_READ, D_ARG1},
	{"userlist", ADMIN_PERM_READ, D_OPT1},
	{"aliaslist", ADMIN_PERM_READ, D_OPT1},
	{"poplnklist", ADMIN_PERM_READ, D_OPT1},
	{"noop", ADMIN_PERM_NONE, D_NONE},
	{"quit", ADMIN_PERM_NONE, D_NONE},
	/* every other command: full administrators only */
};

enum tern_err admin_perm_ctrl(struct admin_ctx *ctx, char *const *argv, int argc)
{
	int perm = ADMIN_PERM_FULL;
	enum dom_src src = D_NONE;
	for (size_t i = 0; i < sizeof ctrl_perms / sizeof *ctrl_perms; i++)
		if (!strcasecmp(ctrl_perms[i].cmd, argv[0])) {
			perm = ctrl_perms[i].perm;
			src = ctrl_perms[i].src;
			break;
		}
	char dom[256] = "";
	switch (src) {
	case D_NONE:
		break;
	case D_ARG1:
	case D_OPT1:
		if (argc > 1)
			admin_lower_copy(dom, sizeof dom, argv[1]);
		break;
	case D_ARG2:
		if (argc > 2)
			admin_lower_copy(dom, sizeof dom, argv[2]);
		break;
	case D_ADDR1: {
		const char *at = argc > 1 ? strrchr(argv[1], '@') : NULL;
		if (at)
			admin_lower_copy(dom, sizeof dom, at + 1);
		break;
	}
	case D_ALIAS1: {
		char r1[256];
		if (argc > 1 && !wildmat_has_wild(argv[1]) && dir_domain_resolve(ctx->rd, argv[1], r1, sizeof r1))
			admin_lower_copy(dom, sizeof dom, r1);
		break;
	}
	}
	/* An alias domain stands for its real domain (grants name real ones). */
	char real[256];
	if (dom[0] && src != D_ALIAS1 && !wildmat_has_wild(dom) && dir_domain_resolve(ctx->rd, dom, real, sizeof real))
		admin_lower_copy(dom, sizeof dom, real);
	if (perm != ADMIN_PERM_NONE && perm != ADMIN_PERM_FULL && !dom[0])
		perm = ADMIN_PERM_FULL; /* no single domain named: full administrators only */
	return admin_perm_check(ctx, perm, dom, argv[0]);
}
