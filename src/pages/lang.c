/* lang.c — POST /lang: remember the chosen interface language in a cookie. */
#include <string.h>

#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/users.h"

static const char *const lang_choices[] = { "en", "ar", NULL };

enum lang_field { LANG_LANG, LANG__MAX };
const struct ap_field ap_lang_fields[LANG__MAX + 1] = {
	[LANG_LANG] = { .name = "lang", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = lang_choices },
	[LANG__MAX] = AP_FIELD_END,
};

static const struct ap_prop lang_props[] = {
	{ .name = "lang", .type = AP_J_STRING, .choices = lang_choices },
	AP_PROP_END,
};
const struct ap_schema ap_lang_schema = { .name = "Language", .props = lang_props };

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
	const char *lang = ctx->fields[LANG_LANG].s;
	const char *base = ap_ctx_base(ctx);
	const char *to = back_to(ctx);

	ap_ctx_header(ctx, "Set-Cookie",
	    ap_arena_printf(ctx->arena, "lang=%s; Path=%s/; Max-Age=31536000; HttpOnly; SameSite=Lax%s",
		lang, base, ctx->req->https ? "; Secure" : ""));
	json_object_object_add(ctx->model, "lang", json_object_new_string(lang));
	/* A signed-in user's choice follows them to other browsers. */
	if (ctx->user != NULL) {
		struct ap_db *db = ap_ctx_db(ctx);

		if (db != NULL && ap_user_set_language(db, ctx->user->id, lang) != AP_DB_OK)
			AP_WARN("language of %s not stored: %s", ctx->user->username, ap_db_errmsg(db));
	}
	if (ctx->req->wants_json)
		return 200;
	return ap_ctx_redirect(ctx, 303, to ? to : ap_arena_printf(ctx->arena, "%s/", base));
}
