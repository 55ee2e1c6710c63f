/*
 * admin_queue - the frozen messages of the spool (spool/held) as the
 * controller's froz* commands see them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/xmalloc.h"
#include "../queue/spool.h"
#include "admin.h"

#define MAX_FILE (64u << 20)

/* A spool id: letters, digits, '.', '_', '-'; no leading dot; bounded. */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 100 || name[0] == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return strstr(name, ".log") == NULL || strcmp(name + n - 4, ".log") != 0;
}

static bool level_ok(const char *l)
{
	if (!*l || strlen(l) > 9)
		return false;
	for (const char *p = l; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

static enum tern_err check_args(const char *lev0, const char *lev1, const char *name)
{
	if (!level_ok(lev0) || !level_ok(lev1))
		return TERN_E_SYNTAX;
	if (!name_ok(name))
		return TERN_E_BAD_PATH;
	return TERN_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int count_attempts(int rootfd, const char *name)
{
	char rel[200];
	snprintf(rel, sizeof rel, "spool/held/%s.log", name);
	struct buf b = BUF_INIT;
	int n = 0;
	if (fs_read_all_at(rootfd, rel, MAX_FILE, &b) == 0)
		for (size_t i = 0; i < b.len; i++)
			n += b.data[i] == '\n';
	buf_free(&b);
	return n;
}

enum tern_err admin_frozen_list(struct admin_ctx *ctx, dir_row_fn fn, void *arg)
{
	int fd = openat(ctx->env->rootfd, "spool/held", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return TERN_OK;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return TERN_OK;
	}
	char **names = NULL;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!name_ok(de->d_name))
			continue;
		names = xrealloc(names, (size_t)(n + 1) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, (size_t)n, sizeof *names, cmp_str);
	int stop = 0;
	for (int i = 0; i < n; i++) {
		char rel[200];
		snprintf(rel, sizeof rel, "spool/held/%s", names[i]);
		int mfd = openat(ctx->env->rootfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		struct envelope env;
		off_t off;
		struct stat st;
		if (!stop && mfd >= 0 && fstat(mfd, &st) == 0 && spool_read_envelope(mfd, &env, &off) == 0) {
			char from[340], to[340], when[32], size[32], attempts[16];
			snprintf(from, sizeof from, "<%s>", env.from);
			snprintf(to, sizeof to, "<%s>", env.nrcpt ? env.rcpt[0] : "");
			struct tm tm;
			localtime_r(&st.st_mtime, &tm);
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
			snprintf(size, sizeof size, "%lld", (long long)(st.st_size - off));
			snprintf(attempts, sizeof attempts, "%d", count_attempts(ctx->env->rootfd, names[i]));
			const char *row[9] = {names[i], "0", "0", from, to, when, size, attempts, "froz"};
			stop = fn(arg, row, 9);
			envelope_free(&env);
		}
		if (mfd >= 0)
			close(mfd);
		free(names[i]);
	}
	free(names);
	return TERN_OK;
}

enum tern_err admin_frozen_submit(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name)
{
	enum tern_err e = check_args(lev0, lev1, name);
	if (e)
		return e;
	char from[200], to[200], logrel[210];
	snprintf(from, sizeof from, "spool/held/%s", name);
	snprintf(to, sizeof to, "spool/queue/%s", name);
	if (faccessat(ctx->env->rootfd, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return TERN_E_MOVE_FILE; /* an entry of that name is already queued */
	if (renameat(ctx->env->rootfd, from, ctx->env->rootfd, to) < 0)
		return TERN_E_MOVE_FILE;
	fs_fsync_dir_at(ctx->env->rootfd, "spool/queue");
	fs_fsync_dir_at(ctx->env->rootfd, "spool/held");
	snprintf(logrel, sizeof logrel, "spool/held/%s.log", name);
	unlinkat(ctx->env->rootfd, logrel, 0); /* fresh statistics */
	log_info("frozsubmit %s by %s from %s: back in the delivery queue", name, ctx->admin, ctx->peer);
	if (ctx->env->requeue)
		ctx->env->requeue(ctx->env->requeue_arg, name);
	return TERN_OK;
}

enum tern_err admin_frozen_del(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name)
{
	enum tern_err e = check_args(lev0, lev1, name);
	if (e)
		return e;
	char rel[200], logrel[210];
	snprintf(rel, sizeof rel, "spool/held/%s", name);
	snprintf(logrel, sizeof logrel, "spool/held/%s.log", name);
	if (unlinkat(ctx->env->rootfd, rel, 0) < 0)
		return errno == ENOENT ? TERN_E_NO_FILE : TERN_E_INTERNAL;
	unlinkat(ctx->env->rootfd, logrel, 0);
	fs_fsync_dir_at(ctx->env->rootfd, "spool/held");
	log_info("frozdel %s by %s from %s: frozen message deleted", name, ctx->admin, ctx->peer);
	return TERN_OK;
}

enum tern_err admin_frozen_get(struct admin_ctx *ctx, const char *lev0, const char *lev1, const char *name, bool log,
			       struct buf *out)
{
	enum tern_err e = check_args(lev0, lev1, name);
	if (e)
		return e;
	char rel[210];
	snprintf(rel, sizeof rel, "spool/held/%s%s", name, log ? ".log" : "");
	if (fs_read_all_at(ctx->env->rootfd, rel, MAX_FILE, out) < 0)
		return TERN_E_NO_FILE;
	return TERN_OK;
}
