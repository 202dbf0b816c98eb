/*
 * metrics_growth.c — how much the monitoring history costs the database:
 * simulates DAYS days of readings every INTERVAL seconds (one host, one
 * filesystem, one disk, three interfaces, as the development VM) with the
 * sampler's once-a-minute averaging and pruning, on the database of DSN,
 * and prints the rows kept and, for SQLite, the file size after each day.
 * usage: bench-metrics-growth DSN [DAYS] [INTERVAL]   (migrations applied first)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "aapanel/metrics.h"
#include "aapanel/migrate.h"

int
main(int argc, char **argv)
{
	struct ap_db_opts o = { 0 };
	struct ap_db *db = NULL;
	struct ap_migrations m;
	struct ap_metrics_writer *w;
	char err[512];
	size_t applied = 0;
	int days = argc > 2 ? atoi(argv[2]) : 2, interval = argc > 3 ? atoi(argv[3]) : 10;
	int64_t t0 = 1800000000, t;

	if (argc < 2)
		return 2;
	o.dsn = argv[1];
	if (ap_db_open(&o, &db) != AP_DB_OK || ap_migrate_load("sql", ap_db_backend(db), &m, err, sizeof(err)) != AP_OK ||
	    ap_migrate_apply(db, &m, &applied, err, sizeof(err)) != AP_DB_OK) {
		fprintf(stderr, "cannot open or migrate %s: %s\n", argv[1], err);
		return 1;
	}
	ap_migrations_free(&m);
	ap_db_exec(db, "PRAGMA journal_mode=DELETE");
	w = ap_metrics_writer_new("web1.example.com");
	for (t = t0; t < t0 + (int64_t)days * 86400; t += interval) {
		double host[AP_MC__MAX];
		struct ap_mdev d[5] = {
			{ AP_MDEV_FS, "/", { 1.8e10 + (double)(t % 977), 1.0e11, 422856, 16777216 } },
			{ AP_MDEV_DISK, "vda", { (double)(t % 4096), 19051.16, 0, 4.65 } },
			{ AP_MDEV_NET, "eth0", { 1234.5, 678.9, 0, 0 } },
			{ AP_MDEV_NET, "ifb0", { 0, 0, 0, 0 } },
			{ AP_MDEV_NET, "ifb1", { 0, 0, 0, 0 } },
		};

		for (int i = 0; i < AP_MC__MAX; i++)
			host[i] = (double)((t * (i + 3)) % 1000) / 7.0;
		if (ap_metrics_store(db, w, t, host, d, 5) != AP_DB_OK) {
			fprintf(stderr, "store: %s\n", ap_db_errmsg(db));
			return 1;
		}
		if (t % 60 == 0 && (ap_metrics_rollup(db, w, t, NULL) != AP_DB_OK || ap_metrics_prune(db, t, NULL) != AP_DB_OK)) {
			fprintf(stderr, "rollup/prune: %s\n", ap_db_errmsg(db));
			return 1;
		}
		if ((t - t0 + interval) % 86400 == 0) {
			int64_t h0 = 0, d0 = 0, h1 = 0, d1 = 0;
			struct stat st;
			const char *path = strncmp(argv[1], "sqlite:", 7) == 0 ? argv[1] + 7 : NULL;

			ap_metrics_count(db, 0, &h0, &d0);
			ap_metrics_count(db, 60, &h1, &d1);
			if (path && path[0] == '/' && path[1] == '/')
				path += 2;
			printf("day %lld: raw rows %lld host + %lld device, per-minute rows %lld host + %lld device",
			    (long long)((t - t0) / 86400 + 1), (long long)h0, (long long)d0, (long long)h1, (long long)d1);
			if (path && stat(path, &st) == 0)
				printf(", file %.2f MiB", (double)st.st_size / 1048576.0);
			printf("\n");
			fflush(stdout);
		}
	}
	ap_metrics_writer_free(w);
	ap_db_close(db);
	return 0;
}
