/*
 * backups.c — the Backups screens (backups.read to look, backups.write to
 * back up or cancel, backups.admin — admins only — for destinations and
 * restores; docs/backups.md): per site and database the last successful
 * backup and its age, the runs with a live progress bar, a backup now, a
 * restore of a run's snapshot in one click (confirmed); the destinations
 * with an add form (local folder, SFTP, S3) and remove. The data module
 * (src/data/backups.c) does the work through the helper's restic jobs;
 * every change is audited (never a password or key).
 *
 * Resources: BackupOverview {targets, runs, destinations}, BackupRun,
 * BackupDestination, BackupDestinationList.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/backups.h"
#include "aapanel/pages.h"

static const char *const bk_kinds[] = { "site", "database", NULL };
static const char *const bk_actions[] = { "backup", "restore", "check", NULL };
static const char *const bk_states[] = { "running", "done", "failed", "lost", NULL };
static const char *const bk_restore_to[] = { "inplace", "path", "database", NULL };
static const char *const dest_kinds[] = { "local", "sftp", "s3", NULL };

static const char *
check_target(const char *s, size_t n)
{
	if (n < 1 || n > 253)
		return "must be a site's domain or a database's name";
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
			s[i] == '-' || s[i] == '_'))
			return "must be a site's domain or a database's name";
	return NULL;
}

#define KEEP(n, d) { .name = n, .type = AP_FIELD_INT, .min = 0, .max = AP_BK_KEEP_MAX, .desc = d }
enum { BR_KIND, BR_TARGET, BR_DEST, BR_KEEP_LAST, BR_KEEP_DAILY, BR_KEEP_WEEKLY, BR_KEEP_MONTHLY,
	BR__MAX };
const struct ap_field ap_backup_run_fields[BR__MAX + 1] = {
	[BR_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = bk_kinds, .desc = "site (its files and linked databases) or database" },
	[BR_TARGET] = { .name = "target", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 253, .check = check_target,
	    .desc = "the site's domain or the database's name" },
	[BR_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name,
	    .desc = "the destination's name" },
	[BR_KEEP_LAST] = KEEP("keep_last", "retention after the backup: the last N snapshots"),
	[BR_KEEP_DAILY] = KEEP("keep_daily", "... the newest of the last N days"),
	[BR_KEEP_WEEKLY] = KEEP("keep_weekly", "... the newest of the last N weeks"),
	[BR_KEEP_MONTHLY] = KEEP("keep_monthly", "... the newest of the last N months"),
	[BR__MAX] = AP_FIELD_END,
};

enum { RS_DEST, RS_SNAPSHOT, RS_KIND, RS_TARGET, RS_TO, RS_NEW_DIR, RS_NEW_DATABASE, RS__MAX };
const struct ap_field ap_backup_restore_fields[RS__MAX + 1] = {
	[RS_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name },
	[RS_SNAPSHOT] = { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 6, .max = 64, .check = ap_check_backup_snapshot,
	    .desc = "the snapshot's id (8 to 64 hexadecimal digits)" },
	[RS_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = bk_kinds },
	[RS_TARGET] = { .name = "target", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 253, .check = check_target },
	[RS_TO] = { .name = "to", .type = AP_FIELD_ENUM, .choices = bk_restore_to,
	    .desc = "inplace (default: the current files go to the site's trash first), path (a new folder), database (another database)" },
	[RS_NEW_DIR] = { .name = "new_dir", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 64, .desc = "to path: a new folder in the site's home" },
	[RS_NEW_DATABASE] = { .name = "new_database", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 32, .desc = "to database: a database the panel manages on the same server" },
	[RS__MAX] = AP_FIELD_END,
};

enum { DA_NAME, DA_URL, DA_REGION, DA_ACCESS_KEY, DA_SECRET_KEY, DA_SSH_KEY, DA_KNOWN_HOSTS,
	DA_PASSWORD, DA__MAX };
const struct ap_field ap_backup_dest_add_fields[DA__MAX + 1] = {
	[DA_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name,
	    .desc = "a-z first, then a-z, 0-9, _ and -" },
	[DA_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = AP_BK_URL_MAX, .check = ap_check_backup_url,
	    .desc = "local:/PATH, sftp:USER@HOST:/PATH (sftp://USER@HOST:PORT/PATH) or s3:https://HOST/BUCKET[/PREFIX]" },
	[DA_REGION] = { .name = "region", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 32,
	    .desc = "S3: the region, when the endpoint wants one" },
	[DA_ACCESS_KEY] = { .name = "access_key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE |
	    AP_FIELD_SECRET, .max = 256, .desc = "S3: the access key id" },
	[DA_SECRET_KEY] = { .name = "secret_key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE |
	    AP_FIELD_SECRET, .max = 256, .desc = "S3: the secret access key" },
	[DA_SSH_KEY] = { .name = "ssh_key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SECRET,
	    .max = 16384, .desc = "SFTP: the private key (OpenSSH format) the server authorizes" },
	[DA_KNOWN_HOSTS] = { .name = "known_hosts", .type = AP_FIELD_TEXT, .max = 16384,
	    .desc = "SFTP: the server's host key line, as ssh-keyscan prints it" },
	[DA_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE |
	    AP_FIELD_SECRET, .max = 1024,
	    .desc = "an existing repository's password; empty: a new repository with a generated one" },
	[DA__MAX] = AP_FIELD_END,
};

enum { DN_NAME, DN__MAX };
const struct ap_field ap_backup_dest_name_fields[DN__MAX + 1] = {
	[DN_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name },
	[DN__MAX] = AP_FIELD_END,
};

static const struct ap_prop run_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "action", .type = AP_J_STRING, .choices = bk_actions },
	{ .name = "target_kind", .type = AP_J_STRING, .desc = "site, database, panel (the panel itself), or dest (a check)" },
	{ .name = "target", .type = AP_J_STRING, .desc = "the domain, the database or the destination" },
	{ .name = "dest", .type = AP_J_STRING },
	{ .name = "state", .type = AP_J_STRING, .choices = bk_states,
	    .desc = "lost: the helper restarted while it ran" },
	{ .name = "progress", .type = AP_J_INT, .desc = "0 to 100, from restic's JSON status lines" },
	{ .name = "snapshot", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the snapshot made or restored" },
	{ .name = "message", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why it failed" },
	{ .name = "started", .type = AP_J_TIME },
	{ .name = "ended", .type = AP_J_TIME, .flags = AP_J_NULL },
	AP_PROP_END,
};
const struct ap_schema ap_backup_run_schema = { .name = "BackupRun",
	.desc = "a backup, restore or check: a helper job running restic", .props = run_props };

static const struct ap_prop run_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &ap_backup_run_schema, .desc = "the last 100, newest first" },
	{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "always null: one page" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_run_list_schema = { .name = "BackupRunList",
	.desc = "the last backup, restore and check runs", .props = run_list_props };

static const struct ap_prop target_props[] = {
	{ .name = "kind", .type = AP_J_STRING, .choices = bk_kinds },
	{ .name = "target", .type = AP_J_STRING },
	{ .name = "last_ok", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when the last successful backup ended" },
	{ .name = "age", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds since then" },
	{ .name = "last_snapshot", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "last_dest", .type = AP_J_STRING, .flags = AP_J_NULL },
	AP_PROP_END,
};
static const struct ap_schema target_schema = { .name = "BackupTarget",
	.desc = "a site or database and its last successful backup", .props = target_props };

static const struct ap_prop dest_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "kind", .type = AP_J_STRING, .choices = dest_kinds },
	{ .name = "url", .type = AP_J_STRING, .desc = "no secret: keys and passwords stay with the helper" },
	{ .name = "created", .type = AP_J_TIME },
	AP_PROP_END,
};
const struct ap_schema ap_backup_dest_schema = { .name = "BackupDestination",
	.desc = "a restic repository the helper writes to", .props = dest_props };

static const struct ap_prop dest_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &ap_backup_dest_schema },
	{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "always null: one page" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_dest_list_schema = { .name = "BackupDestinationList",
	.desc = "every backup destination", .props = dest_list_props };

static const struct ap_prop panel_props[] = {
	{ .name = "last_ok", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when the last successful backup of the panel ended" },
	{ .name = "age", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds since then" },
	{ .name = "last_snapshot", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "last_dest", .type = AP_J_STRING, .flags = AP_J_NULL },
	AP_PROP_END,
};
const struct ap_schema ap_backup_panel_schema = { .name = "BackupPanel",
	.desc = "the panel itself (its database and configuration) and its last successful backup",
	.props = panel_props };

static const struct ap_prop overview_props[] = {
	{ .name = "targets", .type = AP_J_ARRAY, .of = &target_schema, .desc = "every site and database" },
	{ .name = "runs", .type = AP_J_ARRAY, .of = &ap_backup_run_schema, .desc = "the last 50, newest first" },
	{ .name = "destinations", .type = AP_J_ARRAY, .of = &ap_backup_dest_schema },
	{ .name = "panel", .type = AP_J_OBJECT, .of = &ap_backup_panel_schema },
	{ .name = "schedules", .type = AP_J_ARRAY, .of = &ap_backup_schedule_schema,
	    .desc = "the backup and backup_check tasks, whether each target's last backup is overdue" },
	AP_PROP_END,
};
const struct ap_schema ap_backup_overview_schema = { .name = "BackupOverview",
	.desc = "backups at a glance", .props = overview_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx, int wait_ms)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c, .job_wait_ms = wait_ms };

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
allowed(struct ap_ctx *ctx, const char *perm)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, perm) &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, perm));
}

static struct json_object *
run_resource(struct ap_ctx *ctx, const struct ap_backup_run *r)
{
	static const struct {
		const char *state, *label, *badge;
	} l[] = {
		{ "running", N_("Running"), "badge-warn" }, { "done", N_("Succeeded"), "badge-ok" },
		{ "failed", N_("Failed"), "badge-danger" }, { "lost", N_("Lost"), "badge-danger" },
	};
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(r->id));
	ap_model_str(o, "action", r->action);
	ap_model_str(o, "target_kind", r->target_kind);
	ap_model_str(o, "target", r->target);
	ap_model_str(o, "dest", r->dest);
	ap_model_str(o, "state", r->state);
	ap_model_add(o, "progress", json_object_new_int(r->progress));
	ap_model_opt(o, "snapshot", r->snapshot[0] ? r->snapshot : NULL);
	ap_model_opt(o, "message", r->message[0] ? r->message : NULL);
	ap_model_add(o, "started", ap_model_time(r->started_at));
	ap_model_add(o, "ended", ap_model_time(r->ended_at));
	if (ctx != NULL && !ctx->req->wants_json) {
		for (size_t i = 0; i < AP_NELEM(l); i++)
			if (strcmp(r->state, l[i].state) == 0) {
				ap_model_str(o, "state_label", ap_ctx_tr(ctx, l[i].label));
				ap_model_str(o, "state_badge", l[i].badge);
			}
		ap_model_add(o, "is_running", json_object_new_boolean(strcmp(r->state, "running") == 0));
		ap_model_add(o, "can_restore", json_object_new_boolean(strcmp(r->action, "backup") == 0 &&
		    strcmp(r->state, "done") == 0 && r->snapshot[0] != '\0'));
		ap_model_add(o, "is_site", json_object_new_boolean(strcmp(r->target_kind, "site") == 0));
		ap_model_add(o, "is_panel", json_object_new_boolean(strcmp(r->target_kind, "panel") == 0));
	}
	return o;
}

static struct json_object *
dest_resource(const struct ap_backup_dest *d)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "name", d->name);
	ap_model_str(o, "kind", d->kind);
	ap_model_str(o, "url", d->url);
	ap_model_add(o, "created", ap_model_time(d->created_at));
	return o;
}

/* ---------------------------------------------------------------- GET /backups */

struct ov {
	struct ap_ctx *ctx;
	struct ap_sites_env *env;
	struct json_object *arr;
};

static void
target_add(struct ov *v, const char *kind, const char *name)
{
	struct json_object *o = json_object_new_object();
	struct ap_backup_run r;
	bool ok = ap_backup_last_ok(v->env, kind, name, &r);
	int64_t now = (int64_t)time(NULL);

	ap_model_str(o, "kind", kind);
	ap_model_str(o, "target", name);
	ap_model_add(o, "last_ok", ok ? ap_model_time(r.ended_at) : NULL);
	ap_model_add(o, "age", ok && r.ended_at ? json_object_new_int64(now - r.ended_at) : NULL);
	ap_model_opt(o, "last_snapshot", ok && r.snapshot[0] ? r.snapshot : NULL);
	ap_model_opt(o, "last_dest", ok ? r.dest : NULL);
	if (!v->ctx->req->wants_json)
		ap_model_add(o, "is_site", json_object_new_boolean(strcmp(kind, "site") == 0));
	json_object_array_add(v->arr, o);
}

static bool
site_row(void *p, const struct ap_site *s)
{
	target_add(p, "site", s->spec.domain);
	return true;
}

static bool
run_row(void *p, const struct ap_backup_run *r)
{
	struct ov *v = p;

	json_object_array_add(v->arr, run_resource(v->ctx, r));
	return true;
}

static bool
dest_row(void *p, const struct ap_backup_dest *d)
{
	struct ov *v = p;

	json_object_array_add(v->arr, dest_resource(d));
	return true;
}

static bool
database_row(void *p, const char *name)
{
	target_add(p, "database", name);
	return true;
}

int
ap_page_backups(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct ov v = { .ctx = ctx, .env = &env };
	struct json_object *targets = json_object_new_array(), *runs = json_object_new_array();
	struct json_object *dests = json_object_new_array();
	struct ap_problem pb;

	ctx->title = ap_ctx_tr(ctx, "Backups");
	v.arr = targets;
	if (ap_site_each(&env, site_row, &v, &pb) != AP_OK)
		goto fail;
	if (ap_backup_database_names(&env, database_row, &v, &pb) != AP_OK)
		goto fail;
	v.arr = runs;
	if (ap_backup_runs(&env, NULL, NULL, 50, run_row, &v, &pb) != AP_OK)
		goto fail;
	v.arr = dests;
	if (ap_backup_dest_list(&env, dest_row, &v, &pb) != AP_OK)
		goto fail;
	ap_model_add(ctx->model, "targets", targets);
	ap_model_add(ctx->model, "runs", runs);
	ap_model_add(ctx->model, "destinations", dests);
	ap_model_add(ctx->model, "panel", ap_backup_panel_model(ctx, &env));
	ap_model_add(ctx->model, "schedules", ap_backup_schedules_model(ctx, &env, targets));
	/* a refused "back up" or "restore" (buttons with hidden fields): that form again */
	if (ctx->route != NULL)
		ap_ctx_form_again(ctx, ctx->route->pattern);
	if (!ctx->req->wants_json) {
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(allowed(ctx, "backups.write") &&
		    json_object_array_length(dests) > 0));
		ap_model_add(ctx->model, "can_admin", json_object_new_boolean(allowed(ctx, "backups.admin")));
		ap_model_add(ctx->model, "has_runs", json_object_new_boolean(json_object_array_length(runs) > 0));
		ap_model_add(ctx->model, "has_targets", json_object_new_boolean(json_object_array_length(targets) > 0));
		ap_model_add(ctx->model, "has_destinations", json_object_new_boolean(json_object_array_length(dests) > 0));
	}
	return 200;
fail:
	json_object_put(targets);
	json_object_put(runs);
	json_object_put(dests);
	return fail_pb(ctx, &pb);
}

/* ---------------------------------------------------------------- GET /backups/runs */

int
ap_page_backup_runs(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct ov v = { .ctx = ctx, .env = &env, .arr = json_object_new_array() };
	struct ap_problem pb;

	ctx->title = ap_ctx_tr(ctx, "Runs");
	if (ap_backup_runs(&env, NULL, NULL, 100, run_row, &v, &pb) != AP_OK) {
		json_object_put(v.arr);
		return fail_pb(ctx, &pb);
	}
	if (!ctx->req->wants_json)
		ap_model_add(ctx->model, "has_runs", json_object_new_boolean(json_object_array_length(v.arr) > 0));
	ap_model_add(ctx->model, "items", v.arr);
	ap_model_add(ctx->model, "next", NULL);
	return 200;
}

/* ---------------------------------------------------------------- GET /backups/runs/{id} */

int
ap_page_backup_run(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct ap_backup_run r;
	struct ap_problem pb;
	struct json_object *o;

	if (ap_backup_run_get(&env, ctx->fields[AP_ID].i, &r, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ap_backup_settle(&env, &r);
	ctx->title = ap_ctx_tr(ctx, "Backup run");
	o = run_resource(ctx, &r);
	if (ctx->req->wants_json) {
		json_object_object_foreach(o, k, val) {
			ap_model_add(ctx->model, k, json_object_get(val));
		}
		json_object_put(o);
		return 200;
	}
	ap_model_add(ctx->model, "run", o);
	ap_model_add(ctx->model, "can_write", json_object_new_boolean(allowed(ctx, "backups.write")));
	ap_model_add(ctx->model, "can_admin", json_object_new_boolean(allowed(ctx, "backups.admin")));
	return 200;
}

/* ---------------------------------------------------------------- changes */

static void
audit_run(struct ap_ctx *ctx, const char *action, const char *target, const char *outcome,
    const struct ap_backup_run *r, const struct ap_problem *pb)
{
	struct json_object *a;

	if (r != NULL)
		a = ap_backup_run_json(r);
	else {
		a = json_object_new_object();
		ap_model_str(a, "error", ap_pb_name(pb->code));
		ap_model_str(a, "field", pb->field);
		ap_model_str(a, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, target, outcome, NULL, ap_ctx_json_text(ctx, a));
}

static int
run_started(struct ap_ctx *ctx, const char *action, struct ap_backup_run *r)
{
	audit_run(ctx, action, r->target, strcmp(r->state, "running") == 0 ? "ok" : "failed", r,
	    NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "Started; this page follows its progress.");
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/backups/runs/%lld", (long long)r->id));
	}
	return ap_ctx_answer(ctx, 201, run_resource(NULL, r));
}

int
ap_page_backup_start(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_backup_spec s = {
		.kind = bk_kinds[f[BR_KIND].i],
		.target = f[BR_TARGET].s,
		.dest = f[BR_DEST].s,
		.keep_last = f[BR_KEEP_LAST].present ? (int)f[BR_KEEP_LAST].i : 0,
		.keep_daily = f[BR_KEEP_DAILY].present ? (int)f[BR_KEEP_DAILY].i : 0,
		.keep_weekly = f[BR_KEEP_WEEKLY].present ? (int)f[BR_KEEP_WEEKLY].i : 0,
		.keep_monthly = f[BR_KEEP_MONTHLY].present ? (int)f[BR_KEEP_MONTHLY].i : 0,
	};
	struct ap_backup_run r;
	struct ap_problem pb;

	if (ap_backup_start(&env, &s, &r, &pb) != AP_OK) {
		audit_run(ctx, "backup.run", s.target, "failed", NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	return run_started(ctx, "backup.run", &r);
}

int
ap_page_backup_restore(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_restore_spec s = {
		.dest = f[RS_DEST].s,
		.snapshot = f[RS_SNAPSHOT].s,
		.kind = bk_kinds[f[RS_KIND].i],
		.target = f[RS_TARGET].s,
		.to = f[RS_TO].present ? bk_restore_to[f[RS_TO].i] : "inplace",
		.new_dir = f[RS_NEW_DIR].present ? f[RS_NEW_DIR].s : NULL,
		.new_database = f[RS_NEW_DATABASE].present ? f[RS_NEW_DATABASE].s : NULL,
	};
	struct ap_backup_run r;
	struct ap_problem pb;

	if (strcmp(s.to, "inplace") == 0 && ap_ctx_unconfirmed(ctx,
	    "Restore %s from snapshot %s? Its current files go to its trash and its databases are overwritten.",
	    s.target, s.snapshot))
		return 200;
	if (ap_backup_restore_start(&env, &s, &r, &pb) != AP_OK) {
		audit_run(ctx, "backup.restore", s.target, "failed", NULL, &pb);
		return fail_pb(ctx, &pb);
	}
	return run_started(ctx, "backup.restore", &r);
}

int
ap_page_backup_cancel(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct ap_backup_run r;
	struct ap_problem pb;

	if (ap_backup_run_get(&env, ctx->fields[AP_ID].i, &r, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ap_backup_settle(&env, &r);
	if (ap_backup_cancel(&env, &r, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	audit_run(ctx, "backup.cancel", r.target, "ok", &r, NULL);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "Cancelled.");
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/backups/runs/%lld", (long long)r.id));
	}
	return ap_ctx_answer(ctx, 200, run_resource(NULL, &r));
}

/* ---------------------------------------------------------------- destinations */

struct dl {
	struct json_object *arr;
};

static bool
dl_row(void *p, const struct ap_backup_dest *d)
{
	struct dl *l = p;

	json_object_array_add(l->arr, dest_resource(d));
	return true;
}

int
ap_page_backup_dests(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct dl l = { .arr = json_object_new_array() };
	struct ap_problem pb;

	ctx->title = ap_ctx_tr(ctx, "Backup destinations");
	if (ap_backup_dest_list(&env, dl_row, &l, &pb) != AP_OK) {
		json_object_put(l.arr);
		return fail_pb(ctx, &pb);
	}
	if (!ctx->req->wants_json) {
		ap_model_add(ctx->model, "has_items", json_object_new_boolean(json_object_array_length(l.arr) > 0));
		ap_model_add(ctx->model, "can_admin", json_object_new_boolean(allowed(ctx, "backups.admin")));
		if (ctx->form_again) {
			static const char *const kept[] = { "name", "url", "region", "known_hosts" };

			for (size_t i = 0; i < AP_NELEM(kept); i++) {
				const char *v = ap_ctx_kept(ctx, kept[i]);

				if (v != NULL)
					ap_model_str(ctx->model, ap_arena_printf(ctx->arena, "kept_%s", kept[i]), v);
			}
		}
	}
	ap_model_add(ctx->model, "items", l.arr);
	ap_model_add(ctx->model, "next", NULL);
	return 200;
}

static const char *
opt(const struct ap_fieldval *v)
{
	return v->present && v->len > 0 ? v->s : NULL;
}

int
ap_page_backup_dest_add(struct ap_ctx *ctx)
{
	/* Opening or creating a remote repository can take a while: wait up to 20 s. */
	struct ap_sites_env env = env_of(ctx, 20000);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_backup_dest_spec s = {
		.name = f[DA_NAME].s, .url = f[DA_URL].s, .region = opt(&f[DA_REGION]),
		.access_key = opt(&f[DA_ACCESS_KEY]), .secret_key = opt(&f[DA_SECRET_KEY]),
		.ssh_key = opt(&f[DA_SSH_KEY]), .known_hosts = opt(&f[DA_KNOWN_HOSTS]),
		.password = opt(&f[DA_PASSWORD]),
	};
	struct ap_backup_dest d;
	struct ap_problem pb;
	struct json_object *a;

	if (ap_backup_dest_add(&env, &s, &d, &pb) != AP_OK) {
		a = json_object_new_object();
		ap_model_str(a, "url", s.url);
		ap_model_str(a, "error", ap_pb_name(pb.code));
		ap_model_str(a, "reason", pb.reason);
		ap_ctx_audit(ctx, "backup_dest.add", s.name, "failed", NULL, ap_ctx_json_text(ctx, a));
		return fail_pb(ctx, &pb);
	}
	ap_ctx_audit(ctx, "backup_dest.add", d.name, "ok", NULL,
	    ap_ctx_json_text(ctx, ap_backup_dest_json(&d)));
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The destination %s is ready.", d.name);
		return ap_ctx_back(ctx, "/backup-destinations");
	}
	return ap_ctx_answer(ctx, 201, dest_resource(&d));
}

int
ap_page_backup_dest_remove(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx, 5000);
	struct ap_backup_dest d;
	struct ap_problem pb;

	if (ap_backup_dest_find(&env, ctx->fields[DN_NAME].s, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_ctx_unconfirmed(ctx, "Remove the destination %s? Its repository stays where it is, but the panel forgets its password.", d.name))
		return 200;
	if (ap_backup_dest_remove(&env, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	ap_ctx_audit(ctx, "backup_dest.remove", d.name, "ok",
	    ap_ctx_json_text(ctx, ap_backup_dest_json(&d)), "{\"removed\":true}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The destination %s was removed.", d.name);
	return ap_ctx_back(ctx, "/backup-destinations");
}

/* ---------------------------------------------------------------- for backup_panel.c */

struct ap_sites_env
ap_page_backup_env(struct ap_ctx *ctx)
{
	return env_of(ctx, 5000);
}

int
ap_page_backup_fail(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	return fail_pb(ctx, pb);
}

struct json_object *
ap_page_backup_run_resource(const struct ap_backup_run *r)
{
	return run_resource(NULL, r);
}

/* The panel itself: its last successful backup (GET /backups' "panel"). */
struct json_object *
ap_backup_panel_model(struct ap_ctx *ctx, const struct ap_sites_env *env)
{
	struct json_object *o = json_object_new_object();
	struct ap_backup_run r;
	bool ok = ap_backup_last_ok(env, "panel", "panel", &r);
	int64_t now = (int64_t)time(NULL);

	(void)ctx;
	ap_model_add(o, "last_ok", ok ? ap_model_time(r.ended_at) : NULL);
	ap_model_add(o, "age", ok && r.ended_at ? json_object_new_int64(now - r.ended_at) : NULL);
	ap_model_opt(o, "last_snapshot", ok && r.snapshot[0] ? r.snapshot : NULL);
	ap_model_opt(o, "last_dest", ok ? r.dest : NULL);
	return o;
}

