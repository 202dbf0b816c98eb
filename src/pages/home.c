/* home.c — GET /: the server overview (the layout page later screens extend). */
#include <sys/sysinfo.h>

#include <stdio.h>
#include <stdlib.h>

#include "aapanel/pages.h"

static const struct ap_prop host_props[] = {
	{ .name = "hostname", .type = AP_J_STRING },
	{ .name = "kernel", .type = AP_J_STRING, .desc = "system name and release" },
	{ .name = "cpus", .type = AP_J_INT, .desc = "processors online" },
	{ .name = "uptime_s", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "seconds since boot" },
	{ .name = "load1", .type = AP_J_NUMBER, .flags = AP_J_NULL },
	{ .name = "load5", .type = AP_J_NUMBER, .flags = AP_J_NULL },
	{ .name = "load15", .type = AP_J_NUMBER, .flags = AP_J_NULL },
	{ .name = "mem_total", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "bytes" },
	{ .name = "mem_used", .type = AP_J_INT, .flags = AP_J_NULL,
	    .desc = "bytes in use (without buffers and free memory)" },
	{ .name = "mem_pct", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "mem_used of mem_total, 0 to 100" },
	AP_PROP_END,
};
static const struct ap_schema host_schema = { .name = "Host", .props = host_props };

static const struct ap_prop pool_props[] = {
	{ .name = "workers", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "live worker processes" },
	{ .name = "profile", .type = AP_J_STRING, .choices = (const char *const[]) { "development", "test",
	    "production", NULL } },
	AP_PROP_END,
};
static const struct ap_schema pool_schema = { .name = "Pool", .props = pool_props };

static const struct ap_prop overview_props[] = {
	{ .name = "host", .type = AP_J_OBJECT, .of = &host_schema },
	{ .name = "pool", .type = AP_J_OBJECT, .of = &pool_schema },
	AP_PROP_END,
};
const struct ap_schema ap_overview_schema = { .name = "Overview", .desc = "the server at a glance",
	.props = overview_props };

/* A load average as a number that prints as it reads: 0.47, not 0.46999999999999997. */
static struct json_object *
load_number(double v)
{
	char b[32];

	snprintf(b, sizeof(b), "%.2f", v);
	return json_object_new_double_s(strtod(b, NULL), b);
}

int
ap_page_home(struct ap_ctx *ctx)
{
	struct json_object *host, *pool;
	struct sysinfo si;
	double scale = 1.0 / (1 << SI_LOAD_SHIFT);

	ctx->title = ap_ctx_tr(ctx, "Server overview");
	host = json_object_new_object();
	pool = json_object_new_object();
	ap_model_str(host, "hostname", ctx->app->hostname);
	ap_model_str(host, "kernel", ctx->app->kernel);
	ap_model_add(host, "cpus", json_object_new_int(ctx->app->ncpu));
	if (sysinfo(&si) == 0) {
		long up = si.uptime;
		unsigned long long total = (unsigned long long)si.totalram * si.mem_unit;
		unsigned long long used = total - ((unsigned long long)si.freeram + si.bufferram) * si.mem_unit;

		ap_model_add(host, "uptime_s", json_object_new_int64(up));
		/* For the page only (not in the resource): days and hh:mm. */
		ap_model_add(host, "uptime_days", json_object_new_int64(up / 86400));
		ap_model_str(host, "uptime_hm", ap_arena_printf(ctx->arena, "%02ld:%02ld", (up % 86400) / 3600,
		    (up % 3600) / 60));
		ap_model_add(host, "load1", load_number(si.loads[0] * scale));
		ap_model_add(host, "load5", load_number(si.loads[1] * scale));
		ap_model_add(host, "load15", load_number(si.loads[2] * scale));
		ap_model_add(host, "mem_total", json_object_new_int64((int64_t)total));
		ap_model_add(host, "mem_used", json_object_new_int64((int64_t)used));
		ap_model_add(host, "mem_pct", json_object_new_int(total ? (int)(used * 100 / total) : 0));
	} else {
		static const char *const none[] = { "uptime_s", "load1", "load5", "load15", "mem_total",
			"mem_used", "mem_pct" };

		for (size_t i = 0; i < AP_NELEM(none); i++)
			ap_model_add(host, none[i], NULL);
	}
	ap_model_add(ctx->model, "host", host);
	ap_model_add(pool, "workers",
	    ctx->app->sb != NULL ? json_object_new_int((int)ap_sb_live(ctx->app->sb, NULL)) : NULL);
	ap_model_str(pool, "profile", ap_profile_name(ctx->app->cfg->profile));
	ap_model_add(ctx->model, "pool", pool);
	return 200;
}
