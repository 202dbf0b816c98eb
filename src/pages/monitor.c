/*
 * monitor.c — the dashboard (GET /), every disk and interface (GET
 * /monitor), the process list (GET /monitor/processes), the server now and
 * its history as resources (GET /system, GET /metrics), plus the check
 * nginx makes before it connects a live stream (GET /events/auth).
 *
 * Each page's model holds the resource its schema declares (below) beside
 * what only the template uses: formatted values (current), the charts'
 * coordinates (charts), the range links; the projection leaves those out
 * of the JSON answer.
 *
 * Current values come from the sampler over its socket (one short local
 * round trip); when it does not answer, from one reading of /proc here
 * (no rates then). History comes from the database (metrics.h). Nothing
 * here waits on a stream: the live updates are the sampler's.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aapanel/metrics.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/sampler.h"

#define SAMPLER_WAIT_MS 1000
#define PROCS_SHOWN 500

enum home_field { HF_RANGE, HF__MAX };
const struct ap_field ap_home_fields[HF__MAX + 1] = {
	[HF_RANGE] = { .name = "range", .type = AP_FIELD_ENUM, .choices = ap_metrics_range_names,
	    .desc = "the history the page draws (default 1h)" },
	[HF__MAX] = AP_FIELD_END,
};
const struct ap_field ap_monitor_fields[HF__MAX + 1] = {
	[HF_RANGE] = { .name = "range", .type = AP_FIELD_ENUM, .choices = ap_metrics_range_names,
	    .desc = "how far back: 1h (raw readings), 24h, 7d, 30d (per-minute averages); default 1h" },
	[HF__MAX] = AP_FIELD_END,
};

static const char *const sort_choices[] = { "cpu", "memory", "pid", "name", "user", NULL };
static const char *const order_choices[] = { "desc", "asc", NULL };
enum proc_field { PF_Q, PF_SORT, PF_ORDER, PF__MAX };
const struct ap_field ap_processes_fields[PF__MAX + 1] = {
	[PF_Q] = { .name = "q", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0, .max = 64,
	    .desc = "only processes whose name, user or command holds it (any case), or with this PID" },
	[PF_SORT] = { .name = "sort", .type = AP_FIELD_ENUM, .choices = sort_choices, .desc = "default cpu" },
	[PF_ORDER] = { .name = "order", .type = AP_FIELD_ENUM, .choices = order_choices,
	    .desc = "default desc for cpu and memory, asc for the others" },
	[PF__MAX] = AP_FIELD_END,
};

static const char *check_series(const char *val, size_t len);
enum metrics_field { MF_RANGE, MF_SERIES, MF__MAX };
const struct ap_field ap_metrics_fields[MF__MAX + 1] = {
	[MF_RANGE] = { .name = "range", .type = AP_FIELD_ENUM, .choices = ap_metrics_range_names,
	    .desc = "how far back: 1h (raw readings), 24h, 7d, 30d (per-minute averages); default 1h" },
	[MF_SERIES] = { .name = "series", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0,
	    .max = 2048, .check = check_series,
	    .desc = "comma-separated: host columns (cpu, mem_used, net_rx, ...) or devices fs:MOUNT, "
		    "disk:NAME, net:NAME; default cpu,mem_used,mem_total,load1,net_rx,net_tx,disk_read,disk_write" },
	[MF__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- resources */

/*
 * System: the sampler's document (sysstat.c, ap_sys_json) as the API
 * answers it (ap_sys_json_api): times RFC 3339, sizes bytes, rates and
 * percentages numbers, null where a value is not known (every rate on a
 * first reading, when there is no reading before it to compare with).
 */
#define RATE(n, d) { .name = (n), .type = AP_J_NUMBER, .flags = AP_J_NULL, .desc = (d) }
#define BYTES(n, d) { .name = (n), .type = AP_J_INT, .desc = (d) }

static const struct ap_prop core_props[] = {
	{ .name = "id", .type = AP_J_INT, .desc = "the CPU's number (gaps where CPUs are offline)" },
	RATE("total", "busy, percent of the interval; null on a first reading"),
	RATE("user", "user and nice, percent"),
	RATE("system", "system, irq and softirq, percent"),
	RATE("iowait", "waiting for I/O, percent"),
	RATE("steal", "taken by the hypervisor, percent"),
	AP_PROP_END,
};
static const struct ap_schema core_schema = { .name = "CpuCore", .props = core_props };

static const struct ap_prop cpu_props[] = {
	RATE("total", "busy, percent of the interval over every CPU; null on a first reading"),
	RATE("user", "user and nice, percent"),
	RATE("system", "system, irq and softirq, percent"),
	RATE("iowait", "waiting for I/O, percent"),
	RATE("steal", "taken by the hypervisor, percent"),
	{ .name = "count", .type = AP_J_INT, .desc = "CPUs online" },
	{ .name = "cores", .type = AP_J_ARRAY, .of = &core_schema },
	AP_PROP_END,
};
static const struct ap_schema cpu_schema = { .name = "Cpu", .props = cpu_props };

static const struct ap_prop memory_props[] = {
	BYTES("total", "bytes"),
	BYTES("used", "bytes: total less available"),
	BYTES("available", "bytes the kernel can give without swapping"),
	BYTES("buffers", "bytes"),
	BYTES("cached", "bytes"),
	{ .name = "pct", .type = AP_J_NUMBER, .desc = "used of total, percent" },
	AP_PROP_END,
};
static const struct ap_schema memory_schema = { .name = "Memory", .props = memory_props };

static const struct ap_prop swap_props[] = {
	BYTES("total", "bytes (0 without swap)"),
	BYTES("used", "bytes"),
	{ .name = "pct", .type = AP_J_NUMBER, .desc = "used of total, percent (0 without swap)" },
	AP_PROP_END,
};
static const struct ap_schema swap_schema = { .name = "Swap", .props = swap_props };

static const struct ap_prop fs_props[] = {
	{ .name = "mount", .type = AP_J_STRING, .desc = "the mount point" },
	{ .name = "device", .type = AP_J_STRING },
	{ .name = "type", .type = AP_J_STRING, .desc = "ext4, xfs, btrfs, ..." },
	BYTES("total", "bytes"),
	BYTES("used", "bytes"),
	BYTES("avail", "bytes a user can still write (without the blocks kept for root)"),
	{ .name = "pct", .type = AP_J_NUMBER, .desc = "used of used + avail, percent (as df)" },
	{ .name = "inodes_total", .type = AP_J_INT, .desc = "0 for a filesystem without a fixed inode table (btrfs)" },
	{ .name = "inodes_used", .type = AP_J_INT },
	{ .name = "inodes_pct", .type = AP_J_NUMBER, .flags = AP_J_NULL,
	    .desc = "inodes used, percent; null without a fixed inode table" },
	AP_PROP_END,
};
static const struct ap_schema fs_schema = { .name = "Filesystem", .props = fs_props };

static const struct ap_prop disk_props[] = {
	{ .name = "name", .type = AP_J_STRING, .desc = "as in /proc/diskstats: sda, nvme0n1, dm-0" },
	RATE("read_bps", "bytes read per second; null on a first reading"),
	RATE("write_bps", "bytes written per second"),
	RATE("read_iops", "reads per second"),
	RATE("write_iops", "writes per second"),
	AP_PROP_END,
};
static const struct ap_schema disk_schema = { .name = "Disk", .props = disk_props };

static const struct ap_prop net_props[] = {
	{ .name = "name", .type = AP_J_STRING, .desc = "the interface" },
	RATE("rx_bps", "bytes received per second; null on a first reading"),
	RATE("tx_bps", "bytes sent per second"),
	AP_PROP_END,
};
static const struct ap_schema net_schema = { .name = "NetworkInterface", .props = net_props };

static const struct ap_prop process_props[] = {
	{ .name = "pid", .type = AP_J_INT },
	{ .name = "user", .type = AP_J_STRING, .desc = "its owner's name (the uid when it has none)" },
	{ .name = "name", .type = AP_J_STRING, .desc = "the command's name (comm)" },
	{ .name = "state", .type = AP_J_STRING,
	    .desc = "as /proc says: R running, S sleeping, D waiting for I/O, Z zombie, T stopped, I idle, ..." },
	RATE("cpu", "percent of one CPU over the interval (as top); null on a first reading"),
	BYTES("rss", "resident memory, bytes"),
	{ .name = "threads", .type = AP_J_INT },
	{ .name = "command", .type = AP_J_STRING,
	    .desc = "the command line, arguments joined by spaces (cut at 199 bytes)" },
	AP_PROP_END,
};
static const struct ap_schema process_schema = { .name = "Process", .props = process_props };

static const struct ap_prop system_props[] = {
	{ .name = "time", .type = AP_J_TIME, .desc = "when it was read" },
	{ .name = "host", .type = AP_J_STRING, .desc = "the host name" },
	{ .name = "interval", .type = AP_J_NUMBER, .flags = AP_J_NULL,
	    .desc = "seconds since the reading the rates are measured against; null on a first reading" },
	{ .name = "uptime", .type = AP_J_INT, .desc = "seconds since boot" },
	{ .name = "processes_total", .type = AP_J_INT, .desc = "processes running" },
	{ .name = "tasks", .type = AP_J_INT, .desc = "threads the scheduler knows" },
	{ .name = "load", .type = AP_J_ARRAY, .items = AP_J_NUMBER, .desc = "load averages over 1, 5 and 15 minutes" },
	{ .name = "cpu", .type = AP_J_OBJECT, .of = &cpu_schema },
	{ .name = "memory", .type = AP_J_OBJECT, .of = &memory_schema },
	{ .name = "swap", .type = AP_J_OBJECT, .of = &swap_schema },
	{ .name = "filesystems", .type = AP_J_ARRAY, .of = &fs_schema },
	{ .name = "disks", .type = AP_J_ARRAY, .of = &disk_schema, .desc = "block devices, partitions left out" },
	RATE("disk_read_bps", "bytes read per second over the physical disks (not dm-, md)"),
	RATE("disk_write_bps", "bytes written per second over the physical disks"),
	{ .name = "network", .type = AP_J_ARRAY, .of = &net_schema, .desc = "interfaces, lo left out" },
	RATE("net_rx_bps", "bytes received per second over every interface"),
	RATE("net_tx_bps", "bytes sent per second over every interface"),
	{ .name = "top_cpu", .type = AP_J_ARRAY, .of = &process_schema, .desc = "the 5 busiest processes" },
	{ .name = "top_memory", .type = AP_J_ARRAY, .of = &process_schema, .desc = "the 5 largest processes" },
	{ .name = "live", .type = AP_J_BOOL,
	    .desc = "true: the running sampler's latest reading; false: read at once here (no rates)" },
	AP_PROP_END,
};
const struct ap_schema ap_system_schema = { .name = "System", .desc = "this server now", .props = system_props };

static const struct ap_prop host_props[] = {
	{ .name = "hostname", .type = AP_J_STRING },
	{ .name = "kernel", .type = AP_J_STRING, .desc = "system name and release" },
	{ .name = "cpus", .type = AP_J_INT, .desc = "processors online" },
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

static const struct ap_prop dashboard_props[] = {
	{ .name = "host", .type = AP_J_OBJECT, .of = &host_schema },
	{ .name = "pool", .type = AP_J_OBJECT, .of = &pool_schema },
	{ .name = "range", .type = AP_J_STRING, .choices = ap_metrics_range_names,
	    .desc = "the history the page draws (GET /metrics has it)" },
	{ .name = "now", .type = AP_J_OBJECT, .of = &ap_system_schema, .flags = AP_J_NULL,
	    .desc = "this server now; null when it cannot be read" },
	AP_PROP_END,
};
const struct ap_schema ap_dashboard_schema = { .name = "Dashboard", .desc = "the server at a glance",
	.props = dashboard_props };

/* History: points of a bucket's averages, one value per column. */
static const struct ap_prop point_props[] = {
	{ .name = "at", .type = AP_J_TIME, .desc = "the start of the bucket" },
	{ .name = "values", .type = AP_J_ARRAY, .items = AP_J_NUMBER, .flags = AP_J_NULL_ITEMS,
	    .desc = "the bucket's average of each column, in the order of columns; null where nothing was read" },
	AP_PROP_END,
};
static const struct ap_schema point_schema = { .name = "MetricPoint", .props = point_props };

static const struct ap_prop series_props[] = {
	{ .name = "name", .type = AP_J_STRING, .desc = "as asked: cpu, mem_used, fs:/var, disk:sda, net:eth0" },
	{ .name = "columns", .type = AP_J_ARRAY, .items = AP_J_STRING,
	    .desc = "what each point's values are: the host column, or the device's (fs: used, total, "
		    "inodes_used, inodes_total; disk: read_bps, write_bps, read_iops, write_iops; "
		    "net: rx_bps, tx_bps)" },
	{ .name = "points", .type = AP_J_ARRAY, .of = &point_schema, .desc = "oldest first" },
	AP_PROP_END,
};
static const struct ap_schema series_schema = { .name = "MetricSeries", .props = series_props };

#define HISTORY_PROPS                                                                                   \
	{ .name = "range", .type = AP_J_STRING, .choices = ap_metrics_range_names },                  \
	{ .name = "from", .type = AP_J_TIME, .desc = "the history starts here" },                      \
	{ .name = "to", .type = AP_J_TIME, .desc = "and ends here (now)" },                              \
	{ .name = "bucket", .type = AP_J_INT, .desc = "seconds averaged into one point" },             \
	{ .name = "resolution", .type = AP_J_STRING, .choices = (const char *const[]) { "raw", "minute", NULL }, \
	    .desc = "the rows averaged: raw readings, or per-minute averages" }

static const struct ap_prop metrics_props[] = {
	HISTORY_PROPS,
	{ .name = "host", .type = AP_J_STRING },
	{ .name = "series", .type = AP_J_ARRAY, .of = &series_schema, .desc = "in the order asked" },
	AP_PROP_END,
};
const struct ap_schema ap_metrics_schema = { .name = "Metrics", .desc = "the server's history",
	.props = metrics_props };

static const struct ap_prop device_props[] = {
	{ .name = "name", .type = AP_J_STRING, .desc = "the mount point, disk or interface" },
	{ .name = "columns", .type = AP_J_ARRAY, .items = AP_J_STRING, .desc = "what each point's values are" },
	{ .name = "points", .type = AP_J_ARRAY, .of = &point_schema, .desc = "oldest first" },
	AP_PROP_END,
};
static const struct ap_schema device_schema = { .name = "DeviceHistory", .props = device_props };

static const struct ap_prop monitor_props[] = {
	HISTORY_PROPS,
	{ .name = "filesystems", .type = AP_J_ARRAY, .of = &device_schema,
	    .desc = "every filesystem with history in the range: used, total (bytes), inodes_used, inodes_total" },
	{ .name = "disks", .type = AP_J_ARRAY, .of = &device_schema,
	    .desc = "every disk: read_bps, write_bps (bytes per second), read_iops, write_iops" },
	{ .name = "interfaces", .type = AP_J_ARRAY, .of = &device_schema,
	    .desc = "every network interface: rx_bps, tx_bps (bytes per second)" },
	AP_PROP_END,
};
const struct ap_schema ap_monitor_schema = { .name = "DeviceHistories",
	.desc = "the history of every filesystem, disk and interface", .props = monitor_props };

static const struct ap_prop processes_props[] = {
	{ .name = "time", .type = AP_J_TIME, .flags = AP_J_NULL,
	    .desc = "when they were read; null when they cannot be" },
	{ .name = "processes", .type = AP_J_ARRAY, .of = &process_schema,
	    .desc = "those that match q, sorted; the first 500" },
	{ .name = "matched", .type = AP_J_INT, .desc = "processes that match q" },
	{ .name = "total", .type = AP_J_INT, .desc = "processes read" },
	{ .name = "truncated", .type = AP_J_BOOL, .desc = "more matched than are listed" },
	{ .name = "live", .type = AP_J_BOOL,
	    .desc = "true: the running sampler's latest reading; false: read at once here (cpu null)" },
	AP_PROP_END,
};
const struct ap_schema ap_processes_schema = { .name = "Processes", .desc = "the server's processes",
	.props = processes_props };

/* ---------------------------------------------------------------- helpers */

/*
 * The latest reading: the sampler's, else one taken here; *live tells which.
 * Owned by the caller, NULL when /proc cannot be read. It is the API's
 * System resource already (ap_sys_json_api, "live" set), all processes
 * under "processes" too when all.
 */
/* A reading as the pages use it: the API's names, and whether it is live. */
static struct json_object *
reading_api(struct json_object *o, bool live)
{
	if (o != NULL) {
		ap_sys_json_api(o);
		json_object_object_add(o, "live", json_object_new_boolean(live));
	}
	return o;
}

/* The sampler's last reading, or one made now when it does not answer. */
static struct json_object *
reading(struct ap_ctx *ctx, bool all, bool *live)
{
	struct json_object *o = NULL;
	const struct ap_config *cfg = ctx->app->cfg;

	*live = cfg->monitor_enabled &&
	    ap_sampler_get(cfg->monitor_socket, all ? "/processes" : "/system", SAMPLER_WAIT_MS, &o) == AP_OK;
	if (!*live)
		o = ap_sampler_read_now(ctx->app->hostname, 0, all);
	return reading_api(o, *live);
}

static double
num_at(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NAN;
	return json_object_get_double(v);
}

static struct json_object *
member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o != NULL)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static const struct ap_metrics_range *
range_of(struct ap_ctx *ctx, int field)
{
	const struct ap_fieldval *f = &ctx->fields[field];

	return ap_metrics_range(f->present ? ap_metrics_range_names[f->i] : "1h");
}

static struct json_object *
range_links(struct ap_ctx *ctx, const char *path, const struct ap_metrics_range *cur)
{
	static const char *const labels[] = { N_("1 hour"), N_("24 hours"), N_("7 days"), N_("30 days") };
	/* Kept per worker for the last language, base path and range of each
	 * page (the home page and the monitor): every view asks the same. */
	static struct {
		char key[320];
		struct json_object *a;
	} kept[2];
	int k = strcmp(path, "/") == 0 ? 0 : 1;
	char key[320];
	struct json_object *a;

	snprintf(key, sizeof(key), "%s|%s|%s|%s", ctx->lang ? ctx->lang : "", ap_ctx_base(ctx), path, cur->name);
	if (kept[k].a != NULL && strcmp(kept[k].key, key) == 0)
		return json_object_get(kept[k].a);
	a = json_object_new_array();

	for (int i = 0; ap_metrics_range_names[i] != NULL; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "label", ap_ctx_tr(ctx, labels[i]));
		ap_model_add(o, "href", json_object_new_string(ap_arena_printf(ctx->arena, "%s%s?range=%s",
		    ap_ctx_base(ctx), path, ap_metrics_range_names[i])));
		ap_model_add(o, "current", json_object_new_boolean(strcmp(cur->name, ap_metrics_range_names[i]) == 0));
		json_object_array_add(a, o);
	}
	json_object_put(kept[k].a);
	ap_tpl_keep(a); /* {{#ranges}} shows only its members */
	kept[k].a = json_object_get(a);
	memcpy(kept[k].key, key, sizeof(key));
	return a;
}

/* Points read from the database, up to four values each. */
struct pts {
	struct ap_arena *a;
	int64_t *t;
	double *v[4];
	size_t n, cap;
};

static bool
pts_add(void *arg, const struct ap_mpoint *p)
{
	struct pts *s = arg;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 512;
		int64_t *t = ap_arena_alloc(s->a, cap * sizeof(*t));

		if (s->n)
			memcpy(t, s->t, s->n * sizeof(*t));
		s->t = t;
		for (int k = 0; k < 4; k++) {
			double *v = ap_arena_alloc(s->a, cap * sizeof(*v));

			if (s->n)
				memcpy(v, s->v[k], s->n * sizeof(*v));
			s->v[k] = v;
		}
		s->cap = cap;
	}
	s->t[s->n] = p->t;
	for (int k = 0; k < 4; k++)
		s->v[k][s->n] = p->v[k];
	s->n++;
	return s->n < 100000;
}

/* v[a] / v[b] * 100 into v[into] for every point. */
static void
pts_pct(struct pts *s, int a, int b, int into)
{
	for (size_t i = 0; i < s->n; i++)
		s->v[into][i] = s->v[b][i] > 0 ? s->v[a][i] * 100.0 / s->v[b][i] : NAN;
}

static struct ap_chart_series
line(const struct pts *p, int k, const char *label, const char *cls, const char *live)
{
	struct ap_chart_series s = { label, cls, p->n, p->t, p->v[k], live };

	return s;
}

static int
host_points(struct ap_ctx *ctx, const struct ap_metrics_range *r, int64_t from, int64_t to,
    const enum ap_mcol *cols, int ncols, struct pts *p)
{
	enum ap_db_rc rc;

	memset(p, 0, sizeof(*p));
	p->a = ctx->arena;
	rc = ap_metrics_host_series(ctx->db, ctx->app->hostname, r, from, to, cols, ncols, pts_add, p);
	return rc == AP_DB_OK ? 0 : ap_ctx_db_error(ctx, rc);
}

static const char *
fmt(struct ap_ctx *ctx, enum ap_chart_unit unit, double v)
{
	return ap_chart_value(ctx->arena, unit, v);
}

/* A value as the API gives it: two decimals, null for NaN (nothing read). */
static struct json_object *
value_json(double v)
{
	return isnan(v) ? NULL : json_object_new_double(round(v * 100) / 100);
}

/* Points as MetricPoint objects: {"at": time, "values": [ncols values]}. */
static struct json_object *
points_json(const struct pts *p, int ncols)
{
	struct json_object *a = json_object_new_array_ext((int)p->n);

	for (size_t i = 0; i < p->n; i++) {
		struct json_object *pt = json_object_new_object(), *vals = json_object_new_array_ext(ncols);

		for (int k = 0; k < ncols; k++)
			json_object_array_add(vals, value_json(p->v[k][i]));
		ap_model_add(pt, "at", ap_model_time(p->t[i]));
		ap_model_add(pt, "values", vals);
		json_object_array_add(a, pt);
	}
	return a;
}

static struct json_object *
names_json(const char *const *names, int n)
{
	struct json_object *a = json_object_new_array_ext(n);

	for (int i = 0; i < n && names[i] != NULL; i++)
		json_object_array_add(a, json_object_new_string(names[i]));
	return a;
}

/* What DeviceHistories and Metrics share: range, from, to, bucket, resolution. */
static void
history_members(struct ap_ctx *ctx, const struct ap_metrics_range *r, int64_t from, int64_t to)
{
	ap_model_str(ctx->model, "range", r->name);
	ap_model_add(ctx->model, "from", ap_model_time(from));
	ap_model_add(ctx->model, "to", ap_model_time(to));
	ap_model_add(ctx->model, "bucket", json_object_new_int(r->bucket));
	ap_model_str(ctx->model, "resolution", r->res == 0 ? "raw" : "minute");
}

/* ---------------------------------------------------------------- the dashboard */

/* Current values, formatted, beside the machine values (the reading itself is "now"). */
static void
current(struct ap_ctx *ctx, struct json_object *now, bool live)
{
	struct json_object *c = json_object_new_object(), *mem = member(now, "memory"), *swap = member(now, "swap");
	struct json_object *cpu = member(now, "cpu"), *load = member(now, "load"), *a, *fs = member(now, "filesystems");
	double up = num_at(now, "uptime");

	ap_model_add(c, "live", json_object_new_boolean(live));
	ap_model_str(c, "cpu", fmt(ctx, AP_CHART_PCT, num_at(cpu, "total")));
	ap_model_add(c, "cpu_count", json_object_new_int((int)num_at(cpu, "count")));
	ap_model_str(c, "mem_pct", fmt(ctx, AP_CHART_PCT, num_at(mem, "pct")));
	ap_model_add(c, "mem_meter", json_object_new_int(isnan(num_at(mem, "pct")) ? 0 : (int)num_at(mem, "pct")));
	ap_model_str(c, "mem_used", fmt(ctx, AP_CHART_BYTES, num_at(mem, "used")));
	ap_model_str(c, "mem_total", fmt(ctx, AP_CHART_BYTES, num_at(mem, "total")));
	ap_model_str(c, "swap_pct", fmt(ctx, AP_CHART_PCT, num_at(swap, "pct")));
	ap_model_str(c, "swap_used", fmt(ctx, AP_CHART_BYTES, num_at(swap, "used")));
	ap_model_str(c, "swap_total", fmt(ctx, AP_CHART_BYTES, num_at(swap, "total")));
	ap_model_str(c, "net_rx", fmt(ctx, AP_CHART_RATE, num_at(now, "net_rx_bps")));
	ap_model_str(c, "net_tx", fmt(ctx, AP_CHART_RATE, num_at(now, "net_tx_bps")));
	ap_model_str(c, "disk_read", fmt(ctx, AP_CHART_RATE, num_at(now, "disk_read_bps")));
	ap_model_str(c, "disk_write", fmt(ctx, AP_CHART_RATE, num_at(now, "disk_write_bps")));
	ap_model_add(c, "procs", json_object_new_int64((int64_t)num_at(now, "processes_total")));
	for (int i = 0; i < 3; i++) {
		static const char *const k[] = { "load1", "load5", "load15" };
		struct json_object *v = load ? json_object_array_get_idx(load, (size_t)i) : NULL;

		ap_model_str(c, k[i], fmt(ctx, AP_CHART_PLAIN, v ? json_object_get_double(v) : NAN));
	}
	if (!isnan(up)) {
		long u = (long)up;

		ap_model_add(c, "uptime_days", json_object_new_int64(u / 86400));
		ap_model_str(c, "uptime_hm", ap_arena_printf(ctx->arena, "%02ld:%02ld", (u % 86400) / 3600, (u % 3600) / 60));
	}
	a = json_object_new_array();
	for (size_t i = 0; cpu && member(cpu, "cores") && i < json_object_array_length(member(cpu, "cores")); i++) {
		struct json_object *core = json_object_array_get_idx(member(cpu, "cores"), i), *o = json_object_new_object();
		double t = num_at(core, "total");

		ap_model_add(o, "id", json_object_new_int((int)num_at(core, "id")));
		ap_model_str(o, "pct", fmt(ctx, AP_CHART_PCT, t));
		ap_model_add(o, "meter", json_object_new_int(isnan(t) ? 0 : (int)t));
		json_object_array_add(a, o);
	}
	ap_model_add(c, "cores", a);
	a = json_object_new_array();
	for (size_t i = 0; fs && i < json_object_array_length(fs); i++) {
		struct json_object *f = json_object_array_get_idx(fs, i), *o = json_object_new_object();
		double pct = num_at(f, "pct"), ipct = num_at(f, "inodes_pct");

		ap_model_str(o, "mount", json_object_get_string(member(f, "mount")));
		ap_model_str(o, "type", json_object_get_string(member(f, "type")));
		ap_model_str(o, "used", fmt(ctx, AP_CHART_BYTES, num_at(f, "used")));
		ap_model_str(o, "size", fmt(ctx, AP_CHART_BYTES, num_at(f, "used") + num_at(f, "avail")));
		ap_model_str(o, "pct", fmt(ctx, AP_CHART_PCT, pct));
		ap_model_add(o, "meter", json_object_new_int(isnan(pct) ? 0 : (int)pct));
		ap_model_str(o, "inodes_pct", num_at(f, "inodes_total") > 0 ? fmt(ctx, AP_CHART_PCT, ipct) : "–");
		json_object_array_add(a, o);
	}
	ap_model_add(c, "filesystems", a);
	a = json_object_new_array();
	for (size_t i = 0; member(now, "network") && i < json_object_array_length(member(now, "network")); i++) {
		struct json_object *n = json_object_array_get_idx(member(now, "network"), i), *o = json_object_new_object();

		ap_model_str(o, "name", json_object_get_string(member(n, "name")));
		ap_model_str(o, "rx", fmt(ctx, AP_CHART_RATE, num_at(n, "rx_bps")));
		ap_model_str(o, "tx", fmt(ctx, AP_CHART_RATE, num_at(n, "tx_bps")));
		json_object_array_add(a, o);
	}
	ap_model_add(c, "interfaces", a);
	a = json_object_new_array();
	for (size_t i = 0; member(now, "disks") && i < json_object_array_length(member(now, "disks")); i++) {
		struct json_object *n = json_object_array_get_idx(member(now, "disks"), i), *o = json_object_new_object();

		ap_model_str(o, "name", json_object_get_string(member(n, "name")));
		ap_model_str(o, "read", fmt(ctx, AP_CHART_RATE, num_at(n, "read_bps")));
		ap_model_str(o, "write", fmt(ctx, AP_CHART_RATE, num_at(n, "write_bps")));
		json_object_array_add(a, o);
	}
	ap_model_add(c, "disks", a);
	a = json_object_new_array();
	for (size_t i = 0; member(now, "top_cpu") && i < json_object_array_length(member(now, "top_cpu")); i++) {
		struct json_object *p = json_object_array_get_idx(member(now, "top_cpu"), i), *o = json_object_new_object();

		ap_model_add(o, "pid", json_object_new_int((int)num_at(p, "pid")));
		ap_model_str(o, "name", json_object_get_string(member(p, "name")));
		ap_model_str(o, "user", json_object_get_string(member(p, "user")));
		ap_model_str(o, "cpu", fmt(ctx, AP_CHART_PCT, num_at(p, "cpu")));
		ap_model_str(o, "rss", fmt(ctx, AP_CHART_BYTES, num_at(p, "rss")));
		json_object_array_add(a, o);
	}
	ap_model_add(c, "top", a);
	ap_model_add(ctx->model, "current", c);
}

/*
 * The home page's reading, its formatted values and its five charts change
 * only when the sampler has a new reading (every monitor.interval): each
 * worker keeps what it built last, keyed by the sampler's answer (its text),
 * the range and the language, and builds again when one of them differs. A
 * view in between costs the round trip to the sampler and a comparison — no
 * parse, no query, no chart (issue 19: they made the page 0.07 of the bare
 * responder). The charts end when they were built, at most one interval ago;
 * the live stream moves them on from there.
 */
static struct {
	struct ap_buf reply; /* the sampler's answer they were built from; empty: nothing kept */
	uint64_t gen;        /* the number of that reading on the scoreboard (0: unknown) */
	const struct ap_metrics_range *range;
	char lang[16];
	struct json_object *now, *current, *charts;
} home_kept;

static void
home_forget(void)
{
	json_object_put(home_kept.now);
	json_object_put(home_kept.current);
	json_object_put(home_kept.charts);
	home_kept.now = home_kept.current = home_kept.charts = NULL;
	ap_buf_reset(&home_kept.reply);
}

static bool
home_is_kept(struct ap_ctx *ctx, const struct ap_metrics_range *r, const struct ap_buf *reply)
{
	return home_kept.reply.len > 0 && home_kept.range == r && strcmp(home_kept.lang, ctx->lang) == 0 &&
	    reply->len == home_kept.reply.len && memcmp(reply->data, home_kept.reply.data, reply->len) == 0;
}

/*
 * The kept page is still the latest reading's without asking the sampler:
 * the scoreboard still announces the reading it was built from, and that
 * reading is recent (a sampler that stopped announces none: after two
 * intervals the page asks, and says so when the sampler does not answer).
 */
static bool
home_is_latest(struct ap_ctx *ctx, const struct ap_metrics_range *r, uint64_t gen, uint64_t at_ms)
{
	uint64_t now = ap_now_ms(), fresh = (uint64_t)ctx->app->cfg->monitor_interval * 2000u + 1000u;

	return gen != 0 && gen == home_kept.gen && home_kept.reply.len > 0 && home_kept.range == r &&
	    strcmp(home_kept.lang, ctx->lang) == 0 && now >= at_ms && now - at_ms < fresh;
}

static void
home_keep(struct ap_ctx *ctx, const struct ap_metrics_range *r, const struct ap_buf *reply, uint64_t gen)
{
	struct json_object *cur = NULL;

	home_forget();
	if (strlen(ctx->lang) >= sizeof(home_kept.lang))
		return;
	json_object_object_get_ex(ctx->model, "current", &cur);
	json_object_object_get_ex(ctx->model, "now", &home_kept.now);
	json_object_object_get_ex(ctx->model, "charts", &home_kept.charts);
	home_kept.now = json_object_get(home_kept.now);
	home_kept.current = json_object_get(cur);
	home_kept.charts = json_object_get(home_kept.charts);
	/* Their HTML too: rendered once, then given again (tpl.h); the page's
	 * sections show only their members and text in this language. */
	ap_tpl_keep(home_kept.current);
	ap_tpl_keep(home_kept.charts);
	home_kept.range = r;
	home_kept.gen = gen;
	snprintf(home_kept.lang, sizeof(home_kept.lang), "%s", ctx->lang);
	ap_buf_append(&home_kept.reply, reply->data, reply->len);
}

int
ap_page_home(struct ap_ctx *ctx)
{
	static const enum ap_mcol cpu_cols[] = { AP_MC_CPU, AP_MC_CPU_IOWAIT };
	static const enum ap_mcol mem_cols[] = { AP_MC_MEM_USED, AP_MC_MEM_TOTAL, AP_MC_SWAP_USED, AP_MC_SWAP_TOTAL };
	static const enum ap_mcol load_cols[] = { AP_MC_LOAD1, AP_MC_LOAD5, AP_MC_LOAD15 };
	static const enum ap_mcol net_cols[] = { AP_MC_NET_RX, AP_MC_NET_TX };
	static const enum ap_mcol disk_cols[] = { AP_MC_DISK_READ, AP_MC_DISK_WRITE };
	const struct ap_config *cfg = ctx->app->cfg;
	const struct ap_metrics_range *r = range_of(ctx, HF_RANGE);
	int64_t to = (int64_t)time(NULL), from = to - r->span;
	bool live, stream = strcmp(r->name, "1h") == 0;
	struct json_object *now = NULL, *charts, *host, *pool;
	struct ap_buf reply = { 0 };
	uint64_t gen, gen_ms = 0;
	struct ap_chart_series s[3];
	struct pts p;
	int st;

	ctx->title = ap_ctx_tr(ctx, "Server overview");
	host = json_object_new_object();
	ap_model_str(host, "hostname", ctx->app->hostname);
	ap_model_str(host, "kernel", ctx->app->kernel);
	ap_model_add(host, "cpus", json_object_new_int(ctx->app->ncpu));
	ap_model_add(ctx->model, "host", host);
	pool = json_object_new_object();
	ap_model_add(pool, "workers",
	    ctx->app->sb != NULL ? json_object_new_int((int)ap_sb_live(ctx->app->sb, NULL)) : NULL);
	ap_model_str(pool, "profile", ap_profile_name(cfg->profile));
	ap_model_add(ctx->model, "pool", pool);
	ap_model_add(ctx->model, "range", json_object_new_string(r->name));
	/* For the page only: the range links, the stream, the values formatted, the charts. */
	ap_model_add(ctx->model, "ranges", range_links(ctx, "/", r));
	ap_model_add(ctx->model, "stream", json_object_new_boolean(stream && cfg->monitor_enabled));
	ap_model_str(ctx->model, "stream_url", ap_arena_printf(ctx->arena, "%s/events/metrics", ap_ctx_base(ctx)));

	/* The reading's number before asking: one that comes in between is asked for next time. */
	gen = ctx->app->sb != NULL ? ap_sb_reading(ctx->app->sb, &gen_ms) : 0;
	if (cfg->monitor_enabled && home_is_latest(ctx, r, gen, gen_ms)) {
		ap_model_add(ctx->model, "current", json_object_get(home_kept.current));
		ap_model_add(ctx->model, "now", json_object_get(home_kept.now));
		ap_model_add(ctx->model, "charts", json_object_get(home_kept.charts));
		return 200;
	}
	live = cfg->monitor_enabled && ap_sampler_fetch(cfg->monitor_socket, "/system", SAMPLER_WAIT_MS, &reply) == AP_OK;
	if (live && home_is_kept(ctx, r, &reply)) {
		ap_buf_free(&reply);
		home_kept.gen = gen;
		ap_model_add(ctx->model, "current", json_object_get(home_kept.current));
		ap_model_add(ctx->model, "now", json_object_get(home_kept.now));
		ap_model_add(ctx->model, "charts", json_object_get(home_kept.charts));
		return 200;
	}
	if (live) {
		now = json_tokener_parse(ap_buf_cstr(&reply));
		if (now != NULL && !json_object_is_type(now, json_type_object)) {
			json_object_put(now);
			now = NULL;
		}
		live = now != NULL;
	}
	if (!live)
		now = ap_sampler_read_now(ctx->app->hostname, 0, false);
	now = reading_api(now, live);
	if (now != NULL)
		current(ctx, now, live);
	ap_model_add(ctx->model, "now", now);
	charts = json_object_new_array();
	ap_model_add(ctx->model, "charts", charts);

	if ((st = host_points(ctx, r, from, to, cpu_cols, 2, &p)) != 0)
		goto out;
	s[0] = line(&p, 0, ap_ctx_tr(ctx, "CPU"), "s1", "cpu.total");
	s[1] = line(&p, 1, ap_ctx_tr(ctx, "I/O wait"), "s2", "cpu.iowait");
	json_object_array_add(charts, ap_chart_model(ctx, "cpu", ap_ctx_tr(ctx, "CPU"), AP_CHART_PCT, from, to, s, 2, stream));
	if ((st = host_points(ctx, r, from, to, mem_cols, 4, &p)) != 0)
		goto out;
	pts_pct(&p, 0, 1, 0);
	pts_pct(&p, 2, 3, 2);
	s[0] = line(&p, 0, ap_ctx_tr(ctx, "Memory"), "s1", "memory.pct");
	s[1] = line(&p, 2, ap_ctx_tr(ctx, "Swap"), "s2", "swap.pct");
	json_object_array_add(charts, ap_chart_model(ctx, "memory", ap_ctx_tr(ctx, "Memory"), AP_CHART_PCT, from, to, s, 2, stream));
	if ((st = host_points(ctx, r, from, to, load_cols, 3, &p)) != 0)
		goto out;
	s[0] = line(&p, 0, ap_ctx_tr(ctx, "1 minute"), "s1", "load.0");
	s[1] = line(&p, 1, ap_ctx_tr(ctx, "5 minutes"), "s2", "load.1");
	s[2] = line(&p, 2, ap_ctx_tr(ctx, "15 minutes"), "s3", "load.2");
	json_object_array_add(charts, ap_chart_model(ctx, "load", ap_ctx_tr(ctx, "Load average"), AP_CHART_PLAIN, from, to, s, 3, stream));
	if ((st = host_points(ctx, r, from, to, net_cols, 2, &p)) != 0)
		goto out;
	s[0] = line(&p, 0, ap_ctx_tr(ctx, "Received"), "s1", "net_rx_bps");
	s[1] = line(&p, 1, ap_ctx_tr(ctx, "Sent"), "s2", "net_tx_bps");
	json_object_array_add(charts, ap_chart_model(ctx, "network", ap_ctx_tr(ctx, "Network"), AP_CHART_RATE, from, to, s, 2, stream));
	if ((st = host_points(ctx, r, from, to, disk_cols, 2, &p)) != 0)
		goto out;
	s[0] = line(&p, 0, ap_ctx_tr(ctx, "Read"), "s1", "disk_read_bps");
	s[1] = line(&p, 1, ap_ctx_tr(ctx, "Written"), "s2", "disk_write_bps");
	json_object_array_add(charts, ap_chart_model(ctx, "disk", ap_ctx_tr(ctx, "Disk I/O"), AP_CHART_RATE, from, to, s, 2, stream));
	st = 200;
	/* Only what a live reading made is kept: one made here is made again next time. */
	if (live)
		home_keep(ctx, r, &reply, gen);
out:
	ap_buf_free(&reply);
	return st;
}

/* ---------------------------------------------------------------- every disk and interface */

struct names {
	struct ap_arena *a;
	const char *v[256];
	size_t n;
};

static bool
name_add(void *arg, const char *name)
{
	struct names *l = arg;

	if (l->n < AP_NELEM(l->v))
		l->v[l->n++] = ap_arena_strdup(l->a, name);
	return true;
}

/* What a device's four values are, by kind (metrics.h: struct ap_mdev). */
static const char *const dev_cols[AP_MDEV__MAX][4] = {
	{ "used", "total", "inodes_used", "inodes_total" },
	{ "read_bps", "write_bps", "read_iops", "write_iops" },
	{ "rx_bps", "tx_bps", NULL, NULL },
};

static int
dev_ncols(enum ap_mdev_kind k)
{
	int n = 0;

	while (n < 4 && dev_cols[k][n] != NULL)
		n++;
	return n;
}

/*
 * Every device of a kind with history in the range: its DeviceHistory
 * into out (the resource) and its chart into charts (the page's).
 */
static int
device_charts(struct ap_ctx *ctx, enum ap_mdev_kind kind, const struct ap_metrics_range *r, int64_t from,
    int64_t to, bool stream, struct json_object *out, struct json_object *charts)
{
	struct names l = { ctx->arena, { 0 }, 0 };
	enum ap_db_rc rc = ap_metrics_dev_names(ctx->db, ctx->app->hostname, kind, from, name_add, &l);

	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	for (size_t i = 0; i < l.n; i++) {
		struct ap_chart_series s[2];
		struct pts p;
		const char *id = ap_arena_printf(ctx->arena, "%s-%zu", ap_mdev_kind_name(kind), i);
		struct json_object *c, *dev = json_object_new_object();

		memset(&p, 0, sizeof(p));
		p.a = ctx->arena;
		rc = ap_metrics_dev_series(ctx->db, ctx->app->hostname, kind, l.v[i], r, from, to, pts_add, &p);
		if (rc != AP_DB_OK && rc != AP_DB_ENOTFOUND) {
			json_object_put(dev);
			return ap_ctx_db_error(ctx, rc);
		}
		/* The values as stored, before the chart turns them into percentages. */
		ap_model_str(dev, "name", l.v[i]);
		ap_model_add(dev, "columns", names_json(dev_cols[kind], dev_ncols(kind)));
		ap_model_add(dev, "points", points_json(&p, dev_ncols(kind)));
		json_object_array_add(out, dev);
		if (kind == AP_MDEV_FS) {
			pts_pct(&p, 0, 1, 0);
			pts_pct(&p, 2, 3, 2);
			s[0] = line(&p, 0, ap_ctx_tr(ctx, "Space used"), "s1",
			    ap_arena_printf(ctx->arena, "filesystems|%s|pct", l.v[i]));
			s[1] = line(&p, 2, ap_ctx_tr(ctx, "Inodes used"), "s2",
			    ap_arena_printf(ctx->arena, "filesystems|%s|inodes_pct", l.v[i]));
			c = ap_chart_model(ctx, id, l.v[i], AP_CHART_PCT, from, to, s, 2, stream);
		} else if (kind == AP_MDEV_DISK) {
			s[0] = line(&p, 0, ap_ctx_tr(ctx, "Read"), "s1", ap_arena_printf(ctx->arena, "disks|%s|read_bps", l.v[i]));
			s[1] = line(&p, 1, ap_ctx_tr(ctx, "Written"), "s2",
			    ap_arena_printf(ctx->arena, "disks|%s|write_bps", l.v[i]));
			c = ap_chart_model(ctx, id, l.v[i], AP_CHART_RATE, from, to, s, 2, stream);
		} else {
			s[0] = line(&p, 0, ap_ctx_tr(ctx, "Received"), "s1",
			    ap_arena_printf(ctx->arena, "network|%s|rx_bps", l.v[i]));
			s[1] = line(&p, 1, ap_ctx_tr(ctx, "Sent"), "s2", ap_arena_printf(ctx->arena, "network|%s|tx_bps", l.v[i]));
			c = ap_chart_model(ctx, id, l.v[i], AP_CHART_RATE, from, to, s, 2, stream);
		}
		json_object_array_add(charts, c);
	}
	return 0;
}

int
ap_page_monitor(struct ap_ctx *ctx)
{
	const struct ap_metrics_range *r = range_of(ctx, HF_RANGE);
	int64_t to = (int64_t)time(NULL), from = to - r->span;
	bool stream = strcmp(r->name, "1h") == 0 && ctx->app->cfg->monitor_enabled;
	struct json_object *fs = json_object_new_array(), *disks = json_object_new_array(), *nets = json_object_new_array();
	struct json_object *charts = json_object_new_object(), *cfs = json_object_new_array();
	struct json_object *cdisks = json_object_new_array(), *cnets = json_object_new_array();
	int st;

	ctx->title = ap_ctx_tr(ctx, "Disks and network");
	history_members(ctx, r, from, to);
	ap_model_add(ctx->model, "filesystems", fs);
	ap_model_add(ctx->model, "disks", disks);
	ap_model_add(ctx->model, "interfaces", nets);
	/* For the page only: the range links, the stream, the charts. */
	ap_model_add(ctx->model, "ranges", range_links(ctx, "/monitor", r));
	ap_model_add(ctx->model, "stream", json_object_new_boolean(stream));
	ap_model_str(ctx->model, "stream_url", ap_arena_printf(ctx->arena, "%s/events/metrics", ap_ctx_base(ctx)));
	ap_model_add(charts, "filesystems", cfs);
	ap_model_add(charts, "disks", cdisks);
	ap_model_add(charts, "interfaces", cnets);
	ap_model_add(ctx->model, "charts", charts);
	if ((st = device_charts(ctx, AP_MDEV_FS, r, from, to, stream, fs, cfs)) != 0 ||
	    (st = device_charts(ctx, AP_MDEV_DISK, r, from, to, stream, disks, cdisks)) != 0 ||
	    (st = device_charts(ctx, AP_MDEV_NET, r, from, to, stream, nets, cnets)) != 0)
		return st;
	return 200;
}

/* ---------------------------------------------------------------- processes */

struct prow {
	struct json_object *o;
	int pid;
	double cpu, rss;
	const char *name, *user, *cmd;
};

static int g_sort, g_desc; /* one request at a time per worker */

/* The list's rows (rows.h); cpu is the reading's own value (its text as the sampler wrote it). */
struct proc_view {
	int64_t pid, rss, threads;
	const char *user, *name, *state, *command, *cpu_text, *rss_text;
	struct json_object *cpu;
};
static const struct ap_col proc_cols[] = {
	AP_COL(struct proc_view, pid, AP_COL_INT),
	AP_COL(struct proc_view, user, AP_COL_STR),
	AP_COL(struct proc_view, name, AP_COL_STR),
	AP_COL(struct proc_view, state, AP_COL_STR),
	AP_COL(struct proc_view, cpu, AP_COL_JSON),
	AP_COL(struct proc_view, rss, AP_COL_INT),
	AP_COL(struct proc_view, threads, AP_COL_INT),
	AP_COL(struct proc_view, command, AP_COL_STR),
	AP_COL(struct proc_view, cpu_text, AP_COL_STR),
	AP_COL(struct proc_view, rss_text, AP_COL_STR),
	AP_COL_END,
};

static int
prow_cmp(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;
	int c = 0;

	switch (g_sort) {
	case 0: c = (x->cpu > y->cpu) - (x->cpu < y->cpu); break;
	case 1: c = (x->rss > y->rss) - (x->rss < y->rss); break;
	case 2: c = (x->pid > y->pid) - (x->pid < y->pid); break;
	case 3: c = strcasecmp(x->name, y->name); break;
	default: c = strcmp(x->user, y->user); break;
	}
	if (c == 0)
		c = (x->pid > y->pid) - (x->pid < y->pid);
	return g_desc ? -c : c;
}

int
ap_page_processes(struct ap_ctx *ctx)
{
	const char *q = ctx->fields[PF_Q].present ? ctx->fields[PF_Q].s : "";
	int sort = ctx->fields[PF_SORT].present ? (int)ctx->fields[PF_SORT].i : 0;
	int order = ctx->fields[PF_ORDER].present ? (int)ctx->fields[PF_ORDER].i : (sort >= 2 ? 1 : 0);
	bool live = false;
	struct json_object *now = reading(ctx, true, &live), *all = member(now, "processes");
	struct json_object *out = ap_rows_new(proc_cols, sizeof(struct proc_view));
	struct json_object *cols = json_object_new_array();
	size_t n = all ? json_object_array_length(all) : 0, k = 0;
	struct prow *v = ap_arena_calloc(ctx->arena, n + 1, sizeof(*v));

	ctx->title = ap_ctx_tr(ctx, "Processes");
	for (size_t i = 0; i < n; i++) {
		struct json_object *p = json_object_array_get_idx(all, i);
		const char *name = json_object_get_string(member(p, "name"));
		const char *user = json_object_get_string(member(p, "user"));
		const char *cmd = json_object_get_string(member(p, "command"));
		char pid[16];

		snprintf(pid, sizeof(pid), "%d", (int)num_at(p, "pid"));
		if (q[0] && !strcasestr(name ? name : "", q) && !strcasestr(user ? user : "", q) &&
		    !strcasestr(cmd ? cmd : "", q) && strcmp(pid, q) != 0)
			continue;
		v[k].o = p;
		v[k].pid = (int)num_at(p, "pid");
		v[k].cpu = isnan(num_at(p, "cpu")) ? 0 : num_at(p, "cpu");
		v[k].rss = num_at(p, "rss");
		v[k].name = name ? name : "";
		v[k].user = user ? user : "";
		v[k].cmd = cmd ? cmd : "";
		k++;
	}
	g_sort = sort;
	g_desc = order == 0;
	qsort(v, k, sizeof(*v), prow_cmp);
	for (size_t i = 0; i < k && i < PROCS_SHOWN; i++) {
		struct proc_view *o = ap_rows_add(out);
		char st[2] = { json_object_get_string(member(v[i].o, "state")) ? json_object_get_string(member(v[i].o, "state"))[0] : '?', '\0' };

		o->pid = v[i].pid;
		o->user = ap_rows_strdup(out, v[i].user);
		o->name = ap_rows_strdup(out, v[i].name);
		o->state = ap_rows_strdup(out, st);
		/* As read: null on a first reading (it sorts as 0). */
		o->cpu = json_object_get(member(v[i].o, "cpu"));
		o->rss = (int64_t)v[i].rss;
		o->threads = (int64_t)num_at(v[i].o, "threads");
		o->command = ap_rows_strdup(out, v[i].cmd);
		/* For the page only. */
		o->cpu_text = fmt(ctx, AP_CHART_PCT, num_at(v[i].o, "cpu"));
		o->rss_text = fmt(ctx, AP_CHART_BYTES, v[i].rss);
		if (o->cpu_text == NULL) /* ap_model_str's "" */
			o->cpu_text = "";
		if (o->rss_text == NULL)
			o->rss_text = "";
	}
	for (int i = 0; sort_choices[i] != NULL; i++) {
		static const char *const labels[] = { N_("CPU"), N_("Memory"), N_("PID"), N_("Name"), N_("User") };
		struct json_object *o = json_object_new_object();
		bool cur = i == sort;
		const char *next = cur && order == 0 ? "asc" : "desc";
		struct ap_buf qs = { 0 };

		ap_url_encode(&qs, q);
		ap_model_str(o, "key", sort_choices[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, labels[i]));
		ap_model_add(o, "current", json_object_new_boolean(cur));
		ap_model_str(o, "aria_sort", cur ? (order == 0 ? "descending" : "ascending") : "none");
		ap_model_add(o, "href", json_object_new_string(ap_arena_printf(ctx->arena,
		    "%s/monitor/processes?sort=%s&order=%s&q=%s", ap_ctx_base(ctx), sort_choices[i], next, ap_buf_cstr(&qs))));
		ap_buf_free(&qs);
		json_object_array_add(cols, o);
	}
	ap_model_add(ctx->model, "time", json_object_get(member(now, "time")));
	ap_model_add(ctx->model, "processes", out);
	ap_model_add(ctx->model, "sort_links", cols);
	ap_model_str(ctx->model, "q", q);
	ap_model_str(ctx->model, "sort", sort_choices[sort]);
	ap_model_str(ctx->model, "order", order_choices[order]);
	ap_model_add(ctx->model, "matched", json_object_new_int64((int64_t)k));
	ap_model_add(ctx->model, "total", json_object_new_int64((int64_t)n));
	ap_model_add(ctx->model, "truncated", json_object_new_boolean(k > PROCS_SHOWN));
	ap_model_add(ctx->model, "live", json_object_new_boolean(live));
	json_object_put(now);
	return 200;
}

/* ---------------------------------------------------------------- JSON */

int
ap_page_system(struct ap_ctx *ctx)
{
	bool live = false;
	struct json_object *now = reading(ctx, false, &live);

	if (now == NULL)
		return ap_ctx_fail(ctx, AP_PB_UNAVAILABLE, NULL, "server information is not available right now");
	return ap_ctx_answer(ctx, 200, now);
}

/* "cpu,net_rx,disk:sda,net:eth0,fs:/var": host columns and devices. */
static bool
series_name_ok(const char *s, size_t n)
{
	char name[64];
	const char *colon = memchr(s, ':', n);
	enum ap_mcol c;
	enum ap_mdev_kind k;

	if (colon != NULL) {
		size_t kn = (size_t)(colon - s);

		if (kn >= sizeof(name) || colon + 1 == s + n || (size_t)(s + n - colon - 1) > AP_METRICS_NAME_MAX)
			return false;
		memcpy(name, s, kn);
		name[kn] = '\0';
		return ap_mdev_kind_parse(name, &k);
	}
	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, s, n);
	name[n] = '\0';
	return ap_mcol_parse(name, &c);
}

static const char *
check_series(const char *val, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (j < len && val[j] != ',')
			j++;
		if (!series_name_ok(val + i, j - i))
			return N_("must be a comma-separated list of series such as cpu,mem_used,net:eth0");
		i = j + 1;
	}
	return NULL;
}

int
ap_page_metrics(struct ap_ctx *ctx)
{
	const struct ap_metrics_range *r = range_of(ctx, MF_RANGE);
	const char *list = ctx->fields[MF_SERIES].present && ctx->fields[MF_SERIES].len > 0
	    ? ctx->fields[MF_SERIES].s : "cpu,mem_used,mem_total,load1,net_rx,net_tx,disk_read,disk_write";
	int64_t to = (int64_t)time(NULL), from = to - r->span;
	struct json_object *series = json_object_new_array();
	char *copy = ap_arena_strdup(ctx->arena, list), *save = NULL;

	history_members(ctx, r, from, to);
	ap_model_str(ctx->model, "host", ctx->app->hostname);
	ap_model_add(ctx->model, "series", series);
	for (char *name = strtok_r(copy, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save)) {
		struct json_object *o = json_object_new_object(), *cols = json_object_new_array();
		char *colon = strchr(name, ':');
		struct pts p;
		enum ap_db_rc rc;
		int ncols = 1;

		memset(&p, 0, sizeof(p));
		p.a = ctx->arena;
		if (colon == NULL) {
			enum ap_mcol c;

			if (!ap_mcol_parse(name, &c)) {
				json_object_put(o);
				json_object_put(cols);
				return ap_ctx_fail(ctx, AP_PB_INVALID, "series", "unknown series %s", name);
			}
			json_object_array_add(cols, json_object_new_string(name));
			rc = ap_metrics_host_series(ctx->db, ctx->app->hostname, r, from, to, &c, 1, pts_add, &p);
		} else {
			enum ap_mdev_kind k;

			*colon = '\0';
			if (!ap_mdev_kind_parse(name, &k)) {
				json_object_put(o);
				json_object_put(cols);
				return ap_ctx_fail(ctx, AP_PB_INVALID, "series", "unknown series %s", name);
			}
			ncols = dev_ncols(k);
			json_object_put(cols);
			cols = names_json(dev_cols[k], ncols);
			rc = ap_metrics_dev_series(ctx->db, ctx->app->hostname, k, colon + 1, r, from, to, pts_add, &p);
			if (rc == AP_DB_ENOTFOUND)
				rc = AP_DB_OK;
			*colon = ':';
		}
		if (rc != AP_DB_OK) {
			json_object_put(o);
			json_object_put(cols);
			return ap_ctx_db_error(ctx, rc);
		}
		ap_model_str(o, "name", name);
		ap_model_add(o, "columns", cols);
		ap_model_add(o, "points", points_json(&p, ncols));
		json_object_array_add(series, o);
	}
	return 200;
}

int
ap_page_events_auth(struct ap_ctx *ctx)
{
	/* The gate has let the session through; nginx now connects the stream (204, AP_ROUTE_PROBE). */
	(void)ctx;
	return 204;
}
