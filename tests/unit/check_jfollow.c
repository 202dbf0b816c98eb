/*
 * check_jfollow.c — the sampler's journal follow streams (src/sampler/jfollow.h):
 * what a worker hands is kept under its token only when every part is what it
 * must be (the unit an enum, the level a name, the search one line of UTF-8
 * in hexadecimal, the cursor a cursor's characters) — hostile values refused:
 * shell metacharacters, ../, NUL, newlines, look-alike letters, over-long —;
 * a token is taken once, expires after 10 s; a reconnection's Last-Event-ID
 * is the cursor only when it is one.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sampler/jfollow.h"

static const char TOK[] = "0123456789abcdef0123456789abcdef";
static const char CUR[] = "s=0123abcd;i=1f;b=89ef;m=2a;t=5e1;x=77";

static char *
hex(const char *s, size_t n)
{
	char *o = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		snprintf(o + 2 * i, 3, "%02x", (unsigned char)s[i]);
	o[2 * n] = '\0';
	return o;
}

START_TEST(test_what_is_kept)
{
	struct ap_jfollow_pending *p = ap_jfollow_pending_new();
	struct ap_jfollow *j;
	char *h = hex("req=ab x", 8);

	ck_assert(ap_jfollow_pending_add(p, TOK, "panel", "warn", h, CUR, 1000));
	ck_assert_ptr_null(ap_jfollow_take(p, "0123456789abcdef0123456789abcdee", NULL, 1000));
	j = ap_jfollow_take(p, TOK, NULL, 2000);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(ap_jfollow_cursor(j), CUR);
	ap_jfollow_free(j);
	/* Taken once. */
	ck_assert_ptr_null(ap_jfollow_take(p, TOK, NULL, 2000));
	/* From the unit's first entry, any level, no search. */
	ck_assert(ap_jfollow_pending_add(p, TOK, "helper", "", "", "", 1000));
	j = ap_jfollow_take(p, TOK, NULL, 1000);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(ap_jfollow_cursor(j), "");
	ap_jfollow_free(j);
	/* Expired after 10 s. */
	ck_assert(ap_jfollow_pending_add(p, TOK, "panel", "", "", CUR, 1000));
	ck_assert_ptr_null(ap_jfollow_take(p, TOK, NULL, 12000));
	free(h);
	ap_jfollow_pending_free(p);
}
END_TEST

START_TEST(test_hostile_parts_refused)
{
	struct ap_jfollow_pending *p = ap_jfollow_pending_new();
	char big[AP_JFOLLOW_CURSOR_MAX + 2];
	char *h;
	static const char *const bad_which[] = { "panel; id", "../panel", "p\xd0\xb0nel", "sshd", "",
		"panel\n", NULL };
	static const char *const bad_level[] = { "warn; id", "WARN", "w\xd0\xb0rn", "../warn", "warning",
		NULL };
	static const char *const bad_cursor[] = { "s=1;i=2; rm -rf /", "$(id)", "`id`", "../../x",
		"s=1\n_SYSTEMD_UNIT=sshd.service", "s=1;\xd1\x96=2", "S=1", "s=1+i=2", NULL };
	static const char *const bad_hex[] = { "6", "zz", "6G", "0a", "00", "7f", "61 62", "ff", "c0af", NULL };

	for (int i = 0; bad_which[i] != NULL; i++)
		ck_assert_msg(!ap_jfollow_pending_add(p, TOK, bad_which[i], "", "", CUR, 1), "which %s", bad_which[i]);
	for (int i = 0; bad_level[i] != NULL; i++)
		ck_assert_msg(!ap_jfollow_pending_add(p, TOK, "panel", bad_level[i], "", CUR, 1), "level %s",
		    bad_level[i]);
	for (int i = 0; bad_cursor[i] != NULL; i++)
		ck_assert_msg(!ap_jfollow_pending_add(p, TOK, "panel", "", "", bad_cursor[i], 1), "cursor %s",
		    bad_cursor[i]);
	/* Not hexadecimal, a control character (LF, NUL, DEL), not UTF-8 (overlong '/'). */
	for (int i = 0; bad_hex[i] != NULL; i++)
		ck_assert_msg(!ap_jfollow_pending_add(p, TOK, "panel", "", bad_hex[i], CUR, 1), "search %s",
		    bad_hex[i]);
	/* Over-long: a cursor of 513 characters, a search of 801 bytes. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert(!ap_jfollow_pending_add(p, TOK, "panel", "", "", big, 1));
	h = malloc(2 * (AP_JFOLLOW_SEARCH_MAX + 1) + 1);
	memset(h, '6', 2 * (AP_JFOLLOW_SEARCH_MAX + 1));
	h[2 * (AP_JFOLLOW_SEARCH_MAX + 1)] = '\0';
	ck_assert(!ap_jfollow_pending_add(p, TOK, "panel", "", h, CUR, 1));
	h[2 * AP_JFOLLOW_SEARCH_MAX] = '\0';
	ck_assert(ap_jfollow_pending_add(p, TOK, "panel", "", h, CUR, 1)); /* 800 bytes: the bound */
	free(h);
	/* Tokens: 32 lowercase hexadecimal digits. */
	ck_assert(!ap_jfollow_pending_add(p, "0123456789ABCDEF0123456789ABCDEF", "panel", "", "", CUR, 1));
	ck_assert(!ap_jfollow_pending_add(p, "0123", "panel", "", "", CUR, 1));
	ck_assert(!ap_jfollow_pending_add(p, "0123456789abcdef0123456789abcde;", "panel", "", "", CUR, 1));
	/* Shell metacharacters in the search are text (hexadecimal here, matched as text by the helper). */
	h = hex("$(id); `x` | ../y", 17);
	ck_assert(ap_jfollow_pending_add(p, "0123456789abcdef0123456789abcdee", "panel", "", h, CUR, 1));
	free(h);
	ap_jfollow_pending_free(p);
}
END_TEST

START_TEST(test_reconnection)
{
	struct ap_jfollow_pending *p = ap_jfollow_pending_new();
	struct ap_jfollow *j;
	struct ap_buf b = {0};

	ck_assert(ap_jfollow_pending_add(p, TOK, "panel", "", "", CUR, 1));
	j = ap_jfollow_take(p, TOK, "s=ff;i=20", 1);
	ck_assert_str_eq(ap_jfollow_cursor(j), "s=ff;i=20");
	ap_jfollow_free(j);
	/* A Last-Event-ID that is not a cursor: the page's cursor stays. */
	ck_assert(ap_jfollow_pending_add(p, TOK, "panel", "", "", CUR, 1));
	j = ap_jfollow_take(p, TOK, "s=1;$(id)", 1);
	ck_assert_str_eq(ap_jfollow_cursor(j), CUR);
	/* No helper: nothing written, no crash. */
	ck_assert(!ap_jfollow_poll(j, NULL, 1, &b));
	ck_assert_uint_eq(b.len, 0);
	ap_jfollow_free(j);
	ap_buf_free(&b);
	ap_jfollow_pending_free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("jfollow");
	TCase *tc = tcase_create("jfollow");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_what_is_kept);
	tcase_add_test(tc, test_hostile_parts_refused);
	tcase_add_test(tc, test_reconnection);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
