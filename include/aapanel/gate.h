/* gate.h — the request gate (src/web/gate.c), private to the response layer and pages. */
#ifndef AAPANEL_GATE_H
#define AAPANEL_GATE_H

#include "aapanel/app.h"

/* ap_auth_gate result for a client outside access.allow: a bare 404. */
#define AP_GATE_HIDDEN 1

/*
 * Run the gate for ctx->route: client address (through trusted proxies),
 * access.allow, who is asking (a Bearer token when api, i.e. under
 * /api/v1/; else the session cookie), Origin and CSRF token, the route's
 * permission and token scope, the two-factor requirement. Sets
 * ctx->client_addr, ctx->via, ctx->user (ctx->pending_user between the two
 * factors) and the session or token fields. Returns 0 to go on,
 * AP_GATE_HIDDEN, or an HTTP status with ctx->problem explaining it: 401,
 * 403, or 503/500 when the database fails on a non-public route (a public
 * one goes on without an identity).
 */
int ap_auth_gate(struct ap_ctx *ctx, bool api);
/*
 * Only who is asking, for a request that matched no route: the client
 * address and the allowlist (AP_GATE_HIDDEN outside it), then the session
 * or token if any (failures mean "anonymous"). 0 otherwise. The not-found
 * page then keeps the navigation of a signed-in user.
 */
int ap_auth_identify(struct ap_ctx *ctx, bool api);
/*
 * Only the client address (REMOTE_ADDR, or what access.forwarded_header
 * says when REMOTE_ADDR is a trusted proxy) and access.allow, for answers
 * given before the gate (a request that failed parsing, a method the route
 * lacks). Sets ctx->client_addr. 0 when the client may see the panel,
 * AP_GATE_HIDDEN otherwise (outside access.allow, or a forwarded header
 * that cannot be read without guessing): answer with a bare 404.
 */
int ap_auth_admit(struct ap_ctx *ctx);
/*
 * True when url is one of the panel's own origins (panel.origins; when
 * that is empty, an origin on this machine: localhost, 127.0.0.0/8,
 * [::1]). url is an Origin header, or with rest non-NULL a full URL such
 * as a Referer, whose part after the authority ("", "/path?q") goes into
 * *rest (borrowed from url). Never the request's own Host.
 */
bool ap_gate_same_site(struct ap_ctx *ctx, const char *url, const char **rest);
/*
 * The request's identity may do perm: a signed-in user whose role allows
 * it, and for an API token also its scope — the check the gate makes for
 * every non-public route, for public handlers that do more for a
 * signed-in caller. False when anonymous.
 */
bool ap_gate_allows(const struct ap_ctx *ctx, const char *perm);
/* "__Host-aapanel" over HTTPS and in production, "aapanel" otherwise (static). */
const char *ap_session_cookie_name(const struct ap_ctx *ctx);
/*
 * Set (value, copied; ignored when clear) or clear (Max-Age=0) the session
 * cookie on the response: Path=/, HttpOnly, SameSite=Strict, Secure over
 * HTTPS and in production, no Max-Age (it ends with the browser too).
 */
void ap_session_cookie_set(struct ap_ctx *ctx, const char *value, bool clear);
/*
 * After a change of privilege (new password, two-factor on): give the
 * request's cookie session a new id and CSRF token (ctx->csrf, so the page
 * rendered now carries it), mark it a full session, and set the cookie.
 * Nothing for a token request. Needs the database open (an AP_ROUTE_DB
 * route). 0, or the status of a database failure (ctx->problem filled;
 * the old cookie then still works).
 */
int ap_ctx_rotate_session(struct ap_ctx *ctx);

#endif
