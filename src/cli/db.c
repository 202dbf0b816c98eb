/*
 * db.c — `aapanel db migrate|status|copy`, and how every command opens the
 * configured database (ap_dbconn_open_cli).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/migrate.h"

/* Tables whose id is generated (a sequence to move after a copy). */
static bool
has_serial_id(const char *table)
{
	return strcmp(table, "settings") != 0;
}

struct ap_db *
ap_dbconn_open_cli(const struct ap_config *cfg)
{
	struct ap_db *db = NULL;

	if (ap_dbconn_open(cfg, &db) == AP_DB_OK)
		return db;
	fprintf(stderr, "aapanel: cannot connect to the database: %s\n",
	    db ? ap_db_errmsg(db) : "invalid db.dsn");
	ap_db_close(db);
	return NULL;
}

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

static enum ap_db_rc
count_rows(struct ap_db *db, const char *table, int64_t *n)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s", table);
	return ap_db_query_int64(db, sql, n);
}

static bool
column_name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > 63)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Copy every row of table from src to dst (inside dst's open transaction). */
static enum ap_db_rc
copy_table(struct ap_db *src, struct ap_db *dst, const char *table, int64_t *copied, char *err,
    size_t errlen)
{
	struct ap_db_stmt *sel = NULL, *ins = NULL;
	char *sql = ap_xasprintf("SELECT * FROM %s ORDER BY 1", table);
	enum ap_db_rc rc;
	int ncol = 0;

	*copied = 0;
	rc = ap_db_prepare(src, sql, &sel);
	free(sql);
	if (rc != AP_DB_OK) {
		snprintf(err, errlen, "%s: reading: %s", table, ap_db_errmsg(src));
		return rc;
	}
	while ((rc = ap_db_step(sel)) == AP_DB_ROW) {
		if (ins == NULL) {
			struct ap_buf q = { 0 };

			ncol = ap_db_col_count(sel);
			ap_buf_printf(&q, "INSERT INTO %s (", table);
			for (int c = 0; c < ncol; c++) {
				const char *name = ap_db_col_name(sel, c);

				if (!column_name_ok(name)) {
					snprintf(err, errlen, "%s: unexpected column name", table);
					ap_buf_free(&q);
					rc = AP_DB_EINVAL;
					goto out;
				}
				ap_buf_printf(&q, "%s%s", c ? ", " : "", name);
			}
			ap_buf_puts(&q, ") VALUES (");
			for (int c = 0; c < ncol; c++)
				ap_buf_puts(&q, c ? ", ?" : "?");
			ap_buf_puts(&q, ")");
			rc = ap_db_prepare(dst, q.data, &ins);
			ap_buf_free(&q);
			if (rc != AP_DB_OK) {
				snprintf(err, errlen, "%s: %s", table, ap_db_errmsg(dst));
				goto out;
			}
		}
		for (int c = 0; c < ncol; c++) {
			size_t len;
			const void *p;

			switch (ap_db_col_type(sel, c)) {
			case AP_DB_T_NULL: ap_db_bind_null(ins, c + 1); break;
			case AP_DB_T_INT: ap_db_bind_int64(ins, c + 1, ap_db_col_int64(sel, c)); break;
			case AP_DB_T_DOUBLE: ap_db_bind_double(ins, c + 1, ap_db_col_double(sel, c)); break;
			case AP_DB_T_TEXT:
				p = ap_db_col_text(sel, c, &len);
				ap_db_bind_text(ins, c + 1, p, (ssize_t)len);
				break;
			case AP_DB_T_BLOB:
				p = ap_db_col_blob(sel, c, &len);
				ap_db_bind_blob(ins, c + 1, p, len);
				break;
			}
		}
		rc = ap_db_step(ins);
		if (rc != AP_DB_DONE) {
			snprintf(err, errlen, "%s: writing: %s", table, ap_db_errmsg(dst));
			goto out;
		}
		ap_db_reset(ins);
		(*copied)++;
	}
	if (rc != AP_DB_DONE) {
		snprintf(err, errlen, "%s: reading: %s", table, ap_db_errmsg(src));
		goto out;
	}
	rc = AP_DB_OK;
out:
	ap_db_finalize(sel);
	ap_db_finalize(ins);
	return rc;
}

/* Move a PostgreSQL sequence past the copied ids. */
static enum ap_db_rc
fix_sequence(struct ap_db *dst, const char *table)
{
	char sql[256];

	if (ap_db_backend(dst) != AP_DB_PGSQL || !has_serial_id(table))
		return AP_DB_OK;
	snprintf(sql, sizeof(sql),
	    "SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)",
	    table, table);
	return ap_db_exec(dst, sql);
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

		if (count_rows(dst, ap_db_tables[i], &n) != AP_DB_OK) {
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
	if (ap_db_begin(dst) != AP_DB_OK) {
		fprintf(stderr, "aapanel: --to: %s\n", ap_db_errmsg(dst));
		goto out;
	}
	if (total > 0) {
		for (size_t i = ap_db_ntables; i-- > 0;) {
			char sql[128];

			snprintf(sql, sizeof(sql), "DELETE FROM %s", ap_db_tables[i]);
			if (ap_db_exec(dst, sql) != AP_DB_OK) {
				fprintf(stderr, "aapanel: --to: clearing %s: %s\n", ap_db_tables[i], ap_db_errmsg(dst));
				goto rollback;
			}
		}
	}
	for (size_t i = 0; i < ap_db_ntables; i++) {
		if (copy_table(src, dst, ap_db_tables[i], &counts[i], err, sizeof(err)) != AP_DB_OK ||
		    fix_sequence(dst, ap_db_tables[i]) != AP_DB_OK) {
			fprintf(stderr, "aapanel: copy failed: %s\n", err[0] ? err : ap_db_errmsg(dst));
			goto rollback;
		}
	}
	if (ap_db_commit(dst) != AP_DB_OK) {
		fprintf(stderr, "aapanel: --to: commit failed: %s\n", ap_db_errmsg(dst));
		goto out;
	}
	/* Verify: the same number of rows on both sides, table by table. */
	status = 0;
	fprintf(out, "%-20s %10s %10s\n", "table", "source", "target");
	for (size_t i = 0; i < ap_db_ntables; i++) {
		int64_t s = -1, d = -1;

		count_rows(src, ap_db_tables[i], &s);
		count_rows(dst, ap_db_tables[i], &d);
		fprintf(out, "%-20s %10lld %10lld%s\n", ap_db_tables[i], (long long)s, (long long)d,
		    s == d && d == counts[i] ? "" : "  MISMATCH");
		if (s != d || d != counts[i])
			status = 1;
	}
	fprintf(out, status ? "copy FAILED verification\n" : "copy verified: row counts match\n");
	goto out;
rollback:
	ap_db_rollback(dst);
out:
	free(counts);
	ap_migrations_free(&ms);
	ap_migrations_free(&md);
	ap_db_close(src);
	ap_db_close(dst);
	return status;
}
