/*
 * admin_files - files under the data root as the controller sees them:
 * filelist, cfgfileget/cfgfileset (table views or plain files), custom
 * domain files, mailproc.tab files, and the trash.
 *
 * Client paths are resolved inside the root only: '..' anywhere is refused,
 * '\' counts as '/', leading '/' are ignored, every component is opened with
 * O_NOFOLLOW so no symlink is ever followed, and the store, key material and
 * TLS identity are never readable or writable this way.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../admin/settings.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/tabline.h"
#include "../deliver/mailproc.h"
#include "../store/mailstore.h"
#include "admin.h"
#include "views.h"

#define MAX_FILE (16u << 20)
#define MAX_COMPS 32

/* Admin accounts live in the store, never in a file: ctrlaccounts.tab is
 * refused rather than silently ignored. */
static const char *const protected_top[] = {"tls", "keys", "ternd.pid", "ctrlaccounts.tab"};

/* The store and every file SQLite keeps beside it (and any copy named
 * after it) are never served. */
static bool protected_name(const char *name)
{
	if (!strncmp(name, "tern.db", 7))
		return true;
	for (size_t i = 0; i < sizeof protected_top / sizeof *protected_top; i++)
		if (!strcmp(name, protected_top[i]))
			return true;
	return false;
}

struct rel_path {
	char buf[1024];
	char *comp[MAX_COMPS];
	int n;
};

/* Split a client path into components. */
static enum tern_err parse_rel(const char *in, struct rel_path *p)
{
	if (strstr(in, ".."))
		return TERN_E_BAD_PATH;
	if (strlen(in) >= sizeof p->buf || !admin_value_ok(in))
		return TERN_E_BAD_PATH;
	snprintf(p->buf, sizeof p->buf, "%s", in);
	for (char *c = p->buf; *c; c++)
		if (*c == '\\')
			*c = '/';
	p->n = 0;
	char *save = NULL;
	for (char *t = strtok_r(p->buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (!strcmp(t, "."))
			continue;
		if (p->n >= MAX_COMPS)
			return TERN_E_BAD_PATH;
		p->comp[p->n++] = t;
	}
	if (p->n > 0 && protected_name(p->comp[0]))
		return TERN_E_FORBIDDEN;
	/* a snapshot's admin accounts hold password hashes (snapshot_parts.h) */
	if (p->n > 1 && !strcmp(p->comp[0], "snapshots") && !strcmp(p->comp[p->n - 1], "adminusers.tab"))
		return TERN_E_FORBIDDEN;
	for (int i = 0; i < p->n; i++)
		if (!strncmp(p->comp[i], ".tmp.", 5))
			return TERN_E_FORBIDDEN;
	return TERN_OK;
}

/* Open the directory made of the first n components. */
static enum tern_err open_dir(struct admin_env *env, struct rel_path *p, int n, int *fd_r)
{
	/* A fresh open, not dup(): a dup shares the directory read offset. */
	int fd = openat(env->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return TERN_E_INTERNAL;
	for (int i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(fd, p->comp[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			close(fd);
			return TERN_E_NO_DIR;
		}
		if (S_ISLNK(st.st_mode)) {
			close(fd);
			return TERN_E_FORBIDDEN;
		}
		int nfd = openat(fd, p->comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (nfd < 0)
			return TERN_E_NO_DIR;
		fd = nfd;
	}
	*fd_r = fd;
	return TERN_OK;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

enum tern_err admin_file_list(struct admin_ctx *ctx, const char *dir, const char *pattern, dir_row_fn fn, void *arg)
{
	struct rel_path p;
	enum tern_err e = parse_rel(dir, &p);
	if (e)
		return e;
	int fd;
	if ((e = open_dir(ctx->env, &p, p.n, &fd)))
		return e == TERN_E_NO_DIR ? TERN_E_NO_DIR : e;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return TERN_E_NO_DIR;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!strncmp(de->d_name, ".tmp.", 5))
			continue;
		if (p.n == 0 && protected_name(de->d_name))
			continue;
		if (fnmatch(pattern, de->d_name, FNM_PERIOD) != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				fatal("out of memory");
		}
		size_t l = strlen(de->d_name);
		char *s = malloc(l + 32);
		if (!s)
			fatal("out of memory");
		snprintf(s, l + 32, "%s%c%lld", de->d_name, 0, (long long)st.st_size);
		names[n++] = s;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, name_cmp);
	int stop = 0;
	for (size_t i = 0; i < n; i++) {
		const char *row[2] = {names[i], names[i] + strlen(names[i]) + 1};
		if (!stop)
			stop = fn(arg, row, 2);
		free(names[i]);
	}
	free(names);
	return TERN_OK;
}

/* Resolve a file path: parent directory fd and the last component. */
static enum tern_err open_parent(struct admin_env *env, struct rel_path *p, int *fd_r, const char **name_r)
{
	if (p->n == 0)
		return TERN_E_NO_FILE;
	enum tern_err e = open_dir(env, p, p->n - 1, fd_r);
	if (e)
		return e;
	*name_r = p->comp[p->n - 1];
	return TERN_OK;
}

enum tern_err admin_cfgfile_get(struct admin_ctx *ctx, const char *path, struct buf *out)
{
	struct rel_path p;
	enum tern_err e = parse_rel(path, &p);
	if (e)
		return e;
	if (p.n == 1 && view_find(p.comp[0]))
		return view_render(ctx, p.comp[0], out);
	if (p.n == 0)
		return TERN_OK; /* the root directory reads as empty */
	int fd;
	const char *name;
	if ((e = open_parent(ctx->env, &p, &fd, &name)))
		return e == TERN_E_NO_DIR ? TERN_E_NO_FILE : e;
	struct stat st;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		close(fd);
		return TERN_E_NO_FILE;
	}
	if (S_ISLNK(st.st_mode)) {
		close(fd);
		return TERN_E_FORBIDDEN;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return TERN_OK;
	}
	int r = fs_read_all_at(fd, name, MAX_FILE, out);
	close(fd);
	return r < 0 ? TERN_E_NO_FILE : TERN_OK;
}

enum tern_err admin_cfgfile_check(struct admin_ctx *ctx, const char *path)
{
	(void)ctx;
	struct rel_path p;
	enum tern_err e = parse_rel(path, &p);
	if (e)
		return e;
	return p.n == 0 ? TERN_E_CREATE_FILE : TERN_OK;
}

/* Write (or, when empty, delete) a file inside the root, durably. */
static enum tern_err put_file(struct admin_env *env, struct rel_path *p, const char *data, size_t len)
{
	int fd;
	const char *name;
	enum tern_err e = open_parent(env, p, &fd, &name);
	if (e)
		return e == TERN_E_NO_DIR ? TERN_E_CREATE_FILE : e;
	struct stat st;
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISLNK(st.st_mode) ? TERN_E_FORBIDDEN : TERN_E_CREATE_FILE;
	}
	int r = len ? fs_write_atomic_at(fd, name, data, len, 0600) : fs_unlink_durable_at(fd, name);
	int err = errno;
	close(fd);
	if (r < 0) {
		log_err("cannot write %s: %s", name, strerror(err));
		return TERN_E_CREATE_FILE;
	}
	return TERN_OK;
}

enum tern_err admin_cfgfile_set(struct admin_ctx *ctx, const char *path, const char *data, size_t len,
				int *bad_line_r)
{
	struct rel_path p;
	enum tern_err e = parse_rel(path, &p);
	if (e)
		return e;
	if (p.n == 1 && view_find(p.comp[0]))
		return view_replace(ctx, p.comp[0], data, len, bad_line_r);
	return put_file(ctx->env, &p, data, len);
}

/* ---- custom domains ---- */

enum tern_err admin_custdom_check(struct admin_ctx *ctx, const char *domain)
{
	(void)ctx;
	return admin_check_domain(domain);
}

enum tern_err admin_custdom_get(struct admin_ctx *ctx, const char *domain, struct buf *out)
{
	enum tern_err e = admin_check_domain(domain);
	if (e)
		return e;
	char d[256];
	admin_lower_copy(d, sizeof d, domain);
	return mailstore_custdom_read(ctx->env->rootfd, d, true, out) == 0 ? TERN_OK : TERN_E_NOT_CUSTDOMAIN;
}

enum tern_err admin_custdom_set(struct admin_ctx *ctx, const char *domain, const char *data, size_t len)
{
	enum tern_err e = admin_check_domain(domain);
	if (e)
		return e;
	char d[256], rel[400];
	admin_lower_copy(d, sizeof d, domain);
	mkdirat(ctx->env->rootfd, "custdomains", 0700);
	snprintf(rel, sizeof rel, "custdomains/%s.tab", d);
	struct rel_path p;
	if ((e = parse_rel(rel, &p)))
		return e;
	return put_file(ctx->env, &p, data, len);
}

enum tern_err admin_custdom_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	struct buf names = BUF_INIT;
	int fd = openat(ctx->env->rootfd, "custdomains", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return TERN_OK;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return TERN_OK;
	}
	struct dirent *de;
	char *list[4096];
	int n = 0;
	while ((de = readdir(d)) && n < 4096) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || strcmp(de->d_name + l - 4, ".tab") || !strncmp(de->d_name, ".tmp.", 5))
			continue;
		list[n++] = strndup(de->d_name, l - 4);
	}
	closedir(d);
	if (n)
		qsort(list, (size_t)n, sizeof *list, name_cmp);
	int stop = 0;
	for (int i = 0; i < n; i++) {
		const char *row[1] = {list[i]};
		if (!stop && list[i])
			stop = fn(arg, row, 1);
		free(list[i]);
	}
	buf_free(&names);
	return TERN_OK;
}

/* ---- mailproc.tab ---- */

static enum tern_err mailproc_paths(struct admin_ctx *ctx, const char *domain, const char *user, char *drel,
				    char *urel, size_t sz)
{
	char real[256];
	struct dir_user u;
	if (strlen(domain) > 253 || !dir_domain_resolve(ctx->rd, domain, real, sizeof real))
		return TERN_E_DOMAIN_NOT_HANDLED;
	if (!dir_user_get(ctx->rd, real, user, &u))
		return TERN_E_RECORD_NOT_FOUND;
	snprintf(drel, sz, "domains/%s/mailproc.tab", u.domain);
	snprintf(urel, sz, "domains/%s/%s/mailproc.tab", u.domain, u.dir);
	return TERN_OK;
}

enum tern_err admin_mailproc_get(struct admin_ctx *ctx, const char *domain, const char *user, const char *flags,
				 struct buf *out)
{
	bool want_d = false, want_u = false;
	for (const char *f = flags ? flags : "DU"; *f; f++) {
		if (*f == 'D' || *f == 'd')
			want_d = true;
		if (*f == 'U' || *f == 'u')
			want_u = true;
	}
	if (!want_d && !want_u)
		return TERN_E_SYNTAX;
	char drel[700], urel[700];
	enum tern_err e = mailproc_paths(ctx, domain, user, drel, urel, sizeof drel);
	if (e)
		return e;
	bool any = false;
	if (want_d && fs_read_all_at(ctx->env->rootfd, drel, MAX_FILE, out) == 0)
		any = true;
	if (any && out->len && out->data[out->len - 1] != '\n')
		buf_putc(out, '\n');
	if (want_u && fs_read_all_at(ctx->env->rootfd, urel, MAX_FILE, out) == 0)
		any = true;
	return any ? TERN_OK : TERN_E_NO_MAILPROC;
}

enum tern_err admin_mailproc_check(struct admin_ctx *ctx, const char *domain, const char *user)
{
	char drel[700], urel[700];
	return mailproc_paths(ctx, domain, user, drel, urel, sizeof drel);
}

enum tern_err admin_mailproc_set(struct admin_ctx *ctx, const char *domain, const char *user, const char *which,
				 const char *data, size_t len, int *bad_line_r)
{
	char drel[700], urel[700];
	enum tern_err e = mailproc_paths(ctx, domain, user, drel, urel, sizeof drel);
	if (e)
		return e;
	bool dom = which && (which[0] == 'D' || which[0] == 'd');
	const char *rel = dom ? drel : urel;
	/* The account directory may be missing after a crash; recreate it. */
	char dirpart[700];
	snprintf(dirpart, sizeof dirpart, "%s", rel);
	char *slash = strrchr(dirpart, '/');
	if (slash) {
		*slash = '\0';
		mkdirat(ctx->env->rootfd, "domains", 0700);
		char *s2 = strchr(dirpart + 8, '/');
		if (s2) {
			*s2 = '\0';
			mkdirat(ctx->env->rootfd, dirpart, 0700);
			*s2 = '/';
		}
		mkdirat(ctx->env->rootfd, dirpart, 0700);
	}
	if (len) {
		struct mp_rules rules = {0};
		int bad = 0;
		char *text = strndup(data, len);
		int rc = text ? mailproc_parse(text, &rules, &bad) : -1;
		free(text);
		mailproc_free(&rules);
		if (rc < 0) {
			if (bad_line_r)
				*bad_line_r = bad;
			return TERN_E_BAD_FILE;
		}
	}
	struct rel_path p;
	if ((e = parse_rel(rel, &p)))
		return e;
	return put_file(ctx->env, &p, data, len);
}

/* ---- trash ---- */

int admin_trash_move(struct admin_env *env, const char *rel, const char *label, char *dest_r, size_t sz)
{
	struct stat st;
	if (fstatat(env->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	mkdirat(env->rootfd, "trash", 0700);
	char stamp[32], rnd[9], clean[200];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	secret_random_hex(rnd, 4);
	size_t i = 0;
	for (; label[i] && i + 1 < sizeof clean; i++)
		clean[i] = (label[i] == '/' || label[i] == '\\') ? '_' : label[i];
	clean[i] = '\0';
	char dest[600];
	snprintf(dest, sizeof dest, "trash/%s-%s-%s", stamp, clean, rnd);
	if (renameat(env->rootfd, rel, env->rootfd, dest) < 0) {
		log_err("cannot move %s to %s: %s", rel, dest, strerror(errno));
		return -1;
	}
	fs_fsync_dir_at(env->rootfd, "trash");
	char parent[600];
	snprintf(parent, sizeof parent, "%s", rel);
	char *slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		fs_fsync_dir_at(env->rootfd, parent);
	} else {
		fs_fsync_dir_at(env->rootfd, ".");
	}
	snprintf(dest_r, sz, "%s/%s", env->root, dest);
	return 0;
}

void admin_trash_purge(struct admin_env *env, struct dir_conn *c)
{
	long days = settings_get_int(c, "TrashKeepDays");
	int fd = openat(env->rootfd, "trash", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	time_t now = time(NULL);
	struct dirent *de;
	while ((de = readdir(d))) {
		struct tm tm = {0};
		const char *end = strptime(de->d_name, "%Y%m%dT%H%M%SZ", &tm);
		if (!end || *end != '-')
			continue;
		time_t t = timegm(&tm);
		if (now - t < days * 86400)
			continue;
		char rel[600];
		snprintf(rel, sizeof rel, "trash/%s", de->d_name);
		if (fs_rm_rf_at(env->rootfd, rel) == 0)
			log_info("purged %s/%s from the trash (older than %ld days)", env->root, rel, days);
	}
	closedir(d);
}

/* ---- access maps ---- */

static bool parse_ip(const char *s, unsigned char out[16], int *family)
{
	if (inet_pton(AF_INET, s, out) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, out) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int bytes = bits / 8, rem = bits % 8;
	if (memcmp(a, b, (size_t)bytes))
		return false;
	if (rem == 0)
		return true;
	unsigned char m = (unsigned char)(0xff << (8 - rem));
	return (a[bytes] & m) == (b[bytes] & m);
}

static int mask_bits(const char *mask, int family)
{
	unsigned char m[16];
	if (family == AF_INET && inet_pton(AF_INET, mask, m) == 1) {
		int bits = 0;
		for (int i = 0; i < 4; i++)
			for (int b = 7; b >= 0; b--)
				if (m[i] & (1 << b))
					bits++;
		return bits;
	}
	char *end;
	long v = strtol(mask, &end, 10);
	if (*mask && !*end && v >= 0 && v <= (family == AF_INET ? 32 : 128))
		return (int)v;
	return -1;
}

/* Does rule (addr, mask) match the peer? */
bool admin_ipmap_rule_matches(const char *addr, const char *mask, const char *peer)
{
	unsigned char p[16], r[16];
	int pf, rf, bits;
	if (!parse_ip(peer, p, &pf))
		return false;
	char a[128];
	snprintf(a, sizeof a, "%s", addr);
	char *slash = strchr(a, '/');
	if (slash)
		*slash = '\0';
	if (!parse_ip(a, r, &rf))
		return false;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		if (*end || v < 0 || v > (rf == AF_INET ? 32 : 128))
			return false;
		bits = (int)v;
	} else {
		bits = mask_bits(mask, rf);
		if (bits < 0)
			return false;
	}
	if (pf == AF_INET6 && rf == AF_INET && IN6_IS_ADDR_V4MAPPED((struct in6_addr *)p)) {
		memmove(p, p + 12, 4);
		pf = AF_INET;
	}
	if (pf != rf)
		return false;
	return prefix_match(p, r, bits);
}

bool admin_ipmap_rule_valid(const char *addr, const char *mask)
{
	unsigned char r[16];
	int rf;
	char a[128];
	if (strlen(addr) >= sizeof a)
		return false;
	snprintf(a, sizeof a, "%s", addr);
	char *slash = strchr(a, '/');
	if (slash)
		*slash = '\0';
	if (!parse_ip(a, r, &rf))
		return false;
	if (slash) {
		char *end;
		long v = strtol(slash + 1, &end, 10);
		return slash[1] && !*end && v >= 0 && v <= (rf == AF_INET ? 32 : 128);
	}
	return mask_bits(mask, rf) >= 0;
}

struct ipmap_eval {
	const char *peer;
	bool matched;
	long best;
	bool allow;
};

static int ipmap_row(void *arg, const char *const *f, int n)
{
	(void)n;
	struct ipmap_eval *ev = arg;
	bool allow = !strcasecmp(f[2], "ALLOW");
	if (!allow && strcasecmp(f[2], "DENY") != 0)
		return 0; /* a disabled rule (ALLOW-OFF, DENY-OFF): kept, never matches */
	if (!admin_ipmap_rule_matches(f[0], f[1], ev->peer))
		return 0;
	long prec = strtol(f[3], NULL, 10);
	if (!ev->matched || prec >= ev->best) {
		ev->matched = true;
		ev->best = prec;
		ev->allow = allow;
	}
	return 0;
}

bool admin_ipmap_allows(struct dir_conn *c, const char *map, const char *peer)
{
	struct ipmap_eval ev = {.peer = peer};
	if (dir_ipmap_list(c, map, ipmap_row, &ev) != TERN_OK)
		return false;
	return !ev.matched || ev.allow;
}
