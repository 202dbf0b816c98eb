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

/* Which slots must beat, and how long they have been silent (item: idle hang). */
static const struct {
	enum ap_sb_state state;
	int32_t pid;
	uint32_t killed;
	uint64_t beat, now, silent;
} silent_rows[] = {
	{ AP_SB_IDLE, 10, 0, 1000, 1000, 0 },     /* just beat */
	{ AP_SB_IDLE, 10, 0, 1000, 7500, 6500 },  /* idle and silent */
	{ AP_SB_STARTING, 10, 0, 1000, 4000, 3000 }, /* never reached its loop */
	{ AP_SB_BUSY, 10, 0, 1000, 90000, 0 },    /* busy: the request deadline applies */
	{ AP_SB_EXITING, 10, 0, 1000, 90000, 0 }, /* on its way out */
	{ AP_SB_IDLE, 10, 1, 1000, 90000, 0 },    /* already being killed */
	{ AP_SB_IDLE, 0, 0, 1000, 90000, 0 },     /* no process */
	{ AP_SB_FREE, 0, 0, 1000, 90000, 0 },
	{ AP_SB_IDLE, 10, 0, 5000, 4000, 0 },     /* beat "after" now: never negative */
};

START_TEST(test_silent_table)
{
	struct ap_sb_slot s;

	memset(&s, 0, sizeof(s));
	s.state = silent_rows[_i].state;
	s.pid = silent_rows[_i].pid;
	s.killed = silent_rows[_i].killed;
	s.heartbeat_ms = silent_rows[_i].beat;
	ck_assert_uint_eq(ap_sb_silent_ms(&s, silent_rows[_i].now), silent_rows[_i].silent);
}
END_TEST

/* Claiming starts the silence clock; a beat and the end of a request reset it. */
START_TEST(test_heartbeat_resets_silence)
{
	struct ap_sb *sb = NULL;
	struct ap_sb_slot *s;
	int i;

	ck_assert_int_eq(ap_sb_create(path, 2, &sb), AP_OK);
	i = ap_sb_claim(sb, 1);
	s = ap_sb_slot(sb, (unsigned)i);
	s->pid = 77;
	ck_assert_uint_eq(s->heartbeat_ms, s->started_ms);
	ap_sb_set_state(sb, (unsigned)i, AP_SB_IDLE);
	ck_assert_uint_eq(ap_sb_silent_ms(s, s->heartbeat_ms + 9000), 9000);
	s->heartbeat_ms = 1;
	ap_sb_heartbeat(sb, (unsigned)i);
	ck_assert_uint_ge(s->heartbeat_ms, ap_now_ms() - 1000);
	/* A long request: its end must not leave an idle slot with an old beat. */
	ap_sb_begin(sb, (unsigned)i, "GET", "/slow", "r1");
	s->heartbeat_ms = 1;
	ck_assert_uint_eq(ap_sb_silent_ms(s, ap_now_ms()), 0);
	ap_sb_end(sb, (unsigned)i);
	ck_assert_uint_lt(ap_sb_silent_ms(s, ap_now_ms()), 1000);
	ap_sb_close(sb);
}
END_TEST

/* The header carries what `aapanel status` shows without a configuration. */
START_TEST(test_header_identity_round_trip)
{
	struct ap_sb *w = NULL, *r = NULL;

	ck_assert_int_eq(ap_sb_create(path, 2, &w), AP_OK);
	snprintf(ap_sb_header(w)->config, sizeof(ap_sb_header(w)->config), "%s", "/etc/aapanel/aapanel.cfg");
	snprintf(ap_sb_header(w)->socket_path, sizeof(ap_sb_header(w)->socket_path), "%s", "/run/x.sock");
	ap_sb_header(w)->socket_lost = 1;
	ck_assert_int_eq(ap_sb_open(path, &r), AP_OK);
	ck_assert_str_eq(ap_sb_header(r)->config, "/etc/aapanel/aapanel.cfg");
	ck_assert_str_eq(ap_sb_header(r)->socket_path, "/run/x.sock");
	ck_assert_uint_eq(ap_sb_header(r)->socket_lost, 1);
	ck_assert_uint_eq(ap_sb_header(r)->version, AP_SB_VERSION);
	ap_sb_close(r);
	ap_sb_close(w);
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
	tcase_add_loop_test(tc, test_silent_table, 0, (int)AP_NELEM(silent_rows));
	tcase_add_test(tc, test_heartbeat_resets_silence);
	tcase_add_test(tc, test_header_identity_round_trip);
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
