/* Unit tests: TAB-line tokenising and writing (core/tabline). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "../../src/core/tabline.h"

static int split(const char *in, char **f, int max, char *storage)
{
	strcpy(storage, in);
	return tab_split(storage, f, max);
}

static void test_quoted_and_unquoted(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("\"useradd\"\t\"ex.com\"\tbob\t\"pw\"", f, 8, s), 4);
	assert_string_equal(f[0], "useradd");
	assert_string_equal(f[1], "ex.com");
	assert_string_equal(f[2], "bob");
	assert_string_equal(f[3], "pw");
}

static void test_tab_runs_collapse(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("\t\ta\t\t\tb\t", f, 8, s), 2);
	assert_string_equal(f[0], "a");
	assert_string_equal(f[1], "b");
}

static void test_empty_quoted_field_kept(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("a\t\"\"\tb", f, 8, s), 3);
	assert_string_equal(f[1], "");
}

static void test_escaped_quote_and_backslash(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("\"say \\\"hi\\\" \\\\ ok\"", f, 8, s), 1);
	assert_string_equal(f[0], "say \"hi\" \\\\ ok");
}

static void test_text_after_closing_quote_dropped(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("\"a\"b\"", f, 8, s), 1);
	assert_string_equal(f[0], "a");
}

static void test_unbalanced_quote(void **state)
{
	char s[256], *f[8];
	assert_int_equal(split("noop\t\"abc", f, 8, s), TAB_UNBALANCED);
	assert_int_equal(split("\"", f, 8, s), TAB_UNBALANCED);
}

static void test_too_many_fields(void **state)
{
	char s[256], *f[2];
	assert_int_equal(split("a\tb\tc", f, 2, s), TAB_TOO_MANY);
}

static void test_empty_line(void **state)
{
	char s[16], *f[4];
	assert_int_equal(split("", f, 4, s), 0);
	assert_int_equal(split("\t\t", f, 4, s), 0);
	assert_int_equal(split("   ", f, 4, s), 1);
}

static void test_join_raw_and_escaped(void **state)
{
	struct buf b = BUF_INIT;
	const char *f[2] = {"a\"b", "c"};
	tab_join(&b, f, 2, "\r\n");
	assert_string_equal(b.data, "\"a\"b\"\t\"c\"\r\n");
	buf_reset(&b);
	tab_put_escaped(&b, "a\"b");
	assert_string_equal(b.data, "\"a\\\"b\"");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quoted_and_unquoted),
		cmocka_unit_test(test_tab_runs_collapse),
		cmocka_unit_test(test_empty_quoted_field_kept),
		cmocka_unit_test(test_escaped_quote_and_backslash),
		cmocka_unit_test(test_text_after_closing_quote_dropped),
		cmocka_unit_test(test_unbalanced_quote),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_empty_line),
		cmocka_unit_test(test_join_raw_and_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
