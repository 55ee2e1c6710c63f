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
#include "../smtp/send_limits.h"
#include "admin_cli.h"
#include "admin_limits.h"
#include "admin_perms.h"
#include "config_files.h"
#include "settings.h"
#include "snapshot_parts.h"

#define SNAP_DIR "snapshots"
#define MAX_FILE (64u << 20)

static const char *const files[] = {
	"MANIFEST",      "server.tab",     "domains.tab",    "aliasdomain.tab", "aliases.tab",
	"extaliases.tab", "ctrl.ipmap.tab", "mailusers.tab",  "pop3links.tab",   "uservars.tab",
	"domainstate.tab",
	/* format 2 (snapshot_parts.h) */
	"cli.ipmap.tab", "pop3.ipmap.tab", "smtp.ipmap.tab", "adminusers.tab",  "aacl.tab",
	"listeners.ipmap.tab", NULL};

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

/* One of the tables, or files/REL naming a configuration file. */
static bool file_ok(const char *f)
{
	for (int i = 0; files[i]; i++)
		if (!strcmp(files[i], f))
			return true;
	size_t l = strlen(SNAPSHOT_FILES_DIR);
	return !strncmp(f, SNAPSHOT_FILES_DIR, l) && f[l] == '/' && cfg_file_path_ok(f + l + 1);
}

static enum tern_err read_raw(struct admin_ctx *ctx, const char *name, const char *file, struct buf *out)
{
	if (!snap_name_ok(name))
		return TERN_E_NO_FILE;
	if (!file_ok(file))
		return TERN_E_BAD_PATH;
	char rel[900];
	snprintf(rel, sizeof rel, "%s/%s/%s", SNAP_DIR, name, file);
	if (fs_read_all_at(ctx->env->rootfd, rel, MAX_FILE, out) < 0)
		return TERN_E_NO_FILE;
	return TERN_OK;
}

enum tern_err admin_cli_snapshot_read(struct admin_ctx *ctx, const char *name, const char *file, struct buf *out)
{
	enum tern_err e = read_raw(ctx, name, file, out);
	if (!e && !strcmp(file, "adminusers.tab"))
		snapshot_mask_admins(out); /* password hashes never leave the server */
	return e;
}

struct file_names {
	struct admin_ctx *ctx;
	const char *name;
	dir_row_fn fn;
	void *arg;
	bool stop;
};

static int file_name_row(void *arg, const char *rel, const struct cfg_entry *e)
{
	(void)e;
	struct file_names *fnm = arg;
	char path[900];
	snprintf(path, sizeof path, "%s/%s", SNAPSHOT_FILES_DIR, rel);
	const char *row[1] = {path};
	fnm->stop = fnm->fn(fnm->arg, row, 1) != 0;
	return fnm->stop;
}

enum tern_err admin_cli_snapshot_file_names(struct admin_ctx *ctx, const char *name, dir_row_fn fn, void *arg)
{
	if (!snap_name_ok(name))
		return TERN_E_NO_FILE;
	struct file_names fnm = {ctx, name, fn, arg, false};
	for (int i = 0; files[i] && !fnm.stop; i++) {
		char rel[300];
		struct stat st;
		snprintf(rel, sizeof rel, "%s/%s/%s", SNAP_DIR, name, files[i]);
		if (fstatat(ctx->env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
			const char *row[1] = {files[i]};
			fnm.stop = fn(arg, row, 1) != 0;
		}
	}
	char rel[300];
	snprintf(rel, sizeof rel, "%s/%s/%s", SNAP_DIR, name, SNAPSHOT_FILES_DIR);
	int fd = openat(ctx->env->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		if (!fnm.stop)
			cfg_files_walk(fd, file_name_row, &fnm);
		close(fd);
	}
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
	enum tern_err e = read_raw(ctx, name, file, &b);
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

/* End-state admin limits of a domain the restore touches. */
struct dom_lim {
	char domain[256];
	struct admin_limits lim;
	int64_t lists, groups; /* before the restore */
};

struct kept_setting {
	char *key, *value;
};

struct restore {
	struct table server, ipmap, domains, aliasdomains, aliases, exaliases, uservars;
	struct table state; /* domainstate.tab: "domain" "disabled" (absent in older snapshots) */
	int format;	    /* 1: before snapshot_parts.h */
	struct table maps[3], admins, aacl, users;
	struct table lmaps; /* listeners.ipmap.tab */
	bool have_lmaps;
	struct snap_files files;
	struct dom_lim *lims;
	int nlims;
	struct kept_setting *kept;
	int nkept;
	struct admin_env *env;
	struct admin_cli_restore_report *r;
};

static bool in_table(const struct table *t, int col, const char *v)
{
	for (int i = 0; i < t->n; i++)
		if (!strcasecmp(t->f[i][col], v))
			return true;
	return false;
}

/* ---- AACL principals: those the snapshot has get its records; those
 * created since keep theirs (a restore never widens anyone's rights by
 * dropping the groups or denies of an admin the snapshot does not know) */

static const struct {
	const char *prefix;
	char kind;
} aacl_keys[] = {
	{"AaclDescription.", 'u'}, {"AaclInterfaces.", 'u'},	   {"AaclParents.", 'u'},
	{"AaclGroup.", 'g'},	   {"AaclGroupDescription.", 'g'}, {"AaclGroupParents.", 'g'},
};

/* The principal an AACL setting belongs to (kind 0: not an AACL key). */
static const char *aacl_owner(const char *key, char *kind_r)
{
	*kind_r = 0;
	for (size_t i = 0; i < sizeof aacl_keys / sizeof *aacl_keys; i++) {
		size_t l = strlen(aacl_keys[i].prefix);
		if (!strncmp(key, aacl_keys[i].prefix, l) && key[l]) {
			*kind_r = aacl_keys[i].kind;
			return key + l;
		}
	}
	return NULL;
}

/* Is the admin user ('u') or group ('g') one of the snapshot's? */
static bool snap_has_principal(const struct restore *rs, char kind, const char *name)
{
	if (kind == 'u')
		return in_table(&rs->admins, 0, name);
	for (int i = 0; i < rs->server.n; i++) {
		char k;
		const char *who = aacl_owner(rs->server.f[i][0], &k);
		if (k == 'g' && !strncmp(rs->server.f[i][0], "AaclGroup.", 10) && !strcmp(who, name))
			return true;
	}
	return false;
}

static bool principal_exists(struct dir_conn *c, char kind, const char *name)
{
	if (kind == 'u') {
		struct dir_admin *a = xcalloc(1, sizeof *a);
		bool ok = strlen(name) < sizeof a->name && dir_admin_get(c, name, a);
		memset(a, 0, sizeof *a);
		free(a);
		return ok;
	}
	char key[200], v[8];
	snprintf(key, sizeof key, "AaclGroup.%.150s", name);
	return dir_setting_get(c, key, v, sizeof v);
}

/* Keep this principal's records as they are now? */
static bool principal_kept(struct dir_conn *c, const struct restore *rs, char kind, const char *name)
{
	return !snap_has_principal(rs, kind, name) && principal_exists(c, kind, name);
}

struct keep_scan {
	struct dir_conn *c;
	struct restore *rs;
};

static int keep_row(void *arg, const char *const *f, int n)
{
	struct keep_scan *ks = arg;
	char kind;
	const char *who;
	if (n < 2 || !(who = aacl_owner(f[0], &kind)) || !principal_kept(ks->c, ks->rs, kind, who))
		return 0;
	struct restore *rs = ks->rs;
	rs->kept = xrealloc(rs->kept, (size_t)(rs->nkept + 1) * sizeof *rs->kept);
	rs->kept[rs->nkept].key = xstrdup(f[0]);
	rs->kept[rs->nkept].value = xstrdup(f[1]);
	rs->nkept++;
	return 0;
}

static void kept_free(struct restore *rs)
{
	for (int i = 0; i < rs->nkept; i++) {
		free(rs->kept[i].key);
		free(rs->kept[i].value);
	}
	free(rs->kept);
	rs->kept = NULL;
	rs->nkept = 0;
}

static enum tern_err restore_admins(struct dir_conn *c, struct restore *rs)
{
	struct admin_cli_restore_report *r = rs->r;
	enum tern_err e = TERN_OK;
	/* admin accounts deleted since come back with their password; the
	 * password of an existing one is left alone */
	for (int i = 0; !e && i < rs->admins.n; i++) {
		char **f = rs->admins.f[i];
		if (principal_exists(c, 'u', f[0]))
			continue;
		struct buf box = BUF_INIT;
		if (strlen(f[0]) > 64 || admin_check_user(f[0]) != TERN_OK || !f[1][0] || strlen(f[1]) >= 160 ||
		    snapshot_unhex(f[2], &box) < 0 || box.len > 512) {
			r->skipped++;
		} else if (!(e = dir_admin_put(c, f[0], f[1], box.data, box.len))) {
			r->admins++;
		}
		buf_free(&box);
	}
	if (e || rs->format < 2)
		return e;
	/* permission records of the snapshot's principals: replaced */
	for (int k = 0; !e && k < 2; k++) {
		char kind = k ? 'g' : 'u';
		if (kind == 'u') {
			for (int i = 0; !e && i < rs->admins.n; i++)
				e = dir_perm_del_all(c, 'u', rs->admins.f[i][0]);
		} else {
			for (int i = 0; !e && i < rs->server.n; i++)
				if (!strncmp(rs->server.f[i][0], "AaclGroup.", 10) && rs->server.f[i][0][10])
					e = dir_perm_del_all(c, 'g', rs->server.f[i][0] + 10);
		}
	}
	for (int i = 0; !e && i < rs->aacl.n; i++) {
		char **f = rs->aacl.f[i];
		char kind = !strcmp(f[0], "g") ? 'g' : !strcmp(f[0], "u") ? 'u' : 0;
		int perm = admin_perm_parse(f[2]);
		bool deny = !strcmp(f[4], "deny");
		if (!kind || perm < 0 || (!deny && strcmp(f[4], "grant")) ||
		    (f[3][0] && admin_check_domain(f[3]) != TERN_OK) || !snap_has_principal(rs, kind, f[1])) {
			r->skipped++;
			continue;
		}
		if (!(e = dir_perm_set(c, kind, f[1], admin_perm_name(perm), f[3], deny)))
			r->perms++;
	}
	return e;
}

/* A rule's action as stored: ALLOW or DENY, "-OFF" when disabled. */
static const char *rule_action(const char *a)
{
	static const char *const v[] = {"ALLOW", "DENY", "ALLOW-OFF", "DENY-OFF"};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		if (!strcasecmp(a, v[i]))
			return v[i];
	return "DENY";
}

/* A listener map's name: "<scope>.<host>.<port>", printable, no tabs. */
static bool listener_map_ok(const char *m)
{
	size_t n = strlen(m);
	return n > 2 && n < 200 && strchr(m, '.') && admin_value_ok(m) && !strchr(m, '/');
}

static enum tern_err restore_listener_maps(struct dir_conn *c, struct restore *rs)
{
	if (!rs->have_lmaps)
		return TERN_OK; /* a snapshot from before listeners had rules: left alone */
	enum tern_err e = dir_ipmap_delete_listeners(c);
	for (int i = 0; !e && i < rs->lmaps.n; i++) {
		char **f = rs->lmaps.f[i];
		if (!listener_map_ok(f[0]) || !admin_ipmap_rule_valid(f[1], f[2])) {
			rs->r->skipped++;
			continue;
		}
		e = dir_ipmap_append(c, f[0], f[1], f[2], rule_action(f[3]), (int)strtol(f[4], NULL, 10));
		if (!e)
			rs->r->rules++;
	}
	return e;
}

static enum tern_err restore_maps(struct dir_conn *c, struct restore *rs)
{
	enum tern_err e = restore_listener_maps(c, rs);
	for (int m = 0; !e && snapshot_extra_maps[m]; m++) {
		const char *map = snapshot_extra_maps[m];
		struct table *t = &rs->maps[m];
		e = dir_ipmap_replace_begin(c, map);
		for (int i = 0; !e && i < t->n; i++) {
			char **f = t->f[i];
			if (!admin_ipmap_rule_valid(f[0], f[1])) {
				rs->r->skipped++;
				continue;
			}
			e = dir_ipmap_append(c, map, f[0], f[1], rule_action(f[2]), (int)strtol(f[3], NULL, 10));
			if (!e)
				rs->r->rules++;
		}
	}
	return e;
}

/* ---- admin limits: what the restore sets must fit the limits in force
 * after it (the snapshot's adminlimits.tab for a domain whose files it
 * holds, else the current ones) ---- */

static bool snap_domain(const struct restore *rs, const char *d)
{
	return in_table(&rs->domains, 0, d);
}

static struct dom_lim *dom_lim(struct dir_conn *c, struct restore *rs, const char *domain)
{
	for (int i = 0; i < rs->nlims; i++)
		if (!strcasecmp(rs->lims[i].domain, domain))
			return &rs->lims[i];
	if (strlen(domain) > 253)
		return NULL;
	rs->lims = xrealloc(rs->lims, (size_t)(rs->nlims + 1) * sizeof *rs->lims);
	struct dom_lim *l = &rs->lims[rs->nlims++];
	memset(l, 0, sizeof *l);
	admin_lower_copy(l->domain, sizeof l->domain, domain);
	if (rs->format >= 2 && snap_domain(rs, l->domain)) {
		char rel[320];
		snprintf(rel, sizeof rel, "domains/%s/%s", l->domain, ADMIN_LIMITS_FILE);
		for (int i = 0; i < rs->files.n; i++)
			if (!strcmp(rs->files.v[i].rel, rel))
				admin_limits_parse(rs->files.v[i].data.data, rs->files.v[i].data.len, rel, &l->lim);
	} else {
		admin_limits_get(rs->env, l->domain, &l->lim);
	}
	l->lists = dir_user_count_kind(c, l->domain, 'M', ADMIN_CLI_KIND_VAR, "group", false);
	l->groups = dir_user_count_kind(c, l->domain, 'M', ADMIN_CLI_KIND_VAR, "group", true);
	return l;
}

struct var_get {
	const char *name;
	char value[64];
	bool found;
};

static int var_get_row(void *arg, const char *const *f, int n)
{
	struct var_get *vg = arg;
	if (n >= 2 && !strcmp(f[0], vg->name)) {
		snprintf(vg->value, sizeof vg->value, "%s", f[1]);
		vg->found = true;
	}
	return 0;
}

static enum tern_err check_quota(struct dir_conn *c, struct restore *rs, const struct dir_user *u, char **f)
{
	enum admin_limit cl;
	if (!admin_limits_ceiling_of(f[2], &cl))
		return TERN_OK;
	struct dom_lim *l = dom_lim(c, rs, u->domain);
	if (!l)
		return TERN_OK;
	struct var_get vg = {.name = f[2]};
	dir_uservar_list(c, u->id, var_get_row, &vg);
	if (vg.found && !strcmp(vg.value, f[3]))
		return TERN_OK; /* unchanged: an existing value is never refused */
	if (admin_limits_check_var(&l->lim, f[2], f[3], NULL, 0) != TERN_OK) {
		snprintf(rs->r->detail, sizeof rs->r->detail, "account %.64s@%.100s would get %.20s %.20s above the domain's %s %lld",
			 f[1], u->domain, f[2], f[3], admin_limit_name(cl), (long long)l->lim.v[cl]);
		return TERN_E_OVER_CEILING;
	}
	return TERN_OK;
}

/* Lists turned into groups (or back) by restored variables. */
static enum tern_err check_counts(struct dir_conn *c, struct restore *rs)
{
	for (int i = 0; i < rs->nlims; i++) {
		struct dom_lim *l = &rs->lims[i];
		int64_t lists = dir_user_count_kind(c, l->domain, 'M', ADMIN_CLI_KIND_VAR, "group", false);
		int64_t groups = dir_user_count_kind(c, l->domain, 'M', ADMIN_CLI_KIND_VAR, "group", true);
		const char *what = NULL;
		int64_t max = 0, n = 0;
		if (lists > l->lists && l->lim.v[ADMIN_LIM_MAILLISTS] && lists > l->lim.v[ADMIN_LIM_MAILLISTS])
			what = "maxMaillists", max = l->lim.v[ADMIN_LIM_MAILLISTS], n = lists;
		else if (groups > l->groups && l->lim.v[ADMIN_LIM_GROUPS] && groups > l->lim.v[ADMIN_LIM_GROUPS])
			what = "maxGroups", max = l->lim.v[ADMIN_LIM_GROUPS], n = groups;
		if (what) {
			snprintf(rs->r->detail, sizeof rs->r->detail, "domain %.100s would have %lld, above %s %lld",
				 l->domain, (long long)n, what, (long long)max);
			return TERN_E_LIMIT_REACHED;
		}
	}
	return TERN_OK;
}

static enum tern_err tx_restore(struct dir_conn *c, void *arg)
{
	struct restore *rs = arg;
	struct admin_cli_restore_report *r = rs->r;
	kept_free(rs); /* a retried callback starts afresh */
	free(rs->lims);
	rs->lims = NULL;
	rs->nlims = 0;
	struct keep_scan ks = {c, rs};
	enum tern_err e = dir_setting_list(c, keep_row, &ks);
	if (!e)
		e = dir_setting_delete_all(c);
	for (int i = 0; !e && i < rs->server.n; i++) {
		char **f = rs->server.f[i];
		const struct setting_def *d = settings_find(f[0]);
		char kind;
		const char *who = aacl_owner(f[0], &kind);
		if (who && principal_kept(c, rs, kind, who))
			continue; /* theirs are put back below */
		if (settings_validate(f[0], f[1]) != TERN_OK) {
			r->skipped++;
			continue;
		}
		if (!d || strcmp(d->def, f[1]) != 0)
			e = dir_setting_set(c, f[0], f[1]);
		r->settings++;
	}
	for (int i = 0; !e && i < rs->nkept; i++)
		e = dir_setting_set(c, rs->kept[i].key, rs->kept[i].value);
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
	if (!e && rs->format >= 2)
		e = restore_maps(c, rs);
	if (!e)
		e = restore_admins(c, rs);
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
	/* the counts before any variable changes */
	for (int i = 0; !e && i < rs->uservars.n; i++) {
		struct dir_user u;
		if (dir_user_get(c, rs->uservars.f[i][0], rs->uservars.f[i][1], &u))
			dom_lim(c, rs, u.domain);
	}
	for (int i = 0; !e && i < rs->uservars.n; i++) {
		char **f = rs->uservars.f[i];
		struct dir_user u;
		if (!dir_user_get(c, f[0], f[1], &u) || !admin_value_ok(f[2]) || !admin_value_ok(f[3])) {
			r->skipped++;
			continue;
		}
		if ((e = check_quota(c, rs, &u, f)))
			break;
		if (!(e = dir_uservar_set(c, u.id, f[2], f[3])))
			r->vars++;
	}
	if (!e)
		e = check_counts(c, rs);
	return e;
}

/* ---- which files the restore may touch ---- */

struct scope_arg {
	struct restore *rs;
	struct dir_conn *c;
};

static bool scope_domain(void *arg, const char *domain)
{
	struct scope_arg *sa = arg;
	return snap_domain(sa->rs, domain) && dir_domain_exists(sa->c, domain);
}

struct dir_find {
	const char *dir;
	bool found;
};

static int dir_find_row(void *arg, const char *const *f, int n)
{
	struct dir_find *df = arg;
	if (n >= 5 && !strcmp(f[4], df->dir))
		df->found = true;
	return df->found;
}

static bool scope_account(void *arg, const char *domain, const char *dir)
{
	struct scope_arg *sa = arg;
	bool in_snap = false;
	for (int i = 0; i < sa->rs->users.n && !in_snap; i++)
		in_snap = !strcasecmp(sa->rs->users.f[i][0], domain) && !strcmp(sa->rs->users.f[i][4], dir);
	if (!in_snap)
		return false;
	struct dir_find df = {dir, false};
	dir_user_list(sa->c, domain, NULL, -1, -1, dir_find_row, &df);
	return df.found;
}

static int manifest_format(const struct buf *m)
{
	char v[16];
	manifest_get(m, "format", v, sizeof v);
	int f = atoi(v);
	return f >= 2 ? f : 1;
}

enum tern_err admin_cli_config_restore(struct admin_ctx *ctx, const char *name, struct admin_cli_restore_report *r)
{
	memset(r, 0, sizeof *r);
	struct restore rs = {.r = r, .env = ctx->env};
	struct buf m = BUF_INIT;
	enum tern_err e = read_raw(ctx, name, "MANIFEST", &m);
	rs.format = manifest_format(&m);
	buf_free(&m);
	if (e)
		return e;
	char snapdir[200];
	snprintf(snapdir, sizeof snapdir, "%s/%s", SNAP_DIR, name);
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
	if (rs.format >= 2) {
		for (int i = 0; !e && snapshot_extra_maps[i]; i++) {
			char f[64];
			snprintf(f, sizeof f, "%s.ipmap.tab", snapshot_extra_maps[i]);
			e = table_load(ctx, name, f, 4, &rs.maps[i]);
		}
		if (!e && table_load(ctx, name, "listeners.ipmap.tab", 5, &rs.lmaps) == TERN_OK)
			rs.have_lmaps = true;
		if (e || (e = table_load(ctx, name, "adminusers.tab", 3, &rs.admins)) ||
		    (e = table_load(ctx, name, "aacl.tab", 5, &rs.aacl)) ||
		    (e = table_load(ctx, name, "mailusers.tab", 6, &rs.users)) ||
		    (e = snapshot_files_load(ctx->env->rootfd, snapdir, &rs.files)))
			goto out;
	}
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
	if (e) {
		/* nothing changed: the snapshot of the current state goes too */
		char rel[300];
		snprintf(rel, sizeof rel, "%s/%s", SNAP_DIR, r->before);
		if (fs_rm_rf_at(ctx->env->rootfd, rel) == 0)
			fs_fsync_dir_at(ctx->env->rootfd, SNAP_DIR);
		r->before[0] = '\0';
		log_info("configuration snapshot %s not restored (by %s from %s): %s%s%s", name,
			 ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-", tern_err_name(e),
			 r->detail[0] ? ": " : "", r->detail);
		goto out;
	}
	if (ctx->env->sends) /* accounts the restore dropped: no counters left for their ids */
		send_counters_prune(ctx->env->sends, ctx->rd);
	if (rs.format >= 2) {
		struct scope_arg sa = {&rs, ctx->rd};
		struct snap_scope sc = {scope_domain, scope_account, &sa};
		e = snapshot_files_apply(ctx->env->rootfd, &rs.files, &sc, &r->files, &r->files_removed);
	}
	admin_apply_live_settings(ctx->env, ctx->rd, "snapshot restored");
	if (!e)
		log_info("configuration snapshot %s restored by %s from %s (current state saved as %s)", name,
			 ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-", r->before);
	else
		log_err("configuration snapshot %s restored by %s from %s, but its files only in part (current "
			"state saved as %s)",
			name, ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-", r->before);
out:
	table_free(&rs.server);
	table_free(&rs.ipmap);
	table_free(&rs.domains);
	table_free(&rs.aliasdomains);
	table_free(&rs.aliases);
	table_free(&rs.exaliases);
	table_free(&rs.uservars);
	table_free(&rs.state);
	table_free(&rs.lmaps);
	for (int i = 0; i < 3; i++)
		table_free(&rs.maps[i]);
	table_free(&rs.admins);
	table_free(&rs.aacl);
	table_free(&rs.users);
	snapshot_files_free(&rs.files);
	kept_free(&rs);
	free(rs.lims);
	return e;
}
