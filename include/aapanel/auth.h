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

/* "admin" | "operator" | "viewer". */
bool ap_role_valid(const char *role);
/*
 * May role do perm ("area.action")? admin: everything. operator: every
 * *.read outside the admin areas, account.self, and writes on sites,
 * databases, files, cron and certificates. viewer: *.read outside the
 * admin areas and account.self. Admin areas: users, settings, audit,
 * firewall (writes), debug.
 */
bool ap_role_allows(const char *role, const char *perm);
/* "read" | "write" | "admin". */
bool ap_scope_valid(const char *scope);
/* May a token with scope do perm? read: *.read; write: no admin-only perms; admin: all. */
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

/* Keyed hash of a cookie value or token (HMAC-SHA-256 with the panel's secret key). */
void ap_auth_hash(const struct ap_config *cfg, const char *value, char out[65]);

/*
 * Start a session for user_id: a fresh 256-bit id (getrandom) written as
 * hex into cookie (never stored: the table keeps its keyed hash), a fresh
 * CSRF token, expiry from session.absolute_timeout.
 */
enum ap_db_rc ap_session_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    bool mfa_pending, const char *addr, const char *user_agent,
    char cookie[AP_SESSION_ID_HEX + 1], struct ap_session *out);
/*
 * Find the live session for a cookie value and its (enabled) user. Expired
 * sessions (idle or absolute) are deleted and reported as AP_DB_ENOTFOUND,
 * like unknown ids. last_seen_at is refreshed at most once a minute.
 * The user's strings come from arena a.
 */
enum ap_db_rc ap_session_lookup(struct ap_db *db, const struct ap_config *cfg, const char *cookie,
    time_t now, struct ap_arena *a, struct ap_session *out, struct ap_user *user);
/* Promote a session that passed two-factor to a full one, with a new id (cookie) and CSRF token. */
enum ap_db_rc ap_session_rotate(struct ap_db *db, const struct ap_config *cfg, struct ap_session *s,
    bool mfa_pending, char cookie[AP_SESSION_ID_HEX + 1]);
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
 * at now, most recently used first; fn returns false to stop.
 */
enum ap_db_rc ap_session_each_live(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    time_t now, bool (*fn)(void *ctx, const struct ap_session_row *s), void *ctx);
/* Every session of user_id except keep_id (0 = all). *n gets how many went. */
enum ap_db_rc ap_session_delete_user(struct ap_db *db, int64_t user_id, int64_t keep_id, int64_t *n);

/* ---- login throttling */

/*
 * May a login for username from addr be tried now? Counts failures since
 * the last success per account and per address: from
 * auth.lockout_threshold on, each further failure doubles the wait (1 s,
 * 2 s, 4 s … 15 min) after the latest failure; an account with
 * auth.max_failures_per_hour failures in the last hour is refused until
 * the hour has passed. *wait_s gets the seconds to wait (0 = go).
 */
enum ap_db_rc ap_login_throttle(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *addr, time_t now, int64_t *wait_s);
enum ap_db_rc ap_login_record(struct ap_db *db, const char *username, const char *addr, time_t now,
    bool success);

#endif
