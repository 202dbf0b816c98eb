/*
 * gate.c — the gate every request passes before its handler runs
 * (called from ap_app_serve): client address, access allowlist,
 * authentication by session cookie or API token, permission from the
 * route table, CSRF token and Origin for every state-changing request made
 * with a cookie. The route table is the only source of permissions, so a
 * route cannot be forgotten: a non-public route without a permission does
 * not even load (ap_route_table_check).
 */
#include <sys/stat.h>

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
#include "aapanel/listenconf.h"
#include "aapanel/settings.h"
#include "aapanel/weburl.h"

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

/* The outcome of reading the forwarded header. */
enum fwd {
	FWD_NONE,    /* nothing usable: REMOTE_ADDR stands */
	FWD_ADDR,    /* *out is the client */
	FWD_REFUSED, /* the request is refused: the client cannot be told */
};

/*
 * The client address in X-Forwarded-For, read the way only the trusted
 * proxies could have written it. Every HTTP_X_FORWARDED_FOR param counts,
 * in order: nginx before 1.23 (Debian 12 has 1.22) passes each repeated
 * header line as a param of its own, 1.23 and later join them with ", ",
 * and HAProxy's option forwardfor adds its own line after the client's —
 * so the lines are joined in order, as RFC 9110 5.3 reads them. The joined
 * list is read from the right, skipping trusted proxies: the first other
 * address is the client (all trusted: the leftmost). An element that is
 * not an address, met before the client is found, makes the header
 * unusable (FWD_NONE): only trusted proxies wrote that part. A joined list
 * longer than limits.max_header_len is FWD_REFUSED, so no length of
 * client-supplied text can move the reading; nothing is cut off.
 */
static enum fwd
forwarded_for(struct ap_ctx *ctx, const struct ap_cidr *proxies, size_t np, const char **out)
{
	const struct ap_req *r = ctx->req;
	size_t max = (size_t)ctx->app->cfg->max_header_len, len = 0, nel = 1, k = 0;
	char *list = NULL, **el;
	bool any = false;

	for (size_t i = 0; i < r->nparams; i++) {
		const struct ap_kv *kv = &r->params[i];

		if (strcmp(kv->key, "HTTP_X_FORWARDED_FOR") != 0)
			continue;
		len += (any ? 1 : 0) + kv->len;
		if (len > max) {
			AP_INFO("client address: X-Forwarded-For from %s is longer than limits.max_header_len "
				"(%zu bytes): request refused", r->remote_addr, max);
			return FWD_REFUSED;
		}
		any = true;
	}
	if (!any)
		return FWD_NONE;
	list = ap_arena_alloc(ctx->arena, len + 1);
	len = 0;
	for (size_t i = 0; i < r->nparams; i++) {
		const struct ap_kv *kv = &r->params[i];

		if (strcmp(kv->key, "HTTP_X_FORWARDED_FOR") != 0)
			continue;
		if (len)
			list[len++] = ',';
		memcpy(list + len, kv->val, kv->len);
		len += kv->len;
	}
	list[len] = '\0';
	for (size_t i = 0; i < len; i++)
		nel += list[i] == ',';
	el = ap_arena_alloc(ctx->arena, nel * sizeof(*el));
	el[k++] = list;
	for (size_t i = 0; i < len; i++)
		if (list[i] == ',') {
			list[i] = '\0';
			el[k++] = list + i + 1;
		}
	for (size_t i = nel; i-- > 0;) {
		char *a = el[i], *e;

		while (*a == ' ' || *a == '\t')
			a++;
		e = a + strlen(a);
		while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		if (!ap_addr_valid(a))
			return FWD_NONE; /* written by a proxy we trust, yet not an address: don't guess */
		*out = a;
		if (!ap_cidr_list_match(proxies, np, a))
			return FWD_ADDR;
	}
	return FWD_ADDR; /* every hop a trusted proxy: the leftmost is the client */
}

/* X-Real-IP: one address the proxy set (replacing the client's); two lines mean it did not. */
static enum fwd
real_ip(struct ap_ctx *ctx, const char **out)
{
	const struct ap_req *r = ctx->req;
	const char *v = NULL;

	for (size_t i = 0; i < r->nparams; i++) {
		if (strcmp(r->params[i].key, "HTTP_X_REAL_IP") != 0)
			continue;
		if (v != NULL) {
			AP_INFO("client address: X-Real-IP from %s came twice: request refused", r->remote_addr);
			return FWD_REFUSED;
		}
		v = r->params[i].val;
	}
	if (v == NULL || !ap_addr_valid(v))
		return FWD_NONE;
	*out = v;
	return FWD_ADDR;
}

/*
 * ctx->client_addr: REMOTE_ADDR, or — only when REMOTE_ADDR is one of
 * access.trusted_proxies — what the one header access.forwarded_header
 * names says. No other header is ever read. False when the request must
 * be refused (the header cannot be read without guessing).
 */
static bool
client_address(struct ap_ctx *ctx)
{
	const struct ap_config *cfg = ctx->app->cfg;
	const char *remote = ctx->req->remote_addr ? ctx->req->remote_addr : "";
	const char *hdr = cfg->forwarded_header ? cfg->forwarded_header : "";
	const struct ap_netlist *px;
	const char *f = NULL;
	enum fwd rc;

	ctx->client_addr = remote;
	if (cfg->trusted_proxies[0] == '\0' || hdr[0] == '\0')
		return true; /* nobody may tell us who the client is */
	px = netlist(&ctx->app->proxies, cfg->trusted_proxies);
	if (!ap_cidr_list_match(px->nets, px->n, remote))
		return true;
	if (strcasecmp(hdr, "X-Real-IP") == 0)
		rc = real_ip(ctx, &f);
	else
		rc = forwarded_for(ctx, px->nets, px->n, &f);
	if (rc == FWD_ADDR)
		ctx->client_addr = f;
	return rc != FWD_REFUSED;
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

int
ap_auth_admit(struct ap_ctx *ctx)
{
	if (!client_address(ctx) || !access_allowed(ctx))
		return AP_GATE_HIDDEN;
	return 0;
}

/* panel.origins, parsed again only when the text changes. */
static const struct ap_originlist *
origins(struct ap_app *app)
{
	struct ap_originlist *l = &app->origins;
	const char *src = app->cfg->panel_origins ? app->cfg->panel_origins : "";
	char bad[64];

	if (l->src != src) {
		free(l->v);
		l->v = NULL;
		l->n = 0;
		/* validated at load; a list that fails here matches nothing but this machine */
		if (!ap_origin_list_parse(src, &l->v, &l->n, bad, sizeof(bad)))
			l->n = 0;
		l->src = src;
	}
	return l;
}

/*
 * Where nginx serves the panel now (nginx.listen_file), read again when the
 * file changes. regression (issue 9): after a port move in Settings the
 * origins in panel.origins still named the old port, so every form from the
 * panel's new address was refused as another site's until someone ran
 * scripts/setup-https.sh again.
 */
static bool
listen_now(const struct ap_app *app, struct ap_listen *out)
{
	static struct {
		dev_t dev;
		ino_t ino;
		struct timespec mtime;
		bool read, ok;
		struct ap_listen l;
	} kept;
	const char *f = app->cfg->nginx_listen_file;
	struct stat st;

	if (f == NULL || f[0] == '\0' || stat(f, &st) != 0)
		return false;
	if (!kept.read || st.st_dev != kept.dev || st.st_ino != kept.ino || st.st_mtim.tv_sec != kept.mtime.tv_sec ||
	    st.st_mtim.tv_nsec != kept.mtime.tv_nsec) {
		kept.ok = ap_listen_read(f, &kept.l);
		kept.read = true;
		kept.dev = st.st_dev;
		kept.ino = st.st_ino;
		kept.mtime = st.st_mtim;
	}
	if (kept.ok)
		*out = kept.l;
	return kept.ok;
}

bool
ap_gate_same_site(struct ap_ctx *ctx, const char *url, const char **rest)
{
	const struct ap_originlist *l = origins(ctx->app);
	struct ap_origin o;
	const char *r = NULL;

	if (url == NULL || !ap_origin_parse(url, strlen(url), &o, rest ? &r : NULL))
		return false;
	if (rest)
		*rest = r;
	if (l->n == 0)
		return ap_origin_is_loopback(&o);
	for (size_t i = 0; i < l->n; i++)
		if (ap_origin_eq(&l->v[i], &o))
			return true;
	/* The same hosts at the port (and scheme) nginx serves the panel on now. */
	{
		struct ap_listen ln;

		if (listen_now(ctx->app, &ln) && o.port == ln.port && o.https == ln.tls)
			for (size_t i = 0; i < l->n; i++)
				if (l->v[i].https == o.https && strcmp(l->v[i].host, o.host) == 0)
					return true;
	}
	return false;
}

/*
 * Origin (or, without it, the origin of Referer) must be one of the
 * panel's own (panel.origins). regression: it was compared with
 * scheme://Host of the request itself, which the client chooses.
 */
static bool
same_origin(struct ap_ctx *ctx)
{
	static bool told; /* per worker: once is enough for the operator, and all an attacker gets */
	const char *o = ctx->req->origin, *rest = NULL;
	bool ours;

	if (o && *o)
		ours = ap_gate_same_site(ctx, o, NULL);
	else if ((o = ctx->req->referer) != NULL && *o != '\0')
		ours = ap_gate_same_site(ctx, o, &rest);
	else
		return false;
	if (!ours && !told && ctx->app->origins.n == 0 && ctx->req->host && *ctx->req->host) {
		told = true;
		AP_WARN("refused a state change from %.200s (Host %.200s): panel.origins is empty, so only this "
			"machine's origins are accepted; if that is the panel's address, set panel.origins",
		    o, ctx->req->host);
	}
	return ours;
}

bool
ap_gate_allows(const struct ap_ctx *ctx, const char *perm)
{
	if (ctx->user == NULL || !ap_role_allows(ctx->user->role, perm))
		return false;
	return ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, perm);
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
	if (ap_auth_admit(ctx) != 0)
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

	if (ap_auth_admit(ctx) != 0)
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
	if (!(rt->flags & AP_ROUTE_PUBLIC) && ctx->user == NULL && ctx->mfa_pending &&
	    (rt->flags & AP_ROUTE_PENDING)) {
		/* Between the two factors: only what the route allows such a session
		 * (signing out). regression: a session waiting for its code could not
		 * sign out */
	} else if (!(rt->flags & AP_ROUTE_PUBLIC)) {
		if (ctx->user == NULL)
			return ap_ctx_fail(ctx, AP_PB_UNAUTHENTICATED, NULL,
			    ctx->mfa_pending ? "two-factor code required" : "sign in required");
		if (!ap_gate_allows(ctx, rt->perm))
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
