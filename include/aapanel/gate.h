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
