/*
 * copy.c — copying the panel's tables from one database to another, any
 * backend to any backend (`aapanel db copy`, migrate.h): in one transaction
 * on the target, rows as typed values, PostgreSQL sequences moved past the
 * copied ids. Table and column names come only from the constant table list
 * and a strict pattern, never from input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/migrate.h"

/* Tables whose id is generated (a sequence to move after a copy). */
static bool
has_serial_id(const char *table)
{
	return strcmp(table, "settings") != 0 && strcmp(table, "audit_head") != 0 &&
	    strcmp(table, "idempotency_keys") != 0 && strcmp(table, "metric_host") != 0 &&
	    strcmp(table, "metric_dev") != 0;
}

enum ap_db_rc
ap_db_count_rows(struct ap_db *db, const char *table, int64_t *n)
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

enum ap_db_rc
ap_db_copy_all(struct ap_db *src, struct ap_db *dst, bool clear, int64_t *counts, char *err,
    size_t errlen)
{
	enum ap_db_rc rc;

	err[0] = '\0';
	if ((rc = ap_db_begin(dst)) != AP_DB_OK) {
		snprintf(err, errlen, "target: %s", ap_db_errmsg(dst));
		return rc;
	}
	/* Children first, so foreign keys never point at a deleted row; the
	 * migrations' own rows go whatever clear says. */
	for (size_t i = ap_db_ntables; i-- > 0;) {
		char sql[128];

		if (!clear && !ap_db_table_seeded(ap_db_tables[i]))
			continue;
		snprintf(sql, sizeof(sql), "DELETE FROM %s", ap_db_tables[i]);
		if ((rc = ap_db_exec(dst, sql)) != AP_DB_OK) {
			snprintf(err, errlen, "target: clearing %s: %s", ap_db_tables[i], ap_db_errmsg(dst));
			goto fail;
		}
	}
	for (size_t i = 0; i < ap_db_ntables; i++) {
		if ((rc = copy_table(src, dst, ap_db_tables[i], &counts[i], err, errlen)) != AP_DB_OK)
			goto fail;
		if ((rc = fix_sequence(dst, ap_db_tables[i])) != AP_DB_OK) {
			snprintf(err, errlen, "%s: sequence: %s", ap_db_tables[i], ap_db_errmsg(dst));
			goto fail;
		}
	}
	if ((rc = ap_db_commit(dst)) != AP_DB_OK) {
		snprintf(err, errlen, "target: commit: %s", ap_db_errmsg(dst));
		goto fail;
	}
	return AP_DB_OK;
fail:
	ap_db_rollback(dst);
	return rc;
}
