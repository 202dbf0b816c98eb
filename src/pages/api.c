/*
 * api.c — GET /openapi.json: the API's OpenAPI 3.1 document, made from
 * the route table when a worker first serves it (src/web/openapi.c) and
 * kept for the worker's life. Any signed-in user or token may read it.
 */
#include <stdlib.h>
#include <string.h>

#include "aapanel/openapi.h"
#include "aapanel/pages.h"

int
ap_page_openapi(struct ap_ctx *ctx)
{
	static char *doc; /* this worker's, for its life: the table never changes */

	if (doc == NULL)
		doc = ap_openapi_doc(ctx->app->routes, ctx->app->nroutes, ap_ctx_base(ctx),
		    ctx->app->cfg->profile == AP_PROFILE_TEST);
	if (doc == NULL)
		return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "out of memory");
	ap_buf_reset(&ctx->raw);
	ap_buf_puts(&ctx->raw, doc);
	ap_buf_putc(&ctx->raw, '\n');
	ctx->raw_type = "application/json";
	return 200;
}
