/*
 * logs.h — a site's nginx logs, read from the end (docs/files.md, "Logs"):
 * the helper passes a read descriptor on the log it names itself from the
 * site's domain (logs.open); the worker scans it backwards for the last
 * lines that match. Used by the log viewer's pages and `aapanel logs`.
 */
#ifndef AAPANEL_LOGS_H
#define AAPANEL_LOGS_H

#include <json-c/json.h>

#include "aapanel/sites.h"

/* "access", "error" (NULL-terminated). */
extern const char *const ap_log_kinds[];
/* Levels of nginx's error log, most severe first (NULL-terminated). */
extern const char *const ap_log_levels[];

/*
 * The last `lines` lines (1..5000) of the site's `which` log (an index of
 * ap_log_kinds; rotated: its .1) that contain `search` (NULL or "": any)
 * and, for an error log, are of `level` or more severe (NULL: any), oldest
 * first in *out (an array of strings, owned; invalid UTF-8 shown as '?').
 * At most the last 8 MiB are scanned. *size: the log's size.
 * AP_PB_NOT_FOUND when the site has no such log yet.
 */
enum ap_err ap_logs_tail(const struct ap_sites_env *env, const struct ap_site *s, int which,
    bool rotated, int lines, const char *search, const char *level, struct json_object **out,
    int64_t *size, struct ap_problem *pb);

/* The log's descriptor (owned) and size, for a download. */
enum ap_err ap_logs_open(const struct ap_sites_env *env, const struct ap_site *s, int which,
    bool rotated, int *fd, int64_t *size, struct ap_problem *pb);

#endif
