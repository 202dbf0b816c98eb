/*
 * tokens.c — every user's API tokens (permissions users.read and
 * users.write, which only admins have): the list, newest first, a page at
 * a time, and revoking any of them. A user's own tokens are on their
 * account page (account.c).
 */
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/pages.h"
#include "aapanel/users.h"

struct tokens_ctx {
	struct json_object *arr;
	time_t now;
	int64_t last;
};

static bool
token_row(void *p, const struct ap_token_row *t)
{
	struct tokens_ctx *l = p;

	ap_page_token_add(l->arr, t, l->now);
	l->last = t->id;
	return true;
}

/* Every user's tokens, newest first, a page at a time. */
int
ap_page_tokens(struct ap_ctx *ctx)
{
	struct tokens_ctx l = { ap_page_token_rows(), time(NULL), 0 };
	struct ap_token_filter tf = { NULL, -1 };
	struct ap_page pg;
	bool more = false;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "API tokens");
	ap_model_str(ctx->model, "revoke_base", "/tokens");
	ap_ctx_page(ctx, &pg);
	if (ctx->fields[AP_TL_USER].present)
		tf.username = ctx->fields[AP_TL_USER].s;
	if (ctx->fields[AP_TL_ACTIVE].present)
		tf.active = ctx->fields[AP_TL_ACTIVE].b ? 1 : 0;
	rc = ap_token_page(ctx->db, 0, &tf, l.now, pg.cursor, pg.limit, token_row, &l, &more);
	if (rc != AP_DB_OK) {
		json_object_put(l.arr);
		return ap_ctx_db_error(ctx, rc);
	}
	if (l.last == 0 && (pg.cursor || tf.username || tf.active >= 0))
		ap_ctx_empty(ctx, N_("No token matches."), "/tokens", N_("Show every token"));
	else if (l.last == 0)
		ap_ctx_empty(ctx, N_("No user has an API token yet."), "/account#token-heading",
		    N_("Make a token on your account page"));
	ap_ctx_page_done(ctx, "/tokens", l.arr, more, l.last);
	return 200;
}

int
ap_page_token_revoke(struct ap_ctx *ctx)
{
	int64_t id = ctx->fields[AP_ID].i;
	enum ap_db_rc rc;

	if (ap_ctx_unconfirmed(ctx, "Revoke this API token? Scripts that use it stop working at once."))
		return 200;
	rc = ap_token_revoke(ctx->db, id, 0);
	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such active token");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "token.revoke", ap_arena_printf(ctx->arena, "%lld", (long long)id), "ok", NULL, NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The API token was revoked.");
	return ap_ctx_back(ctx, "/tokens");
}
