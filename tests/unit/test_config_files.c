/* Unit tests: the classification of the data root (admin/config_files.c):
 * patterns per component, subtrees, the paths a snapshot may write back,
 * and the walk over a real directory tree. */
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

#include "../../src/admin/config_files.h"
#include "../../src/core/fsutil.h"

static enum cfg_class cls(const char *rel)
{
	const struct cfg_entry *e = cfg_file_classify(rel);
	return e ? e->cls : CFG_UNKNOWN;
}

static void test_classify(void **state)
{
	(void)state;
	assert_int_equal(cls("userdef.tab"), CFG_FILE);
	assert_int_equal(cls("domains/a.test/services.tab"), CFG_FILE);
	assert_int_equal(cls("domains/a.test/adminlimits.tab"), CFG_FILE);
	assert_int_equal(cls("domains/a.test/ann/mailproc.tab"), CFG_FILE);
	assert_int_equal(cls("custdomains/.tab"), CFG_FILE); /* the catch-all */
	assert_int_equal(cls("userauth/smtp/relay.test.tab"), CFG_FILE);
	/* '*' never crosses a '/' */
	assert_int_equal(cls("domains/a.test/x/y/services.tab"), CFG_UNKNOWN);
	assert_int_equal(cls("custdomains/a/b.tab"), CFG_UNKNOWN);
	assert_int_equal(cls("domains/a.test/ann/Maildir/new/1.x"), CFG_MAIL);
	assert_int_equal(cls("spool/queue/1"), CFG_RUNTIME);
	assert_int_equal(cls("keys/secret.key"), CFG_SECRET);
	assert_int_equal(cls("tern.db-wal"), CFG_STORE);
	/* a subtree pattern covers its directory and everything below */
	assert_int_equal(cls("spool"), CFG_RUNTIME);
	assert_int_equal(cls("stray.txt"), CFG_UNKNOWN);
}

static void test_path_ok(void **state)
{
	(void)state;
	assert_true(cfg_file_path_ok("domains/a.test/userdef.tab"));
	assert_false(cfg_file_path_ok("domains/../tern.db"));
	assert_false(cfg_file_path_ok("/userdef.tab"));
	assert_false(cfg_file_path_ok("domains//a/userdef.tab"));
	assert_false(cfg_file_path_ok("domains/./userdef.tab"));
	assert_false(cfg_file_path_ok("keys/secret.key"));
	assert_false(cfg_file_path_ok("custdomains/.tmp.1.2.x.tab"));
	assert_false(cfg_file_path_ok(""));
}

static int collect(void *arg, const char *rel, const struct cfg_entry *e)
{
	(void)e;
	char *out = arg;
	strcat(out, rel);
	strcat(out, "|");
	return 0;
}

static void put(int fd, const char *rel)
{
	assert_int_equal(fs_write_atomic_at(fd, rel, "x\n", 2, 0600), 0);
}

static void test_walk(void **state)
{
	(void)state;
	char dir[] = "/tmp/tern-cfgwalk-XXXXXX";
	assert_non_null(mkdtemp(dir));
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	const char *dirs[] = {"domains", "domains/b.test", "domains/b.test/ann", "domains/b.test/ann/Maildir",
			      "custdomains", "spool"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		assert_int_equal(mkdirat(fd, dirs[i], 0700), 0);
	put(fd, "userdef.tab");
	put(fd, "domains/b.test/services.tab");
	put(fd, "domains/b.test/ann/mailproc.tab");
	put(fd, "domains/b.test/ann/Maildir/mailproc.tab"); /* mail, not configuration */
	put(fd, "custdomains/c.test.tab");
	put(fd, "spool/userdef.tab");
	put(fd, "stray.txt");
	char out[1024] = "";
	assert_int_equal(cfg_files_walk(fd, collect, out), 0);
	assert_string_equal(out, "custdomains/c.test.tab|domains/b.test/ann/mailproc.tab|domains/b.test/services.tab|"
				 "userdef.tab|");
	close(fd);
	char cmd[100];
	snprintf(cmd, sizeof cmd, "%s", dir);
	assert_int_equal(fs_rm_rf(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_path_ok),
		cmocka_unit_test(test_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
