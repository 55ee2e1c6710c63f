/*
 * admin_cli_aacl - admin users for the CLI's AACL context; see admin_cli.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../auth/password.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "admin_perms.h"
#include "admin_rename.h"
#include "settings.h"

bool admin_aacl_name_ok(const char *n)
{
	size_t l = strlen(n);
	if (!l || l > 64 || !isalnum((unsigned char)n[0])) /* no "..", "-x", ".hidden" */
		return false;
	for (const char *p = n; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

/* Does the set "(a b c)" contain word? */
static bool set_has(const char *set, const char *word)
{
	char v[512];
	snprintf(v, sizeof v, "%s", set);
	char *save = NULL;
	for (char *t = strtok_r(v, "() ,", &save); t; t = strtok_r(NULL, "() ,", &save))
		if (!strcmp(t, word))
			return true;
	return false;
}

/* The key of the parents of a user ('u') or group ('g'). */
static void parents_key(char kind, const char *name, char *key, size_t sz)
{
	snprintf(key, sz, "%s.%s", kind == 'g' ? "AaclGroupParents" : "AaclParents", name);
}

/* Append the groups of set "(a b)" not seen yet. */
static void add_groups(struct aacl_groups *out, const char *set)
{
	char v[512];
	snprintf(v, sizeof v, "%s", set);
	char *save = NULL;
	for (char *g = strtok_r(v, "() ,", &save); g; g = strtok_r(NULL, "() ,", &save)) {
		bool seen = false;
		for (int i = 0; i < out->n && !seen; i++)
			seen = !strcmp(out->v[i], g);
		if (!seen && out->n < AACL_MAX_GROUPS && strlen(g) < sizeof out->v[0])
			snprintf(out->v[out->n++], sizeof out->v[0], "%s", g);
	}
}

void admin_aacl_ancestry(struct dir_conn *c, char kind, const char *name, struct aacl_groups *out)
{
	char key[200], v[512];
	out->n = 0;
	parents_key(kind, name, key, sizeof key);
	if (dir_setting_get(c, key, v, sizeof v))
		add_groups(out, v);
	/* Breadth first; a group met twice is walked once (no loop even if
	 * the store held a cycle). */
	for (int i = 0; i < out->n; i++) {
		parents_key('g', out->v[i], key, sizeof key);
		if (dir_setting_get(c, key, v, sizeof v))
			add_groups(out, v);
	}
}

bool admin_aacl_may_login(struct dir_conn *c, const char *name, const char *via)
{
	char key[200], v[512];
	if (!via || !admin_aacl_name_ok(name))
		return true;
	bool defined = false;
	snprintf(key, sizeof key, "AaclInterfaces.%s", name);
	if (dir_setting_get(c, key, v, sizeof v)) {
		defined = true;
		if (set_has(v, via))
			return true;
	}
	struct aacl_groups anc;
	admin_aacl_ancestry(c, 'u', name, &anc);
	for (int i = 0; i < anc.n; i++) {
		snprintf(key, sizeof key, "AaclGroup.%s", anc.v[i]);
		if (dir_setting_get(c, key, v, sizeof v) && v[0]) {
			defined = true;
			if (set_has(v, via))
				return true;
		}
	}
	return !defined;
}

enum tern_err admin_cli_admin_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	struct admin_names nm = {0};
	enum tern_err e = dir_admin_list(ctx->rd, admin_names_row, &nm);
	bool stop = false;
	for (int i = 0; i < nm.n; i++) {
		char key[200], desc[300] = "", ifs[300] = "", parents[500] = "";
		snprintf(key, sizeof key, "AaclDescription.%s", nm.v[i]);
		dir_setting_get(ctx->rd, key, desc, sizeof desc);
		snprintf(key, sizeof key, "AaclInterfaces.%s", nm.v[i]);
		dir_setting_get(ctx->rd, key, ifs, sizeof ifs);
		snprintf(key, sizeof key, "AaclParents.%s", nm.v[i]);
		dir_setting_get(ctx->rd, key, parents, sizeof parents);
		const char *row[4] = {nm.v[i], desc, ifs, parents};
		if (!e && !stop)
			stop = fn(arg, row, 4) != 0;
		free(nm.v[i]);
	}
	free(nm.v);
	return e;
}

bool admin_cli_admin_exists(struct admin_ctx *ctx, const char *name)
{
	struct dir_admin a;
	return strlen(name) < sizeof a.name && dir_admin_get(ctx->rd, name, &a);
}

struct admin_save {
	const char *name;
	bool create;
	char hash[160];
	struct buf box;
	const char *description, *interfaces, *parents;
};

static enum tern_err set_or_del(struct dir_conn *c, const char *prefix, const char *name, const char *v)
{
	char key[200];
	snprintf(key, sizeof key, "%s.%s", prefix, name);
	return v[0] ? dir_setting_set(c, key, v) : dir_setting_del(c, key);
}

static enum tern_err tx_admin_save(struct dir_conn *c, void *arg)
{
	struct admin_save *a = arg;
	struct dir_admin cur;
	bool exists = dir_admin_get(c, a->name, &cur);
	if (a->create && exists)
		return TERN_E_USER_EXISTS;
	if (!a->create && !exists)
		return TERN_E_RECORD_NOT_FOUND;
	enum tern_err e = TERN_OK;
	if (a->hash[0])
		e = dir_admin_put(c, a->name, a->hash, a->box.data, a->box.len);
	if (!e && a->description)
		e = set_or_del(c, "AaclDescription", a->name, a->description);
	if (!e && a->interfaces)
		e = set_or_del(c, "AaclInterfaces", a->name, a->interfaces);
	if (!e && a->parents) {
		char v[512], key[200];
		snprintf(v, sizeof v, "%s", a->parents);
		char *save = NULL;
		for (char *g = strtok_r(v, "() ,", &save); g; g = strtok_r(NULL, "() ,", &save)) {
			snprintf(key, sizeof key, "AaclGroup.%s", g);
			char tmp[8];
			if (!dir_setting_get(c, key, tmp, sizeof tmp))
				return TERN_E_RECORD_NOT_FOUND;
		}
		e = set_or_del(c, "AaclParents", a->name, strcmp(a->parents, "()") ? a->parents : "");
	}
	return e;
}

enum tern_err admin_cli_admin_save(struct admin_ctx *ctx, const char *name, bool create, const char *password,
				   const char *description, const char *interfaces, const char *parents)
{
	if (!admin_aacl_name_ok(name))
		return TERN_E_INVALID;
	if (create && !password)
		return TERN_E_INVALID;
	if (password && (!*password || strlen(password) > 1024 || !admin_value_ok(password)))
		return TERN_E_INVALID;
	if (description && (strlen(description) > 200 || settings_validate("AaclDescription.x", description)))
		return TERN_E_INVALID;
	if (interfaces && (strlen(interfaces) > 200 || settings_validate("AaclInterfaces.x", interfaces)))
		return TERN_E_INVALID;
	if (parents && (strlen(parents) > 400 || settings_validate("AaclParents.x", parents)))
		return TERN_E_INVALID;
	struct admin_save a = {.name = name, .create = create, .box = BUF_INIT, .description = description,
			       .interfaces = interfaces, .parents = parents};
	if (password) {
		if (pw_hash(password, 5, a.hash, sizeof a.hash) < 0)
			return TERN_E_INTERNAL;
		secret_box_seal(password, strlen(password), &a.box);
	}
	enum tern_err e = dir_write(ctx->env->dir, tx_admin_save, &a);
	buf_free(&a.box);
	secret_wipe(a.hash, sizeof a.hash);
	return e;
}

static enum tern_err tx_admin_del(struct dir_conn *c, void *arg)
{
	const char *name = arg;
	struct dir_admin cur;
	if (!dir_admin_get(c, name, &cur))
		return TERN_E_RECORD_NOT_FOUND;
	if (dir_admin_count(c) <= 1)
		return TERN_E_INVALID;
	enum tern_err e = dir_admin_del(c, name);
	if (!e)
		e = set_or_del(c, "AaclDescription", name, "");
	if (!e)
		e = set_or_del(c, "AaclInterfaces", name, "");
	if (!e)
		e = set_or_del(c, "AaclParents", name, "");
	if (!e)
		e = admin_perm_forget(c, 'u', name);
	return e;
}

enum tern_err admin_cli_admin_del(struct admin_ctx *ctx, const char *name)
{
	if (!admin_aacl_name_ok(name))
		return TERN_E_RECORD_NOT_FOUND;
	if (ctx->admin && !strcmp(ctx->admin, name))
		return TERN_E_INVALID;
	return dir_write(ctx->env->dir, tx_admin_del, (void *)name);
}

/* ---- groups ---- */

struct settings_scan {
	const char *prefix;
	struct admin_names nm;   /* names after the prefix */
	struct admin_names vals; /* their values */
};

static int scan_row(void *arg, const char *const *f, int n)
{
	struct settings_scan *sc = arg;
	size_t pl = strlen(sc->prefix);
	if (n >= 2 && !strncmp(f[0], sc->prefix, pl) && f[0][pl]) {
		const char *nm[1] = {f[0] + pl}, *v[1] = {f[1]};
		admin_names_row(&sc->nm, nm, 1);
		admin_names_row(&sc->vals, v, 1);
	}
	return 0;
}

static void scan_free(struct settings_scan *sc)
{
	for (int i = 0; i < sc->nm.n; i++) {
		free(sc->nm.v[i]);
		free(sc->vals.v[i]);
	}
	free(sc->nm.v);
	free(sc->vals.v);
}

/* "(a b)" of the admins (then the groups) whose parents include group g. */
static void members_of(struct settings_scan *parents, struct settings_scan *gparents, const char *g, struct buf *out)
{
	buf_putc(out, '(');
	bool first = true;
	for (int k = 0; k < 2; k++) {
		struct settings_scan *sc = k ? gparents : parents;
		for (int i = 0; i < sc->nm.n; i++)
			if (set_has(sc->vals.v[i], g)) {
				buf_printf(out, "%s%s", first ? "" : " ", sc->nm.v[i]);
				first = false;
			}
	}
	buf_putc(out, ')');
}

enum tern_err admin_cli_group_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	struct settings_scan groups = {.prefix = "AaclGroup."}, parents = {.prefix = "AaclParents."},
			     gparents = {.prefix = "AaclGroupParents."};
	enum tern_err e = dir_setting_list(ctx->rd, scan_row, &groups);
	if (!e)
		e = dir_setting_list(ctx->rd, scan_row, &parents);
	if (!e)
		e = dir_setting_list(ctx->rd, scan_row, &gparents);
	bool stop = false;
	for (int i = 0; !e && !stop && i < groups.nm.n; i++) {
		char key[200], desc[300] = "", own[512] = "";
		snprintf(key, sizeof key, "AaclGroupDescription.%s", groups.nm.v[i]);
		dir_setting_get(ctx->rd, key, desc, sizeof desc);
		parents_key('g', groups.nm.v[i], key, sizeof key);
		dir_setting_get(ctx->rd, key, own, sizeof own);
		struct buf m = BUF_INIT;
		members_of(&parents, &gparents, groups.nm.v[i], &m);
		const char *row[5] = {groups.nm.v[i], desc, groups.vals.v[i], m.data, own};
		stop = fn(arg, row, 5) != 0;
		buf_free(&m);
	}
	scan_free(&groups);
	scan_free(&parents);
	scan_free(&gparents);
	return e;
}

bool admin_cli_group_exists(struct admin_ctx *ctx, const char *name)
{
	char key[200], v[8];
	if (!admin_aacl_name_ok(name))
		return false;
	snprintf(key, sizeof key, "AaclGroup.%s", name);
	return dir_setting_get(ctx->rd, key, v, sizeof v);
}

struct group_save {
	const char *name;
	bool create;
	const char *description, *interfaces, *parents;
	bool forced;
};

/* Would group g under parent p make g its own ancestor? */
static bool makes_cycle(struct dir_conn *c, const char *g, const char *p)
{
	if (!strcmp(g, p))
		return true;
	struct aacl_groups anc;
	admin_aacl_ancestry(c, 'g', p, &anc);
	for (int i = 0; i < anc.n; i++)
		if (!strcmp(anc.v[i], g))
			return true;
	return false;
}

bool admin_cli_group_cycle(struct admin_ctx *ctx, const char *g, const char *p)
{
	return makes_cycle(ctx->rd, g, p);
}

static enum tern_err tx_group_save(struct dir_conn *c, void *arg)
{
	struct group_save *g = arg;
	char key[200], v[8];
	snprintf(key, sizeof key, "AaclGroup.%s", g->name);
	bool exists = dir_setting_get(c, key, v, sizeof v);
	if (g->create && exists)
		return TERN_E_USER_EXISTS;
	if (!g->create && !exists)
		return TERN_E_RECORD_NOT_FOUND;
	enum tern_err e = TERN_OK;
	if (g->create || g->interfaces)
		e = dir_setting_set(c, key, g->interfaces ? g->interfaces : "");
	if (!e && g->description)
		e = set_or_del(c, "AaclGroupDescription", g->name, g->description);
	if (!e && g->parents) {
		char list[512];
		snprintf(list, sizeof list, "%s", g->parents);
		char *save = NULL;
		for (char *p = strtok_r(list, "() ,", &save); p; p = strtok_r(NULL, "() ,", &save)) {
			char tmp[8];
			if (!admin_aacl_name_ok(p))
				return TERN_E_INVALID;
			snprintf(key, sizeof key, "AaclGroup.%s", p);
			if (!dir_setting_get(c, key, tmp, sizeof tmp))
				return TERN_E_RECORD_NOT_FOUND;
			if (makes_cycle(c, g->name, p))
				return TERN_E_FORBIDDEN;
		}
		e = set_or_del(c, "AaclGroupParents", g->name, strcmp(g->parents, "()") ? g->parents : "");
	}
	return e;
}

enum tern_err admin_cli_group_save(struct admin_ctx *ctx, const char *name, bool create, const char *description,
				   const char *interfaces, const char *parents)
{
	if (parents && (strlen(parents) > 400 || settings_validate("AaclGroupParents.x", parents)))
		return TERN_E_INVALID;
	if (!admin_aacl_name_ok(name))
		return TERN_E_INVALID;
	if (description && (strlen(description) > 200 || settings_validate("AaclGroupDescription.x", description)))
		return TERN_E_INVALID;
	if (interfaces && (strlen(interfaces) > 200 || settings_validate("AaclGroup.x", interfaces)))
		return TERN_E_INVALID;
	struct group_save g = {.name = name, .create = create, .description = description, .interfaces = interfaces,
			       .parents = parents};
	return dir_write(ctx->env->dir, tx_group_save, &g);
}

/* In every parents set of prefix ("AaclParents.", "AaclGroupParents.")
 * that holds group g: g replaced by repl, or taken out (repl NULL; a set
 * left empty is removed). busy_if_held: TERN_E_BUSY at the first such set
 * instead (a group with members is deleted only when forced). */
static enum tern_err edit_sets(struct dir_conn *c, const char *prefix, const char *g, const char *repl,
			       bool busy_if_held)
{
	struct settings_scan sets = {.prefix = prefix};
	enum tern_err e = dir_setting_list(c, scan_row, &sets);
	for (int i = 0; !e && i < sets.nm.n; i++) {
		if (!set_has(sets.vals.v[i], g))
			continue;
		if (busy_if_held) {
			e = TERN_E_BUSY;
			break;
		}
		struct buf out = BUF_INIT;
		char tmp[512], key[200];
		snprintf(tmp, sizeof tmp, "%s", sets.vals.v[i]);
		char *save = NULL;
		bool first = true;
		buf_putc(&out, '(');
		for (char *t = strtok_r(tmp, "() ,", &save); t; t = strtok_r(NULL, "() ,", &save)) {
			const char *w = strcmp(t, g) ? t : repl;
			if (!w)
				continue;
			buf_printf(&out, "%s%s", first ? "" : " ", w);
			first = false;
		}
		buf_putc(&out, ')');
		snprintf(key, sizeof key, "%s%s", prefix, sets.nm.v[i]);
		e = first ? dir_setting_del(c, key) : dir_setting_set(c, key, out.data);
		buf_free(&out);
	}
	scan_free(&sets);
	return e;
}

static bool group_stored(struct dir_conn *c, const char *name)
{
	char key[200], v[8];
	snprintf(key, sizeof key, "AaclGroup.%s", name);
	return dir_setting_get(c, key, v, sizeof v);
}

static enum tern_err tx_group_del(struct dir_conn *c, void *arg)
{
	struct group_save *g = arg;
	char key[200];
	snprintf(key, sizeof key, "AaclGroup.%s", g->name);
	if (!group_stored(c, g->name))
		return TERN_E_RECORD_NOT_FOUND;
	enum tern_err e = edit_sets(c, "AaclParents.", g->name, NULL, !g->forced);
	if (!e)
		e = edit_sets(c, "AaclGroupParents.", g->name, NULL, !g->forced);
	if (!e)
		e = dir_setting_del(c, key);
	if (!e)
		e = set_or_del(c, "AaclGroupDescription", g->name, "");
	if (!e)
		e = set_or_del(c, "AaclGroupParents", g->name, "");
	if (!e)
		e = admin_perm_forget(c, 'g', g->name);
	return e;
}

enum tern_err admin_cli_group_del(struct admin_ctx *ctx, const char *name, bool forced)
{
	if (!admin_aacl_name_ok(name))
		return TERN_E_RECORD_NOT_FOUND;
	struct group_save g = {.name = name, .forced = forced};
	return dir_write(ctx->env->dir, tx_group_del, &g);
}

/* ---- renames (declared in admin_rename.h) ---- */

struct aacl_rename {
	const char *old, *new_name;
};

static enum tern_err rename_settings(struct dir_conn *c, const char *const *prefixes, int n, const char *old,
				     const char *new_name)
{
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && i < n; i++) {
		char k1[200], k2[200];
		snprintf(k1, sizeof k1, "%s.%s", prefixes[i], old);
		snprintf(k2, sizeof k2, "%s.%s", prefixes[i], new_name);
		e = dir_setting_rename(c, k1, k2);
	}
	return e;
}

static enum tern_err tx_admin_rename(struct dir_conn *c, void *arg)
{
	struct aacl_rename *r = arg;
	struct dir_admin cur;
	if (!dir_admin_get(c, r->old, &cur))
		return TERN_E_RECORD_NOT_FOUND;
	struct dir_admin other;
	if (dir_admin_get(c, r->new_name, &other))
		return TERN_E_USER_EXISTS;
	static const char *const prefixes[] = {"AaclDescription", "AaclInterfaces", "AaclParents"};
	enum tern_err e = dir_admin_rename(c, cur.name, r->new_name);
	if (!e)
		e = rename_settings(c, prefixes, 3, cur.name, r->new_name);
	if (!e)
		e = dir_perm_rename(c, 'u', cur.name, r->new_name);
	return e;
}

/* The checks, the transaction and the log line both renames share. */
static enum tern_err aacl_rename(struct admin_ctx *ctx, const char *old, const char *new_name, dir_write_fn tx,
				 const char *what)
{
	if (!admin_aacl_name_ok(old))
		return TERN_E_RECORD_NOT_FOUND;
	if (!admin_aacl_name_ok(new_name))
		return TERN_E_INVALID;
	if (!strcmp(old, new_name))
		return TERN_OK;
	struct aacl_rename r = {old, new_name};
	enum tern_err e = dir_write(ctx->env->dir, tx, &r);
	if (!e)
		log_info("rename %s %s -> %s by %s from %s via %s", what, old, new_name, ctx->admin ? ctx->admin : "-",
			 ctx->peer ? ctx->peer : "-", ctx->via ? ctx->via : "?");
	return e;
}

enum tern_err admin_rename_admin(struct admin_ctx *ctx, const char *old, const char *new_name)
{
	return aacl_rename(ctx, old, new_name, tx_admin_rename, "admin user");
}

static enum tern_err tx_group_rename(struct dir_conn *c, void *arg)
{
	struct aacl_rename *r = arg;
	if (!group_stored(c, r->old))
		return TERN_E_RECORD_NOT_FOUND;
	if (group_stored(c, r->new_name))
		return TERN_E_USER_EXISTS;
	static const char *const prefixes[] = {"AaclGroup", "AaclGroupDescription", "AaclGroupParents"};
	enum tern_err e = rename_settings(c, prefixes, 3, r->old, r->new_name);
	if (!e)
		e = edit_sets(c, "AaclParents.", r->old, r->new_name, false);
	if (!e)
		e = edit_sets(c, "AaclGroupParents.", r->old, r->new_name, false);
	if (!e)
		e = dir_perm_rename(c, 'g', r->old, r->new_name);
	return e;
}

enum tern_err admin_rename_admin_group(struct admin_ctx *ctx, const char *old, const char *new_name)
{
	return aacl_rename(ctx, old, new_name, tx_group_rename, "admin group");
}
