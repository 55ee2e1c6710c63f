/* Unit tests: recipient addresses from To/Cc/Bcc (fetch/hdraddr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/fetch/hdraddr.h"

struct got {
	int n;
	char a[16][330];
};

static void add(void *arg, const char *addr)
{
	struct got *g = arg;
	if (g->n < 16)
		snprintf(g->a[g->n++], sizeof g->a[0], "%s", addr);
}

static struct got run(const char *msg)
{
	struct got g = {0};
	int n = hdr_rcpt_addrs(msg, strlen(msg), add, &g);
	assert_int_equal(n, g.n);
	return g;
}

static void test_forms(void **state)
{
	struct got g = run("From: x@y.example\r\n"
			   "To: \"Smith, John\" <john@a.example>, plain@b.example (comment, with comma)\r\n"
			   "CC: team: m1@a.example, m2@a.example;, <@route.example:r@c.example>\r\n"
			   "Subject: To: not@this.example\r\n"
			   "\r\n"
			   "To: body@not.example\r\n");
	assert_int_equal(g.n, 5);
	assert_string_equal(g.a[0], "john@a.example");
	assert_string_equal(g.a[1], "plain@b.example");
	assert_string_equal(g.a[2], "m1@a.example");
	assert_string_equal(g.a[3], "m2@a.example");
	assert_string_equal(g.a[4], "r@c.example");
}

static void test_folding_lf_and_bcc(void **state)
{
	struct got g = run("bcc:\n\tfirst@a.example,\n second@a.example\nX-Other: third@a.example\nto: last@a.example");
	assert_int_equal(g.n, 3);
	assert_string_equal(g.a[0], "first@a.example");
	assert_string_equal(g.a[1], "second@a.example");
	assert_string_equal(g.a[2], "last@a.example");
}

static void test_junk_is_skipped(void **state)
{
	struct got g = run("To: undisclosed-recipients:;\r\nCc: not an address, <>, \"unterminated\r\n"
			   "Resent-To: r@a.example\r\n\r\n");
	assert_int_equal(g.n, 0);
	char big[2000];
	memset(big, 'x', sizeof big);
	memcpy(big, "To: ", 4);
	memcpy(big + sizeof big - 14, "@a.example\r\n", 12);
	big[sizeof big - 2] = '\0';
	g = run(big);
	assert_int_equal(g.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_folding_lf_and_bcc),
		cmocka_unit_test(test_junk_is_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
