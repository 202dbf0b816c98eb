/*
 * sampler.h — the sampler (src/sampler/): a process of the master that
 * reads the server every monitor.interval seconds, keeps the history,
 * evaluates the alert rules and sends their notifications, and serves the
 * live stream (Server-Sent Events) from its own event loop on its own unix
 * socket, so that no open stream ever holds a FastCGI worker.
 *
 * Its socket speaks a small HTTP/1.1 subset, to nginx (which checks the
 * session with auth_request before it connects a browser) and to the
 * panel's own processes:
 *
 *   GET  /events/metrics   text/event-stream: "event: metrics" with the
 *                          reading's JSON (sysstat.h) at every interval,
 *                          the latest one at once on connect
 *   GET  /system           the latest reading (JSON)
 *   GET  /processes        the latest reading with every process (JSON)
 *   POST /wake             look at the notification outbox now (204)
 *   POST /hand             a log's descriptor (SCM_RIGHTS) under X-Token (204)
 *   GET  /events/log       text/event-stream: the new lines of the log handed
 *                          under X-Aapanel-Stream, from ?from= or
 *                          Last-Event-ID ("event: lines", "id: <offset>")
 *
 * Anything else is 404; a request head over 4 KiB is refused.
 */
#ifndef AAPANEL_SAMPLER_H
#define AAPANEL_SAMPLER_H

#include <json-c/json.h>

#include "aapanel/config.h"
#include "aapanel/sysstat.h"

/*
 * Bind and listen on cfg->monitor_socket (a stale socket of a previous run
 * is replaced; one in use is an error), with server.socket's mode and
 * group. The master calls it once and hands the descriptor to every
 * sampler it starts, so a restarted sampler never leaves nginx without a
 * socket. Returns the descriptor or -1 (logged).
 */
int ap_sampler_listen(const struct ap_config *cfg);

/*
 * The sampler process: serve on lfd (from ap_sampler_listen) until SIGTERM
 * or SIGINT, then return the exit status (0). cfg is borrowed. Logs to
 * log_fd. Reads the tree at proc_root ("/proc").
 */
int ap_sampler_main(const struct ap_config *cfg, int lfd, int log_fd);
/* Before ap_sampler_main: the pool's scoreboard, where each new reading is
 * announced (ap_sb_reading_published). */
struct ap_sb;
void ap_sampler_announce_to(struct ap_sb *sb);

/*
 * Ask the sampler at socket_path for path (GET /system, /processes) and
 * parse its JSON into *out (owned). AP_ERR_IO when it does not answer
 * within timeout_ms, AP_ERR_PARSE when the answer is not JSON.
 */
enum ap_err ap_sampler_get(const char *socket_path, const char *path, int timeout_ms,
    struct json_object **out);
/* The same answer's body unparsed, into body (reset first): to compare with an earlier one. */
struct ap_buf;
enum ap_err ap_sampler_fetch(const char *socket_path, const char *path, int timeout_ms, struct ap_buf *body);
/*
 * POST /hand: give the sampler a copy of fd (a log opened through the helper,
 * follow.h) under a fresh random token, written to token (33 bytes) for
 * nginx to connect the stream with (GET /events/log, X-Aapanel-Stream). fd
 * stays the caller's. AP_ERR_IO when the sampler does not take it. domain and
 * which (a site's access|error log; NULL: none) let the sampler open it again
 * through the helper after logrotate renamed it.
 */
#define AP_SAMPLER_TOKEN_SIZE 33
enum ap_err ap_sampler_hand(const char *socket_path, int fd, const char *domain, const char *which,
    char token[static AP_SAMPLER_TOKEN_SIZE]);
/*
 * The same for a journal followed (log.file = "", the sampler's jfollow.h):
 * no descriptor, the unit (which "panel"|"helper"), the level ("" or NULL:
 * any), the search (NULL: none; any one line, sent as hexadecimal) and the
 * cursor of the newest entry shown (NULL or "": from the unit's first entry);
 * the sampler asks the helper for what follows it.
 */
enum ap_err ap_sampler_hand_journal(const char *socket_path, const char *which, const char *level,
    const char *search, const char *cursor, char token[static AP_SAMPLER_TOKEN_SIZE]);
/* POST /wake: best effort (a sampler that is down looks at its outbox when it starts). */
void ap_sampler_wake(const char *socket_path);

/*
 * One reading without a running sampler (the CLI and the dashboard while
 * the sampler is down): two readings gap_ms apart, so rates are known
 * (gap_ms 0: one reading, rates unknown). Owned JSON, NULL when /proc
 * cannot be read.
 */
struct json_object *ap_sampler_read_now(const char *host, int gap_ms, bool all_procs);

#endif
