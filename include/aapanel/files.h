/*
 * files.h — a site's files (docs/files.md): what the pages and the CLI ask of
 * the helper's files.* operations. Every path is relative to the site's
 * document root and resolved by the helper beneath it (openat2 with
 * RESOLVE_BENEATH): nothing here inspects a path. Contents come and go as
 * descriptors the helper passes (SCM_RIGHTS): a read descriptor to stream
 * from, or a temporary file beside the target to stream into, made the
 * file by a rename once it is complete and synced.
 *
 * Every function that fails fills pb with the helper's problem as it is:
 * AP_PB_INVALID (field path, to, id, mode: leaves the root, a bad name, a
 * type the site may not have, a hard-linked file), AP_PB_NOT_FOUND,
 * AP_PB_EXISTS, AP_PB_FAILED (the system's reason), AP_PB_UNAVAILABLE,
 * AP_PB_TOO_LARGE (an upload over its limit).
 */
#ifndef AAPANEL_FILES_H
#define AAPANEL_FILES_H

#include <json-c/json.h>

#include "aapanel/sites.h"

/*
 * One files.* operation on the site s: args (borrowed, may be NULL) gets the
 * site's domain, document root and kind added to a copy. fd: NULL, or where
 * the descriptor the operation passes goes (files.open, files.begin; owned).
 * *result owned on AP_OK.
 */
enum ap_err ap_files_call(const struct ap_sites_env *env, const struct ap_site *s,
    const char *op, struct json_object *args, struct json_object **result, int *fd,
    struct ap_problem *pb);

/*
 * An operation that runs as a helper job (files.copy, files.chown_tree,
 * files.extract, files.archive), waited for at most wait_ms: AP_OK with *result (owned) when it
 * is done by then; AP_OK with *result NULL and *job its id when it still
 * runs (its page: ap_files_job_get); the job's problem when it failed.
 */
enum ap_err ap_files_job_start(const struct ap_sites_env *env, const struct ap_site *s,
    const char *op, struct json_object *args, int wait_ms, struct json_object **result,
    int64_t *job, struct ap_problem *pb);

/*
 * The files job `job` of s (its first output line names the site, or the
 * root): *st (owned) {id, kind (copy|chown|extract|archive), state
 * (queued|running|done|failed|timeout), progress, error (reason) or null,
 * result or null}. AP_PB_NOT_FOUND "job" when the helper does not know it,
 * or it is another site's, or not a files job.
 */
enum ap_err ap_files_job_get(const struct ap_sites_env *env, const struct ap_site *s, int64_t job,
    struct json_object **st, struct ap_problem *pb);

/*
 * Cancel the files job `job` of s (job.cancel: a copy removes what it made,
 * a recursive chown stops, docs/files.md) and wait for it to end (about 3 s
 * at most): *out as ap_files_job_get, state "cancelled" (or "done" when it
 * ended first). AP_PB_CONFLICT naming "job" when it has ended already;
 * AP_PB_NOT_FOUND "job" as ap_files_job_get.
 */
enum ap_err ap_files_job_cancel(const struct ap_sites_env *env, const struct ap_site *s, int64_t job,
    struct json_object **out, struct ap_problem *pb);

/* Where an upload's bytes come from: up to n bytes into buf, 0 at the end, -1 on error. */
typedef ssize_t (*ap_files_read_fn)(void *ctx, void *buf, size_t n);

/*
 * Write the file path of s from rd: files.begin (a temporary file beside it,
 * as the site's user), the bytes streamed into it in 64 KiB pieces (at most
 * max: AP_PB_TOO_LARGE beyond), fsync, files.commit (renamed over the old
 * one when overwrite, else AP_PB_EXISTS). Any failure drops the temporary
 * file (files.abort): the old file stays as it was. *result (owned, may be
 * NULL): the commit's answer with "size", "replaced" and, for a type the
 * web server runs, "sha256"; *sha256 (65 bytes, may be NULL) the hash of
 * what was written, computed while streaming.
 */
enum ap_err ap_files_put(const struct ap_sites_env *env, const struct ap_site *s,
    const char *path, bool overwrite, ap_files_read_fn rd, void *rdctx, int64_t max,
    struct json_object **result, char *sha256, struct ap_problem *pb);

/*
 * A text file for the editor: at most max bytes (AP_PB_TOO_LARGE beyond),
 * UTF-8 (AP_PB_INVALID "is not UTF-8 text" otherwise). *crlf: its lines end
 * with CR LF (the first line ending decides). out gets the text.
 */
enum ap_err ap_files_read_text(const struct ap_sites_env *env, const struct ap_site *s,
    const char *path, int64_t max, struct ap_buf *out, bool *crlf, struct ap_problem *pb);

/*
 * Save text (UTF-8, checked) as path, its line endings made all CR LF when
 * crlf, else all LF (a browser's form sends CR LF whatever the file had),
 * atomically as ap_files_put.
 */
enum ap_err ap_files_save_text(const struct ap_sites_env *env, const struct ap_site *s,
    const char *path, const char *text, size_t len, bool crlf, struct json_object **result,
    struct ap_problem *pb);

/* Whether name ends in a type a web server runs (.php, .phtml, .phar, ...). */
bool ap_files_server_executed(const char *name);

#endif
