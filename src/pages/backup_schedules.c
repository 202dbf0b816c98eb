/*
 * backup_schedules.c — backups on a schedule (docs/backups.md, "Schedules"):
 * the tasks page's two backup forms (a site or a database to a destination
 * with its retention; an integrity check of a destination, weekly by
 * default), which post to POST /tasks with kind backup or backup_check, and
 * the backups page's schedules: each backup task with its interval, its next
 * run and whether the last successful backup is overdue (older than the
 * schedule's interval plus backups.alert_margin, as the backup_age alert
 * without a threshold judges it).
 *
 * Resource: BackupSchedule (in BackupOverview's "schedules").
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/backups.h"
#include "aapanel/pages.h"
#include "aapanel/tasks.h"

static const char *const sched_kinds[] = { "backup", "backup_check", NULL };

static const struct ap_prop sched_props[] = {
	{ .name = "task", .type = AP_J_INT, .desc = "the scheduled task's id (/tasks/{id})" },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "kind", .type = AP_J_STRING, .choices = sched_kinds },
	{ .name = "target_kind", .type = AP_J_STRING, .desc = "site, database, or dest (a check)" },
	{ .name = "target", .type = AP_J_STRING },
	{ .name = "dest", .type = AP_J_STRING },
	{ .name = "schedule", .type = AP_J_STRING, .desc = "5-field cron syntax" },
	{ .name = "enabled", .type = AP_J_BOOL },
	{ .name = "next_run", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "interval", .type = AP_J_INT, .desc = "seconds: the longest gap between two runs of the schedule" },
	{ .name = "last_ok", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "kind backup: the target's last successful backup" },
	{ .name = "due_by", .type = AP_J_TIME, .flags = AP_J_NULL,
	    .desc = "kind backup: the last backup (or the task's creation) plus interval plus backups.alert_margin" },
	{ .name = "overdue", .type = AP_J_BOOL, .desc = "kind backup, enabled: due_by has passed (the backup_age alert fires)" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_schedule_schema = { .name = "BackupSchedule",
	.desc = "a backup or integrity check on a schedule", .props = sched_props };

/* ---------------------------------------------------------------- the tasks page's forms */

struct names {
	struct json_object *arr;
	const char *selected;
};

static bool
dest_name(void *p, const struct ap_backup_dest *d)
{
	struct names *n = p;
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "name", d->name);
	if (n->selected != NULL && strcmp(n->selected, d->name) == 0)
		ap_model_add(o, "selected", json_object_new_boolean(true));
	json_object_array_add(n->arr, o);
	return true;
}

void
ap_task_backup_form_model(struct ap_ctx *ctx, const struct ap_sites_env *env, const char *site,
    const char *database)
{
	static const char *const kept[] = { "site", "database", "keep_last", "keep_daily", "keep_weekly",
		"keep_monthly", "subset" };
	struct names n = { json_object_new_array(), NULL };
	struct ap_problem pb;
	const char *kind = ctx->form_again ? ap_ctx_kept(ctx, "kind") : NULL;
	bool may = ctx->user != NULL && ap_role_allows(ctx->user->role, "backups.write") &&
	    ap_role_allows(ctx->user->role, "cron.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "backups.write"));

	if (ctx->form_again)
		n.selected = ap_ctx_kept(ctx, "dest");
	ap_backup_dest_list(env, dest_name, &n, &pb);
	ap_model_add(ctx->model, "bk_destinations", n.arr);
	ap_model_add(ctx->model, "can_schedule_backups", json_object_new_boolean(may &&
	    json_object_array_length(n.arr) > 0));
	if (site != NULL)
		ap_model_str(ctx->model, "bk_site", site);
	if (database != NULL)
		ap_model_str(ctx->model, "bk_database", database);
	if (kind != NULL && ap_task_kind_backup(kind)) {
		/* a refused backup schedule: its own form again, with what was typed */
		ap_model_add(ctx->model, strcmp(kind, "backup") == 0 ? "bk_again" : "bkc_again",
		    json_object_new_boolean(true));
		for (size_t i = 0; i < AP_NELEM(kept); i++) {
			const char *v = ap_ctx_kept(ctx, kept[i]);

			if (v != NULL)
				ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "bk_%s", kept[i]), v);
		}
		if (ap_ctx_kept(ctx, "name") != NULL)
			ap_model_str(ctx->model, "bk_name", ap_ctx_kept(ctx, "name"));
		if (ap_ctx_kept(ctx, "schedule") != NULL)
			ap_model_str(ctx->model, "bk_schedule", ap_ctx_kept(ctx, "schedule"));
	}
}

/* ---------------------------------------------------------------- the backups page's schedules */

struct sc {
	struct ap_ctx *ctx;
	const struct ap_sites_env *env;
	struct json_object *arr;
	int64_t now, last;
};

static bool
sched_row(void *p, const struct ap_task *t)
{
	struct sc *c = p;
	struct json_object *o;
	struct ap_backup_run r;
	bool bk = strcmp(t->kind, "backup") == 0, ok = false;
	int64_t iv, due = 0;
	time_t next[1];

	c->last = t->id;
	if (!ap_task_kind_backup(t->kind))
		return true;
	iv = ap_task_schedule_interval(t->schedule, (time_t)c->now);
	ap_task_next_runs(t->schedule, (time_t)c->now, next, 1);
	if (bk) {
		ok = ap_backup_last_ok(c->env, t->bk.target_kind, t->bk.target, &r);
		if (iv > 0)
			due = (ok && r.ended_at ? r.ended_at : t->created_at) + iv + c->env->cfg->backups_alert_margin;
	}
	o = json_object_new_object();
	ap_model_add(o, "task", json_object_new_int64(t->id));
	ap_model_str(o, "name", t->name);
	ap_model_str(o, "kind", t->kind);
	ap_model_str(o, "target_kind", t->bk.target_kind);
	ap_model_str(o, "target", t->bk.target);
	ap_model_str(o, "dest", t->bk.dest);
	ap_model_str(o, "schedule", t->schedule);
	ap_model_add(o, "enabled", json_object_new_boolean(t->enabled));
	ap_model_add(o, "next_run", t->enabled && next[0] > 0 ? ap_model_time(next[0]) : NULL);
	ap_model_add(o, "interval", json_object_new_int64(iv));
	ap_model_add(o, "last_ok", ok ? ap_model_time(r.ended_at) : NULL);
	ap_model_add(o, "due_by", due > 0 ? ap_model_time(due) : NULL);
	ap_model_add(o, "overdue", json_object_new_boolean(bk && t->enabled && due > 0 && c->now > due));
	if (!c->ctx->req->wants_json)
		ap_model_add(o, "is_check", json_object_new_boolean(!bk));
	json_object_array_add(c->arr, o);
	return true;
}

static bool
same_target(struct json_object *s, const char *kind, const char *target)
{
	struct json_object *k, *t;

	return json_object_object_get_ex(s, "target_kind", &k) && json_object_object_get_ex(s, "target", &t) &&
	    strcmp(json_object_get_string(k), kind) == 0 && strcmp(json_object_get_string(t), target) == 0;
}

struct json_object *
ap_backup_schedules_model(struct ap_ctx *ctx, const struct ap_sites_env *env, struct json_object *targets)
{
	struct sc c = { ctx, env, json_object_new_array(), (int64_t)time(NULL), 0 };
	struct ap_problem pb;
	bool more = true;

	/* keyset pages after the last task seen (every task, not only backups) */
	while (more && ap_task_page(env, c.last, 500, sched_row, &c, &more, &pb) == AP_OK)
		;
	if (!ctx->req->wants_json && targets != NULL) {
		/* every site and database, its schedules beside it, for the page's table */
		struct json_object *rows = json_object_new_array(), *checks = json_object_new_array();

		for (size_t i = 0; i < json_object_array_length(targets); i++) {
			struct json_object *t = json_object_array_get_idx(targets, i), *k, *n, *row, *list;
			bool overdue = false;
			const char *kind, *name;

			if (!json_object_object_get_ex(t, "kind", &k) || !json_object_object_get_ex(t, "target", &n))
				continue;
			kind = json_object_get_string(k);
			name = json_object_get_string(n);
			row = json_object_new_object();
			list = json_object_new_array();
			ap_model_str(row, "kind", kind);
			ap_model_str(row, "target", name);
			ap_model_add(row, "is_site", json_object_new_boolean(strcmp(kind, "site") == 0));
			for (size_t j = 0; j < json_object_array_length(c.arr); j++) {
				struct json_object *s = json_object_array_get_idx(c.arr, j), *od;

				if (!same_target(s, kind, name))
					continue;
				if (json_object_object_get_ex(s, "overdue", &od) && json_object_get_boolean(od))
					overdue = true;
				json_object_array_add(list, json_object_get(s));
			}
			ap_model_add(row, "has_schedules", json_object_new_boolean(json_object_array_length(list) > 0));
			ap_model_add(row, "schedules", list);
			ap_model_add(row, "overdue", json_object_new_boolean(overdue));
			json_object_array_add(rows, row);
		}
		for (size_t j = 0; j < json_object_array_length(c.arr); j++) {
			struct json_object *s = json_object_array_get_idx(c.arr, j), *ic;

			if (json_object_object_get_ex(s, "is_check", &ic) && json_object_get_boolean(ic))
				json_object_array_add(checks, json_object_get(s));
		}
		ap_model_add(ctx->model, "schedule_rows", rows);
		ap_model_add(ctx->model, "has_schedule_rows", json_object_new_boolean(json_object_array_length(rows) > 0));
		ap_model_add(ctx->model, "check_schedules", checks);
		ap_model_add(ctx->model, "has_check_schedules", json_object_new_boolean(json_object_array_length(checks) > 0));
		ap_model_add(ctx->model, "can_schedule", json_object_new_boolean(ctx->user != NULL &&
		    ap_role_allows(ctx->user->role, "backups.write") && ap_role_allows(ctx->user->role, "cron.write")));
	}
	return c.arr;
}
