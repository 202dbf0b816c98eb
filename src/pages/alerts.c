/*
 * alerts.c — alert rules and notification channels (GET /alerts and its
 * forms, permission alerts.write: admins), and the alert history (GET
 * /alerts/history, newest first, a page at a time). Every change goes to
 * the audit log. Nothing is sent from here: a channel's test is queued for
 * the sampler, which delivers it and notes the outcome on the channel.
 *
 * Resources: AlertRule, AlertChannel (its webhook secret is an input only,
 * never answered), Alerts (both lists), AlertEvent. A create answers 201
 * with what it made, enabling or disabling a rule 200 with the rule,
 * deleting and queueing a test 204.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/alerts.h"
#include "aapanel/metrics.h"
#include "aapanel/notify.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/sampler.h"

static const char *
check_number(const char *val, size_t len)
{
	char *end = NULL;
	double d;

	(void)len;
	d = strtod(val, &end);
	if (end == val || *end != '\0' || !isfinite(d))
		return N_("must be a number such as 90 or 2.5");
	return NULL;
}

static const char *
check_url(const char *val, size_t len)
{
	(void)len;
	if (strncmp(val, "https://", 8) != 0 && strncmp(val, "http://", 7) != 0)
		return N_("must start with https:// or http://");
	for (const char *p = val; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return N_("must not contain spaces");
	return NULL;
}

static const char *
check_target(const char *val, size_t len)
{
	(void)len;
	for (const char *p = val; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return N_("must not contain control characters");
	return NULL;
}

enum rule_field { RF_METRIC, RF_TARGET, RF_THRESHOLD, RF_DURATION, RF_CHANNEL, RF__MAX };
const struct ap_field ap_alert_rule_fields[RF__MAX + 1] = {
	[RF_METRIC] = { .name = "metric", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = ap_alert_metric_names,
	    .desc = "what it watches (cert_expiry: days left, below the threshold fires; site_down: no answer "
		    "within the threshold's seconds, or a 5xx, fires)" },
	[RF_TARGET] = { .name = "target", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0,
	    .max = AP_METRICS_NAME_MAX, .check = check_target,
	    .desc = "disk rules: a mount point (/var); cert_expiry and site_down: a domain; empty: each of them" },
	[RF_THRESHOLD] = { .name = "threshold", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 24, .check = check_number,
	    .desc = "a number: percent (0 to 100), a load average, days (cert_expiry) or seconds (site_down, at most 60)" },
	[RF_DURATION] = { .name = "duration", .type = AP_FIELD_INT, .min = 0, .max = 10080,
	    .desc = "minutes the condition must hold before it fires (default 0: at the first reading)" },
	[RF_CHANNEL] = { .name = "channel", .type = AP_FIELD_INT, .min = 1, .max = INT64_MAX,
	    .desc = "the channel's id; none: every channel" },
	[RF__MAX] = AP_FIELD_END,
};

enum channel_field { CF_NAME, CF_KIND, CF_EMAIL, CF_URL, CF_SECRET, CF__MAX };
const struct ap_field ap_alert_channel_fields[CF__MAX + 1] = {
	[CF_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1, .max = 64 },
	[CF_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = ap_alert_channel_kinds },
	[CF_EMAIL] = { .name = "email", .type = AP_FIELD_EMAIL, .desc = "email: the address" },
	[CF_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0, .max = 2048,
	    .check = check_url, .desc = "webhook: the URL it posts to (https:// or http://)" },
	[CF_SECRET] = { .name = "secret", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE | AP_FIELD_SECRET,
	    .min = 0, .max = 256,
	    .desc = "webhook: at least 16 characters; every call is signed with it (X-Aapanel-Signature). "
		    "Kept by the panel, never answered" },
	[CF__MAX] = AP_FIELD_END,
};

enum history_field { HIF_LIMIT, HIF_CURSOR, HIF__MAX };
const struct ap_field ap_alert_history_fields[HIF__MAX + 1] = {
	[HIF_LIMIT] = AP_FIELD_LIMIT,
	[HIF_CURSOR] = AP_FIELD_CURSOR,
	[HIF__MAX] = AP_FIELD_END,
};

/* ---------------------------------------------------------------- resources */

static const struct ap_prop rule_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "metric", .type = AP_J_STRING, .choices = ap_alert_metric_names },
	{ .name = "target", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the mount point or domain it watches; null: each of them (or a metric without one)" },
	{ .name = "threshold", .type = AP_J_NUMBER },
	{ .name = "duration", .type = AP_J_INT, .desc = "minutes the condition must hold before it fires" },
	{ .name = "channel", .type = AP_J_INT, .flags = AP_J_NULL,
	    .desc = "the channel it goes to; null: every channel" },
	{ .name = "enabled", .type = AP_J_BOOL },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "text", .type = AP_J_STRING,
	    .desc = "the rule in words, as the history and the messages name it (English)" },
	AP_PROP_END,
};
const struct ap_schema ap_alert_rule_schema = { .name = "AlertRule", .props = rule_props };

static const struct ap_prop test_props[] = {
	{ .name = "at", .type = AP_J_TIME, .desc = "when its outcome was known" },
	{ .name = "delivered", .type = AP_J_BOOL, .desc = "false: given up" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why it failed; null when delivered" },
	AP_PROP_END,
};
static const struct ap_schema test_schema = { .name = "AlertTest", .props = test_props };

static const struct ap_prop channel_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "kind", .type = AP_J_STRING, .choices = ap_alert_channel_kinds },
	{ .name = "target", .type = AP_J_STRING,
	    .desc = "the e-mail address, or the webhook URL's scheme and host (its path may hold a token): "
		    "https://hooks.example/…" },
	{ .name = "created", .type = AP_J_TIME },
	{ .name = "last_test", .type = AP_J_OBJECT, .of = &test_schema, .flags = AP_J_NULL,
	    .desc = "the outcome of its last test message; null before one was delivered or given up" },
	AP_PROP_END,
};
const struct ap_schema ap_alert_channel_schema = { .name = "AlertChannel",
	.desc = "where alert messages go (its webhook secret is never answered)", .props = channel_props };

static const struct ap_prop alerts_props[] = {
	{ .name = "rules", .type = AP_J_ARRAY, .of = &ap_alert_rule_schema, .desc = "oldest first" },
	{ .name = "channels", .type = AP_J_ARRAY, .of = &ap_alert_channel_schema, .desc = "oldest first" },
	AP_PROP_END,
};
const struct ap_schema ap_alerts_schema = { .name = "Alerts", .props = alerts_props };

static const struct ap_prop event_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "rule_id", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "null once the rule is deleted" },
	{ .name = "rule", .type = AP_J_STRING, .desc = "the rule in words as it was when it fired" },
	{ .name = "host", .type = AP_J_STRING },
	{ .name = "subject", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the mount point or domain it is about; null: the host itself" },
	{ .name = "value", .type = AP_J_NUMBER, .desc = "when it fired" },
	{ .name = "peak", .type = AP_J_NUMBER, .desc = "the worst while it held" },
	{ .name = "started", .type = AP_J_TIME },
	{ .name = "resolved", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "null while it still holds" },
	{ .name = "notified", .type = AP_J_INT, .desc = "messages delivered" },
	{ .name = "failed", .type = AP_J_INT, .desc = "messages given up after their last try" },
	AP_PROP_END,
};
const struct ap_schema ap_alert_event_schema = { .name = "AlertEvent", .desc = "an episode: a rule's condition held",
	.props = event_props };
static const struct ap_prop event_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &ap_alert_event_schema, .desc = "this page, newest first" },
	{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the URL of the next (older) page, null on the last" },
	AP_PROP_END,
};
const struct ap_schema ap_alert_event_list_schema = { .name = "AlertEventList", .props = event_list_props,
	.list = true };

struct json_object *
ap_alert_rule_resource(const struct ap_alert_rule *r)
{
	struct json_object *o = json_object_new_object();
	char text[256];

	ap_alert_rule_text(r, text, sizeof(text));
	ap_model_add(o, "id", json_object_new_int64(r->id));
	ap_model_str(o, "metric", ap_alert_metric_names[r->metric]);
	ap_model_opt(o, "target", r->target);
	ap_model_add(o, "threshold", json_object_new_double(r->threshold));
	ap_model_add(o, "duration", json_object_new_int64(r->duration / 60));
	ap_model_add(o, "channel", r->channel_id ? json_object_new_int64(r->channel_id) : NULL);
	ap_model_add(o, "enabled", json_object_new_boolean(r->enabled));
	ap_model_add(o, "created", ap_model_time(r->created_at));
	ap_model_str(o, "text", text);
	return o;
}

/* The channel's target as answered: a webhook URL may carry a token in its
 * path, the host is enough to recognise it. shown: sizeof(c->target) + 8. */
static const char *
channel_target(const struct ap_alert_channel *c, char *shown, size_t len)
{
	const char *h;
	size_t n;

	if (c->kind != AP_AC_WEBHOOK || (h = strstr(c->target, "://")) == NULL)
		return c->target;
	n = strcspn(h + 3, "/?#");
	snprintf(shown, len, "%.*s/…", (int)(h + 3 - c->target + n), c->target);
	return shown;
}

/* Its last test's outcome, NULL before one was delivered or given up. */
static struct json_object *
channel_last_test(const struct ap_alert_channel *c)
{
	struct json_object *t;

	if (c->last_test_at == 0 || c->last_test_ok < 0)
		return NULL;
	t = json_object_new_object();
	ap_model_add(t, "at", ap_model_time(c->last_test_at));
	ap_model_add(t, "delivered", json_object_new_boolean(c->last_test_ok == 1));
	ap_model_opt(t, "error", c->last_test_ok == 1 ? NULL : c->last_test_error);
	return t;
}

struct json_object *
ap_alert_channel_resource(const struct ap_alert_channel *c)
{
	struct json_object *o = json_object_new_object();
	char shown[sizeof(c->target) + 8];

	ap_model_add(o, "id", json_object_new_int64(c->id));
	ap_model_str(o, "name", c->name);
	ap_model_str(o, "kind", ap_alert_channel_kinds[c->kind]);
	ap_model_str(o, "target", channel_target(c, shown, sizeof(shown)));
	ap_model_add(o, "created", ap_model_time(c->created_at));
	ap_model_add(o, "last_test", channel_last_test(c));
	return o;
}

/*
 * The lists' rows (rows.h): the resources' members, and what only the page
 * shows, read from structs — the same bytes as the resources above.
 */
struct rule_view {
	int64_t id, duration, channel, created;
	const char *metric, *target, *text, *metric_label, *threshold_text;
	double threshold;
	bool enabled;
};
static const struct ap_col rule_cols[] = {
	AP_COL(struct rule_view, id, AP_COL_INT),
	AP_COL(struct rule_view, metric, AP_COL_STR),
	AP_COL(struct rule_view, target, AP_COL_STR),
	AP_COL(struct rule_view, threshold, AP_COL_DOUBLE),
	AP_COL(struct rule_view, duration, AP_COL_INT),
	AP_COL(struct rule_view, channel, AP_COL_INTN),
	AP_COL(struct rule_view, enabled, AP_COL_BOOL),
	AP_COL(struct rule_view, created, AP_COL_TIME),
	AP_COL(struct rule_view, text, AP_COL_STR),
	AP_COL(struct rule_view, metric_label, AP_COL_STR),
	AP_COL(struct rule_view, threshold_text, AP_COL_STR),
	AP_COL_END,
};

struct channel_view {
	int64_t id, created;
	const char *name, *kind, *target, *kind_label;
	struct json_object *last_test;
};
static const struct ap_col channel_cols[] = {
	AP_COL(struct channel_view, id, AP_COL_INT),
	AP_COL(struct channel_view, name, AP_COL_STR),
	AP_COL(struct channel_view, kind, AP_COL_STR),
	AP_COL(struct channel_view, target, AP_COL_STR),
	AP_COL(struct channel_view, created, AP_COL_TIME),
	AP_COL(struct channel_view, last_test, AP_COL_JSON),
	AP_COL(struct channel_view, kind_label, AP_COL_STR),
	AP_COL_END,
};

struct event_view {
	int64_t id, rule_id, started, resolved, notified, failed;
	const char *rule, *host, *subject, *value_text, *peak_text;
	double value, peak;
};
static const struct ap_col event_cols[] = {
	AP_COL(struct event_view, id, AP_COL_INT),
	AP_COL(struct event_view, rule_id, AP_COL_INTN),
	AP_COL(struct event_view, rule, AP_COL_STR),
	AP_COL(struct event_view, host, AP_COL_STR),
	AP_COL(struct event_view, subject, AP_COL_STR),
	AP_COL(struct event_view, value, AP_COL_DOUBLE),
	AP_COL(struct event_view, peak, AP_COL_DOUBLE),
	AP_COL(struct event_view, started, AP_COL_TIME),
	AP_COL(struct event_view, resolved, AP_COL_TIME),
	AP_COL(struct event_view, notified, AP_COL_INT),
	AP_COL(struct event_view, failed, AP_COL_INT),
	AP_COL(struct event_view, value_text, AP_COL_STR),
	AP_COL(struct event_view, peak_text, AP_COL_STR),
	AP_COL_END,
};

/* ap_model_opt's rule: NULL or "" is null. */
static const char *
opt_str(struct json_object *rows, const char *s)
{
	return s != NULL && s[0] != '\0' ? ap_rows_strdup(rows, s) : NULL;
}

static const char *const metric_labels[] = { N_("CPU above (%)"), N_("Memory above (%)"), N_("Swap above (%)"),
	N_("Load average above"), N_("Disk space above (%)"), N_("Disk inodes above (%)"),
	N_("Certificate expiring within (days)"), N_("Site not answering within (seconds)"),
	N_("Last successful backup older than (hours)") };
static const char *const kind_labels[] = { N_("E-mail"), N_("Webhook") };

/* ---------------------------------------------------------------- the page */

struct page {
	struct ap_ctx *ctx;
	struct json_object *rules, *channels, *choices;
	const char *kept_channel;
};

static bool
channel_item(void *p, const struct ap_alert_channel *c)
{
	struct page *pg = p;
	struct ap_ctx *ctx = pg->ctx;
	struct channel_view *v = ap_rows_add(pg->channels);
	struct json_object *opt = json_object_new_object();
	char shown[sizeof(c->target) + 8];

	v->id = c->id;
	v->name = ap_rows_strdup(pg->channels, c->name);
	v->kind = ap_alert_channel_kinds[c->kind];
	v->target = ap_rows_strdup(pg->channels, channel_target(c, shown, sizeof(shown)));
	v->created = c->created_at;
	v->last_test = channel_last_test(c);
	v->kind_label = ap_ctx_tr(ctx, kind_labels[c->kind]); /* for the page only */
	ap_model_add(opt, "value", json_object_new_int64(c->id));
	ap_model_str(opt, "label", c->name);
	ap_model_add(opt, "selected", json_object_new_boolean(pg->kept_channel &&
	    atoll(pg->kept_channel) == c->id));
	json_object_array_add(pg->choices, opt);
	return true;
}

static bool
rule_item(void *p, const struct ap_alert_rule *r)
{
	struct page *pg = p;
	struct ap_ctx *ctx = pg->ctx;
	struct rule_view *v = ap_rows_add(pg->rules);
	char text[256];

	/* The rule in words: English in the answer, the page's language on the page. */
	if (!ctx->req->wants_json)
		ap_alert_rule_text_lang(ctx->app->i18n, ctx->lang, r, text, sizeof(text));
	else
		ap_alert_rule_text(r, text, sizeof(text));
	v->id = r->id;
	v->metric = ap_alert_metric_names[r->metric];
	v->target = opt_str(pg->rules, r->target);
	v->threshold = r->threshold;
	v->duration = r->duration / 60;
	v->channel = r->channel_id ? r->channel_id : AP_ROWS_NULL;
	v->enabled = r->enabled;
	v->created = r->created_at;
	v->text = ap_rows_strdup(pg->rules, text);
	/* For the page only. */
	v->metric_label = ap_ctx_tr(ctx, metric_labels[r->metric]);
	v->threshold_text = ap_arena_printf(ctx->arena, "%g", r->threshold);
	return true;
}

static struct json_object *
options(struct ap_ctx *ctx, const char *const *values, const char *const *labels, const char *selected)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; values[i] != NULL; i++) {
		struct json_object *o = json_object_new_object();

		ap_model_str(o, "value", values[i]);
		ap_model_str(o, "label", ap_ctx_tr(ctx, labels[i]));
		ap_model_add(o, "selected", json_object_new_boolean(selected && strcmp(selected, values[i]) == 0));
		json_object_array_add(a, o);
	}
	return a;
}

int
ap_page_alerts(struct ap_ctx *ctx)
{
	struct page pg = { ctx, ap_rows_new(rule_cols, sizeof(struct rule_view)),
		ap_rows_new(channel_cols, sizeof(struct channel_view)), json_object_new_array(), NULL };
	struct json_object *rf = json_object_new_object(), *cf = json_object_new_object();
	const char *p = ctx->req->path ? ctx->req->path : "";
	bool channel_form = ctx->form_again && strstr(p, "/alerts/channels") != NULL;
	bool rule_form = ctx->form_again && !channel_form;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Alerts");
	pg.kept_channel = rule_form ? ap_ctx_kept(ctx, "channel") : NULL;
	ap_model_add(ctx->model, "rules", pg.rules);
	ap_model_add(ctx->model, "channels", pg.channels);
	ap_model_add(rf, "metrics", options(ctx, ap_alert_metric_names, metric_labels,
	    rule_form ? ap_ctx_kept(ctx, "metric") : "cpu"));
	ap_model_str(rf, "target", rule_form ? ap_ctx_kept(ctx, "target") : "");
	ap_model_str(rf, "threshold", rule_form ? ap_ctx_kept(ctx, "threshold") : "90");
	ap_model_str(rf, "duration", rule_form ? ap_ctx_kept(ctx, "duration") : "5");
	ap_model_add(rf, "channels", pg.choices);
	ap_model_add(rf, "errors_here", json_object_new_boolean(rule_form));
	ap_model_add(ctx->model, "rule_form", rf);
	ap_model_str(cf, "name", channel_form ? ap_ctx_kept(ctx, "name") : "");
	ap_model_add(cf, "kinds", options(ctx, ap_alert_channel_kinds, kind_labels,
	    channel_form ? ap_ctx_kept(ctx, "kind") : "email"));
	ap_model_str(cf, "email", channel_form ? ap_ctx_kept(ctx, "email") : "");
	ap_model_str(cf, "url", channel_form ? ap_ctx_kept(ctx, "url") : "");
	ap_model_add(cf, "errors_here", json_object_new_boolean(channel_form));
	ap_model_add(ctx->model, "channel_form", cf);
	ap_model_add(ctx->model, "smtp", json_object_new_boolean(ctx->app->cfg->monitor_smtp_url[0] != '\0'));
	if ((rc = ap_alert_channels_each(ctx->db, channel_item, &pg)) != AP_DB_OK ||
	    (rc = ap_alert_rules_each(ctx->db, rule_item, &pg)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "has_rules", json_object_new_boolean(ap_rows_count(pg.rules) > 0));
	ap_model_add(ctx->model, "has_channels", json_object_new_boolean(ap_rows_count(pg.channels) > 0));
	return 200;
}

/* ---------------------------------------------------------------- rules */

struct json_object *
ap_alert_rule_audit_json(const struct ap_alert_rule *r)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "metric", ap_alert_metric_names[r->metric]);
	ap_model_str(o, "target", r->target);
	ap_model_add(o, "threshold", json_object_new_double(r->threshold));
	ap_model_add(o, "duration", json_object_new_int64(r->duration));
	ap_model_add(o, "channel", r->channel_id ? json_object_new_int64(r->channel_id) : NULL);
	ap_model_add(o, "enabled", json_object_new_boolean(r->enabled));
	return o;
}

struct json_object *
ap_alert_channel_audit_json(const struct ap_alert_channel *c)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "name", c->name);
	ap_model_str(o, "kind", ap_alert_channel_kinds[c->kind]);
	return o;
}

static const char *
rule_json(struct ap_ctx *ctx, const struct ap_alert_rule *r)
{
	return ap_ctx_json_text(ctx, ap_alert_rule_audit_json(r));
}

void
ap_alert_rule_from_fields(const struct ap_fieldval *f, struct ap_alert_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->metric = (enum ap_alert_metric)f[RF_METRIC].i;
	if (f[RF_TARGET].present)
		snprintf(r->target, sizeof(r->target), "%s", f[RF_TARGET].s);
	r->threshold = strtod(f[RF_THRESHOLD].s, NULL);
	r->duration = f[RF_DURATION].present ? f[RF_DURATION].i * 60 : 0;
	r->channel_id = f[RF_CHANNEL].present ? f[RF_CHANNEL].i : 0;
	r->enabled = true;
}

enum ap_err
ap_alert_channel_from_fields(const struct ap_fieldval *f, struct ap_alert_channel *c, struct ap_problem *pb)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", f[CF_NAME].s);
	c->kind = (enum ap_alert_channel_kind)f[CF_KIND].i;
	c->enabled = true;
	if (c->kind == AP_AC_EMAIL) {
		if (!f[CF_EMAIL].present)
			return ap_problem_set(pb, AP_PB_INVALID, "email", "an e-mail channel needs an address");
		snprintf(c->target, sizeof(c->target), "%s", f[CF_EMAIL].s);
		return AP_OK;
	}
	if (!f[CF_URL].present || f[CF_URL].len == 0)
		return ap_problem_set(pb, AP_PB_INVALID, "url", "a webhook needs its URL");
	if (!f[CF_SECRET].present || f[CF_SECRET].len < 16)
		return ap_problem_set(pb, AP_PB_INVALID, "secret",
		    "a webhook needs a shared secret of at least 16 characters (it signs every call)");
	snprintf(c->target, sizeof(c->target), "%s", f[CF_URL].s);
	snprintf(c->secret, sizeof(c->secret), "%s", f[CF_SECRET].s);
	return AP_OK;
}

int
ap_page_alert_rule_create(struct ap_ctx *ctx)
{
	struct ap_alert_rule r;
	struct ap_problem pb;
	enum ap_db_rc rc;
	char text[256];

	ap_alert_rule_from_fields(ctx->fields, &r);
	rc = ap_alert_rule_create(ctx->db, &r, (int64_t)time(NULL), &pb);
	if (rc == AP_DB_EINVAL)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_alert_rule_text(&r, text, sizeof(text));
	ap_ctx_audit(ctx, "alert.rule.add", ap_arena_printf(ctx->arena, "%lld", (long long)r.id), "ok", NULL,
	    rule_json(ctx, &r));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 201, ap_alert_rule_resource(&r));
	ap_ctx_flash(ctx, "ok", "The alert rule was added: %s.", text);
	return ap_ctx_back(ctx, "/alerts");
}

static int
path_rule(struct ap_ctx *ctx, struct ap_alert_rule *r)
{
	enum ap_db_rc rc = ap_alert_rule_get(ctx->db, ctx->fields[AP_ID].i, r);

	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such alert rule");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 0;
}


static int
set_enabled(struct ap_ctx *ctx, bool on)
{
	struct ap_alert_rule r;
	char text[256];
	int st;
	enum ap_db_rc rc;

	if ((st = path_rule(ctx, &r)) != 0)
		return st;
	if ((rc = ap_alert_rule_set_enabled(ctx->db, r.id, on)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_alert_rule_text(&r, text, sizeof(text));
	ap_ctx_audit(ctx, on ? "alert.rule.enable" : "alert.rule.disable", ap_arena_printf(ctx->arena, "%lld",
	    (long long)r.id), "ok", r.enabled ? "{\"enabled\":true}" : "{\"enabled\":false}",
	    on ? "{\"enabled\":true}" : "{\"enabled\":false}");
	r.enabled = on;
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 200, ap_alert_rule_resource(&r));
	if (on)
		ap_ctx_flash(ctx, "ok", "The alert rule is on again: %s.", text);
	else
		ap_ctx_flash(ctx, "ok", "The alert rule is off: %s.", text);
	return ap_ctx_back(ctx, "/alerts");
}

int
ap_page_alert_rule_enable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, true);
}

int
ap_page_alert_rule_disable(struct ap_ctx *ctx)
{
	return set_enabled(ctx, false);
}

int
ap_page_alert_rule_delete(struct ap_ctx *ctx)
{
	struct ap_alert_rule r;
	char text[256];
	int st;
	enum ap_db_rc rc;

	if ((st = path_rule(ctx, &r)) != 0)
		return st;
	ap_alert_rule_text(&r, text, sizeof(text));
	if (ap_ctx_unconfirmed(ctx, "Delete the alert rule \"%s\"? Its past alerts stay in the history.", text))
		return 200;
	if ((rc = ap_alert_rule_delete(ctx->db, r.id)) != AP_DB_OK && rc != AP_DB_ENOTFOUND)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "alert.rule.delete", ap_arena_printf(ctx->arena, "%lld", (long long)r.id), "ok",
	    rule_json(ctx, &r), NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The alert rule was deleted: %s.", text);
	return ap_ctx_back(ctx, "/alerts");
}

/* ---------------------------------------------------------------- channels */

int
ap_page_alert_channel_create(struct ap_ctx *ctx)
{
	struct ap_alert_channel *c = ap_arena_calloc(ctx->arena, 1, sizeof(*c));
	struct ap_problem pb;
	enum ap_db_rc rc;

	if (ap_alert_channel_from_fields(ctx->fields, c, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	rc = ap_alert_channel_create(ctx->db, c, (int64_t)time(NULL), &pb);
	explicit_bzero(c->secret, sizeof(c->secret));
	if (rc == AP_DB_EINVAL || rc == AP_DB_ECONSTRAINT)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "alert.channel.add", c->name, "ok", NULL,
	    ap_ctx_json_text(ctx, ap_alert_channel_audit_json(c)));
	if (ctx->req->wants_json)
		return ap_ctx_answer(ctx, 201, ap_alert_channel_resource(c));
	ap_ctx_flash(ctx, "ok", "The channel %s was added. Send it a test message to check it.", c->name);
	return ap_ctx_back(ctx, "/alerts");
}

static int
path_channel(struct ap_ctx *ctx, struct ap_alert_channel *c)
{
	enum ap_db_rc rc = ap_alert_channel_get(ctx->db, ctx->fields[AP_ID].i, c);

	if (rc == AP_DB_ENOTFOUND)
		return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, "id", "no such channel");
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	return 0;
}

int
ap_page_alert_channel_test(struct ap_ctx *ctx)
{
	struct ap_alert_channel *c = ap_arena_calloc(ctx->arena, 1, sizeof(*c));
	char *subject = NULL, *body = NULL, *payload = NULL;
	int64_t now = (int64_t)time(NULL);
	int st;
	enum ap_db_rc rc;

	if ((st = path_channel(ctx, c)) != 0)
		return st;
	ap_notify_test_message(ctx->app->hostname, c, now, &subject, &body, &payload);
	rc = ap_alert_outbox_add(ctx->db, ctx->app->hostname, 0, c->id, "test", subject, body, payload, now);
	free(subject);
	free(body);
	free(payload);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* The sampler sends it; nudge it so it does not wait for its next round. */
	if (ctx->app->cfg->monitor_enabled)
		ap_sampler_wake(ctx->app->cfg->monitor_socket);
	ap_ctx_audit(ctx, "alert.channel.test", c->name, "ok", NULL, NULL);
	/* Queued, not sent: its outcome shows on the channel (last_test) once the sampler knows it. */
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "A test message to %s is on its way; reload this page in a few seconds to see whether it was delivered.",
	    c->name);
	return ap_ctx_back(ctx, "/alerts");
}

int
ap_page_alert_channel_delete(struct ap_ctx *ctx)
{
	struct ap_alert_channel *c = ap_arena_calloc(ctx->arena, 1, sizeof(*c));
	int st;
	enum ap_db_rc rc;

	if ((st = path_channel(ctx, c)) != 0)
		return st;
	if (ap_ctx_unconfirmed(ctx, "Delete the channel %s? Rules sent only to it go to every channel afterwards.",
	    c->name))
		return 200;
	if ((rc = ap_alert_channel_delete(ctx->db, c->id)) != AP_DB_OK && rc != AP_DB_ENOTFOUND)
		return ap_ctx_db_error(ctx, rc);
	ap_ctx_audit(ctx, "alert.channel.delete", c->name, "ok", NULL, NULL);
	if (ctx->req->wants_json)
		return 204;
	ap_ctx_flash(ctx, "ok", "The channel %s was deleted.", c->name);
	return ap_ctx_back(ctx, "/alerts");
}

/* ---------------------------------------------------------------- history */

struct json_object *
ap_alert_event_resource(const struct ap_alert_event *e)
{
	struct json_object *o = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(e->id));
	ap_model_add(o, "rule_id", e->rule_id ? json_object_new_int64(e->rule_id) : NULL);
	ap_model_str(o, "rule", e->rule_text);
	ap_model_str(o, "host", e->host);
	ap_model_opt(o, "subject", e->subject);
	ap_model_add(o, "value", json_object_new_double(e->value));
	ap_model_add(o, "peak", json_object_new_double(e->peak));
	ap_model_add(o, "started", ap_model_time(e->started_at));
	ap_model_add(o, "resolved", ap_model_time(e->resolved_at));
	ap_model_add(o, "notified", json_object_new_int(e->notified));
	ap_model_add(o, "failed", json_object_new_int(e->failed));
	return o;
}

struct hist {
	struct ap_ctx *ctx;
	struct json_object *a;
	int64_t last;
};

static bool
event_item(void *p, const struct ap_alert_event *e)
{
	struct hist *h = p;
	struct ap_ctx *ctx = h->ctx;
	struct event_view *v = ap_rows_add(h->a);

	v->id = e->id;
	v->rule_id = e->rule_id ? e->rule_id : AP_ROWS_NULL;
	v->rule = ap_rows_strdup(h->a, e->rule_text);
	v->host = ap_rows_strdup(h->a, e->host);
	v->subject = opt_str(h->a, e->subject);
	v->value = e->value;
	v->peak = e->peak;
	v->started = e->started_at;
	v->resolved = e->resolved_at;
	v->notified = e->notified;
	v->failed = e->failed;
	/* For the page only. */
	v->value_text = ap_arena_printf(ctx->arena, "%.1f", e->value);
	v->peak_text = ap_arena_printf(ctx->arena, "%.1f", e->peak);
	h->last = e->id;
	return true;
}

/* The history, newest first, a page at a time (the cursor is the last id shown). */
int
ap_page_alert_history(struct ap_ctx *ctx)
{
	struct hist h = { ctx, ap_rows_new(event_cols, sizeof(struct event_view)), 0 };
	struct ap_page pg;
	bool more = false;
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Alert history");
	ap_ctx_page(ctx, &pg);
	rc = ap_alert_events_page(ctx->db, pg.cursor, pg.limit, event_item, &h, &more);
	if (rc != AP_DB_OK) {
		json_object_put(h.a);
		return ap_ctx_db_error(ctx, rc);
	}
	ap_model_add(ctx->model, "has_events", json_object_new_boolean(ap_rows_count(h.a) > 0));
	ap_ctx_page_done(ctx, "/alerts/history", h.a, more, h.last);
	return 200;
}
