/* health.c — GET /healthz: status, version, profile, uptime, workers, db, disk. */
#include <string.h>

#include "aapanel/netaddr.h"
#include "aapanel/pages.h"
#include "aapanel/storage.h"

static const struct ap_prop health_props[] = {
	{ .name = "status", .type = AP_J_STRING, .choices = (const char *const[]) { "ok", "degraded", NULL },
	    .desc = "degraded (with HTTP 503) while a dependency is down" },
	{ .name = "version", .type = AP_J_STRING, .flags = AP_J_OPT,
	    .desc = "only to this machine (loopback): monitoring here, not whoever reaches the panel" },
	{ .name = "profile", .type = AP_J_STRING },
	{ .name = "uptime_s", .type = AP_J_INT, .desc = "seconds since the pool started" },
	{ .name = "workers", .type = AP_J_INT, .desc = "live worker processes" },
	{ .name = "db", .type = AP_J_STRING, .choices = (const char *const[]) { "ok", "down", "read-only", NULL } },
	{ .name = "disk", .type = AP_J_STRING, .choices = (const char *const[]) { "ok", "full", NULL },
	    .desc = "full: under 1 MiB or no inodes left where the panel writes" },
	AP_PROP_END,
};
const struct ap_schema ap_health_schema = { .name = "Health", .props = health_props };

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

/*
 * The health document: "status" ok or degraded, "db" ok, down or
 * read-only, "disk" ok or full (storage.h: probed at most every few seconds
 * per worker, so a probe loop costs nothing), 503 unless all are ok.
 */
int
ap_page_healthz(struct ap_ctx *ctx)
{
	struct json_object *m = ctx->model;
	struct ap_storage st;
	uint64_t up = 0;
	unsigned workers = 0;
	bool ok;

	ap_storage_check(ctx->app->cfg, ap_ctx_db(ctx), false, &st);
	ok = st.db == AP_STORAGE_DB_OK && !st.disk_full;
	if (ctx->app->sb != NULL) {
		struct ap_sb_header *h = ap_sb_header(ctx->app->sb);

		workers = ap_sb_live(ctx->app->sb, NULL);
		up = (ap_now_ms() - h->started_ms) / 1000u;
	}
	ap_model_add(m, "status", json_object_new_string(ok ? "ok" : "degraded"));
	/* The version for this machine's monitoring (nginx lets only loopback
	 * reach /healthz in production), not for whoever else reaches the panel.
	 * regression: it was shown to anonymous visitors */
	if (loopback(ctx->client_addr))
		ap_model_add(m, "version", json_object_new_string(AP_VERSION));
	ap_model_add(m, "profile", json_object_new_string(ap_profile_name(ctx->app->cfg->profile)));
	ap_model_add(m, "uptime_s", json_object_new_int64((int64_t)up));
	ap_model_add(m, "workers", json_object_new_int((int)workers));
	ap_model_add(m, "db", json_object_new_string(ap_storage_db_name(st.db)));
	ap_model_add(m, "disk", json_object_new_string(st.disk_full ? "full" : "ok"));
	/* The health document itself, with a status a probe can act on. */
	ctx->model_is_body = true;
	return ok ? 200 : 503;
}
