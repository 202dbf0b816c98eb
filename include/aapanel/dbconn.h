/*
 * dbconn.h — the panel's own database connection, as configured: options
 * from the configuration (DSN, password file, timeouts) and the start-up
 * migration policy. The `aapanel db …` commands are in cli.h.
 */
#ifndef AAPANEL_DBCONN_H
#define AAPANEL_DBCONN_H

#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/migrate.h"

/*
 * Open the configured database. The password is read from db.password_file
 * or, when that is unset, from the systemd credential
 * $CREDENTIALS_DIRECTORY/aapanel-db-password: its first line (up to 1023
 * bytes), wiped after use. On AP_DB_OK *out is owned (ap_db_close). A
 * password file that cannot be read is AP_DB_EINVAL with *out NULL
 * (logged). Otherwise on failure returns the error class and, when a
 * handle exists, *out is set so the caller can read ap_db_errmsg; close it
 * with ap_db_close either way (NULL is fine).
 */
enum ap_db_rc ap_dbconn_open(const struct ap_config *cfg, struct ap_db **out);
/*
 * Same for an explicit DSN and optional password file (NULL or "" = no
 * password; db copy). cfg may be NULL: 5 s to connect, 10 s per query.
 */
enum ap_db_rc ap_dbconn_open_dsn(const char *dsn, const char *password_file,
    const struct ap_config *cfg, struct ap_db **out);

/*
 * Start-up policy, run by the master before it forks (and by the user,
 * token and audit commands) on a connection of its own: every profile but
 * production applies pending migrations; production applies them only with
 * db.auto_migrate, otherwise refuses to start and names them. Returns
 * false (after logging why) when serving must not start, also when the
 * database cannot be opened.
 */
bool ap_dbconn_startup(const struct ap_config *cfg);

/*
 * Load the migrations of db's backend from paths.sql into *m (free with
 * ap_migrations_free). Logs the reason and returns false, *m empty, when
 * they cannot be read.
 */
bool ap_dbconn_migrations(const struct ap_config *cfg, struct ap_db *db, struct ap_migrations *m);

#endif
