/*
 * settings.c — GET /settings and its forms. For now the security section:
 * "require two-factor authentication for every user"
 * (AP_SETTING_REQUIRE_2FA), enforced by the gate through
 * ctx->app->require_2fa, which every worker reloads every few seconds.
 */
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/pages.h"
#include "aapanel/settings.h"
#include "aapanel/users.h"

enum sec_field { SEC_REQUIRE_2FA, SEC__MAX };
const struct ap_field ap_settings_security_fields[SEC__MAX + 1] = {
	[SEC_REQUIRE_2FA] = { .name = "require_2fa", .type = AP_FIELD_BOOL },
	[SEC__MAX] = AP_FIELD_END,
};

static const struct ap_prop settings_props[] = {
	{ .name = "require_2fa", .type = AP_J_BOOL,
	    .desc = "every user must use two-factor authentication (until they do, only their account page)" },
	{ .name = "users_without_2fa", .type = AP_J_INT, .desc = "enabled users who have not turned it on" },
	AP_PROP_END,
};
const struct ap_schema ap_settings_schema = { .name = "Settings", .props = settings_props };

/* The settings, read from the table (not the worker's cached copy). */
static int
settings_model(struct ap_ctx *ctx)
{
	int64_t without = 0;
	bool on;
	enum ap_db_rc rc;

	if ((rc = ap_setting_get_bool(ctx->db, AP_SETTING_REQUIRE_2FA, &on)) != AP_DB_OK ||
	    (rc = ap_user_count_without_2fa(ctx->db, &without)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(on));
	ap_model_add(ctx->model, "users_without_2fa", json_object_new_int64(without));
	return 200;
}

int
ap_page_settings(struct ap_ctx *ctx)
{
	ctx->title = ap_ctx_tr(ctx, "Settings");
	ap_model_add(ctx->model, "can_write",
	    json_object_new_boolean(ap_role_allows(ctx->user->role, "settings.write")));
	return settings_model(ctx);
}

int
ap_page_settings_security(struct ap_ctx *ctx)
{
	bool want = ctx->fields[SEC_REQUIRE_2FA].b, before = false;
	enum ap_db_rc rc;

	if ((rc = ap_setting_get_bool(ctx->db, AP_SETTING_REQUIRE_2FA, &before)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Turning it on first needs two-factor on the admin's own account, or
	 * they would shut themself out of every page but their account. */
	if (want && !before && !ctx->user->totp_enabled)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "require_2fa",
		    "turn on two-factor authentication for your own account first");
	if ((rc = ap_setting_set(ctx->db, AP_SETTING_REQUIRE_2FA, want ? "1" : "0")) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ctx->app->require_2fa = want;
	ap_ctx_audit(ctx, "settings.security", AP_SETTING_REQUIRE_2FA, "ok",
	    before ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}",
	    want ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}");
	if (ctx->req->wants_json)
		return settings_model(ctx);
	ap_ctx_flash(ctx, "ok", "The settings were saved.");
	return ap_ctx_back(ctx, "/settings");
}
