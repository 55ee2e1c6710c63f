/*
 * mailstore - Maildir usage and creation.
 */
#include "mailstore.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "../core/fsutil.h"
#include "../core/xmalloc.h"

/* ---- the usage cache ----
 *
 * Per Maildir, per subdirectory (new/, cur/): bytes, count and the
 * directory's mtime when they were counted. A directory whose mtime
 * changed is counted again; one whose mtime is not older than the moment
 * its count began (the kernel stamps with the same coarse clock) might
 * change again within the same tick unseen, so it is not trusted. Tern's
 * own changes (delivery, POP3) adjust the figures under the entry's lock
 * instead of counting again. */

#define CACHE_BUCKETS 4096

struct mbcache {
	struct mbcache *next;
	char *key; /* domains/D/U/Maildir */
	pthread_mutex_t mu;
	bool valid[2];
	struct timespec mt[2];
	uint64_t bytes[2], count[2];
	uint64_t reserved;   /* bytes of the copies being delivered */
	uint64_t reserved_n; /* how many copies are being delivered */
	/* The last totals, readable without the lock (RCPT checks on the
	 * event loop do not wait for a delivery or a POP3 session holding it). */
	uint64_t last_bytes, last_count;
	bool last_set;
};

static void publish_totals(struct mbcache *e)
{
	__atomic_store_n(&e->last_bytes, e->bytes[0] + e->bytes[1], __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_count, e->count[0] + e->count[1], __ATOMIC_RELAXED);
	__atomic_store_n(&e->last_set, true, __ATOMIC_RELEASE);
}

static const char *const subdirs[2] = {"new", "cur"};
static struct mbcache *cache_tab[CACHE_BUCKETS];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t cache_scans;

static struct mbcache *cache_entry(const char *mdrel)
{
	unsigned h = 5381;
	for (const unsigned char *c = (const unsigned char *)mdrel; *c; c++)
		h = h * 33 + *c;
	h %= CACHE_BUCKETS;
	pthread_mutex_lock(&cache_mu);
	struct mbcache *e;
	for (e = cache_tab[h]; e; e = e->next)
		if (!strcmp(e->key, mdrel))
			break;
	if (!e) {
		e = xcalloc(1, sizeof *e);
		e->key = xstrdup(mdrel);
		pthread_mutex_init(&e->mu, NULL);
		e->next = cache_tab[h];
		cache_tab[h] = e;
	}
	pthread_mutex_unlock(&cache_mu);
	return e;
}

static void md_rel(const char *domain, const char *dir, char *out, size_t sz)
{
	snprintf(out, sz, "domains/%s/%s/Maildir", domain, dir);
}

static bool ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool ts_before(struct timespec a, struct timespec b)
{
	return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

static struct timespec dir_mtime(int rootfd, const char *mdrel, int i)
{
	char rel[800];
	snprintf(rel, sizeof rel, "%s/%s", mdrel, subdirs[i]);
	struct stat st;
	if (fstatat(rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return (struct timespec){0, 0};
	return st.st_mtim;
}

/* Count one subdirectory into e (locked). */
static void rescan(struct mbcache *e, int rootfd, int i)
{
	struct timespec start;
	clock_gettime(CLOCK_REALTIME_COARSE, &start);
	char rel[800];
	snprintf(rel, sizeof rel, "%s/%s", e->key, subdirs[i]);
	e->bytes[i] = e->count[i] = 0;
	e->mt[i] = (struct timespec){0, 0};
	e->valid[i] = true;
	__atomic_add_fetch(&cache_scans, 1, __ATOMIC_RELAXED);
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	struct stat dst;
	if (fstat(fd, &dst) == 0) {
		e->mt[i] = dst.st_mtim;
		e->valid[i] = ts_before(dst.st_mtim, start);
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		e->valid[i] = false;
		return;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat st;
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode)) {
			e->bytes[i] += (uint64_t)st.st_size;
			e->count[i]++;
		}
	}
	closedir(d);
}

static void validate(struct mbcache *e, int rootfd)
{
	for (int i = 0; i < 2; i++)
		if (!e->valid[i] || !ts_eq(dir_mtime(rootfd, e->key, i), e->mt[i]))
			rescan(e, rootfd, i);
	publish_totals(e);
}

void mailstore_usage(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r)
{
	char rel[700];
	md_rel(domain, dir, rel, sizeof rel);
	struct mbcache *e = cache_entry(rel);
	if (pthread_mutex_trylock(&e->mu) != 0) {
		if (__atomic_load_n(&e->last_set, __ATOMIC_ACQUIRE)) {
			/* Being changed right now: the figures from just before. */
			*bytes_r = __atomic_load_n(&e->last_bytes, __ATOMIC_RELAXED);
			*count_r = __atomic_load_n(&e->last_count, __ATOMIC_RELAXED);
			return;
		}
		pthread_mutex_lock(&e->mu);
	}
	validate(e, rootfd);
	*bytes_r = e->bytes[0] + e->bytes[1];
	*count_r = e->count[0] + e->count[1];
	pthread_mutex_unlock(&e->mu);
}

void mailstore_usage_exact(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r)
{
	char rel[700];
	md_rel(domain, dir, rel, sizeof rel);
	struct mbcache *e = cache_entry(rel);
	pthread_mutex_lock(&e->mu);
	rescan(e, rootfd, 0);
	rescan(e, rootfd, 1);
	publish_totals(e);
	*bytes_r = e->bytes[0] + e->bytes[1];
	*count_r = e->count[0] + e->count[1];
	pthread_mutex_unlock(&e->mu);
}

uint64_t mailstore_scans(void)
{
	return __atomic_load_n(&cache_scans, __ATOMIC_RELAXED);
}

int mailstore_reserve(int rootfd, const char *domain, const char *dir, uint64_t bytes, uint64_t max_bytes,
		      uint64_t max_count)
{
	char rel[700];
	md_rel(domain, dir, rel, sizeof rel);
	struct mbcache *e = cache_entry(rel);
	pthread_mutex_lock(&e->mu);
	validate(e, rootfd);
	int rc = 0;
	if (max_bytes && e->bytes[0] + e->bytes[1] + e->reserved + bytes > max_bytes)
		rc = MAILSTORE_OVER_SIZE;
	else if (max_count && e->count[0] + e->count[1] + e->reserved_n + 1 > max_count)
		rc = MAILSTORE_OVER_COUNT;
	if (rc == 0) {
		e->reserved += bytes;
		e->reserved_n++;
	}
	pthread_mutex_unlock(&e->mu);
	return rc;
}

static void unreserve(struct mbcache *e, uint64_t bytes)
{
	e->reserved = e->reserved > bytes ? e->reserved - bytes : 0;
	e->reserved_n = e->reserved_n ? e->reserved_n - 1 : 0;
}

void mailstore_release(const char *domain, const char *dir, uint64_t bytes)
{
	char rel[700];
	md_rel(domain, dir, rel, sizeof rel);
	struct mbcache *e = cache_entry(rel);
	pthread_mutex_lock(&e->mu);
	unreserve(e, bytes);
	pthread_mutex_unlock(&e->mu);
}

struct mailstore_change {
	struct mbcache *e;
	int rootfd;
};

struct mailstore_change *mailstore_change_begin(int rootfd, const char *mdrel)
{
	struct mailstore_change *c = xcalloc(1, sizeof *c);
	c->e = cache_entry(mdrel);
	c->rootfd = rootfd;
	pthread_mutex_lock(&c->e->mu);
	for (int i = 0; i < 2; i++)
		if (c->e->valid[i] && !ts_eq(dir_mtime(rootfd, c->e->key, i), c->e->mt[i]))
			c->e->valid[i] = false; /* changed by someone else: count again later */
	return c;
}

void mailstore_change_unreserve(struct mailstore_change *c, uint64_t bytes)
{
	unreserve(c->e, bytes);
}

static uint64_t add_delta(uint64_t v, int64_t d)
{
	if (d < 0 && (uint64_t)-d > v)
		return 0;
	return v + (uint64_t)d;
}

void mailstore_change_end(struct mailstore_change *c, int64_t dbytes_new, int64_t dcount_new, int64_t dbytes_cur,
			  int64_t dcount_cur)
{
	struct mbcache *e = c->e;
	int64_t db[2] = {dbytes_new, dbytes_cur}, dc[2] = {dcount_new, dcount_cur};
	for (int i = 0; i < 2; i++) {
		if (!e->valid[i])
			continue;
		e->bytes[i] = add_delta(e->bytes[i], db[i]);
		e->count[i] = add_delta(e->count[i], dc[i]);
		e->mt[i] = dir_mtime(c->rootfd, e->key, i);
	}
	if (e->valid[0] && e->valid[1])
		publish_totals(e);
	pthread_mutex_unlock(&e->mu);
	free(c);
}

int mailstore_open(int rootfd, const char *domain, const char *dir)
{
	char rel[700];
	snprintf(rel, sizeof rel, "domains/%s/%s/Maildir", domain, dir);
	int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && faccessat(fd, "new", F_OK, 0) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	char p[760];
	snprintf(p, sizeof p, "domains/%s", domain);
	mkdirat(rootfd, "domains", 0700);
	mkdirat(rootfd, p, 0700);
	snprintf(p, sizeof p, "domains/%s/%s", domain, dir);
	mkdirat(rootfd, p, 0700);
	mkdirat(rootfd, rel, 0700);
	fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	mkdirat(fd, "tmp", 0700);
	mkdirat(fd, "new", 0700);
	mkdirat(fd, "cur", 0700);
	fsync(fd);
	return fd;
}

int mailstore_custdom_read(int rootfd, const char *domain, bool catch_all, struct buf *out)
{
	char rel[400];
	snprintf(rel, sizeof rel, "custdomains/%s.tab", domain);
	buf_reset(out);
	if (fs_read_all_at(rootfd, rel, 16u << 20, out) == 0)
		return 0;
	for (const char *s = strchr(domain, '.'); s; s = strchr(s + 1, '.')) {
		snprintf(rel, sizeof rel, "custdomains/%s.tab", s);
		buf_reset(out);
		if (fs_read_all_at(rootfd, rel, 16u << 20, out) == 0)
			return 0;
	}
	buf_reset(out);
	if (catch_all && fs_read_all_at(rootfd, "custdomains/.tab", 16u << 20, out) == 0)
		return 0;
	return -1;
}

void mailstore_forget(const char *prefix)
{
	size_t l = strlen(prefix);
	pthread_mutex_lock(&cache_mu);
	for (int b = 0; b < CACHE_BUCKETS; b++)
		for (struct mbcache *e = cache_tab[b]; e; e = e->next) {
			if (strncmp(e->key, prefix, l) != 0 || (e->key[l] != '/' && e->key[l] != '\0'))
				continue;
			pthread_mutex_lock(&e->mu);
			e->valid[0] = e->valid[1] = false;
			__atomic_store_n(&e->last_set, false, __ATOMIC_RELEASE);
			pthread_mutex_unlock(&e->mu);
		}
	pthread_mutex_unlock(&cache_mu);
}
