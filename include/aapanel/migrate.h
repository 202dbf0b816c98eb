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

/* Dialect directory name of a backend: "sqlite", "mysql", "postgresql". */
const char *ap_migrate_dialect(enum ap_db_backend b);

/*
 * Read <sql_dir>/<dialect>/NNNN_name.sql in version order. Versions must
 * be unique and names [a-z0-9_]+. Errors → "file: reason" in err.
 */
enum ap_err ap_migrate_load(const char *sql_dir, enum ap_db_backend b,
    struct ap_migrations *out, char *err, size_t errlen);
void ap_migrations_free(struct ap_migrations *m);

/* Create schema_migrations if needed and mark which migrations are applied. */
enum ap_db_rc ap_migrate_status(struct ap_db *db, struct ap_migrations *m, size_t *pending);

/*
 * Apply every pending migration in order, each in its own transaction;
 * stop at the first failure (err gets "NNNN_name: backend message").
 * *applied counts the migrations applied by this call.
 */
enum ap_db_rc ap_migrate_apply(struct ap_db *db, struct ap_migrations *m, size_t *applied,
    char *err, size_t errlen);

/* Tables the panel owns, in foreign-key order (parents first): the only
 * table names ever put into SQL text (db copy, tests). */
extern const char *const ap_db_tables[];
extern const size_t ap_db_ntables;

/* Rows of table (one of ap_db_tables) into *n. */
enum ap_db_rc ap_db_count_rows(struct ap_db *db, const char *table, int64_t *n);
/*
 * Copy every table of ap_db_tables from src to dst (copy.c), in one
 * transaction on dst: dst's rows deleted first when clear, then every row
 * copied with its types, PostgreSQL sequences moved past the copied ids.
 * counts[i] gets the rows copied into ap_db_tables[i]. On failure dst is
 * rolled back (unchanged) and err says which table and why.
 */
enum ap_db_rc ap_db_copy_all(struct ap_db *src, struct ap_db *dst, bool clear, int64_t *counts,
    char *err, size_t errlen);

#endif
