/*
 * notify.h — delivering the alert outbox (src/sampler/notify.c): e-mail
 * through the configured SMTP server (libcurl; STARTTLS required for
 * smtp:// unless monitor.smtp_starttls is false; the login from
 * monitor.smtp_credentials_file) and webhooks (an HTTP POST of the JSON
 * payload, signed: X-Aapanel-Signature: sha256=HMAC-SHA256(secret,
 * timestamp "." body) with the timestamp in X-Aapanel-Timestamp). Only the
 * sampler sends; workers queue (a channel's test).
 */
#ifndef AAPANEL_NOTIFY_H
#define AAPANEL_NOTIFY_H

#include "aapanel/config.h"
#include "aapanel/metrics.h"

/* Send one message to one channel now. False with the reason in err. */
bool ap_notify_send(const struct ap_config *cfg, const struct ap_alert_channel *ch, const char *subject,
    const char *body, const char *payload, char *err, size_t errlen);

/* Deliver every message of host's outbox that is due; *sent and *failed (may be NULL) count them. */
enum ap_db_rc ap_notify_deliver(const struct ap_config *cfg, struct ap_db *db, const char *host, int64_t now,
    int *sent, int *failed);

/* The test message of a channel (all three owned, free()). */
void ap_notify_test_message(const char *host, const struct ap_alert_channel *ch, int64_t now, char **subject,
    char **body, char **payload);

#endif
