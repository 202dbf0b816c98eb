/*
 * follow.h — the log follow streams of the sampler (docs/files.md, "Logs"):
 * a worker that has checked the session and the site (nginx's auth_request)
 * opens the log through the helper (logs.open, SCM_RIGHTS) and hands the
 * descriptor on to the sampler with a random token (POST /hand, the
 * descriptor with the request's first byte); nginx then connects the
 * browser's stream with that token (GET /events/log, X-Aapanel-Stream). The
 * sampler reads the new lines of every followed log on its own loop, so a
 * follower never holds a FastCGI worker.
 */
#ifndef AAPANEL_SAMPLER_FOLLOW_H
#define AAPANEL_SAMPLER_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "aapanel/common.h"

#define AP_FOLLOW_TOKEN_LEN 32 /* hex characters */

struct ap_follow_pending; /* descriptors handed, not yet claimed by a stream */
struct ap_follow;	  /* one stream's log: its descriptor and where it is */

struct ap_follow_pending *ap_follow_pending_new(void);
void ap_follow_pending_free(struct ap_follow_pending *p);
/*
 * Keep fd (taken: closed when it expires, after 10 s unclaimed) under token
 * (32 hex characters). false when the token is malformed or 256 are already
 * waiting (fd closed then).
 */
bool ap_follow_pending_add(struct ap_follow_pending *p, const char *token, int fd, uint64_t now_ms);
/* The same with the log's name (a site's domain and access|error; NULL: none), to reopen it. */
bool ap_follow_pending_add_log(struct ap_follow_pending *p, const char *token, int fd, const char *domain,
    const char *which, uint64_t now_ms);
/* The descriptor kept under token, removed from p (owned by the caller), or -1. */
int ap_follow_pending_take(struct ap_follow_pending *p, const char *token, uint64_t now_ms);
/* The same, with the log's name as it was handed ("" when none). */
int ap_follow_pending_take_log(struct ap_follow_pending *p, const char *token, uint64_t now_ms,
    char domain[static 254], char which[static 8]);

/*
 * A stream on fd (taken) from offset from (-1: the end; beyond the end: the
 * start, the log was rotated or emptied; more than 1 MiB behind: 1 MiB from
 * the end, from the next line).
 */
struct ap_follow *ap_follow_new(int fd, int64_t from);
void ap_follow_free(struct ap_follow *f);
/*
 * Append to out the log's complete new lines as one event ("id: <offset>",
 * "event: lines", a "data:" per line, bytes not UTF-8 as '?'), at most
 * 256 KiB a call. Returns whether anything was appended.
 */
bool ap_follow_read(struct ap_follow *f, struct ap_buf *out);

/*
 * Rotations (logrotate renames the log and the web server makes a new one):
 * the stream watches path (stat, no descriptor) besides its descriptor, and
 * keeps the log's name for whoever reopens it. ap_follow_rotated is true when
 * path is now another file than the descriptor's — at most once a second, so
 * a reopen that fails is tried again soon but not on every tick; the caller
 * reads the old one to its end, opens the new one (the helper's logs.open) and
 * gives it to ap_follow_switch: read from its start.
 */
void ap_follow_watch(struct ap_follow *f, const char *path, const char *domain, const char *which);
bool ap_follow_rotated(struct ap_follow *f, uint64_t now_ms);
const char *ap_follow_domain(const struct ap_follow *f);
const char *ap_follow_which(const struct ap_follow *f);
void ap_follow_switch(struct ap_follow *f, int fd);

#endif
