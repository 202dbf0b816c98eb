/*
 * users.h — panel accounts and API tokens: create, change password,
 * enable/disable, list; tokens created (shown once), looked up by their
 * keyed hash, revoked. Used by the pages and by the CLI alike.
 */
#ifndef AAPANEL_USERS_H
#define AAPANEL_USERS_H

#include <time.h>

#include "aapanel/arena.h"
#include "aapanel/config.h"
#include "aapanel/db.h"
#include "aapanel/problem.h"
#include "aapanel/totp.h"

struct ap_user;

struct ap_user_row {
	int64_t id;
	char username[64];
	char role[16];
	bool disabled;
	bool totp_enabled;
	int64_t created_at;
	int64_t last_login_at;  /* 0 = never */
	char last_login_addr[64];
};

/* 3..32 of [a-z0-9_.-], starting with a letter or digit. */
bool ap_username_valid(const char *name);

/*
 * Create a user with role and password (hashed at the configured cost).
 * Returns AP_DB_OK with *id set; AP_DB_EINVAL when the name, role or
 * password is refused (the policy, see password.h) and AP_DB_ECONSTRAINT
 * when the name is taken, with pb filled (field "username", "role" or
 * "password"); AP_DB_EOTHER when hashing fails (pb AP_PB_INTERNAL); any
 * other database error as is (pb untouched). Nothing is written and *id is
 * untouched on failure.
 */
enum ap_db_rc ap_user_create(struct ap_db *db, const struct ap_config *cfg, const char *name,
    const char *role, const char *password, int64_t *id, struct ap_problem *pb);
/*
 * The user called name (exact match) into *out; *password_hash (may be
 * NULL) gets a copy of the stored PHC string (owned, free(); "" when the
 * column is NULL). AP_DB_ENOTFOUND when there is none. *out and
 * *password_hash are written only on AP_DB_OK.
 */
enum ap_db_rc ap_user_find(struct ap_db *db, const char *name, struct ap_user_row *out,
    char **password_hash);
/* The same by id, without the hash. */
enum ap_db_rc ap_user_get(struct ap_db *db, int64_t id, struct ap_user_row *out);
/*
 * Set a new password (username only for the policy's "not the username"
 * rule): AP_DB_EINVAL with pb (field "password") when the policy refuses
 * it, AP_DB_EOTHER (pb AP_PB_INTERNAL) when hashing fails, AP_DB_ENOTFOUND
 * when there is no user id; the stored hash is unchanged on any failure.
 * Sessions are left alone: ending them is the caller's decision.
 */
enum ap_db_rc ap_user_set_password(struct ap_db *db, const struct ap_config *cfg, int64_t id,
    const char *username, const char *password, struct ap_problem *pb);
/*
 * Set or clear the disabled flag (the caller ends sessions); disabling also
 * revokes every API token of the user, in the same transaction, and
 * enabling does not bring them back. AP_DB_ENOTFOUND without user id.
 */
enum ap_db_rc ap_user_set_disabled(struct ap_db *db, int64_t id, bool disabled);
/* AP_DB_EINVAL (no pb) for a role ap_role_valid refuses; AP_DB_ENOTFOUND without user id. */
enum ap_db_rc ap_user_set_role(struct ap_db *db, int64_t id, const char *role);
/* Note a successful sign-in at now from addr (NULL = ""); AP_DB_OK even without user id. */
enum ap_db_rc ap_user_record_login(struct ap_db *db, int64_t id, const char *addr, time_t now);
/* Store a re-hash made at login with the current cost (hash not NULL); AP_DB_ENOTFOUND: no user. */
enum ap_db_rc ap_user_store_hash(struct ap_db *db, int64_t id, const char *hash);
/*
 * Every user, ordered by name; fn (not NULL) gets each row, borrowed for
 * that call, and returns false to stop. AP_DB_OK (also when stopped) or
 * the error class.
 */
enum ap_db_rc ap_user_each(struct ap_db *db, bool (*fn)(void *ctx, const struct ap_user_row *u),
    void *ctx);
/* Which users ap_user_page lists: NULL role = any; disabled -1 = any, 0 or 1. */
struct ap_user_filter {
	const char *role;
	int disabled;
};
/*
 * A page of users in the order they were made (id ascending): those of f
 * (NULL = all) with an id above after (0 = from the first), at most limit
 * (1..10000) of them; fn as for ap_user_each. *more (may be NULL) tells
 * whether users follow the page. AP_DB_EINVAL for a bad limit.
 */
enum ap_db_rc ap_user_page(struct ap_db *db, const struct ap_user_filter *f, int64_t after, int64_t limit,
    bool (*fn)(void *ctx, const struct ap_user_row *u), void *ctx, bool *more);
/* Number of users into *n; *n untouched on failure. */
enum ap_db_rc ap_user_count(struct ap_db *db, int64_t *n);
/*
 * The user's preferred interface language ("en", "ar"). lang must not be
 * NULL and is not checked here (the caller validates it against the
 * catalogs). AP_DB_ENOTFOUND without user id.
 */
enum ap_db_rc ap_user_set_language(struct ap_db *db, int64_t id, const char *lang);
/* Enabled users without two-factor authentication, into *n; *n untouched on failure. */
enum ap_db_rc ap_user_count_without_2fa(struct ap_db *db, int64_t *n);
/* Argon2 cost from the configuration into *params; void * so this header needs no password.h. */
void ap_user_pw_params(const struct ap_config *cfg, void *params /* struct ap_pw_params * */);

/* ---- two-factor (twofactor.c) */

struct ap_totp_state {
	bool enabled;
	char pending[AP_TOTP_SECRET_LEN + 1]; /* an enrolment's secret, "" when none (a secret: wipe) */
	int64_t recovery_left;                /* unused recovery codes */
};

/*
 * user_id's two-factor state into *out (zeroed first; pending "" unless a
 * 32-character secret is stored); AP_DB_ENOTFOUND when there is no such
 * user. *out may hold a secret: wipe it.
 */
enum ap_db_rc ap_user_totp_state(struct ap_db *db, int64_t user_id, struct ap_totp_state *out);
/*
 * Start (or restart) an enrolment: a fresh secret, stored as pending
 * (replacing any earlier one) and written into secret (wipe it after use).
 * AP_DB_ENOTFOUND when there is no such user, AP_DB_EOTHER without
 * randomness, else the error class. On failure secret is wiped.
 */
enum ap_db_rc ap_user_totp_pending_new(struct ap_db *db, int64_t user_id,
    char secret[AP_TOTP_SECRET_LEN + 1]);
/*
 * Finish an enrolment: code must be valid for the pending secret (±1 step
 * at now). Then, in one transaction of its own (not inside the caller's),
 * two-factor is on, the replay counter set past that code and ten fresh
 * recovery codes stored as keyed hashes (earlier ones deleted); the codes
 * themselves are written into codes (shown once; wipe after use).
 * AP_DB_EINVAL with pb (field "code"): AP_PB_CONFLICT when it is already
 * on (also when a concurrent request turned it on) or no enrolment is
 * pending, AP_PB_INVALID when the code is wrong. AP_DB_ENOTFOUND (no pb)
 * when there is no such user, AP_DB_EOTHER without randomness, else the
 * error class. Nothing changes on any failure and codes is zeroed.
 */
enum ap_db_rc ap_user_totp_enable(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *code, time_t now, char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1],
    struct ap_problem *pb);
/*
 * Replace user_id's recovery codes with ten new ones (written into codes,
 * shown once), in one transaction: AP_DB_ENOTFOUND when two-factor is off.
 * On failure the old codes stay and codes is zeroed.
 */
enum ap_db_rc ap_user_recovery_regenerate(struct ap_db *db, const struct ap_config *cfg,
    int64_t user_id, char codes[AP_RECOVERY_CODES][AP_RECOVERY_LEN + 1]);
/*
 * Turn two-factor off: secret, pending secret, replay counter and recovery
 * codes gone, in one transaction of its own (rolled back on failure).
 * AP_DB_OK also when there is no such user.
 */
enum ap_db_rc ap_user_totp_disable(struct ap_db *db, int64_t user_id, time_t now);
/*
 * Check a 6-digit TOTP code against user_id's enrolled secret (±1 step
 * around the current time) and move the replay counter, so a code works
 * once, even for two requests at the same time; *ok says whether it did.
 * *ok is false first: AP_DB_OK with *ok false for a wrong or used code or a
 * user without two-factor, the error class (and *ok false) on a database
 * failure.
 */
enum ap_db_rc ap_user_check_totp(struct ap_db *db, int64_t user_id, const char *code, bool *ok);
/*
 * Consume one unused recovery code of user_id (typed in any case, with or
 * without spaces and dashes). *ok is false first; AP_DB_OK with *ok true
 * when a code was used up, false when none matched; else the error class.
 * Whether two-factor is on is not checked (turning it off deletes codes).
 */
enum ap_db_rc ap_user_use_recovery_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *typed, bool *ok);

/* ---- signing in (signin.c) */

struct ap_signin {
	bool ok;                  /* the password or code was right */
	int64_t wait_s;           /* > 0: refused by throttling, nothing was checked */
	bool recovery;            /* ap_signin_code: a recovery code was used up */
	struct ap_user_row user;  /* ap_signin_password, ok: the account */
};

/*
 * Check username's password as the sign-in form does: throttled first
 * (res->wait_s > 0 and nothing checked or recorded), then the attempt is
 * recorded — and when it cannot be, the error is returned before the
 * password is looked at, so every password gets the same answer in the
 * same time — then checked (the same time spent for unknown and disabled
 * accounts, both refused), its outcome recorded, a new hash stored when the
 * configured cost was raised. *res is zeroed first; res->ok says whether
 * it was right, and res->user is the account when it was (zeroed when not,
 * and on any error). Database errors are returned as is; failing to store
 * the new hash is not reported.
 */
enum ap_db_rc ap_signin_password(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *password, const char *addr, time_t now, struct ap_signin *res);
/*
 * Check a second factor of user_id: a code of 6 characters as a TOTP code
 * (used once), anything longer or shorter as a recovery code (used up:
 * res->recovery), throttled and recorded under username like a password
 * (recorded before it is checked: one the database cannot record is not).
 * code must not be NULL. *res is zeroed first (res->user is not filled).
 * Database errors are returned as is (res->ok false).
 */
enum ap_db_rc ap_signin_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *username, const char *code, const char *addr, time_t now, struct ap_signin *res);

/* ---- API tokens */

#define AP_TOKEN_PREFIX "apn_"

struct ap_token_row {
	int64_t id;
	int64_t user_id;
	char username[64];
	char name[64];
	char scope[8];
	char allow_cidr[256];
	int64_t created_at, expires_at, last_used_at, revoked_at;
	char last_used_addr[64];
};

/*
 * Create a token for user_id (tokens.c): "apn_" + 64 hex chars written into
 * token (shown once, never stored; the table keeps its keyed hash).
 * name: 1..64 bytes of UTF-8; expires_days 0 = never, at most 3650; allow
 * = NULL, "" or a CIDR list (ap_cidr_list_parse). AP_DB_EINVAL with pb
 * (field "name", "scope", "allow" or "expires_days") when a value is
 * refused, and with AP_PB_CONFLICT (no field) when the user already holds
 * auth.max_tokens_per_user live tokens (not revoked, not expired);
 * AP_DB_EOTHER without randomness and the error class of a failing
 * statement otherwise, pb untouched. Nothing is stored and *id is untouched on
 * failure; token is written once the values pass, so after a later
 * failure it holds a value that works nowhere.
 */
enum ap_db_rc ap_token_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *name, const char *scope, const char *allow, int expires_days, char token[80],
    int64_t *id, struct ap_problem *pb);
/*
 * Authenticate a Bearer token ("apn_" + 64 chars) from addr at now:
 * malformed, unknown, revoked, expired, outside its allow list or a
 * disabled owner → AP_DB_ENOTFOUND (one answer for all). On AP_DB_OK *row
 * is the token and *user its owner (strings from arena a), and the last
 * use is recorded; a failing record returns its error class. Use *row and
 * *user only after AP_DB_OK: a refused token may leave them filled.
 */
enum ap_db_rc ap_token_auth(struct ap_db *db, const struct ap_config *cfg, const char *token,
    const char *addr, time_t now, struct ap_arena *a, struct ap_token_row *row,
    struct ap_user *user);
/*
 * Revoke token id; owner_id 0 = any owner (admins), else only that user's
 * token. AP_DB_ENOTFOUND when there is no such unrevoked token.
 */
enum ap_db_rc ap_token_revoke(struct ap_db *db, int64_t id, int64_t owner_id);
/*
 * Tokens of user_id (0 = all users), newest first, revoked and expired
 * ones included; fn (not NULL) gets each row, borrowed for that call, and
 * returns false to stop. AP_DB_OK (also when stopped) or the error class.
 */
enum ap_db_rc ap_token_each(struct ap_db *db, int64_t user_id,
    bool (*fn)(void *ctx, const struct ap_token_row *t), void *ctx);
/* Which tokens ap_token_page lists: username NULL = anyone's; active -1 = any, 1 usable, 0 not. */
struct ap_token_filter {
	const char *username;
	int active;
};
/*
 * A page of ap_token_each's list, of f (NULL = all): tokens with an id
 * below before (0 = from the newest), at most limit (1..10000); active
 * judged at now. *more (may be NULL) tells whether tokens follow.
 * AP_DB_EINVAL for a bad limit.
 */
enum ap_db_rc ap_token_page(struct ap_db *db, int64_t user_id, const struct ap_token_filter *f, time_t now,
    int64_t before, int64_t limit, bool (*fn)(void *ctx, const struct ap_token_row *t), void *ctx,
    bool *more);

#endif
