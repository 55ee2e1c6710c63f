/*
 * check - `tern check FILE [--json]`: a CLI script checked offline.
 *
 * The script is walked from the root context with the server's own
 * command table (cli_match(), cli_args_parse(), the contexts' attribute
 * tables) and cli_export_step() for where each command leads, as if every
 * command succeeded. Reported, with line numbers:
 *   errors    unknown commands, commands not valid in the context reached,
 *             commands Tern does not have yet, missing/unknown arguments
 *             and SET attributes or values, pending edits dropped (BACK or
 *             EXIT with pending changes, UPDATE Domain away from a domain
 *             with pending changes, the script ending inside a context with
 *             pending changes);
 *   warnings  destructive commands (table flag CLI_DESTRUCTIVE), changes
 *             never followed by SAVE CONFIG, the script ending inside a
 *             context, commands after EXIT, transcript prompts that do not
 *             match the context reached.
 * Lines may be plain commands or a transcript ("<domain#> COMMIT"; "+OK"
 * and "-ERR" lines and '#' comments are skipped).
 * Exit status: 0 clean, 1 warnings only, 2 errors (or unreadable file).
 * With --ctrl the file is a controller script instead, checked by
 * ctrl_check_lines() (ctrl_table.c); the report has the same shape.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../src/cli/cli.h"
#include "../../src/cli/cli_export.h"
#include "../../src/core/buf.h"
#include "tern.h"

static void add(struct check_report *r, int line, enum check_level lv, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void add(struct check_report *r, int line, enum check_level lv, const char *code, const char *fmt, ...)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 16;
		struct check_issue *nv = realloc(r->v, (size_t)r->cap * sizeof *nv);
		if (!nv)
			abort();
		r->v = nv;
	}
	struct check_issue *i = &r->v[r->n++];
	i->line = line;
	i->level = lv;
	snprintf(i->code, sizeof i->code, "%s", code);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(i->text, sizeof i->text, fmt, ap);
	va_end(ap);
	if (lv == CHECK_ERROR)
		r->errors++;
	else if (lv == CHECK_WARNING)
		r->warnings++;
	if (!strcmp(code, "destructive"))
		r->destructive++;
}

void check_report_free(struct check_report *r)
{
	free(r->v);
	memset(r, 0, sizeof *r);
}

struct frame {
	enum cli_ctx ctx;
	bool pending;
	int line;         /* where the context was entered */
	int pending_line; /* first pending edit */
};

static void prompt_of(enum cli_ctx c, char *out, size_t sz)
{
	char p[200];
	cli_export_ctx_path(c, p, sizeof p);
	snprintf(out, sz, "<%s#>", p);
}

/* "LIST Accounts" from the tokens that matched. */
static void words_of(const struct cli_tokens *t, int n, char *out, size_t sz)
{
	size_t off = 0;
	out[0] = '\0';
	for (int i = 0; i < n && i < t->n && off < sz; i++) {
		int w = snprintf(out + off, sz - off, "%s%s", i ? " " : "", t->v[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Contexts where the line's command exists, as prompts. */
static void where_valid(const struct cli_tokens *t, char *out, size_t sz)
{
	size_t off = 0;
	out[0] = '\0';
	for (int c = CLI_CTX_ROOT; c < CLI_CTX__COUNT; c++) {
		int nw;
		enum cli_match why;
		if (!cli_match((enum cli_ctx)c, t, &nw, &why))
			continue;
		char p[220];
		prompt_of((enum cli_ctx)c, p, sizeof p);
		int w = snprintf(out + off, sz - off, "%s%s", off ? ", " : "", p);
		if (w < 0 || (size_t)w >= sz - off)
			break;
		off += (size_t)w;
	}
	if (!off) {
		int nw;
		enum cli_match why;
		if (cli_match(CLI_CTX_LOGIN, t, &nw, &why))
			snprintf(out, sz, "<login> (before logging in)");
	}
}

static bool disruptive_verb(const char *w)
{
	static const char *const v[] = {"REMOVE", "DELETE", "PURGE",   "STOP",  "RESET", "COMPACT",
					"SHUTDOWN", "RESTART", "CLEAR", "EMPTY", "KILL",  "FLUSH"};
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		if (!strcasecmp(v[i], w))
			return true;
	return false;
}

static void check_set(struct check_report *r, int line, enum cli_ctx cx, const struct cli_parsed *p)
{
	const struct cli_tokens *t = p->t;
	int first = p->set_first;
	char pr[220];
	prompt_of(cx, pr, sizeof pr);
	if (first < 0 || first >= t->n) {
		add(r, line, CHECK_ERROR, "missing-argument", "SET needs attribute value pairs");
		return;
	}
	for (int i = first; i < t->n; i += 2) {
		const struct cli_attr *a = t->lit[i] ? NULL : cli_attr_find(cx, t->v[i]);
		if (!a) {
			add(r, line, CHECK_ERROR, "unknown-attribute", "unknown attribute '%s' in %s (see tern reference)",
			    t->v[i], pr);
			continue;
		}
		char name[64];
		cli_export_first_alt(a->name, name, sizeof name);
		if (i + 1 >= t->n) {
			add(r, line, CHECK_ERROR, "missing-value", "attribute %s has no value", name);
			return;
		}
		const char *v = t->v[i + 1];
		if (a->flags & CLI_AF_NOSET) {
			add(r, line, CHECK_ERROR, "read-only-attribute", "attribute %s cannot be set", name);
		} else if (a->kind == CLI_AT_CHOICE && a->choices && !cli_word_is(a->choices, v)) {
			add(r, line, CHECK_ERROR, "invalid-value", "invalid value '%s' for %s (one of %s)", v, name,
			    a->choices);
		} else if (a->kind == CLI_AT_NUMBER) {
			char *end;
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (!*v || *end || errno)
				add(r, line, CHECK_ERROR, "invalid-value", "invalid value '%s' for %s (a number)", v, name);
			else if (a->min < a->max && (n < a->min || n > a->max))
				add(r, line, CHECK_ERROR, "invalid-value", "value %lld for %s is out of range %lld..%lld", n,
				    name, a->min, a->max);
		}
	}
}

/* ---- multi-line input in scripts ---- */

static bool words_match(const char *words, const struct cli_tokens *t)
{
	int k = 0;
	for (const char *w = words; *w; k++) {
		size_t n = strcspn(w, " ");
		if (k >= t->n || strlen(t->v[k]) != n || strncasecmp(w, t->v[k], n) != 0)
			return false;
		w += n;
		while (*w == ' ')
			w++;
	}
	return k > 0;
}

bool check_is_multiline(const char *line)
{
	char *copy = strdup(line);
	if (!copy)
		abort();
	struct cli_tokens t;
	bool yes = false;
	if (cli_tokenize(copy, &t) == CLI_TOK_OK && t.n) {
		int n;
		const struct cli_cmd *c = cli_commands(&n);
		for (int i = 0; i < n && !yes; i++)
			yes = (c[i].flags & CLI_MULTILINE) && words_match(c[i].words, &t);
	}
	free(copy);
	return yes;
}

bool check_sets_eof(const char *line, char *eof, size_t sz)
{
	char *copy = strdup(line);
	if (!copy)
		abort();
	struct cli_tokens t;
	bool yes = cli_tokenize(copy, &t) == CLI_TOK_OK && t.n == 3 && !strcasecmp(t.v[0], "SET") &&
		   !strcasecmp(t.v[1], "multilineEOF") && *t.v[2] && strlen(t.v[2]) < sz && !strpbrk(t.v[2], " \t");
	if (yes)
		snprintf(eof, sz, "%s", t.v[2]);
	free(copy);
	return yes;
}

bool check_is_eof(const char *raw, const char *eof)
{
	size_t n = strlen(raw);
	while (n && (raw[n - 1] == '\r' || raw[n - 1] == '\n'))
		n--;
	return n == strlen(eof) && !strncmp(raw, eof, n);
}

void check_lines(char **lines, int nlines, struct check_report *r)
{
	struct frame st[CLI_MAX_DEPTH + 2];
	int depth = 0;
	st[0] = (struct frame){CLI_CTX_ROOT, false, 0, 0};
	int unsaved = 0, exit_line = 0;
	char eof[32] = ".";
	for (int ln = 1; ln <= nlines; ln++) {
		const char *p = lines[ln - 1];
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || !strncmp(p, "+OK", 3) || !strncmp(p, "-ERR", 4))
			continue;
		struct frame *f = &st[depth];
		char here[220];
		prompt_of(f->ctx, here, sizeof here);
		if (*p == '<') {
			const char *e = strstr(p, "#> ");
			if (e && !memchr(p, '>', (size_t)(e - p))) {
				size_t n = (size_t)(e - p) + 2;
				if (strlen(here) != n || strncmp(here, p, n) != 0)
					add(r, ln, CHECK_WARNING, "prompt-mismatch",
					    "the transcript shows %.*s but the script is in %s here", (int)n, p, here);
				p = e + 3;
				while (*p == ' ')
					p++;
				if (!*p)
					continue;
			}
		}
		if (exit_line) {
			add(r, ln, CHECK_WARNING, "after-exit", "never run: the session ended with EXIT at line %d",
			    exit_line);
			continue;
		}
		r->commands++;
		switch (cli_line_check(p, strlen(p))) {
		case CLI_LINE_OK:
			break;
		default:
			add(r, ln, CHECK_ERROR, "bad-characters", "control characters or invalid UTF-8 in the line");
			continue;
		}
		char *copy = strdup(p);
		if (!copy)
			abort();
		struct cli_tokens t;
		enum cli_tok_err te = cli_tokenize(copy, &t);
		if (te != CLI_TOK_OK) {
			add(r, ln, CHECK_ERROR, "syntax",
			    te == CLI_TOK_QUOTE    ? "unbalanced quotes"
			    : te == CLI_TOK_ESCAPE ? "backslash at the end of the line"
						   : "too many words");
			free(copy);
			continue;
		}
		int nw = 0;
		enum cli_match why;
		const struct cli_cmd *cmd = cli_match(f->ctx, &t, &nw, &why);
		if (!cmd) {
			char valid[600], w[200];
			where_valid(&t, valid, sizeof valid);
			words_of(&t, t.n < 2 ? t.n : 2, w, sizeof w);
			if (why == CLI_MATCH_ELSEWHERE || valid[0]) {
				const char *hint = "";
				if (!strcasecmp(t.v[0], "COMMIT") && (f->ctx == CLI_CTX_CONTACT || f->ctx == CLI_CTX_QUOTAS))
					hint = "; use DONE to return to the account";
				else if (!strcasecmp(t.v[0], "DONE") && f->ctx == CLI_CTX_ACCOUNT)
					hint = "; use COMMIT to apply the account";
				else if (!strcasecmp(t.v[0], "BACK") && f->ctx == CLI_CTX_ROOT)
					hint = "; already at the root";
				add(r, ln, CHECK_ERROR, "wrong-context", "'%s' is not valid in %s (valid in %s)%s", w, here,
				    valid, hint);
			} else {
				add(r, ln, CHECK_ERROR, "unknown-command", "unknown command '%s'%s", w,
				    disruptive_verb(t.v[0]) ? " (a destructive or disruptive verb; Tern has no such command)"
							    : "");
			}
			free(copy);
			continue;
		}
		if (cmd->flags & CLI_LATER) {
			add(r, ln, CHECK_ERROR, "not-supported", "%s is not supported by this server yet", cmd->words);
			free(copy);
			continue;
		}
		struct cli_parsed ps;
		bool args_bad = false;
		struct buf syn = BUF_INIT;
		cli_syntax(cmd, &syn);
		enum cli_args_err ae = cli_args_parse(cmd, &t, nw, &ps);
		if (ae != CLI_ARGS_OK) {
			add(r, ln, CHECK_ERROR,
			    ae == CLI_ARGS_MISSING   ? "missing-argument"
			    : ae == CLI_ARGS_EXTRA ? "unknown-argument"
						     : "missing-value",
			    "%s; the syntax is: %s",
			    ae == CLI_ARGS_MISSING   ? "missing argument"
			    : ae == CLI_ARGS_EXTRA ? "unexpected argument"
						     : "a keyword without its value",
			    syn.data);
			buf_free(&syn);
			free(copy);
			/* Go where the author meant to go, so that later lines
			 * are checked in the intended context. */
			args_bad = true;
		} else {
			buf_free(&syn);
		}
		bool set_ok = true;
		if (args_bad) {
			struct cli_step s = cli_export_step(f->ctx, cmd);
			if (s.move == CLI_MOVE_ENTER && depth + 1 < (int)(sizeof st / sizeof *st)) {
				depth++;
				st[depth] = (struct frame){s.to, s.creates, ln, s.creates ? ln : 0};
			}
			continue;
		}
		if (cmd->args[0].kind == CLI_ARG_SET) {
			int before = r->errors;
			check_set(r, ln, f->ctx, &ps);
			set_ok = r->errors == before;
		}
		if (!strcasecmp(cmd->words, "RESET") && ps.val[0] && !cli_attr_find(f->ctx, ps.val[0])) {
			add(r, ln, CHECK_ERROR, "unknown-attribute", "unknown attribute '%s' in %s", ps.val[0], here);
			set_ok = false;
		}
		if (cmd->flags & CLI_DESTRUCTIVE)
			add(r, ln, CHECK_WARNING, "destructive", "%s is destructive: %s", cmd->words,
			    cmd->help ? cmd->help : "");
		else if (disruptive_verb(t.v[0]))
			add(r, ln, CHECK_WARNING, "disruptive", "%s drops or resets state: %s", cmd->words,
			    cmd->help ? cmd->help : "");
		if (!strcasecmp(cmd->words, "SET multilineEOF"))
			check_sets_eof(p, eof, sizeof eof);
		free(copy);
		if (cmd->flags & CLI_MULTILINE) {
			/* its text: every raw line up to the marker */
			int k = ln;
			for (; k < nlines && !check_is_eof(lines[k], eof); k++)
				if (cli_line_check(lines[k], strlen(lines[k])) != CLI_LINE_OK)
					add(r, k + 1, CHECK_ERROR, "bad-characters",
					    "control characters or invalid UTF-8 in a text line of %s", cmd->words);
			if (k >= nlines) {
				add(r, ln, CHECK_ERROR, "multiline-unterminated",
				    "the text of %s is not ended by a line holding only '%s'", cmd->words, eof);
				ln = nlines;
				continue;
			}
			ln = k + 1;
		}
		if (!set_ok)
			continue;
		if (!strcasecmp(cmd->words, "SAVE CONFIG"))
			unsaved = 0;
		else if ((cmd->flags & CLI_CHANGES) && !unsaved)
			unsaved = ln;
		struct cli_step s = cli_export_step(f->ctx, cmd);
		/* A pending edit belongs to the context it is made in; a command
		 * that opens a new object makes the new context pending. */
		if ((cmd->flags & CLI_PENDING) && s.move == CLI_MOVE_STAY && !f->pending) {
			f->pending = true;
			f->pending_line = ln;
		}
		switch (s.move) {
		case CLI_MOVE_STAY:
			break;
		case CLI_MOVE_ENTER:
			if (depth + 1 < (int)(sizeof st / sizeof *st)) {
				depth++;
				st[depth] = (struct frame){s.to, s.creates, ln, s.creates ? ln : 0};
			}
			break;
		case CLI_MOVE_SWITCH:
			if (f->pending)
				add(r, ln, CHECK_ERROR, "uncommitted",
				    "%s has pending changes (from line %d); the server refuses to switch: COMMIT or BACK first",
				    here, f->pending_line);
			else
				*f = (struct frame){s.to, false, ln, 0};
			break;
		case CLI_MOVE_COMMIT:
			if (depth > 0)
				depth--;
			break;
		case CLI_MOVE_DONE:
			if (depth > 0) {
				if (f->pending && !st[depth - 1].pending) {
					st[depth - 1].pending = true;
					st[depth - 1].pending_line = f->pending_line;
				}
				depth--;
			}
			break;
		case CLI_MOVE_BACK:
			if (f->pending)
				add(r, ln, CHECK_ERROR, "uncommitted",
				    "BACK drops the pending changes of %s (from line %d); COMMIT%s first", here,
				    f->pending_line, f->ctx == CLI_CTX_CONTACT || f->ctx == CLI_CTX_QUOTAS ? " (or DONE)" : "");
			if (depth > 0)
				depth--;
			break;
		case CLI_MOVE_QUIT:
			for (int d = depth; d > 0; d--)
				if (st[d].pending) {
					char pp[220];
					prompt_of(st[d].ctx, pp, sizeof pp);
					add(r, ln, CHECK_ERROR, "uncommitted",
					    "%s drops the pending changes of %s (from line %d); COMMIT first", cmd->words, pp,
					    st[d].pending_line);
					break;
				}
			exit_line = ln;
			depth = 0;
			break;
		}
	}
	if (depth > 0) {
		int d = depth;
		while (d > 0 && !st[d].pending)
			d--;
		char pp[220];
		if (d > 0) {
			prompt_of(st[d].ctx, pp, sizeof pp);
			add(r, nlines, CHECK_ERROR, "uncommitted",
			    "the script ends inside %s with pending changes (from line %d) that are never committed", pp,
			    st[d].pending_line);
		} else {
			prompt_of(st[depth].ctx, pp, sizeof pp);
			add(r, nlines, CHECK_WARNING, "ends-in-context", "the script ends inside %s (entered at line %d)", pp,
			    st[depth].line);
		}
	}
	if (unsaved)
		add(r, unsaved, CHECK_WARNING, "unsaved",
		    "changes from this line on are never followed by SAVE CONFIG (no configuration snapshot)");
}

void check_add(struct check_report *r, int line, enum check_level lv, const char *code, const char *text)
{
	add(r, line, lv, code, "%s", text);
}

static const char *level_name(enum check_level l)
{
	return l == CHECK_ERROR ? "error" : l == CHECK_WARNING ? "warning" : "info";
}

static int by_line(const void *a, const void *b)
{
	const struct check_issue *x = a, *y = b;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x < y ? -1 : x > y;
}

int check_main(int argc, char **argv)
{
	const char *file = NULL;
	bool json = false, ctrl = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--ctrl"))
			ctrl = true;
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else {
			fprintf(stderr, "usage: tern check [--json] [--ctrl] FILE\n");
			return 2;
		}
	}
	if (!file) {
		fprintf(stderr, "usage: tern check [--json] [--ctrl] FILE\n");
		return 2;
	}
	char **lines;
	int n;
	if (tern_read_lines(file, &lines, &n) < 0) {
		fprintf(stderr, "tern: %s: %s\n", file, strerror(errno));
		return 2;
	}
	struct check_report r = {0};
	if (ctrl)
		ctrl_check_lines(lines, n, &r);
	else
		check_lines(lines, n, &r);
	if (r.n > 1)
		qsort(r.v, (size_t)r.n, sizeof *r.v, by_line);
	if (json) {
		fputs("{\"file\":", stdout);
		json_str(stdout, file);
		printf(",\"commands\":%d,\"errors\":%d,\"warnings\":%d,\"result\":\"%s\",\"issues\":[", r.commands,
		       r.errors, r.warnings, r.errors ? "errors" : r.warnings ? "warnings" : "clean");
		for (int i = 0; i < r.n; i++) {
			printf("%s{\"line\":%d,\"level\":\"%s\",\"code\":", i ? "," : "", r.v[i].line,
			       level_name(r.v[i].level));
			json_str(stdout, r.v[i].code);
			fputs(",\"message\":", stdout);
			json_str(stdout, r.v[i].text);
			fputc('}', stdout);
		}
		fputs("]}\n", stdout);
	} else {
		for (int i = 0; i < r.n; i++)
			printf("%s:%d: %s: %s [%s]\n", file, r.v[i].line, level_name(r.v[i].level), r.v[i].text,
			       r.v[i].code);
		printf("%s: %d commands, %d errors, %d warnings\n", file, r.commands, r.errors, r.warnings);
	}
	int rc = r.errors ? 2 : r.warnings ? 1 : 0;
	check_report_free(&r);
	tern_free_lines(lines, n);
	return rc;
}
