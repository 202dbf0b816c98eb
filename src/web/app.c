/*
 * app.c — the response layer: one request from parsed input to written
 * response. Handlers return a status and a json-c model; this file renders
 * it through the route's template (HTML) or as JSON, adds the headers every
 * response carries, and turns every failure into a proper error page.
 */
#include <sys/utsname.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/app.h"
#include "aapanel/gate.h"
#include "aapanel/idempotency.h"
#include "aapanel/log.h"
#include "aapanel/openapi.h"

/* Same for every response; CSP forbids inline script and style. */
static const char security_headers[] =
    "Content-Security-Policy: default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: same-origin\r\n"
    "Permissions-Policy: camera=(), microphone=(), geolocation=(), payment=()\r\n"
    "Cross-Origin-Opener-Policy: same-origin\r\n"
    "Cache-Control: no-store\r\n";

static void build_layout_cache(struct ap_app *app);

struct status_text {
	int status;
	const char *reason;  /* HTTP reason phrase and page title msgid */
	const char *message; /* default explanation msgid */
};

static const struct status_text status_texts[] = {
	{ 200, "OK", NULL },
	{ 201, "Created", NULL },
	{ 204, "No Content", NULL },
	{ 302, "Found", NULL },
	{ 303, "See Other", NULL },
	{ 400, "Bad Request", "The request was not valid." },
	{ 401, "Unauthorized", "You do not have permission to do this." },
	{ 403, "Forbidden", "You do not have permission to do this." },
	{ 404, "Not Found", "The page you asked for does not exist." },
	{ 405, "Method Not Allowed", "This method is not allowed here." },
	{ 409, "Conflict", "This cannot be done in the current state." },
	{ 411, "Length Required", "The request was not valid." },
	{ 413, "Payload Too Large", "The request body is too large." },
	{ 415, "Unsupported Media Type", "The request was not valid." },
	{ 422, "Unprocessable Content", "The operation ran and failed." },
	{ 429, "Too Many Requests", "Too many requests. Try again in a moment." },
	{ 431, "Request Header Fields Too Large", "The request was not valid." },
	{ 500, "Internal Server Error", "Something went wrong on our side. The error was logged." },
	{ 501, "Not Implemented", "This is not available on this server." },
	{ 503, "Service Unavailable", "The panel is temporarily unavailable. Try again in a moment." },
	{ 504, "Gateway Timeout", "The operation took too long." },
};

static const struct status_text *
status_lookup(int status)
{
	for (size_t i = 0; i < AP_NELEM(status_texts); i++)
		if (status_texts[i].status == status)
			return &status_texts[i];
	return NULL;
}

const char *
ap_http_reason(int status)
{
	const struct status_text *t = status_lookup(status);

	return t ? t->reason : (status >= 500 ? "Internal Server Error" : "Bad Request");
}

static const char *
tr_cb(void *p, const char *msgid)
{
	return ap_ctx_tr(p, msgid);
}

enum ap_err
ap_app_init(struct ap_app *app, struct ap_config *cfg, const struct ap_route *routes,
    size_t nroutes, char *err, size_t errlen)
{
	struct utsname u;
	enum ap_err rc;
	long n;

	memset(app, 0, sizeof(*app));
	app->cfg = cfg;
	app->routes = routes;
	app->nroutes = nroutes;
	app->slot = -1;
	rc = ap_route_table_check(app->routes, app->nroutes, err, errlen);
	if (rc == AP_OK)
		rc = ap_api_table_check(app->routes, app->nroutes, err, errlen);
	if (rc != AP_OK)
		return rc;
	rc = ap_tpl_load(cfg->templates_dir, &app->tpl, err, errlen);
	if (rc != AP_OK)
		return rc;
	rc = ap_i18n_load(cfg->po_dir, &app->i18n, err, errlen);
	if (rc != AP_OK) {
		ap_tpl_free(app->tpl);
		app->tpl = NULL;
		return rc;
	}
	/* Templates every route names must exist now, not at request time. */
	for (size_t i = 0; i < app->nroutes; i++) {
		const char *t = app->routes[i].tpl;

		if (t != NULL && !ap_tpl_has(app->tpl, t)) {
			snprintf(err, errlen, "%s/%s.html: template of route %s is missing",
			    cfg->templates_dir, t, app->routes[i].pattern);
			ap_app_fini(app);
			return AP_ERR_NOTFOUND;
		}
	}
	if (!ap_tpl_has(app->tpl, "confirm")) {
		snprintf(err, errlen, "%s/confirm.html: the confirmation template is missing", cfg->templates_dir);
		ap_app_fini(app);
		return AP_ERR_NOTFOUND;
	}
	if (!ap_tpl_has(app->tpl, "error")) {
		snprintf(err, errlen, "%s/error.html: the error template is missing", cfg->templates_dir);
		ap_app_fini(app);
		return AP_ERR_NOTFOUND;
	}
	if (gethostname(app->hostname, sizeof(app->hostname)) != 0)
		snprintf(app->hostname, sizeof(app->hostname), "localhost");
	if (uname(&u) == 0)
		snprintf(app->kernel, sizeof(app->kernel), "%s %s", u.sysname, u.release);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	app->ncpu = n > 0 ? (int)n : 1;
	build_layout_cache(app);
	return AP_OK;
}

void
ap_app_fini(struct ap_app *app)
{
	ap_tpl_free(app->tpl);
	ap_i18n_free(app->i18n);
	free(app->allow.nets);
	free(app->proxies.nets);
	free(app->origins.v);
	memset(&app->allow, 0, sizeof(app->allow));
	memset(&app->proxies, 0, sizeof(app->proxies));
	memset(&app->origins, 0, sizeof(app->origins));
	ap_db_close(app->db);
	app->db = NULL;
	json_object_put(app->layout_app);
	for (size_t i = 0; i < AP_NELEM(app->layout_langs); i++)
		json_object_put(app->layout_langs[i]);
	app->tpl = NULL;
	app->i18n = NULL;
	app->layout_app = NULL;
	memset(app->layout_langs, 0, sizeof(app->layout_langs));
}

static bool
valid_reqid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n >= 16 && n <= 36;
}

static void
pick_language(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *c = ap_req_cookie(ctx->req, "lang");

	if (c != NULL && ctx->app->i18n && ap_i18n_has_lang(ctx->app->i18n, c))
		ctx->lang = c;
	else if (ctx->app->i18n)
		ctx->lang = ap_i18n_negotiate(ctx->app->i18n, ctx->req->accept_language,
		    cfg->default_language);
	else
		ctx->lang = cfg->default_language;
	ctx->rtl = ap_i18n_is_rtl(ctx->lang);
}

/* The base path prefix for links: "" for "/", else "/xyz". */
static const char *
link_base(const struct ap_config *cfg)
{
	return strcmp(cfg->base_path, "/") == 0 ? "" : cfg->base_path;
}

static const char *const layout_codes[][2] = { { "en", "English" }, { "ar", "العربية" } };

static struct json_object *
build_langs(const char *current)
{
	struct json_object *langs = json_object_new_array();

	for (size_t i = 0; i < AP_NELEM(layout_codes); i++) {
		struct json_object *l = json_object_new_object();

		ap_model_add(l, "code", json_object_new_string(layout_codes[i][0]));
		ap_model_add(l, "name", json_object_new_string(layout_codes[i][1]));
		ap_model_add(l, "current", json_object_new_boolean(strcmp(current, layout_codes[i][0]) == 0));
		json_object_array_add(langs, l);
	}
	return langs;
}

static void
build_layout_cache(struct ap_app *app)
{
	const struct ap_config *cfg = app->cfg;
	struct json_object *o = json_object_new_object();
	const char *base = link_base(cfg);
	char *st = ap_xasprintf("%s/static", base);

	ap_model_add(o, "name", json_object_new_string(cfg->panel_name));
	ap_model_add(o, "version", json_object_new_string(AP_VERSION));
	ap_model_add(o, "profile", json_object_new_string(ap_profile_name(cfg->profile)));
	ap_model_add(o, "base", json_object_new_string(base));
	ap_model_add(o, "static", json_object_new_string(st));
	free(st);
	app->layout_app = o;
	for (size_t i = 0; i < AP_NELEM(layout_codes); i++) {
		app->layout_langs[i] = build_langs(layout_codes[i][0]);
		ap_tpl_keep(app->layout_langs[i]); /* {{#langs}} shows only its members */
	}
}

/* Add what the layout needs to the model of an HTML page. */
static void
add_layout_fields(struct ap_ctx *ctx, struct json_object *m)
{
	struct ap_app *app = ctx->app;
	struct json_object *langs = NULL;

	for (size_t i = 0; i < AP_NELEM(layout_codes); i++)
		if (strcmp(ctx->lang, layout_codes[i][0]) == 0)
			langs = json_object_get(app->layout_langs[i]);
	if (langs == NULL)
		langs = build_langs(ctx->lang);
	ap_model_add(m, "app", json_object_get(app->layout_app));
	ap_model_add(m, "lang", json_object_new_string(ctx->lang));
	ap_model_add(m, "dir", json_object_new_string(ctx->rtl ? "rtl" : "ltr"));
	if (json_object_object_get_ex(m, "title", NULL) == false)
		json_object_object_add(m, "title",
		    json_object_new_string(ctx->title ? ctx->title : app->cfg->panel_name));
	ap_model_add(m, "request_id", json_object_new_string(ctx->request_id));
	ap_model_add(m, "langs", langs);
	if (ctx->user != NULL && !json_object_object_get_ex(m, "user", NULL)) {
		struct json_object *u = json_object_new_object();

		ap_model_add(u, "username", json_object_new_string(ctx->user->username));
		ap_model_add(u, "role", json_object_new_string(ctx->user->role));
		ap_model_add(u, "admin", json_object_new_boolean(strcmp(ctx->user->role, "admin") == 0));
		/* Everyone must enrol and this user has not: a banner on every page. */
		ap_model_add(u, "must_enrol",
		    json_object_new_boolean(app->require_2fa && !ctx->user->totp_enabled && ctx->token_id == 0));
		ap_model_add(m, "user", u);
		ap_model_add(m, "nav", ap_nav_model(ctx));
	}
	if (ctx->csrf != NULL && !json_object_object_get_ex(m, "csrf", NULL))
		ap_model_add(m, "csrf", json_object_new_string(ctx->csrf));
}

/* The error model for status, from ctx->problem (field, reason, code). */
static struct json_object *
error_model(struct ap_ctx *ctx, int status)
{
	const struct status_text *t = status_lookup(status);
	const struct ap_problem *pb = &ctx->problem;
	struct json_object *m = json_object_new_object();
	struct json_object *e = json_object_new_object();
	const char *title = ap_ctx_tr(ctx, t ? t->reason : ap_http_reason(status));
	const char *msg = ap_ctx_tr(ctx, t && t->message ? t->message : "The request was not valid.");
	enum ap_pb_code code = pb->code != AP_PB_NONE ? pb->code : ap_pb_for_status(status);

	if (code == AP_PB_UNAVAILABLE && pb->msgid != NULL && strcmp(pb->msgid, "database unavailable") == 0)
		msg = ap_ctx_tr(ctx, "The database is unavailable. The panel reconnects by itself; "
				     "try again in a moment.");

	ap_model_add(e, "status", json_object_new_int(status));
	ap_model_add(e, "code", json_object_new_string(ap_pb_name(code)));
	ap_model_add(e, "title", json_object_new_string(title));
	ap_model_add(e, "message", json_object_new_string(msg));
	if (pb->field[0])
		ap_model_add(e, "field", json_object_new_string(pb->field));
	if (pb->reason[0])
		ap_model_add(e, "reason", json_object_new_string(
		    ctx->req->wants_json ? pb->reason : ap_ctx_reason(ctx, pb)));
	if (pb->reason[0] && !ctx->req->wants_json)
		ap_model_add(e, "reason_parts", ap_ctx_reason_parts(ctx, pb));
	ap_model_add(e, "request_id", json_object_new_string(ctx->request_id));
	ap_model_add(m, "error", e);
	ap_model_add(m, "title", json_object_new_string(title));
	return m;
}

struct out {
	ap_write_fn wr;
	void *wrctx;
};

/*
 * Response buffers live as long as the worker: one request at a time, so
 * they are reset, not reallocated, for every request. A buffer that grew
 * past RESP_BUF_KEEP for an unusual response is released afterwards.
 */
#define RESP_BUF_KEEP (1u << 20)
static struct ap_buf resp_head, resp_body;

static void
resp_buf_done(struct ap_buf *b)
{
	if (b->cap > RESP_BUF_KEEP)
		ap_buf_free(b);
	else
		ap_buf_reset(b);
}

static void
emit(struct ap_ctx *ctx, const struct out *o, int status, const char *ctype,
    const char *body, size_t len)
{
	struct ap_buf *h = &resp_head;
	bool head = ctx->req->method == AP_METHOD_HEAD;

	ap_buf_reset(h);
	ap_buf_printf(h, "Status: %d %s\r\n", status, ap_http_reason(status));
	if (ctype) {
		ap_buf_puts(h, "Content-Type: ");
		ap_buf_puts(h, ctype);
		ap_buf_puts(h, "\r\n");
	}
	if (len != SIZE_MAX) /* SIZE_MAX: a stream of unknown length, to its end (emit_fd) */
		ap_buf_printf(h, "Content-Length: %zu\r\n", len);
	ap_buf_printf(h, "X-Request-Id: %s\r\n", ctx->request_id);
	ap_buf_puts(h, security_headers);
	if (ctx->app->cfg->profile == AP_PROFILE_PRODUCTION && ctx->req->https)
		ap_buf_puts(h, "Strict-Transport-Security: max-age=63072000; includeSubDomains\r\n");
	if (ctx->location)
		ap_buf_printf(h, "Location: %s\r\n", ctx->location);
	if (ctx->headers.len)
		ap_buf_append(h, ctx->headers.data, ctx->headers.len);
	ap_buf_puts(h, "\r\n");
	o->wr(o->wrctx, h->data, h->len);
	if (!head && len && body != NULL)
		o->wr(o->wrctx, body, len);
	resp_buf_done(h);
}

/*
 * A RAW answer from a descriptor: the headers with its length, then the bytes
 * in 64 KiB chunks as read (a file never held whole). A file that ends early
 * (truncated meanwhile) cuts the answer short, which the client sees as a
 * short body against its Content-Length.
 */
static void
emit_fd(struct ap_ctx *ctx, const struct out *o, int status, const char *ctype)
{
	static char chunk[262144]; /* written as whole FastCGI records at once (pool.c) */
	int64_t left = ctx->raw_len;

	emit(ctx, o, status, ctype, NULL, ctx->raw_len < 0 ? SIZE_MAX : (size_t)ctx->raw_len);
	if (ctx->req->method == AP_METHOD_HEAD)
		return;
	/* raw_len < 0: a pipe (an archive being made), sent as it comes until it ends. */
	while (ctx->raw_len < 0) {
		ssize_t k = read(ctx->raw_fd, chunk, sizeof(chunk));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		o->wr(o->wrctx, chunk, (size_t)k);
	}
	while (left > 0) {
		ssize_t k = read(ctx->raw_fd, chunk,
		    left < (int64_t)sizeof(chunk) ? (size_t)left : sizeof(chunk));

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			AP_WARN("%s: the file ended %lld bytes early", ctx->req->path, (long long)left);
			break;
		}
		o->wr(o->wrctx, chunk, (size_t)k);
		left -= k;
	}
}

static void
emit_bare_404(struct ap_ctx *ctx, const struct out *o)
{
	static const char nf[] = "Not Found\n";

	emit(ctx, o, 404, "text/plain; charset=utf-8", nf, sizeof(nf) - 1);
}

/*
 * The JSON answer of a success (or a probe's 503): the model projected onto
 * the route's answer schema, a new reference. NULL when the route answers
 * nothing (then a success is a 204), or when the answer does not match its
 * schema outside production (logged in every profile; production sends the
 * projection anyway).
 */
static struct json_object *
answer_doc(struct ap_ctx *ctx)
{
	const struct ap_schema *s = ctx->route ? ctx->route->answer : NULL;
	struct json_object *doc;
	char why[200];

	if (s == NULL)
		return NULL;
	if (ap_schema_project(s, ctx->model, true, &doc, why, sizeof(why)))
		return doc;
	AP_ERROR("%s %s: the answer does not match schema %s: %s", ctx->req->method_name,
	    ctx->route->pattern, s->name, why);
	if (ctx->app->cfg->profile == AP_PROFILE_PRODUCTION)
		return doc;
	json_object_put(doc);
	return NULL;
}

static void
render(struct ap_ctx *ctx, const struct out *o, int status, bool is_error)
{
	struct ap_buf *body = &resp_body;
	const char *tpl = is_error ? "error" : (ctx->tpl ? ctx->tpl : (ctx->route ? ctx->route->tpl : NULL));

	if (status >= 300 && status < 400 && ctx->location) {
		if (!ctx->req->wants_json)
			ap_ctx_flash_emit(ctx);
		emit(ctx, o, status, NULL, NULL, 0);
		return;
	}
	if (status == 204) {
		emit(ctx, o, status, NULL, NULL, 0);
		return;
	}
	if (!is_error && ctx->route && (ctx->route->flags & AP_ROUTE_RAW) && ctx->raw_from_fd) {
		emit_fd(ctx, o, status, ctx->raw_type ? ctx->raw_type : "application/octet-stream");
		return;
	}
	if (!is_error && ctx->route && (ctx->route->flags & AP_ROUTE_RAW)) {
		emit(ctx, o, status, ctx->raw_type ? ctx->raw_type : "application/octet-stream",
		    ctx->raw.data, ctx->raw.len);
		return;
	}
	if (ctx->req->wants_json || tpl == NULL) {
		struct json_object *doc = NULL;
		size_t len;
		const char *s;

		if (is_error) {
			/* The error document: {"error": {...}}, nothing of the page. */
			struct json_object *e = NULL;

			json_object_object_get_ex(ctx->model, "error", &e);
			doc = json_object_new_object();
			ap_model_add(doc, "error", json_object_get(e));
		} else if ((doc = answer_doc(ctx)) == NULL) {
			if (status < 300 && (ctx->route == NULL || ctx->route->answer == NULL)) {
				emit(ctx, o, 204, NULL, NULL, 0);
				return;
			}
			/* The answer did not match its schema (logged): a bug outside production. */
			json_object_put(ctx->model);
			ap_problem_set(&ctx->problem, AP_PB_INTERNAL, NULL, "the answer does not match its schema");
			ctx->model = error_model(ctx, 500);
			render(ctx, o, 500, true);
			return;
		}
		s = json_object_to_json_string_length(doc,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		ap_buf_reset(body);
		ap_buf_append(body, s, len);
		ap_buf_putc(body, '\n');
		emit(ctx, o, status, "application/json", body->data, body->len);
		resp_buf_done(body);
		json_object_put(doc);
		return;
	}
	add_layout_fields(ctx, ctx->model);
	if (ctx->flash != NULL) {
		/* A message set by a handler that renders its page at once: show it now. */
		ap_ctx_flash_inline(ctx, ctx->model);
	} else if (status < 300 && !is_error) {
		ap_ctx_flash_show(ctx, ctx->model);
	}
	ap_buf_reset(body);
	if (ap_tpl_render(ctx->app->tpl, tpl, ctx->model, tr_cb, ctx, body) != AP_OK) {
		AP_ERROR("rendering template %s failed", tpl);
		resp_buf_done(body);
		if (!is_error) {
			json_object_put(ctx->model);
			ap_problem_set(&ctx->problem, AP_PB_INTERNAL, NULL, "template failed");
			ctx->model = error_model(ctx, 500);
			render(ctx, o, 500, true);
		} else {
			static const char plain[] = "500 Internal Server Error\n";
			emit(ctx, o, 500, "text/plain; charset=utf-8", plain, sizeof(plain) - 1);
		}
		return;
	}
	emit(ctx, o, status, "text/html; charset=utf-8", body->data, body->len);
	resp_buf_done(body);
}

static void
log_problem(struct ap_ctx *ctx, int status)
{
	const struct ap_problem *pb = &ctx->problem;

	if (status >= 500 || pb->field[0])
		AP_INFO("%s %s -> %d %s%s%s%s%s", ctx->req->method_name ? ctx->req->method_name : "-",
		    ctx->req->path ? ctx->req->path : "-", status, ap_pb_name(pb->code),
		    pb->field[0] ? " field=" : "", pb->field, pb->reason[0] ? " reason=" : "", pb->reason);
}

/* The error page (HTML) or the JSON error document for status. */
static void
answer_error(struct ap_ctx *ctx, const struct out *o, int status)
{
	json_object_put(ctx->model);
	ctx->model = error_model(ctx, status);
	ctx->location = NULL;
	if (status == 503)
		ap_ctx_header(ctx, "Retry-After", "5");
	log_problem(ctx, status);
	render(ctx, o, status, true);
}

/*
 * A browser's request with a problem on a route that has a form page: that
 * page again, built by its handler (which may show what was typed,
 * ap_ctx_kept), with the reason next to the field (errors.FIELD) and a
 * summary (error). Returns false when the page cannot be built (the caller
 * answers with the error page instead).
 */
static bool
answer_form_again(struct ap_ctx *ctx, const struct out *o, int status)
{
	struct ap_problem pb;
	struct json_object *errs;
	const char *reason;
	int st;

	if (ctx->req->wants_json || ctx->route == NULL || ctx->route->form == NULL ||
	    status == 503 || status >= 500 || ctx->route->tpl == NULL)
		return false;
	ap_problem_copy(&pb, &ctx->problem);
	json_object_put(ctx->model);
	ctx->model = json_object_new_object();
	ctx->form_again = true;
	ap_problem_clear(&ctx->problem);
	/* A field refused before the database stage: the page still needs it.
	 * regression: the form page ran with ctx->db NULL and the worker crashed */
	if ((ctx->route->flags & AP_ROUTE_DB) && ctx->db == NULL && (ctx->db = ap_ctx_db(ctx)) == NULL) {
		answer_error(ctx, o, ap_ctx_db_down(ctx));
		return true;
	}
	st = ctx->route->form(ctx);
	if (st != 200) {
		/* The page itself failed (its database read): that problem wins. */
		if (!ap_problem_is_set(&ctx->problem))
			ap_problem_copy(&ctx->problem, &pb);
		answer_error(ctx, o, st >= 400 ? st : 500);
		return true;
	}
	ap_problem_copy(&ctx->problem, &pb);
	reason = ap_ctx_reason(ctx, &pb);
	if (pb.field[0] && strcmp(pb.field, "csrf") != 0) {
		if (!json_object_object_get_ex(ctx->model, "errors", &errs)) {
			errs = json_object_new_object();
			json_object_object_add(ctx->model, "errors", errs);
		}
		json_object_object_add(errs, pb.field, json_object_new_string(reason));
		/* The summary at the top links to the field (its input's id is f-NAME). */
		json_object_object_add(ctx->model, "form_error",
		    json_object_new_string(ap_ctx_tr(ctx, "Please correct the marked field.")));
		json_object_object_add(ctx->model, "form_error_field", json_object_new_string(pb.field));
		json_object_object_add(ctx->model, "form_error_reason", json_object_new_string(reason));
	} else {
		json_object_object_add(ctx->model, "form_error", json_object_new_string(reason));
	}
	log_problem(ctx, status);
	render(ctx, o, status, false);
	return true;
}

static void
answer_problem(struct ap_ctx *ctx, const struct out *o, int status)
{
	if (!answer_form_again(ctx, o, status))
		answer_error(ctx, o, status);
}
/* Strip the security-entrance prefix; NULL when the path is outside it. */
static const char *
strip_base(const struct ap_config *cfg, const char *path)
{
	size_t n;

	if (strcmp(cfg->base_path, "/") == 0)
		return path;
	n = strlen(cfg->base_path);
	if (strncmp(path, cfg->base_path, n) != 0)
		return NULL;
	if (path[n] == '\0')
		return "/";
	return path[n] == '/' ? path + n : NULL;
}

/* Stage 1: the request id nginx set ($request_id), or a fresh one. */
static void
set_request_id(struct ap_ctx *ctx, char *const *envp)
{
	const char *rid = NULL;

	for (char *const *e = envp; e && *e; e++)
		if (strncmp(*e, "REQUEST_ID=", 11) == 0)
			rid = *e + 11;
	if (valid_reqid(rid))
		snprintf(ctx->request_id, sizeof(ctx->request_id), "%s", rid);
	else
		ap_random_hex(ctx->request_id, 16);
	ap_log_set_reqid(ctx->request_id);
}

/*
 * Stage 2: the panel path of the request — the security entrance stripped,
 * /api/v1/ noted (always JSON, Bearer tokens accepted). NULL: outside the
 * entrance.
 */
static const char *
panel_path(struct ap_ctx *ctx)
{
	struct ap_req *req = ctx->req;
	const char *path;

	/* /healthz answers at the root whatever the base path (nginx limits it to loopback). */
	path = strcmp(req->path, "/healthz") == 0 ? req->path : strip_base(ctx->app->cfg, req->path);
	if (path == NULL)
		return NULL;
	if (strncmp(path, "/api/v1/", 8) == 0 || strcmp(path, "/api/v1") == 0) {
		path = path[7] ? path + 7 : "/";
		req->wants_json = true;
		ctx->api = true;
	}
	return path;
}

/* Stage 3: the route; 0 when found, else the status answered (404, 405). */
static int
find_route(struct ap_ctx *ctx, const struct out *o, const char *path)
{
	unsigned allowed = 0;
	enum ap_route_result rr;

	rr = ap_route_match(ctx->app->routes, ctx->app->nroutes, ctx->req->method, path, ctx->arena,
	    &ctx->route, &ctx->params, &allowed);
	/* Pages for browsers are not part of the API; test routes exist in the test profile only. */
	if (rr == AP_ROUTE_FOUND && ((ctx->api && (ctx->route->flags & AP_ROUTE_BROWSER)) ||
	    ((ctx->route->flags & AP_ROUTE_TESTING) && ctx->app->cfg->profile != AP_PROFILE_TEST))) {
		ctx->route = NULL;
		memset(&ctx->params, 0, sizeof(ctx->params));
		rr = AP_ROUTE_NOT_FOUND;
	}
	if (rr == AP_ROUTE_FOUND && ctx->req->stream &&
	    !(ctx->route->flags & AP_ROUTE_STREAM)) {
		ap_ctx_fail(ctx, AP_PB_MEDIA_TYPE, "content-type", "unsupported Content-Type '%s'",
		    "application/octet-stream");
		answer_error(ctx, o, 415);
		return 415;
	}
	if (rr == AP_ROUTE_FOUND)
		return 0;
	if (rr == AP_ROUTE_METHOD_NOT_ALLOWED) {
		struct ap_buf b = { 0 };

		/* Outside access.allow not even the methods of a route are told. */
		if (ap_auth_admit(ctx) != 0) {
			emit_bare_404(ctx, o);
			return 404;
		}

		ap_methods_str(allowed, &b);
		ap_ctx_header(ctx, "Allow", ap_buf_cstr(&b));
		ap_buf_free(&b);
		ap_ctx_fail(ctx, AP_PB_METHOD, "method", "method not allowed here");
		answer_error(ctx, o, 405);
		return 405;
	}
	/* Outside access.allow: bare; a signed-in user keeps the navigation. */
	if (ap_auth_identify(ctx, ctx->api) == AP_GATE_HIDDEN) {
		emit_bare_404(ctx, o);
		return 404;
	}
	ap_ctx_fail(ctx, AP_PB_NOT_FOUND, NULL, "no such page");
	answer_error(ctx, o, 404);
	return 404;
}

/*
 * Stage 4: the gate — who is asking and may they. 0 to go on, else the
 * status answered (a bare 404 outside access.allow, a redirect to the
 * sign-in page for a browser, 401/403/503).
 */
static int
pass_gate(struct ap_ctx *ctx, const struct out *o)
{
	struct ap_app *app = ctx->app;
	struct ap_req *req = ctx->req;
	int gate = ap_auth_gate(ctx, ctx->api);

	if (ctx->stale_cookie)
		ap_session_cookie_set(ctx, NULL, true);
	if (ctx->user && ctx->user->language && app->i18n && ap_i18n_has_lang(app->i18n, ctx->user->language) &&
	    ap_req_cookie(req, "lang") == NULL) {
		ctx->lang = ctx->user->language;
		ctx->rtl = ap_i18n_is_rtl(ctx->lang);
	}
	if (gate == 0)
		return 0;
	if (gate == AP_GATE_HIDDEN) {
		emit_bare_404(ctx, o);
		return 404;
	}
	if (gate == 401 && !req->wants_json && req->method == AP_METHOD_GET) {
		/* A browser without a session: to the login page, then back here. */
		struct ap_buf next = { 0 };

		ap_url_encode(&next, req->uri ? req->uri : "/");
		ap_ctx_redirect(ctx, 303, ap_arena_printf(ctx->arena, "%s/login%s%s%s", link_base(app->cfg),
		    ctx->mfa_pending ? "/2fa" : "", ctx->mfa_pending ? "" : "?next=",
		    ctx->mfa_pending ? "" : ap_buf_cstr(&next)));
		ap_buf_free(&next);
		render(ctx, o, 303, false);
		return 303;
	}
	if (gate == 401 && ctx->api)
		ap_ctx_header(ctx, "WWW-Authenticate", "Bearer realm=\"aapanel\"");
	answer_error(ctx, o, gate);
	return gate;
}

/* Stage 5: the declared fields (path parameters included); 0 or the status answered. */
static int
check_fields(struct ap_ctx *ctx, const struct out *o)
{
	int status;

	if (ap_fields_validate(ctx->route->fields, ctx->req, &ctx->params,
	    (size_t)ctx->app->cfg->max_field_len, &ctx->fields, &ctx->problem) == AP_OK)
		return 0;
	status = ctx->problem.status ? ctx->problem.status : 400;
	/* A path parameter that fails is a page that does not exist. */
	if (status == 404)
		answer_error(ctx, o, 404);
	else
		answer_problem(ctx, o, status);
	return status;
}

/* Stage 6: the database, for routes that need it; 0 or the status answered (503). */
static int
open_db(struct ap_ctx *ctx, const struct out *o)
{
	if (!(ctx->route->flags & AP_ROUTE_DB))
		return 0;
	if ((ctx->db = ap_ctx_db(ctx)) != NULL)
		return 0;
	answer_error(ctx, o, ap_ctx_db_down(ctx));
	return 503;
}

/* An API create with an Idempotency-Key header (the key's hash while it is reserved). */
struct idem {
	bool on;
	char key_hash[65];
};

/* ap_auth_hash of the route and its fields as received: what a retry must send again. */
static void
request_hash(struct ap_ctx *ctx, char out[65])
{
	const struct ap_field *f = ctx->route->fields;
	struct ap_buf b = { 0 };

	ap_buf_printf(&b, "%s %s", ctx->req->method_name, ctx->route->pattern);
	for (size_t i = 0; f != NULL && f[i].type != AP_FIELD__MAX; i++) {
		const struct ap_fieldval *v = &ctx->fields[i];

		ap_buf_printf(&b, "\x1e%s\x1f", f[i].name);
		if (v->present)
			ap_buf_append(&b, v->s, v->len);
	}
	ap_auth_hash(ctx->app->cfg, ap_buf_cstr(&b), out);
	explicit_bzero(b.data, b.cap);
	ap_buf_free(&b);
}

/*
 * Stage 7: for an API create (AP_ROUTE_CREATE) with an Idempotency-Key,
 * the first answer again when the key was used for the same request;
 * else the key is reserved for this one. 0 to run the handler, else the
 * status answered.
 */
static int
idempotency(struct ap_ctx *ctx, const struct out *o, struct idem *im)
{
	const char *key = ap_req_param(ctx->req, "HTTP_IDEMPOTENCY_KEY");
	char route[256], rh[65];
	enum ap_idem_state state;
	char *body = NULL;
	int status = 0;
	enum ap_db_rc rc;

	im->on = false;
	if (!(ctx->route->flags & AP_ROUTE_CREATE) || !ctx->req->wants_json || key == NULL || key[0] == '\0' ||
	    ctx->user == NULL)
		return 0;
	if (!ap_idem_key_valid(key)) {
		ap_ctx_fail(ctx, AP_PB_INVALID, "Idempotency-Key", "must be 1 to 255 printable characters, no spaces");
		answer_problem(ctx, o, 400);
		return 400;
	}
	snprintf(route, sizeof(route), "%s %s", ctx->req->method_name, ctx->route->pattern);
	request_hash(ctx, rh);
	rc = ap_idem_begin(ctx->db, ctx->app->cfg, ctx->user->id, key, route, rh, time(NULL), im->key_hash,
	    &state, &status, &body);
	if (rc != AP_DB_OK) {
		answer_error(ctx, o, ap_ctx_db_error(ctx, rc));
		return ctx->problem.status;
	}
	switch (state) {
	case AP_IDEM_NEW:
		im->on = true;
		return 0;
	case AP_IDEM_REPLAY:
		ap_ctx_header(ctx, "Idempotent-Replayed", "true");
		{
			struct ap_buf b = { 0 };

			ap_buf_puts(&b, body ? body : "{}");
			ap_buf_putc(&b, '\n');
			emit(ctx, o, status, "application/json", b.data, b.len);
			ap_buf_free(&b);
		}
		free(body);
		return status;
	case AP_IDEM_RUNNING:
		ap_ctx_header(ctx, "Retry-After", "1");
		ap_ctx_fail(ctx, AP_PB_CONFLICT, "Idempotency-Key",
		    "a request with this key is still running; try again in a moment");
		break;
	case AP_IDEM_MISMATCH:
		ap_ctx_fail(ctx, AP_PB_CONFLICT, "Idempotency-Key", "was already used for a different request");
		break;
	}
	answer_problem(ctx, o, 409);
	return 409;
}

/* The reserved key gets the answer (secrets left out), or is released when the create failed. */
static void
idempotency_done(struct ap_ctx *ctx, const struct idem *im, int status)
{
	struct json_object *doc = NULL;
	enum ap_db_rc rc;

	if (!im->on)
		return;
	if (status >= 200 && status < 300 && ctx->route->answer != NULL) {
		ap_schema_project(ctx->route->answer, ctx->model, false, &doc, NULL, 0);
		rc = ap_idem_finish(ctx->db, ctx->user->id, im->key_hash, status,
		    json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else {
		rc = ap_idem_release(ctx->db, ctx->user->id, im->key_hash);
	}
	if (rc != AP_DB_OK)
		AP_WARN("Idempotency-Key of %s %s not kept: %s", ctx->req->method_name, ctx->route->pattern,
		    ap_db_errmsg(ctx->db));
}

/*
 * The database handle whose unit of work wraps this handler: every request
 * that may change something (not GET or HEAD) with the database open or
 * opened before. NULL when none.
 */
static struct ap_db *
change_unit(struct ap_ctx *ctx)
{
	struct ap_db *db = ctx->db != NULL ? ctx->db : ctx->app->db;

	if (db == NULL || ctx->req->method == AP_METHOD_GET || ctx->req->method == AP_METHOD_HEAD)
		return NULL;
	ap_db_unit_begin(db);
	return db;
}

/* Stage 8: the handler, and its answer rendered. */
static void
run_handler(struct ap_ctx *ctx, const struct out *o, const struct idem *im)
{
	/* A change and its audit row in one transaction (db.h, unit of work). */
	struct ap_db *udb = change_unit(ctx);
	int status = ctx->route->handler(ctx);
	const char *c = ap_req_form(ctx->req, "confirmed");
	enum ap_db_rc rc;

	if (udb != NULL && (rc = ap_db_unit_end(udb, true)) != AP_DB_OK) {
		/* Nothing of it was saved: the answer must not say it was. */
		ap_problem_clear(&ctx->problem);
		ctx->model_is_body = false;
		status = ap_ctx_db_error(ctx, rc);
	}

	if ((ctx->route->flags & AP_ROUTE_CONFIRM) && !ctx->req->wants_json && !ctx->confirming &&
	    status < 400 && (c == NULL || strcmp(c, "yes") != 0))
		AP_ERROR("%s %s: a destructive route answered without asking for confirmation",
		    ctx->req->method_name, ctx->route->pattern);
	idempotency_done(ctx, im, status);
	if (status >= 400 && !ctx->model_is_body)
		answer_problem(ctx, o, status);
	else
		render(ctx, o, status, false);
}

/*
 * The body limits of the route a request goes to (ap_req_limits.for_route):
 * the editor's save (AP_ROUTE_TEXT) takes a text of files.edit_max — twice
 * that as one field, so a larger one reaches the handler and is refused there
 * naming it with the form again, and a body room for its form encoding (%XX
 * of every byte of Arabic: three times the text). A form whose file is
 * streamed (AP_ROUTE_STREAM_FORM) has its leading fields parsed and the file
 * left to the handler. Every other route keeps limits.max_body and max_field_len.
 */
static void
route_limits(void *arg, const struct ap_req *r, struct ap_req_limits *lim)
{
	const struct ap_app *app = arg;
	const struct ap_route *rt = NULL;
	struct ap_route_params params;
	unsigned allowed = 0;
	const char *path = strip_base(app->cfg, r->path);
	size_t text;

	if (path == NULL)
		return;
	if (strncmp(path, "/api/v1/", 8) == 0)
		path += 7;
	if (ap_route_match(app->routes, app->nroutes, r->method, path, r->arena, &rt, &params,
		&allowed) != AP_ROUTE_FOUND)
		return;
	/* A form whose file is streamed (the database's import): only its leading fields are read. */
	if (rt->flags & AP_ROUTE_STREAM_FORM)
		lim->stream_form = true;
	if (!(rt->flags & AP_ROUTE_TEXT))
		return;
	text = (size_t)app->cfg->files_edit_max;
	if (lim->max_field_len < 2 * text)
		lim->max_field_len = 2 * text;
	if (lim->max_body < 6 * text + 65536)
		lim->max_body = 6 * text + 65536;
	if (lim->max_upload < 2 * text + 65536)
		lim->max_upload = 2 * text + 65536;
}

void
ap_app_serve(struct ap_app *app, struct ap_arena *arena, char *const *envp,
    ap_req_read_fn rd, void *rdctx, ap_write_fn wr, void *wrctx)
{
	const struct ap_config *cfg = app->cfg;
	struct ap_req_limits lim = {
		.max_body = (size_t)cfg->max_body,
		.max_upload = (size_t)cfg->max_upload,
		.max_fields = (size_t)cfg->max_fields,
		.max_field_len = (size_t)cfg->max_field_len,
		.max_header_len = (size_t)cfg->max_header_len,
		/* The larger of the streamed routes' limits; each route checks its own. */
		.max_stream = (size_t)(cfg->files_max_upload > cfg->databases_import_max ? cfg->files_max_upload
											  : cfg->databases_import_max),
		.for_route = route_limits,
		.for_route_arg = app,
	};
	struct ap_req req;
	struct ap_ctx ctx;
	struct out o = { wr, wrctx };
	struct idem im = { .on = false };
	const char *path;

	memset(&req, 0, sizeof(req));
	memset(&ctx, 0, sizeof(ctx));
	ctx.app = app;
	ctx.req = &req;
	ctx.arena = arena;
	ctx.model = json_object_new_object();
	set_request_id(&ctx, envp);
	if (ap_req_parse(&req, arena, envp, rd, rdctx, &lim, &ctx.problem) != AP_OK) {
		if (req.path == NULL)
			req.path = "/";
		/*
		 * Nothing about the panel before the client has passed the allowlist
		 * and the entrance: outside either, a request that cannot be parsed
		 * gets the same bare 404 as any other (no page, no links, no name).
		 * regression: the full branded error page, with the entrance in its
		 * links, went to any address for any path
		 */
		if (ap_auth_admit(&ctx) != 0 || strip_base(cfg, req.path) == NULL) {
			log_problem(&ctx, ctx.problem.status ? ctx.problem.status : 400);
			emit_bare_404(&ctx, &o);
			goto out;
		}
		pick_language(&ctx);
		answer_error(&ctx, &o, ctx.problem.status ? ctx.problem.status : 400);
		goto out;
	}
	if ((path = panel_path(&ctx)) == NULL) {
		/* Outside the security entrance: a bare 404 that reveals nothing. */
		emit_bare_404(&ctx, &o);
		goto out;
	}
	pick_language(&ctx);
	if (find_route(&ctx, &o, path) == 0 && pass_gate(&ctx, &o) == 0 && check_fields(&ctx, &o) == 0 &&
	    open_db(&ctx, &o) == 0 && idempotency(&ctx, &o, &im) == 0)
		run_handler(&ctx, &o, &im);
out:
	json_object_put(ctx.model);
	json_object_put(ctx.flash);
	ap_buf_free(&ctx.headers);
	ap_buf_free(&ctx.raw);
	if (ctx.raw_from_fd)
		close(ctx.raw_fd);
	ap_req_clear(&req);
	ap_log_set_reqid(NULL);
}
