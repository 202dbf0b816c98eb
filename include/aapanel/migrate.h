/*
 * migrate.h — numbered schema migrations per dialect (sql/<dialect>/
 * NNNN_name.sql), each applied in one transaction and recorded in
 * schema_migrations.
 */
#ifndef AAPANEL_MIGRATE_H
#define AAPANEL_MIGRATE_H

#include "aapanel/common.h"
#include "aapanel/db.h"

struct ap_migration {
	int version;
	char *name;    /* "initial" */
	char *file;    /* path, for messages */
	char *sql;
	bool applied;  /* filled by ap_migrate_status */
	int64_t applied_at;
};

struct ap_migrations {
	struct ap_migration *v;
	size_t n;
};

/* Dialect directory name of a backend: "sqlite", "mysql", "postgresql" ("unknown" out of range). */
const char *ap_migrate_dialect(enum ap_db_backend b);

/*
 * Read <sql_dir>/<dialect>/NNNN_name.sql (at most 4 MiB each) in version
 * order into *out. Versions (0001..9999) must be unique and names
 * [a-z0-9_]+; dot files and README.md are skipped, any other file is an
 * error. On AP_OK *out is owned (free with ap_migrations_free). On failure
 * *out is empty and err gets "file: reason": AP_ERR_IO for an unreadable
 * directory or file, AP_ERR_PARSE for a bad name or a version used twice.
 */
enum ap_err ap_migrate_load(const char *sql_dir, enum ap_db_backend b,
    struct ap_migrations *out, char *err, size_t errlen);
/* Free what m holds and leave it empty (m itself is the caller's). */
void ap_migrations_free(struct ap_migrations *m);

/*
 * Create schema_migrations if needed (a write) and mark which migrations
 * are applied (applied, applied_at); *pending gets how many are not. Rows
 * for versions without a file are ignored. AP_DB_OK or the error class;
 * after a failure the marks are incomplete.
 */
enum ap_db_rc ap_migrate_status(struct ap_db *db, struct ap_migrations *m, size_t *pending);

/*
 * Apply every pending migration in order, each in its own transaction;
 * stop at the first failure (err gets "NNNN_name: backend message", or
 * "schema_migrations: …" when the status cannot be read). Those applied
 * before it stay applied; MariaDB commits DDL implicitly, so there a
 * failing migration may be left half done. *applied counts the migrations
 * applied by this call.
 */
enum ap_db_rc ap_migrate_apply(struct ap_db *db, struct ap_migrations *m, size_t *applied,
    char *err, size_t errlen);

/* Tables the panel owns, in foreign-key order (parents first): the only
 * table names ever put into SQL text (db copy, tests). */
extern const char *const ap_db_tables[];
extern const size_t ap_db_ntables;

/*
 * True for a table whose rows the migrations themselves write (the audit
 * chain's head): a freshly migrated database holds them, so they do not
 * make a copy target "not empty", and a copy always replaces them.
 */
bool ap_db_table_seeded(const char *table);
/* Rows of table into *n (untouched on failure); table must be one of ap_db_tables (not checked). */
enum ap_db_rc ap_db_count_rows(struct ap_db *db, const char *table, int64_t *n);
/*
 * Copy every table of ap_db_tables from src to dst (copy.c), in one
 * transaction on dst: dst's rows deleted first when clear, then every row
 * copied with its types, PostgreSQL sequences moved past the copied ids.
 * counts has ap_db_ntables entries: counts[i] gets the rows copied into
 * ap_db_tables[i]. err is required. src is read outside a transaction:
 * copy from a panel that is not writing. dst must have no transaction open.
 * On failure dst is rolled back (unchanged), counts may be partly written
 * and err says which table and why.
 */
enum ap_db_rc ap_db_copy_all(struct ap_db *src, struct ap_db *dst, bool clear, int64_t *counts,
    char *err, size_t errlen);

#endif
