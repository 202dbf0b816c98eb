/*
 * app.h — what a worker holds for its whole life (configuration, compiled
 * templates, catalogs, routes) and what one request carries through the
 * handler (struct ap_ctx), with the calls a handler may make on it
 * (src/web/ctx.c) and the response layer that serves a request
 * (src/web/app.c).
 *
 * A handler validates nothing itself and runs no SQL: it reads its
 * declared, validated fields (ctx->fields[ENUM]), calls a data or helper
 * function, fills ctx->model and returns the HTTP status. On a problem it
 * returns ap_ctx_fail(...): the response layer answers a browser with the
 * route's form page again (the problem next to its field) or the error
 * page, and an API client with the JSON error document.
 */
#ifndef AAPANEL_APP_H
#define AAPANEL_APP_H

#include <json-c/json.h>

#include "aapanel/arena.h"
#include "aapanel/auth.h"
#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/i18n.h"
#include "aapanel/netaddr.h"
#include "aapanel/problem.h"
#include "aapanel/req.h"
#include "aapanel/route.h"
#include "aapanel/scoreboard.h"
#include "aapanel/tpl.h"
#include "aapanel/weburl.h"

struct ap_app {
	struct ap_config *cfg;   /* borrowed from the master */
	struct ap_tpl_set *tpl;  /* compiled templates */
	struct ap_i18n *i18n;    /* catalogs */
	const struct ap_route *routes; /* borrowed (the entry point's table) */
	size_t nroutes;
	struct ap_sb *sb;        /* NULL outside the pool (tests, CLI) */
	struct ap_db *db;        /* opened lazily after fork (ap_ctx_db) */
	uint64_t db_retry_ms;    /* while down: no reconnect attempt before this */
	bool require_2fa;        /* settings: every user must enrol two-factor */
	/* access.allow and access.trusted_proxies, parsed once (re-parsed only if
	 * the configuration string changes). */
	struct ap_netlist {
		const char *src;
		struct ap_cidr *nets;
		size_t n;
	} allow, proxies;
	/* panel.origins, parsed once the same way (src/web/gate.c). */
	struct ap_originlist {
		const char *src;
		struct ap_origin *v;
		size_t n;
	} origins;
	int slot;                /* this worker's scoreboard slot, -1 when none */
	/* Layout members that never change for a worker, shared into every
	 * HTML model by reference (json_object_get) instead of rebuilt. */
	struct json_object *layout_app;
	struct json_object *layout_langs[2]; /* "en" current, "ar" current */
	char hostname[256];
	char kernel[160];
	int ncpu;
};

struct ap_ctx {
	struct ap_app *app;
	struct ap_req *req;
	struct ap_arena *arena;
	const struct ap_route *route;
	struct ap_route_params params;
	struct ap_fieldval *fields; /* indexed by the route's field enum (route->fields) */
	struct json_object *model;  /* owned by the response layer; handlers add to it */
	struct ap_db *db;           /* AP_ROUTE_DB routes: the connection, open; else NULL */
	struct ap_problem problem;  /* what went wrong, for a 4xx/5xx answer */
	const char *lang;           /* negotiated language code */
	bool rtl;
	char request_id[40];
	const char *title;          /* translated page title (HTML) */
	const char *tpl;            /* template override; NULL = route->tpl */
	struct ap_buf headers;      /* extra "Name: value\r\n" response headers */
	const char *location;       /* redirect target for 3xx */
	bool model_is_body;         /* a status >= 400 still renders the handler's model (healthz) */
	bool form_again;            /* the form page is being rebuilt after a problem (ap_ctx_kept) */
	bool confirming;            /* the handler answered with the confirmation page */
	struct json_object *flash;  /* the one-time message for the next page (ap_ctx_flash), owned */
	const char *flash_base;     /* the entrance the next page is under, when it moved (NULL: this one) */

	/* Identity, set by the gate before the handler runs. */
	const char *client_addr;    /* REMOTE_ADDR, or the forwarded address from a trusted proxy */
	struct ap_user *user;       /* NULL when anonymous */
	int64_t session_id;         /* sessions.id of a cookie session, 0 otherwise */
	const char *csrf;           /* this session's CSRF token (for forms), NULL otherwise */
	int64_t token_id;           /* api_tokens.id of a Bearer request, 0 otherwise */
	const char *token_scope;    /* "read" | "write" | "admin" for Bearer requests */
	const char *via;            /* "ui" (cookie) or "api" (Bearer) */
	bool mfa_pending;           /* signed in with a password, two-factor code still due */
	struct ap_user *pending_user; /* the user of an mfa_pending session */
	bool stale_cookie;          /* a session cookie that matches no live session */
	bool api;                   /* request came under /api/v1/ */

	/* AP_ROUTE_RAW routes: the handler writes the body and its type here. */
	struct ap_buf raw;
	const char *raw_type;       /* e.g. "text/csv; charset=utf-8" */
	/* ... or sends raw_len bytes read from raw_fd (owned: closed after the request; raw_len < 0:
	 * everything until it ends, without a Content-Length: a pipe),
	 * streamed in chunks, never held whole (downloads). */
	bool raw_from_fd;
	int raw_fd;
	int64_t raw_len;
};

/*
 * Add v (reference taken) under a constant key that o does not have yet.
 * json-c then neither copies the key nor looks it up first, which matters
 * on list pages that build hundreds of members per request.
 */
static inline void
ap_model_add(struct json_object *o, const char *const_key, struct json_object *v)
{
	json_object_object_add_ex(o, const_key, v,
	    JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_ADD_CONSTANT_KEY);
}

/* ---- src/web/ctx.c: what a handler may ask of its request */

/*
 * The worker's database connection, opened on first use after fork and
 * re-established by the data layer when it drops. NULL while the database
 * is unavailable (at most one connection attempt per second). Routes
 * flagged AP_ROUTE_DB get it as ctx->db and never see NULL; the gate and
 * public routes call this.
 */
struct ap_db *ap_ctx_db(struct ap_ctx *ctx);
/*
 * Answer for a failed database call: connection lost or timed out → 503
 * "database unavailable" (and the connection is retried later), anything
 * else → 500. Logs the backend message with the request id. Returns the
 * status, with ctx->problem filled.
 */
int ap_ctx_db_error(struct ap_ctx *ctx, enum ap_db_rc rc);
/* 503 "database unavailable" (ctx->problem filled). */
int ap_ctx_db_down(struct ap_ctx *ctx);

/*
 * Fill ctx->problem (code, field or NULL, reason msgid with its arguments)
 * and return the code's HTTP status, for `return ap_ctx_fail(...)`. The
 * response layer then answers: a browser gets the route's form page again
 * with the reason next to field (translated), or the error page; an API
 * client the JSON error document.
 */
int ap_ctx_fail(struct ap_ctx *ctx, enum ap_pb_code code, const char *field, const char *msgid, ...)
    AP_PRINTF(4, 5);
/* The same for a problem a data function filled (copied). */
int ap_ctx_problem(struct ap_ctx *ctx, const struct ap_problem *pb);
/* pb's reason in the request's language (arena). */
const char *ap_ctx_reason(struct ap_ctx *ctx, const struct ap_problem *pb);
/*
 * The same reason as pieces, so a template can isolate each argument (a
 * name, a code) from the sentence around it with <bdi> or <code>:
 * [{"text":"Disable the user ","arg":false},{"text":"bob","arg":true},...].
 * A reason without arguments, or one that falls back to English, is a
 * single piece. A new array, owned by the caller (ap_model_add takes it).
 */
struct json_object *ap_ctx_reason_parts(struct ap_ctx *ctx, const struct ap_problem *pb);

/*
 * Record a state change in the audit log with the request's identity
 * (user, address, via). before/after are JSON text or NULL; never secrets.
 * Logs and returns the error when the row cannot be written.
 */
enum ap_db_rc ap_ctx_audit(struct ap_ctx *ctx, const char *action, const char *target,
    const char *outcome, const char *before_json, const char *after_json);

/*
 * The signed-in user typed their password again (to change it, to turn
 * two-factor off): checked like a sign-in, throttled and recorded, so a
 * stolen session cannot guess it. 0 when right; otherwise the status with
 * ctx->problem filled: 429 (Retry-After set) or 400 on field with
 * wrong_msgid (a constant), or a database failure.
 */
int ap_ctx_confirm_password(struct ap_ctx *ctx, const char *field, const char *password,
    const char *wrong_msgid);

/*
 * Post/redirect/get: a one-time message for the page the browser goes to
 * next (kind "ok" or "error"; msgid translated there with its arguments),
 * carried by a signed cookie that lives one minute and is shown once.
 * Call it, then return ap_ctx_back(...). API clients never see it.
 */
void ap_ctx_flash(struct ap_ctx *ctx, const char *kind, const char *msgid, ...) AP_PRINTF(3, 4);
/*
 * Something the next page must show exactly once, with the message (a new
 * API token, recovery codes): v (taken) becomes member key of that page's
 * model. The cookie is HttpOnly, SameSite=Strict, Secure over HTTPS, and
 * removed when shown.
 */
void ap_ctx_flash_secret(struct ap_ctx *ctx, const char *key, struct json_object *v);

/*
 * A destructive action asks a browser first: true when the request does
 * not carry the confirmation yet (the form field confirmed=yes). The model
 * is then the confirmation page (question: msgid with its arguments, the
 * same form again with confirmed=yes, a way back) and the handler returns
 * 200 without changing anything. API clients are never asked (false).
 */
bool ap_ctx_unconfirmed(struct ap_ctx *ctx, const char *msgid, ...) AP_PRINTF(2, 3);

/* Prefix for links inside the panel: "" when panel.base_path is "/", else the base path. Borrowed. */
const char *ap_ctx_base(const struct ap_ctx *ctx);
/* 303 to base + path (path starts with '/'). Returns 303. */
int ap_ctx_back(struct ap_ctx *ctx, const char *path);
/* Model helpers: a string member (NULL → ""), and ISO 8601 UTC text of t or no value for 0. */
/*
 * Answer with resource (taken) as the whole model, for `return
 * ap_ctx_answer(ctx, 201, user_json(...))`: what a create or a change
 * answers an API client is the resource itself.
 */
int ap_ctx_answer(struct ap_ctx *ctx, int status, struct json_object *resource);
void ap_model_str(struct json_object *o, const char *const_key, const char *v);
/* The same, but NULL or "" is null (a resource's "none": never signed in, no address). */
void ap_model_opt(struct json_object *o, const char *const_key, const char *v);

/*
 * Paging (route.h, AP_FIELD_LIMIT and AP_FIELD_CURSOR): the page the
 * request asks for, from the route's limit and cursor fields found by
 * name. cursor 0 is the first page.
 */
struct ap_page {
	int64_t limit;
	int64_t cursor;
};
void ap_ctx_page(const struct ap_ctx *ctx, struct ap_page *pg);
/*
 * Put a page of the list at path ("/users") into the model: items (taken)
 * and next, the link to the page after it when more (its cursor is
 * next_cursor, the key of the page's last item) or null. The link is the
 * list's path (under /api/v1/ when the request came there) with the
 * request's validated query fields and the new cursor, so a client just
 * follows it; a browser's page uses it too. For the page also first (the
 * first page's link when this is a later one) and paged (either link).
 */
void ap_ctx_page_done(struct ap_ctx *ctx, const char *path, struct json_object *items, bool more,
    int64_t next_cursor);
/*
 * What an empty list's page says instead (templates/partials/empty.html):
 * text, and the next step — a link to href (under the base path) named
 * label — when href is not NULL. text and label are msgids, translated
 * here. For the page only (not in the resource).
 */
void ap_ctx_empty(struct ap_ctx *ctx, const char *text, const char *href, const char *label);
struct json_object *ap_model_time(int64_t t);
/*
 * A string member the template may print unescaped ({{{key}}}): only for
 * text the panel built itself (an SVG made from its own data), never for
 * anything derived from input. Unmarked values are escaped even in {{{ }}}.
 */
void ap_model_raw(struct json_object *o, const char *const_key, const char *html);
/* A JSON value as compact text for the audit log (arena copy); o is released. */
const char *ap_ctx_json_text(struct ap_ctx *ctx, struct json_object *o);

/* Translate msgid into the request's language. Borrowed. */
const char *ap_ctx_tr(const struct ap_ctx *ctx, const char *msgid);
/*
 * While a form page is rebuilt after a problem (ctx->form_again): the value
 * the user submitted for name, to show it again; NULL otherwise, and for
 * fields the failing route declares AP_FIELD_SECRET (passwords, codes).
 * Borrowed (request arena).
 */
const char *ap_ctx_kept(const struct ap_ctx *ctx, const char *name);
/*
 * While a refused form's page is rebuilt (ctx->form_again): "again" in the
 * model — the failing route's form fields (path parameters and secrets left
 * out) with what was typed, posting to action (below the entrance); the
 * partial templates/partials/files_again.html shows it with the reason.
 * For forms the page shows as buttons with hidden fields (a row's action).
 */
void ap_ctx_form_again(struct ap_ctx *ctx, const char *action);
/* A matched path parameter by name, as received; NULL when absent. For form
 * pages rebuilt after a problem on /items/{id}/...: which item failed. */
const char *ap_ctx_param(const struct ap_ctx *ctx, const char *name);
/*
 * Add a response header. Refuses (returns false, logs) names or values with
 * CR, LF or NUL, so no handler can split a response.
 */
bool ap_ctx_header(struct ap_ctx *ctx, const char *name, const char *value);
/* Answer with a redirect (303 unless status is given) to a local path; anything else goes to "/". */
int ap_ctx_redirect(struct ap_ctx *ctx, int status, const char *location);
/*
 * 303 to url, an absolute http(s) URL on the host this request named (the
 * panel moved to another port or entrance); anything else goes to "/".
 * url must live as long as the request (arena or static).
 */
int ap_ctx_redirect_moved(struct ap_ctx *ctx, const char *url);

/* For the response layer: set the flash cookie of a redirect (ap_ctx_flash),
 * and show a received one in an HTML page's model (then removed). */
void ap_ctx_flash_emit(struct ap_ctx *ctx);
void ap_ctx_flash_show(struct ap_ctx *ctx, struct json_object *model);
/* A flash set during this request shown in its own page (no redirect followed). */
void ap_ctx_flash_inline(struct ap_ctx *ctx, struct json_object *model);

/*
 * The layout's navigation for a signed-in request (src/web/nav.c):
 * {"main": [sections], "account": [items]}, each {id, label, href,
 * current}. Owned by the caller. Needs ctx->user.
 */
struct json_object *ap_nav_model(struct ap_ctx *ctx);

/* ---- src/web/app.c: the response layer */

/*
 * Serve one request end to end: parse, route, gate, fields, database,
 * handler, render, and write the whole response through write_fn. Never
 * fails: every problem becomes an error response. Used by the worker loop
 * and by tests (which pass their own envp/body).
 */
typedef void (*ap_write_fn)(void *ctx, const void *buf, size_t n);
void ap_app_serve(struct ap_app *app, struct ap_arena *arena, char *const *envp,
    ap_req_read_fn rd, void *rdctx, ap_write_fn wr, void *wrctx);

/*
 * Check the route table, load templates and catalogs for app from cfg. cfg
 * and routes are borrowed and must outlive app. On failure writes the
 * reason ("file:line: reason" or "route N (...): ...") into err, leaves
 * nothing allocated and returns non-OK.
 */
enum ap_err ap_app_init(struct ap_app *app, struct ap_config *cfg, const struct ap_route *routes,
    size_t nroutes, char *err, size_t errlen);
/* Release what ap_app_init and the requests allocated; app can be initialised again. */
void ap_app_fini(struct ap_app *app);

/* The reason phrase for an HTTP status ("Not Found"). A constant. */
const char *ap_http_reason(int status);

#endif
