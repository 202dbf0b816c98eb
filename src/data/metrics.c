/*
 * metrics.c — the monitoring tables (metrics.h): readings, their
 * per-minute averages and pruning, alert rules, channels, episodes and the
 * notification outbox. Portable SQL only: `at - (at % N)` buckets (integer
 * on all three backends), GROUP BY the output column's position, upserts as
 * INSERT-then-ignore-the-constraint.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/metrics.h"
#include "aapanel/sitecheck.h"

static const char *const mcol_names[AP_MC__MAX] = {
	[AP_MC_CPU] = "cpu", [AP_MC_CPU_USER] = "cpu_user", [AP_MC_CPU_SYSTEM] = "cpu_system",
	[AP_MC_CPU_IOWAIT] = "cpu_iowait", [AP_MC_CPU_STEAL] = "cpu_steal", [AP_MC_LOAD1] = "load1",
	[AP_MC_LOAD5] = "load5", [AP_MC_LOAD15] = "load15", [AP_MC_MEM_USED] = "mem_used",
	[AP_MC_MEM_TOTAL] = "mem_total", [AP_MC_SWAP_USED] = "swap_used", [AP_MC_SWAP_TOTAL] = "swap_total",
	[AP_MC_PROCS] = "procs", [AP_MC_NET_RX] = "net_rx", [AP_MC_NET_TX] = "net_tx",
	[AP_MC_DISK_READ] = "disk_read", [AP_MC_DISK_WRITE] = "disk_write",
};

static const char *const mdev_names[AP_MDEV__MAX] = { "fs", "disk", "net" };

const char *const ap_metrics_range_names[] = { "1h", "24h", "7d", "30d", NULL };
static const struct ap_metrics_range ranges[] = {
	{ "1h", 3600, 0, 10 },
	{ "24h", 86400, 60, 300 },
	{ "7d", 7 * 86400, 60, 1800 },
	{ "30d", 30 * 86400, 60, 7200 },
};

const char *const ap_alert_metric_names[] = { "cpu", "memory", "swap", "load", "disk_space", "disk_inodes",
	"cert_expiry", "site_down", "backup_age", NULL };
const char *const ap_alert_channel_kinds[] = { "email", "webhook", NULL };

const char *
ap_mcol_name(enum ap_mcol c)
{
	return (unsigned)c < AP_MC__MAX ? mcol_names[c] : NULL;
}

bool
ap_mcol_parse(const char *name, enum ap_mcol *out)
{
	for (int i = 0; i < AP_MC__MAX; i++)
		if (name != NULL && strcmp(name, mcol_names[i]) == 0) {
			*out = (enum ap_mcol)i;
			return true;
		}
	return false;
}

const char *
ap_mdev_kind_name(enum ap_mdev_kind k)
{
	return (unsigned)k < AP_MDEV__MAX ? mdev_names[k] : NULL;
}

bool
ap_mdev_kind_parse(const char *name, enum ap_mdev_kind *out)
{
	for (int i = 0; i < AP_MDEV__MAX; i++)
		if (name != NULL && strcmp(name, mdev_names[i]) == 0) {
			*out = (enum ap_mdev_kind)i;
			return true;
		}
	return false;
}

const struct ap_metrics_range *
ap_metrics_range(const char *name)
{
	for (size_t i = 0; i < AP_NELEM(ranges); i++)
		if (name != NULL && strcmp(name, ranges[i].name) == 0)
			return &ranges[i];
	return NULL;
}

bool
ap_alert_metric_parse(const char *name, enum ap_alert_metric *out)
{
	for (int i = 0; ap_alert_metric_names[i] != NULL; i++)
		if (name != NULL && strcmp(name, ap_alert_metric_names[i]) == 0) {
			*out = (enum ap_alert_metric)i;
			return true;
		}
	return false;
}

/* Step st to its end: AP_DB_OK, or the error. */
static enum ap_db_rc
run(struct ap_db_stmt *st)
{
	enum ap_db_rc rc = ap_db_step(st);

	while (rc == AP_DB_ROW)
		rc = ap_db_step(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

static void
bind_num(struct ap_db_stmt *st, int idx, double v)
{
	if (isnan(v) || isinf(v))
		ap_db_bind_null(st, idx);
	else
		ap_db_bind_double(st, idx, v);
}

static double
col_num(struct ap_db_stmt *st, int col)
{
	return ap_db_col_is_null(st, col) ? NAN : ap_db_col_double(st, col);
}

static void
col_copy(struct ap_db_stmt *st, int col, char *out, size_t outlen)
{
	const char *s = ap_db_col_text(st, col, NULL);

	snprintf(out, outlen, "%s", s ? s : "");
}

/* ---------------------------------------------------------------- sources */

struct src_cache {
	enum ap_mdev_kind kind;
	char *name;
	int64_t id;
};

struct ap_metrics_writer {
	char *host;
	int64_t host_src; /* 0 until known */
	struct src_cache *c;
	size_t n, cap;
	int64_t last_at;     /* last reading stored */
	int64_t last_minute; /* last per-minute row; -1 none; -2 unknown yet */
};

struct ap_metrics_writer *
ap_metrics_writer_new(const char *host)
{
	struct ap_metrics_writer *w = ap_xcalloc(1, sizeof(*w));

	w->host = ap_xstrdup(host);
	w->last_minute = -2;
	return w;
}

void
ap_metrics_writer_reset(struct ap_metrics_writer *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->c[i].name);
	w->n = 0;
	w->host_src = 0;
	w->last_at = 0;
	w->last_minute = -2;
}

void
ap_metrics_writer_free(struct ap_metrics_writer *w)
{
	if (w == NULL)
		return;
	ap_metrics_writer_reset(w);
	free(w->c);
	free(w->host);
	free(w);
}

static enum ap_db_rc
find_source(struct ap_db *db, const char *host, const char *kind, const char *name, int64_t *id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	rc = ap_db_prepare_cached(db, "SELECT id FROM metric_sources WHERE host = ? AND kind = ? AND name = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	ap_db_bind_text(st, 2, kind, -1);
	ap_db_bind_text(st, 3, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		*id = ap_db_col_int64(st, 0);
	ap_db_finalize(st);
	return rc == AP_DB_ROW ? AP_DB_OK : rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
}

/* The id of (host, kind, name), created when new (another host may create it at the same time). */
static enum ap_db_rc
source_id(struct ap_db *db, const char *host, const char *kind, const char *name, int64_t *id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = find_source(db, host, kind, name, id);

	if (rc != AP_DB_ENOTFOUND)
		return rc;
	rc = ap_db_prepare_insert(db, "INSERT INTO metric_sources (host, kind, name) VALUES (?, ?, ?)", "id", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	ap_db_bind_text(st, 2, kind, -1);
	ap_db_bind_text(st, 3, name, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		*id = ap_db_last_insert_id(st);
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	if (rc == AP_DB_ECONSTRAINT && !ap_db_in_transaction(db))
		rc = find_source(db, host, kind, name, id);
	return rc;
}

static enum ap_db_rc
dev_source(struct ap_db *db, struct ap_metrics_writer *w, enum ap_mdev_kind kind, const char *name, int64_t *id)
{
	enum ap_db_rc rc;

	for (size_t i = 0; i < w->n; i++)
		if (w->c[i].kind == kind && strcmp(w->c[i].name, name) == 0) {
			*id = w->c[i].id;
			return AP_DB_OK;
		}
	if ((rc = source_id(db, w->host, mdev_names[kind], name, id)) != AP_DB_OK)
		return rc;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->c = ap_xrealloc(w->c, w->cap * sizeof(*w->c));
	}
	w->c[w->n].kind = kind;
	w->c[w->n].name = ap_xstrdup(name);
	w->c[w->n].id = *id;
	w->n++;
	return AP_DB_OK;
}

/* ---------------------------------------------------------------- readings */

static const char insert_host_sql[] =
    "INSERT INTO metric_host (res, at, src, cpu, cpu_user, cpu_system, cpu_iowait, cpu_steal, load1, load5, "
    "load15, mem_used, mem_total, swap_used, swap_total, procs, net_rx, net_tx, disk_read, disk_write) "
    "VALUES (0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char insert_dev_sql[] = "INSERT INTO metric_dev (res, at, src, a, b, c, d) VALUES (0, ?, ?, ?, ?, ?, ?)";

enum ap_db_rc
ap_metrics_store(struct ap_db *db, struct ap_metrics_writer *w, int64_t at, const double host[AP_MC__MAX],
    const struct ap_mdev *devs, size_t ndevs)
{
	struct ap_db_stmt *st = NULL;
	int64_t ids[AP_MDEV__MAX * 64];
	enum ap_db_rc rc;

	if (at <= w->last_at)
		return AP_DB_OK;
	if (w->host_src == 0 && (rc = source_id(db, w->host, "host", "", &w->host_src)) != AP_DB_OK)
		return rc;
	/* Source ids first, outside the transaction (a new one may race another host). */
	if (ndevs > AP_NELEM(ids))
		ndevs = AP_NELEM(ids);
	for (size_t i = 0; i < ndevs; i++) {
		ids[i] = 0;
		if ((unsigned)devs[i].kind >= AP_MDEV__MAX || devs[i].name == NULL || devs[i].name[0] == '\0' ||
		    strlen(devs[i].name) > AP_METRICS_NAME_MAX)
			continue;
		if ((rc = dev_source(db, w, devs[i].kind, devs[i].name, &ids[i])) != AP_DB_OK)
			return rc;
	}
	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return rc;
	rc = ap_db_prepare_cached(db, insert_host_sql, &st);
	if (rc != AP_DB_OK)
		goto fail;
	ap_db_bind_int64(st, 1, at);
	ap_db_bind_int64(st, 2, w->host_src);
	for (int c = 0; c < AP_MC__MAX; c++)
		bind_num(st, 3 + c, host[c]);
	rc = run(st);
	ap_db_finalize(st);
	if (rc != AP_DB_OK)
		goto fail;
	for (size_t i = 0; i < ndevs; i++) {
		if (ids[i] == 0)
			continue;
		if ((rc = ap_db_prepare_cached(db, insert_dev_sql, &st)) != AP_DB_OK)
			goto fail;
		ap_db_bind_int64(st, 1, at);
		ap_db_bind_int64(st, 2, ids[i]);
		for (int k = 0; k < 4; k++)
			bind_num(st, 3 + k, devs[i].v[k]);
		rc = run(st);
		ap_db_finalize(st);
		if (rc != AP_DB_OK)
			goto fail;
	}
	if ((rc = ap_db_commit(db)) != AP_DB_OK)
		goto fail;
	w->last_at = at;
	return AP_DB_OK;
fail:
	ap_db_rollback(db);
	if (rc == AP_DB_ECONSTRAINT) {
		/* This second is stored already (a restart within it). */
		w->last_at = at;
		return AP_DB_OK;
	}
	return rc;
}

enum ap_db_rc
ap_metrics_rollup(struct ap_db *db, struct ap_metrics_writer *w, int64_t now, int64_t *minutes)
{
	struct ap_db_stmt *st = NULL;
	int64_t end = now - (now % 60), start, n = 0;
	enum ap_db_rc rc;

	if (minutes)
		*minutes = 0;
	if (w->host_src == 0) {
		rc = find_source(db, w->host, "host", "", &w->host_src);
		if (rc == AP_DB_ENOTFOUND)
			return AP_DB_OK; /* nothing stored yet */
		if (rc != AP_DB_OK)
			return rc;
	}
	if (w->last_minute == -2) {
		rc = ap_db_prepare(db, "SELECT MAX(at) FROM metric_host WHERE res = 60 AND src = ?", &st);
		if (rc != AP_DB_OK)
			return rc;
		ap_db_bind_int64(st, 1, w->host_src);
		rc = ap_db_step(st);
		if (rc == AP_DB_ROW)
			w->last_minute = ap_db_col_is_null(st, 0) ? -1 : ap_db_col_int64(st, 0);
		ap_db_finalize(st);
		if (rc != AP_DB_ROW)
			return rc == AP_DB_DONE ? AP_DB_EOTHER : rc;
	}
	start = w->last_minute >= 0 ? w->last_minute + 60 : 0;
	/* Raw rows older than their keep are gone: nothing to average before that. */
	if (start < now - AP_METRICS_RAW_KEEP)
		start = now - AP_METRICS_RAW_KEEP - (now % 60);
	if (start >= end)
		return AP_DB_OK;
	if ((rc = ap_db_begin(db)) != AP_DB_OK)
		return rc;
	rc = ap_db_prepare(db,
	    "INSERT INTO metric_host (res, at, src, cpu, cpu_user, cpu_system, cpu_iowait, cpu_steal, load1, "
	    "load5, load15, mem_used, mem_total, swap_used, swap_total, procs, net_rx, net_tx, disk_read, "
	    "disk_write) SELECT 60, at - (at % 60), src, AVG(cpu), AVG(cpu_user), AVG(cpu_system), AVG(cpu_iowait), "
	    "AVG(cpu_steal), AVG(load1), AVG(load5), AVG(load15), AVG(mem_used), AVG(mem_total), AVG(swap_used), "
	    "AVG(swap_total), AVG(procs), AVG(net_rx), AVG(net_tx), AVG(disk_read), AVG(disk_write) "
	    "FROM metric_host WHERE res = 0 AND src = ? AND at >= ? AND at < ? GROUP BY at - (at % 60), src",
	    &st);
	if (rc != AP_DB_OK)
		goto fail;
	ap_db_bind_int64(st, 1, w->host_src);
	ap_db_bind_int64(st, 2, start);
	ap_db_bind_int64(st, 3, end);
	rc = run(st);
	if (rc == AP_DB_OK)
		n = ap_db_changes(st);
	ap_db_finalize(st);
	if (rc != AP_DB_OK)
		goto fail;
	rc = ap_db_prepare(db,
	    "INSERT INTO metric_dev (res, at, src, a, b, c, d) SELECT 60, at - (at % 60), src, AVG(a), AVG(b), "
	    "AVG(c), AVG(d) FROM metric_dev WHERE res = 0 AND at >= ? AND at < ? AND src IN "
	    "(SELECT id FROM metric_sources WHERE host = ? AND kind <> 'host') GROUP BY at - (at % 60), src",
	    &st);
	if (rc != AP_DB_OK)
		goto fail;
	ap_db_bind_int64(st, 1, start);
	ap_db_bind_int64(st, 2, end);
	ap_db_bind_text(st, 3, w->host, -1);
	rc = run(st);
	ap_db_finalize(st);
	if (rc != AP_DB_OK)
		goto fail;
	if ((rc = ap_db_commit(db)) != AP_DB_OK)
		goto fail;
	w->last_minute = end - 60;
	if (minutes)
		*minutes = n;
	return AP_DB_OK;
fail:
	ap_db_rollback(db);
	/* Another writer of this host (a restart) did it: look again next time. */
	if (rc == AP_DB_ECONSTRAINT)
		w->last_minute = -2;
	return rc;
}

static enum ap_db_rc
delete_before(struct ap_db *db, const char *sql, int64_t before, int64_t *n)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, before);
	rc = run(st);
	if (rc == AP_DB_OK)
		*n += ap_db_changes(st);
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_metrics_prune(struct ap_db *db, int64_t now, int64_t *deleted)
{
	int64_t n = 0;
	enum ap_db_rc rc;

	if ((rc = delete_before(db, "DELETE FROM metric_host WHERE res = 0 AND at < ?", now - AP_METRICS_RAW_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM metric_dev WHERE res = 0 AND at < ?", now - AP_METRICS_RAW_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM metric_host WHERE res = 60 AND at < ?", now - AP_METRICS_MINUTE_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM metric_dev WHERE res = 60 AND at < ?", now - AP_METRICS_MINUTE_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM alert_outbox WHERE sent_at IS NOT NULL AND sent_at < ?",
		 now - AP_ALERT_OUTBOX_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM alert_outbox WHERE sent_at IS NULL AND attempts >= 5 AND created_at < ?",
		 now - AP_ALERT_OUTBOX_KEEP, &n)) ||
	    (rc = delete_before(db, "DELETE FROM alert_events WHERE resolved_at IS NOT NULL AND resolved_at < ?",
		 now - AP_ALERT_EVENT_KEEP, &n)))
		return rc;
	if (deleted)
		*deleted = n;
	return AP_DB_OK;
}

enum ap_db_rc
ap_metrics_count(struct ap_db *db, int res, int64_t *host_rows, int64_t *dev_rows)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	for (int i = 0; i < 2; i++) {
		rc = ap_db_prepare(db, i == 0 ? "SELECT COUNT(*) FROM metric_host WHERE res = ?"
					      : "SELECT COUNT(*) FROM metric_dev WHERE res = ?",
		    &st);
		if (rc != AP_DB_OK)
			return rc;
		ap_db_bind_int64(st, 1, res);
		rc = ap_db_step(st);
		if (rc == AP_DB_ROW)
			*(i == 0 ? host_rows : dev_rows) = ap_db_col_int64(st, 0);
		ap_db_finalize(st);
		if (rc != AP_DB_ROW)
			return rc == AP_DB_DONE ? AP_DB_EOTHER : rc;
	}
	return AP_DB_OK;
}

/* ---------------------------------------------------------------- series */

static enum ap_db_rc
series(struct ap_db *db, const char *table, int64_t src, const struct ap_metrics_range *r, int64_t from,
    int64_t to, const char *const *cols, int ncols, ap_mpoint_fn cb, void *arg)
{
	struct ap_buf q = { 0 };
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	ap_buf_puts(&q, "SELECT at - (at % ?)");
	for (int i = 0; i < ncols; i++)
		ap_buf_printf(&q, ", AVG(%s)", cols[i]);
	ap_buf_printf(&q, " FROM %s WHERE res = ? AND src = ? AND at >= ? AND at < ? GROUP BY 1 ORDER BY 1", table);
	rc = ap_db_prepare(db, q.data, &st);
	ap_buf_free(&q);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, r->bucket);
	ap_db_bind_int64(st, 2, r->res);
	ap_db_bind_int64(st, 3, src);
	ap_db_bind_int64(st, 4, from);
	ap_db_bind_int64(st, 5, to);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_mpoint p;

		p.t = ap_db_col_int64(st, 0);
		for (int i = 0; i < 4; i++)
			p.v[i] = i < ncols ? col_num(st, 1 + i) : NAN;
		if (!cb(arg, &p)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_metrics_host_series(struct ap_db *db, const char *host, const struct ap_metrics_range *r, int64_t from,
    int64_t to, const enum ap_mcol *cols, int ncols, ap_mpoint_fn cb, void *arg)
{
	const char *names[4];
	int64_t src = 0;
	enum ap_db_rc rc;

	if (ncols < 1 || ncols > 4)
		return AP_DB_EINVAL;
	for (int i = 0; i < ncols; i++)
		if ((names[i] = ap_mcol_name(cols[i])) == NULL)
			return AP_DB_EINVAL;
	rc = find_source(db, host, "host", "", &src);
	if (rc == AP_DB_ENOTFOUND)
		return AP_DB_OK; /* no history yet */
	if (rc != AP_DB_OK)
		return rc;
	return series(db, "metric_host", src, r, from, to, names, ncols, cb, arg);
}

enum ap_db_rc
ap_metrics_dev_series(struct ap_db *db, const char *host, enum ap_mdev_kind kind, const char *name,
    const struct ap_metrics_range *r, int64_t from, int64_t to, ap_mpoint_fn cb, void *arg)
{
	static const char *const cols[] = { "a", "b", "c", "d" };
	int64_t src = 0;
	enum ap_db_rc rc;

	if ((unsigned)kind >= AP_MDEV__MAX)
		return AP_DB_EINVAL;
	if ((rc = find_source(db, host, mdev_names[kind], name, &src)) != AP_DB_OK)
		return rc;
	return series(db, "metric_dev", src, r, from, to, cols, 4, cb, arg);
}

enum ap_db_rc
ap_metrics_dev_names(struct ap_db *db, const char *host, enum ap_mdev_kind kind, int64_t since, ap_mname_fn cb,
    void *arg)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if ((unsigned)kind >= AP_MDEV__MAX)
		return AP_DB_EINVAL;
	rc = ap_db_prepare(db,
	    "SELECT s.name FROM metric_sources s WHERE s.host = ? AND s.kind = ? AND EXISTS "
	    "(SELECT 1 FROM metric_dev d WHERE d.src = s.id AND d.at >= ?) ORDER BY s.name",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	ap_db_bind_text(st, 2, mdev_names[kind], -1);
	ap_db_bind_int64(st, 3, since);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *n = ap_db_col_text(st, 0, NULL);

		if (n != NULL && !cb(arg, n)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/* ---------------------------------------------------------------- rules */

static bool
metric_has_target(enum ap_alert_metric m)
{
	return m == AP_AM_DISK_SPACE || m == AP_AM_DISK_INODES || m == AP_AM_CERT_EXPIRY || m == AP_AM_SITE_DOWN ||
	    m == AP_AM_BACKUP_AGE;
}

static enum ap_db_rc
channel_exists(struct ap_db *db, int64_t id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "SELECT id FROM alert_channels WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_ROW ? AP_DB_OK : rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
}

enum ap_db_rc
ap_alert_rule_create(struct ap_db *db, struct ap_alert_rule *r, int64_t now, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;
	double lo = 0, hi = 100;

	if ((unsigned)r->metric >= AP_AM__MAX) {
		ap_problem_set(pb, AP_PB_INVALID, "metric", "unknown metric");
		return AP_DB_EINVAL;
	}
	if (r->metric == AP_AM_LOAD)
		hi = 100000;
	else if (r->metric == AP_AM_CERT_EXPIRY)
		lo = 0, hi = 3650;
	else if (r->metric == AP_AM_SITE_DOWN)
		lo = 0, hi = 60; /* seconds to wait for an answer */
	else if (r->metric == AP_AM_BACKUP_AGE)
		lo = 0, hi = 8760;
	/* backup_age 0: from each target's schedule plus backups.alert_margin (backup_tasks.c) */
	if (!(r->metric == AP_AM_BACKUP_AGE && r->threshold == 0) && !(r->threshold > lo && r->threshold <= hi)) {
		ap_problem_set(pb, AP_PB_INVALID, "threshold", "must be a number above %d and at most %d", (int)lo, (int)hi);
		return AP_DB_EINVAL;
	}
	if (r->target[0] != '\0' && !metric_has_target(r->metric)) {
		ap_problem_set(pb, AP_PB_INVALID, "target", "only disk, certificate and site rules have a target");
		return AP_DB_EINVAL;
	}
	if (r->target[0] != '\0' && (r->metric == AP_AM_DISK_SPACE || r->metric == AP_AM_DISK_INODES) &&
	    r->target[0] != '/') {
		ap_problem_set(pb, AP_PB_INVALID, "target", "must be a mount point such as / or /var");
		return AP_DB_EINVAL;
	}
	if (r->target[0] != '\0' && (r->metric == AP_AM_CERT_EXPIRY || r->metric == AP_AM_SITE_DOWN) &&
	    ap_check_domain(r->target, strlen(r->target)) != NULL) {
		ap_problem_set(pb, AP_PB_INVALID, "target", "must be a domain name such as example.com");
		return AP_DB_EINVAL;
	}
	if (r->duration < 0 || r->duration > 7 * 86400) {
		ap_problem_set(pb, AP_PB_INVALID, "duration", "must be between 0 and 10080 minutes");
		return AP_DB_EINVAL;
	}
	if (r->channel_id != 0 && (rc = channel_exists(db, r->channel_id)) != AP_DB_OK) {
		if (rc != AP_DB_ENOTFOUND)
			return rc;
		ap_problem_set(pb, AP_PB_INVALID, "channel", "no such channel");
		return AP_DB_EINVAL;
	}
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO alert_rules (metric, target, threshold, duration, channel_id, enabled, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "id", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, ap_alert_metric_names[r->metric], -1);
	ap_db_bind_text(st, 2, r->target, -1);
	ap_db_bind_double(st, 3, r->threshold);
	ap_db_bind_int64(st, 4, r->duration);
	if (r->channel_id != 0)
		ap_db_bind_int64(st, 5, r->channel_id);
	else
		ap_db_bind_null(st, 5);
	ap_db_bind_int64(st, 6, r->enabled ? 1 : 0);
	ap_db_bind_int64(st, 7, now);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		r->id = ap_db_last_insert_id(st);
		r->created_at = now;
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

static const char rule_cols[] = "SELECT id, metric, target, threshold, duration, channel_id, enabled, created_at "
				"FROM alert_rules";

static bool
rule_row(struct ap_db_stmt *st, struct ap_alert_rule *r)
{
	char m[32];

	memset(r, 0, sizeof(*r));
	r->id = ap_db_col_int64(st, 0);
	col_copy(st, 1, m, sizeof(m));
	if (!ap_alert_metric_parse(m, &r->metric))
		return false;
	col_copy(st, 2, r->target, sizeof(r->target));
	r->threshold = ap_db_col_double(st, 3);
	r->duration = ap_db_col_int64(st, 4);
	r->channel_id = ap_db_col_is_null(st, 5) ? 0 : ap_db_col_int64(st, 5);
	r->enabled = ap_db_col_int64(st, 6) != 0;
	r->created_at = ap_db_col_int64(st, 7);
	return true;
}

enum ap_db_rc
ap_alert_rule_get(struct ap_db *db, int64_t id, struct ap_alert_rule *out)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(rule_cols) + 32];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "%s WHERE id = ?", rule_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW)
		rc = rule_row(st, out) ? AP_DB_OK : AP_DB_ENOTFOUND;
	else if (rc == AP_DB_DONE)
		rc = AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_alert_rules_each(struct ap_db *db, ap_alert_rule_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(rule_cols) + 32];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "%s ORDER BY id", rule_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_alert_rule r;

		if (rule_row(st, &r) && !cb(arg, &r)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

static enum ap_db_rc
change_by_id(struct ap_db *db, const char *sql, int64_t id, int64_t v, bool with_v)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);
	int64_t n = 0;

	if (rc != AP_DB_OK)
		return rc;
	if (with_v) {
		ap_db_bind_int64(st, 1, v);
		ap_db_bind_int64(st, 2, id);
	} else
		ap_db_bind_int64(st, 1, id);
	rc = run(st);
	if (rc == AP_DB_OK)
		n = ap_db_changes(st);
	ap_db_finalize(st);
	if (rc == AP_DB_OK && n == 0)
		rc = AP_DB_ENOTFOUND;
	return rc;
}

enum ap_db_rc
ap_alert_rule_delete(struct ap_db *db, int64_t id)
{
	return change_by_id(db, "DELETE FROM alert_rules WHERE id = ?", id, 0, false);
}

enum ap_db_rc
ap_alert_rule_set_enabled(struct ap_db *db, int64_t id, bool enabled)
{
	enum ap_db_rc rc = change_by_id(db, "UPDATE alert_rules SET enabled = ? WHERE id = ?", id, enabled, true);
	struct ap_alert_rule r;

	/* MariaDB counts an unchanged row as not changed: the rule may still exist. */
	if (rc == AP_DB_ENOTFOUND && ap_alert_rule_get(db, id, &r) == AP_DB_OK)
		rc = AP_DB_OK;
	return rc;
}

/* ---------------------------------------------------------------- channels */

enum ap_db_rc
ap_alert_channel_create(struct ap_db *db, struct ap_alert_channel *c, int64_t now, struct ap_problem *pb)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	if ((unsigned)c->kind >= AP_AC__MAX || c->target[0] == '\0') {
		ap_problem_set(pb, AP_PB_INVALID, "kind", "unknown channel type");
		return AP_DB_EINVAL;
	}
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO alert_channels (name, kind, target, secret, enabled, created_at) VALUES (?, ?, ?, ?, ?, ?)",
	    "id", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, c->name, -1);
	ap_db_bind_text(st, 2, ap_alert_channel_kinds[c->kind], -1);
	ap_db_bind_text(st, 3, c->target, -1);
	if (c->secret[0])
		ap_db_bind_text(st, 4, c->secret, -1);
	else
		ap_db_bind_null(st, 4);
	ap_db_bind_int64(st, 5, c->enabled ? 1 : 0);
	ap_db_bind_int64(st, 6, now);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		c->id = ap_db_last_insert_id(st);
		c->created_at = now;
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	if (rc == AP_DB_ECONSTRAINT)
		ap_problem_set(pb, AP_PB_EXISTS, "name", "a channel with this name exists already");
	return rc;
}

static const char channel_cols[] = "SELECT id, name, kind, target, secret, enabled, created_at, last_test_at, "
				   "last_test_ok, last_test_error FROM alert_channels";

static void
channel_row(struct ap_db_stmt *st, struct ap_alert_channel *c)
{
	char k[16];

	memset(c, 0, sizeof(*c));
	c->id = ap_db_col_int64(st, 0);
	col_copy(st, 1, c->name, sizeof(c->name));
	col_copy(st, 2, k, sizeof(k));
	c->kind = strcmp(k, "webhook") == 0 ? AP_AC_WEBHOOK : AP_AC_EMAIL;
	col_copy(st, 3, c->target, sizeof(c->target));
	col_copy(st, 4, c->secret, sizeof(c->secret));
	c->enabled = ap_db_col_int64(st, 5) != 0;
	c->created_at = ap_db_col_int64(st, 6);
	c->last_test_at = ap_db_col_is_null(st, 7) ? 0 : ap_db_col_int64(st, 7);
	c->last_test_ok = ap_db_col_is_null(st, 8) ? -1 : (int)ap_db_col_int64(st, 8);
	col_copy(st, 9, c->last_test_error, sizeof(c->last_test_error));
}

enum ap_db_rc
ap_alert_channel_get(struct ap_db *db, int64_t id, struct ap_alert_channel *out)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(channel_cols) + 32];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "%s WHERE id = ?", channel_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		channel_row(st, out);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_alert_channels_each(struct ap_db *db, ap_alert_channel_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(channel_cols) + 32];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "%s ORDER BY id", channel_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_alert_channel *c = ap_xmalloc(sizeof(*c));
		bool go;

		channel_row(st, c);
		go = cb(arg, c);
		free(c);
		if (!go) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_alert_channel_delete(struct ap_db *db, int64_t id)
{
	return change_by_id(db, "DELETE FROM alert_channels WHERE id = ?", id, 0, false);
}

/* ---------------------------------------------------------------- episodes */

enum ap_db_rc
ap_alert_event_open(struct ap_db *db, struct ap_alert_event *e, int64_t *id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare_insert(db,
	    "INSERT INTO alert_events (rule_id, host, subject, rule_text, value, peak, started_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "id", &st);

	if (rc != AP_DB_OK)
		return rc;
	if (e->rule_id)
		ap_db_bind_int64(st, 1, e->rule_id);
	else
		ap_db_bind_null(st, 1);
	ap_db_bind_text(st, 2, e->host, -1);
	ap_db_bind_text(st, 3, e->subject, -1);
	ap_db_bind_text(st, 4, e->rule_text, -1);
	ap_db_bind_double(st, 5, e->value);
	ap_db_bind_double(st, 6, e->peak);
	ap_db_bind_int64(st, 7, e->started_at);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		*id = e->id = ap_db_last_insert_id(st);
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_alert_event_peak(struct ap_db *db, int64_t id, double peak)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "UPDATE alert_events SET peak = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_double(st, 1, peak);
	ap_db_bind_int64(st, 2, id);
	rc = run(st);
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_alert_event_resolve(struct ap_db *db, int64_t id, int64_t at)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "UPDATE alert_events SET resolved_at = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, at);
	ap_db_bind_int64(st, 2, id);
	rc = run(st);
	ap_db_finalize(st);
	return rc;
}

static const char event_cols[] =
    "SELECT e.id, e.rule_id, e.host, e.subject, e.rule_text, e.value, e.peak, e.started_at, e.resolved_at, "
    "(SELECT COUNT(*) FROM alert_outbox o WHERE o.event_id = e.id AND o.sent_at IS NOT NULL), "
    "(SELECT COUNT(*) FROM alert_outbox o WHERE o.event_id = e.id AND o.sent_at IS NULL AND o.attempts >= 5) "
    "FROM alert_events e";

/* The episode of the statement's row. */
static void
event_row(struct ap_db_stmt *st, struct ap_alert_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = ap_db_col_int64(st, 0);
	e->rule_id = ap_db_col_is_null(st, 1) ? 0 : ap_db_col_int64(st, 1);
	col_copy(st, 2, e->host, sizeof(e->host));
	col_copy(st, 3, e->subject, sizeof(e->subject));
	col_copy(st, 4, e->rule_text, sizeof(e->rule_text));
	e->value = ap_db_col_double(st, 5);
	e->peak = ap_db_col_double(st, 6);
	e->started_at = ap_db_col_int64(st, 7);
	e->resolved_at = ap_db_col_is_null(st, 8) ? 0 : ap_db_col_int64(st, 8);
	e->notified = (int)ap_db_col_int64(st, 9);
	e->failed = (int)ap_db_col_int64(st, 10);
}

/* Every row to cb, at most limit (-1: all); *more when a row follows them. Finalizes st. */
static enum ap_db_rc
events(struct ap_db_stmt *st, int64_t limit, ap_alert_event_fn cb, void *arg, bool *more)
{
	int64_t n = 0;
	enum ap_db_rc rc;

	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_alert_event e;

		/* One row more than the page: it only says that another page follows. */
		if (limit >= 0 && n++ == limit) {
			if (more)
				*more = true;
			rc = AP_DB_DONE;
			break;
		}
		event_row(st, &e);
		if (!cb(arg, &e)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_alert_events_open(struct ap_db *db, const char *host, ap_alert_event_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(event_cols) + 96];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "%s WHERE e.host = ? AND e.resolved_at IS NULL ORDER BY e.id", event_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	return events(st, -1, cb, arg, NULL);
}

enum ap_db_rc
ap_alert_events_page(struct ap_db *db, int64_t before, int64_t limit, ap_alert_event_fn cb, void *arg,
    bool *more)
{
	struct ap_db_stmt *st = NULL;
	char sql[sizeof(event_cols) + 96];
	enum ap_db_rc rc;

	if (more)
		*more = false;
	if (limit < 1 || limit > 10000)
		return AP_DB_EINVAL;
	/* By key, not by offset: episodes opened meanwhile neither repeat nor push others out. */
	snprintf(sql, sizeof(sql), "%s WHERE (? = 0 OR e.id < ?) ORDER BY e.id DESC LIMIT ?", event_cols);
	if ((rc = ap_db_prepare(db, sql, &st)) != AP_DB_OK)
		return rc;
	if ((rc = ap_db_bind_int64(st, 1, before)) != AP_DB_OK || (rc = ap_db_bind_int64(st, 2, before)) != AP_DB_OK ||
	    (rc = ap_db_bind_int64(st, 3, limit + 1)) != AP_DB_OK) {
		ap_db_finalize(st);
		return rc;
	}
	return events(st, limit, cb, arg, more);
}

/* ---------------------------------------------------------------- outbox */

enum ap_db_rc
ap_alert_outbox_add(struct ap_db *db, const char *host, int64_t event_id, int64_t channel_id, const char *kind,
    const char *subject, const char *body, const char *payload, int64_t now)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "INSERT INTO alert_outbox (host, event_id, channel_id, kind, subject, body, payload, created_at, "
	    "attempts, next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	if (event_id)
		ap_db_bind_int64(st, 2, event_id);
	else
		ap_db_bind_null(st, 2);
	ap_db_bind_int64(st, 3, channel_id);
	ap_db_bind_text(st, 4, kind, -1);
	ap_db_bind_text(st, 5, subject, -1);
	ap_db_bind_text(st, 6, body, -1);
	ap_db_bind_text(st, 7, payload, -1);
	ap_db_bind_int64(st, 8, now);
	ap_db_bind_int64(st, 9, now);
	rc = run(st);
	ap_db_finalize(st);
	/* Once per (episode, channel, kind): a repeat is what deduplication is for. */
	if (rc == AP_DB_ECONSTRAINT && event_id != 0 && !ap_db_in_transaction(db))
		return AP_DB_OK;
	return rc;
}

enum ap_db_rc
ap_alert_outbox_due(struct ap_db *db, const char *host, int64_t now, int limit, ap_alert_msg_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	struct ap_alert_msg *v = NULL;
	int n = 0;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "SELECT id, event_id, channel_id, kind, subject, body, payload, attempts FROM alert_outbox "
	    "WHERE host = ? AND sent_at IS NULL AND attempts < ? AND next_at <= ? ORDER BY id LIMIT ?",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, host, -1);
	ap_db_bind_int64(st, 2, AP_ALERT_MAX_ATTEMPTS);
	ap_db_bind_int64(st, 3, now);
	ap_db_bind_int64(st, 4, limit);
	/* Read them all first: the callback sends and writes the outcome on the same connection. */
	v = ap_xcalloc((size_t)(limit > 0 ? limit : 1), sizeof(*v));
	while (n < limit && (rc = ap_db_step(st)) == AP_DB_ROW) {
		struct ap_alert_msg *m = &v[n++];
		const char *s;

		m->id = ap_db_col_int64(st, 0);
		m->event_id = ap_db_col_is_null(st, 1) ? 0 : ap_db_col_int64(st, 1);
		m->channel_id = ap_db_col_int64(st, 2);
		col_copy(st, 3, m->kind, sizeof(m->kind));
		col_copy(st, 4, m->subject, sizeof(m->subject));
		s = ap_db_col_text(st, 5, NULL);
		m->body = ap_xstrdup(s ? s : "");
		s = ap_db_col_text(st, 6, NULL);
		m->payload = ap_xstrdup(s ? s : "");
		m->attempts = (int)ap_db_col_int64(st, 7);
	}
	ap_db_finalize(st);
	if (rc == AP_DB_ROW || rc == AP_DB_DONE)
		rc = AP_DB_OK;
	{
		bool go = rc == AP_DB_OK;

		for (int i = 0; i < n; i++) {
			if (go)
				go = cb(arg, &v[i]);
			free(v[i].body);
			free(v[i].payload);
		}
	}
	free(v);
	return rc;
}

enum ap_db_rc
ap_alert_outbox_done(struct ap_db *db, const struct ap_alert_msg *m, bool ok, const char *error, int64_t now)
{
	struct ap_db_stmt *st = NULL;
	bool test = strcmp(m->kind, "test") == 0;
	int attempts = m->attempts + 1;
	/* A test is tried once: its result is what the operator waits for. */
	int64_t next = now + (30LL << (attempts < 10 ? attempts : 10));
	enum ap_db_rc rc;

	if (test && !ok)
		attempts = AP_ALERT_MAX_ATTEMPTS;
	rc = ap_db_prepare(db, "UPDATE alert_outbox SET attempts = ?, sent_at = ?, next_at = ?, error = ? WHERE id = ?",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, attempts);
	if (ok)
		ap_db_bind_int64(st, 2, now);
	else
		ap_db_bind_null(st, 2);
	ap_db_bind_int64(st, 3, next);
	if (ok || error == NULL)
		ap_db_bind_null(st, 4);
	else
		ap_db_bind_text(st, 4, error, -1);
	ap_db_bind_int64(st, 5, m->id);
	rc = run(st);
	ap_db_finalize(st);
	if (rc != AP_DB_OK || !test)
		return rc;
	rc = ap_db_prepare(db,
	    "UPDATE alert_channels SET last_test_at = ?, last_test_ok = ?, last_test_error = ? WHERE id = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, now);
	ap_db_bind_int64(st, 2, ok ? 1 : 0);
	if (ok || error == NULL)
		ap_db_bind_null(st, 3);
	else
		ap_db_bind_text(st, 3, error, -1);
	ap_db_bind_int64(st, 4, m->channel_id);
	rc = run(st);
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_alert_certs_each(struct ap_db *db, ap_cert_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "SELECT domain, not_after FROM certificates WHERE not_after IS NOT NULL ORDER BY domain", &st);

	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *d = ap_db_col_text(st, 0, NULL);

		if (d != NULL && !cb(arg, d, ap_db_col_int64(st, 1))) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_alert_sites_each(struct ap_db *db, ap_site_domain_fn cb, void *arg)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, "SELECT domain FROM sites WHERE status = 'running' ORDER BY domain", &st);

	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		const char *d = ap_db_col_text(st, 0, NULL);

		if (d != NULL && !cb(arg, d)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_alert_site_rules_timeout(struct ap_db *db, double *seconds)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "SELECT MAX(threshold) FROM alert_rules WHERE metric = 'site_down' AND enabled = 1", &st);

	*seconds = 0;
	if (rc != AP_DB_OK)
		return rc;
	if ((rc = ap_db_step(st)) == AP_DB_ROW) {
		if (!ap_db_col_is_null(st, 0))
			*seconds = ap_db_col_double(st, 0);
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_OK;
	ap_db_finalize(st);
	return rc;
}
