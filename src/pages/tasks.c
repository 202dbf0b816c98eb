/*
 * tasks.c — scheduled tasks (cron.read to look, cron.write to change;
 * docs/tasks.md): the list with the last run, its result and duration and
 * the next run; a task's page with the next five run times, its history and
 * each run's output; add (a command, run as a site's user — or, for an
 * admin, any other user; root only with tasks.allow_root and the admin's
 * password again — or a URL), run now, enable, disable, remove. The data
 * module (src/data/tasks.c) does the work through the helper; every change
 * is audited with before and after.
 *
 * Resources: Task, TaskList (paged by id), TaskDetail (a task, its next
 * runs and its runs), TaskRun, SchedulePreview.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/backupcheck.h"
#include "aapanel/cron.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/tasks.h"

static const char *const kinds[] = { "command", "url", "backup", "backup_check", NULL };
static const char *const run_states[] = { "running", "ok", "failed", "timeout", "skipped", "lost", NULL };
static const char *const triggers[] = { "schedule", "manual", NULL };

enum { TL_LIMIT, TL_CURSOR, TL_SITE, TL_DATABASE, TL__MAX };
const struct ap_field ap_task_list_fields[TL__MAX + 1] = {
	[TL_LIMIT] = AP_FIELD_LIMIT,
	[TL_CURSOR] = AP_FIELD_CURSOR,
	[TL_SITE] = { .name = "site", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 253,
	    .desc = "the page only: its backup form filled in with this site (the backups page's Schedule)" },
	[TL_DATABASE] = { .name = "database", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 64,
	    .desc = "the page only: its backup form filled in with this database" },
	[TL__MAX] = AP_FIELD_END,
};

enum { TA_NAME, TA_KIND, TA_SCHEDULE, TA_COMMAND, TA_URL, TA_USER, TA_TIMEOUT, TA_ENABLED,
	TA_PASSWORD, TA_SITE, TA_DATABASE, TA_DEST, TA_KEEP_LAST, TA_KEEP_DAILY, TA_KEEP_WEEKLY,
	TA_KEEP_MONTHLY, TA_SUBSET, TA__MAX };
#define TA_KEEP(n, d) { .name = n, .type = AP_FIELD_INT, .min = 0, .max = AP_BK_KEEP_MAX, .desc = d }
const struct ap_field ap_task_add_fields[TA__MAX + 1] = {
	[TA_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 64, .check = ap_check_task_name,
	    .desc = "a-z first, then a-z, 0-9, _ . - (the CLI's NAME)" },
	[TA_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .choices = kinds,
	    .desc = "command (default), url, backup (a site or a database to a destination, then its retention) or backup_check (restic check of a destination)" },
	[TA_SCHEDULE] = { .name = "schedule", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = AP_CRON_MAX_LEN, .check = ap_check_cron,
	    .desc = "5-field cron syntax (minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly" },
	[TA_COMMAND] = { .name = "command", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_TASK_MAX_COMMAND, .check = ap_check_task_command,
	    .desc = "the program's absolute path and its arguments; quotes group words, nothing is expanded, no shell" },
	[TA_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_TASK_MAX_URL, .check = ap_check_task_url, .desc = "kind url: the http:// or https:// address to call" },
	[TA_USER] = { .name = "user", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 32,
	    .check = ap_check_task_user,
	    .desc = "kind command: who runs it: a site's user (operators), any other non-root user (admins); default nobody" },
	[TA_TIMEOUT] = { .name = "timeout", .type = AP_FIELD_INT, .min = 1, .max = 86400,
	    .desc = "seconds before the run is killed (default 3600, at most tasks.max_timeout)" },
	[TA_ENABLED] = { .name = "enabled", .type = AP_FIELD_BOOL, .desc = "scheduled (default true)" },
	[TA_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SECRET, .max = 1024,
	    .desc = "user root only: the admin's own password again" },
	[TA_SITE] = { .name = "site", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 253,
	    .desc = "kind backup: the site's domain (its files and linked databases)" },
	[TA_DATABASE] = { .name = "database", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 64,
	    .desc = "kind backup: a database's name (instead of a site)" },
	[TA_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 32,
	    .desc = "kinds backup, backup_check: the destination's name" },
	[TA_KEEP_LAST] = TA_KEEP("keep_last", "kind backup: retention after each backup, the last N snapshots"),
	[TA_KEEP_DAILY] = TA_KEEP("keep_daily", "kind backup: ... the newest of the last N days"),
	[TA_KEEP_WEEKLY] = TA_KEEP("keep_weekly", "kind backup: ... the newest of the last N weeks"),
	[TA_KEEP_MONTHLY] = TA_KEEP("keep_monthly", "kind backup: ... the newest of the last N months"),
	[TA_SUBSET] = { .name = "subset", .type = AP_FIELD_INT, .min = 0, .max = 100,
	    .desc = "kind backup_check: the share of the data read back, in % (default 10)" },
	[TA__MAX] = AP_FIELD_END,
};

enum { TP_SCHEDULE, TP__MAX };
const struct ap_field ap_task_preview_fields[TP__MAX + 1] = {
	[TP_SCHEDULE] = { .name = "schedule", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .min = 1, .max = AP_CRON_MAX_LEN, .check = ap_check_cron, .desc = "the schedule to preview" },
	[TP__MAX] = AP_FIELD_END,
};

static const struct ap_prop task_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "kind", .type = AP_J_STRING, .choices = kinds },
	{ .name = "command", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "kind command: as given" },
	{ .name = "url", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "kind url" },
	{ .name = "user", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "who runs the command" },
	{ .name = "target_kind", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "kinds backup, backup_check: site, database or dest (a check)" },
	{ .name = "target", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "kind backup: the domain or the database" },
	{ .name = "dest", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "kinds backup, backup_check: the destination" },
	{ .name = "keep_last", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "kind backup: retention (0: not applied)" },
	{ .name = "keep_daily", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "keep_weekly", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "keep_monthly", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "subset", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "kind backup_check: % of the data read" },
	{ .name = "schedule", .type = AP_J_STRING, .desc = "5-field cron syntax" },
	{ .name = "timeout", .type = AP_J_INT, .desc = "seconds" },
	{ .name = "enabled", .type = AP_J_BOOL },
	{ .name = "next_run", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "null when disabled or never" },
	{ .name = "last_run", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when the last run started" },
	{ .name = "last_state", .type = AP_J_STRING, .flags = AP_J_NULL, .choices = run_states },
	{ .name = "last_duration", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds the last run took" },
	{ .name = "created", .type = AP_J_TIME },
	AP_PROP_END,
};
const struct ap_schema ap_task_schema = { .name = "Task", .desc = "a scheduled task", .props = task_props };
AP_SCHEMA_LIST(ap_task_list_schema, "TaskList", ap_task_schema);

static const struct ap_prop run_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "trigger", .type = AP_J_STRING, .choices = triggers },
	{ .name = "state", .type = AP_J_STRING, .choices = run_states,
	    .desc = "skipped: the run before was still going; lost: the helper restarted meanwhile" },
	{ .name = "started", .type = AP_J_TIME },
	{ .name = "ended", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "duration", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds" },
	{ .name = "exit_code", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "message", .type = AP_J_STRING },
	{ .name = "output", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the last 64 KiB of stdout and stderr" },
	{ .name = "output_bytes", .type = AP_J_INT, .desc = "all the output's bytes" },
	{ .name = "backup_run", .type = AP_J_INT, .flags = AP_J_NULL,
	    .desc = "kinds backup, backup_check: the backup run it started (/backups/runs/{id})" },
	AP_PROP_END,
};
const struct ap_schema ap_task_run_schema = { .name = "TaskRun", .desc = "one run of a task", .props = run_props };

static const struct ap_prop detail_props[] = {
	{ .name = "task", .type = AP_J_OBJECT, .of = &ap_task_schema },
	{ .name = "next_runs", .type = AP_J_ARRAY, .items = AP_J_TIME, .desc = "the next five, server time zone" },
	{ .name = "time_zone", .type = AP_J_STRING },
	{ .name = "runs", .type = AP_J_ARRAY, .of = &ap_task_run_schema, .desc = "the last 20, newest first" },
	AP_PROP_END,
};
const struct ap_schema ap_task_detail_schema = { .name = "TaskDetail",
	.desc = "a task with its next runs and its history", .props = detail_props };

static const struct ap_prop preview_props[] = {
	{ .name = "schedule", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "next_runs", .type = AP_J_ARRAY, .items = AP_J_TIME, .desc = "the next five" },
	{ .name = "time_zone", .type = AP_J_STRING },
	AP_PROP_END,
};
const struct ap_schema ap_task_preview_schema = { .name = "SchedulePreview",
	.desc = "when a schedule runs next", .props = preview_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c, .job_wait_ms = 5000 };

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
	return e;
}

static int
fail_pb(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	if (pb->code == AP_PB_INTERNAL && ctx->db != NULL)
		return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "an internal error occurred");
	return ap_ctx_problem(ctx, pb);
}

static bool
can_write(struct ap_ctx *ctx)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, "cron.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "cron.write"));
}

static const char *
tz_name(void)
{
	static char buf[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, sizeof(buf), "%Z (UTC%z)", &tm);
	return buf;
}

static struct json_object *
next_runs(const char *schedule, size_t n)
{
	struct json_object *a = json_object_new_array();
	time_t t[5];

	ap_task_next_runs(schedule, time(NULL), t, n > 5 ? 5 : n);
	for (size_t i = 0; i < n && i < 5; i++)
		if (t[i] > 0)
			json_object_array_add(a, ap_model_time(t[i]));
	return a;
}

struct json_object *
ap_task_resource(const struct ap_task *t)
{
	struct json_object *o = json_object_new_object();
	bool url = strcmp(t->kind, "url") == 0, bk = ap_task_kind_backup(t->kind);
	bool keep = strcmp(t->kind, "backup") == 0;
	time_t next[1];

	ap_task_next_runs(t->schedule, time(NULL), next, 1);
	ap_model_add(o, "id", json_object_new_int64(t->id));
	ap_model_str(o, "name", t->name);
	ap_model_str(o, "kind", bk ? t->kind : url ? "url" : "command");
	ap_model_opt(o, "command", url || bk ? NULL : t->target);
	ap_model_opt(o, "url", url ? t->target : NULL);
	ap_model_opt(o, "user", t->user[0] ? t->user : NULL);
	ap_model_opt(o, "target_kind", bk ? t->bk.target_kind : NULL);
	ap_model_opt(o, "target", keep ? t->bk.target : NULL);
	ap_model_opt(o, "dest", bk ? t->bk.dest : NULL);
	ap_model_add(o, "keep_last", keep ? json_object_new_int(t->bk.keep_last) : NULL);
	ap_model_add(o, "keep_daily", keep ? json_object_new_int(t->bk.keep_daily) : NULL);
	ap_model_add(o, "keep_weekly", keep ? json_object_new_int(t->bk.keep_weekly) : NULL);
	ap_model_add(o, "keep_monthly", keep ? json_object_new_int(t->bk.keep_monthly) : NULL);
	ap_model_add(o, "subset", bk && !keep ? json_object_new_int(t->bk.subset) : NULL);
	ap_model_str(o, "schedule", t->schedule);
	ap_model_add(o, "timeout", json_object_new_int64(t->timeout));
	ap_model_add(o, "enabled", json_object_new_boolean(t->enabled));
	ap_model_add(o, "next_run", t->enabled && next[0] > 0 ? ap_model_time(next[0]) : NULL);
	ap_model_add(o, "last_run", ap_model_time(t->last_started));
	ap_model_opt(o, "last_state", t->last_state[0] ? t->last_state : NULL);
	ap_model_add(o, "last_duration", t->last_ended && t->last_started
	    ? json_object_new_int64(t->last_ended - t->last_started) : NULL);
	ap_model_add(o, "created", ap_model_time(t->created_at));
	return o;
}

struct json_object *
ap_task_run_resource(const struct ap_task_run *r)
{
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(r->id));
	ap_model_str(o, "trigger", r->trigger);
	ap_model_str(o, "state", r->state);
	ap_model_add(o, "started", ap_model_time(r->started_at));
	ap_model_add(o, "ended", ap_model_time(r->ended_at));
	ap_model_add(o, "duration", r->ended_at ? json_object_new_int64(r->ended_at - r->started_at) : NULL);
	ap_model_add(o, "exit_code", r->exit_code >= 0 ? json_object_new_int(r->exit_code) : NULL);
	ap_model_str(o, "message", r->message);
	ap_model_opt(o, "output", r->output);
	ap_model_add(o, "output_bytes", json_object_new_int64(r->output_bytes));
	ap_model_add(o, "backup_run", r->backup_run_id > 0 ? json_object_new_int64(r->backup_run_id) : NULL);
	return o;
}

/* A run state's label (translated) and badge class; false for a state without. */
static bool
state_info(struct ap_ctx *ctx, const char *state, const char **label, const char **badge)
{
	static const struct {
		const char *state, *label, *badge;
	} l[] = {
		{ "running", N_("Running"), "badge-warn" }, { "ok", N_("Succeeded"), "badge-ok" },
		{ "failed", N_("Failed"), "badge-danger" }, { "timeout", N_("Timed out"), "badge-danger" },
		{ "skipped", N_("Skipped"), "badge-warn" }, { "lost", N_("Lost"), "badge-danger" },
	};

	for (size_t i = 0; i < AP_NELEM(l); i++)
		if (state != NULL && strcmp(state, l[i].state) == 0) {
			*label = ap_ctx_tr(ctx, l[i].label);
			*badge = l[i].badge;
			return true;
		}
	return false;
}

/* The page's labels beside the resource. */
static void
state_labels(struct ap_ctx *ctx, struct json_object *o, const char *state)
{
	const char *label, *badge;

	if (state_info(ctx, state, &label, &badge)) {
		ap_model_str(o, "state_label", label);
		ap_model_str(o, "state_badge", badge);
	}
}

/* Where the cron file goes, and whether a cron daemon reads it (the UI says which). */
static void
where(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	bool sandbox = c->profile != AP_PROFILE_PRODUCTION;

	ap_model_str(ctx->model, "cron_file", ap_arena_printf(ctx->arena, "%s/%s/aapanel",
	    strcmp(c->helper_sandbox_root, "/") == 0 ? "" : c->helper_sandbox_root, c->tasks_cron_dir));
	ap_model_add(ctx->model, "sandbox", json_object_new_boolean(sandbox));
	ap_model_str(ctx->model, "time_zone", tz_name());
}

/* ---------------------------------------------------------------- GET /tasks */

struct list_ctx {
	struct ap_ctx *ctx;
	struct json_object *arr;
	int64_t last;
};

/* A row of the list: ap_task_resource's members and the state's label, as a
 * typed row source (rows.h); a label the state has none of is null. */
struct task_view {
	int64_t id;
	const char *name, *kind, *command, *url, *user, *target_kind, *target, *dest, *schedule;
	int64_t keep_last, keep_daily, keep_weekly, keep_monthly, subset;
	int64_t timeout;
	bool enabled;
	int64_t next_run, last_run;
	const char *last_state;
	int64_t last_duration, created;
	const char *state_label, *state_badge;
};
static const struct ap_col task_cols[] = {
	AP_COL(struct task_view, id, AP_COL_INT),
	AP_COL(struct task_view, name, AP_COL_STR),
	AP_COL(struct task_view, kind, AP_COL_STR),
	AP_COL(struct task_view, command, AP_COL_STR),
	AP_COL(struct task_view, url, AP_COL_STR),
	AP_COL(struct task_view, user, AP_COL_STR),
	AP_COL(struct task_view, target_kind, AP_COL_STR),
	AP_COL(struct task_view, target, AP_COL_STR),
	AP_COL(struct task_view, dest, AP_COL_STR),
	AP_COL(struct task_view, keep_last, AP_COL_INTN),
	AP_COL(struct task_view, keep_daily, AP_COL_INTN),
	AP_COL(struct task_view, keep_weekly, AP_COL_INTN),
	AP_COL(struct task_view, keep_monthly, AP_COL_INTN),
	AP_COL(struct task_view, subset, AP_COL_INTN),
	AP_COL(struct task_view, schedule, AP_COL_STR),
	AP_COL(struct task_view, timeout, AP_COL_INT),
	AP_COL(struct task_view, enabled, AP_COL_BOOL),
	AP_COL(struct task_view, next_run, AP_COL_TIME),
	AP_COL(struct task_view, last_run, AP_COL_TIME),
	AP_COL(struct task_view, last_state, AP_COL_STR),
	AP_COL(struct task_view, last_duration, AP_COL_INTN),
	AP_COL(struct task_view, created, AP_COL_TIME),
	AP_COL(struct task_view, state_label, AP_COL_STR),
	AP_COL(struct task_view, state_badge, AP_COL_STR),
	AP_COL_END,
};

/* s copied, or NULL when empty (ap_model_opt). */
static const char *
opt_copy(struct json_object *rows, const char *s)
{
	return s != NULL && s[0] != '\0' ? ap_rows_strdup(rows, s) : NULL;
}

static bool
list_row(void *p, const struct ap_task *t)
{
	struct list_ctx *l = p;
	struct task_view *v = ap_rows_add(l->arr);
	bool url = strcmp(t->kind, "url") == 0;
	time_t next[1];

	ap_task_next_runs(t->schedule, time(NULL), next, 1);
	v->id = t->id;
	v->name = ap_rows_strdup(l->arr, t->name);
	v->kind = ap_task_kind_backup(t->kind) ? (strcmp(t->kind, "backup") == 0 ? "backup" : "backup_check")
	    : url ? "url" : "command";
	v->command = url || ap_task_kind_backup(t->kind) ? NULL : opt_copy(l->arr, t->target);
	v->url = url ? opt_copy(l->arr, t->target) : NULL;
	v->user = opt_copy(l->arr, t->user);
	{
		bool bk = ap_task_kind_backup(t->kind), keep = strcmp(t->kind, "backup") == 0;

		v->target_kind = bk ? opt_copy(l->arr, t->bk.target_kind) : NULL;
		v->target = keep ? opt_copy(l->arr, t->bk.target) : NULL;
		v->dest = bk ? opt_copy(l->arr, t->bk.dest) : NULL;
		v->keep_last = keep ? t->bk.keep_last : AP_ROWS_NULL;
		v->keep_daily = keep ? t->bk.keep_daily : AP_ROWS_NULL;
		v->keep_weekly = keep ? t->bk.keep_weekly : AP_ROWS_NULL;
		v->keep_monthly = keep ? t->bk.keep_monthly : AP_ROWS_NULL;
		v->subset = bk && !keep ? t->bk.subset : AP_ROWS_NULL;
	}
	v->schedule = ap_rows_strdup(l->arr, t->schedule);
	v->timeout = t->timeout;
	v->enabled = t->enabled;
	v->next_run = t->enabled && next[0] > 0 ? (int64_t)next[0] : 0;
	v->last_run = t->last_started;
	v->last_state = opt_copy(l->arr, t->last_state);
	v->last_duration = t->last_ended && t->last_started ? t->last_ended - t->last_started : AP_ROWS_NULL;
	v->created = t->created_at;
	/* Static or translated texts: no copy. */
	state_info(l->ctx, t->last_state, &v->state_label, &v->state_badge);
	l->last = t->id;
	return true;
}

int
ap_page_tasks(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct list_ctx l = { .ctx = ctx, .arr = ap_rows_new(task_cols, sizeof(struct task_view)) };
	struct ap_problem pb;
	struct ap_page pg;
	bool more = false;

	ctx->title = ap_ctx_tr(ctx, "Scheduled tasks");
	ap_ctx_page(ctx, &pg);
	if (ap_task_page(&env, pg.cursor, pg.limit, list_row, &l, &more, &pb) != AP_OK) {
		json_object_put(l.arr);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_page_done(ctx, "/tasks", l.arr, more, l.last);
	if (!ctx->req->wants_json) {
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "is_admin", json_object_new_boolean(ctx->user != NULL &&
		    strcmp(ctx->user->role, "admin") == 0));
		ap_model_add(ctx->model, "allow_root", json_object_new_boolean(ctx->app->cfg->tasks_allow_root));
		where(ctx);
		/* (a refused add re-shows this page with the add's fields: the kept values then) */
		if (ctx->form_again)
			ap_task_backup_form_model(ctx, &env, NULL, NULL);
		else
			ap_task_backup_form_model(ctx, &env, ctx->fields[TL_SITE].present ? ctx->fields[TL_SITE].s : NULL,
			    ctx->fields[TL_DATABASE].present ? ctx->fields[TL_DATABASE].s : NULL);
		if (ctx->form_again) {
			static const char *const kept[] = { "name", "schedule", "command", "url", "user", "timeout" };

			for (size_t i = 0; i < AP_NELEM(kept); i++) {
				const char *v = ap_ctx_kept(ctx, kept[i]);

				if (v != NULL)
					ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "kept_%s", kept[i]), v);
			}
			if (ap_ctx_kept(ctx, "kind") != NULL && strcmp(ap_ctx_kept(ctx, "kind"), "url") == 0)
				ap_model_add(ctx->model, "kept_url_kind", json_object_new_boolean(true));
		}
	}
	return 200;
}

/* ---------------------------------------------------------------- GET /tasks/preview */

int
ap_page_task_preview(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = &ctx->fields[TP_SCHEDULE];

	ctx->title = ap_ctx_tr(ctx, "Schedule preview");
	ap_model_add(ctx->model, "schedule", f->present ? json_object_new_string(f->s) : NULL);
	ap_model_add(ctx->model, "next_runs", f->present ? next_runs(f->s, 5) : json_object_new_array());
	ap_model_str(ctx->model, "time_zone", tz_name());
	return 200;
}

/* ---------------------------------------------------------------- GET /tasks/{id} */

struct runs_ctx {
	struct ap_ctx *ctx;
	struct json_object *arr;
};

static bool
run_row(void *p, const struct ap_task_run *r)
{
	struct runs_ctx *c = p;
	struct json_object *o = ap_task_run_resource(r);

	state_labels(c->ctx, o, r->state);
	json_object_array_add(c->arr, o);
	return true;
}

int
ap_page_task(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct runs_ctx rc = { .ctx = ctx, .arr = json_object_new_array() };
	struct ap_problem pb;
	struct ap_task t;
	struct json_object *o;

	if (ap_task_get(&env, ctx->fields[AP_ID].i, &t, &pb) != AP_OK) {
		json_object_put(rc.arr);
		return fail_pb(ctx, &pb);
	}
	if (ap_task_runs(&env, t.id, 20, true, run_row, &rc, &pb) != AP_OK) {
		json_object_put(rc.arr);
		return fail_pb(ctx, &pb);
	}
	/* Settling may have ended the last run: read the task again for its summary. */
	ap_task_get(&env, t.id, &t, &pb);
	ctx->title = ap_ctx_tr(ctx, "Scheduled task");
	o = ap_task_resource(&t);
	state_labels(ctx, o, t.last_state);
	ap_model_add(ctx->model, "task", o);
	ap_model_add(ctx->model, "next_runs", t.enabled ? next_runs(t.schedule, 5) : json_object_new_array());
	ap_model_str(ctx->model, "time_zone", tz_name());
	ap_model_add(ctx->model, "runs", rc.arr);
	if (!ctx->req->wants_json) {
		bool running = false;

		/* A run still going: the page refreshes itself (noscript refresh, app.js's poll). */
		for (size_t i = 0; i < json_object_array_length(rc.arr) && !running; i++) {
			struct json_object *st;

			running = json_object_object_get_ex(json_object_array_get_idx(rc.arr, i), "state", &st) &&
			    strcmp(json_object_get_string(st), "running") == 0;
		}
		ap_model_add(ctx->model, "running", json_object_new_boolean(running));
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		ap_model_add(ctx->model, "has_runs", json_object_new_boolean(json_object_array_length(rc.arr) > 0));
		where(ctx);
	}
	return 200;
}

/* ---------------------------------------------------------------- changes */

static void
audit(struct ap_ctx *ctx, const char *action, const char *name, const char *outcome,
    const struct ap_task *before, const struct ap_task *after, const struct ap_problem *pb)
{
	struct json_object *a = after ? ap_task_json(after) : NULL;

	if (a == NULL && pb != NULL) {
		a = json_object_new_object();
		ap_model_str(a, "error", ap_pb_name(pb->code));
		ap_model_str(a, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, name, outcome, before ? ap_ctx_json_text(ctx, ap_task_json(before)) : NULL,
	    a ? ap_ctx_json_text(ctx, a) : NULL);
}

/* Is name the system user of one of the sites? */
struct user_ctx {
	const char *name;
	bool found;
};

static bool
site_user(void *p, const struct ap_site *s)
{
	struct user_ctx *u = p;

	if (strcmp(s->system_user, u->name) == 0)
		u->found = true;
	return !u->found;
}

int
ap_page_task_add(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_task_spec spec = {
		.name = f[TA_NAME].s,
		.kind = f[TA_KIND].present ? kinds[f[TA_KIND].i] : "command",
		.schedule = f[TA_SCHEDULE].s,
		.command = f[TA_COMMAND].present ? f[TA_COMMAND].s : NULL,
		.url = f[TA_URL].present ? f[TA_URL].s : NULL,
		.user = f[TA_USER].present ? f[TA_USER].s : NULL,
		.timeout = f[TA_TIMEOUT].present ? f[TA_TIMEOUT].i : 0,
		.enabled = f[TA_ENABLED].present ? f[TA_ENABLED].b : true,
		.bk_kind = f[TA_SITE].present ? "site" : f[TA_DATABASE].present ? "database" : NULL,
		.bk_target = f[TA_SITE].present ? f[TA_SITE].s : f[TA_DATABASE].present ? f[TA_DATABASE].s : NULL,
		.dest = f[TA_DEST].present ? f[TA_DEST].s : NULL,
		.keep_last = f[TA_KEEP_LAST].present ? (int)f[TA_KEEP_LAST].i : 0,
		.keep_daily = f[TA_KEEP_DAILY].present ? (int)f[TA_KEEP_DAILY].i : 0,
		.keep_weekly = f[TA_KEEP_WEEKLY].present ? (int)f[TA_KEEP_WEEKLY].i : 0,
		.keep_monthly = f[TA_KEEP_MONTHLY].present ? (int)f[TA_KEEP_MONTHLY].i : 0,
		.subset = f[TA_SUBSET].present ? (int)f[TA_SUBSET].i : -1,
	};
	bool admin = strcmp(ctx->user->role, "admin") == 0;
	struct ap_problem pb;
	struct ap_task t;

	if (strcmp(spec.kind, "command") == 0 && spec.user == NULL)
		spec.user = "nobody";
	if (strcmp(spec.kind, "url") == 0 || ap_task_kind_backup(spec.kind))
		spec.user = NULL;
	if (ap_task_kind_backup(spec.kind)) {
		/* A backup schedule is a backup too: operators (backups.write) and admins. */
		if (!ap_role_allows(ctx->user->role, "backups.write") ||
		    (ctx->token_scope != NULL && !ap_scope_allows(ctx->token_scope, "backups.write")))
			return ap_ctx_fail(ctx, AP_PB_DENIED, "kind", "scheduling backups needs backups.write");
		if (f[TA_SITE].present && f[TA_DATABASE].present)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "database", "name a site or a database, not both");
		if (strcmp(spec.kind, "backup") == 0 && f[TA_SUBSET].present)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "subset", "only a backup_check task reads a subset");
		if (strcmp(spec.kind, "backup_check") == 0 && (f[TA_SITE].present || f[TA_DATABASE].present))
			return ap_ctx_fail(ctx, AP_PB_INVALID, f[TA_SITE].present ? "site" : "database",
			    "a backup_check task checks a destination only");
	}
	if (ap_task_validate(&env, &spec, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	/* Who may choose which user: operators a site's user, admins anyone; root needs the password. */
	if (spec.user != NULL && !admin) {
		struct user_ctx u = { spec.user, false };

		ap_site_each(&env, site_user, &u, &pb);
		if (!u.found)
			return ap_ctx_fail(ctx, AP_PB_DENIED, "user",
			    "only an admin may choose a user that is not a website's");
	}
	if (spec.user != NULL && strcmp(spec.user, "root") == 0) {
		int st;

		if (!f[TA_PASSWORD].present)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "password", "type your password again to run a task as root");
		if ((st = ap_ctx_confirm_password(ctx, "password", f[TA_PASSWORD].s, "is not your password")) != 0)
			return st;
	}
	if (ap_task_create(&env, &spec, &t, &pb) != AP_OK) {
		if (pb.code != AP_PB_INVALID && pb.code != AP_PB_EXISTS)
			audit(ctx, "task.create", spec.name, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, "task.create", t.name, "ok", NULL, &t, NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The task %s was added.", t.name);
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/tasks/%lld", (long long)t.id));
	}
	return ap_ctx_answer(ctx, 201, ap_task_resource(&t));
}

int
ap_page_task_run(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_task t;
	struct ap_task_run r;

	if (ap_task_get(&env, ctx->fields[AP_ID].i, &t, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_task_run_start(&env, &t, "manual", &r, &pb) != AP_OK) {
		audit(ctx, "task.run", t.name, "failed", NULL, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "task.run", t.name, "ok", NULL,
	    ap_ctx_json_text(ctx, ap_task_run_json(&r)));
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The task %s is running; this page shows its output when it ends.", t.name);
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/tasks/%lld", (long long)t.id));
	}
	return ap_ctx_answer(ctx, 200, ap_task_run_resource(&r));
}

static int
set_enabled(struct ap_ctx *ctx, bool on)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_task before, t;

	if (ap_task_get(&env, ctx->fields[AP_ID].i, &before, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	t = before;
	if (ap_task_set_enabled(&env, &t, on, &pb) != AP_OK) {
		audit(ctx, on ? "task.enable" : "task.disable", t.name, "failed", &before, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	audit(ctx, on ? "task.enable" : "task.disable", t.name, "ok", &before, &t, NULL);
	if (!ctx->req->wants_json) {
		if (on)
			ap_ctx_flash(ctx, "ok", "The task %s is enabled.", t.name);
		else
			ap_ctx_flash(ctx, "ok", "The task %s is disabled.", t.name);
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/tasks/%lld", (long long)t.id));
	}
	return ap_ctx_answer(ctx, 200, ap_task_resource(&t));
}

int
ap_page_task_enable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, true);
}

int
ap_page_task_disable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, false);
}

int
ap_page_task_remove(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_task t;

	if (ap_task_get(&env, ctx->fields[AP_ID].i, &t, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_ctx_unconfirmed(ctx, "Remove the task %s and its history?", t.name))
		return 200;
	if (ap_task_remove(&env, &t, &pb) != AP_OK) {
		audit(ctx, "task.remove", t.name, "failed", &t, NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "task.remove", t.name, "ok", ap_ctx_json_text(ctx, ap_task_json(&t)),
	    "{\"removed\":true}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The task %s was removed.", t.name);
	return ap_ctx_back(ctx, "/tasks");
}
