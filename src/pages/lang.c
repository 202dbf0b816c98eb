/*
 * lang.c — POST /lang: remember the chosen interface language in a cookie,
 * and in the account of a signed-in user who may change it.
 */
#include <string.h>

#include "aapanel/gate.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/users.h"
#include "aapanel/weburl.h"

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

/* Back to the page the form was on when it is one of ours, else home. */
static const char *
back_to(struct ap_ctx *ctx)
{
	const char *rest = NULL;

	if (!ap_gate_same_site(ctx, ctx->req->referer, &rest) || !ap_url_local_path(ap_ctx_base(ctx), rest))
		return NULL;
	return rest;
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
	/*
	 * A signed-in user's choice follows them to other browsers: a change of
	 * their account, so only with the permission the account page needs
	 * (a read-scope token has not) and recorded in the audit log.
	 * regression: a read-scope token changed the stored language, unaudited
	 */
	if (ap_gate_allows(ctx, "account.self") &&
	    (ctx->user->language == NULL || strcmp(ctx->user->language, lang) != 0)) {
		struct ap_db *db = ap_ctx_db(ctx);
		struct json_object *b = json_object_new_object(), *a = json_object_new_object();

		ap_model_add(b, "language", ctx->user->language ? json_object_new_string(ctx->user->language) : NULL);
		ap_model_add(a, "language", json_object_new_string(lang));
		if (db != NULL && ap_user_set_language(db, ctx->user->id, lang) == AP_DB_OK) {
			ap_ctx_audit(ctx, "account.language", ctx->user->username, "ok", ap_ctx_json_text(ctx, b),
			    ap_ctx_json_text(ctx, a));
		} else {
			json_object_put(b);
			json_object_put(a);
			AP_WARN("language of %s not stored: %s", ctx->user->username,
			    db ? ap_db_errmsg(db) : "database unavailable");
		}
	}
	if (ctx->req->wants_json)
		return 200;
	return ap_ctx_redirect(ctx, 303, to ? to : ap_arena_printf(ctx->arena, "%s/", base));
}
