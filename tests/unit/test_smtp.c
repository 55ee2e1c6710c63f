/* Unit tests: SMTP command/path parsing and the DATA state machine, the
 * latter fed at every possible split point. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/queue/smtp_reply.h"
#include "../../src/smtp/smtp_data.h"
#include "../../src/smtp/smtp_parse.h"

static void test_verbs(void **state)
{
	struct smtp_cmd c;
	smtp_parse_command("ehlo client.example", &c);
	assert_int_equal(c.verb, SMTP_EHLO);
	assert_string_equal(c.arg, "client.example");
	smtp_parse_command("MAIL FROM:<a@b.c>", &c);
	assert_int_equal(c.verb, SMTP_MAIL);
	assert_string_equal(c.arg, "FROM:<a@b.c>");
	smtp_parse_command("QUIT", &c);
	assert_int_equal(c.verb, SMTP_QUIT);
	assert_string_equal(c.arg, "");
	smtp_parse_command("MAILX", &c);
	assert_int_equal(c.verb, SMTP_UNKNOWN);
}

static void test_paths(void **state)
{
	struct smtp_path p;
	assert_int_equal(smtp_parse_path("FROM:<a@b.example> SIZE=100 BODY=8BITMIME", "FROM:", true, &p), 0);
	assert_string_equal(p.addr, "a@b.example");
	assert_int_equal(p.nparams, 2);
	assert_string_equal(p.key[0], "SIZE");
	assert_string_equal(p.value[0], "100");
	assert_int_equal(smtp_parse_path("FROM:<>", "FROM:", true, &p), 0);
	assert_string_equal(p.addr, "");
	assert_int_equal(smtp_parse_path("TO:<>", "TO:", false, &p), -2);
	assert_int_equal(smtp_parse_path("TO:<@relay.example:u@d.example>", "TO:", false, &p), 0);
	assert_string_equal(p.addr, "u@d.example");
	assert_int_equal(smtp_parse_path("TO:<\"odd name\"@d.example>", "TO:", false, &p), 0);
	assert_int_equal(smtp_parse_path("FROM:", "FROM:", true, &p), -1);
	assert_int_equal(smtp_parse_path("FROM <a@b.c>", "FROM:", true, &p), -1);
	assert_int_equal(smtp_parse_path("FROM:<a@b.c", "FROM:", true, &p), -1);
	assert_int_equal(smtp_parse_path("TO:<a..b@c.d>", "TO:", false, &p), -2);
	assert_int_equal(smtp_parse_path("TO:<a@-bad.d>", "TO:", false, &p), -2);
	assert_int_equal(smtp_parse_path("TO:<a@b.c> NOTIFY", "TO:", false, &p), 0);
	assert_int_equal(smtp_parse_path("TO:<a@b.c> =x", "TO:", false, &p), -1);
}

static void test_addresses(void **state)
{
	assert_true(smtp_addr_valid("user.name+tag@sub.example.com"));
	assert_true(smtp_addr_valid("u@[127.0.0.1]"));
	assert_false(smtp_addr_valid("no-at-sign"));
	assert_false(smtp_addr_valid("@example.com"));
	assert_false(smtp_addr_valid("u@"));
	assert_false(smtp_addr_valid("u@exa mple.com"));
	assert_false(smtp_addr_valid("u@\xc3\xa9xample.com"));
	char l[64], d[64];
	assert_true(smtp_addr_split("Bob@EXAMPLE.Com", l, sizeof l, d, sizeof d));
	assert_string_equal(l, "Bob");
	assert_string_equal(d, "example.com");
}

/* Feed in two parts split at every position; the result must not depend
 * on the split. */
static void check_all_splits(const char *in, const char *want_out, size_t want_used, bool bare_lf, bool bare_cr)
{
	size_t n = strlen(in);
	for (size_t cut = 0; cut <= n; cut++) {
		struct smtp_data d;
		struct buf out = BUF_INIT;
		smtp_data_init(&d, 1 << 20, 1000);
		size_t used = smtp_data_feed(&d, in, cut, &out);
		if (!d.done)
			used += smtp_data_feed(&d, in + cut, n - cut, &out);
		assert_true(d.done == (want_used > 0));
		if (want_used)
			assert_int_equal(used, want_used);
		assert_string_equal(out.data ? out.data : "", want_out);
		assert_int_equal(d.bare_lf, bare_lf);
		assert_int_equal(d.bare_cr, bare_cr);
		buf_free(&out);
	}
}

static void test_data_end_and_unstuffing(void **state)
{
	check_all_splits("Subject: x\r\n\r\nbody\r\n..dot\r\n.\r\nQUIT\r\n", "Subject: x\n\nbody\n.dot\n", 30, false, false);
	check_all_splits(".\r\n", "", 3, false, false);
}

static void test_data_smuggling_never_ends(void **state)
{
	/* None of these end the message; each is flagged. */
	check_all_splits("a\n.\nMAIL FROM:<x@y.z>\r\n", "a\n.\nMAIL FROM:<x@y.z>\n", 0, true, false);
	check_all_splits("a\r.\rb\r\n", "a\r.\rb\n", 0, false, true);
	check_all_splits("a\r\n.\nb\r\n", "a\n\nb\n", 0, true, false);
	check_all_splits("a\n.\r\nb\r\n", "a\n.\nb\n", 0, true, false);
	/* the real end after a smuggling attempt */
	check_all_splits("a\n.\nX\r\n.\r\n", "a\n.\nX\n", 10, true, false);
}

static void test_data_limits(void **state)
{
	struct smtp_data d;
	struct buf out = BUF_INIT;
	smtp_data_init(&d, 10, 1000);
	const char *in = "0123456789abcdef\r\n.\r\n";
	smtp_data_feed(&d, in, strlen(in), &out);
	assert_true(d.done);
	assert_true(d.too_big);
	assert_int_equal(out.len, 10);
	buf_free(&out);
	smtp_data_init(&d, 1000, 5);
	smtp_data_feed(&d, in, strlen(in), &out);
	assert_true(d.done);
	assert_true(d.line_too_long);
	buf_free(&out);
}

/* Received: lines of the header section only, at every split point. */
static void test_data_received_count(void **state)
{
	const char *in = "Received: a\r\nreceived:b\r\nX-Received: c\r\nReceived-SPF: d\r\n RECEIVED: folded\r\n"
			 "RECEIVED: e\r\n\r\nReceived: body\r\n.\r\n";
	size_t n = strlen(in);
	for (size_t cut = 0; cut <= n; cut++) {
		struct smtp_data d;
		struct buf out = BUF_INIT;
		smtp_data_init(&d, 1 << 20, 1000);
		size_t used = smtp_data_feed(&d, in, cut, &out);
		if (!d.done)
			smtp_data_feed(&d, in + used, n - used, &out);
		assert_true(d.done);
		assert_int_equal(d.received, 3);
		buf_free(&out);
	}
}

static void test_reply_lines(void **state)
{
	int code;
	bool last;
	size_t off;
	assert_int_equal(smtp_reply_line("250-first", 9, &code, &last, &off), 0);
	assert_int_equal(code, 250);
	assert_false(last);
	assert_int_equal(off, 4);
	assert_int_equal(smtp_reply_line("550 5.1.1 no", 12, &code, &last, &off), 0);
	assert_true(last);
	assert_int_equal(smtp_reply_line("221", 3, &code, &last, &off), 0);
	assert_true(last);
	assert_int_equal(smtp_reply_line("25", 2, &code, &last, &off), -1);
	assert_int_equal(smtp_reply_line("650 x", 5, &code, &last, &off), -1);
	assert_int_equal(smtp_reply_line("2a0 x", 5, &code, &last, &off), -1);
	assert_int_equal(smtp_reply_line("250x", 4, &code, &last, &off), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_data_end_and_unstuffing),
		cmocka_unit_test(test_data_smuggling_never_ends),
		cmocka_unit_test(test_data_limits),
		cmocka_unit_test(test_data_received_count),
		cmocka_unit_test(test_reply_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
