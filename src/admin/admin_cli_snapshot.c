/*
 * admin_cli_snapshot - SAVE CONFIG: versioned configuration snapshots.
 *
 * A snapshot is a directory ROOT/snapshots/NNNNNN-YYYYMMDDTHHMMSSZ[-label]
 * holding every table view (as cfgfileget renders it: stored secrets are
 * placeholders), uservars.tab with every account's variables
 * ("domain" "user" "name" "value" per line), the format-2 parts
 * (snapshot_parts.h: the other access maps, admin accounts, permissions
 * and a copy of every configuration file) and a MANIFEST. It is built
 * in a temporary directory, every file fsync'd, then renamed into place
 * and the parent fsync'd, so a snapshot is either complete or absent.
 * Version numbers only grow; one process lock serialises writers (one
 * daemon per data root).
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

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"
#include "admin_cli.h"
#include "snapshot_parts.h"
#include "views.h"

#define SNAP_DIR "snapshots"

static pthread_mutex_t snap_mu = PTHREAD_MUTEX_INITIALIZER;

static bool label_ok(const char *l)
{
	size_t n = strlen(l);
	if (n == 0 || n > 64 || l[0] == '.')
		return false;
	for (const char *p = l; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

/* Highest version number among existing snapshots (0 if none). */
static long last_version(int rootfd)
{
	int fd = openat(rootfd, SNAP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	long max = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		int digits = 0;
		while (digits < 9 && isdigit((unsigned char)n[digits]))
			digits++;
		if (digits < 6 || n[digits] != '-')
			continue;
		long v = strtol(n, NULL, 10);
		if (v > max)
			max = v;
	}
	closedir(d);
	return max;
}

struct account_ref {
	char *domain;
	char *user;
};

struct account_refs {
	struct account_ref *v;
	size_t n, cap;
};

static int collect_account(void *arg, const char *const *f, int n)
{
	struct account_refs *r = arg;
	if (n < 2)
		return 0;
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 256;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n].domain = xstrdup(f[0]);
	r->v[r->n].user = xstrdup(f[1]);
	r->n++;
	return 0;
}

struct var_rows {
	struct buf *out;
	const char *domain, *user;
};

static int var_row(void *arg, const char *const *f, int n)
{
	struct var_rows *vr = arg;
	if (n < 2)
		return 0;
	tab_put_escaped(vr->out, vr->domain);
	buf_putc(vr->out, '\t');
	tab_put_escaped(vr->out, vr->user);
	buf_putc(vr->out, '\t');
	tab_put_escaped(vr->out, f[0]);
	buf_putc(vr->out, '\t');
	tab_put_escaped(vr->out, f[1]);
	buf_putc(vr->out, '\n');
	return 0;
}

static enum tern_err render_uservars(struct admin_ctx *ctx, struct buf *out)
{
	struct account_refs refs = {0};
	enum tern_err e = admin_user_list(ctx, NULL, NULL, -1, -1, collect_account, &refs);
	for (size_t i = 0; i < refs.n; i++) {
		struct var_rows vr = {out, refs.v[i].domain, refs.v[i].user};
		if (!e)
			e = admin_user_vars(ctx, refs.v[i].domain, refs.v[i].user, var_row, &vr);
		free(refs.v[i].domain);
		free(refs.v[i].user);
	}
	free(refs.v);
	return e;
}

/* domainstate.tab: one "domain" "disabled" line per disabled domain. */
static int state_row(void *arg, const char *const *f, int n)
{
	struct buf *out = arg;
	if (n >= 2 && !strcmp(f[1], "0")) {
		tab_put_escaped(out, f[0]);
		buf_puts(out, "\t\"disabled\"\n");
	}
	return 0;
}

enum tern_err admin_cli_config_save(struct admin_ctx *ctx, const char *label, char *id_r, size_t sz)
{
	if (label && !label_ok(label))
		return TERN_E_BAD_PATH;
	int rootfd = ctx->env->rootfd;
	pthread_mutex_lock(&snap_mu);
	enum tern_err e = TERN_OK;
	char name[128], tmp[200], final[200];
	if (mkdirat(rootfd, SNAP_DIR, 0700) < 0 && errno != EEXIST) {
		log_err("cannot create %s/%s: %s", ctx->env->root, SNAP_DIR, strerror(errno));
		pthread_mutex_unlock(&snap_mu);
		return TERN_E_CREATE_DIR;
	}
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	char stamp[32];
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	long version = last_version(rootfd) + 1;
	snprintf(name, sizeof name, "%06ld-%s%s%s", version, stamp, label ? "-" : "", label ? label : "");
	snprintf(tmp, sizeof tmp, "%s/.tmp-%s", SNAP_DIR, name);
	snprintf(final, sizeof final, "%s/%s", SNAP_DIR, name);
	if (mkdirat(rootfd, tmp, 0700) < 0) {
		log_err("cannot create %s/%s: %s", ctx->env->root, tmp, strerror(errno));
		pthread_mutex_unlock(&snap_mu);
		return TERN_E_CREATE_DIR;
	}
	struct buf b = BUF_INIT;
	for (const char *const *v = view_names(); *v && !e; v++) {
		buf_reset(&b);
		if ((e = view_render(ctx, *v, &b)))
			break;
		if (snapshot_put_file(rootfd, tmp, *v, &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	if (!e) {
		buf_reset(&b);
		e = render_uservars(ctx, &b);
		if (!e && snapshot_put_file(rootfd, tmp, "uservars.tab", &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	if (!e) {
		buf_reset(&b);
		e = dir_domain_list_state(ctx->rd, state_row, &b);
		if (!e && snapshot_put_file(rootfd, tmp, "domainstate.tab", &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	if (!e)
		e = snapshot_write_parts(ctx, rootfd, tmp);
	if (!e) {
		char date[64];
		admin_format_date(now, date, sizeof date);
		buf_reset(&b);
		buf_printf(&b, "version\t%ld\nformat\t%d\ncreated\t%s\nadmin\t%s\npeer\t%s\nvia\t%s\n", version, SNAPSHOT_FORMAT, date,
			   ctx->admin ? ctx->admin : "-", ctx->peer ? ctx->peer : "-", ctx->via ? ctx->via : "-");
		if (snapshot_put_file(rootfd, tmp, "MANIFEST", &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	buf_free(&b);
	if (!e && (renameat(rootfd, tmp, rootfd, final) < 0 || fs_fsync_dir_at(rootfd, SNAP_DIR) < 0)) {
		log_err("cannot complete snapshot %s: %s", final, strerror(errno));
		e = TERN_E_CREATE_FILE;
	}
	if (e) {
		fs_rm_rf_at(rootfd, tmp);
	} else {
		snprintf(id_r, sz, "%s", name);
		log_info("configuration snapshot %s saved by %s from %s", final, ctx->admin ? ctx->admin : "-",
			 ctx->peer ? ctx->peer : "-");
	}
	pthread_mutex_unlock(&snap_mu);
	return e;
}
