/* Unit tests: the outbound queue index (qindex) and smart-host parsing (route). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/admin/queue_filter.h"
#include "../../src/queue/qindex.h"
#include "../../src/queue/route.h"

static void test_heap_orders_by_due_time(void **state)
{
	(void)state;
	struct qindex *q = qindex_new();
	char id[32];
	/* a pseudo-random permutation of due times */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof id, "m%d", i);
		struct qentry *e = qindex_add(q, id);
		assert_non_null(e);
		qindex_schedule(q, e, (time_t)((i * 7919) % 5000));
	}
	assert_null(qindex_add(q, "m17")); /* no duplicates */
	assert_int_equal(qindex_count(q), 5000);
	time_t last = -1;
	for (int i = 0; i < 5000; i++) {
		struct qentry *e = qindex_first(q);
		assert_non_null(e);
		assert_true(e->due >= last);
		last = e->due;
		qindex_unschedule(q, e);
		assert_int_equal(e->heap_pos, -1);
	}
	assert_null(qindex_first(q));
	assert_int_equal(qindex_count(q), 5000); /* unscheduled, still indexed */
	qindex_free(q);
}

static void test_reschedule_and_remove_keep_heap_valid(void **state)
{
	(void)state;
	struct qindex *q = qindex_new();
	char id[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(id, sizeof id, "x%d", i);
		qindex_schedule(q, qindex_add(q, id), 1000 + i);
	}
	/* move some to the front, some to the back, remove others */
	for (int i = 0; i < 1000; i += 3) {
		snprintf(id, sizeof id, "x%d", i);
		qindex_schedule(q, qindex_find(q, id), i % 2 ? 5 : 5000);
	}
	for (int i = 1; i < 1000; i += 7) {
		snprintf(id, sizeof id, "x%d", i);
		struct qentry *e = qindex_find(q, id);
		if (e)
			qindex_remove(q, e);
	}
	snprintf(id, sizeof id, "x%d", 8);
	assert_null(qindex_find(q, id));
	time_t last = -1;
	size_t n = 0;
	struct qentry *e;
	while ((e = qindex_first(q))) {
		assert_true(e->due >= last);
		last = e->due;
		qindex_unschedule(q, e);
		n++;
	}
	assert_int_equal(n, qindex_count(q));
	assert_int_equal(n, 1000 - 143);
	qindex_free(q);
}

static void test_parse_hosts(void **state)
{
	(void)state;
	struct route r;
	assert_true(route_parse_hosts("mail.example.com:2525,NeedTLS=2; [::1]:26 ;relay.example", 1, &r));
	assert_int_equal(r.nhosts, 3);
	assert_string_equal(r.hosts[0].host, "mail.example.com");
	assert_int_equal(r.hosts[0].port, 2525);
	assert_int_equal(r.hosts[0].need_tls, 2);
	assert_string_equal(r.hosts[1].host, "::1");
	assert_int_equal(r.hosts[1].port, 26);
	assert_int_equal(r.hosts[1].need_tls, 1);
	assert_string_equal(r.hosts[2].host, "relay.example");
	assert_int_equal(r.hosts[2].port, 0);
	assert_true(route_parse_hosts("#a.example;b.example;c.example", 0, &r));
	assert_int_equal(r.nhosts, 3);
	assert_int_equal(r.hosts[0].need_tls, 0);
	/* bad ports, options, host characters, empty */
	assert_false(route_parse_hosts("a.example:0", 1, &r));
	assert_false(route_parse_hosts("a.example:99999", 1, &r));
	assert_false(route_parse_hosts("a.example,Bogus=1", 1, &r));
	assert_false(route_parse_hosts("../etc/passwd", 1, &r));
	assert_false(route_parse_hosts("a b", 1, &r));
	assert_false(route_parse_hosts("", 1, &r));
	assert_false(route_parse_hosts("[::1", 1, &r));
}

static enum tern_err parse(const char *line, struct queue_filter *f)
{
	char copy[512], *tok[32], err[200];
	int n = 0;
	snprintf(copy, sizeof copy, "%s", line);
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && n < 32; t = strtok_r(NULL, " ", &save))
		tok[n++] = t;
	return queue_filter_parse(tok, n, f, err, sizeof err);
}

static void test_filter_grammar(void **state)
{
	(void)state;
	struct queue_filter f;
	struct queue_row r = {"m1", 5000, 1000, 3, false, 2000, "451 4.3.0 try later", "alice@a.test",
			      "bob@b.test,carol@c.test"};
	time_t now = 1000 + 7200; /* two hours in the queue */
	assert_int_equal(parse("size>4K size<1M", &f), TERN_OK);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("size>5K", &f), TERN_OK);
	assert_false(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("age>1h age<1d retries=3", &f), TERN_OK);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("age=7200", &f), TERN_OK);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("status=defer sender=ALICE recipient=carol", &f), TERN_OK);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("recipient!=carol", &f), TERN_OK);
	assert_false(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("sender!=bob message=4.3.0 message!=5.1.1", &f), TERN_OK);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("status=new", &f), TERN_OK);
	assert_false(queue_filter_match(&f, &r, now));
	/* dates: "1 Jan 1970 00:33" is 1980 s; next is 2000 s (same minute) */
	assert_int_equal(parse("next_schedule=1 Jan 1970 00:33", &f), TERN_OK);
	assert_int_equal(f.n, 1);
	assert_true(queue_filter_match(&f, &r, now));
	assert_int_equal(parse("next_schedule>1 Jan 1970 00:34 retries>1", &f), TERN_OK);
	assert_int_equal(f.n, 2);
	assert_false(queue_filter_match(&f, &r, now));
	/* errors */
	assert_int_equal(parse("bogus=1", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("size>10X", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("size!=10", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("status>a", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("sender!x", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("next_schedule>tomorrow", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("age>-5", &f), TERN_E_SYNTAX);
	assert_int_equal(parse("size", &f), TERN_E_SYNTAX);
	char age[32];
	queue_format_age(93784, age, sizeof age);
	assert_string_equal(age, "1d2h");
	queue_format_age(42, age, sizeof age);
	assert_string_equal(age, "42s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heap_orders_by_due_time),
		cmocka_unit_test(test_reschedule_and_remove_keep_heap_valid),
		cmocka_unit_test(test_parse_hosts),
		cmocka_unit_test(test_filter_grammar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
