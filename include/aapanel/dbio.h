/*
 * dbio.h — a database's export and import (docs/databases.md, "Import and
 * export"): the helper's database.export and database.import jobs
 * (src/helper/ops_dbio.c), the dump passed as a descriptor — a download
 * read from the one the helper opens on the finished export, an upload
 * streamed into the one it opens for it. The panel keeps no dump; a job is
 * known by its id (the helper's, kept an hour after it ends), checked against
 * the database it is asked for, and recorded in its history (dbhistory.h).
 */
#ifndef AAPANEL_DBIO_H
#define AAPANEL_DBIO_H

#include <sys/types.h>

#include <json-c/json.h>

#include "aapanel/databases.h"

/* Reads up to n bytes of an upload: bytes read, 0 at its end, -1 when it broke off. */
typedef ssize_t (*ap_dbio_read_fn)(void *ctx, void *buf, size_t n);

/* "sql" or "sql.gz" (false otherwise). */
bool ap_dbio_format_ok(const char *format);

/* Start an export of d in format: *job its id. Problems from the helper (not_found, failed). */
enum ap_err ap_dbio_export_start(const struct ap_sites_env *env, const struct ap_database *d,
    const char *format, int64_t *job, struct ap_problem *pb);

/*
 * Upload (rd until it ends, at most max bytes: AP_PB_TOO_LARGE "file"
 * beyond, "larger than databases.import_max (N bytes)") and start its
 * import into d: *job, *size and sha256 (65 bytes) of what was uploaded. A
 * failed upload leaves nothing behind in the helper's spool.
 */
enum ap_err ap_dbio_import_start(const struct ap_sites_env *env, const struct ap_database *d,
    const char *format, ap_dbio_read_fn rd, void *rdctx, int64_t max, int64_t *job, int64_t *size,
    char *sha256, struct ap_problem *pb);

/*
 * The job's state for d: *st (owned) {id, kind ("export"|"import"), state
 * (queued|running|done|failed|timeout), progress, error (reason) or null,
 * result or null}. AP_PB_NOT_FOUND "job" when the helper does not know it
 * or it is another database's (or not a dump's) job.
 */
enum ap_err ap_dbio_job(const struct ap_sites_env *env, const struct ap_database *d, int64_t job,
    struct json_object **st, struct ap_problem *pb);

/* ap_dbio_job until it ended or timeout_ms passed (then AP_PB_TIMEOUT). */
enum ap_err ap_dbio_job_wait(const struct ap_sites_env *env, const struct ap_database *d,
    int64_t job, int timeout_ms, struct json_object **st, struct ap_problem *pb);

/*
 * A finished export's dump, once: *fd (owned) to read *size bytes from,
 * format and sha256 (65 bytes) from the job. AP_PB_CONFLICT "job" while it
 * runs or when it failed, AP_PB_NOT_FOUND once downloaded.
 */
enum ap_err ap_dbio_export_open(const struct ap_sites_env *env, const struct ap_database *d,
    int64_t job, int *fd, int64_t *size, char *format, size_t fmtlen, char *sha256,
    struct ap_problem *pb);

/* The newest imports and exports of d (dbhistory.h), the running ones asked about first. */
struct ap_dbhist_row;
int ap_dbio_history(const struct ap_sites_env *env, const struct ap_database *d, struct ap_dbhist_row *rows,
    int max, struct ap_problem *pb);

#endif
