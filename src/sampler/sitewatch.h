/*
 * sitewatch.h — the sampler's site watch (private to src/sampler/): a thread
 * of its own that asks nginx, over loopback, for the front page of every
 * site a site_down rule wants (ap_probe_http, Host: the domain), eight at
 * a time, every monitor.interval seconds. The alert rules (alerts.c)
 * name what they want at each evaluation and read the latest answers back,
 * so a site that hangs costs the watch its timeout, never a reading.
 */
#ifndef AAPANEL_SAMPLER_SITEWATCH_H
#define AAPANEL_SAMPLER_SITEWATCH_H

#include "aapanel/alerts.h"
#include "aapanel/config.h"

/* Start the thread; NULL when it cannot start (logged). */
struct ap_sitewatch *ap_sitewatch_start(const struct ap_config *cfg);
/* Stop it and free everything. NULL is a no-op. */
void ap_sitewatch_stop(struct ap_sitewatch *w);

/*
 * Ask for domain to be probed, waiting up to timeout_s for its answer (the
 * longest of the rules that want it). A domain nobody asked for during
 * three evaluations is dropped. false when the watch is full.
 */
bool ap_sitewatch_want(struct ap_sitewatch *w, const char *domain, double timeout_s);
/* The latest answer for domain (false: none yet). */
bool ap_sitewatch_get(struct ap_sitewatch *w, const char *domain, struct ap_site_state *out);
/* An evaluation is over: age the wants (see ap_sitewatch_want). */
void ap_sitewatch_round(struct ap_sitewatch *w);

#endif
