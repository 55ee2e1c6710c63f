/*
 * mailstore - Maildir usage and creation.
 */
#include "mailstore.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "../core/fsutil.h"

void mailstore_usage(int rootfd, const char *domain, const char *dir, uint64_t *bytes_r, uint64_t *count_r)
{
	*bytes_r = *count_r = 0;
	static const char *const sub[] = {"new", "cur"};
	for (int i = 0; i < 2; i++) {
		char rel[800];
		snprintf(rel, sizeof rel, "domains/%s/%s/Maildir/%s", domain, dir, sub[i]);
		int fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		DIR *d = fdopendir(fd);
		if (!d) {
			close(fd);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(d))) {
			struct stat st;
			if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISREG(st.st_mode)) {
				*bytes_r += (uint64_t)st.st_size;
				(*count_r)++;
			}
		}
		closedir(d);
	}
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
