/*
 * testing.c — GET /_test/sleep?ms=N: a request that takes N ms, so the
 * integration tests can exercise the request timeout, graceful reload and
 * graceful stop with requests in flight; GET /_test/table?rows=N: a list
 * page of N made-up rows for the benchmark, from a typed row source
 * (rows.h). Both are AP_ROUTE_TESTING: they do not exist on a real panel
 * (404 outside the test profile).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/pages.h"
#include "aapanel/rows.h"

enum sl_field { SL_MS, SL__MAX };
const struct ap_field ap_test_sleep_fields[SL__MAX + 1] = {
	[SL_MS] = { .name = "ms", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 0, .max = 600000 },
	[SL__MAX] = AP_FIELD_END,
};

enum tb_field { TB_ROWS, TB__MAX };
const struct ap_field ap_test_table_fields[TB__MAX + 1] = {
	[TB_ROWS] = { .name = "rows", .type = AP_FIELD_INT, .min = 0, .max = 1000 },
	[TB__MAX] = AP_FIELD_END,
};

static const struct ap_prop slept_props[] = {
	{ .name = "slept_ms", .type = AP_J_INT },
	{ .name = "pid", .type = AP_J_INT, .desc = "the worker that slept" },
	AP_PROP_END,
};
const struct ap_schema ap_test_slept_schema = { .name = "TestSlept", .props = slept_props };

static const struct ap_prop row_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "domain", .type = AP_J_STRING },
	{ .name = "up", .type = AP_J_BOOL },
	{ .name = "size", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema row_schema = { .name = "TestRow", .props = row_props };
static const struct ap_prop table_props[] = {
	{ .name = "rows", .type = AP_J_ARRAY, .of = &row_schema },
	AP_PROP_END,
};
const struct ap_schema ap_test_table_schema = { .name = "TestTable", .props = table_props };

int
ap_page_test_sleep(struct ap_ctx *ctx)
{
	const struct ap_fieldval *ms = &ctx->fields[SL_MS];
	struct timespec ts;

	ts.tv_sec = ms->i / 1000;
	ts.tv_nsec = (ms->i % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	ap_model_add(ctx->model, "slept_ms", json_object_new_int64(ms->i));
	ap_model_add(ctx->model, "pid", json_object_new_int((int)getpid()));
	return 200;
}

/*
 * Rows as a database driver would hand them over: text already formatted.
 * Made once per worker, so the page measures what a list screen costs the
 * panel (model + template), not printf.
 */
struct fake_row {
	char name[24], domain[40], size[24];
};
static struct fake_row fake_rows[1000];

static void
fake_rows_init(void)
{
	for (int i = 0; i < (int)AP_NELEM(fake_rows); i++) {
		snprintf(fake_rows[i].name, sizeof(fake_rows[i].name), "site-%03d", i + 1);
		snprintf(fake_rows[i].domain, sizeof(fake_rows[i].domain), "www.example-%d.com", i + 1);
		snprintf(fake_rows[i].size, sizeof(fake_rows[i].size), "%d MiB", (i * 37) % 900 + 12);
	}
}

/* One row as the page reads it: a typed row source (rows.h), no json-c object per row. */
struct table_view {
	int64_t id;
	const char *name, *domain, *size;
	bool up;
};
static const struct ap_col table_cols[] = {
	AP_COL(struct table_view, id, AP_COL_INT),
	AP_COL(struct table_view, name, AP_COL_STR),
	AP_COL(struct table_view, domain, AP_COL_STR),
	AP_COL(struct table_view, up, AP_COL_BOOL),
	AP_COL(struct table_view, size, AP_COL_STR),
	AP_COL_END,
};

int
ap_page_test_table(struct ap_ctx *ctx)
{
	const struct ap_fieldval *n = &ctx->fields[TB_ROWS];
	long long nrows = n->present ? n->i : 25;
	struct json_object *rows = ap_rows_new(table_cols, sizeof(struct table_view));

	if (fake_rows[0].name[0] == '\0')
		fake_rows_init();
	for (long long i = 0; i < nrows; i++) {
		struct table_view *v = ap_rows_add(rows);
		const struct fake_row *f = &fake_rows[i];

		/* The worker's own rows outlive the request: no copy (else ap_rows_strdup). */
		v->id = i + 1;
		v->name = f->name;
		v->domain = f->domain;
		v->up = i % 3 != 0;
		v->size = f->size;
	}
	ap_model_add(ctx->model, "rows", rows);
	ctx->title = ap_ctx_tr(ctx, "Websites");
	return 200;
}
