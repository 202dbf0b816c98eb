/* migrate.c — schema migrations (see migrate.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "aapanel/log.h"
#include "aapanel/migrate.h"
#include "db_int.h"

const char *
ap_migrate_dialect(enum ap_db_backend b)
{
	static const char *const d[AP_DB__MAX] = { "sqlite", "mysql", "postgresql" };

	return (unsigned)b < AP_DB__MAX ? d[b] : "unknown";
}

void
ap_migrations_free(struct ap_migrations *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].file);
		free(m->v[i].sql);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

static int
cmp_version(const void *a, const void *b)
{
	const struct ap_migration *x = a, *y = b;

	return (x->version > y->version) - (x->version < y->version);
}

/* "0001_initial.sql" → version 1, name "initial"; false when not a migration name. */
static bool
parse_name(const char *fn, int *version, char **name)
{
	size_t n = strlen(fn), i;
	long long v;
	const char *e;
	char num[5];

	if (n < 10 || strcmp(fn + n - 4, ".sql") != 0 || fn[4] != '_')
		return false;
	memcpy(num, fn, 4);
	num[4] = '\0';
	if (!ap_strtonum(num, 1, 9999, &v, &e))
		return false;
	for (i = 5; i < n - 4; i++)
		if (!((fn[i] >= 'a' && fn[i] <= 'z') || (fn[i] >= '0' && fn[i] <= '9') || fn[i] == '_'))
			return false;
	*version = (int)v;
	*name = ap_xstrndup(fn + 5, n - 9);
	return true;
}

enum ap_err
ap_migrate_load(const char *sql_dir, enum ap_db_backend b, struct ap_migrations *out,
    char *err, size_t errlen)
{
	char *dir = ap_xasprintf("%s/%s", sql_dir, ap_migrate_dialect(b));
	struct dirent *e;
	enum ap_err rc = AP_ERR_IO;
	DIR *d;

	memset(out, 0, sizeof(*out));
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		free(dir);
		return AP_ERR_IO;
	}
	while ((e = readdir(d)) != NULL) {
		struct ap_migration m = { 0 };

		if (e->d_name[0] == '.' || strcmp(e->d_name, "README.md") == 0)
			continue;
		if (!parse_name(e->d_name, &m.version, &m.name)) {
			snprintf(err, errlen, "%s/%s: not a migration name (NNNN_name.sql)", dir, e->d_name);
			rc = AP_ERR_PARSE;
			goto out;
		}
		m.file = ap_xasprintf("%s/%s", dir, e->d_name);
		if (ap_read_file_at(AT_FDCWD, m.file, 4u << 20, &m.sql, NULL) != AP_OK) {
			snprintf(err, errlen, "%s: %s", m.file, strerror(errno));
			free(m.name);
			free(m.file);
			goto out;
		}
		out->v = ap_xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = m;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_version);
	for (size_t i = 1; i < out->n; i++) {
		if (out->v[i].version == out->v[i - 1].version) {
			snprintf(err, errlen, "%s: version %04d is used twice", out->v[i].file, out->v[i].version);
			rc = AP_ERR_PARSE;
			goto out;
		}
	}
	rc = AP_OK;
out:
	closedir(d);
	free(dir);
	if (rc != AP_OK)
		ap_migrations_free(out);
	return rc;
}

static const char *const create_table[AP_DB__MAX] = {
	[AP_DB_SQLITE] = "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
			 "name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
	[AP_DB_MYSQL] = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, "
			"name VARCHAR(255) NOT NULL, applied_at BIGINT NOT NULL) ENGINE=InnoDB "
			"DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
	[AP_DB_PGSQL] = "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
			"name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
};

/*
 * The database's own lock, so that several hosts starting at once on one
 * empty database migrate it one after the other: PostgreSQL's session
 * advisory lock, MariaDB's GET_LOCK (both held by the connection, released
 * by the server if the process dies), nothing on SQLite, whose write lock
 * (BEGIN IMMEDIATE) serialises each migration and whose check of
 * schema_migrations runs inside that transaction (migration_done).
 */
#define MIGRATE_LOCK_PG "SELECT pg_advisory_lock(7101015)"
#define MIGRATE_UNLOCK_PG "SELECT pg_advisory_unlock(7101015)"
#define MIGRATE_LOCK_TIMEOUT_S 120

static enum ap_db_rc
migrate_lock(struct ap_db *db)
{
	int64_t got = 0;
	enum ap_db_rc rc;

	switch (ap_db_backend(db)) {
	case AP_DB_PGSQL:
		return ap_db_exec(db, MIGRATE_LOCK_PG);
	case AP_DB_MYSQL:
		rc = ap_db_query_int64(db, "SELECT GET_LOCK('aapanel.migrate', 120)", &got);
		if (rc == AP_DB_OK && got != 1)
			rc = ap_db_set_error(db, AP_DB_ETIMEOUT,
			    "another host held the migration lock for %d s", MIGRATE_LOCK_TIMEOUT_S);
		return rc;
	default:
		return AP_DB_OK;
	}
}

static void
migrate_unlock(struct ap_db *db)
{
	int64_t got = 0;

	if (ap_db_backend(db) == AP_DB_PGSQL)
		(void)ap_db_exec(db, MIGRATE_UNLOCK_PG);
	else if (ap_db_backend(db) == AP_DB_MYSQL)
		(void)ap_db_query_int64(db, "SELECT RELEASE_LOCK('aapanel.migrate')", &got);
}

/* schema_migrations made if missing: under the lock, since two
 * concurrent CREATE TABLE IF NOT EXISTS collide on PostgreSQL. */
static enum ap_db_rc
create_migrations_table(struct ap_db *db)
{
	enum ap_db_rc rc = migrate_lock(db);

	if (rc != AP_DB_OK)
		return rc;
	rc = ap_db_exec(db, create_table[ap_db_backend(db)]);
	migrate_unlock(db);
	return rc;
}

static enum ap_db_rc
read_status(struct ap_db *db, struct ap_migrations *m, size_t *pending)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	*pending = 0;
	for (size_t i = 0; i < m->n; i++)
		m->v[i].applied = false;
	rc = ap_db_prepare(db, "SELECT version, applied_at FROM schema_migrations ORDER BY version", &st);
	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		int64_t v = ap_db_col_int64(st, 0);

		for (size_t i = 0; i < m->n; i++) {
			if (m->v[i].version == v) {
				m->v[i].applied = true;
				m->v[i].applied_at = ap_db_col_int64(st, 1);
			}
		}
	}
	ap_db_finalize(st);
	if (rc != AP_DB_DONE)
		return rc;
	for (size_t i = 0; i < m->n; i++)
		if (!m->v[i].applied)
			(*pending)++;
	return AP_DB_OK;
}

enum ap_db_rc
ap_migrate_status(struct ap_db *db, struct ap_migrations *m, size_t *pending)
{
	enum ap_db_rc rc;

	*pending = 0;
	if ((rc = create_migrations_table(db)) != AP_DB_OK)
		return rc;
	return read_status(db, m, pending);
}

/* Inside the migration's transaction: did another host apply it meanwhile? */
static enum ap_db_rc
migration_done(struct ap_db *db, int version, bool *done)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc;

	*done = false;
	rc = ap_db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, version);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	if (rc == AP_DB_ROW)
		*done = true;
	return rc == AP_DB_ROW || rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_migrate_apply(struct ap_db *db, struct ap_migrations *m, size_t *applied, char *err,
    size_t errlen)
{
	size_t pending;
	enum ap_db_rc rc;

	*applied = 0;
	if ((rc = create_migrations_table(db)) != AP_DB_OK ||
	    (rc = migrate_lock(db)) != AP_DB_OK) {
		snprintf(err, errlen, "schema_migrations: %s", ap_db_errmsg(db));
		return rc;
	}
	/* Read again under the lock: a host that waited sees what the first did. */
	rc = read_status(db, m, &pending);
	if (rc != AP_DB_OK) {
		snprintf(err, errlen, "schema_migrations: %s", ap_db_errmsg(db));
		goto out;
	}
	for (size_t i = 0; i < m->n; i++) {
		struct ap_migration *mg = &m->v[i];
		struct ap_db_stmt *st = NULL;
		bool done = false;

		if (mg->applied)
			continue;
		rc = ap_db_begin(db);
		if (rc == AP_DB_OK)
			rc = migration_done(db, mg->version, &done);
		if (rc == AP_DB_OK && done) {
			ap_db_rollback(db);
			mg->applied = true;
			continue;
		}
		if (rc == AP_DB_OK)
			rc = ap_db_exec_script(db, mg->sql);
		if (rc == AP_DB_OK)
			rc = ap_db_prepare(db, "INSERT INTO schema_migrations (version, name, applied_at) "
					      "VALUES (?, ?, ?)", &st);
		if (rc == AP_DB_OK) {
			ap_db_bind_int64(st, 1, mg->version);
			ap_db_bind_text(st, 2, mg->name, -1);
			ap_db_bind_int64(st, 3, (int64_t)time(NULL));
			rc = ap_db_step(st);
			if (rc == AP_DB_DONE)
				rc = AP_DB_OK;
		}
		ap_db_finalize(st);
		if (rc == AP_DB_OK)
			rc = ap_db_commit(db);
		if (rc != AP_DB_OK) {
			snprintf(err, errlen, "%04d_%s: %s", mg->version, mg->name, ap_db_errmsg(db));
			if (ap_db_in_transaction(db))
				ap_db_rollback(db);
			goto out;
		}
		mg->applied = true;
		(*applied)++;
		AP_INFO("applied migration %04d_%s", mg->version, mg->name);
	}
	rc = AP_DB_OK;
out:
	migrate_unlock(db);
	return rc;
}

/* Constant identifiers: the only table names ever put into SQL text. */
const char *const ap_db_tables[] = {
	"users", "sessions", "api_tokens", "audit_log", "settings", "login_attempts",
	"sites", "managed_databases", "cron_jobs", "firewall_rules", "certificates",
	/* regression: db copy left these two of migration 0002 behind (recovery codes lost,
	 * the copy's audit chain reported broken) */
	"recovery_codes", "audit_head",
	/* 0004: monitoring history, alert rules and channels (parents before children) */
	"metric_sources", "metric_host", "metric_dev", "alert_channels", "alert_rules", "alert_events",
	"alert_outbox",
	/* 0005: the first answers of creates sent with an Idempotency-Key */
	"idempotency_keys",
	/* 0008: the database servers (managed_databases.server_id points here, no foreign key) */
	"db_servers",
	/* 0009: scheduled tasks' runs */
	"cron_runs",
	/* 0010: the firewall's block list and its state row */
	"firewall_blocklist", "firewall_state",
	/* 0015: the fingerprint of the secret key the hosts share; the sign-in gate row */
	"panel_key", "login_gate", "live_events",
	/* 0018: the imports and exports of managed databases (database_id, no foreign key) */
	"database_transfers",
};

bool
ap_db_table_seeded(const char *table)
{
	/* The migration writes its one row; a copy replaces it, it never counts as data. */
	return strcmp(table, "audit_head") == 0 || strcmp(table, "firewall_state") == 0 ||
	    strcmp(table, "login_gate") == 0;
}
const size_t ap_db_ntables = AP_NELEM(ap_db_tables);
