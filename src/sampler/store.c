/*
 * store.c — the sampler's store thread (store.h): history, per-minute
 * averages, pruning, alert rules and deliveries, on its own database
 * connection. A database that is down costs readings (they are dropped,
 * logged once a minute), never the live stream.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aapanel/alerts.h"
#include "aapanel/dbconn.h"
#include "aapanel/i18n.h"
#include "aapanel/log.h"
#include "aapanel/metrics.h"
#include "aapanel/notify.h"
#include "sitewatch.h"
#include "store.h"

#define QUEUE_MAX 8
#define IDLE_MS 5000

struct ap_store {
	const struct ap_config *cfg;
	char *host;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct ap_sys *q[QUEUE_MAX];
	int nq;
	bool wake, stop;
	/* thread-owned */
	struct ap_db *db;
	struct ap_metrics_writer *w;
	struct ap_alerts *alerts;
	struct ap_sitewatch *sites; /* the site_down rules' probes */
	struct ap_i18n *i18n;       /* the messages' catalogs */
	int64_t last_minute_work;
	uint64_t next_db_try_ms, last_warn_ms;
};

static void
warn_limited(struct ap_store *st, const char *what, enum ap_db_rc rc)
{
	uint64_t now = ap_now_ms();

	if (st->last_warn_ms != 0 && now - st->last_warn_ms < 60000)
		return;
	st->last_warn_ms = now;
	AP_WARN("%s: %s (%s)", what, ap_db_rc_str(rc), st->db ? ap_db_errmsg(st->db) : "no connection");
}

static struct ap_db *
db_of(struct ap_store *st)
{
	enum ap_db_rc rc;

	if (st->db != NULL)
		return st->db;
	if (ap_now_ms() < st->next_db_try_ms)
		return NULL;
	rc = ap_dbconn_open(st->cfg, &st->db);
	if (rc != AP_DB_OK) {
		warn_limited(st, "database", rc);
		ap_db_close(st->db);
		st->db = NULL;
		st->next_db_try_ms = ap_now_ms() + 5000;
		return NULL;
	}
	ap_metrics_writer_reset(st->w);
	return st->db;
}

static void
to_rows(const struct ap_sys *s, double host[AP_MC__MAX], struct ap_mdev *devs, size_t *ndevs)
{
	size_t n = 0;

	host[AP_MC_CPU] = s->cpu.total;
	host[AP_MC_CPU_USER] = s->cpu.user;
	host[AP_MC_CPU_SYSTEM] = s->cpu.system;
	host[AP_MC_CPU_IOWAIT] = s->cpu.iowait;
	host[AP_MC_CPU_STEAL] = s->cpu.steal;
	host[AP_MC_LOAD1] = s->load[0];
	host[AP_MC_LOAD5] = s->load[1];
	host[AP_MC_LOAD15] = s->load[2];
	host[AP_MC_MEM_USED] = (double)s->mem_used;
	host[AP_MC_MEM_TOTAL] = (double)s->mem.total;
	host[AP_MC_SWAP_USED] = (double)s->swap_used;
	host[AP_MC_SWAP_TOTAL] = (double)s->mem.swap_total;
	host[AP_MC_PROCS] = (double)s->nprocs_total;
	host[AP_MC_NET_RX] = s->net_rx;
	host[AP_MC_NET_TX] = s->net_tx;
	host[AP_MC_DISK_READ] = s->disk_read;
	host[AP_MC_DISK_WRITE] = s->disk_write;
	for (int i = 0; i < s->nfs; i++) {
		devs[n].kind = AP_MDEV_FS;
		devs[n].name = s->fs[i].mount;
		devs[n].v[0] = (double)s->fs[i].used;
		devs[n].v[1] = (double)(s->fs[i].used + s->fs[i].avail);
		devs[n].v[2] = (double)s->fs[i].iused;
		devs[n].v[3] = (double)s->fs[i].itotal;
		n++;
	}
	for (int i = 0; i < s->ndisks; i++) {
		devs[n].kind = AP_MDEV_DISK;
		devs[n].name = s->disks[i].name;
		devs[n].v[0] = s->disks[i].read_bps;
		devs[n].v[1] = s->disks[i].write_bps;
		devs[n].v[2] = s->disks[i].read_iops;
		devs[n].v[3] = s->disks[i].write_iops;
		n++;
	}
	for (int i = 0; i < s->nnets; i++) {
		devs[n].kind = AP_MDEV_NET;
		devs[n].name = s->nets[i].name;
		devs[n].v[0] = s->nets[i].rx_bps;
		devs[n].v[1] = s->nets[i].tx_bps;
		devs[n].v[2] = devs[n].v[3] = NAN;
		n++;
	}
	*ndevs = n;
}

static void
handle(struct ap_store *st, const struct ap_sys *s)
{
	struct ap_db *db = db_of(st);
	double host[AP_MC__MAX];
	struct ap_mdev devs[AP_PROC_MAX_FS + AP_PROC_MAX_DISKS + AP_PROC_MAX_NETS];
	size_t ndevs = 0;
	enum ap_db_rc rc;
	int fired = 0, resolved = 0;

	if (db == NULL)
		return;
	to_rows(s, host, devs, &ndevs);
	if ((rc = ap_metrics_store(db, st->w, s->time, host, devs, ndevs)) != AP_DB_OK)
		warn_limited(st, "storing a reading", rc);
	/* Once a minute: the minute just completed, and what is too old. */
	if (s->time / 60 != st->last_minute_work) {
		int64_t minutes = 0, deleted = 0;

		if ((rc = ap_metrics_rollup(db, st->w, s->time, &minutes)) != AP_DB_OK)
			warn_limited(st, "per-minute averages", rc);
		if ((rc = ap_metrics_prune(db, s->time, &deleted)) != AP_DB_OK)
			warn_limited(st, "pruning the history", rc);
		else
			st->last_minute_work = s->time / 60;
		AP_DEBUG("history: %lld minutes averaged, %lld rows pruned", (long long)minutes, (long long)deleted);
	}
	if ((rc = ap_alerts_eval(st->alerts, db, s, s->time, &fired, &resolved)) != AP_DB_OK)
		warn_limited(st, "alert rules", rc);
}

static void
deliver(struct ap_store *st)
{
	struct ap_db *db = db_of(st);
	int sent = 0, failed = 0;
	enum ap_db_rc rc;

	if (db == NULL)
		return;
	rc = ap_notify_deliver(st->cfg, db, st->host, (int64_t)time(NULL), &sent, &failed);
	if (rc != AP_DB_OK)
		warn_limited(st, "notifications", rc);
	else if (sent || failed)
		AP_INFO("notifications: %d delivered, %d failed", sent, failed);
}

static void *
run(void *arg)
{
	struct ap_store *st = arg;

	for (;;) {
		struct ap_sys *s = NULL;
		bool wake, stop;

		pthread_mutex_lock(&st->mu);
		while (st->nq == 0 && !st->wake && !st->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += IDLE_MS / 1000;
			if (pthread_cond_timedwait(&st->cv, &st->mu, &ts) == ETIMEDOUT)
				break;
		}
		if (st->nq > 0) {
			s = st->q[0];
			memmove(st->q, st->q + 1, (size_t)(st->nq - 1) * sizeof(st->q[0]));
			st->nq--;
		}
		wake = st->wake;
		st->wake = false;
		stop = st->stop && st->nq == 0;
		pthread_mutex_unlock(&st->mu);
		if (s != NULL) {
			handle(st, s);
			free(s);
		}
		/* Every round: what fired now, a test just queued, retries that came due. */
		(void)wake;
		deliver(st);
		if (stop && s == NULL)
			break;
	}
	return NULL;
}

struct ap_store *
ap_store_start(const struct ap_config *cfg, const char *host)
{
	struct ap_store *st = ap_xcalloc(1, sizeof(*st));

	st->cfg = cfg;
	st->host = ap_xstrdup(host);
	st->w = ap_metrics_writer_new(host);
	st->alerts = ap_alerts_new(host);
	st->sites = ap_sitewatch_start(cfg);
	ap_alerts_set_sitewatch(st->alerts, st->sites);
	ap_alerts_set_backup_margin(st->alerts, cfg->backups_alert_margin);
	{
		char err[256] = "";
		const char *lang = cfg->monitor_language[0] ? cfg->monitor_language : cfg->default_language;

		if (ap_i18n_load(cfg->po_dir, &st->i18n, err, sizeof(err)) != AP_OK)
			AP_WARN("notifications in English: %s", err);
		ap_alerts_set_language(st->alerts, st->i18n, lang);
	}
	st->last_minute_work = -1;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	if (pthread_create(&st->th, NULL, run, st) != 0) {
		AP_ERROR("cannot start the store thread");
		ap_sitewatch_stop(st->sites);
		ap_i18n_free(st->i18n);
		ap_metrics_writer_free(st->w);
		ap_alerts_free(st->alerts);
		free(st->host);
		free(st);
		return NULL;
	}
	return st;
}

void
ap_store_push(struct ap_store *st, const struct ap_sys *s)
{
	struct ap_sys *copy = ap_xmalloc(sizeof(*copy));

	memcpy(copy, s, sizeof(*copy));
	copy->procs = NULL;
	copy->nprocs = 0;
	pthread_mutex_lock(&st->mu);
	if (st->nq == QUEUE_MAX) {
		free(st->q[0]);
		memmove(st->q, st->q + 1, (size_t)(QUEUE_MAX - 1) * sizeof(st->q[0]));
		st->nq--;
		AP_WARN("the database is slow: a reading was dropped");
	}
	st->q[st->nq++] = copy;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

void
ap_store_wake(struct ap_store *st)
{
	pthread_mutex_lock(&st->mu);
	st->wake = true;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
}

void
ap_store_stop(struct ap_store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->stop = true;
	pthread_cond_signal(&st->cv);
	pthread_mutex_unlock(&st->mu);
	pthread_join(st->th, NULL);
	for (int i = 0; i < st->nq; i++)
		free(st->q[i]);
	ap_db_close(st->db);
	ap_sitewatch_stop(st->sites);
	ap_metrics_writer_free(st->w);
	ap_alerts_free(st->alerts);
	ap_i18n_free(st->i18n);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->mu);
	free(st->host);
	free(st);
}
