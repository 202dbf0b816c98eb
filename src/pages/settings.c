/*
 * settings.c — panel settings kept in the settings table (name → value).
 * For now the security section: "require two-factor authentication for
 * every user" (security.require_2fa, '1' or '0'), enforced by the gate
 * through ctx->app->require_2fa, which every worker reloads at most every
 * SETTINGS_REFRESH_S seconds (ap_settings_refresh).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "pages.h"

#define SETTING_REQUIRE_2FA "security.require_2fa"
#define SETTINGS_REFRESH_S 10

/* The value of setting name into out ("" when there is no row). */
static enum ap_db_rc
setting_get(struct ap_db *db, const char *name, char *out, size_t outlen)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	out[0] = '\0';
	rc = ap_db_prepare(db, "SELECT value FROM settings WHERE name = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *v = ap_db_col_text(st, 0, NULL);

		snprintf(out, outlen, "%s", v ? v : "");
	}
	ap_db_finalize(st);
	return rc == AP_DB_ROW || rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/*
 * Upsert portably on every backend: UPDATE, and INSERT when no row
 * changed. MariaDB counts a row whose value did not change as unchanged,
 * so the INSERT may then meet the existing row: that is success too.
 */
static enum ap_db_rc
setting_set(struct ap_db *db, const char *name, const char *value)
{
	struct ap_db_stmt *st = NULL;
	int64_t now = time(NULL), changed = 0;
	enum ap_db_rc rc;

	rc = ap_db_prepare(db, "UPDATE settings SET value = ?, updated_at = ? WHERE name = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, value, -1);
	ap_db_bind_int64(st, 2, now);
	ap_db_bind_text(st, 3, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		changed = ap_db_changes(st);
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_DONE)
		return rc;
	if (changed > 0)
		return AP_DB_OK;
	rc = ap_db_prepare(db, "INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, name, -1);
	ap_db_bind_text(st, 2, value, -1);
	ap_db_bind_int64(st, 3, now);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc == AP_DB_DONE || rc == AP_DB_ECONSTRAINT)
		return AP_DB_OK;
	return rc;
}

void
ap_settings_refresh(struct ap_ctx *ctx)
{
	static uint64_t next_ms; /* per worker: each is its own process */
	uint64_t now = ap_now_ms();
	struct ap_db *db;
	char v[8];

	if (next_ms != 0 && now < next_ms)
		return;
	/* Counted from the attempt, so a failing database is not asked on every request. */
	next_ms = now + SETTINGS_REFRESH_S * 1000;
	if ((db = ap_ctx_db(ctx)) == NULL)
		return; /* keep the last known value */
	if (setting_get(db, SETTING_REQUIRE_2FA, v, sizeof(v)) != AP_DB_OK) {
		AP_WARN("settings: cannot read %s: %s", SETTING_REQUIRE_2FA, ap_db_errmsg(db));
		return;
	}
	ctx->app->require_2fa = strcmp(v, "1") == 0;
}

/* The settings page model, read from the table (not the worker's cached copy). */
static int
settings_model(struct ap_ctx *ctx, struct ap_db *db, bool *require_2fa)
{
	char v[8];
	int64_t without = 0;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Settings");
	if ((rc = setting_get(db, SETTING_REQUIRE_2FA, v, sizeof(v))) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	*require_2fa = strcmp(v, "1") == 0;
	rc = ap_db_query_int64(db, "SELECT COUNT(*) FROM users WHERE totp_enabled = 0 AND disabled = 0",
	    &without);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(*require_2fa));
	ap_model_add(ctx->model, "users_without_2fa", json_object_new_int64(without));
	ap_model_add(ctx->model, "can_write",
	    json_object_new_boolean(ap_role_allows(ctx->user->role, "settings.write")));
	return 200;
}

int
ap_page_settings(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);
	bool on;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	return settings_model(ctx, db, &on);
}

int
ap_page_settings_security(struct ap_ctx *ctx)
{
	bool want = ap_ctx_field(ctx, "require_2fa")->b;
	struct ap_db *db = ap_ctx_db(ctx);
	bool before = false;
	int status;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	{
		char v[8];

		if ((rc = setting_get(db, SETTING_REQUIRE_2FA, v, sizeof(v))) != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		before = strcmp(v, "1") == 0;
	}
	/* Turning it on first needs two-factor on the admin's own account, or
	 * they would shut themself out of every page but their account. */
	if (want && !before && !ctx->user->totp_enabled) {
		ap_ctx_bad_field(ctx, "require_2fa",
		    "turn on two-factor authentication for your own account first");
		if (ctx->req->wants_json)
			return 400;
		status = settings_model(ctx, db, &before);
		if (status != 200)
			return status;
		json_object_object_add(ctx->model, "error", json_object_new_string(ap_ctx_tr(ctx,
		    "turn on two-factor authentication for your own account first")));
		ctx->model_is_body = true;
		return 400;
	}
	if ((rc = setting_set(db, SETTING_REQUIRE_2FA, want ? "1" : "0")) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ctx->app->require_2fa = want;
	ap_ctx_audit(ctx, "settings.security", SETTING_REQUIRE_2FA, "ok",
	    before ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}",
	    want ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}");
	status = settings_model(ctx, db, &before);
	if (status == 200)
		json_object_object_add(ctx->model, "message",
		    json_object_new_string(ap_ctx_tr(ctx, "The settings were saved.")));
	return status;
}
