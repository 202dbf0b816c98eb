/*
 * certwatch.c — the sampler's certificate watch (certwatch.h,
 * docs/certificates.md): a job's end and certbot's own renewals read back
 * into the certificates table and the audit log, whoever looks or not.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/certs.h"
#include "aapanel/dbconn.h"
#include "aapanel/helper.h"
#include "aapanel/log.h"
#include "certwatch.h"

#define PENDING_MS 2000
#define WARN_EVERY_MS 600000

struct ap_certwatch {
	const struct ap_config *cfg;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop;
	/* thread-owned */
	struct ap_db *db;
	struct ap_helper_client *helper;
	uint64_t next_db_try_ms, next_sync_ms, last_warn_ms;
	int64_t since; /* the newest certbot log already read (its mtime) */
};

static void
warn_limited(struct ap_certwatch *w, const char *what, const char *why)
{
	uint64_t now = ap_now_ms();

	if (w->last_warn_ms != 0 && now - w->last_warn_ms < WARN_EVERY_MS)
		return;
	w->last_warn_ms = now;
	AP_WARN("certificates: %s: %s", what, why);
}

static struct ap_db *
db_of(struct ap_certwatch *w)
{
	enum ap_db_rc rc;

	if (w->db != NULL)
		return w->db;
	if (ap_now_ms() < w->next_db_try_ms)
		return NULL;
	if ((rc = ap_dbconn_open(w->cfg, &w->db)) != AP_DB_OK) {
		warn_limited(w, "database", ap_db_rc_str(rc));
		ap_db_close(w->db);
		w->db = NULL;
		w->next_db_try_ms = ap_now_ms() + 5000;
	}
	return w->db;
}

static void
round_once(struct ap_certwatch *w)
{
	struct ap_sites_env env = { .cfg = w->cfg, .helper = w->helper, .job_wait_ms = 1000 };
	struct ap_cert_sync_stats stats;
	struct ap_problem pb;
	int settled = 0;

	if ((env.db = db_of(w)) == NULL)
		return;
	if (ap_cert_settle_pending(&env, &settled, &pb) != AP_OK)
		warn_limited(w, "pending jobs", pb.reason);
	if (ap_now_ms() < w->next_sync_ms)
		return;
	w->next_sync_ms = ap_now_ms() + (uint64_t)w->cfg->certs_watch_interval * 1000;
	if (ap_cert_sync(&env, w->since, &stats, &pb) != AP_OK) {
		warn_limited(w, "reading certbot's renewals", pb.reason);
		return;
	}
	if (stats.log_at > w->since)
		w->since = stats.log_at;
	if (stats.renewed || stats.failed)
		AP_DEBUG("certificates: %d renewed by certbot, %d failed", stats.renewed, stats.failed);
}

static void *
run(void *arg)
{
	struct ap_certwatch *w = arg;

	for (;;) {
		struct timespec ts;
		bool stop;

		round_once(w);
		pthread_mutex_lock(&w->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += PENDING_MS / 1000;
		while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
			;
		stop = w->stop;
		pthread_mutex_unlock(&w->mu);
		if (stop)
			break;
	}
	return NULL;
}

struct ap_certwatch *
ap_certwatch_start(const struct ap_config *cfg)
{
	struct ap_certwatch *w = ap_xcalloc(1, sizeof(*w));

	w->cfg = cfg;
	w->helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	if (pthread_create(&w->th, NULL, run, w) != 0) {
		AP_ERROR("cannot start the certificate watch");
		ap_helper_client_free(w->helper);
		free(w);
		return NULL;
	}
	return w;
}

void
ap_certwatch_stop(struct ap_certwatch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	ap_helper_client_free(w->helper);
	ap_db_close(w->db);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
