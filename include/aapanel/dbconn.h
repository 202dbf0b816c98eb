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
 * (one line; trailing newline stripped) and wiped after use. On failure
 * returns the error class and, when a handle exists, *out is set so the
 * caller can read ap_db_errmsg; close it with ap_db_close either way.
 */
enum ap_db_rc ap_dbconn_open(const struct ap_config *cfg, struct ap_db **out);
/* Same for an explicit DSN and optional password file (db copy). */
enum ap_db_rc ap_dbconn_open_dsn(const char *dsn, const char *password_file,
    const struct ap_config *cfg, struct ap_db **out);

/*
 * Start-up policy, run by the master before it forks: development and test
 * apply pending migrations; production applies them only with
 * db.auto_migrate, otherwise refuses to start and names them. Returns
 * false (after logging why) when serving must not start.
 */
bool ap_dbconn_startup(const struct ap_config *cfg);

/*
 * Load the migrations of db's backend from paths.sql into *m (free with
 * ap_migrations_free). Logs the reason and returns false when they cannot
 * be read.
 */
bool ap_dbconn_migrations(const struct ap_config *cfg, struct ap_db *db, struct ap_migrations *m);

#endif
