/*
 * bkdump.h — a database's dump for backups (ops_backups.c, ops_bkpanel.c):
 * the export into a file and the load back, through the database module's
 * clients (dbdump.h: mariadb-dump --single-transaction or pg_dump --clean
 * --if-exists, mariadb or psql; the login in an anonymous memory file the
 * client opens as /dev/fd/3 — never on disk, in argv or an environment
 * value).
 */
#ifndef AAPANEL_HELPER_BKDUMP_H
#define AAPANEL_HELPER_BKDUMP_H

#include "ops.h"

/*
 * Dump database db of server into the file name in the directory dirfd
 * (written as name.part, fsynced, renamed). login: NULL for the server's
 * admin login (<databases.dir>/<server>.conf), else that DSN and password
 * (the panel's own database). A dump that restores in place: its tables are
 * dropped and created again. Runs as a step of a job. AP_OK, or an error in
 * ctx->pb naming "databases".
 */
enum ap_err ap_bkdump_write(struct helper_ctx *ctx, int dirfd, const char *server,
    const char *db, const struct ap_dbserver_login *login, const char *name);

/* Load the dump read from fd (to its end; borrowed) into database db of server (which exists). */
enum ap_err ap_bkdump_load(struct helper_ctx *ctx, const char *server, const char *db, int fd);

#endif
