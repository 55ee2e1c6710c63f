/* Unit tests: the sending-limit counters (smtp/send_limits.c) - check versus
 * charge, each limit, refunds, windows ending, the bounded table failing
 * closed and freeing ended windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/smtp/send_limits.h"

static struct send_limits lim(int64_t msgs, int64_t rcpts, int64_t kb, int64_t interval)
{
	struct send_limits l = {true, msgs, rcpts, kb, interval};
	return l;
}

static void test_no_limit_takes_no_slot(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(1);
	struct send_limits none = lim(0, 0, 0, 60), one = lim(1, 0, 0, 60);
	struct send_ticket t;
	int64_t retry;
	for (int i = 0; i < 100; i++)
		assert_int_equal(send_counters_charge(sc, 1, &none, 1, 50, 1 << 20, &retry, &t), SEND_OK);
	/* the only slot is still free for a limited account */
	assert_int_equal(send_counters_charge(sc, 2, &one, 1, 1, 10, &retry, &t), SEND_OK);
	send_counters_free(sc);
}

static void test_each_limit(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(16);
	struct send_limits l = lim(2, 3, 1, 60);
	struct send_ticket t;
	int64_t retry;
	assert_int_equal(send_counters_charge(sc, 7, &l, 1, 2, 500, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_check(sc, 7, &l, 0, 2, 0, &retry), SEND_OVER_RCPTS);
	assert_true(retry > 0 && retry <= 60);
	assert_int_equal(send_counters_check(sc, 7, &l, 0, 1, 0, &retry), SEND_OK);
	assert_int_equal(send_counters_check(sc, 7, &l, 1, 1, 600, &retry), SEND_OVER_SIZE);
	assert_int_equal(send_counters_charge(sc, 7, &l, 1, 1, 524, &retry, &t), SEND_OK); /* exactly 1 KB */
	assert_int_equal(send_counters_check(sc, 7, &l, 1, 0, 1, &retry), SEND_OVER_MSGS);
	/* a refused charge adds nothing; another account is not affected */
	assert_int_equal(send_counters_charge(sc, 7, &l, 1, 0, 1, &retry, &t), SEND_OVER_MSGS);
	assert_int_equal(send_counters_charge(sc, 8, &l, 1, 3, 1024, &retry, &t), SEND_OK);
	send_counters_free(sc);
}

static void test_refund(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(4);
	struct send_limits l = lim(1, 0, 0, 60);
	struct send_ticket t;
	int64_t retry;
	assert_int_equal(send_counters_charge(sc, 3, &l, 1, 1, 10, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_check(sc, 3, &l, 1, 0, 1, &retry), SEND_OVER_MSGS);
	send_counters_refund(sc, &t);
	assert_int_equal(send_counters_check(sc, 3, &l, 1, 0, 1, &retry), SEND_OK);
	send_counters_free(sc);
}

static void test_window_ends_and_full_table(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(2);
	struct send_limits l = lim(1, 0, 0, 1);
	struct send_ticket t;
	int64_t retry;
	assert_int_equal(send_counters_charge(sc, 1, &l, 1, 1, 1, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 2, &l, 1, 1, 1, &retry, &t), SEND_OK);
	/* two live windows, two slots: a third account fails closed */
	assert_int_equal(send_counters_charge(sc, 3, &l, 1, 1, 1, &retry, &t), SEND_FULL);
	assert_int_equal(send_counters_charge(sc, 1, &l, 1, 1, 1, &retry, &t), SEND_OVER_MSGS);
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	/* the windows ended: their slots are free again, the counts start afresh */
	assert_int_equal(send_counters_charge(sc, 3, &l, 1, 1, 1, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 1, &l, 1, 1, 1, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 2, &l, 1, 1, 1, &retry, &t), SEND_FULL);
	send_counters_free(sc);
}

/* SHOW sendQuota's figures and RESET sendQuota: usage of the open window,
 * zeroed by a reset, which also voids a refund for the old window. */
static void test_usage_and_reset(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(4);
	struct send_limits l = lim(2, 0, 0, 60);
	struct send_ticket t1, t2;
	struct send_usage u;
	int64_t retry;
	send_counters_usage(sc, 5, 60, &u);
	assert_false(u.open);
	assert_int_equal(u.msgs, 0);
	assert_false(send_counters_reset(sc, 5));
	time_t before = time(NULL);
	assert_int_equal(send_counters_charge(sc, 5, &l, 1, 3, 2048, &retry, &t1), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 5, &l, 1, 1, 100, &retry, &t2), SEND_OK);
	assert_int_equal(send_counters_check(sc, 5, &l, 1, 0, 0, &retry), SEND_OVER_MSGS);
	send_counters_usage(sc, 5, 60, &u);
	assert_true(u.open);
	assert_int_equal(u.msgs, 2);
	assert_int_equal(u.rcpts, 4);
	assert_int_equal(u.bytes, 2148);
	assert_true(u.started >= before - 1 && u.started <= time(NULL));
	assert_true(u.remaining > 0 && u.remaining <= 60);
	/* another account's usage is its own */
	send_counters_usage(sc, 6, 60, &u);
	assert_false(u.open);
	assert_true(send_counters_reset(sc, 5));
	send_counters_usage(sc, 5, 60, &u);
	assert_false(u.open);
	assert_int_equal(u.msgs + u.rcpts + u.bytes, 0);
	assert_int_equal(send_counters_check(sc, 5, &l, 1, 0, 0, &retry), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 5, &l, 1, 1, 1, &retry, &t2), SEND_OK);
	/* a refund of a charge from before the reset takes nothing away */
	send_counters_refund(sc, &t1);
	send_counters_usage(sc, 5, 60, &u);
	assert_int_equal(u.msgs, 1);
	send_counters_free(sc);
}

/* dump and load: the counts come back, ended windows and damaged dumps do not */
static void test_dump_and_load(void **state)
{
	(void)state;
	struct send_counters *sc = send_counters_new(8);
	struct send_limits l = lim(5, 50, 0, 3600), brief = lim(5, 0, 0, 1);
	struct send_ticket t;
	int64_t retry;
	uint64_t g0 = send_counters_gen(sc);
	assert_int_equal(send_counters_charge(sc, 11, &l, 1, 3, 1000, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 11, &l, 1, 2, 500, &retry, &t), SEND_OK);
	assert_int_equal(send_counters_charge(sc, 12, &brief, 1, 1, 1, &retry, &t), SEND_OK);
	assert_true(send_counters_gen(sc) != g0);
	struct buf d = BUF_INIT;
	uint64_t g = send_counters_dump(sc, &d);
	assert_true(g == send_counters_gen(sc));
	send_counters_free(sc);

	char why[128];
	struct send_counters *back = send_counters_new(8);
	assert_int_equal(send_counters_load(back, d.data, d.len, why, sizeof why), 2);
	struct send_usage u;
	send_counters_usage(back, 11, 3600, &u);
	assert_true(u.open);
	assert_int_equal(u.msgs, 2);
	assert_int_equal(u.rcpts, 5);
	assert_int_equal(u.bytes, 1500);
	assert_true(u.remaining > 3500 && u.remaining <= 3600);
	assert_int_equal(send_counters_check(back, 11, &l, 4, 0, 0, &retry), SEND_OVER_MSGS);
	send_counters_free(back);

	/* account 12's one-second window has ended by now: dropped */
	struct timespec ts = {1, 100000000};
	nanosleep(&ts, NULL);
	back = send_counters_new(8);
	assert_int_equal(send_counters_load(back, d.data, d.len, why, sizeof why), 1);
	send_counters_usage(back, 12, 1, &u);
	assert_false(u.open);
	send_counters_free(back);

	/* every damaged form is refused whole */
	for (size_t cut = 0; cut < d.len; cut++) {
		back = send_counters_new(8);
		assert_int_equal(send_counters_load(back, d.data, cut, why, sizeof why), -1);
		send_counters_usage(back, 11, 3600, &u);
		assert_false(u.open);
		send_counters_free(back);
	}
	for (size_t i = 0; i < d.len; i++) {
		char *bad = strndup(d.data, d.len);
		bad[i] = bad[i] == '7' ? '8' : '7';
		back = send_counters_new(8);
		int n = send_counters_load(back, bad, d.len, why, sizeof why);
		assert_int_equal(n, -1);
		send_counters_free(back);
		free(bad);
	}
	buf_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_limit_takes_no_slot),
		cmocka_unit_test(test_each_limit),
		cmocka_unit_test(test_refund),
		cmocka_unit_test(test_window_ends_and_full_table),
		cmocka_unit_test(test_usage_and_reset),
		cmocka_unit_test(test_dump_and_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
