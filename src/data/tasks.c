/*
 * tasks.c — scheduled tasks (tasks.h, docs/tasks.md): the cron_jobs and
 * cron_runs tables and the helper's task.* operations. A run is a helper job
 * (task.exec); its row is "running" with the job's id until whoever looks
 * next (the recorder waiting for it, the page, the API, the CLI) settles it
 * from job.status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/cron.h"
#include "aapanel/log.h"
#include "aapanel/route.h"
#include "aapanel/tasks.h"

#define TOOL_MSG "%s"

static const char task_cols[] =
    "j.id, j.name, j.kind, j.target, j.run_user, j.schedule, j.timeout, j.enabled, j.created_at, "
    "j.updated_at, r.state, r.started_at, r.ended_at, r.exit_code, j.argv";
static const char task_from[] =
    "FROM cron_jobs j LEFT JOIN cron_runs r ON r.id = (SELECT MAX(id) FROM cron_runs "
    "WHERE cron_job_id = j.id)";

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
fill(struct ap_db_stmt *st, struct ap_task *t)
{
	memset(t, 0, sizeof(*t));
	t->id = ap_db_col_int64(st, 0);
	text_col(st, 1, t->name, sizeof(t->name));
	text_col(st, 2, t->kind, sizeof(t->kind));
	text_col(st, 3, t->target, sizeof(t->target));
	text_col(st, 4, t->user, sizeof(t->user));
	text_col(st, 5, t->schedule, sizeof(t->schedule));
	t->timeout = int_col(st, 6, 3600);
	t->enabled = int_col(st, 7, 0) != 0;
	t->created_at = int_col(st, 8, 0);
	t->updated_at = int_col(st, 9, 0);
	text_col(st, 10, t->last_state, sizeof(t->last_state));
	t->last_started = int_col(st, 11, 0);
	t->last_ended = int_col(st, 12, 0);
	t->last_exit = (int)int_col(st, 13, -1);
	if (ap_task_kind_backup(t->kind))
		ap_bktask_parse(t, ap_db_col_text(st, 14, NULL));
}

static enum ap_err
db_fail(struct ap_problem *pb, enum ap_db_rc rc)
{
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT)
		ap_problem_set(pb, AP_PB_UNAVAILABLE, NULL, "database unavailable");
	else
		ap_problem_set(pb, AP_PB_INTERNAL, NULL, "a database error occurred");
	return AP_ERR_IO;
}

static enum ap_err
get_one(const struct ap_sites_env *env, int64_t id, const char *name, struct ap_task *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	char sql[1024];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s %s WHERE %s", task_cols, task_from,
	    name ? "j.name = ?" : "j.id = ?");
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	if (name != NULL)
		ap_db_bind_text(st, 1, name, -1);
	else
		ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		fill(st, out);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE) {
		ap_problem_set(pb, AP_PB_NOT_FOUND, name ? "name" : "id", "no such task");
		return AP_ERR_NOTFOUND;
	}
	return rc == AP_DB_ROW ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_task_get(const struct ap_sites_env *env, int64_t id, struct ap_task *out, struct ap_problem *pb)
{
	return get_one(env, id, NULL, out, pb);
}

enum ap_err
ap_task_find(const struct ap_sites_env *env, const char *name, struct ap_task *out,
    struct ap_problem *pb)
{
	return get_one(env, 0, name, out, pb);
}

enum ap_err
ap_task_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_task *t), void *ctx, bool *more, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_task *t = malloc(sizeof(*t));
	char sql[1024];
	int64_t n = 0;
	enum ap_db_rc rc;

	if (t == NULL)
		abort();
	if (more != NULL)
		*more = false;
	snprintf(sql, sizeof(sql), "SELECT %s %s WHERE j.id > ? ORDER BY j.id LIMIT ?", task_cols,
	    task_from);
	if ((rc = ap_db_prepare(env->db, sql, &st)) != AP_DB_OK) {
		free(t);
		return db_fail(pb, rc);
	}
	ap_db_bind_int64(st, 1, after);
	ap_db_bind_int64(st, 2, limit + 1);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (n++ == limit) {
			if (more != NULL)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		fill(st, t);
		if (!fn(ctx, t)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	free(t);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

static enum ap_err
check(struct ap_problem *pb, const char *field, const char *v, ap_field_check_fn fn)
{
	const char *why = fn(v, strlen(v));

	return why ? ap_problem_set(pb, AP_PB_INVALID, field, TOOL_MSG, why) : AP_OK;
}

enum ap_err
ap_task_validate(const struct ap_sites_env *env, const struct ap_task_spec *s,
    struct ap_problem *pb)
{
	bool cmd;

	if (s->name == NULL || s->name[0] == '\0')
		return ap_problem_set(pb, AP_PB_INVALID, "name", "is required");
	if (check(pb, "name", s->name, ap_check_task_name) != AP_OK)
		return AP_ERR_INVAL;
	if (s->kind != NULL && strcmp(s->kind, "command") != 0 && strcmp(s->kind, "url") != 0 &&
	    !ap_task_kind_backup(s->kind))
		return ap_problem_set(pb, AP_PB_INVALID, "kind", "must be command, url, backup or backup_check");
	cmd = s->kind == NULL || strcmp(s->kind, "command") == 0;
	if (s->schedule == NULL || s->schedule[0] == '\0')
		return ap_problem_set(pb, AP_PB_INVALID, "schedule", "is required");
	if (check(pb, "schedule", s->schedule, ap_check_cron) != AP_OK)
		return AP_ERR_INVAL;
	if (s->kind != NULL && ap_task_kind_backup(s->kind))
		return ap_bktask_validate(env, s, pb);
	if (cmd) {
		if (s->command == NULL || s->command[0] == '\0')
			return ap_problem_set(pb, AP_PB_INVALID, "command", "is required");
		if (check(pb, "command", s->command, ap_check_task_command) != AP_OK)
			return AP_ERR_INVAL;
		if (s->user == NULL || s->user[0] == '\0')
			return ap_problem_set(pb, AP_PB_INVALID, "user", "is required");
	} else {
		if (s->url == NULL || s->url[0] == '\0')
			return ap_problem_set(pb, AP_PB_INVALID, "url", "is required");
		if (check(pb, "url", s->url, ap_check_task_url) != AP_OK)
			return AP_ERR_INVAL;
	}
	if (s->user != NULL && s->user[0] != '\0' &&
	    check(pb, "user", s->user, ap_check_task_user) != AP_OK)
		return AP_ERR_INVAL;
	if (s->user != NULL && strcmp(s->user, "root") == 0 && !env->cfg->tasks_allow_root)
		return ap_problem_set(pb, AP_PB_INVALID, "user",
		    "root is not allowed (tasks.allow_root is off)");
	if (s->timeout < 0 || s->timeout > env->cfg->tasks_max_timeout)
		return ap_problem_set(pb, AP_PB_INVALID, "timeout",
		    "must be between 1 and tasks.max_timeout seconds");
	return AP_OK;
}

/* task.put with everything of t. */
static enum ap_err
put(const struct ap_sites_env *env, const struct ap_task *t, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	bool cmd = strcmp(t->kind, "command") == 0;
	enum ap_err rc;

	json_object_object_add(a, "id", json_object_new_int64(t->id));
	json_object_object_add(a, "name", json_object_new_string(t->name));
	json_object_object_add(a, "kind", json_object_new_string(t->kind));
	/* The panel's own kinds: the helper writes the cron line only (the recorder runs them). */
	if (!ap_task_kind_backup(t->kind))
		json_object_object_add(a, cmd ? "command" : "url", json_object_new_string(t->target));
	if (t->user[0])
		json_object_object_add(a, "user", json_object_new_string(t->user));
	json_object_object_add(a, "schedule", json_object_new_string(t->schedule));
	json_object_object_add(a, "timeout", json_object_new_int64(t->timeout));
	json_object_object_add(a, "enabled", json_object_new_boolean(t->enabled));
	rc = ap_site_helper_call(env, "task.put", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	return rc;
}

static enum ap_err
delete_row(const struct ap_sites_env *env, int64_t id, struct ap_problem *pb)
{
	static const char *const sql[] = { "DELETE FROM cron_runs WHERE cron_job_id = ?",
		"DELETE FROM cron_jobs WHERE id = ?" };

	for (size_t i = 0; i < AP_NELEM(sql); i++) {
		struct ap_db_stmt *st = NULL;
		enum ap_db_rc rc = ap_db_prepare(env->db, sql[i], &st);

		if (rc != AP_DB_OK)
			return db_fail(pb, rc);
		ap_db_bind_int64(st, 1, id);
		rc = ap_db_step(st);
		ap_db_finalize(st);
		if (rc != AP_DB_DONE)
			return db_fail(pb, rc);
	}
	return AP_OK;
}

enum ap_err
ap_task_create(const struct ap_sites_env *env, const struct ap_task_spec *s, struct ap_task *out,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_problem quiet;
	struct ap_cron cr;
	const char *f, *w;
	struct json_object *argv = NULL;
	int64_t now = (int64_t)time(NULL);
	bool cmd = s->kind == NULL || strcmp(s->kind, "command") == 0;
	bool bk = s->kind != NULL && ap_task_kind_backup(s->kind);
	char bk_target[300];
	enum ap_db_rc rc;
	enum ap_err e;

	if ((e = ap_task_validate(env, s, pb)) != AP_OK)
		return e;
	if (get_one(env, 0, s->name, out, &quiet) == AP_OK)
		return ap_problem_set(pb, AP_PB_EXISTS, "name", "a task with this name already exists");
	ap_cron_parse(s->schedule, &cr, &f, &w);
	if (cmd)
		argv = ap_task_argv(s->command, strlen(s->command), &w);
	if (bk) {
		argv = ap_bktask_params(s);
		ap_bktask_target_text(s, bk_target, sizeof(bk_target));
	}
	rc = ap_db_prepare_insert(env->db,
	    "INSERT INTO cron_jobs (name, schedule, kind, target, argv, run_user, timeout, enabled, "
	    "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "id", &st);
	if (rc != AP_DB_OK) {
		json_object_put(argv);
		return db_fail(pb, rc);
	}
	ap_db_bind_text(st, 1, s->name, -1);
	ap_db_bind_text(st, 2, cr.text, -1);
	ap_db_bind_text(st, 3, bk ? s->kind : cmd ? "command" : "url", -1);
	ap_db_bind_text(st, 4, bk ? bk_target : cmd ? s->command : s->url, -1);
	if (argv != NULL)
		ap_db_bind_text(st, 5, json_object_to_json_string_ext(argv, JSON_C_TO_STRING_PLAIN), -1);
	else
		ap_db_bind_null(st, 5);
	if (!bk && s->user != NULL && s->user[0])
		ap_db_bind_text(st, 6, s->user, -1);
	else
		ap_db_bind_null(st, 6);
	/* A backup's timeout is the helper's job's; the task's bounds the recorder's wait. */
	ap_db_bind_int64(st, 7, s->timeout > 0 ? s->timeout : bk ? env->cfg->tasks_max_timeout
	    : (env->cfg->tasks_max_timeout < 3600 ? env->cfg->tasks_max_timeout : 3600));
	ap_db_bind_int64(st, 8, s->enabled ? 1 : 0);
	ap_db_bind_int64(st, 9, now);
	ap_db_bind_int64(st, 10, now);
	rc = ap_db_step(st);
	json_object_put(argv);
	if (rc != AP_DB_DONE) {
		ap_db_finalize(st);
		return db_fail(pb, rc);
	}
	out->id = ap_db_last_insert_id(st);
	ap_db_finalize(st);
	if ((e = get_one(env, out->id, NULL, out, pb)) != AP_OK)
		return e;
	if ((e = put(env, out, pb)) != AP_OK) {
		/* The helper refused (its own checks, a user that does not exist): nothing stays. */
		delete_row(env, out->id, &quiet);
		return e;
	}
	return AP_OK;
}

enum ap_err
ap_task_set_enabled(const struct ap_sites_env *env, struct ap_task *t, bool on,
    struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	bool was = t->enabled;
	enum ap_db_rc rc;
	enum ap_err e;

	t->enabled = on;
	if ((e = put(env, t, pb)) != AP_OK) {
		t->enabled = was;
		return e;
	}
	if ((rc = ap_db_prepare(env->db, "UPDATE cron_jobs SET enabled = ?, updated_at = ? WHERE id = ?",
	    &st)) != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, on ? 1 : 0);
	ap_db_bind_int64(st, 2, (int64_t)time(NULL));
	ap_db_bind_int64(st, 3, t->id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

enum ap_err
ap_task_remove(const struct ap_sites_env *env, const struct ap_task *t, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	enum ap_err e;

	json_object_object_add(a, "id", json_object_new_int64(t->id));
	e = ap_site_helper_call(env, "task.remove", a, &res, pb);
	json_object_put(a);
	json_object_put(res);
	if (e != AP_OK)
		return e;
	return delete_row(env, t->id, pb);
}

enum ap_err
ap_task_run_insert(const struct ap_sites_env *env, struct ap_task_run *r, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare_insert(env->db,
	    "INSERT INTO cron_runs (cron_job_id, trigger_kind, state, job_id, started_at, ended_at, "
	    "message, backup_run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "id", &st);

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, r->task_id);
	ap_db_bind_text(st, 2, r->trigger, -1);
	ap_db_bind_text(st, 3, r->state, -1);
	if (r->job_id)
		ap_db_bind_int64(st, 4, r->job_id);
	else
		ap_db_bind_null(st, 4);
	ap_db_bind_int64(st, 5, r->started_at);
	if (r->ended_at)
		ap_db_bind_int64(st, 6, r->ended_at);
	else
		ap_db_bind_null(st, 6);
	ap_db_bind_text(st, 7, r->message, -1);
	if (r->backup_run_id > 0)
		ap_db_bind_int64(st, 8, r->backup_run_id);
	else
		ap_db_bind_null(st, 8);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		r->id = ap_db_last_insert_id(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_OK : db_fail(pb, rc);
}

/*
 * Keep the task's newest tasks.keep_runs runs: those before the Nth newest
 * go, but never one still running. Two statements that every backend runs
 * (MariaDB has no LIMIT inside IN).
 */
static void
run_prune(const struct ap_sites_env *env, int64_t task_id)
{
	struct ap_db_stmt *st = NULL;
	int64_t keep = env->cfg != NULL && env->cfg->tasks_keep_runs > 0 ? env->cfg->tasks_keep_runs : 100;
	int64_t edge = 0;

	if (ap_db_prepare(env->db, "SELECT id FROM cron_runs WHERE cron_job_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?",
		&st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, task_id);
	ap_db_bind_int64(st, 2, keep - 1);
	if (ap_db_step(st) == AP_DB_ROW)
		edge = ap_db_col_int64(st, 0);
	ap_db_finalize(st);
	st = NULL;
	if (edge <= 0)
		return;
	if (ap_db_prepare(env->db, "DELETE FROM cron_runs WHERE cron_job_id = ? AND id < ? AND state <> 'running'",
		&st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, task_id);
	ap_db_bind_int64(st, 2, edge);
	if (ap_db_step(st) != AP_DB_DONE)
		AP_WARN("tasks: the old runs of task %lld could not be pruned", (long long)task_id);
	ap_db_finalize(st);
}

void
ap_task_run_save(const struct ap_sites_env *env, const struct ap_task_run *r)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "UPDATE cron_runs SET state = ?, started_at = ?, ended_at = ?, "
	    "exit_code = ?, output = ?, output_bytes = ?, message = ? WHERE id = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_text(st, 1, r->state, -1);
	ap_db_bind_int64(st, 2, r->started_at);
	ap_db_bind_int64(st, 3, r->ended_at ? r->ended_at : (int64_t)time(NULL));
	if (r->exit_code >= 0)
		ap_db_bind_int64(st, 4, r->exit_code);
	else
		ap_db_bind_null(st, 4);
	if (r->output != NULL)
		ap_db_bind_text(st, 5, r->output, -1);
	else
		ap_db_bind_null(st, 5);
	ap_db_bind_int64(st, 6, r->output_bytes);
	ap_db_bind_text(st, 7, r->message, -1);
	ap_db_bind_int64(st, 8, r->id);
	if (ap_db_step(st) != AP_DB_DONE)
		AP_WARN("tasks: run %lld could not be recorded", (long long)r->id);
	ap_db_finalize(st);
	if (strcmp(r->state, "running") != 0)
		run_prune(env, r->task_id);
}

struct still {
	bool running;
};

static bool
newest_running(void *p, const struct ap_task_run *r)
{
	struct still *s = p;

	s->running = strcmp(r->state, "running") == 0;
	return false; /* the newest only */
}

enum ap_err
ap_task_run_start(const struct ap_sites_env *env, const struct ap_task *t, const char *trigger,
    struct ap_task_run *out, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL, *v;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	out->task_id = t->id;
	out->exit_code = -1;
	out->started_at = (int64_t)time(NULL);
	snprintf(out->trigger, sizeof(out->trigger), "%s", trigger);
	if (ap_task_kind_backup(t->kind)) {
		struct still still = { false };
		struct ap_problem quiet;

		json_object_put(a);
		/* No overlap: the run before (settled first) still going makes this one skipped. */
		ap_task_runs(env, t->id, 1, false, newest_running, &still, &quiet);
		if (still.running) {
			snprintf(out->state, sizeof(out->state), "skipped");
			snprintf(out->message, sizeof(out->message), "skipped: the previous run was still going");
			out->ended_at = out->started_at;
			return ap_task_run_insert(env, out, pb);
		}
		e = ap_bktask_run_start(env, t, out, pb);
		if (e != AP_OK) {
			ap_task_run_insert(env, out, &quiet);
			return e;
		}
		return ap_task_run_insert(env, out, pb);
	}
	json_object_object_add(a, "id", json_object_new_int64(t->id));
	e = ap_site_helper_call(env, "task.exec", a, &res, pb);
	json_object_put(a);
	if (e != AP_OK) {
		/* Recorded too: a run that could not start is a run that failed. */
		snprintf(out->state, sizeof(out->state), "failed");
		snprintf(out->message, sizeof(out->message), "%s", pb->reason);
		out->ended_at = out->started_at;
		ap_task_run_insert(env, out, pb);
		return e;
	}
	if (json_object_object_get_ex(res, "job", &v))
		out->job_id = json_object_get_int64(v);
	json_object_put(res);
	snprintf(out->state, sizeof(out->state), "running");
	return ap_task_run_insert(env, out, pb);
}

void
ap_task_run_settle(const struct ap_sites_env *env, struct ap_task_run *r)
{
	struct json_object *a, *st = NULL, *v, *res;
	struct ap_problem pb;
	const char *state;

	if (r->backup_run_id > 0) {
		if (ap_bktask_run_settle(env, r))
			ap_task_run_save(env, r);
		return;
	}
	if (strcmp(r->state, "running") != 0 || r->job_id <= 0 || env->helper == NULL)
		return;
	a = json_object_new_object();
	json_object_object_add(a, "id", json_object_new_int64(r->job_id));
	if (ap_site_helper_call(env, "job.status", a, &st, &pb) != AP_OK) {
		json_object_put(a);
		if (pb.code == AP_PB_NOT_FOUND) {
			snprintf(r->state, sizeof(r->state), "lost");
			snprintf(r->message, sizeof(r->message),
			    "the helper restarted while the task ran; its result is unknown");
			ap_task_run_save(env, r);
		}
		return;
	}
	json_object_put(a);
	json_object_object_get_ex(st, "state", &v);
	state = v ? json_object_get_string(v) : "";
	if (strcmp(state, "done") == 0 && json_object_object_get_ex(st, "result", &res)) {
		bool timed_out = json_object_object_get_ex(res, "timed_out", &v) && json_object_get_boolean(v);

		r->exit_code = json_object_object_get_ex(res, "exit_code", &v) && v != NULL
		    ? json_object_get_int(v) : -1;
		if (json_object_object_get_ex(res, "started_at", &v))
			r->started_at = json_object_get_int64(v);
		if (json_object_object_get_ex(res, "ended_at", &v))
			r->ended_at = json_object_get_int64(v);
		if (json_object_object_get_ex(res, "output_bytes", &v))
			r->output_bytes = json_object_get_int64(v);
		free(r->output);
		r->output = json_object_object_get_ex(res, "output", &v)
		    ? strdup(json_object_get_string(v)) : NULL;
		if (timed_out) {
			snprintf(r->state, sizeof(r->state), "timeout");
			snprintf(r->message, sizeof(r->message), "killed: it ran past its timeout");
		} else if (r->exit_code == 0) {
			snprintf(r->state, sizeof(r->state), "ok");
			r->message[0] = '\0';
		} else {
			snprintf(r->state, sizeof(r->state), "failed");
			if (r->exit_code >= 0)
				snprintf(r->message, sizeof(r->message), "exit status %d", r->exit_code);
			else
				snprintf(r->message, sizeof(r->message), "killed by a signal");
		}
		ap_task_run_save(env, r);
	} else if (strcmp(state, "failed") == 0) {
		ap_problem_clear(&pb);
		if (json_object_object_get_ex(st, "error", &v))
			ap_site_helper_problem(v, &pb);
		r->ended_at = (int64_t)time(NULL);
		if (pb.code == AP_PB_BUSY) {
			snprintf(r->state, sizeof(r->state), "skipped");
			snprintf(r->message, sizeof(r->message), "skipped: the previous run was still going");
		} else {
			snprintf(r->state, sizeof(r->state), "failed");
			snprintf(r->message, sizeof(r->message), "%s", pb.reason[0] ? pb.reason : "the run failed");
		}
		ap_task_run_save(env, r);
	}
	json_object_put(st);
}

enum ap_err
ap_task_run_wait(const struct ap_sites_env *env, const struct ap_task *t, const char *trigger,
    struct ap_task_run *out, struct ap_problem *pb)
{
	enum ap_err e = ap_task_run_start(env, t, trigger, out, pb);
	time_t deadline = time(NULL) + (time_t)t->timeout + 60;

	if (e != AP_OK)
		return e;
	while (strcmp(out->state, "running") == 0 && time(NULL) < deadline) {
		usleep(200 * 1000);
		ap_task_run_settle(env, out);
	}
	return AP_OK;
}

enum ap_err
ap_task_runs(const struct ap_sites_env *env, int64_t task_id, int64_t limit, bool with_output,
    bool (*fn)(void *ctx, const struct ap_task_run *r), void *ctx, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	struct ap_task_run r;
	enum ap_db_rc rc = ap_db_prepare(env->db,
	    "SELECT id, cron_job_id, job_id, trigger_kind, state, started_at, ended_at, exit_code, "
	    "output_bytes, message, output, backup_run_id FROM cron_runs WHERE cron_job_id = ? "
	    "ORDER BY id DESC LIMIT ?",
	    &st);
	struct ap_task_run *keep = NULL;
	size_t n = 0;

	if (rc != AP_DB_OK)
		return db_fail(pb, rc);
	ap_db_bind_int64(st, 1, task_id);
	ap_db_bind_int64(st, 2, limit);
	/* Read them all first: settling one writes to the table. */
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *o;

		memset(&r, 0, sizeof(r));
		r.id = ap_db_col_int64(st, 0);
		r.task_id = ap_db_col_int64(st, 1);
		r.job_id = int_col(st, 2, 0);
		text_col(st, 3, r.trigger, sizeof(r.trigger));
		text_col(st, 4, r.state, sizeof(r.state));
		r.started_at = int_col(st, 5, 0);
		r.ended_at = int_col(st, 6, 0);
		r.exit_code = (int)int_col(st, 7, -1);
		r.output_bytes = int_col(st, 8, 0);
		text_col(st, 9, r.message, sizeof(r.message));
		o = ap_db_col_text(st, 10, NULL);
		r.output = with_output && o != NULL ? strdup(o) : NULL;
		r.backup_run_id = int_col(st, 11, 0);
		keep = realloc(keep, (n + 1) * sizeof(*keep));
		if (keep == NULL)
			abort();
		keep[n++] = r;
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE) {
		for (size_t i = 0; i < n; i++)
			free(keep[i].output);
		free(keep);
		return db_fail(pb, rc);
	}
	for (size_t i = 0; i < n; i++) {
		bool go;

		ap_task_run_settle(env, &keep[i]);
		if (!with_output) {
			free(keep[i].output);
			keep[i].output = NULL;
		}
		go = fn(ctx, &keep[i]);
		free(keep[i].output);
		if (!go) {
			for (size_t k = i + 1; k < n; k++)
				free(keep[k].output);
			break;
		}
	}
	free(keep);
	return AP_OK;
}

void
ap_task_run_free(struct ap_task_run *r)
{
	if (r != NULL) {
		free(r->output);
		r->output = NULL;
	}
}

void
ap_task_next_runs(const char *schedule, time_t now, time_t *out, size_t n)
{
	struct ap_cron c;
	const char *f, *w;
	bool ok = ap_cron_parse(schedule, &c, &f, &w);

	for (size_t i = 0; i < n; i++) {
		out[i] = ok ? ap_cron_next(&c, i ? out[i - 1] : now) : -1;
		if (out[i] < 0)
			ok = false;
	}
}

struct json_object *
ap_task_json(const struct ap_task *t)
{
	struct json_object *j = json_object_new_object();
	time_t next[1];

	ap_task_next_runs(t->schedule, time(NULL), next, 1);
	json_object_object_add(j, "id", json_object_new_int64(t->id));
	json_object_object_add(j, "name", json_object_new_string(t->name));
	json_object_object_add(j, "kind", json_object_new_string(t->kind));
	if (ap_task_kind_backup(t->kind)) {
		json_object_object_add(j, "target_kind", json_object_new_string(t->bk.target_kind));
		json_object_object_add(j, "target", json_object_new_string(t->bk.target));
		json_object_object_add(j, "dest", json_object_new_string(t->bk.dest));
		if (strcmp(t->kind, "backup") == 0) {
			json_object_object_add(j, "keep_last", json_object_new_int(t->bk.keep_last));
			json_object_object_add(j, "keep_daily", json_object_new_int(t->bk.keep_daily));
			json_object_object_add(j, "keep_weekly", json_object_new_int(t->bk.keep_weekly));
			json_object_object_add(j, "keep_monthly", json_object_new_int(t->bk.keep_monthly));
		} else {
			json_object_object_add(j, "subset", json_object_new_int(t->bk.subset));
		}
	} else {
		json_object_object_add(j, strcmp(t->kind, "url") == 0 ? "url" : "command",
		    json_object_new_string(t->target));
	}
	json_object_object_add(j, "user", t->user[0] ? json_object_new_string(t->user) : NULL);
	json_object_object_add(j, "schedule", json_object_new_string(t->schedule));
	json_object_object_add(j, "timeout", json_object_new_int64(t->timeout));
	json_object_object_add(j, "enabled", json_object_new_boolean(t->enabled));
	json_object_object_add(j, "next_run", t->enabled && next[0] > 0 ? json_object_new_int64(next[0]) : NULL);
	json_object_object_add(j, "last_state", t->last_state[0] ? json_object_new_string(t->last_state) : NULL);
	json_object_object_add(j, "last_started", t->last_started ? json_object_new_int64(t->last_started) : NULL);
	json_object_object_add(j, "last_duration", t->last_ended && t->last_started
	    ? json_object_new_int64(t->last_ended - t->last_started) : NULL);
	return j;
}

struct json_object *
ap_task_run_json(const struct ap_task_run *r)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "id", json_object_new_int64(r->id));
	json_object_object_add(j, "trigger", json_object_new_string(r->trigger));
	json_object_object_add(j, "state", json_object_new_string(r->state));
	json_object_object_add(j, "started_at", json_object_new_int64(r->started_at));
	json_object_object_add(j, "ended_at", r->ended_at ? json_object_new_int64(r->ended_at) : NULL);
	json_object_object_add(j, "exit_code", r->exit_code >= 0 ? json_object_new_int(r->exit_code) : NULL);
	json_object_object_add(j, "output_bytes", json_object_new_int64(r->output_bytes));
	json_object_object_add(j, "message", json_object_new_string(r->message));
	if (r->output != NULL)
		json_object_object_add(j, "output", json_object_new_string(r->output));
	return j;
}
