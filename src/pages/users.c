/*
 * users.c — administration of panel accounts (permissions users.read and
 * users.write, which only admins have): list, create, change role,
 * disable/enable, reset a password (every user's API tokens: tokens.c).
 *
 * An admin cannot demote or disable themself, so the panel always keeps
 * at least one admin who can undo a mistake. Disabling a user or resetting
 * their password ends their sessions. Passwords never reach the audit log.
 */
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/users.h"

static const char *const role_choices[] = { "admin", "operator", "viewer", NULL };
static const char *const role_labels[] = { "Administrator", "Operator", "Viewer" };

enum uc_field { UC_USERNAME, UC_ROLE, UC_PASSWORD, UC__MAX };
const struct ap_field ap_user_create_fields[UC__MAX + 1] = {
	[UC_USERNAME] = { .name = "username", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED,
	    .min = 3, .max = 32 },
	[UC_ROLE] = { .name = "role", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = role_choices },
	[UC_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[UC__MAX] = AP_FIELD_END,
};

enum ur_field { UR_ID, UR_ROLE, UR__MAX };
const struct ap_field ap_user_role_fields[UR__MAX + 1] = {
	[UR_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .min = 1, .max = INT64_MAX },
	[UR_ROLE] = { .name = "role", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = role_choices },
	[UR__MAX] = AP_FIELD_END,
};

enum up_field { UP_ID, UP_PASSWORD, UP__MAX };
const struct ap_field ap_user_password_fields[UP__MAX + 1] = {
	[UP_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .min = 1, .max = INT64_MAX },
	[UP_PASSWORD] = { .name = "password", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SECRET, .min = 1, .max = 1024 },
	[UP__MAX] = AP_FIELD_END,
};

static const struct ap_prop user_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "username", .type = AP_J_STRING },
	{ .name = "role", .type = AP_J_STRING, .choices = role_choices },
	{ .name = "disabled", .type = AP_J_BOOL, .desc = "cannot sign in; tokens stop working" },
	{ .name = "totp_enabled", .type = AP_J_BOOL, .desc = "two-factor authentication is on" },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "last_login", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "null: never signed in" },
	{ .name = "last_login_addr", .type = AP_J_STRING, .flags = AP_J_NULL },
	AP_PROP_END,
};
const struct ap_schema ap_user_schema = { .name = "User", .desc = "a panel account", .props = user_props };
AP_SCHEMA_LIST(ap_user_list_schema, "UserList", ap_user_schema);

enum ul_field { UL_ROLE, UL_DISABLED, UL_LIMIT, UL_CURSOR, UL__MAX };
const struct ap_field ap_user_list_fields[UL__MAX + 1] = {
	[UL_ROLE] = { .name = "role", .type = AP_FIELD_ENUM, .choices = role_choices,
	    .desc = "only users with this role" },
	[UL_DISABLED] = { .name = "disabled", .type = AP_FIELD_BOOL,
	    .desc = "only disabled users (true) or only those who can sign in (false)" },
	[UL_LIMIT] = AP_FIELD_LIMIT,
	[UL_CURSOR] = AP_FIELD_CURSOR,
	[UL__MAX] = AP_FIELD_END,
};

/* The user {id} of the path (field 0 of every /users/{id}/... table); 0 or 404. */
static int
path_user(struct ap_ctx *ctx, struct ap_user_row *row)
{
	enum ap_db_rc rc = ap_user_get(ctx->db, ctx->fields[AP_ID].i, row);

	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such user");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 0;
}

/* ---------------------------------------------------------------- the users page */

struct users_ctx {
	struct ap_ctx *ctx;
	struct json_object *arr;
	struct json_object *options[AP_NELEM(role_choices)]; /* each role's, made once, shared by rows */
	int64_t last;           /* the page's last id: the next page's cursor */
	int64_t err_id;         /* the row whose form failed, 0 = none */
	bool err_password;      /* by the reset form, else by the name */
	const char *err_reason; /* translated */
};

static struct json_object *
role_options(struct ap_ctx *ctx, const char *selected)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; role_choices[i] != NULL; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", role_choices[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, role_labels[i]));
		ap_model_add(o, "selected",
		    json_object_new_boolean(selected && strcmp(selected, role_choices[i]) == 0));
		json_object_array_add(arr, o);
	}
	return arr;
}

static const char *
role_label(const char *role)
{
	for (size_t i = 0; role_choices[i] != NULL; i++)
		if (strcmp(role, role_choices[i]) == 0)
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
	ap_model_opt(o, "last_login_addr", u->last_login_addr);
	return o;
}

/* A row of the list: user_json's members and the row's forms, as a typed row source (rows.h). */
struct user_view {
	int64_t id;
	const char *username, *role, *role_label;
	bool disabled, totp_enabled;
	int64_t created, last_login;
	const char *last_login_addr;
	bool self;
	struct json_object *role_options;
	const char *row_error, *row_alert;
};
static const struct ap_col user_cols[] = {
	AP_COL(struct user_view, id, AP_COL_INT),
	AP_COL(struct user_view, username, AP_COL_STR),
	AP_COL(struct user_view, role, AP_COL_STR),
	AP_COL(struct user_view, role_label, AP_COL_STR),
	AP_COL(struct user_view, disabled, AP_COL_BOOL),
	AP_COL(struct user_view, totp_enabled, AP_COL_BOOL),
	AP_COL(struct user_view, created, AP_COL_TIME),
	AP_COL(struct user_view, last_login, AP_COL_TIME),
	AP_COL(struct user_view, last_login_addr, AP_COL_STR),
	AP_COL(struct user_view, self, AP_COL_BOOL),
	AP_COL(struct user_view, role_options, AP_COL_JSON),
	AP_COL(struct user_view, row_error, AP_COL_STR),
	AP_COL(struct user_view, row_alert, AP_COL_STR),
	AP_COL_END,
};

static bool
user_row(void *p, const struct ap_user_row *u)
{
	struct users_ctx *l = p;
	struct ap_ctx *ctx = l->ctx;
	struct user_view *v = ap_rows_add(l->arr);
	bool mine = u->id == l->err_id;
	size_t r = 0;

	l->last = u->id;
	v->id = u->id;
	v->username = ap_rows_strdup(l->arr, u->username);
	v->role = ap_rows_strdup(l->arr, u->role);
	v->role_label = ap_ctx_tr(ctx, role_label(u->role));
	v->disabled = u->disabled;
	v->totp_enabled = u->totp_enabled;
	v->created = u->created_at;
	v->last_login = u->last_login_at;
	v->last_login_addr = u->last_login_addr[0] ? ap_rows_strdup(l->arr, u->last_login_addr) : NULL;
	v->self = u->id == ctx->user->id;
	while (role_choices[r] != NULL && strcmp(role_choices[r], u->role) != 0)
		r++;
	if (role_choices[r] == NULL) {
		v->role_options = role_options(ctx, u->role);
	} else {
		if (l->options[r] == NULL)
			l->options[r] = role_options(ctx, u->role);
		v->role_options = json_object_get(l->options[r]);
	}
	v->row_error = mine && l->err_password ? l->err_reason : NULL;
	v->row_alert = mine && !l->err_password ? l->err_reason : NULL;
	return true;
}

/*
 * The users page: every user with their forms, and the create form. When
 * it is built again after a problem with one user's form
 * (/users/{id}/...), the message goes on that user's row; after a problem
 * with the create form, that form keeps what was typed (not the password).
 */
int
ap_page_users(struct ap_ctx *ctx)
{
	struct users_ctx l = { .ctx = ctx, .arr = ap_rows_new(user_cols, sizeof(struct user_view)) };
	const char *un = ap_ctx_kept(ctx, "username"), *ro = ap_ctx_kept(ctx, "role");
	const char *id = ap_ctx_param(ctx, "id");
	struct json_object *form = json_object_new_object();
	struct ap_user_filter uf = { NULL, -1 };
	struct ap_page pg;
	bool more = false;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Users");
	if (ctx->form_again && id != NULL) {
		/* A row's form failed: its message by the row; the create form stays empty. */
		l.err_id = ctx->fields[AP_ID].i;
		l.err_password = strcmp(ctx->problem.field, "password") == 0;
		l.err_reason = ap_ctx_reason(ctx, &ctx->problem);
		un = ro = NULL;
	}
	ap_model_str(form, "username", un);
	ap_model_add(form, "roles", role_options(ctx, ro ? ro : "viewer"));
	ap_model_add(ctx->model, "create_form", form);
	ap_model_add(ctx->model, "password_min", json_object_new_int(ctx->app->cfg->password_min_length));
	/* A form page built again after a problem shows the first page of everyone. */
	ap_ctx_page(ctx, &pg);
	if (ctx->route->fields == ap_user_list_fields) {
		if (ctx->fields[UL_ROLE].present)
			uf.role = ctx->fields[UL_ROLE].s;
		if (ctx->fields[UL_DISABLED].present)
			uf.disabled = ctx->fields[UL_DISABLED].b ? 1 : 0;
	}
	rc = ap_user_page(ctx->db, &uf, pg.cursor, pg.limit, user_row, &l, &more);
	for (size_t i = 0; i < AP_NELEM(l.options); i++)
		json_object_put(l.options[i]);
	if (rc != AP_DB_OK) {
		json_object_put(l.arr);
		return ap_ctx_db_error(ctx, rc);
	}
	ap_ctx_page_done(ctx, "/users", l.arr, more, l.last);
	return 200;
}

int
ap_page_user_create(struct ap_ctx *ctx)
{
	const char *name = ctx->fields[UC_USERNAME].s, *role = ctx->fields[UC_ROLE].s;
	struct json_object *after;
	struct ap_user_row row;
	struct ap_problem pb;
	int64_t id = 0;
	enum ap_db_rc rc;

	rc = ap_user_create(ctx->db, ctx->app->cfg, name, role, ctx->fields[UC_PASSWORD].s, &id, &pb);
	if (rc == AP_DB_EINVAL || rc == AP_DB_ECONSTRAINT)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	after = json_object_new_object();
	ap_model_str(after, "username", name);
	ap_model_str(after, "role", role);
	ap_ctx_audit(ctx, "user.add", name, "ok", NULL, ap_ctx_json_text(ctx, after));
	if (!ctx->req->wants_json) {
		ap_ctx_flash(ctx, "ok", "The user %s was added.", name);
		return ap_ctx_back(ctx, "/users");
	}
	if ((rc = ap_user_get(ctx->db, id, &row)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return ap_ctx_answer(ctx, 201, user_json(ctx, &row));
}

/* What a changed user looks like to an API client; a browser goes back to the list. */
static int
user_done(struct ap_ctx *ctx, int64_t id)
{
	struct ap_user_row row;
	enum ap_db_rc rc;

	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, "/users");
	if ((rc = ap_user_get(ctx->db, id, &row)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return ap_ctx_answer(ctx, 200, user_json(ctx, &row));
}

int
ap_page_user_role(struct ap_ctx *ctx)
{
	const char *role = ctx->fields[UR_ROLE].s;
	struct json_object *before, *after;
	struct ap_user_row row;
	int st;
	enum ap_db_rc rc;

	if ((st = path_user(ctx, &row)) != 0)
		return st;
	if (strcmp(role, row.role) == 0)
		return user_done(ctx, row.id);
	if (row.id == ctx->user->id)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "role",
		    "you cannot change your own role; another administrator has to do it");
	if ((rc = ap_user_set_role(ctx->db, row.id, role)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_flash(ctx, "ok", "%s is now: %s.", row.username, ap_ctx_tr(ctx, role_label(role)));
	before = json_object_new_object();
	ap_model_str(before, "role", row.role);
	after = json_object_new_object();
	ap_model_str(after, "role", role);
	ap_ctx_audit(ctx, "user.role", row.username, "ok", ap_ctx_json_text(ctx, before),
	    ap_ctx_json_text(ctx, after));
	return user_done(ctx, row.id);
}

static int
set_disabled(struct ap_ctx *ctx, bool disabled)
{
	struct ap_user_row row;
	int64_t n = 0;
	int st;
	enum ap_db_rc rc;

	if ((st = path_user(ctx, &row)) != 0)
		return st;
	if (disabled && row.id == ctx->user->id)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "id",
		    "you cannot disable your own account; another administrator has to do it");
	if (row.disabled == disabled)
		return user_done(ctx, row.id);
	if (disabled && ap_ctx_unconfirmed(ctx, "Disable the user %s? They are signed out everywhere and "
						"cannot sign in until enabled again.", row.username))
		return 200;
	rc = ap_user_set_disabled(ctx->db, row.id, disabled);
	/* A disabled user is signed out everywhere at once. */
	if (rc == AP_DB_OK && disabled)
		rc = ap_session_delete_user(ctx->db, row.id, 0, &n);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (disabled)
		ap_ctx_flash(ctx, "ok", "The user %s was disabled and signed out.", row.username);
	else
		ap_ctx_flash(ctx, "ok", "The user %s can sign in again.", row.username);
	ap_ctx_audit(ctx, disabled ? "user.disable" : "user.enable", row.username, "ok",
	    disabled ? "{\"disabled\":false}" : "{\"disabled\":true}",
	    disabled ? ap_arena_printf(ctx->arena, "{\"disabled\":true,\"sessions_ended\":%lld}", (long long)n)
		     : "{\"disabled\":false}");
	return user_done(ctx, row.id);
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
	struct ap_user_row row;
	struct ap_problem pb;
	int64_t n = 0;
	int st;
	enum ap_db_rc rc;

	if ((st = path_user(ctx, &row)) != 0)
		return st;
	/* Their own password only with the current one (account page): a stolen
	 * admin session must not be enough to take the account over. */
	if (row.id == ctx->user->id)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "id",
		    "change your own password on your account page, with your current password");
	rc = ap_user_set_password(ctx->db, ctx->app->cfg, row.id, row.username, ctx->fields[UP_PASSWORD].s,
	    &pb);
	if (rc == AP_DB_EINVAL) {
		ap_ctx_audit(ctx, "user.password_reset", row.username, "failed", NULL, "{\"reason\":\"policy\"}");
		return ap_ctx_problem(ctx, &pb);
	}
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Whoever used the old password is out. */
	if ((rc = ap_session_delete_user(ctx->db, row.id, 0, &n)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "user.password_reset", row.username, "ok", NULL,
	    ap_arena_printf(ctx->arena, "{\"sessions_ended\":%lld}", (long long)n));
	ap_ctx_flash(ctx, "ok", "A new password was set for %s; their sessions were signed out.", row.username);
	return user_done(ctx, row.id);
}
