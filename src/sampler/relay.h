/*
 * relay.h — live events across hosts (private to src/sampler/): a thread of
 * its own, with its own database connection and helper client, that
 * publishes what this host's helper says of its jobs (job.list: id, op,
 * state, progress; a row of live_events each time one changes) and reads
 * what every host published, for the sampler's stream to pass on as
 * `event: job`. PostgreSQL wakes the readers with NOTIFY (they LISTEN);
 * MariaDB and SQLite have no notifications: the readers poll every
 * RELAY_POLL_MS. Either way the table is the record, so a reader that was
 * away misses nothing of the last ten minutes.
 */
#ifndef AAPANEL_SAMPLER_RELAY_H
#define AAPANEL_SAMPLER_RELAY_H

#include "aapanel/config.h"

#define RELAY_POLL_MS 500

struct ap_relay;

/*
 * Start the thread. host names this host in what it publishes. The
 * returned descriptor (ap_relay_fd) becomes readable when events wait in
 * ap_relay_take. NULL when it cannot start (logged).
 */
struct ap_relay *ap_relay_start(const struct ap_config *cfg, const char *host);
int ap_relay_fd(const struct ap_relay *r);
/* The events waiting, as Server-Sent Events text (owned: free), or NULL. */
char *ap_relay_take(struct ap_relay *r);
/* Stop it and free everything. NULL is a no-op. */
void ap_relay_stop(struct ap_relay *r);

#endif
