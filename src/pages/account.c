/*
 * account.c — the signed-in user's own account (permission account.self):
 * the account page, password change, sessions and API tokens. Two-factor
 * enrolment is in twofactor.c.
 *
 * Actions without a page of their own answer 303 back to /account, or 200
 * with a small JSON body for API clients. A change of privilege (a new
 * password) gives the current session a new id. Secrets (passwords,
 * tokens) never reach the log or the audit trail.
 */
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/gate.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/users.h"

static const char *const scope_choices[] = { "read", "write", "admin", NULL };
static const char *const scope_labels[] = { "Read only", "Read and write", "Full access" };

enum pw_field { PW_CURRENT, PW_PASSWORD, PW_CONFIRM, PW__MAX };
const struct ap_field ap_account_password_fields[PW__MAX + 1] = {
	[PW_CURRENT] = { .name = "current", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[PW_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[PW_CONFIRM] = { .name = "confirm", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[PW__MAX] = AP_FIELD_END,
};

enum tok_field { TOK_NAME, TOK_SCOPE, TOK_ALLOW, TOK_EXPIRES, TOK__MAX };
const struct ap_field ap_token_create_fields[TOK__MAX + 1] = {
	[TOK_NAME] = { .name = "name", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 64 },
	[TOK_SCOPE] = { .name = "scope", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = scope_choices },
	[TOK_ALLOW] = { .name = "allow", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .min = 0, .max = 255 },
	[TOK_EXPIRES] = { .name = "expires_days", .type = AP_FIELD_INT, .min = 0, .max = 3650 },
	[TOK__MAX] = AP_FIELD_END,
};

static const struct ap_prop token_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "user_id", .type = AP_J_INT },
	{ .name = "username", .type = AP_J_STRING },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "scope", .type = AP_J_STRING, .choices = scope_choices },
	{ .name = "allow", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the addresses it works from (CIDR list); null: anywhere" },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "expires", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "null: never" },
	{ .name = "last_used", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "last_used_addr", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "revoked", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "expired", .type = AP_J_BOOL },
	{ .name = "active", .type = AP_J_BOOL, .desc = "neither revoked nor expired" },
	AP_PROP_END,
};
const struct ap_schema ap_token_schema = { .name = "Token",
	.desc = "an API token (never its secret, which is shown once when it is made)", .props = token_props };
AP_SCHEMA_LIST(ap_token_list_schema, "TokenList", ap_token_schema);

const struct ap_field ap_token_list_fields[AP_TL__MAX + 1] = {
	[AP_TL_USER] = { .name = "user", .type = AP_FIELD_NAME, .min = 3, .max = 32,
	    .desc = "only this user's tokens (a user name)" },
	[AP_TL_ACTIVE] = { .name = "active", .type = AP_FIELD_BOOL,
	    .desc = "only usable tokens (true) or only revoked and expired ones (false)" },
	[AP_TL_LIMIT] = AP_FIELD_LIMIT,
	[AP_TL_CURSOR] = AP_FIELD_CURSOR,
	[AP_TL__MAX] = AP_FIELD_END,
};

static const struct ap_prop new_token_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "scope", .type = AP_J_STRING, .choices = scope_choices },
	{ .name = "allow", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "expires", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "token", .type = AP_J_STRING, .flags = AP_J_SECRET,
	    .desc = "the secret for Authorization: Bearer; the panel keeps only a keyed hash of it" },
	AP_PROP_END,
};
const struct ap_schema ap_new_token_schema = { .name = "NewToken", .props = new_token_props };

static const struct ap_prop session_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "last_seen", .type = AP_J_TIME },
	{ .name = "addr", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "user_agent", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "current", .type = AP_J_BOOL, .desc = "the session of this request" },
	AP_PROP_END,
};
static const struct ap_schema session_schema = { .name = "Session", .desc = "a signed-in browser",
	.props = session_props };

static const struct ap_prop account_props[] = {
	{ .name = "account", .type = AP_J_OBJECT, .of = &ap_user_schema },
	{ .name = "require_2fa", .type = AP_J_BOOL, .desc = "the panel requires two-factor of everyone" },
	{ .name = "sessions", .type = AP_J_ARRAY, .of = &session_schema, .desc = "live sessions, newest first" },
	{ .name = "tokens", .type = AP_J_ARRAY, .of = &ap_token_schema, .desc = "own API tokens, newest first" },
	AP_PROP_END,
};
const struct ap_schema ap_account_schema = { .name = "Account", .desc = "the signed-in user's own account",
	.props = account_props };

static const struct ap_prop pw_changed_props[] = {
	{ .name = "sessions_ended", .type = AP_J_INT, .desc = "other sessions signed out" },
	AP_PROP_END,
};
const struct ap_schema ap_password_changed_schema = { .name = "PasswordChanged", .props = pw_changed_props };

static const struct ap_prop revoked_props[] = {
	{ .name = "revoked", .type = AP_J_INT, .desc = "how many sessions were signed out" },
	AP_PROP_END,
};
const struct ap_schema ap_sessions_revoked_schema = { .name = "SessionsRevoked", .props = revoked_props };

/* Rank of a role or scope: read/viewer 0, write/operator 1, admin 2. */
static int
rank_of(const char *s)
{
	if (s == NULL || strcmp(s, "admin") == 0)
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


/* ---------------------------------------------------------------- the account page */

struct json_object *
ap_page_token_json(const struct ap_token_row *t, time_t now)
{
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(t->id));
	ap_model_add(o, "user_id", json_object_new_int64(t->user_id));
	ap_model_str(o, "username", t->username);
	ap_model_str(o, "name", t->name);
	ap_model_str(o, "scope", t->scope);
	ap_model_opt(o, "allow", t->allow_cidr);
	ap_model_add(o, "created", ap_model_time(t->created_at));
	ap_model_add(o, "expires", ap_model_time(t->expires_at));
	ap_model_add(o, "last_used", ap_model_time(t->last_used_at));
	ap_model_opt(o, "last_used_addr", t->last_used_addr);
	ap_model_add(o, "revoked", ap_model_time(t->revoked_at));
	ap_model_add(o, "expired", json_object_new_boolean(t->expires_at != 0 && t->expires_at <= now));
	ap_model_add(o, "active", json_object_new_boolean(t->revoked_at == 0 &&
	    (t->expires_at == 0 || t->expires_at > now)));
	return o;
}

/* The same as a typed row source (rows.h): what list pages use. */
struct token_view {
	int64_t id, user_id;
	const char *username, *name, *scope, *allow;
	int64_t created, expires, last_used;
	const char *last_used_addr;
	int64_t revoked;
	bool expired, active;
};
static const struct ap_col token_cols[] = {
	AP_COL(struct token_view, id, AP_COL_INT),
	AP_COL(struct token_view, user_id, AP_COL_INT),
	AP_COL(struct token_view, username, AP_COL_STR),
	AP_COL(struct token_view, name, AP_COL_STR),
	AP_COL(struct token_view, scope, AP_COL_STR),
	AP_COL(struct token_view, allow, AP_COL_STR),
	AP_COL(struct token_view, created, AP_COL_TIME),
	AP_COL(struct token_view, expires, AP_COL_TIME),
	AP_COL(struct token_view, last_used, AP_COL_TIME),
	AP_COL(struct token_view, last_used_addr, AP_COL_STR),
	AP_COL(struct token_view, revoked, AP_COL_TIME),
	AP_COL(struct token_view, expired, AP_COL_BOOL),
	AP_COL(struct token_view, active, AP_COL_BOOL),
	AP_COL_END,
};

struct json_object *
ap_page_token_rows(void)
{
	return ap_rows_new(token_cols, sizeof(struct token_view));
}

/* s copied, "" for NULL (ap_model_str); opt: NULL for NULL or "" (ap_model_opt). */
static const char *
cell_str(struct json_object *rows, const char *s, bool opt)
{
	if (s == NULL || s[0] == '\0')
		return opt ? NULL : "";
	return ap_rows_strdup(rows, s);
}

void
ap_page_token_add(struct json_object *rows, const struct ap_token_row *t, time_t now)
{
	struct token_view *v = ap_rows_add(rows);

	v->id = t->id;
	v->user_id = t->user_id;
	v->username = cell_str(rows, t->username, false);
	v->name = cell_str(rows, t->name, false);
	v->scope = cell_str(rows, t->scope, false);
	v->allow = cell_str(rows, t->allow_cidr, true);
	v->created = t->created_at;
	v->expires = t->expires_at;
	v->last_used = t->last_used_at;
	v->last_used_addr = cell_str(rows, t->last_used_addr, true);
	v->revoked = t->revoked_at;
	v->expired = t->expires_at != 0 && t->expires_at <= now;
	v->active = t->revoked_at == 0 && (t->expires_at == 0 || t->expires_at > now);
}

struct rows {
	struct ap_ctx *ctx;
	struct json_object *arr;
	time_t now;
};

static bool
token_row(void *p, const struct ap_token_row *t)
{
	struct rows *l = p;

	ap_page_token_add(l->arr, t, l->now);
	return true;
}

struct session_view {
	int64_t id, created, last_seen;
	const char *addr, *user_agent;
	bool current;
};
static const struct ap_col session_cols[] = {
	AP_COL(struct session_view, id, AP_COL_INT),
	AP_COL(struct session_view, created, AP_COL_TIME),
	AP_COL(struct session_view, last_seen, AP_COL_TIME),
	AP_COL(struct session_view, addr, AP_COL_STR),
	AP_COL(struct session_view, user_agent, AP_COL_STR),
	AP_COL(struct session_view, current, AP_COL_BOOL),
	AP_COL_END,
};

static bool
session_row(void *p, const struct ap_session_row *s)
{
	struct rows *l = p;
	struct session_view *v = ap_rows_add(l->arr);

	v->id = s->id;
	v->created = s->created_at;
	v->last_seen = s->last_seen_at;
	v->addr = cell_str(l->arr, s->addr, true);
	v->user_agent = cell_str(l->arr, s->user_agent, true);
	v->current = s->id == l->ctx->session_id;
	return true;
}

/* The token form: the scopes this caller may grant, and what was typed after a problem. */
static void
add_token_form(struct ap_ctx *ctx)
{
	const char *sc = ap_ctx_kept(ctx, "scope"), *nm = ap_ctx_kept(ctx, "name");
	const char *al = ap_ctx_kept(ctx, "allow"), *ex = ap_ctx_kept(ctx, "expires_days");
	struct json_object *form = json_object_new_object();
	struct json_object *scopes = json_object_new_array();
	int top = max_scope(ctx);

	for (int i = 0; i <= top; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", scope_choices[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, scope_labels[i]));
		ap_model_add(o, "selected", json_object_new_boolean(sc && strcmp(sc, scope_choices[i]) == 0));
		json_object_array_add(scopes, o);
	}
	ap_model_add(form, "scopes", scopes);
	ap_model_str(form, "name", nm);
	ap_model_str(form, "allow", al);
	ap_model_str(form, "expires_days", ex ? ex : "90");
	ap_model_add(ctx->model, "token_form", form);
}

static const char *
role_label(const char *role)
{
	return strcmp(role, "admin") == 0 ? "Administrator" : strcmp(role, "operator") == 0 ? "Operator" : "Viewer";
}

int
ap_page_account(struct ap_ctx *ctx)
{
	struct ap_user_row row;
	struct json_object *acct;
	struct rows l = { ctx, NULL, time(NULL) };
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Your account");
	if ((rc = ap_user_get(ctx->db, ctx->user->id, &row)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc == AP_DB_ENOTFOUND ? AP_DB_EOTHER : rc);
	acct = json_object_new_object();
	ap_model_add(acct, "id", json_object_new_int64(row.id));
	ap_model_str(acct, "username", row.username);
	ap_model_str(acct, "role", row.role);
	ap_model_str(acct, "role_label", ap_ctx_tr(ctx, role_label(row.role)));
	ap_model_add(acct, "created", ap_model_time(row.created_at));
	ap_model_add(acct, "last_login", ap_model_time(row.last_login_at));
	ap_model_opt(acct, "last_login_addr", row.last_login_addr);
	ap_model_add(acct, "disabled", json_object_new_boolean(row.disabled));
	ap_model_add(acct, "totp_enabled", json_object_new_boolean(row.totp_enabled));
	ap_model_add(ctx->model, "account", acct);
	ap_model_add(ctx->model, "totp_enabled", json_object_new_boolean(row.totp_enabled));
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(ctx->app->require_2fa));
	l.arr = ap_rows_new(session_cols, sizeof(struct session_view));
	ap_model_add(ctx->model, "sessions", l.arr);
	rc = ap_session_each_live(ctx->db, ctx->app->cfg, ctx->user->id, l.now, session_row, &l);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	l.arr = ap_page_token_rows();
	ap_model_add(ctx->model, "tokens", l.arr);
	ap_model_str(ctx->model, "revoke_base", "/account/tokens");
	if ((rc = ap_token_each(ctx->db, ctx->user->id, token_row, &l)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	add_token_form(ctx);
	return 200;
}

int
ap_page_account_password(struct ap_ctx *ctx)
{
	const char *pw = ctx->fields[PW_PASSWORD].s;
	struct ap_problem pb;
	int64_t n = 0;
	int status;
	enum ap_db_rc rc;

	status = ap_ctx_confirm_password(ctx, "current", ctx->fields[PW_CURRENT].s,
	    "is not your current password");
	if (status != 0) {
		if (ctx->problem.code == AP_PB_INVALID)
			ap_ctx_audit(ctx, "account.password", ctx->user->username, "failed", NULL,
			    "{\"reason\":\"wrong current password\"}");
		return status;
	}
	if (strcmp(pw, ctx->fields[PW_CONFIRM].s) != 0)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "confirm", "does not match the new password");
	rc = ap_user_set_password(ctx->db, ctx->app->cfg, ctx->user->id, ctx->user->username, pw, &pb);
	if (rc == AP_DB_EINVAL) {
		ap_ctx_audit(ctx, "account.password", ctx->user->username, "failed", NULL,
		    "{\"reason\":\"policy\"}");
		return ap_ctx_problem(ctx, &pb);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Whoever else holds a session of this account is out; this one gets a new id. */
	if ((rc = ap_session_delete_user(ctx->db, ctx->user->id, ctx->session_id, &n)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if ((status = ap_ctx_rotate_session(ctx)) != 0)
		return status;
	ap_ctx_audit(ctx, "account.password", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"sessions_ended\":%lld}", (long long)n));
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "sessions_ended", json_object_new_int64(n));
		return 200;
	}
	ap_ctx_flash(ctx, "ok", "Your password was changed. Your other sessions were signed out.");
	return ap_ctx_back(ctx, "/account");
}

int
ap_page_account_revoke_others(struct ap_ctx *ctx)
{
	int64_t n = 0;
	enum ap_db_rc rc;

	if (ap_ctx_unconfirmed(ctx, "Sign out all your other sessions? This browser stays signed in."))
		return 200;
	rc = ap_session_delete_user(ctx->db, ctx->user->id, ctx->session_id, &n);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "session.revoke_others", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"count\":%lld}", (long long)n));
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "revoked", json_object_new_int64(n));
		return 200;
	}
	ap_ctx_flash(ctx, "ok", "Your other sessions were signed out.");
	return ap_ctx_back(ctx, "/account");
}

int
ap_page_account_revoke_session(struct ap_ctx *ctx)
{
	int64_t id = ctx->fields[AP_ID].i;
	enum ap_db_rc rc;

	/* Two calls, not one with ?: — xgettext sees only a conditional's first text. */
	if (id == ctx->session_id ? ap_ctx_unconfirmed(ctx, "Sign out this session? You are signed out here.")
				  : ap_ctx_unconfirmed(ctx, "Sign out this session?"))
		return 200;
	/* Only a session of this user: anyone else's id is "not found". */
	rc = ap_session_delete_own(ctx->db, id, ctx->user->id);
	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such session");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "session.revoke", ctx->user->username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"session\":%lld}", (long long)id));
	if (id == ctx->session_id) {
		/* Ending the session in use is signing out. */
		ap_session_cookie_set(ctx, NULL, true);
		if (ctx->req->wants_json)
			return 204;
		ap_ctx_flash(ctx, "ok", "You were signed out.");
		return ap_ctx_back(ctx, "/login");
	}
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The session was signed out.");
	return ap_ctx_back(ctx, "/account");
}

/* ---------------------------------------------------------------- API tokens */

int
ap_page_account_token_create(struct ap_ctx *ctx)
{
	const char *name = ctx->fields[TOK_NAME].s, *scope = ctx->fields[TOK_SCOPE].s;
	const char *allow = ctx->fields[TOK_ALLOW].present ? ctx->fields[TOK_ALLOW].s : "";
	int days = ctx->fields[TOK_EXPIRES].present ? (int)ctx->fields[TOK_EXPIRES].i : 0;
	struct json_object *after, *nt;
	struct ap_problem pb;
	char token[80];
	int64_t id = 0;
	enum ap_db_rc rc;

	if (rank_of(scope) > max_scope(ctx))
		return ap_ctx_fail(ctx, AP_PB_INVALID, "scope", "must not exceed what your role allows");
	rc = ap_token_create(ctx->db, ctx->app->cfg, ctx->user->id, name, scope, allow, days, token, &id, &pb);
	if (rc == AP_DB_EINVAL)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	after = json_object_new_object();
	ap_model_add(after, "id", json_object_new_int64(id));
	ap_model_str(after, "name", name);
	ap_model_str(after, "scope", scope);
	ap_model_str(after, "allow", allow);
	ap_model_add(after, "expires_days", json_object_new_int(days));
	ap_ctx_audit(ctx, "token.create", name, "ok", NULL, ap_ctx_json_text(ctx, after));
	/* Shown once: the table keeps only its keyed hash. */
	nt = json_object_new_object();
	ap_model_add(nt, "id", json_object_new_int64(id));
	ap_model_str(nt, "name", name);
	ap_model_str(nt, "scope", scope);
	ap_model_opt(nt, "allow", allow);
	ap_model_add(nt, "expires", days > 0 ? ap_model_time((int64_t)time(NULL) + (int64_t)days * 86400) : NULL);
	ap_model_str(nt, "token", token);
	explicit_bzero(token, sizeof(token));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 201, nt);
	/* The next page shows it once (a reload does not make another token). */
	ap_ctx_flash(ctx, "ok", "The API token %s was created.", name);
	ap_ctx_flash_secret(ctx, "new_token", nt);
	return ap_ctx_back(ctx, "/account");
}

int
ap_page_account_token_revoke(struct ap_ctx *ctx)
{
	int64_t id = ctx->fields[AP_ID].i;
	enum ap_db_rc rc;

	if (ap_ctx_unconfirmed(ctx, "Revoke this API token? Scripts that use it stop working at once."))
		return 200;
	rc = ap_token_revoke(ctx->db, id, ctx->user->id);
	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such active token");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "token.revoke", ap_arena_printf(ctx->arena, "%lld", (long long)id), "ok", NULL,
	    NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The API token was revoked.");
	return ap_ctx_back(ctx, "/account");
}
