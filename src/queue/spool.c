/*
 * spool - temp file, fsync, rename: the durable hand-off of messages.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/secret.h"
#include "../core/xmalloc.h"

/* Coalesces the fsyncs of spool/queue (process-wide, set up once). */
static struct dirsync *queue_sync;

int spool_init(int rootfd)
{
	static const char *const dirs[] = {"spool", "spool/tmp", "spool/queue", "spool/remote", "spool/held", "spool/work"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (mkdirat(rootfd, dirs[i], 0700) < 0 && errno != EEXIST)
			return -1;
	/* Never acknowledged: drop. */
	int fd = openat(rootfd, "spool/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	closedir(d);
	if (n)
		log_info("spool: removed %d unacknowledged partial message(s)", n);
	if (!queue_sync) {
		int qfd = openat(rootfd, "spool/queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (qfd < 0)
			return -1;
		queue_sync = dirsync_new(qfd);
	}
	return 0;
}

void spool_new_id(char out[64])
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static unsigned long seq;
	char rnd[9];
	secret_random_hex(rnd, 4);
	pthread_mutex_lock(&mu);
	unsigned long s = ++seq;
	pthread_mutex_unlock(&mu);
	snprintf(out, 64, "%lld.%lu.%s", (long long)time(NULL), s, rnd);
}

int spool_create(int rootfd, struct spool_file *sf, const struct envelope *env)
{
	char rel[128];
	snprintf(rel, sizeof rel, "spool/tmp/%s", env->id);
	return spool_create_path(rootfd, rel, sf, env);
}

int spool_create_path(int rootfd, const char *rel, struct spool_file *sf, const struct envelope *env)
{
	memset(sf, 0, sizeof *sf);
	snprintf(sf->id, sizeof sf->id, "%s", env->id);
	sf->fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (sf->fd < 0)
		return -1;
	struct buf b = BUF_INIT;
	buf_printf(&b, "TERN-SPOOL 1\nI %s\nR %lld\nP %s\nH %s\nA %s\nF %s\nL %d\n", env->id,
		   (long long)env->received, env->peer, env->helo, env->auth[0] ? env->auth : "-", env->from, env->hops);
	if (env->mailbox_only)
		buf_puts(&b, "O mailbox\n");
	if (env->route[0])
		buf_printf(&b, "G %s\n", env->route);
	for (int i = 0; i < env->nrcpt; i++)
		buf_printf(&b, "T %s\n", env->rcpt[i]);
	buf_puts(&b, ".\n");
	int rc = spool_write(sf, b.data, b.len);
	sf->size = 0;
	buf_free(&b);
	return rc;
}

int spool_write(struct spool_file *sf, const void *p, size_t n)
{
	const char *c = p;
	while (n && !sf->failed) {
		ssize_t w = write(sf->fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			sf->failed = true;
			return -1;
		}
		c += w;
		n -= (size_t)w;
		sf->size += (uint64_t)w;
	}
	return sf->failed ? -1 : 0;
}

int spool_commit(int rootfd, struct spool_file *sf)
{
	return spool_commit_to(rootfd, sf, "queue");
}

int spool_commit_to(int rootfd, struct spool_file *sf, const char *dir)
{
	if (sf->failed || fsync(sf->fd) < 0) {
		spool_abort(rootfd, sf);
		return -1;
	}
	close(sf->fd);
	sf->fd = -1;
	char from[128], to[160], d[64];
	snprintf(from, sizeof from, "spool/tmp/%s", sf->id);
	snprintf(d, sizeof d, "spool/%s", dir);
	snprintf(to, sizeof to, "%s/%s", d, sf->id);
	if (renameat(rootfd, from, rootfd, to) < 0) {
		unlinkat(rootfd, from, 0);
		return -1;
	}
	/* Messages committed together share the fsync of queue/. */
	if (queue_sync && !strcmp(dir, "queue"))
		return dirsync_wait(queue_sync);
	return fs_fsync_dir_at(rootfd, d);
}

void spool_abort(int rootfd, struct spool_file *sf)
{
	if (sf->fd >= 0)
		close(sf->fd);
	sf->fd = -1;
	char rel[128];
	snprintf(rel, sizeof rel, "spool/tmp/%s", sf->id);
	unlinkat(rootfd, rel, 0);
}

void envelope_add_rcpt(struct envelope *env, const char *rcpt)
{
	env->rcpt = xrealloc(env->rcpt, (size_t)(env->nrcpt + 1) * sizeof *env->rcpt);
	env->rcpt[env->nrcpt++] = xstrdup(rcpt);
}

void envelope_free(struct envelope *env)
{
	for (int i = 0; i < env->nrcpt; i++)
		free(env->rcpt[i]);
	free(env->rcpt);
	env->rcpt = NULL;
	env->nrcpt = 0;
}

int spool_read_envelope(int fd, struct envelope *env, off_t *body_off_r)
{
	memset(env, 0, sizeof *env);
	char chunk[65536];
	ssize_t n = pread(fd, chunk, sizeof chunk - 1, 0);
	if (n <= 0)
		return -1;
	chunk[n] = '\0';
	if (strncmp(chunk, "TERN-SPOOL 1\n", 13))
		return -1;
	char *p = chunk + 13;
	for (;;) {
		char *nl = strchr(p, '\n');
		if (!nl)
			return -1; /* no end record: not a complete spool file */
		*nl = '\0';
		if (!strcmp(p, ".")) {
			*body_off_r = (off_t)(nl + 1 - chunk);
			return env->id[0] ? 0 : -1;
		}
		if (strlen(p) < 2 || p[1] != ' ')
			return -1;
		const char *v = p + 2;
		switch (p[0]) {
		case 'I':
			snprintf(env->id, sizeof env->id, "%s", v);
			break;
		case 'R':
			env->received = (time_t)strtoll(v, NULL, 10);
			break;
		case 'P':
			snprintf(env->peer, sizeof env->peer, "%s", v);
			break;
		case 'H':
			snprintf(env->helo, sizeof env->helo, "%s", v);
			break;
		case 'A':
			snprintf(env->auth, sizeof env->auth, "%s", strcmp(v, "-") ? v : "");
			break;
		case 'F':
			snprintf(env->from, sizeof env->from, "%s", v);
			break;
		case 'L':
			env->hops = atoi(v);
			break;
		case 'O':
			env->mailbox_only = !strcmp(v, "mailbox");
			break;
		case 'G':
			snprintf(env->route, sizeof env->route, "%s", v);
			break;
		case 'T':
			if (env->nrcpt < SPOOL_MAX_RCPTS)
				envelope_add_rcpt(env, v);
			break;
		default:
			return -1;
		}
		p = nl + 1;
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int spool_list_queue(int rootfd, char ***ids_r)
{
	*ids_r = NULL;
	int fd = openat(rootfd, "spool/queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	int n = 0, cap = 0;
	char **ids = NULL;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ids = xrealloc(ids, (size_t)cap * sizeof *ids);
		}
		ids[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(ids, (size_t)n, sizeof *ids, cmp_str);
	*ids_r = ids;
	return n;
}

int spool_done(int rootfd, const char *id)
{
	/* Durable before the delivery record (spool/work/ID.marks) goes: a
	 * crash must not bring back the entry without its record. Removals
	 * made together share the fsync of queue/. */
	char rel[128];
	snprintf(rel, sizeof rel, "spool/queue/%s", id);
	if (unlinkat(rootfd, rel, 0) < 0 && errno != ENOENT)
		return -1;
	return queue_sync ? dirsync_wait(queue_sync) : fs_fsync_dir_at(rootfd, "spool/queue");
}

int spool_move(int rootfd, const char *id, const char *to_dir)
{
	char from[128], to[160], dir[64];
	snprintf(from, sizeof from, "spool/queue/%s", id);
	snprintf(dir, sizeof dir, "spool/%s", to_dir);
	snprintf(to, sizeof to, "%s/%s", dir, id);
	if (renameat(rootfd, from, rootfd, to) < 0)
		return -1;
	if (fs_fsync_dir_at(rootfd, dir) < 0)
		return -1;
	return fs_fsync_dir_at(rootfd, "spool/queue");
}
