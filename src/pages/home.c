/* home.c — GET /: the server overview (the layout page later screens extend). */
#include <sys/sysinfo.h>

#include <stdio.h>

#include "aapanel/pages.h"

static const char *
human_bytes(struct ap_arena *a, unsigned long long b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	size_t u = 0;

	while (v >= 1024.0 && u < AP_NELEM(unit) - 1) {
		v /= 1024.0;
		u++;
	}
	return ap_arena_printf(a, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

int
ap_page_home(struct ap_ctx *ctx)
{
	struct json_object *host, *pool;
	struct sysinfo si;
	unsigned long long total = 0, used = 0;
	double scale = 1.0 / (1 << SI_LOAD_SHIFT);

	ctx->title = ap_ctx_tr(ctx, "Server overview");
	host = json_object_new_object();
	pool = json_object_new_object();
	ap_model_str(host, "hostname", ctx->app->hostname);
	ap_model_str(host, "kernel", ctx->app->kernel);
	ap_model_add(host, "cpus", json_object_new_int(ctx->app->ncpu));
	if (sysinfo(&si) == 0) {
		long up = si.uptime;

		total = (unsigned long long)si.totalram * si.mem_unit;
		used = total - ((unsigned long long)si.freeram + si.bufferram) * si.mem_unit;
		ap_model_add(host, "uptime_days", json_object_new_int64(up / 86400));
		ap_model_str(host, "uptime_hm", ap_arena_printf(ctx->arena, "%02ld:%02ld", (up % 86400) / 3600,
		    (up % 3600) / 60));
		ap_model_str(host, "load1", ap_arena_printf(ctx->arena, "%.2f", si.loads[0] * scale));
		ap_model_str(host, "load5", ap_arena_printf(ctx->arena, "%.2f", si.loads[1] * scale));
		ap_model_str(host, "load15", ap_arena_printf(ctx->arena, "%.2f", si.loads[2] * scale));
		ap_model_str(host, "mem_total", human_bytes(ctx->arena, total));
		ap_model_str(host, "mem_used", human_bytes(ctx->arena, used));
		ap_model_add(host, "mem_pct",
		    json_object_new_int(total ? (int)(used * 100 / total) : 0));
	}
	ap_model_add(ctx->model, "host", host);
	if (ctx->app->sb != NULL)
		ap_model_add(pool, "workers", json_object_new_int((int)ap_sb_live(ctx->app->sb, NULL)));
	ap_model_str(pool, "profile", ap_profile_name(ctx->app->cfg->profile));
	ap_model_add(ctx->model, "pool", pool);
	return 200;
}
