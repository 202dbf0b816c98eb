/*
 * store.h — the sampler's second thread (private to src/sampler/): it
 * takes each reading from the event loop and does everything that may
 * wait on the database or the network — the history, its per-minute
 * averages and pruning, the alert rules, the notifications — so that the
 * event loop, which serves the live stream, never waits.
 */
#ifndef AAPANEL_SAMPLER_STORE_H
#define AAPANEL_SAMPLER_STORE_H

#include "aapanel/config.h"
#include "aapanel/sysstat.h"

struct ap_store;

/* Start the thread (its own database connection, opened when first needed). NULL when it cannot start. */
struct ap_store *ap_store_start(const struct ap_config *cfg, const char *host);
/* Hand a reading over (copied, without its processes). When the thread is
 * behind by more than a few readings the oldest waiting one is dropped. */
void ap_store_push(struct ap_store *st, const struct ap_sys *s);
/* Deliver due notifications now (a test message was queued). */
void ap_store_wake(struct ap_store *st);
/* Finish the reading in hand, stop the thread, free everything. NULL is a no-op. */
void ap_store_stop(struct ap_store *st);

#endif
