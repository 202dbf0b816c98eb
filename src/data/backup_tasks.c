/*
 * backup_tasks.c — the scheduled-tasks module's own kinds (docs/backups.md,
 * "Schedules"): a task of kind "backup" backs up a site or a database to a
 * destination and applies its retention; one of kind "backup_check" runs
 * `restic check --read-data-subset=N%` on a destination. The cron line is the
 * same as every task's (the recorder, `aapanel task run ID`); the recorder
 * starts the backup through the very call "back up now" uses
 * (ap_backup_start, ap_backup_check_start: the helper's backup.run and
 * backup.check jobs), so the run is a row of backup_runs (task_id set) and
 * one of cron_runs (backup_run_id set), settled from the backup run.
 *
 * The parameters live in cron_jobs.argv as JSON:
 *   {"target_kind":"site","target":"a.com","dest":"offsite","keep_last":7,...}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/backups.h"
#include "aapanel/cron.h"
#include "aapanel/dbnames.h"
#include "aapanel/log.h"
#include "aapanel/metrics.h"
#include "aapanel/sitecheck.h"
#include "aapanel/tasks.h"

#define DEFAULT_SUBSET 10
#define WHY_MSG "%s" /* a check's own reason (already a msgid) */

bool
ap_task_kind_backup(const char *kind)
{
	return kind != NULL && (strcmp(kind, "backup") == 0 || strcmp(kind, "backup_check") == 0);
}

struct dbfind {
	const char *name;
	bool found;
};

static bool
db_is(void *p, const char *name)
{
	struct dbfind *f = p;

	if (strcmp(f->name, name) == 0)
		f->found = true;
	return !f->found;
}

enum ap_err
ap_bktask_validate(const struct ap_sites_env *env, const struct ap_task_spec *s,
    struct ap_problem *pb)
{
	struct ap_backup_dest d;
	const int keep[] = { s->keep_last, s->keep_daily, s->keep_weekly, s->keep_monthly };
	static const char *const keep_names[] = { "keep_last", "keep_daily", "keep_weekly", "keep_monthly" };
	const char *why;

	if (s->dest == NULL || s->dest[0] == '\0')
		return ap_problem_set(pb, AP_PB_INVALID, "dest", "is required");
	if ((why = ap_check_backup_dest_name(s->dest, strlen(s->dest))) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "dest", WHY_MSG, why);
	if (strcmp(s->kind, "backup") == 0) {
		bool site = s->bk_kind != NULL && strcmp(s->bk_kind, "site") == 0;
		const char *field = site ? "site" : "database";

		if (s->bk_kind == NULL || (!site && strcmp(s->bk_kind, "database") != 0))
			return ap_problem_set(pb, AP_PB_INVALID, "site", "a backup task needs a site or a database");
		if (s->bk_target == NULL || s->bk_target[0] == '\0')
			return ap_problem_set(pb, AP_PB_INVALID, field, "is required");
		why = site ? ap_check_domain(s->bk_target, strlen(s->bk_target))
		    : ap_check_db_ident(s->bk_target, strlen(s->bk_target));
		if (why != NULL)
			return ap_problem_set(pb, AP_PB_INVALID, field, WHY_MSG, why);
		for (size_t i = 0; i < AP_NELEM(keep); i++)
			if (keep[i] < 0 || keep[i] > AP_BK_KEEP_MAX)
				return ap_problem_set(pb, AP_PB_INVALID, keep_names[i], "must be from 0 to %d",
				    AP_BK_KEEP_MAX);
		if (site) {
			struct ap_site st;

			if (ap_site_find(env, s->bk_target, &st, pb) != AP_OK) {
				if (pb->code != AP_PB_NOT_FOUND)
					return AP_ERR_IO;
				return ap_problem_set(pb, AP_PB_INVALID, "site", "no such site");
			}
		} else {
			struct dbfind f = { s->bk_target, false };

			if (ap_backup_database_names(env, db_is, &f, pb) != AP_OK)
				return AP_ERR_IO;
			if (!f.found)
				return ap_problem_set(pb, AP_PB_INVALID, "database", "no such database");
		}
	} else if (s->subset < -1 || s->subset > 100) {
		return ap_problem_set(pb, AP_PB_INVALID, "subset", "must be a percentage from 0 to 100");
	}
	if (ap_backup_dest_find(env, s->dest, &d, pb) != AP_OK) {
		if (pb->code != AP_PB_NOT_FOUND)
			return AP_ERR_IO;
		return ap_problem_set(pb, AP_PB_INVALID, "dest", "no such destination");
	}
	return AP_OK;
}

struct json_object *
ap_bktask_params(const struct ap_task_spec *s)
{
	struct json_object *j = json_object_new_object();
	bool bk = strcmp(s->kind, "backup") == 0;

	json_object_object_add(j, "target_kind", json_object_new_string(bk ? s->bk_kind : "dest"));
	json_object_object_add(j, "target", json_object_new_string(bk ? s->bk_target : s->dest));
	json_object_object_add(j, "dest", json_object_new_string(s->dest));
	if (bk) {
		json_object_object_add(j, "keep_last", json_object_new_int(s->keep_last));
		json_object_object_add(j, "keep_daily", json_object_new_int(s->keep_daily));
		json_object_object_add(j, "keep_weekly", json_object_new_int(s->keep_weekly));
		json_object_object_add(j, "keep_monthly", json_object_new_int(s->keep_monthly));
	} else {
		json_object_object_add(j, "subset", json_object_new_int(s->subset < 0 ? DEFAULT_SUBSET : s->subset));
	}
	return j;
}

void
ap_bktask_target_text(const struct ap_task_spec *s, char *out, size_t n)
{
	if (strcmp(s->kind, "backup") == 0)
		snprintf(out, n, "%s:%s to %s", s->bk_kind, s->bk_target, s->dest);
	else
		snprintf(out, n, "check %s", s->dest);
}

static int
get_int(struct json_object *j, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(j, k, &v) ? json_object_get_int(v) : 0;
}

static void
get_str(struct json_object *j, const char *k, char *out, size_t n)
{
	struct json_object *v;

	snprintf(out, n, "%s", json_object_object_get_ex(j, k, &v) && v != NULL
	    ? json_object_get_string(v) : "");
}

void
ap_bktask_parse(struct ap_task *t, const char *argv_json)
{
	struct json_object *j = argv_json != NULL ? json_tokener_parse(argv_json) : NULL;

	memset(&t->bk, 0, sizeof(t->bk));
	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		return;
	}
	get_str(j, "target_kind", t->bk.target_kind, sizeof(t->bk.target_kind));
	get_str(j, "target", t->bk.target, sizeof(t->bk.target));
	get_str(j, "dest", t->bk.dest, sizeof(t->bk.dest));
	t->bk.keep_last = get_int(j, "keep_last");
	t->bk.keep_daily = get_int(j, "keep_daily");
	t->bk.keep_weekly = get_int(j, "keep_weekly");
	t->bk.keep_monthly = get_int(j, "keep_monthly");
	t->bk.subset = get_int(j, "subset");
	json_object_put(j);
}

/* Settle the backup run and copy how it ended into the task's run; true once it ended. */
bool
ap_bktask_run_settle(const struct ap_sites_env *env, struct ap_task_run *r)
{
	struct ap_backup_run b;
	struct ap_problem pb;

	if (strcmp(r->state, "running") != 0 || r->backup_run_id <= 0 || env->helper == NULL)
		return false;
	if (ap_backup_run_get(env, r->backup_run_id, &b, &pb) != AP_OK)
		return false;
	ap_backup_settle(env, &b);
	if (strcmp(b.state, "running") == 0)
		return false;
	r->ended_at = b.ended_at ? b.ended_at : (int64_t)time(NULL);
	if (strcmp(b.state, "done") == 0) {
		snprintf(r->state, sizeof(r->state), "ok");
		r->exit_code = 0;
		if (b.snapshot[0])
			snprintf(r->message, sizeof(r->message), "backup run #%lld: snapshot %s",
			    (long long)b.id, b.snapshot);
		else
			snprintf(r->message, sizeof(r->message), "backup run #%lld", (long long)b.id);
	} else {
		snprintf(r->state, sizeof(r->state), "%s", strcmp(b.state, "lost") == 0 ? "lost" : "failed");
		snprintf(r->message, sizeof(r->message), "backup run #%lld: %.200s", (long long)b.id,
		    b.message[0] ? b.message : b.state);
	}
	return true;
}

static void
mark_task(const struct ap_sites_env *env, int64_t run_id, int64_t task_id)
{
	struct ap_db_stmt *st = NULL;

	if (ap_db_prepare(env->db, "UPDATE backup_runs SET task_id = ? WHERE id = ?", &st) != AP_DB_OK)
		return;
	ap_db_bind_int64(st, 1, task_id);
	ap_db_bind_int64(st, 2, run_id);
	if (ap_db_step(st) != AP_DB_DONE)
		AP_WARN("tasks: backup run %lld could not name its task", (long long)run_id);
	ap_db_finalize(st);
}

enum ap_err
ap_bktask_run_start(const struct ap_sites_env *env, const struct ap_task *t, struct ap_task_run *out,
    struct ap_problem *pb)
{
	struct ap_backup_run b;
	enum ap_err e;

	if (strcmp(t->kind, "backup") == 0) {
		struct ap_backup_spec s = {
			.kind = t->bk.target_kind, .target = t->bk.target, .dest = t->bk.dest,
			.keep_last = t->bk.keep_last, .keep_daily = t->bk.keep_daily,
			.keep_weekly = t->bk.keep_weekly, .keep_monthly = t->bk.keep_monthly,
		};

		e = ap_backup_start(env, &s, &b, pb);
	} else {
		e = ap_backup_check_start(env, t->bk.dest, t->bk.subset, &b, pb);
	}
	if (b.id > 0) {
		mark_task(env, b.id, t->id);
		out->backup_run_id = b.id;
		out->job_id = b.job_id;
	}
	if (e != AP_OK) {
		/* Recorded too: a scheduled backup that could not start is a failed run. */
		snprintf(out->state, sizeof(out->state), "failed");
		snprintf(out->message, sizeof(out->message), "%s", pb->reason);
		out->ended_at = out->started_at;
		return e;
	}
	snprintf(out->state, sizeof(out->state), "running");
	snprintf(out->message, sizeof(out->message), "backup run #%lld", (long long)b.id);
	return AP_OK;
}

int64_t
ap_task_schedule_interval(const char *schedule, time_t now)
{
	struct ap_cron c;
	const char *f, *w;
	time_t prev, next;
	int64_t gap = 0;

	if (!ap_cron_parse(schedule, &c, &f, &w) || (prev = ap_cron_next(&c, now)) < 0)
		return 0;
	for (int i = 0; i < 64; i++) {
		if ((next = ap_cron_next(&c, prev)) < 0)
			break;
		if ((int64_t)(next - prev) > gap)
			gap = (int64_t)(next - prev);
		prev = next;
	}
	return gap;
}

/* ---- the stale-backup alert from the schedules (metrics.h) ---- */

struct sched {
	char kind[16], target[254];
	int64_t interval, created;
};

enum ap_db_rc
ap_alert_backup_schedules_each(struct ap_db *db, int64_t now, ap_backup_sched_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	struct sched *v = NULL;
	size_t n = 0;
	enum ap_db_rc rc = ap_db_prepare(db, "SELECT schedule, argv, created_at FROM cron_jobs "
	    "WHERE kind = 'backup' AND enabled = 1 ORDER BY id", &st);

	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_task t;
		const char *sc = ap_db_col_text(st, 0, NULL);
		int64_t iv = sc != NULL ? ap_task_schedule_interval(sc, (time_t)now) : 0;
		size_t i;

		memset(&t, 0, sizeof(t));
		ap_bktask_parse(&t, ap_db_col_text(st, 1, NULL));
		if (iv <= 0 || t.bk.target[0] == '\0')
			continue;
		/* One judgement per target: its most frequent schedule. */
		for (i = 0; i < n; i++)
			if (strcmp(v[i].kind, t.bk.target_kind) == 0 && strcmp(v[i].target, t.bk.target) == 0)
				break;
		if (i == n) {
			v = realloc(v, (n + 1) * sizeof(*v));
			if (v == NULL)
				abort();
			memset(&v[n], 0, sizeof(v[n]));
			snprintf(v[n].kind, sizeof(v[n].kind), "%s", t.bk.target_kind);
			snprintf(v[n].target, sizeof(v[n].target), "%s", t.bk.target);
			v[n].interval = iv;
			v[n].created = ap_db_col_int64(st, 2);
			n++;
		} else if (iv < v[i].interval) {
			v[i].interval = iv;
		}
	}
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_DONE) {
		free(v);
		return rc;
	}
	rc = AP_DB_OK;
	for (size_t i = 0; i < n && rc == AP_DB_OK; i++) {
		int64_t last = v[i].created;

		if ((rc = ap_db_prepare(db, "SELECT MAX(ended_at) FROM backup_runs WHERE action = 'backup' AND "
		    "state = 'done' AND target_kind = ? AND target = ?", &st)) != AP_DB_OK)
			break;
		ap_db_bind_text(st, 1, v[i].kind, -1);
		ap_db_bind_text(st, 2, v[i].target, -1);
		if ((rc = ap_db_step(st)) == AP_DB_ROW) {
			if (!ap_db_col_is_null(st, 0))
				last = ap_db_col_int64(st, 0);
			rc = AP_DB_OK;
		}
		ap_db_finalize(st);
		st = NULL;
		if (rc == AP_DB_OK && !cb(arg, v[i].target, v[i].interval, last))
			break;
	}
	free(v);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}
