/*
 * check_sites.c — the websites data module (sites.h) against a migrated
 * SQLite database: a spec is validated as a whole (rows side by side), a
 * site the helper cannot apply leaves no row behind (the helper is down:
 * a socket nobody listens on), rows read back as written, and a deletion
 * whose helper is down changes nothing.
 */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/db.h"
#include "aapanel/migrate.h"
#include "aapanel/sites.h"

static char tmp[64], dsn[128], sock[128];
static struct ap_db *db;
static struct ap_helper_client *helper;

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void
setup(void)
{
	const char *srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	struct ap_db_opts o = { 0 };
	struct ap_migrations m;
	char sqldir[512], err[512];
	size_t applied = 0;

	snprintf(sqldir, sizeof(sqldir), "%s/sql", srcdir);
	strcpy(tmp, "/tmp/ap-sites-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(dsn, sizeof(dsn), "sqlite:%s/a.db", tmp);
	snprintf(sock, sizeof(sock), "%s/helper.sock", tmp);
	o.dsn = dsn;
	ck_assert_int_eq(ap_db_open(&o, &db), AP_DB_OK);
	ck_assert_msg(ap_migrate_load(sqldir, AP_DB_SQLITE, &m, err, sizeof(err)) == AP_OK, "%s", err);
	ck_assert_msg(ap_migrate_apply(db, &m, &applied, err, sizeof(err)) == AP_DB_OK, "%s", err);
	ap_migrations_free(&m);
	helper = ap_helper_client_new(sock, 500, 1 << 20);
}

static void
teardown(void)
{
	ap_helper_client_free(helper);
	ap_db_close(db);
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ap_site_spec
spec(const char *domain, enum ap_site_kind kind)
{
	struct ap_site_spec s;

	memset(&s, 0, sizeof(s));
	snprintf(s.domain, sizeof(s.domain), "%s", domain);
	s.kind = kind;
	return s;
}

static const struct {
	const char *domain, *aliases, *root, *upstream, *e404;
	enum ap_site_kind kind;
	const char *field; /* NULL: valid */
} rows[] = {
	{ "example.com", "", "", "", "", AP_SITE_STATIC, NULL },
	{ "example.com", "www.example.com", "public/app", "", "/404.html", AP_SITE_STATIC, NULL },
	{ "example.com", "", "", "http://127.0.0.1:3000", "", AP_SITE_PROXY, NULL },
	{ "", "", "", "", "", AP_SITE_STATIC, "domain" },
	{ "a.com; rm -rf /", "", "", "", "", AP_SITE_STATIC, "domain" },
	{ "example.com", "example.com", "", "", "", AP_SITE_STATIC, "aliases" },
	{ "example.com", "www.example.com www.example.com", "", "", "", AP_SITE_STATIC, "aliases" },
	{ "example.com", "$(id).com", "", "", "", AP_SITE_STATIC, "aliases" },
	{ "example.com", "", "../x", "", "", AP_SITE_STATIC, "root" },
	{ "example.com", "", "", "", "", AP_SITE_PROXY, "upstream" },
	{ "example.com", "", "", "http://a`id`", "", AP_SITE_PROXY, "upstream" },
	{ "example.com", "", "", "", "x.html", AP_SITE_STATIC, "error_404" },
	{ "example.com", "", "", "", "", AP_SITE_PHP, "php" },
};

START_TEST(test_validate_rows)
{
	struct ap_sites_env env = { .db = db, .helper = NULL };
	struct ap_site_spec s = spec(rows[_i].domain, rows[_i].kind);
	struct ap_problem pb = { 0 };
	enum ap_err rc;

	snprintf(s.aliases, sizeof(s.aliases), "%s", rows[_i].aliases);
	snprintf(s.root, sizeof(s.root), "%s", rows[_i].root);
	snprintf(s.upstream, sizeof(s.upstream), "%s", rows[_i].upstream);
	snprintf(s.error_404, sizeof(s.error_404), "%s", rows[_i].e404);
	rc = ap_site_validate(&env, &s, &pb);
	if (rows[_i].field == NULL) {
		ck_assert_msg(rc == AP_OK, "row %d: %s: %s", _i, pb.field, pb.reason);
	} else {
		ck_assert_msg(rc != AP_OK, "row %d accepted", _i);
		ck_assert_int_eq(pb.code, AP_PB_INVALID);
		ck_assert_str_eq(pb.field, rows[_i].field);
	}
}
END_TEST

START_TEST(test_create_without_helper_leaves_no_row)
{
	struct ap_sites_env env = { .db = db, .helper = helper };
	struct ap_site_spec s = spec("example.com", AP_SITE_STATIC);
	struct ap_problem pb = { 0 };
	struct ap_site out;
	int64_t n = -1;

	ck_assert_int_ne(ap_site_create(&env, &s, &out, &pb), AP_OK);
	ck_assert_int_eq(pb.code, AP_PB_UNAVAILABLE);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM sites", &n), AP_DB_OK);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(ap_site_port(&env), 0);
}
END_TEST

START_TEST(test_rows_read_back_and_delete_needs_the_helper)
{
	struct ap_sites_env env = { .db = db, .helper = helper };
	struct ap_problem pb = { 0 };
	struct ap_site s, before;
	int64_t n = -1;

	ck_assert_int_eq(ap_db_exec(db, "INSERT INTO sites (domain, aliases, root_path, status, created_at, "
					"updated_at, kind, upstream, index_files, revision) VALUES ('a.test', "
					"'www.a.test', 'public', 'stopped', 1, 2, 'proxy', 'http://127.0.0.1:1', "
					"'', 4)"), AP_DB_OK);
	ck_assert_int_eq(ap_site_find(&env, "a.test", &s, &pb), AP_OK);
	ck_assert_str_eq(s.spec.aliases, "www.a.test");
	ck_assert_int_eq(s.spec.kind, AP_SITE_PROXY);
	ck_assert(!s.enabled);
	ck_assert_int_eq(s.revision, 4);
	ck_assert_int_eq(s.probe_ok, -1);
	ck_assert_int_eq(ap_site_find(&env, "b.test", &s, &pb), AP_ERR_NOTFOUND);
	ck_assert_int_eq(pb.code, AP_PB_NOT_FOUND);
	ck_assert_int_ne(ap_site_delete(&env, 1, true, &before, &pb), AP_OK);
	ck_assert_int_eq(pb.code, AP_PB_UNAVAILABLE);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM sites", &n), AP_DB_OK);
	ck_assert_int_eq(n, 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sites");
	TCase *tc = tcase_create("data");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_validate_rows, 0, (int)(sizeof(rows) / sizeof(rows[0])));
	tcase_add_test(tc, test_create_without_helper_leaves_no_row);
	tcase_add_test(tc, test_rows_read_back_and_delete_needs_the_helper);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
