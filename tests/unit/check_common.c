/* check_common.c — buffer, escaping, bounded parsing, UTF-8, arena. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/arena.h"
#include "aapanel/common.h"

START_TEST(test_html_escapes_all_five)
{
	struct ap_buf b = { 0 };
	const char *in = "<a b=\"'&'\">";

	ap_buf_html_escape(&b, in, strlen(in));
	ck_assert_str_eq(ap_buf_cstr(&b), "&lt;a b=&quot;&#39;&amp;&#39;&quot;&gt;");
	ap_buf_free(&b);
}
END_TEST

static const struct {
	const char *in, *out;
} escape_rows[] = {
	{ "", "" },
	{ "plain", "plain" },
	{ "&&", "&amp;&amp;" },
	{ "<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "لوحة تحكم <الخادم>", "لوحة تحكم &lt;الخادم&gt;" },
	{ "a'b\"c", "a&#39;b&quot;c" },
	{ "&amp;", "&amp;amp;" },
};

START_TEST(test_html_escape_table)
{
	struct ap_buf b = { 0 };

	ap_buf_html_escape(&b, escape_rows[_i].in, strlen(escape_rows[_i].in));
	ck_assert_str_eq(ap_buf_cstr(&b), escape_rows[_i].out);
	ap_buf_free(&b);
}
END_TEST

START_TEST(test_buf_grows_and_resets)
{
	struct ap_buf b = { 0 };

	ck_assert_str_eq(ap_buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		ap_buf_printf(&b, "%d,", i);
	ck_assert_uint_gt(b.len, 3000);
	ck_assert_int_eq(strncmp(b.data, "0,1,2,", 6), 0);
	ap_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(ap_buf_cstr(&b), "");
	ap_buf_putc(&b, 'x');
	ap_buf_puts(&b, "yz");
	ck_assert_str_eq(ap_buf_cstr(&b), "xyz");
	ap_buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

static const struct {
	const char *in;
	long long min, max;
	bool ok;
	long long val;
	const char *err;
} num_rows[] = {
	{ "0", 0, 10, true, 0, NULL },
	{ "10", 0, 10, true, 10, NULL },
	{ "-5", -10, 10, true, -5, NULL },
	{ "11", 0, 10, false, 0, "too large" },
	{ "-1", 0, 10, false, 0, "too small" },
	{ "", 0, 10, false, 0, "invalid" },
	{ " 1", 0, 10, false, 0, "invalid" },
	{ "+1", 0, 10, false, 0, "invalid" },
	{ "1x", 0, 10, false, 0, "invalid" },
	{ "0x10", 0, 100, false, 0, "invalid" },
	{ "99999999999999999999", 0, 10, false, 0, "too large" },
	{ "-99999999999999999999", -10, 10, false, 0, "too small" },
	{ "9223372036854775807", 0, 9223372036854775807LL, true, 9223372036854775807LL, NULL },
};

START_TEST(test_strtonum_table)
{
	long long v = -42;
	const char *err = NULL;
	bool ok = ap_strtonum(num_rows[_i].in, num_rows[_i].min, num_rows[_i].max, &v, &err);

	ck_assert_msg(ok == num_rows[_i].ok, "row %d '%s'", _i, num_rows[_i].in);
	if (ok)
		ck_assert_int_eq(v, num_rows[_i].val);
	else
		ck_assert_str_eq(err, num_rows[_i].err);
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	bool ok;
} utf8_rows[] = {
	{ "ascii", 5, true },
	{ "العربية", 14, true },
	{ "\xe2\x82\xac", 3, true },          /* € */
	{ "\xf0\x9f\x98\x80", 4, true },      /* emoji */
	{ "\xc0\xaf", 2, false },             /* overlong '/' */
	{ "\xe0\x80\xaf", 3, false },         /* overlong */
	{ "\xed\xa0\x80", 3, false },         /* surrogate */
	{ "\xf4\x90\x80\x80", 4, false },     /* > U+10FFFF */
	{ "\xff", 1, false },
	{ "\xe2\x82", 2, false },             /* truncated */
	{ "a\0b", 3, false },                 /* NUL */
	{ "\x80", 1, false },                 /* lone continuation */
};

START_TEST(test_utf8_table)
{
	ck_assert_msg(ap_utf8_valid(utf8_rows[_i].in, utf8_rows[_i].len) == utf8_rows[_i].ok, "row %d", _i);
}
END_TEST

START_TEST(test_arena_alloc_align_reset)
{
	struct ap_arena *a = ap_arena_new();
	char *big;

	for (int i = 1; i < 200; i++) {
		void *p = ap_arena_alloc(a, (size_t)i);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)i);
	}
	big = ap_arena_alloc(a, 1 << 20); /* larger than a chunk */
	memset(big, 1, 1 << 20);
	ck_assert_str_eq(ap_arena_printf(a, "%s-%d", "x", 42), "x-42");
	ck_assert_str_eq(ap_arena_strndup(a, "abcdef", 3), "abc");
	ck_assert_uint_gt(ap_arena_used(a), 1 << 20);
	ap_arena_reset(a);
	ck_assert_uint_eq(ap_arena_used(a), 0);
	ck_assert_str_eq(ap_arena_strdup(a, "again"), "again");
	ap_arena_free(a);
	ap_arena_free(NULL);
}
END_TEST

START_TEST(test_random_hex_is_random)
{
	char a[33], b[33];

	ck_assert_int_eq(ap_random_hex(a, 16), AP_OK);
	ck_assert_int_eq(ap_random_hex(b, 16), AP_OK);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_str_ne(a, b);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 32);
}
END_TEST

START_TEST(test_strerror_total)
{
	for (int e = 0; e <= AP_ERR__MAX; e++)
		ck_assert_ptr_nonnull(ap_strerror((enum ap_err)e));
	ck_assert_str_eq(ap_strerror(AP_ERR_TOOBIG), "too large");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("common");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_html_escapes_all_five);
	tcase_add_loop_test(tc, test_html_escape_table, 0, (int)AP_NELEM(escape_rows));
	tcase_add_test(tc, test_buf_grows_and_resets);
	tcase_add_loop_test(tc, test_strtonum_table, 0, (int)AP_NELEM(num_rows));
	tcase_add_loop_test(tc, test_utf8_table, 0, (int)AP_NELEM(utf8_rows));
	tcase_add_test(tc, test_arena_alloc_align_reset);
	tcase_add_test(tc, test_random_hex_is_random);
	tcase_add_test(tc, test_strerror_total);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
