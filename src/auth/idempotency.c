/* idempotency.c — remembering the first answer of a create (idempotency.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/idempotency.h"

bool
ap_idem_key_valid(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (n == 0 || n > AP_IDEM_KEY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
			return false;
	return true;
}

/* The row of (user, key): *found, and its members. */
static enum ap_db_rc
lookup(struct ap_db *db, int64_t user_id, const char *key_hash, bool *found, char route[256],
    char req[65], int *status, char **body, int64_t *created)
{
	struct ap_db_stmt *st = NULL;
	const char *s;
	enum ap_db_rc rc;

	*found = false;
	rc = ap_db_prepare(db, "SELECT route, request_hash, status, body, created_at FROM idempotency_keys "
			       "WHERE user_id = ? AND key_hash = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, user_id)) != AP_DB_OK ||
	    (rc = ap_db_bind_text(st, 2, key_hash, -1)) != AP_DB_OK)
		goto out;
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		*found = true;
		s = ap_db_col_text(st, 0, NULL);
		snprintf(route, 256, "%s", s ? s : "");
		s = ap_db_col_text(st, 1, NULL);
		snprintf(req, 65, "%s", s ? s : "");
		*status = (int)ap_db_col_int64(st, 2);
		s = ap_db_col_text(st, 3, NULL);
		*body = s ? ap_xstrdup(s) : NULL;
		*created = ap_db_col_int64(st, 4);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE) {
		rc = AP_DB_OK;
	}
out:
	ap_db_finalize(st);
	return rc;
}

static enum ap_db_rc
reserve(struct ap_db *db, int64_t user_id, const char *key_hash, const char *route, const char *req,
    time_t now)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	rc = ap_db_prepare(db, "INSERT INTO idempotency_keys (user_id, key_hash, route, request_hash, status, "
			       "body, created_at) VALUES (?, ?, ?, ?, 0, NULL, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, user_id)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 2, key_hash, -1)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 3, route, -1)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 4, req, -1)) == AP_DB_OK &&
	    (rc = ap_db_bind_int64(st, 5, now)) == AP_DB_OK)
		rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

static enum ap_db_rc
forget_before(struct ap_db *db, time_t t)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM idempotency_keys WHERE created_at < ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, t)) == AP_DB_OK)
		rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_idem_begin(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *key,
    const char *route, const char *request_hash, time_t now, char key_hash[65],
    enum ap_idem_state *state, int *status, char **body)
{
	char r[256], req[65];
	int64_t created = 0;
	bool found;
	enum ap_db_rc rc;

	*body = NULL;
	*status = 0;
	ap_auth_hash(cfg, key, key_hash);
	if ((rc = forget_before(db, now - AP_IDEM_TTL_S)) != AP_DB_OK)
		return rc;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((rc = lookup(db, user_id, key_hash, &found, r, req, status, body, &created)) != AP_DB_OK)
			return rc;
		if (found && *status == 0 && created < now - AP_IDEM_STALE_S) {
			/* Its first request died (a killed worker): as if never sent. */
			if ((rc = ap_idem_release(db, user_id, key_hash)) != AP_DB_OK)
				return rc;
			found = false;
		}
		if (found) {
			if (strcmp(r, route) != 0 || strcmp(req, request_hash) != 0)
				*state = AP_IDEM_MISMATCH;
			else
				*state = *status == 0 ? AP_IDEM_RUNNING : AP_IDEM_REPLAY;
			if (*state != AP_IDEM_REPLAY) {
				free(*body);
				*body = NULL;
			}
			return AP_DB_OK;
		}
		rc = reserve(db, user_id, key_hash, route, request_hash, now);
		if (rc == AP_DB_OK) {
			*state = AP_IDEM_NEW;
			return AP_DB_OK;
		}
		/* Another worker reserved it between our look and our insert: look again. */
		if (rc != AP_DB_ECONSTRAINT)
			return rc;
	}
	*state = AP_IDEM_RUNNING;
	return AP_DB_OK;
}

enum ap_db_rc
ap_idem_finish(struct ap_db *db, int64_t user_id, const char *key_hash, int status, const char *body)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "UPDATE idempotency_keys SET status = ?, body = ? "
					     "WHERE user_id = ? AND key_hash = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, status)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 2, body ? body : "", -1)) == AP_DB_OK &&
	    (rc = ap_db_bind_int64(st, 3, user_id)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 4, key_hash, -1)) == AP_DB_OK)
		rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_idem_release(struct ap_db *db, int64_t user_id, const char *key_hash)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "DELETE FROM idempotency_keys WHERE user_id = ? AND key_hash = ?",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, user_id)) == AP_DB_OK &&
	    (rc = ap_db_bind_text(st, 2, key_hash, -1)) == AP_DB_OK)
		rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}
