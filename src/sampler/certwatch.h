/*
 * certwatch.h — the sampler's certificate watch (private to src/sampler/):
 * a thread of its own, with its own database connection and helper client,
 * that settles the certificates' pending jobs every 2 s (their end audited
 * once even when no one looks at them) and every certs.watch_interval
 * seconds reads back what certbot's own schedule did (ap_cert_sync).
 */
#ifndef AAPANEL_SAMPLER_CERTWATCH_H
#define AAPANEL_SAMPLER_CERTWATCH_H

#include "aapanel/config.h"

struct ap_certwatch;

/* Start the thread; NULL when it cannot start (logged). */
struct ap_certwatch *ap_certwatch_start(const struct ap_config *cfg);
/* Stop it and free everything. NULL is a no-op. */
void ap_certwatch_stop(struct ap_certwatch *w);

#endif
