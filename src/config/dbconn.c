/*
 * dbconn.c — the panel's configured database: opening it with the
 * configured DSN, password file (or systemd credential) and timeouts, and
 * the start-up migration policy of each profile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/migrate.h"
#include "aapanel/storage.h"

static char *
read_password(const char *path, char *err, size_t errlen)
{
	FILE *f;
	char buf[1024];
	size_t n;

	if (path == NULL || path[0] == '\0')
		return NULL;
	f = fopen(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "db.password_file %s: %s", path, strerror(errno));
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	{
		char *p = ap_xstrdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return p;
	}
}

enum ap_db_rc
ap_dbconn_open_dsn(const char *dsn, const char *password_file, const struct ap_config *cfg,
    struct ap_db **out)
{
	struct ap_db_opts o = { 0 };
	char err[512] = "";
	char *pw = read_password(password_file, err, sizeof(err));
	enum ap_db_rc rc;

	*out = NULL;
	if (pw == NULL && err[0]) {
		AP_ERROR("%s", err);
		return AP_DB_EINVAL;
	}
	o.dsn = dsn;
	o.password = pw;
	o.connect_timeout_ms = cfg ? cfg->db_connect_timeout * 1000 : 5000;
	o.query_timeout_ms = cfg ? cfg->db_query_timeout * 1000 : 10000;
	rc = ap_db_open(&o, out);
	if (pw) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	return rc;
}

enum ap_db_rc
ap_dbconn_open(const struct ap_config *cfg, struct ap_db **out)
{
	const char *creds = getenv("CREDENTIALS_DIRECTORY");
	char cred[4096];
	enum ap_db_rc rc;

	/* No password file configured: a systemd credential may carry it. */
	if ((cfg->db_password_file == NULL || cfg->db_password_file[0] == '\0') && creds && creds[0]) {
		snprintf(cred, sizeof(cred), "%s/aapanel-db-password", creds);
		if (access(cred, R_OK) == 0)
			return ap_dbconn_open_dsn(cfg->db_dsn, cred, cfg, out);
	}
	rc = ap_dbconn_open_dsn(cfg->db_dsn, cfg->db_password_file, cfg, out);
	return rc;
}

bool
ap_dbconn_migrations(const struct ap_config *cfg, struct ap_db *db, struct ap_migrations *m)
{
	char err[512];

	if (ap_migrate_load(cfg->sql_dir, ap_db_backend(db), m, err, sizeof(err)) != AP_OK) {
		AP_ERROR("migrations: %s", err);
		return false;
	}
	return true;
}

bool
ap_dbconn_startup(const struct ap_config *cfg)
{
	struct ap_migrations m = { 0 };
	struct ap_db *db = NULL;
	size_t pending = 0, applied = 0;
	char err[512];
	bool ok = false;
	enum ap_db_rc rc;

	rc = ap_dbconn_open(cfg, &db);
	if (rc != AP_DB_OK) {
		AP_ERROR("database %s unavailable at start: %s (%s)",
		    db ? ap_db_backend_name(ap_db_backend(db)) : "?", db ? ap_db_errmsg(db) : "invalid DSN",
		    ap_db_rc_str(rc));
		goto out;
	}
	if (!ap_dbconn_migrations(cfg, db, &m))
		goto out;
	rc = ap_migrate_status(db, &m, &pending);
	if (rc != AP_DB_OK) {
		AP_ERROR("reading schema_migrations: %s", ap_db_errmsg(db));
		goto out;
	}
	if (pending == 0) {
		ok = true;
		goto out;
	}
	if (cfg->profile == AP_PROFILE_PRODUCTION && !cfg->db_auto_migrate) {
		struct ap_buf names = { 0 };

		for (size_t i = 0; i < m.n; i++)
			if (!m.v[i].applied)
				ap_buf_printf(&names, "%s%04d_%s", names.len ? ", " : "", m.v[i].version,
				    m.v[i].name);
		AP_ERROR("%zu pending migration(s): %s; run 'aapanel db migrate' or set "
			 "db.auto_migrate = true; not starting",
		    pending, ap_buf_cstr(&names));
		ap_buf_free(&names);
		goto out;
	}
	rc = ap_migrate_apply(db, &m, &applied, err, sizeof(err));
	if (rc != AP_DB_OK) {
		AP_ERROR("migration failed: %s", err);
		goto out;
	}
	AP_INFO("database schema up to date (%zu migration(s) applied)", applied);
	ok = true;
out:
	/* Say at start what the health check would say: a panel that serves
	 * pages but cannot save a change. regression: nothing warned at start */
	if (ok) {
		struct ap_storage st;

		ap_storage_check(cfg, db, true, &st);
	}
	ap_migrations_free(&m);
	ap_db_close(db);
	return ok;
}
