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

struct ap_alerts *ap_alerts_new(const char *host);
void ap_alerts_free(struct ap_alerts *a);

/*
 * Evaluate every enabled rule against reading s at now (the first call
 * first picks up the episodes of this host still open). *fired and
 * *resolved (may be NULL) get how many episodes started and ended.
 */
enum ap_db_rc ap_alerts_eval(struct ap_alerts *a, struct ap_db *db, const struct ap_sys *s, int64_t now,
    int *fired, int *resolved);

/* "CPU above 90 % for 5 min" — how the history and the messages name a rule (English). */
void ap_alert_rule_text(const struct ap_alert_rule *r, char *out, size_t outlen);

#endif
