/* Unit tests: the quota rule of delivery (deliver/resolve.c) - the
 * effective limit is the tighter of the total and the per-folder one,
 * where 0 means no limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../src/deliver/resolve.h"

static void test_tighter(void **state)
{
	(void)state;
	assert_int_equal(quota_tighter(0, 0), 0);
	assert_int_equal(quota_tighter(5, 0), 5);
	assert_int_equal(quota_tighter(0, 7), 7);
	assert_int_equal(quota_tighter(5, 7), 5);
	assert_int_equal(quota_tighter(9, 7), 7);
	assert_int_equal(quota_tighter(3, 3), 3);
	/* negative values are no limit, as 0 */
	assert_int_equal(quota_tighter(-1, 4), 4);
	assert_int_equal(quota_tighter(4, -1), 4);
	assert_int_equal(quota_tighter(-1, -1), 0);
	assert_int_equal(quota_tighter(INT64_MAX, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tighter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
