/*
 * mailproc - parsing mailproc.tab and running external commands.
 */
#include "mailproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../core/buf.h"
#include "../core/fsutil.h"
#include "../core/log.h"
#include "../core/tabline.h"
#include "../core/xmalloc.h"

#define MAX_ARGS 32

static int add_cmd(struct mp_rules *r, enum mp_kind k, char **f, int n, int timeout)
{
	r->cmd = xrealloc(r->cmd, (size_t)(r->n + 1) * sizeof *r->cmd);
	struct mp_cmd *c = &r->cmd[r->n++];
	c->kind = k;
	c->argc = n;
	c->timeout = timeout;
	c->argv = xcalloc((size_t)n + 1, sizeof *c->argv);
	for (int i = 0; i < n; i++)
		c->argv[i] = xstrdup(f[i]);
	return 0;
}

int mailproc_parse(const char *text, struct mp_rules *r, int *bad_line_r)
{
	char *copy = xstrdup(text);
	int line = 0;
	char *save = NULL;
	int rc = 0;
	/* strtok_r skips empty lines, so count lines by hand */
	char *p = copy;
	while (p && *p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		line++;
		size_t l = strlen(p);
		while (l && p[l - 1] == '\r')
			p[--l] = '\0';
		if (l && p[0] != '#') {
			char *f[MAX_ARGS + 4];
			int n = tab_split(p, f, MAX_ARGS + 4);
			bool ok = n >= 1;
			if (ok && !strcmp(f[0], "mailbox")) {
				ok = n == 1;
				if (ok)
					add_cmd(r, MP_MAILBOX, f + 1, 0, 0);
			} else if (ok && (!strcmp(f[0], "redirect") || !strcmp(f[0], "lredirect"))) {
				ok = n >= 2;
				if (ok)
					add_cmd(r, f[0][0] == 'l' ? MP_LREDIRECT : MP_REDIRECT, f + 1, n - 1, 0);
			} else if (ok && !strcmp(f[0], "smtprelay")) {
				ok = n >= 2;
				if (ok)
					add_cmd(r, MP_SMTPRELAY, f + 1, n - 1, 0);
			} else if (ok && !strcmp(f[0], "smtp")) {
				ok = n == 1;
				if (ok)
					add_cmd(r, MP_SMTP, f + 1, 0, 0);
			} else if (ok && (!strcmp(f[0], "external") || !strcmp(f[0], "filter"))) {
				char *end;
				long t = n >= 4 ? strtol(f[2], &end, 10) : -1;
				ok = n >= 4 && !*end && t >= 0 && t <= 3600 && f[3][0] == '/';
				if (ok)
					add_cmd(r, MP_EXTERNAL, f + 3, n - 3, t ? (int)t : 60);
			} else {
				ok = false;
			}
			if (!ok) {
				if (bad_line_r)
					*bad_line_r = line;
				rc = -1;
				break;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	(void)save;
	free(copy);
	return rc;
}

int mailproc_load(int rootfd, const char *domain, const char *dir, struct mp_rules *r, int *bad_line_r)
{
	memset(r, 0, sizeof *r);
	char rel[2][700];
	snprintf(rel[0], sizeof rel[0], "domains/%s/mailproc.tab", domain);
	snprintf(rel[1], sizeof rel[1], "domains/%s/%s/mailproc.tab", domain, dir);
	bool any = false;
	for (int i = 0; i < 2; i++) {
		struct buf b = BUF_INIT;
		if (fs_read_all_at(rootfd, rel[i], 1 << 20, &b) < 0) {
			buf_free(&b);
			if (errno == ENOENT)
				continue;
			return -1;
		}
		any = true;
		int rc = mailproc_parse(b.data ? b.data : "", r, bad_line_r);
		buf_free(&b);
		if (rc < 0) {
			log_err("mailproc: %s: bad line %d", rel[i], bad_line_r ? *bad_line_r : 0);
			return -1;
		}
	}
	if (!any)
		add_cmd(r, MP_MAILBOX, NULL, 0, 0);
	return 0;
}

void mailproc_free(struct mp_rules *r)
{
	for (int i = 0; i < r->n; i++) {
		for (int j = 0; j < r->cmd[i].argc; j++)
			free(r->cmd[i].argv[j]);
		free(r->cmd[i].argv);
	}
	free(r->cmd);
	memset(r, 0, sizeof *r);
}

int mailproc_run(char *const argv[], int stdin_fd, int timeout_sec)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* child: message on stdin, nothing else inherited */
		dup2(stdin_fd, 0);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		setsid();
		execv(argv[0], argv);
		_exit(127);
	}
	time_t deadline = time(NULL) + timeout_sec;
	int status;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -1;
		if (time(NULL) >= deadline) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			log_err("mailproc: %s killed after %d s", argv[0], timeout_sec);
			return -1;
		}
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}
