/*
 * ctx.c — what a handler may ask of its request (app.h): validated fields
 * and path parameters, translation, headers and redirects, the worker's
 * database connection, and the audit record of a change. Below the gate
 * and the response layer, which both use it; it calls neither.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/app.h"
#include "aapanel/audit.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"

const char *
ap_ctx_tr(const struct ap_ctx *ctx, const char *msgid)
{
	if (ctx->app->i18n == NULL)
		return msgid;
	return ap_i18n_gettext(ctx->app->i18n, ctx->lang, msgid);
}

const struct ap_fieldval *
ap_ctx_field(const struct ap_ctx *ctx, const char *name)
{
	if (ctx->route == NULL || ctx->route->fields == NULL || ctx->fields == NULL)
		return NULL;
	return ap_fieldval_get(ctx->route->fields, ctx->fields, name);
}

const char *
ap_ctx_param(const struct ap_ctx *ctx, const char *name)
{
	for (size_t i = 0; i < ctx->params.n; i++)
		if (strcmp(ctx->params.v[i].name, name) == 0)
			return ctx->params.v[i].val;
	return NULL;
}

static bool
header_safe(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

bool
ap_ctx_header(struct ap_ctx *ctx, const char *name, const char *value)
{
	if (!header_safe(name) || !header_safe(value) || strchr(name, ':') != NULL) {
		AP_ERROR("refused header %s with CR/LF", name);
		return false;
	}
	ap_buf_printf(&ctx->headers, "%s: %s\r\n", name, value);
	return true;
}

int
ap_ctx_redirect(struct ap_ctx *ctx, int status, const char *location)
{
	/* Only local paths: never an open redirect to another site. */
	if (location == NULL || location[0] != '/' || location[1] == '/' ||
	    location[1] == '\\' || !header_safe(location))
		location = "/";
	ctx->location = location;
	return status ? status : 303;
}

const char *
ap_ctx_tr_reason(struct ap_ctx *ctx, const char *reason)
{
	if (strncmp(reason, "must be at least ", 17) == 0 && strstr(reason, " characters") != NULL)
		return ap_arena_printf(ctx->arena, ap_ctx_tr(ctx, "must be at least %d characters"),
		    ctx->app->cfg->password_min_length);
	return ap_ctx_tr(ctx, reason);
}

const char *
ap_ctx_base(const struct ap_ctx *ctx)
{
	return strcmp(ctx->app->cfg->base_path, "/") == 0 ? "" : ctx->app->cfg->base_path;
}

int
ap_ctx_back(struct ap_ctx *ctx, const char *path)
{
	return ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s%s", ap_ctx_base(ctx), path));
}

void
ap_model_str(struct json_object *o, const char *const_key, const char *v)
{
	ap_model_add(o, const_key, json_object_new_string(v ? v : ""));
}

struct json_object *
ap_model_time(int64_t t)
{
	char iso[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return NULL;
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(iso);
}

int
ap_ctx_bad_field(struct ap_ctx *ctx, const char *field, const char *reason)
{
	ctx->err.status = 400;
	snprintf(ctx->err.field, sizeof(ctx->err.field), "%s", field);
	snprintf(ctx->err.reason, sizeof(ctx->err.reason), "%s", reason);
	return 400;
}

#define DB_RETRY_MS 1000u

static void
mark_down(struct ap_app *app)
{
	app->db_retry_ms = ap_now_ms() + DB_RETRY_MS;
}

struct ap_db *
ap_ctx_db(struct ap_ctx *ctx)
{
	struct ap_app *app = ctx->app;
	enum ap_db_rc rc;

	if (app->db != NULL && ap_db_connected(app->db))
		return app->db;
	if (app->db_retry_ms && ap_now_ms() < app->db_retry_ms)
		return NULL;
	if (app->db == NULL) {
		rc = ap_dbconn_open(app->cfg, &app->db);
		if (rc == AP_DB_EINVAL && app->db == NULL) {
			mark_down(app);
			return NULL;
		}
	} else {
		rc = ap_db_ping(app->db); /* reconnects */
	}
	if (rc != AP_DB_OK) {
		AP_WARN("database unavailable: %s (%s)", ap_db_errmsg(app->db), ap_db_rc_str(rc));
		mark_down(app);
		return NULL;
	}
	app->db_retry_ms = 0;
	return app->db;
}

int
ap_ctx_db_down(struct ap_ctx *ctx)
{
	snprintf(ctx->err.reason, sizeof(ctx->err.reason), "database unavailable");
	return 503;
}

int
ap_ctx_db_error(struct ap_ctx *ctx, enum ap_db_rc rc)
{
	AP_ERROR("database: %s (%s)", ap_db_errmsg(ctx->app->db), ap_db_rc_str(rc));
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT) {
		if (rc == AP_DB_ECONN)
			mark_down(ctx->app);
		return ap_ctx_db_down(ctx);
	}
	return 500;
}

enum ap_db_rc
ap_ctx_audit(struct ap_ctx *ctx, const char *action, const char *target, const char *outcome,
    const char *before_json, const char *after_json)
{
	struct ap_db *db = ap_ctx_db(ctx);
	struct ap_audit a = {
		.actor = ctx->user ? ctx->user->username
				   : (ctx->pending_user ? ctx->pending_user->username : "anonymous"),
		.actor_user_id = ctx->user ? ctx->user->id : (ctx->pending_user ? ctx->pending_user->id : 0),
		.addr = ctx->client_addr,
		.via = ctx->via ? ctx->via : "ui",
		.action = action,
		.target = target,
		.outcome = outcome,
		.before_json = before_json,
		.after_json = after_json,
	};
	enum ap_db_rc rc;

	if (db == NULL)
		return AP_DB_ECONN;
	rc = ap_audit_record(db, &a);
	if (rc != AP_DB_OK)
		AP_ERROR("audit %s %s: %s (%s)", action, outcome, ap_db_errmsg(db), ap_db_rc_str(rc));
	return rc;
}
