/*
 * alerts.c — the rules against each reading (alerts.h). One state per
 * (rule, subject): since when the condition holds (or has stopped holding)
 * and the open episode, if any.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "aapanel/alerts.h"
#include "aapanel/i18n.h"
#include "aapanel/log.h"
#include "sitewatch.h"

/* A site's answer older than this is not judged (the watch is behind or stopped). */
#define SITE_STALE_S 300

struct state {
	int64_t rule_id;
	char subject[AP_METRICS_NAME_MAX + 1];
	int64_t over_since, under_since; /* 0 = not */
	bool firing;
	int64_t event_id, started;
	double peak;
	bool seen;
};

struct words {
	const struct ap_i18n *t;
	const char *lang;
};

struct ap_alerts {
	char *host;
	struct state *v;
	size_t n, cap;
	bool resumed;
	struct ap_sitewatch *sites;
	struct words words; /* the messages' language */
	int64_t backup_margin; /* backups.alert_margin, seconds */
};

void
ap_alerts_set_backup_margin(struct ap_alerts *a, int64_t seconds)
{
	a->backup_margin = seconds;
}

void
ap_alerts_set_language(struct ap_alerts *a, const struct ap_i18n *t, const char *lang)
{
	a->words.t = t;
	a->words.lang = lang;
}

void
ap_alerts_set_sitewatch(struct ap_alerts *a, struct ap_sitewatch *w)
{
	a->sites = w;
}

struct ap_alerts *
ap_alerts_new(const char *host)
{
	struct ap_alerts *a = ap_xcalloc(1, sizeof(*a));

	a->host = ap_xstrdup(host);
	return a;
}

void
ap_alerts_free(struct ap_alerts *a)
{
	if (a == NULL)
		return;
	free(a->v);
	free(a->host);
	free(a);
}

/*
 * The words of the rules and messages: whole sentences with {name}
 * placeholders (ap_i18n_fill), translated in the language of
 * monitor.language (else panel.default_language) from po/, English without
 * a catalog. A metric's name with and without its subject (a mount point).
 */
static const char *const labels[AP_AM__MAX][2] = {
	[AP_AM_CPU] = { N_("CPU"), N_("CPU") },
	[AP_AM_MEMORY] = { N_("Memory"), N_("Memory") },
	[AP_AM_SWAP] = { N_("Swap"), N_("Swap") },
	[AP_AM_LOAD] = { N_("Load (1 min)"), N_("Load (1 min)") },
	[AP_AM_DISK_SPACE] = { N_("Disk space"), N_("Disk space of {target}") },
	[AP_AM_DISK_INODES] = { N_("Disk inodes"), N_("Disk inodes of {target}") },
	[AP_AM_CERT_EXPIRY] = { N_("Certificate"), N_("Certificate of {target}") },
	[AP_AM_SITE_DOWN] = { N_("Site"), N_("Site {target}") },
	[AP_AM_BACKUP_AGE] = { N_("Last backup"), N_("Last backup of {target}") },
};

static const char *
tr(const struct words *w, const char *msgid)
{
	return ap_i18n_gettext(w->t, w->lang, msgid);
}

/* tpl (translated) filled with kv into out (NUL-terminated, truncated to n). */
static void
fill(const struct words *w, const char *tpl, const char *const *kv, char *out, size_t n)
{
	struct ap_buf b = { 0 };

	ap_i18n_fill(&b, tr(w, tpl), kv);
	snprintf(out, n, "%s", ap_buf_cstr(&b));
	ap_buf_free(&b);
}

static const char *
unit_of(enum ap_alert_metric m)
{
	return m == AP_AM_LOAD || m == AP_AM_SITE_DOWN ? "" : m == AP_AM_CERT_EXPIRY ? " days"
	    : m == AP_AM_BACKUP_AGE ? " h" : " %";
}

/* The plural pair sing/plural for n (translated) filled with kv into out. */
static void
fill_n(const struct words *w, const char *sing, const char *plural, long long n, const char *const *kv,
    char *out, size_t outlen)
{
	struct ap_buf b = { 0 };

	ap_i18n_fill(&b, ap_i18n_ngettext(w->t, w->lang, sing, plural, n), kv);
	snprintf(out, outlen, "%s", ap_buf_cstr(&b));
	ap_buf_free(&b);
}

static void
duration_text(const struct words *w, int64_t s, char *out, size_t n)
{
	char v[24];
	const char *kv[] = { "n", v, NULL };
	long long k = (long long)(s % 3600 == 0 ? s / 3600 : s % 60 == 0 ? s / 60 : s);

	if (s == 0) {
		snprintf(out, n, "%s", tr(w, N_("at once")));
		return;
	}
	snprintf(v, sizeof(v), "%lld", k);
	if (s % 3600 == 0)
		fill_n(w, "for {n} h", "for {n} h", k, kv, out, n);
	else if (s % 60 == 0)
		fill_n(w, "for {n} min", "for {n} min", k, kv, out, n);
	else
		fill_n(w, "for {n} s", "for {n} s", k, kv, out, n);
}

/* The metric's name for subject ("" = the host, or each of them). */
static void
what_text(const struct words *w, enum ap_alert_metric m, const char *subject, char *out, size_t n)
{
	const char *kv[] = { "target", subject, NULL };

	fill(w, labels[m][subject[0] != '\0'], kv, out, n);
}

static void
rule_text(const struct words *w, const struct ap_alert_rule *r, char *out, size_t outlen)
{
	char d[64], what[256], th[32];
	const char *kv[] = { "what", what, "threshold", th, "duration", d, "target", r->target, NULL };
	bool one = r->target[0] != '\0';

	duration_text(w, r->duration, d, sizeof(d));
	what_text(w, r->metric, r->target, what, sizeof(what));
	if (r->metric == AP_AM_CERT_EXPIRY) {
		snprintf(th, sizeof(th), "%g", r->threshold);
		fill(w, one ? N_("Certificate of {target} expiring in under {threshold} days")
			    : N_("Certificates expiring in under {threshold} days"), kv, out, outlen);
	} else if (r->metric == AP_AM_BACKUP_AGE) {
		snprintf(th, sizeof(th), "%g", r->threshold);
		if (r->threshold > 0)
			fill(w, one ? N_("Last successful backup of {target} older than {threshold} h")
				    : N_("Last successful backup of any site or database older than {threshold} h"), kv, out, outlen);
		else
			fill(w, one ? N_("Last successful backup of {target} older than its schedule allows")
				    : N_("Last successful backup of a scheduled site or database older than its schedule allows"),
			    kv, out, outlen);
	} else if (r->metric == AP_AM_SITE_DOWN) {
		snprintf(th, sizeof(th), "%g", r->threshold);
		fill(w, one ? N_("Site {target} not answering within {threshold} s {duration}")
			    : N_("Sites not answering within {threshold} s {duration}"), kv, out, outlen);
	} else {
		snprintf(th, sizeof(th), "%g%s", r->threshold, unit_of(r->metric));
		fill(w, N_("{what} above {threshold} {duration}"), kv, out, outlen);
	}
}

void
ap_alert_rule_text_lang(const struct ap_i18n *t, const char *lang, const struct ap_alert_rule *r, char *out,
    size_t outlen)
{
	const struct words w = { t, lang };

	rule_text(&w, r, out, outlen);
}

void
ap_alert_rule_text(const struct ap_alert_rule *r, char *out, size_t outlen)
{
	const struct words en = { NULL, NULL };

	rule_text(&en, r, out, outlen);
}

static struct state *
state_of(struct ap_alerts *a, int64_t rule_id, const char *subject)
{
	struct state *s;

	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].rule_id == rule_id && strcmp(a->v[i].subject, subject) == 0)
			return &a->v[i];
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = ap_xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	s = &a->v[a->n++];
	memset(s, 0, sizeof(*s));
	s->rule_id = rule_id;
	snprintf(s->subject, sizeof(s->subject), "%s", subject);
	return s;
}

static bool
resume_one(void *p, const struct ap_alert_event *e)
{
	struct ap_alerts *a = p;
	struct state *s;

	if (e->rule_id == 0)
		return true;
	s = state_of(a, e->rule_id, e->subject);
	s->firing = true;
	s->event_id = e->id;
	s->started = e->started_at;
	s->over_since = e->started_at;
	s->peak = e->peak;
	return true;
}

/* ---------------------------------------------------------------- messages */

static void
when(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

struct episode {
	const struct ap_alert_rule *rule;
	const char *subject;
	double value, peak;
	int64_t started, resolved;
	const char *kind;   /* firing | resolved */
	const char *detail; /* site_down: why it does not answer ("" when it does) */
};

static void
compose(struct ap_alerts *a, const struct episode *e, char *subject, size_t sn, struct ap_buf *body,
    char **payload)
{
	const struct words *w = &a->words;
	const struct ap_alert_rule *r = e->rule;
	const char *unit = unit_of(r->metric);
	bool firing = strcmp(e->kind, "firing") == 0;
	char rt[256], t1[40], t2[40], what[256], th[32], val[32], peak[32], days[24];
	const char *kv[] = { "host", a->host, "what", what, "threshold", th, "value", val, "domain", e->subject,
		"days", days, "hours", days, "reason", e->detail && e->detail[0] ? e->detail : "?", NULL };
	struct json_object *o = json_object_new_object(), *ro = json_object_new_object();

	rule_text(w, r, rt, sizeof(rt));
	when(e->started, t1, sizeof(t1));
	when(e->resolved, t2, sizeof(t2));
	what_text(w, r->metric, e->subject, what, sizeof(what));
	snprintf(th, sizeof(th), "%g%s", r->threshold, unit);
	snprintf(val, sizeof(val), "%.1f%s", e->value, unit);
	snprintf(peak, sizeof(peak), "%.1f%s", e->peak, unit);
	snprintf(days, sizeof(days), "%.0f", e->value);
	if (r->metric == AP_AM_SITE_DOWN)
		fill(w, firing ? N_("[aaPanel {host}] Site {domain} is not answering: {reason}")
			       : N_("[aaPanel {host}] Recovered: site {domain} answers again"), kv, subject, sn);
	else if (r->metric == AP_AM_CERT_EXPIRY && firing)
		fill_n(w, "[aaPanel {host}] Certificate of {domain} expires in {days} day",
		    "[aaPanel {host}] Certificate of {domain} expires in {days} days", strtoll(days, NULL, 10), kv, subject, sn);
	else if (r->metric == AP_AM_CERT_EXPIRY)
		fill_n(w, "[aaPanel {host}] Recovered: certificate of {domain} valid for {days} day",
		    "[aaPanel {host}] Recovered: certificate of {domain} valid for {days} days", strtoll(days, NULL, 10), kv,
		    subject, sn);
	else if (r->metric == AP_AM_BACKUP_AGE)
		fill(w, firing ? N_("[aaPanel {host}] Backup of {domain} is stale: the last successful one is {hours} h old")
			       : N_("[aaPanel {host}] Recovered: backup of {domain} is {hours} h old"),
		    kv, subject, sn);
	else
		fill(w, firing ? N_("[aaPanel {host}] {what} above {threshold}: {value}")
			       : N_("[aaPanel {host}] Recovered: {what} at {value} (below {threshold})"),
		    kv, subject, sn);
	ap_buf_printf(body, "%s\n\n%s %s\n%s %s\n", subject, tr(w, N_("Host:")), a->host, tr(w, N_("Rule:")), rt);
	if (e->subject[0])
		ap_buf_printf(body, "%s %s\n", tr(w, N_("Subject:")), e->subject);
	if (r->metric == AP_AM_SITE_DOWN) {
		if (firing && e->detail && e->detail[0])
			ap_buf_printf(body, "%s %s\n", tr(w, N_("Reason:")), e->detail);
	} else
		ap_buf_printf(body, "%s %s\n", tr(w, N_("Value:")), val);
	ap_buf_printf(body, "%s %s\n", tr(w, N_("Started:")), t1);
	if (!firing) {
		if (r->metric != AP_AM_SITE_DOWN)
			ap_buf_printf(body, "%s %s\n", tr(w, N_("Worst:")), peak);
		ap_buf_printf(body, "%s %s\n", tr(w, N_("Recovered:")), t2);
	}
	ap_buf_printf(body, "\n%s\n",
	    tr(w, N_("Sent by the aaPanel sampler. The alert history is on the panel's Alerts page.")));
	json_object_object_add(o, "event", json_object_new_string(e->kind));
	json_object_object_add(o, "host", json_object_new_string(a->host));
	json_object_object_add(o, "language", json_object_new_string(w->lang ? w->lang : "en"));
	json_object_object_add(ro, "id", json_object_new_int64(r->id));
	json_object_object_add(ro, "metric", json_object_new_string(ap_alert_metric_names[r->metric]));
	json_object_object_add(ro, "target", json_object_new_string(r->target));
	json_object_object_add(ro, "threshold", json_object_new_double(r->threshold));
	json_object_object_add(ro, "duration", json_object_new_int64(r->duration));
	json_object_object_add(ro, "text", json_object_new_string(rt));
	json_object_object_add(o, "rule", ro);
	json_object_object_add(o, "subject", json_object_new_string(e->subject));
	json_object_object_add(o, "value", json_object_new_double(round(e->value * 100) / 100));
	json_object_object_add(o, "peak", json_object_new_double(round(e->peak * 100) / 100));
	json_object_object_add(o, "started_at", json_object_new_int64(e->started));
	json_object_object_add(o, "resolved_at", firing ? NULL : json_object_new_int64(e->resolved));
	if (r->metric == AP_AM_SITE_DOWN)
		json_object_object_add(o, "reason", json_object_new_string(e->detail ? e->detail : ""));
	json_object_object_add(o, "message", json_object_new_string(subject));
	*payload = ap_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

struct queue_ctx {
	struct ap_db *db;
	const char *host;
	int64_t event_id, channel_id, now;
	const char *kind, *subject, *body, *payload;
	enum ap_db_rc rc;
};

static bool
queue_one(void *p, const struct ap_alert_channel *c)
{
	struct queue_ctx *q = p;

	if (!c->enabled || (q->channel_id != 0 && c->id != q->channel_id))
		return true;
	q->rc = ap_alert_outbox_add(q->db, q->host, q->event_id, c->id, q->kind, q->subject, q->body, q->payload,
	    q->now);
	return q->rc == AP_DB_OK;
}

static enum ap_db_rc
notify(struct ap_alerts *a, struct ap_db *db, const struct episode *e, int64_t event_id, int64_t now)
{
	char subject[256];
	struct ap_buf body = { 0 };
	char *payload = NULL;
	struct queue_ctx q;
	enum ap_db_rc rc;

	compose(a, e, subject, sizeof(subject), &body, &payload);
	memset(&q, 0, sizeof(q));
	q.db = db;
	q.host = a->host;
	q.event_id = event_id;
	q.channel_id = e->rule->channel_id;
	q.now = now;
	q.kind = e->kind;
	q.subject = subject;
	q.body = ap_buf_cstr(&body);
	q.payload = payload;
	rc = ap_alert_channels_each(db, queue_one, &q);
	if (rc == AP_DB_OK)
		rc = q.rc;
	AP_INFO("alert %s: %s", e->kind, subject);
	ap_buf_free(&body);
	free(payload);
	return rc;
}

/* ---------------------------------------------------------------- evaluation */

struct eval {
	struct ap_alerts *a;
	struct ap_db *db;
	const struct ap_sys *s;
	int64_t now;
	int fired, resolved;
	enum ap_db_rc rc;
	const struct ap_alert_rule *rule; /* for the certificate and site callbacks */
	const char *detail;               /* the site's reason, for judge's messages */
};

/* One value of one rule's subject. */
static void
judge(struct eval *ev, const struct ap_alert_rule *r, const char *subject, double v)
{
	struct state *st = state_of(ev->a, r->id, subject);
	bool cert = r->metric == AP_AM_CERT_EXPIRY;
	bool cond = r->metric == AP_AM_SITE_DOWN ? v >= 1 : cert ? v < r->threshold : v > r->threshold;
	bool worse = cert ? v < st->peak : v > st->peak;
	int64_t recover = r->duration < 60 ? r->duration : 60;

	st->seen = true;
	if (ev->rc != AP_DB_OK || isnan(v))
		return;
	if (cond) {
		st->under_since = 0;
		if (st->over_since == 0)
			st->over_since = ev->now;
		if (st->firing) {
			if (worse) {
				st->peak = v;
				ev->rc = ap_alert_event_peak(ev->db, st->event_id, v);
			}
			return;
		}
		if (ev->now - st->over_since >= r->duration) {
			struct ap_alert_event e;
			struct episode ep = { r, subject, v, v, ev->now, 0, "firing", ev->detail };

			memset(&e, 0, sizeof(e));
			e.rule_id = r->id;
			snprintf(e.host, sizeof(e.host), "%s", ev->a->host);
			snprintf(e.subject, sizeof(e.subject), "%s", subject);
			ap_alert_rule_text(r, e.rule_text, sizeof(e.rule_text));
			e.value = e.peak = v;
			e.started_at = ev->now;
			if ((ev->rc = ap_alert_event_open(ev->db, &e, &st->event_id)) != AP_DB_OK)
				return;
			st->firing = true;
			st->started = ev->now;
			st->peak = v;
			ev->fired++;
			ev->rc = notify(ev->a, ev->db, &ep, st->event_id, ev->now);
		}
		return;
	}
	st->over_since = 0;
	if (!st->firing)
		return;
	if (st->under_since == 0)
		st->under_since = ev->now;
	if (ev->now - st->under_since >= recover) {
		struct episode ep = { r, subject, v, st->peak, st->started, ev->now, "resolved", NULL };

		if ((ev->rc = ap_alert_event_resolve(ev->db, st->event_id, ev->now)) != AP_DB_OK)
			return;
		st->firing = false;
		st->under_since = 0;
		ev->resolved++;
		ev->rc = notify(ev->a, ev->db, &ep, st->event_id, ev->now);
	}
}

static bool
cert_one(void *p, const char *domain, int64_t not_after)
{
	struct eval *ev = p;

	if (ev->rule->target[0] == '\0' || strcmp(ev->rule->target, domain) == 0)
		judge(ev, ev->rule, domain, (double)(not_after - ev->now) / 86400.0);
	return ev->rc == AP_DB_OK;
}

/* One enabled site under a site_down rule: asked of the watch, judged on its latest answer. */
static bool
site_one(void *p, const char *domain)
{
	struct eval *ev = p;
	const struct ap_alert_rule *r = ev->rule;
	struct ap_site_state st;
	bool down;

	if (r->target[0] != '\0' && strcmp(r->target, domain) != 0)
		return true;
	ap_sitewatch_want(ev->a->sites, domain, r->threshold);
	if (!ap_sitewatch_get(ev->a->sites, domain, &st) || ev->now - st.at > SITE_STALE_S) {
		judge(ev, r, domain, NAN); /* kept as it is until an answer comes */
		return ev->rc == AP_DB_OK;
	}
	down = st.why[0] != '\0' || (double)st.elapsed_ms > r->threshold * 1000.0;
	if (down && st.why[0] == '\0')
		snprintf(st.why, sizeof(st.why), "answered in %.1f s", (double)st.elapsed_ms / 1000.0);
	ev->detail = st.why;
	judge(ev, r, domain, down ? 1 : 0);
	ev->detail = NULL;
	return ev->rc == AP_DB_OK;
}

static bool
backup_one(void *p, const char *target, int64_t last_ok)
{
	struct eval *ev = p;

	if (ev->rule->target[0] == '\0' || strcmp(ev->rule->target, target) == 0)
		judge(ev, ev->rule, target, (double)(ev->now - last_ok) / 3600.0);
	return ev->rc == AP_DB_OK;
}

/* A backup_age rule without a threshold: the target's schedule plus backups.alert_margin. */
static bool
backup_sched_one(void *p, const char *target, int64_t interval, int64_t last_ok)
{
	struct eval *ev = p;
	struct ap_alert_rule r = *ev->rule;

	if (ev->rule->target[0] != '\0' && strcmp(ev->rule->target, target) != 0)
		return true;
	r.threshold = (double)(interval + ev->a->backup_margin) / 3600.0;
	judge(ev, &r, target, (double)(ev->now - last_ok) / 3600.0);
	return ev->rc == AP_DB_OK;
}

static bool
rule_one(void *p, const struct ap_alert_rule *r)
{
	struct eval *ev = p;
	const struct ap_sys *s = ev->s;

	if (!r->enabled)
		return true;
	switch (r->metric) {
	case AP_AM_CPU:
		if (s->rates)
			judge(ev, r, "", s->cpu.total);
		break;
	case AP_AM_MEMORY:
		judge(ev, r, "", ap_sys_pct((double)s->mem_used, (double)s->mem.total));
		break;
	case AP_AM_SWAP:
		judge(ev, r, "", ap_sys_pct((double)s->swap_used, (double)s->mem.swap_total));
		break;
	case AP_AM_LOAD:
		judge(ev, r, "", s->load[0]);
		break;
	case AP_AM_DISK_SPACE:
	case AP_AM_DISK_INODES:
		for (int i = 0; i < s->nfs; i++) {
			const struct ap_sys_fs *f = &s->fs[i];

			if (r->target[0] && strcmp(r->target, f->mount) != 0)
				continue;
			if (r->metric == AP_AM_DISK_SPACE)
				judge(ev, r, f->mount, ap_sys_pct((double)f->used, (double)(f->used + f->avail)));
			else if (f->itotal > 0)
				judge(ev, r, f->mount, ap_sys_pct((double)f->iused, (double)f->itotal));
		}
		break;
	case AP_AM_CERT_EXPIRY: {
		enum ap_db_rc rc;

		ev->rule = r;
		rc = ap_alert_certs_each(ev->db, cert_one, ev);
		if (ev->rc == AP_DB_OK)
			ev->rc = rc;
		break;
	}
	case AP_AM_SITE_DOWN: {
		enum ap_db_rc rc;

		if (ev->a->sites == NULL)
			break;
		ev->rule = r;
		rc = ap_alert_sites_each(ev->db, site_one, ev);
		if (ev->rc == AP_DB_OK)
			ev->rc = rc;
		break;
	}
	case AP_AM_BACKUP_AGE: {
		enum ap_db_rc rc;

		ev->rule = r;
		rc = r->threshold > 0 ? ap_alert_backups_each(ev->db, backup_one, ev)
		    : ap_alert_backup_schedules_each(ev->db, ev->now, backup_sched_one, ev);
		if (ev->rc == AP_DB_OK)
			ev->rc = rc;
		break;
	}
	default:
		break;
	}
	return ev->rc == AP_DB_OK;
}

enum ap_db_rc
ap_alerts_eval(struct ap_alerts *a, struct ap_db *db, const struct ap_sys *s, int64_t now, int *fired,
    int *resolved)
{
	struct eval ev;
	enum ap_db_rc rc;
	size_t k = 0;

	if (fired)
		*fired = 0;
	if (resolved)
		*resolved = 0;
	if (!a->resumed) {
		if ((rc = ap_alert_events_open(db, a->host, resume_one, a)) != AP_DB_OK)
			return rc;
		a->resumed = true;
	}
	memset(&ev, 0, sizeof(ev));
	ev.a = a;
	ev.db = db;
	ev.s = s;
	ev.now = now;
	for (size_t i = 0; i < a->n; i++)
		a->v[i].seen = false;
	rc = ap_alert_rules_each(db, rule_one, &ev);
	ap_sitewatch_round(a->sites);
	if (rc == AP_DB_OK)
		rc = ev.rc;
	if (rc != AP_DB_OK)
		return rc;
	/* A rule deleted or disabled, a filesystem unmounted: its episode ends without a message. */
	for (size_t i = 0; i < a->n; i++) {
		struct state *st = &a->v[i];

		if (!st->seen && st->firing && (rc = ap_alert_event_resolve(db, st->event_id, now)) != AP_DB_OK)
			return rc;
		if (st->seen)
			a->v[k++] = *st;
	}
	a->n = k;
	if (fired)
		*fired = ev.fired;
	if (resolved)
		*resolved = ev.resolved;
	return AP_DB_OK;
}
