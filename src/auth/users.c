/* users.c — panel accounts and API tokens (users.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/config.h"
#include "aapanel/auth.h"
#include "aapanel/log.h"
#include "aapanel/netaddr.h"
#include "aapanel/password.h"
#include "aapanel/totp.h"
#include "aapanel/users.h"

bool
ap_username_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < 3 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			(i > 0 && (c == '_' || c == '.' || c == '-'))))
			return false;
	}
	return true;
}

void
ap_user_pw_params(const struct ap_config *cfg, void *params)
{
	struct ap_pw_params *p = params;

	p->m_kib = (uint32_t)cfg->argon2_memory_kib;
	p->t = (uint32_t)cfg->argon2_iterations;
	p->p = (uint32_t)cfg->argon2_parallelism;
}

static void
copy_text(struct ap_db_stmt *st, int col, char *dst, size_t n)
{
	const char *t = ap_db_col_text(st, col, NULL);

	snprintf(dst, n, "%s", t ? t : "");
}

enum ap_db_rc
ap_user_create(struct ap_db *db, const struct ap_config *cfg, const char *name, const char *role,
    const char *password, int64_t *id, const char **why)
{
	struct ap_pw_params prm;
	struct ap_db_stmt *st = NULL;
	char *hash = NULL;
	time_t now = time(NULL);
	enum ap_db_rc rc;

	*why = NULL;
	if (!ap_username_valid(name)) {
		*why = "username must be 3 to 32 of a-z, 0-9, _ . - starting with a letter or digit";
		return AP_DB_EINVAL;
	}
	if (!ap_role_valid(role)) {
		*why = "role must be admin, operator or viewer";
		return AP_DB_EINVAL;
	}
	if ((*why = ap_pw_check_policy(password, name, (size_t)cfg->password_min_length)) != NULL)
		return AP_DB_EINVAL;
	ap_user_pw_params(cfg, &prm);
	if (ap_pw_hash(password, &prm, &hash) != AP_OK) {
		*why = "password hashing failed";
		return AP_DB_EOTHER;
	}
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO users (username, password_hash, role, disabled, created_at, updated_at, "
	    "password_changed_at) VALUES (?, ?, ?, 0, ?, ?, ?)",
	    "id", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_text(st, 1, name, -1);
		ap_db_bind_text(st, 2, hash, -1);
		ap_db_bind_text(st, 3, role, -1);
		ap_db_bind_int64(st, 4, now);
		ap_db_bind_int64(st, 5, now);
		ap_db_bind_int64(st, 6, now);
		rc = ap_db_step(st);
		if (rc == AP_DB_DONE) {
			*id = ap_db_last_insert_id(st);
			rc = AP_DB_OK;
		} else if (rc == AP_DB_ECONSTRAINT)
			*why = "a user with this name already exists";
	}
	ap_db_finalize(st);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return rc;
}

static const char user_cols[] =
    "id, username, role, disabled, totp_enabled, created_at, last_login_at, last_login_addr, password_hash";

static void
fill_user(struct ap_db_stmt *st, struct ap_user_row *u)
{
	memset(u, 0, sizeof(*u));
	u->id = ap_db_col_int64(st, 0);
	copy_text(st, 1, u->username, sizeof(u->username));
	copy_text(st, 2, u->role, sizeof(u->role));
	u->disabled = ap_db_col_int64(st, 3) != 0;
	u->totp_enabled = ap_db_col_int64(st, 4) != 0;
	u->created_at = ap_db_col_int64(st, 5);
	u->last_login_at = ap_db_col_is_null(st, 6) ? 0 : ap_db_col_int64(st, 6);
	copy_text(st, 7, u->last_login_addr, sizeof(u->last_login_addr));
}

static enum ap_db_rc
get_one(struct ap_db *db, const char *where, const char *s, int64_t i, struct ap_user_row *out,
    char **password_hash)
{
	struct ap_db_stmt *st = NULL;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users WHERE %s", user_cols, where);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	if (s)
		ap_db_bind_text(st, 1, s, -1);
	else
		ap_db_bind_int64(st, 1, i);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		fill_user(st, out);
		if (password_hash) {
			const char *h = ap_db_col_text(st, 8, NULL);
			*password_hash = ap_xstrdup(h ? h : "");
		}
		rc = AP_DB_OK;
	} else if (rc == AP_DB_DONE)
		rc = AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_find(struct ap_db *db, const char *name, struct ap_user_row *out, char **password_hash)
{
	return get_one(db, "username = ?", name, 0, out, password_hash);
}

enum ap_db_rc
ap_user_get(struct ap_db *db, int64_t id, struct ap_user_row *out)
{
	return get_one(db, "id = ?", NULL, id, out, NULL);
}

/* Run an UPDATE with an int64 id as the last bind; ENOTFOUND when no row matched. */
static enum ap_db_rc
update_one(struct ap_db *db, const char *sql, const char *s1, int64_t i1, bool has_i1, int64_t id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db, sql, &st);
	int k = 1;

	if (rc != AP_DB_OK)
		return rc;
	if (s1)
		ap_db_bind_text(st, k++, s1, -1);
	if (has_i1)
		ap_db_bind_int64(st, k++, i1);
	ap_db_bind_int64(st, k, id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_store_hash(struct ap_db *db, int64_t id, const char *hash)
{
	return update_one(db, "UPDATE users SET password_hash = ? WHERE id = ?", hash, 0, false, id);
}

enum ap_db_rc
ap_user_set_password(struct ap_db *db, const struct ap_config *cfg, int64_t id,
    const char *username, const char *password, const char **why)
{
	struct ap_pw_params prm;
	char *hash = NULL;
	enum ap_db_rc rc;

	if ((*why = ap_pw_check_policy(password, username, (size_t)cfg->password_min_length)) != NULL)
		return AP_DB_EINVAL;
	ap_user_pw_params(cfg, &prm);
	if (ap_pw_hash(password, &prm, &hash) != AP_OK) {
		*why = "password hashing failed";
		return AP_DB_EOTHER;
	}
	{
		struct ap_db_stmt *st = NULL;
		time_t now = time(NULL);

		rc = ap_db_prepare(db,
		    "UPDATE users SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?",
		    &st);
		if (rc == AP_DB_OK) {
			ap_db_bind_text(st, 1, hash, -1);
			ap_db_bind_int64(st, 2, now);
			ap_db_bind_int64(st, 3, now);
			ap_db_bind_int64(st, 4, id);
			rc = ap_db_step(st);
			if (rc == AP_DB_DONE)
				rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
		}
		ap_db_finalize(st);
	}
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return rc;
}

enum ap_db_rc
ap_user_set_disabled(struct ap_db *db, int64_t id, bool disabled)
{
	return update_one(db, "UPDATE users SET disabled = ? WHERE id = ?", NULL, disabled ? 1 : 0,
	    true, id);
}

enum ap_db_rc
ap_user_set_role(struct ap_db *db, int64_t id, const char *role)
{
	if (!ap_role_valid(role))
		return AP_DB_EINVAL;
	return update_one(db, "UPDATE users SET role = ? WHERE id = ?", role, 0, false, id);
}

enum ap_db_rc
ap_user_record_login(struct ap_db *db, int64_t id, const char *addr, time_t now)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "UPDATE users SET last_login_at = ?, last_login_addr = ? WHERE id = ?", &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, now);
	ap_db_bind_text(st, 2, addr ? addr : "", -1);
	ap_db_bind_int64(st, 3, id);
	rc = ap_db_step(st);
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_user_each(struct ap_db *db, bool (*fn)(void *ctx, const struct ap_user_row *u), void *ctx)
{
	struct ap_db_stmt *st = NULL;
	struct ap_user_row u;
	char sql[256];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql), "SELECT %s FROM users ORDER BY username", user_cols);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		fill_user(st, &u);
		if (!fn(ctx, &u)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

enum ap_db_rc
ap_user_count(struct ap_db *db, int64_t *n)
{
	return ap_db_query_int64(db, "SELECT COUNT(*) FROM users", n);
}

/* ---------------------------------------------------------------- tokens */

enum ap_db_rc
ap_token_create(struct ap_db *db, const struct ap_config *cfg, int64_t user_id, const char *name,
    const char *scope, const char *allow, int expires_days, char token[80], int64_t *id,
    const char **why)
{
	struct ap_cidr *nets = NULL;
	struct ap_db_stmt *st = NULL;
	size_t nn = 0;
	char hex[65], hash[65], bad[64];
	time_t now = time(NULL);
	enum ap_db_rc rc;

	*why = NULL;
	if (name == NULL || strlen(name) < 1 || strlen(name) > 64 || !ap_utf8_valid(name, strlen(name))) {
		*why = "name must be 1 to 64 characters";
		return AP_DB_EINVAL;
	}
	if (!ap_scope_valid(scope)) {
		*why = "scope must be read, write or admin";
		return AP_DB_EINVAL;
	}
	if (!ap_cidr_list_parse(allow ? allow : "", &nets, &nn, bad, sizeof(bad))) {
		*why = "allow must be a list of addresses or networks";
		return AP_DB_EINVAL;
	}
	free(nets);
	if (expires_days < 0 || expires_days > 3650) {
		*why = "expires must be between 0 (never) and 3650 days";
		return AP_DB_EINVAL;
	}
	if (ap_random_hex(hex, 32) != AP_OK)
		return AP_DB_EOTHER;
	snprintf(token, 80, AP_TOKEN_PREFIX "%s", hex);
	ap_auth_hash(cfg, token, hash);
	rc = ap_db_prepare_insert(db,
	    "INSERT INTO api_tokens (user_id, name, token_hash, scope, allow_cidr, created_at, expires_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?)",
	    "id", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, user_id);
		ap_db_bind_text(st, 2, name, -1);
		ap_db_bind_text(st, 3, hash, -1);
		ap_db_bind_text(st, 4, scope, -1);
		if (allow && allow[0])
			ap_db_bind_text(st, 5, allow, -1);
		else
			ap_db_bind_null(st, 5);
		ap_db_bind_int64(st, 6, now);
		if (expires_days > 0)
			ap_db_bind_int64(st, 7, now + (int64_t)expires_days * 86400);
		else
			ap_db_bind_null(st, 7);
		rc = ap_db_step(st);
		if (rc == AP_DB_DONE) {
			*id = ap_db_last_insert_id(st);
			rc = AP_DB_OK;
		}
	}
	ap_db_finalize(st);
	explicit_bzero(hex, sizeof(hex));
	return rc;
}

static const char token_cols[] =
    "t.id, t.user_id, u.username, t.name, t.scope, t.allow_cidr, t.created_at, t.expires_at, "
    "t.last_used_at, t.revoked_at, t.last_used_addr, u.role, u.disabled, u.totp_enabled, u.language";

static void
fill_token(struct ap_db_stmt *st, struct ap_token_row *t)
{
	memset(t, 0, sizeof(*t));
	t->id = ap_db_col_int64(st, 0);
	t->user_id = ap_db_col_int64(st, 1);
	copy_text(st, 2, t->username, sizeof(t->username));
	copy_text(st, 3, t->name, sizeof(t->name));
	copy_text(st, 4, t->scope, sizeof(t->scope));
	copy_text(st, 5, t->allow_cidr, sizeof(t->allow_cidr));
	t->created_at = ap_db_col_int64(st, 6);
	t->expires_at = ap_db_col_is_null(st, 7) ? 0 : ap_db_col_int64(st, 7);
	t->last_used_at = ap_db_col_is_null(st, 8) ? 0 : ap_db_col_int64(st, 8);
	t->revoked_at = ap_db_col_is_null(st, 9) ? 0 : ap_db_col_int64(st, 9);
	copy_text(st, 10, t->last_used_addr, sizeof(t->last_used_addr));
}

enum ap_db_rc
ap_token_auth(struct ap_db *db, const struct ap_config *cfg, const char *token, const char *addr,
    time_t now, struct ap_arena *a, struct ap_token_row *row, struct ap_user *user)
{
	struct ap_db_stmt *st = NULL;
	char hash[65], sql[512];
	enum ap_db_rc rc;
	bool usable;

	if (token == NULL || strncmp(token, AP_TOKEN_PREFIX, 4) != 0 || strlen(token) != 4 + 64)
		return AP_DB_ENOTFOUND;
	ap_auth_hash(cfg, token, hash);
	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?", token_cols);
	rc = ap_db_prepare_cached(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_text(st, 1, hash, -1);
	rc = ap_db_step(st);
	if (rc != AP_DB_ROW) {
		ap_db_finalize(st);
		return rc == AP_DB_DONE ? AP_DB_ENOTFOUND : rc;
	}
	fill_token(st, row);
	user->id = row->user_id;
	user->username = ap_arena_strdup(a, row->username);
	{
		const char *t = ap_db_col_text(st, 11, NULL);
		user->role = ap_arena_strdup(a, t ? t : "");
		t = ap_db_col_text(st, 14, NULL);
		user->language = t ? ap_arena_strdup(a, t) : NULL;
	}
	user->totp_enabled = ap_db_col_int64(st, 13) != 0;
	usable = ap_db_col_int64(st, 12) == 0 && row->revoked_at == 0 &&
	    (row->expires_at == 0 || now < row->expires_at);
	ap_db_finalize(st);
	st = NULL;
	if (usable && row->allow_cidr[0]) {
		struct ap_cidr *nets = NULL;
		size_t nn = 0;
		char bad[64];

		usable = ap_cidr_list_parse(row->allow_cidr, &nets, &nn, bad, sizeof(bad)) &&
		    ap_cidr_list_match(nets, nn, addr);
		free(nets);
	}
	if (!usable)
		return AP_DB_ENOTFOUND;
	rc = ap_db_prepare_cached(db, "UPDATE api_tokens SET last_used_at = ?, last_used_addr = ? WHERE id = ?", &st);
	if (rc == AP_DB_OK) {
		ap_db_bind_int64(st, 1, now);
		ap_db_bind_text(st, 2, addr ? addr : "", -1);
		ap_db_bind_int64(st, 3, row->id);
		rc = ap_db_step(st);
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_token_revoke(struct ap_db *db, int64_t id, int64_t owner_id)
{
	struct ap_db_stmt *st = NULL;
	enum ap_db_rc rc = ap_db_prepare(db,
	    "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL AND (? = 0 OR user_id = ?)",
	    &st);

	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, time(NULL));
	ap_db_bind_int64(st, 2, id);
	ap_db_bind_int64(st, 3, owner_id);
	ap_db_bind_int64(st, 4, owner_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE)
		rc = ap_db_changes(st) > 0 ? AP_DB_OK : AP_DB_ENOTFOUND;
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_token_each(struct ap_db *db, int64_t user_id, bool (*fn)(void *ctx, const struct ap_token_row *t),
    void *ctx)
{
	struct ap_db_stmt *st = NULL;
	struct ap_token_row t;
	char sql[512];
	enum ap_db_rc rc;

	snprintf(sql, sizeof(sql),
	    "SELECT %s FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE (? = 0 OR t.user_id = ?) "
	    "ORDER BY t.id DESC",
	    token_cols);
	rc = ap_db_prepare(db, sql, &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	ap_db_bind_int64(st, 2, user_id);
	while ((rc = ap_db_step(st)) == AP_DB_ROW) {
		fill_token(st, &t);
		if (!fn(ctx, &t)) {
			rc = AP_DB_DONE;
			break;
		}
	}
	ap_db_finalize(st);
	return rc == AP_DB_DONE ? AP_DB_OK : rc;
}

/* ---------------------------------------------------------------- two-factor checks */

/* A TOTP code against the enrolled secret, moving the replay counter (users.h). */
enum ap_db_rc
ap_user_check_totp(struct ap_db *db, int64_t user_id, const char *code, bool *ok)
{
	struct ap_db_stmt *st = NULL;
	char secret[AP_TOTP_SECRET_LEN + 8] = "";
	int64_t last = 0, counter = 0;
	enum ap_db_rc rc;

	*ok = false;
	rc = ap_db_prepare(db,
	    "SELECT totp_secret, totp_last_counter FROM users WHERE id = ? AND totp_enabled = 1", &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, user_id);
	rc = ap_db_step(st);
	if (rc == AP_DB_ROW) {
		const char *t = ap_db_col_text(st, 0, NULL);

		snprintf(secret, sizeof(secret), "%s", t ? t : "");
		last = ap_db_col_int64(st, 1);
	}
	ap_db_finalize(st);
	st = NULL;
	if (rc != AP_DB_ROW) {
		rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
		goto out;
	}
	rc = AP_DB_OK;
	if (!ap_totp_verify(secret, code, time(NULL), 1, last, &counter))
		goto out;
	rc = ap_db_prepare(db,
	    "UPDATE users SET totp_last_counter = ? WHERE id = ? AND totp_last_counter < ?", &st);
	if (rc != AP_DB_OK)
		goto out;
	ap_db_bind_int64(st, 1, counter);
	ap_db_bind_int64(st, 2, user_id);
	ap_db_bind_int64(st, 3, counter);
	rc = ap_db_step(st);
	*ok = rc == AP_DB_DONE && ap_db_changes(st) == 1;
	rc = rc == AP_DB_DONE ? AP_DB_OK : rc;
	ap_db_finalize(st);
out:
	explicit_bzero(secret, sizeof(secret));
	return rc;
}

/* Consume one unused recovery code of the user. */
enum ap_db_rc
ap_user_use_recovery_code(struct ap_db *db, const struct ap_config *cfg, int64_t user_id,
    const char *typed, bool *ok)
{
	struct ap_db_stmt *st = NULL;
	char norm[64], hash[65];
	enum ap_db_rc rc;

	*ok = false;
	ap_recovery_normalize(typed, norm, sizeof(norm));
	if (strlen(norm) != 12)
		return AP_DB_OK;
	ap_auth_hash(cfg, norm, hash);
	explicit_bzero(norm, sizeof(norm));
	rc = ap_db_prepare(db,
	    "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
	    &st);
	if (rc != AP_DB_OK)
		return rc;
	ap_db_bind_int64(st, 1, time(NULL));
	ap_db_bind_int64(st, 2, user_id);
	ap_db_bind_text(st, 3, hash, -1);
	rc = ap_db_step(st);
	if (rc == AP_DB_DONE) {
		*ok = ap_db_changes(st) == 1;
		rc = AP_DB_OK;
	}
	ap_db_finalize(st);
	return rc;
}

enum ap_db_rc
ap_user_count_without_2fa(struct ap_db *db, int64_t *n)
{
	return ap_db_query_int64(db, "SELECT COUNT(*) FROM users WHERE totp_enabled = 0 AND disabled = 0", n);
}
