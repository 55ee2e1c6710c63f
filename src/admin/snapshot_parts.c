/*
 * snapshot_parts - the format-2 parts of a snapshot (see snapshot_parts.h).
 */
#include "snapshot_parts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"
#include "config_files.h"

#define MAX_CFG_FILE (16u << 20)

const char *const snapshot_extra_maps[] = {"cli", "pop3", "smtp", NULL};

static int put_row(void *arg, const char *const *f, int n)
{
	struct buf *out = arg;
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '\t');
		if (n == 4 && i == 3) /* precedence of an access rule: a number */
			buf_puts(out, f[i]);
		else
			tab_put_escaped(out, f[i]);
	}
	buf_putc(out, '\n');
	return 0;
}

int snapshot_put_file(int rootfd, const char *dir, const char *name, const struct buf *b)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	return fs_write_atomic_at(rootfd, path, b->data ? b->data : "", b->len, 0600);
}

/* ---- admin accounts and permissions ---- */

/* Admin group names: the AaclGroup.<name> settings. */
static int group_row(void *arg, const char *const *f, int n)
{
	static const char pfx[] = "AaclGroup.";
	if (n >= 1 && !strncmp(f[0], pfx, sizeof pfx - 1) && f[0][sizeof pfx - 1]) {
		const char *g[1] = {f[0] + sizeof pfx - 1};
		admin_names_row(arg, g, 1);
	}
	return 0;
}

static void put_hex(struct buf *out, const unsigned char *p, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		buf_putc(out, hx[p[i] >> 4]);
		buf_putc(out, hx[p[i] & 15]);
	}
}

int snapshot_unhex(const char *hex, struct buf *out)
{
	size_t l = strlen(hex);
	if (l % 2)
		return -1;
	for (size_t i = 0; i < l; i += 2) {
		char two[3] = {hex[i], hex[i + 1], 0}, *end;
		long v = strtol(two, &end, 16);
		if (*end || !isxdigit((unsigned char)hex[i]) || !isxdigit((unsigned char)hex[i + 1]))
			return -1;
		buf_putc(out, (char)v);
	}
	return 0;
}

static enum tern_err render_admins(struct admin_ctx *ctx, struct buf *out)
{
	struct admin_names nm = {0};
	enum tern_err e = dir_admin_list(ctx->rd, admin_names_row, &nm);
	for (int i = 0; !e && i < nm.n; i++) {
		struct dir_admin *a = xcalloc(1, sizeof *a);
		if (dir_admin_get(ctx->rd, nm.v[i], a)) {
			tab_put_escaped(out, a->name);
			buf_putc(out, '\t');
			tab_put_escaped(out, a->pwhash);
			buf_puts(out, "\t\"");
			put_hex(out, a->box, a->box_len);
			buf_puts(out, "\"\n");
		}
		memset(a, 0, sizeof *a);
		free(a);
	}
	admin_names_free(&nm);
	return e;
}

struct perm_rows {
	struct buf *out;
	char kind;
	const char *principal;
};

static int perm_row(void *arg, const char *const *f, int n)
{
	struct perm_rows *pr = arg;
	if (n < 3)
		return 0;
	const char *row[5] = {pr->kind == 'g' ? "g" : "u", pr->principal, f[0], f[1],
			      strcmp(f[2], "1") ? "grant" : "deny"};
	for (int i = 0; i < 5; i++) {
		if (i)
			buf_putc(pr->out, '\t');
		tab_put_escaped(pr->out, row[i]);
	}
	buf_putc(pr->out, '\n');
	return 0;
}

static enum tern_err render_aacl(struct admin_ctx *ctx, struct buf *out)
{
	struct admin_names users = {0}, groups = {0};
	enum tern_err e = dir_admin_list(ctx->rd, admin_names_row, &users);
	if (!e)
		e = dir_setting_list(ctx->rd, group_row, &groups);
	for (int k = 0; k < 2 && !e; k++) {
		struct admin_names *nm = k ? &groups : &users;
		for (int i = 0; !e && i < nm->n; i++) {
			struct perm_rows pr = {out, k ? 'g' : 'u', nm->v[i]};
			e = dir_perm_list(ctx->rd, pr.kind, nm->v[i], perm_row, &pr);
		}
	}
	admin_names_free(&users);
	admin_names_free(&groups);
	return e;
}

void snapshot_mask_admins(struct buf *b)
{
	struct buf out = BUF_INIT;
	char *data = xstrndup(b->data ? b->data : "", b->len), *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[4];
		if (tab_split(line, f, 4) < 1)
			continue;
		tab_put_escaped(&out, f[0]);
		buf_puts(&out, "\t\"" ADMIN_SECRET_PLACEHOLDER "\"\t\"" ADMIN_SECRET_PLACEHOLDER "\"\n");
	}
	free(data);
	buf_free(b);
	*b = out;
}

/* ---- configuration files ---- */

/* mkdir -p of the directories of rel below base (relative to rootfd),
 * each new one made durable in its parent. */
int snapshot_mkdirs_for(int rootfd, const char *base, const char *rel)
{
	char path[1200];
	int n = snprintf(path, sizeof path, "%s/%s", base, rel);
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	size_t skip = strlen(base) + 1;
	for (char *s = strchr(path + skip, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdirat(rootfd, path, 0700) == 0) {
			char *up = strrchr(path, '/');
			if (up) {
				*up = '\0';
				fs_fsync_dir_at(rootfd, path);
				*up = '/';
			}
		} else if (errno != EEXIST) {
			return -1;
		}
		*s = '/';
	}
	return 0;
}

struct copy {
	int rootfd;
	char dir[300];
	int failed;
};

static int copy_one(void *arg, const char *rel, const struct cfg_entry *e)
{
	(void)e;
	struct copy *cp = arg;
	struct buf b = BUF_INIT;
	if (fs_read_all_at(cp->rootfd, rel, MAX_CFG_FILE, &b) < 0) {
		if (errno != ENOENT) { /* deleted meanwhile: not in the snapshot */
			log_err("snapshot: cannot read %s: %s", rel, strerror(errno));
			cp->failed = 1;
		}
		buf_free(&b);
		return cp->failed;
	}
	if (snapshot_mkdirs_for(cp->rootfd, cp->dir, rel) < 0 || snapshot_put_file(cp->rootfd, cp->dir, rel, &b) < 0) {
		log_err("snapshot: cannot copy %s: %s", rel, strerror(errno));
		cp->failed = 1;
	}
	buf_free(&b);
	return cp->failed;
}

enum tern_err snapshot_write_parts(struct admin_ctx *ctx, int rootfd, const char *tmp)
{
	struct buf b = BUF_INIT;
	enum tern_err e = TERN_OK;
	for (int i = 0; !e && snapshot_extra_maps[i]; i++) {
		char name[64];
		buf_reset(&b);
		snprintf(name, sizeof name, "%s.ipmap.tab", snapshot_extra_maps[i]);
		e = dir_ipmap_list(ctx->rd, snapshot_extra_maps[i], put_row, &b);
		if (!e && snapshot_put_file(rootfd, tmp, name, &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	if (!e) { /* the listeners' own rules, one file: map, addr, mask, action, prec */
		buf_reset(&b);
		e = dir_ipmap_list_listeners(ctx->rd, put_row, &b);
		if (!e && snapshot_put_file(rootfd, tmp, "listeners.ipmap.tab", &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	if (!e) {
		buf_reset(&b);
		e = render_admins(ctx, &b);
		if (!e && snapshot_put_file(rootfd, tmp, "adminusers.tab", &b) < 0)
			e = TERN_E_CREATE_FILE;
		if (b.data)
			secret_wipe(b.data, b.len);
	}
	if (!e) {
		buf_reset(&b);
		e = render_aacl(ctx, &b);
		if (!e && snapshot_put_file(rootfd, tmp, "aacl.tab", &b) < 0)
			e = TERN_E_CREATE_FILE;
	}
	buf_free(&b);
	if (!e) {
		struct copy cp = {.rootfd = rootfd};
		snprintf(cp.dir, sizeof cp.dir, "%s/%s", tmp, SNAPSHOT_FILES_DIR);
		if (mkdirat(rootfd, cp.dir, 0700) < 0 || cfg_files_walk(rootfd, copy_one, &cp) < 0 || cp.failed)
			e = TERN_E_CREATE_FILE;
	}
	return e;
}
