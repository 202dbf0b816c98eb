/*
 * alerts.c — alert rules and notification channels (GET /alerts and its
 * forms, permission alerts.write: admins), and the alert history (GET
 * /alerts/history). Every change goes to the audit log. Nothing is sent
 * from here: a channel's test is queued for the sampler, which delivers it
 * and notes the outcome on the channel.
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
	    .choices = ap_alert_metric_names },
	[RF_TARGET] = { .name = "target", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0,
	    .max = AP_METRICS_NAME_MAX, .check = check_target },
	[RF_THRESHOLD] = { .name = "threshold", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = 24, .check = check_number },
	[RF_DURATION] = { .name = "duration", .type = AP_FIELD_INT, .min = 0, .max = 10080 },
	[RF_CHANNEL] = { .name = "channel", .type = AP_FIELD_INT, .min = 1, .max = INT64_MAX },
	[RF__MAX] = AP_FIELD_END,
};

enum channel_field { CF_NAME, CF_KIND, CF_EMAIL, CF_URL, CF_SECRET, CF__MAX };
const struct ap_field ap_alert_channel_fields[CF__MAX + 1] = {
	[CF_NAME] = { .name = "name", .type = AP_FIELD_NAME, .flags = AP_FIELD_REQUIRED, .min = 1, .max = 64 },
	[CF_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = ap_alert_channel_kinds },
	[CF_EMAIL] = { .name = "email", .type = AP_FIELD_EMAIL },
	[CF_URL] = { .name = "url", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .min = 0, .max = 2048,
	    .check = check_url },
	[CF_SECRET] = { .name = "secret", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE | AP_FIELD_SECRET,
	    .min = 0, .max = 256 },
	[CF__MAX] = AP_FIELD_END,
};

enum history_field { HIF_PAGE, HIF__MAX };
const struct ap_field ap_alert_history_fields[HIF__MAX + 1] = {
	[HIF_PAGE] = { .name = "page", .type = AP_FIELD_INT, .min = 1, .max = 100000 },
	[HIF__MAX] = AP_FIELD_END,
};

static const char *const metric_labels[] = { N_("CPU above (%)"), N_("Memory above (%)"), N_("Swap above (%)"),
	N_("Load average above"), N_("Disk space above (%)"), N_("Disk inodes above (%)"),
	N_("Certificate expiring within (days)") };
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
	struct json_object *o = json_object_new_object(), *opt = json_object_new_object();

	ap_model_add(o, "id", json_object_new_int64(c->id));
	ap_model_str(o, "name", c->name);
	ap_model_str(o, "kind", ap_alert_channel_kinds[c->kind]);
	ap_model_str(o, "kind_label", ap_ctx_tr(ctx, kind_labels[c->kind]));
	/* A webhook URL may carry a token in its path: the host is enough to recognise it. */
	if (c->kind == AP_AC_WEBHOOK) {
		const char *h = strstr(c->target, "://");
		size_t n = h ? strcspn(h + 3, "/?#") : 0;

		ap_model_str(o, "target", h ? ap_arena_printf(ctx->arena, "%.*s/…", (int)(h + 3 - c->target + n), c->target)
					   : c->target);
	} else
		ap_model_str(o, "target", c->target);
	ap_model_add(o, "tested", ap_model_time(c->last_test_at));
	ap_model_add(o, "test_ok", json_object_new_boolean(c->last_test_ok == 1));
	ap_model_add(o, "test_failed", json_object_new_boolean(c->last_test_ok == 0));
	ap_model_str(o, "test_error", c->last_test_error);
	json_object_array_add(pg->channels, o);
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
	struct json_object *o = json_object_new_object();
	char text[256];

	ap_alert_rule_text(r, text, sizeof(text));
	ap_model_add(o, "id", json_object_new_int64(r->id));
	ap_model_str(o, "metric", ap_alert_metric_names[r->metric]);
	ap_model_str(o, "metric_label", ap_ctx_tr(ctx, metric_labels[r->metric]));
	ap_model_str(o, "target", r->target);
	ap_model_add(o, "threshold", json_object_new_double(r->threshold));
	ap_model_str(o, "threshold_text", ap_arena_printf(ctx->arena, "%g", r->threshold));
	ap_model_add(o, "duration", json_object_new_int64(r->duration / 60));
	ap_model_add(o, "channel", r->channel_id ? json_object_new_int64(r->channel_id) : NULL);
	ap_model_add(o, "enabled", json_object_new_boolean(r->enabled));
	ap_model_str(o, "text", text);
	json_object_array_add(pg->rules, o);
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
	struct page pg = { ctx, json_object_new_array(), json_object_new_array(), json_object_new_array(), NULL };
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
	ap_model_add(ctx->model, "has_rules", json_object_new_boolean(json_object_array_length(pg.rules) > 0));
	ap_model_add(ctx->model, "has_channels", json_object_new_boolean(json_object_array_length(pg.channels) > 0));
	return 200;
}

/* ---------------------------------------------------------------- rules */

static const char *
rule_json(struct ap_ctx *ctx, const struct ap_alert_rule *r)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "metric", ap_alert_metric_names[r->metric]);
	ap_model_str(o, "target", r->target);
	ap_model_add(o, "threshold", json_object_new_double(r->threshold));
	ap_model_add(o, "duration", json_object_new_int64(r->duration));
	ap_model_add(o, "channel", r->channel_id ? json_object_new_int64(r->channel_id) : NULL);
	ap_model_add(o, "enabled", json_object_new_boolean(r->enabled));
	return ap_ctx_json_text(ctx, o);
}

int
ap_page_alert_rule_create(struct ap_ctx *ctx)
{
	struct ap_alert_rule r;
	struct ap_problem pb;
	enum ap_db_rc rc;
	char text[256];

	memset(&r, 0, sizeof(r));
	r.metric = (enum ap_alert_metric)ctx->fields[RF_METRIC].i;
	if (ctx->fields[RF_TARGET].present)
		snprintf(r.target, sizeof(r.target), "%s", ctx->fields[RF_TARGET].s);
	r.threshold = strtod(ctx->fields[RF_THRESHOLD].s, NULL);
	r.duration = ctx->fields[RF_DURATION].present ? ctx->fields[RF_DURATION].i * 60 : 0;
	r.channel_id = ctx->fields[RF_CHANNEL].present ? ctx->fields[RF_CHANNEL].i : 0;
	r.enabled = true;
	rc = ap_alert_rule_create(ctx->db, &r, (int64_t)time(NULL), &pb);
	if (rc == AP_DB_EINVAL)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_alert_rule_text(&r, text, sizeof(text));
	ap_ctx_audit(ctx, "alert.rule.add", ap_arena_printf(ctx->arena, "%lld", (long long)r.id), "ok", NULL,
	    rule_json(ctx, &r));
	if (ctx->req->wants_json) {
		struct json_object *o = json_object_new_object();

		ap_model_add(o, "id", json_object_new_int64(r.id));
		ap_model_str(o, "text", text);
		ap_model_add(ctx->model, "rule", o);
		return 201;
	}
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
rule_done(struct ap_ctx *ctx, const struct ap_alert_rule *r)
{
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "id", json_object_new_int64(r->id));
		return 200;
	}
	return ap_ctx_back(ctx, "/alerts");
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
	if (on)
		ap_ctx_flash(ctx, "ok", "The alert rule is on again: %s.", text);
	else
		ap_ctx_flash(ctx, "ok", "The alert rule is off: %s.", text);
	return rule_done(ctx, &r);
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
	ap_ctx_flash(ctx, "ok", "The alert rule was deleted: %s.", text);
	return rule_done(ctx, &r);
}

/* ---------------------------------------------------------------- channels */

int
ap_page_alert_channel_create(struct ap_ctx *ctx)
{
	struct ap_alert_channel *c = ap_arena_calloc(ctx->arena, 1, sizeof(*c));
	struct json_object *after;
	struct ap_problem pb;
	enum ap_db_rc rc;

	snprintf(c->name, sizeof(c->name), "%s", ctx->fields[CF_NAME].s);
	c->kind = (enum ap_alert_channel_kind)ctx->fields[CF_KIND].i;
	c->enabled = true;
	if (c->kind == AP_AC_EMAIL) {
		if (!ctx->fields[CF_EMAIL].present)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "email", "an e-mail channel needs an address");
		snprintf(c->target, sizeof(c->target), "%s", ctx->fields[CF_EMAIL].s);
	} else {
		if (!ctx->fields[CF_URL].present || ctx->fields[CF_URL].len == 0)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "url", "a webhook needs its URL");
		if (!ctx->fields[CF_SECRET].present || ctx->fields[CF_SECRET].len < 16)
			return ap_ctx_fail(ctx, AP_PB_INVALID, "secret",
			    "a webhook needs a shared secret of at least 16 characters (it signs every call)");
		snprintf(c->target, sizeof(c->target), "%s", ctx->fields[CF_URL].s);
		snprintf(c->secret, sizeof(c->secret), "%s", ctx->fields[CF_SECRET].s);
	}
	rc = ap_alert_channel_create(ctx->db, c, (int64_t)time(NULL), &pb);
	explicit_bzero(c->secret, sizeof(c->secret));
	if (rc == AP_DB_EINVAL || rc == AP_DB_ECONSTRAINT)
		return ap_ctx_problem(ctx, &pb);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	after = json_object_new_object();
	ap_model_str(after, "name", c->name);
	ap_model_str(after, "kind", ap_alert_channel_kinds[c->kind]);
	ap_ctx_audit(ctx, "alert.channel.add", c->name, "ok", NULL, ap_ctx_json_text(ctx, after));
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "id", json_object_new_int64(c->id));
		return 201;
	}
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
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "queued", json_object_new_boolean(true));
		return 202;
	}
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
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "deleted", json_object_new_int64(c->id));
		return 200;
	}
	ap_ctx_flash(ctx, "ok", "The channel %s was deleted.", c->name);
	return ap_ctx_back(ctx, "/alerts");
}

/* ---------------------------------------------------------------- history */

#define HISTORY_PAGE 50

struct hist {
	struct ap_ctx *ctx;
	struct json_object *a;
	int n;
};

static bool
event_item(void *p, const struct ap_alert_event *e)
{
	struct hist *h = p;
	struct ap_ctx *ctx = h->ctx;
	struct json_object *o = json_object_new_object();

	if (++h->n > HISTORY_PAGE)
		return false; /* the one after the page: there is a next page */
	ap_model_add(o, "id", json_object_new_int64(e->id));
	ap_model_str(o, "rule", e->rule_text);
	ap_model_str(o, "host", e->host);
	ap_model_str(o, "subject", e->subject);
	ap_model_str(o, "value", ap_arena_printf(ctx->arena, "%.1f", e->value));
	ap_model_str(o, "peak", ap_arena_printf(ctx->arena, "%.1f", e->peak));
	ap_model_add(o, "started", ap_model_time(e->started_at));
	ap_model_add(o, "resolved", ap_model_time(e->resolved_at));
	ap_model_add(o, "firing", json_object_new_boolean(e->resolved_at == 0));
	ap_model_add(o, "notified", json_object_new_int(e->notified));
	ap_model_add(o, "failed", json_object_new_int(e->failed));
	json_object_array_add(h->a, o);
	return true;
}

int
ap_page_alert_history(struct ap_ctx *ctx)
{
	int64_t page = ctx->fields[HIF_PAGE].present ? ctx->fields[HIF_PAGE].i : 1;
	struct hist h = { ctx, json_object_new_array(), 0 };
	enum ap_db_rc rc;

	ctx->title = ap_ctx_tr(ctx, "Alert history");
	ap_model_add(ctx->model, "events", h.a);
	rc = ap_alert_events_each(ctx->db, HISTORY_PAGE + 1, (page - 1) * HISTORY_PAGE, event_item, &h);
	if (rc != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "has_events", json_object_new_boolean(h.n > 0));
	ap_model_add(ctx->model, "page", json_object_new_int64(page));
	ap_model_add(ctx->model, "prev", page > 1 ? json_object_new_int64(page - 1) : NULL);
	ap_model_add(ctx->model, "next", h.n > HISTORY_PAGE ? json_object_new_int64(page + 1) : NULL);
	return 200;
}
