/*
 * settings.c — GET /settings and its forms. For now the security section:
 * "require two-factor authentication for every user"
 * (AP_SETTING_REQUIRE_2FA), enforced by the gate through
 * ctx->app->require_2fa, which every worker reloads every few seconds.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/settings.h"
#include "aapanel/users.h"
#include "aapanel/pages.h"

/* The settings page model, read from the table (not the worker's cached copy). */
static int
settings_model(struct ap_ctx *ctx, struct ap_db *db, bool *require_2fa)
{
	int64_t without = 0;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Settings");
	if ((rc = ap_setting_get_bool(db, AP_SETTING_REQUIRE_2FA, require_2fa)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if ((rc = ap_user_count_without_2fa(db, &without)) != AP_DB_OK)
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
	if ((rc = ap_setting_get_bool(db, AP_SETTING_REQUIRE_2FA, &before)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
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
	if ((rc = ap_setting_set(db, AP_SETTING_REQUIRE_2FA, want ? "1" : "0")) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ctx->app->require_2fa = want;
	ap_ctx_audit(ctx, "settings.security", AP_SETTING_REQUIRE_2FA, "ok",
	    before ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}",
	    want ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}");
	status = settings_model(ctx, db, &before);
	if (status == 200)
		json_object_object_add(ctx->model, "message",
		    json_object_new_string(ap_ctx_tr(ctx, "The settings were saved.")));
	return status;
}
