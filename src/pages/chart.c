/*
 * chart.c — the model of a line chart that templates/partials/chart.html
 * draws as SVG: coordinates and labels computed here from the data, every
 * value a number the template escapes like any other (no raw HTML). Time
 * runs left to right in every language; the series' values also travel in
 * data-values so static/js/app.js can append live points and redraw.
 * The time axis is labelled in the server's time zone (TZ, else
 * /etc/localtime), which the caption names; data-tzoff gives the script
 * its offset. Times in the JSON resources stay RFC 3339 UTC.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/pages.h"

#define W 600
#define H 200
#define X0 56  /* room for the y labels */
#define Y0 10
#define PW (W - X0 - 8)
#define PH (H - Y0 - 26) /* room for the x labels */

const char *
ap_chart_value(struct ap_arena *a, enum ap_chart_unit unit, double v)
{
	static const char *const bytes[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	size_t u = 0;

	if (isnan(v))
		return "–";
	switch (unit) {
	case AP_CHART_PCT:
		return ap_arena_printf(a, "%.1f %%", v);
	case AP_CHART_PLAIN:
		return ap_arena_printf(a, v >= 100 ? "%.0f" : "%.2f", v);
	case AP_CHART_BYTES:
	case AP_CHART_RATE:
		while (v >= 1024.0 && u < AP_NELEM(bytes) - 1) {
			v /= 1024.0;
			u++;
		}
		return ap_arena_printf(a, u == 0 ? "%.0f %s%s" : "%.1f %s%s", v, bytes[u],
		    unit == AP_CHART_RATE ? "/s" : "");
	}
	return "";
}

static const char *const unit_names[] = { "pct", "plain", "bytes", "bps" };

/* A round top for the y axis: 1, 2, 2.5 or 5 times a power of ten (of a 1024 unit for bytes). */
static double
nice_max(double v, enum ap_chart_unit unit)
{
	static const double steps[] = { 1, 2, 2.5, 5, 10 };
	double p = 1, m, d;

	if (unit == AP_CHART_PCT)
		return 100;
	if (!(v > 0))
		return unit == AP_CHART_PLAIN ? 1 : 1024;
	if (unit != AP_CHART_PLAIN)
		while (p * 1024 <= v)
			p *= 1024;
	m = v / p;
	d = pow(10, floor(log10(m)));
	for (size_t i = 0; i < AP_NELEM(steps); i++)
		if (d * steps[i] >= m)
			return d * steps[i] * p;
	return 10 * d * p;
}

static const char *
time_label(struct ap_arena *a, int64_t t, int64_t span)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char b[32];

	localtime_r(&tt, &tm);
	strftime(b, sizeof(b), span > 2 * 86400 ? "%m-%d" : "%H:%M", &tm);
	return ap_arena_strdup(a, b);
}

/* The zone the labels are in at t, as the caption names it: "UTC", or "CET, UTC+01:00". */
static const char *
zone_name(struct ap_arena *a, int64_t t, long *gmtoff)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char abbr[16] = "";
	long off, m;

	localtime_r(&tt, &tm);
	off = tm.tm_gmtoff;
	*gmtoff = off;
	strftime(abbr, sizeof(abbr), "%Z", &tm);
	if (off == 0 && (abbr[0] == '\0' || strcmp(abbr, "UTC") == 0 || strcmp(abbr, "GMT") == 0))
		return "UTC";
	m = (off < 0 ? -off : off) / 60;
	/* Zones without a name of their own are called by their offset ("+0530"): say it once. */
	if (abbr[0] == '\0' || abbr[0] == '+' || abbr[0] == '-')
		return ap_arena_printf(a, "UTC%c%02ld:%02ld", off < 0 ? '-' : '+', m / 60, m % 60);
	return ap_arena_printf(a, "%s, UTC%c%02ld:%02ld", abbr, off < 0 ? '-' : '+', m / 60, m % 60);
}

struct json_object *
ap_chart_model(struct ap_ctx *ctx, const char *id, const char *title, enum ap_chart_unit unit, int64_t from,
    int64_t to, const struct ap_chart_series *s, int ns, bool live)
{
	struct json_object *o = json_object_new_object(), *grid = json_object_new_array();
	struct json_object *xt = json_object_new_array(), *series = json_object_new_array();
	double maxv = 0, ymax;
	int64_t span = to > from ? to - from : 1;
	bool empty = true;
	long gmtoff = 0;

	for (int k = 0; k < ns; k++)
		for (size_t i = 0; i < s[k].n; i++)
			if (!isnan(s[k].v[i])) {
				empty = false;
				if (s[k].v[i] > maxv)
					maxv = s[k].v[i];
			}
	ymax = nice_max(maxv, unit);
	tzset(); /* the zone of the process: TZ, else /etc/localtime (re-read when it changed) */
	ap_model_str(o, "zone", zone_name(ctx->arena, to, &gmtoff));
	ap_model_add(o, "tzoff", json_object_new_int64(gmtoff));
	ap_model_str(o, "id", id);
	ap_model_str(o, "title", title);
	ap_model_str(o, "unit", unit_names[unit]);
	ap_model_add(o, "t0", json_object_new_int64(from));
	ap_model_add(o, "t1", json_object_new_int64(to));
	ap_model_str(o, "ymax", ap_arena_printf(ctx->arena, "%.6g", ymax));
	ap_model_add(o, "width", json_object_new_int(W));
	ap_model_add(o, "height", json_object_new_int(H));
	ap_model_add(o, "x0", json_object_new_int(X0));
	ap_model_add(o, "y0", json_object_new_int(Y0));
	ap_model_add(o, "pw", json_object_new_int(PW));
	ap_model_add(o, "ph", json_object_new_int(PH));
	ap_model_add(o, "x1", json_object_new_int(X0 + PW));
	ap_model_add(o, "yb", json_object_new_int(Y0 + PH));
	ap_model_add(o, "live", json_object_new_boolean(live));
	ap_model_add(o, "empty", json_object_new_boolean(empty));
	for (int g = 0; g <= 4; g++) {
		struct json_object *l = json_object_new_object();
		double y = Y0 + PH - (double)PH * g / 4.0;

		ap_model_str(l, "y", ap_arena_printf(ctx->arena, "%.1f", y));
		ap_model_str(l, "ty", ap_arena_printf(ctx->arena, "%.1f", y + 4));
		ap_model_str(l, "label", ap_chart_value(ctx->arena, unit, ymax * g / 4.0));
		json_object_array_add(grid, l);
	}
	ap_model_add(o, "grid", grid);
	for (int g = 0; g <= 4; g++) {
		struct json_object *l = json_object_new_object();

		ap_model_str(l, "x", ap_arena_printf(ctx->arena, "%.1f", X0 + (double)PW * g / 4.0));
		ap_model_str(l, "label", time_label(ctx->arena, from + span * g / 4, span));
		json_object_array_add(xt, l);
	}
	ap_model_add(o, "xticks", xt);
	ap_model_add(o, "xy", json_object_new_int(H - 8));
	for (int k = 0; k < ns; k++) {
		struct json_object *so = json_object_new_object();
		struct ap_buf pts = { 0 }, vals = { 0 };
		double last = NAN;

		for (size_t i = 0; i < s[k].n; i++) {
			double v = s[k].v[i], x, y;

			if (isnan(v) || s[k].t[i] < from || s[k].t[i] > to)
				continue;
			x = X0 + (double)PW * (double)(s[k].t[i] - from) / (double)span;
			y = Y0 + PH - (double)PH * (v > ymax ? ymax : v < 0 ? 0 : v) / ymax;
			ap_buf_printf(&pts, "%s%.1f,%.1f", pts.len ? " " : "", x, y);
			ap_buf_printf(&vals, "%s%lld:%.6g", vals.len ? " " : "", (long long)s[k].t[i], v);
			last = v;
		}
		ap_model_str(so, "cls", s[k].cls);
		ap_model_str(so, "label", s[k].label);
		ap_model_str(so, "points", ap_arena_strdup(ctx->arena, ap_buf_cstr(&pts)));
		ap_model_str(so, "values", ap_arena_strdup(ctx->arena, ap_buf_cstr(&vals)));
		ap_model_str(so, "last", ap_chart_value(ctx->arena, unit, last));
		ap_model_str(so, "live", s[k].live);
		json_object_array_add(series, so);
		ap_buf_free(&pts);
		ap_buf_free(&vals);
	}
	ap_model_add(o, "series", series);
	return o;
}
