/*
 * metrics.h — the monitoring data (src/data/metrics.c): the history of
 * the server's readings, alert rules and channels, alert episodes and the
 * outbox of notifications. All SQL of monitoring lives here, for the three
 * backends.
 *
 * History: every reading is kept raw (res 0) for AP_METRICS_RAW_KEEP
 * seconds, and as per-minute averages (res 60) for AP_METRICS_MINUTE_KEEP;
 * ap_metrics_rollup and ap_metrics_prune keep it so as the sampler goes,
 * so the tables stay the same size however long the panel runs. Rows are
 * keyed by a source (host, kind, name): the host itself, or one of its
 * filesystems, disks or interfaces, so several panel hosts can share a
 * database. Every function takes the time as an argument: tests drive it.
 */
#ifndef AAPANEL_METRICS_H
#define AAPANEL_METRICS_H

#include "aapanel/db.h"
#include "aapanel/problem.h"

#define AP_METRICS_RAW_KEEP (24 * 3600)
#define AP_METRICS_MINUTE_KEEP (30 * 86400)
#define AP_METRICS_NAME_MAX 255 /* longest device or mount name kept in history */
/* Sent notifications are kept this long; alert episodes this long after they ended. */
#define AP_ALERT_OUTBOX_KEEP (7 * 86400)
#define AP_ALERT_EVENT_KEEP (90 * 86400)

/* The host's own columns (metric_host), in this order. */
enum ap_mcol {
	AP_MC_CPU, AP_MC_CPU_USER, AP_MC_CPU_SYSTEM, AP_MC_CPU_IOWAIT, AP_MC_CPU_STEAL,
	AP_MC_LOAD1, AP_MC_LOAD5, AP_MC_LOAD15,
	AP_MC_MEM_USED, AP_MC_MEM_TOTAL, AP_MC_SWAP_USED, AP_MC_SWAP_TOTAL,
	AP_MC_PROCS, AP_MC_NET_RX, AP_MC_NET_TX, AP_MC_DISK_READ, AP_MC_DISK_WRITE,
	AP_MC__MAX
};
/* "cpu", "cpu_user", ... (the column and the API's series name); NULL out of range. */
const char *ap_mcol_name(enum ap_mcol c);
/* The column of a name; false when unknown. */
bool ap_mcol_parse(const char *name, enum ap_mcol *out);

/* A device's reading: kind "fs" (a used bytes, b total bytes, c inodes used,
 * d inodes total), "disk" (a read B/s, b write B/s) or "net" (a rx B/s, b tx B/s). */
enum ap_mdev_kind { AP_MDEV_FS, AP_MDEV_DISK, AP_MDEV_NET, AP_MDEV__MAX };
const char *ap_mdev_kind_name(enum ap_mdev_kind k);
bool ap_mdev_kind_parse(const char *name, enum ap_mdev_kind *out);

struct ap_mdev {
	enum ap_mdev_kind kind;
	const char *name; /* borrowed; longer than AP_METRICS_NAME_MAX: not stored */
	double v[4];
};

/* The history ranges the dashboard and the API offer. */
struct ap_metrics_range {
	const char *name; /* "1h" "24h" "7d" "30d" */
	int64_t span;     /* seconds back from now */
	int res;          /* rows read: 0 raw, 60 per minute */
	int bucket;       /* seconds averaged into one point */
};
/* The range of a name, NULL when unknown. */
const struct ap_metrics_range *ap_metrics_range(const char *name);
extern const char *const ap_metrics_range_names[]; /* NULL-terminated, for field choices */

/* What one writer (the sampler of one host) remembers between calls. */
struct ap_metrics_writer;
struct ap_metrics_writer *ap_metrics_writer_new(const char *host);
void ap_metrics_writer_free(struct ap_metrics_writer *w);
/* Forget cached ids (after a reconnect to another database, in tests). */
void ap_metrics_writer_reset(struct ap_metrics_writer *w);

/*
 * Store one reading taken at `at` (Unix seconds): the host's columns
 * (NaN = unknown, stored as NULL) and its devices, in one transaction. A
 * second reading in the same second replaces nothing and is ignored.
 */
enum ap_db_rc ap_metrics_store(struct ap_db *db, struct ap_metrics_writer *w, int64_t at,
    const double host[AP_MC__MAX], const struct ap_mdev *devs, size_t ndevs);
/*
 * Average every complete minute (before now's minute) that has raw rows
 * but no per-minute row yet. *minutes (may be NULL) gets how many were written.
 */
enum ap_db_rc ap_metrics_rollup(struct ap_db *db, struct ap_metrics_writer *w, int64_t now,
    int64_t *minutes);
/* Delete raw rows older than AP_METRICS_RAW_KEEP, minute rows older than
 * AP_METRICS_MINUTE_KEEP, sent notifications and ended episodes past theirs.
 * *deleted (may be NULL) gets the number of rows. */
enum ap_db_rc ap_metrics_prune(struct ap_db *db, int64_t now, int64_t *deleted);

/* Rows of a resolution (0 raw, 60 per minute) of every host (tests, docs). */
enum ap_db_rc ap_metrics_count(struct ap_db *db, int res, int64_t *host_rows, int64_t *dev_rows);

/* One point of a series: bucket start and up to four averaged values (NaN when NULL). */
struct ap_mpoint {
	int64_t t;
	double v[4];
};
typedef bool (*ap_mpoint_fn)(void *arg, const struct ap_mpoint *p);

/*
 * The host's columns cols[0..ncols) (ncols <= 4) averaged per bucket over
 * [from, to), oldest first, at the resolution and bucket of range r.
 * cb returning false stops early.
 */
enum ap_db_rc ap_metrics_host_series(struct ap_db *db, const char *host, const struct ap_metrics_range *r,
    int64_t from, int64_t to, const enum ap_mcol *cols, int ncols, ap_mpoint_fn cb, void *arg);
/* The same for one device: its four values. AP_DB_ENOTFOUND when the device has no history. */
enum ap_db_rc ap_metrics_dev_series(struct ap_db *db, const char *host, enum ap_mdev_kind kind,
    const char *name, const struct ap_metrics_range *r, int64_t from, int64_t to, ap_mpoint_fn cb,
    void *arg);
/* Names of the host's devices of a kind that have rows since `since`, sorted. */
typedef bool (*ap_mname_fn)(void *arg, const char *name);
enum ap_db_rc ap_metrics_dev_names(struct ap_db *db, const char *host, enum ap_mdev_kind kind, int64_t since,
    ap_mname_fn cb, void *arg);

/* ---------------------------------------------------------------- alerts */

/* What a rule watches. */
enum ap_alert_metric {
	AP_AM_CPU,         /* CPU busy, percent */
	AP_AM_MEMORY,      /* memory used, percent */
	AP_AM_SWAP,        /* swap used, percent */
	AP_AM_LOAD,        /* 1-minute load average */
	AP_AM_DISK_SPACE,  /* a filesystem's space used, percent (target: mount point, "" = each) */
	AP_AM_DISK_INODES, /* a filesystem's inodes used, percent */
	AP_AM_CERT_EXPIRY, /* a certificate's days left (below the threshold fires; target: domain, "" = each) */
	AP_AM_SITE_DOWN,   /* a site not answering (no answer within threshold seconds, or a 5xx): 1, else 0;
			    * target: domain, "" = each enabled site */
	AP_AM_BACKUP_AGE,  /* hours since a site's or database's last successful backup (target: its name, "" = each) */
	AP_AM__MAX
};
extern const char *const ap_alert_metric_names[]; /* "cpu", ..., NULL-terminated */
bool ap_alert_metric_parse(const char *name, enum ap_alert_metric *out);

struct ap_alert_rule {
	int64_t id;
	enum ap_alert_metric metric;
	char target[AP_METRICS_NAME_MAX + 1];
	double threshold;
	int64_t duration;   /* seconds the condition must hold */
	int64_t channel_id; /* 0 = every channel */
	bool enabled;
	int64_t created_at;
};

/*
 * Check a rule's values (threshold within the metric's range, target only
 * for the metrics that have one, the channel exists). AP_DB_OK, or
 * AP_DB_EINVAL with pb naming the field (threshold, target, channel).
 */
enum ap_db_rc ap_alert_rule_create(struct ap_db *db, struct ap_alert_rule *r, int64_t now, struct ap_problem *pb);
enum ap_db_rc ap_alert_rule_get(struct ap_db *db, int64_t id, struct ap_alert_rule *out);
/* AP_DB_ENOTFOUND when there is no such rule. Its episodes stay in the history. */
enum ap_db_rc ap_alert_rule_delete(struct ap_db *db, int64_t id);
enum ap_db_rc ap_alert_rule_set_enabled(struct ap_db *db, int64_t id, bool enabled);
typedef bool (*ap_alert_rule_fn)(void *arg, const struct ap_alert_rule *r);
enum ap_db_rc ap_alert_rules_each(struct ap_db *db, ap_alert_rule_fn cb, void *arg);

enum ap_alert_channel_kind { AP_AC_EMAIL, AP_AC_WEBHOOK, AP_AC__MAX };
extern const char *const ap_alert_channel_kinds[]; /* "email", "webhook", NULL */

struct ap_alert_channel {
	int64_t id;
	char name[65];
	enum ap_alert_channel_kind kind;
	char target[2049]; /* e-mail address, or the webhook's URL */
	char secret[257];  /* webhook: the shared secret of the signature; never shown */
	bool enabled;
	int64_t created_at;
	int64_t last_test_at; /* 0 = never */
	int last_test_ok;     /* -1 none yet, 0 failed, 1 delivered */
	char last_test_error[256];
};

/* AP_DB_EINVAL/AP_DB_ECONSTRAINT with pb: a name in use ("name"). */
enum ap_db_rc ap_alert_channel_create(struct ap_db *db, struct ap_alert_channel *c, int64_t now,
    struct ap_problem *pb);
enum ap_db_rc ap_alert_channel_get(struct ap_db *db, int64_t id, struct ap_alert_channel *out);
/* Rules sent only to this channel go to every channel afterwards. */
enum ap_db_rc ap_alert_channel_delete(struct ap_db *db, int64_t id);
typedef bool (*ap_alert_channel_fn)(void *arg, const struct ap_alert_channel *c);
enum ap_db_rc ap_alert_channels_each(struct ap_db *db, ap_alert_channel_fn cb, void *arg);

/* An episode: a rule's condition held on a host for a subject (a mount, a domain, "" for the host). */
struct ap_alert_event {
	int64_t id;
	int64_t rule_id; /* 0 once the rule is deleted */
	char host[256];
	char subject[AP_METRICS_NAME_MAX + 1];
	char rule_text[256]; /* the rule as it was ("cpu > 90 for 300 s") */
	double value;        /* when it fired */
	double peak;         /* the worst value while it held */
	int64_t started_at, resolved_at; /* resolved 0 = still firing */
	int notified, failed;            /* deliveries sent and given up (history page) */
};
/* Start an episode; *id gets it. */
enum ap_db_rc ap_alert_event_open(struct ap_db *db, struct ap_alert_event *e, int64_t *id);
/* Remember the worst value so far. */
enum ap_db_rc ap_alert_event_peak(struct ap_db *db, int64_t id, double peak);
enum ap_db_rc ap_alert_event_resolve(struct ap_db *db, int64_t id, int64_t at);
typedef bool (*ap_alert_event_fn)(void *arg, const struct ap_alert_event *e);
/* Episodes still firing on host (the sampler picks them up again after a restart). */
enum ap_db_rc ap_alert_events_open(struct ap_db *db, const char *host, ap_alert_event_fn cb, void *arg);
/*
 * A page of the history, newest first (id descending: episodes are opened
 * in the order they start): episodes with an id below before (0 = from the
 * newest), at most limit (1..10000) of them. *more (may be NULL) tells
 * whether older episodes follow. cb returning false stops early.
 * AP_DB_EINVAL for a bad limit.
 */
enum ap_db_rc ap_alert_events_page(struct ap_db *db, int64_t before, int64_t limit, ap_alert_event_fn cb,
    void *arg, bool *more);

/* A notification to deliver: kind "firing", "resolved" or "test". */
struct ap_alert_msg {
	int64_t id;
	int64_t event_id; /* 0 for a test */
	int64_t channel_id;
	char kind[12];
	char subject[256];
	char *body;    /* text (owned by the row: valid during the callback) */
	char *payload; /* JSON for webhooks (same) */
	int attempts;
};
/* Queue a message for host's sampler. One per (event, channel, kind): a second is ignored. */
enum ap_db_rc ap_alert_outbox_add(struct ap_db *db, const char *host, int64_t event_id, int64_t channel_id,
    const char *kind, const char *subject, const char *body, const char *payload, int64_t now);
typedef bool (*ap_alert_msg_fn)(void *arg, const struct ap_alert_msg *m);
/* Messages of host due at now (not sent, fewer than AP_ALERT_MAX_ATTEMPTS tries), oldest first. */
#define AP_ALERT_MAX_ATTEMPTS 5
enum ap_db_rc ap_alert_outbox_due(struct ap_db *db, const char *host, int64_t now, int limit,
    ap_alert_msg_fn cb, void *arg);
/* The outcome of one attempt: sent, or the next try later (backoff) with the error. A test's
 * outcome is also noted on its channel. */
enum ap_db_rc ap_alert_outbox_done(struct ap_db *db, const struct ap_alert_msg *m, bool ok, const char *error,
    int64_t now);

/* Certificates with an expiry date (the certificates table): domain and not_after. */
typedef bool (*ap_cert_fn)(void *arg, const char *domain, int64_t not_after);
enum ap_db_rc ap_alert_certs_each(struct ap_db *db, ap_cert_fn cb, void *arg);
/* Each site and database backed up at least once (backup_runs): its name and when its last
 * successful backup ended (src/data/backups.c). */
typedef bool (*ap_backup_age_fn)(void *arg, const char *target, int64_t last_ok);
enum ap_db_rc ap_alert_backups_each(struct ap_db *db, ap_backup_age_fn cb, void *arg);
/* Each site and database an enabled backup task schedules (src/data/backup_tasks.c): its
 * name, the longest gap between two runs of its most frequent schedule (seconds) and when
 * its last successful backup ended — or, never backed up, when that task was made. */
typedef bool (*ap_backup_sched_fn)(void *arg, const char *target, int64_t interval, int64_t last_ok);
enum ap_db_rc ap_alert_backup_schedules_each(struct ap_db *db, int64_t now, ap_backup_sched_fn cb, void *arg);

/* The enabled sites' domains, sorted (the site-down watch probes them). */
typedef bool (*ap_site_domain_fn)(void *arg, const char *domain);
enum ap_db_rc ap_alert_sites_each(struct ap_db *db, ap_site_domain_fn cb, void *arg);
/* The longest threshold (seconds) of the enabled site_down rules; 0 when there is none. */
enum ap_db_rc ap_alert_site_rules_timeout(struct ap_db *db, double *seconds);

#endif
