/* check_perm — who may do what: roles × permissions, token scopes × permissions. */
#include <check.h>
#include <stdlib.h>

#include "aapanel/auth.h"

static const struct {
	const char *perm;
	bool admin, operator, viewer; /* roles */
	bool read, write, full;       /* token scopes */
} rows[] = {
	{ "overview.read", true, true, true, true, true, true },
	{ "account.self", true, true, true, false, true, true },
	{ "sites.read", true, true, true, true, true, true },
	{ "sites.write", true, true, false, false, true, true },
	{ "databases.write", true, true, false, false, true, true },
	{ "files.write", true, true, false, false, true, true },
	{ "cron.write", true, true, false, false, true, true },
	{ "certificates.write", true, true, false, false, true, true },
	/* regression: a write token was refused firewall.read that a read token had */
	{ "firewall.read", true, true, true, true, true, true },
	{ "firewall.write", true, false, false, false, false, true },
	{ "services.write", true, false, false, false, true, true },
	{ "users.read", true, false, false, true, false, true },
	{ "users.write", true, false, false, false, false, true },
	{ "settings.read", true, false, false, true, false, true },
	{ "settings.write", true, false, false, false, false, true },
	{ "audit.read", true, false, false, true, false, true },
	{ "debug.read", true, false, false, true, false, true },
};

START_TEST(test_roles_and_scopes_table)
{
	const char *p = rows[_i].perm;

	ck_assert_msg(ap_role_allows("admin", p) == rows[_i].admin, "admin %s", p);
	ck_assert_msg(ap_role_allows("operator", p) == rows[_i].operator, "operator %s", p);
	ck_assert_msg(ap_role_allows("viewer", p) == rows[_i].viewer, "viewer %s", p);
	ck_assert_msg(ap_scope_allows("read", p) == rows[_i].read, "read scope %s", p);
	ck_assert_msg(ap_scope_allows("write", p) == rows[_i].write, "write scope %s", p);
	ck_assert_msg(ap_scope_allows("admin", p) == rows[_i].full, "admin scope %s", p);
}
END_TEST

START_TEST(test_unknown_roles_and_scopes_get_nothing)
{
	ck_assert(!ap_role_allows("root", "overview.read"));
	ck_assert(!ap_role_allows(NULL, "overview.read"));
	ck_assert(!ap_role_allows("admin", NULL));
	ck_assert(!ap_scope_allows("everything", "overview.read"));
	ck_assert(!ap_scope_allows(NULL, "overview.read"));
	ck_assert(ap_role_valid("viewer") && !ap_role_valid("Viewer") && !ap_role_valid(""));
	ck_assert(ap_scope_valid("write") && !ap_scope_valid("all"));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("perm");
	TCase *t = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(t, test_roles_and_scopes_table, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(t, test_unknown_roles_and_scopes_get_nothing);
	suite_add_tcase(s, t);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
