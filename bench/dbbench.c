/*
 * dbbench.c — the data layer's cost through the API, per backend:
 * point-select latency on a prepared, reused statement, and insert
 * throughput (autocommit, and batched in one transaction).
 * usage: bench-db DSN [PASSWORD_FILE] [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/db.h"

static const char *const ddl[AP_DB__MAX] = {
	"CREATE TABLE bench_kv (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
	"CREATE TABLE bench_kv (id BIGINT PRIMARY KEY, k VARCHAR(64) NOT NULL, v VARCHAR(255) NOT NULL) ENGINE=InnoDB",
	"CREATE TABLE bench_kv (id BIGINT PRIMARY KEY, k TEXT NOT NULL, v TEXT NOT NULL)",
};

static int
fail(struct ap_db *db, const char *what)
{
	fprintf(stderr, "bench-db: %s: %s\n", what, ap_db_errmsg(db));
	return 1;
}

static int
insert_rows(struct ap_db *db, int from, int n, bool tx)
{
	struct ap_db_stmt *st = NULL;
	char k[32];

	if (ap_db_prepare(db, "INSERT INTO bench_kv (id, k, v) VALUES (?, ?, ?)", &st) != AP_DB_OK)
		return fail(db, "prepare insert");
	if (tx && ap_db_begin(db) != AP_DB_OK)
		return fail(db, "begin");
	for (int i = from; i < from + n; i++) {
		snprintf(k, sizeof(k), "key-%d", i);
		ap_db_bind_int64(st, 1, i);
		ap_db_bind_text(st, 2, k, -1);
		ap_db_bind_text(st, 3, "لوحة تحكم الخادم — a value of ordinary length for a settings row", -1);
		if (ap_db_step(st) != AP_DB_DONE)
			return fail(db, "insert");
		ap_db_reset(st);
	}
	if (tx && ap_db_commit(db) != AP_DB_OK)
		return fail(db, "commit");
	ap_db_finalize(st);
	return 0;
}

int
main(int argc, char **argv)
{
	struct ap_db_opts o = { 0 };
	struct ap_db *db = NULL;
	struct ap_db_stmt *sel = NULL;
	char pw[256] = "";
	int n = argc > 3 ? atoi(argv[3]) : 2000;
	uint64_t t0, t1, t2, t3;
	long long sum = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DSN [PASSWORD_FILE] [N]\n", argv[0]);
		return 2;
	}
	if (argc > 2 && argv[2][0]) {
		FILE *f = fopen(argv[2], "r");
		if (f == NULL || fgets(pw, sizeof(pw), f) == NULL) {
			fprintf(stderr, "bench-db: cannot read %s\n", argv[2]);
			return 1;
		}
		fclose(f);
		pw[strcspn(pw, "\r\n")] = '\0';
		o.password = pw;
	}
	o.dsn = argv[1];
	if (ap_db_open(&o, &db) != AP_DB_OK)
		return fail(db, "open");
	ap_db_exec(db, "DROP TABLE IF EXISTS bench_kv");
	if (ap_db_exec(db, ddl[ap_db_backend(db)]) != AP_DB_OK)
		return fail(db, "create");
	t0 = ap_now_us();
	if (insert_rows(db, 0, n / 4, false))
		return 1;
	t1 = ap_now_us();
	if (insert_rows(db, n / 4, n, true))
		return 1;
	t2 = ap_now_us();
	if (ap_db_prepare(db, "SELECT v FROM bench_kv WHERE id = ?", &sel) != AP_DB_OK)
		return fail(db, "prepare select");
	for (int i = 0; i < n; i++) {
		size_t len = 0;

		ap_db_bind_int64(sel, 1, (i * 7919) % (n + n / 4));
		if (ap_db_step(sel) != AP_DB_ROW)
			return fail(db, "select");
		ap_db_col_text(sel, 0, &len);
		sum += (long long)len;
		ap_db_reset(sel);
	}
	t3 = ap_now_us();
	ap_db_finalize(sel);
	ap_db_exec(db, "DROP TABLE bench_kv");
	printf("  %-11s point select %7.1f us   insert autocommit %7.0f/s   insert in a transaction %8.0f/s\n",
	    ap_db_backend_name(ap_db_backend(db)), (double)(t3 - t2) / n,
	    (n / 4) / ((double)(t1 - t0) / 1e6), n / ((double)(t2 - t1) / 1e6));
	ap_db_close(db);
	return sum > 0 ? 0 : 1;
}
