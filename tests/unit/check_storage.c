/*
 * check_storage.c — the data layer under storage faults (SQLite): a
 * checkpoint that cannot write is logged once and retried until it can, a
 * write with no room left is AP_DB_EFULL, a connection that refuses writes
 * is AP_DB_EREADONLY and is reopened, and the storage check (storage.h)
 * reports what it finds. The faults are made with RLIMIT_FSIZE (a file may
 * not grow past a size: what a full disk does to SQLite) and query_only.
 * The mounted faults (a full tmpfs, a read-only mount) are in
 * tests/integration/t_storage_faults.sh.
 */
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/db.h"
#include "aapanel/log.h"
#include "aapanel/storage.h"

static char dir[64], dbpath[128], logpath[128];
static int logfd = -1;

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/ap-storage-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	ck_assert_int_ge(logfd, 0);
	ap_log_init("test", AP_LOG_INFO, logfd);
}

static void
teardown(void)
{
	ap_log_init("test", AP_LOG_INFO, 2);
	close(logfd);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static struct ap_db *
open_db(void)
{
	struct ap_db_opts o = { 0 };
	struct ap_db *db = NULL;
	char dsn[160];

	snprintf(dsn, sizeof(dsn), "sqlite://%s", dbpath);
	o.dsn = dsn;
	ck_assert_int_eq(ap_db_open(&o, &db), AP_DB_OK);
	return db;
}

/* Lines of the log holding s. */
static int
log_count(const char *s)
{
	FILE *f = fopen(logpath, "r");
	char line[2048];
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, s) != NULL;
	fclose(f);
	return n;
}

static enum ap_db_rc
insert_page(struct ap_db *db)
{
	static char blob[3900];
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	memset(blob, 'b', sizeof(blob));
	rc = ap_db_prepare(db, "INSERT INTO t (b) VALUES (?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_blob(st, 1, blob, sizeof(blob));
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

static off_t
size_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

/*
 * regression: with the disk full, SQLite's automatic checkpoints failed
 * without a word and the WAL grew until nothing could be written.
 */
START_TEST(test_failing_checkpoint_is_logged_once_and_retried)
{
	struct ap_db *db = open_db();
	struct rlimit saved, lim;
	char wal[160];
	enum ap_db_rc rc = AP_DB_OK;
	int commits = 0;

	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	ck_assert_int_eq(ap_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), AP_DB_OK);
	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	for (int i = 0; i < 1400; i++)
		ck_assert_int_eq(insert_page(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), AP_DB_OK);
	ck_assert_int_eq(size_of(wal), 0);
	/* No file may grow past the database's size now: the WAL fills, and a
	 * checkpoint, which must grow the database, cannot. */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = (rlim_t)size_of(dbpath);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	while (commits < 3000 && (rc = insert_page(db)) == AP_DB_OK)
		commits++;
	ck_assert_msg(rc == AP_DB_EFULL, "after %d commits: %s (%s)", commits, ap_db_rc_str(rc), ap_db_errmsg(db));
	ck_assert_int_gt(commits, 100); /* the WAL filled; checkpoints were tried (and failed) on the way */
	ck_assert_int_eq(log_count("checkpoint of"), 1);
	ck_assert_int_eq(log_count("failed"), 1);
	/* more commits that fail: still one line */
	ck_assert_int_eq(insert_page(db), AP_DB_EFULL);
	ck_assert_int_eq(log_count("checkpoint of"), 1);
	/* room again: the next commit's checkpoint works, and says so */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &saved), 0);
	ck_assert_int_eq(insert_page(db), AP_DB_OK);
	ck_assert_int_eq(log_count("checkpoints of"), 1);
	ck_assert_int_eq(log_count("work again"), 1);
	/* and the WAL is reused from its start: it stops growing */
	{
		off_t w = size_of(wal);

		for (int i = 0; i < 50; i++)
			ck_assert_int_eq(insert_page(db), AP_DB_OK);
		ck_assert_int_le(size_of(wal), w);
	}
	ap_db_close(db);
	signal(SIGXFSZ, SIG_DFL);
}
END_TEST

/* A connection that refuses writes: AP_DB_EREADONLY, then reopened for the next statement. */
START_TEST(test_readonly_connection_is_named_and_reopened)
{
	struct ap_db *db = open_db();

	ck_assert_int_eq(ap_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), AP_DB_OK);
	ck_assert_int_eq(ap_db_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"),
	    AP_DB_OK);
	ck_assert_int_eq(ap_db_probe_write(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_exec(db, "PRAGMA query_only = 1"), AP_DB_OK);
	ck_assert_int_eq(insert_page(db), AP_DB_EREADONLY);
	ck_assert_str_eq(ap_db_rc_str(AP_DB_EREADONLY), "read-only");
	/* the failure reopened the connection (query_only is per connection) */
	ck_assert_int_eq(insert_page(db), AP_DB_OK);
	/* the probe changes nothing, and tries once more on a reopened connection */
	ck_assert_int_eq(ap_db_exec(db, "PRAGMA query_only = 1"), AP_DB_OK);
	ck_assert_int_eq(ap_db_probe_write(db), AP_DB_OK);
	ap_db_close(db);
}
END_TEST

/*
 * A write refused inside a transaction (a request's unit of work, or an
 * explicit one): the connection is opened again before the next write
 * outside it, which succeeds. (query_only is per connection; set inside the
 * transaction, as SQLite refuses even BEGIN under it.)
 */
START_TEST(test_write_refused_in_a_unit_reopens_for_the_next)
{
	struct ap_db *db = open_db();
	int64_t n = 0;

	ck_assert_int_eq(ap_db_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), AP_DB_OK);
	ap_db_unit_begin(db);
	ck_assert_int_eq(insert_page(db), AP_DB_OK);
	ck_assert(ap_db_unit_open(db));
	ck_assert_int_eq(ap_db_exec(db, "PRAGMA query_only = 1"), AP_DB_OK);
	ck_assert_int_eq(insert_page(db), AP_DB_EREADONLY);
	ap_db_unit_end(db, false);
	ap_db_unit_begin(db);
	ck_assert_msg(insert_page(db) == AP_DB_OK, "%s", ap_db_errmsg(db));
	ck_assert_int_eq(ap_db_unit_end(db, true), AP_DB_OK);
	/* an explicit transaction */
	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_exec(db, "PRAGMA query_only = 1"), AP_DB_OK);
	ck_assert_int_eq(insert_page(db), AP_DB_EREADONLY);
	ck_assert_int_eq(ap_db_rollback(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_begin(db), AP_DB_OK);
	ck_assert_msg(insert_page(db) == AP_DB_OK, "%s", ap_db_errmsg(db));
	ck_assert_int_eq(ap_db_commit(db), AP_DB_OK);
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM t", &n), AP_DB_OK);
	ck_assert_int_eq(n, 2);
	ap_db_close(db);
}
END_TEST

/*
 * A connection opened while the database's directory is a read-only mount
 * (SQLite opens it read-only, and it stays so) and only read from: once the
 * mount is writable again, the first change succeeds, with no failed try
 * first. The mount is made in a mount namespace of this test's own (check
 * runs each test in a child process). regression: such a worker answered
 * 503 to every sign-in until it was recycled
 */
START_TEST(test_connection_opened_read_only_writes_once_writable)
{
	struct ap_db *keep = open_db(), *db;
	int64_t n = 0;

	ck_assert_int_eq(ap_db_exec(keep, "CREATE TABLE t (id INTEGER PRIMARY KEY, b BLOB)"), AP_DB_OK);
	/* keep holds the WAL open (its -wal and -shm stay), as the other workers do */
	ck_assert_msg(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mount(dir, dir, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL), 0);
	db = open_db();
	ck_assert_int_eq(ap_db_query_int64(db, "SELECT COUNT(*) FROM t", &n), AP_DB_OK);
	ck_assert_int_eq(insert_page(keep), AP_DB_OK); /* opened before: Linux lets it write */
	ck_assert_int_eq(umount2(dir, MNT_DETACH), 0);
	/* writable again: a request's change, on the connection from before */
	ap_db_unit_begin(db);
	ck_assert_msg(insert_page(db) == AP_DB_OK, "%s", ap_db_errmsg(db));
	ck_assert_int_eq(ap_db_unit_end(db, true), AP_DB_OK);
	ck_assert_int_eq(ap_db_query_int64(keep, "SELECT COUNT(*) FROM t", &n), AP_DB_OK);
	ck_assert_int_eq(n, 2);
	ap_db_close(db);
	ap_db_close(keep);
}
END_TEST

START_TEST(test_storage_check_reports)
{
	struct ap_config cfg;
	struct ap_storage st;
	struct ap_db *db = open_db();
	char run[128];

	memset(&cfg, 0, sizeof(cfg));
	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(run, 0700);
	cfg.var_dir = dir;
	cfg.run_dir = run;
	cfg.log_dir = dir;
	cfg.log_file = (char *)"";
	ck_assert_int_eq(ap_db_exec(db, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT)"),
	    AP_DB_OK);
	ap_storage_check(&cfg, db, true, &st);
	ck_assert_int_eq(st.db, AP_STORAGE_DB_OK);
	ck_assert(!st.disk_full);
	ck_assert_str_eq(ap_storage_db_name(st.db), "ok");
	/* no database: down at once (never from the cache), and not logged as a storage episode */
	ap_storage_check(&cfg, NULL, false, &st);
	ck_assert_int_eq(st.db, AP_STORAGE_DB_DOWN);
	ck_assert_str_eq(ap_storage_db_name(st.db), "down");
	ck_assert_int_eq(log_count("storage:"), 0);
	ap_db_close(db);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("storage");
	TCase *tc = tcase_create("storage");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_failing_checkpoint_is_logged_once_and_retried);
	tcase_add_test(tc, test_readonly_connection_is_named_and_reopened);
	tcase_add_test(tc, test_write_refused_in_a_unit_reopens_for_the_next);
	tcase_add_test(tc, test_connection_opened_read_only_writes_once_writable);
	tcase_add_test(tc, test_storage_check_reports);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
