/*
 * alerts.h — alert rules evaluated against each reading (src/sampler/alerts.c),
 * in the sampler's store thread. A rule's condition (a value above its
 * threshold; for a certificate, days left below it) must hold for the
 * rule's duration before the episode starts: then one notification per
 * channel is queued (the outbox, metrics.h) and nothing more while it
 * lasts. It recovers when the condition has not held for the shorter of
 * the duration and a minute: one recovery notification. Episodes are kept
 * in the database, so a restarted sampler neither forgets one nor sends it
 * twice.
 */
#ifndef AAPANEL_ALERTS_H
#define AAPANEL_ALERTS_H

#include "aapanel/db.h"
#include "aapanel/metrics.h"
#include "aapanel/sysstat.h"

struct ap_alerts;
struct ap_sitewatch; /* src/sampler/sitewatch.h */

/* A site's latest answer to the site watch's probe of its front page. */
struct ap_site_state {
	char domain[254];
	int status;          /* HTTP status, 0 = no answer */
	uint64_t elapsed_ms; /* how long it took */
	char why[128];       /* "" when it answered below 500; else "HTTP 502", "timed out", ... */
	int64_t at;          /* when (seconds) */
};

struct ap_alerts *ap_alerts_new(const char *host);
void ap_alerts_free(struct ap_alerts *a);
/* The language of the messages (catalogs t, borrowed; NULL: English). */
struct ap_i18n;
void ap_alerts_set_language(struct ap_alerts *a, const struct ap_i18n *t, const char *lang);
/* Where site_down rules get their answers (none: such rules judge nothing). */
void ap_alerts_set_sitewatch(struct ap_alerts *a, struct ap_sitewatch *w);
/* backups.alert_margin: a backup_age rule without a threshold (0) fires when a scheduled
 * site's or database's last backup is older than its schedule's interval plus this (s). */
void ap_alerts_set_backup_margin(struct ap_alerts *a, int64_t seconds);

/*
 * Evaluate every enabled rule against reading s at now (the first call
 * first picks up the episodes of this host still open). *fired and
 * *resolved (may be NULL) get how many episodes started and ended.
 */
enum ap_db_rc ap_alerts_eval(struct ap_alerts *a, struct ap_db *db, const struct ap_sys *s, int64_t now,
    int *fired, int *resolved);

/* "CPU above 90 % for 5 min" — how the history and the messages name a rule (English). */
void ap_alert_rule_text(const struct ap_alert_rule *r, char *out, size_t outlen);
/* The same words in lang from the catalogs t (the page's language; English without one). */
void ap_alert_rule_text_lang(const struct ap_i18n *t, const char *lang, const struct ap_alert_rule *r, char *out,
    size_t outlen);

#endif
