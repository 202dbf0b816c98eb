/*
 * check_bkprogress.c — a restore's progress (src/helper/bkprogress.c): the
 * data bytes beneath a folder, as restic 0.14 leaves them while it restores
 * (files preallocated at their full size, then written), on the machine's
 * own filesystem (a folder in /var/tmp, not /dev/shm: tmpfs has no
 * unwritten extents).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bkprogress.h"

static char dir[256];
static int dfd = -1;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/var/tmp/aapanel-bkprogress.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(dfd, 0);
}

static void
teardown(void)
{
	static const char *const names[] = { "a", "pre", "real", "link", "usr" };
	int sub = openat(dfd, "d", O_RDONLY | O_DIRECTORY);

	if (sub >= 0) {
		unlinkat(sub, "b", 0);
		close(sub);
		unlinkat(dfd, "d", AT_REMOVEDIR);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		unlinkat(dfd, names[i], 0);
	close(dfd);
	rmdir(dir);
}

static int
mkfile(int at, const char *name)
{
	int fd = openat(at, name, O_RDWR | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void
fill(int fd, off_t off, size_t n)
{
	char *b = malloc(n);

	memset(b, 'a', n);
	ck_assert_int_eq(pwrite(fd, b, n, off), (ssize_t)n);
	free(b);
}

START_TEST(test_empty_folder_is_zero)
{
	ck_assert_int_eq(ap_bk_data_bytes(dfd), 0);
}
END_TEST

START_TEST(test_written_files_count_their_bytes_nested_too)
{
	int fd = mkfile(dfd, "a"), sub;

	fill(fd, 0, 100000);
	close(fd);
	ck_assert_int_eq(mkdirat(dfd, "d", 0700), 0);
	sub = openat(dfd, "d", O_RDONLY | O_DIRECTORY);
	fd = mkfile(sub, "b");
	fill(fd, 0, 5000);
	close(fd);
	close(sub);
	fsync(dfd);
	ck_assert_int_eq(ap_bk_data_bytes(dfd), 105000);
}
END_TEST

START_TEST(test_preallocated_but_unwritten_is_not_counted)
{
	/* restic's preallocation: the file has its full size and blocks, no data yet */
	int fd = mkfile(dfd, "pre");
	struct stat st;
	int64_t got;

	if (posix_fallocate(fd, 0, 4 << 20) != 0) {
		close(fd);
		return; /* a filesystem without fallocate: restic does not preallocate there either */
	}
	fstat(fd, &st);
	ck_assert_int_eq(st.st_size, 4 << 20);
	ck_assert_int_lt(ap_bk_data_bytes(dfd), 64 * 1024);
	/* one MiB of it written: about one MiB counted (page granularity) */
	fill(fd, 0, 1 << 20);
	fdatasync(fd);
	got = ap_bk_data_bytes(dfd);
	ck_assert_msg(got >= (1 << 20) && got < (1 << 20) + 64 * 1024, "counted %lld", (long long)got);
	fill(fd, 1 << 20, 3 << 20);
	close(fd);
	ck_assert_int_eq(ap_bk_data_bytes(dfd), 4 << 20);
}
END_TEST

START_TEST(test_symlinks_are_not_followed)
{
	int fd = mkfile(dfd, "real");

	fill(fd, 0, 1000);
	close(fd);
	ck_assert_int_eq(symlinkat("real", dfd, "link"), 0);
	ck_assert_int_eq(symlinkat("/usr", dfd, "usr"), 0);
	ck_assert_int_eq(ap_bk_data_bytes(dfd), 1000);
}
END_TEST

START_TEST(test_watch_without_a_job_or_total_is_null)
{
	ck_assert_ptr_null(ap_bk_watch_start(NULL, dfd, 100, 20, 70));
	ap_bk_watch_stop(NULL);
}
END_TEST

static Suite *
bkprogress_suite(void)
{
	Suite *s = suite_create("bkprogress");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_empty_folder_is_zero);
	tcase_add_test(tc, test_written_files_count_their_bytes_nested_too);
	tcase_add_test(tc, test_preallocated_but_unwritten_is_not_counted);
	tcase_add_test(tc, test_symlinks_are_not_followed);
	tcase_add_test(tc, test_watch_without_a_job_or_total_is_null);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(bkprogress_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
