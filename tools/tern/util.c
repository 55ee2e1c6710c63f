/*
 * util - the terminal and the environment for the tern client.
 *
 * Passwords are read from /dev/tty with echo off, so that a script piped
 * to stdin (--stdin) still gets a prompt, and are never printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "tern.h"

void tern_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static bool tty_line(const char *prompt, char *out, size_t sz, bool echo)
{
	out[0] = '\0';
	if (!isatty(STDIN_FILENO) && !isatty(STDERR_FILENO))
		return false;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct termios old, quiet;
	bool restore = false;
	if (!echo && tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(fd, TCSANOW, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		/* the prompt is a courtesy */
	}
	size_t n = 0;
	bool got = false;
	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got = true;
		if (ch == '\n' || ch == '\r')
			break;
		if (n + 1 < sz)
			out[n++] = ch;
	}
	out[n] = '\0';
	if (restore)
		tcsetattr(fd, TCSANOW, &old);
	close(fd);
	return got;
}

bool tern_ask_password(const char *prompt, char *out, size_t sz)
{
	return tty_line(prompt, out, sz, false);
}

bool tern_confirm(const char *question)
{
	char q[1024], a[16];
	snprintf(q, sizeof q, "%s [y/N] ", question);
	if (!tty_line(q, a, sizeof a, true))
		return false;
	return !strcasecmp(a, "y") || !strcasecmp(a, "yes");
}

bool tern_env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"));
}

const char *tern_env2(const char *a, const char *b)
{
	const char *v = getenv(a);
	if (v && *v)
		return v;
	v = b ? getenv(b) : NULL;
	return v && *v ? v : NULL;
}

int tern_read_lines(const char *path, char ***lines_r, int *n_r)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	*lines_r = NULL;
	*n_r = 0;
	if (!f)
		return -1;
	char **v = NULL;
	int n = 0, cap = 0;
	char *l = NULL;
	size_t lcap = 0;
	ssize_t len;
	while ((len = getline(&l, &lcap, f)) >= 0) {
		while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
			l[--len] = '\0';
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nv = realloc(v, (size_t)cap * sizeof *v);
			if (!nv)
				abort();
			v = nv;
		}
		v[n] = strdup(l);
		if (!v[n])
			abort();
		n++;
	}
	free(l);
	if (f != stdin)
		fclose(f);
	*lines_r = v;
	*n_r = n;
	return 0;
}

void tern_free_lines(char **lines, int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

void tern_lines_add(struct tern_lines *l, const char *p, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 32;
		char **nv = realloc(l->v, (size_t)l->cap * sizeof *nv);
		if (!nv)
			abort();
		l->v = nv;
	}
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	l->v[l->n++] = s;
}

void tern_lines_free(struct tern_lines *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}
