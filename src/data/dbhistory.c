/*
 * dbhistory.c — the recorded imports and exports of a managed database
 * (dbhistory.h, migration 0018). SQL only here; the helper is asked about
 * running rows by dbio.c's ap_dbio_history (ap_dbio_job calls ap_dbhist_seen).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/dbhistory.h"
#include "aapanel/log.h"

static void
text_col(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

static enum ap_err
hist_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	else
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
	return AP_ERR_IO;
}

enum ap_err
ap_dbhist_add(const struct ap_sites_env *env, const struct ap_database *d, const char *kind,
    const char *format, int64_t job, const char *actor, int64_t size, const char *sha256,
    const struct ap_problem *failed, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	int64_t now = (int64_t)time(NULL);
	enum ap_db_rc rc;

	if (env->db == NULL)
		return AP_OK;
	rc = ap_db_prepare(env->db,
	    "INSERT INTO database_transfers (database_id, kind, format, job, actor, started_at, "
	    "finished_at, size, sha256, result, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, d->id);
		ap_db_bind_text(st, 2, kind, -1);
		ap_db_bind_text(st, 3, format, -1);
		if (job > 0)
			ap_db_bind_int64(st, 4, job);
		else
			ap_db_bind_null(st, 4);
		ap_db_bind_text(st, 5, actor, -1);
		ap_db_bind_int64(st, 6, now);
		if (failed != NULL)
			ap_db_bind_int64(st, 7, now);
		else
			ap_db_bind_null(st, 7);
		if (size > 0)
			ap_db_bind_int64(st, 8, size);
		else
			ap_db_bind_null(st, 8);
		if (sha256 != NULL && sha256[0])
			ap_db_bind_text(st, 9, sha256, -1);
		else
			ap_db_bind_null(st, 9);
		ap_db_bind_text(st, 10, failed != NULL ? "failed" : "running", -1);
		if (failed != NULL)
			ap_db_bind_text(st, 11, failed->reason, -1);
		else
			ap_db_bind_null(st, 11);
		rc = ap_db_step(st);
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : hist_fail(pb, rc);
}

/* Finish the running row of (d, job): result, error, the dump's size and SHA-256 from the job. */
static void
finish(const struct ap_sites_env *env, const struct ap_database *d, int64_t job, const char *result,
    const char *error, int64_t size, const char *sha256)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "UPDATE database_transfers SET result = ?, error = ?, finished_at = ?, "
	    "size = COALESCE(?, size), sha256 = COALESCE(?, sha256) "
	    "WHERE database_id = ? AND job = ? AND result = 'running'", &st);

	if (rc == AP_DB_OK) {
		ap_db_bind_text(st, 1, result, -1);
		if (error != NULL)
			ap_db_bind_text(st, 2, error, -1);
		else
			ap_db_bind_null(st, 2);
		ap_db_bind_int64(st, 3, (int64_t)time(NULL));
		if (size > 0)
			ap_db_bind_int64(st, 4, size);
		else
			ap_db_bind_null(st, 4);
		if (sha256 != NULL && sha256[0])
			ap_db_bind_text(st, 5, sha256, -1);
		else
			ap_db_bind_null(st, 5);
		ap_db_bind_int64(st, 6, d->id);
		ap_db_bind_int64(st, 7, job);
		rc = ap_db_step(st);
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		AP_WARN("database_transfers: job %lld of %s not recorded as %s", (long long)job, d->name, result);
}

void
ap_dbhist_seen(const struct ap_sites_env *env, const struct ap_database *d, struct json_object *st)
{
	struct json_object *v, *r = NULL;
	const char *state, *kind = "", *sha = NULL, *err = NULL;
	int64_t size = 0, job;

	if (env->db == NULL || !json_object_object_get_ex(st, "state", &v) || v == NULL)
		return;
	state = json_object_get_string(v);
	if (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0)
		return;
	if (!json_object_object_get_ex(st, "id", &v))
		return;
	job = json_object_get_int64(v);
	if (json_object_object_get_ex(st, "kind", &v) && v != NULL)
		kind = json_object_get_string(v);
	if (json_object_object_get_ex(st, "result", &r) && r != NULL) {
		/* An export's dump ("size"; "bytes" is its SQL); an import's upload was recorded at the start. */
		if (strcmp(kind, "export") == 0 && json_object_object_get_ex(r, "size", &v))
			size = json_object_get_int64(v);
		if (strcmp(kind, "export") == 0 && json_object_object_get_ex(r, "sha256", &v))
			sha = json_object_get_string(v);
	}
	if (json_object_object_get_ex(st, "error", &v) && v != NULL)
		err = json_object_get_string(v);
	if (strcmp(state, "done") == 0)
		finish(env, d, job, "ok", NULL, size, sha);
	else
		finish(env, d, job, "failed", err ? err : state, 0, NULL);
}

int
ap_dbhist_list(const struct ap_sites_env *env, const struct ap_database *d, struct ap_dbhist_row *rows,
    int max, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;
	int n = 0;

	rc = ap_db_prepare(env->db,
	    "SELECT id, kind, format, job, actor, started_at, finished_at, size, sha256, result, error "
	    "FROM database_transfers WHERE database_id = ? ORDER BY id DESC LIMIT ?", &st);
	if (rc != AP_DB_OK) {
		hist_fail(pb, rc);
		return -1;
	}
	ap_db_bind_int64(st, 1, d->id);
	ap_db_bind_int64(st, 2, max);
	while (n < max && (rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_dbhist_row *r = &rows[n++];

		memset(r, 0, sizeof(*r));
		r->id = ap_db_col_int64(st, 0);
		text_col(st, 1, r->kind, sizeof(r->kind));
		text_col(st, 2, r->format, sizeof(r->format));
		r->job = ap_db_col_is_null(st, 3) ? 0 : ap_db_col_int64(st, 3);
		text_col(st, 4, r->actor, sizeof(r->actor));
		r->started_at = ap_db_col_int64(st, 5);
		r->finished_at = ap_db_col_is_null(st, 6) ? 0 : ap_db_col_int64(st, 6);
		r->size = ap_db_col_is_null(st, 7) ? -1 : ap_db_col_int64(st, 7);
		text_col(st, 8, r->sha256, sizeof(r->sha256));
		text_col(st, 9, r->result, sizeof(r->result));
		text_col(st, 10, r->error, sizeof(r->error));
	}
	ap_db_finalize(st);
	if (rc != AP_DB_ROW && rc != AP_DB_DONE && n < max) {
		hist_fail(pb, rc);
		return -1;
	}
	return n;
}

void
ap_dbhist_unknown(const struct ap_sites_env *env, const struct ap_database *d, int64_t job)
{
	if (env->db != NULL)
		finish(env, d, job, "unknown", "the helper no longer knows this job", 0, NULL);
}

void
ap_dbhist_forget(const struct ap_sites_env *env, int64_t database_id)
{
	struct ap_db_stmt *st = NULL;

	if (env->db == NULL || ap_db_prepare(env->db, "DELETE FROM database_transfers WHERE database_id = ?", &st) !=
	    AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, database_id);
	ap_db_step(st);
	ap_db_finalize(st);
}
