/*
 * twofactor.c — the signed-in user's two-factor authentication
 * (/account/2fa): enrolment with a QR code, turning it on with a first
 * code (ten recovery codes shown once), turning it off with the password
 * and a code. The secret and the codes never reach the log or the audit
 * trail.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/gate.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"

enum en_field { EN_CODE, EN__MAX };
const struct ap_field ap_2fa_enable_fields[EN__MAX + 1] = {
	[EN_CODE] = { .name = "code", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .min = 6, .max = 20 },
	[EN__MAX] = AP_FIELD_END,
};

enum rc_field { RC_PASSWORD, RC__MAX };
const struct ap_field ap_2fa_recovery_fields[RC__MAX + 1] = {
	[RC_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[RC__MAX] = AP_FIELD_END,
};

enum dis_field { DIS_PASSWORD, DIS_CODE, DIS__MAX };
const struct ap_field ap_2fa_disable_fields[DIS__MAX + 1] = {
	[DIS_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[DIS_CODE] = { .name = "code", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .min = 6, .max = 20 },
	[DIS__MAX] = AP_FIELD_END,
};

static const struct ap_prop twofa_props[] = {
	{ .name = "totp_enabled", .type = AP_J_BOOL },
	{ .name = "require_2fa", .type = AP_J_BOOL, .desc = "the panel requires two-factor of everyone" },
	{ .name = "recovery_left", .type = AP_J_INT, .flags = AP_J_OPT, .desc = "when on: unused recovery codes" },
	{ .name = "secret", .type = AP_J_STRING, .flags = AP_J_OPT,
	    .desc = "when off: the pending TOTP secret (base32) to enrol with" },
	{ .name = "otpauth_uri", .type = AP_J_STRING, .flags = AP_J_OPT,
	    .desc = "when off: the same as an otpauth:// URI (what the QR code holds)" },
	AP_PROP_END,
};
const struct ap_schema ap_twofa_schema = { .name = "TwoFactor",
	.desc = "the signed-in user's two-factor authentication", .props = twofa_props };

static const struct ap_prop codes_props[] = {
	{ .name = "codes", .type = AP_J_ARRAY, .items = AP_J_STRING, .flags = AP_J_SECRET,
	    .desc = "ten recovery codes, each good for one sign-in; only their hashes are kept" },
	AP_PROP_END,
};
const struct ap_schema ap_recovery_codes_schema = { .name = "RecoveryCodes", .props = codes_props };

/* The secret grouped by four for typing it into an app by hand (arena). */
static const char *
grouped(struct ap_arena *a, const char *s)
{
	struct ap_buf b = { 0 };
	const char *out;

	for (size_t i = 0; s[i]; i++) {
		if (i && i % 4 == 0)
			ap_buf_putc(&b, ' ');
		ap_buf_putc(&b, s[i]);
	}
	out = ap_arena_strdup(a, ap_buf_cstr(&b));
	if (b.data)
		explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	return out;
}

/* The enrolment part of the page: the secret, its QR code and otpauth URI. */
static int
add_enrolment(struct ap_ctx *ctx, const char *secret)
{
	char *uri = ap_totp_uri(ctx->app->cfg->panel_name, ctx->user->username, secret);
	char *svg = uri ? ap_qr_svg(uri) : NULL;
	int status = 200;

	if (svg == NULL) {
		AP_ERROR("two-factor: QR code failed");
		status = ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "QR code failed");
		goto out;
	}
	/* Our own SVG, built from our own URI, never from input. */
	ap_model_raw(ctx->model, "qr_svg", svg);
	ap_model_str(ctx->model, "secret", secret);
	ap_model_str(ctx->model, "secret_grouped", grouped(ctx->arena, secret));
	ap_model_str(ctx->model, "otpauth_uri", uri);
out:
	if (uri)
		explicit_bzero(uri, strlen(uri));
	free(uri);
	free(svg);
	return status;
}

/*
 * Fill the two-factor page. Enrolled: the disable form and how many
 * recovery codes are left. Not enrolled: the pending secret (a new one
 * when none is pending, or when fresh: right after turning it off), its QR
 * code and the code form. A reload keeps the secret a phone may already
 * have scanned.
 */
static int
twofa_model(struct ap_ctx *ctx, bool fresh)
{
	struct ap_totp_state ts;
	int status = 200;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Two-factor authentication");
	if ((rc = ap_user_totp_state(ctx->db, ctx->user->id, &ts)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc == AP_DB_ENOTFOUND ? AP_DB_EOTHER : rc);
	ap_model_add(ctx->model, "totp_enabled", json_object_new_boolean(ts.enabled));
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(ctx->app->require_2fa));
	if (ts.enabled) {
		ap_model_add(ctx->model, "recovery_left", json_object_new_int64(ts.recovery_left));
		goto out;
	}
	if ((ts.pending[0] == '\0' || fresh) &&
	    (rc = ap_user_totp_pending_new(ctx->db, ctx->user->id, ts.pending)) != AP_DB_OK) {
		status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	status = add_enrolment(ctx, ts.pending);
out:
	explicit_bzero(&ts, sizeof(ts));
	return status;
}

int
ap_page_account_2fa(struct ap_ctx *ctx)
{
	return twofa_model(ctx, false);
}

/* The codes as the page and the download link show them. */
static struct json_object *
recovery_json(char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
	struct ap_buf txt = { 0 }, uri = { 0 };

	ap_buf_puts(&txt, "aaPanel recovery codes (each works once)\n\n");
	for (int i = 0; i < AP_RECOVERY_CODES; i++) {
		json_object_array_add(arr, json_object_new_string(codes[i]));
		ap_buf_printf(&txt, "%s\n", codes[i]);
	}
	/* A data: link downloads them without keeping them on the server. */
	ap_buf_puts(&uri, "data:text/plain;charset=utf-8,");
	ap_url_encode(&uri, ap_buf_cstr(&txt));
	ap_model_add(o, "codes", arr);
	ap_model_str(o, "download", ap_buf_cstr(&uri));
	explicit_bzero(txt.data, txt.cap);
	explicit_bzero(uri.data, uri.cap);
	ap_buf_free(&txt);
	ap_buf_free(&uri);
	return o;
}

int
ap_page_account_2fa_enable(struct ap_ctx *ctx)
{
	char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1];
	struct json_object *arr;
	struct ap_problem pb;
	int status;
	enum ap_db_rc rc;

	rc = ap_user_totp_enable(ctx->db, ctx->app->cfg, ctx->user->id, ctx->fields[EN_CODE].s, time(NULL),
	    codes, &pb);
	if (rc == AP_DB_EINVAL) {
		if (pb.code == AP_PB_INVALID)
			ap_ctx_audit(ctx, "account.2fa.enable", ctx->user->username, "failed", NULL, NULL);
		return ap_ctx_problem(ctx, &pb);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if ((status = ap_ctx_rotate_session(ctx)) != 0)
		goto out;
	ctx->user->totp_enabled = true;
	ap_ctx_audit(ctx, "account.2fa.enable", ctx->user->username, "ok", NULL, NULL);
	/* Shown once: only their hashes are kept. */
	arr = recovery_json(codes);
	if (ctx->req->wants_json) {
		status = ap_ctx_answer(ctx, 200, arr);
		goto out;
	}
	ap_ctx_flash(ctx, "ok", "Two-factor authentication is on. Keep your recovery codes somewhere safe.");
	ap_ctx_flash_secret(ctx, "recovery_codes", arr);
	status = ap_ctx_back(ctx, "/account/2fa");
out:
	explicit_bzero(codes, sizeof(codes));
	return status;
}

int
ap_page_account_2fa_disable(struct ap_ctx *ctx)
{
	struct ap_signin res;
	int status;
	enum ap_db_rc rc;

	if (!ctx->user->totp_enabled)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "code", "two-factor authentication is already off");
	/* The password first: a wrong one must not use up a recovery code. */
	status = ap_ctx_confirm_password(ctx, "password", ctx->fields[DIS_PASSWORD].s, "is not your password");
	if (status != 0) {
		if (ctx->problem.code == AP_PB_INVALID)
			ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "failed", NULL,
			    "{\"reason\":\"wrong password\"}");
		return status;
	}
	rc = ap_signin_code(ctx->db, ctx->app->cfg, ctx->user->id, ctx->user->username,
	    ctx->fields[DIS_CODE].s, ctx->client_addr, time(NULL), &res);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (res.wait_s > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)res.wait_s));
		return ap_ctx_fail(ctx, AP_PB_THROTTLED, NULL,
		    "Too many failed attempts. Try again in %lld seconds.", (long long)res.wait_s);
	}
	if (!res.ok) {
		ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"wrong code\"}");
		return ap_ctx_fail(ctx, AP_PB_INVALID, "code", "is not valid");
	}
	if ((rc = ap_user_totp_disable(ctx->db, ctx->user->id, time(NULL))) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ctx->user->totp_enabled = false;
	ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "ok", NULL,
	    res.recovery ? "{\"second_factor\":\"recovery_code\"}" : "{\"second_factor\":\"totp\"}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "Two-factor authentication is off.");
	return ap_ctx_back(ctx, "/account/2fa");
}

int
ap_page_account_2fa_recovery(struct ap_ctx *ctx)
{
	char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1];
	struct json_object *arr;
	int status;
	enum ap_db_rc rc;

	if (!ctx->user->totp_enabled)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "password", "two-factor authentication is off");
	status = ap_ctx_confirm_password(ctx, "password", ctx->fields[RC_PASSWORD].s, "is not your password");
	if (status != 0)
		return status;
	rc = ap_user_recovery_regenerate(ctx->db, ctx->app->cfg, ctx->user->id, codes);
	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "password", "two-factor authentication is off");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "account.2fa.recovery", ctx->user->username, "ok", NULL, NULL);
	arr = recovery_json(codes);
	explicit_bzero(codes, sizeof(codes));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 200, arr);
	ap_ctx_flash(ctx, "ok", "New recovery codes were made; the old ones no longer work.");
	ap_ctx_flash_secret(ctx, "recovery_codes", arr);
	return ap_ctx_back(ctx, "/account/2fa");
}
