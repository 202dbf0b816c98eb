/*
 * check_taskcheck.c — taskcheck.h: how a command is split into words (no
 * shell: quotes and backslashes only), and the checks of a task's name,
 * user and URL, valid and invalid rows side by side.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/common.h"
#include "aapanel/taskcheck.h"

static const struct {
	const char *cmd;
	const char *words[6]; /* NULL-terminated; words[0] NULL: refused */
} argv_rows[] = {
	{ "/bin/echo hello", { "/bin/echo", "hello", NULL } },
	{ "  /bin/echo   a\tb  ", { "/bin/echo", "a", "b", NULL } },
	{ "/bin/echo 'a b' \"c d\"", { "/bin/echo", "a b", "c d", NULL } },
	{ "/bin/echo $(id) `id` ; | & > *", { "/bin/echo", "$(id)", "`id`", ";", "|", NULL } },
	{ "/bin/echo \"say \\\"hi\\\"\" 'it''s'", { "/bin/echo", "say \"hi\"", "its", NULL } },
	{ "/bin/echo a\\ b", { "/bin/echo", "a b", NULL } },
	{ "/usr/bin/php-8.2 /var/www/x.com/cron.php", { "/usr/bin/php-8.2", "/var/www/x.com/cron.php", NULL } },
	{ "echo hi", { NULL } },
	{ "./run", { NULL } },
	{ "/bin/../bin/sh", { NULL } },
	{ "/bin//sh", { NULL } },
	{ "/", { NULL } },
	{ "'/bin/echo", { NULL } },
	{ "/bin/echo \"x", { NULL } },
	{ "/bin/echo x\\", { NULL } },
	{ "/bin/echo a\nb", { NULL } },
	{ "/bin/echo a\rb", { NULL } },
	{ "", { NULL } },
	{ "   ", { NULL } },
	{ "$(id)", { NULL } },
};

START_TEST(test_argv)
{
	const char *why = NULL;
	struct json_object *a = ap_task_argv(argv_rows[_i].cmd, strlen(argv_rows[_i].cmd), &why);

	if (argv_rows[_i].words[0] == NULL) {
		ck_assert_msg(a == NULL, "'%s' accepted", argv_rows[_i].cmd);
		ck_assert_ptr_nonnull(why);
		ck_assert_ptr_nonnull(ap_check_task_command(argv_rows[_i].cmd, strlen(argv_rows[_i].cmd)));
		return;
	}
	ck_assert_msg(a != NULL, "'%s' refused: %s", argv_rows[_i].cmd, why);
	for (size_t k = 0; k < 5 && argv_rows[_i].words[k] != NULL; k++)
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, k)), argv_rows[_i].words[k]);
	json_object_put(a);
}
END_TEST

START_TEST(test_argv_bounds)
{
	char big[AP_TASK_MAX_COMMAND + 2];
	const char *why;
	struct json_object *a;

	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	ck_assert_ptr_null(ap_task_argv(big, strlen(big), &why)); /* 4097 bytes */
	strcpy(big, "/bin/echo");
	for (int i = 0; i < 64; i++)
		strcat(big, " x");
	ck_assert_ptr_null(ap_task_argv(big, strlen(big), &why)); /* 65 words */
	big[strlen(big) - 2] = '\0';
	a = ap_task_argv(big, strlen(big), &why);
	ck_assert_ptr_nonnull(a); /* 64 */
	json_object_put(a);
	ck_assert_ptr_nonnull(ap_check_task_command("/bin/echo\0x", 11)); /* a NUL inside */
}
END_TEST

static const struct {
	const char *v;
	bool ok;
} name_rows[] = {
	{ "backup", true }, { "db-backup.nightly_2", true }, { "a", true },
	{ "", false }, { "12", false }, { "1abc", false }, { "A", false }, { "a b", false }, { "a;b", false },
	{ "../x", false }, { "-x", false }, { "ex\xd0\xb0mple", false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false }, /* 65 */
}, user_rows[] = {
	{ "nobody", true }, { "www-data", true }, { "_apt", true }, { "site_a1", true },
	{ "", false }, { "Root", false }, { "1x", false }, { "a b", false }, { "a:b", false }, { "../x", false },
	{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false }, /* 33 */
}, url_rows[] = {
	{ "http://127.0.0.1:8080/healthz", true }, { "https://example.com/cron?k=v&x=%20", true },
	{ "https://[::1]/x", true },
	{ "", false }, { "ftp://x", false }, { "file:///etc/passwd", false }, { "javascript:alert(1)", false },
	{ "http://", false }, { "http:///x", false }, { "http://a b", false }, { "http://x/\"", false },
	{ "http://x/\ny", false }, { "http://x/<script>", false }, { "HTTP://x", false },
};

START_TEST(test_name_user_url)
{
	for (size_t i = 0; i < AP_NELEM(name_rows); i++)
		ck_assert_msg((ap_check_task_name(name_rows[i].v, strlen(name_rows[i].v)) == NULL) == name_rows[i].ok,
		    "name %s", name_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(user_rows); i++)
		ck_assert_msg((ap_check_task_user(user_rows[i].v, strlen(user_rows[i].v)) == NULL) == user_rows[i].ok,
		    "user %s", user_rows[i].v);
	for (size_t i = 0; i < AP_NELEM(url_rows); i++)
		ck_assert_msg((ap_check_task_url(url_rows[i].v, strlen(url_rows[i].v)) == NULL) == url_rows[i].ok,
		    "url %s", url_rows[i].v);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("taskcheck");
	TCase *tc = tcase_create("taskcheck");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_argv, 0, (int)AP_NELEM(argv_rows));
	tcase_add_test(tc, test_argv_bounds);
	tcase_add_test(tc, test_name_user_url);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
