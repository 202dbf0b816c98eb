/* lang.c — POST /lang: remember the chosen interface language in a cookie. */
#include <string.h>

#include "aapanel/pages.h"

/* Back to the page the form was on when it is ours, else home. */
static const char *
back_to(struct ap_ctx *ctx)
{
	const char *ref = ctx->req->referer, *host = ctx->req->host, *p;
	size_t hl;

	if (ref == NULL || host == NULL || *host == '\0')
		return NULL;
	p = strstr(ref, "://");
	if (p == NULL)
		return NULL;
	p += 3;
	hl = strlen(host);
	if (strncmp(p, host, hl) != 0 || (p[hl] != '/' && p[hl] != '\0'))
		return NULL;
	return p[hl] == '/' ? ap_arena_strdup(ctx->arena, p + hl) : NULL;
}

int
ap_page_lang(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ap_ctx_field(ctx, "lang");
	const char *base = ap_ctx_base(ctx);
	const char *to = back_to(ctx);

	ap_ctx_header(ctx, "Set-Cookie",
	    ap_arena_printf(ctx->arena, "lang=%s; Path=%s/; Max-Age=31536000; HttpOnly; SameSite=Lax%s",
		f->s, base, ctx->req->https ? "; Secure" : ""));
	json_object_object_add(ctx->model, "lang", json_object_new_string(f->s));
	/* A signed-in user's choice follows them to other browsers. */
	if (ctx->user != NULL) {
		struct ap_db *db = ap_ctx_db(ctx);
		struct ap_db_stmt *st = NULL;

		if (db != NULL && ap_db_prepare(db, "UPDATE users SET language = ? WHERE id = ?", &st) == AP_DB_OK) {
			ap_db_bind_text(st, 1, f->s, -1);
			ap_db_bind_int64(st, 2, ctx->user->id);
			ap_db_step(st);
			ap_db_finalize(st);
		}
	}
	if (ctx->req->wants_json)
		return 200;
	return ap_ctx_redirect(ctx, 303, to ? to : ap_arena_printf(ctx->arena, "%s/", base));
}
