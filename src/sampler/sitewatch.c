/*
 * sitewatch.c — the sampler's site watch (sitewatch.h, docs/monitoring.md).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/log.h"
#include "aapanel/probe.h"
#include "sitewatch.h"

#define SITES_MAX 1024
#define FORGET_ROUNDS 3
#define PROBERS 8 /* sites probed at once */

struct entry {
	struct ap_site_state st;
	double timeout_s;
	int unwanted; /* evaluations since one asked for it */
	bool have;
};

struct ap_sitewatch {
	const struct ap_config *cfg;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	struct entry *v;
	size_t n;
	size_t next; /* the round's next site to probe */
};

static struct entry *
find(struct ap_sitewatch *w, const char *domain)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->v[i].st.domain, domain) == 0)
			return &w->v[i];
	return NULL;
}

bool
ap_sitewatch_want(struct ap_sitewatch *w, const char *domain, double timeout_s)
{
	struct entry *e;
	bool ok = true;

	if (w == NULL || strlen(domain) >= sizeof(e->st.domain))
		return false;
	pthread_mutex_lock(&w->mu);
	if ((e = find(w, domain)) == NULL) {
		if (w->n == SITES_MAX) {
			ok = false;
			goto out;
		}
		e = &w->v[w->n++];
		memset(e, 0, sizeof(*e));
		snprintf(e->st.domain, sizeof(e->st.domain), "%s", domain);
		e->timeout_s = timeout_s;
		pthread_cond_signal(&w->cv); /* a new site: probe it now */
	}
	/* the first rule of an evaluation sets it, the others can only lengthen it */
	if (e->unwanted > 0 || timeout_s > e->timeout_s)
		e->timeout_s = timeout_s;
	e->unwanted = 0;
out:
	pthread_mutex_unlock(&w->mu);
	return ok;
}

bool
ap_sitewatch_get(struct ap_sitewatch *w, const char *domain, struct ap_site_state *out)
{
	struct entry *e;
	bool have = false;

	if (w == NULL)
		return false;
	pthread_mutex_lock(&w->mu);
	if ((e = find(w, domain)) != NULL && e->have) {
		*out = e->st;
		have = true;
	}
	pthread_mutex_unlock(&w->mu);
	return have;
}

void
ap_sitewatch_round(struct ap_sitewatch *w)
{
	size_t k = 0;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->n; i++)
		if (++w->v[i].unwanted <= FORGET_ROUNDS)
			w->v[k++] = w->v[i];
	w->n = k;
	pthread_mutex_unlock(&w->mu);
}

/* One probe of domain (outside the lock): its answer into st. */
static void
probe(const struct ap_config *cfg, const char *domain, double timeout_s, struct ap_site_state *st)
{
	struct ap_probe_result r;
	int ms = timeout_s > 0 ? (int)(timeout_s * 1000) : 5000;

	memset(st, 0, sizeof(*st));
	snprintf(st->domain, sizeof(st->domain), "%s", domain);
	if (ap_probe_http(cfg->sites_http_port, domain, "/", ms, &r) == AP_OK) {
		st->status = r.status;
		if (r.status >= 500)
			snprintf(st->why, sizeof(st->why), "HTTP %d", r.status);
	} else
		snprintf(st->why, sizeof(st->why), "%s", r.error[0] ? r.error : "no answer");
	st->elapsed_ms = r.elapsed_ms;
	st->at = (int64_t)time(NULL);
}

/*
 * One prober of a round: takes the next wanted site until none is left, the
 * lock dropped while it answers. PROBERS of them share a round, so a few
 * hanging sites cost the round their timeout once, not one after another.
 */
static void *
prober(void *arg)
{
	struct ap_sitewatch *w = arg;

	for (;;) {
		char domain[sizeof(w->v[0].st.domain)];
		double t;
		struct ap_site_state st;
		struct entry *e;

		pthread_mutex_lock(&w->mu);
		if (w->stop || w->next >= w->n) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		snprintf(domain, sizeof(domain), "%s", w->v[w->next].st.domain);
		t = w->v[w->next].timeout_s;
		w->next++;
		pthread_mutex_unlock(&w->mu);
		probe(w->cfg, domain, t, &st);
		pthread_mutex_lock(&w->mu);
		if ((e = find(w, domain)) != NULL) {
			e->st = st;
			e->have = true;
		}
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* Every wanted site once: this thread and up to PROBERS - 1 more. */
static void
probe_round(struct ap_sitewatch *w)
{
	pthread_t th[PROBERS - 1];
	size_t started = 0, want;

	pthread_mutex_lock(&w->mu);
	w->next = 0;
	want = w->n < PROBERS ? w->n : PROBERS;
	pthread_mutex_unlock(&w->mu);
	while (started + 1 < want && pthread_create(&th[started], NULL, prober, w) == 0)
		started++;
	prober(w);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

static void *
run(void *arg)
{
	struct ap_sitewatch *w = arg;
	uint64_t every = (uint64_t)(w->cfg->monitor_interval > 0 ? w->cfg->monitor_interval : 10) * 1000;

	for (;;) {
		uint64_t next = ap_now_ms() + every;
		struct timespec ts;

		probe_round(w);
		pthread_mutex_lock(&w->mu);
		while (!w->stop && ap_now_ms() < next) {
			uint64_t left = next - ap_now_ms();
			bool fresh = false;

			for (size_t i = 0; i < w->n; i++)
				fresh |= !w->v[i].have;
			if (fresh)
				break;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)(left / 1000);
			ts.tv_nsec += (long)(left % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&w->cv, &w->mu, &ts);
		}
		if (w->stop) {
			pthread_mutex_unlock(&w->mu);
			break;
		}
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

struct ap_sitewatch *
ap_sitewatch_start(const struct ap_config *cfg)
{
	struct ap_sitewatch *w = ap_xcalloc(1, sizeof(*w));

	w->cfg = cfg;
	w->v = ap_xcalloc(SITES_MAX, sizeof(*w->v));
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		AP_ERROR("cannot start the site watch");
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w->v);
		free(w);
		return NULL;
	}
	return w;
}

void
ap_sitewatch_stop(struct ap_sitewatch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w->v);
	free(w);
}
