/* Unit tests: wildcard matching (core/wildmat) and name checks (admin). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/admin/admin.h"
#include "../../src/core/wildmat.h"

static void test_star_and_question(void **state)
{
	assert_true(wildmat("*", ""));
	assert_true(wildmat("*admin", "superadmin"));
	assert_false(wildmat("*admin", "admins"));
	assert_true(wildmat("a?c", "abc"));
	assert_false(wildmat("a?c", "ac"));
	assert_true(wildmat("*.example.test", "deep.sub.example.test"));
	assert_false(wildmat("*.example.test", "example.test"));
}

static void test_case_insensitive(void **state)
{
	assert_true(wildmat("ALICE*", "alice@x"));
	assert_true(wildmat("[a-f]*", "Beta"));
}

static void test_classes_and_escape(void **state)
{
	assert_true(wildmat("[abc]x", "bx"));
	assert_false(wildmat("[^abc]x", "bx"));
	assert_true(wildmat("[^abc]x", "dx"));
	assert_true(wildmat("a\\*b", "a*b"));
	assert_false(wildmat("a\\*b", "axb"));
	assert_true(wildmat("[", "["));
}

static void test_backtracking(void **state)
{
	assert_true(wildmat("*a*b*c", "xxaxxbxxbxc"));
	assert_false(wildmat("*a*b*c", "xxaxxbxxbx"));
	assert_true(wildmat_has_wild("a*"));
	assert_false(wildmat_has_wild("plain.name"));
}

static void test_names(void **state)
{
	assert_int_equal(admin_check_domain("example.com"), TERN_OK);
	assert_int_equal(admin_check_domain("a..b"), TERN_E_BAD_ADDRESS);
	assert_int_equal(admin_check_domain(""), TERN_E_BAD_ADDRESS);
	assert_int_equal(admin_check_domain("bad host"), TERN_E_BAD_DOMAIN);
	assert_int_equal(admin_check_domain("x/y"), TERN_E_BAD_DOMAIN);
	assert_int_equal(admin_check_user("john.doe"), TERN_OK);
	assert_int_equal(admin_check_user(".."), TERN_E_BAD_USERNAME);
	assert_int_equal(admin_check_user("a/b"), TERN_E_BAD_USERNAME);
	assert_int_equal(admin_check_address("a@b.c"), TERN_OK);
	assert_int_equal(admin_check_address("@b.c"), TERN_E_BAD_ADDRESS);
	assert_int_equal(admin_check_address("a@"), TERN_E_BAD_ADDRESS);
	assert_false(admin_value_ok("a\tb"));
	assert_true(admin_value_ok("ok value"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_star_and_question), cmocka_unit_test(test_case_insensitive),
		cmocka_unit_test(test_classes_and_escape), cmocka_unit_test(test_backtracking),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
