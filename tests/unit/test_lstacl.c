/* Unit tests: a listener's access-control keys (auth/lstacl) and the
 * allow-rule limit entries with the disabled marker (auth/connlimit). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sys/socket.h>

#include "../../src/auth/connlimit.h"
#include "../../src/auth/lstacl.h"

static void test_keys_are_setting_names(void **state)
{
	(void)state;
	char k[LSTACL_KEY_MAX];
	lstacl_key(k, sizeof k, "cli", "127.0.0.1:7000");
	assert_string_equal(k, "cli.127.0.0.1.7000");
	lstacl_key(k, sizeof k, "pop3", "[::1]:2110");
	assert_string_equal(k, "pop3.::1.2110");
	lstacl_key(k, sizeof k, "smtp", "[2001:db8::5]:25");
	assert_string_equal(k, "smtp.2001:db8::5.25");
}

static void test_canonical_addresses(void **state)
{
	(void)state;
	char a[80];
	lstacl_addr(a, sizeof a, AF_INET6, "0:0::1", 7000);
	assert_string_equal(a, "[::1]:7000");
	lstacl_addr(a, sizeof a, AF_INET, "127.0.0.1", 25);
	assert_string_equal(a, "127.0.0.1:25");
}

static void test_rule_entries_with_off(void **state)
{
	(void)state;
	char ipset[64];
	struct connlimit_conf cf;
	assert_true(connlimit_rule_parse("10.0.0.0/8 3 60 0 2 60 0", ipset, sizeof ipset, &cf));
	assert_string_equal(ipset, "10.0.0.0/8");
	assert_false(cf.off);
	assert_int_equal(cf.max_conns, 3);
	assert_int_equal(cf.peer_max_conns, 2);
	assert_true(connlimit_rule_parse("10.0.0.0/8 3 60 0 2 60 0 off", ipset, sizeof ipset, &cf));
	assert_true(cf.off);
	assert_false(connlimit_rule_parse("10.0.0.0/8 3 60 0 2 60 0 of", ipset, sizeof ipset, &cf));
	assert_false(connlimit_rule_parse("10.0.0.0/8 3 60 0 2 60", ipset, sizeof ipset, &cf));
	assert_false(connlimit_rule_parse("10.0.0.0/8 3 60 0 2 60 0 off 1", ipset, sizeof ipset, &cf));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_are_setting_names),
		cmocka_unit_test(test_canonical_addresses),
		cmocka_unit_test(test_rule_entries_with_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
