/*
 * authmw.c — the gate every request passes before its handler runs
 * (called from ap_app_serve): client address, access allowlist,
 * authentication by session cookie or API token, permission from the
 * route table, CSRF token and Origin for every state-changing request made
 * with a cookie. The route table is the only source of permissions, so a
 * route cannot be forgotten: a non-public route without a permission does
 * not even load (ap_route_table_check).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aapanel/app.h"
#include "aapanel/audit.h"
#include "aapanel/auth.h"
#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/netaddr.h"
#include "aapanel/users.h"
#include "aapanel/gate.h"
#include "aapanel/settings.h"

const char *
ap_session_cookie_name(const struct ap_ctx *ctx)
{
	/* __Host- pins the cookie to this origin, Secure and Path=/; a development
	 * panel on plain http://127.0.0.1 cannot use it. */
	if (ctx->req->https || ctx->app->cfg->profile == AP_PROFILE_PRODUCTION)
		return "__Host-aapanel";
	return "aapanel";
}

void
ap_session_cookie_set(struct ap_ctx *ctx, const char *value, bool clear)
{
	bool secure = ctx->req->https || ctx->app->cfg->profile == AP_PROFILE_PRODUCTION;
	char *c;

	if (clear)
		c = ap_arena_printf(ctx->arena, "%s=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
		    ap_session_cookie_name(ctx), secure ? "; Secure" : "");
	else
		/* No Max-Age: the session ends with the browser too; the server ends it anyway. */
		c = ap_arena_printf(ctx->arena, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		    ap_session_cookie_name(ctx), value, secure ? "; Secure" : "");
	ap_ctx_header(ctx, "Set-Cookie", c);
}

int
ap_ctx_rotate_session(struct ap_ctx *ctx)
{
	struct ap_session s;
	char cookie[AP_SESSION_ID_HEX + 1];
	enum ap_db_rc rc;

	if (ctx->session_id == 0)
		return 0; /* an API token: no session to rotate */
	memset(&s, 0, sizeof(s));
	s.id = ctx->session_id;
	rc = ap_session_rotate(ap_ctx_db(ctx), ctx->app->cfg, &s, false, cookie);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_session_cookie_set(ctx, cookie, false);
	explicit_bzero(cookie, sizeof(cookie));
	/* The page rendered now carries the new CSRF token in its forms. */
	ctx->csrf = ap_arena_strdup(ctx->arena, s.csrf);
	return 0;
}

/* The rightmost address in X-Forwarded-For that is not a trusted proxy. */
static const char *
forwarded_addr(struct ap_ctx *ctx, const struct ap_cidr *proxies, size_t np)
{
	const char *xff = ap_req_param(ctx->req, "HTTP_X_FORWARDED_FOR");
	const char *xri = ap_req_param(ctx->req, "HTTP_X_REAL_IP");

	if (xff && *xff) {
		char *copy = ap_arena_strdup(ctx->arena, xff);
		char *parts[32];
		int n = 0;

		for (char *save = NULL, *t = strtok_r(copy, ", ", &save); t && n < 32;
		     t = strtok_r(NULL, ", ", &save))
			parts[n++] = t;
		for (int i = n - 1; i >= 0; i--) {
			if (!ap_addr_valid(parts[i]))
				return NULL; /* garbage: don't guess */
			if (!ap_cidr_list_match(proxies, np, parts[i]))
				return parts[i];
		}
		return NULL;
	}
	if (xri && ap_addr_valid(xri))
		return xri;
	return NULL;
}

/* The parsed form of a CIDR list setting, parsed again only when the text changes. */
static const struct ap_netlist *
netlist(struct ap_netlist *l, const char *src)
{
	char bad[64];

	if (l->src != src) {
		free(l->nets);
		l->nets = NULL;
		l->n = 0;
		/* validated at load; a list that fails here matches nothing */
		if (!ap_cidr_list_parse(src, &l->nets, &l->n, bad, sizeof(bad)))
			l->n = 0;
		l->src = src;
	}
	return l;
}

static void
client_address(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *remote = ctx->req->remote_addr ? ctx->req->remote_addr : "";
	const struct ap_netlist *px;

	ctx->client_addr = remote;
	if (cfg->trusted_proxies[0] == '\0')
		return; /* nobody may tell us who the client is */
	px = netlist(&ctx->app->proxies, cfg->trusted_proxies);
	if (ap_cidr_list_match(px->nets, px->n, remote)) {
		const char *f = forwarded_addr(ctx, px->nets, px->n);

		if (f)
			ctx->client_addr = f;
	}
}

static bool
access_allowed(struct ap_ctx *ctx)
{
	const char *allow = ctx->app->cfg->access_allow;
	const struct ap_netlist *l;

	if (allow[0] == '\0')
		return true;
	l = netlist(&ctx->app->allow, allow);
	return ap_cidr_list_match(l->nets, l->n, ctx->client_addr);
}

/* scheme://host of this request, as a browser would send it in Origin. */
static const char *
own_origin(struct ap_ctx *ctx)
{
	const char *host = ctx->req->host ? ctx->req->host : "";

	return ap_arena_printf(ctx->arena, "%s://%s", ctx->req->https ? "https" : "http", host);
}

/* Origin (or, without it, Referer's origin) must be ours. */
static bool
same_origin(struct ap_ctx *ctx)
{
	const char *o = ctx->req->origin, *own = own_origin(ctx);
	size_t n = strlen(own);

	if (o && *o)
		return strcmp(o, own) == 0;
	o = ctx->req->referer;
	if (o == NULL || *o == '\0')
		return false;
	return strncmp(o, own, n) == 0 && (o[n] == '/' || o[n] == '\0' || o[n] == '?');
}

static const char *
submitted_csrf(struct ap_ctx *ctx)
{
	const char *h = ap_req_param(ctx->req, "HTTP_X_CSRF_TOKEN");

	if (h && *h)
		return h;
	return ap_req_form(ctx->req, "csrf");
}

#define SETTINGS_REFRESH_S 10

/*
 * Reload ctx->app->require_2fa from the settings table, at most every
 * SETTINGS_REFRESH_S seconds per worker; a failed read keeps the last value.
 */
static void
refresh_settings(struct ap_ctx *ctx)
{
	static uint64_t next_ms; /* per worker: each is its own process */
	uint64_t now = ap_now_ms();
	struct ap_db *db;
	bool on;

	if (next_ms != 0 && now < next_ms)
		return;
	/* Counted from the attempt, so a failing database is not asked on every request. */
	next_ms = now + SETTINGS_REFRESH_S * 1000;
	if ((db = ap_ctx_db(ctx)) == NULL)
		return;
	if (ap_setting_get_bool(db, AP_SETTING_REQUIRE_2FA, &on) != AP_DB_OK) {
		AP_WARN("settings: cannot read %s: %s", AP_SETTING_REQUIRE_2FA, ap_db_errmsg(db));
		return;
	}
	ctx->app->require_2fa = on;
}

/* Identify the caller. Returns 0, or an HTTP status when the database failed. */
static int
authenticate(struct ap_ctx *ctx, bool api)
{
	const char *authz = ap_req_param(ctx->req, "HTTP_AUTHORIZATION");
	const char *cookie;
	struct ap_db *db;
	enum ap_db_rc rc;

	if (api && authz && strncasecmp(authz, "Bearer ", 7) == 0) {
		struct ap_token_row row;
		struct ap_user *u = ap_arena_calloc(ctx->arena, 1, sizeof(*u));

		if ((db = ap_ctx_db(ctx)) == NULL)
			return ap_ctx_db_down(ctx);
		rc = ap_token_auth(db, ctx->app->cfg, authz + 7, ctx->client_addr, time(NULL), ctx->arena,
		    &row, u);
		if (rc == AP_DB_OK) {
			ctx->user = u;
			ctx->token_id = row.id;
			ctx->token_scope = ap_arena_strdup(ctx->arena, row.scope);
			ctx->via = "api";
		} else if (rc != AP_DB_ENOTFOUND)
			return ap_ctx_db_error(ctx, rc);
		return 0;
	}
	cookie = ap_req_cookie(ctx->req, ap_session_cookie_name(ctx));
	if (cookie == NULL || *cookie == '\0')
		return 0;
	if ((db = ap_ctx_db(ctx)) == NULL)
		return ap_ctx_db_down(ctx);
	{
		struct ap_session s;
		struct ap_user *u = ap_arena_calloc(ctx->arena, 1, sizeof(*u));

		rc = ap_session_lookup(db, ctx->app->cfg, cookie, time(NULL), ctx->arena, &s, u);
		if (rc == AP_DB_ENOTFOUND) {
			ctx->stale_cookie = true;
			return 0;
		}
		if (rc != AP_DB_OK)
			return ap_ctx_db_error(ctx, rc);
		ctx->session_id = s.id;
		ctx->mfa_pending = s.mfa_pending;
		ctx->csrf = ap_arena_strdup(ctx->arena, s.csrf);
		ctx->via = "ui";
		if (!s.mfa_pending)
			ctx->user = u;
		else
			ctx->pending_user = u;
	}
	return 0;
}

int
ap_auth_identify(struct ap_ctx *ctx, bool api)
{
	client_address(ctx);
	if (!access_allowed(ctx))
		return AP_GATE_HIDDEN;
	ctx->via = "ui";
	/* Who it is, if anyone; a database problem only means "nobody". */
	if (authenticate(ctx, api) != 0)
		ap_problem_clear(&ctx->problem);
	return 0;
}

int
ap_auth_gate(struct ap_ctx *ctx, bool api)
{
	const struct ap_route *rt = ctx->route;
	bool unsafe = ctx->req->method != AP_METHOD_GET && ctx->req->method != AP_METHOD_HEAD &&
	    ctx->req->method != AP_METHOD_OPTIONS;
	int status;

	client_address(ctx);
	if (!access_allowed(ctx))
		return AP_GATE_HIDDEN;
	ctx->via = "ui";
	status = authenticate(ctx, api);
	if (status != 0) {
		/* A public page still works without the database (login shows its own error). */
		if (!(rt->flags & AP_ROUTE_PUBLIC))
			return status;
		ap_problem_clear(&ctx->problem);
	}
	/* A cross-site state change is refused whoever asks, signed in or not. */
	if (unsafe && ctx->req->origin && *ctx->req->origin && !same_origin(ctx))
		return ap_ctx_fail(ctx, AP_PB_CSRF, NULL, "cross-site request refused");
	if (!(rt->flags & AP_ROUTE_PUBLIC)) {
		if (ctx->user == NULL)
			return ap_ctx_fail(ctx, AP_PB_UNAUTHENTICATED, NULL,
			    ctx->mfa_pending ? "two-factor code required" : "sign in required");
		if (!ap_role_allows(ctx->user->role, rt->perm) ||
		    (ctx->token_scope && !ap_scope_allows(ctx->token_scope, rt->perm)))
			return ap_ctx_fail(ctx, AP_PB_DENIED, NULL, "permission %s required", rt->perm);
		refresh_settings(ctx);
		/* The requirement holds for a user's API tokens too: a password-only
		 * account must not keep a way around it. */
		if (ctx->app->require_2fa && !ctx->user->totp_enabled &&
		    strcmp(rt->perm, "account.self") != 0 && strcmp(rt->perm, "overview.read") != 0)
			return ap_ctx_fail(ctx, AP_PB_DENIED, NULL, "two-factor authentication required");
	}
	/* Cookie-authenticated state changes: the session's CSRF token and our Origin.
	 * The sign-in form has its own token (and replaces whatever session the
	 * browser held). */
	if (unsafe && ctx->session_id != 0 && !(rt->flags & AP_ROUTE_LOGIN)) {
		const char *t = submitted_csrf(ctx);

		if (!same_origin(ctx))
			return ap_ctx_fail(ctx, AP_PB_CSRF, NULL, "cross-site request refused");
		if (t == NULL || ctx->csrf == NULL || !ap_ct_streq(t, ctx->csrf))
			return ap_ctx_fail(ctx, AP_PB_CSRF, "csrf",
			    "missing or wrong CSRF token; reload the page and try again");
	}
	return 0;
}
