/* Unit tests: the XMail table views (render, parse, replace). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/admin/admin.h"
#include "../../src/admin/views.h"
#include "../../src/core/fsutil.h"
#include "../../src/auth/password.h"
#include "../../src/core/secret.h"

struct fixture {
	char root[64];
	struct admin_env env;
	struct admin_ctx ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	strcpy(f->root, "/tmp/tern-views-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	char p[128];
	snprintf(p, sizeof p, "%s/secret.key", f->root);
	if (secret_box_init(p) < 0)
		return -1;
	snprintf(p, sizeof p, "%s/tern.db", f->root);
	f->env.root = f->root;
	f->env.rootfd = open(f->root, O_RDONLY | O_DIRECTORY);
	if (dir_open(p, &f->env.dir) != TERN_OK)
		return -1;
	f->ctx = (struct admin_ctx){.env = &f->env, .rd = dir_conn_open(f->env.dir), .admin = "t", .peer = "-"};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	dir_conn_close(f->ctx.rd);
	dir_close(f->env.dir);
	close(f->env.rootfd);
	fs_rm_rf(f->root);
	free(f);
	return 0;
}

static enum tern_err set(struct fixture *f, const char *name, const char *data, int *bad)
{
	return view_replace(&f->ctx, name, data, strlen(data), bad);
}

static void test_xmail_decode(void **state)
{
	char out[64];
	assert_int_equal(view_xmail_decode("04090c06001512", out, sizeof out), 0);
	assert_string_equal(out, "alicepw");
	assert_int_equal(view_xmail_decode("041", out, sizeof out), -1);
	assert_int_equal(view_xmail_decode("zz", out, sizeof out), -1);
	assert_int_equal(view_xmail_decode("65", out, sizeof out), -1); /* NUL */
}

static void test_import_xmail_tables(void **state)
{
	struct fixture *f = *state;
	int bad = 0;
	assert_int_equal(set(f, "domains.tab", "\"example.test\"\n# comment\n", &bad), TERN_OK);
	assert_int_equal(set(f, "mailusers.tab",
			     "\"example.test\"\t\"alice\"\t\"04090c06001512\"\t7\t\"alice\"\t\"U\"\n", &bad),
			 TERN_OK);
	assert_int_equal(admin_user_auth(&f->ctx, "example.test", "alice", "alicepw"), TERN_OK);
	assert_int_equal(admin_user_auth(&f->ctx, "example.test", "alice", "nope"), TERN_E_BAD_PASSWORD);
	struct buf out = BUF_INIT;
	assert_int_equal(view_render(&f->ctx, "mailusers.tab", &out), TERN_OK);
	assert_string_equal(out.data, "\"example.test\"\t\"alice\"\t\"********\"\t7\t\"alice\"\t\"U\"\n");
	/* Round trip with the placeholder keeps the password. */
	assert_int_equal(set(f, "mailusers.tab", out.data, &bad), TERN_OK);
	assert_int_equal(admin_user_auth(&f->ctx, "example.test", "alice", "alicepw"), TERN_OK);
	buf_free(&out);
}

static void test_bad_line_changes_nothing(void **state)
{
	struct fixture *f = *state;
	int bad = 0;
	assert_int_equal(set(f, "domains.tab", "\"a.test\"\n\"b.test\"\n", &bad), TERN_OK);
	assert_int_equal(set(f, "domains.tab", "\"a.test\"\n\"c.test\"\n\"bad host\"\n", &bad), TERN_E_BAD_FILE);
	assert_int_equal(bad, 3);
	struct buf out = BUF_INIT;
	view_render(&f->ctx, "domains.tab", &out);
	assert_string_equal(out.data, "\"a.test\"\n\"b.test\"\n");
	buf_free(&out);
	/* A user in a domain that does not exist is caught inside the transaction. */
	assert_int_equal(set(f, "mailusers.tab", "\"x.test\"\t\"bob\"\t\"0000\"\t1\t\"bob\"\t\"U\"\n", &bad),
			 TERN_E_BAD_FILE);
	assert_int_equal(bad, 1);
}

static void test_server_tab_validation(void **state)
{
	struct fixture *f = *state;
	int bad = 0;
	assert_int_equal(set(f, "server.tab", "\"TrashKeepDays\"\t\"7\"\n\"XMailOnlyVar\"\t\"kept\"\n", &bad), TERN_OK);
	struct buf out = BUF_INIT;
	view_render(&f->ctx, "server.tab", &out);
	assert_non_null(strstr(out.data, "\"TrashKeepDays\"\t\"7\"\n"));
	assert_non_null(strstr(out.data, "\"XMailOnlyVar\"\t\"kept\"\n"));
	buf_free(&out);
	assert_int_equal(set(f, "server.tab", "\"TrashKeepDays\"\t\"many\"\n", &bad), TERN_E_BAD_FILE);
	assert_int_equal(bad, 1);
}

static void test_ipmap_view_and_evaluation(void **state)
{
	struct fixture *f = *state;
	int bad = 0;
	assert_int_equal(set(f, "ctrl.ipmap.tab",
			     "\"0.0.0.0\"\t\"0.0.0.0\"\t\"DENY\"\t1\n\"127.0.0.1\"\t\"255.255.255.255\"\t\"ALLOW\"\t2\n"
			     "\"::1/128\"\t\"0\"\t\"DENY\"\t2\n",
			     &bad),
			 TERN_OK);
	assert_true(admin_ipmap_allows(f->ctx.rd, "ctrl", "127.0.0.1"));
	assert_false(admin_ipmap_allows(f->ctx.rd, "ctrl", "10.1.2.3"));
	assert_false(admin_ipmap_allows(f->ctx.rd, "ctrl", "::1"));
	assert_true(admin_ipmap_allows(f->ctx.rd, "ctrl", "2001:db8::1"));
	assert_int_equal(set(f, "ctrl.ipmap.tab", "\"1.2.3.4\"\t\"x\"\t\"ALLOW\"\tfirst\n", &bad), TERN_E_BAD_FILE);
}

/* What the rehash worker does, run inline. */
static enum tern_err tx_rehash(struct dir_conn *c, void *arg)
{
	(void)arg;
	int64_t ids[8];
	void *boxes[8];
	size_t lens[8];
	int n = dir_user_pending_batch(c, 8, ids, boxes, lens);
	enum tern_err e = TERN_OK;
	for (int i = 0; i < n; i++) {
		struct buf plain = BUF_INIT;
		char hash[160];
		if (!e && secret_box_open(boxes[i], lens[i], &plain) == 0 && pw_hash(plain.data, 1, hash, sizeof hash) == 0)
			e = dir_user_set_hash_if(c, ids[i], hash, boxes[i], lens[i]);
		buf_free(&plain);
		free(boxes[i]);
	}
	return e;
}

static void test_challenge_secret_opt_in(void **state)
{
	struct fixture *f = *state;
	char p[128];
	snprintf(p, sizeof p, "%s/domains", f->root);
	mkdir(p, 0700);
	assert_int_equal(admin_domain_add(&f->ctx, "ex.test"), TERN_OK);
	assert_int_equal(admin_user_add(&f->ctx, "ex.test", "alice", "pw1", "U"), TERN_OK);
	struct buf sec = BUF_INIT;
	assert_int_equal(admin_user_secret(&f->ctx, "ex.test", "alice", &sec), TERN_E_RECORD_NOT_FOUND);
	char *on[2] = {"EnableChallengeAuth", "1"};
	assert_int_equal(admin_user_vars_set(&f->ctx, "ex.test", "alice", on, 2), TERN_OK);
	assert_int_equal(admin_user_passwd(&f->ctx, "ex.test", "alice", "pw2"), TERN_OK);
	assert_int_equal(dir_write(f->env.dir, tx_rehash, NULL), TERN_OK);
	struct dir_user u;
	assert_true(dir_user_get(f->ctx.rd, "ex.test", "alice", &u));
	assert_false(u.has_pending);
	assert_memory_equal(u.pwhash, "$y$", 3);
	assert_int_equal(admin_user_auth(&f->ctx, "ex.test", "alice", "pw2"), TERN_OK);
	assert_int_equal(admin_user_secret(&f->ctx, "ex.test", "alice", &sec), TERN_OK);
	assert_string_equal(sec.data, "pw2");
	buf_free(&sec);
	char *off[2] = {"EnableChallengeAuth", ".|rm"};
	assert_int_equal(admin_user_vars_set(&f->ctx, "ex.test", "alice", off, 2), TERN_OK);
	assert_int_equal(admin_user_secret(&f->ctx, "ex.test", "alice", &sec), TERN_E_RECORD_NOT_FOUND);
	assert_int_equal(admin_user_auth(&f->ctx, "ex.test", "alice", "pw2"), TERN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xmail_decode),
		cmocka_unit_test_setup_teardown(test_import_xmail_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_line_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_tab_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipmap_view_and_evaluation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_secret_opt_in, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
