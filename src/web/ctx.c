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
#include "aapanel/crypto.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/rows.h"
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

int
ap_ctx_redirect_moved(struct ap_ctx *ctx, const char *url)
{
	const char *host = ctx->req->host ? ctx->req->host : "", *p;
	size_t hl = strcspn(host, ":");

	if (host[0] == '[')
		hl = strchr(host, ']') ? (size_t)(strchr(host, ']') - host) + 1 : 0;
	if (url == NULL || !header_safe(url))
		return ap_ctx_redirect(ctx, 303, url);
	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return ap_ctx_redirect(ctx, 303, url);
	/* The same host as this request, another port or path: never another site. */
	if (hl == 0 || strncmp(p, host, hl) != 0 || (p[hl] != ':' && p[hl] != '/'))
		return ap_ctx_redirect(ctx, 303, "/");
	ctx->location = url;
	return 303;
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
ap_ctx_empty(struct ap_ctx *ctx, const char *text, const char *href, const char *label)
{
	struct json_object *e = json_object_new_object();

	ap_model_str(e, "text", ap_ctx_tr(ctx, text));
	if (href != NULL) {
		ap_model_str(e, "href", href);
		ap_model_str(e, "label", ap_ctx_tr(ctx, label));
	}
	ap_model_add(ctx->model, "empty", e);
}

int
ap_ctx_answer(struct ap_ctx *ctx, int status, struct json_object *resource)
{
	json_object_put(ctx->model);
	ctx->model = resource;
	return status;
}

void
ap_model_str(struct json_object *o, const char *const_key, const char *v)
{
	ap_model_add(o, const_key, json_object_new_string(v ? v : ""));
}

void
ap_model_opt(struct json_object *o, const char *const_key, const char *v)
{
	ap_model_add(o, const_key, v != NULL && v[0] != '\0' ? json_object_new_string(v) : NULL);
}

/* The index of the route's field called name, or -1. */
static int
route_field(const struct ap_ctx *ctx, const char *name)
{
	const struct ap_field *f = ctx->route ? ctx->route->fields : NULL;

	for (size_t i = 0; f != NULL && f[i].type != AP_FIELD__MAX; i++)
		if (strcmp(f[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
ap_ctx_page(const struct ap_ctx *ctx, struct ap_page *pg)
{
	int l = route_field(ctx, "limit"), c = route_field(ctx, "cursor");

	pg->limit = AP_PAGE_LIMIT_DEFAULT;
	pg->cursor = 0;
	/* A form page built again after a problem: its fields may be the bad ones. */
	if (ctx->fields == NULL || ctx->form_again)
		return;
	if (l >= 0 && ctx->fields[l].present)
		pg->limit = ctx->fields[l].i;
	/* The cursor passed ap_cursor_check: 1 to 19 digits. */
	if (c >= 0 && ctx->fields[c].present && ctx->fields[c].len > 0)
		pg->cursor = strtoll(ctx->fields[c].s, NULL, 10);
}

/*
 * The list's link: base, /api/v1 when the request came there, path; then
 * the request's validated query fields but the cursor (when it is the
 * list's own GET, not a form page built again), then the cursor when asked.
 */
static const char *
page_link(struct ap_ctx *ctx, const char *path, bool with_cursor, int64_t cursor)
{
	const struct ap_field *f = ctx->route ? ctx->route->fields : NULL;
	bool own = !ctx->form_again && ctx->req->method != AP_METHOD_POST;
	const char *out;
	struct ap_buf b = { 0 };
	char sep = '?';

	ap_buf_printf(&b, "%s%s%s", ap_ctx_base(ctx), ctx->api ? "/api/v1" : "", path);
	for (size_t i = 0; f != NULL && own && f[i].type != AP_FIELD__MAX; i++) {
		const struct ap_fieldval *v = &ctx->fields[i];

		if ((f[i].flags & AP_FIELD_PATH) || !v->present || v->len == 0 || strcmp(f[i].name, "cursor") == 0)
			continue;
		ap_buf_putc(&b, sep);
		ap_buf_puts(&b, f[i].name);
		ap_buf_putc(&b, '=');
		ap_url_encode(&b, v->s);
		sep = '&';
	}
	if (with_cursor)
		ap_buf_printf(&b, "%ccursor=%lld", sep, (long long)cursor);
	out = ap_arena_strdup(ctx->arena, ap_buf_cstr(&b));
	ap_buf_free(&b);
	return out;
}

void
ap_ctx_page_done(struct ap_ctx *ctx, const char *path, struct json_object *items, bool more,
    int64_t next_cursor)
{
	struct ap_page pg;

	ap_model_add(ctx->model, "has_items",
	    json_object_new_boolean(json_object_array_length(items) > 0 || ap_rows_count(items) > 0));
	ap_model_add(ctx->model, "items", items);
	ap_model_add(ctx->model, "next",
	    more ? json_object_new_string(page_link(ctx, path, true, next_cursor)) : NULL);
	/* For the page only: back to the first page from a later one. */
	ap_ctx_page(ctx, &pg);
	ap_model_add(ctx->model, "first",
	    pg.cursor != 0 ? json_object_new_string(page_link(ctx, path, false, 0)) : NULL);
	ap_model_add(ctx->model, "paged", json_object_new_boolean(more || pg.cursor != 0));
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

static void
add_part(struct json_object *parts, const char *text, size_t len, bool arg)
{
	struct json_object *p = json_object_new_object();

	ap_model_add(p, "text", json_object_new_string_len(text, (int)len));
	ap_model_add(p, "arg", json_object_new_boolean(arg));
	json_object_array_add(parts, p);
}

/* Stands for an argument while the translation is formatted: no catalog text holds it. */
#define ARG_MARK '\x01'

struct json_object *
ap_ctx_reason_parts(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	struct json_object *parts = json_object_new_array();
	struct ap_problem marked;
	char buf[512];
	const char *p, *m;
	bool split = pb->msgid != NULL && pb->nargs > 0;
	int i, n = 0;

	/* The translation formatted with a mark for each argument: the text
	 * between marks is the sentence, each mark the next argument in order
	 * (ap_problem_format substitutes them in order). Anything else (no
	 * arguments, the English fallback of a broken translation, an argument
	 * that holds the mark itself) is one piece: the reason as ap_ctx_reason
	 * gives it. */
	for (i = 0; split && i < pb->nargs; i++)
		split = strchr(pb->args[i], ARG_MARK) == NULL;
	if (split) {
		ap_problem_copy(&marked, pb);
		for (i = 0; i < marked.nargs; i++)
			snprintf(marked.args[i], sizeof(marked.args[i]), "%c", ARG_MARK);
		ap_problem_format(&marked, ap_ctx_tr(ctx, pb->msgid), buf, sizeof(buf));
		for (p = buf; (p = strchr(p, ARG_MARK)) != NULL; p++)
			n++;
		split = n == pb->nargs;
	}
	if (!split)
		snprintf(buf, sizeof(buf), "%s", ap_ctx_reason(ctx, pb));
	for (p = buf, i = 0; split && (m = strchr(p, ARG_MARK)) != NULL; p = m + 1, i++) {
		if (m > p)
			add_part(parts, p, (size_t)(m - p), false);
		add_part(parts, pb->args[i], strlen(pb->args[i]), true);
	}
	if (*p != '\0' || json_object_array_length(parts) == 0)
		add_part(parts, p, strlen(p), false);
	return parts;
}

const char *
ap_ctx_kept(const struct ap_ctx *ctx, const char *name)
{
	const struct ap_field *f = ctx->route ? ctx->route->fields : NULL;
	size_t nf = f != NULL ? ap_fields_count(f) : 0;

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
	/* The storage, not the request: 503 for everyone alike, never a 500. */
	if (rc == AP_DB_EREADONLY || rc == AP_DB_EFULL)
		return ap_ctx_fail(ctx, AP_PB_UNAVAILABLE, NULL,
		    "The panel cannot save changes now: its storage is full or read-only.");
	return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "database error");
}

/*
 * The test profile only: AAPANEL_TEST_AUDIT_DELAY_MS holds every audit row
 * back that long after its change, so t_hosts.sh can kill a worker between
 * a change and its audit row and see that neither was kept.
 */
static void
test_audit_delay(const struct ap_ctx *ctx)
{
	const char *v = getenv("AAPANEL_TEST_AUDIT_DELAY_MS");
	long long ms;
	const char *e;
	struct timespec ts;

	if (v == NULL || ctx->app->cfg->profile != AP_PROFILE_TEST || !ap_strtonum(v, 1, 60000, &ms, &e))
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
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
	test_audit_delay(ctx);
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

#define FLASH_COOKIE "aapanel_flash"
#define FLASH_TTL_S 60

/* The message as a problem struct keeps its msgid and formatted arguments. */
static void
flash_set_msg(struct ap_ctx *ctx, const char *kind, const struct ap_problem *pb)
{
	struct json_object *args = json_object_new_array();

	if (ctx->flash == NULL)
		ctx->flash = json_object_new_object();
	for (int i = 0; i < pb->nargs; i++)
		json_object_array_add(args, json_object_new_string(pb->args[i]));
	json_object_object_add(ctx->flash, "k", json_object_new_string(kind));
	json_object_object_add(ctx->flash, "m", json_object_new_string(pb->msgid));
	json_object_object_add(ctx->flash, "a", args);
}

void
ap_ctx_flash(struct ap_ctx *ctx, const char *kind, const char *msgid, ...)
{
	struct ap_problem pb;
	va_list ap;

	va_start(ap, msgid);
	ap_problem_vset(&pb, AP_PB_NONE, NULL, msgid, ap);
	va_end(ap);
	flash_set_msg(ctx, kind, &pb);
}

void
ap_ctx_flash_secret(struct ap_ctx *ctx, const char *key, struct json_object *v)
{
	struct json_object *sec;

	if (ctx->flash == NULL)
		ctx->flash = json_object_new_object();
	if (!json_object_object_get_ex(ctx->flash, "s", &sec)) {
		sec = json_object_new_object();
		json_object_object_add(ctx->flash, "s", sec);
	}
	json_object_object_add(sec, key, v);
}

/* "<hex of the JSON>.<HMAC of it>": hex only, so it needs no quoting in a header. */
static const char *
flash_cookie_value(struct ap_ctx *ctx, const char *json)
{
	struct ap_buf b = { 0 };
	char mac[65];
	const char *out;
	char *signed_text = ap_xasprintf("flash:%s", json);

	for (const unsigned char *p = (const unsigned char *)json; *p; p++)
		ap_buf_printf(&b, "%02x", *p);
	ap_auth_hash(ctx->app->cfg, signed_text, mac);
	ap_buf_printf(&b, ".%s", mac);
	out = ap_arena_strdup(ctx->arena, ap_buf_cstr(&b));
	explicit_bzero(signed_text, strlen(signed_text));
	free(signed_text);
	if (b.data)
		explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
	return out;
}

static void
flash_cookie(struct ap_ctx *ctx, const char *value)
{
	bool secure = ctx->req->https || ctx->app->cfg->profile == AP_PROFILE_PRODUCTION;

	ap_ctx_header(ctx, "Set-Cookie", ap_arena_printf(ctx->arena,
	    "%s=%s; Path=%s/; Max-Age=%d; HttpOnly; SameSite=Strict%s", FLASH_COOKIE, value ? value : "",
	    value && ctx->flash_base ? ctx->flash_base : ap_ctx_base(ctx), value ? FLASH_TTL_S : 0,
	    secure ? "; Secure" : ""));
}

void
ap_ctx_flash_emit(struct ap_ctx *ctx)
{
	const char *json;

	if (ctx->flash == NULL)
		return;
	json_object_object_add(ctx->flash, "e", json_object_new_int64((int64_t)time(NULL) + FLASH_TTL_S));
	json = json_object_to_json_string_ext(ctx->flash, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	flash_cookie(ctx, flash_cookie_value(ctx, json));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A flash object's message (translated) and secrets into model. */
static void
flash_to_model(struct ap_ctx *ctx, struct json_object *o, struct json_object *model)
{
	struct json_object *v, *sec;
	struct ap_problem pb;

	if (json_object_object_get_ex(o, "m", &v) && json_object_is_type(v, json_type_string)) {
		struct json_object *args, *k, *f = json_object_new_object();
		size_t na;

		/* Rebuild the message as a problem: its msgid translated, its arguments kept. */
		memset(&pb, 0, sizeof(pb));
		pb.msgid = json_object_get_string(v);
		if (json_object_object_get_ex(o, "a", &args) && json_object_is_type(args, json_type_array)) {
			na = json_object_array_length(args);
			for (size_t i = 0; i < na && i < AP_PB_MAXARGS; i++) {
				snprintf(pb.args[i], sizeof(pb.args[i]), "%s",
				    json_object_get_string(json_object_array_get_idx(args, i)));
				pb.nargs++;
			}
		}
		{
			char en[256];

			ap_problem_format(&pb, pb.msgid, en, sizeof(en));
			snprintf(pb.reason, sizeof(pb.reason), "%s", en);
		}
		ap_model_str(f, "kind",
		    json_object_object_get_ex(o, "k", &k) && strcmp(json_object_get_string(k), "error") == 0 ? "error"
														 : "ok");
		ap_model_str(f, "text", ap_ctx_reason(ctx, &pb));
		ap_model_add(f, "parts", ap_ctx_reason_parts(ctx, &pb));
		json_object_object_add(model, "flash", f);
	}
	if (json_object_object_get_ex(o, "s", &sec) && json_object_is_type(sec, json_type_object)) {
		json_object_object_foreach(sec, key, val) {
			if (!json_object_object_get_ex(model, key, NULL))
				json_object_object_add(model, key, json_object_get(val));
		}
	}
}

void
ap_ctx_flash_inline(struct ap_ctx *ctx, struct json_object *model)
{
	if (ctx->flash == NULL)
		return;
	flash_to_model(ctx, ctx->flash, model);
	json_object_put(ctx->flash);
	ctx->flash = NULL;
}

void
ap_ctx_flash_show(struct ap_ctx *ctx, struct json_object *model)
{
	const char *c = ap_req_cookie(ctx->req, FLASH_COOKIE), *dot;
	struct json_object *o = NULL, *v;
	struct ap_buf json = { 0 };
	char mac[65];
	char *signed_text = NULL;
	size_t n;

	if (c == NULL || c[0] == '\0' || (dot = strchr(c, '.')) == NULL)
		return;
	/* Shown once, whatever it held: the cookie goes now. */
	flash_cookie(ctx, NULL);
	n = (size_t)(dot - c);
	if (n % 2 != 0 || n > 8192 || strlen(dot + 1) != 64)
		return;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(c[i]), lo = hexval(c[i + 1]);

		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
			goto out;
		ap_buf_putc(&json, (char)(hi * 16 + lo));
	}
	signed_text = ap_xasprintf("flash:%s", ap_buf_cstr(&json));
	ap_auth_hash(ctx->app->cfg, signed_text, mac);
	if (!ap_ct_streq(mac, dot + 1))
		goto out;
	o = json_tokener_parse(ap_buf_cstr(&json));
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "e", &v) || json_object_get_int64(v) < (int64_t)time(NULL))
		goto out;
	flash_to_model(ctx, o, model);
out:
	if (signed_text) {
		explicit_bzero(signed_text, strlen(signed_text));
		free(signed_text);
	}
	if (json.data)
		explicit_bzero(json.data, json.cap);
	ap_buf_free(&json);
	json_object_put(o);
}

/* The request's own path and query (for the confirmation form's action). */
static const char *
own_uri(struct ap_ctx *ctx)
{
	const char *u = ctx->req->uri ? ctx->req->uri : ctx->req->path;

	return u && u[0] == '/' ? u : "/";
}

/* Where "Cancel" goes: the same-site page the form was on, else home. */
static const char *
cancel_to(struct ap_ctx *ctx)
{
	const char *ref = ctx->req->referer, *host = ctx->req->host, *p;
	size_t hl;

	if (ref != NULL && host != NULL && *host != '\0' && (p = strstr(ref, "://")) != NULL) {
		p += 3;
		hl = strlen(host);
		if (strncmp(p, host, hl) == 0 && p[hl] == '/' && p[hl + 1] != '/')
			return ap_arena_strdup(ctx->arena, p + hl);
	}
	return ap_arena_printf(ctx->arena, "%s/", ap_ctx_base(ctx));
}

bool
ap_ctx_unconfirmed(struct ap_ctx *ctx, const char *msgid, ...)
{
	const char *c = ap_req_form(ctx->req, "confirmed");
	struct json_object *conf, *fields;
	struct ap_problem pb;
	va_list ap;

	if (ctx->req->wants_json || (c != NULL && strcmp(c, "yes") == 0))
		return false;
	va_start(ap, msgid);
	ap_problem_vset(&pb, AP_PB_NONE, NULL, msgid, ap);
	va_end(ap);
	conf = json_object_new_object();
	fields = json_object_new_array();
	ap_model_str(conf, "question", ap_ctx_reason(ctx, &pb));
	ap_model_add(conf, "question_parts", ap_ctx_reason_parts(ctx, &pb));
	ap_model_str(conf, "action", own_uri(ctx));
	ap_model_str(conf, "cancel", cancel_to(ctx));
	/* The same form again. Secrets are never echoed into a page: a form with
	 * one (a password typed on purpose) is its own confirmation. */
	for (size_t i = 0; i < ctx->req->nform; i++) {
		const struct ap_kv *kv = &ctx->req->form[i];
		const struct ap_field *fl = ctx->route->fields;
		struct json_object *f;
		bool secret = false;

		for (size_t k = 0; k < ap_fields_count(fl); k++)
			if (strcmp(fl[k].name, kv->key) == 0 && (fl[k].flags & AP_FIELD_SECRET))
				secret = true;
		if (secret || strcmp(kv->key, "csrf") == 0 || strcmp(kv->key, "confirmed") == 0)
			continue;
		f = json_object_new_object();
		ap_model_str(f, "name", kv->key);
		ap_model_str(f, "value", kv->val);
		json_object_array_add(fields, f);
	}
	ap_model_add(conf, "fields", fields);
	json_object_object_add(ctx->model, "confirm", conf);
	ctx->title = ap_ctx_tr(ctx, "Please confirm");
	ctx->tpl = "confirm";
	ctx->confirming = true;
	return true;
}

void
ap_ctx_form_again(struct ap_ctx *ctx, const char *action)
{
	struct json_object *a, *fields;

	if (!ctx->form_again || ctx->route == NULL || ctx->route->fields == NULL)
		return;
	a = json_object_new_object();
	fields = json_object_new_array();
	ap_model_str(a, "action", action);
	for (size_t i = 0; ctx->route->fields[i].name != NULL; i++) {
		const struct ap_field *f = &ctx->route->fields[i];
		struct json_object *o;
		const char *v;

		if (f->flags & (AP_FIELD_PATH | AP_FIELD_SECRET))
			continue;
		v = ap_ctx_kept(ctx, f->name);
		o = json_object_new_object();
		ap_model_str(o, "name", f->name);
		ap_model_str(o, "value", v != NULL ? v : "");
		json_object_array_add(fields, o);
	}
	ap_model_add(a, "fields", fields);
	ap_model_add(ctx->model, "again", a);
}
