/* appdb.c — the worker's lazily opened database connection (app.h). */
#include <stdio.h>
#include <string.h>

#include "aapanel/app.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"

#define DB_RETRY_MS 1000u

static void
mark_down(struct ap_app *app)
{
	app->db_retry_ms = ap_now_ms() + DB_RETRY_MS;
}

struct ap_db *
ap_ctx_db(struct ap_ctx *ctx)
{
	struct ap_app *app = ctx->app;
	enum ap_db_rc rc;

	if (app->db != NULL && ap_db_connected(app->db))
		return app->db;
	if (app->db_retry_ms && ap_now_ms() < app->db_retry_ms)
		return NULL;
	if (app->db == NULL) {
		rc = ap_dbconn_open(app->cfg, &app->db);
		if (rc == AP_DB_EINVAL && app->db == NULL) {
			mark_down(app);
			return NULL;
		}
	} else {
		rc = ap_db_ping(app->db); /* reconnects */
	}
	if (rc != AP_DB_OK) {
		AP_WARN("database unavailable: %s (%s)", ap_db_errmsg(app->db), ap_db_rc_str(rc));
		mark_down(app);
		return NULL;
	}
	app->db_retry_ms = 0;
	return app->db;
}

int
ap_ctx_db_down(struct ap_ctx *ctx)
{
	snprintf(ctx->err.reason, sizeof(ctx->err.reason), "database unavailable");
	return 503;
}

int
ap_ctx_db_error(struct ap_ctx *ctx, enum ap_db_rc rc)
{
	AP_ERROR("database: %s (%s)", ap_db_errmsg(ctx->app->db), ap_db_rc_str(rc));
	if (rc == AP_DB_ECONN || rc == AP_DB_ETIMEOUT) {
		if (rc == AP_DB_ECONN)
			mark_down(ctx->app);
		return ap_ctx_db_down(ctx);
	}
	return 500;
}
