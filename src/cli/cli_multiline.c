/*
 * cli_multiline - multi-line input (spec 6.8): a command such as
 * `ESET contactNotes` answers "+OK: enter the text..." without a prompt;
 * the client then sends text lines (a leading '.' doubled, one removed
 * here) and a line holding only the end marker ('.' unless the session
 * changed it with root `SET multilineEOF`). The data lines get no reply;
 * the marker line gets the command's status and the prompt.
 *
 * Bad input inside the text (NUL bytes, control characters, invalid UTF-8,
 * an over-long line, too much text) does not end the input early (the
 * client would take its next text lines for commands): the rest is read and
 * dropped, and the marker line answers -ERR with the first problem; nothing
 * is changed. A dropped connection or an idle timeout changes nothing.
 *
 * Stored form of a text: one line, with backslash escapes for the line
 * breaks (\n), tabs (\t), backslashes (\\) and double quotes (\"), so that
 * it fits the account variables (tab-separated rows) and SHOW prints it
 * between quotes as it is (CLI_AF_ESCAPED).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../core/buf.h"
#include "../core/log.h"
#include "cli.h"

#define IN(c) CLI_IN(CLI_CTX_##c)

const char *cli_multiline_eof(const struct cli_session *s)
{
	return s->ml_eof[0] ? s->ml_eof : ".";
}

void cli_multiline_begin(struct cli_session *s, const char *what, const char *key, size_t max)
{
	s->ml.active = true;
	s->ml.bad[0] = '\0';
	s->ml.max = max;
	s->ml.lines = 0;
	s->ml.text.len = 0;
	snprintf(s->ml.key, sizeof s->ml.key, "%s", key);
	snprintf(s->ml.what, sizeof s->ml.what, "%s", what);
	char t[200];
	snprintf(t, sizeof t, "enter the text, end with a line containing only '%s'", cli_multiline_eof(s));
	cli_ok_text(s, t);
	s->no_prompt = true;
}

static void refuse(struct cli_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void refuse(struct cli_session *s, const char *fmt, ...)
{
	if (s->ml.bad[0])
		return; /* the first problem is the one reported */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->ml.bad, sizeof s->ml.bad, fmt, ap);
	va_end(ap);
}

/* Escape the text for storage; false if it does not fit max bytes. */
static bool encode(const char *in, size_t n, char *out, size_t max)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = in[i], e = 0;
		if (c == '\n')
			e = 'n';
		else if (c == '\t')
			e = 't';
		else if (c == '\\')
			e = '\\';
		else if (c == '"')
			e = '"';
		if (o + (e ? 2 : 1) >= max)
			return false;
		if (e) {
			out[o++] = '\\';
			out[o++] = e;
		} else
			out[o++] = c;
	}
	out[o] = '\0';
	return true;
}

/* The end marker: apply the text (or refuse it). */
static void finish(struct cli_session *s)
{
	s->ml.active = false;
	if (s->ml.bad[0]) {
		cli_err(s, "The text for %s was refused (%s); nothing was changed", s->ml.what, s->ml.bad);
		return;
	}
	/* the text's last line break is the one ending its last line: drop it */
	size_t n = s->ml.text.len;
	if (n && s->ml.text.data[n - 1] == '\n')
		n--;
	char enc[CLI_MAX_VALUE * 4 + 1];
	if (!encode(n ? s->ml.text.data : "", n, enc, sizeof enc)) {
		cli_err(s, "The text for %s is too long (at most %d bytes stored); nothing was changed", s->ml.what,
			CLI_MAX_VALUE * 4);
		return;
	}
	cli_kv_set(&cli_cur(s)->edits, s->ml.key, enc);
	cli_ok(s);
}

void cli_multiline_feed(struct cli_session *s, enum cli_read kind, const char *line, size_t len)
{
	s->no_prompt = true; /* text lines get no reply at all */
	if (kind == CLI_READ_TOO_LONG) {
		refuse(s, "line %zu is longer than %d bytes", s->ml.lines + 1, CLI_MAX_LINE);
		s->ml.lines++;
		return;
	}
	const char *eof = cli_multiline_eof(s);
	if (len == strlen(eof) && !memcmp(line, eof, len)) {
		s->no_prompt = false;
		finish(s);
		return;
	}
	switch (cli_line_check(line, len)) {
	case CLI_LINE_OK:
		break;
	case CLI_LINE_NUL:
		refuse(s, "a NUL byte in line %zu", s->ml.lines + 1);
		s->ml.lines++;
		return;
	case CLI_LINE_CONTROL:
		refuse(s, "a control character in line %zu", s->ml.lines + 1);
		s->ml.lines++;
		return;
	case CLI_LINE_UTF8:
		refuse(s, "invalid UTF-8 in line %zu", s->ml.lines + 1);
		s->ml.lines++;
		return;
	}
	if (len && line[0] == '.') { /* dot-stuffing */
		line++;
		len--;
	}
	if (s->ml.text.len + len + 1 > s->ml.max) {
		refuse(s, "more than %zu bytes of text", s->ml.max);
		s->ml.lines++;
		return;
	}
	buf_append(&s->ml.text, line, len);
	buf_putc(&s->ml.text, '\n');
	s->ml.lines++;
}

void cli_multiline_free(struct cli_session *s)
{
	buf_free(&s->ml.text);
	s->ml.active = false;
}

/* ---- commands ---- */

/* Root SET multilineEOF <string>: the end marker of this session. */
static void h_multiline_eof(struct cli_session *s, const struct cli_parsed *p)
{
	const char *v = p->val[0];
	size_t n = strlen(v);
	if (!n || n >= sizeof s->ml_eof) {
		cli_err(s, "Invalid value for multilineEOF (1 to %d characters)", (int)sizeof s->ml_eof - 1);
		return;
	}
	for (const char *c = v; *c; c++)
		if (*c == ' ' || *c == '\t') {
			cli_err(s, "Invalid value for multilineEOF (no spaces: the marker is a whole line)");
			return;
		}
	snprintf(s->ml_eof, sizeof s->ml_eof, "%s", v);
	cli_ok(s);
}

/* Contact info ESET contactNotes: the notes, at most 4 KiB stored. */
static void h_eset_notes(struct cli_session *s, const struct cli_parsed *p)
{
	(void)p;
	cli_multiline_begin(s, "contactNotes", "ContactInfo.contactNotes", CLI_MAX_VALUE * 4);
}

static const struct cli_cmd cmds[] = {
	{IN(ROOT), "SET multilineEOF", {{CLI_ARG_POS, NULL, "string", false}}, 0, h_multiline_eof,
	 "Change this session's end marker of multi-line input (default: a line holding only '.')."},
	{IN(CONTACT), "ESET contactNotes", {{0}}, CLI_PENDING | CLI_MULTILINE, h_eset_notes,
	 "Multi-line input of the contact notes (dot-stuffed, ended by the multilineEOF marker); "
	 "stored with the account at COMMIT."},
};

const struct cli_part cli_part_multiline = {NULL, 0, cmds, (int)(sizeof cmds / sizeof *cmds)};
