/* health.c — GET /healthz: status, version, profile, uptime, workers, db. */
#include <string.h>

#include "aapanel/netaddr.h"
#include "aapanel/pages.h"

static bool
loopback(const char *addr)
{
	static const struct ap_cidr *nets;
	static size_t n;
	static struct ap_cidr parsed[2];

	if (nets == NULL) {
		ap_cidr_parse("127.0.0.0/8", &parsed[0]);
		ap_cidr_parse("::1", &parsed[1]);
		nets = parsed;
		n = 2;
	}
	return ap_cidr_list_match(nets, n, addr);
}

int
ap_page_healthz(struct ap_ctx *ctx)
{
	struct json_object *m = ctx->model;
	struct ap_db *db = ap_ctx_db(ctx);
	bool db_ok = db != NULL && ap_db_ping(db) == AP_DB_OK;
	uint64_t up = 0;
	unsigned workers = 0;

	if (ctx->app->sb != NULL) {
		struct ap_sb_header *h = ap_sb_header(ctx->app->sb);

		workers = ap_sb_live(ctx->app->sb, NULL);
		up = (ap_now_ms() - h->started_ms) / 1000u;
	}
	ap_model_add(m, "status", json_object_new_string(db_ok ? "ok" : "degraded"));
	/* The version for this machine's monitoring (nginx lets only loopback
	 * reach /healthz in production), not for whoever else reaches the panel.
	 * regression: it was shown to anonymous visitors */
	if (loopback(ctx->client_addr))
		ap_model_add(m, "version", json_object_new_string(AP_VERSION));
	ap_model_add(m, "profile", json_object_new_string(ap_profile_name(ctx->app->cfg->profile)));
	ap_model_add(m, "uptime_s", json_object_new_int64((int64_t)up));
	ap_model_add(m, "workers", json_object_new_int((int)workers));
	ap_model_add(m, "db", json_object_new_string(db_ok ? "ok" : "down"));
	/* The health document itself, with a status a probe can act on. */
	ctx->model_is_body = true;
	return db_ok ? 200 : 503;
}
