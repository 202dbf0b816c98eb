/* gate.h — the request gate (src/web/gate.c), private to the response layer and pages. */
#ifndef AAPANEL_GATE_H
#define AAPANEL_GATE_H

#include "aapanel/app.h"

/* ap_auth_gate result for a client outside access.allow: a bare 404. */
#define AP_GATE_HIDDEN 1

/*
 * Run the gate for ctx->route. api: the request came under /api/v1/
 * (Bearer tokens accepted). Returns 0 to go on, AP_GATE_HIDDEN, or an
 * HTTP status (401, 403, 503) with ctx->err explaining it.
 */
int ap_auth_gate(struct ap_ctx *ctx, bool api);
/*
 * Only who is asking, for a request that matched no route: the client
 * address and the allowlist (AP_GATE_HIDDEN outside it), then the session
 * or token if any (failures mean "anonymous"). 0 otherwise. The not-found
 * page then keeps the navigation of a signed-in user.
 */
int ap_auth_identify(struct ap_ctx *ctx, bool api);
/* "__Host-aapanel" over HTTPS and in production, "aapanel" otherwise. */
const char *ap_session_cookie_name(const struct ap_ctx *ctx);
/* Set (or clear) the session cookie on the response. */
void ap_session_cookie_set(struct ap_ctx *ctx, const char *value, bool clear);
/*
 * After a change of privilege (new password, two-factor on): give the
 * request's cookie session a new id and CSRF token, and set the cookie.
 * Nothing for a token request. 0, or the status of a database failure
 * (ctx->problem filled).
 */
int ap_ctx_rotate_session(struct ap_ctx *ctx);

#endif
