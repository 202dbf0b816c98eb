/*
 * account.c — the signed-in user's own account: password change, sessions,
 * two-factor enrolment and API tokens (permission account.self).
 *
 * Pages that have a template re-render themselves after a POST (with a
 * message, or with the error next to the field); actions without one
 * answer 303 back to /account, or 200 with a small JSON body for API
 * clients. A change of privilege (new password, two-factor on) gives the
 * current session a new id. Secrets (passwords, tokens, TOTP secrets,
 * recovery codes) never reach the log or the audit trail.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/audit.h"
#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/password.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"
#include "aapanel/gate.h"
#include "aapanel/pages.h"

static const char *const scope_names[] = { "read", "write", "admin" };
static const char *const scope_labels[] = { "Read only", "Read and write", "Full access" };

/* The {id} path parameter: 1..INT64_MAX, else false (the caller answers 404). */
static bool
param_id(struct ap_ctx *ctx, int64_t *id)
{
	const char *s = ap_ctx_param(ctx, "id");
	const char *errstr = NULL;
	long long v;

	if (s == NULL || !ap_strtonum(s, 1, INT64_MAX, &v, &errstr)) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such item");
		return false;
	}
	*id = v;
	return true;
}

/* Rank of a role or scope: read/viewer 0, write/operator 1, admin 2. */
static int
rank_of(const char *s)
{
	if (s == NULL)
		return 2;
	if (strcmp(s, "admin") == 0)
		return 2;
	if (strcmp(s, "write") == 0 || strcmp(s, "operator") == 0)
		return 1;
	return 0;
}

/* The highest token scope this caller may hand out (role, and the scope of a token in use). */
static int
max_scope(const struct ap_ctx *ctx)
{
	int r = rank_of(ctx->user->role);

	if (ctx->token_scope != NULL && rank_of(ctx->token_scope) < r)
		r = rank_of(ctx->token_scope);
	return r;
}


/*
 * A form problem: 400 with the field named. API clients get the standard
 * JSON error; a browser gets the page again (the caller filled its model)
 * with the message next to the input.
 */
static int
form_error(struct ap_ctx *ctx, const char *field, const char *reason)
{
	struct json_object *errs;

	ap_ctx_bad_field(ctx, field, reason);
	if (ctx->req->wants_json)
		return 400;
	errs = json_object_new_object();
	json_object_object_add(errs, field, json_object_new_string(ap_ctx_tr_reason(ctx, reason)));
	json_object_object_add(ctx->model, "errors", errs);
	json_object_object_add(ctx->model, "error",
	    json_object_new_string(ap_ctx_tr(ctx, "Please correct the marked field.")));
	ctx->model_is_body = true;
	return 400;
}

static void
message(struct ap_ctx *ctx, const char *msgid)
{
	json_object_object_add(ctx->model, "message", json_object_new_string(ap_ctx_tr(ctx, msgid)));
}

/* Give the current cookie session a new id and CSRF token (privilege change). */
static enum ap_db_rc
rotate_session(struct ap_ctx *ctx, struct ap_db *db)
{
	struct ap_session s;
	char cookie[AP_SESSION_ID_HEX + 1];
	enum ap_db_rc rc;

	if (ctx->session_id == 0)
		return AP_DB_OK; /* an API token: no session to rotate */
	memset(&s, 0, sizeof(s));
	s.id = ctx->session_id;
	rc = ap_session_rotate(db, ctx->app->cfg, &s, false, cookie);
	if (rc != AP_DB_OK)
		return rc;
	ap_session_cookie_set(ctx, cookie, false);
	explicit_bzero(cookie, sizeof(cookie));
	/* The page rendered now carries the new CSRF token in its forms. */
	ctx->csrf = ap_arena_strdup(ctx->arena, s.csrf);
	return AP_DB_OK;
}

/*
 * Check the user's password, throttled and recorded like a sign-in so a
 * stolen session cannot guess it. *status gets 0 to go on, or the status
 * to answer: 429 (a browser then sees page, which fills the model, with
 * the wait), or a database error.
 */
static bool
password_ok(struct ap_ctx *ctx, struct ap_db *db, const char *pw, int (*page)(struct ap_ctx *, struct ap_db *),
    int *status)
{
	struct ap_user_row row;
	struct ap_pw_params prm;
	char *hash = NULL;
	time_t now = time(NULL);
	int64_t wait = 0;
	bool ok = false;
	enum ap_db_rc rc;

	*status = 0;
	rc = ap_login_throttle(db, ctx->app->cfg, ctx->user->username, ctx->client_addr, now, &wait);
	if (rc != AP_DB_OK) {
		*status = ap_ctx_db_error(ctx, rc);
		return false;
	}
	if (wait > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)wait));
		snprintf(ctx->err.reason, sizeof(ctx->err.reason),
		    "too many failed attempts; try again in %lld seconds", (long long)wait);
		*status = 429;
		if (!ctx->req->wants_json && (*status = page(ctx, db)) == 200) {
			json_object_object_add(ctx->model, "error", json_object_new_string(ap_arena_printf(ctx->arena,
			    ap_ctx_tr(ctx, "Too many failed attempts. Try again in %lld seconds."), (long long)wait)));
			ctx->model_is_body = true;
			*status = 429;
		}
		return false;
	}
	ap_user_pw_params(ctx->app->cfg, &prm);
	rc = ap_user_find(db, ctx->user->username, &row, &hash);
	if (rc != AP_DB_OK) {
		free(hash);
		*status = ap_ctx_db_error(ctx, rc == AP_DB_ENOTFOUND ? AP_DB_EOTHER : rc);
		return false;
	}
	ok = ap_pw_verify(pw, hash, &prm, NULL);
	free(hash);
	ap_login_record(db, ctx->user->username, ctx->client_addr, now, ok);
	return ok;
}

static int account_model(struct ap_ctx *ctx, struct ap_db *db);
static int twofa_model_keep(struct ap_ctx *ctx, struct ap_db *db);

/* ---------------------------------------------------------------- the account page */

struct list_ctx {
	struct ap_ctx *ctx;
	struct json_object *arr;
};

struct json_object *
ap_page_token_json(const struct ap_token_row *t, time_t now)
{
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(t->id));
	ap_model_add(o, "user_id", json_object_new_int64(t->user_id));
	ap_model_str(o, "username", t->username);
	ap_model_str(o, "name", t->name);
	ap_model_str(o, "scope", t->scope);
	ap_model_str(o, "allow", t->allow_cidr);
	ap_model_add(o, "created", ap_model_time(t->created_at));
	ap_model_add(o, "expires", ap_model_time(t->expires_at));
	ap_model_add(o, "last_used", ap_model_time(t->last_used_at));
	ap_model_str(o, "last_used_addr", t->last_used_addr);
	ap_model_add(o, "revoked", ap_model_time(t->revoked_at));
	ap_model_add(o, "expired", json_object_new_boolean(t->expires_at != 0 && t->expires_at <= now));
	ap_model_add(o, "active", json_object_new_boolean(t->revoked_at == 0 &&
	    (t->expires_at == 0 || t->expires_at > now)));
	return o;
}

static bool
token_row(void *p, const struct ap_token_row *t)
{
	struct list_ctx *l = p;

	json_object_array_add(l->arr, ap_page_token_json(t, time(NULL)));
	return true;
}

static enum ap_db_rc
add_sessions(struct ap_ctx *ctx, struct ap_db *db)
{
	const struct ap_config *cfg = ctx->app->cfg;
	struct json_object *arr = json_object_new_array();
	struct ap_db_stmt *st = NULL;
	time_t now = time(NULL);
	enum ap_db_rc rc;

	ap_model_add(ctx->model, "sessions", arr);
	rc = ap_db_prepare(db,
	    "SELECT id, created_at, last_seen_at, addr, user_agent FROM sessions "
	    "WHERE user_id = ? AND mfa_pending = 0 AND expires_at > ? AND last_seen_at > ? "
	    "ORDER BY last_seen_at DESC, id DESC",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, ctx->user->id);
	ap_db_bind_int64(st, 2, now);
	ap_db_bind_int64(st, 3, now - cfg->session_idle_timeout);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct json_object *o = json_object_new_object();
		int64_t id = ap_db_col_int64(st, 0);

		ap_model_add(o, "id", json_object_new_int64(id));
		ap_model_add(o, "created", ap_model_time(ap_db_col_int64(st, 1)));
		ap_model_add(o, "last_seen", ap_model_time(ap_db_col_int64(st, 2)));
		ap_model_str(o, "addr", ap_db_col_text(st, 3, NULL));
		ap_model_str(o, "user_agent", ap_db_col_text(st, 4, NULL));
		ap_model_add(o, "current", json_object_new_boolean(id == ctx->session_id));
		json_object_array_add(arr, o);
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/* The token form: the scopes this caller may grant, and what was typed after an error. */
static void
add_token_form(struct ap_ctx *ctx)
{
	const struct ap_fieldval *sc = ap_ctx_field(ctx, "scope");
	const struct ap_fieldval *nm = ap_ctx_field(ctx, "name");
	const struct ap_fieldval *al = ap_ctx_field(ctx, "allow");
	const struct ap_fieldval *ex = ap_ctx_field(ctx, "expires_days");
	struct json_object *form = json_object_new_object();
	struct json_object *scopes = json_object_new_array();
	int top = max_scope(ctx);

	for (int i = 0; i <= top; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", scope_names[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, scope_labels[i]));
		ap_model_add(o, "selected",
		    json_object_new_boolean(sc && sc->present && strcmp(sc->s, scope_names[i]) == 0));
		json_object_array_add(scopes, o);
	}
	ap_model_add(form, "scopes", scopes);
	/* After a successful create the form starts empty again. */
	if (!json_object_object_get_ex(ctx->model, "new_token", NULL)) {
		ap_model_str(form, "name", nm && nm->present ? nm->s : "");
		ap_model_str(form, "allow", al && al->present ? al->s : "");
		if (ex && ex->present)
			ap_model_add(form, "expires_days", json_object_new_int64(ex->i));
		else
			ap_model_str(form, "expires_days", "90");
	} else {
		ap_model_str(form, "name", "");
		ap_model_str(form, "allow", "");
		ap_model_str(form, "expires_days", "90");
	}
	ap_model_add(ctx->model, "token_form", form);
}

/* Fill the account page model. Returns 200 or an error status. */
static int
account_model(struct ap_ctx *ctx, struct ap_db *db)
{
	struct ap_user_row row;
	struct json_object *acct;
	struct list_ctx l = { ctx, NULL };
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Your account");
	rc = ap_user_get(db, ctx->user->id, &row);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc == AP_DB_ENOTFOUND ? AP_DB_EOTHER : rc);
	acct = json_object_new_object();
	ap_model_add(acct, "id", json_object_new_int64(row.id));
	ap_model_str(acct, "username", row.username);
	ap_model_str(acct, "role", row.role);
	ap_model_str(acct, "role_label", ap_ctx_tr(ctx, strcmp(row.role, "admin") == 0 ? "Administrator"
		: strcmp(row.role, "operator") == 0 ? "Operator" : "Viewer"));
	ap_model_add(acct, "created", ap_model_time(row.created_at));
	ap_model_add(acct, "last_login", ap_model_time(row.last_login_at));
	ap_model_str(acct, "last_login_addr", row.last_login_addr);
	ap_model_add(ctx->model, "account", acct);
	ap_model_add(ctx->model, "totp_enabled", json_object_new_boolean(row.totp_enabled));
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(ctx->app->require_2fa));
	if ((rc = add_sessions(ctx, db)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	l.arr = json_object_new_array();
	ap_model_add(ctx->model, "tokens", l.arr);
	ap_model_str(ctx->model, "revoke_base", "/account/tokens");
	if ((rc = ap_token_each(db, ctx->user->id, token_row, &l)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	add_token_form(ctx);
	return 200;
}

int
ap_page_account(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	return account_model(ctx, db);
}

/* Build the page, then mark the field (or pass a model error on). */
static int
account_fail(struct ap_ctx *ctx, struct ap_db *db, const char *field, const char *reason)
{
	int st = ctx->req->wants_json ? 200 : account_model(ctx, db);

	if (st != 200)
		return st;
	return form_error(ctx, field, reason);
}

int
ap_page_account_password(struct ap_ctx *ctx)
{
	const char *cur = ap_ctx_field(ctx, "current")->s;
	const char *pw = ap_ctx_field(ctx, "password")->s;
	const char *confirm = ap_ctx_field(ctx, "confirm")->s;
	const char *why = NULL;
	struct ap_db *db = ap_ctx_db(ctx);
	int64_t n = 0;
	int status = 0;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if (!password_ok(ctx, db, cur, account_model, &status)) {
		if (status != 0)
			return status;
		ap_ctx_audit(ctx, "account.password", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"wrong current password\"}");
		return account_fail(ctx, db, "current", "is not your current password");
	}
	if (strcmp(pw, confirm) != 0)
		return account_fail(ctx, db, "confirm", "does not match the new password");
	rc = ap_user_set_password(db, ctx->app->cfg, ctx->user->id, ctx->user->username, pw, &why);
	if (rc == AP_DB_EINVAL) {
		ap_ctx_audit(ctx, "account.password", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"policy\"}");
		return account_fail(ctx, db, "password", why);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Whoever else holds a session of this account is out; this one gets a new id. */
	if ((rc = ap_session_delete_user(db, ctx->user->id, ctx->session_id, &n)) != AP_DB_OK ||
	    (rc = rotate_session(ctx, db)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "account.password", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"sessions_ended\":%lld}", (long long)n));
	status = account_model(ctx, db);
	if (status == 200)
		message(ctx, "Your password was changed. Your other sessions were signed out.");
	return status;
}

int
ap_page_account_revoke_others(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);
	int64_t n = 0;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_session_delete_user(db, ctx->user->id, ctx->session_id, &n);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "session.revoke_others", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"count\":%lld}", (long long)n));
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "revoked", json_object_new_int64(n));
		return 200;
	}
	return ap_ctx_back(ctx, "/account");
}

int
ap_page_account_revoke_session(struct ap_ctx *ctx)
{
	struct ap_db_stmt *st = NULL;
	struct ap_db *db;
	int64_t id, changed = 0;
	enum ap_db_rc rc;

	if (!param_id(ctx, &id))
		return 404;
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	/* Only a session of this user: anyone else's id is "not found". */
	rc = ap_db_prepare(db, "DELETE FROM sessions WHERE id = ? AND user_id = ?", &st);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_db_bind_int64(st, 1, id);
	ap_db_bind_int64(st, 2, ctx->user->id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		changed = ap_db_changes(st);
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return ap_ctx_db_error(ctx, rc);
	if (changed == 0) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such session");
		return 404;
	}
	ap_ctx_audit(ctx, "session.revoke", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"session\":%lld}", (long long)id));
	if (id == ctx->session_id) {
		/* Ending the session in use is signing out. */
		ap_session_cookie_set(ctx, NULL, true);
		if (ctx->req->wants_json)
			return 204;
		return ap_ctx_back(ctx, "/login");
	}
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "revoked", json_object_new_int64(id));
		return 200;
	}
	return ap_ctx_back(ctx, "/account");
}

/* ---------------------------------------------------------------- two-factor */

/* The secret grouped by four for typing it into an app by hand. */
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

/*
 * Fill the two-factor page. Not enrolled: a pending secret (a new one
 * unless keep_pending and one exists, so a mistyped code keeps the QR code
 * the user just scanned), its QR code and the code form. Enrolled: the
 * disable form and how many recovery codes are left.
 */
static int
twofa_model(struct ap_ctx *ctx, struct ap_db *db, bool keep_pending)
{
	struct ap_db_stmt *st = NULL;
	char secret[AP_TOTP_SECRET_LEN + 8] = "";
	char *uri = NULL, *svg = NULL;
	bool enabled = false;
	int64_t left = 0;
	int status = 200;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Two-factor authentication");
	rc = ap_db_prepare(db,
	    "SELECT totp_enabled, totp_pending_secret, "
	    "(SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL) "
	    "FROM users u WHERE u.id = ?",
	    &st);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_db_bind_int64(st, 1, ctx->user->id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 1, NULL);

		enabled = ap_db_col_int64(st, 0) != 0;
		if (keep_pending && t && strlen(t) == AP_TOTP_SECRET_LEN)
			snprintf(secret, sizeof(secret), "%s", t);
		left = ap_db_col_int64(st, 2);
	}
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_ROW)
		return ap_ctx_db_error(ctx, rc == AP_DB_DONE ? AP_DB_EOTHER : rc);
	ap_model_add(ctx->model, "totp_enabled", json_object_new_boolean(enabled));
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(ctx->app->require_2fa));
	if (enabled) {
		ap_model_add(ctx->model, "recovery_left", json_object_new_int64(left));
		return 200;
	}
	if (secret[0] == '\0') {
		if (ap_totp_new_secret(secret) != AP_OK) {
			AP_ERROR("two-factor: no random secret");
			return 500;
		}
		rc = ap_db_prepare(db, "UPDATE users SET totp_pending_secret = ? WHERE id = ?", &st);
		if (rc == AP_DB_OK) {
			ap_db_bind_text(st, 1, secret, -1);
			ap_db_bind_int64(st, 2, ctx->user->id);
			rc = ap_db_step(st);
			ap_db_finalize(st);
			rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		}
		if (rc != AP_DB_OK) {
			status = ap_ctx_db_error(ctx, rc);
			goto out;
		}
	}
	uri = ap_totp_uri(ctx->app->cfg->panel_name, ctx->user->username, secret);
	svg = uri ? ap_qr_svg(uri) : NULL;
	if (svg == NULL) {
		AP_ERROR("two-factor: QR code failed");
		status = 500;
		goto out;
	}
	/* Raw in the template: our own SVG, built from our own URI, never from input. */
	ap_model_str(ctx->model, "qr_svg", svg);
	ap_model_str(ctx->model, "secret", secret);
	ap_model_str(ctx->model, "secret_grouped", grouped(ctx->arena, secret));
	ap_model_str(ctx->model, "otpauth_uri", uri);
out:
	if (uri)
		explicit_bzero(uri, strlen(uri));
	free(uri);
	free(svg);
	explicit_bzero(secret, sizeof(secret));
	return status;
}

int
ap_page_account_2fa(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	/* Reloading the page keeps the secret a phone may already have scanned;
	 * a new one is made only when none is pending. */
	return twofa_model(ctx, db, true);
}

static int
twofa_model_keep(struct ap_ctx *ctx, struct ap_db *db)
{
	return twofa_model(ctx, db, true);
}

static int
twofa_fail(struct ap_ctx *ctx, struct ap_db *db, const char *field, const char *reason)
{
	int st = ctx->req->wants_json ? 200 : twofa_model(ctx, db, true);

	if (st != 200)
		return st;
	return form_error(ctx, field, reason);
}

/* Store the hashes of new recovery codes (old ones go); inside the caller's transaction. */
static enum ap_db_rc
store_recovery_codes(struct ap_ctx *ctx, struct ap_db *db,
    char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1])
{
	struct ap_db_stmt *st = NULL;
	char norm[32], hash[65];
	enum ap_db_rc rc;

	rc = ap_db_prepare(db, "DELETE FROM recovery_codes WHERE user_id = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, ctx->user->id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_DONE)
		return rc;
	rc = ap_db_prepare(db, "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", &st);
	if (rc != AP_DB_OK)
		return rc;
	for (int i = 0; i < AP_RECOVERY_CODES && rc == AP_DB_OK; i++) {
		/* Stored as typed at sign-in: normalized, then keyed-hashed. */
		ap_recovery_normalize(codes[i], norm, sizeof(norm));
		ap_auth_hash(ctx->app->cfg, norm, hash);
		ap_db_bind_int64(st, 1, ctx->user->id);
		ap_db_bind_text(st, 2, hash, -1);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_reset(st);
	}
	ap_db_finalize(st);
	explicit_bzero(norm, sizeof(norm));
	return rc;
}

int
ap_page_account_2fa_enable(struct ap_ctx *ctx)
{
	const char *code = ap_ctx_field(ctx, "code")->s;
	char secret[AP_TOTP_SECRET_LEN + 8] = "";
	char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1];
	struct ap_db_stmt *st = NULL;
	struct ap_db *db = ap_ctx_db(ctx);
	struct json_object *arr;
	int64_t counter = 0;
	bool enabled = false;
	int status;
	enum ap_db_rc rc;

	memset(codes, 0, sizeof(codes));
	if (db == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_db_prepare(db, "SELECT totp_enabled, totp_pending_secret FROM users WHERE id = ?", &st);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_db_bind_int64(st, 1, ctx->user->id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 1, NULL);

		enabled = ap_db_col_int64(st, 0) != 0;
		snprintf(secret, sizeof(secret), "%s", t ? t : "");
	}
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_ROW) {
		status = ap_ctx_db_error(ctx, rc == AP_DB_DONE ? AP_DB_EOTHER : rc);
		goto out;
	}
	if (enabled) {
		status = twofa_fail(ctx, db, "code", "two-factor authentication is already on");
		goto out;
	}
	if (strlen(secret) != AP_TOTP_SECRET_LEN) {
		status = twofa_fail(ctx, db, "code", "no enrolment in progress; scan the new QR code");
		goto out;
	}
	if (!ap_totp_verify(secret, code, time(NULL), 1, 0, &counter)) {
		ap_ctx_audit(ctx, "account.2fa.enable", ctx->user->username, "failed", NULL, NULL);
		status = twofa_fail(ctx, db, "code", "is not valid; check the time on your device");
		goto out;
	}
	if (ap_recovery_codes_new(codes) != AP_OK) {
		AP_ERROR("two-factor: no random recovery codes");
		status = 500;
		goto out;
	}
	if ((rc = ap_db_begin(db)) != AP_DB_OK) {
		status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_secret = ?, totp_enabled = 1, totp_last_counter = ?, "
	    "totp_pending_secret = NULL, updated_at = ? WHERE id = ? AND totp_enabled = 0",
	    &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_text(st, 1, secret, -1);
		ap_db_bind_int64(st, 2, counter);
		ap_db_bind_int64(st, 3, time(NULL));
		ap_db_bind_int64(st, 4, ctx->user->id);
		rc = ap_db_step(st);
		/* Two tabs racing: only one enables. */
		if (rc == AP_DB_DONE)
			rc = ap_db_changes(st) == 1 ? AP_DB_OK : AP_DB_ENOTFOUND;
		ap_db_finalize(st);
		st = NULL;
	}
	if (rc == AP_DB_OK)
		rc = store_recovery_codes(ctx, db, codes);
	if (rc == AP_DB_OK)
		rc = ap_db_commit(db);
	if (rc != AP_DB_OK) {
		ap_db_rollback(db);
		if (rc == AP_DB_ENOTFOUND)
			status = twofa_fail(ctx, db, "code", "two-factor authentication is already on");
		else
			status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	if ((rc = rotate_session(ctx, db)) != AP_DB_OK) {
		status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	ctx->user->totp_enabled = true;
	ap_ctx_audit(ctx, "account.2fa.enable", ctx->user->username, "ok", NULL, NULL);
	status = twofa_model(ctx, db, false);
	if (status != 200)
		goto out;
	/* Shown once: only their hashes are kept. */
	arr = json_object_new_array();
	for (int i = 0; i < AP_RECOVERY_CODES; i++)
		json_object_array_add(arr, json_object_new_string(codes[i]));
	ap_model_add(ctx->model, "recovery_codes", arr);
	ap_model_add(ctx->model, "show_recovery", json_object_new_boolean(true));
	message(ctx, "Two-factor authentication is on.");
out:
	explicit_bzero(secret, sizeof(secret));
	explicit_bzero(codes, sizeof(codes));
	return status;
}



int
ap_page_account_2fa_disable(struct ap_ctx *ctx)
{
	const char *pw = ap_ctx_field(ctx, "password")->s;
	const char *code = ap_ctx_field(ctx, "code")->s;
	struct ap_db_stmt *st = NULL;
	struct ap_db *db = ap_ctx_db(ctx);
	bool ok = false, recovery = false;
	int status = 0;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if (!ctx->user->totp_enabled)
		return twofa_fail(ctx, db, "code", "two-factor authentication is already off");
	/* The password first: a wrong one must not use up a recovery code. */
	if (!password_ok(ctx, db, pw, twofa_model_keep, &status)) {
		if (status != 0)
			return status;
		ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"wrong password\"}");
		return twofa_fail(ctx, db, "password", "is not your password");
	}
	if (strlen(code) == 6)
		rc = ap_user_check_totp(db, ctx->user->id, code, &ok);
	else {
		rc = ap_user_use_recovery_code(db, ctx->app->cfg, ctx->user->id, code, &ok);
		recovery = ok;
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (!ok) {
		ap_login_record(db, ctx->user->username, ctx->client_addr, time(NULL), false);
		ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"wrong code\"}");
		return twofa_fail(ctx, db, "code", "is not valid");
	}
	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_secret = NULL, totp_enabled = 0, totp_pending_secret = NULL, "
	    "totp_last_counter = 0, updated_at = ? WHERE id = ?",
	    &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, time(NULL));
		ap_db_bind_int64(st, 2, ctx->user->id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_finalize(st);
		st = NULL;
	}
	if (rc == AP_DB_OK && (rc = ap_db_prepare(db, "DELETE FROM recovery_codes WHERE user_id = ?",
				   &st)) == AP_DB_OK) {
		ap_db_bind_int64(st, 1, ctx->user->id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		ap_db_finalize(st);
	}
	if (rc == AP_DB_OK)
		rc = ap_db_commit(db);
	if (rc != AP_DB_OK) {
		ap_db_rollback(db);
		return ap_ctx_db_error(ctx, rc);
	}
	ctx->user->totp_enabled = false;
	ap_ctx_audit(ctx, "account.2fa.disable", ctx->user->username, "ok", NULL,
	    recovery ? "{\"second_factor\":\"recovery_code\"}" : "{\"second_factor\":\"totp\"}");
	status = twofa_model(ctx, db, false);
	if (status == 200)
		message(ctx, "Two-factor authentication is off.");
	return status;
}

/* ---------------------------------------------------------------- API tokens */

/* Which form field a reason of ap_token_create is about. */
static const char *
token_field(const char *why)
{
	if (why == NULL)
		return "name";
	if (strncmp(why, "allow", 5) == 0)
		return "allow";
	if (strncmp(why, "expires", 7) == 0)
		return "expires_days";
	if (strncmp(why, "scope", 5) == 0)
		return "scope";
	return "name";
}

int
ap_page_account_token_create(struct ap_ctx *ctx)
{
	const char *name = ap_ctx_field(ctx, "name")->s;
	const char *scope = ap_ctx_field(ctx, "scope")->s;
	const struct ap_fieldval *al = ap_ctx_field(ctx, "allow");
	const struct ap_fieldval *ex = ap_ctx_field(ctx, "expires_days");
	const char *allow = al->present ? al->s : "";
	int days = ex->present ? (int)ex->i : 0;
	struct json_object *after = NULL, *nt;
	struct ap_db *db = ap_ctx_db(ctx);
	const char *why = NULL;
	char token[80];
	int64_t id = 0;
	int status;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if (rank_of(scope) > max_scope(ctx))
		return account_fail(ctx, db, "scope", "must not exceed what your role allows");
	rc = ap_token_create(db, ctx->app->cfg, ctx->user->id, name, scope, allow, days, token, &id, &why);
	if (rc == AP_DB_EINVAL) {
		const char *f = token_field(why);

		/* "allow must be …" → "must be …": the message stands next to the field. */
		if (why && strncmp(why, f, strlen(f)) == 0 && why[strlen(f)] == ' ')
			why += strlen(f) + 1;
		else if (why && strncmp(why, "expires ", 8) == 0)
			why += 8;
		return account_fail(ctx, db, f, why ? why : "is not valid");
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	after = json_object_new_object();
	ap_model_add(after, "id", json_object_new_int64(id));
	ap_model_str(after, "name", name);
	ap_model_str(after, "scope", scope);
	ap_model_str(after, "allow", allow);
	ap_model_add(after, "expires_days", json_object_new_int(days));
	ap_ctx_audit(ctx, "token.create", name, "ok", NULL,
	    json_object_to_json_string_ext(after, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(after);
	/* Shown once: the table keeps only its keyed hash. */
	nt = json_object_new_object();
	ap_model_add(nt, "id", json_object_new_int64(id));
	ap_model_str(nt, "name", name);
	ap_model_str(nt, "scope", scope);
	ap_model_str(nt, "token", token);
	explicit_bzero(token, sizeof(token));
	ap_model_add(ctx->model, "new_token", nt);
	status = account_model(ctx, db);
	if (status != 200)
		return status;
	return ctx->req->wants_json ? 201 : 200;
}

int
ap_page_account_token_revoke(struct ap_ctx *ctx)
{
	struct ap_db *db;
	int64_t id;
	enum ap_db_rc rc;

	if (!param_id(ctx, &id))
		return 404;
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_token_revoke(db, id, ctx->user->id);
	if (rc == AP_DB_ENOTFOUND) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such active token");
		return 404;
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "token.revoke", ap_arena_printf(ctx->arena, "%lld", (long long)id), "ok", NULL,
	    NULL);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "revoked", json_object_new_int64(id));
		return 200;
	}
	return ap_ctx_back(ctx, "/account");
}
