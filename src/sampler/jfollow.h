/*
 * jfollow.h — the sampler's journal follow streams (docs/files.md, "Logs"):
 * with log.file = "" the panel's and the helper's lines are in the systemd
 * journal, which the panel's user cannot read. A worker that has checked the
 * admin's session (nginx's auth_request) hands the sampler what to follow —
 * the unit (panel|helper), the level, the search and the cursor of the newest
 * entry the page showed — under a random token (POST /hand with X-Journal,
 * no descriptor); nginx connects the browser's stream with that token
 * (GET /events/log, X-Aapanel-Stream). Every 500 ms the sampler asks the
 * helper for the entries after the stream's cursor (logs.journal with
 * `after`, filtered there) and writes them as one event whose id is the new
 * cursor; a browser that reconnects sends it back (Last-Event-ID). No worker
 * is held by a follower.
 */
#ifndef AAPANEL_SAMPLER_JFOLLOW_H
#define AAPANEL_SAMPLER_JFOLLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "aapanel/common.h"

#define AP_JFOLLOW_POLL_MS 500
#define AP_JFOLLOW_CURSOR_MAX 512
#define AP_JFOLLOW_SEARCH_MAX 800 /* bytes: 200 code points of UTF-8 */

struct ap_helper_client;
struct ap_jfollow_pending; /* streams handed, not yet claimed */
struct ap_jfollow;	   /* one stream: its unit, filters and cursor */

struct ap_jfollow_pending *ap_jfollow_pending_new(void);
void ap_jfollow_pending_free(struct ap_jfollow_pending *p);
/*
 * Keep a stream under token (32 hex characters) for 10 s: which "panel" or
 * "helper", level "" or a level's name (emerg .. debug), search_hex the search
 * text in lowercase hexadecimal ("" none; it must decode to one line of UTF-8
 * of at most AP_JFOLLOW_SEARCH_MAX bytes), cursor "" (the unit's first entry)
 * or a journal cursor. false when any of them is malformed or 256 wait.
 */
bool ap_jfollow_pending_add(struct ap_jfollow_pending *p, const char *token, const char *which,
    const char *level, const char *search_hex, const char *cursor, uint64_t now_ms);
/* The stream kept under token, removed from p (owned by the caller), or NULL. last (NULL: none):
 * the browser's Last-Event-ID, used as the cursor instead when it is one. */
struct ap_jfollow *ap_jfollow_take(struct ap_jfollow_pending *p, const char *token, const char *last,
    uint64_t now_ms);
void ap_jfollow_free(struct ap_jfollow *j);

/* Where the stream goes on from: its cursor ("" the unit's first entry). */
const char *ap_jfollow_cursor(const struct ap_jfollow *j);
/* Whether a journal cursor's characters (and length) are a cursor's. */
bool ap_jfollow_cursor_ok(const char *c);

/*
 * Ask the helper (h) for the entries after the stream's cursor when its time
 * has come (every AP_JFOLLOW_POLL_MS; a helper that does not answer is asked
 * again after 2 s, by no follower before then), and append them to out as one event ("event: lines", a
 * "data:" per line, bytes not UTF-8 as '?', "id: <cursor>"). Returns whether
 * anything was appended.
 */
bool ap_jfollow_poll(struct ap_jfollow *j, struct ap_helper_client *h, uint64_t now_ms,
    struct ap_buf *out);

#endif
