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
/* The descriptor kept under token, removed from p (owned by the caller), or -1. */
int ap_follow_pending_take(struct ap_follow_pending *p, const char *token, uint64_t now_ms);

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

#endif
