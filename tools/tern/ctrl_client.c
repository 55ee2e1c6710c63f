/*
 * ctrl_client - `tern ctrl`: the XMail controller protocol (port 6017).
 *
 *   tern ctrl [options] COMMAND [ARG...]   one command; a listing goes to
 *                                          stdout (one leading dot removed),
 *                                          an error answer to stderr, an
 *                                          upload is read from stdin
 *   tern ctrl [options] --script FILE      TAB-separated command lines
 *   tern ctrl [options] --stdin            the same, read from stdin
 *   tern ctrl [options]                    on a terminal: a session at a
 *                                          "ctrl> " prompt; a line is words
 *                                          (spaces, "quoted" words) or, with
 *                                          TABs, a controller line as is
 *
 * Script lines are sent as written (XMail's quoting rules); '#' comments
 * and blank lines are skipped. Output is a transcript ("ctrl> " and the
 * line, then the answer as on the wire) or, with --json, one JSON object
 * per command: command (passwords masked), line, status, code, message,
 * data, rows (the same keys as the CLI mode's objects, with code instead
 * of the contexts).
 *
 * Guarded commands (ctrl_table.c: deletions and uploads) run from a
 * script only with --yes: without it the whole script is refused before
 * connecting. A guarded command given on the command line asks on the
 * terminal, or needs --yes without one (and with --json).
 * Exit status: 0 all ok, 1 a command failed or was refused, 2 no
 * connection or login, or the connection was lost.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/buf.h"
#include "tern.h"


static void usage(FILE *f)
{
	fprintf(f,
		"usage: tern ctrl [options] COMMAND [ARG...]   run one controller command\n"
		"       tern ctrl [options] --script FILE      run the TAB-separated command lines of FILE\n"
		"       tern ctrl [options] --stdin            run the command lines read from stdin\n"
		"       tern ctrl [options]                    (on a terminal) an interactive session: words\n"
		"                                              separated by spaces, \"quoted\" words, or TABs\n"
		"connection: --host H --port P --user U --pass P (env TERN_*/AXIGEN_* HOST, PORT, USER, PASS;\n"
		"            defaults 127.0.0.1, 6017 or 6018 with --ssl, admin, asked on the terminal)\n"
		"            --clear (clear-text login instead of the MD5 challenge)\n"
		"TLS:        --ssl (implicit TLS, the CTRLS port; env AXIGEN_SSL)\n"
		"            --tls (#!TLS upgrade on the plain port)\n"
		"            --ssl-allow-self-signed (env AXIGEN_SSL_ALLOW_SELF_SIGNED)\n"
		"            --ssl-allow-expired (env AXIGEN_SSL_ALLOW_EXPIRED) --ca FILE\n"
		"output:     a transcript (scripts) or the listing (one command); --json: one object per command\n"
		"            {command, line, status, code, message, data, rows}\n"
		"            --continue-on-error (run the rest of a script after a failure)\n"
		"            --yes (run deleting/overwriting commands without asking: ");
	ctrl_print_guarded(f);
	fprintf(f, ")\n"
		   "uploads (cfgfileset, custdomset, usersetmproc) read the file from stdin (one command only)\n"
		   "exit status: 0 ok, 1 a command failed or was refused, 2 no connection or login, or connection lost\n");
}

struct ctrl_opts {
	struct ctrl_conn_opts conn;
	bool json, keep_going, yes, from_stdin, interactive;
	const char *script;
	char **args;
	int nargs;
};

struct job {
	char *line; /* as sent, without CR LF */
	int lineno; /* 0: from the command line */
};

/* ---- fields, masking ---- */

/* The line to print: the fields as written, passwords as "***". */
static void shown_line(char **raw, int n, const struct ctrl_info *ci, struct buf *out)
{
	buf_reset(out);
	for (int i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '\t');
		if (i < 32 && (ci->secret_args & (1u << i)))
			buf_puts(out, raw[i][0] == '"' ? "\"***\"" : "***");
		else
			buf_puts(out, raw[i]);
	}
}

/* Encode command-line arguments as one controller line. */
static char *encode_args(char **args, int n)
{
	struct buf b = BUF_INIT;
	for (int i = 0; i < n; i++) {
		const char *v = args[i];
		size_t len = strlen(v);
		if (i)
			buf_putc(&b, '\t');
		if (len && v[len - 1] == '\\' && v[0] != '"') {
			buf_puts(&b, v); /* a closing quote after it would be escaped */
			continue;
		}
		buf_putc(&b, '"');
		for (const char *p = v; *p; p++) {
			if (*p == '"')
				buf_putc(&b, '\\');
			buf_putc(&b, *p);
		}
		buf_putc(&b, '"');
	}
	char *s = strdup(b.data ? b.data : "");
	buf_free(&b);
	if (!s)
		abort();
	return s;
}

/* ---- the interactive session ---- */

/* A line typed without TABs: words separated by spaces, "double quotes"
 * group words (\" and \\ inside them). Returns the number of words or -1
 * for an open quote. */
static int split_words(const char *line, char ***words_r)
{
	char **w = calloc(strlen(line) / 2 + 2, sizeof *w);
	int n = 0;
	const char *p = line;
	if (!w)
		abort();
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		struct buf b = BUF_INIT;
		buf_puts(&b, ""); /* an empty "" is a word too */
		bool quoted = false;
		for (; *p && (quoted || *p != ' '); p++) {
			if (*p == '"')
				quoted = !quoted;
			else if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				buf_putc(&b, *++p);
			else
				buf_putc(&b, *p);
		}
		w[n++] = strdup(b.data);
		tern_wipe(b.data, b.len);
		buf_free(&b);
		if (!w[n - 1])
			abort();
		if (quoted) {
			for (int i = 0; i < n; i++)
				free(w[i]);
			free(w);
			return -1;
		}
	}
	*words_r = w;
	return n;
}

/* The next line typed at the "ctrl> " prompt, as a controller line (a line
 * with TABs is taken as written); NULL at the end of input. */
static char *typed_line(void)
{
	char *l = NULL;
	size_t cap = 0;
	for (;;) {
		printf("ctrl> ");
		fflush(stdout);
		ssize_t n = getline(&l, &cap, stdin);
		if (n < 0) {
			printf("\n");
			free(l);
			return NULL;
		}
		while (n && (l[n - 1] == '\n' || l[n - 1] == '\r'))
			l[--n] = '\0';
		if (ctrl_skip_line(l))
			continue;
		if (strchr(l, '\t'))
			return l;
		char **w;
		int k = split_words(l, &w);
		tern_wipe(l, (size_t)n);
		if (k < 0) {
			printf("(not sent: a quote is not closed)\n");
			continue;
		}
		char *enc = encode_args(w, k);
		for (int i = 0; i < k; i++) {
			tern_wipe(w[i], strlen(w[i]));
			free(w[i]);
		}
		free(w);
		free(l);
		return enc;
	}
}

/* ---- the run ---- */

static bool confirm(const struct ctrl_opts *o, const char *shown, const struct ctrl_info *ci)
{
	if (o->yes)
		return true;
	if (o->json)
		return false;
	char q[1400];
	snprintf(q, sizeof q, "tern: %s: %s. Run it?", shown, ci->guard);
	return tern_confirm(q);
}

static int read_jobs(struct ctrl_opts *o, struct job **jobs_r, int *n_r)
{
	const char *src = o->script ? o->script : "stdin";
	char **lines;
	int nlines;
	*jobs_r = NULL;
	*n_r = 0;
	if (o->interactive)
		return 0;
	if (!o->script && !o->from_stdin) {
		struct job *j = calloc(1, sizeof *j);
		if (!j)
			abort();
		j->line = encode_args(o->args, o->nargs);
		*jobs_r = j;
		*n_r = 1;
		return 0;
	}
	if (tern_read_lines(o->script ? o->script : "-", &lines, &nlines) < 0) {
		fprintf(stderr, "tern: %s: %s\n", src, strerror(errno));
		return -1;
	}
	struct job *v = calloc((size_t)nlines + 1, sizeof *v);
	if (!v)
		abort();
	int n = 0;
	for (int i = 0; i < nlines; i++) {
		if (ctrl_skip_line(lines[i])) {
			free(lines[i]);
			continue;
		}
		v[n++] = (struct job){lines[i], i + 1};
	}
	free(lines);
	*jobs_r = v;
	*n_r = n;
	return 0;
}

static void free_jobs(struct job *v, int n)
{
	for (int i = 0; i < n; i++) {
		tern_wipe(v[i].line, strlen(v[i].line));
		free(v[i].line);
	}
	free(v);
}

/* Refuse a script with guarded commands before connecting, naming every line. */
static int precheck(const struct ctrl_opts *o, const struct job *v, int n)
{
	const char *src = o->script ? o->script : "stdin";
	int bad = 0;
	for (int i = 0; i < n; i++) {
		char *raw[CTRL_FIELDS_MAX], *val[CTRL_FIELDS_MAX];
		int k = ctrl_split(v[i].line, raw, val, CTRL_FIELDS_MAX);
		struct ctrl_info ci;
		ctrl_classify(val, k, &ci);
		if (ci.guard) {
			fprintf(stderr, "tern: %s:%d: %s: %s\n", src, v[i].lineno, ci.name, ci.guard);
			bad++;
		}
		ctrl_split_free(raw, val, k);
	}
	if (bad)
		fprintf(stderr, "tern: %s has commands that delete or overwrite; nothing was run (use --yes)\n", src);
	return bad ? -1 : 0;
}

static int run_jobs(struct ctrl_opts *o, struct job *v, int n)
{
	const char *src = o->script ? o->script : "stdin";
	bool scripted = o->script || o->from_stdin;
	struct client c;
	memset(&c, 0, sizeof c);
	c.fd = -1;
	if (ctrl_open(&c, &o->conn) < 0) {
		client_close(&c);
		return 2;
	}
	int rc = 0;
	bool open = true;
	struct buf shown = BUF_INIT, wire = BUF_INIT;
	struct job one = {NULL, 0};
	for (int i = 0; (o->interactive || i < n) && open; i++) {
		if (o->interactive) {
			if (one.line)
				tern_wipe(one.line, strlen(one.line));
			free(one.line);
			if (!(one.line = typed_line()))
				break;
			v = &one;
			i = 0;
		}
		char *raw[CTRL_FIELDS_MAX], *val[CTRL_FIELDS_MAX];
		int k = ctrl_split(v[i].line, raw, val, CTRL_FIELDS_MAX);
		struct ctrl_info ci;
		ctrl_classify(val, k, &ci);
		shown_line(raw, k, &ci, &shown);
		const char *shown_s = shown.data ? shown.data : "";
		const char *local_err = NULL;
		if (ci.guard && !scripted && !confirm(o, shown_s, &ci))
			local_err = "refused: this command deletes or overwrites (use --yes)";
		else if (ci.upload && (scripted || o->interactive))
			local_err = "uploads cannot run from a script or a session (run the command alone, with the file "
				    "on stdin)";
		struct ctrl_reply r;
		memset(&r, 0, sizeof r);
		int x = 0;
		if (!local_err) {
			buf_reset(&wire);
			buf_puts(&wire, v[i].line);
			buf_puts(&wire, "\r\n");
			x = ctrl_exchange(&c, wire.data, wire.len, scripted ? NULL : stdin, &r);
			tern_wipe(wire.data, wire.len);
		}
		if (o->json)
			ctrl_print_json(shown_s, v[i].lineno, &r, &ci, local_err);
		else if (scripted || o->interactive)
			ctrl_print_transcript(o->interactive ? NULL : shown_s, &r, local_err);
		else
			ctrl_print_plain(&r, local_err);
		ctrl_split_free(raw, val, k);
		if (x < 0) {
			if (scripted)
				fprintf(stderr, "tern: %s:%d: %s; the later lines were not run\n", src, v[i].lineno,
					r.message);
			ctrl_reply_free(&r);
			rc = 2;
			open = false;
			break;
		}
		bool failed = local_err || !r.ok;
		if (failed) {
			rc = 1;
			if (scripted)
				fprintf(stderr, "tern: %s:%d: command failed: %s%s%s\n", src, v[i].lineno,
					local_err ? "" : r.code, local_err ? "" : " ", local_err ? local_err : r.message);
		}
		if (!failed && ci.name && !strcmp(ci.name, "quit")) {
			open = false; /* the server has closed */
			if (i + 1 < n)
				fprintf(stderr, "tern: %s:%d: quit; the lines after it were not run\n", src, v[i].lineno);
		}
		ctrl_reply_free(&r);
		if (failed && !o->keep_going && !o->interactive)
			break;
	}
	if (o->interactive && one.line) {
		tern_wipe(one.line, strlen(one.line));
		free(one.line);
	}
	buf_free(&shown);
	buf_free(&wire);
	ctrl_close(&c, open);
	return rc;
}

int ctrl_main(int argc, char **argv)
{
	struct ctrl_opts o;
	memset(&o, 0, sizeof o);
	o.conn.host = tern_env2("TERN_HOST", "AXIGEN_HOST");
	o.conn.port = tern_env2("TERN_PORT", "AXIGEN_PORT");
	o.conn.user = tern_env2("TERN_USER", "AXIGEN_USER");
	o.conn.pass = tern_env2("TERN_PASS", "AXIGEN_PASS");
	o.conn.ssl = tern_env_true("AXIGEN_SSL");
	o.conn.tlsv.allow_self_signed = tern_env_true("AXIGEN_SSL_ALLOW_SELF_SIGNED");
	o.conn.tlsv.allow_expired = tern_env_true("AXIGEN_SSL_ALLOW_EXPIRED");
	bool ssl_opt = false;
	int i = 0;
	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (!strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--host") && has) {
			o.conn.host = argv[++i];
		} else if (!strcmp(a, "--port") && has) {
			o.conn.port = argv[++i];
		} else if (!strcmp(a, "--user") && has) {
			o.conn.user = argv[++i];
		} else if (!strcmp(a, "--pass") && has) {
			o.conn.pass = argv[++i];
		} else if (!strcmp(a, "--ca") && has) {
			o.conn.tlsv.ca_file = argv[++i];
		} else if (!strcmp(a, "--script") && has) {
			o.script = argv[++i];
		} else if (!strcmp(a, "--stdin")) {
			o.from_stdin = true;
		} else if (!strcmp(a, "--ssl")) {
			o.conn.ssl = ssl_opt = true;
		} else if (!strcmp(a, "--tls")) {
			o.conn.tls = true;
		} else if (!strcmp(a, "--ssl-allow-self-signed")) {
			o.conn.tlsv.allow_self_signed = true;
		} else if (!strcmp(a, "--ssl-allow-expired")) {
			o.conn.tlsv.allow_expired = true;
		} else if (!strcmp(a, "--clear")) {
			o.conn.clear = true;
		} else if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "--continue-on-error")) {
			o.keep_going = true;
		} else if (!strcmp(a, "--yes")) {
			o.yes = true;
		} else {
			fprintf(stderr, "tern ctrl: unknown option or missing value: %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	o.args = argv + i;
	o.nargs = argc - i;
	if (o.conn.tls && !ssl_opt)
		o.conn.ssl = false; /* --tls given wins over AXIGEN_SSL */
	int sources = (o.nargs > 0) + (o.script != NULL) + o.from_stdin;
	if (!sources && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		o.interactive = true;
		sources = 1;
	}
	if (sources != 1 || (o.conn.tls && o.conn.ssl)) {
		if (o.conn.tls && o.conn.ssl)
			fprintf(stderr, "tern ctrl: --tls (upgrade on the plain port) and --ssl (TLS port) exclude each other\n");
		usage(stderr);
		return 2;
	}
	if (!o.conn.host)
		o.conn.host = "127.0.0.1";
	if (!o.conn.port)
		o.conn.port = o.conn.ssl ? "6018" : "6017";
	if (!o.conn.user)
		o.conn.user = "admin";

	struct job *jobs;
	int njobs;
	if (read_jobs(&o, &jobs, &njobs) < 0)
		return 2;
	if ((o.script || o.from_stdin) && !o.yes && precheck(&o, jobs, njobs) < 0) {
		free_jobs(jobs, njobs);
		return 1;
	}
	char typed[512] = "";
	if (!o.conn.pass) {
		char prompt[300];
		snprintf(prompt, sizeof prompt, "Password for %s@%s: ", o.conn.user, o.conn.host);
		if (!tern_ask_password(prompt, typed, sizeof typed)) {
			fprintf(stderr, "tern: no password (--pass, TERN_PASS or AXIGEN_PASS, or a terminal)\n");
			free_jobs(jobs, njobs);
			return 2;
		}
		o.conn.pass = typed;
	}
	int rc = run_jobs(&o, jobs, njobs);
	tern_wipe(typed, sizeof typed);
	free_jobs(jobs, njobs);
	return rc;
}
