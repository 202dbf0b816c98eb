/*
 * auth.h — who may do what, and the login machinery: roles and
 * permissions, API-token scopes, sessions (cookie ids stored as keyed
 * hashes), and brute-force throttling of logins.
 */
#ifndef AAPANEL_AUTH_H
#define AAPANEL_AUTH_H

#include <time.h>

#include "aapanel/arena.h"
#include "aapanel/config.h"
#include "aapanel/db.h"

/* A signed-in user as the gate knows them (strings in the request arena). */
struct ap_user {
	int64_t id;
	const char *username;
	const char *role;       /* "admin" | "operator" | "viewer" */
	bool totp_enabled;
	const char *language;   /* preferred UI language or NULL */
};

/* ---- roles, permissions, scopes */

/* "admin" | "operator" | "viewer" (exact); false for NULL. */
bool ap_role_valid(const char *role);
/*
 * May role do perm ("area.action")? admin: everything. operator and
 * viewer: account.self and every "<area>.read" outside the admin areas
 * (users, settings, audit, debug); operator also "<area>.write" on sites,
 * databases, files, cron and certificates. Everything else (firewall
 * writes, other actions, an unknown role, NULL) is refused.
 */
bool ap_role_allows(const char *role, const char *perm);
/* "read" | "write" | "admin" (exact); false for NULL. */
bool ap_scope_valid(const char *scope);
/*
 * May a token with scope do perm (checked on top of its owner's role)?
 * read: "<area>.read" only (not account.self); write: anything outside the
 * admin areas and the firewall area (firewall.read included); admin: all.
 * False for an unknown scope or NULL.
 */
bool ap_scope_allows(const char *scope, const char *perm);

/* ---- sessions */

#define AP_SESSION_ID_HEX 64 /* 256 random bits */

struct ap_session {
	int64_t id;
	int64_t user_id;
	char csrf[AP_SESSION_ID_HEX + 1];
	int64_t created_at, last_seen_at, expires_at;
	bool mfa_pending;
};

/* Keyed hash of a cookie value or token (HMAC-SHA-256, cfg's secret key) as hex. Never fails. */
void ap_auth_hash(const struct ap_config *cfg, const char *value, char out[65]);

/*
 * Start a session for user_id: a fresh 256-bit id (getrandom) written as
 * hex into cookie (never stored: the table keeps its keyed hash), a fresh
 * CSRF token, expiry from session.absolute_timeout. addr may be NULL;
 * user_agent (may be NULL) is cut to 255 bytes, and dropped if that is not
 * valid UTF-8. *out is zeroed on entry and filled on AP_DB_OK. AP_DB_EOTHER
 * when getrandom fails, else the INSERT's error class; after a failure
 * cookie may hold an id that was never stored.
 */
enum ap_db_rc ap_session_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    bool mfa_pending, const char *addr, const char *user_agent,
    char cookie[AP_SESSION_ID_HEX + 1], struct ap_session *out);
/*
 * Find the live session for a cookie value and its (enabled) user. A
 * cookie that is not 64 lowercase hex chars, an unknown id, an expired
 * session (idle or absolute) and a disabled user are all AP_DB_ENOTFOUND;
 * the expired or disabled one is deleted. last_seen_at is refreshed at
 * most once a minute; a failing refresh returns its error class. The
 * user's strings come from arena a (language NULL when unset). *out is
 * zeroed on entry and on AP_DB_ENOTFOUND; use *out and *user only after
 * AP_DB_OK.
 */
enum ap_db_rc ap_session_lookup(struct ap_db *db, const struct ap_config *cfg, const char *cookie,
    time_t now, struct ap_arena *a, struct ap_session *out, struct ap_user *user);
/*
 * Give session s->id a new id (written into cookie) and CSRF token, set
 * its mfa_pending and last_seen_at: after the second factor, and after a
 * change of privilege, so an id seen before stops working. On AP_DB_OK
 * s->csrf and s->mfa_pending are updated, the rest of *s untouched; it is
 * AP_DB_OK even when no such session exists (the new cookie then finds
 * nothing). AP_DB_EOTHER when getrandom fails, else the UPDATE's error
 * class; on failure the old cookie stays valid.
 */
enum ap_db_rc ap_session_rotate(struct ap_db *db, const struct ap_config *cfg, struct ap_session *s,
    bool mfa_pending, char cookie[AP_SESSION_ID_HEX + 1]);
/* Delete session_id; AP_DB_OK also when there was none. */
enum ap_db_rc ap_session_delete(struct ap_db *db, int64_t session_id);
/* Delete session_id only if it belongs to user_id: AP_DB_ENOTFOUND otherwise. */
enum ap_db_rc ap_session_delete_own(struct ap_db *db, int64_t session_id, int64_t user_id);

/* A live session as its owner sees it in their account. */
struct ap_session_row {
	int64_t id, created_at, last_seen_at;
	char addr[64];
	char user_agent[256];
};
/*
 * Every live (signed-in, neither idle nor past its end) session of user_id
 * at now, most recently used first; fn (not NULL) gets each row, borrowed
 * for that call (addr and user agent cut to fit), and returns false to
 * stop. AP_DB_OK (also when stopped) or the error class.
 */
enum ap_db_rc ap_session_each_live(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    time_t now, bool (*fn)(void *ctx, const struct ap_session_row *s), void *ctx);
/* Every session of user_id except keep_id (0 = all); *n (may be NULL): how many, 0 on failure. */
enum ap_db_rc ap_session_delete_user(struct ap_db *db, int64_t user_id, int64_t keep_id, int64_t *n);

/* ---- login throttling */

/*
 * May a login for username from addr be tried now? Three rules, the
 * longest wait wins: per account, failures since its last success — from
 * auth.lockout_threshold on each further failure doubles the wait (1 s,
 * 2 s, 4 s … 15 min) after the latest; per account, auth.max_failures_per_hour
 * failures in the last hour refuse it until the oldest is an hour old; per
 * address, whatever the account and whatever succeeded in between, at most
 * auth.address_threshold failures in any auth.address_window seconds, then
 * a wait until enough have left the window. *wait_s gets the seconds to
 * wait (0 = go). AP_DB_OK or the error class of a failing read; after a
 * failure *wait_s is not an answer: do not go on. username and addr must
 * not be NULL (NULL binds SQL NULL: nothing counted). self: the attempt
 * being judged, already reserved with ap_login_attempt_begin (0: none) —
 * every other attempt counts, those still being checked included, so N
 * guesses at once count as N on every worker of every host (issue 19).
 */
enum ap_db_rc ap_login_throttle(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *addr, time_t now, int64_t self, int64_t *wait_s);
/*
 * Record an attempt before it is checked, as a failure (addr NULL = ""),
 * so that an attempt the database cannot record is never checked at all;
 * *id is its row. Then ap_login_attempt_finish with the outcome (every
 * attempt, right or wrong, makes the same two writes). AP_DB_OK or the
 * error class.
 */
enum ap_db_rc ap_login_attempt_begin(struct ap_db *db, const char *username, const char *addr, time_t now,
    int64_t *id);
enum ap_db_rc ap_login_attempt_finish(struct ap_db *db, int64_t id, bool success);
/* An attempt refused by the throttle before it was checked: it does not count. */
enum ap_db_rc ap_login_attempt_withdraw(struct ap_db *db, int64_t id);
/* Record one finished attempt at now (both calls above). AP_DB_OK or the error class. */
enum ap_db_rc ap_login_record(struct ap_db *db, const char *username, const char *addr, time_t now,
    bool success);

#endif
