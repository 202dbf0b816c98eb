/*
 * dbconn.h — the panel's own database connection, as configured: options
 * from the configuration (DSN, password file, timeouts), start-up migration
 * policy, and `aapanel db …` commands.
 */
#ifndef AAPANEL_DBCONN_H
#define AAPANEL_DBCONN_H

#include <stdio.h>

#include "aapanel/config.h"
#include "aapanel/db.h"

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
 * For commands: open the configured database, or print why not on stderr
 * and return NULL.
 */
struct ap_db *ap_dbconn_open_cli(const struct ap_config *cfg);

/* CLI: `db migrate`, `db status`, `db copy`. Return the exit status. */
int ap_dbcli_migrate(const struct ap_config *cfg, FILE *out);
int ap_dbcli_status(const struct ap_config *cfg, FILE *out);
int ap_dbcli_copy(const struct ap_config *cfg, const char *from, const char *from_pw,
    const char *to, const char *to_pw, bool force, FILE *out);

/* Tables the panel owns, in foreign-key order (parents first). */
extern const char *const ap_db_tables[];
extern const size_t ap_db_ntables;

#endif
