/* Unit tests: the quota rule of delivery (deliver/resolve.c) - the
 * effective limit is the tighter of the total and the per-folder one,
 * where 0 means no limit - and delivery's reservations against the size
 * and message-count quotas (store/mailstore.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/deliver/resolve.h"
#include "../../src/store/mailstore.h"

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

static void put_file(int md, const char *name, size_t size)
{
	int fd = openat(md, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	char buf[256] = {0};
	while (size) {
		size_t n = size < sizeof buf ? size : sizeof buf;
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		size -= n;
	}
	close(fd);
}

/* Copies being delivered count against the quotas until released: the
 * count quota admits exactly the free places, whatever the sizes. */
static void test_reserve_counts_messages(void **state)
{
	(void)state;
	char root[] = "/tmp/tern-quota-XXXXXX";
	assert_non_null(mkdtemp(root));
	int rootfd = open(root, O_RDONLY | O_DIRECTORY);
	assert_true(rootfd >= 0);
	int md = mailstore_open(rootfd, "q.test", "u");
	assert_true(md >= 0);
	put_file(md, "new/1", 100);
	put_file(md, "cur/2", 100);
	/* 2 stored, at most 4: two copies may be reserved, not a third */
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 10, 0, 4), 0);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 10, 0, 4), 0);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 10, 0, 4), MAILSTORE_OVER_COUNT);
	/* one abandoned: its place is free again */
	mailstore_release("q.test", "u", 10);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 10, 0, 4), 0);
	mailstore_release("q.test", "u", 10);
	mailstore_release("q.test", "u", 10);
	/* the size quota counts the reserved bytes; the count quota applies beside it */
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 250, 300, 0), MAILSTORE_OVER_SIZE);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 50, 300, 3), 0);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 60, 300, 0), MAILSTORE_OVER_SIZE);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 1, 300, 3), MAILSTORE_OVER_COUNT);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 0, 0, 3), MAILSTORE_OVER_COUNT);
	mailstore_release("q.test", "u", 50);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 1, 300, 3), 0);
	mailstore_release("q.test", "u", 1);
	/* a file stored behind the server's back is seen */
	put_file(md, "new/3", 10);
	assert_int_equal(mailstore_reserve(rootfd, "q.test", "u", 1, 0, 3), MAILSTORE_OVER_COUNT);
	static const char *const files[] = {"new/1", "cur/2", "new/3"};
	for (size_t i = 0; i < sizeof files / sizeof *files; i++)
		assert_int_equal(unlinkat(md, files[i], 0), 0);
	static const char *const dirs[] = {"tmp", "new", "cur"};
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		assert_int_equal(unlinkat(md, dirs[i], AT_REMOVEDIR), 0);
	close(md);
	static const char *const up[] = {"domains/q.test/u/Maildir", "domains/q.test/u", "domains/q.test", "domains"};
	for (size_t i = 0; i < sizeof up / sizeof *up; i++)
		assert_int_equal(unlinkat(rootfd, up[i], AT_REMOVEDIR), 0);
	close(rootfd);
	assert_int_equal(rmdir(root), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tighter),
		cmocka_unit_test(test_reserve_counts_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
