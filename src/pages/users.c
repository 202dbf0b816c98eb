/*
 * users.c — administration of panel accounts (permissions users.read and
 * users.write, which only admins have): list, create, change role,
 * disable/enable, reset a password; every user's API tokens.
 *
 * An admin cannot demote or disable themself, so the panel always keeps
 * at least one admin who can undo a mistake. Disabling a user or resetting
 * their password ends their sessions. Passwords never reach the audit log.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/audit.h"
#include "aapanel/auth.h"
#include "aapanel/users.h"
#include "aapanel/pages.h"

static const char *const role_names[] = { "admin", "operator", "viewer" };
static const char *const role_labels[] = { "Administrator", "Operator", "Viewer" };

/* JSON text of o for the audit log (arena copy); o is released. */
static const char *
json_text(struct ap_ctx *ctx, struct json_object *o)
{
	const char *s = ap_arena_strdup(ctx->arena,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
}


/*
 * The {id} path parameter as a user that exists: 1..INT64_MAX, else 404
 * (0 = found; the status otherwise).
 */
static int
param_user(struct ap_ctx *ctx, struct ap_db *db, struct ap_user_row *row)
{
	const char *s = ap_ctx_param(ctx, "id");
	const char *errstr = NULL;
	long long v;
	enum ap_db_rc rc;

	if (s == NULL || !ap_strtonum(s, 1, INT64_MAX, &v, &errstr)) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such user");
		return 404;
	}
	rc = ap_user_get(db, v, row);
	if (rc == AP_DB_ENOTFOUND) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such user");
		return 404;
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 0;
}

/* ---------------------------------------------------------------- the users page */

struct users_ctx {
	struct ap_ctx *ctx;
	struct json_object *arr;
	int64_t err_id;          /* the row whose form failed, 0 = none */
	const char *err_field;   /* "password": by the reset form; else by the name */
	const char *err_reason;  /* translated */
};

static struct json_object *
role_options(struct ap_ctx *ctx, const char *selected)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < AP_NELEM(role_names); i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", role_names[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, role_labels[i]));
		ap_model_add(o, "selected",
		    json_object_new_boolean(selected && strcmp(selected, role_names[i]) == 0));
		json_object_array_add(arr, o);
	}
	return arr;
}

static const char *
role_label(const char *role)
{
	for (size_t i = 0; i < AP_NELEM(role_names); i++)
		if (strcmp(role, role_names[i]) == 0)
			return role_labels[i];
	return role;
}

static struct json_object *
user_json(struct ap_ctx *ctx, const struct ap_user_row *u)
{
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(u->id));
	ap_model_str(o, "username", u->username);
	ap_model_str(o, "role", u->role);
	ap_model_str(o, "role_label", ap_ctx_tr(ctx, role_label(u->role)));
	ap_model_add(o, "disabled", json_object_new_boolean(u->disabled));
	ap_model_add(o, "totp_enabled", json_object_new_boolean(u->totp_enabled));
	ap_model_add(o, "created", ap_model_time(u->created_at));
	ap_model_add(o, "last_login", ap_model_time(u->last_login_at));
	ap_model_str(o, "last_login_addr", u->last_login_addr);
	return o;
}

static bool
user_row(void *p, const struct ap_user_row *u)
{
	struct users_ctx *l = p;
	struct ap_ctx *ctx = l->ctx;
	struct json_object *o = user_json(ctx, u);

	ap_model_add(o, "self", json_object_new_boolean(u->id == ctx->user->id));
	ap_model_add(o, "role_options", role_options(ctx, u->role));
	if (u->id == l->err_id && strcmp(l->err_field, "password") == 0)
		ap_model_str(o, "row_error", l->err_reason);
	else
		ap_model_add(o, "row_error", NULL);
	if (u->id == l->err_id && strcmp(l->err_field, "password") != 0)
		ap_model_str(o, "row_alert", l->err_reason);
	else
		ap_model_add(o, "row_alert", NULL);
	json_object_array_add(l->arr, o);
	return true;
}

/*
 * Fill the users page: every user with their forms, and the create form
 * (with what was typed, except the password, when keep). err_id,
 * err_field and err_reason put a message on one user's row. Returns 200
 * or an error status.
 */
static int
users_model(struct ap_ctx *ctx, struct ap_db *db, int64_t err_id, const char *err_field,
    const char *err_reason, bool keep)
{
	const struct ap_fieldval *un = ap_ctx_field(ctx, "username");
	const struct ap_fieldval *ro = ap_ctx_field(ctx, "role");
	struct users_ctx l = { ctx, json_object_new_array(), err_id, err_field ? err_field : "", err_reason };
	struct json_object *form = json_object_new_object();
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Users");
	ap_model_add(ctx->model, "users", l.arr);
	ap_model_str(form, "username", keep && un && un->present ? un->s : "");
	ap_model_add(form, "roles", role_options(ctx, keep && ro && ro->present ? ro->s : "viewer"));
	ap_model_add(ctx->model, "create_form", form);
	ap_model_add(ctx->model, "password_min", json_object_new_int(ctx->app->cfg->password_min_length));
	rc = ap_user_each(db, user_row, &l);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 200;
}

int
ap_page_users(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	return users_model(ctx, db, 0, NULL, NULL, false);
}

/* 400 naming the field; a browser sees the page again with the message. */
static int
users_fail(struct ap_ctx *ctx, struct ap_db *db, const char *field, const char *reason, int64_t row_id)
{
	struct json_object *errs;
	int st;

	ap_ctx_bad_field(ctx, field, reason);
	if (ctx->req->wants_json)
		return 400;
	st = users_model(ctx, db, row_id, field, ap_ctx_tr_reason(ctx, reason), row_id == 0);
	if (st != 200)
		return st;
	if (row_id == 0) {
		errs = json_object_new_object();
		json_object_object_add(errs, field, json_object_new_string(ap_ctx_tr_reason(ctx, reason)));
		json_object_object_add(ctx->model, "errors", errs);
	}
	json_object_object_add(ctx->model, "error",
	    json_object_new_string(ap_ctx_tr(ctx, "Please correct the marked field.")));
	ctx->model_is_body = true;
	return 400;
}

int
ap_page_user_create(struct ap_ctx *ctx)
{
	const char *name = ap_ctx_field(ctx, "username")->s;
	const char *role = ap_ctx_field(ctx, "role")->s;
	const char *pw = ap_ctx_field(ctx, "password")->s;
	struct ap_db *db = ap_ctx_db(ctx);
	struct json_object *after;
	struct ap_user_row row;
	const char *why = NULL;
	int64_t id = 0;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_user_create(db, ctx->app->cfg, name, role, pw, &id, &why);
	if (rc == AP_DB_ECONSTRAINT)
		return users_fail(ctx, db, "username", "a user with this name already exists", 0);
	if (rc == AP_DB_EINVAL) {
		const char *f = why == NULL ? "password"
		    : strncmp(why, "username ", 9) == 0 ? "username"
		    : strncmp(why, "role ", 5) == 0 ? "role" : "password";

		/* "username must be …" → "must be …": the message stands next to the field. */
		if (why && strncmp(why, f, strlen(f)) == 0 && why[strlen(f)] == ' ')
			why += strlen(f) + 1;
		return users_fail(ctx, db, f, why ? why : "is not valid", 0);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	after = json_object_new_object();
	ap_model_str(after, "username", name);
	ap_model_str(after, "role", role);
	ap_ctx_audit(ctx, "user.add", name, "ok", NULL, json_text(ctx, after));
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, "/users");
	if ((rc = ap_user_get(db, id, &row)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "user", user_json(ctx, &row));
	return 201;
}

/* What a changed user looks like to an API client. */
static int
user_done(struct ap_ctx *ctx, struct ap_db *db, int64_t id)
{
	struct ap_user_row row;
	enum ap_db_rc rc;

	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, "/users");
	if ((rc = ap_user_get(db, id, &row)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "user", user_json(ctx, &row));
	return 200;
}

int
ap_page_user_role(struct ap_ctx *ctx)
{
	const char *role = ap_ctx_field(ctx, "role")->s;
	struct ap_db *db = ap_ctx_db(ctx);
	struct json_object *before, *after;
	struct ap_user_row row;
	int st;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if ((st = param_user(ctx, db, &row)) != 0)
		return st;
	if (row.id == ctx->user->id && strcmp(role, row.role) != 0) {
		ctx->tpl = "users";
		return users_fail(ctx, db, "role",
		    "you cannot change your own role; another administrator has to do it", row.id);
	}
	if (strcmp(role, row.role) != 0) {
		rc = ap_user_set_role(db, row.id, role);
		if (rc != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		before = json_object_new_object();
		ap_model_str(before, "role", row.role);
		after = json_object_new_object();
		ap_model_str(after, "role", role);
		ap_ctx_audit(ctx, "user.role", row.username, "ok", json_text(ctx, before), json_text(ctx, after));
	}
	return user_done(ctx, db, row.id);
}

static int
set_disabled(struct ap_ctx *ctx, bool disabled)
{
	struct ap_db *db = ap_ctx_db(ctx);
	struct ap_user_row row;
	int64_t n = 0;
	int st;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if ((st = param_user(ctx, db, &row)) != 0)
		return st;
	if (disabled && row.id == ctx->user->id) {
		ctx->tpl = "users";
		return users_fail(ctx, db, "id",
		    "you cannot disable your own account; another administrator has to do it", row.id);
	}
	if (row.disabled != disabled) {
		rc = ap_user_set_disabled(db, row.id, disabled);
		/* A disabled user is signed out everywhere at once. */
		if (rc == AP_DB_OK && disabled)
			rc = ap_session_delete_user(db, row.id, 0, &n);
		if (rc != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		ap_ctx_audit(ctx, disabled ? "user.disable" : "user.enable", row.username, "ok",
		    disabled ? "{\"disabled\":false}" : "{\"disabled\":true}",
		    disabled ? ap_arena_printf(ctx->arena, "{\"disabled\":true,\"sessions_ended\":%lld}",
				   (long long)n)
			     : "{\"disabled\":false}");
	}
	return user_done(ctx, db, row.id);
}

int
ap_page_user_disable(struct ap_ctx *ctx)
{
	return set_disabled(ctx, true);
}

int
ap_page_user_enable(struct ap_ctx *ctx)
{
	return set_disabled(ctx, false);
}

int
ap_page_user_password(struct ap_ctx *ctx)
{
	const char *pw = ap_ctx_field(ctx, "password")->s;
	struct ap_db *db = ap_ctx_db(ctx);
	struct ap_user_row row;
	const char *why = NULL;
	int64_t n = 0;
	int st;
	enum ap_db_rc rc;

	if (db == NULL)
		return ap_ctx_db_down(ctx);
	if ((st = param_user(ctx, db, &row)) != 0)
		return st;
	/* Their own password only with the current one (account page): a stolen
	 * admin session must not be enough to take the account over. */
	if (row.id == ctx->user->id)
		return users_fail(ctx, db, "id",
		    "change your own password on your account page, with your current password", row.id);
	rc = ap_user_set_password(db, ctx->app->cfg, row.id, row.username, pw, &why);
	if (rc == AP_DB_EINVAL) {
		ap_ctx_audit(ctx, "user.password_reset", row.username, "failed", NULL, "{\"reason\":\"policy\"}");
		return users_fail(ctx, db, "password", why, row.id);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Whoever used the old password is out. */
	rc = ap_session_delete_user(db, row.id, 0, &n);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "user.password_reset", row.username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"sessions_ended\":%lld}", (long long)n));
	return user_done(ctx, db, row.id);
}

/* ---------------------------------------------------------------- every user's tokens */

struct tokens_ctx {
	struct json_object *arr;
	time_t now;
};

static bool
token_row(void *p, const struct ap_token_row *t)
{
	struct tokens_ctx *l = p;

	json_object_array_add(l->arr, ap_page_token_json(t, l->now));
	return true;
}

int
ap_page_tokens(struct ap_ctx *ctx)
{
	struct ap_db *db = ap_ctx_db(ctx);
	struct tokens_ctx l = { json_object_new_array(), time(NULL) };
	enum ap_db_rc rc;

	ap_model_add(ctx->model, "tokens", l.arr);
	ap_model_str(ctx->model, "revoke_base", "/tokens");
	if (db == NULL)
		return ap_ctx_db_down(ctx);
	ctx->title = ap_ctx_tr(ctx, "API tokens");
	rc = ap_token_each(db, 0, token_row, &l);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 200;
}

int
ap_page_token_revoke(struct ap_ctx *ctx)
{
	const char *s = ap_ctx_param(ctx, "id");
	const char *errstr = NULL;
	struct ap_db *db;
	long long id;
	enum ap_db_rc rc;

	if (s == NULL || !ap_strtonum(s, 1, INT64_MAX, &id, &errstr)) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such token");
		return 404;
	}
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	rc = ap_token_revoke(db, id, 0);
	if (rc == AP_DB_ENOTFOUND) {
		snprintf(ctx->err.reason, sizeof(ctx->err.reason), "no such active token");
		return 404;
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "token.revoke", ap_arena_printf(ctx->arena, "%lld", id), "ok", NULL, NULL);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "revoked", json_object_new_int64(id));
		return 200;
	}
	return ap_ctx_back(ctx, "/tokens");
}
