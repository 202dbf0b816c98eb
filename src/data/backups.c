/*
 * backups.c — backup destinations and runs (backups.h): the panel's rows
 * and the helper's restic jobs behind them. A run is recorded when its job
 * starts and settled from job.status (as tasks' runs are).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/backups.h"
#include "aapanel/db.h"
#include "aapanel/helper.h"
#include "aapanel/metrics.h"

/* A reason from backupcheck.h, passed through (xgettext sees no literal msgid). */
#define TOOL_MSG "%s"

static enum ap_err
db_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	else
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
	return AP_ERR_IO;
}

static void
text_col(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

static int64_t
int_col(struct ap_db_stmt *st, int col, int64_t dflt)
{
	return ap_db_col_is_null(st, col) ? dflt : ap_db_col_int64(st, col);
}

static void
add_opt(struct json_object *a, const char *k, const char *v)
{
	if (v != NULL && v[0] != '\0')
		json_object_object_add(a, k, json_object_new_string(v));
}

/* ---- destinations -------------------------------------------------------- */

static void
dest_fill(struct ap_db_stmt *st, struct ap_backup_dest *d)
{
	memset(d, 0, sizeof(*d));
	d->id = ap_db_col_int64(st, 0);
	text_col(st, 1, d->name, sizeof(d->name));
	text_col(st, 2, d->kind, sizeof(d->kind));
	text_col(st, 3, d->url, sizeof(d->url));
	d->created_at = int_col(st, 4, 0);
}

enum ap_err
ap_backup_dest_find(const struct ap_sites_env *env, const char *name, struct ap_backup_dest *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "SELECT id, name, kind, url, created_at FROM backup_destinations WHERE name = ?", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		dest_fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, "dest", "no such backup destination");
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_backup_dest_list(const struct ap_sites_env *env,
    bool (*fn)(void *ctx, const struct ap_backup_dest *d), void *ctx, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_backup_dest d;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "SELECT id, name, kind, url, created_at FROM backup_destinations ORDER BY name", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		dest_fill(st, &d);
		if (!fn(ctx, &d))
			break;
	}
	ap_db_finalize(st);
	return rc == AP_DB_ROW || rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_backup_dest_add(const struct ap_sites_env *env, const struct ap_backup_dest_spec *spec,
    struct ap_backup_dest *out, struct ap_problem *pb)
{
	struct json_object *a, *res = NULL;
	struct ap_db_stmt *st = NULL;
	struct ap_backup_dest old;
	struct ap_bk_url u;
	const char *why;
	enum ap_db_rc rc;
	enum ap_err e;

	if ((why = ap_check_backup_dest_name(spec->name, strlen(spec->name))) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "name", TOOL_MSG, why);
	if ((why = ap_bk_url_parse(spec->url, &u)) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "url", TOOL_MSG, why);
	if (ap_backup_dest_find(env, spec->name, &old, pb) == AP_OK)
		return ap_problem_set(pb, AP_PB_EXISTS, "name", "a destination with this name exists");
	if (pb->code != AP_PB_NOT_FOUND)
		return AP_ERR_IO;
	memset(pb, 0, sizeof(*pb));
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(spec->name));
	json_object_object_add(a, "url", json_object_new_string(spec->url));
	add_opt(a, "region", spec->region);
	add_opt(a, "access_key", spec->access_key);
	add_opt(a, "secret_key", spec->secret_key);
	add_opt(a, "ssh_key", spec->ssh_key);
	add_opt(a, "known_hosts", spec->known_hosts);
	add_opt(a, "password", spec->password);
	add_opt(a, "ca_cert", spec->ca_cert);
	e = ap_site_helper_job(env, "backup.dest_add", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	if (e != AP_OK)
		return e;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", spec->name);
	snprintf(out->kind, sizeof(out->kind), "%s", ap_bk_kind_name(u.kind));
	snprintf(out->url, sizeof(out->url), "%s", spec->url);
	out->created_at = (int64_t)time(NULL);
	rc = ap_db_prepare_insert(env->db,
	    "INSERT INTO backup_destinations (name, kind, url, created_at) VALUES (?, ?, ?, ?)", "id",
	    &st);
	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, out->name, -1);
	ap_db_bind_text(st, 2, out->kind, -1);
	ap_db_bind_text(st, 3, out->url, -1);
	ap_db_bind_int64(st, 4, out->created_at);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		out->id = ap_db_last_insert_id(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_backup_dest_remove(const struct ap_sites_env *env, const struct ap_backup_dest *d,
    struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;
	enum ap_err e;

	json_object_object_add(a, "name", json_object_new_string(d->name));
	e = ap_site_helper_call(env, "backup.dest_remove", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	if (e != AP_OK && pb->code != AP_PB_NOT_FOUND)
		return e;
	memset(pb, 0, sizeof(*pb));
	rc = ap_db_prepare(env->db, "DELETE FROM backup_destinations WHERE id = ?", &st);
	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, d->id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

struct json_object *
ap_backup_dest_json(const struct ap_backup_dest *d)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "kind", json_object_new_string(d->kind));
	json_object_object_add(o, "url", json_object_new_string(d->url));
	json_object_object_add(o, "created_at", json_object_new_int64(d->created_at));
	return o;
}

/* ---- runs ----------------------------------------------------------------- */

static const char run_cols[] =
    "id, action, target_kind, target, dest, job_id, state, snapshot, message, started_at, ended_at";

static void
run_fill(struct ap_db_stmt *st, struct ap_backup_run *r)
{
	memset(r, 0, sizeof(*r));
	r->id = ap_db_col_int64(st, 0);
	text_col(st, 1, r->action, sizeof(r->action));
	text_col(st, 2, r->target_kind, sizeof(r->target_kind));
	text_col(st, 3, r->target, sizeof(r->target));
	text_col(st, 4, r->dest, sizeof(r->dest));
	r->job_id = int_col(st, 5, 0);
	text_col(st, 6, r->state, sizeof(r->state));
	text_col(st, 7, r->snapshot, sizeof(r->snapshot));
	text_col(st, 8, r->message, sizeof(r->message));
	r->started_at = int_col(st, 9, 0);
	r->ended_at = int_col(st, 10, 0);
	r->progress = strcmp(r->state, "done") == 0 ? 100 : 0;
}

static enum ap_err
run_insert(const struct ap_sites_env *env, struct ap_backup_run *r, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare_insert(env->db,
	    "INSERT INTO backup_runs (action, target_kind, target, dest, job_id, state, snapshot, "
	    "message, started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "id", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_text(st, 1, r->action, -1);
	ap_db_bind_text(st, 2, r->target_kind, -1);
	ap_db_bind_text(st, 3, r->target, -1);
	ap_db_bind_text(st, 4, r->dest, -1);
	if (r->job_id)
		ap_db_bind_int64(st, 5, r->job_id);
	else
		ap_db_bind_null(st, 5);
	ap_db_bind_text(st, 6, r->state, -1);
	ap_db_bind_text(st, 7, r->snapshot, -1);
	ap_db_bind_text(st, 8, r->message, -1);
	ap_db_bind_int64(st, 9, r->started_at);
	if (r->ended_at)
		ap_db_bind_int64(st, 10, r->ended_at);
	else
		ap_db_bind_null(st, 10);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		r->id = ap_db_last_insert_id(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static void
run_save(const struct ap_sites_env *env, const struct ap_backup_run *r)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "UPDATE backup_runs SET state = ?, snapshot = ?, message = ?, "
	    "ended_at = ? WHERE id = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_text(st, 1, r->state, -1);
	ap_db_bind_text(st, 2, r->snapshot, -1);
	ap_db_bind_text(st, 3, r->message, -1);
	if (r->ended_at)
		ap_db_bind_int64(st, 4, r->ended_at);
	else
		ap_db_bind_null(st, 4);
	ap_db_bind_int64(st, 5, r->id);
	ap_db_step(st);
	ap_db_finalize(st);
}

/* Call op as a job and record the run (a call the helper refused is a failed run too). */
static enum ap_err
run_start(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct ap_backup_run *r, struct ap_problem *pb)
{
	struct json_object *res = NULL, *v;
	struct ap_problem ipb = { 0 };
	enum ap_err e;

	r->started_at = (int64_t)time(NULL);
	e = ap_site_helper_call(env, op, args, &res, pb);
	if (e != AP_OK) {
		if (pb->code == AP_PB_INVALID)
			return e; /* nothing ran: a refused request, not a run */
		snprintf(r->state, sizeof(r->state), "failed");
		snprintf(r->message, sizeof(r->message), "%s", pb->reason);
		r->ended_at = r->started_at;
		run_insert(env, r, &ipb);
		return e;
	}
	if (json_object_object_get_ex(res, "job", &v))
		r->job_id = json_object_get_int64(v);
	json_object_put(res);
	snprintf(r->state, sizeof(r->state), "running");
	return run_insert(env, r, pb);
}

static void
keep_args(struct json_object *a, const struct ap_backup_spec *s)
{
	if (s->keep_last > 0)
		json_object_object_add(a, "keep_last", json_object_new_int(s->keep_last));
	if (s->keep_daily > 0)
		json_object_object_add(a, "keep_daily", json_object_new_int(s->keep_daily));
	if (s->keep_weekly > 0)
		json_object_object_add(a, "keep_weekly", json_object_new_int(s->keep_weekly));
	if (s->keep_monthly > 0)
		json_object_object_add(a, "keep_monthly", json_object_new_int(s->keep_monthly));
}

/* SERVER/NAME of the managed database of that name (refused when several servers have one), or
 * of a site's databases. */
static enum ap_err
db_list(const struct ap_sites_env *env, int64_t site_id, const char *name, struct ap_buf *out,
    int *count, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(env->db, site_id > 0
	    ? "SELECT s.name, d.name FROM managed_databases d JOIN db_servers s ON s.id = d.server_id "
	      "WHERE d.site_id = ? ORDER BY d.id"
	    : "SELECT s.name, d.name FROM managed_databases d JOIN db_servers s ON s.id = d.server_id "
	      "WHERE d.name = ? ORDER BY d.id", &st);

	*count = 0;
	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	if (site_id > 0)
		ap_db_bind_int64(st, 1, site_id);
	else
		ap_db_bind_text(st, 1, name, -1);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *srv = ap_db_col_text(st, 0, NULL), *db = ap_db_col_text(st, 1, NULL);

		if (srv == NULL || db == NULL)
			continue;
		if (out->len > 0)
			ap_buf_putc(out, ',');
		ap_buf_append(out, srv, strlen(srv));
		ap_buf_putc(out, '/');
		ap_buf_append(out, db, strlen(db));
		(*count)++;
	}
	ap_db_finalize(st);
	ap_buf_cstr(out);
	if (rc != AP_DB_ROW && rc != AP_DB_DONE)
		return db_fail(pb, rc);
	/* A name is unique per server only (migration 0019): never back up or restore the wrong one. */
	if (site_id <= 0 && *count > 1)
		return ap_problem_set(pb, AP_PB_INVALID, "database",
		    "several servers have a database of this name: backups cannot tell them apart yet");
	return AP_OK;
}

static enum ap_err
dest_exists(const struct ap_sites_env *env, const char *dest, struct ap_problem *pb)
{
	struct ap_backup_dest d;

	if (dest == NULL || ap_check_backup_dest_name(dest, strlen(dest)) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "dest", "must be a destination's name");
	if (ap_backup_dest_find(env, dest, &d, pb) != AP_OK) {
		if (pb->code == AP_PB_NOT_FOUND)
			pb->code = AP_PB_INVALID, pb->status = 400;
		return AP_ERR_INVAL;
	}
	return AP_OK;
}

enum ap_err
ap_backup_start(const struct ap_sites_env *env, const struct ap_backup_spec *spec,
    struct ap_backup_run *out, struct ap_problem *pb)
{
	struct json_object *a = NULL;
	struct ap_buf dbs = { 0 };
	struct ap_site s;
	int n = 0;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	if ((e = dest_exists(env, spec->dest, pb)) != AP_OK)
		return e;
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(spec->dest));
	if (strcmp(spec->kind, "site") == 0) {
		if (ap_site_find(env, spec->target, &s, pb) != AP_OK) {
			e = AP_ERR_INVAL;
			if (pb->code == AP_PB_NOT_FOUND)
				ap_problem_set(pb, AP_PB_INVALID, "site", "no such site");
			goto out;
		}
		if ((e = db_list(env, s.id, NULL, &dbs, &n, pb)) != AP_OK)
			goto out;
		json_object_object_add(a, "kind", json_object_new_string("site"));
		json_object_object_add(a, "domain", json_object_new_string(s.spec.domain));
		add_opt(a, "root", s.spec.root);
	} else {
		if ((e = db_list(env, 0, spec->target, &dbs, &n, pb)) != AP_OK)
			goto out;
		if (n == 0) {
			e = ap_problem_set(pb, AP_PB_INVALID, "database", "no such database");
			goto out;
		}
		json_object_object_add(a, "kind", json_object_new_string("database"));
	}
	if (n > 0)
		json_object_object_add(a, "databases", json_object_new_string(ap_buf_cstr(&dbs)));
	keep_args(a, spec);
	snprintf(out->action, sizeof(out->action), "backup");
	snprintf(out->target_kind, sizeof(out->target_kind), "%s", spec->kind);
	snprintf(out->target, sizeof(out->target), "%s", spec->target);
	snprintf(out->dest, sizeof(out->dest), "%s", spec->dest);
	e = run_start(env, "backup.run", a, out, pb);
out:
	json_object_put(a);
	ap_buf_free(&dbs);
	return e;
}

enum ap_err
ap_backup_restore_start(const struct ap_sites_env *env, const struct ap_restore_spec *spec,
    struct ap_backup_run *out, struct ap_problem *pb)
{
	struct json_object *a = NULL;
	struct ap_buf dbs = { 0 };
	struct ap_site s;
	const char *why;
	int n = 0;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	if ((e = dest_exists(env, spec->dest, pb)) != AP_OK)
		return e;
	if (spec->snapshot == NULL ||
	    (why = ap_check_backup_snapshot(spec->snapshot, strlen(spec->snapshot))) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "snapshot", TOOL_MSG,
		    spec->snapshot == NULL ? "is required" : why);
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(spec->dest));
	json_object_object_add(a, "snapshot", json_object_new_string(spec->snapshot));
	if (strcmp(spec->kind, "site") == 0) {
		bool topath = spec->to != NULL && strcmp(spec->to, "path") == 0;

		if (ap_site_find(env, spec->target, &s, pb) != AP_OK) {
			e = AP_ERR_INVAL;
			if (pb->code == AP_PB_NOT_FOUND)
				ap_problem_set(pb, AP_PB_INVALID, "site", "no such site");
			goto out;
		}
		if (topath && (spec->new_dir == NULL || spec->new_dir[0] == '\0')) {
			e = ap_problem_set(pb, AP_PB_INVALID, "new_dir",
			    "is required to restore to a new folder");
			goto out;
		}
		json_object_object_add(a, "domain", json_object_new_string(s.spec.domain));
		add_opt(a, "root", s.spec.root);
		json_object_object_add(a, "target", json_object_new_string(topath ? "path" : "inplace"));
		if (topath)
			json_object_object_add(a, "new_dir", json_object_new_string(spec->new_dir));
		/* Into place: the site's databases too (a new folder leaves them alone). */
		if (!topath && !spec->files_only) {
			if ((e = db_list(env, s.id, NULL, &dbs, &n, pb)) != AP_OK)
				goto out;
			if (n > 0)
				json_object_object_add(a, "databases", json_object_new_string(ap_buf_cstr(&dbs)));
		}
	} else {
		if ((e = db_list(env, 0, spec->target, &dbs, &n, pb)) != AP_OK)
			goto out;
		if (n == 0) {
			e = ap_problem_set(pb, AP_PB_INVALID, "database", "no such database");
			goto out;
		}
		if (spec->to != NULL && strcmp(spec->to, "database") == 0) {
			/* SERVER/DB=SERVER/NEW: the new one must be a database the panel manages there. */
			struct ap_buf nb = { 0 };
			int nn = 0;
			char *slash = strchr(dbs.data, '/');

			if (spec->new_database == NULL ||
			    (e = db_list(env, 0, spec->new_database, &nb, &nn, pb)) != AP_OK || nn == 0 ||
			    strncmp(ap_buf_cstr(&nb), dbs.data, (size_t)(slash - dbs.data) + 1) != 0) {
				ap_buf_free(&nb);
				e = ap_problem_set(pb, AP_PB_INVALID, "new_database",
				    "must be a database the panel manages on the same server (create it first)");
				goto out;
			}
			ap_buf_putc(&dbs, '=');
			ap_buf_append(&dbs, nb.data, nb.len);
			ap_buf_free(&nb);
		}
		json_object_object_add(a, "target", json_object_new_string("inplace"));
		json_object_object_add(a, "files", json_object_new_boolean(false));
		json_object_object_add(a, "databases", json_object_new_string(ap_buf_cstr(&dbs)));
	}
	snprintf(out->action, sizeof(out->action), "restore");
	snprintf(out->target_kind, sizeof(out->target_kind), "%s", spec->kind);
	snprintf(out->target, sizeof(out->target), "%s", spec->target);
	snprintf(out->dest, sizeof(out->dest), "%s", spec->dest);
	snprintf(out->snapshot, sizeof(out->snapshot), "%s", spec->snapshot);
	e = run_start(env, "backup.restore", a, out, pb);
out:
	json_object_put(a);
	ap_buf_free(&dbs);
	return e;
}

enum ap_err
ap_backup_check_start(const struct ap_sites_env *env, const char *dest, int subset,
    struct ap_backup_run *out, struct ap_problem *pb)
{
	struct json_object *a;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	if ((e = dest_exists(env, dest, pb)) != AP_OK)
		return e;
	if (subset < 0 || subset > 100)
		return ap_problem_set(pb, AP_PB_INVALID, "subset", "must be a percentage from 0 to 100");
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(dest));
	json_object_object_add(a, "subset", json_object_new_int(subset));
	snprintf(out->action, sizeof(out->action), "check");
	snprintf(out->target_kind, sizeof(out->target_kind), "dest");
	snprintf(out->target, sizeof(out->target), "%s", dest);
	snprintf(out->dest, sizeof(out->dest), "%s", dest);
	e = run_start(env, "backup.check", a, out, pb);
	json_object_put(a);
	return e;
}

void
ap_backup_settle(const struct ap_sites_env *env, struct ap_backup_run *r)
{
	struct json_object *a, *st = NULL, *v, *res, *err;
	struct ap_problem pb;
	const char *state;

	if (strcmp(r->state, "running") != 0 || r->job_id <= 0 || env->helper == NULL)
		return;
	a = json_object_new_object();
	json_object_object_add(a, "id", json_object_new_int64(r->job_id));
	if (ap_site_helper_call(env, "job.status", a, &st, &pb) != AP_OK) {
		json_object_put(a);
		if (pb.code == AP_PB_NOT_FOUND) {
			snprintf(r->state, sizeof(r->state), "lost");
			snprintf(r->message, sizeof(r->message),
			    "the helper restarted while it ran; its result is unknown");
			r->ended_at = (int64_t)time(NULL);
			run_save(env, r);
		}
		return;
	}
	json_object_put(a);
	state = json_object_object_get_ex(st, "state", &v) ? json_object_get_string(v) : "";
	if (json_object_object_get_ex(st, "progress", &v))
		r->progress = json_object_get_int(v);
	if (strcmp(state, "done") == 0) {
		snprintf(r->state, sizeof(r->state), "done");
		r->progress = 100;
		if (json_object_object_get_ex(st, "result", &res) &&
		    json_object_object_get_ex(res, "snapshot", &v) && v != NULL)
			snprintf(r->snapshot, sizeof(r->snapshot), "%s", json_object_get_string(v));
		r->message[0] = '\0';
		/* The panel's own: where it was restored to, or that it holds the secret key. */
		if (strcmp(r->target_kind, "panel") != 0)
			;
		else if (json_object_object_get_ex(st, "result", &res) &&
		    json_object_object_get_ex(res, "restored_to", &v) && v != NULL)
			snprintf(r->message, sizeof(r->message), "restored into %s",
			    json_object_get_string(v));
		else if (json_object_object_get_ex(st, "result", &res) &&
		    json_object_object_get_ex(res, "secret", &v) && json_object_get_boolean(v))
			snprintf(r->message, sizeof(r->message), "includes the secret key");
		r->ended_at = (int64_t)time(NULL);
		run_save(env, r);
	} else if (strcmp(state, "failed") == 0) {
		snprintf(r->state, sizeof(r->state), "failed");
		if (json_object_object_get_ex(st, "error", &err) &&
		    json_object_object_get_ex(err, "reason", &v))
			snprintf(r->message, sizeof(r->message), "%s", json_object_get_string(v));
		r->ended_at = (int64_t)time(NULL);
		run_save(env, r);
	}
	json_object_put(st);
}

enum ap_err
ap_backup_cancel(const struct ap_sites_env *env, struct ap_backup_run *r, struct ap_problem *pb)
{
	struct json_object *a, *res = NULL;
	enum ap_err e;

	if (strcmp(r->state, "running") != 0 || r->job_id <= 0)
		return ap_problem_set(pb, AP_PB_INVALID, "id", "the run has ended already");
	a = json_object_new_object();
	json_object_object_add(a, "id", json_object_new_int64(r->job_id));
	e = ap_site_helper_call(env, "job.cancel", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	return e;
}

enum ap_err
ap_backup_run_get(const struct ap_sites_env *env, int64_t id, struct ap_backup_run *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[256];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM backup_runs WHERE id = ?", run_cols);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		run_fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE)
		return ap_problem_set(pb, AP_PB_NOT_FOUND, "id", "no such backup run");
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_backup_runs(const struct ap_sites_env *env, const char *target_kind, const char *target,
    int64_t limit, bool (*fn)(void *ctx, const struct ap_backup_run *r), void *ctx,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_backup_run *keep = NULL;
	size_t n = 0;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM backup_runs %s ORDER BY id DESC LIMIT ?", run_cols,
	    target_kind != NULL ? "WHERE target_kind = ? AND target = ?" : "");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if (target_kind != NULL) {
		ap_db_bind_text(st, 1, target_kind, -1);
		ap_db_bind_text(st, 2, target, -1);
		ap_db_bind_int64(st, 3, limit);
	} else
		ap_db_bind_int64(st, 1, limit);
	/* Read them all first: settling one writes to the table. */
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		keep = realloc(keep, (n + 1) * sizeof(*keep));
		if (keep == NULL)
			abort();
		run_fill(st, &keep[n++]);
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE) {
		free(keep);
		return db_fail(pb, rc);
	}
	for (size_t i = 0; i < n; i++) {
		ap_backup_settle(env, &keep[i]);
		if (!fn(ctx, &keep[i]))
			break;
	}
	free(keep);
	return AP_OK;
}

bool
ap_backup_last_ok(const struct ap_sites_env *env, const char *target_kind, const char *target,
    struct ap_backup_run *out)
{
	struct ap_db_stmt *st = NULL;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM backup_runs WHERE action = 'backup' AND "
	    "state = 'done' AND target_kind = ? AND target = ? ORDER BY id DESC LIMIT 1", run_cols);
	if (ap_db_prepare(env->db, sql, &st) != AP_DB_OK)
		return false;
	ap_db_bind_text(st, 1, target_kind, -1);
	ap_db_bind_text(st, 2, target, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		run_fill(st, out);
	ap_db_finalize(st);
	return rc == AP_DB_ROW;
}

struct json_object *
ap_backup_run_json(const struct ap_backup_run *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(r->id));
	json_object_object_add(o, "action", json_object_new_string(r->action));
	json_object_object_add(o, "target_kind", json_object_new_string(r->target_kind));
	json_object_object_add(o, "target", json_object_new_string(r->target));
	json_object_object_add(o, "dest", json_object_new_string(r->dest));
	json_object_object_add(o, "state", json_object_new_string(r->state));
	json_object_object_add(o, "progress", json_object_new_int(r->progress));
	json_object_object_add(o, "snapshot",
	    r->snapshot[0] ? json_object_new_string(r->snapshot) : NULL);
	json_object_object_add(o, "message", r->message[0] ? json_object_new_string(r->message) : NULL);
	json_object_object_add(o, "started_at", json_object_new_int64(r->started_at));
	json_object_object_add(o, "ended_at", r->ended_at ? json_object_new_int64(r->ended_at) : NULL);
	return o;
}

enum ap_err
ap_backup_database_names(const struct ap_sites_env *env, bool (*fn)(void *ctx, const char *name),
    void *ctx, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "SELECT DISTINCT name FROM managed_databases ORDER BY name", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *n = ap_db_col_text(st, 0, NULL);

		if (n != NULL && !fn(ctx, n)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_db_rc
ap_alert_backups_each(struct ap_db *db, ap_backup_age_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "SELECT target, MAX(ended_at) FROM backup_runs WHERE action = 'backup' AND state = 'done' "
	    "AND target_kind IN ('site', 'database', 'panel') AND ended_at IS NOT NULL GROUP BY target ORDER BY target",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 0, NULL);

		if (t != NULL && !cb(arg, t, ap_db_col_int64(st, 1))) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/* ---- reading snapshots ----------------------------------------------------- */

enum ap_err
ap_backup_snapshots(const struct ap_sites_env *env, const char *dest, const char *tag,
    struct json_object **out, struct ap_problem *pb)
{
	struct json_object *a;
	enum ap_err e;

	*out = NULL;
	if ((e = dest_exists(env, dest, pb)) != AP_OK)
		return e;
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(dest));
	add_opt(a, "tag", tag);
	e = ap_site_helper_job(env, "backup.snapshots", a, out, pb); /* a job: a slow remote */
	json_object_put(a);
	return e;
}

enum ap_err
ap_backup_ls(const struct ap_sites_env *env, const char *dest, const char *snapshot,
    const char *path, struct json_object **out, struct ap_problem *pb)
{
	struct json_object *a;
	enum ap_err e;

	*out = NULL;
	if ((e = dest_exists(env, dest, pb)) != AP_OK)
		return e;
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(dest));
	json_object_object_add(a, "snapshot", json_object_new_string(snapshot));
	add_opt(a, "path", path);
	e = ap_site_helper_job(env, "backup.ls", a, out, pb);
	json_object_put(a);
	return e;
}

enum ap_err
ap_backup_dump(const struct ap_sites_env *env, const char *dest, const char *snapshot,
    const char *path, int *fd, int64_t *size, struct ap_problem *pb)
{
	struct json_object *a, *res = NULL, *v;
	enum ap_err e;

	*fd = -1;
	if ((e = dest_exists(env, dest, pb)) != AP_OK)
		return e;
	if (env->helper == NULL)
		return ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "the helper is not configured");
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(dest));
	json_object_object_add(a, "snapshot", json_object_new_string(snapshot));
	json_object_object_add(a, "path", json_object_new_string(path));
	/* A job writes the file into the helper's spool; the descriptor comes with a quick call. */
	e = ap_site_helper_job(env, "backup.dump", a, &res, pb);
	json_object_put(a);
	if (e == AP_OK) {
		a = json_object_new_object();
		json_object_object_add(a, "id", json_object_new_string(
		    json_object_object_get_ex(res, "spool", &v) ? json_object_get_string(v) : ""));
		json_object_put(res);
		res = NULL;
		e = ap_helper_call_fd(env->helper, "backup.spool_take", a, &res, fd, pb);
		json_object_put(a);
	}
	if (e == AP_OK)
		*size = json_object_object_get_ex(res, "size", &v) ? json_object_get_int64(v) : 0;
	json_object_put(res);
	return e;
}

/* ---- for the panel's own backup (backup_panel.c) ----------------------------- */

enum ap_err
ap_backup_job_start(const struct ap_sites_env *env, const char *op, struct json_object *args,
    struct ap_backup_run *r, struct ap_problem *pb)
{
	return run_start(env, op, args, r, pb);
}

enum ap_err
ap_backup_dest_check(const struct ap_sites_env *env, const char *dest, struct ap_problem *pb)
{
	return dest_exists(env, dest, pb);
}

void
ap_backup_keep_args(struct json_object *a, const struct ap_backup_spec *spec)
{
	keep_args(a, spec);
}
