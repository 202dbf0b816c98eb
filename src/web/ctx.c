/*
 * ctx.c — what a handler may ask of its request (app.h): validated fields
 * and path parameters, translation, headers and redirects, the worker's
 * database connection, and the audit record of a change. Below the gate
 * and the response layer, which both use it; it calls neither.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/app.h"
#include "aapanel/audit.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/users.h"

const char *
ap_ctx_tr(const struct ap_ctx *ctx, const char *msgid)
{
	if (ctx->app->i18n == NULL)
		return msgid;
	return ap_i18n_gettext(ctx->app->i18n, ctx->lang, msgid);
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
ap_ctx_fail(struct ap_ctx *ctx, enum ap_pb_code code, const char *field, const char *msgid, ...)
{
	va_list ap;

	va_start(ap, msgid);
	ap_problem_vset(&ctx->problem, code, field, msgid, ap);
	va_end(ap);
	return ctx->problem.status;
}

int
ap_ctx_problem(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	ap_problem_copy(&ctx->problem, pb);
	if (ctx->problem.status == 0)
		ctx->problem.status = ap_pb_status(ctx->problem.code);
	return ctx->problem.status;
}

const char *
ap_ctx_reason(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	char buf[512];

	if (pb->msgid == NULL)
		return ap_arena_strdup(ctx->arena, pb->reason);
	ap_problem_format(pb, ap_ctx_tr(ctx, pb->msgid), buf, sizeof(buf));
	return ap_arena_strdup(ctx->arena, buf);
}

const char *
ap_ctx_kept(const struct ap_ctx *ctx, const char *name)
{
	const struct ap_field *f = ctx->route ? ctx->route->fields : NULL;
	size_t nf = ap_fields_count(f);

	if (!ctx->form_again)
		return NULL;
	for (size_t i = 0; i < nf; i++)
		if (strcmp(f[i].name, name) == 0 && (f[i].flags & AP_FIELD_SECRET))
			return NULL;
	if (ctx->req->method == AP_METHOD_GET || ctx->req->method == AP_METHOD_HEAD)
		return ap_req_query(ctx->req, name);
	return ap_req_form(ctx->req, name);
}

void
ap_model_raw(struct json_object *o, const char *const_key, const char *html)
{
	struct json_object *v = json_object_new_string(html ? html : "");

	ap_tpl_mark_raw(v);
	ap_model_add(o, const_key, v);
}

const char *
ap_ctx_json_text(struct ap_ctx *ctx, struct json_object *o)
{
	const char *s = ap_arena_strdup(ctx->arena,
	    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	return s;
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
	return ap_ctx_fail(ctx, AP_PB_UNAVAILABLE, NULL, "database unavailable");
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
	return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "database error");
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

int
ap_ctx_confirm_password(struct ap_ctx *ctx, const char *field, const char *password,
    const char *wrong_msgid)
{
	struct ap_signin res;
	enum ap_db_rc rc;

	rc = ap_signin_password(ap_ctx_db(ctx), ctx->app->cfg, ctx->user->username, password,
	    ctx->client_addr, time(NULL), &res);
	explicit_bzero(&res.user, sizeof(res.user));
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	if (res.wait_s > 0) {
		ap_ctx_header(ctx, "Retry-After", ap_arena_printf(ctx->arena, "%lld", (long long)res.wait_s));
		return ap_ctx_fail(ctx, AP_PB_THROTTLED, NULL,
		    "Too many failed attempts. Try again in %lld seconds.", (long long)res.wait_s);
	}
	if (!res.ok) {
		ap_problem_msg(&ctx->problem, AP_PB_INVALID, field, wrong_msgid);
		return ctx->problem.status;
	}
	return 0;
}
