/*
 * admin_views - rendering and replacing the XMail table views.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../auth/rehash.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../core/tls.h"
#include "../core/xmalloc.h"
#include "../smtp/send_limits.h"
#include "admin_cli.h"
#include "admin_limits.h"
#include "settings.h"
#include "views.h"

#define MAX_FIELDS 8

struct rec {
	int line;
	int n;
	char *f[MAX_FIELDS];
};

struct parsed {
	struct rec *r;
	int n, cap;
	char *copy;
	int bad_line;
};

typedef enum tern_err (*render_fn)(struct admin_ctx *ctx, struct buf *out);
typedef bool (*check_fn)(struct rec *r);
typedef enum tern_err (*apply_fn)(struct dir_conn *c, struct parsed *p, void *extra);

struct view {
	const char *name;
	int min_fields, max_fields;
	render_fn render;
	check_fn check;
	apply_fn apply;
};

/* ---- parsing ---- */

static enum tern_err parse_upload(const char *data, size_t len, int minf, int maxf, check_fn check,
				  struct parsed *p)
{
	memset(p, 0, sizeof *p);
	p->copy = xstrndup(data, len);
	int line = 0;
	char *s = p->copy;
	while (*s) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		line++;
		size_t l = strlen(s);
		while (l && s[l - 1] == '\r')
			s[--l] = '\0';
		if (l && s[0] != '#') {
			if (!admin_value_ok(s) && strchr(s, '\t') == NULL) {
				p->bad_line = line;
				return TERN_E_BAD_FILE;
			}
			struct rec r = {.line = line};
			r.n = tab_split(s, r.f, MAX_FIELDS);
			bool ok = r.n >= minf && r.n <= maxf;
			for (int i = 0; ok && i < r.n; i++)
				ok = admin_value_ok(r.f[i]);
			if (!ok || (check && !check(&r))) {
				p->bad_line = line;
				return TERN_E_BAD_FILE;
			}
			if (p->n == p->cap) {
				p->cap = p->cap ? p->cap * 2 : 256;
				p->r = xrealloc(p->r, (size_t)p->cap * sizeof *p->r);
			}
			p->r[p->n++] = r;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	return TERN_OK;
}

static void parsed_free(struct parsed *p)
{
	free(p->r);
	free(p->copy);
}

int view_xmail_decode(const char *hex, char *out, size_t sz)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 >= sz)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		char two[3] = {hex[2 * i], hex[2 * i + 1], 0};
		if (!isxdigit((unsigned char)two[0]) || !isxdigit((unsigned char)two[1]))
			return -1;
		v = (unsigned)strtoul(two, NULL, 16) ^ 0x65u;
		if (v < 0x20 || v == 0x7f)
			return -1;
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return 0;
}

static void lower_inplace(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- rendering helpers ---- */

struct render_rows {
	struct buf *out;
	const char *numeric; /* per-field: 'n' written unquoted */
};

static int put_row(void *arg, const char *const *f, int n)
{
	struct render_rows *rr = arg;
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(rr->out, '\t');
		if (rr->numeric && rr->numeric[i] == 'n')
			buf_puts(rr->out, f[i]);
		else
			tab_put_escaped(rr->out, f[i]);
	}
	buf_putc(rr->out, '\n');
	return 0;
}

/* ---- domains.tab ---- */

static enum tern_err render_domains(struct admin_ctx *ctx, struct buf *out)
{
	struct render_rows rr = {out, NULL};
	return dir_domain_list(ctx->rd, put_row, &rr);
}

static bool check_domain_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	return admin_check_domain(r->f[0]) == TERN_OK;
}

struct dropped {
	struct admin_env *env;
	int n, cap;
	char **rel;   /* paths under the root to move to the trash */
	char **label;
};

static void dropped_add(struct dropped *d, const char *rel, const char *label)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->rel = xrealloc(d->rel, (size_t)d->cap * sizeof *d->rel);
		d->label = xrealloc(d->label, (size_t)d->cap * sizeof *d->label);
	}
	d->rel[d->n] = xstrdup(rel);
	d->label[d->n] = xstrdup(label);
	d->n++;
}


static enum tern_err apply_domains(struct dir_conn *c, struct parsed *p, void *extra)
{
	struct dropped *dr = extra;
	for (int i = 0; i < p->n; i++)
		for (int j = 0; j < i; j++)
			if (!strcasecmp(p->r[i].f[0], p->r[j].f[0])) {
				p->bad_line = p->r[i].line;
				return TERN_E_BAD_FILE;
			}
	struct admin_names cur = {0};
	enum tern_err e = dir_domain_list(c, admin_names_row, &cur);
	for (int i = 0; !e && i < cur.n; i++) {
		bool keep = false;
		for (int j = 0; j < p->n && !keep; j++)
			keep = !strcasecmp(cur.v[i], p->r[j].f[0]);
		if (!keep) {
			e = dir_domain_del(c, cur.v[i]);
			char rel[300], label[300];
			snprintf(rel, sizeof rel, "domains/%s", cur.v[i]);
			snprintf(label, sizeof label, "domain-%s", cur.v[i]);
			dropped_add(dr, rel, label);
		}
	}
	for (int j = 0; !e && j < p->n; j++)
		if (!dir_domain_exists(c, p->r[j].f[0])) {
			if (dir_aliasdomain_exists(c, p->r[j].f[0])) {
				p->bad_line = p->r[j].line;
				e = TERN_E_BAD_FILE;
			} else {
				e = dir_domain_add(c, p->r[j].f[0]);
			}
		}
	admin_names_free(&cur);
	return e;
}

/* ---- aliasdomain.tab: alias, real ---- */

static enum tern_err render_aliasdomains(struct admin_ctx *ctx, struct buf *out)
{
	struct render_rows rr = {out, NULL};
	return dir_aliasdomain_list(ctx->rd, put_row, &rr);
}

static bool check_aliasdomain_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	lower_inplace(r->f[1]);
	const char *a = r->f[0];
	if (a[0] == '*' && a[1] == '.')
		a += 2;
	return admin_check_domain(a) == TERN_OK && admin_check_domain(r->f[1]) == TERN_OK;
}

static enum tern_err apply_aliasdomains(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	enum tern_err e = dir_aliasdomain_delete_all(c);
	for (int i = 0; !e && i < p->n; i++) {
		struct rec *r = &p->r[i];
		if (!dir_domain_exists(c, r->f[1]) || dir_domain_exists(c, r->f[0]) ||
		    dir_aliasdomain_exists(c, r->f[0])) {
			p->bad_line = r->line;
			return TERN_E_BAD_FILE;
		}
		e = dir_aliasdomain_add(c, r->f[0], r->f[1]);
	}
	return e;
}

/* ---- aliases.tab: domain, alias, target ---- */

static enum tern_err render_aliases(struct admin_ctx *ctx, struct buf *out)
{
	struct render_rows rr = {out, NULL};
	return dir_alias_list(ctx->rd, put_row, &rr);
}

static bool check_alias_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	return admin_check_user(r->f[0]) == TERN_OK && admin_check_user(r->f[1]) == TERN_OK &&
	       (strchr(r->f[2], '@') ? admin_check_address(r->f[2]) : admin_check_user(r->f[2])) == TERN_OK;
}

static enum tern_err apply_aliases(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	enum tern_err e = dir_alias_delete_all(c);
	for (int i = 0; !e && i < p->n; i++) {
		struct rec *r = &p->r[i];
		if (dir_alias_exists(c, r->f[0], r->f[1])) {
			p->bad_line = r->line;
			return TERN_E_BAD_FILE;
		}
		e = dir_alias_add(c, r->f[0], r->f[1], r->f[2]);
	}
	return e;
}

/* ---- extaliases.tab: rdomain, rname, ldomain, lname ---- */

static enum tern_err render_exaliases(struct admin_ctx *ctx, struct buf *out)
{
	struct render_rows rr = {out, NULL};
	return dir_exalias_list(ctx->rd, put_row, &rr);
}

static bool check_exalias_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	lower_inplace(r->f[2]);
	return admin_check_domain(r->f[0]) == TERN_OK && admin_check_user(r->f[1]) == TERN_OK &&
	       admin_check_domain(r->f[2]) == TERN_OK && admin_check_user(r->f[3]) == TERN_OK;
}

static enum tern_err apply_exaliases(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	enum tern_err e = dir_exalias_delete_all(c);
	for (int i = 0; !e && i < p->n; i++) {
		struct rec *r = &p->r[i];
		if (dir_exalias_exists(c, r->f[0], r->f[1])) {
			p->bad_line = r->line;
			return TERN_E_BAD_FILE;
		}
		e = dir_exalias_add(c, r->f[0], r->f[1], r->f[2], r->f[3]);
	}
	return e;
}

/* ---- mailusers.tab: domain, account, password, id, dir, type ---- */

static int put_user_row(void *arg, const char *const *f, int n)
{
	(void)n;
	/* store rows: domain, name, type, id, dir */
	const char *out[6] = {f[0], f[1], ADMIN_SECRET_PLACEHOLDER, f[3], f[4], f[2]};
	struct render_rows rr = {arg, "   n  "};
	return put_row(&rr, out, 6);
}

static enum tern_err render_users(struct admin_ctx *ctx, struct buf *out)
{
	return dir_user_list(ctx->rd, NULL, NULL, -1, -1, put_user_row, out);
}

static bool check_user_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	char *end;
	long id = strtol(r->f[3], &end, 10);
	if (*end || id < 0)
		return false;
	if (admin_check_domain(r->f[0]) || admin_check_user(r->f[1]) || admin_check_user(r->f[4]))
		return false;
	if (strcmp(r->f[5], "U") && strcmp(r->f[5], "M"))
		return false;
	if (strcmp(r->f[2], ADMIN_SECRET_PLACEHOLDER)) {
		char pw[1100];
		if (view_xmail_decode(r->f[2], pw, sizeof pw) < 0)
			return false;
		secret_wipe(pw, sizeof pw);
	}
	return true;
}

struct id_row {
	int64_t id;
	char *domain, *dir;
};

static int collect_user(void *arg, const char *const *f, int n)
{
	(void)n;
	struct {
		struct id_row *v;
		int n, cap;
	} *s = arg;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
	}
	s->v[s->n].id = strtoll(f[3], NULL, 10);
	s->v[s->n].domain = xstrdup(f[0]);
	s->v[s->n].dir = xstrdup(f[4]);
	s->n++;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* Records of an upload that add an account ('U') or a list ('M') to a
 * domain: new ones, and existing ones whose type changes. */
struct grown {
	int rec;
	char type;
};

/* The domains' admin limits (admin_limits.h) hold for the table as
 * uploaded: a domain that gains accounts or lists must end within its
 * limits. TERN_E_LIMIT_REACHED with the first record over the limit. */
static enum tern_err users_within_limits(struct dir_conn *c, struct admin_env *env, struct parsed *p,
					 const struct grown *g, int ng)
{
	for (int i = 0; i < ng; i++) {
		const char *d = p->r[g[i].rec].f[0];
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = g[j].type == g[i].type && !strcasecmp(p->r[g[j].rec].f[0], d);
		if (seen)
			continue;
		struct admin_limits lim;
		admin_limits_get(env, d, &lim);
		int64_t max, n;
		if (g[i].type == 'U') {
			max = lim.v[ADMIN_LIM_ACCOUNTS];
			n = max ? dir_user_count_kind(c, d, 'U', NULL, NULL, true) : 0;
		} else {
			max = lim.v[ADMIN_LIM_MAILLISTS];
			n = max ? dir_user_count_kind(c, d, 'M', ADMIN_CLI_KIND_VAR, "group", false) : 0;
		}
		if (n < 0)
			return TERN_E_INTERNAL;
		if (!max || n <= max)
			continue;
		/* the records of this domain and type that grew it, in file order */
		int k = 0, first_over = -1;
		for (int j = i; j < ng; j++)
			if (g[j].type == g[i].type && !strcasecmp(p->r[g[j].rec].f[0], d))
				k++;
		int64_t allowed = k - (n - max); /* how many of them still fitted */
		for (int j = i, m = 0; j < ng && first_over < 0; j++)
			if (g[j].type == g[i].type && !strcasecmp(p->r[g[j].rec].f[0], d) && m++ >= allowed)
				first_over = g[j].rec;
		p->bad_line = p->r[first_over >= 0 ? first_over : g[i].rec].line;
		log_info("upload refused: domain %s would have %lld %s, above %s %lld", d, (long long)n,
			 g[i].type == 'U' ? "accounts" : "lists", g[i].type == 'U' ? "maxAccounts" : "maxMaillists",
			 (long long)max);
		return TERN_E_LIMIT_REACHED;
	}
	return TERN_OK;
}

static enum tern_err apply_users(struct dir_conn *c, struct parsed *p, void *extra)
{
	struct dropped *dr = extra;
	int64_t *kept = xcalloc((size_t)p->n + 1, sizeof *kept);
	struct grown *grown = xcalloc((size_t)p->n + 1, sizeof *grown);
	int nkept = 0, ngrown = 0;
	struct admin_limits lim = {0};
	char lim_domain[256] = ""; /* whose limits lim holds */
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && i < p->n; i++) {
		struct rec *r = &p->r[i];
		bool placeholder = !strcmp(r->f[2], ADMIN_SECRET_PLACEHOLDER);
		struct buf box = BUF_INIT;
		if (!placeholder) {
			char pw[1100];
			view_xmail_decode(r->f[2], pw, sizeof pw);
			secret_box_seal(pw, strlen(pw), &box);
			secret_wipe(pw, sizeof pw);
		}
		if (!dir_domain_exists(c, r->f[0])) {
			p->bad_line = r->line;
			e = TERN_E_BAD_FILE;
		} else {
			struct dir_user u;
			if (dir_user_get(c, r->f[0], r->f[1], &u)) {
				for (int k = 0; k < nkept; k++)
					if (kept[k] == u.id) {
						p->bad_line = r->line;
						e = TERN_E_BAD_FILE;
					}
				if (!e && !placeholder)
					e = dir_user_set_pending(c, u.id, box.data, box.len);
				if (!e && (u.type == 'M') != (r->f[5][0] == 'M')) {
					e = dir_user_set_type(c, u.id, r->f[5][0]);
					grown[ngrown++] = (struct grown){i, r->f[5][0]};
				}
				kept[nkept++] = u.id;
			} else if (placeholder) {
				p->bad_line = r->line; /* a new account needs a password */
				e = TERN_E_BAD_FILE;
			} else {
				int64_t want = strtoll(r->f[3], NULL, 10), id = 0;
				if (want > 0 && dir_user_id_taken(c, want))
					want = 0;
				char *vars = admin_userdef_vars(dr->env, r->f[0]);
				if (strcasecmp(lim_domain, r->f[0])) { /* uploads come grouped by domain */
					admin_limits_get(dr->env, r->f[0], &lim);
					snprintf(lim_domain, sizeof lim_domain, "%s", r->f[0]);
				}
				vars = admin_limits_cap_vars(&lim, vars); /* as useradd: within the ceiling */
				e = dir_user_add(c, r->f[0], r->f[1], r->f[5][0], box.data, box.len, vars, want, &id);
				free(vars);
				kept[nkept++] = id;
				grown[ngrown++] = (struct grown){i, r->f[5][0]};
			}
		}
		buf_free(&box);
	}
	if (e) {
		free(kept);
		free(grown);
		return e;
	}
	qsort(kept, (size_t)nkept, sizeof *kept, cmp_i64);
	struct {
		struct id_row *v;
		int n, cap;
	} all = {0};
	e = dir_user_list(c, NULL, NULL, -1, -1, collect_user, &all);
	for (int i = 0; i < all.n; i++) {
		if (!e && !bsearch(&all.v[i].id, kept, (size_t)nkept, sizeof *kept, cmp_i64)) {
			e = dir_user_del(c, all.v[i].id);
			char rel[600], label[600];
			snprintf(rel, sizeof rel, "domains/%s/%s", all.v[i].domain, all.v[i].dir);
			snprintf(label, sizeof label, "user-%s@%s", all.v[i].dir, all.v[i].domain);
			dropped_add(dr, rel, label);
		}
		free(all.v[i].domain);
		free(all.v[i].dir);
	}
	free(all.v);
	free(kept);
	if (!e)
		e = users_within_limits(c, dr->env, p, grown, ngrown);
	free(grown);
	return e;
}

/* ---- pop3links.tab: ld, lu, rh, ru, password, auth ---- */

static int put_link_row(void *arg, const char *const *f, int n)
{
	(void)n;
	const char *out[6] = {f[0], f[1], f[2], f[3], ADMIN_SECRET_PLACEHOLDER, f[4]};
	struct render_rows rr = {arg, NULL};
	return put_row(&rr, out, 6);
}

static enum tern_err render_links(struct admin_ctx *ctx, struct buf *out)
{
	return dir_poplink_list(ctx->rd, put_link_row, out);
}

static bool check_link_rec(struct rec *r)
{
	lower_inplace(r->f[0]);
	if (!r->f[0][0] || !r->f[1][0] || !r->f[2][0] || !r->f[3][0] || !r->f[5][0])
		return false;
	if (strcmp(r->f[4], ADMIN_SECRET_PLACEHOLDER)) {
		char pw[1100];
		if (r->f[4][0] && view_xmail_decode(r->f[4], pw, sizeof pw) < 0)
			return false;
		secret_wipe(pw, sizeof pw);
	}
	return true;
}

static enum tern_err apply_links(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	int n = p->n;
	unsigned char(*boxes)[2048] = xcalloc((size_t)n + 1, sizeof *boxes);
	size_t *lens = xcalloc((size_t)n + 1, sizeof *lens);
	bool *on = xcalloc((size_t)n + 1, sizeof *on);
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && i < n; i++) {
		struct rec *r = &p->r[i];
		on[i] = true;
		dir_poplink_get_enabled(c, r->f[0], r->f[1], r->f[2], r->f[3], &on[i]);
		if (!strcmp(r->f[4], ADMIN_SECRET_PLACEHOLDER)) {
			lens[i] = sizeof boxes[i];
			if (!dir_poplink_get_box(c, r->f[0], r->f[1], r->f[2], r->f[3], boxes[i], &lens[i])) {
				p->bad_line = r->line;
				e = TERN_E_BAD_FILE;
			}
		} else {
			char pw[1100] = "";
			if (r->f[4][0])
				view_xmail_decode(r->f[4], pw, sizeof pw);
			struct buf b = BUF_INIT;
			secret_box_seal(pw, strlen(pw), &b);
			secret_wipe(pw, sizeof pw);
			memcpy(boxes[i], b.data, b.len < sizeof boxes[i] ? b.len : sizeof boxes[i]);
			lens[i] = b.len;
			buf_free(&b);
		}
	}
	if (!e)
		e = dir_poplink_delete_all(c);
	for (int i = 0; !e && i < n; i++) {
		struct rec *r = &p->r[i];
		if (dir_poplink_exists(c, r->f[0], r->f[1], r->f[2], r->f[3])) {
			p->bad_line = r->line;
			e = TERN_E_BAD_FILE;
			break;
		}
		e = dir_poplink_add(c, r->f[0], r->f[1], r->f[2], r->f[3], boxes[i], lens[i], r->f[5], on[i]);
	}
	free(boxes);
	free(lens);
	free(on);
	return e;
}

/* ---- ctrl.ipmap.tab: addr, mask, action, precedence ---- */


static enum tern_err render_ipmap(struct admin_ctx *ctx, struct buf *out)
{
	struct render_rows rr = {out, "   n"};
	return dir_ipmap_list(ctx->rd, "ctrl", put_row, &rr);
}

static bool check_ipmap_rec(struct rec *r)
{
	char *end;
	strtol(r->f[3], &end, 10);
	if (!r->f[3][0] || *end)
		return false;
	if (strcasecmp(r->f[2], "ALLOW") && strcasecmp(r->f[2], "DENY"))
		return false;
	return admin_ipmap_rule_valid(r->f[0], r->f[1]);
}

static enum tern_err apply_ipmap(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	enum tern_err e = dir_ipmap_replace_begin(c, "ctrl");
	for (int i = 0; !e && i < p->n; i++) {
		struct rec *r = &p->r[i];
		char action[8];
		snprintf(action, sizeof action, "%s", strcasecmp(r->f[2], "ALLOW") ? "DENY" : "ALLOW");
		e = dir_ipmap_append(c, "ctrl", r->f[0], r->f[1], action, (int)strtol(r->f[3], NULL, 10));
	}
	return e;
}

/* ---- server.tab: name, value ---- */

static enum tern_err render_server(struct admin_ctx *ctx, struct buf *out)
{
	size_t n;
	const struct setting_def *defs = settings_table(&n);
	struct render_rows rr = {out, NULL};
	for (size_t i = 0; i < n; i++) {
		char v[4096];
		settings_get(ctx->rd, defs[i].name, v, sizeof v);
		const char *row[2] = {defs[i].name, v};
		put_row(&rr, row, 2);
	}
	struct admin_names extra = {0};
	enum tern_err e = dir_setting_list(ctx->rd, admin_names_row, &extra);
	for (int i = 0; i < extra.n; i++) {
		if (settings_find(extra.v[i]))
			continue;
		char v[4096];
		if (dir_setting_get(ctx->rd, extra.v[i], v, sizeof v)) {
			const char *row[2] = {extra.v[i], v};
			put_row(&rr, row, 2);
		}
	}
	admin_names_free(&extra);
	return e;
}

static bool check_setting_rec(struct rec *r)
{
	return settings_validate(r->f[0], r->f[1]) == TERN_OK;
}

static enum tern_err apply_server(struct dir_conn *c, struct parsed *p, void *extra)
{
	(void)extra;
	/* the table replaces every setting: its Tls* values over the defaults
	 * must make a usable whole (core/tls.h) */
	const char **pairs = xcalloc((size_t)p->n * 2 + 1, sizeof *pairs);
	int n = 0;
	for (int i = 0; i < p->n; i++) {
		const struct setting_def *d = settings_find(p->r[i].f[0]);
		if (d && !strncmp(d->name, "Tls", 3) && strcmp(d->def, p->r[i].f[1]) != 0) {
			pairs[2 * n] = p->r[i].f[0];
			pairs[2 * n + 1] = p->r[i].f[1];
			n++;
		}
	}
	struct tls_params tp;
	char why[400];
	settings_tls_params_over(NULL, pairs, n, &tp);
	free(pairs);
	if (n && tls_params_check(&tp, why, sizeof why) < 0) {
		log_warn("server.tab refused: the TLS parameters are not usable (%s)", why);
		return TERN_E_INVALID;
	}
	enum tern_err e = dir_setting_delete_all(c);
	for (int i = 0; !e && i < p->n; i++) {
		const struct setting_def *d = settings_find(p->r[i].f[0]);
		if (d && !strcmp(d->def, p->r[i].f[1]))
			e = dir_setting_del(c, p->r[i].f[0]);
		else
			e = dir_setting_set(c, p->r[i].f[0], p->r[i].f[1]);
	}
	return e;
}

/* ---- the table ---- */

static const struct view views[] = {
	{"mailusers.tab", 6, 6, render_users, check_user_rec, apply_users},
	{"aliases.tab", 3, 3, render_aliases, check_alias_rec, apply_aliases},
	{"extaliases.tab", 4, 4, render_exaliases, check_exalias_rec, apply_exaliases},
	{"domains.tab", 1, 1, render_domains, check_domain_rec, apply_domains},
	{"aliasdomain.tab", 2, 2, render_aliasdomains, check_aliasdomain_rec, apply_aliasdomains},
	{"pop3links.tab", 6, 6, render_links, check_link_rec, apply_links},
	{"ctrl.ipmap.tab", 4, 4, render_ipmap, check_ipmap_rec, apply_ipmap},
	{"server.tab", 2, 2, render_server, check_setting_rec, apply_server},
};

static const char *const names[] = {"mailusers.tab", "aliases.tab",   "extaliases.tab", "domains.tab",
				    "aliasdomain.tab", "pop3links.tab", "ctrl.ipmap.tab", "server.tab", NULL};

const char *const *view_names(void)
{
	return names;
}

const struct view *view_find(const char *name)
{
	for (size_t i = 0; i < sizeof views / sizeof *views; i++)
		if (!strcmp(views[i].name, name))
			return &views[i];
	return NULL;
}

enum tern_err view_render(struct admin_ctx *ctx, const char *name, struct buf *out)
{
	const struct view *v = view_find(name);
	return v ? v->render(ctx, out) : TERN_E_NO_FILE;
}

enum tern_err view_check_upload(const char *name, const char *data, size_t len, int *bad_line_r)
{
	const struct view *v = view_find(name);
	if (!v)
		return TERN_E_NO_FILE;
	struct parsed p;
	enum tern_err e = parse_upload(data, len, v->min_fields, v->max_fields, v->check, &p);
	if (e == TERN_E_BAD_FILE && bad_line_r)
		*bad_line_r = p.bad_line;
	parsed_free(&p);
	return e;
}

struct replace_job {
	const struct view *v;
	struct parsed *p;
	struct dropped dropped;
};

static enum tern_err tx_replace(struct dir_conn *c, void *arg)
{
	struct replace_job *j = arg;
	return j->v->apply(c, j->p, &j->dropped);
}

enum tern_err view_replace(struct admin_ctx *ctx, const char *name, const char *data, size_t len, int *bad_line_r)
{
	const struct view *v = view_find(name);
	if (!v)
		return TERN_E_NO_FILE;
	struct parsed p;
	enum tern_err e = parse_upload(data, len, v->min_fields, v->max_fields, v->check, &p);
	struct replace_job j = {.v = v, .p = &p, .dropped = {.env = ctx->env}};
	if (!e)
		e = dir_write(ctx->env->dir, tx_replace, &j);
	if ((e == TERN_E_BAD_FILE || e == TERN_E_LIMIT_REACHED) && bad_line_r)
		*bad_line_r = p.bad_line;
	for (int i = 0; i < j.dropped.n; i++) {
		char dest[800];
		if (!e && admin_trash_move(ctx->env, j.dropped.rel[i], j.dropped.label[i], dest, sizeof dest) == 0)
			log_info("cfgfileset %s by %s from %s: %s moved to %s", name, ctx->admin, ctx->peer,
				 j.dropped.rel[i], dest);
		free(j.dropped.rel[i]);
		free(j.dropped.label[i]);
	}
	free(j.dropped.rel);
	free(j.dropped.label);
	if (!e && !strcmp(name, "mailusers.tab"))
		rehash_kick();
	if (!e && ctx->env->sends) /* accounts it dropped: no counters left for their ids */
		send_counters_prune(ctx->env->sends, ctx->rd);
	if (!e && !strcmp(name, "server.tab")) /* TLS and listeners at once, as a CLI COMMIT does */
		admin_apply_live_settings(ctx->env, ctx->rd, "server.tab stored");
	if (!e && !strcmp(name, "domains.tab")) {
		struct admin_names cur = {0};
		dir_domain_list(ctx->rd, admin_names_row, &cur);
		for (int i = 0; i < cur.n; i++) {
			char rel[300];
			snprintf(rel, sizeof rel, "domains/%s", cur.v[i]);
			mkdirat(ctx->env->rootfd, rel, 0700);
		}
		admin_names_free(&cur);
	}
	parsed_free(&p);
	return e;
}
