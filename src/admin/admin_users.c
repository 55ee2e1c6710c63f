/*
 * admin_users - accounts: add, delete, passwords, statistics, variables,
 * listings.
 *
 * Passwords are written behind: the verb stores the new password sealed in
 * the data root's secret box (durable before the reply), and the rehash
 * worker (auth/rehash.c) replaces it with a yescrypt hash shortly after and
 * erases the box. Verification works in both states. This keeps bulk
 * provisioning fast without lowering the hash cost.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../store/mboxlock.h"
#include "../auth/password.h"
#include "../auth/rehash.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../store/mailstore.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../core/wildmat.h"
#include "../smtp/send_limits.h"
#include "admin.h"
#include "admin_limits.h"

/* A handled domain: real, or an alias domain pointing to a real one. */
static enum tern_err handled(struct dir_conn *c, const char *domain, char *real, size_t sz)
{
	if (strlen(domain) > 253 || !dir_domain_resolve(c, domain, real, sz))
		return TERN_E_DOMAIN_NOT_HANDLED;
	return TERN_OK;
}

/* ---- default variables (userdef.tab) ----
 *
 * domains/D/userdef.tab, else ROOT/userdef.tab, serialised the way the
 * store keeps variables ("name<TAB>value<LF>"). Parsed files are cached and
 * re-read when their size, time or inode change. */

struct userdef_cache {
	char rel[300];
	struct stat st;
	char *vars;
};

#define USERDEF_CACHE 32
static struct userdef_cache udcache[USERDEF_CACHE];
static int udnext;
static pthread_mutex_t udmu = PTHREAD_MUTEX_INITIALIZER;

static char *parse_userdef(const char *data, size_t len)
{
	struct buf out = BUF_INIT;
	char *copy = xstrndup(data, len);
	char *save = NULL;
	int n = 0;
	for (char *line = strtok_r(copy, "\n", &save); line && n < 256; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		while (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (line[0] == '#')
			continue;
		char *f[4];
		if (tab_split(line, f, 4) != 2 || !f[0][0] || !admin_value_ok(f[0]) || !admin_value_ok(f[1]))
			continue;
		buf_printf(&out, "%s\t%s\n", f[0], f[1]);
		n++;
	}
	free(copy);
	char *r = xstrdup(out.data ? out.data : "");
	buf_free(&out);
	return r;
}

char *admin_userdef_vars(struct admin_env *env, const char *domain)
{
	char rel[300];
	struct stat st;
	snprintf(rel, sizeof rel, "domains/%s/userdef.tab", domain);
	if (fstatat(env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(rel, sizeof rel, "userdef.tab");
		if (fstatat(env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			return xstrdup("");
	}
	pthread_mutex_lock(&udmu);
	for (int i = 0; i < USERDEF_CACHE; i++) {
		struct userdef_cache *e = &udcache[i];
		if (e->vars && !strcmp(e->rel, rel) && e->st.st_ino == st.st_ino && e->st.st_size == st.st_size &&
		    e->st.st_mtim.tv_sec == st.st_mtim.tv_sec && e->st.st_mtim.tv_nsec == st.st_mtim.tv_nsec) {
			char *r = xstrdup(e->vars);
			pthread_mutex_unlock(&udmu);
			return r;
		}
	}
	pthread_mutex_unlock(&udmu);
	struct buf raw = BUF_INIT;
	if (fs_read_all_at(env->rootfd, rel, 65536, &raw) < 0) {
		buf_free(&raw);
		return xstrdup("");
	}
	char *vars = parse_userdef(raw.data ? raw.data : "", raw.len);
	buf_free(&raw);
	pthread_mutex_lock(&udmu);
	struct userdef_cache *e = &udcache[udnext];
	udnext = (udnext + 1) % USERDEF_CACHE;
	free(e->vars);
	snprintf(e->rel, sizeof e->rel, "%s", rel);
	e->st = st;
	e->vars = xstrdup(vars);
	pthread_mutex_unlock(&udmu);
	return vars;
}

/* ---- useradd ---- */

struct user_add {
	char domain[256];
	const char *user;
	char type;
	struct buf box;
	char *vars;
	int64_t id;
	struct admin_limits lim;
};

static enum tern_err tx_user_add(struct dir_conn *c, void *arg)
{
	struct user_add *a = arg;
	if (!dir_domain_exists(c, a->domain))
		return TERN_E_CREATE_DIR; /* an alias domain: no directory of its own */
	if (dir_alias_exists(c, a->domain, a->user))
		return TERN_E_ALIAS_EXISTS;
	if (dir_user_get(c, a->domain, a->user, NULL))
		return TERN_E_USER_EXISTS;
	/* a mailing list made here is a list, not a group (no CliKind) */
	enum tern_err e = admin_limits_check_new(c, a->domain, &a->lim, a->type, false, NULL, 0);
	if (e)
		return e;
	return dir_user_add(c, a->domain, a->user, a->type, a->box.data, a->box.len, a->vars, 0, &a->id);
}

/* Account directories are created on first use (delivery, mailproc upload),
 * not here: creating them costs more than the whole durable commit. What
 * is checked here is that no directory is left over under the new name. */
static void clear_stale_dir(struct admin_env *env, const char *domain, const char *dir)
{
	char rel[600];
	snprintf(rel, sizeof rel, "domains/%s/%s", domain, dir);
	struct stat st;
	if (fstatat(env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return;
	/* Left over from a deletion interrupted by a crash: never hand old
	 * mail to a new account. */
	char label[600], dest[800];
	snprintf(label, sizeof label, "orphan-%s-%s", domain, dir);
	if (admin_trash_move(env, rel, label, dest, sizeof dest) == 0)
		log_warn("stale mailbox directory %s moved to %s", rel, dest);
}

enum tern_err admin_user_add(struct admin_ctx *ctx, const char *domain, const char *user, const char *password,
			     const char *type)
{
	struct user_add a = {.user = user, .box = BUF_INIT};
	enum tern_err e = handled(ctx->rd, domain, a.domain, sizeof a.domain);
	if (e)
		return e;
	if ((e = admin_check_domain(domain)))
		return e;
	if ((e = admin_check_user(user)))
		return e;
	if (!admin_value_ok(password) || strlen(password) > 1024)
		return TERN_E_INVALID;
	admin_lower_copy(a.domain, sizeof a.domain, domain);
	a.type = type[0] == 'M' ? 'M' : 'U';
	secret_box_seal(password, strlen(password), &a.box);
	a.vars = admin_userdef_vars(ctx->env, a.domain);
	admin_limits_get(ctx->env, a.domain, &a.lim);
	if (a.type == 'U')
		a.vars = admin_limits_cap_vars(&a.lim, a.vars);
	e = dir_write(ctx->env->dir, tx_user_add, &a);
	buf_free(&a.box);
	free(a.vars);
	if (e)
		return e;
	clear_stale_dir(ctx->env, a.domain, user);
	rehash_kick();
	return TERN_OK;
}

/* ---- userdel ---- */

struct user_ref {
	char domain[256];
	const char *user;
	struct dir_user u;
	const void *box;
	size_t box_len;
};

static enum tern_err tx_user_del(struct dir_conn *c, void *arg)
{
	struct user_ref *r = arg;
	if (!dir_domain_exists(c, r->domain))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!dir_user_get(c, r->domain, r->user, &r->u))
		return TERN_E_USER_NOT_FOUND;
	return dir_user_del(c, r->u.id);
}

enum tern_err admin_user_del(struct admin_ctx *ctx, const char *domain, const char *user)
{
	struct user_ref r = {.user = user};
	enum tern_err e = handled(ctx->rd, domain, r.domain, sizeof r.domain);
	if (e)
		return e;
	/* Exclusive against renames and delivery runs (store/mboxlock.h): no
	 * rename moves the directory between the row's deletion and the move
	 * to the trash, and no delivery writes into it meanwhile. */
	mbox_moves_begin();
	e = dir_write(ctx->env->dir, tx_user_del, &r);
	char rel[600], label[600], dest[800];
	int moved = -1;
	if (!e) {
		snprintf(rel, sizeof rel, "domains/%s/%s", r.u.domain, r.u.dir);
		snprintf(label, sizeof label, "user-%s@%s", r.u.dir, r.u.domain);
		moved = admin_trash_move(ctx->env, rel, label, dest, sizeof dest);
	}
	mbox_moves_end();
	if (e)
		return e;
	if (ctx->env->sends) /* no counters a new account of the same id could inherit */
		send_counters_prune(ctx->env->sends, ctx->rd);
	if (moved == 0)
		log_info("userdel %s@%s by %s from %s: mailbox moved to %s", r.u.name, r.u.domain, ctx->admin,
			 ctx->peer, dest);
	return TERN_OK;
}

/* ---- passwords ---- */

static enum tern_err tx_user_passwd(struct dir_conn *c, void *arg)
{
	struct user_ref *r = arg;
	if (!dir_user_get(c, r->domain, r->user, &r->u))
		return TERN_E_RECORD_NOT_FOUND;
	return dir_user_set_pending(c, r->u.id, r->box, r->box_len);
}

enum tern_err admin_user_passwd(struct admin_ctx *ctx, const char *domain, const char *user, const char *password)
{
	struct user_ref r = {.user = user};
	enum tern_err e = handled(ctx->rd, domain, r.domain, sizeof r.domain);
	if (e)
		return e;
	if (!admin_value_ok(password) || strlen(password) > 1024)
		return TERN_E_INVALID;
	struct buf box = BUF_INIT;
	secret_box_seal(password, strlen(password), &box);
	r.box = box.data;
	r.box_len = box.len;
	e = dir_write(ctx->env->dir, tx_user_passwd, &r);
	buf_free(&box);
	if (!e)
		rehash_kick();
	return e;
}

bool admin_password_matches(struct dir_conn *c, const struct dir_user *u, const char *password)
{
	if (u->has_pending) {
		unsigned char box[2048];
		size_t len = sizeof box;
		if (dir_user_pending(c, u->id, box, &len)) {
			struct buf plain = BUF_INIT;
			bool ok = false;
			if (secret_box_open(box, len, &plain) == 0)
				ok = secret_equal(plain.data, plain.len, password, strlen(password));
			if (plain.data)
				secret_wipe(plain.data, plain.len);
			buf_free(&plain);
			return ok;
		}
	}
	return pw_verify(password, u->pwhash);
}

enum tern_err admin_user_secret(struct admin_ctx *ctx, const char *domain, const char *user, struct buf *plain_r)
{
	char real[256];
	struct dir_user u;
	if (!dir_domain_resolve(ctx->rd, domain, real, sizeof real) || !dir_user_get(ctx->rd, real, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	unsigned char box[2048];
	size_t len = sizeof box;
	if (!dir_user_secret(ctx->rd, u.id, box, &len))
		return TERN_E_RECORD_NOT_FOUND;
	return secret_box_open(box, len, plain_r) == 0 ? TERN_OK : TERN_E_INTERNAL;
}

enum tern_err admin_user_auth(struct admin_ctx *ctx, const char *domain, const char *user, const char *password)
{
	char real[256];
	struct dir_user u;
	if (!dir_domain_resolve(ctx->rd, domain, real, sizeof real) || !dir_user_get(ctx->rd, real, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	return admin_password_matches(ctx->rd, &u, password) ? TERN_OK : TERN_E_BAD_PASSWORD;
}

/* ---- userstat ---- */

/* Resolve user-or-alias in domain to an account. */
static bool resolve_account(struct dir_conn *c, const char *domain, const char *name, struct dir_user *u)
{
	char real[256], target[600];
	if (!dir_domain_resolve(c, domain, real, sizeof real))
		return false;
	if (dir_user_get(c, real, name, u))
		return true;
	if (!dir_alias_resolve(c, real, name, target, sizeof target))
		return false;
	char *at = strchr(target, '@');
	if (!at)
		return dir_user_get(c, real, target, u);
	*at = '\0';
	char real2[256];
	if (!dir_domain_resolve(c, at + 1, real2, sizeof real2))
		return false;
	return dir_user_get(c, real2, target, u);
}

void admin_format_date(time_t t, char *out, size_t sz)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, sz, "%a, %d %b %Y %H:%M:%S -0000", &tm);
}

enum tern_err admin_user_stat(struct admin_ctx *ctx, const char *domain, const char *user, dir_row_fn fn, void *arg)
{
	struct dir_user u;
	if (!resolve_account(ctx->rd, domain, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	uint64_t bytes = 0, count = 0;
	if (u.type != 'M') {
		mailstore_usage_exact(ctx->env->rootfd, u.domain, u.dir, &bytes, &count);
	}
	char addr[600], sz[32], cnt[32], date[64];
	snprintf(addr, sizeof addr, "%s@%s", u.name, u.domain);
	snprintf(sz, sizeof sz, "%llu", (unsigned long long)bytes);
	snprintf(cnt, sizeof cnt, "%llu", (unsigned long long)count);
	admin_format_date(u.last_login_time ? (time_t)u.last_login_time : time(NULL), date, sizeof date);
	const char *ip = u.last_login_ip[0] ? u.last_login_ip : "0.0.0.0";
	const char *rows[5][2] = {{"RealAddress", addr},
				  {"MailboxSize", sz},
				  {"MailboxMessages", cnt},
				  {"LastLoginTimeDate", date},
				  {"LastLoginIP", ip}};
	for (int i = 0; i < 5; i++)
		if (fn(arg, rows[i], 2))
			break;
	return TERN_OK;
}

/* ---- variables ---- */

enum tern_err admin_user_vars(struct admin_ctx *ctx, const char *domain, const char *user, dir_row_fn fn, void *arg)
{
	char real[256];
	struct dir_user u;
	enum tern_err e = handled(ctx->rd, domain, real, sizeof real);
	if (e)
		return e;
	if (!dir_user_get(ctx->rd, real, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	return dir_uservar_list(ctx->rd, u.id, fn, arg);
}

struct vars_set {
	struct user_ref r;
	char **pairs;
	int npairs;
	struct admin_limits lim;
};

static int group_row(void *arg, const char *const *f, int n)
{
	if (n >= 2 && !strcmp(f[0], "CliKind") && !strcmp(f[1], "group"))
		*(bool *)arg = true;
	return 0;
}

/* The domain's admin limits on a variable change: an account's quota
 * (MaxMBSize) stays under the ceiling; turning a list into a group (the
 * CliKind variable), or back, needs room under the other kind's limit. */
/* The message-count and per-folder quotas (resolve.h) take a decimal
 * number up to 4294967295; Limits.pop3ConnectionCount 0 or 1 (the CLI
 * accepts the same). */
static bool quota_var_ok(const char *name, const char *value)
{
	static const char *const nums[] = {"MaxMessages", "FolderMaxMessages", "FolderMaxMBSize"};
	bool num = false;
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++)
		num = num || !strcmp(name, nums[i]);
	if (!value || (!num && strcmp(name, "Limits.pop3ConnectionCount")))
		return true;
	if (!num)
		return !strcmp(value, "0") || !strcmp(value, "1");
	size_t n = strlen(value);
	if (n == 0 || n > 10 || strspn(value, "0123456789") != n)
		return false;
	return strtoull(value, NULL, 10) <= 4294967295ULL;
}

static enum tern_err vars_limits(struct dir_conn *c, struct vars_set *v, const char *name, const char *value)
{
	if (!quota_var_ok(name, value))
		return TERN_E_INVALID;
	enum admin_limit cl;
	if (v->r.u.type == 'U' && admin_limits_ceiling_of(name, &cl))
		return admin_limits_check_var(&v->lim, name, value, NULL, 0);
	if (v->r.u.type == 'M' && !strcmp(name, "CliKind")) {
		bool was = false, will = value && !strcmp(value, "group");
		dir_uservar_list(c, v->r.u.id, group_row, &was);
		if (was != will)
			return admin_limits_check_new(c, v->r.domain, &v->lim, 'M', will, NULL, 0);
	}
	return TERN_OK;
}

static enum tern_err tx_vars_set(struct dir_conn *c, void *arg)
{
	struct vars_set *v = arg;
	if (!dir_user_get(c, v->r.domain, v->r.user, &v->r.u))
		return TERN_E_RECORD_NOT_FOUND;
	for (int i = 0; i + 1 < v->npairs; i += 2) {
		enum tern_err e;
		bool rm = !strcmp(v->pairs[i + 1], ".|rm");
		if ((e = vars_limits(c, v, v->pairs[i], rm ? NULL : v->pairs[i + 1])))
			return e;
		if (rm)
			e = dir_uservar_del(c, v->r.u.id, v->pairs[i]);
		else
			e = dir_uservar_set(c, v->r.u.id, v->pairs[i], v->pairs[i + 1]);
		/* Opting out of challenge-response erases the reversible secret. */
		if (!e && !strcmp(v->pairs[i], "EnableChallengeAuth") && (rm || strcmp(v->pairs[i + 1], "1")))
			e = dir_user_clear_secret(c, v->r.u.id);
		if (e)
			return e;
	}
	return TERN_OK;
}

enum tern_err admin_user_vars_set(struct admin_ctx *ctx, const char *domain, const char *user, char **pairs,
				  int npairs)
{
	if (npairs < 2 || npairs % 2)
		return TERN_E_SYNTAX;
	struct vars_set v = {.r = {.user = user}, .pairs = pairs, .npairs = npairs};
	enum tern_err e = handled(ctx->rd, domain, v.r.domain, sizeof v.r.domain);
	if (e)
		return e;
	for (int i = 0; i < npairs; i++) {
		if (!admin_value_ok(pairs[i]) || strlen(pairs[i]) > 4000)
			return TERN_E_INVALID;
		if (i % 2 == 0 && !pairs[i][0])
			return TERN_E_INVALID;
	}
	admin_limits_get(ctx->env, v.r.domain, &v.lim);
	return dir_write(ctx->env->dir, tx_vars_set, &v);
}

/* ---- listings ---- */

struct user_rows {
	dir_row_fn fn;
	void *arg;
};

static int user_row(void *arg, const char *const *f, int n)
{
	(void)n;
	struct user_rows *ur = arg;
	const char *out[4] = {f[0], f[1], ADMIN_SECRET_PLACEHOLDER, f[2]};
	return ur->fn(ur->arg, out, 4);
}

enum tern_err admin_user_list(struct admin_ctx *ctx, const char *dpat, const char *upat, int64_t start,
			      int64_t amount, dir_row_fn fn, void *arg)
{
	struct user_rows ur = {fn, arg};
	return dir_user_list(ctx->rd, dpat, upat, start, amount, user_row, &ur);
}

enum tern_err admin_user_count(struct admin_ctx *ctx, const char *dpat, dir_row_fn fn, void *arg)
{
	return dir_user_count(ctx->rd, dpat, fn, arg);
}
