/* check_scoreboard.c — the shared worker table seen by master, worker and `status`. */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/scoreboard.h"

static char dir[64];
static char path[128];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ap-sb-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/scoreboard", dir);
}

static void
teardown(void)
{
	unlink(path);
	rmdir(dir);
}

START_TEST(test_create_then_open_sees_same_table)
{
	struct ap_sb *w = NULL, *r = NULL;

	ck_assert_int_eq(ap_sb_create(path, 8, &w), AP_OK);
	ap_sb_header(w)->master_pid = 4242;
	ck_assert_int_eq(ap_sb_open(path, &r), AP_OK);
	ck_assert_uint_eq(ap_sb_nslots(r), 8);
	ck_assert_int_eq(ap_sb_header(r)->master_pid, 4242);
	ap_sb_close(r);
	ap_sb_close(w);
}
END_TEST

START_TEST(test_open_missing_is_notfound)
{
	struct ap_sb *r = (struct ap_sb *)1;

	ck_assert_int_eq(ap_sb_open(path, &r), AP_ERR_NOTFOUND);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_open_garbage_is_rejected)
{
	struct ap_sb *r = NULL;
	FILE *f = fopen(path, "w");

	fputs("this is not a scoreboard, not at all, really not one", f);
	fclose(f);
	ck_assert_int_eq(ap_sb_open(path, &r), AP_ERR_PARSE);
	ck_assert_ptr_null(r);
}
END_TEST

START_TEST(test_claim_until_full_then_release)
{
	struct ap_sb *sb = NULL;
	int got[4];

	ck_assert_int_eq(ap_sb_create(path, 4, &sb), AP_OK);
	for (int i = 0; i < 4; i++) {
		got[i] = ap_sb_claim(sb, 7);
		ck_assert_int_ge(got[i], 0);
		ap_sb_slot(sb, (unsigned)got[i])->pid = 100 + i;
		ck_assert_uint_eq(ap_sb_slot(sb, (unsigned)got[i])->generation, 7);
		ck_assert_uint_eq(ap_sb_slot(sb, (unsigned)got[i])->state, AP_SB_STARTING);
	}
	ck_assert_int_eq(ap_sb_claim(sb, 7), -1);
	ck_assert_int_eq(ap_sb_find(sb, 102), got[2]);
	ap_sb_release(sb, (unsigned)got[2]);
	ck_assert_int_eq(ap_sb_find(sb, 102), -1);
	ck_assert_int_eq(ap_sb_claim(sb, 8), got[2]);
	ap_sb_close(sb);
}
END_TEST

START_TEST(test_request_accounting_and_total)
{
	struct ap_sb *sb = NULL;
	unsigned busy = 9;
	int s;

	ck_assert_int_eq(ap_sb_create(path, 4, &sb), AP_OK);
	s = ap_sb_claim(sb, 1);
	ap_sb_slot(sb, (unsigned)s)->pid = 99;
	ap_sb_set_state(sb, (unsigned)s, AP_SB_IDLE);
	ck_assert_uint_eq(ap_sb_live(sb, &busy), 1);
	ck_assert_uint_eq(busy, 0);
	ap_sb_begin(sb, (unsigned)s, "GET", "/sites?page=2", "abcdef0123456789");
	ck_assert_uint_eq(ap_sb_live(sb, &busy), 1);
	ck_assert_uint_eq(busy, 1);
	ck_assert_str_eq(ap_sb_slot(sb, (unsigned)s)->path, "/sites?page=2");
	ck_assert_uint_gt(ap_sb_slot(sb, (unsigned)s)->req_start_ms, 0);
	ap_sb_end(sb, (unsigned)s);
	ap_sb_begin(sb, (unsigned)s, "POST", "/lang", NULL);
	ap_sb_end(sb, (unsigned)s);
	ck_assert_uint_eq(ap_sb_slot(sb, (unsigned)s)->requests, 2);
	ap_sb_release(sb, (unsigned)s);
	ck_assert_uint_eq(ap_sb_header(sb)->total_requests, 2);
	ck_assert_uint_eq(ap_sb_live(sb, NULL), 0);
	ap_sb_close(sb);
}
END_TEST

START_TEST(test_long_path_truncated_not_overflowed)
{
	struct ap_sb *sb = NULL;
	char longp[1000];
	int s;

	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	ck_assert_int_eq(ap_sb_create(path, 2, &sb), AP_OK);
	s = ap_sb_claim(sb, 1);
	ap_sb_begin(sb, (unsigned)s, "PROPFINDX", longp, longp);
	ck_assert_uint_eq(strlen(ap_sb_slot(sb, (unsigned)s)->path), sizeof(ap_sb_slot(sb, 0)->path) - 1);
	ck_assert_uint_eq(strlen(ap_sb_slot(sb, (unsigned)s)->method), 7);
	ap_sb_close(sb);
}
END_TEST

START_TEST(test_child_writes_are_visible_to_parent)
{
	struct ap_sb *sb = NULL, *r = NULL;
	int s, st;
	pid_t pid;

	ck_assert_int_eq(ap_sb_create(path, 2, &sb), AP_OK);
	s = ap_sb_claim(sb, 1);
	pid = fork();
	if (pid == 0) {
		ap_sb_slot(sb, (unsigned)s)->pid = (int32_t)getpid();
		ap_sb_begin(sb, (unsigned)s, "GET", "/from-child", "x");
		ap_sb_end(sb, (unsigned)s);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	ck_assert_int_eq(ap_sb_open(path, &r), AP_OK);
	ck_assert_int_eq(ap_sb_slot(r, (unsigned)s)->pid, pid);
	ck_assert_uint_eq(ap_sb_slot(r, (unsigned)s)->requests, 1);
	ck_assert_str_eq(ap_sb_slot(r, (unsigned)s)->path, "/from-child");
	ap_sb_close(r);
	ap_sb_close(sb);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(ap_sb_state_name(AP_SB_BUSY), "busy");
	ck_assert_str_eq(ap_sb_state_name(AP_SB_IDLE), "idle");
	ck_assert_str_eq(ap_sb_state_name((enum ap_sb_state)99), "unknown");
}
END_TEST

START_TEST(test_recreate_replaces_atomically)
{
	struct ap_sb *a = NULL, *b = NULL, *r = NULL;

	ck_assert_int_eq(ap_sb_create(path, 2, &a), AP_OK);
	ck_assert_int_eq(ap_sb_create(path, 6, &b), AP_OK);
	ck_assert_int_eq(ap_sb_open(path, &r), AP_OK);
	ck_assert_uint_eq(ap_sb_nslots(r), 6);
	ap_sb_close(r);
	ap_sb_close(a);
	ap_sb_close(b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("scoreboard");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_then_open_sees_same_table);
	tcase_add_test(tc, test_open_missing_is_notfound);
	tcase_add_test(tc, test_open_garbage_is_rejected);
	tcase_add_test(tc, test_claim_until_full_then_release);
	tcase_add_test(tc, test_request_accounting_and_total);
	tcase_add_test(tc, test_long_path_truncated_not_overflowed);
	tcase_add_test(tc, test_child_writes_are_visible_to_parent);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_recreate_replaces_atomically);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
