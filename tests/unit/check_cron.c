/*
 * check_cron.c — cron.h: valid and invalid expressions side by side (each
 * refusal names its field), and next run times checked against dates
 * worked out by hand, in UTC and across a daylight-saving change.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/common.h"
#include "aapanel/cron.h"

static const struct {
	const char *expr, *field; /* field NULL: valid */
} parse_rows[] = {
	{ "* * * * *", NULL },
	{ "*/5 * * * *", NULL },
	{ "0,15,30,45 8-18 * * mon-fri", NULL },
	{ "30 2 1 jan,JUL *", NULL },
	{ "0 0 * * 7", NULL },
	{ "10-50/10 */2 1-15 * sun", NULL },
	{ "  5  4  *  *  *  ", NULL },
	{ "@daily", NULL },
	{ "@hourly", NULL },
	{ "60 * * * *", "minute" },
	{ "-1 * * * *", "minute" },
	{ "5/10 * * * *", "minute" },
	{ "*/0 * * * *", "minute" },
	{ "1,,2 * * * *", "minute" },
	{ "1, * * * *", "minute" },
	{ "* 24 * * *", "hour" },
	{ "* 5-3 * * *", "hour" },
	{ "* * 0 * *", "day_of_month" },
	{ "* * 32 * *", "day_of_month" },
	{ "* * * 13 *", "month" },
	{ "* * * foo *", "month" },
	{ "* * * * 8", "day_of_week" },
	{ "* * * * mon-", "day_of_week" },
	{ "* * * *", "schedule" },
	{ "* * * * * *", "schedule" },
	{ "", "schedule" },
	{ "@reboot", "schedule" },
	{ "* * * * *; rm -rf /", "schedule" },
	{ "* * * * * /bin/sh", "schedule" },
	{ "*\n* * * *", "schedule" },
	{ "$(id) * * * *", "schedule" },
	{ "* * * * 1%2", "schedule" },
	{ "111 * * * *", "minute" },
};

START_TEST(test_parse)
{
	struct ap_cron c;
	const char *field = "unset", *why = NULL;
	bool ok = ap_cron_parse(parse_rows[_i].expr, &c, &field, &why);

	if (parse_rows[_i].field == NULL) {
		ck_assert_msg(ok, "'%s' refused: %s %s", parse_rows[_i].expr, field, why);
		ck_assert_ptr_null(field);
	} else {
		ck_assert_msg(!ok, "'%s' accepted", parse_rows[_i].expr);
		ck_assert_str_eq(field, parse_rows[_i].field);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_normalised_text)
{
	struct ap_cron c;
	const char *f, *w;

	ck_assert(ap_cron_parse("  5  4  *  *  mon ", &c, &f, &w));
	ck_assert_str_eq(c.text, "5 4 * * mon");
	ck_assert(ap_cron_parse("@weekly", &c, &f, &w));
	ck_assert_str_eq(c.text, "0 0 * * 0");
	ck_assert(ap_cron_parse("0 0 * * 7", &c, &f, &w));
	ck_assert_int_eq(c.dow, 1); /* 7 is Sunday, bit 0 */
}
END_TEST

/* The field check names the part at fault in its reason. */
START_TEST(test_check_names_the_part)
{
	static const struct {
		const char *expr, *part;
	} rows[] = {
		{ "61 * * * *", "minute" }, { "* 25 * * *", "hour" }, { "* * 0 * *", "day of the month" },
		{ "* * * 0 *", "month" }, { "* * * * 9", "day of the week" }, { "* * *", "five parts" },
	};

	ck_assert_ptr_null(ap_check_cron("*/5 * * * *", 11));
	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		const char *r = ap_check_cron(rows[i].expr, strlen(rows[i].expr));

		ck_assert_ptr_nonnull(r);
		ck_assert_msg(strstr(r, rows[i].part) != NULL, "%s: %s", rows[i].expr, r);
	}
	ck_assert_ptr_nonnull(ap_check_cron("* * * * *\0x", 11));
}
END_TEST

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		.tm_min = mi, .tm_isdst = -1 };

	return mktime(&tm);
}

static const struct {
	const char *tz, *expr;
	int from[5], next[5]; /* y m d h min; next[0] = 0: never */
} next_rows[] = {
	{ "UTC", "* * * * *", { 2026, 12, 1, 10, 0 }, { 2026, 12, 1, 10, 1 } },
	{ "UTC", "*/15 * * * *", { 2026, 12, 1, 10, 7 }, { 2026, 12, 1, 10, 15 } },
	{ "UTC", "0 0 * * *", { 2026, 12, 31, 23, 59 }, { 2027, 1, 1, 0, 0 } },
	{ "UTC", "30 2 29 2 *", { 2026, 3, 1, 0, 0 }, { 2028, 2, 29, 2, 30 } },
	{ "UTC", "0 9 * * mon-fri", { 2026, 12, 4, 9, 0 }, { 2026, 12, 7, 9, 0 } }, /* Fri → Mon */
	/* Both day fields restricted: the 13th OR a Friday (cron's rule). */
	{ "UTC", "0 0 13 * fri", { 2026, 12, 1, 0, 0 }, { 2026, 12, 4, 0, 0 } },
	/* One restricted (weekday), the other '*': only Fridays. */
	{ "UTC", "0 0 * * fri", { 2026, 12, 4, 0, 0 }, { 2026, 12, 11, 0, 0 } },
	{ "UTC", "0 0 31 4 *", { 2026, 1, 1, 0, 0 }, { 0 } }, /* 31 April: never */
	/* Europe/Berlin springs forward on 2027-03-28 at 02:00 → 03:00: no 02:30 that day. */
	{ "Europe/Berlin", "30 2 * * *", { 2027, 3, 27, 3, 0 }, { 2027, 3, 29, 2, 30 } },
	{ "Europe/Berlin", "0 12 * * *", { 2027, 3, 28, 1, 0 }, { 2027, 3, 28, 12, 0 } },
};

START_TEST(test_next)
{
	struct ap_cron c;
	const char *f, *w;
	time_t from, got, want;
	const int *a = next_rows[_i].from, *b = next_rows[_i].next;

	setenv("TZ", next_rows[_i].tz, 1);
	tzset();
	ck_assert(ap_cron_parse(next_rows[_i].expr, &c, &f, &w));
	from = utc(a[0], a[1], a[2], a[3], a[4]);
	got = ap_cron_next(&c, from);
	if (b[0] == 0) {
		ck_assert_msg(got == -1, "'%s' fires at %lld", next_rows[_i].expr, (long long)got);
		return;
	}
	want = utc(b[0], b[1], b[2], b[3], b[4]);
	ck_assert_msg(got == want, "'%s' from %lld: got %lld, want %lld", next_rows[_i].expr,
	    (long long)from, (long long)got, (long long)want);
}
END_TEST

/* Five previews in a row are strictly increasing and each matches. */
START_TEST(test_five_in_a_row)
{
	struct ap_cron c;
	const char *f, *w;
	time_t t;

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert(ap_cron_parse("5 */6 * * *", &c, &f, &w));
	t = utc(2026, 12, 1, 0, 5); /* exactly on a match: the next is strictly later */
	for (int i = 0; i < 5; i++) {
		time_t n = ap_cron_next(&c, t);
		struct tm tm;

		ck_assert(n > t);
		gmtime_r(&n, &tm);
		ck_assert_int_eq(tm.tm_min, 5);
		ck_assert_int_eq(tm.tm_hour % 6, 0);
		ck_assert_int_eq((int)(n - t), 6 * 3600);
		t = n;
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cron");
	TCase *tc = tcase_create("cron");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_parse, 0, (int)AP_NELEM(parse_rows));
	tcase_add_test(tc, test_normalised_text);
	tcase_add_test(tc, test_check_names_the_part);
	tcase_add_loop_test(tc, test_next, 0, (int)AP_NELEM(next_rows));
	tcase_add_test(tc, test_five_in_a_row);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
