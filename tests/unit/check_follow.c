/*
 * check_follow.c — the sampler's log follow streams (src/sampler/follow.h):
 * handed descriptors kept under their token (malformed tokens, expiry, the
 * bound), and the events read from a growing log (complete lines only, CR
 * dropped, invalid UTF-8 as '?', id = the offset, a log emptied under it,
 * a start far behind).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/sampler/follow.h"

static const char TOK[] = "0123456789abcdef0123456789abcdef";
static char path[64];
static int wfd = -1;

static void
setup(void)
{
	snprintf(path, sizeof(path), "/tmp/check-follow.XXXXXX");
	wfd = mkstemp(path);
	ck_assert_int_ge(wfd, 0);
}

static void
teardown(void)
{
	close(wfd);
	unlink(path);
}

static int
reader(void)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

static void
append(const char *s)
{
	ck_assert_int_eq(write(wfd, s, strlen(s)), (ssize_t)strlen(s));
}

/* One read's text ("" when nothing came). */
static char *
read_event(struct ap_follow *f)
{
	struct ap_buf b = {0};
	char *s;

	(void)ap_follow_read(f, &b);
	s = strdup(ap_buf_cstr(&b));
	ap_buf_free(&b);
	return s;
}

START_TEST(test_tokens)
{
	struct ap_follow_pending *p = ap_follow_pending_new();
	static const char *const bad[] = {"",
					  "0123",
					  "0123456789ABCDEF0123456789ABCDEF",
					  "0123456789abcdef0123456789abcdeg",
					  "0123456789abcdef0123456789abcdef0",
					  "../../etc/passwd"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(!ap_follow_pending_add(p, bad[i], reader(), 1000), "kept under '%s'",
			      bad[i]);
		ck_assert_int_eq(ap_follow_pending_take(p, bad[i], 1000), -1);
	}
	ck_assert(ap_follow_pending_add(p, TOK, reader(), 1000));
	ck_assert_int_eq(ap_follow_pending_take(p, "ffffffffffffffffffffffffffffffff", 1000), -1);
	{
		int fd = ap_follow_pending_take(p, TOK, 1000);

		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	/* Taken once only. */
	ck_assert_int_eq(ap_follow_pending_take(p, TOK, 1000), -1);
	/* Ten seconds unclaimed: gone. */
	ck_assert(ap_follow_pending_add(p, TOK, reader(), 1000));
	ck_assert_int_eq(ap_follow_pending_take(p, TOK, 11001), -1);
	/* 256 waiting at most. */
	for (int i = 0; i < 256; i++) {
		char t[33];

		snprintf(t, sizeof(t), "%032x", i);
		ck_assert(ap_follow_pending_add(p, t, reader(), 2000));
	}
	ck_assert(!ap_follow_pending_add(p, TOK, reader(), 2000));
	ap_follow_pending_free(p);
}
END_TEST

START_TEST(test_lines_as_they_come)
{
	struct ap_follow *f;
	char *e;

	append("before the stream\n");
	f = ap_follow_new(reader(), -1); /* from the end */
	e = read_event(f);
	ck_assert_str_eq(e, "");
	free(e);
	append("one\r\ntwo\n");
	e = read_event(f);
	ck_assert_str_eq(e, "event: lines\ndata: one\ndata: two\nid: 27\n\n");
	free(e);
	/* A line still being written waits for its end. */
	append("thr");
	e = read_event(f);
	ck_assert_str_eq(e, "");
	free(e);
	append("ee \xff\xfe bytes\n\nfake\revent: x\n");
	e = read_event(f);
	ck_assert_str_eq(e, "event: lines\ndata: three ?? bytes\ndata: \ndata: fake?event: x\nid: 57\n\n");
	free(e);
	ap_follow_free(f);
}
END_TEST

START_TEST(test_where_it_starts)
{
	struct ap_follow *f;
	char *e;

	append("a\nb\n");
	/* From an offset: what came after it. */
	f = ap_follow_new(reader(), 2);
	e = read_event(f);
	ck_assert_str_eq(e, "event: lines\ndata: b\nid: 4\n\n");
	free(e);
	ap_follow_free(f);
	/* Beyond the end (rotated since): from the start. */
	f = ap_follow_new(reader(), 1000);
	e = read_event(f);
	ck_assert_str_eq(e, "event: lines\ndata: a\ndata: b\nid: 4\n\n");
	free(e);
	/* Emptied under it (copytruncate): from its start again. */
	ck_assert_int_eq(ftruncate(wfd, 0), 0);
	lseek(wfd, 0, SEEK_SET);
	append("c\n");
	e = read_event(f);
	ck_assert_str_eq(e, "event: lines\ndata: c\nid: 2\n\n");
	free(e);
	ap_follow_free(f);
}
END_TEST

START_TEST(test_far_behind)
{
	struct ap_follow *f;
	char line[101];
	char *e;

	memset(line, 'x', 99);
	line[99] = '\n';
	line[100] = '\0';
	for (int i = 0; i < 20000; i++) /* 2 MB */
		append(line);
	f = ap_follow_new(reader(), 0);
	/* 1 MiB from the end, from the next whole line; 256 KiB a read. */
	e = read_event(f);
	ck_assert_ptr_nonnull(strstr(e, "event: lines\n"));
	ck_assert_ptr_null(strstr(e, "data: x\n")); /* no cut line */
	ck_assert_int_le(strlen(e), 256 * 1024 * 106 / 100 + 100);
	free(e);
	ap_follow_free(f);
}
END_TEST

/* A rotation: the watched path is another file (renamed, a new one made): read from its start. */
START_TEST(test_rotation)
{
	struct ap_follow_pending *p = ap_follow_pending_new();
	char dom[254], which[8], old[80];
	struct ap_follow *f;
	char *e;
	int fd;

	/* The log's name travels with the descriptor; a malformed one is dropped. */
	ck_assert(ap_follow_pending_add_log(p, TOK, reader(), "rot.test", "access", 1000));
	fd = ap_follow_pending_take_log(p, TOK, 1000, dom, which);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(dom, "rot.test");
	ck_assert_str_eq(which, "access");
	close(fd);
	ck_assert(ap_follow_pending_add_log(p, TOK, reader(), "../etc", "passwd", 1000));
	fd = ap_follow_pending_take_log(p, TOK, 1000, dom, which);
	ck_assert_str_eq(dom, "");
	close(fd);
	ap_follow_pending_free(p);

	append("one\n");
	f = ap_follow_new(reader(), 0);
	ap_follow_watch(f, path, "rot.test", "access");
	free(read_event(f));
	ck_assert(!ap_follow_rotated(f, 5000)); /* the same file */
	snprintf(old, sizeof(old), "%s.1", path);
	ck_assert_int_eq(rename(path, old), 0);
	ck_assert(!ap_follow_rotated(f, 7000)); /* renamed, no new file yet */
	close(wfd);
	wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(wfd, 0);
	append("two\n");
	ck_assert(!ap_follow_rotated(f, 7500)); /* at most once a second */
	ck_assert(ap_follow_rotated(f, 8000));
	ck_assert_str_eq(ap_follow_domain(f), "rot.test");
	ap_follow_switch(f, reader());
	e = read_event(f);
	ck_assert_ptr_nonnull(strstr(e, "data: two\n"));
	ck_assert_ptr_null(strstr(e, "data: one\n"));
	free(e);
	ck_assert(!ap_follow_rotated(f, 9000));
	ap_follow_free(f);
	unlink(old);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("follow");
	TCase *tc = tcase_create("follow");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_lines_as_they_come);
	tcase_add_test(tc, test_where_it_starts);
	tcase_add_test(tc, test_far_behind);
	tcase_add_test(tc, test_rotation);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
