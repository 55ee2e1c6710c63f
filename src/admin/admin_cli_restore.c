/*
 * admin_cli_restore - listing, reading and restoring SAVE CONFIG snapshots;
 * see admin_cli.h for what a restore covers.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "settings.h"

#define SNAP_DIR "snapshots"
#define MAX_FILE (64u << 20)

static const char *const files[] = {"MANIFEST",        "server.tab",     "domains.tab",    "aliasdomain.tab",
				    "aliases.tab",     "extaliases.tab", "ctrl.ipmap.tab", "mailusers.tab",
				    "pop3links.tab",   "uservars.tab",   "domainstate.tab", NULL};

const char *const *admin_cli_snapshot_files(void)
{
	return files;
}

/* NNNNNN-YYYYMMDDTHHMMSSZ[-label] */
static bool snap_name_ok(const char *n)
{
	size_t l = strlen(n);
	if (l < 23 || l > 120)
		return false;
	for (int i = 0; i < 6; i++)
		if (!isdigit((unsigned char)n[i]))
			return false;
	if (n[6] != '-')
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static bool file_ok(const char *f)
{
	for (int i = 0; files[i]; i++)
		if (!strcmp(files[i], f))
			return true;
	return false;
}

enum tern_err admin_cli_snapshot_read(struct admin_ctx *ctx, const char *name, const char *file, struct buf *out)
{
	if (!snap_name_ok(name))
		return TERN_E_NO_FILE;
	if (!file_ok(file))
		return TERN_E_BAD_PATH;
	char rel[300];
	snprintf(rel, sizeof rel, "%s/%s/%s", SNAP_DIR, name, file);
	if (fs_read_all_at(ctx->env->rootfd, rel, MAX_FILE, out) < 0)
		return TERN_E_NO_FILE;
	return TERN_OK;
}

struct snap {
	char name[128];
};

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snap *)a)->name, ((const struct snap *)b)->name);
}

static void manifest_get(const struct buf *m, const char *key, char *out, size_t sz)
{
	snprintf(out, sz, "-");
	if (!m->data)
		return;
	size_t kl = strlen(key);
	const char *p = m->data;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > kl && !strncmp(p, key, kl) && p[kl] == '\t') {
			snprintf(out, sz, "%.*s", (int)(len - kl - 1), p + kl + 1);
			return;
		}
		p = nl ? nl + 1 : NULL;
	}
}

enum tern_err admin_cli_snapshot_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	int fd = openat(ctx->env->rootfd, SNAP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return TERN_OK; /* none yet */
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return TERN_E_INTERNAL;
	}
	struct snap *v = NULL;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (!snap_name_ok(de->d_name))
			continue;
		v = xrealloc(v, (n + 1) * sizeof *v);
		snprintf(v[n++].name, sizeof v->name, "%.120s", de->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof *v, snap_cmp);
	bool stop = false;
	for (size_t i = 0; i < n && !stop; i++) {
		struct buf m = BUF_INIT;
		admin_cli_snapshot_read(ctx, v[i].name, "MANIFEST", &m);
		char version[32], created[64], admin[130], peer[70];
		manifest_get(&m, "version", version, sizeof version);
		manifest_get(&m, "created", created, sizeof created);
		manifest_get(&m, "admin", admin, sizeof admin);
		manifest_get(&m, "peer", peer, sizeof peer);
		buf_free(&m);
		const char *row[5] = {v[i].name, version, created, admin, peer};
		stop = fn(arg, row, 5) != 0;
	}
	free(v);
	return TERN_OK;
}

/* ---- restore ---- */

struct table {
	char **lines; /* owned copies, split in place */
	char ***f;
	int *nf;
	int n;
};

static void table_free(struct table *t)
{
	for (int i = 0; i < t->n; i++) {
		free(t->lines[i]);
		free(t->f[i]);
	}
	free(t->lines);
	free(t->f);
	free(t->nf);
	memset(t, 0, sizeof *t);
}

static enum tern_err table_load(struct admin_ctx *ctx, const char *name, const char *file, int want, struct table *t)
{
	memset(t, 0, sizeof *t);
	struct buf b = BUF_INIT;
	enum tern_err e = admin_cli_snapshot_read(ctx, name, file, &b);
	if (e) {
		buf_free(&b);
		return e;
	}
	char *data = xstrndup(b.data ? b.data : "", b.len);
	buf_free(&b);
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (!l || line[0] == '#')
			continue;
		char *copy = xstrdup(line);
		char **f = xcalloc((size_t)want + 1, sizeof *f);
		int n = tab_split(copy, f, want);
		if (n != want) {
			free(copy);
			free(f);
			continue;
		}
		t->lines = xrealloc(t->lines, (size_t)(t->n + 1) * sizeof *t->lines);
		t->f = xrealloc(t->f, (size_t)(t->n + 1) * sizeof *t->f);
		t->nf = xrealloc(t->nf, (size_t)(t->n + 1) * sizeof *t->nf);
		t->lines[t->n] = copy;
		t->f[t->n] = f;
		t->nf[t->n] = n;
		t->n++;
	}
	free(data);
	return TERN_OK;
}

struct restore {
	struct table server, ipmap, domains, aliasdomains, aliases, exaliases, uservars;
	struct table state; /* domainstate.tab: "domain" "disabled" (absent in older snapshots) */
	struct admin_cli_restore_report *r;
};

static enum tern_err tx_restore(struct dir_conn *c, void *arg)
{
	struct restore *rs = arg;
	struct admin_cli_restore_report *r = rs->r;
	enum tern_err e = dir_setting_delete_all(c);
	for (int i = 0; !e && i < rs->server.n; i++) {
		char **f = rs->server.f[i];
		const struct setting_def *d = settings_find(f[0]);
		if (settings_validate(f[0], f[1]) != TERN_OK) {
			r->skipped++;
			continue;
		}
		if (!d || strcmp(d->def, f[1]) != 0)
			e = dir_setting_set(c, f[0], f[1]);
		r->settings++;
	}
	if (!e)
		e = dir_ipmap_replace_begin(c, "ctrl");
	for (int i = 0; !e && i < rs->ipmap.n; i++) {
		char **f = rs->ipmap.f[i];
		if (!admin_ipmap_rule_valid(f[0], f[1])) {
			r->skipped++;
			continue;
		}
		e = dir_ipmap_append(c, "ctrl", f[0], f[1], strcasecmp(f[2], "ALLOW") ? "DENY" : "ALLOW",
				     (int)strtol(f[3], NULL, 10));
	}
	for (int i = 0; !e && i < rs->domains.n; i++) {
		const char *d = rs->domains.f[i][0];
		if (admin_check_domain(d) != TERN_OK || dir_domain_exists(c, d) || dir_aliasdomain_exists(c, d))
			continue;
		if (!(e = dir_domain_add(c, d)))
			r->domains++;
		/* A domain the restore creates gets its saved state back. */
		for (int j = 0; !e && j < rs->state.n; j++)
			if (!strcasecmp(rs->state.f[j][0], d) && !strcmp(rs->state.f[j][1], "disabled"))
				e = dir_domain_set_enabled(c, d, false);
	}
	for (int i = 0; !e && i < rs->aliasdomains.n; i++) {
		const char *al = rs->aliasdomains.f[i][0], *real = rs->aliasdomains.f[i][1];
		if (admin_check_domain(al) != TERN_OK) {
			r->skipped++;
			continue;
		}
		if (!dir_domain_exists(c, real) || dir_domain_exists(c, al) || dir_aliasdomain_exists(c, al))
			continue;
		if (!(e = dir_aliasdomain_add(c, al, real)))
			r->aliasdomains++;
	}
	for (int i = 0; !e && i < rs->aliases.n; i++) {
		char **f = rs->aliases.f[i];
		if ((admin_check_user(f[1]) != TERN_OK && strcmp(f[1], "*")) || !*f[2] || !admin_value_ok(f[2])) {
			r->skipped++;
			continue;
		}
		if (!dir_domain_exists(c, f[0]) || dir_alias_exists(c, f[0], f[1]) || dir_user_get(c, f[0], f[1], NULL))
			continue;
		if (!(e = dir_alias_add(c, f[0], f[1], f[2])))
			r->aliases++;
	}
	for (int i = 0; !e && i < rs->exaliases.n; i++) {
		char **f = rs->exaliases.f[i];
		if (admin_check_domain(f[0]) != TERN_OK || admin_check_user(f[1]) != TERN_OK) {
			r->skipped++;
			continue;
		}
		if (dir_exalias_exists(c, f[0], f[1]) || !dir_user_get(c, f[2], f[3], NULL))
			continue;
		if (!(e = dir_exalias_add(c, f[0], f[1], f[2], f[3])))
			r->exaliases++;
	}
	for (int i = 0; !e && i < rs->uservars.n; i++) {
		char **f = rs->uservars.f[i];
		struct dir_user u;
		if (!dir_user_get(c, f[0], f[1], &u) || !admin_value_ok(f[2]) || !admin_value_ok(f[3])) {
			r->skipped++;
			continue;
		}
		if (!(e = dir_uservar_set(c, u.id, f[2], f[3])))
			r->vars++;
	}
	return e;
}

enum tern_err admin_cli_config_restore(struct admin_ctx *ctx, const char *name, struct admin_cli_restore_report *r)
{
	memset(r, 0, sizeof *r);
	struct restore rs = {.r = r};
	struct buf m = BUF_INIT;
	enum tern_err e = admin_cli_snapshot_read(ctx, name, "MANIFEST", &m);
	buf_free(&m);
	if (e)
		return e;
	if ((e = table_load(ctx, name, "server.tab", 2, &rs.server)) ||
	    (e = table_load(ctx, name, "ctrl.ipmap.tab", 4, &rs.ipmap)) ||
	    (e = table_load(ctx, name, "domains.tab", 1, &rs.domains)) ||
	    (e = table_load(ctx, name, "aliasdomain.tab", 2, &rs.aliasdomains)) ||
	    (e = table_load(ctx, name, "aliases.tab", 3, &rs.aliases)) ||
	    (e = table_load(ctx, name, "extaliases.tab", 4, &rs.exaliases)) ||
	    (e = table_load(ctx, name, "uservars.tab", 4, &rs.uservars)))
		goto out;
	if (table_load(ctx, name, "domainstate.tab", 2, &rs.state) != TERN_OK)
		memset(&rs.state, 0, sizeof rs.state); /* a snapshot made before domains had a state */
	/* Domains' directories first (the store row is what makes a domain). */
	for (int i = 0; i < rs.domains.n; i++) {
		const char *d = rs.domains.f[i][0];
		char rel[300];
		if (strlen(d) > 253 || admin_check_domain(d) != TERN_OK)
			continue;
		snprintf(rel, sizeof rel, "domains/%s", d);
		if (mkdirat(ctx->env->rootfd, rel, 0700) < 0 && errno != EEXIST) {
			e = TERN_E_CREATE_DIR;
			goto out;
		}
	}
	char label[64];
	snprintf(label, sizeof label, "before-restore-%.6s", name);
	if ((e = admin_cli_config_save(ctx, label, r->before, sizeof r->before)))
		goto out;
	e = dir_write(ctx->env->dir, tx_restore, &rs);
	if (!e)
		log_info("configuration snapshot %s restored by %s from %s (current state saved as %s)", name,
			 ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-", r->before);
out:
	table_free(&rs.server);
	table_free(&rs.ipmap);
	table_free(&rs.domains);
	table_free(&rs.aliasdomains);
	table_free(&rs.aliases);
	table_free(&rs.exaliases);
	table_free(&rs.uservars);
	table_free(&rs.state);
	return e;
}
