/*
 * admin_rename - renames of accounts, lists, domains and list members,
 * with the intent record that makes the moves of directories recoverable;
 * see admin_rename.h.
 */
#include "admin_rename.h"
#include "admin_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../store/mailstore.h"
#include "../store/mboxlock.h"

/* One rename with a directory at a time (one intent record). */
static pthread_mutex_t rename_mu = PTHREAD_MUTEX_INITIALIZER;

static const char *who(const struct admin_ctx *ctx)
{
	return ctx->admin ? ctx->admin : "-";
}

static void log_rename(const struct admin_ctx *ctx, const char *what, const char *from, const char *to)
{
	log_info("rename %s %s -> %s by %s from %s via %s", what, from, to, who(ctx), ctx->peer ? ctx->peer : "-",
		 ctx->via ? ctx->via : "?");
}

static bool exists_at(int rootfd, const char *rel)
{
	struct stat st;
	return fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A directory left under the new name by an interrupted deletion (no row
 * names it) goes to the trash: old mail never reaches the renamed object. */
static void clear_stale(struct admin_env *env, const char *rel, const char *label)
{
	char dest[800];
	if (exists_at(env->rootfd, rel) && admin_trash_move(env, rel, label, dest, sizeof dest) == 0)
		log_warn("rename: stale directory %s moved to %s", rel, dest);
}

static int intent_write(struct admin_env *env, const char *text)
{
	if (fs_write_atomic_at(env->rootfd, ADMIN_RENAME_INTENT, text, strlen(text), 0600) < 0) {
		log_err("rename: cannot write %s/%s: %s", env->root, ADMIN_RENAME_INTENT, strerror(errno));
		return -1;
	}
	return 0;
}

static void intent_clear(struct admin_env *env)
{
	if (fs_unlink_durable_at(env->rootfd, ADMIN_RENAME_INTENT) < 0)
		log_err("rename: cannot remove %s/%s: %s", env->root, ADMIN_RENAME_INTENT, strerror(errno));
}

/* Move from to to (when from is there and to is not), durably: rename(2)
 * then an fsync of the parent; idempotent, so start-up can run it again. */
static int move_dir(struct admin_env *env, const char *from, const char *to, const char *parent)
{
	if (!exists_at(env->rootfd, from) || exists_at(env->rootfd, to))
		return 0;
	if (renameat(env->rootfd, from, env->rootfd, to) < 0) {
		log_err("rename: cannot move %s/%s to %s: %s", env->root, from, to, strerror(errno));
		return -1;
	}
	fs_fsync_dir_at(env->rootfd, parent);
	mailstore_forget(from);
	mailstore_forget(to);
	return 0;
}

/* A domain's files: its directory (accounts, userdef.tab, services.tab,
 * admin limits, mailproc.tab) and its custom-domain table, if any. */
static int move_domain(struct admin_env *env, const char *old, const char *new_name)
{
	char from[300], to[300];
	snprintf(from, sizeof from, "custdomains/%s.tab", old);
	snprintf(to, sizeof to, "custdomains/%s.tab", new_name);
	if (move_dir(env, from, to, "custdomains") < 0)
		return -1;
	snprintf(from, sizeof from, "domains/%s", old);
	snprintf(to, sizeof to, "domains/%s", new_name);
	return move_dir(env, from, to, "domains");
}

/* ---- accounts, groups and lists ---- */

struct account_rename {
	char domain[256], old[256], new_name[256];
	char type;
	struct dir_user u;
};

static enum tern_err name_taken(struct dir_conn *c, const char *domain, const char *name)
{
	if (dir_user_get(c, domain, name, NULL))
		return TERN_E_USER_EXISTS;
	if (dir_alias_exists(c, domain, name))
		return TERN_E_ALIAS_EXISTS;
	return TERN_OK;
}

static enum tern_err tx_account_rename(struct dir_conn *c, void *arg)
{
	struct account_rename *a = arg;
	struct dir_user u;
	if (!dir_user_get(c, a->domain, a->old, &u) || u.id != a->u.id)
		return TERN_E_RECORD_NOT_FOUND;
	enum tern_err e = name_taken(c, a->domain, a->new_name);
	if (e)
		return e;
	return dir_user_rename(c, u.id, a->new_name, a->new_name);
}

/* Undo of a committed rename whose directory could not move: the old
 * name and directory name again (back.old is the new name). */
static enum tern_err tx_account_rename_back(struct dir_conn *c, void *arg)
{
	struct account_rename *b = arg;
	return dir_user_rename(c, b->u.id, b->new_name, b->u.dir);
}

static enum tern_err check_local(const char *name)
{
	if (strlen(name) > 128 || !strcmp(name, "*"))
		return TERN_E_BAD_USERNAME;
	return admin_check_user(name);
}

enum tern_err admin_rename_account(struct admin_ctx *ctx, const char *domain, const char *old, const char *new_name,
				   char type)
{
	struct account_rename a = {.type = type};
	enum tern_err e;
	if (strlen(domain) > 253 || admin_check_domain(domain) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (strlen(old) > 128)
		return TERN_E_RECORD_NOT_FOUND;
	if ((e = check_local(new_name)))
		return e;
	admin_lower_copy(a.domain, sizeof a.domain, domain);
	admin_lower_copy(a.old, sizeof a.old, old);
	admin_lower_copy(a.new_name, sizeof a.new_name, new_name);
	if (!dir_domain_exists(ctx->rd, a.domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!dir_user_get(ctx->rd, a.domain, a.old, &a.u) || (type && a.u.type != type))
		return TERN_E_RECORD_NOT_FOUND;
	if (!strcmp(a.old, a.new_name))
		return TERN_OK;
	if ((e = name_taken(ctx->rd, a.domain, a.new_name)))
		return e;
	char key[600], from[700], to[700], parent[300], intent[1200];
	snprintf(key, sizeof key, "%s/%s", a.domain, a.u.dir);
	snprintf(from, sizeof from, "domains/%s/%s", a.domain, a.u.dir);
	snprintf(to, sizeof to, "domains/%s/%s", a.domain, a.new_name);
	snprintf(parent, sizeof parent, "domains/%s", a.domain);
	pthread_mutex_lock(&rename_mu);
	if (!mboxlock_take(key)) {
		pthread_mutex_unlock(&rename_mu);
		return TERN_E_BUSY;
	}
	mbox_moves_begin();
	char label[600];
	snprintf(label, sizeof label, "orphan-%s-%s", a.domain, a.new_name);
	if (strcasecmp(a.u.dir, a.new_name) != 0)
		clear_stale(ctx->env, to, label);
	snprintf(intent, sizeof intent, "account\t%lld\t%s\t%s\t%s\n", (long long)a.u.id, a.domain, a.u.dir,
		 a.new_name);
	e = intent_write(ctx->env, intent) < 0 ? TERN_E_INTERNAL : TERN_OK;
	if (!e)
		e = dir_write(ctx->env->dir, tx_account_rename, &a);
	if (!e && move_dir(ctx->env, from, to, parent) < 0) {
		/* The directory cannot move: the store goes back to the old
		 * names, nothing changed. Should that fail too, the intent stays
		 * and the next start completes the rename. */
		e = TERN_E_INTERNAL;
		struct account_rename back = a;
		snprintf(back.old, sizeof back.old, "%s", a.new_name);
		snprintf(back.new_name, sizeof back.new_name, "%s", a.old);
		if (dir_write(ctx->env->dir, tx_account_rename_back, &back) == TERN_OK)
			intent_clear(ctx->env);
	} else {
		intent_clear(ctx->env);
	}
	mbox_moves_end();
	mboxlock_drop(key);
	pthread_mutex_unlock(&rename_mu);
	if (e)
		return e;
	char f1[600], f2[600];
	snprintf(f1, sizeof f1, "%s@%s", a.old, a.domain);
	snprintf(f2, sizeof f2, "%s@%s", a.new_name, a.domain);
	char kind[16] = "account";
	if (a.u.type == 'M' && admin_cli_list_kind(ctx, a.domain, a.new_name, kind, sizeof kind) != TERN_OK)
		snprintf(kind, sizeof kind, "list");
	log_rename(ctx, kind, f1, f2);
	return TERN_OK;
}

/* ---- domains ---- */

struct domain_rename {
	char old[256], new_name[256];
};

static enum tern_err tx_domain_rename(struct dir_conn *c, void *arg)
{
	struct domain_rename *d = arg;
	if (!dir_domain_exists(c, d->old))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (dir_domain_exists(c, d->new_name) || dir_aliasdomain_exists(c, d->new_name))
		return TERN_E_DOMAIN_EXISTS;
	return dir_domain_rename(c, d->old, d->new_name);
}

enum tern_err admin_rename_domain(struct admin_ctx *ctx, const char *old, const char *new_name)
{
	struct domain_rename d;
	if (strlen(old) > 253 || admin_check_domain(old) != TERN_OK)
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (strlen(new_name) > 253 || admin_check_domain(new_name) != TERN_OK)
		return TERN_E_BAD_DOMAIN;
	admin_lower_copy(d.old, sizeof d.old, old);
	admin_lower_copy(d.new_name, sizeof d.new_name, new_name);
	if (!dir_domain_exists(ctx->rd, d.old))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!strcmp(d.old, d.new_name))
		return TERN_OK;
	if (dir_domain_exists(ctx->rd, d.new_name) || dir_aliasdomain_exists(ctx->rd, d.new_name))
		return TERN_E_DOMAIN_EXISTS;
	char to[300], intent[700], label[300];
	snprintf(to, sizeof to, "domains/%s", d.new_name);
	pthread_mutex_lock(&rename_mu);
	mbox_moves_begin();
	enum tern_err e = TERN_OK;
	if (mboxlock_domain_busy(d.old))
		e = TERN_E_BUSY;
	if (!e) {
		snprintf(label, sizeof label, "orphan-domain-%s", d.new_name);
		clear_stale(ctx->env, to, label);
		snprintf(intent, sizeof intent, "domain\t%s\t%s\n", d.old, d.new_name);
		if (intent_write(ctx->env, intent) < 0)
			e = TERN_E_INTERNAL;
	}
	if (!e) {
		e = dir_write(ctx->env->dir, tx_domain_rename, &d);
		if (!e && move_domain(ctx->env, d.old, d.new_name) < 0) {
			/* back to the old name, files included (see above) */
			e = TERN_E_INTERNAL;
			struct domain_rename back;
			snprintf(back.old, sizeof back.old, "%s", d.new_name);
			snprintf(back.new_name, sizeof back.new_name, "%s", d.old);
			if (move_domain(ctx->env, d.new_name, d.old) == 0 &&
			    dir_write(ctx->env->dir, tx_domain_rename, &back) == TERN_OK)
				intent_clear(ctx->env);
		} else {
			intent_clear(ctx->env);
		}
	}
	mbox_moves_end();
	pthread_mutex_unlock(&rename_mu);
	if (!e)
		log_rename(ctx, "domain", d.old, d.new_name);
	return e;
}

/* ---- list members ---- */

struct mluser_rename {
	char domain[256], list[256], old[400], new_addr[400];
};

static enum tern_err tx_mluser_rename(struct dir_conn *c, void *arg)
{
	struct mluser_rename *m = arg;
	struct dir_user u;
	if (!dir_user_get(c, m->domain, m->list, &u) || u.type != 'M')
		return TERN_E_NOT_A_LIST;
	return dir_mluser_rename(c, u.id, m->old, m->new_addr);
}

enum tern_err admin_rename_mluser(struct admin_ctx *ctx, const char *domain, const char *list, const char *old,
				  const char *new_addr)
{
	struct mluser_rename m;
	if (strlen(domain) > 253 || strlen(list) > 128 || strlen(old) > 320)
		return TERN_E_INVALID;
	if (strlen(new_addr) > 320 || admin_check_address(new_addr) != TERN_OK)
		return TERN_E_BAD_ADDRESS;
	admin_lower_copy(m.domain, sizeof m.domain, domain);
	admin_lower_copy(m.list, sizeof m.list, list);
	admin_lower_copy(m.old, sizeof m.old, old);
	admin_lower_copy(m.new_addr, sizeof m.new_addr, new_addr);
	if (!strcmp(m.old, m.new_addr))
		return TERN_OK;
	enum tern_err e = dir_write(ctx->env->dir, tx_mluser_rename, &m);
	if (!e) {
		char what[600];
		snprintf(what, sizeof what, "member of %s@%s", m.list, m.domain);
		log_rename(ctx, what, m.old, m.new_addr);
	}
	return e;
}

/* ---- start-up recovery ---- */

void admin_rename_recover(struct admin_env *env, struct dir_conn *c)
{
	struct buf b = BUF_INIT;
	if (fs_read_all_at(env->rootfd, ADMIN_RENAME_INTENT, 4096, &b) < 0) {
		buf_free(&b);
		return;
	}
	char line[4097];
	snprintf(line, sizeof line, "%.*s", (int)b.len, b.data ? b.data : "");
	buf_free(&b);
	line[strcspn(line, "\n")] = '\0';
	char *f[6] = {0};
	int n = 0;
	for (char *p = line, *save = NULL, *t; n < 6 && (t = strtok_r(p, "\t", &save)); p = NULL)
		f[n++] = t;
	char from[700], to[700], parent[300];
	bool done = false, bad = false;
	if (n == 5 && !strcmp(f[0], "account") && admin_check_domain(f[2]) == TERN_OK &&
	    admin_check_user(f[3]) == TERN_OK && admin_check_user(f[4]) == TERN_OK) {
		struct dir_user u;
		/* committed when the row has the new name and directory name */
		if (dir_user_get(c, f[2], f[4], &u) && u.id == strtoll(f[1], NULL, 10) && !strcmp(u.dir, f[4])) {
			snprintf(from, sizeof from, "domains/%s/%s", f[2], f[3]);
			snprintf(to, sizeof to, "domains/%s/%s", f[2], f[4]);
			snprintf(parent, sizeof parent, "domains/%s", f[2]);
			done = move_dir(env, from, to, parent) == 0;
			log_warn("rename: account %s@%s -> %s@%s interrupted by a stop; completed at start-up", f[3], f[2],
				 f[4], f[2]);
		} else {
			done = true;
			log_warn("rename: account %s@%s -> %s@%s interrupted before its commit; nothing changed", f[3],
				 f[2], f[4], f[2]);
		}
	} else if (n == 3 && !strcmp(f[0], "domain") && admin_check_domain(f[1]) == TERN_OK &&
		   admin_check_domain(f[2]) == TERN_OK) {
		if (dir_domain_exists(c, f[2]) && !dir_domain_exists(c, f[1])) {
			done = move_domain(env, f[1], f[2]) == 0;
			log_warn("rename: domain %s -> %s interrupted by a stop; completed at start-up", f[1], f[2]);
		} else {
			done = true;
			log_warn("rename: domain %s -> %s interrupted before its commit; nothing changed", f[1], f[2]);
		}
	} else {
		bad = true;
		log_err("rename: %s/%s is not a rename record; left in place", env->root, ADMIN_RENAME_INTENT);
	}
	if (done && !bad)
		intent_clear(env);
}
