/*
 * check_dbnames.c — the databases feature's strict checks (dbnames.h):
 * names, host lists, collations, the MariaDB DSN without a database and
 * the generated passwords. Valid and invalid rows side by side; every
 * hostile value of the issue (quotes, backticks, ;, $( ), 33 characters,
 * reserved names, Unicode look-alikes) is refused.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/dbnames.h"

static const struct {
	const char *v;
	bool ok;
} ident_rows[] = {
	{ "shop", true }, { "a", true }, { "shop_db_2", true }, { "abcdefghijklmnopqrstuvwxyz012345", true },
	{ "abcdefghijklmnopqrstuvwxyz0123456", false }, /* 33 */
	{ "", false }, { "Shop", false }, { "1shop", false }, { "_shop", false }, { "shop-db", false },
	{ "x; DROP DATABASE y", false }, { "a`b", false }, { "a'b", false }, { "a\"b", false },
	{ "$(id)", false }, { "a b", false }, { "sh\xc3\xb6p", false }, { "\xd0\xb0", false },
	{ "a\\b", false }, { "a%", false }, { "a.b", false },
	{ "mysql", false }, { "information_schema", false }, { "performance_schema", false }, { "sys", false },
	{ "postgres", false }, { "template0", false }, { "template1", false }, { "root", false },
	{ "aapanel", false }, { "pg_anything", false },
};

START_TEST(test_ident)
{
	const char *why = ap_check_db_ident(ident_rows[_i].v, strlen(ident_rows[_i].v));

	if (ident_rows[_i].ok)
		ck_assert_msg(why == NULL, "%s refused: %s", ident_rows[_i].v, why);
	else
		ck_assert_msg(why != NULL, "%s accepted", ident_rows[_i].v);
}
END_TEST

static const struct {
	const char *v;
	bool ok;
} host_rows[] = {
	{ "localhost", true }, { "localhost,127.0.0.1", true }, { "127.0.0.1 ::1", true }, { "%", true },
	{ "10.0.0.%", true }, { "10.%", true }, { "192.168.1.%", true }, { "localhost, %", true },
	{ "", false }, { ",", false }, { "10.0.0.0/8", false }, { "%.example.com", false }, { "evil.com", false },
	{ "localhost'; DROP USER root; --", false }, { "1.2.3.4.%", false }, { "256.%", false },
	{ "10.0.0.%%", false }, { "a,b,c,d,e,f,g,h,i", false },
	{ "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5,127.0.0.6,127.0.0.7,127.0.0.8,127.0.0.9", false },
};

START_TEST(test_hosts)
{
	const char *why = ap_check_db_hosts(host_rows[_i].v, strlen(host_rows[_i].v));

	if (host_rows[_i].ok)
		ck_assert_msg(why == NULL, "%s refused: %s", host_rows[_i].v, why);
	else
		ck_assert_msg(why != NULL, "%s accepted", host_rows[_i].v);
}
END_TEST

START_TEST(test_hosts_split)
{
	char buf[128];
	const char *h[AP_DB_HOSTS_MAX];

	ck_assert_uint_eq(ap_db_hosts_split("localhost, 127.0.0.1,localhost", buf, sizeof(buf), h, AP_DB_HOSTS_MAX), 2);
	ck_assert_str_eq(h[0], "localhost");
	ck_assert_str_eq(h[1], "127.0.0.1");
}
END_TEST

START_TEST(test_collation)
{
	ck_assert_ptr_null(ap_check_db_collation("utf8mb4_unicode_ci", 18));
	ck_assert_ptr_nonnull(ap_check_db_collation("utf8mb4 ci", 10));
	ck_assert_ptr_nonnull(ap_check_db_collation("x'", 2));
	ck_assert_ptr_nonnull(ap_check_db_collation("", 0));
}
END_TEST

/* PostgreSQL locales: valid and invalid rows side by side. */
static const struct {
	const char *s;
	bool ok;
} locales[] = {
	{ "C", true }, { "POSIX", true }, { "C.UTF-8", true }, { "C.utf8", true },
	{ "en_US.UTF-8", true }, { "de_DE", true }, { "ar_EG.UTF-8", true }, { "sr_RS@latin", true },
	{ "ast_ES.UTF-8", true }, { "en", true },
	{ "", false }, { "c", false }, { "e", false }, { "en_us.UTF-8", false }, { "en_USA", false },
	{ "en_US.", false }, { "en_US.UTF-8'; DROP DATABASE x; --", false }, { "en_US.UTF 8", false },
	{ "en_US.UTF-8@", false }, { "$(id)", false }, { "ar_EG.UTF-8\n", false },
	{ "abcd_EF", false }, { "en_US.UTF-8xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", false },
};

START_TEST(test_locale_row)
{
	const char *why = ap_check_db_locale(locales[_i].s, strlen(locales[_i].s));

	ck_assert_msg((why == NULL) == locales[_i].ok, "%s: %s", locales[_i].s, why ? why : "accepted");
}
END_TEST

START_TEST(test_dsn_normalize)
{
	static const char *const rows[][2] = {
		{ "mysql://root@localhost/?socket=/run/mysqld/mysqld.sock", "mysql://root@localhost/mysql?socket=/run/mysqld/mysqld.sock" },
		{ "mysql://root@127.0.0.1:3306/", "mysql://root@127.0.0.1:3306/mysql" },
		{ "mysql://root@127.0.0.1:3306/shop", "mysql://root@127.0.0.1:3306/shop" },
		{ "postgresql://postgres@127.0.0.1/", "postgresql://postgres@127.0.0.1/" },
		{ "mysql://root@localhost", "mysql://root@localhost" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *out = ap_dbserver_dsn_normalize(rows[i][0]);

		ck_assert_str_eq(out, rows[i][1]);
		free(out);
	}
}
END_TEST

START_TEST(test_password)
{
	char a[32], b[32];

	ck_assert(ap_db_password_new(a, sizeof(a)));
	ck_assert(ap_db_password_new(b, sizeof(b)));
	ck_assert_uint_eq(strlen(a), 24);
	ck_assert_uint_eq(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), 24);
	ck_assert_str_ne(a, b);
	ck_assert(!ap_db_password_new(a, 24)); /* no room for the NUL */
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("dbnames");
	TCase *tc = tcase_create("checks");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_ident, 0, (int)(sizeof(ident_rows) / sizeof(ident_rows[0])));
	tcase_add_loop_test(tc, test_hosts, 0, (int)(sizeof(host_rows) / sizeof(host_rows[0])));
	tcase_add_test(tc, test_hosts_split);
	tcase_add_test(tc, test_collation);
	tcase_add_loop_test(tc, test_locale_row, 0, (int)(sizeof(locales) / sizeof(locales[0])));
	tcase_add_test(tc, test_dsn_normalize);
	tcase_add_test(tc, test_password);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
