/*
 * login.c — sign in (password, then the TOTP or a recovery code when
 * two-factor is on), sign out.
 *
 * The login form carries its own CSRF token before any session exists: a
 * random value in an HttpOnly SameSite=Strict cookie and the same value in
 * the form (double submit), so another site cannot sign a victim into an
 * account of its choosing.
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/password.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"
#include "aapanel/gate.h"
#include "aapanel/pages.h"

#define LOGIN_COOKIE "aapanel_login"
#define GENERIC_FAILURE "Invalid username or password."

/* Only a local path of this panel: no scheme, no //host, no backslashes. */
static const char *
safe_next(struct ap_ctx *ctx)
{
	const struct ap_fieldval *n = ap_ctx_field(ctx, "next");
	const char *b = ap_ctx_base(ctx);

	if (n && n->present && n->s[0] == '/' && n->s[1] != '/' && n->s[1] != '\\' &&
	    strchr(n->s, '\\') == NULL && strncmp(n->s, b, strlen(b)) == 0 &&
	    strstr(n->s, "/login") == NULL)
		return n->s;
	return ap_arena_printf(ctx->arena, "%s/", b);
}

static void
login_cookie(struct ap_ctx *ctx, const char *value)
{
	bool secure = ctx->req->https || ctx->app->cfg->profile == AP_PROFILE_PRODUCTION;

	ap_ctx_header(ctx, "Set-Cookie",
	    ap_arena_printf(ctx->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", LOGIN_COOKIE,
		value ? value : "", value ? "" : "; Max-Age=0", secure ? "; Secure" : ""));
}

/* The form: a fresh double-submit token unless the browser already has one. */
static void
form_model(struct ap_ctx *ctx, const char *error)
{
	const char *tok = ap_req_cookie(ctx->req, LOGIN_COOKIE);
	const struct ap_fieldval *n = ap_ctx_field(ctx, "next");
	const struct ap_fieldval *u = ap_ctx_field(ctx, "username");
	char fresh[65];

	if (tok == NULL || strlen(tok) != 64) {
		ap_random_hex(fresh, 32);
		tok = ap_arena_strdup(ctx->arena, fresh);
		login_cookie(ctx, tok);
	}
	ctx->title = ap_ctx_tr(ctx, "Sign in");
	ap_model_add(ctx->model, "login_csrf", json_object_new_string(tok));
	if (n && n->present)
		ap_model_add(ctx->model, "next", json_object_new_string(n->s));
	if (u && u->present)
		ap_model_add(ctx->model, "username", json_object_new_string(u->s));
	if (error)
		ap_model_add(ctx->model, "error", json_object_new_string(ap_ctx_tr(ctx, error)));
}

int
ap_page_login_form(struct ap_ctx *ctx)
{
	if (ctx->user != NULL)
		return ap_ctx_redirect(ctx, 303, safe_next(ctx));
	form_model(ctx, NULL);
	return 200;
}

/* Answer a failed attempt with the form again, same words whatever went wrong. */
static int
refuse(struct ap_ctx *ctx, int status, const char *msg)
{
	form_model(ctx, msg);
	ctx->model_is_body = true;
	snprintf(ctx->err.reason, sizeof(ctx->err.reason), "%s", msg);
	return status;
}

int
ap_page_login(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *user = ap_ctx_field(ctx, "username")->s;
	const char *pw = ap_ctx_field(ctx, "password")->s;
	const char *cookie_tok = ap_req_cookie(ctx->req, LOGIN_COOKIE);
	const char *form_tok = ap_req_form(ctx->req, "csrf");
	struct ap_user_row row;
	struct ap_pw_params prm;
	struct ap_session s;
	struct ap_db *db;
	char *hash = NULL, cookie[AP_SESSION_ID_HEX + 1];
	time_t now = time(NULL);
	int64_t wait = 0;
	bool ok = false, rehash = false;
	enum ap_db_rc rc;

	if (cookie_tok == NULL || form_tok == NULL || strlen(cookie_tok) != 64 ||
	    !ap_ct_streq(cookie_tok, form_tok))
		return refuse(ctx, 403, "Your sign-in form expired. Please try again.");
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_login_throttle(db, cfg, user, ctx->client_addr, now, &wait);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (wait > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)wait));
		ap_ctx_audit(ctx, "login", user, "denied", NULL, "{\"reason\":\"throttled\"}");
		form_model(ctx, NULL);
		ap_model_add(ctx->model, "error", json_object_new_string(ap_arena_printf(ctx->arena,
		    ap_ctx_tr(ctx, "Too many failed sign-ins. Try again in %lld seconds."), (long long)wait)));
		ap_model_add(ctx->model, "retry_after", json_object_new_int64(wait));
		ctx->model_is_body = true;
		return 429;
	}
	ap_user_pw_params(cfg, &prm);
	rc = ap_user_find(db, user, &row, &hash);
	if (rc == AP_DB_OK && !row.disabled)
		ok = ap_pw_verify(pw, hash, &prm, &rehash);
	else if (rc == AP_DB_OK || rc == AP_DB_ENOTFOUND)
		ap_pw_verify_dummy(pw, &prm); /* same time for unknown users */
	else {
		free(hash);
		return ap_ctx_db_error(ctx, rc);
	}
	free(hash);
	ap_login_record(db, user, ctx->client_addr, now, ok);
	if (!ok) {
		ap_ctx_audit(ctx, "login", user, "failed", NULL, NULL);
		return refuse(ctx, 401, GENERIC_FAILURE);
	}
	if (rehash) {
		char *nh = NULL;

		if (ap_pw_hash(pw, &prm, &nh) == AP_OK)
			ap_user_store_hash(db, row.id, nh);
		free(nh);
	}
	/* Never reuse a session id from before the login (fixation). */
	if (ctx->session_id)
		ap_session_delete(db, ctx->session_id);
	rc = ap_session_create(db, cfg, row.id, row.totp_enabled, ctx->client_addr, ctx->req->user_agent,
	    cookie, &s);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_session_cookie_set(ctx, cookie, false);
	login_cookie(ctx, NULL);
	explicit_bzero(cookie, sizeof(cookie));
	if (row.totp_enabled) {
		ap_ctx_audit(ctx, "login.password", row.username, "ok", NULL, NULL);
		return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/login/2fa", ap_ctx_base(ctx)));
	}
	ap_user_record_login(db, row.id, ctx->client_addr, now);
	{
		struct ap_user *u = ap_arena_calloc(ctx->arena, 1, sizeof(*u));

		u->id = row.id;
		u->username = ap_arena_strdup(ctx->arena, row.username);
		u->role = ap_arena_strdup(ctx->arena, row.role);
		ctx->user = u;
		ctx->via = "ui";
	}
	ap_ctx_audit(ctx, "login", row.username, "ok", NULL, NULL);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "username", json_object_new_string(row.username));
		ap_model_add(ctx->model, "role", json_object_new_string(row.role));
		return 200;
	}
	return ap_ctx_redirect(ctx, 303, safe_next(ctx));
}

int
ap_page_login_2fa_form(struct ap_ctx *ctx)
{
	if (ctx->user != NULL)
		return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/", ap_ctx_base(ctx)));
	if (ctx->pending_user == NULL)
		return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/login", ap_ctx_base(ctx)));
	ctx->title = ap_ctx_tr(ctx, "Two-factor authentication");
	return 200;
}



int
ap_page_login_2fa(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *code = ap_ctx_field(ctx, "code")->s;
	struct ap_user *u = ctx->pending_user;
	struct ap_session s;
	struct ap_db *db;
	char cookie[AP_SESSION_ID_HEX + 1];
	time_t now = time(NULL);
	int64_t wait = 0;
	bool ok = false, recovery = false;
	enum ap_db_rc rc;

	if (u == NULL)
		return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/login", ap_ctx_base(ctx)));
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	/* Codes are throttled like passwords: six digits are guessable otherwise. */
	rc = ap_login_throttle(db, cfg, u->username, ctx->client_addr, now, &wait);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (wait > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)wait));
		ap_model_add(ctx->model, "error", json_object_new_string(ap_arena_printf(ctx->arena,
		    ap_ctx_tr(ctx, "Too many failed sign-ins. Try again in %lld seconds."), (long long)wait)));
		ctx->model_is_body = true;
		return 429;
	}
	if (strlen(code) == 6)
		rc = ap_user_check_totp(db, u->id, code, &ok);
	else {
		rc = ap_user_use_recovery_code(db, cfg, u->id, code, &ok);
		recovery = ok;
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_login_record(db, u->username, ctx->client_addr, now, ok);
	if (!ok) {
		ap_ctx_audit(ctx, "login.2fa", u->username, "failed", NULL, NULL);
		ctx->title = ap_ctx_tr(ctx, "Two-factor authentication");
		ap_model_add(ctx->model, "error", json_object_new_string(ap_ctx_tr(ctx, "That code is not valid.")));
		ctx->model_is_body = true;
		return 401;
	}
	s.id = ctx->session_id;
	rc = ap_session_rotate(db, cfg, &s, false, cookie);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_session_cookie_set(ctx, cookie, false);
	explicit_bzero(cookie, sizeof(cookie));
	ap_user_record_login(db, u->id, ctx->client_addr, now);
	ctx->user = u;
	ctx->pending_user = NULL;
	ap_ctx_audit(ctx, "login", u->username, "ok", NULL,
	    recovery ? "{\"second_factor\":\"recovery_code\"}" : "{\"second_factor\":\"totp\"}");
	return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/", ap_ctx_base(ctx)));
}

int
ap_page_logout(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if (ctx->session_id) {
		rc = ap_session_delete(db, ctx->session_id);
		if (rc != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		ap_session_cookie_set(ctx, NULL, true);
	}
	ap_ctx_audit(ctx, "logout", ctx->user->username, "ok", NULL, NULL);
	if (ctx->req->wants_json)
		return 204;
	return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/login", ap_ctx_base(ctx)));
}
