/*
 * check_unitname.c — systemd unit names and the lists of them
 * (unitname.h): the strict pattern, valid and invalid rows side by side
 * (the panel's fields, the helper's arguments and the configuration all use
 * it), the full name of a bare one, the list check and the whitelist match
 * with patterns.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/unitname.h"

static const struct {
	const char *val;
	bool ok;
} names[] = {
	{ "nginx.service", true },
	{ "nginx", true },
	{ "php8.2-fpm.service", true },
	{ "php8.2-fpm", true },
	{ "postgresql@15-main.service", true },
	{ "aapanel.socket", true },
	{ "systemd-tmpfiles-clean.timer", true },
	{ "multi-user.target", true },
	{ "dev-disk-by\\x2duuid.device", false }, /* a backslash */
	{ "", false },
	{ "nginx; rm", false },
	{ "nginx;rm", false },
	{ "../x", false },
	{ "..", false },
	{ "a..b.service", false },
	{ "/etc/passwd", false },
	{ "$(id)", false },
	{ "`id`", false },
	{ "nginx service", false },
	{ "nginx\n.service", false },
	{ "-nginx.service", false },
	{ ".nginx.service", false },
	{ "ngіnx.service", false }, /* Cyrillic і */
	{ "nginx*.service", false },
	{ "a'b.service", false },
	{ "a\"b.service", false },
};

START_TEST(test_names)
{
	const char *v = names[_i].val;
	const char *why = ap_check_unit_name(v, strlen(v));

	ck_assert_msg((why == NULL) == names[_i].ok, "'%s': %s", v, why ? why : "accepted");
}
END_TEST

START_TEST(test_nul_and_length)
{
	char longname[200];

	ck_assert_ptr_nonnull(ap_check_unit_name("nginx\0.service", 14));
	memset(longname, 'a', sizeof(longname));
	ck_assert_str_eq(ap_check_unit_name(longname, AP_UNIT_NAME_MAX + 1), "must be at most 96 characters");
	ck_assert_ptr_null(ap_check_unit_name(longname, AP_UNIT_NAME_MAX));
}
END_TEST

START_TEST(test_full_name)
{
	char out[AP_UNIT_NAME_MAX + 16];

	ck_assert(ap_unit_full_name("nginx", out, sizeof(out)));
	ck_assert_str_eq(out, "nginx.service");
	ck_assert(ap_unit_full_name("php8.2-fpm", out, sizeof(out)));
	ck_assert_str_eq(out, "php8.2-fpm.service");
	ck_assert(ap_unit_full_name("aapanel.socket", out, sizeof(out)));
	ck_assert_str_eq(out, "aapanel.socket");
	ck_assert(!ap_unit_full_name("nginx", out, 10));
}
END_TEST

START_TEST(test_lists)
{
	static const char list[] = "nginx.service, php*-fpm.service,cron.service  aapanel.socket";
	char bad[128];

	ck_assert_ptr_null(ap_unit_list_check(list, bad, sizeof(bad)));
	ck_assert_ptr_null(ap_unit_list_check("", bad, sizeof(bad)));
	ck_assert_ptr_nonnull(ap_unit_list_check("nginx.service, rm;x.service", bad, sizeof(bad)));
	ck_assert_str_eq(bad, "rm;x.service");
	ck_assert_ptr_nonnull(ap_unit_list_check("nginx", bad, sizeof(bad))); /* entries say what they are */
	ck_assert_str_eq(bad, "nginx");
	ck_assert_ptr_nonnull(ap_unit_list_check("$(id).service", bad, sizeof(bad)));

	ck_assert(ap_unit_list_has(list, "nginx.service"));
	ck_assert(ap_unit_list_has(list, "php8.2-fpm.service"));
	ck_assert(ap_unit_list_has(list, "php7.4-fpm.service"));
	ck_assert(ap_unit_list_has(list, "aapanel.socket"));
	ck_assert(!ap_unit_list_has(list, "nginx"));          /* full names only: the caller adds .service */
	ck_assert(!ap_unit_list_has(list, "nginx.socket"));
	ck_assert(!ap_unit_list_has(list, "php-fpm.socket"));
	ck_assert(!ap_unit_list_has(list, "sshd.service"));
	ck_assert(!ap_unit_list_has(list, "php; rm -fpm.service")); /* the pattern never lets a hostile name through */
	ck_assert(!ap_unit_list_has(list, "php/../x-fpm.service"));
	ck_assert(!ap_unit_list_has("", "nginx.service"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("unitname");
	TCase *tc = tcase_create("names");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_names, 0, (int)(sizeof(names) / sizeof(names[0])));
	tcase_add_test(tc, test_nul_and_length);
	tcase_add_test(tc, test_full_name);
	tcase_add_test(tc, test_lists);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
