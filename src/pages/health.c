/* health.c — GET /healthz: status, version, profile, uptime, workers, db. */
#include <string.h>

#include "aapanel/pages.h"

static const struct ap_prop health_props[] = {
	{ .name = "status", .type = AP_J_STRING, .choices = (const char *const[]) { "ok", "degraded", NULL },
	    .desc = "degraded (with HTTP 503) while a dependency is down" },
	{ .name = "version", .type = AP_J_STRING },
	{ .name = "profile", .type = AP_J_STRING },
	{ .name = "uptime_s", .type = AP_J_INT, .desc = "seconds since the pool started" },
	{ .name = "workers", .type = AP_J_INT, .desc = "live worker processes" },
	{ .name = "db", .type = AP_J_STRING, .choices = (const char *const[]) { "ok", "down", NULL } },
	AP_PROP_END,
};
const struct ap_schema ap_health_schema = { .name = "Health", .props = health_props };

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
	ap_model_add(m, "version", json_object_new_string(AP_VERSION));
	ap_model_add(m, "profile", json_object_new_string(ap_profile_name(ctx->app->cfg->profile)));
	ap_model_add(m, "uptime_s", json_object_new_int64((int64_t)up));
	ap_model_add(m, "workers", json_object_new_int((int)workers));
	ap_model_add(m, "db", json_object_new_string(db_ok ? "ok" : "down"));
	/* The health document itself, with a status a probe can act on. */
	ctx->model_is_body = true;
	return db_ok ? 200 : 503;
}
