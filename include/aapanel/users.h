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
 * Create a user. Validates the name, role and password policy; a
 * reason (static string) is written into *why on AP_DB_EINVAL, and a
 * taken name is AP_DB_ECONSTRAINT. *id gets the new id.
 */
enum ap_db_rc ap_user_create(struct ap_db *db, const struct ap_config *cfg, const char *name,
    const char *role, const char *password, int64_t *id, const char **why);
enum ap_db_rc ap_user_find(struct ap_db *db, const char *name, struct ap_user_row *out,
    char **password_hash);
enum ap_db_rc ap_user_get(struct ap_db *db, int64_t id, struct ap_user_row *out);
/* New password (policy checked, *why on AP_DB_EINVAL). */
enum ap_db_rc ap_user_set_password(struct ap_db *db, const struct ap_config *cfg, int64_t id,
    const char *username, const char *password, const char **why);
enum ap_db_rc ap_user_set_disabled(struct ap_db *db, int64_t id, bool disabled);
enum ap_db_rc ap_user_set_role(struct ap_db *db, int64_t id, const char *role);
enum ap_db_rc ap_user_record_login(struct ap_db *db, int64_t id, const char *addr, time_t now);
/* Store a re-hash made at login with the current cost. */
enum ap_db_rc ap_user_store_hash(struct ap_db *db, int64_t id, const char *hash);
/* Every user, ordered by name; fn returns false to stop. */
enum ap_db_rc ap_user_each(struct ap_db *db, bool (*fn)(void *ctx, const struct ap_user_row *u),
    void *ctx);
enum ap_db_rc ap_user_count(struct ap_db *db, int64_t *n);
/* Enabled users without two-factor authentication, into *n. */
enum ap_db_rc ap_user_count_without_2fa(struct ap_db *db, int64_t *n);
/* Argon2 cost from the configuration. */
void ap_user_pw_params(const struct ap_config *cfg, void *params /* struct ap_pw_params * */);

/*
 * Check a 6-digit TOTP code against user_id's enrolled secret (±1 step) and
 * move the replay counter, so a code works once; *ok says whether it did.
 */
enum ap_db_rc ap_user_check_totp(struct ap_db *db, int64_t user_id, const char *code, bool *ok);
/* Consume one unused recovery code of user_id (typed in any case, with or without dashes). */
enum ap_db_rc ap_user_use_recovery_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *typed, bool *ok);

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
 * Create a token for user_id: "apn_" + 64 hex chars written into token (shown
 * once, never stored; the table keeps its keyed hash). expires_days 0 = never.
 * allow = "" or a CIDR list. *why on AP_DB_EINVAL.
 */
enum ap_db_rc ap_token_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *name, const char *scope, const char *allow, int expires_days, char token[80],
    int64_t *id, const char **why);
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
