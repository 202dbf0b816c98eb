/*
 * settings.c — the settings table (settings.h). Upserts are written
 * portably (UPDATE, then INSERT when no row changed) so the same code runs
 * on SQLite, MariaDB and PostgreSQL.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/settings.h"

enum ap_db_rc
ap_setting_get(struct ap_db *db, const char *name, char *out, size_t outlen)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	out[0] = '\0';
	rc = ap_db_prepare(db, "SELECT value FROM settings WHERE name = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *v = ap_db_col_text(st, 0, NULL);

		snprintf(out, outlen, "%s", v ? v : "");
	}
	ap_db_finalize(st);
	return rc == AP_DB_ROW || rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_setting_get_bool(struct ap_db *db, const char *name, bool *on)
{
	char v[8];
	enum ap_db_rc rc = ap_setting_get(db, name, v, sizeof(v));

	*on = rc == AP_DB_OK && strcmp(v, "1") == 0;
	return rc;
}

/*
 * MariaDB counts a row whose value did not change as unchanged, so the
 * INSERT may then meet the existing row: that is success too.
 */
enum ap_db_rc
ap_setting_set(struct ap_db *db, const char *name, const char *value)
{
	struct ap_db_stmt *st = NULL;
	int64_t now = time(NULL), changed = 0;
	enum ap_db_rc rc;

	rc = ap_db_prepare(db, "UPDATE settings SET value = ?, updated_at = ? WHERE name = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, value, -1);
	ap_db_bind_int64(st, 2, now);
	ap_db_bind_text(st, 3, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		changed = ap_db_changes(st);
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_DONE)
		return rc;
	if (changed > 0)
		return AP_DB_OK;
	rc = ap_db_prepare(db, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, name, -1);
	ap_db_bind_text(st, 2, value, -1);
	ap_db_bind_int64(st, 3, now);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE || rc == AP_DB_ECONSTRAINT)
		return AP_DB_OK;
	return rc;
}
