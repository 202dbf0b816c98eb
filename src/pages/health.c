/* health.c — GET /healthz: status, version, profile, uptime, workers, db. */
#include <sqlite3.h>
#include <string.h>

#include "aapanel/log.h"
#include "pages.h"

/*
 * Until the data layer lands, the health check opens the configured SQLite
 * file itself; other DSNs report "unknown". The handle is per worker.
 */
static sqlite3 *health_db;

static const char *
db_state(const struct ap_config *cfg, struct ap_arena *a)
{
	const char *dsn = cfg->db_dsn, *path;
	sqlite3_stmt *st = NULL;
	const char *state = "down";

	if (strncmp(dsn, "sqlite:", 7) != 0)
		return "unknown";
	path = dsn + 7;
	if (strncmp(path, "//", 2) == 0)
		path += 2;
	if (path[0] != '/')
		path = ap_arena_printf(a, "%s/%s", cfg->root_dir, path);
	if (health_db == NULL &&
	    sqlite3_open_v2(path, &health_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		AP_WARN("cannot open %s: %s", path, sqlite3_errmsg(health_db));
		sqlite3_close(health_db);
		health_db = NULL;
		return state;
	}
	if (sqlite3_prepare_v2(health_db, "SELECT 1", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		state = "ok";
	sqlite3_finalize(st);
	return state;
}

int
ap_page_healthz(struct ap_ctx *ctx)
{
	struct json_object *m = ctx->model;
	const char *db = db_state(ctx->app->cfg, ctx->arena);
	uint64_t up = 0;
	unsigned workers = 0;

	if (ctx->app->sb != NULL) {
		struct ap_sb_header *h = ap_sb_header(ctx->app->sb);

		workers = ap_sb_live(ctx->app->sb, NULL);
		up = (ap_now_ms() - h->started_ms) / 1000u;
	}
	ap_model_add(m, "status", json_object_new_string(strcmp(db, "down") ? "ok" : "degraded"));
	ap_model_add(m, "version", json_object_new_string(AP_VERSION));
	ap_model_add(m, "profile", json_object_new_string(ap_profile_name(ctx->app->cfg->profile)));
	ap_model_add(m, "uptime_s", json_object_new_int64((int64_t)up));
	ap_model_add(m, "workers", json_object_new_int((int)workers));
	ap_model_add(m, "db", json_object_new_string(db));
	return strcmp(db, "down") ? 200 : 503;
}
