/*
 * progress - stage, mark, publish (see progress.h).
 */
#include "progress.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/xmalloc.h"

#define MARKS_MAX (4u << 20)

static struct dirsync *work_sync;
static pthread_mutex_t work_mu = PTHREAD_MUTEX_INITIALIZER;

static int sync_work(int rootfd)
{
	pthread_mutex_lock(&work_mu);
	if (!work_sync) {
		int fd = openat(rootfd, "spool/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0)
			work_sync = dirsync_new(fd);
	}
	pthread_mutex_unlock(&work_mu);
	return work_sync ? dirsync_wait(work_sync) : fs_fsync_dir_at(rootfd, "spool/work");
}

void progress_key(char out[PROGRESS_KEY_LEN + 1], const char *material)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
	for (const unsigned char *s = (const unsigned char *)material; *s; s++) {
		h ^= *s;
		h *= 1099511628211ULL;
	}
	snprintf(out, PROGRESS_KEY_LEN + 1, "%016llx", (unsigned long long)h);
}

static void marks_path(const char *id, char *out, size_t sz)
{
	snprintf(out, sz, "spool/work/%s.marks", id);
}

void progress_stage_path(const char *id, const char *key, char *out, size_t sz)
{
	snprintf(out, sz, "spool/work/%s~%s", id, key);
}

static void push(struct progress_mark **arr, int *n, const char *key, const char *src, const char *dst)
{
	*arr = xrealloc(*arr, (size_t)(*n + 1) * sizeof **arr);
	struct progress_mark *m = &(*arr)[(*n)++];
	snprintf(m->key, sizeof m->key, "%s", key);
	m->src = xstrdup(src);
	m->dst = xstrdup(dst);
}

void progress_load(struct progress *p, int rootfd, const char *id, unsigned long long ino)
{
	memset(p, 0, sizeof *p);
	p->rootfd = rootfd;
	p->ino = ino;
	snprintf(p->id, sizeof p->id, "%s", id);
	char rel[128], head[64];
	marks_path(id, rel, sizeof rel);
	int hl = snprintf(head, sizeof head, "TERN-MARKS %llu\n", ino);
	struct buf b = BUF_INIT;
	if (fs_read_all_at(rootfd, rel, MARKS_MAX, &b) == 0 && b.data && b.len >= (size_t)hl &&
	    !memcmp(b.data, head, (size_t)hl)) {
		p->valid = true;
		char *s = b.data + hl;
		char *end = b.data + b.len;
		while (s < end) {
			char *nl = memchr(s, '\n', (size_t)(end - s));
			if (!nl)
				break; /* torn last line: never committed */
			*nl = '\0';
			char *t1 = strchr(s, '\t');
			char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
			if (t1 && t2 && t1 - s == PROGRESS_KEY_LEN) {
				*t1 = *t2 = '\0';
				push(&p->m, &p->n, s, t1 + 1, t2 + 1);
			}
			s = nl + 1;
		}
	}
	buf_free(&b);
}

const struct progress_mark *progress_find(const struct progress *p, const char *key)
{
	for (int i = 0; i < p->n; i++)
		if (!strcmp(p->m[i].key, key))
			return &p->m[i];
	for (int i = 0; i < p->npend; i++)
		if (!strcmp(p->pend[i].key, key))
			return &p->pend[i];
	return NULL;
}

void progress_add(struct progress *p, const char *key, const char *src, const char *dst)
{
	push(&p->pend, &p->npend, key, src, dst);
}

static void free_marks(struct progress_mark *m, int n)
{
	for (int i = 0; i < n; i++) {
		free(m[i].src);
		free(m[i].dst);
	}
	free(m);
}

int progress_commit(struct progress *p)
{
	if (!p->npend)
		return 0;
	char rel[128];
	marks_path(p->id, rel, sizeof rel);
	/* A file left by an earlier entry of the same id (a frozen message
	 * submitted again) is replaced. */
	int fd = openat(p->rootfd, rel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (p->valid ? 0 : O_TRUNC),
			0600);
	if (fd < 0)
		return -1;
	/* The staged spool copies and the marks file itself must be in the
	 * directory before any mark can be read back. */
	struct buf b = BUF_INIT;
	if (!p->valid)
		buf_printf(&b, "TERN-MARKS %llu\n", p->ino);
	for (int i = 0; i < p->npend; i++)
		buf_printf(&b, "%s\t%s\t%s\n", p->pend[i].key, p->pend[i].src, p->pend[i].dst);
	int rc = sync_work(p->rootfd);
	if (rc == 0) {
		const char *s = b.data;
		size_t left = b.len;
		while (left && rc == 0) {
			ssize_t w = write(fd, s, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				rc = -1;
			else {
				s += w;
				left -= (size_t)w;
			}
		}
	}
	if (rc == 0)
		rc = fdatasync(fd);
	close(fd);
	buf_free(&b);
	if (rc < 0) {
		log_err("deliver %s: cannot record delivery progress: %s", p->id, strerror(errno));
		return -1;
	}
	p->valid = true;
	for (int i = 0; i < p->npend; i++)
		push(&p->m, &p->n, p->pend[i].key, p->pend[i].src, p->pend[i].dst);
	free_marks(p->pend, p->npend);
	p->pend = NULL;
	p->npend = 0;
	return 0;
}

void progress_abort(struct progress *p)
{
	for (int i = 0; i < p->npend; i++)
		if (strcmp(p->pend[i].src, "-"))
			unlinkat(p->rootfd, p->pend[i].src, 0);
	free_marks(p->pend, p->npend);
	p->pend = NULL;
	p->npend = 0;
}

void progress_free(struct progress *p)
{
	free_marks(p->m, p->n);
	free_marks(p->pend, p->npend);
	p->m = p->pend = NULL;
	p->n = p->npend = 0;
}

void progress_remove(int rootfd, const char *id)
{
	char rel[128];
	marks_path(id, rel, sizeof rel);
	unlinkat(rootfd, rel, 0);
}

void progress_sweep(int rootfd)
{
	int fd = openat(rootfd, "spool/work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char id[256], q[300];
		snprintf(id, sizeof id, "%s", de->d_name);
		char *cut = strchr(id, '~');
		if (!cut) {
			size_t l = strlen(id);
			cut = l > 6 && !strcmp(id + l - 6, ".marks") ? id + l - 6 : NULL;
		}
		if (!cut)
			continue;
		*cut = '\0';
		snprintf(q, sizeof q, "spool/queue/%s", id);
		if (faccessat(rootfd, q, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
		    unlinkat(dirfd(d), de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n)
		log_info("spool: removed %d delivery record(s) of finished messages", n);
}
