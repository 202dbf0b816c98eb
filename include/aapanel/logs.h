/*
 * logs.h — logs read from the end (docs/files.md, "Logs"): a site's nginx
 * access and error logs, and for admins the panel's and the helper's own
 * log. The helper passes a read descriptor on the log it names itself
 * (logs.open from the site's domain, logs.system from log.file), or on one
 * of its rotations (".N", or ".N.gz" read through zlib in-process); the
 * worker scans it backwards for the last lines that match. Used by the log
 * viewer's pages and `aapanel logs`.
 */
#ifndef AAPANEL_LOGS_H
#define AAPANEL_LOGS_H

#include <json-c/json.h>

#include "aapanel/sites.h"

/* "access", "error" (NULL-terminated). */
extern const char *const ap_log_kinds[];
/* "panel", "helper": the panel's own logs (NULL-terminated). */
extern const char *const ap_log_systems[];
/* Levels of nginx's error log, most severe first (NULL-terminated). */
extern const char *const ap_log_levels[];

#define AP_LOG_ROTATIONS_MAX 9

/* An opened log: from ap_logs_open / ap_logs_system_open, released with ap_logs_close. */
struct ap_log_file {
	int fd;                        /* read descriptor (owned) */
	int64_t size;                  /* its size on disk (compressed for a .gz) */
	bool gzip;                     /* a compressed rotation */
	int rotation;                  /* 0 the log, N its rotation .N / .N.gz */
	struct json_object *rotations; /* [{rotation, gzip, size, modified}] there are (owned) */
};

/* What to take from a log. */
struct ap_log_query {
	int lines;          /* 1..5000 */
	const char *search; /* plain text (NULL or "": any) */
	int level;          /* an nginx error log: this index of ap_log_levels or more severe, -1 any */
	int tag;            /* log.file: 0 the panel's lines, 1 the helper's, -1 all */
};

/* The site's `which` log (an index of ap_log_kinds), rotation 0..9. AP_PB_NOT_FOUND when absent. */
enum ap_err ap_logs_open(const struct ap_sites_env *env, const struct ap_site *s, int which,
    int rotation, struct ap_log_file *lf, struct ap_problem *pb);
/* log.file (the panel's and the helper's lines), rotation 0..9. AP_PB_NOT_FOUND without one. */
enum ap_err ap_logs_system_open(const struct ap_sites_env *env, int rotation, struct ap_log_file *lf,
    struct ap_problem *pb);
void ap_logs_close(struct ap_log_file *lf);
/* The panel's (which 0) or the helper's (1) own log from the systemd journal (log.file = ""):
 * the newest q->lines entries of its unit that match q->search and q->level (a journal
 * PRIORITY), oldest first, into *out (an array of strings, owned); before: a cursor (the
 * entries older than it), *older: the cursor for the page before these (a string, owned) or NULL
 * when there is none; *newest (when not NULL): the cursor of the unit's last entry, where a
 * follower starts (a string, owned), NULL when the unit has none. Through the helper. */
enum ap_err ap_logs_journal(const struct ap_sites_env *env, int which, const struct ap_log_query *q,
    const char *before, struct json_object **out, struct json_object **older,
    struct json_object **newest, struct ap_problem *pb);

/*
 * The last q->lines lines of lf that match q, oldest first in *out (an
 * array of strings, owned; invalid UTF-8 shown as '?'). At most the last
 * 8 MiB are scanned (of the decompressed text for a .gz, which is read
 * whole through zlib, at most 1 GiB of it). AP_PB_INVALID for a .gz that
 * is not gzip.
 */
enum ap_err ap_logs_read(struct ap_log_file *lf, const struct ap_log_query *q, struct json_object **out,
    struct ap_problem *pb);

/* Open, read, close: the site's log for `aapanel logs` and the pages. *size: the log's size. */
enum ap_err ap_logs_tail(const struct ap_sites_env *env, const struct ap_site *s, int which,
    int rotation, int lines, const char *search, const char *level, struct json_object **out,
    int64_t *size, struct ap_problem *pb);

/* The request id in a panel log line ("req=<hex>"): its offset and length, false when none. */
bool ap_logs_reqid(const char *line, size_t *off, size_t *len);

#endif
