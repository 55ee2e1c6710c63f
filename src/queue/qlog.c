/*
 * qlog - append one line to an outbound entry's attempt log.
 */
#include "qlog.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/log.h"

void qlog_attempt(int rootfd, const char *id, const char *line)
{
	qlog_lines(rootfd, id, line);
}

void qlog_lines(int rootfd, const char *id, const char *lines)
{
	char rel[128];
	snprintf(rel, sizeof rel, "spool/remote/%s.log", id);
	int fd = openat(rootfd, rel, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return;
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	struct buf b = BUF_INIT;
	for (const char *p = lines; *p;) {
		size_t l = strcspn(p, "\n");
		buf_printf(&b, "%s %.*s\n", stamp, (int)l, p);
		p += l + (p[l] == '\n');
	}
	if (write(fd, b.data, b.len) < 0)
		log_warn("outbound: cannot write %s", rel);
	close(fd);
	buf_free(&b);
}
