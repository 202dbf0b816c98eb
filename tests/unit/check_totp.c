/* check_totp.c — RFC 6238 vectors, verify window and replay, URI, QR SVG, recovery codes. */
#include <check.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/totp.h"

/* RFC 6238 Appendix B: the ASCII secret "12345678901234567890" (SHA-1), last 6 digits. */
#define RFC_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

static const struct {
	time_t t;
	const char *code;
} rfc_rows[] = {
	{ 59, "287082" },
	{ 1111111109, "081804" },
	{ 1111111111, "050471" },
	{ 1234567890, "005924" },
	{ 2000000000, "279037" },
	{ 20000000000, "353130" },
};

START_TEST(test_rfc6238_vectors)
{
	char out[7];

	ck_assert_int_eq(ap_totp_code(RFC_B32, rfc_rows[_i].t, out), AP_OK);
	ck_assert_str_eq(out, rfc_rows[_i].code);
}
END_TEST

START_TEST(test_rfc6238_verify_returns_step)
{
	int64_t c = -1;

	ck_assert(ap_totp_verify(RFC_B32, rfc_rows[_i].code, rfc_rows[_i].t, 0, -1, &c));
	ck_assert_int_eq(c, (int64_t)(rfc_rows[_i].t / 30));
}
END_TEST

START_TEST(test_bad_secret_refused)
{
	char out[7];
	int64_t c = 0;

	ck_assert_int_eq(ap_totp_code("", 59, out), AP_ERR_INVAL);
	ck_assert_int_eq(ap_totp_code(NULL, 59, out), AP_ERR_INVAL);
	ck_assert_int_eq(ap_totp_code("!!!!not*base32!!", 59, out), AP_ERR_INVAL);
	ck_assert(!ap_totp_verify("!!!!not*base32!!", "287082", 59, 1, -1, &c));
	ck_assert(!ap_totp_verify(NULL, "287082", 59, 1, -1, &c));
}
END_TEST

/* Offsets in steps from now and whether window 1 accepts them. */
static const struct {
	int off;
	bool ok;
} window_rows[] = {
	{ 0, true }, { -1, true }, { 1, true }, { -2, false }, { 2, false }, { 5, false },
};

START_TEST(test_window_one)
{
	const time_t now = 1111111111; /* mid-step: 1111111110 starts step 37037037 */
	char code[7];
	int64_t c = -1;
	bool ok;

	ck_assert_int_eq(ap_totp_code(RFC_B32, now + 30 * window_rows[_i].off, code), AP_OK);
	ok = ap_totp_verify(RFC_B32, code, now, 1, -1, &c);
	ck_assert_msg(ok == window_rows[_i].ok, "offset %d", window_rows[_i].off);
	if (ok)
		ck_assert_int_eq(c, now / 30 + window_rows[_i].off);
	else
		ck_assert_int_eq(c, -1);
}
END_TEST

START_TEST(test_replay_refused)
{
	const time_t now = 1234567890;
	char code[7], prev[7];
	int64_t c = -1, c2 = -1;

	ck_assert_int_eq(ap_totp_code(RFC_B32, now, code), AP_OK);
	ck_assert(ap_totp_verify(RFC_B32, code, now, 1, -1, &c));
	/* The same code again, the caller having stored c. */
	ck_assert(!ap_totp_verify(RFC_B32, code, now, 1, c, &c2));
	ck_assert(!ap_totp_verify(RFC_B32, code, now + 5, 1, c, &c2));
	/* An older code still inside the window is refused too. */
	ck_assert_int_eq(ap_totp_code(RFC_B32, now - 30, prev), AP_OK);
	ck_assert(!ap_totp_verify(RFC_B32, prev, now, 1, c, &c2));
	ck_assert_int_eq(c2, -1);
	/* The next step's code is fresh. */
	ck_assert_int_eq(ap_totp_code(RFC_B32, now + 30, code), AP_OK);
	ck_assert(ap_totp_verify(RFC_B32, code, now + 30, 1, c, &c2));
	ck_assert_int_eq(c2, c + 1);
}
END_TEST

static const char *const bad_codes[] = {
	"",	   "28708",   "2870822", "28708a", "28708 ", " 287082", "287082\n",
	"+87082", "-87082", "28 082",  "２８７０８２", "287082a", "0x1234",
};

START_TEST(test_malformed_codes_refused)
{
	int64_t c = -1;

	/* 59 is the time whose correct code is 287082, so only the form can refuse it. */
	ck_assert(!ap_totp_verify(RFC_B32, bad_codes[_i], 59, 1, -1, &c));
	ck_assert_int_eq(c, -1);
}
END_TEST

START_TEST(test_verify_bad_arguments)
{
	int64_t c = -1;

	ck_assert(ap_totp_verify(RFC_B32, "287082", 59, 1, -1, &c));
	ck_assert(!ap_totp_verify(RFC_B32, NULL, 59, 1, -1, &c));
	ck_assert(!ap_totp_verify(RFC_B32, "287082", 59, -1, -1, &c));
	ck_assert(!ap_totp_verify(RFC_B32, "287082", -59, 1, -1, &c));
	ck_assert(!ap_totp_verify(RFC_B32, "287082", 59, 1000000, -1, &c));
}
END_TEST

START_TEST(test_new_secret)
{
	char a[AP_TOTP_SECRET_LEN + 1], b[AP_TOTP_SECRET_LEN + 1], code[7];

	ck_assert_int_eq(ap_totp_new_secret(a), AP_OK);
	ck_assert_int_eq(ap_totp_new_secret(b), AP_OK);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
	ck_assert_uint_eq(strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
	ck_assert_str_ne(a, b);
	/* And it is usable as a secret. */
	ck_assert_int_eq(ap_totp_code(a, 1700000000, code), AP_OK);
	ck_assert(ap_totp_verify(a, code, 1700000000, 1, -1, NULL));
}
END_TEST

static const struct {
	const char *issuer, *account, *uri;
} uri_rows[] = {
	{ "aaPanel", "admin@host", "otpauth://totp/aaPanel:admin%40host?secret=" RFC_B32
				    "&issuer=aaPanel&algorithm=SHA1&digits=6&period=30" },
	{ "My Panel", "a:b&c=d?", "otpauth://totp/My%20Panel:a%3Ab%26c%3Dd%3F?secret=" RFC_B32
				    "&issuer=My%20Panel&algorithm=SHA1&digits=6&period=30" },
	{ "لوحة", "x/y~z._-", "otpauth://totp/%D9%84%D9%88%D8%AD%D8%A9:x%2Fy~z._-?secret=" RFC_B32
			       "&issuer=%D9%84%D9%88%D8%AD%D8%A9&algorithm=SHA1&digits=6&period=30" },
};

START_TEST(test_uri_table)
{
	char *uri = ap_totp_uri(uri_rows[_i].issuer, uri_rows[_i].account, RFC_B32);

	ck_assert_ptr_nonnull(uri);
	ck_assert_str_eq(uri, uri_rows[_i].uri);
	free(uri);
	ck_assert_ptr_null(ap_totp_uri(NULL, "a", RFC_B32));
}
END_TEST

/* Number of non-overlapping occurrences of needle in s. */
static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

START_TEST(test_qr_svg)
{
	char *small = ap_qr_svg("otpauth://totp/a:b?secret=" RFC_B32);
	char *big = ap_qr_svg("otpauth://totp/aaPanel:administrator%40a-rather-long-host-name."
			      "example.com?secret=" RFC_B32 RFC_B32 RFC_B32
			      "&issuer=aaPanel&algorithm=SHA1&digits=6&period=30");

	ck_assert_ptr_nonnull(small);
	ck_assert_ptr_nonnull(big);
	ck_assert_int_eq(strncmp(small, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ", 53),
	    0);
	ck_assert_ptr_nonnull(strstr(small, "shape-rendering=\"crispEdges\" role=\"img\" "
					    "aria-label=\"QR code\">"));
	ck_assert_ptr_nonnull(strstr(small, "fill=\"#fff\""));
	ck_assert_uint_eq(count(small, "<path"), 1);
	ck_assert_uint_eq(count(big, "<path"), 1);
	ck_assert_ptr_null(strstr(small, "style"));
	ck_assert_ptr_null(strstr(big, "style"));
	ck_assert_ptr_null(strstr(small, "<script"));
	ck_assert_uint_gt(count(small, "h1 v1 h-1 z"), 100);
	ck_assert_uint_gt(strlen(big), strlen(small));
	ck_assert_uint_gt(count(big, "h1 v1 h-1 z"), count(small, "h1 v1 h-1 z"));
	ck_assert_str_eq(small + strlen(small) - 6, "</svg>");
	/* The top-left finder pattern begins at the quiet-zone corner (4, 4). */
	ck_assert_ptr_nonnull(strstr(small, "d=\"M4 4 h1 v1 h-1 z"));
	free(small);
	free(big);
	ck_assert_ptr_null(ap_qr_svg(NULL));
	ck_assert_ptr_null(ap_qr_svg(""));
}
END_TEST

START_TEST(test_qr_svg_viewbox_is_width_plus_quiet_zone)
{
	/* "A" needs a version 1 symbol: 21 modules + 2 * 4 quiet zone. */
	char *svg = ap_qr_svg("A");

	ck_assert_ptr_nonnull(svg);
	ck_assert_ptr_nonnull(strstr(svg, "viewBox=\"0 0 29 29\""));
	ck_assert_ptr_nonnull(strstr(svg, "<rect width=\"29\" height=\"29\""));
	/* Nothing dark in the quiet zone: no module at x or y 0..3 nor 25..28. */
	ck_assert_ptr_null(strstr(svg, "M3 "));
	ck_assert_ptr_null(strstr(svg, "M25 "));
	ck_assert_ptr_null(strstr(svg, " 3 h1"));
	ck_assert_ptr_null(strstr(svg, " 25 h1"));
	free(svg);
}
END_TEST

START_TEST(test_recovery_codes)
{
	char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1];
	int seen[256] = { 0 };
	regex_t re;
	int i, j;

	ck_assert_int_eq(AP_RECOVERY_CODES, 10);
	ck_assert_int_eq(regcomp(&re,
			     "^[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}-[a-hjkmnp-z2-9]{4}$",
			     REG_EXTENDED | REG_NOSUB),
	    0);
	/* Several sets, so the alphabet check sees every character with high odds. */
	for (int round = 0; round < 20; round++) {
		ck_assert_int_eq(ap_recovery_codes_new(codes), AP_OK);
		for (i = 0; i < AP_RECOVERY_CODES; i++) {
			ck_assert_msg(regexec(&re, codes[i], 0, NULL, 0) == 0, "bad code %s",
			    codes[i]);
			ck_assert_uint_eq(strlen(codes[i]), 14);
			for (j = 0; j < i; j++)
				ck_assert_str_ne(codes[i], codes[j]);
			for (j = 0; codes[i][j] != '\0'; j++)
				seen[(unsigned char)codes[i][j]]++;
		}
	}
	regfree(&re);
	/* 2400 draws over 31 symbols: every one appears, none of the ambiguous ones. */
	for (const char *c = "abcdefghjkmnpqrstuvwxyz23456789"; *c != '\0'; c++)
		ck_assert_msg(seen[(unsigned char)*c] > 0, "'%c' never drawn", *c);
	for (const char *c = "01ilo"; *c != '\0'; c++)
		ck_assert_int_eq(seen[(unsigned char)*c], 0);
}
END_TEST

static const struct {
	const char *in;
	size_t outlen;
	const char *out;
} norm_rows[] = {
	{ "abcd-efgh-jkmn", 16, "abcdefghjkmn" },
	{ "ABCD-EFGH-JKMN", 16, "abcdefghjkmn" },
	{ " abcd efgh jkmn ", 16, "abcdefghjkmn" },
	{ "abcd--efgh - jkmn", 16, "abcdefghjkmn" },
	{ "abcdefghjkmn", 13, "abcdefghjkmn" }, /* exactly fits */
	{ "abcdefghjkmnp", 13, "" },            /* would be cut: refused, not truncated */
	{ "abcd-efgh-jkmn", 12, "" },
	{ "", 16, "" },
	{ "----", 16, "" },
	{ "ab\tcd", 16, "abcd" },
	{ "Ab3É", 16, "ab3É" }, /* only ASCII is folded */
};

START_TEST(test_normalize_table)
{
	char out[32];

	memset(out, 'X', sizeof(out));
	ap_recovery_normalize(norm_rows[_i].in, out, norm_rows[_i].outlen);
	ck_assert_str_eq(out, norm_rows[_i].out);
	/* Nothing written past outlen. */
	for (size_t k = norm_rows[_i].outlen; k < sizeof(out); k++)
		ck_assert_int_eq(out[k], 'X');
}
END_TEST

START_TEST(test_normalize_edges)
{
	char out[4] = "zzz";

	ap_recovery_normalize("abc", out, 0);
	ck_assert_str_eq(out, "zzz");
	ap_recovery_normalize(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
	ap_recovery_normalize("a-b", out, 1);
	ck_assert_str_eq(out, "");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("totp");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_rfc6238_vectors, 0, (int)AP_NELEM(rfc_rows));
	tcase_add_loop_test(tc, test_rfc6238_verify_returns_step, 0, (int)AP_NELEM(rfc_rows));
	tcase_add_test(tc, test_bad_secret_refused);
	tcase_add_loop_test(tc, test_window_one, 0, (int)AP_NELEM(window_rows));
	tcase_add_test(tc, test_replay_refused);
	tcase_add_loop_test(tc, test_malformed_codes_refused, 0, (int)AP_NELEM(bad_codes));
	tcase_add_test(tc, test_verify_bad_arguments);
	tcase_add_test(tc, test_new_secret);
	tcase_add_loop_test(tc, test_uri_table, 0, (int)AP_NELEM(uri_rows));
	tcase_add_test(tc, test_qr_svg);
	tcase_add_test(tc, test_qr_svg_viewbox_is_width_plus_quiet_zone);
	tcase_add_test(tc, test_recovery_codes);
	tcase_add_loop_test(tc, test_normalize_table, 0, (int)AP_NELEM(norm_rows));
	tcase_add_test(tc, test_normalize_edges);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
