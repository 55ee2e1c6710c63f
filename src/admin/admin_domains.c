/*
 * admin_domains - handled domains and alias domains.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../store/mboxlock.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/wildmat.h"
#include "../core/xmalloc.h"
#include "../smtp/send_limits.h"
#include "admin.h"

static enum tern_err tx_domain_add(struct dir_conn *c, void *arg)
{
	const char *d = arg;
	if (dir_domain_exists(c, d) || dir_aliasdomain_exists(c, d))
		return TERN_E_DOMAIN_EXISTS;
	return dir_domain_add(c, d);
}

enum tern_err admin_domain_add(struct admin_ctx *ctx, const char *domain)
{
	enum tern_err e = admin_check_domain(domain);
	if (e)
		return e;
	char d[256], path[600];
	admin_lower_copy(d, sizeof d, domain);
	if (dir_domain_exists(ctx->rd, d) || dir_aliasdomain_exists(ctx->rd, d))
		return TERN_E_DOMAIN_EXISTS;
	snprintf(path, sizeof path, "%s/domains/%s", ctx->env->root, d);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", path, strerror(errno));
		return TERN_E_CREATE_DIR;
	}
	return dir_write(ctx->env->dir, tx_domain_add, d);
}

static enum tern_err tx_domain_del(struct dir_conn *c, void *arg)
{
	const char *d = arg;
	if (!dir_domain_exists(c, d))
		return TERN_E_DOMAIN_NOT_HANDLED;
	return dir_domain_del(c, d);
}

enum tern_err admin_domain_del(struct admin_ctx *ctx, const char *domain)
{
	char d[256], rel[300], label[300];
	admin_lower_copy(d, sizeof d, domain);
	if (admin_check_domain(d) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	/* exclusive against renames and delivery runs, as for userdel */
	mbox_moves_begin();
	enum tern_err e = dir_write(ctx->env->dir, tx_domain_del, d);
	char dest[600];
	int moved = -1;
	if (!e) {
		snprintf(rel, sizeof rel, "domains/%s", d);
		snprintf(label, sizeof label, "domain-%s", d);
		moved = admin_trash_move(ctx->env, rel, label, dest, sizeof dest);
	}
	mbox_moves_end();
	if (e)
		return e;
	if (ctx->env->sends) /* no counters a new account of the same id could inherit */
		send_counters_prune(ctx->env->sends, ctx->rd);
	if (moved == 0)
		log_info("domaindel %s by %s from %s: mailboxes moved to %s", d, ctx->admin, ctx->peer, dest);
	return TERN_OK;
}

struct dom_state {
	char name[256];
	bool on;
	bool changed;
};

static enum tern_err tx_domain_state(struct dir_conn *c, void *arg)
{
	struct dom_state *ds = arg;
	if (!dir_domain_exists(c, ds->name))
		return TERN_E_DOMAIN_NOT_HANDLED;
	ds->changed = dir_domain_enabled(c, ds->name) != ds->on;
	return ds->changed ? dir_domain_set_enabled(c, ds->name, ds->on) : TERN_OK;
}

/* Messages frozen because this domain was disabled (a line of their log
 * gives that reason) go back to the delivery queue. Delivery decides again
 * for each of their recipients, so one frozen for other reasons too is
 * frozen again for those. */
static int release_held(struct admin_ctx *ctx, const char *domain)
{
	int fd = openat(ctx->env->rootfd, "spool/held", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	char why[320];
	snprintf(why, sizeof why, "> %s%s\n", ADMIN_DOMAIN_DISABLED_WHY, domain);
	char **names = NULL;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len < 5 || len > 150 || de->d_name[0] == '.' || strcmp(de->d_name + len - 4, ".log"))
			continue;
		char rel[300];
		snprintf(rel, sizeof rel, "spool/held/%s", de->d_name);
		struct buf b = BUF_INIT;
		bool any = false;
		if (fs_read_all_at(ctx->env->rootfd, rel, 1u << 20, &b) == 0)
			for (size_t i = 0, wl = strlen(why); !any && i < b.len;) {
				const char *nl = memchr(b.data + i, '\n', b.len - i);
				size_t end = nl ? (size_t)(nl - b.data) + 1 : b.len;
				any = end - i >= wl && !memcmp(b.data + end - wl, why, wl);
				i = end;
			}
		buf_free(&b);
		if (!any)
			continue;
		names = xrealloc(names, (size_t)(n + 1) * sizeof *names);
		names[n++] = xstrndup(de->d_name, len - 4);
	}
	closedir(d);
	int done = 0;
	for (int i = 0; i < n; i++) {
		if (admin_frozen_submit(ctx, "0", "0", names[i]) == TERN_OK)
			done++;
		free(names[i]);
	}
	free(names);
	return done;
}

enum tern_err admin_domain_set_enabled(struct admin_ctx *ctx, const char *domain, bool on)
{
	struct dom_state ds = {.on = on};
	admin_lower_copy(ds.name, sizeof ds.name, domain);
	if (strlen(domain) > 253 || admin_check_domain(ds.name) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	enum tern_err e = dir_write(ctx->env->dir, tx_domain_state, &ds);
	if (e)
		return e;
	/* Also when it was enabled already: a delivery that read the old
	 * state just before the change may have frozen a copy since. */
	int released = on ? release_held(ctx, ds.name) : 0;
	log_info("domain%s %s by %s from %s via %s%s: %s (%d frozen message(s) back in the queue)",
		 on ? "enable" : "disable", ds.name, ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-",
		 ctx->via ? ctx->via : "?", ds.changed ? "" : " (no change, it was already so)",
		 on ? "receives and serves mail" : "mail for it is refused or frozen, logins refused", released);
	return TERN_OK;
}

struct pat_filter {
	char **pats;
	int npats;
	int col;
	dir_row_fn fn;
	void *arg;
};

static int filter_any(void *arg, const char *const *f, int n)
{
	struct pat_filter *pf = arg;
	if (pf->npats == 0)
		return pf->fn(pf->arg, f, n);
	for (int i = 0; i < pf->npats; i++)
		if (wildmat(pf->pats[i], f[pf->col]))
			return pf->fn(pf->arg, f, n);
	return 0;
}

enum tern_err admin_domain_list(struct admin_ctx *ctx, char **pats, int npats, dir_row_fn fn, void *arg)
{
	struct pat_filter pf = {pats, npats, 0, fn, arg};
	return dir_domain_list(ctx->rd, filter_any, &pf);
}

enum tern_err admin_domain_list_state(struct admin_ctx *ctx, char **pats, int npats, dir_row_fn fn, void *arg)
{
	struct pat_filter pf = {pats, npats, 0, fn, arg};
	return dir_domain_list_state(ctx->rd, filter_any, &pf);
}

struct adom {
	char real[256];
	char alias[256];
};

static enum tern_err tx_aliasdomain_add(struct dir_conn *c, void *arg)
{
	struct adom *a = arg;
	if (!dir_domain_exists(c, a->real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (dir_domain_exists(c, a->alias) || dir_aliasdomain_exists(c, a->alias))
		return TERN_E_ALIASDOMAIN_EXISTS;
	return dir_aliasdomain_add(c, a->alias, a->real);
}

static bool wild_domain_ok(const char *s)
{
	/* "*.example.test" style patterns: a leading wildcard label is allowed. */
	if (s[0] == '*' && s[1] == '.')
		return admin_check_domain(s + 2) == TERN_OK;
	return admin_check_domain(s) == TERN_OK;
}

enum tern_err admin_aliasdomain_add(struct admin_ctx *ctx, const char *real, const char *alias)
{
	struct adom a;
	admin_lower_copy(a.real, sizeof a.real, real);
	admin_lower_copy(a.alias, sizeof a.alias, alias);
	if (admin_check_domain(a.real) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!wild_domain_ok(a.alias))
		return admin_check_domain(a.alias) ? admin_check_domain(a.alias) : TERN_E_BAD_DOMAIN;
	return dir_write(ctx->env->dir, tx_aliasdomain_add, &a);
}

static enum tern_err tx_aliasdomain_del(struct dir_conn *c, void *arg)
{
	const char *alias = arg;
	if (!dir_aliasdomain_exists(c, alias))
		return TERN_E_ALIASDOMAIN_NOT_FOUND;
	return dir_aliasdomain_del(c, alias);
}

enum tern_err admin_aliasdomain_del(struct admin_ctx *ctx, const char *alias)
{
	char a[256];
	admin_lower_copy(a, sizeof a, alias);
	return dir_write(ctx->env->dir, tx_aliasdomain_del, a);
}

struct adom_filter {
	const char *rpat, *apat;
	dir_row_fn fn;
	void *arg;
};

static int adom_row(void *arg, const char *const *f, int n)
{
	(void)n;
	struct adom_filter *af = arg;
	/* store rows: alias, real; listing: real, alias */
	if (af->rpat && !wildmat(af->rpat, f[1]))
		return 0;
	if (af->apat && !wildmat(af->apat, f[0]))
		return 0;
	const char *out[2] = {f[1], f[0]};
	return af->fn(af->arg, out, 2);
}

enum tern_err admin_aliasdomain_list(struct admin_ctx *ctx, const char *rpat, const char *apat, dir_row_fn fn,
				     void *arg)
{
	struct adom_filter af = {rpat, apat, fn, arg};
	return dir_aliasdomain_list(ctx->rd, adom_row, &af);
}
