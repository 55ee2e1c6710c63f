/*
 * fsutil - durable writes, recursive mkdir/remove, moves.
 */
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#include "xmalloc.h"

static void split_dir(const char *path, char *dir, size_t dirsz, const char **base)
{
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, dirsz, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dirsz, "/");
		*base = slash + 1;
	} else {
		snprintf(dir, dirsz, "%.*s", (int)(slash - path), path);
		*base = slash + 1;
	}
}

int fs_fsync_dir_at(int dirfd, const char *path)
{
	int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

int fs_fsync_parent(const char *path)
{
	char dir[4096];
	const char *base;
	split_dir(path, dir, sizeof dir, &base);
	return fs_fsync_dir_at(AT_FDCWD, dir);
}

static int write_full(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_atomic_at(int dirfd, const char *path, const void *data, size_t len, mode_t mode)
{
	char dir[4096], tmp[4200];
	const char *base;
	split_dir(path, dir, sizeof dir, &base);
	unsigned rnd = (unsigned)random();
	snprintf(tmp, sizeof tmp, "%s/.tmp.%d.%u.%s", dir, (int)getpid(), rnd, base);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	if (write_full(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, path) < 0) {
		int e = errno;
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	return fs_fsync_dir_at(dirfd, dir);
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return fs_write_atomic_at(AT_FDCWD, path, data, len, mode);
}

int fs_read_all_at(int dirfd, const char *path, size_t max, struct buf *out)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int fs_read_all(const char *path, size_t max, struct buf *out)
{
	return fs_read_all_at(AT_FDCWD, path, max, out);
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_rf_at(int parent, const char *name)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0);
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(dirfd(d), de->d_name) < 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0)
		rc = -1;
	return rc;
}

int fs_rm_rf(const char *path)
{
	return rm_rf_at(AT_FDCWD, path);
}

int fs_rm_rf_at(int dirfd, const char *path)
{
	return rm_rf_at(dirfd, path);
}

int fs_move(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return -1;
	if (fs_fsync_parent(from) < 0)
		return -1;
	return fs_fsync_parent(to);
}

int fs_unlink_durable_at(int dirfd, const char *path)
{
	if (unlinkat(dirfd, path, 0) < 0)
		return errno == ENOENT ? 0 : -1;
	char dir[4096];
	const char *base;
	split_dir(path, dir, sizeof dir, &base);
	return fs_fsync_dir_at(dirfd, dir);
}

struct dirsync {
	int fd;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint64_t requested, done;
	bool running;
	int last_rc;
};

struct dirsync *dirsync_new(int dirfd_owned)
{
	struct dirsync *ds = xcalloc(1, sizeof *ds);
	ds->fd = dirfd_owned;
	pthread_mutex_init(&ds->mu, NULL);
	pthread_cond_init(&ds->cv, NULL);
	return ds;
}

int dirsync_wait(struct dirsync *ds)
{
	pthread_mutex_lock(&ds->mu);
	uint64_t mine = ++ds->requested;
	int rc = 0;
	while (ds->done < mine) {
		if (ds->running) {
			pthread_cond_wait(&ds->cv, &ds->mu);
			continue;
		}
		/* Lead one fsync covering every request made so far. */
		ds->running = true;
		uint64_t target = ds->requested;
		pthread_mutex_unlock(&ds->mu);
		int r = fsync(ds->fd);
		pthread_mutex_lock(&ds->mu);
		ds->running = false;
		ds->done = target;
		ds->last_rc = r;
		pthread_cond_broadcast(&ds->cv);
	}
	rc = ds->last_rc;
	pthread_mutex_unlock(&ds->mu);
	return rc;
}

void dirsync_free(struct dirsync *ds)
{
	if (!ds)
		return;
	close(ds->fd);
	pthread_mutex_destroy(&ds->mu);
	pthread_cond_destroy(&ds->cv);
	free(ds);
}
