/*
 * app.h — what a worker holds for its whole life (configuration, compiled
 * templates, catalogs, routes) and what one request carries through the
 * handler (struct ap_ctx). A handler validates nothing itself: it reads the
 * declared, validated fields, does its work and fills ctx->model; the
 * response layer renders the model as HTML or JSON.
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
#include "aapanel/req.h"
#include "aapanel/route.h"
#include "aapanel/scoreboard.h"
#include "aapanel/tpl.h"

struct ap_app {
	struct ap_config *cfg;   /* borrowed from the master */
	struct ap_tpl_set *tpl;  /* compiled templates */
	struct ap_i18n *i18n;    /* catalogs */
	const struct ap_route *routes;
	size_t nroutes;
	struct ap_sb *sb;        /* NULL outside the pool (tests, CLI) */
	struct ap_db *db;        /* opened lazily after fork (ap_ctx_db) */
	uint64_t db_retry_ms;    /* while down: no reconnect attempt before this */
	struct ap_db_stmt *st_counts; /* hot statement of the home page */
	bool require_2fa;        /* settings: every user must enrol two-factor */
	/* access.allow and access.trusted_proxies, parsed once (re-parsed only if
	 * the configuration string changes). */
	struct ap_netlist {
		const char *src;
		struct ap_cidr *nets;
		size_t n;
	} allow, proxies;
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
	struct ap_fieldval *fields; /* parallel to route->fields */
	struct json_object *model;  /* owned by the response layer; handlers add to it */
	const char *lang;           /* negotiated language code */
	bool rtl;
	char request_id[40];
	const char *title;          /* translated page title (HTML) */
	const char *tpl;            /* template override; NULL = route->tpl */
	struct ap_buf headers;      /* extra "Name: value\r\n" response headers */
	const char *location;       /* redirect target for 3xx */
	struct ap_req_error err;    /* filled for 4xx answers with a field */
	bool model_is_body;         /* a status >= 400 still renders the handler's model (healthz) */

	/* Identity, set by the auth layer before the handler runs. */
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

/*
 * The worker's database connection, opened on first use after fork and
 * re-established by the data layer when it drops. NULL while the database
 * is unavailable (at most one connection attempt per second): the handler
 * then returns ap_ctx_db_down(ctx), a 503 page that says so.
 */
struct ap_db *ap_ctx_db(struct ap_ctx *ctx);
int ap_ctx_db_down(struct ap_ctx *ctx);
/*
 * Map a failed database call to the response: connection lost → 503
 * (and the connection is retried later), anything else → 500. Logs the
 * backend message with the request id.
 */
int ap_ctx_db_error(struct ap_ctx *ctx, enum ap_db_rc rc);

/*
 * Record a state change in the audit log with the request's identity
 * (user, address, via). before/after are JSON text or NULL; never secrets.
 * Logs and returns the error when the row cannot be written.
 */
enum ap_db_rc ap_ctx_audit(struct ap_ctx *ctx, const char *action, const char *target,
    const char *outcome, const char *before_json, const char *after_json);

/* Prefix for links inside the panel: "" when panel.base_path is "/", else the base path. */
const char *ap_ctx_base(const struct ap_ctx *ctx);
/* 303 to base + path (path starts with '/'). */
int ap_ctx_back(struct ap_ctx *ctx, const char *path);
/* Model helpers: a string member (NULL → ""), and ISO 8601 UTC text of t or no value for 0. */
void ap_model_str(struct json_object *o, const char *const_key, const char *v);
struct json_object *ap_model_time(int64_t t);

/*
 * Translate a validation reason for the user. The password policy's length
 * reason carries the configured minimum, so it is rebuilt from its msgid.
 */
const char *ap_ctx_tr_reason(struct ap_ctx *ctx, const char *reason);

/* Translate msgid into the request's language. Borrowed. */
const char *ap_ctx_tr(const struct ap_ctx *ctx, const char *msgid);
/* A validated field by name; NULL when not declared on the route. */
const struct ap_fieldval *ap_ctx_field(const struct ap_ctx *ctx, const char *name);
/* A path parameter by name; NULL when absent. */
const char *ap_ctx_param(const struct ap_ctx *ctx, const char *name);
/*
 * Add a response header. Refuses (returns false, logs) names or values with
 * CR, LF or NUL, so no handler can split a response.
 */
bool ap_ctx_header(struct ap_ctx *ctx, const char *name, const char *value);
/* Answer with a redirect (303 unless status is given) to a local path. */
int ap_ctx_redirect(struct ap_ctx *ctx, int status, const char *location);
/* Fill ctx->err for a field error and return 400. */
int ap_ctx_bad_field(struct ap_ctx *ctx, const char *field, const char *reason);

/*
 * Serve one request end to end: parse, route, check fields, call the
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
void ap_app_fini(struct ap_app *app);

/* The reason phrase for an HTTP status ("Not Found"). */
const char *ap_http_reason(int status);

#endif
