/*
 * ctrl_client - `tern ctrl`: the XMail controller protocol.
 *
 *   tern ctrl [options] COMMAND [ARG...]     run one controller command
 *   tern ctrl [options] --script FILE        run TAB-separated command lines
 *
 * Options: --host H (TERN_HOST, default 127.0.0.1), --port P (TERN_PORT,
 * default 6017), --user U (TERN_USER, default admin), --pass P (TERN_PASS;
 * asked on the terminal when missing), --tls (#!TLS upgrade), --ssl
 * (implicit TLS, e.g. port 6018), --clear (clear-text login instead of the
 * MD5 challenge), --continue-on-error. Listings go to stdout with one
 * leading dot removed; uploads (cfgfileset, custdomset, usersetmproc) are
 * read from stdin. Exit status: 0 success, 1 a command failed, 2 no
 * connection or login.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../../src/core/buf.h"
#include "../../src/core/client.h"
#include "../../src/core/secret.h"
#include "../../src/core/tabline.h"
#include "tern.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: tern ctrl [--host H] [--port P] [--user U] [--pass P] [--tls|--ssl] [--clear]\n"
		   "                 [--continue-on-error] (COMMAND [ARG...] | --script FILE)\n");
}

static void quote_into(struct buf *b, char **args, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(b, '\t');
		buf_putc(b, '"');
		for (const char *p = args[i]; *p; p++) {
			if (*p == '"')
				buf_putc(b, '\\');
			buf_putc(b, *p);
		}
		buf_putc(b, '"');
	}
	buf_puts(b, "\r\n");
}

static bool is_upload(const char *cmd)
{
	return !strcasecmp(cmd, "cfgfileset") || !strcasecmp(cmd, "custdomset") || !strcasecmp(cmd, "usersetmproc");
}

/* Run one already-encoded command line. Returns 0, 1 (error answer) or 2 (connection). */
static int run(struct client *c, const char *line, size_t len, const char *cmd, FILE *upload)
{
	struct buf r = BUF_INIT;
	int rc = 0;
	if (client_send(c, line, len) < 0 || client_read_line(c, &r, 1 << 20) < 0) {
		buf_free(&r);
		return 2;
	}
	if (!strncmp(r.data, "+00101", 6) && is_upload(cmd)) {
		struct buf up = BUF_INIT;
		char *l = NULL;
		size_t cap = 0;
		ssize_t n;
		while (upload && (n = getline(&l, &cap, upload)) >= 0) {
			while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
				n--;
			if (n && l[0] == '.')
				buf_putc(&up, '.');
			buf_append(&up, l, (size_t)n);
			buf_puts(&up, "\r\n");
		}
		free(l);
		buf_puts(&up, ".\r\n");
		if (client_send(c, up.data, up.len) < 0 || client_read_line(c, &r, 1 << 20) < 0) {
			buf_free(&up);
			buf_free(&r);
			return 2;
		}
		buf_free(&up);
	}
	if (!strncmp(r.data, "+00100", 6)) {
		struct buf l = BUF_INIT;
		for (;;) {
			if (client_read_line(c, &l, 1 << 20) < 0) {
				rc = 2;
				break;
			}
			if (l.len == 1 && l.data[0] == '.')
				break;
			const char *p = l.data ? l.data : "";
			fputs(p[0] == '.' ? p + 1 : p, stdout);
			fputc('\n', stdout);
		}
		buf_free(&l);
	} else if (r.data[0] == '-') {
		fprintf(stderr, "%s\n", r.data);
		rc = 1;
	}
	buf_free(&r);
	return rc;
}

int ctrl_main(int argc, char **argv)
{
	const char *host = getenv("TERN_HOST") ? getenv("TERN_HOST") : "127.0.0.1";
	const char *port = getenv("TERN_PORT") ? getenv("TERN_PORT") : "6017";
	const char *user = getenv("TERN_USER") ? getenv("TERN_USER") : "admin";
	const char *pass = getenv("TERN_PASS");
	const char *script = NULL;
	bool tls = false, ssl = false, clear = false, keep_going = false;
	int i = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
		const char *o = argv[i];
		bool has = i + 1 < argc;
		if (!strcmp(o, "--host") && has)
			host = argv[++i];
		else if (!strcmp(o, "--port") && has)
			port = argv[++i];
		else if (!strcmp(o, "--user") && has)
			user = argv[++i];
		else if (!strcmp(o, "--pass") && has)
			pass = argv[++i];
		else if (!strcmp(o, "--script") && has)
			script = argv[++i];
		else if (!strcmp(o, "--tls"))
			tls = true;
		else if (!strcmp(o, "--ssl"))
			ssl = true;
		else if (!strcmp(o, "--clear"))
			clear = true;
		else if (!strcmp(o, "--continue-on-error"))
			keep_going = true;
		else {
			usage(stderr);
			return 2;
		}
	}
	if (!script && i >= argc) {
		usage(stderr);
		return 2;
	}
	char typed[256] = "";
	if (!pass) {
		tern_ask_password("password: ", typed, sizeof typed);
		pass = typed;
	}
	struct client c;
	if (client_connect(&c, host, port, 60) < 0) {
		fprintf(stderr, "tern: cannot connect to %s port %s\n", host, port);
		return 2;
	}
	int rc = 0;
	struct buf r = BUF_INIT;
	struct buf line = BUF_INIT, greet = BUF_INIT;
	/* The server's certificate is self-signed by default; certificate
	 * checks come with the full client. */
	if ((ssl && client_start_tls(&c) < 0) || client_read_line(&c, &greet, 1 << 20) < 0 || greet.data[0] != '+') {
		fprintf(stderr, "tern: no controller greeting from %s: %s\n", host, greet.data ? greet.data : "");
		rc = 2;
		goto out;
	}
	if (tls) {
		if (client_send(&c, "#!TLS\r\n", 7) < 0 || client_read_line(&c, &line, 1 << 20) < 0 || line.data[0] != '+' ||
		    client_start_tls(&c) < 0) {
			fprintf(stderr, "tern: TLS upgrade failed\n");
			rc = 2;
			goto out;
		}
	}
	char *ts0 = strchr(greet.data, '<'), *ts1 = ts0 ? strchr(ts0, '>') : NULL;
	buf_reset(&line);
	char *login[2] = {(char *)user, (char *)pass};
	char digest[34];
	if (!clear && ts0 && ts1) {
		struct buf in = BUF_INIT;
		buf_append(&in, ts0, (size_t)(ts1 - ts0 + 1));
		buf_puts(&in, pass);
		digest[0] = '#';
		secret_md5_hex(in.data, in.len, digest + 1);
		buf_free(&in);
		login[1] = digest;
	}
	quote_into(&line, login, 2);
	if (client_send(&c, line.data, line.len) < 0 || client_read_line(&c, &r, 1 << 20) < 0 || strncmp(r.data, "+00000", 6)) {
		fprintf(stderr, "tern: login failed: %s\n", r.data ? r.data : "connection closed");
		rc = 2;
		goto out;
	}
	if (script) {
		FILE *f = strcmp(script, "-") ? fopen(script, "r") : stdin;
		if (!f) {
			fprintf(stderr, "tern: %s: %s\n", script, strerror(errno));
			rc = 2;
			goto out;
		}
		char *l = NULL;
		size_t cap = 0;
		ssize_t n;
		int lineno = 0;
		while ((n = getline(&l, &cap, f)) >= 0) {
			lineno++;
			while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
				l[--n] = '\0';
			if (!n || l[0] == '#')
				continue;
			char *copy = strdup(l), *f0[2];
			int k = tab_split(copy, f0, 1);
			char cmd[64] = "";
			if (k >= 1 || k == TAB_TOO_MANY)
				snprintf(cmd, sizeof cmd, "%s", k >= 1 ? f0[0] : "");
			free(copy);
			if (is_upload(cmd)) {
				fprintf(stderr, "tern: %s:%d: uploads are not supported in scripts\n", script, lineno);
				rc = 1;
				if (!keep_going)
					break;
				continue;
			}
			buf_reset(&line);
			buf_append(&line, l, (size_t)n);
			buf_puts(&line, "\r\n");
			int r1 = run(&c, line.data, line.len, cmd, NULL);
			if (r1)
				fprintf(stderr, "tern: %s:%d: command failed\n", script, lineno);
			if (r1)
				rc = r1;
			if (r1 == 2 || (r1 && !keep_going))
				break;
		}
		free(l);
		if (f != stdin)
			fclose(f);
		if (rc == 2)
			goto out;
	} else {
		buf_reset(&line);
		quote_into(&line, argv + i, argc - i);
		rc = run(&c, line.data, line.len, argv[i], stdin);
	}
	client_send(&c, "\"quit\"\r\n", 8);
	client_read_line(&c, &r, 1 << 20);
out:
	buf_free(&r);
	buf_free(&line);
	buf_free(&greet);
	client_close(&c);
	return rc;
}
