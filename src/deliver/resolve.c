/*
 * resolve - recipient expansion through the directory.
 */
#include "resolve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../core/xmalloc.h"
#include "../smtp/smtp_parse.h"

#define MAX_DEPTH 8
#define MAX_TARGETS 1000

bool resolve_domain_is_local(struct dir_conn *c, const char *domain)
{
	char real[256];
	return dir_domain_resolve(c, domain, real, sizeof real);
}

bool resolve_domain_disabled(struct dir_conn *c, const char *addr)
{
	char local[256], dom[256], real[256];
	return smtp_addr_split(addr, local, sizeof local, dom, sizeof dom) &&
	       dir_domain_resolve(c, dom, real, sizeof real) && !dir_domain_enabled(c, real);
}

static void add_local(struct resolved *r, const struct dir_user *u)
{
	for (int i = 0; i < r->nlocal; i++)
		if (!strcasecmp(r->local[i].domain, u->domain) && !strcasecmp(r->local[i].dir, u->dir))
			return;
	if (r->nlocal + r->nremote >= MAX_TARGETS)
		return;
	r->local = xrealloc(r->local, (size_t)(r->nlocal + 1) * sizeof *r->local);
	struct mailbox_ref *m = &r->local[r->nlocal++];
	m->id = u->id;
	snprintf(m->domain, sizeof m->domain, "%s", u->domain);
	snprintf(m->dir, sizeof m->dir, "%s", u->dir);
	snprintf(m->name, sizeof m->name, "%s", u->name);
}

static void add_remote(struct resolved *r, const char *addr)
{
	for (int i = 0; i < r->nremote; i++)
		if (!strcasecmp(r->remote[i], addr))
			return;
	if (r->nlocal + r->nremote >= MAX_TARGETS)
		return;
	r->remote = xrealloc(r->remote, (size_t)(r->nremote + 1) * sizeof *r->remote);
	r->remote[r->nremote++] = xstrdup(addr);
}

struct member_list {
	int n;
	char **addr;
};

static int collect_member(void *arg, const char *const *f, int n)
{
	(void)n;
	struct member_list *m = arg;
	if (m->n >= MAX_TARGETS)
		return 1;
	m->addr = xrealloc(m->addr, (size_t)(m->n + 1) * sizeof *m->addr);
	m->addr[m->n++] = xstrdup(f[0]);
	return 0;
}

static enum resolve_kind expand(struct dir_conn *c, const char *addr, struct resolved *out, int depth)
{
	if (depth > MAX_DEPTH)
		return RESOLVE_LOOP;
	char local[256], dom[256], real[256];
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom))
		return RESOLVE_UNKNOWN;
	if (!dir_domain_resolve(c, dom, real, sizeof real)) {
		/* An external alias: an outside address that stands for a
		 * local account receives into that account. */
		char local_addr[600];
		if (dir_exalias_resolve(c, dom, local, local_addr, sizeof local_addr))
			return expand(c, local_addr, out, depth + 1);
		add_remote(out, addr);
		return RESOLVE_REMOTE;
	}
	struct dir_user u;
	if (dir_user_get(c, real, local, &u)) {
		if (u.type != 'M') {
			add_local(out, &u);
			return RESOLVE_LOCAL;
		}
		struct member_list m = {0};
		dir_mluser_list(c, u.id, collect_member, &m);
		enum resolve_kind k = RESOLVE_LOCAL;
		for (int i = 0; i < m.n; i++) {
			enum resolve_kind mk = expand(c, m.addr[i], out, depth + 1);
			if (mk == RESOLVE_LOOP)
				k = RESOLVE_LOOP;
			free(m.addr[i]);
		}
		free(m.addr);
		return k;
	}
	char target[600];
	if (dir_alias_resolve(c, real, local, target, sizeof target) ||
	    (strcmp(real, dom) && dir_alias_resolve(c, dom, local, target, sizeof target))) {
		char full[900];
		if (strchr(target, '@'))
			snprintf(full, sizeof full, "%s", target);
		else
			snprintf(full, sizeof full, "%s@%s", target, real);
		enum resolve_kind k = expand(c, full, out, depth + 1);
		return k == RESOLVE_REMOTE ? RESOLVE_LOCAL : k;
	}
	return RESOLVE_UNKNOWN;
}

enum resolve_kind resolve_rcpt(struct dir_conn *c, const char *addr, struct resolved *out)
{
	memset(out, 0, sizeof *out);
	return expand(c, addr, out, 0);
}

void resolved_free(struct resolved *r)
{
	for (int i = 0; i < r->nremote; i++)
		free(r->remote[i]);
	free(r->remote);
	free(r->local);
	memset(r, 0, sizeof *r);
}

int64_t quota_tighter(int64_t a, int64_t b)
{
	if (a <= 0)
		return b > 0 ? b : 0;
	if (b <= 0)
		return a;
	return a < b ? a : b;
}

/* A quota variable: its leading decimal number (as strtoll reads it);
 * negative or none counts as no limit, huge ones are capped. */
static int64_t quota_number(const char *v)
{
	long long x = strtoll(v, NULL, 10);
	if (x < 0)
		return 0;
	return x > (INT64_MAX >> 11) ? (INT64_MAX >> 11) : x;
}

struct gate_read {
	struct delivery_gate *g;
	int64_t kb, folder_kb, count, folder_count;
};

static int gate_var(void *arg, const char *const *f, int n)
{
	(void)n;
	struct gate_read *gr = arg;
	if (!strcmp(f[0], "ReceiveEnable"))
		gr->g->receive = strcmp(f[1], "0") != 0;
	else if (!strcmp(f[0], "MaxMBSize"))
		gr->kb = quota_number(f[1]);
	else if (!strcmp(f[0], "FolderMaxMBSize"))
		gr->folder_kb = quota_number(f[1]);
	else if (!strcmp(f[0], "MaxMessages"))
		gr->count = quota_number(f[1]);
	else if (!strcmp(f[0], "FolderMaxMessages"))
		gr->folder_count = quota_number(f[1]);
	return 0;
}

void resolve_gate(struct dir_conn *c, int64_t account_id, struct delivery_gate *g)
{
	g->receive = true;
	struct gate_read gr = {g, 0, 0, 0, 0};
	dir_uservar_list(c, account_id, gate_var, &gr);
	int64_t kb = quota_tighter(gr.kb, gr.folder_kb);
	g->max_bytes = kb * 1024;
	g->max_count = quota_tighter(gr.count, gr.folder_count);
	g->size_by_folder = kb && kb != gr.kb;
	g->count_by_folder = g->max_count && g->max_count != gr.count;
}

struct closed_check {
	bool closed;
};

static int closed_var(void *arg, const char *const *f, int n)
{
	(void)n;
	struct closed_check *cc = arg;
	if (!strcmp(f[0], "ClosedML"))
		cc->closed = strcmp(f[1], "0") != 0;
	return 0;
}

struct post_check {
	const char *sender, *auth;
	bool ok;
};

static int member_may_post(void *arg, const char *const *f, int n)
{
	(void)n;
	struct post_check *pc = arg;
	if (pc->sender && *pc->sender && !strcasecmp(f[0], pc->sender) && strchr(f[1], 'W'))
		pc->ok = true;
	if (pc->auth && *pc->auth && !strcasecmp(f[0], pc->auth) && strchr(f[1], 'A'))
		pc->ok = true;
	return pc->ok;
}

bool resolve_may_post(struct dir_conn *c, const char *addr, const char *sender, const char *auth_user)
{
	char local[256], dom[256], real[256];
	struct dir_user u;
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom) ||
	    !dir_domain_resolve(c, dom, real, sizeof real))
		return true;
	if (!dir_user_get(c, real, local, &u)) {
		char target[600];
		if (!dir_alias_resolve(c, real, local, target, sizeof target) || strchr(target, '@') ||
		    !dir_user_get(c, real, target, &u))
			return true;
	}
	if (u.type != 'M')
		return true;
	struct closed_check cc = {false};
	dir_uservar_list(c, u.id, closed_var, &cc);
	if (!cc.closed)
		return true;
	struct post_check pc = {sender, auth_user, false};
	dir_mluser_list(c, u.id, member_may_post, &pc);
	return pc.ok;
}

/* A group or list (an 'M' account, addressed directly or through an
 * alias of its domain) whose ReceiveEnable is "0" receives nothing. */
bool resolve_list_receives(struct dir_conn *c, const char *addr)
{
	char local[256], dom[256], real[256], target[600];
	struct dir_user u;
	if (!smtp_addr_split(addr, local, sizeof local, dom, sizeof dom) ||
	    !dir_domain_resolve(c, dom, real, sizeof real))
		return true;
	if (!dir_user_get(c, real, local, &u) &&
	    (!dir_alias_resolve(c, real, local, target, sizeof target) || strchr(target, '@') ||
	     !dir_user_get(c, real, target, &u)))
		return true;
	if (u.type != 'M')
		return true;
	struct delivery_gate g;
	resolve_gate(c, u.id, &g);
	return g.receive;
}
