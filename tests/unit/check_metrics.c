/*
 * check_metrics.c — the monitoring data (metrics.h) and the alert rules
 * (alerts.h) with a driven clock: readings stored raw, averaged per minute,
 * pruned so the tables stay bounded; rules firing once per episode and
 * recovering; the outbox. SQLite in a temp dir by default; t_db.sh runs it
 * again on MariaDB and PostgreSQL:
 *
 *   AAPANEL_TEST_DSN, AAPANEL_TEST_DB_PASSWORD_FILE  as check_db.c
 *
 * Every test starts and ends with the monitoring tables empty, so the
 * suite can run against a database other tests use.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/alerts.h"
#include "aapanel/db.h"
#include "aapanel/metrics.h"
#include "aapanel/migrate.h"

static char dsn[1024], tmp[64];
static char *password;
static struct ap_db *db;

static const char *const tables[] = { "alert_outbox", "alert_events", "alert_rules", "alert_channels", "metric_dev",
	"metric_host", "metric_sources" };

static void
clear(void)
{
	char sql[64];

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[i]);
		ck_assert_int_eq(ap_db_exec(db, sql), AP_DB_OK);
	}
}

static void
setup(void)
{
	const char *srcdir = getenv("AAPANEL_SRCDIR") ? getenv("AAPANEL_SRCDIR") : ".";
	const char *env = getenv("AAPANEL_TEST_DSN"), *pwf = getenv("AAPANEL_TEST_DB_PASSWORD_FILE");
	struct ap_db_opts o = { 0 };
	struct ap_migrations m;
	char sqldir[512], err[512];
	size_t applied = 0;

	if (env && *env)
		snprintf(dsn, sizeof(dsn), "%s", env);
	else {
		strcpy(tmp, "/tmp/ap-metrics-XXXXXX");
		ck_assert_ptr_nonnull(mkdtemp(tmp));
		snprintf(dsn, sizeof(dsn), "sqlite:%s/m.db", tmp);
	}
	if (pwf && *pwf && password == NULL) {
		FILE *f = fopen(pwf, "r");
		char line[256] = "";

		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		password = strdup(line);
	}
	o.dsn = dsn;
	o.password = password;
	ck_assert_int_eq(ap_db_open(&o, &db), AP_DB_OK);
	snprintf(sqldir, sizeof(sqldir), "%s/sql", srcdir);
	ck_assert_msg(ap_migrate_load(sqldir, ap_db_backend(db), &m, err, sizeof(err)) == AP_OK, "%s", err);
	ck_assert_msg(ap_migrate_apply(db, &m, &applied, err, sizeof(err)) == AP_DB_OK, "%s", err);
	ap_migrations_free(&m);
	clear();
}

static void
teardown(void)
{
	clear();
	ap_db_close(db);
	db = NULL;
	if (tmp[0]) {
		char p[128];

		snprintf(p, sizeof(p), "%s/m.db", tmp);
		unlink(p);
		snprintf(p, sizeof(p), "%s/m.db-wal", tmp);
		unlink(p);
		snprintf(p, sizeof(p), "%s/m.db-shm", tmp);
		unlink(p);
		rmdir(tmp);
		tmp[0] = '\0';
	}
}

/* A reading at t: cpu and "/" usage as given, the rest fixed. */
static void
store_at(struct ap_metrics_writer *w, int64_t t, double cpu, double used)
{
	double host[AP_MC__MAX];
	struct ap_mdev d[2] = {
		{ AP_MDEV_FS, "/srv/My Backups", { used, 1000, 10, 100 } },
		{ AP_MDEV_NET, "enx00e04c680001", { cpu * 10, cpu * 20, NAN, NAN } },
	};

	for (int i = 0; i < AP_MC__MAX; i++)
		host[i] = i;
	host[AP_MC_CPU] = cpu;
	host[AP_MC_CPU_STEAL] = NAN;
	ck_assert_int_eq(ap_metrics_store(db, w, t, host, d, 2), AP_DB_OK);
}

struct collect {
	struct ap_mpoint p[4096];
	int n;
};

static bool
collect(void *arg, const struct ap_mpoint *p)
{
	struct collect *c = arg;

	if (c->n < 4096)
		c->p[c->n++] = *p;
	return true;
}

#define T0 1800000000LL /* a multiple of 60: minutes start on it */

START_TEST(test_raw_then_per_minute_averages)
{
	struct ap_metrics_writer *w = ap_metrics_writer_new("host-a");
	const struct ap_metrics_range minute = { "t", 3600, 60, 60 }, raw10 = { "t", 3600, 0, 10 };
	static const enum ap_mcol cols[] = { AP_MC_CPU, AP_MC_CPU_STEAL };
	static struct collect c;
	int64_t minutes = 0, hr = 0, dr = 0;

	/* Three minutes of readings every 5 s: cpu = the second within its minute. */
	for (int64_t t = T0; t < T0 + 180; t += 5)
		store_at(w, t, (double)(t % 60), 500);
	store_at(w, T0 + 5, 99, 0); /* the same second again: ignored */
	ck_assert_int_eq(ap_metrics_count(db, 0, &hr, &dr), AP_DB_OK);
	ck_assert_int_eq(hr, 36);
	ck_assert_int_eq(dr, 72);
	/* At T0+150 only the first two minutes are complete. */
	ck_assert_int_eq(ap_metrics_rollup(db, w, T0 + 150, &minutes), AP_DB_OK);
	ck_assert_int_eq(minutes, 2);
	ck_assert_int_eq(ap_metrics_rollup(db, w, T0 + 170, &minutes), AP_DB_OK);
	ck_assert_int_eq(minutes, 0); /* nothing new: never twice */
	ck_assert_int_eq(ap_metrics_rollup(db, w, T0 + 185, &minutes), AP_DB_OK);
	ck_assert_int_eq(minutes, 1);
	c.n = 0;
	ck_assert_int_eq(ap_metrics_host_series(db, "host-a", &minute, T0, T0 + 3600, cols, 2, collect, &c), AP_DB_OK);
	ck_assert_int_eq(c.n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(c.p[i].t, T0 + 60 * i);
		ck_assert_msg(fabs(c.p[i].v[0] - 27.5) < 1e-9, "minute %d: %f", i, c.p[i].v[0]); /* mean of 0,5..55 */
		ck_assert(isnan(c.p[i].v[1]));                                                   /* NULL stays NULL */
	}
	/* Raw rows in 10 s buckets. */
	c.n = 0;
	ck_assert_int_eq(ap_metrics_host_series(db, "host-a", &raw10, T0, T0 + 60, cols, 1, collect, &c), AP_DB_OK);
	ck_assert_int_eq(c.n, 6);
	ck_assert(fabs(c.p[1].v[0] - 12.5) < 1e-9); /* 10 and 15 */
	/* A device's series, and one with no history. */
	c.n = 0;
	ck_assert_int_eq(ap_metrics_dev_series(db, "host-a", AP_MDEV_FS, "/srv/My Backups", &minute, T0, T0 + 3600,
	    collect, &c), AP_DB_OK);
	ck_assert_int_eq(c.n, 3);
	ck_assert(fabs(c.p[0].v[0] - 500) < 1e-9 && fabs(c.p[0].v[1] - 1000) < 1e-9);
	ck_assert_int_eq(ap_metrics_dev_series(db, "host-a", AP_MDEV_DISK, "sdz", &minute, T0, T0 + 3600, collect, &c),
	    AP_DB_ENOTFOUND);
	/* Another host's history is its own. */
	c.n = 0;
	ck_assert_int_eq(ap_metrics_host_series(db, "host-b", &minute, T0, T0 + 3600, cols, 1, collect, &c), AP_DB_OK);
	ck_assert_int_eq(c.n, 0);
	ap_metrics_writer_free(w);
	/* A new writer (a restarted sampler) does not average the same minutes again. */
	w = ap_metrics_writer_new("host-a");
	ck_assert_int_eq(ap_metrics_rollup(db, w, T0 + 190, &minutes), AP_DB_OK);
	ck_assert_int_eq(minutes, 0);
	ap_metrics_writer_free(w);
}
END_TEST

struct names {
	char v[8][64];
	int n;
};

static bool
name_cb(void *arg, const char *name)
{
	struct names *l = arg;

	if (l->n < 8)
		snprintf(l->v[l->n++], 64, "%s", name);
	return true;
}

START_TEST(test_pruning_keeps_the_tables_bounded)
{
	struct ap_metrics_writer *w = ap_metrics_writer_new("host-a");
	int64_t hr = 0, dr = 0, mr = 0, mdr = 0, del = 0, t;
	struct names l = { .n = 0 };

	/* 26 hours of a reading a minute, the sampler's once-a-minute work every 10 minutes. */
	for (t = T0; t < T0 + 26 * 3600; t += 60) {
		store_at(w, t, 50, 1);
		if ((t - T0) % 600 == 0) {
			ck_assert_int_eq(ap_metrics_rollup(db, w, t, NULL), AP_DB_OK);
			ck_assert_int_eq(ap_metrics_prune(db, t, NULL), AP_DB_OK);
		}
	}
	ck_assert_int_eq(ap_metrics_rollup(db, w, t, NULL), AP_DB_OK);
	ck_assert_int_eq(ap_metrics_prune(db, t, &del), AP_DB_OK);
	ck_assert_int_eq(ap_metrics_count(db, 0, &hr, &dr), AP_DB_OK);
	ck_assert_int_eq(ap_metrics_count(db, 60, &mr, &mdr), AP_DB_OK);
	/* Raw: the last 24 hours only; per minute: all 26 hours (kept 30 days). */
	ck_assert_int_eq(hr, 24 * 60);
	ck_assert_int_eq(dr, 2 * 24 * 60);
	ck_assert_int_eq(mr, 26 * 60);
	ck_assert_int_eq(mdr, 2 * 26 * 60);
	ck_assert_int_eq(ap_metrics_dev_names(db, "host-a", AP_MDEV_NET, t - 3600, name_cb, &l), AP_DB_OK);
	ck_assert_int_eq(l.n, 1);
	ck_assert_str_eq(l.v[0], "enx00e04c680001");
	/* Thirty days on, the minutes are gone too. */
	ck_assert_int_eq(ap_metrics_prune(db, t + AP_METRICS_MINUTE_KEEP + 3600, &del), AP_DB_OK);
	ck_assert_int_eq(ap_metrics_count(db, 60, &mr, &mdr), AP_DB_OK);
	ck_assert_int_eq(mr + mdr, 0);
	ck_assert_int_eq(ap_metrics_count(db, 0, &hr, &dr), AP_DB_OK);
	ck_assert_int_eq(hr + dr, 0);
	ap_metrics_writer_free(w);
}
END_TEST

START_TEST(test_rule_validation)
{
	struct ap_alert_rule r;
	struct ap_problem pb;

	memset(&r, 0, sizeof(r));
	r.metric = AP_AM_CPU;
	r.threshold = 101;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_EINVAL);
	ck_assert_str_eq(pb.field, "threshold");
	r.threshold = 90;
	snprintf(r.target, sizeof(r.target), "/var");
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_EINVAL);
	ck_assert_str_eq(pb.field, "target");
	r.metric = AP_AM_DISK_SPACE;
	snprintf(r.target, sizeof(r.target), "var");
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_EINVAL);
	ck_assert_str_eq(pb.field, "target");
	snprintf(r.target, sizeof(r.target), "/var");
	r.channel_id = 999999;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_EINVAL);
	ck_assert_str_eq(pb.field, "channel");
	r.channel_id = 0;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_OK);
	ck_assert_int_gt(r.id, 0);
	r.metric = AP_AM_LOAD;
	r.target[0] = '\0';
	r.threshold = 2.5;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_alert_rule_delete(db, r.id), AP_DB_OK);
	ck_assert_int_eq(ap_alert_rule_delete(db, r.id), AP_DB_ENOTFOUND);
}
END_TEST

static int64_t
count(const char *sql)
{
	int64_t n = -1;

	ck_assert_int_eq(ap_db_query_int64(db, sql, &n), AP_DB_OK);
	return n;
}

static struct ap_sys *
reading(double cpu, double root_pct)
{
	static struct ap_sys s;

	memset(&s, 0, sizeof(s));
	s.rates = true;
	s.cpu.total = cpu;
	s.mem.total = 100;
	s.mem_used = 10;
	s.nfs = 1;
	snprintf(s.fs[0].mount, sizeof(s.fs[0].mount), "/");
	s.fs[0].used = (uint64_t)root_pct;
	s.fs[0].avail = 100 - (uint64_t)root_pct;
	return &s;
}

struct msgs {
	char kind[8][12];
	int64_t channel[8];
	int n;
};

static bool
msg_cb(void *arg, const struct ap_alert_msg *m)
{
	struct msgs *l = arg;

	if (l->n < 8) {
		snprintf(l->kind[l->n], 12, "%s", m->kind);
		l->channel[l->n] = m->channel_id;
		l->n++;
	}
	ck_assert_int_eq(ap_alert_outbox_done(db, m, true, NULL, T0), AP_DB_OK);
	return true;
}

START_TEST(test_alert_fires_once_per_episode_and_recovers)
{
	struct ap_alerts *a = ap_alerts_new("host-a");
	struct ap_alert_channel c1, c2;
	struct ap_alert_rule r;
	struct ap_problem pb;
	struct msgs l = { .n = 0 };
	int fired = 0, resolved = 0;

	memset(&c1, 0, sizeof(c1));
	snprintf(c1.name, sizeof(c1.name), "ops");
	c1.kind = AP_AC_WEBHOOK;
	c1.enabled = true;
	snprintf(c1.target, sizeof(c1.target), "http://127.0.0.1:9/hook");
	snprintf(c1.secret, sizeof(c1.secret), "0123456789abcdef");
	ck_assert_int_eq(ap_alert_channel_create(db, &c1, T0, &pb), AP_DB_OK);
	c2 = c1;
	ck_assert_int_eq(ap_alert_channel_create(db, &c2, T0, &pb), AP_DB_ECONSTRAINT);
	ck_assert_str_eq(pb.field, "name");
	snprintf(c2.name, sizeof(c2.name), "mail");
	c2.kind = AP_AC_EMAIL;
	snprintf(c2.target, sizeof(c2.target), "ops@example.com");
	ck_assert_int_eq(ap_alert_channel_create(db, &c2, T0, &pb), AP_DB_OK);
	memset(&r, 0, sizeof(r));
	r.metric = AP_AM_CPU;
	r.threshold = 50;
	r.duration = 20;
	r.enabled = true;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_OK);

	/* Over the threshold: nothing before 20 s, then one episode, then nothing more. */
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(90, 10), T0, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(fired, 0);
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(95, 10), T0 + 10, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(fired, 0);
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(97, 10), T0 + 20, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(fired, 1);
	for (int i = 3; i < 8; i++) {
		ck_assert_int_eq(ap_alerts_eval(a, db, reading(99, 10), T0 + 10 * i, &fired, &resolved), AP_DB_OK);
		ck_assert_int_eq(fired, 0);
	}
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_events"), 1);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'firing'"), 2); /* both channels */
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_events WHERE peak = 99"), 1);
	/* A restarted sampler picks the episode up: no second message. */
	ap_alerts_free(a);
	a = ap_alerts_new("host-a");
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(99, 10), T0 + 80, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(fired, 0);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_outbox"), 2);
	/* Below again: recovered after min(duration, 60 s) = 20 s, once. */
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(10, 10), T0 + 90, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(resolved, 0);
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(10, 10), T0 + 110, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(resolved, 1);
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(10, 10), T0 + 120, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(resolved, 0);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'resolved'"), 2);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_events WHERE resolved_at IS NOT NULL"), 1);
	/* The outbox hands each message over once. */
	ck_assert_int_eq(ap_alert_outbox_due(db, "host-a", T0 + 200, 20, msg_cb, &l), AP_DB_OK);
	ck_assert_int_eq(l.n, 4);
	l.n = 0;
	ck_assert_int_eq(ap_alert_outbox_due(db, "host-a", T0 + 300, 20, msg_cb, &l), AP_DB_OK);
	ck_assert_int_eq(l.n, 0);
	/* A second episode is a new one. */
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(ap_alerts_eval(a, db, reading(80, 10), T0 + 200 + 10 * i, &fired, &resolved), AP_DB_OK);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_events"), 2);
	ap_alerts_free(a);
}
END_TEST

START_TEST(test_disk_rule_per_mount_and_failed_delivery_backs_off)
{
	struct ap_alerts *a = ap_alerts_new("host-a");
	struct ap_alert_channel c;
	struct ap_alert_rule r;
	struct ap_problem pb;
	int fired = 0;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "mail");
	c.kind = AP_AC_EMAIL;
	c.enabled = true;
	snprintf(c.target, sizeof(c.target), "ops@example.com");
	ck_assert_int_eq(ap_alert_channel_create(db, &c, T0, &pb), AP_DB_OK);
	memset(&r, 0, sizeof(r));
	r.metric = AP_AM_DISK_SPACE;
	r.threshold = 90;
	r.enabled = true;
	r.channel_id = c.id;
	ck_assert_int_eq(ap_alert_rule_create(db, &r, T0, &pb), AP_DB_OK);
	ck_assert_int_eq(ap_alerts_eval(a, db, reading(1, 95), T0, &fired, NULL), AP_DB_OK);
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(count("SELECT COUNT(*) FROM alert_events WHERE subject = '/'"), 1);
	/* A failed delivery is tried again later, not at once. */
	{
		struct msgs l = { .n = 0 };
		struct ap_alert_msg m;

		memset(&m, 0, sizeof(m));
		m.id = count("SELECT MAX(id) FROM alert_outbox");
		snprintf(m.kind, sizeof(m.kind), "firing");
		ck_assert_int_eq(ap_alert_outbox_done(db, &m, false, "SMTP: connection refused", T0), AP_DB_OK);
		ck_assert_int_eq(ap_alert_outbox_due(db, "host-a", T0 + 1, 20, msg_cb, &l), AP_DB_OK);
		ck_assert_int_eq(l.n, 0);
		ck_assert_int_eq(ap_alert_outbox_due(db, "host-a", T0 + 3600, 20, msg_cb, &l), AP_DB_OK);
		ck_assert_int_eq(l.n, 1);
	}
	ap_alerts_free(a);
}
END_TEST

struct events_seen {
	int64_t id[16];
	int n;
};

static bool
event_seen(void *arg, const struct ap_alert_event *e)
{
	struct events_seen *v = arg;

	if (v->n < 16)
		v->id[v->n++] = e->id;
	return true;
}

/* The history page by page, newest first, by key: an episode opened while a
 * client walks it neither repeats one nor pushes one out. */
START_TEST(test_alert_history_pages_by_key)
{
	struct ap_alert_event e;
	struct events_seen v = { { 0 }, 0 };
	int64_t ids[5], id, before = 0;
	bool more = true;
	int pages = 0;

	for (int i = 0; i < 5; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.host, sizeof(e.host), "web1");
		snprintf(e.rule_text, sizeof(e.rule_text), "CPU above 90 %%");
		e.value = 91 + i;
		e.peak = 95;
		e.started_at = T0 + i;
		ck_assert_int_eq(ap_alert_event_open(db, &e, &ids[i]), AP_DB_OK);
	}
	while (more) {
		int from = v.n;

		ck_assert_int_eq(ap_alert_events_page(db, before, 2, event_seen, &v, &more), AP_DB_OK);
		ck_assert_int_le(v.n - from, 2);
		before = v.id[v.n - 1];
		if (pages++ == 0) {
			/* a new episode after the first page: it is not on the later ones */
			memset(&e, 0, sizeof(e));
			snprintf(e.host, sizeof(e.host), "web1");
			e.started_at = T0 + 9;
			ck_assert_int_eq(ap_alert_event_open(db, &e, &id), AP_DB_OK);
		}
	}
	ck_assert_int_eq(pages, 3);
	ck_assert_int_eq(v.n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(v.id[i], ids[4 - i]);
	/* the newest first on a first page again; a page ending exactly at the last has no more */
	v.n = 0;
	ck_assert_int_eq(ap_alert_events_page(db, 0, 6, event_seen, &v, &more), AP_DB_OK);
	ck_assert_int_eq(v.n, 6);
	ck_assert_int_eq(v.id[0], id);
	ck_assert(!more);
	ck_assert_int_eq(ap_alert_events_page(db, 0, 0, event_seen, &v, &more), AP_DB_EINVAL);
	ck_assert_int_eq(ap_alert_events_page(db, 0, 10001, event_seen, &v, NULL), AP_DB_EINVAL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("history");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_raw_then_per_minute_averages);
	tcase_add_test(tc, test_pruning_keeps_the_tables_bounded);
	tcase_add_test(tc, test_rule_validation);
	tcase_add_test(tc, test_alert_fires_once_per_episode_and_recovers);
	tcase_add_test(tc, test_disk_rule_per_mount_and_failed_delivery_backs_off);
	tcase_add_test(tc, test_alert_history_pages_by_key);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(password);
	return failed ? 1 : 0;
}
