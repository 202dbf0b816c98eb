/*
 * login.c — sign in (password, then the TOTP or a recovery code when
 * two-factor is on), sign out.
 *
 * The login form carries its own CSRF token before any session exists: a
 * random value in an HttpOnly SameSite=Strict cookie and the same value in
 * the form (double submit), so another site cannot sign a victim into an
 * account of its choosing.
 */
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/crypto.h"
#include "aapanel/gate.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/users.h"
#include "aapanel/weburl.h"

#define LOGIN_COOKIE "aapanel_login"
#define GENERIC_FAILURE "Invalid username or password."

enum lf_field { LF_NEXT, LF__MAX };
const struct ap_field ap_login_form_fields[LF__MAX + 1] = {
	[LF_NEXT] = { .name = "next", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1,
	    .max = 2048 },
	[LF__MAX] = AP_FIELD_END,
};

enum li_field { LI_USERNAME, LI_PASSWORD, LI_NEXT, LI__MAX };
const struct ap_field ap_login_fields[LI__MAX + 1] = {
	[LI_USERNAME] = { .name = "username", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 64 },
	[LI_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[LI_NEXT] = { .name = "next", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1,
	    .max = 2048 },
	[LI__MAX] = AP_FIELD_END,
};

enum l2_field { L2_CODE, L2__MAX };
const struct ap_field ap_login_2fa_fields[L2__MAX + 1] = {
	[L2_CODE] = { .name = "code", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE | AP_FIELD_SECRET, .min = 6, .max = 20 },
	[L2__MAX] = AP_FIELD_END,
};

/*
 * Where to go after signing in: the next value (query of the form, or the
 * form's hidden field) when it is a normalised path of this panel that a
 * browser can only read as one (ap_url_local_path: one leading slash, no
 * backslash, no control or white space characters, no dot or empty
 * segments, under the base path) and not a sign-in page; else home.
 */
static const char *
safe_next(struct ap_ctx *ctx, const char *n)
{
	const char *b = ap_ctx_base(ctx);

	if (n != NULL && ap_url_local_path(b, n)) {
		const char *p = n + strlen(b); /* the panel path: "", "/x", "?q" */

		if (strncmp(p, "/login", 6) != 0 || (p[6] != '\0' && p[6] != '/' && p[6] != '?'))
			return n;
	}
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

/*
 * The sign-in form: a fresh double-submit token unless the browser already
 * has one; next and the user name kept (GET /login?next=…, or the form
 * again after a failed attempt).
 */
int
ap_page_login_form(struct ap_ctx *ctx)
{
	const char *tok = ap_req_cookie(ctx->req, LOGIN_COOKIE);
	const char *next = ctx->form_again ? ap_ctx_kept(ctx, "next")
					   : (ctx->fields[LF_NEXT].present ? ctx->fields[LF_NEXT].s : NULL);
	const char *user = ap_ctx_kept(ctx, "username");
	char fresh[65];

	if (!ctx->form_again && ctx->user != NULL)
		return ap_ctx_redirect(ctx, 303, safe_next(ctx, next));
	if (tok == NULL || strlen(tok) != 64) {
		ap_random_hex(fresh, 32);
		tok = ap_arena_strdup(ctx->arena, fresh);
		login_cookie(ctx, tok);
	}
	ctx->title = ap_ctx_tr(ctx, "Sign in");
	ap_model_add(ctx->model, "login_csrf", json_object_new_string(tok));
	if (next != NULL && next[0] != '\0')
		ap_model_add(ctx->model, "next", json_object_new_string(next));
	if (user != NULL)
		ap_model_add(ctx->model, "username", json_object_new_string(user));
	return 200;
}

static const struct ap_prop signed_in_props[] = {
	{ .name = "username", .type = AP_J_STRING },
	{ .name = "role", .type = AP_J_STRING },
	AP_PROP_END,
};
const struct ap_schema ap_signed_in_schema = { .name = "SignedIn",
	.desc = "signed in (a JSON client of the sign-in form)", .props = signed_in_props };

/* The signed-in identity of this request from now on (for the audit record). */
static void
become(struct ap_ctx *ctx, const struct ap_user_row *row)
{
	struct ap_user *u = ap_arena_calloc(ctx->arena, 1, sizeof(*u));

	u->id = row->id;
	u->username = ap_arena_strdup(ctx->arena, row->username);
	u->role = ap_arena_strdup(ctx->arena, row->role);
	ctx->user = u;
	ctx->via = "ui";
}

int
ap_page_login(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *user = ctx->fields[LI_USERNAME].s;
	const char *cookie_tok = ap_req_cookie(ctx->req, LOGIN_COOKIE);
	const char *form_tok = ap_req_form(ctx->req, "csrf");
	struct ap_signin res;
	struct ap_session s;
	char cookie[AP_SESSION_ID_HEX + 1];
	time_t now = time(NULL);
	enum ap_db_rc rc;

	if (cookie_tok == NULL || form_tok == NULL || strlen(cookie_tok) != 64 ||
	    !ap_ct_streq(cookie_tok, form_tok))
		return ap_ctx_fail(ctx, AP_PB_CSRF, NULL, "Your sign-in form expired. Please try again.");
	rc = ap_signin_password(ctx->db, cfg, user, ctx->fields[LI_PASSWORD].s, ctx->client_addr, now, &res);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (res.wait_s > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)res.wait_s));
		ap_ctx_audit(ctx, "login", user, "denied", NULL, "{\"reason\":\"throttled\"}");
		return ap_ctx_fail(ctx, AP_PB_THROTTLED, NULL,
		    "Too many failed sign-ins. Try again in %lld seconds.", (long long)res.wait_s);
	}
	if (!res.ok) {
		ap_ctx_audit(ctx, "login", user, "failed", NULL, NULL);
		return ap_ctx_fail(ctx, AP_PB_UNAUTHENTICATED, NULL, GENERIC_FAILURE);
	}
	/* Never reuse a session id from before the login (fixation). */
	if (ctx->session_id)
		ap_session_delete(ctx->db, ctx->session_id);
	rc = ap_session_create(ctx->db, cfg, res.user.id, res.user.totp_enabled, ctx->client_addr,
	    ctx->req->user_agent, cookie, &s);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_session_cookie_set(ctx, cookie, false);
	login_cookie(ctx, NULL);
	explicit_bzero(cookie, sizeof(cookie));
	if (res.user.totp_enabled) {
		ap_ctx_audit(ctx, "login.password", res.user.username, "ok", NULL, NULL);
		return ap_ctx_back(ctx, "/login/2fa");
	}
	ap_user_record_login(ctx->db, res.user.id, ctx->client_addr, now);
	become(ctx, &res.user);
	ap_ctx_audit(ctx, "login", res.user.username, "ok", NULL, NULL);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "username", json_object_new_string(res.user.username));
		ap_model_add(ctx->model, "role", json_object_new_string(res.user.role));
		return 200;
	}
	return ap_ctx_redirect(ctx, 303,
	    safe_next(ctx, ctx->fields[LI_NEXT].present ? ctx->fields[LI_NEXT].s : NULL));
}

int
ap_page_login_2fa_form(struct ap_ctx *ctx)
{
	if (ctx->user != NULL)
		return ap_ctx_back(ctx, "/");
	if (ctx->pending_user == NULL)
		return ap_ctx_back(ctx, "/login");
	ctx->title = ap_ctx_tr(ctx, "Two-factor authentication");
	return 200;
}

int
ap_page_login_2fa(struct ap_ctx *ctx)
{
	struct ap_user *u = ctx->pending_user;
	struct ap_signin res;
	struct ap_session s;
	char cookie[AP_SESSION_ID_HEX + 1];
	time_t now = time(NULL);
	enum ap_db_rc rc;

	if (u == NULL)
		return ap_ctx_back(ctx, "/login");
	rc = ap_signin_code(ctx->db, ctx->app->cfg, u->id, u->username, ctx->fields[L2_CODE].s,
	    ctx->client_addr, now, &res);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (res.wait_s > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)res.wait_s));
		return ap_ctx_fail(ctx, AP_PB_THROTTLED, NULL,
		    "Too many failed sign-ins. Try again in %lld seconds.", (long long)res.wait_s);
	}
	if (!res.ok) {
		ap_ctx_audit(ctx, "login.2fa", u->username, "failed", NULL, NULL);
		return ap_ctx_fail(ctx, AP_PB_UNAUTHENTICATED, NULL, "That code is not valid.");
	}
	memset(&s, 0, sizeof(s));
	s.id = ctx->session_id;
	rc = ap_session_rotate(ctx->db, ctx->app->cfg, &s, false, cookie);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_session_cookie_set(ctx, cookie, false);
	explicit_bzero(cookie, sizeof(cookie));
	ap_user_record_login(ctx->db, u->id, ctx->client_addr, now);
	ctx->user = u;
	ctx->pending_user = NULL;
	ap_ctx_audit(ctx, "login", u->username, "ok", NULL,
	    res.recovery ? "{\"second_factor\":\"recovery_code\"}" : "{\"second_factor\":\"totp\"}");
	return ap_ctx_back(ctx, "/");
}

/* Also for a session still waiting for its second factor (AP_ROUTE_PENDING). */
int
ap_page_logout(struct ap_ctx *ctx)
{
	const struct ap_user *u = ctx->user ? ctx->user : ctx->pending_user;
	enum ap_db_rc rc;

	if (ctx->session_id) {
		if ((rc = ap_session_delete(ctx->db, ctx->session_id)) != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		ap_session_cookie_set(ctx, NULL, true);
	}
	ap_ctx_audit(ctx, "logout", u ? u->username : "anonymous", "ok", NULL,
	    ctx->user ? NULL : "{\"second_factor\":\"pending\"}");
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "You were signed out.");
	return ap_ctx_back(ctx, "/login");
}
