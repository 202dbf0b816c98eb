/*
 * tasks.h — scheduled tasks (docs/tasks.md): the panel's record (cron_jobs,
 * cron_runs) and the helper's task.* operations that put them in the cron
 * file and run them. A change is made in the database and by the helper,
 * or not at all (the row is put back when the helper refuses).
 */
#ifndef AAPANEL_TASKS_H
#define AAPANEL_TASKS_H

#include <json-c/json.h>

#include "aapanel/sites.h"
#include "aapanel/taskcheck.h"

/* A backup task's parameters (cron_jobs.argv as JSON for these kinds). */
struct ap_task_backup {
	char target_kind[16]; /* "site" | "database" | "dest" (backup_check) */
	char target[254];
	char dest[33];
	int keep_last, keep_daily, keep_weekly, keep_monthly;
	int subset;
};

struct ap_task {
	int64_t id;
	char name[65];
	char kind[16];                        /* "command" | "url" | "backup" | "backup_check" */
	char target[AP_TASK_MAX_COMMAND + 1]; /* the command as typed, or the URL */
	char user[33];                        /* commands: who runs it */
	char schedule[101];
	int64_t timeout;                      /* seconds */
	bool enabled;
	int64_t created_at, updated_at;
	/* the last run, when there is one (last_state "" otherwise) */
	char last_state[16];
	int64_t last_started, last_ended;
	int last_exit; /* -1 unknown */
	struct ap_task_backup bk; /* kinds backup and backup_check (backup_tasks.c) */
};

struct ap_task_run {
	int64_t id, task_id, job_id;
	char trigger[16]; /* "schedule" | "manual" */
	char state[16];   /* "running" | "ok" | "failed" | "timeout" | "skipped" | "lost" */
	int64_t started_at, ended_at;
	int exit_code; /* -1 unknown */
	int64_t output_bytes;
	char message[256];
	char *output; /* owned (free), may be NULL */
	int64_t backup_run_id; /* kinds backup, backup_check: the backup run it started (0 none) */
};

/* Fields of a new task, as checked by the route table (values borrowed). */
struct ap_task_spec {
	const char *name, *kind, *command, *url, *user, *schedule;
	int64_t timeout; /* 0: 3600 capped at tasks.max_timeout */
	bool enabled;
	/* kinds backup ("site" or "database" target, dest, retention) and backup_check (dest, subset) */
	const char *bk_kind, *bk_target, *dest;
	int keep_last, keep_daily, keep_weekly, keep_monthly;
	int subset; /* backup_check: the read subset in %, -1 = the default (10) */
};

enum ap_err ap_task_get(const struct ap_sites_env *env, int64_t id, struct ap_task *out,
    struct ap_problem *pb);
enum ap_err ap_task_find(const struct ap_sites_env *env, const char *name, struct ap_task *out,
    struct ap_problem *pb);
/* One page by id (keyset): fn gets each (borrowed). */
enum ap_err ap_task_page(const struct ap_sites_env *env, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_task *t), void *ctx, bool *more, struct ap_problem *pb);

/* Check a spec (each field, then the pieces together). AP_ERR_INVAL with pb naming the field. */
enum ap_err ap_task_validate(const struct ap_sites_env *env, const struct ap_task_spec *spec,
    struct ap_problem *pb);
/* Create: the row, then task.put (the row goes again if the helper refuses). */
enum ap_err ap_task_create(const struct ap_sites_env *env, const struct ap_task_spec *spec,
    struct ap_task *out, struct ap_problem *pb);
/* Enable or disable: the row and the cron file. */
enum ap_err ap_task_set_enabled(const struct ap_sites_env *env, struct ap_task *t, bool on,
    struct ap_problem *pb);
/* Remove: task.remove, then the row and its runs. */
enum ap_err ap_task_remove(const struct ap_sites_env *env, const struct ap_task *t,
    struct ap_problem *pb);

/* Start a run (task.exec): a cron_runs row "running" with the job. */
enum ap_err ap_task_run_start(const struct ap_sites_env *env, const struct ap_task *t,
    const char *trigger, struct ap_task_run *out, struct ap_problem *pb);
/* A running run asked about: once its job ended, the row gets the result. */
void ap_task_run_settle(const struct ap_sites_env *env, struct ap_task_run *r);
/* The recorder: start a run and wait for it to end (its timeout and a margin at most). */
enum ap_err ap_task_run_wait(const struct ap_sites_env *env, const struct ap_task *t,
    const char *trigger, struct ap_task_run *out, struct ap_problem *pb);
/* The task's runs, newest first, at most limit; the running ones settled first. */
enum ap_err ap_task_runs(const struct ap_sites_env *env, int64_t task_id, int64_t limit,
    bool with_output, bool (*fn)(void *ctx, const struct ap_task_run *r), void *ctx,
    struct ap_problem *pb);
void ap_task_run_free(struct ap_task_run *r);

/* The run's row written (insert sets r->id), or its result saved (prunes old runs once ended). */
enum ap_err ap_task_run_insert(const struct ap_sites_env *env, struct ap_task_run *r,
    struct ap_problem *pb);
void ap_task_run_save(const struct ap_sites_env *env, const struct ap_task_run *r);

/* The next n run times of a schedule after now (local time); -1 entries when none. */
void ap_task_next_runs(const char *schedule, time_t now, time_t *out, size_t n);

/* As the audit log and the API show them (owned). */
struct json_object *ap_task_json(const struct ap_task *t);
struct json_object *ap_task_run_json(const struct ap_task_run *r);

/* ---- the panel's own kinds: backup and backup_check (src/data/backup_tasks.c) ---- */

/* Is the kind one of the panel's own (run as a backup run, not by task.exec)? */
bool ap_task_kind_backup(const char *kind);
/* Check a backup or backup_check spec: target, destination, retention, subset (each named). */
enum ap_err ap_bktask_validate(const struct ap_sites_env *env, const struct ap_task_spec *s,
    struct ap_problem *pb);
/* The parameters as stored in cron_jobs.argv (owned) and the target column's text. */
struct json_object *ap_bktask_params(const struct ap_task_spec *s);
void ap_bktask_target_text(const struct ap_task_spec *s, char *out, size_t n);
/* Read the stored parameters into t->bk. */
void ap_bktask_parse(struct ap_task *t, const char *argv_json);
/* Start the backup (or check) run of a task: the same helper operation as "back up now"
 * (ap_backup_start, ap_backup_check_start), recorded in backup_runs (naming the task);
 * out (initialised by the caller) gets the backup run, "running" or "failed". */
enum ap_err ap_bktask_run_start(const struct ap_sites_env *env, const struct ap_task *t,
    struct ap_task_run *out, struct ap_problem *pb);
/* A running run of a backup task: its result from its backup run; true once it ended. */
bool ap_bktask_run_settle(const struct ap_sites_env *env, struct ap_task_run *r);
/* The longest gap in seconds between two runs of a schedule over its next 64 runs (0: never). */
int64_t ap_task_schedule_interval(const char *schedule, time_t now);

#endif
