/*
 * bkdump.h — a database's dump for backups (ops_backups.c): mariadb-dump
 * --single-transaction or pg_dump into a file, and mariadb or psql loading
 * a dump back, with the server's admin login (<databases.dir>/<server>.conf,
 * ops_dbs.c) in a temporary 0600 option file or PGPASSFILE, never in argv
 * or the environment's values.
 */
#ifndef AAPANEL_HELPER_BKDUMP_H
#define AAPANEL_HELPER_BKDUMP_H

#include "ops.h"

/*
 * Dump database db of server into the file name in the directory dirfd
 * (dirpath: its absolute path, for the option file). Runs as a step of a
 * job. AP_OK, or an error in ctx->pb naming "databases".
 */
enum ap_err ap_bkdump_write(struct helper_ctx *ctx, int dirfd, const char *dirpath,
    const char *server, const char *db, const char *name);

/*
 * Load the dump data[0..len) into database db of server (which exists).
 * The option file is written into the directory dirfd (absolute dirpath)
 * and removed afterwards.
 */
enum ap_err ap_bkdump_load(struct helper_ctx *ctx, int dirfd, const char *dirpath,
    const char *server, const char *db, const void *data, size_t len);

#endif
