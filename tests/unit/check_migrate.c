/* check_migrate.c — migration files and the migrator (SQLite here; the
 * other backends run the same migrations in tests/integration/t_db.sh). */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aapanel/dbconn.h"
#include "aapanel/migrate.h"

static const char *srcdir;
static char tmp[64];
static char sqldir[512];

static int
rm_cb(const char *p, const struct stat *st, int fl, struct FTW *f)
{
	(void)st;
	(void)fl;
	(void)f;
	return remove(p);
}

static void
setup(void)
{
	srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	snprintf(sqldir, sizeof(sqldir), "%s/sql", srcdir);
	strcpy(tmp, "/tmp/ap-mig-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void
teardown(void)
{
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ap_db *
open_sqlite(void)
{
	struct ap_db_opts o = { 0 };
	struct ap_db *db = NULL;
	char dsn[128];

	snprintf(dsn, sizeof(dsn), "sqlite:%s/t.db", tmp);
	o.dsn = dsn;
	ck_assert_int_eq(ap_db_open(&o, &db), AP_DB_OK);
	return db;
}

START_TEST(test_every_dialect_has_the_same_migrations)
{
	struct ap_migrations m[AP_DB__MAX];
	char err[512];

	for (int b = 0; b < AP_DB__MAX; b++)
		ck_assert_msg(ap_migrate_load(sqldir, (enum ap_db_backend)b, &m[b], err, sizeof(err)) == AP_OK,
		    "%s", err);
	ck_assert_uint_gt(m[0].n, 0);
	for (int b = 1; b < AP_DB__MAX; b++) {
		ck_assert_uint_eq(m[b].n, m[0].n);
		for (size_t i = 0; i < m[0].n; i++) {
			ck_assert_int_eq(m[b].v[i].version, m[0].v[i].version);
			ck_assert_str_eq(m[b].v[i].name, m[0].v[i].name);
		}
	}
	for (int b = 0; b < AP_DB__MAX; b++)
		ap_migrations_free(&m[b]);
}
END_TEST

START_TEST(test_every_panel_table_is_created)
{
	struct ap_migrations m;
	struct ap_db *db = open_sqlite();
	size_t applied = 0, pending = 9;
	char err[512];

	ck_assert_int_eq(ap_migrate_load(sqldir, AP_DB_SQLITE, &m, err, sizeof(err)), AP_OK);
	ck_assert_int_eq(ap_migrate_apply(db, &m, &applied, err, sizeof(err)), AP_DB_OK);
	ck_assert_uint_eq(applied, m.n);
	for (size_t i = 0; i < ap_db_ntables; i++) {
		char sql[128];
		int64_t n = -1;

		snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", ap_db_tables[i]);
		ck_assert_msg(ap_db_query_int64(db, sql, &n) == AP_DB_OK, "%s: %s", ap_db_tables[i],
		    ap_db_errmsg(db));
		/* Empty, but for the rows the migrations write themselves (the audit head). */
		ck_assert_msg(n == (ap_db_table_seeded(ap_db_tables[i]) ? 1 : 0), "%s holds %lld rows",
		    ap_db_tables[i], (long long)n);
	}
	/* A second run applies nothing and reports nothing pending. */
	ck_assert_int_eq(ap_migrate_apply(db, &m, &applied, err, sizeof(err)), AP_DB_OK);
	ck_assert_uint_eq(applied, 0);
	ck_assert_int_eq(ap_migrate_status(db, &m, &pending), AP_DB_OK);
	ck_assert_uint_eq(pending, 0);
	ap_migrations_free(&m);
	ap_db_close(db);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_failed_migration_rolls_back_and_names_itself)
{
	struct ap_migrations m;
	struct ap_db *db = open_sqlite();
	char dir[128], path[256], err[512] = "";
	size_t applied = 0, pending = 0;
	int64_t n = -1;

	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/sql/sqlite", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/0001_good.sql", dir);
	write_file(path, "CREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n");
	snprintf(path, sizeof(path), "%s/0002_bad.sql", dir);
	write_file(path, "CREATE TABLE b (x INTEGER);\nINSERT INTO nosuch VALUES (1);\n");
	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	ck_assert_int_eq(ap_migrate_load(dir, AP_DB_SQLITE, &m, err, sizeof(err)), AP_OK);
	ck_assert_int_ne(ap_migrate_apply(db, &m, &applied, err, sizeof(err)), AP_DB_OK);
	ck_assert_uint_eq(applied, 1);
	ck_assert_msg(strstr(err, "0002_bad") != NULL, "%s", err);
	/* table b was rolled back with its migration */
	ck_assert_int_ne(ap_db_query_int64(db, "SELECT COUNT(*) FROM b", &n), AP_DB_OK);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM a", &n), AP_DB_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(ap_migrate_status(db, &m, &pending), AP_DB_OK);
	ck_assert_uint_eq(pending, 1);
	ap_migrations_free(&m);
	ap_db_close(db);
}
END_TEST

static const char *const bad_names[] = {
	"1_short.sql", "0001-dash.sql", "0001_Upper.sql", "0001_x.txt", "abcd_x.sql", "0000_zero.sql",
};

START_TEST(test_bad_file_names_are_refused)
{
	struct ap_migrations m;
	char dir[128], path[256], err[512] = "";

	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/sql/sqlite", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, bad_names[_i]);
	write_file(path, "SELECT 1;\n");
	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	ck_assert_int_eq(ap_migrate_load(dir, AP_DB_SQLITE, &m, err, sizeof(err)), AP_ERR_PARSE);
	ck_assert_msg(strstr(err, bad_names[_i]) != NULL, "%s", err);
}
END_TEST

START_TEST(test_duplicate_versions_are_refused)
{
	struct ap_migrations m;
	char dir[128], path[256], err[512] = "";

	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/sql/sqlite", tmp);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/0001_a.sql", dir);
	write_file(path, "SELECT 1;\n");
	snprintf(path, sizeof(path), "%s/0001_b.sql", dir);
	write_file(path, "SELECT 1;\n");
	snprintf(dir, sizeof(dir), "%s/sql", tmp);
	ck_assert_int_eq(ap_migrate_load(dir, AP_DB_SQLITE, &m, err, sizeof(err)), AP_ERR_PARSE);
	ck_assert_msg(strstr(err, "used twice") != NULL, "%s", err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_dialect_has_the_same_migrations);
	tcase_add_test(tc, test_every_panel_table_is_created);
	tcase_add_test(tc, test_failed_migration_rolls_back_and_names_itself);
	tcase_add_loop_test(tc, test_bad_file_names_are_refused, 0, (int)AP_NELEM(bad_names));
	tcase_add_test(tc, test_duplicate_versions_are_refused);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
