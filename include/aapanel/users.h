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
 * Create a user with role and password. Returns AP_DB_OK with *id set;
 * AP_DB_EINVAL when the name, role or password is refused (the policy, see
 * password.h) and AP_DB_ECONSTRAINT when the name is taken, with pb filled
 * (field "username", "role" or "password"); any other database error as
 * is. Nothing is written on failure.
 */
enum ap_db_rc ap_user_create(struct ap_db *db, const struct ap_config *cfg, const char *name,
    const char *role, const char *password, int64_t *id, struct ap_problem *pb);
enum ap_db_rc ap_user_find(struct ap_db *db, const char *name, struct ap_user_row *out,
    char **password_hash);
enum ap_db_rc ap_user_get(struct ap_db *db, int64_t id, struct ap_user_row *out);
/*
 * Set a new password: AP_DB_EINVAL with pb (field "password") when the
 * policy refuses it, AP_DB_ENOTFOUND when there is no user id; the stored
 * hash is unchanged on any failure.
 */
enum ap_db_rc ap_user_set_password(struct ap_db *db, const struct ap_config *cfg, int64_t id,
    const char *username, const char *password, struct ap_problem *pb);
enum ap_db_rc ap_user_set_disabled(struct ap_db *db, int64_t id, bool disabled);
enum ap_db_rc ap_user_set_role(struct ap_db *db, int64_t id, const char *role);
enum ap_db_rc ap_user_record_login(struct ap_db *db, int64_t id, const char *addr, time_t now);
/* Store a re-hash made at login with the current cost. */
enum ap_db_rc ap_user_store_hash(struct ap_db *db, int64_t id, const char *hash);
/* Every user, ordered by name; fn returns false to stop. */
enum ap_db_rc ap_user_each(struct ap_db *db, bool (*fn)(void *ctx, const struct ap_user_row *u),
    void *ctx);
enum ap_db_rc ap_user_count(struct ap_db *db, int64_t *n);
/* The user's preferred interface language ("en", "ar"). */
enum ap_db_rc ap_user_set_language(struct ap_db *db, int64_t id, const char *lang);
/* Enabled users without two-factor authentication, into *n. */
enum ap_db_rc ap_user_count_without_2fa(struct ap_db *db, int64_t *n);
/* Argon2 cost from the configuration. */
void ap_user_pw_params(const struct ap_config *cfg, void *params /* struct ap_pw_params * */);

/* ---- two-factor (twofactor.c) */

struct ap_totp_state {
	bool enabled;
	char pending[AP_TOTP_SECRET_LEN + 1]; /* an enrolment's secret, "" when none (a secret: wipe) */
	int64_t recovery_left;                /* unused recovery codes */
};

/* user_id's two-factor state into *out; AP_DB_ENOTFOUND when there is no such user. */
enum ap_db_rc ap_user_totp_state(struct ap_db *db, int64_t user_id, struct ap_totp_state *out);
/*
 * Start (or restart) an enrolment: a fresh secret, stored as pending and
 * written into secret (wipe it after use). On failure secret is wiped.
 */
enum ap_db_rc ap_user_totp_pending_new(struct ap_db *db, int64_t user_id,
    char secret[AP_TOTP_SECRET_LEN + 1]);
/*
 * Finish an enrolment: code must be valid for the pending secret. Then, in
 * one transaction, two-factor is on, the replay counter set and ten fresh
 * recovery codes stored as keyed hashes; the codes themselves are written
 * into codes (shown once; wipe after use). AP_DB_EINVAL with pb (field
 * "code") when it is already on, no enrolment is pending or the code is
 * wrong; nothing changes on any failure and codes is zeroed.
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
/* Turn two-factor off: secret, pending secret and recovery codes gone, in one transaction. */
enum ap_db_rc ap_user_totp_disable(struct ap_db *db, int64_t user_id, time_t now);
/*
 * Check a 6-digit TOTP code against user_id's enrolled secret (±1 step) and
 * move the replay counter, so a code works once; *ok says whether it did.
 */
enum ap_db_rc ap_user_check_totp(struct ap_db *db, int64_t user_id, const char *code, bool *ok);
/* Consume one unused recovery code of user_id (typed in any case, with or without dashes). */
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
 * (res->wait_s > 0 and nothing checked), the same time spent for unknown
 * and disabled accounts, the attempt recorded for the throttle, a new hash
 * stored when the configured cost was raised. res->ok says whether it was
 * right; a database error is returned as is.
 */
enum ap_db_rc ap_signin_password(struct ap_db *db, const struct ap_config *cfg, const char *username,
    const char *password, const char *addr, time_t now, struct ap_signin *res);
/*
 * Check a second factor of user_id: a 6-digit TOTP code (used once) or a
 * recovery code (used up), throttled and recorded like a password.
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
 * expires_days 0 = never; allow = "" or a CIDR list. AP_DB_EINVAL with pb
 * (field "name", "scope", "allow" or "expires_days") when a value is
 * refused; nothing is written on failure.
 */
enum ap_db_rc ap_token_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *name, const char *scope, const char *allow, int expires_days, char token[80],
    int64_t *id, struct ap_problem *pb);
/*
 * Authenticate a Bearer token from addr at now: unknown, revoked, expired,
 * wrong address or disabled user → AP_DB_ENOTFOUND (one answer for all).
 * Records last use. The user's strings come from arena a.
 */
enum ap_db_rc ap_token_auth(struct ap_db *db, const struct ap_config *cfg, const char *token,
    const char *addr, time_t now, struct ap_arena *a, struct ap_token_row *row,
    struct ap_user *user);
/* Revoke token id; owner_id 0 = any owner (admins), else only that user's token. */
enum ap_db_rc ap_token_revoke(struct ap_db *db, int64_t id, int64_t owner_id);
/* Tokens of user_id (0 = all users), newest first. */
enum ap_db_rc ap_token_each(struct ap_db *db, int64_t user_id,
    bool (*fn)(void *ctx, const struct ap_token_row *t), void *ctx);

#endif
