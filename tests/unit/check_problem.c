/* check_problem — the problem type: codes and statuses, reasons kept as a
 * translatable format with formatted arguments, translation substituted. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/problem.h"

START_TEST(test_codes_map_to_statuses)
{
	static const struct {
		enum ap_pb_code code;
		const char *name;
		int status;
	} rows[] = {
		{ AP_PB_INVALID, "invalid", 400 }, { AP_PB_MALFORMED, "malformed", 400 },
		{ AP_PB_UNAUTHENTICATED, "unauthenticated", 401 }, { AP_PB_DENIED, "denied", 403 },
		{ AP_PB_CSRF, "csrf", 403 }, { AP_PB_NOT_FOUND, "not_found", 404 },
		{ AP_PB_METHOD, "method_not_allowed", 405 }, { AP_PB_EXISTS, "exists", 409 },
		{ AP_PB_CONFLICT, "conflict", 409 }, { AP_PB_TOO_LARGE, "too_large", 413 },
		{ AP_PB_THROTTLED, "throttled", 429 }, { AP_PB_INTERNAL, "internal", 500 },
		{ AP_PB_UNAVAILABLE, "unavailable", 503 }, { AP_PB_TIMEOUT, "timeout", 504 },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ck_assert_str_eq(ap_pb_name(rows[i].code), rows[i].name);
		ck_assert_int_eq(ap_pb_status(rows[i].code), rows[i].status);
	}
	/* Every code has a name and a status (a new code cannot be forgotten in the table). */
	for (int c = AP_PB_INVALID; c < AP_PB__MAX; c++) {
		ck_assert_ptr_nonnull(ap_pb_name((enum ap_pb_code)c));
		ck_assert_int_ge(ap_pb_status((enum ap_pb_code)c), 400);
	}
	ck_assert_str_eq(ap_pb_name((enum ap_pb_code)999), "internal");
	ck_assert_int_eq(ap_pb_for_status(400), AP_PB_INVALID);
	ck_assert_int_eq(ap_pb_for_status(404), AP_PB_NOT_FOUND);
	ck_assert_int_eq(ap_pb_for_status(503), AP_PB_UNAVAILABLE);
	ck_assert_int_eq(ap_pb_for_status(599), AP_PB_INTERNAL);
}
END_TEST

START_TEST(test_set_keeps_format_and_arguments)
{
	struct ap_problem pb;

	ap_problem_set(&pb, AP_PB_INVALID, "name", "must be at most %lld characters", 64LL);
	ck_assert(ap_problem_is_set(&pb));
	ck_assert_int_eq(pb.status, 400);
	ck_assert_str_eq(pb.field, "name");
	ck_assert_str_eq(pb.msgid, "must be at most %lld characters");
	ck_assert_str_eq(pb.reason, "must be at most 64 characters");
	ck_assert_int_eq(pb.nargs, 1);
	ck_assert_str_eq(pb.args[0], "64");

	ap_problem_set(&pb, AP_PB_MALFORMED, "x", "'%s' is longer than %zu bytes (%.3s%%)", "abc", (size_t)9,
	    "uvwxyz");
	ck_assert_str_eq(pb.reason, "'abc' is longer than 9 bytes (uvw%)");
	ck_assert_int_eq(pb.nargs, 3);
	ck_assert_str_eq(pb.args[2], "uvw");

	ap_problem_set(&pb, AP_PB_NOT_FOUND, NULL, "no such item");
	ck_assert_str_eq(pb.field, "");
	ck_assert_int_eq(pb.nargs, 0);
	ap_problem_clear(&pb);
	ck_assert(!ap_problem_is_set(&pb));
	/* NULL is a no-op that still says "failed". */
	ck_assert_int_eq(ap_problem_set(NULL, AP_PB_INVALID, "f", "x"), AP_ERR_INVAL);
}
END_TEST

START_TEST(test_format_translates_with_arguments)
{
	struct ap_problem pb;
	char out[256];

	ap_problem_set(&pb, AP_PB_INVALID, "password", "must be at least %zu characters", (size_t)12);
	ap_problem_format(&pb, "يجب ألا تقل عن %zu حرفًا", out, sizeof(out));
	ck_assert_str_eq(out, "يجب ألا تقل عن 12 حرفًا");
	ap_problem_set(&pb, AP_PB_INVALID, "n", "must be an integer between %lld and %lld", 1LL, 10LL);
	ap_problem_format(&pb, "between %lld and %lld, 100%%", out, sizeof(out));
	ck_assert_str_eq(out, "between 1 and 10, 100%");
	/* A broken translation (other conversions) falls back to English. */
	ap_problem_format(&pb, "only %lld", out, sizeof(out));
	ck_assert_str_eq(out, "must be an integer between 1 and 10");
	ap_problem_format(&pb, "%lld %lld %lld", out, sizeof(out));
	ck_assert_str_eq(out, "must be an integer between 1 and 10");
	ap_problem_format(&pb, NULL, out, sizeof(out));
	ck_assert_str_eq(out, "must be an integer between 1 and 10");
	/* Truncated, always terminated. */
	ap_problem_format(&pb, "between %lld and %lld", out, 8);
	ck_assert_str_eq(out, "between");
}
END_TEST

START_TEST(test_msg_takes_text_as_is)
{
	struct ap_problem pb;

	ap_problem_msg(&pb, AP_PB_INVALID, "password", "must not be 100% the username");
	ck_assert_str_eq(pb.reason, "must not be 100% the username");
	ck_assert_str_eq(pb.msgid, "must not be 100% the username");
}
END_TEST

static Suite *
problem_suite(void)
{
	Suite *s = suite_create("problem");
	TCase *t = tcase_create("core");

	tcase_add_test(t, test_codes_map_to_statuses);
	tcase_add_test(t, test_set_keeps_format_and_arguments);
	tcase_add_test(t, test_format_translates_with_arguments);
	tcase_add_test(t, test_msg_takes_text_as_is);
	suite_add_tcase(s, t);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(problem_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
