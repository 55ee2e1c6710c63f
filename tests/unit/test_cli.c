/* Unit tests: the CLI's parsing layers (cli/cli_parse.c) - line framing
 * with telnet decoding at every split point, line checks, tokens, command
 * matching, argument parsing and the HELP syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../../src/cli/cli.h"

/* Feed input in two parts split at `split`; collect lines joined by '|',
 * too-long lines as '#'. */
static void frame(const char *in, size_t n, size_t split, size_t max, char *out, size_t outsz)
{
	struct cli_reader r;
	cli_reader_init(&r, max);
	out[0] = '\0';
	const unsigned char *parts[2] = {(const unsigned char *)in, (const unsigned char *)in + split};
	size_t lens[2] = {split, n - split};
	for (int k = 0; k < 2; k++) {
		const unsigned char *p = parts[k];
		size_t left = lens[k];
		while (left) {
			size_t used = 0;
			enum cli_read st = cli_reader_feed(&r, p, left, &used);
			p += used;
			left -= used;
			if (st == CLI_READ_LINE) {
				strncat(out, r.line.data, outsz - strlen(out) - 1);
				strncat(out, "|", outsz - strlen(out) - 1);
			} else if (st == CLI_READ_TOO_LONG) {
				strncat(out, "#|", outsz - strlen(out) - 1);
			}
		}
	}
	cli_reader_free(&r);
}

static void check_all_splits(const char *in, size_t n, size_t max, const char *want)
{
	for (size_t split = 0; split <= n; split++) {
		char out[512];
		frame(in, n, split, max, out, sizeof out);
		if (strcmp(out, want) != 0)
			fail_msg("split %zu: got \"%s\", want \"%s\"", split, out, want);
	}
}

static void test_line_ends_every_split(void **state)
{
	(void)state;
	static const char in[] = "a\r\nb\nc\r\0d\re\r\n\r\nf";
	check_all_splits(in, sizeof in - 1, 100, "a|b|c|d|e||");
}

static void test_telnet_every_split(void **state)
{
	(void)state;
	/* WILL ECHO; SB with an embedded CR LF and IAC IAC; NOP; a data 0xFF */
	static const char in[] = "\xff\xfb\x01US\xff\xfa\x18\r\n\xff\xff\xff\xf0" "ER\xff\xf1 x\xff\xff" "y\r\n";
	check_all_splits(in, sizeof in - 1, 100, "USER x\xff" "y|");
}

static void test_too_long_every_split(void **state)
{
	(void)state;
	static const char in[] = "123456\r\n1234\r\n12345678901234\r\nok\n";
	check_all_splits(in, sizeof in - 1, 6, "123456|1234|#|ok|");
}

static void test_line_check(void **state)
{
	(void)state;
	static const char utf[] = "SET a \"J\xc3\xa9r\xc3\xb4me\"";
	assert_int_equal(cli_line_check(utf, sizeof utf - 1), CLI_LINE_OK);
	assert_int_equal(cli_line_check("tab\there", 8), CLI_LINE_OK);
	assert_int_equal(cli_line_check("a\0b", 3), CLI_LINE_NUL);
	assert_int_equal(cli_line_check("a\x1b[m", 4), CLI_LINE_CONTROL);
	assert_int_equal(cli_line_check("a\x7f", 2), CLI_LINE_CONTROL);
	assert_int_equal(cli_line_check("\xc3", 1), CLI_LINE_UTF8);
	assert_int_equal(cli_line_check("\xc0\x80", 2), CLI_LINE_UTF8);          /* overlong */
	assert_int_equal(cli_line_check("\xed\xa0\x80", 3), CLI_LINE_UTF8);      /* surrogate */
	assert_int_equal(cli_line_check("\xf4\x90\x80\x80", 4), CLI_LINE_UTF8);  /* > U+10FFFF */
	assert_int_equal(cli_line_check("\xf0\x9f\x98\x80", 4), CLI_LINE_OK);
}

static int tok(const char *in, struct cli_tokens *t, char *storage)
{
	strcpy(storage, in);
	return cli_tokenize(storage, t);
}

static void test_tokens(void **state)
{
	(void)state;
	char s[256];
	struct cli_tokens t;
	assert_int_equal(tok("  SET  firstName\t\"John Q\" last'Na me'x a\\ b \"\" '' ", &t, s), CLI_TOK_OK);
	assert_int_equal(t.n, 7);
	assert_string_equal(t.v[0], "SET");
	assert_false(t.lit[0]);
	assert_string_equal(t.v[2], "John Q");
	assert_true(t.lit[2]);
	assert_string_equal(t.v[3], "lastNa mex");
	assert_string_equal(t.v[4], "a b");
	assert_string_equal(t.v[5], "");
	assert_string_equal(t.v[6], "");
	assert_int_equal(tok("a \"x\\\"y\\\\z\\n\"", &t, s), CLI_TOK_OK);
	assert_string_equal(t.v[1], "x\"y\\z\\n");
	assert_int_equal(tok("a 'it\\'", &t, s), CLI_TOK_OK); /* no escapes inside '' */
	assert_string_equal(t.v[1], "it\\");
	assert_int_equal(tok("a \"open", &t, s), CLI_TOK_QUOTE);
	assert_int_equal(tok("a 'open", &t, s), CLI_TOK_QUOTE);
	assert_int_equal(tok("a b\\", &t, s), CLI_TOK_ESCAPE);
	assert_int_equal(tok("", &t, s), CLI_TOK_OK);
	assert_int_equal(t.n, 0);
	char many[400] = "";
	for (int i = 0; i < CLI_MAX_ARGS + 1; i++)
		strcat(many, "x ");
	assert_int_equal(tok(many, &t, s), CLI_TOK_MANY);
}

static const struct cli_cmd *match(enum cli_ctx cx, const char *line, char *s, struct cli_tokens *t, int *nw,
				   enum cli_match *why)
{
	assert_int_equal(tok(line, t, s), CLI_TOK_OK);
	return cli_match(cx, t, nw, why);
}

static void test_matching(void **state)
{
	(void)state;
	char s[256];
	struct cli_tokens t;
	int nw;
	enum cli_match why;
	const struct cli_cmd *c = match(CLI_CTX_ROOT, "list domains x*", s, &t, &nw, &why);
	assert_non_null(c);
	assert_int_equal(nw, 2);
	assert_string_equal(c->words, "LIST Domains");
	assert_null(match(CLI_CTX_ROOT, "COMMIT", s, &t, &nw, &why));
	assert_int_equal(why, CLI_MATCH_ELSEWHERE);
	assert_null(match(CLI_CTX_ROOT, "FROB", s, &t, &nw, &why));
	assert_int_equal(why, CLI_MATCH_NONE);
	/* a quoted word is never a keyword */
	assert_null(match(CLI_CTX_ROOT, "\"LIST\" Domains", s, &t, &nw, &why));
	/* SHOW Domain exists at root only: in a domain, SHOW alone must not take it */
	assert_null(match(CLI_CTX_DOMAIN, "SHOW Domain x", s, &t, &nw, &why));
	assert_int_equal(why, CLI_MATCH_ELSEWHERE);
	c = match(CLI_CTX_DOMAIN, "show attr name", s, &t, &nw, &why);
	assert_non_null(c);
	assert_string_equal(c->words, "SHOW");
	c = match(CLI_CTX_LOGIN, "quit", s, &t, &nw, &why);
	assert_non_null(c);
	assert_string_equal(c->words, "EXIT/QUIT");
}

static void test_arguments(void **state)
{
	(void)state;
	char s[256];
	struct cli_tokens t;
	int nw;
	enum cli_match why;
	struct cli_parsed p;
	const struct cli_cmd *c =
		match(CLI_CTX_ROOT, "CREATE DOMAIN POSTMASTERPASSWD pw NAME x.test", s, &t, &nw, &why);
	assert_non_null(c);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_OK);
	assert_string_equal(p.val[0], "x.test");
	assert_string_equal(p.val[3], "pw");
	assert_true(p.secret[3]);
	assert_false(p.secret[5]);
	c = match(CLI_CTX_ROOT, "UPDATE Domain name", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_OK); /* a domain called "name" */
	assert_string_equal(p.val[0], "name");
	c = match(CLI_CTX_ROOT, "UPDATE Domain \"name\" a.test", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_EXTRA);
	c = match(CLI_CTX_ROOT, "CREATE Domain name", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_NOVALUE);
	c = match(CLI_CTX_ROOT, "DELETE Domain name a.test dontkeepcopy", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_OK);
	assert_non_null(p.val[1]);
	c = match(CLI_CTX_DOMAIN, "ADD Account john", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_MISSING);
	c = match(CLI_CTX_CONTACT, "SET firstName a lastName b", s, &t, &nw, &why);
	assert_int_equal(cli_args_parse(c, &t, nw, &p), CLI_ARGS_OK);
	assert_int_equal(p.set_first, 1);
}

static void test_help_syntax(void **state)
{
	(void)state;
	int n;
	const struct cli_cmd *cmds = cli_commands(&n);
	bool found = false;
	for (int i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		cli_syntax(&cmds[i], &b);
		assert_true(b.len > 0);
		assert_true(b.data[b.len - 1] != '>' || strchr(b.data, '<')); /* placeholders only */
		if (!strcmp(cmds[i].words, "CREATE Domain")) {
			assert_string_equal(b.data, "CREATE Domain name <name> [domainLocation <path>] "
						    "[wmFilterTemplatePath <none>] [postmasterPassword <password>]");
			found = true;
		}
		/* every command the table offers is described, unless it is for later */
		if (!(cmds[i].flags & CLI_LATER) && cmds[i].args[0].kind != CLI_ARG_SET)
			assert_non_null(cmds[i].help);
		buf_free(&b);
	}
	assert_true(found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_ends_every_split),
		cmocka_unit_test(test_telnet_every_split),
		cmocka_unit_test(test_too_long_every_split),
		cmocka_unit_test(test_line_check),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_arguments),
		cmocka_unit_test(test_help_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
