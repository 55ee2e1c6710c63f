/* Unit tests: the resolver's answer cache (core/dns_cache): LRU bound,
 * expiry, replacement, resizing, and the TTL policy read from DNS answers
 * (positive: smallest answer TTL, capped; negative per RFC 2308: SOA);
 * and the nameserver entries of DnsServers (core/dns: per-server timeout
 * and retries). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../src/core/dns.h"
#include "../../src/core/dns_cache.h"

static bool has(struct dns_cache *c, const char *key, long long now)
{
	int st;
	unsigned char *b;
	int len;
	bool hit = dns_cache_get(c, key, now, &st, &b, &len);
	free(b);
	return hit;
}

static void test_get_returns_a_copy(void **state)
{
	struct dns_cache *c = dns_cache_new(10);
	const unsigned char ans[] = {1, 2, 3, 4, 5};
	dns_cache_put(c, "k", 0, 60, 7, ans, sizeof ans);
	int st = 0, len = 0;
	unsigned char *b = NULL;
	assert_true(dns_cache_get(c, "k", 1000, &st, &b, &len));
	assert_int_equal(st, 7);
	assert_int_equal(len, 5);
	assert_memory_equal(b, ans, 5);
	free(b);
	assert_false(dns_cache_get(c, "other", 1000, &st, &b, &len));
	assert_null(b);
	unsigned long hits, misses;
	dns_cache_stats(c, &hits, &misses);
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 1);
	dns_cache_free(c);
}

static void test_lru_evicts_least_recently_used(void **state)
{
	struct dns_cache *c = dns_cache_new(3);
	const unsigned char a[] = {0};
	dns_cache_put(c, "a", 0, 60, 0, a, 1);
	dns_cache_put(c, "b", 0, 60, 0, a, 1);
	dns_cache_put(c, "c", 0, 60, 0, a, 1);
	assert_true(has(c, "a", 10)); /* a is now the most recent: b is the oldest */
	dns_cache_put(c, "d", 0, 60, 0, a, 1);
	assert_int_equal(dns_cache_count(c), 3);
	assert_false(has(c, "b", 10));
	assert_true(has(c, "a", 10));
	assert_true(has(c, "c", 10));
	assert_true(has(c, "d", 10));
	/* replacing a key keeps one entry */
	dns_cache_put(c, "d", 0, 60, 1, a, 1);
	assert_int_equal(dns_cache_count(c), 3);
	dns_cache_free(c);
}

static void test_expiry(void **state)
{
	struct dns_cache *c = dns_cache_new(10);
	dns_cache_put(c, "k", 5000, 2, 0, NULL, 0); /* 2 s from 5.000 s */
	assert_true(has(c, "k", 6999));
	assert_false(has(c, "k", 7000));
	assert_int_equal(dns_cache_count(c), 0); /* the expired entry was dropped */
	/* ttl 0 or less, or an answer too large: not kept */
	dns_cache_put(c, "z", 0, 0, 0, NULL, 0);
	dns_cache_put(c, "n", 0, -1, 0, NULL, 0);
	unsigned char *big = calloc(1, DNS_CACHE_MAX_ANSWER + 1);
	dns_cache_put(c, "big", 0, 60, 0, big, DNS_CACHE_MAX_ANSWER + 1);
	free(big);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_free(c);
}

static void test_resize_flush_and_zero(void **state)
{
	struct dns_cache *c = dns_cache_new(100);
	char key[16];
	for (int i = 0; i < 100; i++) { /* also grows the hash table past its first size */
		snprintf(key, sizeof key, "k%d", i);
		dns_cache_put(c, key, 0, 60, 0, (const unsigned char *)key, (int)strlen(key));
	}
	assert_int_equal(dns_cache_count(c), 100);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof key, "k%d", i);
		assert_true(has(c, key, 1));
	}
	dns_cache_set_max(c, 10); /* keeps the 10 most recently used: k90..k99 */
	assert_int_equal(dns_cache_count(c), 10);
	assert_true(has(c, "k90", 1));
	assert_false(has(c, "k89", 1));
	assert_int_equal(dns_cache_flush(c), 10);
	assert_int_equal(dns_cache_count(c), 0);
	dns_cache_set_max(c, 0);
	dns_cache_put(c, "x", 0, 60, 0, NULL, 0);
	assert_false(has(c, "x", 1));
	assert_int_equal(dns_cache_max(c), 0);
	dns_cache_free(c);
}

/* ---- DNS answers ---- */

struct msg {
	unsigned char b[512];
	int n;
};

static void put16(struct msg *m, unsigned v)
{
	m->b[m->n++] = (unsigned char)(v >> 8);
	m->b[m->n++] = (unsigned char)v;
}

static void put32(struct msg *m, uint32_t v)
{
	put16(m, v >> 16);
	put16(m, v & 0xffff);
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");
		m->b[m->n++] = (unsigned char)l;
		memcpy(m->b + m->n, name, l);
		m->n += (int)l;
		name += l + (name[l] ? 1 : 0);
	}
	m->b[m->n++] = 0;
}

/* Header and the question "x.test" A (at offset 12). */
static void start(struct msg *m, unsigned rcode, unsigned an, unsigned ns)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, 0x8180 | rcode);
	put16(m, 1);
	put16(m, an);
	put16(m, ns);
	put16(m, 0);
	put_name(m, "x.test");
	put16(m, 1);
	put16(m, 1);
}

static void put_a(struct msg *m, uint32_t ttl)
{
	put16(m, 0xc00c); /* pointer to the question's name */
	put16(m, 1);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 4);
	put32(m, 0x7f000001);
}

static void put_soa(struct msg *m, uint32_t ttl, uint32_t minimum, bool compressed)
{
	put_name(m, "test");
	put16(m, 6);
	put16(m, 1);
	put32(m, ttl);
	int len_at = m->n;
	put16(m, 0);
	int rd = m->n;
	if (compressed) {
		put16(m, 0xc00c); /* MNAME: x.test */
		put_name(m, "hostmaster.test");
	} else {
		put_name(m, "ns.test");
		put_name(m, "hostmaster.test");
	}
	put32(m, 1);	/* serial */
	put32(m, 3600); /* refresh */
	put32(m, 600);	/* retry */
	put32(m, 86400); /* expire */
	put32(m, minimum);
	m->b[len_at] = (unsigned char)((m->n - rd) >> 8);
	m->b[len_at + 1] = (unsigned char)(m->n - rd);
}

static void test_positive_ttl(void **state)
{
	struct msg m;
	start(&m, 0, 2, 0);
	put_a(&m, 300);
	put_a(&m, 120);
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), 120);
	start(&m, 0, 1, 0);
	put_a(&m, 10 * 86400);
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), DNS_CACHE_MAX_TTL);
	start(&m, 0, 1, 0);
	put_a(&m, 0);
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), 0);
	start(&m, 0, 1, 0);
	put_a(&m, 0x80000005u); /* top bit set: 0 (RFC 2181) */
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), 0);
	start(&m, 0, 0, 0); /* no answer records */
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), -1);
}

static void test_negative_ttl_from_soa(void **state)
{
	struct msg m;
	start(&m, 3, 0, 1); /* NXDOMAIN */
	put_soa(&m, 3600, 60, false);
	assert_int_equal(dns_answer_ttl(m.b, m.n, true), 60); /* the SOA's MINIMUM */
	start(&m, 0, 0, 1); /* no data */
	put_soa(&m, 30, 600, true);
	assert_int_equal(dns_answer_ttl(m.b, m.n, true), 30); /* the SOA record's own TTL */
	start(&m, 3, 0, 1);
	put_soa(&m, 86400, 86400, false);
	assert_int_equal(dns_answer_ttl(m.b, m.n, true), DNS_CACHE_MAX_NEG_TTL);
	start(&m, 3, 0, 0); /* no SOA: not cached */
	assert_int_equal(dns_answer_ttl(m.b, m.n, true), -1);
}

static void test_malformed_answers(void **state)
{
	struct msg m;
	start(&m, 3, 0, 1);
	put_soa(&m, 3600, 60, false);
	for (int cut = 0; cut < m.n; cut++) /* every truncation is refused, none read past the end */
		assert_int_equal(dns_answer_ttl(m.b, cut, true), -1);
	start(&m, 0, 1, 0);
	put_a(&m, 100);
	m.b[m.n - 5] = 200; /* rdlength past the end */
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), -1);
	start(&m, 0, 1, 0);
	m.b[12] = 0x80; /* a reserved label type */
	assert_int_equal(dns_answer_ttl(m.b, m.n, false), -1);
	assert_int_equal(dns_answer_ttl(NULL, 0, false), -1);
}

static void test_server_entries(void **state)
{
	struct dns_server_opts o;
	char out[300];
	dns_server_parse("127.0.0.1:5353", &o); /* an entry from before per-server values */
	assert_string_equal(o.addr, "127.0.0.1:5353");
	assert_int_equal(o.timeout, -1);
	assert_int_equal(o.retries, -1);
	dns_server_format(&o, out, sizeof out);
	assert_string_equal(out, "127.0.0.1:5353");
	dns_server_parse("[::1]:53;timeout=2;retries=0", &o);
	assert_string_equal(o.addr, "[::1]:53");
	assert_int_equal(o.timeout, 2);
	assert_int_equal(o.retries, 0);
	dns_server_format(&o, out, sizeof out);
	assert_string_equal(out, "[::1]:53;timeout=2;retries=0");
	dns_server_parse("::1;RETRIES=3", &o);
	assert_string_equal(o.addr, "::1");
	assert_int_equal(o.timeout, -1);
	assert_int_equal(o.retries, 3);
	dns_server_format(&o, out, sizeof out);
	assert_string_equal(out, "::1;retries=3");
	/* bad options are ignored, the address stays */
	dns_server_parse("10.0.0.1;timeout=x;retries=-1;other=4;timeout=0;;", &o);
	assert_string_equal(o.addr, "10.0.0.1");
	assert_int_equal(o.timeout, -1);
	assert_int_equal(o.retries, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_returns_a_copy),   cmocka_unit_test(test_lru_evicts_least_recently_used),
		cmocka_unit_test(test_expiry),		     cmocka_unit_test(test_resize_flush_and_zero),
		cmocka_unit_test(test_positive_ttl),	     cmocka_unit_test(test_negative_ttl_from_soa),
		cmocka_unit_test(test_malformed_answers),    cmocka_unit_test(test_server_entries),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
