/*
 * db.c — `aapanel db migrate|status|copy`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/migrate.h"



int
ap_dbcli_migrate(const struct ap_config *cfg, FILE *out)
{
	struct ap_migrations m = { 0 };
	struct ap_db *db = NULL;
	size_t applied = 0;
	char err[512];
	int status = 1;

	if ((db = ap_dbconn_open_cli(cfg)) == NULL || !ap_dbconn_migrations(cfg, db, &m))
		goto out;
	if (ap_migrate_apply(db, &m, &applied, err, sizeof(err)) != AP_DB_OK) {
		fprintf(stderr, "aapanel: migration failed: %s\n", err);
		goto out;
	}
	fprintf(out, "%zu migration(s) applied; schema at version %04d (%s)\n", applied,
	    m.n ? m.v[m.n - 1].version : 0, ap_db_backend_name(ap_db_backend(db)));
	status = 0;
out:
	ap_migrations_free(&m);
	ap_db_close(db);
	return status;
}

int
ap_dbcli_status(const struct ap_config *cfg, FILE *out)
{
	struct ap_migrations m = { 0 };
	struct ap_db *db = NULL;
	size_t pending = 0;
	int status = 1;

	if ((db = ap_dbconn_open_cli(cfg)) == NULL || !ap_dbconn_migrations(cfg, db, &m))
		goto out;
	if (ap_migrate_status(db, &m, &pending) != AP_DB_OK) {
		fprintf(stderr, "aapanel: %s\n", ap_db_errmsg(db));
		goto out;
	}
	fprintf(out, "database: %s\n", ap_db_backend_name(ap_db_backend(db)));
	for (size_t i = 0; i < m.n; i++)
		fprintf(out, "  %04d_%-24s %s\n", m.v[i].version, m.v[i].name,
		    m.v[i].applied ? "applied" : "PENDING");
	fprintf(out, "%zu pending\n", pending);
	/* 0 up to date, 2 pending: scripts can tell them apart. */
	status = pending ? 2 : 0;
out:
	ap_migrations_free(&m);
	ap_db_close(db);
	return status;
}

int
ap_dbcli_copy(const struct ap_config *cfg, const char *from, const char *from_pw, const char *to,
    const char *to_pw, bool force, FILE *out)
{
	struct ap_migrations ms = { 0 }, md = { 0 };
	struct ap_db *src = NULL, *dst = NULL;
	int64_t *counts = ap_xcalloc(ap_db_ntables, sizeof(*counts));
	int64_t total = 0;
	size_t pending = 0, applied = 0;
	char err[512] = "";
	int status = 1;

	if (ap_dbconn_open_dsn(from, from_pw, cfg, &src) != AP_DB_OK) {
		fprintf(stderr, "aapanel: --from: cannot connect: %s\n", src ? ap_db_errmsg(src) : "invalid DSN");
		goto out;
	}
	if (ap_dbconn_open_dsn(to, to_pw, cfg, &dst) != AP_DB_OK) {
		fprintf(stderr, "aapanel: --to: cannot connect: %s\n", dst ? ap_db_errmsg(dst) : "invalid DSN");
		goto out;
	}
	if (!ap_dbconn_migrations(cfg, src, &ms) || !ap_dbconn_migrations(cfg, dst, &md))
		goto out;
	if (ap_migrate_status(src, &ms, &pending) != AP_DB_OK || pending != 0) {
		fprintf(stderr, "aapanel: --from: %s\n",
		    pending ? "the source has pending migrations; run 'aapanel db migrate' on it first"
			    : ap_db_errmsg(src));
		goto out;
	}
	if (ap_migrate_apply(dst, &md, &applied, err, sizeof(err)) != AP_DB_OK) {
		fprintf(stderr, "aapanel: --to: migrating the target failed: %s\n", err);
		goto out;
	}
	for (size_t i = 0; i < ap_db_ntables; i++) {
		int64_t n = 0;

		if (ap_db_table_seeded(ap_db_tables[i]))
			continue;
		if (ap_db_count_rows(dst, ap_db_tables[i], &n) != AP_DB_OK) {
			fprintf(stderr, "aapanel: --to: %s: %s\n", ap_db_tables[i], ap_db_errmsg(dst));
			goto out;
		}
		total += n;
	}
	if (total > 0 && !force) {
		fprintf(stderr, "aapanel: --to: the target already holds %lld rows; refusing to "
				"overwrite them (add --force to replace the target's data)\n",
		    (long long)total);
		goto out;
	}
	if (ap_db_copy_all(src, dst, total > 0, counts, err, sizeof(err)) != AP_DB_OK) {
		fprintf(stderr, "aapanel: copy failed: %s\n", err);
		goto out;
	}
	/* Verify: the same number of rows on both sides, table by table. */
	status = 0;
	fprintf(out, "%-20s %10s %10s\n", "table", "source", "target");
	for (size_t i = 0; i < ap_db_ntables; i++) {
		int64_t s = -1, d = -1;

		ap_db_count_rows(src, ap_db_tables[i], &s);
		ap_db_count_rows(dst, ap_db_tables[i], &d);
		fprintf(out, "%-20s %10lld %10lld%s\n", ap_db_tables[i], (long long)s, (long long)d,
		    s == d && d == counts[i] ? "" : "  MISMATCH");
		if (s != d || d != counts[i])
			status = 1;
	}
	fprintf(out, status ? "copy FAILED verification\n" : "copy verified: row counts match\n");
out:
	free(counts);
	ap_migrations_free(&ms);
	ap_migrations_free(&md);
	ap_db_close(src);
	ap_db_close(dst);
	return status;
}
