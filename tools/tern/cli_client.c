/*
 * cli_client - the tern client's side of the hierarchical CLI (port 7000).
 *
 * A session: connect (implicit TLS with --ssl), read the banner up to the
 * "<login> " prompt, optionally GET VERSION, "USER name", the "<password> "
 * prompt, the password, "+OK: Authentication successful" and the "<#> "
 * prompt. Then every command is sent as one line, and its reply is every
 * line up to the next prompt ("<...> " at the start of a line, without a
 * line end) or the end of the connection (EXIT/QUIT): data lines, then
 * one "+OK: ..." or "-ERR: ..." status line.
 *
 * Script lines may also be a transcript: '#' comments, blank lines and
 * "+OK"/"-ERR" lines are skipped and a leading "<ctx#> " prompt is removed.
 *
 * Output: a transcript (prompt, command, reply) or, with --json, one JSON
 * object per command (JSON lines). Destructive commands (the table's
 * CLI_DESTRUCTIVE flag, in the context the prompt names) from a script or
 * stdin run only with --yes; from the command line they are confirmed on
 * the terminal, or need --yes without one. Secret arguments (the table's
 * secret flag) are masked in everything the client prints.
 * Without commands on a terminal the session is interactive: the prompt,
 * a line typed, its reply, until EXIT or end of input; a failed command
 * does not end it.
 * Exit status: 0 all ok, 1 a command failed or was refused, 2 no
 * connection or login.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/cli/cli.h"
#include "../../src/cli/cli_export.h"
#include "../../src/core/buf.h"
#include "tern.h"

#define MAX_REPLY (64u << 20)

struct session {
	struct client c;
	char prompt[256]; /* the last prompt without its trailing space, e.g. "<domain#>" */
	bool closed;
};

/* Is the unterminated text p[0..n) a prompt? */
static bool is_prompt(const char *p, size_t n)
{
	return n >= 3 && n < 256 && p[0] == '<' && p[n - 1] == ' ' && p[n - 2] == '>' && !memchr(p, '\n', n);
}

/* Read reply lines until a prompt (0), the end of the connection (1) or
 * an error (-1). */
static int read_reply(struct session *s, struct tern_lines *out)
{
	struct buf *in = &s->c.in;
	size_t total = 0;
	for (;;) {
		char *lf;
		while (in->len && (lf = memchr(in->data, '\n', in->len))) {
			size_t len = (size_t)(lf - in->data), keep = len;
			while (keep && in->data[keep - 1] == '\r')
				keep--;
			tern_lines_add(out, in->data, keep);
			buf_consume(in, len + 1);
		}
		if (in->len && is_prompt(in->data, in->len)) {
			snprintf(s->prompt, sizeof s->prompt, "%.*s", (int)(in->len - 1), in->data);
			buf_consume(in, in->len);
			return 0;
		}
		if (total > MAX_REPLY)
			return -1;
		char chunk[16384];
		ssize_t n = s->c.ssl ? SSL_read(s->c.ssl, chunk, sizeof chunk) : recv(s->c.fd, chunk, sizeof chunk, 0);
		if (n <= 0) {
			if (in->len) {
				tern_lines_add(out, in->data, in->len);
				buf_consume(in, in->len);
			}
			s->closed = true;
			return 1;
		}
		total += (size_t)n;
		buf_append(in, chunk, (size_t)n);
	}
}

static int send_line(struct session *s, const char *line)
{
	struct buf b = BUF_INIT;
	buf_puts(&b, line);
	buf_puts(&b, "\r\n");
	int r = client_send(&s->c, b.data, b.len);
	tern_wipe(b.data, b.len);
	buf_free(&b);
	return r;
}

/* The context a prompt names; root when unknown. */
static enum cli_ctx prompt_ctx(const char *prompt)
{
	char path[256];
	size_t n = strlen(prompt);
	enum cli_ctx c = CLI_CTX_ROOT;
	if (n >= 2 && prompt[0] == '<' && prompt[n - 1] == '>') {
		size_t end = n - 1;
		if (end > 1 && prompt[end - 1] == '#')
			end--;
		snprintf(path, sizeof path, "%.*s", (int)(end - 1), prompt + 1);
		cli_export_ctx_by_path(path, &c);
	}
	return c;
}

/* What a command line is, by the server's table: its command (or NULL)
 * and the line to print with secret arguments masked. */
static const struct cli_cmd *classify(enum cli_ctx cx, const char *line, struct buf *shown)
{
	char *copy = strdup(line);
	struct cli_tokens t;
	const struct cli_cmd *cmd = NULL;
	buf_reset(shown);
	buf_puts(shown, line);
	if (!copy)
		abort();
	if (cli_tokenize(copy, &t) == CLI_TOK_OK && t.n > 0) {
		int nw;
		enum cli_match why;
		cmd = cli_match(cx, &t, &nw, &why);
		struct cli_parsed p;
		if (cmd && !(cmd->flags & CLI_LATER) && cli_args_parse(cmd, &t, nw, &p) == CLI_ARGS_OK) {
			bool any = false;
			for (int i = 0; i < t.n; i++)
				any |= p.secret[i];
			if (any) {
				buf_reset(shown);
				for (int i = 0; i < t.n; i++) {
					if (i)
						buf_putc(shown, ' ');
					if (p.secret[i])
						buf_puts(shown, "***");
					else if (t.lit[i] || strpbrk(t.v[i], " \t\"'\\") || !t.v[i][0]) {
						buf_putc(shown, '"');
						for (const char *q = t.v[i]; *q; q++) {
							if (*q == '"' || *q == '\\')
								buf_putc(shown, '\\');
							buf_putc(shown, *q);
						}
						buf_putc(shown, '"');
					} else
						buf_puts(shown, t.v[i]);
				}
			}
		}
	}
	tern_wipe(copy, strlen(copy));
	free(copy);
	return cmd;
}

/* ---- replies ---- */

struct reply {
	struct tern_lines l;
	int status; /* index of the status line, -1 if none */
	bool ok;
};

static void reply_parse(struct reply *r)
{
	r->status = -1;
	r->ok = false;
	for (int i = r->l.n - 1; i >= 0; i--) {
		const char *p = r->l.v[i];
		if (!strncmp(p, "+OK", 3) || !strncmp(p, "-ERR", 4)) {
			r->status = i;
			r->ok = p[0] == '+';
			break;
		}
	}
}

static const char *status_message(const char *st)
{
	const char *m = st + (st[0] == '+' ? 3 : 4);
	if (*m == ':')
		m++;
	while (*m == ' ')
		m++;
	return m;
}

static void trim(const char **p, size_t *n)
{
	while (*n && isspace((unsigned char)**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

/* Split a table line into at most ncols cells: on '|' when the header
 * uses " | ", else on runs of spaces (the last cell takes the rest). */
static int split_cells(const char *line, bool pipes, int ncols, const char **cell, size_t *len)
{
	int k = 0;
	const char *p = line;
	if (ncols == 1 || !*line) {
		cell[0] = line;
		len[0] = strlen(line);
		trim(&cell[0], &len[0]);
		return 1;
	}
	while (k < ncols) {
		const char *end;
		if (k == ncols - 1)
			end = p + strlen(p);
		else if (pipes)
			end = strchr(p, '|');
		else {
			while (*p == ' ')
				p++;
			end = strchr(p, ' ');
		}
		if (!end)
			end = p + strlen(p);
		cell[k] = p;
		len[k] = (size_t)(end - p);
		trim(&cell[k], &len[k]);
		k++;
		if (!*end)
			break;
		p = end + 1;
	}
	return k;
}

static void json_rows(FILE *f, char **data, int n)
{
	int dash = -1;
	for (int i = 1; i < n && dash < 0; i++) {
		const char *p = data[i];
		size_t k = strspn(p, "-");
		if (k >= 6 && p[k] == '\0')
			dash = i;
	}
	if (dash < 0) {
		fputs("null", f);
		return;
	}
	const char *hdr = data[dash - 1];
	bool pipes = strstr(hdr, " | ") != NULL;
	const char *hc[32], *rc[32];
	size_t hl[32], rl[32];
	int ncols = 0;
	/* count the columns */
	{
		const char *p = hdr;
		ncols = 1;
		if (pipes) {
			for (; *p; p++)
				ncols += *p == '|';
		} else {
			bool word = false;
			ncols = 0;
			for (; *p; p++) {
				if (*p != ' ' && !word)
					ncols++;
				word = *p != ' ';
			}
			if (!ncols)
				ncols = 1;
		}
		if (ncols > 32)
			ncols = 32;
	}
	ncols = split_cells(hdr, pipes, ncols, hc, hl);
	fputc('[', f);
	bool first = true;
	for (int i = dash + 1; i < n && data[i][0]; i++) {
		int k = split_cells(data[i], pipes, ncols, rc, rl);
		fputs(first ? "{" : ",{", f);
		first = false;
		for (int j = 0; j < ncols; j++) {
			if (j)
				fputc(',', f);
			json_strn(f, hc[j], hl[j]);
			fputc(':', f);
			if (j < k)
				json_strn(f, rc[j], rl[j]);
			else
				fputs("\"\"", f);
		}
		fputc('}', f);
	}
	fputc(']', f);
}

static void print_json(FILE *f, const char *shown, int lineno, const char *before, const char *after,
		       const struct reply *r, const char *override_err)
{
	fputs("{\"command\":", f);
	json_str(f, shown);
	if (lineno > 0)
		fprintf(f, ",\"line\":%d", lineno);
	fputs(",\"context_before\":", f);
	json_str(f, before);
	fputs(",\"context_after\":", f);
	json_str(f, after && after[0] ? after : NULL); /* null: the session ended */
	bool ok = !override_err && r && r->ok;
	fprintf(f, ",\"status\":\"%s\",\"message\":", ok ? "ok" : "error");
	if (override_err)
		json_str(f, override_err);
	else if (r && r->status >= 0)
		json_str(f, status_message(r->l.v[r->status]));
	else
		json_str(f, "no status line (connection closed)");
	/* data: the lines before the status, without the framing empty lines */
	int a = 0, b = r ? (r->status >= 0 ? r->status : r->l.n) : 0;
	while (a < b && !r->l.v[a][0])
		a++;
	while (b > a && !r->l.v[b - 1][0])
		b--;
	fputs(",\"data\":[", f);
	for (int i = a; i < b; i++) {
		if (i > a)
			fputc(',', f);
		json_str(f, r->l.v[i]);
	}
	fputs("],\"rows\":", f);
	if (r && b > a)
		json_rows(f, r->l.v + a, b - a);
	else
		fputs("null", f);
	fputs("}\n", f);
	fflush(f);
}

static void print_transcript(const char *shown, const char *before, const struct reply *r, const char *override_err)
{
	if (shown)
		printf("%s %s\n", before, shown);
	if (override_err)
		printf("-ERR: %s\n", override_err);
	for (int i = 0; r && i < r->l.n; i++)
		printf("%s\n", r->l.v[i]);
	fflush(stdout);
}

/* ---- connection and login ---- */

static int open_session(struct session *s, struct cli_opts *o, struct tern_lines *banner)
{
	memset(s, 0, sizeof *s);
	if (client_connect(&s->c, o->host, o->port, 30) < 0) {
		fprintf(stderr, "tern: cannot connect to %s port %s\n", o->host, o->port);
		return -1;
	}
	if (o->ssl) {
		char err[512];
		if (tern_tls_start(&s->c, o->host, &o->tls, err, sizeof err) < 0) {
			fprintf(stderr, "tern: TLS with %s port %s: %s\n", o->host, o->port, err);
			return -1;
		}
	}
	if (read_reply(s, banner) != 0 || strcmp(s->prompt, "<login>") != 0) {
		fprintf(stderr, "tern: no CLI greeting from %s port %s\n", o->host, o->port);
		return -1;
	}
	return 0;
}

static int login(struct session *s, struct cli_opts *o)
{
	struct tern_lines l = {0};
	char line[300];
	snprintf(line, sizeof line, "USER %s", o->user);
	if (strpbrk(o->user, "\r\n") || send_line(s, line) < 0 || read_reply(s, &l) != 0 ||
	    strcmp(s->prompt, "<password>") != 0) {
		tern_lines_free(&l);
		fprintf(stderr, "tern: login failed: the server did not ask for a password\n");
		return -1;
	}
	tern_lines_free(&l);
	if (strpbrk(o->pass, "\r\n") || send_line(s, o->pass) < 0 || read_reply(s, &l) != 0) {
		tern_lines_free(&l);
		fprintf(stderr, "tern: login failed: connection closed\n");
		return -1;
	}
	struct reply r = {l, -1, false};
	reply_parse(&r);
	if (!r.ok || strcmp(s->prompt, "<login>") == 0) {
		fprintf(stderr, "tern: login failed: %s\n", r.status >= 0 ? r.l.v[r.status] : "no answer");
		tern_lines_free(&r.l);
		return -1;
	}
	tern_lines_free(&r.l);
	return 0;
}

static int get_version(struct session *s, struct cli_opts *o)
{
	struct tern_lines l = {0};
	if (send_line(s, "GET VERSION") < 0 || read_reply(s, &l) != 0) {
		tern_lines_free(&l);
		fprintf(stderr, "tern: GET VERSION: connection closed\n");
		return 2;
	}
	struct reply r = {l, -1, false};
	reply_parse(&r);
	const char *v = NULL;
	for (int i = 0; i < r.l.n && !v; i++) {
		const char *p = r.l.v[i];
		if (p[0] && strncmp(p, "+OK", 3) && strncmp(p, "-ERR", 4) && p[0] != '<')
			v = p;
	}
	int rc = r.ok && v ? 0 : 1;
	if (o->json) {
		print_json(stdout, "GET VERSION", 0, "<login>", s->prompt, &r, NULL);
	} else if (v) {
		printf("%s\n", v);
	} else {
		fprintf(stderr, "tern: GET VERSION: %s\n", r.status >= 0 ? r.l.v[r.status] : "no answer");
	}
	tern_lines_free(&r.l);
	return rc;
}

/* ---- commands ---- */

struct job {
	const char *line;
	int lineno;  /* 0: from the command line */
	char **text; /* multi-line input (ESET ...): its text lines, NULL: none given */
	int ntext;
};

/* A multi-line command (spec 6.8): the server answers "+OK: enter the
 * text..." without a prompt; then the text goes out dot-stuffed, then the
 * end marker, and the reply to that is the command's reply. A refusal
 * ("-ERR...", prompt) is an ordinary reply. Interactive sessions read the
 * text from the terminal up to the marker. */
static int multiline_exchange(struct session *s, const struct job *j, bool interactive, const char *eof,
			      struct tern_lines *out)
{
	struct buf *in = &s->c.in;
	while (!in->len || !memchr(in->data, '\n', in->len)) {
		char chunk[4096];
		ssize_t n = s->c.ssl ? SSL_read(s->c.ssl, chunk, sizeof chunk) : recv(s->c.fd, chunk, sizeof chunk, 0);
		if (n <= 0)
			return read_reply(s, out); /* reports the end of the connection */
		buf_append(in, chunk, (size_t)n);
	}
	if (strncmp(in->data, "+OK", 3) != 0)
		return read_reply(s, out);
	buf_consume(in, (size_t)((char *)memchr(in->data, '\n', in->len) - in->data) + 1);
	struct buf b = BUF_INIT;
	char *typed = NULL;
	size_t cap = 0;
	for (int i = 0;; i++) {
		const char *line;
		if (interactive) {
			ssize_t n = getline(&typed, &cap, stdin);
			if (n < 0)
				break;
			while (n && (typed[n - 1] == '\n' || typed[n - 1] == '\r'))
				typed[--n] = '\0';
			line = typed;
		} else {
			if (i >= j->ntext)
				break;
			line = j->text[i];
		}
		if (check_is_eof(line, eof))
			break;
		size_t n = strlen(line);
		while (n && line[n - 1] == '\r')
			n--;
		if (line[0] == '.')
			buf_putc(&b, '.');
		buf_append(&b, line, n);
		buf_puts(&b, "\r\n");
	}
	free(typed);
	buf_puts(&b, eof);
	buf_puts(&b, "\r\n");
	int r = client_send(&s->c, b.data, b.len);
	buf_free(&b);
	return r < 0 ? -1 : read_reply(s, out);
}

static bool allow_destructive(struct cli_opts *o, const struct job *j, const char *shown, const struct cli_cmd *cmd)
{
	if (o->yes)
		return true;
	if (j->lineno == 0 && !o->from_stdin && !o->json && (o->interactive || isatty(STDIN_FILENO))) {
		char q[1200];
		snprintf(q, sizeof q, "tern: %s is destructive (%s). Run it?", shown, cmd->help ? cmd->help : "");
		return tern_confirm(q);
	}
	return false;
}

int cli_client_main(struct cli_opts *o)
{
	struct job *jobs = NULL;
	int njobs = 0;
	char **lines = NULL;
	int nlines = 0;
	const char *src = o->script ? o->script : "stdin";
	if (o->script || o->from_stdin) {
		if (tern_read_lines(o->script ? o->script : "-", &lines, &nlines) < 0) {
			fprintf(stderr, "tern: %s: %s\n", src, strerror(errno));
			return 2;
		}
		/* Refuse the whole script before connecting if it holds
		 * destructive commands and --yes was not given. */
		if (!o->yes) {
			struct check_report rep = {0};
			check_lines(lines, nlines, &rep);
			int bad = 0;
			for (int i = 0; i < rep.n; i++)
				if (!strcmp(rep.v[i].code, "destructive")) {
					fprintf(stderr, "tern: %s:%d: %s\n", src, rep.v[i].line, rep.v[i].text);
					bad++;
				}
			check_report_free(&rep);
			if (bad) {
				fprintf(stderr, "tern: %s has destructive commands; nothing was run (use --yes)\n", src);
				tern_free_lines(lines, nlines);
				return 1;
			}
		}
		jobs = calloc((size_t)nlines + 1, sizeof *jobs);
		char eof[32] = ".";
		for (int i = 0; i < nlines; i++) {
			const char *p = lines[i];
			while (*p == ' ' || *p == '\t')
				p++;
			if (!*p || *p == '#' || !strncmp(p, "+OK", 3) || !strncmp(p, "-ERR", 4))
				continue;
			/* a transcript line: "<domain#> COMMIT" */
			const char *e = *p == '<' ? strstr(p, "#> ") : NULL;
			if (e && !memchr(p, '>', (size_t)(e - p))) {
				p = e + 3;
				while (*p == ' ')
					p++;
				if (!*p)
					continue;
			}
			jobs[njobs++] = (struct job){p, i + 1, NULL, 0};
			if (check_sets_eof(p, eof, sizeof eof))
				continue;
			if (!check_is_multiline(p))
				continue;
			/* the text lines, taken as they are, up to the marker */
			int k = i + 1;
			while (k < nlines && !check_is_eof(lines[k], eof))
				k++;
			if (k >= nlines) {
				fprintf(stderr, "tern: %s:%d: the text of this command is not ended by a line holding only '%s'\n",
					src, i + 1, eof);
				free(jobs);
				tern_free_lines(lines, nlines);
				return 2;
			}
			jobs[njobs - 1].text = &lines[i + 1];
			jobs[njobs - 1].ntext = k - i - 1;
			i = k;
		}
	} else {
		jobs = calloc((size_t)o->ncommands + 1, sizeof *jobs);
		for (int i = 0; i < o->ncommands; i++)
			jobs[njobs++] = (struct job){o->commands[i], 0, NULL, 0};
	}
	if (!jobs)
		abort();

	struct session s;
	struct tern_lines banner = {0};
	int rc = 0;
	if (open_session(&s, o, &banner) < 0) {
		rc = 2;
		goto out;
	}
	if (o->get_version) {
		rc = get_version(&s, o);
		goto bye;
	}
	if (login(&s, o) < 0) {
		rc = 2;
		goto out;
	}
	struct buf shown = BUF_INIT;
	char eof[32] = "."; /* the session's multilineEOF */
	bool quit = false;
	char *typed = NULL;
	size_t typed_cap = 0;
	for (int i = 0; !quit; i++) {
		const struct job *j;
		struct job one;
		if (o->interactive) {
			/* a terminal session: the prompt, a line, its reply */
			printf("%s ", s.prompt);
			fflush(stdout);
			ssize_t n = getline(&typed, &typed_cap, stdin);
			if (n < 0) {
				printf("\n");
				break;
			}
			while (n && (typed[n - 1] == '\n' || typed[n - 1] == '\r'))
				typed[--n] = '\0';
			if (!typed[strspn(typed, " \t")])
				continue;
			one = (struct job){typed, 0, NULL, 0};
			j = &one;
		} else {
			if (i >= njobs)
				break;
			j = &jobs[i];
		}
		char before[256];
		snprintf(before, sizeof before, "%s", s.prompt);
		const struct cli_cmd *cmd = classify(prompt_ctx(before), j->line, &shown);
		if (cmd && (cmd->flags & CLI_DESTRUCTIVE) && !allow_destructive(o, j, shown.data, cmd)) {
			const char *why = "destructive command refused (use --yes)";
			if (o->json)
				print_json(stdout, shown.data, j->lineno, before, before, NULL, why);
			else
				print_transcript(o->interactive ? NULL : shown.data, before, NULL, why);
			if (j->lineno)
				fprintf(stderr, "tern: %s:%d: %s\n", src, j->lineno, why);
			else
				fprintf(stderr, "tern: %s\n", why);
			rc = 1;
			if (!o->keep_going && !o->interactive)
				break;
			continue;
		}
		bool multiline = check_is_multiline(j->line);
		if (multiline && !j->text && !o->interactive) {
			const char *why = "a multi-line command needs its text: give it in a script (--script)";
			if (o->json)
				print_json(stdout, shown.data, j->lineno, before, before, NULL, why);
			else
				print_transcript(shown.data, before, NULL, why);
			fprintf(stderr, "tern: %s\n", why);
			rc = 1;
			if (!o->keep_going)
				break;
			continue;
		}
		struct reply r = {{0}, -1, false};
		if (strpbrk(j->line, "\r\n") || send_line(&s, j->line) < 0) {
			rc = 2;
			break;
		}
		int rr = multiline ? multiline_exchange(&s, j, o->interactive, eof, &r.l) : read_reply(&s, &r.l);
		reply_parse(&r);
		if (rr != 0)
			s.prompt[0] = '\0';
		if (o->json)
			print_json(stdout, shown.data, j->lineno, before, s.prompt, &r, NULL);
		else
			print_transcript(o->interactive ? NULL : shown.data, before, &r, NULL);
		if (rr < 0 || (rr == 1 && r.status < 0)) {
			fprintf(stderr, "tern: connection lost\n");
			tern_lines_free(&r.l);
			rc = 2;
			break;
		}
		if (rr == 1)
			quit = true;
		if (r.ok)
			check_sets_eof(j->line, eof, sizeof eof);
		if (!r.ok) {
			if (j->lineno)
				fprintf(stderr, "tern: %s:%d: command failed: %s\n", src, j->lineno, r.l.v[r.status]);
			rc = 1;
			if (!o->keep_going && !o->interactive)
				quit = rr == 1;
		}
		tern_lines_free(&r.l);
		if (rc == 1 && !o->keep_going && !o->interactive)
			break;
	}
	free(typed);
	buf_free(&shown);
	if (!s.closed) {
		if (rc == 0 && !o->json && prompt_ctx(s.prompt) != CLI_CTX_ROOT && prompt_ctx(s.prompt) != CLI_CTX_LOGIN)
			fprintf(stderr, "tern: the session ended in %s; pending edits there are dropped\n", s.prompt);
	}
bye:
	if (!s.closed) {
		struct tern_lines l = {0};
		if (send_line(&s, "EXIT") == 0)
			read_reply(&s, &l);
		tern_lines_free(&l);
	}
out:
	tern_lines_free(&banner);
	client_close(&s.c);
	free(jobs);
	tern_free_lines(lines, nlines);
	return rc;
}
