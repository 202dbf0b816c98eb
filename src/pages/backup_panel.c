/*
 * backup_panel.c — the panel's own backup on the Backups screen and in the
 * API (docs/backups.md, "The panel itself"): its last successful backup and
 * age (the overview's "panel"), "Back up now" with an "include the secret
 * key" checkbox and its warning, and a restore of a panel snapshot into a
 * new folder (never over the running panel). Admins only (backups.admin):
 * the panel's database holds every account's password hash and second
 * factor, and with the secret key a backup can sign in as anyone.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/backups.h"
#include "aapanel/pages.h"

#define KEEP(n, d) { .name = n, .type = AP_FIELD_INT, .min = 0, .max = AP_BK_KEEP_MAX, .desc = d }
enum { PR_DEST, PR_SECRET, PR_KEEP_LAST, PR_KEEP_DAILY, PR_KEEP_WEEKLY, PR_KEEP_MONTHLY, PR__MAX };
const struct ap_field ap_backup_panel_run_fields[PR__MAX + 1] = {
	[PR_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name,
	    .desc = "the destination's name" },
	[PR_SECRET] = { .name = "secret", .type = AP_FIELD_BOOL,
	    .desc = "include the panel's secret key (whoever has the backup can then sign in as anyone)" },
	[PR_KEEP_LAST] = KEEP("keep_last", "retention after the backup: the last N snapshots"),
	[PR_KEEP_DAILY] = KEEP("keep_daily", "... the newest of the last N days"),
	[PR_KEEP_WEEKLY] = KEEP("keep_weekly", "... the newest of the last N weeks"),
	[PR_KEEP_MONTHLY] = KEEP("keep_monthly", "... the newest of the last N months"),
	[PR__MAX] = AP_FIELD_END,
};

enum { PS_DEST, PS_SNAPSHOT, PS_NEW_DIR, PS__MAX };
const struct ap_field ap_backup_panel_restore_fields[PS__MAX + 1] = {
	[PS_DEST] = { .name = "dest", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 32, .check = ap_check_backup_dest_name },
	[PS_SNAPSHOT] = { .name = "snapshot", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 6, .max = 64, .check = ap_check_backup_snapshot,
	    .desc = "a snapshot of the panel (tagged panel)" },
	[PS_NEW_DIR] = { .name = "new_dir", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = 64, .check = ap_check_backup_new_dir,
	    .desc = "a new folder in <backups.dir>/.panel-restores/ (never the running panel)" },
	[PS__MAX] = AP_FIELD_END,
};

static void
audit(struct ap_ctx *ctx, const char *action, const char *outcome, const struct ap_backup_run *r,
    const struct ap_problem *pb, bool secret)
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
	if (strcmp(action, "backup.run") == 0)
		json_object_object_add(a, "secret", json_object_new_boolean(secret));
	ap_ctx_audit(ctx, action, "panel", outcome, NULL, ap_ctx_json_text(ctx, a));
}

static int
started(struct ap_ctx *ctx, const char *action, struct ap_backup_run *r, bool secret)
{
	struct json_object *o;

	audit(ctx, action, strcmp(r->state, "running") == 0 ? "ok" : "failed", r, NULL, secret);
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "Started; this page follows its progress.");
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/backups/runs/%lld", (long long)r->id));
	}
	o = ap_page_backup_run_resource(r);
	return ap_ctx_answer(ctx, 201, o);
}

int
ap_page_backup_panel_start(struct ap_ctx *ctx)
{
	struct ap_sites_env env = ap_page_backup_env(ctx);
	const struct ap_fieldval *f = ctx->fields;
	bool secret = f[PR_SECRET].present && f[PR_SECRET].b;
	struct ap_backup_spec s = {
		.kind = "panel",
		.target = "panel",
		.dest = f[PR_DEST].s,
		.keep_last = f[PR_KEEP_LAST].present ? (int)f[PR_KEEP_LAST].i : 0,
		.keep_daily = f[PR_KEEP_DAILY].present ? (int)f[PR_KEEP_DAILY].i : 0,
		.keep_weekly = f[PR_KEEP_WEEKLY].present ? (int)f[PR_KEEP_WEEKLY].i : 0,
		.keep_monthly = f[PR_KEEP_MONTHLY].present ? (int)f[PR_KEEP_MONTHLY].i : 0,
	};
	struct ap_backup_run r;
	struct ap_problem pb;

	if (ap_backup_panel_start(&env, &s, secret, &r, &pb) != AP_OK) {
		audit(ctx, "backup.run", "failed", NULL, &pb, secret);
		return ap_page_backup_fail(ctx, &pb);
	}
	return started(ctx, "backup.run", &r, secret);
}

int
ap_page_backup_panel_restore(struct ap_ctx *ctx)
{
	struct ap_sites_env env = ap_page_backup_env(ctx);
	const struct ap_fieldval *f = ctx->fields;
	struct ap_backup_run r;
	struct ap_problem pb;

	if (ap_backup_panel_restore_start(&env, f[PS_DEST].s, f[PS_SNAPSHOT].s, f[PS_NEW_DIR].s, &r,
	    &pb) != AP_OK) {
		audit(ctx, "backup.restore", "failed", NULL, &pb, false);
		return ap_page_backup_fail(ctx, &pb);
	}
	return started(ctx, "backup.restore", &r, false);
}
