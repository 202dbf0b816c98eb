/*
 * audit.c — GET /audit: the audit log, filtered and paged (newest first;
 * the cursor is the last id shown), with the state of its hash chain on
 * request; GET /audit.csv: the same rows as a spreadsheet-safe CSV
 * download.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/audit.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"

#define AUDIT_CSV_ROWS 100000

static const char *const outcome_choices[] = { "ok", "denied", "failed", NULL };
static const char *const outcome_keys[] = { "is_ok", "is_denied", "is_failed" };

static const char *date_check(const char *v, size_t len);

static const char *
reqid_check(const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
			return "must be a request id: hexadecimal digits";
	return NULL;
}

/* The filter both routes read; the list adds paging and the chain check. */
#define AUDIT_FILTER_FIELDS                                                                          \
	[AU_ACTOR] = { .name = "actor", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 1, \
	    .max = 64, .desc = "the user who acted (exactly)" },                                         \
	[AU_ACTION] = { .name = "action", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,          \
	    .min = 1, .max = 64, .desc = "what was done, such as user.add (exactly)" },                   \
	[AU_OUTCOME] = { .name = "outcome", .type = AP_FIELD_ENUM, .choices = outcome_choices },        \
	[AU_FROM] = { .name = "from", .type = AP_FIELD_TEXT, .min = 10, .max = 10, .check = date_check,  \
	    .desc = "the first day, YYYY-MM-DD (UTC)" },                                                 \
	[AU_TO] = { .name = "to", .type = AP_FIELD_TEXT, .min = 10, .max = 10, .check = date_check,      \
	    .desc = "the last day, YYYY-MM-DD (UTC)" },                                                  \
	[AU_REQUEST] = { .name = "request", .type = AP_FIELD_TEXT, .min = 8, .max = 39,                  \
	    .check = reqid_check, .desc = "a request id (hex): what that request recorded" }

enum au_field { AU_ACTOR, AU_ACTION, AU_OUTCOME, AU_FROM, AU_TO, AU_REQUEST, AU_LIMIT, AU_CURSOR, AU_VERIFY, AU__MAX };
const struct ap_field ap_audit_fields[AU__MAX + 1] = {
	AUDIT_FILTER_FIELDS,
	[AU_LIMIT] = AP_FIELD_LIMIT,
	[AU_CURSOR] = AP_FIELD_CURSOR,
	[AU_VERIFY] = { .name = "verify", .type = AP_FIELD_BOOL,
	    .desc = "also check the log's hash chain (one pass over the whole log): chain" },
	[AU__MAX] = AP_FIELD_END,
};
const struct ap_field ap_audit_csv_fields[AU_REQUEST + 2] = {
	AUDIT_FILTER_FIELDS,
	[AU_REQUEST + 1] = AP_FIELD_END,
};

static const struct ap_prop entry_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "at", .type = AP_J_TIME },
	{ .name = "actor", .type = AP_J_STRING },
	{ .name = "addr", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the client's address" },
	{ .name = "via", .type = AP_J_STRING, .desc = "ui, api, cli, or system for what the panel records itself: a job's end, certbot's renewals" },
	{ .name = "action", .type = AP_J_STRING },
	{ .name = "target", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "outcome", .type = AP_J_STRING, .choices = outcome_choices },
	{ .name = "before", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the state before, JSON text" },
	{ .name = "after", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "the state after, JSON text" },
	{ .name = "request_id", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the request that recorded it (the panel's log: req=), null without one" },
	AP_PROP_END,
};
static const struct ap_schema entry_schema = { .name = "AuditEntry", .props = entry_props };

static const struct ap_prop chain_props[] = {
	{ .name = "ok", .type = AP_J_BOOL, .desc = "every row is where the chain says" },
	{ .name = "rows", .type = AP_J_INT },
	{ .name = "first_bad", .type = AP_J_INT, .desc = "the first row that breaks the chain, 0 when none" },
	{ .name = "truncated", .type = AP_J_BOOL, .desc = "rows at the start were deleted" },
	AP_PROP_END,
};
static const struct ap_schema chain_schema = { .name = "AuditChain", .props = chain_props };

static const struct ap_prop list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &entry_schema, .desc = "this page, newest first" },
	{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the URL of the next (older) page, null on the last" },
	{ .name = "chain", .type = AP_J_OBJECT, .of = &chain_schema, .flags = AP_J_NULL,
	    .desc = "with verify: the hash chain's state; else null" },
	AP_PROP_END,
};
const struct ap_schema ap_audit_list_schema = { .name = "AuditList", .props = list_props, .list = true };

/* "YYYY-MM-DD", a real calendar day; *out = its 00:00:00 UTC. */
static bool
parse_day(const char *s, size_t len, int64_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm = { 0 };
	int y, m, d, dim;

	if (len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12)
		return false;
	dim = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d < 1 || d > dim)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	*out = (int64_t)timegm(&tm);
	return true;
}

/* "YYYY-MM-DD", a real calendar day (the route's custom check). */
static const char *
date_check(const char *v, size_t len)
{
	int64_t t;

	return parse_day(v, len, &t) ? NULL : N_("must be a date YYYY-MM-DD");
}

/* A non-empty validated text field, or NULL. */
static const char *
field_text(struct ap_ctx *ctx, int i)
{
	const struct ap_fieldval *v = &ctx->fields[i];

	return v->present && v->len > 0 ? v->s : NULL;
}

static void
query_add(struct ap_buf *q, const char *name, const char *val)
{
	if (val == NULL)
		return;
	if (q->len > 0)
		ap_buf_putc(q, '&');
	ap_buf_puts(q, name);
	ap_buf_putc(q, '=');
	ap_url_encode(q, val);
}

/* The filter form's values back into it (echo), selected outcome marked. */
static void
echo_filter(struct json_object *echo, const char *const vals[6])
{
	static const char *const names[] = { "actor", "action", "outcome", "from", "to", "request" };

	for (size_t i = 0; i < AP_NELEM(names); i++)
		ap_model_add(echo, names[i], json_object_new_string(vals[i] ? vals[i] : ""));
	/* Which <option> is selected; keys parallel to outcome_choices. */
	for (size_t i = 0; outcome_choices[i] != NULL; i++)
		ap_model_add(echo, outcome_keys[i],
		    json_object_new_boolean(vals[2] != NULL && strcmp(vals[2], outcome_choices[i]) == 0));
}

/*
 * The filter both handlers share, from the validated fields. echo (may be
 * NULL) gets the values back for the form, q the URL-encoded query.
 * Returns 200, or 400 when the range is reversed.
 */
static int
read_filter(struct ap_ctx *ctx, struct ap_audit_filter *f, struct json_object *echo,
    struct ap_buf *q)
{
	static const char *const names[] = { "actor", "action", "outcome", "from", "to", "request" };
	const char *vals[AP_NELEM(names)];

	memset(f, 0, sizeof(*f));
	for (int i = AU_ACTOR; i <= AU_REQUEST; i++) {
		vals[i] = field_text(ctx, i);
		query_add(q, names[i], vals[i]);
	}
	if (echo != NULL)
		echo_filter(echo, vals);
	f->actor = vals[AU_ACTOR];
	f->action = vals[AU_ACTION];
	f->outcome = vals[AU_OUTCOME];
	f->request = vals[AU_REQUEST];
	/* Whole UTC days: from the first second of from to the last of to. */
	if (vals[AU_FROM] != NULL)
		parse_day(vals[AU_FROM], strlen(vals[AU_FROM]), &f->from);
	if (vals[AU_TO] != NULL && parse_day(vals[AU_TO], strlen(vals[AU_TO]), &f->to))
		f->to += 86399;
	if (f->from != 0 && f->to != 0 && f->to < f->from)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "to", "must not be before from");
	return 200;
}

/* One entry as the page and the answer read it (a typed row source, rows.h). */
struct entry_view {
	int64_t id;
	const char *at, *actor, *addr, *via, *action, *target, *outcome, *before, *after, *request_id;
};
static const struct ap_col entry_cols[] = {
	AP_COL(struct entry_view, id, AP_COL_INT),
	AP_COL(struct entry_view, at, AP_COL_STR),
	AP_COL(struct entry_view, actor, AP_COL_STR),
	AP_COL(struct entry_view, addr, AP_COL_STR),
	AP_COL(struct entry_view, via, AP_COL_STR),
	AP_COL(struct entry_view, action, AP_COL_STR),
	AP_COL(struct entry_view, target, AP_COL_STR),
	AP_COL(struct entry_view, outcome, AP_COL_STR),
	AP_COL(struct entry_view, before, AP_COL_STR),
	AP_COL(struct entry_view, after, AP_COL_STR),
	AP_COL(struct entry_view, request_id, AP_COL_STR),
	AP_COL_END,
};

struct page_rows {
	struct json_object *entries;
	int64_t n, limit, last;
	bool has_next;
};

static bool
add_entry(void *arg, const struct ap_audit_row *r)
{
	struct page_rows *p = arg;
	struct entry_view *e;
	char iso[21];

	/* One row more than a page was asked for: it only says there is a next page. */
	if (p->n == p->limit) {
		p->has_next = true;
		return false;
	}
	p->n++;
	p->last = r->id;
	ap_audit_iso8601(r->at, iso);
	e = ap_rows_add(p->entries);
	e->id = r->id;
	e->at = ap_rows_strdup(p->entries, iso);
	e->actor = ap_rows_strdup(p->entries, r->actor ? r->actor : "");
	e->addr = ap_rows_strdup(p->entries, r->addr);
	e->via = ap_rows_strdup(p->entries, r->via ? r->via : "");
	e->action = ap_rows_strdup(p->entries, r->action ? r->action : "");
	e->target = ap_rows_strdup(p->entries, r->target);
	e->outcome = ap_rows_strdup(p->entries, r->outcome ? r->outcome : "");
	e->before = ap_rows_strdup(p->entries, r->before_json);
	e->after = ap_rows_strdup(p->entries, r->after_json);
	e->request_id = ap_rows_strdup(p->entries, r->request_id);
	return true;
}

/*
 * The page: a page of the rows of f, the chain's state when verify, the
 * filter form from echo (taken), q the filter as a query string.
 */
static int
audit_model(struct ap_ctx *ctx, struct ap_audit_filter *f, const struct ap_page *pg, bool verify,
    struct json_object *echo, const struct ap_buf *q)
{
	struct ap_db *db = ctx->db;
	struct page_rows p = { .limit = pg->limit };
	struct json_object *chain;
	int64_t rows = 0, bad = 0;
	enum ap_db_rc rc;
	int status;

	ctx->title = ap_ctx_tr(ctx, "Audit log");
	f->limit = pg->limit + 1;
	f->before_id = pg->cursor;
	p.entries = ap_rows_new(entry_cols, sizeof(struct entry_view));
	rc = ap_audit_query(db, f, add_entry, &p, NULL);
	if (rc != AP_DB_OK) {
		status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	/* Walking the whole chain costs one pass over the log: on request only
	 * (?verify=1, the page's "Verify" link; `aapanel audit verify` for cron). */
	chain = NULL;
	if (verify) {
		if ((rc = ap_audit_verify(db, &rows, &bad, NULL, 0)) != AP_DB_OK) {
			status = ap_ctx_db_error(ctx, rc);
			goto out;
		}
		chain = json_object_new_object();
		ap_model_add(chain, "ok", json_object_new_boolean(bad == 0));
		ap_model_add(chain, "rows", json_object_new_int64(rows));
		ap_model_add(chain, "first_bad", json_object_new_int64(bad));
		ap_model_add(chain, "truncated", json_object_new_boolean(bad < 0));
	}

	ap_model_add(ctx->model, "has_entries", json_object_new_boolean(p.n > 0));
	if (p.n == 0)
		ap_ctx_empty(ctx, N_("No entries match this filter."), "/audit", N_("Show every entry"));
	ap_ctx_page_done(ctx, "/audit", p.entries, p.has_next, p.last);
	p.entries = NULL;
	ap_model_add(ctx->model, "filter", echo);
	echo = NULL;
	ap_model_add(ctx->model, "csv_query", json_object_new_string(q->len ? q->data : ""));
	ap_model_add(ctx->model, "chain", chain);
	status = 200;
out:
	json_object_put(p.entries);
	json_object_put(echo);
	return status;
}

int
ap_page_audit(struct ap_ctx *ctx)
{
	struct ap_audit_filter f;
	struct ap_buf q = { 0 };
	struct json_object *echo = json_object_new_object();
	struct ap_page pg;
	int status = read_filter(ctx, &f, echo, &q);

	ap_ctx_page(ctx, &pg);
	if (status == 200)
		status = audit_model(ctx, &f, &pg, ctx->fields[AU_VERIFY].b, echo, &q);
	else
		json_object_put(echo);
	ap_buf_free(&q);
	return status;
}

int
ap_page_audit_blank(struct ap_ctx *ctx)
{
	static const char *const names[] = { "actor", "action", "outcome", "from", "to", "request" };
	const char *vals[AP_NELEM(names)];
	struct ap_audit_filter f;
	struct ap_buf q = { 0 };
	struct json_object *echo = json_object_new_object();
	struct ap_page pg = { .limit = AP_PAGE_LIMIT_DEFAULT, .cursor = 0 };
	int status;

	/* The newest entries, unfiltered; the form keeps what was typed. */
	for (size_t i = 0; i < AP_NELEM(names); i++)
		vals[i] = ap_ctx_kept(ctx, names[i]);
	echo_filter(echo, vals);
	memset(&f, 0, sizeof(f));
	status = audit_model(ctx, &f, &pg, false, echo, &q);
	ap_buf_free(&q);
	return status;
}

static bool
add_csv_row(void *arg, const struct ap_audit_row *r)
{
	ap_audit_csv_row(arg, r);
	return true;
}

int
ap_page_audit_csv(struct ap_ctx *ctx)
{
	struct ap_db *db = ctx->db;
	struct ap_audit_filter f;
	struct ap_buf q = { 0 };
	char day[16], disp[64];
	time_t now = time(NULL);
	struct tm tm;
	enum ap_db_rc rc;
	int status;

	if ((status = read_filter(ctx, &f, NULL, &q)) != 200)
		goto out;
	f.limit = AUDIT_CSV_ROWS;
	ap_buf_reset(&ctx->raw);
	/* The BOM makes Excel read UTF-8 (Arabic names) instead of a code page. */
	ap_buf_puts(&ctx->raw, "\xEF\xBB\xBF");
	ap_audit_csv_header(&ctx->raw);
	rc = ap_audit_query(db, &f, add_csv_row, &ctx->raw, NULL);
	if (rc != AP_DB_OK) {
		ap_buf_reset(&ctx->raw);
		status = ap_ctx_db_error(ctx, rc);
		goto out;
	}
	if (gmtime_r(&now, &tm) == NULL || strftime(day, sizeof(day), "%Y%m%d", &tm) == 0)
		snprintf(day, sizeof(day), "%s", "export");
	snprintf(disp, sizeof(disp), "attachment; filename=\"aapanel-audit-%s.csv\"", day);
	ap_ctx_header(ctx, "Content-Disposition", disp);
	ctx->raw_type = "text/csv; charset=utf-8";
	status = 200;
out:
	ap_buf_free(&q);
	return status;
}
