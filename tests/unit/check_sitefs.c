/*
 * check_sitefs.c — the helper's file transactions (sitefs.h): a swap is
 * the old file or the new one at every step, a rollback restores the old
 * one byte for byte (or removes a file that did not exist), an interrupted
 * transaction is rolled back by ap_fs_recover, a tree is removed without
 * following a symlink out of it, directories are made beneath the root only.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "sitefs.h"

static char base[64];
static int dfd = -1;

static void
setup(void)
{
	snprintf(base, sizeof(base), "/tmp/check-sitefs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
}

static void
teardown(void)
{
	close(dfd);
	/* Only the test's own temp dir. */
	if (strncmp(base, "/tmp/check-sitefs.", 18) == 0) {
		int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

		ap_fs_remove_tree(fd, base + 5);
		close(fd);
	}
}

static char *
slurp(const char *name)
{
	struct ap_buf b = { 0 };
	char *s;

	if (ap_fs_read(dfd, name, 1 << 20, &b) != AP_OK)
		return NULL;
	s = strdup(ap_buf_cstr(&b));
	ap_buf_free(&b);
	return s;
}

static bool
exists(const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

START_TEST(test_swap_commit_and_rollback)
{
	char *s;

	ck_assert_int_eq(ap_fs_write(dfd, "a.conf", "old\n", 4, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "a.conf", "new\n", 4, 0644), AP_OK);
	ck_assert_str_eq((s = slurp("a.conf")), "new\n");
	free(s);
	ck_assert(exists("a.conf.aapanel-prev"));
	ap_fs_swap_rollback(dfd, "a.conf");
	ck_assert_str_eq((s = slurp("a.conf")), "old\n");
	free(s);
	ck_assert(!exists("a.conf.aapanel-prev"));
	ck_assert(!exists("a.conf.aapanel-new"));

	ck_assert_int_eq(ap_fs_swap_begin(dfd, "a.conf", "new\n", 4, 0644), AP_OK);
	ap_fs_swap_commit(dfd, "a.conf");
	ck_assert_str_eq((s = slurp("a.conf")), "new\n");
	free(s);
	ck_assert(!exists("a.conf.aapanel-prev"));
}
END_TEST

START_TEST(test_swap_of_a_new_file_and_a_removal)
{
	char *s;

	/* No old file: rollback removes the new one. */
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "b.conf", "b\n", 2, 0644), AP_OK);
	ck_assert(exists("b.conf"));
	ap_fs_swap_rollback(dfd, "b.conf");
	ck_assert(!exists("b.conf"));
	ck_assert(!exists("b.conf.aapanel-prev"));
	/* A removal (data NULL), rolled back and then committed. */
	ck_assert_int_eq(ap_fs_write(dfd, "c.conf", "c\n", 2, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "c.conf", NULL, 0, 0644), AP_OK);
	ck_assert(!exists("c.conf"));
	ap_fs_swap_rollback(dfd, "c.conf");
	ck_assert_str_eq((s = slurp("c.conf")), "c\n");
	free(s);
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "c.conf", NULL, 0, 0644), AP_OK);
	ap_fs_swap_commit(dfd, "c.conf");
	ck_assert(!exists("c.conf"));
	ck_assert(!exists("c.conf.aapanel-prev"));
}
END_TEST

START_TEST(test_recover_rolls_back_what_was_interrupted)
{
	char *s;

	/* Two changes left half-way (the helper was killed): recover undoes both. */
	ck_assert_int_eq(ap_fs_write(dfd, "d.conf", "old d\n", 6, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "d.conf", "new d\n", 6, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_swap_begin(dfd, "e.conf", "new e\n", 6, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_write(dfd, "f.conf.aapanel-new", "junk", 4, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_recover(dfd), 2);
	ck_assert_str_eq((s = slurp("d.conf")), "old d\n");
	free(s);
	ck_assert(!exists("e.conf"));
	ck_assert(!exists("f.conf.aapanel-new"));
	ck_assert_int_eq(ap_fs_recover(dfd), 0);
}
END_TEST

START_TEST(test_read_refuses_a_symlink_and_bounds)
{
	struct ap_buf b = { 0 };

	ck_assert_int_eq(symlinkat("/etc/passwd", dfd, "link.conf"), 0);
	ck_assert_int_ne(ap_fs_read(dfd, "link.conf", 1 << 20, &b), AP_OK);
	ck_assert_int_eq(ap_fs_write(dfd, "big", "0123456789", 10, 0644), AP_OK);
	ck_assert_int_eq(ap_fs_read(dfd, "big", 5, &b), AP_ERR_TOOBIG);
	ap_buf_free(&b);
	ck_assert_int_eq(ap_fs_read(dfd, "missing", 5, &b), AP_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_remove_tree_never_follows_links)
{
	char outside[128], p[192];
	struct stat st;
	int fd;

	snprintf(outside, sizeof(outside), "%s.outside", base);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	snprintf(p, sizeof(p), "%s/keep.txt", outside);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(mkdirat(dfd, "home", 0755), 0);
	ck_assert_int_eq(mkdirat(dfd, "home/sub", 0755), 0);
	ck_assert_int_eq(ap_fs_write(dfd, "home/sub/f", "x", 1, 0644), AP_OK);
	ck_assert_int_eq(symlinkat(outside, dfd, "home/out"), 0);
	ck_assert_int_eq(ap_fs_remove_tree(dfd, "home"), AP_OK);
	ck_assert(!exists("home"));
	ck_assert_int_eq(stat(p, &st), 0); /* what the link pointed at is untouched */
	unlink(p);
	rmdir(outside);
	ck_assert_int_eq(ap_fs_remove_tree(dfd, "../x"), AP_ERR_INVAL);
}
END_TEST

START_TEST(test_dirs_beneath_the_root)
{
	const char *why = NULL;
	int fd = -1;

	ck_assert_int_eq(ap_fs_dir(dfd, "a/b/c", true, 0755, &fd, &why), AP_OK);
	close(fd);
	ck_assert(exists("a/b/c"));
	ck_assert_int_eq(symlinkat("/etc", dfd, "a/etc"), 0);
	ck_assert_int_eq(ap_fs_dir(dfd, "a/etc/aapanel-test", true, 0755, &fd, &why), AP_ERR_PERM);
	ck_assert_int_eq(ap_fs_dir(dfd, "../escape", true, 0755, &fd, &why), AP_ERR_PERM);
	ck_assert_int_eq(ap_fs_dir(dfd, "missing", false, 0755, &fd, &why), AP_ERR_NOTFOUND);
}
END_TEST

START_TEST(test_dirs_in_a_home_follow_no_link)
{
	const char *why = NULL;
	int fd = -1;

	/* A site's user owns its home: a link there must not steer the helper. */
	ck_assert_int_eq(ap_fs_dir_nofollow(dfd, "a.test/public", true, 0755, &fd, &why), AP_OK);
	close(fd);
	ck_assert_int_eq(mkdirat(dfd, "b.test", 0755), 0);
	ck_assert_int_eq(symlinkat("../a.test/public", dfd, "b.test/public"), 0);
	ck_assert_int_eq(ap_fs_dir_nofollow(dfd, "b.test/public", false, 0, &fd, &why), AP_ERR_PERM);
	ck_assert_int_eq(ap_fs_dir_nofollow(dfd, "b.test/public/x", true, 0755, &fd, &why), AP_ERR_PERM);
	ck_assert(!exists("a.test/public/x"));
	ck_assert_int_eq(ap_fs_dir_nofollow(dfd, "b.test/tmp", true, 0700, &fd, &why), AP_OK);
	close(fd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sitefs");
	TCase *tc = tcase_create("transactions");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_swap_commit_and_rollback);
	tcase_add_test(tc, test_swap_of_a_new_file_and_a_removal);
	tcase_add_test(tc, test_recover_rolls_back_what_was_interrupted);
	tcase_add_test(tc, test_read_refuses_a_symlink_and_bounds);
	tcase_add_test(tc, test_remove_tree_never_follows_links);
	tcase_add_test(tc, test_dirs_beneath_the_root);
	tcase_add_test(tc, test_dirs_in_a_home_follow_no_link);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
