/*
 * cli_parse - the CLI's input layers: telnet-aware line framing, line
 * checks, tokens, command matching and argument parsing. No I/O and no
 * session state: everything here is a pure function of its input (and the
 * command table), so the whole path from bytes to a parsed command can be
 * fuzzed.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../core/utf8.h"
#include "cli.h"

/* ---- bytes -> lines ----
 *
 * Telnet (RFC 854): IAC (255) starts a command. IAC IAC is a data byte
 * 255; IAC WILL/WONT/DO/DONT take one option byte; IAC SB ... IAC SE is a
 * subnegotiation; any other IAC x is a two-byte command. All of them are
 * dropped. We never negotiate. A line ends at LF, at CR (CR LF and CR NUL
 * count once), so CRLF, bare LF, telnet's CR NUL and a bare CR all work. */

enum { TS_DATA, TS_IAC, TS_OPT, TS_SB, TS_SB_IAC };

#define IAC 255
#define SB 250
#define SE 240
#define WILL 251

void cli_reader_init(struct cli_reader *r, size_t max)
{
	memset(r, 0, sizeof *r);
	r->max = max;
}

void cli_reader_free(struct cli_reader *r)
{
	buf_free(&r->line);
}

static void put(struct cli_reader *r, unsigned char b)
{
	if (r->line.len >= r->max)
		r->too_long = true;
	else
		buf_putc(&r->line, (char)b);
}

enum cli_read cli_reader_feed(struct cli_reader *r, const unsigned char *p, size_t n, size_t *used_r)
{
	if (r->done) {
		buf_reset(&r->line);
		r->done = false;
	}
	size_t i = 0;
	while (i < n) {
		unsigned char b = p[i++];
		switch (r->tstate) {
		case TS_IAC:
			r->telnet = true;
			if (b == IAC) {
				r->tstate = TS_DATA;
				put(r, b);
			} else if (b >= WILL) {
				r->tstate = TS_OPT;
			} else if (b == SB) {
				r->tstate = TS_SB;
			} else {
				r->tstate = TS_DATA;
			}
			continue;
		case TS_OPT:
			r->tstate = TS_DATA;
			continue;
		case TS_SB:
			if (b == IAC)
				r->tstate = TS_SB_IAC;
			continue;
		case TS_SB_IAC:
			r->tstate = b == SE ? TS_DATA : TS_SB;
			continue;
		default:
			break;
		}
		if (b == IAC) {
			r->tstate = TS_IAC;
			continue;
		}
		if (r->skip_lf) {
			r->skip_lf = false;
			if (b == '\n' || b == '\0')
				continue;
		}
		if (b == '\r' || b == '\n') {
			r->skip_lf = b == '\r';
			if (r->skip_lf && i < n && (p[i] == '\n' || p[i] == '\0')) {
				i++; /* CR LF or CR NUL, complete */
				r->skip_lf = false;
			}
			*used_r = i;
			r->done = true;
			if (r->too_long) {
				r->too_long = false;
				buf_reset(&r->line);
				return CLI_READ_TOO_LONG;
			}
			if (!r->line.data)
				buf_reserve(&r->line, 1); /* an empty line still has text "" */
			return CLI_READ_LINE;
		}
		put(r, b);
	}
	*used_r = n;
	return CLI_READ_MORE;
}

/* ---- line checks ---- */


enum cli_line_problem cli_line_check(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n; i++) {
		if (p[i] == 0)
			return CLI_LINE_NUL;
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
			return CLI_LINE_CONTROL;
	}
	return utf8_valid(p, n) ? CLI_LINE_OK : CLI_LINE_UTF8;
}

/* ---- tokens ----
 *
 * Like a shell word: unquoted text with backslash escapes, '...' taken
 * literally, "..." where \" and \\ are escapes (other backslashes are kept),
 * adjacent parts joined. The result is written over the line itself: the
 * write position never passes the read position. */

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

enum cli_tok_err cli_tokenize(char *line, struct cli_tokens *t)
{
	char *r = line, *w = line;
	t->n = 0;
	for (;;) {
		while (is_space(*r))
			r++;
		if (!*r)
			return CLI_TOK_OK;
		if (t->n == CLI_MAX_ARGS)
			return CLI_TOK_MANY;
		char *start = w;
		bool lit = false;
		while (*r && !is_space(*r)) {
			if (*r == '\\') {
				if (!r[1])
					return CLI_TOK_ESCAPE;
				*w++ = r[1];
				r += 2;
				lit = true;
			} else if (*r == '\'') {
				lit = true;
				r++;
				while (*r && *r != '\'')
					*w++ = *r++;
				if (!*r)
					return CLI_TOK_QUOTE;
				r++;
			} else if (*r == '"') {
				lit = true;
				r++;
				while (*r && *r != '"') {
					if (*r == '\\' && (r[1] == '"' || r[1] == '\\')) {
						*w++ = r[1];
						r += 2;
					} else {
						*w++ = *r++;
					}
				}
				if (!*r)
					return CLI_TOK_QUOTE;
				r++;
			} else {
				*w++ = *r++;
			}
		}
		char at = *r; /* w may equal r: keep the separator before ending the token */
		*w++ = '\0';
		t->v[t->n] = start;
		t->lit[t->n] = lit;
		t->n++;
		if (!at)
			return CLI_TOK_OK;
		r++;
	}
}

/* ---- matching ---- */

bool cli_word_is(const char *alts, const char *word)
{
	const char *p = alts;
	size_t wl = strlen(word);
	while (*p) {
		size_t l = strcspn(p, "/|");
		if (l == wl && strncasecmp(p, word, l) == 0)
			return true;
		p += l;
		if (*p)
			p++;
	}
	return false;
}

/* Number of command words if all of them match the first tokens, else 0. */
static int words_match(const char *words, const struct cli_tokens *t)
{
	char w[64];
	int k = 0;
	const char *p = words;
	while (*p) {
		size_t l = strcspn(p, " ");
		if (l >= sizeof w || k >= t->n || t->lit[k])
			return 0;
		memcpy(w, p, l);
		w[l] = '\0';
		if (!cli_word_is(w, t->v[k]))
			return 0;
		k++;
		p += l;
		while (*p == ' ')
			p++;
	}
	return k;
}

const struct cli_cmd *cli_match(enum cli_ctx ctx, const struct cli_tokens *t, int *nwords_r, enum cli_match *why_r)
{
	int n;
	const struct cli_cmd *cmds = cli_commands(&n);
	const struct cli_cmd *here = NULL;
	int here_k = 0, other_k = 0;
	for (int i = 0; i < n; i++) {
		int k = words_match(cmds[i].words, t);
		if (!k)
			continue;
		if (cmds[i].ctx & CLI_IN(ctx)) {
			if (k > here_k) {
				here = &cmds[i];
				here_k = k;
			}
		} else if (k > other_k) {
			other_k = k;
		}
	}
	*nwords_r = here_k;
	if (here && here_k >= other_k) {
		*why_r = CLI_MATCH_OK;
		return here;
	}
	*why_r = other_k ? CLI_MATCH_ELSEWHERE : CLI_MATCH_NONE;
	return NULL;
}

/* ---- arguments ---- */

static bool has_key(const struct cli_arg *a)
{
	return a->key && (a->kind == CLI_ARG_POS || a->kind == CLI_ARG_PAIR || a->kind == CLI_ARG_OPT_PAIR ||
			  a->kind == CLI_ARG_FLAG);
}

enum cli_args_err cli_args_parse(const struct cli_cmd *cmd, const struct cli_tokens *t, int first,
				 struct cli_parsed *p)
{
	memset(p, 0, sizeof *p);
	p->cmd = cmd;
	p->t = t;
	p->first = first;
	p->set_first = -1;
	bool filled[CLI_MAX_SPEC] = {false};
	int set_slot = -1;
	for (int j = 0; j < CLI_MAX_SPEC; j++)
		if (cmd->args[j].kind == CLI_ARG_SET || cmd->args[j].kind == CLI_ARG_REST)
			set_slot = j;
	int i = first;
	while (i < t->n) {
		if (set_slot >= 0) {
			p->set_first = i;
			filled[set_slot] = true;
			break;
		}
		int slot = -1;
		if (!t->lit[i])
			for (int j = 0; j < CLI_MAX_SPEC && slot < 0; j++)
				if (!filled[j] && has_key(&cmd->args[j]) && cli_word_is(cmd->args[j].key, t->v[i]))
					slot = j;
		if (slot >= 0) {
			const struct cli_arg *a = &cmd->args[slot];
			if (a->kind == CLI_ARG_FLAG) {
				p->val[slot] = t->v[i];
				filled[slot] = true;
				i++;
				continue;
			}
			if (i + 1 < t->n) {
				p->val[slot] = t->v[i + 1];
				p->secret[i + 1] = a->secret;
				filled[slot] = true;
				i += 2;
				continue;
			}
			if (a->kind != CLI_ARG_POS)
				return CLI_ARGS_NOVALUE;
			/* "UPDATE Domain name": the keyword alone is the value. */
		}
		int j = 0;
		while (j < CLI_MAX_SPEC &&
		       (filled[j] || (cmd->args[j].kind != CLI_ARG_POS && cmd->args[j].kind != CLI_ARG_OPT_POS)))
			j++;
		if (j == CLI_MAX_SPEC)
			return CLI_ARGS_EXTRA;
		p->val[j] = t->v[i];
		p->secret[i] = cmd->args[j].secret;
		filled[j] = true;
		i++;
	}
	for (int j = 0; j < CLI_MAX_SPEC; j++) {
		enum cli_arg_kind k = cmd->args[j].kind;
		if (!filled[j] && (k == CLI_ARG_POS || k == CLI_ARG_PAIR || k == CLI_ARG_SET || k == CLI_ARG_REST))
			return CLI_ARGS_MISSING;
	}
	return CLI_ARGS_OK;
}

/* ---- HELP syntax ---- */

static void put_key(struct buf *out, const char *key)
{
	buf_append(out, key, strcspn(key, "|"));
}

void cli_syntax(const struct cli_cmd *cmd, struct buf *out)
{
	buf_puts(out, cmd->words);
	for (int j = 0; j < CLI_MAX_SPEC; j++) {
		const struct cli_arg *a = &cmd->args[j];
		switch (a->kind) {
		case CLI_ARG_NONE:
			break;
		case CLI_ARG_POS:
			buf_putc(out, ' ');
			if (a->key) {
				buf_putc(out, '[');
				put_key(out, a->key);
				buf_puts(out, "] ");
			}
			buf_printf(out, "<%s>", a->meta);
			break;
		case CLI_ARG_OPT_POS:
			buf_printf(out, " [<%s>]", a->meta);
			break;
		case CLI_ARG_PAIR:
			buf_putc(out, ' ');
			put_key(out, a->key);
			buf_printf(out, " <%s>", a->meta);
			break;
		case CLI_ARG_OPT_PAIR:
			buf_puts(out, " [");
			put_key(out, a->key);
			buf_printf(out, " <%s>]", a->meta);
			break;
		case CLI_ARG_FLAG:
			buf_puts(out, " [");
			put_key(out, a->key);
			buf_putc(out, ']');
			break;
		case CLI_ARG_SET:
			buf_printf(out, " <%s>", a->meta);
			break;
		case CLI_ARG_REST:
			buf_printf(out, " <%s> ...", a->meta);
			break;
		}
	}
}
