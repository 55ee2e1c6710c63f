/* Unit tests: the SQLite directory store and its group commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/core/fsutil.h"
#include "../../src/store/directory.h"

struct fixture {
	char dir[64];
	struct dir *d;
	struct dir_conn *c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	strcpy(f->dir, "/tmp/tern-unit-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	char path[128];
	snprintf(path, sizeof path, "%s/tern.db", f->dir);
	if (dir_open(path, &f->d) != TERN_OK)
		return -1;
	f->c = dir_conn_open(f->d);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dir_conn_close(f->c);
	dir_close(f->d);
	fs_rm_rf(f->dir);
	free(f);
	return 0;
}

static enum tern_err tx_setup(struct dir_conn *c, void *arg)
{
	(void)arg;
	enum tern_err e;
	if ((e = dir_domain_add(c, "Example.COM")))
		return e;
	if ((e = dir_user_add(c, "example.com", "alice", 'U', "box", 3, "RealName\t??\nMaxMBSize\t100\n", 0, NULL)))
		return e;
	if ((e = dir_user_add(c, "example.com", "list", 'M', "box", 3, "", 0, NULL)))
		return e;
	return dir_alias_add(c, "example.com", "pm", "alice");
}

struct rows {
	int n;
	char last[4][128];
};

static int count_row(void *arg, const char *const *f, int n)
{
	struct rows *r = arg;
	r->n++;
	for (int i = 0; i < n && i < 4; i++)
		snprintf(r->last[i], sizeof r->last[i], "%s", f[i]);
	return 0;
}

static void test_domains_lowercased_and_case_insensitive(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	assert_true(dir_domain_exists(f->c, "EXAMPLE.com"));
	struct rows r = {0};
	dir_domain_list(f->c, count_row, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.last[0], "example.com");
	struct dir_user u;
	assert_true(dir_user_get(f->c, "example.com", "ALICE", &u));
	assert_string_equal(u.name, "alice");
	assert_true(u.has_pending);
}

static enum tern_err tx_vars(struct dir_conn *c, void *arg)
{
	int64_t id = *(int64_t *)arg;
	enum tern_err e;
	if ((e = dir_uservar_set(c, id, "MaxMBSize", "200")) || (e = dir_uservar_set(c, id, "New", "x")) ||
	    (e = dir_uservar_del(c, id, "RealName")) || (e = dir_uservar_del(c, id, "Missing")))
		return e;
	return TERN_OK;
}

static int collect_vars(void *arg, const char *const *f, int n)
{
	char *out = arg;
	(void)n;
	strcat(out, f[0]);
	strcat(out, "=");
	strcat(out, f[1]);
	strcat(out, ";");
	return 0;
}

static void test_vars_order_set_delete(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	struct dir_user u;
	assert_true(dir_user_get(f->c, "example.com", "alice", &u));
	assert_int_equal(dir_write(f->d, tx_vars, &u.id), TERN_OK);
	char out[256] = "";
	dir_uservar_list(f->c, u.id, collect_vars, out);
	assert_string_equal(out, "MaxMBSize=200;New=x;");
}

static void test_user_list_filters_and_paging(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	struct rows r = {0};
	dir_user_list(f->c, "*.com", "a*", -1, -1, count_row, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.last[1], "alice");
	memset(&r, 0, sizeof r);
	dir_user_list(f->c, NULL, NULL, 1, 5, count_row, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.last[1], "list");
	memset(&r, 0, sizeof r);
	dir_user_list(f->c, "example.com", "alice", -1, -1, count_row, &r);
	assert_int_equal(r.n, 1);
	memset(&r, 0, sizeof r);
	dir_user_count(f->c, NULL, count_row, &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.last[1], "2");
}

static void test_alias_resolution(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	char t[128];
	assert_true(dir_alias_resolve(f->c, "example.com", "PM", t, sizeof t));
	assert_string_equal(t, "alice");
	assert_false(dir_alias_resolve(f->c, "example.com", "nobody", t, sizeof t));
}

static enum tern_err tx_domdel(struct dir_conn *c, void *arg)
{
	(void)arg;
	return dir_domain_del(c, "example.com");
}

static void test_domain_delete_cascades(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	assert_int_equal(dir_write(f->d, tx_domdel, NULL), TERN_OK);
	struct rows r = {0};
	dir_user_list(f->c, NULL, NULL, -1, -1, count_row, &r);
	dir_alias_list(f->c, count_row, &r);
	assert_int_equal(r.n, 0);
}

static enum tern_err tx_fail_after_insert(struct dir_conn *c, void *arg)
{
	(void)arg;
	dir_domain_add(c, "halfway.test");
	return TERN_E_INVALID;
}

static void test_failed_callback_rolls_back(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_fail_after_insert, NULL), TERN_E_INVALID);
	assert_false(dir_domain_exists(f->c, "halfway.test"));
}

struct thread_arg {
	struct dir *d;
	int base;
};

static enum tern_err tx_add_domain(struct dir_conn *c, void *arg)
{
	return dir_domain_add(c, arg);
}

static void *writer(void *p)
{
	struct thread_arg *a = p;
	for (int i = 0; i < 50; i++) {
		char name[64];
		snprintf(name, sizeof name, "d%d-%d.test", a->base, i);
		if (dir_write(a->d, tx_add_domain, name) != TERN_OK)
			return (void *)1;
	}
	return NULL;
}

static void test_group_commit_concurrent_writers(void **state)
{
	struct fixture *f = *state;
	pthread_t t[8];
	struct thread_arg a[8];
	for (int i = 0; i < 8; i++) {
		a[i] = (struct thread_arg){f->d, i};
		pthread_create(&t[i], NULL, writer, &a[i]);
	}
	for (int i = 0; i < 8; i++) {
		void *rc;
		pthread_join(t[i], &rc);
		assert_null(rc);
	}
	struct rows r = {0};
	dir_domain_list(f->c, count_row, &r);
	assert_int_equal(r.n, 400);
	uint64_t commits, writes;
	dir_write_stats(f->d, &commits, &writes);
	assert_int_equal(writes, 400);
	assert_true(commits <= writes);
}

static void test_reopen_keeps_data(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(dir_write(f->d, tx_setup, NULL), TERN_OK);
	dir_conn_close(f->c);
	dir_close(f->d);
	char path[128];
	snprintf(path, sizeof path, "%s/tern.db", f->dir);
	assert_int_equal(dir_open(path, &f->d), TERN_OK);
	f->c = dir_conn_open(f->d);
	assert_true(dir_user_get(f->c, "example.com", "alice", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_domains_lowercased_and_case_insensitive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vars_order_set_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_list_filters_and_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(test_domain_delete_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_callback_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit_concurrent_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
