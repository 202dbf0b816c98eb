/*
 * ops_backups.h — what ops_backups.c lends the panel's own backup (ops_bkpanel.c):
 * a destination loaded from the helper's files, restic run against it with
 * the fixed argv and secrets as files (see ops_backups.c), retention.
 */
#ifndef AAPANEL_HELPER_OPS_BACKUPS_H
#define AAPANEL_HELPER_OPS_BACKUPS_H

#include "ops.h"
#include "spawn.h"

struct bkdest; /* ops_backups.c */

/* The destination name (its files in backups.dir), in the arena; NULL with ctx->pb set. */
struct bkdest *ap_bk_dest_load(struct helper_ctx *ctx, const char *name);
/*
 * restic ARGS... against d; res filled (free it). lo < hi: restic's --json
 * status lines move the job's progress from lo to hi, and *summary (when not
 * NULL) gets the "summary" line (put it). max_output: stdout kept (0: default).
 */
enum ap_err ap_bk_restic(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args,
    int lo, int hi, struct json_object **summary, size_t max_output, struct ap_spawn_result *res);
/* restic ARGS... with its stdout into fd, at most max bytes (*over once more came). */
enum ap_err ap_bk_restic_fd(struct helper_ctx *ctx, const struct bkdest *d, const char *const *args,
    int fd, size_t max, size_t *len, bool *over);
/* Whether v[first..first+3] (keep_last, _daily, _weekly, _monthly) keep anything. */
bool ap_bk_keep_any(const struct ap_fieldval *v, int first);
/* restic forget --prune of tag's snapshots with that policy (kept/removed into ctx->result). */
enum ap_err ap_bk_forget(struct helper_ctx *ctx, const struct bkdest *d, const char *tag,
    const struct ap_fieldval *v, int first);
/* rel (beneath helper.sandbox_root) as an absolute path, in the arena. */
const char *ap_bk_abs(struct helper_ctx *ctx, const char *rel);

#endif
